"""Path specialisation: one packet path of the generated function as straight-line code.

The generated ``_process`` handles every packet: hundreds of branches, one Python local per
PHV field, all of them set to zero on entry. A given flow takes the same path through it
packet after packet, and on that path most of the work is known in advance: the drop reason
stays 0, the checks of it fold, the headers nothing writes are emitted from the received
bytes at known offsets, the metadata copied from one place to another need not be stored at
all. This module takes the branch decisions one packet made (recorded by ``paths``) and
partially evaluates ``_process`` along them:

* every ``if`` whose outcome is not a constant becomes a guard that returns ``False`` (the
  packet is then run by the generic function: it took another path);
* assignments are folded (constants, copies, tuples and the function's local lists are
  tracked symbolically) and loops over lists are unrolled, with a length guard for lists
  that come from the switch state (multicast groups, clone sessions);
* effects on the switch (counters, idle-timeout stamps, digests, transmitted frames) are
  deferred to the end, after the last guard, with their arguments captured where they were
  computed, so a packet that leaves the path has changed nothing;
* what no guard, effect or frame needs is removed (backward liveness).

Table lookups, hashes, checksums and packing stay calls at run time: table contents are
never assumed, so a path stays valid whatever the control plane writes. A path with an
effect whose result feeds the packet (a meter, a register write, a random number) is not
specialised (:class:`Unspecializable`); those packets keep using the generic function.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeGuard

from ..state.externs import CounterArray
from .algorithms import csum16_of_int


class Unspecializable(Exception):
    """The recorded path cannot be turned into straight-line code (the reason says why)."""


# -- symbolic values -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Const:
    value: Any


@dataclass(frozen=True)
class Tmp:
    """A temporary of the specialised function, assigned exactly once."""

    name: str


@dataclass
class Ref:
    """The value variable ``name`` held at version ``ver``; if the variable changes before the
    value is read, the placeholder ``ph`` becomes a copy into a temporary made at that point."""

    name: str
    ver: int
    ph: Placeholder


@dataclass
class SymTuple:
    items: list[Operand]


@dataclass
class SymList:
    items: list[Operand] = field(default_factory=list)


Operand = Const | Tmp | Ref | SymTuple | SymList


@dataclass
class Placeholder:
    """A copy ``temp = source`` that is emitted only if some stale Ref needs it."""

    temp: str
    source: str
    needed: bool = False


_BINOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.LShift: operator.lshift,
    ast.RShift: operator.rshift,
    ast.BitAnd: operator.and_,
    ast.BitOr: operator.or_,
    ast.BitXor: operator.xor,
    ast.Pow: operator.pow,
}
_CMPOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Is: operator.is_,
    ast.IsNot: operator.is_not,
}
_UNOPS: dict[type, Callable[[Any], Any]] = {
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
    ast.Invert: operator.invert,
    ast.Not: operator.not_,
}

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
_PURE_PREFIXES = ("_Su", "_Sp", "_hm")  # struct unpackers/packers, crc16 memo fills
_FOLDABLE = {"len", "_csum16_int", "_pack_bytes"}
_FOLDABLE_PREFIXES = ("_Sp",)
_READ_METHODS = {
    ("_exact", "get"),
    ("_hc", "get"),
    ("_tbl", "lookup"),
    ("_sessions", "get"),
    ("_groups", "get"),
    ("int", "from_bytes"),
}
# effects on the switch that return nothing the packet uses: deferred to the path's end
_DEFERRED_METHODS = {
    ("_ctr", "count"),
    ("_tbl", "count_default"),
    ("_out", "append"),
    ("_digests", "append"),
}
_DEFERRED_FUNCS = {"_log_msg", "_assert_failed"}
_STATEMENTS = (
    ast.Assign,
    ast.AugAssign,
    ast.Expr,
    ast.If,
    ast.While,
    ast.For,
    ast.Break,
    ast.Continue,
    ast.Pass,
)
_MAX_LOOP = 4096
_MAX_SHIFT = 1 << 16


TMP_PREFIX = "_ps"  # the specialised function's own temporaries: _ps1, _ps2, ...


def _numbered(name: str, *prefixes: str) -> bool:
    """``name`` is one of the numbered names the generator binds (``_ctr5``, ``_Sp12``...)."""
    return any(name.startswith(p) and name[len(p) :].isdigit() for p in prefixes)


def _is_tmp(name: str) -> bool:
    return _numbered(name, TMP_PREFIX)


def _method_of(prefixes: set[tuple[str, str]], func: ast.expr) -> bool:
    if not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)):
        return False
    obj, meth = func.value.id, func.attr
    return any(meth == m and (obj == p or _numbered(obj, p)) for p, m in prefixes)


def specializable(fn: ast.FunctionDef) -> str | None:
    """Why ``fn`` can never be specialised (a statement kind the walker does not know), or
    None. Programs that exit through exceptions or return early keep the generic function."""
    for node in ast.walk(fn):
        if isinstance(node, ast.stmt) and node is not fn and not isinstance(node, _STATEMENTS):
            return f"{type(node).__name__} statement at line {node.lineno}"
        if isinstance(node, (ast.While, ast.For)) and node.orelse:
            return f"loop with else at line {node.lineno}"
    return None


def number_branches(fn: ast.FunctionDef) -> int:
    """Give every ``if`` and ``for`` of ``fn`` a branch id (attribute ``_bid``); the count."""
    n = 0
    for node in ast.walk(fn):
        if isinstance(node, (ast.If, ast.For)):
            node._bid = n  # type: ignore[union-attr]  # the branch id rides on the AST node
            n += 1
    return n


def stored_names(fn: ast.FunctionDef) -> set[str]:
    names = {a.arg for a in fn.args.args}
    for node in ast.walk(fn):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
    return names


class Specializer:
    """One walk of ``fn`` along ``records`` ((branch id, outcome) in execution order: a bool
    per ``if``, the iteration count per ``for``); ``build`` returns the new function's AST."""

    def __init__(
        self,
        fn: ast.FunctionDef,
        records: list[tuple[int, Any]],
        namespace: dict[str, Any],
        locals_: set[str],
    ) -> None:
        self.fn = fn
        self.records = records
        self.pos = 0
        self.ns = namespace
        self.locals = locals_
        self.env: dict[str, Operand] = {}
        self.ver: dict[str, int] = {}
        self.out: list[ast.stmt | Placeholder] = []
        self.deferred: list[Callable[[], ast.stmt]] = []
        self.ntmp = 0
        self.facts: dict[str, tuple[bool, dict[str, int]]] = {}
        self.placeholders: dict[tuple[str, int], Placeholder] = {}
        self.guards: list[tuple[ast.If, ast.expr, bool, dict[str, int]]] = []
        self.computed: dict[str, tuple[str, int]] = {}  # expression -> (variable, version)
        if any(_is_tmp(n) for n in locals_):
            raise Unspecializable(f"the function has locals named like {TMP_PREFIX}N")

    # -- public -------------------------------------------------------------------------------
    def build(self, name: str) -> ast.FunctionDef:
        sig = self.block(self.fn.body)
        if sig is not None:
            raise Unspecializable(f"{sig} outside a loop")
        if self.pos != len(self.records):
            raise Unspecializable("the walk did not use every recorded branch")
        self.narrow_guards()
        tail = [make() for make in self.deferred]
        body: list[ast.stmt] = []
        for s in self.out:
            if isinstance(s, Placeholder):
                if s.needed:
                    body.append(_assign(s.temp, ast.Name(s.source, ast.Load())))
            else:
                body.append(s)
        body = _dead_code(body, tail)
        body += tail
        body.append(ast.Return(ast.Constant(True)))
        params = ", ".join(a.arg for a in self.fn.args.args)
        new = ast.parse(f"def {name}({params}):\n    pass\n").body[0]
        assert isinstance(new, ast.FunctionDef)
        new.body = body
        _number_statements(new.body)
        return new  # compiled from its unparsed source: only statements need a line

    def narrow_guards(self) -> None:
        """Drop from ``if A and B and C: return False`` the terms another guard of the path
        establishes, and drop guards another one makes impossible (a parser select tests its
        shared terms once per case, and ``x == 47`` after ``x == 17`` is false). Guards only
        ever leave the path and nothing is done before the last one, so a guard may be
        narrowed on the strength of one that comes later: if that one fails, the path is
        left either way. Only comparisons of variables and constants are used (evaluating
        one can raise nothing)."""
        Key = tuple[str, tuple[tuple[str, int], ...]]
        known: dict[Key, tuple[bool, set[int]]] = {}  # term -> (truth, from guards)
        equal: dict[tuple[str, int], tuple[Any, set[int]]] = {}  # (var, version) -> value

        def key(term: ast.expr, versions: dict[str, int]) -> Key:
            return ast.dump(term), tuple(sorted((n, versions[n]) for n in _loads(term)))

        def learn(term: ast.expr, truth: bool, versions: dict[str, int], source: int) -> None:
            known.setdefault(key(term, versions), (truth, set()))[1].add(source)
            if (
                truth
                and isinstance(term, ast.Compare)
                and isinstance(term.ops[0], ast.Eq)
                and isinstance(term.left, ast.Name)
                and isinstance(term.comparators[0], ast.Constant)
            ):
                var = (term.left.id, versions[term.left.id])
                equal.setdefault(var, (term.comparators[0].value, set()))[1].add(source)

        for i, (_, test, taken, versions) in enumerate(self.guards):
            if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
                terms = test.values if taken else []
            else:
                terms = [test]
            for term in terms:
                if _simple_compare(term):
                    learn(term, taken, versions, i)
                    inverse = _negation(term)
                    if inverse is not None:
                        learn(inverse, not taken, versions, i)

        def fact_of(term: ast.expr, versions: dict[str, int], me: int) -> bool | None:
            if not _simple_compare(term):
                return None
            entry = known.get(key(term, versions))
            if entry is not None and entry[1] - {me}:
                return entry[0]
            if (
                isinstance(term.left, ast.Name)
                and len(term.ops) == 1
                and isinstance(term.ops[0], (ast.Eq, ast.NotEq))
                and isinstance(term.comparators[0], ast.Constant)
            ):
                held = equal.get((term.left.id, versions[term.left.id]))
                other = term.comparators[0].value
                if (
                    held is not None
                    and held[1] - {me}
                    and type(held[0]) is type(other)
                    and isinstance(other, int)
                ):
                    same = held[0] == other
                    return same if isinstance(term.ops[0], ast.Eq) else not same
            return None

        for i, (node, test, taken, versions) in enumerate(self.guards):
            if taken:
                continue
            if not (isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And)):
                if fact_of(test, versions, i) is False:
                    node.test = ast.Constant(False)
                continue
            kept = []
            never = False
            for term in test.values:
                fact = fact_of(term, versions, i)
                if fact is True:
                    continue
                if fact is False:
                    never = True
                kept.append(term)
            if never:
                node.test = ast.Constant(False)
            elif kept and len(kept) < len(test.values):
                node.test = kept[0] if len(kept) == 1 else ast.BoolOp(ast.And(), kept)

    # -- statements ---------------------------------------------------------------------------
    def block(self, stmts: list[ast.stmt]) -> str | None:
        for s in stmts:
            sig = self.stmt(s)
            if sig is not None:
                return sig
        return None

    def stmt(self, s: ast.stmt) -> str | None:
        if isinstance(s, ast.Assign):
            self.assign(s)
        elif isinstance(s, ast.AugAssign):
            self.aug_assign(s)
        elif isinstance(s, ast.Expr):
            self.expr_stmt(s)
        elif isinstance(s, ast.If):
            taken = self.record(s)
            if _is_memo_fill(s):
                self.memo_fill(s)
                return None
            node, val = self.ev(s.test)
            if val is not None:
                if self.truth(val) != taken:
                    raise Unspecializable(
                        f"line {s.lineno}: the condition folds against the record"
                    )
            else:
                self.guard(_as_test(node), taken)
            return self.block(s.body if taken else s.orelse)
        elif isinstance(s, ast.While):
            if not (isinstance(s.test, ast.Constant) and s.test.value is True):
                raise Unspecializable(f"line {s.lineno}: only `while True` loops are walked")
            for _ in range(_MAX_LOOP):
                sig = self.block(s.body)
                if sig == "break":
                    return None
            raise Unspecializable(f"line {s.lineno}: loop does not end")
        elif isinstance(s, ast.For):
            return self.for_loop(s)
        elif isinstance(s, ast.Break):
            return "break"
        elif isinstance(s, ast.Continue):
            return "continue"
        elif isinstance(s, ast.Pass):
            return None
        else:
            raise Unspecializable(f"line {s.lineno}: {type(s).__name__} statement")
        return None

    def memo_fill(self, s: ast.If) -> None:
        """``if h is None: h = _hmN(key)`` (a crc16 memo miss) is kept as it is instead of
        becoming a guard: hit and miss give the same value, so one path serves both, and a
        flow seen for the first time does not leave the path."""
        node, val = self.ev(s.test)
        if val is not None:
            if self.truth(val):
                self.block(s.body)
            return
        fill = s.body[0]
        assert isinstance(fill, ast.Assign)
        target = fill.targets[0]
        assert isinstance(target, ast.Name)
        call, _ = self.ev(fill.value)
        self.out.append(ast.If(node, [_assign(target.id, call)], []))
        self.bump(target.id)
        self.env.pop(target.id, None)

    def record(self, s: ast.stmt) -> Any:
        if self.pos >= len(self.records):
            raise Unspecializable(f"line {s.lineno}: the record ended early")
        bid, outcome = self.records[self.pos]
        if bid != getattr(s, "_bid", None):
            raise Unspecializable(f"line {s.lineno}: the record is for another branch")
        self.pos += 1
        return outcome

    def guard(self, test: ast.expr, taken: bool) -> None:
        """Leave the path unless ``test`` is ``taken``; a test an earlier guard already
        settled (same expression, none of its variables assigned since) needs no guard."""
        key = ast.dump(test)
        fact = self.facts.get(key)
        if (
            fact is not None
            and fact[0] == taken
            and all(self.ver.get(n, 0) == v for n, v in fact[1].items())
        ):
            return
        versions = {n: self.ver.get(n, 0) for n in _loads(test)}
        self.facts[key] = (taken, versions)
        inverse = _negation(test)
        if inverse is not None:
            self.facts[ast.dump(inverse)] = (not taken, versions)
        cond = ast.UnaryOp(ast.Not(), test) if taken else test
        node = ast.If(cond, [ast.Return(ast.Constant(False))], [])
        self.out.append(node)
        self.guards.append((node, test, taken, versions))

    def for_loop(self, s: ast.For) -> str | None:
        n = self.record(s)
        node, val = self.ev(s.iter)
        if isinstance(val, SymList):
            if len(val.items) != n:
                raise Unspecializable(f"line {s.lineno}: the list length differs from the record")
            items: list[Operand | ast.expr] = list(val.items)
        elif isinstance(val, (SymTuple,)):
            items = list(val.items)
        else:
            it = self.tmp()
            self.out.append(_assign(it, node))
            call = ast.Call(ast.Name("len", ast.Load()), [ast.Name(it, ast.Load())], [])
            self.guard(ast.Compare(call, [ast.Eq()], [ast.Constant(n)]), True)
            items = [
                ast.Subscript(ast.Name(it, ast.Load()), ast.Constant(i), ast.Load())
                for i in range(n)
            ]
        for item in items:
            if isinstance(item, ast.expr):
                self.store_expr(s.target, item)
            else:
                self.store_operand(s.target, item)
            sig = self.block(s.body)
            if sig == "break":
                break
        return None

    def assign(self, s: ast.Assign) -> None:
        for t in s.targets:
            if not isinstance(t, (ast.Name, ast.Tuple)):
                if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name):
                    self.defer_attr_store(t, s.value, None)
                    continue
                raise Unspecializable(f"line {s.lineno}: assignment to {ast.unparse(t)}")
        targets = [t for t in s.targets if not isinstance(t, ast.Attribute)]
        if not targets:
            return
        if (
            isinstance(s.value, ast.List)
            and not s.value.elts
            and len(targets) == 1
            and isinstance(targets[0], ast.Name)
        ):
            self.bind(targets[0].id, SymList())
            return
        if len(targets) == 1:
            self.store_expr(targets[0], s.value)
            return
        # a = b = <value>: evaluate once, then bind every target to the same value
        op = self.capture(s.value)
        for t in targets:
            self.store_operand(t, op)

    def aug_assign(self, s: ast.AugAssign) -> None:
        if isinstance(s.target, ast.Name):
            load = ast.Name(s.target.id, ast.Load())
            self.store_expr(s.target, ast.BinOp(load, s.op, s.value))
        elif isinstance(s.target, ast.Attribute) and isinstance(s.target.value, ast.Name):
            self.defer_attr_store(s.target, s.value, s.op)
        else:
            raise Unspecializable(
                f"line {s.lineno}: augmented assignment to {ast.unparse(s.target)}"
            )

    def expr_stmt(self, s: ast.Expr) -> None:
        call = s.value
        if not isinstance(call, ast.Call) or call.keywords:
            raise Unspecializable(f"line {s.lineno}: expression statement")
        func = call.func
        if (
            isinstance(func, ast.Attribute)
            and func.attr == "append"
            and isinstance(func.value, ast.Name)
            and len(call.args) == 1
        ):
            lst = self.env.get(func.value.id)
            if isinstance(lst, SymList):
                lst.items.append(self.capture(call.args[0]))
                return
        if _method_of(_DEFERRED_METHODS, func) or (
            isinstance(func, ast.Name) and func.id in _DEFERRED_FUNCS
        ):
            ops = [self.capture(a) for a in call.args]
            counter = (
                self.ns.get(func.value.id)
                if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)
                else None
            )
            if (
                isinstance(counter, CounterArray)
                and isinstance(func, ast.Attribute)
                and isinstance(func.value, ast.Name)
                and func.attr == "count"
                and len(ops) == 2
            ):
                name, size = func.value.id, counter.size

                def count() -> ast.stmt:
                    index, nbytes = ops
                    return _count_inline(
                        name, size, self.materialize(index), self.materialize(nbytes)
                    )

                self.deferred.append(count)
                return

            def effect() -> ast.stmt:
                return ast.Expr(ast.Call(func, [self.materialize(o) for o in ops], []))

            self.deferred.append(effect)
            return
        raise Unspecializable(f"line {s.lineno}: call {ast.unparse(func)} as a statement")

    def defer_attr_store(self, t: ast.Attribute, value: ast.expr, op: ast.operator | None) -> None:
        obj = self.capture(t.value)
        val = self.capture(value)

        def make() -> ast.stmt:
            target = ast.Attribute(self.materialize(obj), t.attr, ast.Store())
            if op is None:
                return ast.Assign([target], self.materialize(val))
            return ast.AugAssign(target, op, self.materialize(val))

        self.deferred.append(make)

    # -- binding ------------------------------------------------------------------------------
    def bump(self, name: str) -> None:
        if name not in self.locals:
            raise Unspecializable(f"assignment to non-local {name}")
        self.ver[name] = self.ver.get(name, 0) + 1

    def bind(self, name: str, op: Operand) -> None:
        if isinstance(op, Ref) and op.name == name and op.ver == self.ver.get(name, 0):
            return  # x = x: the variable already holds the value
        self.bump(name)
        self.env[name] = op

    def store_operand(self, target: ast.expr, op: Operand) -> None:
        if isinstance(target, ast.Name):
            self.bind(target.id, op)
            return
        if not isinstance(target, ast.Tuple):
            raise Unspecializable(f"store to {ast.unparse(target)}")
        if isinstance(op, Const) and isinstance(op.value, tuple):
            items: list[Operand] = [Const(v) for v in op.value]
        elif isinstance(op, SymTuple):
            items = op.items
        else:
            node = self.materialize(op)
            self.store_expr(target, node)
            return
        if len(items) != len(target.elts):
            raise Unspecializable("tuple unpacking of the wrong length")
        for t, v in zip(target.elts, items):
            self.store_operand(t, v)

    def store_expr(self, target: ast.expr, value: ast.expr) -> None:
        if isinstance(target, ast.Tuple):
            if isinstance(value, ast.Tuple):
                self.store_operand(target, self.capture(value))
                return
            node, val = self.ev(value)
            if val is not None:
                self.store_operand(target, val)
                return
            names = []
            for t in target.elts:
                if not isinstance(t, ast.Name):
                    raise Unspecializable(f"store to {ast.unparse(t)}")
                names.append(t.id)
            self.out.append(
                ast.Assign(
                    [ast.Tuple([ast.Name(n, ast.Store()) for n in names], ast.Store())], node
                )
            )
            for n in names:
                self.bump(n)
                self.env.pop(n, None)
            return
        if not isinstance(target, ast.Name):
            raise Unspecializable(f"store to {ast.unparse(target)}")
        name = target.id
        if isinstance(value, ast.Tuple):
            self.bind(name, self.capture(value))
            return
        node, val = self.ev(value)
        if val is not None:
            self.bind(name, val)
        elif isinstance(node, ast.Name) and node.id in self.locals:
            self.bind(name, self.ref(node.id))
        elif isinstance(node, ast.Name) and _is_tmp(node.id):
            self.bind(name, Tmp(node.id))
        else:
            key = _cse_key(node, self.ver)
            held = self.computed.get(key) if key is not None else None
            if held is not None and held[0] != name and self.ver.get(held[0], 0) == held[1]:
                # the same expression over the same values is already in a variable
                self.bind(name, self.ref(held[0]))
                return
            self.out.append(_assign(name, node))
            self.bump(name)
            self.env.pop(name, None)
            if key is not None and name not in _loads(node):
                self.computed[key] = (name, self.ver[name])

    def tmp(self) -> str:
        self.ntmp += 1
        return f"{TMP_PREFIX}{self.ntmp}"

    def ref(self, name: str) -> Ref:
        ver = self.ver.get(name, 0)
        ph = self.placeholders.get((name, ver))
        if ph is None:  # one placeholder per value: every later copy of it shares the temp
            ph = self.placeholders[(name, ver)] = Placeholder(self.tmp(), name)
            self.out.append(ph)
        return Ref(name, ver, ph)

    def capture(self, node: ast.expr) -> Operand:
        """The value of ``node`` now, kept for later use (a symbolic container, a deferred
        effect)."""
        if isinstance(node, ast.Tuple):
            return SymTuple([self.capture(e) for e in node.elts])
        if isinstance(node, ast.IfExp):
            _, tv = self.ev(node.test)
            if tv is not None:
                return self.capture(node.body if self.truth(tv) else node.orelse)
        a, val = self.ev(node)
        if val is not None:
            return val
        if isinstance(a, ast.Name):
            if _is_tmp(a.id):
                return Tmp(a.id)
            if a.id in self.locals:
                return self.ref(a.id)
            return Tmp(a.id)  # a global binding (an extern object): never reassigned
        t = self.tmp()
        self.out.append(_assign(t, a))
        return Tmp(t)

    def materialize(self, op: Operand) -> ast.expr:
        if isinstance(op, Const):
            return ast.Constant(op.value)
        if isinstance(op, Tmp):
            return ast.Name(op.name, ast.Load())
        if isinstance(op, Ref):
            if self.ver.get(op.name, 0) == op.ver:
                return ast.Name(op.name, ast.Load())
            op.ph.needed = True
            return ast.Name(op.ph.temp, ast.Load())
        if isinstance(op, SymTuple):
            return ast.Tuple([self.materialize(i) for i in op.items], ast.Load())
        raise Unspecializable("a local list is used as a value")

    @staticmethod
    def truth(op: Operand) -> bool:
        if isinstance(op, Const):
            return bool(op.value)
        if isinstance(op, (SymTuple, SymList)):
            return bool(op.items)
        raise Unspecializable("truth of an unknown value")

    # -- expressions --------------------------------------------------------------------------
    def ev(self, n: ast.expr) -> tuple[ast.expr, Operand | None]:
        """The expression rewritten for this point of the path, and its value when known."""
        if isinstance(n, ast.Constant):
            return n, Const(n.value)
        if isinstance(n, ast.Name):
            return self.load(n.id)
        if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Add):
            return self.sum(n)
        if isinstance(n, ast.BinOp):
            (lhs, lv), (rhs, rv) = self.ev(n.left), self.ev(n.right)
            if isinstance(lv, Const) and isinstance(rv, Const):
                folded = _fold(
                    _BINOPS.get(type(n.op)),
                    lv.value,
                    rv.value,
                    shift=isinstance(n.op, (ast.LShift, ast.Pow)),
                )
                if folded is not None:
                    return ast.Constant(folded.value), folded
            return ast.BinOp(lhs, n.op, rhs), None
        if isinstance(n, ast.UnaryOp):
            o, ov = self.ev(n.operand)
            if isinstance(n.op, ast.Not) and isinstance(ov, (SymTuple, SymList)):
                return ast.Constant(not ov.items), Const(not ov.items)
            if isinstance(ov, Const):
                folded = _fold1(_UNOPS[type(n.op)], ov.value)
                if folded is not None:
                    return ast.Constant(folded.value), folded
            return ast.UnaryOp(n.op, o), None
        if isinstance(n, ast.BoolOp):
            return self.bool_op(n)
        if isinstance(n, ast.Compare):
            return self.compare(n)
        if isinstance(n, ast.IfExp):
            t, tv = self.ev(n.test)
            if tv is not None:
                return self.ev(n.body if self.truth(tv) else n.orelse)
            (b, _), (e, _) = self.ev(n.body), self.ev(n.orelse)
            return ast.IfExp(t, b, e), None
        if isinstance(n, ast.Call):
            return self.call(n)
        if isinstance(n, ast.Attribute):
            v, vv = self.ev(n.value)
            if vv is not None and not isinstance(vv, Const):
                raise Unspecializable(f"attribute {n.attr} of a symbolic value")
            return ast.Attribute(v, n.attr, ast.Load()), None
        if isinstance(n, ast.Subscript):
            v, vv = self.ev(n.value)
            s, sv = self.ev(n.slice)
            if isinstance(sv, Const) and isinstance(sv.value, int) and isinstance(vv, SymTuple):
                item = vv.items[sv.value]
                return self.materialize(item), (item if isinstance(item, Const) else None)
            if isinstance(vv, SymList):
                raise Unspecializable("a local list is indexed")
            if isinstance(vv, Const) and isinstance(sv, Const):
                try:
                    folded = vv.value[sv.value]
                except Exception:  # noqa: BLE001 - leave it to run time
                    return ast.Subscript(v, s, ast.Load()), None
                return ast.Constant(folded), Const(folded)
            return ast.Subscript(v, s, ast.Load()), None
        if isinstance(n, ast.Slice):
            parts = [None if p is None else self.ev(p)[0] for p in (n.lower, n.upper, n.step)]
            return ast.Slice(*parts), None
        if isinstance(n, ast.Tuple):
            elts = [self.ev(e) for e in n.elts]
            consts = [v for _, v in elts if isinstance(v, Const)]
            if len(consts) == len(elts):
                value = tuple(c.value for c in consts)
                return ast.Constant(value), Const(value)  # type: ignore[arg-type]  # compile() takes tuple constants; typeshed omits them
            return ast.Tuple([e for e, _ in elts], ast.Load()), None
        raise Unspecializable(f"line {getattr(n, 'lineno', '?')}: {type(n).__name__} expression")

    def sum(self, n: ast.BinOp) -> tuple[ast.expr, Operand | None]:
        """A chain of ``+``: its constant terms added at build time when one of them is an
        int (then every term is a number, or the generic code would raise, which it never
        does; and adding ints is exact, associative and commutative)."""
        terms: list[ast.expr] = []

        def flatten(x: ast.expr) -> None:
            if isinstance(x, ast.BinOp) and isinstance(x.op, ast.Add):
                flatten(x.left)
                flatten(x.right)
            else:
                terms.append(x)

        flatten(n)
        done = [self.ev(t) for t in terms]
        consts = [v.value for _, v in done if isinstance(v, Const)]
        if not any(type(c) is int for c in consts) or not all(
            type(c) in (int, bool) for c in consts
        ):
            left = done[0][0]
            lv = done[0][1]
            for node, v in done[1:]:
                if isinstance(lv, Const) and isinstance(v, Const):
                    folded = _fold(operator.add, lv.value, v.value, shift=False)
                    if folded is not None:
                        left, lv = ast.Constant(folded.value), folded
                        continue
                left, lv = ast.BinOp(left, ast.Add(), node), None
            return left, lv
        total = sum(consts)
        rest = [node for node, v in done if not isinstance(v, Const)]
        if not rest:
            return ast.Constant(total), Const(total)
        expr = rest[0]
        for node in rest[1:]:
            expr = ast.BinOp(expr, ast.Add(), node)
        lone_int = (
            len(rest) == 1
            and isinstance(rest[0], ast.BinOp)
            and not isinstance(rest[0].op, (ast.BitAnd, ast.BitOr, ast.BitXor))
        )
        if total or (len(rest) == 1 and not lone_int):  # x + 0 makes a bool x an int
            expr = ast.BinOp(expr, ast.Add(), ast.Constant(total))
        return expr, None

    def load(self, name: str) -> tuple[ast.expr, Operand | None]:
        op = self.env.get(name)
        if op is None:
            if name not in self.locals and not _is_tmp(name) and name in self.ns:
                value = self.ns.get(name)
                if _is_constant(value):
                    return ast.Constant(value), Const(value)
            return ast.Name(name, ast.Load()), None
        if isinstance(op, Const):
            return ast.Constant(op.value), op
        if isinstance(op, (SymTuple, SymList)):
            return (
                self.materialize(op) if isinstance(op, SymTuple) else ast.Name(name, ast.Load())
            ), op
        return self.materialize(op), None

    def bool_op(self, n: ast.BoolOp) -> tuple[ast.expr, Operand | None]:
        is_and = isinstance(n.op, ast.And)
        kept: list[tuple[ast.expr, Operand | None]] = []
        for i, v in enumerate(n.values):
            a, c = self.ev(v)
            last = i == len(n.values) - 1
            if isinstance(c, Const):
                decisive = (not c.value) if is_and else bool(c.value)
                if decisive or last:
                    kept.append((a, c))
                    break
                continue
            kept.append((a, None))
        if len(kept) == 1:
            return kept[0]
        return ast.BoolOp(n.op, [a for a, _ in kept]), None

    def compare(self, n: ast.Compare) -> tuple[ast.expr, Operand | None]:
        left, lv = self.ev(n.left)
        rights = [self.ev(c) for c in n.comparators]
        if len(n.ops) == 1 and isinstance(n.ops[0], (ast.Is, ast.IsNot)):
            rv = rights[0][1]
            # a symbolic tuple or list is never None
            for a, b in ((lv, rv), (rv, lv)):
                if isinstance(a, (SymTuple, SymList)) and isinstance(b, Const) and b.value is None:
                    res = isinstance(n.ops[0], ast.IsNot)
                    return ast.Constant(res), Const(res)
        consts = [v.value for _, v in rights if isinstance(v, Const)]
        if (
            isinstance(lv, Const)
            and len(consts) == len(rights)
            and all(type(op) in _CMPOPS for op in n.ops)
        ):
            ok = _fold_compare(n.ops, lv.value, consts)
            if ok is not None:
                return ast.Constant(ok), Const(ok)
        return ast.Compare(left, n.ops, [a for a, _ in rights]), None

    def call(self, n: ast.Call) -> tuple[ast.expr, Operand | None]:
        if n.keywords:
            raise Unspecializable("call with keywords")
        func = n.func
        if isinstance(func, ast.Name):
            name = func.id
            if name == "len" and len(n.args) == 1:
                _a, av = self.ev(n.args[0])
                if isinstance(av, (SymTuple, SymList)):
                    return ast.Constant(len(av.items)), Const(len(av.items))
            pure = name in _PURE_FUNCS or _numbered(name, *_PURE_PREFIXES)
            if not pure or name in self.locals:
                raise Unspecializable(f"call of {name}")
            args = [self.ev(a) for a in n.args]
            if (
                name == "_csum16_int"
                and len(args) == 1
                and args[0][1] is None
                and self.ns.get(name) is csum16_of_int
            ):
                return self.csum16_inline(args[0][0]), None
            foldable = name in _FOLDABLE or _numbered(name, *_FOLDABLE_PREFIXES)
            consts = [v.value for _, v in args if isinstance(v, Const)]
            if foldable and len(consts) == len(args):
                try:
                    value = self.ns[name](*consts)
                except Exception:  # noqa: BLE001 - leave the failure to run time
                    value = None
                if _is_constant(value):
                    return ast.Constant(value), Const(value)
            return ast.Call(func, [a for a, _ in args], []), None
        if isinstance(func, ast.Attribute):
            if (
                isinstance(func.value, ast.Constant)
                and func.value.value == b""
                and func.attr == "join"
                and len(n.args) == 1
            ):
                return self.join(n.args[0])
            if not _method_of(_READ_METHODS, func):
                raise Unspecializable(f"call of {ast.unparse(func)}")
            arg_nodes = [self.ev(a)[0] for a in n.args]
            return ast.Call(func, arg_nodes, []), None
        raise Unspecializable(f"call of {ast.unparse(func)}")

    def csum16_inline(self, value: ast.expr) -> ast.expr:
        """algorithms.csum16_of_int written out (its call costs more than its body):
        ``(v % 0xFFFF or (v and 0xFFFF)) ^ 0xFFFF``."""
        if not isinstance(value, (ast.Name, ast.Constant)):
            t = self.tmp()
            self.out.append(_assign(t, value))
            value = ast.Name(t, ast.Load())
        mod = ast.BinOp(value, ast.Mod(), ast.Constant(0xFFFF))
        nonzero = ast.BoolOp(ast.And(), [value, ast.Constant(0xFFFF)])
        return ast.BinOp(ast.BoolOp(ast.Or(), [mod, nonzero]), ast.BitXor(), ast.Constant(0xFFFF))

    def join(self, arg: ast.expr) -> tuple[ast.expr, Operand | None]:
        a, av = self.ev(arg)
        if not isinstance(av, (SymList, SymTuple)):
            return ast.Call(ast.Attribute(ast.Constant(b""), "join", ast.Load()), [a], []), None
        parts: list[ast.expr] = []
        for item in av.items:
            node = self.materialize(item)
            prev = parts[-1] if parts else None
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, bytes)
                and isinstance(prev, ast.Constant)
                and isinstance(prev.value, bytes)
            ):
                parts[-1] = ast.Constant(prev.value + node.value)
            else:
                parts.append(node)
        if not parts:
            return ast.Constant(b""), Const(b"")
        if len(parts) == 1:
            only = parts[0]
            return only, (Const(only.value) if isinstance(only, ast.Constant) else None)
        return ast.Call(
            ast.Attribute(ast.Constant(b""), "join", ast.Load()), [ast.Tuple(parts, ast.Load())], []
        ), None


def _is_constant(value: Any) -> bool:
    if value is None or isinstance(value, (bool, int, bytes)):
        return True
    if isinstance(value, tuple):
        return all(_is_constant(v) for v in value)
    return False


def _fold(f: Callable[[Any, Any], Any] | None, a: Any, b: Any, *, shift: bool) -> Const | None:
    if f is None or not (_is_constant(a) and _is_constant(b)):
        return None
    if shift and isinstance(b, int) and b > _MAX_SHIFT:
        return None
    try:
        return Const(f(a, b))
    except Exception:  # noqa: BLE001 - e.g. x % 0: the run time raises as the generic code would
        return None


def _fold_compare(ops: list[ast.cmpop], first: Any, rest: list[Any]) -> bool | None:
    """``first op0 rest[0] op1 rest[1] ...`` as Python chains it, or None if it raises."""
    try:
        cur = first
        for op, nxt in zip(ops, rest):
            if not _CMPOPS[type(op)](cur, nxt):
                return False
            cur = nxt
    except Exception:  # noqa: BLE001 - leave it to run time
        return None
    return True


def _fold1(f: Callable[[Any], Any], a: Any) -> Const | None:
    try:
        return Const(f(a))
    except Exception:  # noqa: BLE001 - e.g. ~None: the run time raises as the generic code would
        return None


def _simple_compare(term: ast.expr) -> TypeGuard[ast.Compare]:
    return isinstance(term, ast.Compare) and all(
        isinstance(x, (ast.Name, ast.Constant)) for x in [term.left, *term.comparators]
    )


def _is_memo_fill(s: ast.If) -> bool:
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
        and _numbered(a.value.func.id, "_hm")
    )


def _count_inline(name: str, size: int, index: ast.expr, nbytes: ast.expr) -> ast.stmt:
    """CounterArray.count written out: the method call costs more than its body. The cell
    lists are read through the object each time (a pipeline reconfiguration replaces them)."""
    obj = ast.Name(name, ast.Load())
    body: list[ast.stmt] = [
        ast.AugAssign(
            ast.Subscript(ast.Attribute(obj, "packets", ast.Load()), index, ast.Store()),
            ast.Add(),
            ast.Constant(1),
        ),
        ast.AugAssign(
            ast.Subscript(ast.Attribute(obj, "bytes", ast.Load()), index, ast.Store()),
            ast.Add(),
            nbytes,
        ),
    ]
    if isinstance(index, ast.Constant) and isinstance(index.value, int) and 0 <= index.value < size:
        return ast.If(ast.Constant(True), body, [])
    bound = ast.Compare(ast.Constant(0), [ast.LtE(), ast.Lt()], [index, ast.Constant(size)])
    return ast.If(bound, body, [])


def _assign(name: str, value: ast.expr) -> ast.Assign:
    return ast.Assign([ast.Name(name, ast.Store())], value)


_INVERSE: dict[type, type] = {
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
    ast.Lt: ast.GtE,
    ast.GtE: ast.Lt,
    ast.Gt: ast.LtE,
    ast.LtE: ast.Gt,
}


def _as_test(node: ast.expr) -> ast.expr:
    """``node`` where only its truth matters: constants that cannot decide an and/or dropped
    (``x and True`` is as true as ``x``)."""
    if isinstance(node, ast.BoolOp):
        keep_if = isinstance(node.op, ast.Or)
        values = [_as_test(v) for v in node.values]
        values = [
            v for v in values if not (isinstance(v, ast.Constant) and bool(v.value) != keep_if)
        ]
        if not values:
            return ast.Constant(not keep_if)
        return values[0] if len(values) == 1 else ast.BoolOp(node.op, values)
    return node


def _negation(test: ast.expr) -> ast.expr | None:
    """A test true exactly when ``test`` is false, if one is simply written."""
    if isinstance(test, ast.Compare) and len(test.ops) == 1:
        return (
            ast.Compare(test.left, [_INVERSE[type(test.ops[0])]()], test.comparators)
            if type(test.ops[0]) in _INVERSE
            else None
        )
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return test.operand
    return None


def _cse_key(node: ast.expr, ver: dict[str, int]) -> str | None:
    """What identifies the value of a pure expression: its text and the versions of the
    variables it reads (None for a lone name or constant, or a call: those are not shared)."""
    if isinstance(node, (ast.Name, ast.Constant)) or any(
        isinstance(n, ast.Call) for n in ast.walk(node)
    ):
        return None
    names = sorted(_loads(node))
    return ast.dump(node) + repr([(n, ver.get(n, 0)) for n in names])


def _number_statements(body: list[ast.stmt]) -> None:
    """Give every statement a line (ast.unparse reads Assign.lineno); expressions need none,
    and fix_missing_locations over every node cost a tenth of a build."""
    for s in body:
        s.lineno = s.end_lineno = 1
        s.col_offset = s.end_col_offset = 0
        if isinstance(s, ast.If):
            _number_statements(s.body)
            _number_statements(s.orelse)


def _loads(node: ast.AST) -> set[str]:
    """The names ``node`` reads (a hand-written walk: ast.walk made this a third of the time
    it takes to build a path)."""
    out: set[str] = set()
    stack: list[Any] = [node]
    pop, push = stack.pop, stack.append
    while stack:
        n = pop()
        t = type(n)
        if t is ast.Name:
            if type(n.ctx) is ast.Load:
                out.add(n.id)
        elif t is ast.Constant:
            continue
        elif t is ast.BinOp:
            push(n.left)
            push(n.right)
        elif t is ast.Compare:
            push(n.left)
            stack.extend(n.comparators)
        elif t is ast.BoolOp:
            stack.extend(n.values)
        elif t is ast.UnaryOp:
            push(n.operand)
        elif t is ast.Call:
            push(n.func)
            stack.extend(n.args)
        elif t is ast.Attribute:
            push(n.value)
        elif t is ast.Subscript:
            push(n.value)
            push(n.slice)
        elif t is ast.Tuple or t is ast.List:
            stack.extend(n.elts)
        else:
            stack.extend(ast.iter_child_nodes(n))
    return out


def _dead_code(body: list[ast.stmt], tail: list[ast.stmt]) -> list[ast.stmt]:
    """Drop the assignments nothing after them reads (every right-hand side left on a path
    is free of effects: calls with effects are deferred into ``tail`` or refused)."""
    live: set[str] = set()
    for s in tail:
        live |= _loads(s)
    kept: list[ast.stmt] = []
    for s in reversed(body):
        if isinstance(s, ast.If) and isinstance(s.test, ast.Constant) and not s.test.value:
            continue  # a guard that can never leave the path
        if isinstance(s, ast.Assign):
            targets: set[str] = set()
            for t in s.targets:
                targets |= {n.id for n in ast.walk(t) if isinstance(n, ast.Name)}
            if not targets & live:
                continue
            live -= targets
            live |= _loads(s.value)
        else:
            live |= _loads(s)
        kept.append(s)
    kept.reverse()
    return kept
