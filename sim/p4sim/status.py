"""Errors the P4Runtime service reports, carrying a google.rpc canonical code.

Outside :mod:`p4sim.server` because the switch raises them too (a pipeline config that does
not verify, a PacketOut with no CPU port): the server imports the switch, so the switch must
not import the server package.  :mod:`p4sim.server.errors` re-exports every name.
"""

from __future__ import annotations

from finsy.proto import rpc_code

OK = rpc_code.OK
CANCELLED = rpc_code.CANCELLED
UNKNOWN = rpc_code.UNKNOWN
INVALID_ARGUMENT = rpc_code.INVALID_ARGUMENT
NOT_FOUND = rpc_code.NOT_FOUND
ALREADY_EXISTS = rpc_code.ALREADY_EXISTS
PERMISSION_DENIED = rpc_code.PERMISSION_DENIED
RESOURCE_EXHAUSTED = rpc_code.RESOURCE_EXHAUSTED
FAILED_PRECONDITION = rpc_code.FAILED_PRECONDITION
ABORTED = rpc_code.ABORTED
OUT_OF_RANGE = rpc_code.OUT_OF_RANGE
UNIMPLEMENTED = rpc_code.UNIMPLEMENTED
INTERNAL = rpc_code.INTERNAL
UNAVAILABLE = rpc_code.UNAVAILABLE

#: the ``space`` of the p4.v1.Error messages this server reports
ERROR_SPACE = "p4sim"


class P4RuntimeError(Exception):
    """One failed operation: ``code`` is a google.rpc code, ``message`` says what and where."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return f"{rpc_code.Code.Name(rpc_code.Code.ValueType(self.code))}: {self.message}"
