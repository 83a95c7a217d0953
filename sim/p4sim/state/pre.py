"""The packet replication engine: multicast groups and clone sessions.

Values are immutable tuples and dataclasses replaced whole on every write, so the per-packet
path reads a consistent group or session with a single dict lookup.

The capacity is bmv2's (``simple_switch_grpc`` with its default options), so that a set of
groups and sessions that p4sim accepts also fits there.  bmv2's PRE (``simple_pre.cpp``,
``McSimplePre``) holds at most ``DEFAULT_MGID_TABLE_SIZE`` = 4096 multicast groups and
``DEFAULT_L1_MAX_ENTRIES`` = 4096 L1 nodes; PI (``pre_mc_mgr.cpp``) makes one node per
distinct replica instance (rid) of a group, and programs each clone session as one more
group (id 0x8000 + session, ``pre_clone_mgr.cpp``), so sessions count against both limits.
The dicts below keep the node count as they change, whoever changes them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TypeVar

Replica = tuple[int, int]  # (egress port, replica id / instance)

#: bmv2's default multicast group table size (``--max-mc-groups``), clone sessions included
MAX_GROUPS = 4096
#: bmv2's default number of L1 nodes (``--max-l1-entries``): one per (group or session, rid)
MAX_NODES = 4096

_V = TypeVar("_V")


def replica_nodes(replicas: Iterable[Replica]) -> frozenset[int]:
    """The rids of a replica list: bmv2 needs one L1 node per distinct rid."""
    return frozenset(rid for _, rid in replicas)


@dataclass(frozen=True)
class CloneSession:
    """A clone session: where clones go, their class of service, and truncation (0 = none)."""

    replicas: tuple[Replica, ...]
    class_of_service: int = 0
    packet_length_bytes: int = 0


class NodeCountingDict(dict[int, _V]):
    """A dict of groups or sessions that keeps ``nodes``, the L1 nodes its values need.

    Every mutating dict method keeps the count; reads are plain dict reads (the per-packet
    path's ``get`` is dict's own).
    """

    def __init__(self, replicas_of: Callable[[_V], Iterable[Replica]]) -> None:
        super().__init__()
        self._replicas_of = replicas_of
        self.nodes = 0

    def nodes_of(self, value: _V) -> int:
        return len(replica_nodes(self._replicas_of(value)))

    def __setitem__(self, key: int, value: _V) -> None:
        if key in self:
            self.nodes -= self.nodes_of(dict.__getitem__(self, key))
        dict.__setitem__(self, key, value)
        self.nodes += self.nodes_of(value)

    def __delitem__(self, key: int) -> None:
        old = dict.__getitem__(self, key)
        dict.__delitem__(self, key)
        self.nodes -= self.nodes_of(old)

    def pop(self, key: int, *default: _V) -> _V:  # type: ignore[override]  # dict.pop's overloads, one signature here
        if key in self:
            old = dict.pop(self, key)
            self.nodes -= self.nodes_of(old)
            return old
        return dict.pop(self, key, *default)

    def popitem(self) -> tuple[int, _V]:
        key, old = dict.popitem(self)
        self.nodes -= self.nodes_of(old)
        return key, old

    def setdefault(self, key: int, default: _V) -> _V:
        if key not in self:
            self[key] = default
        return dict.__getitem__(self, key)

    def update(self, *others: Mapping[int, _V] | Iterable[tuple[int, _V]]) -> None:  # type: ignore[override]  # int keys: no keyword form
        for other in others:
            for key, value in dict(other).items():
                self[key] = value

    def __ior__(self, other: Mapping[int, _V] | Iterable[tuple[int, _V]]) -> NodeCountingDict[_V]:  # type: ignore[override,misc]  # in place, keeping the count
        self.update(other)
        return self

    def clear(self) -> None:
        dict.clear(self)
        self.nodes = 0


def _session_replicas(session: CloneSession) -> tuple[Replica, ...]:
    return session.replicas


def _group_replicas(replicas: tuple[Replica, ...]) -> tuple[Replica, ...]:
    return replicas


class PacketReplicationEngine:
    #: capacity, bmv2's defaults (see the module docstring); an instance may set its own
    max_groups = MAX_GROUPS
    max_nodes = MAX_NODES

    def __init__(self) -> None:
        self.groups: NodeCountingDict[tuple[Replica, ...]] = NodeCountingDict(_group_replicas)
        self.sessions: NodeCountingDict[CloneSession] = NodeCountingDict(_session_replicas)

    def multicast_group(self, group_id: int) -> tuple[Replica, ...] | None:
        """The replicas of a group in the order they were written, or None when it does not exist."""
        return self.groups.get(group_id)

    def clone_session(self, session_id: int) -> CloneSession | None:
        return self.sessions.get(session_id)

    @property
    def groups_in_use(self) -> int:
        """bmv2 multicast groups in use: the groups, and one per clone session."""
        return len(self.groups) + len(self.sessions)

    @property
    def nodes_in_use(self) -> int:
        """bmv2 L1 nodes in use: one per distinct rid of each group and session."""
        return self.groups.nodes + self.sessions.nodes
