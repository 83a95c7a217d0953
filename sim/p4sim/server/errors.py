"""Errors the P4Runtime service reports, carrying a google.rpc canonical code.

The definitions live in :mod:`p4sim.status`, which the switch imports too; this module
keeps the names where the server's modules look for them.
"""

from p4sim.status import (
    ABORTED,
    ALREADY_EXISTS,
    CANCELLED,
    ERROR_SPACE,
    FAILED_PRECONDITION,
    INTERNAL,
    INVALID_ARGUMENT,
    NOT_FOUND,
    OK,
    OUT_OF_RANGE,
    PERMISSION_DENIED,
    RESOURCE_EXHAUSTED,
    UNAVAILABLE,
    UNIMPLEMENTED,
    UNKNOWN,
    P4RuntimeError,
)

__all__ = [
    "ABORTED",
    "ALREADY_EXISTS",
    "CANCELLED",
    "ERROR_SPACE",
    "FAILED_PRECONDITION",
    "INTERNAL",
    "INVALID_ARGUMENT",
    "NOT_FOUND",
    "OK",
    "OUT_OF_RANGE",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "UNAVAILABLE",
    "UNIMPLEMENTED",
    "UNKNOWN",
    "P4RuntimeError",
]
