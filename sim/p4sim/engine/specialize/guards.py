"""Guards: a condition that does not fold leaves the path unless it comes out as
recorded; guards settled by others are narrowed or dropped."""

from __future__ import annotations

import ast
from typing import Any, TypeGuard

from .base import SpecializerBase
from .syntax import _loads


class GuardSpecializer(SpecializerBase):
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


def _simple_compare(term: ast.expr) -> TypeGuard[ast.Compare]:
    return isinstance(term, ast.Compare) and all(
        isinstance(x, (ast.Name, ast.Constant)) for x in [term.left, *term.comparators]
    )


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
