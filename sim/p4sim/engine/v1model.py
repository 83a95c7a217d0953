"""The v1model harness: one generated Python function per program that runs a packet
through parser -> verify checksum -> ingress -> packet replication -> egress -> compute
checksum -> deparser, with bmv2 simple_switch's observable semantics.

Each rule below cites where bmv2 implements it (p4lang/behavioral-model):

* ``targets/simple_switch/simple_switch.cpp`` ``ingress_thread``: after ingress, in this
  order: ingress clone (the *received* packet re-parsed, metadata reset, then the
  ``@field_list`` fields copied, instance_type 1), learning (digest), then multicast
  (``mcast_grp`` != 0: one copy per (port, rid), instance_type 5, the original discarded),
  else unicast to ``egress_spec`` unless it is the drop port.
* ``egress_thread``: egress_port set, ``egress_spec`` preset to drop_port + 1 (masked to
  9 bits), ``packet_length`` from the length register; after egress an egress clone (headers
  as egress left them, metadata reset, field list copied, instance_type 2), then a drop if
  ``egress_spec`` is the drop port, then the deparser (which first runs compute checksum).
* ``src/bm_sim/parser.cpp`` ``Parser::parse``: a parser exception stops parsing, records the
  error and the packet continues into ingress with the unparsed bytes as payload; headers
  extracted before the error stay valid.
* p4c (bmv2 back end) warns that an explicit ``transition reject`` is unsupported on v1model
  and compiles it as the end of parsing: parser_error stays as it is (NoError unless a
  ``verify`` failed); a select without a matching case sets NoMatch (p4c's HandleNoMatch).
* resubmit (between learning and multicast) and recirculate (after the deparser): see
  ``reentry.py``; a program that calls neither gets exactly the code it would without them.
"""

from __future__ import annotations

import re
from typing import Any

from ..frontend import ir as I
from ..state import RuntimeState
from . import layout, rawbytes, reentry
from .calls import FOLDABLE, PURE, CallKind, defers, reads
from .codegen import (
    EGRESS_CLONE,
    HEADER_TOO_SHORT,
    INGRESS_CLONE,
    NO_MATCH,
    PACKET_TOO_SHORT,
    PARSER_INVALID_ARGUMENT,
    REPLICATION,
    Binding,
    CodeGen,
    Emitter,
    Env,
    _loc,
    mask,
)
from .errors import EngineError
from .storage import Storage

MAX_COPIES_PER_PACKET = 4096


class V1ModelGen(CodeGen):
    """CodeGen plus the parser/deparser statements and the v1model packet function."""

    # -- parser statements -----------------------------------------------------------------------
    def st_Extract(self, s: I.Extract, env: Env) -> None:
        if isinstance(s.header, I.StackNext):
            self.extract_next(s, env)
        else:
            self.extract_into(s, env)

    def extract_into(self, s: I.Extract, env: Env) -> None:
        """Extract into a header instance known at compile time."""
        path = self._hpath(s.header, env)
        hs = self.st.header(path)
        fixed = hs.fixed_bytes
        em = self.em
        if self.trace:
            em.line(f"_tr('Extracting header ' + {'.'.join(path[1:])!r})")
        if hs.vlen is None:
            # bmv2 extract_fixed: PacketTooShort when fewer bytes remain than the header
            off = self.poff
            if off is not None:
                with em.block(f"if _n < {off + fixed}:"):
                    em.line(f"_o = {off}")
                    em.line(f"_perr = {self.error_code(PACKET_TOO_SHORT)}")
                    em.line("break")
                at = str(off)
            else:
                with em.block(f"if _n - _o < {fixed}:"):
                    em.line(f"_perr = {self.error_code(PACKET_TOO_SHORT)}")
                    em.line("break")
                at = "_o"
            self._extract_fields(hs, at)
            em.line(f"{hs.valid} = True")
            em.line(f"{self.raw_header(hs).at} = {at}")
            if off is not None:
                self.poff = off + fixed
            else:
                em.line(f"_o += {fixed}")
            return
        self.materialise()
        if s.varbit_bits is None:
            raise EngineError(f"{_loc(s)}: a header with a varbit field needs the varbit length")
        nb = self.tmp("vb")
        em.line(f"{nb} = {self.ex(s.varbit_bits, env)}")
        max_bytes = (hs.type.bit_width + _varbit_max(hs.type)) // 8
        # bmv2 extract_VL: length not a multiple of 8 -> ParserInvalidArgument; too few
        # bytes -> PacketTooShort; longer than the header's maximum -> HeaderTooShort
        with em.block(f"if {nb} & 7:"):
            em.line(f"_perr = {self.error_code(PARSER_INVALID_ARGUMENT)}")
            em.line("break")
        nbytes = self.tmp("vn")
        em.line(f"{nbytes} = {fixed} + ({nb} >> 3)")
        with em.block(f"if _n - _o < {nbytes}:"):
            em.line(f"_perr = {self.error_code(PACKET_TOO_SHORT)}")
            em.line("break")
        with em.block(f"if {nbytes} > {max_bytes}:"):
            em.line(f"_perr = {self.error_code(HEADER_TOO_SHORT)}")
            em.line("break")
        em.line(f"_v = int.from_bytes(_d[_o:_o + {nbytes}], 'big')")
        # fields after the varbit field are below it; the ones before are above it
        after = 0
        for name, f in reversed(hs.fields):
            if isinstance(f.type, I.VarbitType):
                em.line(f"{name} = (_v >> {after}) & ((1 << {nb}) - 1)")
                em.line(f"{hs.vlen} = {nb}")
                after_var = f"({after} + {nb})"
                for name2, f2 in reversed(hs.fields[: hs.fields.index((name, f))]):
                    w2 = f2.type.width or 0
                    em.line(f"{name2} = (_v >> {after_var}) & {mask(w2)}")
                    after_var = f"({after_var} + {w2})"
                break
            w = f.type.width or 0
            em.line(f"{name} = (_v >> {after}) & {mask(w)}")
            after += w
        em.line(f"{hs.valid} = True")
        em.line(f"_o += {nbytes}")

    def raw_header(self, hs: Any) -> rawbytes.RawHeader:
        """The received-bytes bookkeeping of a fixed-size header the parser extracts."""
        rh = self.raw_by_valid.get(hs.valid)
        if rh is None:
            rh = rawbytes.RawHeader(
                self.st.temp(f"{hs.valid}_at"),
                hs.fixed_bytes,
                tuple((n, f.type.width or 0) for n, f in hs.fields),
            )
            self.raw_by_valid[hs.valid] = rh
        return rh

    def materialise(self) -> None:
        """Make `_o` hold the parse offset and continue with a run-time offset."""
        if self.poff is not None:
            self.em.line(f"_o = {self.poff}")
            self.poff = None

    def _extract_fields(self, hs: Any, at: str) -> None:
        """One struct unpack per header, then shifts on small ints (see layout.py)."""
        em = self.em
        cs = layout.chunks(hs.fields)
        fmt = layout.struct_format(cs)
        fn = self.bind_struct(fmt, "unpack")
        targets: list[str] = []
        post: list[str] = []
        # the chunk temporaries are read only by the lines right after the unpack, so every
        # extraction reuses the same few names (fewer locals: a smaller frame to set up and
        # clear per packet)
        n_tmp = 0
        for j, c in enumerate(cs):
            direct = len(c.fields) == 1 and len(c.parts) == 1
            if direct:
                targets.append(c.fields[0][0])
                continue
            names = [f"_u{n_tmp + k}" for k in range(len(c.parts))]
            n_tmp += len(c.parts)
            targets.extend(names)
            value = names[0]
            for nm, size in zip(names[1:], c.parts[1:]):
                value = f"(({value} << {8 * size}) | {nm})"
            if len(c.fields) > 1 and len(c.parts) > 1:
                t = f"_uv{j}"
                post.append(f"{t} = {value}")
                value = t
            for name, w, shift in c.fields:
                if shift == 0 and w == 8 * c.nbytes:
                    post.append(f"{name} = {value}")
                elif shift == 0:
                    post.append(f"{name} = {value} & {mask(w)}")
                elif shift + w == 8 * c.nbytes:
                    post.append(f"{name} = {value} >> {shift}")
                else:
                    post.append(f"{name} = ({value} >> {shift}) & {mask(w)}")
        em.line(f"{', '.join(targets)}{',' if len(targets) == 1 else ''} = {fn}(_d, {at})")
        for ln in post:
            em.line(ln)

    def bind_struct(self, fmt: str, kind: str) -> str:
        key = f"_{'U' if kind == 'unpack' else 'P'}{fmt}"
        name = self._structs.get(key)
        if name is None:
            name = f"_S{kind[0]}{len(self._structs)}"
            self._structs[key] = name
            self.bindings[name] = layout.unpacker(fmt) if kind == "unpack" else layout.packer(fmt)
            self.calls[name] = FOLDABLE if kind == "pack" else PURE  # struct (un)packers
        return name

    def st_Advance(self, s: I.Advance, env: Env) -> None:
        self.materialise()
        nb = self.tmp("adv")
        self.em.line(f"{nb} = {self.ex(s.bits, env)}")
        with self.em.block(f"if {nb} & 7:"):
            self.em.line(f"_perr = {self.error_code(PARSER_INVALID_ARGUMENT)}")
            self.em.line("break")
        with self.em.block(f"if _n - _o < ({nb} >> 3):"):
            self.em.line(f"_perr = {self.error_code(PACKET_TOO_SHORT)}")
            self.em.line("break")
        self.em.line(f"_o += {nb} >> 3")

    def st_Verify(self, s: I.Verify, env: Env) -> None:
        c = self.ex(s.cond, env)
        with self.em.block(f"if not {c}:"):
            if self.poff is not None:
                self.em.line(f"_o = {self.poff}")
            self.em.line(f"_perr = {self.ex(s.error, env)}")
            self.em.line("break")

    # -- deparser statements ---------------------------------------------------------------------
    def st_Emit(self, s: I.Emit, env: Env) -> None:
        path = self.path_of(s.header, env)
        if path is None:
            raise EngineError(f"{_loc(s)}: emit of a non-header")
        if path not in self.st.headers:
            for hp in [p for p in self.st.headers if p[: len(path)] == path]:
                self._emit_header(hp)
            return
        self._emit_header(path)

    def _emit_header(self, path: tuple[str, ...]) -> None:
        hs = self.st.header(path)
        rh = self.raw_by_valid.get(hs.valid)
        with self.em.block(f"if {hs.valid}:"):
            if rh is not None:
                # unwritten since extracted: the received bytes (see rawbytes.py)
                with self.em.block(f"if {rh.at} >= 0:"):
                    self.em.line(f"_parts.append(_d[{rh.at}:{rh.at} + {rh.size}])")
                self.em.line("else:")
                self.em.level += 1
            if hs.vlen is None:
                cs = layout.chunks(hs.fields)
                values = []
                for c in cs:
                    v = " | ".join(f"({n} << {sh})" if sh else n for n, _, sh in c.fields)
                    if len(c.fields) > 1:
                        v = f"({v})"
                    rest = 8 * c.nbytes
                    for size in c.parts:
                        rest -= 8 * size
                        if len(c.parts) == 1:
                            values.append(v)
                        elif rest:
                            values.append(f"(({v} >> {rest}) & {mask(8 * size)})")
                        else:
                            values.append(f"({v} & {mask(8 * size)})")
                fn = self.bind_struct(layout.struct_format(cs), "pack")
                self.em.line(f"_parts.append({fn}({', '.join(values)}))")
            else:
                self.em.line("_acc = 0")
                self.em.line("_bits = 0")
                for name, f in hs.fields:
                    if isinstance(f.type, I.VarbitType):
                        self.em.line(f"_acc = (_acc << {hs.vlen}) | {name}")
                        self.em.line(f"_bits += {hs.vlen}")
                    else:
                        w = f.type.width or 0
                        self.em.line(f"_acc = (_acc << {w}) | {name}")
                        self.em.line(f"_bits += {w}")
                self.em.line("_parts.append(_pack_bytes(_acc, _bits))")
            if rh is not None:
                self.em.level -= 1

    # -- the parser ------------------------------------------------------------------------------
    PARSER_INLINE_LIMIT = 4000  # lines of a fully inlined parser before falling back

    def gen_parser(self, parser: I.Parser, env: Env) -> None:
        """The state machine. An acyclic parser whose states, each inlined at every
        transition to it, stay under PARSER_INLINE_LIMIT lines becomes one decision tree;
        otherwise states reached from one place are inlined there and the others (and
        start) are cases of a dispatch loop. Either way a `while True` loop lets a parser
        error `break` out."""
        self.in_parser = True
        states = parser.states
        if "start" not in states:
            raise EngineError(f"{_loc(parser)}: parser {parser.name} has no start state")
        for decl in parser.locals:
            self.st_VarDecl(decl, env)
        saved_tmp = self._tmp
        try:
            with self.capture() as tree:
                self._emit_dispatch(["start"], states, env)
            if len(tree.lines) <= self.PARSER_INLINE_LIMIT:
                self.splice(tree)
                self.in_parser = False
                return
        except _Cycle:
            pass
        self._tmp = saved_tmp
        refs: dict[str, int] = dict.fromkeys(states, 0)
        for st in states.values():
            for target in _targets(st.transition):
                if target in refs:
                    refs[target] += 1
        dispatch = ["start"] + [n for n, c in refs.items() if c != 1 and n != "start"]
        self._emit_dispatch(dispatch, states, env)
        self.in_parser = False

    def _emit_dispatch(
        self, dispatch: list[str], states: dict[str, I.ParserState], env: Env
    ) -> None:
        index = {n: i for i, n in enumerate(dispatch)}
        em = self.em
        if len(dispatch) == 1:
            self.poff = 0
            with em.block("while True:"):
                self._gen_state(states["start"], states, index, env, ())
            self.poff = None
            return
        self.poff = None
        em.line("_st = 0")
        with em.block("while True:"):
            for i, name in enumerate(dispatch):
                with em.block(f"{'if' if i == 0 else 'elif'} _st == {i}:"):
                    self._gen_state(states[name], states, index, env, ())
            with em.block("else:"):
                em.line("break")

    def _gen_state(
        self,
        st: I.ParserState,
        states: dict[str, I.ParserState],
        index: dict[str, int],
        env: Env,
        stack: tuple[str, ...],
    ) -> None:
        if self.trace:
            self.em.line(f"_tr('Parser state ' + {st.name!r})")
        self.stmts(st.statements, env)
        tr = st.transition
        if not tr.is_select:
            self._goto(tr.next_state or "accept", states, index, env, stack + (st.name,))
            return
        keys = []
        for k in tr.select_keys or []:
            v = self.ex(k, env)
            if isinstance(k.type, I.BoolType):
                v = f"(1 if {v} else 0)"
            if v.isidentifier():
                keys.append(v)  # a storage slot: nothing in a select writes it
                continue
            t = self.tmp("k")
            self.em.line(f"{t} = {v}")
            keys.append(t)
        first = True
        entry_off = self.poff
        for case in tr.cases:
            self.poff = entry_off
            conds = []
            for key, ks in zip(keys, case.keysets):
                if ks.kind == "default":
                    continue
                if ks.kind == "value":
                    conds.append(f"{key} == {ks.value}")
                elif ks.kind == "mask":
                    conds.append(f"{key} & {ks.mask} == {ks.value & ks.mask}")
                elif ks.kind == "range":
                    conds.append(f"{ks.value} <= {key} <= {ks.hi}")
                else:
                    raise EngineError(f"{_loc(case)}: keyset {ks.kind} is not supported")
            if not conds:
                if first:
                    self._goto(case.next_state, states, index, env, stack + (st.name,))
                else:
                    with self.em.block("else:"):
                        self._goto(case.next_state, states, index, env, stack + (st.name,))
                return
            with self.em.block(f"{'if' if first else 'elif'} {' and '.join(conds)}:"):
                self._goto(case.next_state, states, index, env, stack + (st.name,))
            first = False
        self.poff = entry_off
        block = self.em.block("else:") if not first else None
        if block:
            block.__enter__()
        if self.poff is not None:
            self.em.line(f"_o = {self.poff}")
        self.em.line(f"_perr = {self.error_code(NO_MATCH)}")
        self.em.line("break")
        if block:
            block.__exit__(None, None, None)

    def _goto(
        self,
        target: str,
        states: dict[str, I.ParserState],
        index: dict[str, int],
        env: Env,
        stack: tuple[str, ...],
    ) -> None:
        if target in ("accept", "reject"):
            if self.poff is not None:
                self.em.line(f"_o = {self.poff}")
            if self.trace and target == "reject":
                self.em.line("_tr('Parser reached reject: ends like accept on v1model (p4c)')")
            self.em.line("break")
            return
        if target not in states:
            raise EngineError(f"parser has no state {target}")
        if target in stack and target not in index:
            raise _Cycle(target)
        if target in index:
            if self.poff is not None:
                self.em.line(f"_o = {self.poff}")
            self.em.line(f"_st = {index[target]}")
            self.em.line("continue")
            return
        self._gen_state(states[target], states, index, env, stack)

    # -- resubmit / recirculate (see reentry.py) ----------------------------------------------
    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        # field list indexes of the program's resubmit / recirculate calls; both empty for
        # a program that calls neither, which then gets no re-entry code at all
        self.resubmit_lists: set[int] = set()
        self.recirculate_lists: set[int] = set()

    def st_ExternFunctionCall(self, s: I.ExternFunctionCall, env: Env) -> None:
        if s.name in reentry.EXTERNS:
            reentry.gen_call(self, s)
            return
        super().st_ExternFunctionCall(s, env)


class _Cycle(Exception):
    """A parser state reached again on one path: the parser needs its dispatch loop."""


def _targets(tr: I.Transition) -> list[str]:
    if not tr.is_select:
        return [tr.next_state or "accept"]
    return [c.next_state for c in tr.cases]


def _varbit_max(h: I.HeaderType) -> int:
    return sum(f.type.max_width for f in h.fields if isinstance(f.type, I.VarbitType))


# ------------------------------------------------------------------------------ the program
class GeneratedProgram:
    """The source of one program's packet function and the globals it runs with (``calls``:
    what calling each name bound does, see :mod:`p4sim.engine.calls`)."""

    def __init__(
        self,
        source: str,
        bindings: dict[str, Any],
        reentry: bool = False,
        calls: dict[str, CallKind] | None = None,
    ) -> None:
        self.source = source
        self.bindings = bindings
        self.reentry = reentry  # _process takes (_again, _re): see reentry.py
        self.calls = calls if calls is not None else {}


def generate(
    program: I.ProgramIR, state: RuntimeState, *, drop_port: int, trace: bool
) -> GeneratedProgram:
    """Generate the packet function ``_process(port, data, out, digests)`` of a program."""
    if program.arch != "v1model":
        raise EngineError(f"the p4sim engine runs v1model programs, not {program.arch}")
    pk = program.package
    st = Storage()
    st.declare(("H",), pk.headers_type)
    st.declare(("M",), pk.metadata_type)
    st.declare(("S",), program.standard_metadata_type)
    for path, hs in st.headers.items():
        if hs.type.bit_width % 8 or _varbit_max(hs.type) % 8:
            raise EngineError(
                f"header {'.'.join(path[1:])} ({hs.type.name}) is not a whole "
                "number of bytes (bmv2 requires byte-aligned headers)"
            )
    g = V1ModelGen(program, state, st, drop_port=drop_port, trace=trace)

    def sm(field: str) -> str | None:
        return st.slots[("S", field)].name if ("S", field) in st.slots else None

    roots = ["H", "M", "S"]

    def env_for(block: Any, skip_packet: bool) -> Env:
        params = [
            p for p in block.params if not isinstance(p.type, (I.PacketInType, I.PacketOutType))
        ]
        return {p: Binding(path=(roots[i],)) for i, p in enumerate(params)}

    # bodies first: generating them declares every local they use
    with g.capture() as parser_code:
        g.gen_parser(pk.parser, env_for(pk.parser, True))
    g.pipe = "verify"
    with g.capture() as vr_code:
        g.control_body(pk.verify_checksum, env_for(pk.verify_checksum, False))
    g.pipe = "ingress"
    with g.capture() as ig_code:
        g.control_body(pk.ingress, env_for(pk.ingress, False))
    ig_exit = g.has_exit
    g.has_exit = False
    g.pipe = "egress"
    with g.capture() as eg_code:
        g.control_body(pk.egress, env_for(pk.egress, False))
    eg_exit = g.has_exit
    g.pipe = "compute"
    with g.capture() as ck_code:
        g.control_body(pk.compute_checksum, env_for(pk.compute_checksum, False))
    g.pipe = "deparser"
    with g.capture() as dp_code:
        g.control_body(pk.deparser, env_for(pk.deparser, True))
    g.install_const_entries()

    slots = list(st.slots.values())
    all_names = [s.name for s in slots]
    header_slots = [s for s in slots if s.is_header]
    zero = tuple(False if s.kind == "valid" else 0 for s in slots)
    # the received-bytes offsets of extracted headers start unset (-1): see rawbytes.py
    offsets = [rh.at for rh in g.raw_by_valid.values()]
    g.bindings["_ZERO"] = zero + (0,) * 7 + (-1,) * len(offsets)
    g.bindings["_HZERO"] = tuple(False if s.kind == "valid" else 0 for s in header_slots)
    g.bindings["_sessions"] = state.pre.sessions
    g.bindings["_groups"] = state.pre.groups
    g.calls["_sessions"] = g.calls["_groups"] = reads("get")
    all_tuple = "(" + ", ".join(all_names) + ",)"
    all_target = ", ".join(all_names) + ","
    drop = drop_port
    it = sm("instance_type")

    def snapshot(fl: int, header_src: str, itype: int) -> str:
        """A tuple over all slots: headers from `header_src` (an expression indexing by
        header order, or '' for the current values), metadata reset except field list `fl`."""
        keep = {s.name for s in st.field_list(fl)} if fl else set()
        parts = []
        hi = 0
        for s in slots:
            if s.is_header:
                parts.append(f"{header_src}[{hi}]" if header_src else s.name)
                hi += 1
            elif s.name in keep:
                parts.append(s.name)
            elif s.name == it:
                parts.append(str(itype))
            else:
                parts.append("0")
        return "(" + ", ".join(parts) + ",)"

    def clone_items(em: Emitter, header_src: str, itype: int, payload: str, plen: str) -> None:
        with em.block("if _cl:"):
            em.line("_sess = _sessions.get(_cl & 0xFFFF)")
            em.line("_cl = 0")
            with em.block("if _sess is not None:"):
                if header_src:
                    em.line("_ch, _co = _reparse(_d, _port)")
                first = True
                for fl in sorted(g.clone_field_lists):
                    with em.block(f"{'if' if first else 'elif'} _clfl == {fl}:"):
                        em.line(f"_snap = {snapshot(fl, header_src, itype)}")
                    first = False
                with em.block("else:"):
                    em.line(f"_snap = {snapshot(0, header_src, itype)}")
                if g.trace:
                    em.line(
                        f"_tr('Cloning packet (instance type {itype}) to session ' + str(_sess))"
                    )
                with (
                    em.block("for _p, _rr in _sess.replicas:"),
                    em.block(f"if len(_items) < {MAX_COPIES_PER_PACKET}:"),
                ):
                    em.line(
                        f"_items.append((_p, {itype}, _rr, _snap, {payload}, {plen}, "
                        "_sess.packet_length_bytes))"
                    )

    # the PHV and the per-packet registers start at zero (the offsets at -1) in one unpack
    zero_all = f"{all_target} _o, _perr, _cl, _clfl, _dg, _trunc, _v{''.join(', ' + a for a in offsets)} = _ZERO"

    def top_level(em: Emitter, lines: list[str], has_exit: bool, indent: str) -> None:
        """A top-level control's code (generated one level deep) at the emitter's level;
        with `exit` in it, inside the try that `exit`'s exception ends."""
        if has_exit:
            em.line("try:")
            em.lines.extend("    " + indent + ln for ln in lines)
            em.line("except _Exit:")
            em.line("    pass")
        else:
            em.lines.extend(indent + ln for ln in lines)

    em = Emitter(1)
    em.line(zero_all)
    em.line("_n = _ilen = _plen = len(_d)")
    for f, v in (("ingress_port", "_port"), ("packet_length", "_n")):
        if sm(f):
            em.line(f"{sm(f)} = {v}")
    body_text = "\n".join(
        vr_code.lines + ig_code.lines + eg_code.lines + ck_code.lines + dp_code.lines
    )

    def used(name: str | None) -> bool:
        return bool(name) and re.search(rf"\b{name}\b", body_text) is not None

    if used(sm("ingress_global_timestamp")):
        em.line(f"{sm('ingress_global_timestamp')} = _ts()")
    reenter = bool(g.resubmit_lists or g.recirculate_lists)
    if reenter:
        reentry.gen_prologue(em, g, sm, used(sm("ingress_global_timestamp")))
    for ln in parser_code.lines:
        em.lines.append(ln)
    if sm("parser_error"):
        em.line(f"{sm('parser_error')} = _perr")
    if g.trace:
        em.line("_tr('Parser done: %d bytes parsed, error %d' % (_o, _perr))")
    if re.search(r"\b_payload\b", "\n".join(vr_code.lines)):
        em.line("_payload = _d[_o:]")
    em.lines.extend(vr_code.lines)
    if g.trace:
        em.line("_tr('Pipeline ingress: start')")
    top_level(em, ig_code.lines, ig_exit, "")
    # ---- end of ingress, in bmv2's order: clone, digest, multicast / unicast
    em.line("_items = []")
    clone_items(em, "_ch", INGRESS_CLONE, "_d[_co:]", "_ilen")
    if g.digest_sites:
        with em.block("if _dg:"):
            for k, (did, values) in enumerate(g.digest_sites, start=1):
                with em.block(f"{'if' if k == 1 else 'elif'} _dg == {k}:"):
                    em.line(f"_digests.append(({did}, ({', '.join(values)},)))")
    reentry.gen_resubmit(em, g, sm)
    mg, es = sm("mcast_grp"), sm("egress_spec")
    if mg:
        with em.block(f"if {mg}:"):
            if it:
                em.line(f"{it} = {REPLICATION}")
            if g.trace:
                em.line(f"_tr('Multicast to group %d' % {mg})")
            em.line(f"_g = _groups.get({mg})")
            with em.block("if _g:"):
                em.line(f"_snap = {all_tuple}")
                em.line("_pl = _d[_o:]")
                with em.block("for _p, _rr in _g:"):
                    em.line(f"_items.append((_p, {REPLICATION}, _rr, _snap, _pl, _plen, _trunc))")
        blk = em.block(f"elif {es} != {drop}:")
    else:
        blk = em.block(f"if {es} != {drop}:")
    with blk:
        if it:
            em.line(f"{it} = 0")
        em.line(
            f"_items.append(({es}, 0, None, {all_tuple} if _items else None, _d[_o:], _plen, _trunc))"
        )
    if g.trace:
        with em.block("if not _items:" if not g.resubmit_lists else "if not _items and not _rs:"):
            em.line("_tr('Dropping packet at the end of ingress')")
    # ---- egress, once per copy
    with em.block("for _eport, _itype, _rid, _snap, _pl, _plen, _trunc in _items:"):
        with em.block("if _snap is not None:"):
            em.line(f"{all_target} = _snap")
        if sm("egress_rid"):
            with em.block("if _rid is not None:"):
                em.line(f"{sm('egress_rid')} = _rid")
        if it:
            em.line(f"{it} = _itype")
        if sm("egress_port"):
            em.line(f"{sm('egress_port')} = _eport")
        em.line(f"{es} = {(drop + 1) & 0x1FF}")
        if sm("packet_length"):
            em.line(f"{sm('packet_length')} = _plen")
        if used(sm("egress_global_timestamp")):
            em.line(f"{sm('egress_global_timestamp')} = _ts()")
        em.line("_cl = 0")
        if g.recirculate_lists:
            em.line("_rc = 0")
        if g.trace:
            em.line("_tr('Pipeline egress: start, port %d, instance type %d' % (_eport, _itype))")
        top_level(em, eg_code.lines, eg_exit, "    ")
        clone_items(em, "", EGRESS_CLONE, "_pl", "_plen")
        with em.block(f"if {es} == {drop}:"):
            if g.trace:
                em.line("_tr('Dropping packet at the end of egress')")
            em.line("continue")
        if re.search(r"\b_payload\b", "\n".join(ck_code.lines)):
            em.line("_payload = _pl")
        em.lines.extend("    " + ln for ln in ck_code.lines)
        em.line("_parts = []")
        em.lines.extend("    " + ln for ln in dp_code.lines)
        em.line("_f = b''.join(_parts) + _pl")
        reentry.gen_recirculate(em, g)
        with em.block("if _trunc and len(_f) > _trunc:"):
            em.line("_f = _f[:_trunc]")
        if g.trace:
            em.line("_tr('Transmitting packet of size %d out of port %d' % (len(_f), _eport))")
        em.line("_out.append((_eport, _f))")

    # the ingress-clone re-parse: the same parser code over fresh storage
    rp = Emitter(1)
    rp.line(zero_all)
    rp.line("_n = len(_d)")
    if sm("ingress_port"):
        rp.line(f"{sm('ingress_port')} = _port")
    rp.lines.extend(parser_code.lines)
    rp.line(f"return ({', '.join(s.name for s in header_slots)}{',' if header_slots else ''}), _o")

    # the frames out and the digests: appends are effects the packet reads nothing back from
    g.calls["_out"] = g.calls["_digests"] = defers("append")
    g.calls["_reparse"] = PURE  # defined below: parses a copy, changes nothing
    src = [
        "def _process(_port, _d, _out, _digests, _again, _re=None):"
        if reenter
        else "def _process(_port, _d, _out, _digests):"
    ]
    src.extend(em.lines)
    src.append("")
    src.append("def _reparse(_d, _port):")
    src.extend(rp.lines)
    src.append("")
    source = rawbytes.track_writes("\n".join(src) + "\n", list(g.raw_by_valid.values()))
    return GeneratedProgram(source, g.bindings, reenter, g.calls)
