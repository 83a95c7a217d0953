"""The packet replication engine: multicast groups and clone sessions.

Values are immutable tuples and dataclasses replaced whole on every write, so the per-packet
path reads a consistent group or session with a single dict lookup.
"""

from __future__ import annotations

from dataclasses import dataclass

Replica = tuple[int, int]  # (egress port, replica id / instance)


@dataclass(frozen=True)
class CloneSession:
    """A clone session: where clones go, their class of service, and truncation (0 = none)."""

    replicas: tuple[Replica, ...]
    class_of_service: int = 0
    packet_length_bytes: int = 0


class PacketReplicationEngine:
    def __init__(self) -> None:
        self.groups: dict[int, tuple[Replica, ...]] = {}
        self.sessions: dict[int, CloneSession] = {}

    def multicast_group(self, group_id: int) -> tuple[Replica, ...] | None:
        """The replicas of a group in the order they were written, or None when it does not exist."""
        return self.groups.get(group_id)

    def clone_session(self, session_id: int) -> CloneSession | None:
        return self.sessions.get(session_id)
