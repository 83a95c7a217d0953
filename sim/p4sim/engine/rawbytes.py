"""Re-using a header's received bytes while its fields still hold what was extracted.

A header the parser extracted and nothing has written since is, byte for byte, the slice of
the received frame it was extracted from. The generated code keeps, per extracted
fixed-size header, one more local: the header's offset in the frame, or -1 once any of its
fields may differ from those bytes. The deparser then emits ``frame[at:at + size]`` instead of packing the fields again, and a
``csum16`` over the header's fields is computed from that slice as one int (see
:func:`csum16_term`). bmv2's deparser serialises the PHV as it stands
(``src/bm_sim/deparser.cpp``), so the shortcut is only right if *every* write of a field
resets the offset; :func:`track_writes` guarantees that by construction, after the whole
function is generated, instead of trusting each code path that can write a field:

* it parses the generated ``_process`` and finds every statement that assigns a field of a
  tracked header (plain, augmented and tuple assignments: the parser, actions, externs'
  out arguments, copy-out, ``setValid``'s zeroing, a snapshot restored for a clone or a
  multicast copy, the initial zeroing of the PHV);
* after each such statement it inserts ``<offset local> = -1``, except after the
  extraction itself, recognised as a run of plain statements that ends by setting the
  offset.

The first statement of ``_process`` zeroes the whole PHV and sets every offset local to -1
in the same unpack, so each is bound before anything reads it.
``tests/sim/engine/test_field_writes.py`` writes fields every way a program can and checks
the emitted bytes.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass


@dataclass(frozen=True)
class RawHeader:
    """A header whose received bytes may be re-used."""

    at: str  # the local holding its offset in the frame, or -1
    size: int  # bytes
    fields: tuple[tuple[str, int], ...]  # (local, width in bits), in wire order


def track_writes(source: str, headers: list[RawHeader], func: str = "_process") -> str:
    """``source`` with ``<offset> = -1`` after every statement of ``func`` that writes a field
    of one of ``headers`` (other than the extraction that sets the offset)."""
    if not headers:
        return source
    owner: dict[str, str] = {}
    for h in headers:
        for f, _ in h.fields:
            owner[f] = h.at
    offsets = {h.at for h in headers}
    tree = ast.parse(source)
    fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == func)
    inserts: list[tuple[int, int, list[str]]] = []  # (after line, indent, offset locals)

    def visit(body: list[ast.stmt]) -> None:
        covered = _covered_from(body, owner, offsets)
        for i, s in enumerate(body):
            if isinstance(s, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
                names = _targets(s)
                touched = sorted({owner[n] for n in names if n in owner})
                if touched:
                    later = covered[i + 1] | set(names)
                    reset = [at for at in touched if at not in later]
                    if reset:
                        inserts.append((s.end_lineno or s.lineno, s.col_offset, reset))
            for field in ("body", "orelse", "finalbody"):
                sub = getattr(s, field, None)
                if isinstance(sub, list) and sub and isinstance(sub[0], ast.stmt):
                    visit(sub)
            for h in getattr(s, "handlers", []) or []:
                visit(h.body)

    visit(fn.body)
    lines = source.split("\n")
    for after, indent, reset in sorted(inserts, reverse=True):
        lines[after:after] = [" " * indent + f"{at} = -1" for at in reset]
    return "\n".join(lines)


def _targets(s: ast.Assign | ast.AugAssign | ast.AnnAssign) -> list[str]:
    if isinstance(s, ast.Assign):
        tgts = s.targets
    else:
        tgts = [s.target]
    names: list[str] = []
    stack = list(tgts)
    while stack:
        t = stack.pop()
        if isinstance(t, ast.Name):
            names.append(t.id)
        elif isinstance(t, (ast.Tuple, ast.List)):
            stack.extend(t.elts)
        elif isinstance(t, ast.Starred):
            stack.append(t.value)
    return names


def _covered_from(
    body: list[ast.stmt], owner: dict[str, str], offsets: set[str]
) -> list[frozenset[str]]:
    """For each k (0..len(body)), the offset locals that the run of plain statements starting
    at ``body[k]`` sets, or resets itself because it writes one of the header's fields again:
    a reset can wait for the last write of such a run. The run ends at the first compound
    statement and at the first statement that reads an offset (a checksum over received
    bytes), so no read ever sees an offset that a deferred reset should already have cleared.

    Computed in one backward pass, so a long straight-line body costs time linear in its
    length (looking ahead from every write would be quadratic)."""
    covered: list[frozenset[str]] = [frozenset()] * (len(body) + 1)
    for k in range(len(body) - 1, -1, -1):
        s = body[k]
        if not isinstance(s, (ast.Assign, ast.AugAssign, ast.Expr)) or any(
            isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id in offsets
            for n in ast.walk(s)
        ):
            continue  # the run ends here: nothing is covered from k on
        if isinstance(s, ast.Expr):
            covered[k] = covered[k + 1]
            continue
        mine = {n if n in offsets else owner[n] for n in _targets(s) if n in offsets or n in owner}
        covered[k] = covered[k + 1] | mine if mine else covered[k + 1]
    return covered


def csum16_term(h: RawHeader, fields: list[tuple[str, int]]) -> str | None:
    """A ``csum16`` word-sum term for a data list run ``fields`` (name, width) that is header
    ``h``'s fields in order with some left out, computed from the header's received bytes;
    None if the run does not qualify.

    The header's bytes read as one big-endian int are congruent, modulo 0xFFFF, to the sum
    of its 16-bit words (2**16 = 1 mod 0xFFFF). Leaving out a field that starts on a 16-bit
    boundary and is a whole number of words shifts what follows by whole words, which
    changes no word; subtracting the field at its place zeroes its words. The result is a
    non-negative int that is 0 exactly when every word of the run is, which is all
    csum16's 0 / 0xFFFF distinction needs."""
    layout = h.fields
    names = [n for n, _ in layout]
    if [n for n, _ in fields] != [n for n in names if n in {f for f, _ in fields}]:
        return None
    total = sum(w for _, w in layout)
    if total % 16 or total // 8 != h.size:
        return None
    keep = {n for n, _ in fields}
    pos = 0
    minus = []
    for n, w in layout:
        if n not in keep:
            if pos % 16 or w % 16:
                return None
            shift = total - pos - w
            minus.append(f"({n} << {shift})" if shift else n)
        pos += w
    raw = f"int.from_bytes(_d[{h.at}:{h.at} + {h.size}], 'big')"
    return f"{raw} - {' - '.join(minus)}" if minus else raw
