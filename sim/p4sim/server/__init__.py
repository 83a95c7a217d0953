"""The P4Runtime gRPC server of p4sim (see docs/p4sim-server.md)."""

from p4sim.server.errors import P4RuntimeError
from p4sim.server.service import P4RuntimeServer, P4RuntimeService

__all__ = ["P4RuntimeError", "P4RuntimeServer", "P4RuntimeService"]
