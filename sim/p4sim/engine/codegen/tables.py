"""Tables: a lookup by the packed key, direct counters and meters, idle-timeout stamps,
the chosen action's body inlined; const entries installed into the runtime state."""

from __future__ import annotations

from typing import Any

from ...frontend import ir as I
from ...state import ExactTable
from ...state import TableEntry as StateEntry
from ..calls import CallKind, reads
from ..errors import EngineError
from .base import CodeGenBase, Env, mask

# a table: lookups only read it; the default entry's direct counter is an effect to defer
TABLE_CALLS = CallKind(reads=frozenset({"lookup"}), defers=frozenset({"count_default"}))


class TableGen(CodeGenBase):
    def action_id(self, action: I.Action) -> int:
        try:
            return self.state.action_id(action.p4info_name)
        except KeyError:
            raise EngineError(f"action {action.p4info_name} is not in the P4Info") from None

    def apply_table(self, t: I.Table, env: Env) -> tuple[str, str]:
        """Emit a table application; returns (hit expression, action-id variable)."""
        try:
            table = self.state.table(t.p4info_name)
        except KeyError:
            raise EngineError(f"table {t.p4info_name} is not in the P4Info") from None
        T = self.bind(table, "tbl", TABLE_CALLS)
        n = self.tmp("")
        r, e_, aid = f"_r{n}", f"_e{n}", f"_a{n}"
        keys = sorted(t.keys, key=lambda k: k.id)
        kv = [self.ex(k.expr, env) for k in keys]
        kv = [
            f"(1 if {v} else 0)" if isinstance(k.expr.type, I.BoolType) else v
            for v, k in zip(kv, keys)
        ]
        key = "(" + ", ".join(kv) + ("," if len(kv) == 1 else "") + ")"
        if not keys:
            lookup = f"{T}.default_result"
        elif type(table) is ExactTable and isinstance(getattr(table, "_results", None), dict):
            # the exact index dict is mutated in place (never replaced), so it can be bound
            # once; its keys are the key values packed into one int (ExactTable.pack_key)
            d = self.bind(table._results, "exact", reads("get"))
            packed = kv[0]
            for v, w in zip(kv[1:], table.key_widths[1:]):
                packed = f"(({packed}) << {w}) | {v}"
            lookup = f"{d}.get({packed}) or {T}.default_result"
        else:
            lookup = f"{T}.lookup({key})"
        pv = f"_p{n}"
        if self.trace:
            self.em.line(f"{r} = {lookup}")
            self.em.line(f"{aid}, {pv}, {e_} = {r}")
            self.em.line(f"_tr_table({t.p4info_name!r}, {key}, {r})")
        else:
            self.em.line(f"{aid}, {pv}, {e_} = {lookup}")
        counting = table.has_direct_counter
        timeout = table.support_timeout
        dmeter = t.direct_meter is not None
        if counting or timeout:
            with self.em.block(f"if {e_} is not None:"):
                if counting:
                    self.em.line(f"{e_}.packets += 1")
                    self.em.line(f"{e_}.bytes += _ilen")
                if timeout:
                    self.uses_now = True
                    self.em.line(f"{e_}.last_hit_ns = _now()")
                    self.em.line(f"{e_}.idle_notified = False")
            if counting:
                with self.em.block("else:"):
                    self.em.line(f"{T}.count_default(_ilen)")
        if dmeter:
            self.uses_now = True
            self.em.line(
                f"{self._dm_var(t)} = {e_}.meter.execute(_ilen, _now()) "
                f"if {e_} is not None and {e_}.meter is not None else 0"
            )
        first = True
        for ref in t.actions:
            act = ref.action
            if not act.body and not self.trace:
                continue
            with self.em.block(f"{'if' if first else 'elif'} {aid} == {self.action_id(act)}:"):
                self.inline_action(act, env, ref.args, act.data_params, pv)
            first = False
        return f"({e_} is not None)", aid

    # -- const entries -------------------------------------------------------------------------
    def install_const_entries(self) -> None:
        for t in self.ir.tables:
            if not t.const_entries:
                continue
            table = self.state.table(t.p4info_name)
            keys = sorted(range(len(t.keys)), key=lambda i: t.keys[i].id)
            n = len(t.const_entries)
            for idx, ent in enumerate(t.const_entries):
                match = []
                for i in keys:
                    k, ks = t.keys[i], ent.keysets[i]
                    match.append(_normalise(k, ks))
                prio = 0
                if table.needs_priority:
                    prio = ent.priority if ent.priority is not None else n - idx
                act = ent.action
                aid = self.action_id(act.action)
                if table.get(tuple(match), prio) is None:
                    table.insert(
                        StateEntry(tuple(match), aid, tuple(act.args), prio, is_const=True)
                    )


def _normalise(k: I.TableKey, ks: I.KeySet) -> Any:
    w = k.width
    full = mask(w)
    kind = k.match_kind
    if kind == "exact":
        return ks.value & full
    if kind == "lpm":
        if ks.kind == "default":
            return (0, 0)
        if ks.kind == "value":
            return (ks.value & full, w)
        m = ks.mask & full
        plen = bin(m).count("1")
        return (ks.value & m, plen)
    if kind == "range":
        if ks.kind == "default":
            return (0, full)
        if ks.kind == "value":
            return (ks.value, ks.value)
        return (ks.value, ks.hi)
    # ternary / optional
    if ks.kind == "default":
        return (0, 0)
    if ks.kind == "value":
        return (ks.value & full, full)
    return (ks.value & ks.mask & full, ks.mask & full)
