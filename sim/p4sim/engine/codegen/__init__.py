"""Python source for P4 expressions, statements, tables, parsers and controls.

Everything is inlined into the straight-line body of one packet function: controls,
actions and tables are expanded at their call sites, every P4 scalar is a Python local
(see :mod:`p4sim.engine.storage`) holding a plain non-negative int masked to its width
(bool values are Python bools), and every expression the generator writes yields an
already-masked int. Nothing is interpreted per packet: :class:`CodeGen` only produces
text, which :mod:`p4sim.engine.v1model` wraps into functions and ``compile()``s once.

Runtime objects the code needs (tables, counters, helpers) are *bindings*: names in the
generated module's globals, registered with :meth:`CodeGen.bind`.

One module per construct: ``expressions``, ``statements``, ``externs``, ``packing`` (hash
and checksum data lists), ``tables``, ``controls`` (inlining of actions and controls, with
``aliasing``: what an action body reaches besides its parameters), ``functions`` (inlining
of P4 functions), ``stacks`` (header stack operations), over ``base`` (the emitter, scope bindings and the generator's state).
The parser and deparser statements and the packet function are :mod:`p4sim.engine.v1model`'s.
"""

from __future__ import annotations

from .base import (
    EGRESS_CLONE,
    HEADER_TOO_SHORT,
    INGRESS_CLONE,
    NO_MATCH,
    NORMAL,
    PACKET_TOO_SHORT,
    PARSER_INVALID_ARGUMENT,
    REPLICATION,
    Binding,
    Emitter,
    Env,
    _loc,
    mask,
)
from .controls import ControlGen
from .expressions import ExpressionGen
from .externs import ExternGen
from .functions import FunctionGen
from .packing import PackingGen
from .stacks import StackGen
from .statements import StatementGen
from .tables import TableGen

__all__ = [
    "EGRESS_CLONE",
    "HEADER_TOO_SHORT",
    "INGRESS_CLONE",
    "NORMAL",
    "NO_MATCH",
    "PACKET_TOO_SHORT",
    "PARSER_INVALID_ARGUMENT",
    "REPLICATION",
    "Binding",
    "CodeGen",
    "Emitter",
    "Env",
    "_loc",
    "mask",
]


class CodeGen(
    ExpressionGen,
    StatementGen,
    ExternGen,
    PackingGen,
    TableGen,
    ControlGen,
    FunctionGen,
    StackGen,
):
    """Generates code for one program against one RuntimeState (tables bound by name)."""
