"""What a call in the generated code does to the switch, recorded where the callee is bound.

The path specialiser (``p4sim.engine.specialize``) may keep a call in a specialised path
only if it knows what the call does: a pure helper can stay (and, with constant arguments,
be folded), a method that only reads switch state can stay, an effect whose result the
packet does not use is deferred to the path's end, anything else keeps the generic function.
The code generator knows each callee when it binds it, so it records a :class:`CallKind` for
the name then (``CodeGen.calls``, the pipeline's helpers in ``pipeline.HELPER_CALLS``); the
specialiser only reads those records (bound name -> kind), never a callee's name.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CallKind:
    """How the specialiser may treat calls of one name of the generated code's globals.

    ``pure``: ``name(...)`` reads but never changes switch state; ``foldable``: with
    constant arguments it may be called while specialising; ``memo_fill``: it fills a memo
    (``if v is None: v = name(...)``, kept as it is so hit and miss share a path);
    ``deferred``: ``name(...)`` is an effect that returns nothing the packet uses.  ``reads``:
    the methods of the named object that only read switch state; ``defers``: those that
    are effects returning nothing the packet uses.
    """

    pure: bool = False
    foldable: bool = False
    memo_fill: bool = False
    deferred: bool = False
    reads: frozenset[str] = frozenset()
    defers: frozenset[str] = frozenset()


#: a name none of whose calls the specialiser may keep (the default)
OPAQUE = CallKind()
PURE = CallKind(pure=True)
FOLDABLE = CallKind(pure=True, foldable=True)
DEFERRED = CallKind(deferred=True)


def reads(*methods: str) -> CallKind:
    """An object whose ``methods`` only read switch state."""
    return CallKind(reads=frozenset(methods))


def defers(*methods: str) -> CallKind:
    """An object whose ``methods`` are effects returning nothing the packet uses."""
    return CallKind(defers=frozenset(methods))


#: Python's builtins the generated code calls (nobody binds them)
BUILTIN_CALLS: dict[str, CallKind] = {
    "len": FOLDABLE,
    "int": CallKind(pure=True, reads=frozenset({"from_bytes"})),
    "bool": PURE,
    "min": PURE,
    "max": PURE,
    "abs": PURE,
}
