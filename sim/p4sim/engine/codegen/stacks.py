"""Header stacks beyond constant indices: `stack.next` (extract), `stack.last`,
`stack.lastIndex`, and push_front/pop_front. The next index of a stack is a storage slot
of its own (``$next`` under the stack's path); an element chosen by it at run time is
reached through a chain of ``if``s over the constant indices (stacks are small)."""

from __future__ import annotations

from ...frontend import ir as I
from ..errors import EngineError
from ..storage import NEXT, VALID, Path
from .base import STACK_OUT_OF_BOUNDS, CodeGenBase, Env, _loc


class StackGen(CodeGenBase):
    def _stack(self, e: I.Expr, env: Env) -> tuple[Path, I.HeaderStackType]:
        t = e.type
        path = self.path_of(e, env)
        if path is None or not isinstance(t, I.HeaderStackType):
            raise EngineError(f"{_loc(e)}: not a header stack instance")
        return path, t

    def _out_of_bounds(self) -> None:
        """Stop parsing with error.StackOutOfBounds (p4c and bmv2 do, in a parser)."""
        if self.poff is not None:
            self.em.line(f"_o = {self.poff}")
        self.em.line(f"_perr = {self.error_code(STACK_OUT_OF_BOUNDS)}")
        self.em.line("break")

    def extract_next(self, s: I.Extract, env: Env) -> None:
        """`pkt.extract(stack.next)`: into the element at the next index, which advances."""
        assert isinstance(s.header, I.StackNext)
        path, t = self._stack(s.header.base, env)
        nxt = self.st.name(path + (NEXT,))
        with self.em.block(f"if {nxt} >= {t.size}:"):
            self._out_of_bounds()
        start = self.poff
        end = start
        for i in range(t.size):
            self.poff = start
            elem = I.StackIndex(t.element, s.loc, s.header.base, i)
            with self.em.block(f"{'if' if i == 0 else 'elif'} {nxt} == {i}:"):
                self.extract_into(I.Extract(s.loc, elem, s.varbit_bits), env)
            end = self.poff
        self.poff = end
        self.em.line(f"{nxt} += 1")

    def last_element(self, e: I.StackLast, env: Env) -> tuple[Path, str]:
        """The stack of `stack.last` and a temporary holding the element's index (parsing
        stops with StackOutOfBounds when nothing was extracted into the stack)."""
        path, _t = self._stack(e.base, env)
        idx = self.tmp("li")
        self.em.line(f"{idx} = {self.st.name(path + (NEXT,))} - 1")
        with self.em.block(f"if {idx} < 0:"):
            self._out_of_bounds()
        return path, idx

    def last_read(self, e: I.StackLast, rel: tuple[str, ...], env: Env) -> str:
        """A field (rel = (name,)) or the validity (rel = (VALID,)) of `stack.last`."""
        path, idx = self.last_element(e, env)
        t = e.base.type
        assert isinstance(t, I.HeaderStackType)
        names = [self.st.name(path + (str(i),) + rel) for i in range(t.size)]
        return f"({', '.join(names)},)[{idx}]"

    def ex_StackLastIndex(self, e: I.StackLastIndex, env: Env) -> str:
        path, _t = self._stack(e.base, env)
        return f"(({self.st.name(path + (NEXT,))} - 1) & 0xFFFFFFFF)"

    def st_StackShift(self, s: I.StackShift, env: Env) -> None:
        """push_front / pop_front: whole elements move (fields, validity, varbit lengths);
        the ones left behind become invalid; the next index follows, within [0, size]."""
        path, t = self._stack(s.stack, env)
        n, size = s.count, t.size
        elems = [list(self.st.leaves(path + (str(i),))) for i in range(size)]
        if s.push:
            moves = [(i, i - n) for i in range(size - 1, n - 1, -1)]
            cleared = range(min(n, size))
        else:
            moves = [(i, i + n) for i in range(size - n)]
            cleared = range(max(size - n, 0), size)
        for dst, src in moves:
            names = [x.name for x in elems[dst]]
            self.em.line(f"{', '.join(names)} = {', '.join(x.name for x in elems[src])}")
        for i in cleared:
            self.em.line(f"{self.st.name(path + (str(i), VALID))} = False")
        nxt = self.st.name(path + (NEXT,))
        if s.push:
            self.em.line(f"{nxt} = min({nxt} + {n}, {size})")
        else:
            self.em.line(f"{nxt} = max({nxt} - {n}, 0)")
