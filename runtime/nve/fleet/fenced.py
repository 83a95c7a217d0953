"""A switch connection whose election id is the owner's, derived from etcd (nve.fleet.election).

`nve.takeover` lets a backup take a switch nobody is primary of, with an id above the
highest seen: right for a pair of controllers, wrong for an owner fenced by its id, since
a stale owner would then out-bid the newer one. A fenced client arbitrates with its own
id only: when the switch has no primary and has seen a higher id (a newer owner came and
went), it stays read-only, and its replica learns from etcd whether it owns the switch.
"""

from __future__ import annotations

import logging

from finsy.proto import rpc_code

from nve.model import Switch
from nve.p4rt_client import RPC_TIMEOUT_S, SwitchClient
from nve.pipeline import PipelineArtifacts
from nve.session import EventSink, ReadyHook, SwitchSession
from nve.tls import ClientTls

log = logging.getLogger("nve.fleet")


class FencedClient(SwitchClient):
    async def _take_over(self) -> None:
        if self.arbitration_status != rpc_code.NOT_FOUND or not self.connected:
            return
        highest = self.highest_election_id
        if highest is not None and highest > self.election_id:
            log.warning(
                "%s: no primary, but election id %d (above ours, %d) has been: a newer owner;"
                " staying read-only",
                self.name,
                highest,
                self.election_id,
            )
            return
        self._takeover = None
        await self._send_arbitration()  # ours is the highest: primary again (switch restarted)


class FencedSession(SwitchSession):
    """A `SwitchSession` that arbitrates with the owner's election id."""

    def __init__(
        self,
        switch: Switch,
        artifacts: PipelineArtifacts,
        election_id: int,
        *,
        on_ready: ReadyHook | None = None,
        on_event: EventSink | None = None,
        tls: ClientTls | None = None,
        rpc_timeout: float = RPC_TIMEOUT_S,
    ) -> None:
        super().__init__(
            switch,
            artifacts,
            on_ready=on_ready,
            on_event=on_event,
            tls=tls,
            rpc_timeout=rpc_timeout,
        )
        self.election_id = election_id

    def new_client(self) -> SwitchClient:
        return FencedClient(
            self.switch.address,
            self.switch.device_id,
            self.election_id,
            name=self.switch.name,
            tls=self.tls,
            rpc_timeout=self.rpc_timeout,
        )
