"""Build and write the P4Info message for a ProgramIR, entity by entity as p4c does.

Entity order follows p4c's traversal: tables in block order (each followed by its direct
counters/meters), actions of each control in declaration order, then counters, meters,
registers, digests and controller packet metadata.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from finsy.proto import p4i, p4t
from google.protobuf import json_format, text_format

from ..frontend import ir
from .ids import SymbolTable, assign_ids, direct_only, p4info_actions, p4info_tables

_MATCH = {
    "exact": p4i.MatchField.EXACT,
    "lpm": p4i.MatchField.LPM,
    "ternary": p4i.MatchField.TERNARY,
    "range": p4i.MatchField.RANGE,
    "optional": p4i.MatchField.OPTIONAL,
}
_COUNTER_UNIT = {
    "packets": p4i.CounterSpec.PACKETS,
    "bytes": p4i.CounterSpec.BYTES,
    "packets_and_bytes": p4i.CounterSpec.BOTH,
}
_METER_UNIT = {"packets": p4i.MeterSpec.PACKETS, "bytes": p4i.MeterSpec.BYTES}
_SKIP_ANNOTATIONS = {"name", "id", "brief", "description"}


def _preamble(
    pre: p4i.Preamble, uid: int, name: str, alias: str, annotations: tuple[ir.Annotation, ...]
) -> None:
    pre.id = uid
    pre.name = name
    pre.alias = alias
    brief = desc = None
    for a in annotations:
        if a.name == "brief":
            brief = a.value
        elif a.name == "description":
            desc = a.value
        if a.name in _SKIP_ANNOTATIONS:
            continue
        _annotate(pre, a)
    if brief is not None:
        pre.doc.brief = brief
    if desc is not None:
        pre.doc.description = desc


def _annotate(msg: Any, a: ir.Annotation) -> None:
    """Add annotation `a` to a P4Info message with `annotations` and
    `structured_annotations` fields (p4c: `@x[...]` is structured, with its literals)."""
    if a.structured is None:
        msg.annotations.append(str(a))
        return
    sa = msg.structured_annotations.add()
    sa.name = a.name
    for key, value in a.structured:
        if key is None:
            x = sa.expression_list.expressions.add()
        else:
            kv = sa.kv_pair_list.kv_pairs.add()
            kv.key = key
            x = kv.value
        if isinstance(value, bool):
            x.bool_value = value
        elif isinstance(value, int):
            x.int64_value = value
        else:
            x.string_value = value


def _bytes(value: int, width: int) -> bytes:
    return value.to_bytes((width + 7) // 8, "big")


def _type_spec(t: ir.Type, info: p4t.P4TypeInfo) -> p4t.P4DataTypeSpec:
    spec = p4t.P4DataTypeSpec()
    if isinstance(t, ir.BitsType):
        if t.signed:
            spec.bitstring.int.bitwidth = t.size
        else:
            spec.bitstring.bit.bitwidth = t.size
    elif isinstance(t, ir.VarbitType):
        spec.bitstring.varbit.max_bitwidth = t.max_width
    elif isinstance(t, ir.BoolType):
        spec.bool.SetInParent()
    elif isinstance(t, ir.StructType):
        spec.struct.name = t.name
        if t.name not in info.structs:
            st = p4t.P4StructTypeSpec()
            for f in t.fields:
                m = st.members.add()
                m.name = f.name
                m.type_spec.CopyFrom(_type_spec(f.type, info))
            info.structs[t.name].CopyFrom(st)
    elif isinstance(t, ir.HeaderType):
        spec.header.name = t.name
        if t.name not in info.headers:
            ht = p4t.P4HeaderTypeSpec()
            for f in t.fields:
                hm = ht.members.add()
                hm.name = f.name
                hm.type_spec.CopyFrom(_type_spec(f.type, info).bitstring)
            info.headers[t.name].CopyFrom(ht)
    elif isinstance(t, ir.EnumType) and t.underlying is not None:
        spec.serializable_enum.name = t.name
        if t.name not in info.serializable_enums:
            en = p4t.P4SerializableEnumTypeSpec()
            en.underlying_type.bitwidth = t.underlying.size
            for member, v in zip(t.members, t.values):
                mem = en.members.add()
                mem.name = member
                mem.value = _bytes(v, t.underlying.size)
            info.serializable_enums[t.name].CopyFrom(en)
    elif isinstance(t, ir.ErrorType):
        spec.error.SetInParent()
    else:
        raise ValueError(f"no P4Info type spec for {t}")
    return spec


def _width(t: ir.Type) -> int:
    return t.width or 0


# @pkginfo(key="value", ...) on the package instance: the PkgInfo fields p4c fills from it.
_PKG_INFO_FIELDS = ("name", "version", "doc", "organization", "contact", "url")
_PKG_INFO_ITEM = re.compile(r'(\w+)\s*=\s*"((?:[^"\\]|\\.)*)"')


def _pkg_info(pkg: p4i.PkgInfo, annotations: tuple[ir.Annotation, ...]) -> None:
    """`@pkginfo(name="nvgre-nve", version="2.0.0")` on `main`, as p4c reads it (keys
    other than PkgInfo's string fields are left out)."""
    for a in annotations:
        if a.name != "pkginfo":
            continue
        for key, value in _PKG_INFO_ITEM.findall(a.body or ""):
            if key in _PKG_INFO_FIELDS:
                setattr(pkg, key, value)


def build_p4info(program: ir.ProgramIR) -> p4i.P4Info:
    """The P4Info p4c (p4c-bm2-ss, --arch v1model) would emit for the same program."""
    st: SymbolTable = assign_ids(program)
    info = p4i.P4Info()
    info.pkg_info.arch = "v1model"
    _pkg_info(info.pkg_info, program.package.annotations)
    tables = p4info_tables(program)
    direct_counters: list[ir.ExternInstance] = []
    direct_meters: list[ir.ExternInstance] = []
    for t in tables:
        pt = info.tables.add()
        _preamble(pt.preamble, t.p4info_id, t.p4info_name, st.alias(t.p4info_name), t.annotations)
        for k in t.keys:
            mf = pt.match_fields.add()
            mf.id = k.id
            mf.name = k.name
            if isinstance(k.expr.type, ir.EnumType) and k.expr.type.underlying is not None:
                _type_spec(k.expr.type, info.type_info)  # p4c lists the key's enum type
            for a in k.annotations:
                if a.name not in _SKIP_ANNOTATIONS:
                    _annotate(mf, a)
            mf.bitwidth = _width(k.expr.type)
            mf.match_type = _MATCH[k.match_kind]
        for ref in t.actions:
            ar = pt.action_refs.add()
            ar.id = ref.action.p4info_id
            for a in ref.annotations:
                if a.name not in _SKIP_ANNOTATIONS:
                    _annotate(ar, a)
            if ref.table_only:
                ar.scope = p4i.ActionRef.TABLE_ONLY
            elif ref.default_only:
                ar.scope = p4i.ActionRef.DEFAULT_ONLY
            else:
                ar.scope = p4i.ActionRef.TABLE_AND_DEFAULT
        da = t.default_action
        if t.default_action_const:
            pt.const_default_action_id = da.action.p4info_id
        pt.initial_default_action.action_id = da.action.p4info_id
        for i, (p, v) in enumerate(zip(da.action.data_params, da.args), 1):
            arg = pt.initial_default_action.arguments.add()
            arg.param_id = i
            arg.value = _bytes(v, _width(p.type))
        for ext in (t.direct_counter, t.direct_meter):
            if ext is not None:
                pt.direct_resource_ids.append(ext.p4info_id)
        pt.size = t.size
        if t.support_timeout:
            pt.idle_timeout_behavior = p4i.Table.NOTIFY_CONTROL
        if t.const_entries is not None and t.entries_const:
            pt.is_const_table = True
        if t.const_entries:
            pt.has_initial_entries = True
        if t.direct_counter is not None:
            direct_counters.append(t.direct_counter)
        if t.direct_meter is not None:
            direct_meters.append(t.direct_meter)
    without_params = direct_only(program)
    for act in p4info_actions(program):
        pa = info.actions.add()
        _preamble(
            pa.preamble, act.p4info_id, act.p4info_name, st.alias(act.p4info_name), act.annotations
        )
        if act.p4info_name in without_params:
            continue  # only called directly: p4c lists it with its arguments bound
        for i, p in enumerate(act.data_params, 1):
            pp = pa.params.add()
            pp.id = i
            pp.name = p.name
            pp.bitwidth = _width(p.type)
            if isinstance(p.type, ir.EnumType) and p.type.underlying is not None:
                _type_spec(p.type, info.type_info)
    for e in program.externs:
        alias = st.alias(e.p4info_name)
        if e.extern_type == "counter":
            c = info.counters.add()
            _preamble(c.preamble, e.p4info_id, e.p4info_name, alias, e.annotations)
            c.spec.unit = _COUNTER_UNIT[e.unit or "packets"]
            c.size = e.size or 0
        elif e.extern_type == "meter":
            m = info.meters.add()
            _preamble(m.preamble, e.p4info_id, e.p4info_name, alias, e.annotations)
            m.spec.unit = _METER_UNIT[e.unit or "packets"]
            m.size = e.size or 0
        elif e.extern_type == "register":
            r = info.registers.add()
            _preamble(r.preamble, e.p4info_id, e.p4info_name, alias, e.annotations)
            r.size = e.size or 0
            assert e.element_type is not None
            r.type_spec.CopyFrom(_type_spec(e.element_type, info.type_info))
    for e in direct_counters:
        dc = info.direct_counters.add()
        _preamble(dc.preamble, e.p4info_id, e.p4info_name, st.alias(e.p4info_name), e.annotations)
        dc.spec.unit = _COUNTER_UNIT[e.unit or "packets"]
        assert e.table is not None
        dc.direct_table_id = e.table.p4info_id
    for e in direct_meters:
        dm = info.direct_meters.add()
        _preamble(dm.preamble, e.p4info_id, e.p4info_name, st.alias(e.p4info_name), e.annotations)
        dm.spec.unit = _METER_UNIT[e.unit or "packets"]
        assert e.table is not None
        dm.direct_table_id = e.table.p4info_id
    for h in program.controller_headers:
        cm = info.controller_packet_metadata.add()
        _preamble(cm.preamble, h.p4info_id, h.name, h.name, h.header.annotations)
        for i, f in enumerate(h.header.fields, 1):
            md = cm.metadata.add()
            md.id = i
            md.name = f.name
            for a in f.annotations:
                if a.name not in _SKIP_ANNOTATIONS:
                    _annotate(md, a)
            md.bitwidth = _width(f.type)
    for d in program.digests:
        dg = info.digests.add()
        _preamble(
            dg.preamble, d.p4info_id, d.p4info_name, st.alias(d.p4info_name), d.type.annotations
        )
        dg.type_spec.CopyFrom(_type_spec(d.type, info.type_info))
    return info


def write_p4info(p4info: p4i.P4Info, path: str | os.PathLike[str], fmt: str = "text") -> None:
    """Write P4Info as text protobuf ("text"), binary ("binary") or JSON ("json")."""
    p = Path(path)
    if fmt == "text":
        p.write_text(text_format.MessageToString(p4info), encoding="utf-8")
    elif fmt == "binary":
        p.write_bytes(p4info.SerializeToString())
    elif fmt == "json":
        p.write_text(
            json_format.MessageToJson(p4info, preserving_proto_field_name=False), encoding="utf-8"
        )
    else:
        raise ValueError(f"unknown P4Info format {fmt!r} (text, binary or json)")
