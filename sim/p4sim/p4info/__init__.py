"""P4Info generation, identical to p4c's for the same program (names, aliases, IDs)."""

from .builder import build_p4info, write_p4info

__all__ = ["build_p4info", "write_p4info"]
