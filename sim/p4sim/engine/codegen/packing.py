"""Data lists of hashes and checksums, packed as bmv2 packs them; csum16 as a sum of
16-bit words on small ints."""

from __future__ import annotations

import re

from ...frontend import ir as I
from .. import rawbytes
from ..errors import EngineError
from ..storage import VALID, VLEN
from .base import CodeGenBase, Env, _loc, mask


class PackingGen(CodeGenBase):
    def pack(self, data: I.Expr, env: Env) -> tuple[str, str]:
        """Emit code packing a data list as bmv2's BufBuilder does; returns (int, bits) exprs.

        Fields of invalid headers are skipped (bmv2 ``Deparse::operator()(field_t)``), a
        varbit field contributes its current length."""
        return self._pack_items(self.data_items(data, env))

    def data_items(self, data: I.Expr, env: Env) -> list[tuple[str | None, str, int | str]]:
        """The (validity, value, width) elements of a data list, as pack() sees them
        (emitting any statements their values need)."""
        items: list[tuple[str | None, str, int | str]] = []  # (validity, value, width)

        def add(e: I.Expr) -> None:
            t = e.type
            if isinstance(e, I.ListExpr):
                for x in e.elements:
                    add(x)
                return
            if isinstance(t, (I.HeaderType, I.StructType)):
                path = self.path_of(e, env)
                if path is None:
                    raise EngineError(f"{_loc(e)}: unsupported data list element")
                for f in t.fields:
                    add(I.Member(f.type, e.loc, e, f.name, f))
                return
            if isinstance(t, I.HeaderStackType):
                for i in range(t.size):
                    add(I.StackIndex(t.element, e.loc, e, i))
                return
            valid = None
            if isinstance(e, I.Member) and isinstance(e.base.type, I.HeaderType):
                hp = self.path_of(e.base, env)
                if hp is not None:
                    valid = self.st.name(hp + (VALID,))
            if isinstance(t, I.VarbitType):
                path = self.path_of(e, env)
                assert path is not None
                items.append((valid, self.st.name(path), self.st.name(path + (VLEN,))))
                return
            w = t.width
            if w is None:
                raise EngineError(f"{_loc(e)}: data list element without a width")
            v = self.ex(e, env)
            if isinstance(t, I.BoolType):
                v = f"(1 if {v} else 0)"
            items.append((valid, v, w))

        add(data)
        return items

    def _pack_items(self, items: list[tuple[str | None, str, int | str]]) -> tuple[str, str]:
        static = [(v, w) for valid, v, w in items if valid is None and isinstance(w, int)]
        if len(static) == len(items):
            total = sum(w for _, w in static)
            parts = []
            shift = total
            for value, width in static:
                shift -= width
                parts.append(f"({value} << {shift})" if shift else value)
            return ("(" + " | ".join(parts) + ")" if parts else "0"), str(total)
        acc, bits = self.tmp("acc"), self.tmp("bits")
        self.em.line(f"{acc} = 0")
        self.em.line(f"{bits} = 0")
        # group consecutive items under the same validity condition
        groups: list[tuple[str | None, list[tuple[str, int | str]]]] = []
        for valid, v, w in items:
            if groups and groups[-1][0] == valid:
                groups[-1][1].append((v, w))
            else:
                groups.append((valid, [(v, w)]))

        def flush(run: list[tuple[str, int]]) -> None:
            if not run:
                return
            width = sum(w for _, w in run)
            shift = width
            parts = []
            for v, w in run:
                shift -= w
                parts.append(f"({v} << {shift})" if shift else v)
            self.em.line(f"{acc} = ({acc} << {width}) | {' | '.join(parts)}")
            self.em.line(f"{bits} += {width}")
            run.clear()

        for valid, members in groups:
            em_block = self.em.block(f"if {valid}:") if valid else None
            if em_block:
                em_block.__enter__()
            # consecutive fixed-width members are packed by one expression
            run: list[tuple[str, int]] = []
            for v, w in members:
                if isinstance(w, int):
                    run.append((v, w))
                    continue
                flush(run)
                self.em.line(f"{acc} = ({acc} << {w}) | {v}")
                self.em.line(f"{bits} += {w}")
            flush(run)
            if em_block:
                em_block.__exit__(None, None, None)
        return acc, bits

    def _as_bytes(self, acc: str, bits: str) -> str:
        if bits.isdigit():
            b = int(bits)
            pad = -b % 8
            return (
                f"({acc} << {pad}).to_bytes({(b + pad) // 8}, 'big')"
                if pad
                else f"{acc}.to_bytes({b // 8}, 'big')"
            )
        return f"_pack_bytes({acc}, {bits})"

    def checksum_value(
        self, data: I.Expr, algo: str, env: Env, with_payload: bool, width: int
    ) -> str:
        if algo == "csum16" and not with_payload:
            words = self.csum16_words(self.data_items(data, env))
            if words is not None:
                return f"_csum16_int({words})"
        acc, bits = self.pack(data, env)
        if algo == "csum16" and not with_payload:
            if bits.isdigit():
                b = int(bits)
                pad = -b % 16
                return f"_csum16_int({acc} << {pad})" if pad else f"_csum16_int({acc})"
            return f"_csum16_int({acc} << (-{bits} % 16))"
        buf = self._as_bytes(acc, bits)
        if with_payload:
            buf = f"({buf} + _payload)"
        fn = self._algo_fn(algo)
        return f"({fn}({buf}) & {mask(width)})"

    def csum16_words(self, items: list[tuple[str | None, str, int | str]]) -> str | None:
        """The one's complement sum input as a sum of 16-bit words on small ints.

        Concatenation is A * 2**|B| + B and 2**16 = 1 (mod 0xFFFF), so a run of fields whose
        total width is a multiple of 16 bits adds the sum of its 16-bit words, and a varbit
        field of v bits shifts what came before by v % 16. The sum is zero only when every
        word is, which keeps csum16_of_int's 0 / 0xFFFF distinction. Returns None when the
        data list does not fit this scheme (the generic big-integer packing is used then)."""
        groups: list[tuple[str | None, list[tuple[str, int | str]]]] = []
        for valid, v, w in items:
            if groups and groups[-1][0] == valid:
                groups[-1][1].append((v, w))
            else:
                groups.append((valid, [(v, w)]))
        terms: list[tuple[str | None, str]] = []  # (validity, statement or word sum)
        static_bits = 0
        for valid, members in groups:
            run: list[tuple[str, int]] = []
            for v, w in members:
                if isinstance(w, int):
                    run.append((v, w))
                    continue
                if run or static_bits % 16:
                    return None
                terms.append((valid, f"_cs = (_cs << ({w} & 15)) + {v}"))
            if not run:
                continue
            width = sum(w for _, w in run)
            if width % 16:
                return None
            static_bits += width
            raw = self._raw_csum_term(valid, run)
            words = []
            pos = 0
            for v, w in run:
                end = pos + w
                k = pos // 16
                while k * 16 < end:
                    lo, hi = max(pos, k * 16), min(end, k * 16 + 16)
                    part = v
                    if end - hi:
                        part = f"({part} >> {end - hi})"
                    if hi - lo < w:
                        part = f"({part} & {mask(hi - lo)})"
                    if k * 16 + 16 - hi:
                        part = f"({part} << {k * 16 + 16 - hi})"
                    words.append(part)
                    k += 1
                pos = end
            if raw is not None:
                terms.append(
                    (valid, f"_cs += ({raw[1]}) if {raw[0]} >= 0 else ({' + '.join(words)})")
                )
            else:
                terms.append((valid, f"_cs += {' + '.join(words)}"))
        if not terms:
            return "0"
        if len(terms) == 1 and terms[0][0] is None and terms[0][1].startswith("_cs += "):
            return "(" + terms[0][1][len("_cs += ") :] + ")"
        cs = self.tmp("cs")
        self.em.line(f"{cs} = 0")
        for valid, stmt in terms:
            stmt = re.sub(r"\b_cs\b", cs, stmt)  # the accumulator, not `h_ip_csum`
            if valid:
                with self.em.block(f"if {valid}:"):
                    self.em.line(stmt)
            else:
                self.em.line(stmt)
        return cs

    def _raw_csum_term(
        self, valid: str | None, run: list[tuple[str, int]]
    ) -> tuple[str, str] | None:
        """(offset local, term) when a csum16 run is an extracted header's fields that may
        be summed from its received bytes (rawbytes.csum16_term), else None."""
        rh = self.raw_by_valid.get(valid) if valid else None
        if rh is None:
            return None
        term = rawbytes.csum16_term(rh, run)
        return (rh.at, term) if term is not None else None

    def _algo_fn(self, algo: str) -> str:
        fns = {
            "crc16": "_crc16",
            "crc32": "_crc32",
            "csum16": "_csum16",
            "identity": "_identity",
            "xor16": "_xor16",
        }
        if algo not in fns:
            raise EngineError(
                f"hash algorithm {algo} is not supported (crc16, crc32, csum16, identity, xor16)"
            )
        return fns[algo]
