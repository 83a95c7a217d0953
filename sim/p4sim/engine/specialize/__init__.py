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

One module per job: ``statements`` (the walk along the record), ``guards``, ``binding``
(values of the function's variables), ``expressions`` (rewriting and folding), over
``base`` (the walk's state), ``values`` (symbolic values, folding), ``names`` (what the
generated code's names mean) and ``syntax`` (AST helpers, liveness).
"""

from __future__ import annotations

import ast

from .binding import BindingSpecializer
from .expressions import ExpressionSpecializer
from .guards import GuardSpecializer
from .names import TMP_PREFIX
from .statements import StatementSpecializer
from .syntax import (
    _assign,
    _dead_code,
    _number_statements,
    number_branches,
    specializable,
    stored_names,
)
from .values import Placeholder, Unspecializable

__all__ = [
    "TMP_PREFIX",
    "Specializer",
    "Unspecializable",
    "number_branches",
    "specializable",
    "stored_names",
]


class Specializer(
    StatementSpecializer, GuardSpecializer, BindingSpecializer, ExpressionSpecializer
):
    """One walk of ``fn`` along ``records`` ((branch id, outcome) in execution order: a bool
    per ``if``, the iteration count per ``for``); ``build`` returns the new function's AST."""

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
