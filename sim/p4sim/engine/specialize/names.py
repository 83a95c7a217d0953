"""What the names of the generated code mean to the walk: run-time helpers that are pure
or foldable, methods that only read switch state, effects to defer (the objects the
generator binds known by their role), and the specialised function's own temporaries."""

from __future__ import annotations

import ast
from collections.abc import Mapping

# run-time helpers that read but never change switch state (by the name they are bound to)
_PURE_FUNCS = {
    "len",
    "int",
    "bool",
    "min",
    "max",
    "abs",
    "_csum16_int",
    "_csum16",
    "_crc16",
    "_crc32",
    "_identity",
    "_pack_bytes",
    "_sat_s",
    "_reparse",
    "_now",
    "_ts",
}
# Objects the generator binds are known by their role, the hint they were bound with
# (CodeGen.roles: "tbl", "exact", "ctr", "hc", "hm", "unpack", "pack", ...), not by name.
_PURE_ROLES = {"unpack", "pack", "hm"}  # struct unpackers/packers, crc16 memo fills
_FOLDABLE = {"len", "_csum16_int", "_pack_bytes"}
_FOLDABLE_ROLES = {"pack"}
# methods that read switch state only: of globals by name, of bound objects by role
_READ_METHODS = {
    ("_sessions", "get"),
    ("_groups", "get"),
    ("int", "from_bytes"),
}
_READ_ROLE_METHODS = {
    ("exact", "get"),
    ("hc", "get"),
    ("tbl", "lookup"),
}
# effects on the switch that return nothing the packet uses: deferred to the path's end
_DEFERRED_METHODS = {
    ("_out", "append"),
    ("_digests", "append"),
}
_DEFERRED_ROLE_METHODS = {
    ("ctr", "count"),
    ("tbl", "count_default"),
}
_DEFERRED_FUNCS = {"_log_msg", "_assert_failed"}


TMP_PREFIX = "_ps"  # the specialised function's own temporaries: _ps1, _ps2, ...


def _is_tmp(name: str) -> bool:
    """``name`` is one of the specialised function's temporaries (``_ps1``, ``_ps2``...)."""
    return name.startswith(TMP_PREFIX) and name[len(TMP_PREFIX) :].isdigit()


def _method_of(
    by_name: set[tuple[str, str]],
    by_role: set[tuple[str, str]],
    roles: Mapping[str, str],
    func: ast.expr,
) -> bool:
    """``func`` is ``obj.meth`` with (obj, meth) in ``by_name`` or (obj's role, meth) in
    ``by_role``."""
    if not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)):
        return False
    obj, meth = func.value.id, func.attr
    return (obj, meth) in by_name or (roles.get(obj, ""), meth) in by_role


def _is_memo_fill(s: ast.If, roles: Mapping[str, str]) -> bool:
    test = s.test
    if s.orelse or len(s.body) != 1 or not isinstance(s.body[0], ast.Assign):
        return False
    if not (
        isinstance(test, ast.Compare)
        and len(test.ops) == 1
        and isinstance(test.ops[0], ast.Is)
        and isinstance(test.left, ast.Name)
        and isinstance(test.comparators[0], ast.Constant)
        and test.comparators[0].value is None
    ):
        return False
    a = s.body[0]
    return (
        len(a.targets) == 1
        and isinstance(a.targets[0], ast.Name)
        and a.targets[0].id == test.left.id
        and isinstance(a.value, ast.Call)
        and isinstance(a.value.func, ast.Name)
        and roles.get(a.value.func.id) == "hm"
    )
