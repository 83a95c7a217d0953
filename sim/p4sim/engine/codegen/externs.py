"""Extern objects and functions: counters, meters, registers, and the v1model functions
(mark_to_drop, hash, checksums, digest, clone, random, log_msg, truncate, assert)."""

from __future__ import annotations

from ...frontend import ir as I
from .. import algorithms
from ..calls import CallKind, defers, reads
from ..errors import EngineError
from .base import CodeGenBase, Env, _loc, mask

# a crc16 memo's miss function: pure (the memo only caches), called as ``if h is None: h = f(k)``
MEMO_FILL = CallKind(pure=True, memo_fill=True)


class ExternGen(CodeGenBase):
    def st_ExternCall(self, s: I.ExternCall, env: Env) -> None:
        inst = s.instance
        kind = inst.extern_type
        argl = s.args
        if kind == "counter" and s.method == "count":
            c = self.bind(self.state.counter(inst.p4info_name), "ctr", defers("count"))
            self.em.line(f"{c}.count({self.ex(argl[0].expr, env)}, _ilen)")
        elif kind == "meter" and s.method == "execute_meter":
            mtr = self.bind(self.state.meter(inst.p4info_name), "mtr")
            self.uses_now = True
            idx = self.ex(argl[0].expr, env)
            out = self.slot(argl[1].expr, env)
            w = argl[1].expr.type.width or 2
            self.em.line(f"{out} = {mtr}.execute({idx}, _ilen, _now()) & {mask(w)}")
        elif kind == "register" and s.method in ("read", "write"):
            reg_obj = self.state.register(inst.p4info_name)
            reg = self.bind(reg_obj, "reg")
            if s.method == "read":
                out = self.slot(argl[0].expr, env)
                idx = self.ex(argl[1].expr, env)
                # bmv2 register_read: an out-of-range index leaves the destination unchanged
                t = self.tmp("ri")
                self.em.line(f"{t} = {idx}")
                with self.em.block(f"if {t} < {reg_obj.size}:"):
                    self.em.line(f"{out} = {reg}.cells[{t}]")
            else:
                idx = self.ex(argl[0].expr, env)
                val = self.ex(argl[1].expr, env)
                self.em.line(f"{reg}.write({idx}, {val})")
        elif kind == "direct_counter" and s.method == "count":
            pass  # counted on every hit of its table (bmv2 direct counters), see apply_table
        elif kind == "direct_meter" and s.method == "read":
            if inst.table is None:
                raise EngineError(f"{_loc(s)}: direct meter {inst.name} is not attached to a table")
            out = self.slot(argl[0].expr, env)
            w = argl[0].expr.type.width or 2
            self.em.line(f"{out} = {self._dm_var(inst.table)} & {mask(w)}")
        else:
            raise EngineError(f"{_loc(s)}: {kind}.{s.method} is not supported")

    def _dm_var(self, table: I.Table) -> str:
        return f"_dmc{table.p4info_id}"

    # -- extern functions ------------------------------------------------------------------------
    def st_ExternFunctionCall(self, s: I.ExternFunctionCall, env: Env) -> None:
        name = s.name
        a = [x.expr for x in s.args]
        if name == "mark_to_drop":
            # bmv2 mark_to_drop: egress_spec = drop port and mcast_grp = 0
            self.em.line(f"{self.st.name(('S', 'egress_spec'))} = {self.drop_port}")
            self.em.line(f"{self.st.name(('S', 'mcast_grp'))} = 0")
        elif name == "hash":
            self.gen_hash(s, a, env)
        elif name in ("verify_checksum", "verify_checksum_with_payload"):
            cond = self.ex(a[0], env)
            with self.em.block(f"if {cond}:"):
                value = self.checksum_value(
                    a[1], self._algo(a[3]), env, name.endswith("payload"), a[2].type.width or 16
                )
                with self.em.block(f"if {value} != {self.ex(a[2], env)}:"):
                    self.em.line(f"{self.st.name(('S', 'checksum_error'))} = 1")
                    if self.trace:
                        self.em.line("_tr('checksum verification failed')")
        elif name in ("update_checksum", "update_checksum_with_payload"):
            cond = self.ex(a[0], env)
            with self.em.block(f"if {cond}:"):
                w = a[2].type.width or 16
                value = self.checksum_value(
                    a[1], self._algo(a[3]), env, name.endswith("payload"), w
                )
                self.em.line(f"{self.slot(a[2], env)} = {value}")
        elif name == "digest":
            self.gen_digest(s, a, env)
        elif name in ("clone", "clone_preserving_field_list"):
            session = self.ex(a[1], env)
            fl = 0
            if name == "clone_preserving_field_list":
                if not isinstance(a[2], I.Const):
                    raise EngineError(f"{_loc(s)}: the field list index must be a constant")
                fl = a[2].value
            self.clone_field_lists.add(fl)
            # bmv2 clone_{ingress,egress}_pkt_to_egress: the last call wins; the session id is
            # kept with a valid bit so that session 0 works
            self.em.line(f"_cl = ({session} & 0xFFFF) | 0x10000")
            self.em.line(f"_clfl = {fl}")
        elif name == "random":
            out = self.slot(a[0], env)
            lo, hi = self.ex(a[1], env), self.ex(a[2], env)
            self.uses_random = True
            t1, t2 = self.tmp("lo"), self.tmp("hi")
            self.em.line(f"{t1} = {lo}")
            self.em.line(f"{t2} = {hi}")
            # bmv2 modify_field_rng_uniform: lo > hi leaves the result unwritten
            with self.em.block(f"if {t1} <= {t2}:"):
                self.em.line(f"{out} = _randint({t1}, {t2})")
        elif name == "log_msg":
            fmt = a[0].value if isinstance(a[0], I.StringConst) else ""
            vals: list[str] = []
            if len(a) > 1:
                data = a[1]
                # the scalar values, a header's or struct's fields each (bmv2 prints them)
                vals = [v for _valid, v, _w in self.data_items(data, env)]
            self.em.line(f"_log_msg({fmt!r}, ({', '.join(vals)}{',' if vals else ''}))")
        elif name == "truncate":
            self.em.line(f"_trunc = {self.ex(a[0], env)}")
        elif name in ("assert", "assume"):
            c = self.ex(a[0], env)
            with self.em.block(f"if not {c}:"):
                self.em.line(f"_assert_failed({str(_loc(s))!r})")
        else:
            raise EngineError(f"{_loc(s)}: extern {name} is not supported by the p4sim engine")

    def _algo(self, e: I.Expr) -> str:
        if isinstance(e, I.EnumMember):
            return e.member
        raise EngineError(f"{_loc(e)}: the hash algorithm must be a HashAlgorithm constant")

    def gen_hash(self, s: I.ExternFunctionCall, a: list[I.Expr], env: Env) -> None:
        out = self.slot(a[0], env)
        w = a[0].type.width or 0
        algo = self._algo(a[1])
        base = self.ex(a[2], env)
        if algo == "csum16":
            # the word sum checksum_value uses (received bytes for unwritten headers)
            words = self.csum16_words(self.data_items(a[3], env))
            if words is not None:
                self.emit_hash_result(out, w, base, f"_csum16_int({words})", a[4], env)
                return
        acc, bits = self.pack(a[3], env)
        h = f"{self._algo_fn(algo)}({self._as_bytes(acc, bits)})"
        if algo == "crc16" and bits.isdigit():
            # memoised per call site (see algorithms.crc16_memo): a dict hit costs a fifth
            cache: dict[int, int] = {}
            memo = self.bind(cache, "hc", reads("get"))
            miss = self.bind(algorithms.crc16_memo(cache, int(bits)), "hm", MEMO_FILL)
            key, h = self.tmp("hk"), self.tmp("hv")
            self.em.line(f"{key} = {acc}")
            self.em.line(f"{h} = {memo}.get({key})")
            with self.em.block(f"if {h} is None:"):
                self.em.line(f"{h} = {miss}({key})")
        if algo == "csum16":
            pad = f"-{bits} % 16" if not bits.isdigit() else str(-int(bits) % 16)
            h = f"_csum16_int({acc} << ({pad}))"
        self.emit_hash_result(out, w, base, h, a[4], env)

    def emit_hash_result(self, out: str, w: int, base: str, h: str, mx: I.Expr, env: Env) -> None:
        # bmv2 modify_field_with_hash_based_offset: (H % max) + base, max 0 treated as 1
        if isinstance(mx, I.Const):
            m = mx.value or 1
            self.em.line(f"{out} = ({base} + {h} % {m}) & {mask(w)}")
        else:
            t = self.tmp("max")
            self.em.line(f"{t} = {self.ex(mx, env)} or 1")
            self.em.line(f"{out} = ({base} + {h} % {t}) & {mask(w)}")

    def gen_digest(self, s: I.ExternFunctionCall, a: list[I.Expr], env: Env) -> None:
        if self.pipe != "ingress":
            # bmv2 sends the digests a packet asked for when ingress ends (simple_switch's
            # ingress_thread); a digest asked for in any other block is never sent
            self.em.line("pass  # digest outside ingress: bmv2 never sends it")
            return
        data = a[1]
        t = data.type
        if not isinstance(t, I.StructType):
            raise EngineError(f"{_loc(s)}: digest data must be a struct")
        try:
            did = self.state.digest_id(t.name)
        except KeyError:
            raise EngineError(f"{_loc(s)}: digest {t.name} is not in the P4Info") from None
        # bmv2 reads a digest's field list when ingress ends (the learn engine samples the
        # PHV after the ingress pipeline): fields that are storage are read then; other
        # values are captured at the call into temporaries, as p4c does.
        values: list[str] = []
        path = self.path_of(data, env)
        if path is not None:
            values.extend(slot.name for slot in self.st.leaves(path) if slot.kind == "field")
        else:
            assert isinstance(data, (I.StructExpr, I.ListExpr))
            exprs = list(data.fields.values()) if isinstance(data, I.StructExpr) else data.elements
            for x in exprs:
                tv = self.tmp("dgv")
                self.em.line(f"{tv} = {self.ex(x, env)}")
                values.append(tv)
        self.digest_sites.append((did, values))
        self.em.line(f"_dg = {len(self.digest_sites)}")
