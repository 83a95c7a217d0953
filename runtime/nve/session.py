"""The life of one switch connection: arbitrate, push the pipeline if needed, reconcile,
watch the stream, and after a loss reconnect with backoff and restore state.

The session owns a `SwitchClient` at a time; `nve.controller` runs one session per switch
in one asyncio loop. When another controller is primary, the session stays connected
read-only and says so; if that controller leaves, the switch tells us there is no primary,
the client takes over in turn (`nve.takeover`: a wait ordered by the switch's `priority`,
then an election id above the highest seen) and, once the switch makes it primary, the
session reconciles at once (pushing the pipeline if needed).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal

import grpc
from finsy.proto import p4r

from nve.model import Switch
from nve.p4info import P4Index
from nve.p4rt_client import RPC_TIMEOUT_S, NotPrimaryError, SwitchClient, SwitchError
from nve.pipeline import PipelineArtifacts, is_p4sim_config
from nve.tls import ClientTls

# Called when a session is connected (again) or becomes primary.
ReadyHook = Callable[["SwitchSession"], Awaitable[None]]
# Called with each stream message other than arbitration (packet-in, digest, timeout, error).
EventSink = Callable[["SwitchSession", p4r.StreamMessageResponse], Awaitable[None]]

log = logging.getLogger("nve.session")


@dataclass
class Backoff:
    """Exponential backoff with jitter, reset after a connection that lasted."""

    initial: float = 0.2
    maximum: float = 10.0
    factor: float = 2.0
    current: float = 0.0
    rng: random.Random = field(default_factory=random.Random)

    def next_delay(self) -> float:
        self.current = (
            self.initial if self.current == 0 else min(self.maximum, self.current * self.factor)
        )
        return self.current * (0.75 + 0.5 * self.rng.random())

    def reset(self) -> None:
        self.current = 0.0


@dataclass
class SessionState:
    connected: bool = False
    primary: bool = False
    primary_election_id: int | None = None
    pipeline_pushed: int = 0
    last_push: PipelinePush | None = None  # how the pipeline was last pushed
    connects: int = 0
    last_error: str = ""


# What a switch answers to RECONCILE_AND_COMMIT it cannot do: PI/simple_switch_grpc says
# UNKNOWN ("Error when reconciling config"); other targets UNIMPLEMENTED or
# FAILED_PRECONDITION. The replace that follows, and the reconcile after it, restore all.
_NO_RECONCILE = {
    grpc.StatusCode.UNIMPLEMENTED,
    grpc.StatusCode.UNKNOWN,
    grpc.StatusCode.FAILED_PRECONDITION,
    grpc.StatusCode.INTERNAL,
}
PipelinePush = Literal["reconcile", "replace"]


def reconciles_in_place(update: str, artifacts: PipelineArtifacts) -> bool:
    """Whether to try RECONCILE_AND_COMMIT for the switch entry's `pipeline_update`.

    `auto` does for p4sim (its device config says so) and not otherwise: simple_switch_grpc
    answers UNKNOWN ("Error when reconciling config") and then fails every later
    SetForwardingPipelineConfig ("Error in first phase of device update") until restarted,
    so a PI target must never be sent one (docs/controller.md, "Pipeline changes")."""
    if update == "auto":
        return is_p4sim_config(artifacts.device_config)
    return update == "reconcile"


async def ensure_pipeline(
    client: SwitchClient, artifacts: PipelineArtifacts, *, reconcile: bool = False
) -> PipelinePush | None:
    """Push the pipeline when the switch has none or a different one; returns how it was
    pushed, None when the switch already runs it.

    A switch that runs another pipeline gets RECONCILE_AND_COMMIT first (P4Runtime §7.2:
    the target keeps the forwarding state that still fits the new pipeline, so traffic
    through unchanged tables is never interrupted); if it cannot, VERIFY_AND_COMMIT, which
    empties it, and the reconcile that follows writes everything back. A switch without a
    pipeline gets VERIFY_AND_COMMIT. Without `reconcile` it always replaces."""
    current = await client.get_pipeline(with_p4info=False)
    if (
        current is not None
        and current.HasField("cookie")
        and current.cookie.cookie == artifacts.cookie
    ):
        return None
    if not client.is_primary:
        if current is None:
            raise NotPrimaryError(
                f"{client.name}: the switch has no pipeline and this controller is not primary"
            )
        return None
    if current is not None and reconcile:
        try:
            await client.set_pipeline(
                artifacts.p4info, artifacts.device_config, artifacts.cookie, reconcile=True
            )
            return "reconcile"
        except NotPrimaryError:
            raise
        except SwitchError as exc:
            if exc.code not in _NO_RECONCILE:
                raise
            log.warning(
                "%s: the switch cannot change pipelines in place (%s); replacing it"
                " (VERIFY_AND_COMMIT), forwarding state is restored by the reconcile",
                client.name,
                exc,
            )
    await client.set_pipeline(artifacts.p4info, artifacts.device_config, artifacts.cookie)
    return "replace"


def _election_id_refused(client: SwitchClient) -> bool:
    """Did the switch end the stream because our election id is held by a live client?"""
    error = client.stream_error
    return isinstance(error, SwitchError) and error.code == grpc.StatusCode.INVALID_ARGUMENT


class SwitchSession:
    """Keeps one switch connected and in its desired state for as long as run() runs."""

    def __init__(
        self,
        switch: Switch,
        artifacts: PipelineArtifacts,
        on_ready: ReadyHook | None = None,
        on_event: EventSink | None = None,
        backoff: Backoff | None = None,
        connect_timeout: float = 5.0,
        tls: ClientTls | None = None,
        rpc_timeout: float = RPC_TIMEOUT_S,
    ):
        self.switch = switch
        self.tls = tls
        self.rpc_timeout = rpc_timeout
        self._in_place = reconciles_in_place(switch.pipeline_update, artifacts)
        self.artifacts = artifacts
        self.index = P4Index(artifacts.p4info)
        self.on_ready = on_ready
        self.on_event = on_event
        self.backoff = backoff or Backoff()
        self.connect_timeout = connect_timeout
        self.state = SessionState()
        self.client: SwitchClient | None = None
        self.ready = asyncio.Event()
        self._primary_seen = False

    @property
    def name(self) -> str:
        return self.switch.name

    def new_client(self) -> SwitchClient:
        return SwitchClient(
            self.switch.address,
            self.switch.device_id,
            self.switch.election_id,
            name=self.switch.name,
            priority=self.switch.priority,
            tls=self.tls,
            rpc_timeout=self.rpc_timeout,
        )

    def _pushed(self, how: PipelinePush) -> None:
        self.state.pipeline_pushed += 1
        self.state.last_push = how
        log.info(
            "%s: pipeline pushed (cookie %#x, %s)",
            self.name,
            self.artifacts.cookie,
            "RECONCILE_AND_COMMIT" if how == "reconcile" else "VERIFY_AND_COMMIT",
        )

    async def connect_once(self) -> SwitchClient:
        """Connect, arbitrate and make sure the pipeline is in place (used by one-shot CLI commands)."""
        client = self.new_client()
        await client.open(self.connect_timeout)
        try:
            pushed = await ensure_pipeline(client, self.artifacts, reconcile=self._in_place)
            if pushed:
                self._pushed(pushed)
        except BaseException:
            await client.close()
            raise
        self.client = client
        self.state.connected = True
        self.state.primary = client.is_primary
        self.state.primary_election_id = client.primary_election_id
        self.state.connects += 1
        if not client.is_primary:
            log.warning("%s: read-only: %s", self.name, client.read_only_reason)
        return client

    async def run(self) -> None:
        """Connect and serve until cancelled; reconnects with backoff after any loss."""
        while True:
            try:
                client = await self.connect_once()
            except (SwitchError, OSError) as exc:
                self.state.last_error = str(exc)
                self.state.connected = False
                delay = self.backoff.next_delay()
                log.warning("%s: %s; retrying in %.1fs", self.name, exc, delay)
                await asyncio.sleep(delay)
                continue
            try:
                await self._serve(client)
            finally:
                self.state.connected = False
                self.state.primary = False
                self.ready.clear()
                self.client = None
                await client.close()
            if not _election_id_refused(client):
                self.backoff.reset()  # a lost connection: retry soon
            # else our election id is held by a live controller (INVALID_ARGUMENT): reconnect
            # as a backup with the configured id, backing off while that repeats.
            delay = self.backoff.next_delay()
            log.warning(
                "%s: connection lost (%s); reconnecting in %.1fs",
                self.name,
                client.stream_error,
                delay,
            )
            await asyncio.sleep(delay)

    async def _serve(self, client: SwitchClient) -> None:
        was_primary = None
        closed = asyncio.create_task(client.wait_closed())
        try:
            while not closed.done():
                client.arbitration_changed.clear()
                self.state.primary_election_id = client.primary_election_id
                if client.is_primary != was_primary:
                    was_primary = client.is_primary
                    self.state.primary = client.is_primary
                    # Newly primary (first connect, or the other controller left): restore state.
                    if client.is_primary:
                        pushed = await ensure_pipeline(
                            client, self.artifacts, reconcile=self._in_place
                        )
                        if pushed:
                            self._pushed(pushed)
                    if self.on_ready:
                        await self.on_ready(self)
                    self.ready.set()
                get = asyncio.create_task(client.events.get())
                # Woken by an arbitration update too: a backup made primary reconciles at once.
                arbitrated = asyncio.create_task(client.arbitration_changed.wait())
                done, _ = await asyncio.wait(
                    {get, closed, arbitrated}, timeout=0.5, return_when=asyncio.FIRST_COMPLETED
                )
                arbitrated.cancel()
                if get in done:
                    if self.on_event:
                        try:
                            await self.on_event(self, get.result())
                        except Exception:  # an event handler bug must not kill the session
                            log.exception("%s: event handler failed", self.name)
                else:
                    get.cancel()
        finally:
            closed.cancel()
