"""Values bound to the function's variables: versions, copies made only when a stale
value is read, temporaries, and the materialisation of symbolic values."""

from __future__ import annotations

import ast

from .base import SpecializerBase
from .names import TMP_PREFIX, _is_tmp
from .syntax import _assign, _cse_key, _loads
from .values import Const, Operand, Placeholder, Ref, SymList, SymTuple, Tmp, Unspecializable


class BindingSpecializer(SpecializerBase):
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
