"""Client arbitration per (device_id, role), as P4Runtime 1.3+ section 5 specifies.

The primary is the live stream with the highest election id, provided that id is at least
the highest the server has ever seen for the (device, role).  When the primary's stream ends
no one is promoted: the remaining backups are told there is no primary (NOT_FOUND) until one
of them sends an election id >= the highest seen.  (PI/bmv2 promote the next-highest stream
instead; see docs/p4sim-server.md.)
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from finsy.proto import p4r, rpc_status
from google.protobuf import any_pb2

from p4sim.server.errors import (
    ALREADY_EXISTS,
    INVALID_ARGUMENT,
    NOT_FOUND,
    OK,
    RESOURCE_EXHAUSTED,
    P4RuntimeError,
)

# PI's limit of arbitrated streams per device (pi_server.cpp DeviceState::max_connections);
# PI ignores roles, so the limit is per device whatever the roles, and p4sim counts so too.
MAX_STREAMS_PER_DEVICE = 16


@dataclass(eq=False)
class Controller:
    """One live StreamChannel: its identity and how to send it a message."""

    device_id: int
    role: str
    election_id: int | None
    send: Callable[[p4r.StreamMessageResponse], None]
    role_config: any_pb2.Any | None = None


@dataclass
class _Group:
    controllers: list[Controller] = field(default_factory=list)
    highest: int | None = None  # election_id_past
    primary: Controller | None = None
    role_config: any_pb2.Any | None = None


class Arbiter:
    """``require_arbitration``: refuse requests from clients that never arbitrated (p4sim's
    TLS mode); otherwise they are accepted while no controller has arbitrated, as PI does."""

    def __init__(self, *, require_arbitration: bool = False) -> None:
        self.require_arbitration = require_arbitration
        self._groups: dict[tuple[int, str], _Group] = {}
        self._lock = threading.Lock()

    # -- stream events --------------------------------------------------------------------------------
    def join(self, ctl: Controller) -> None:
        """A new stream's first arbitration update; raises P4RuntimeError to end the stream."""
        with self._lock:
            live = sum(
                len(g.controllers) for (d, _), g in self._groups.items() if d == ctl.device_id
            )
            if live >= MAX_STREAMS_PER_DEVICE:  # checked first, as PI does
                raise P4RuntimeError(
                    RESOURCE_EXHAUSTED,
                    f"too many connections: device {ctl.device_id} already has"
                    f" {MAX_STREAMS_PER_DEVICE} arbitrated streams (PI's limit)",
                )
            g = self._groups.setdefault((ctl.device_id, ctl.role), _Group())
            if ctl.election_id is not None and any(
                c.election_id == ctl.election_id for c in g.controllers
            ):
                raise P4RuntimeError(
                    INVALID_ARGUMENT,
                    f"election id {ctl.election_id} is already in use for this role",
                )
            g.controllers.append(ctl)
            self._elect(g, ctl, was_primary=False)

    def update(self, ctl: Controller, election_id: int | None) -> None:
        with self._lock:
            g = self._groups[(ctl.device_id, ctl.role)]
            if election_id is not None and any(
                c.election_id == election_id for c in g.controllers if c is not ctl
            ):
                raise P4RuntimeError(
                    INVALID_ARGUMENT, f"election id {election_id} is already in use for this role"
                )
            was_primary = g.primary is ctl
            ctl.election_id = election_id
            self._elect(g, ctl, was_primary=was_primary)

    def leave(self, ctl: Controller) -> None:
        with self._lock:
            g = self._groups.get((ctl.device_id, ctl.role))
            if g is None or ctl not in g.controllers:
                return
            g.controllers.remove(ctl)
            if g.primary is ctl:
                g.primary = None
                self._notify_all(g)

    # -- queries ----------------------------------------------------------------------------------------
    def knows_role(self, device_id: int, role: str) -> bool:
        """Whether `role` exists on the device: the default role always does; a named role
        once a controller has arbitrated with it (p4sim has no role configuration)."""
        with self._lock:
            return role == "" or (device_id, role) in self._groups

    def is_primary(self, device_id: int, role: str, election_id: int | None) -> bool:
        """May a Write/SetForwardingPipelineConfig with this identity proceed?"""
        with self._lock:
            g = self._groups.get((device_id, role))
            if g is None or not g.controllers:
                # No controller has ever arbitrated for this role: as PI does, accept requests
                # that carry no election id (handy for debugging clients).
                return (
                    not self.require_arbitration
                    and election_id is None
                    and (g is None or g.highest is None)
                )
            p = g.primary
            return p is not None and election_id is not None and p.election_id == election_id

    def primaries(self, device_id: int) -> list[Controller]:
        with self._lock:
            return [
                g.primary
                for (d, _), g in self._groups.items()
                if d == device_id and g.primary is not None
            ]

    def controllers(self, device_id: int) -> list[Controller]:
        with self._lock:
            return [
                c for (d, _), g in self._groups.items() if d == device_id for c in g.controllers
            ]

    # -- internals (lock held) ------------------------------------------------------------------------
    def _elect(self, g: _Group, ctl: Controller, *, was_primary: bool) -> None:
        eid = ctl.election_id
        if eid is not None and (g.highest is None or eid >= g.highest):
            changed = g.primary is not ctl
            g.primary = ctl
            g.highest = eid
            g.role_config = ctl.role_config
            if changed:
                self._notify_all(g)
            else:
                self._notify(g, ctl)
        elif was_primary:
            g.primary = None
            self._notify_all(g)
        else:
            self._notify(g, ctl)

    def _notify_all(self, g: _Group) -> None:
        for c in g.controllers:
            self._notify(g, c)

    def _notify(self, g: _Group, c: Controller) -> None:
        upd = p4r.MasterArbitrationUpdate(device_id=c.device_id)
        if c.role:
            upd.role.name = c.role
            if g.role_config is not None:
                upd.role.config.CopyFrom(g.role_config)
        if g.highest is not None:
            upd.election_id.high = g.highest >> 64
            upd.election_id.low = g.highest & (2**64 - 1)
        if g.primary is c:
            upd.status.CopyFrom(rpc_status.Status(code=OK, message="is primary"))
        elif g.primary is not None:
            upd.status.CopyFrom(rpc_status.Status(code=ALREADY_EXISTS, message="is backup"))
        else:
            upd.status.CopyFrom(rpc_status.Status(code=NOT_FOUND, message="no primary"))
        c.send(p4r.StreamMessageResponse(arbitration=upd))


def election_id_of(
    msg: p4r.MasterArbitrationUpdate | p4r.WriteRequest | p4r.SetForwardingPipelineConfigRequest,
) -> int | None:
    """The election id of an arbitration update or request, or None when unset."""
    if not msg.HasField("election_id"):
        return None
    return (msg.election_id.high << 64) | msg.election_id.low
