"""One controller replica: the switches its ownership gives it, each driven by a fenced
session (become primary with the derived election id, push the pipeline if needed, then
the controller's reconcile), given up when ownership moves.

A switch with `underlay:` gets its control-plane host on this machine while this replica
owns it (nve.underlay.hosts: the kernel that answers ARP/ND for its addresses and feeds
its underlay tables, and its FRR with `underlay.bgp`); giving the switch up stops the host
and its FRR, so that only the owner speaks for the switch. A replica killed outright
leaves its FRR running: a new owner on the same machine takes it over as it finds it.

`nve run` can embed it: build the checked `Controller` as for one replica, then run
`FleetReplica(ctl, url, name).run(follow)` in place of the sessions it starts for every
switch; `follow(ctl, dirty)` (as `nve run` takes it) reloads the controller with each new
description and sets `dirty`: the replica then spreads the new set of switches and
reconciles those it owns.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable, Coroutine, Iterator, Sequence
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from nve.controller import Controller
from nve.events import EventHandler
from nve.fleet.fenced import FencedSession
from nve.fleet.ownership import OwnershipManager
from nve.p4rt_client import SwitchError
from nve.retry import Retry
from nve.runner import reconcile_summary
from nve.session import SwitchSession
from nve.store.url import StoreUrl
from nve.tasks import cancel_and_wait
from nve.underlay.bgp_service import BgpService
from nve.underlay.hosts import HostError, UnderlayHosts

log = logging.getLogger("nve.fleet")
Follow = Callable[[Controller, asyncio.Event], Coroutine[Any, Any, None]]


class FleetReplica:
    def __init__(
        self,
        ctl: Controller,
        url: StoreUrl,
        name: str,
        *,
        ttl_s: int = 5,
        epoch: int | None = None,
    ) -> None:
        self.ctl = ctl
        if not ctl.pipelines:
            ctl.load_pipelines()
        self._dirty = asyncio.Event()
        self.handler = EventHandler(ctl, self._dirty.set)
        self._sessions: dict[str, asyncio.Task[None]] = {}
        self.bgp = BgpService()
        self._hosts: UnderlayHosts | None = None  # made on first use, on the running loop
        # `nve run --switch` narrows the fleet's work to some switches; kept across reloads
        every = [s.name for s in ctl.overlay.switches]
        self._only = None if list(ctl.selected) == every else set(ctl.selected)
        self.manager = OwnershipManager(
            url,
            name,
            list(ctl.selected),
            self._acquire,
            self._release,
            ttl_s=ttl_s,
            epoch=epoch,
        )

    @property
    def name(self) -> str:
        return self.manager.replica

    @property
    def hosts(self) -> UnderlayHosts:
        if self._hosts is None:
            self._hosts = UnderlayHosts(
                self.ctl, asyncio.get_running_loop(), self.bgp, self._dirty.set
            )
        return self._hosts

    async def _acquire(self, switch: str, election_id: int) -> None:
        sw = next(s for s in self.ctl.overlay.switches if s.name == switch)
        try:  # before the session, so that the first punts find the host
            if sw.underlay is not None and await asyncio.to_thread(self.hosts.start, switch):
                self.hosts.watch(switch)
                log.info("%s: %s: control-plane host started", self.name, switch)
        except HostError as exc:
            log.error("%s: %s; driving the switch without it", self.name, exc)
        session = FencedSession(
            sw,
            self.ctl.pipelines[switch],
            election_id,
            on_ready=self._ready,
            on_event=self.handler,
            tls=self.ctl.tls.get(switch),
            rpc_timeout=self.ctl.rpc_timeout,
        )
        self.ctl.sessions[switch] = session
        self._sessions[switch] = asyncio.create_task(session.run(), name=f"session-{switch}")

    async def _release(self, switch: str) -> None:
        """Stop writing to the switch: the session ends and its connection closes."""
        task = self._sessions.pop(switch, None)
        if task is not None:
            await cancel_and_wait([task])
        session = self.ctl.sessions.pop(switch, None)
        if session is not None and session.client is not None:
            await session.client.close()
        await self.hosts.stop(switch, stop_frr=True)
        self.ctl.states.pop(switch, None)
        self.ctl.forget_installed(switch)
        log.info("%s: released %s", self.name, switch)

    async def _ready(self, session: SwitchSession) -> None:
        # Newly owned, reconnected or primary again: read the switch whole this once.
        self.ctl.forget_installed(session.name)
        if session.state.primary:
            # left out or cut short: tried again in the background (nve.retry's waits)
            self.ctl.retry_later(await self._reconcile([session.name]))
            await self.hosts.ready(session.name)  # its FRR starts, or retries now
        else:
            reason = session.client.read_only_reason if session.client else "not primary"
            log.warning("%s: %s read-only: %s; not writing", self.name, session.name, reason)

    async def _reconcile(self, names: list[str] | None = None) -> list[str]:
        """Reconcile the owned switches among `names` (None: all); the ones to try again."""
        owned = [
            n
            for n, s in self.ctl.sessions.items()
            if s.client is not None and s.state.primary and (names is None or n in names)
        ]
        if not owned:
            return []
        try:
            report = await self.ctl.reconcile(names=owned)
        except KeyError as exc:  # released meanwhile
            log.warning("%s: reconcile: %s", self.name, exc)
            return []
        except SwitchError as exc:
            log.warning("%s: reconcile: %s", self.name, exc)
            return owned
        except Exception:
            log.exception("%s: reconcile failed", self.name)
            return []
        for f in report.failures:
            log.warning("write failed: %s", f)
        for level, message in reconcile_summary(report, owned):
            log.log(level, "%s: %s", self.name, message)
        return [n for n, r in report.switches.items() if r.skipped]

    async def _switches_changed(self) -> None:
        """After a reload: the description's switches are the ones to spread, and a switch
        this replica owns whose entry changed (address, pipeline, TLS) gets a new session
        with the same election id."""
        models = {
            s.name: s
            for s in self.ctl.overlay.switches
            if self._only is None or s.name in self._only
        }
        changed = [
            n for n, sess in self.ctl.sessions.items() if n in models and sess.switch != models[n]
        ]
        names = list(models)
        if names == list(self.manager.switches) and not changed:
            return
        self.ctl.selected = names
        self.ctl.pipelines.clear()
        self.ctl.load_pipelines()
        for n in changed:
            if n in self._sessions:
                eid = self.manager.election_id(n)
                await self._release(n)
                await self._acquire(n, eid)
                log.info("%s: %s changed in the description: new session", self.name, n)
        if names != list(self.manager.switches):
            log.info("%s: the switches are now %s", self.name, ", ".join(names) or "none")
            self.manager.set_switches(names)

    async def _reconcile_loop(self) -> None:
        retry = Retry()
        while True:
            again = await retry.next(self._dirty)
            if again is not None:  # only the switches left out or cut short
                retry.after(await self._reconcile(again) if again else [], retried=True)
                continue
            await asyncio.sleep(0.05)  # coalesce bursts of digests
            self._dirty.clear()
            try:
                await self._switches_changed()
            except Exception:
                log.exception("%s: the new description's switches cannot be used", self.name)
                continue
            retry.after(await self._reconcile(), retried=False)

    def read_again(self) -> None:
        """On demand (SIGHUP): the next reconcile reads every owned switch whole."""
        log.info("%s: reading every switch again", self.name)
        self.ctl.forget_installed()
        self._dirty.set()

    async def run(
        self,
        follow: Follow | None = None,
        also: Sequence[Callable[[], Coroutine[Any, Any, None]]] = (),
    ) -> None:
        """Serve until cancelled; then give every switch up and leave the fleet. `also`:
        more work to run beside (the counter poll of the metrics)."""
        self.ctl.on_change = self._reconcile
        tasks = [asyncio.create_task(self._reconcile_loop())]
        tasks.append(asyncio.create_task(self.hosts.follow_bgp(), name="bgp"))
        tasks += [asyncio.create_task(work()) for work in also]
        if follow is not None:
            tasks.append(asyncio.create_task(follow(self.ctl, self._dirty)))
        try:
            await self.manager.run()
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for switch in list(self._sessions):
                await self._release(switch)
            await self.ctl.close()


class ReplicaCollector:
    """Prometheus metrics of the replica's place in the fleet."""

    def __init__(self, replica: FleetReplica) -> None:
        self.replica = replica

    def collect(self) -> Iterator[Metric]:
        m = self.replica.manager
        owned = GaugeMetricFamily(
            "nve_fleet_owned",
            "1 for each switch this replica owns; the value of election_id is its id",
            labels=["replica", "switch"],
        )
        ids = GaugeMetricFamily(
            "nve_fleet_election_id", "the election id this replica uses", labels=["switch"]
        )
        for switch in sorted(m.owned):
            owned.add_metric([m.replica, switch], 1.0)
            ids.add_metric([switch], float(m.election_id(switch)))
        yield owned
        yield ids
        for name, value in (
            ("acquired", m.stats.acquired),
            ("released", m.stats.released),
            ("leases_lost", m.stats.leases_lost),
        ):
            yield CounterMetricFamily(
                f"nve_fleet_{name}", f"switches {name} / leases lost", value=value
            )


async def serve_until_signalled(
    replica: FleetReplica,
    follow: Follow | None = None,
    also: Sequence[Callable[[], Coroutine[Any, Any, None]]] = (),
) -> None:
    """Run `replica` until SIGINT or SIGTERM, then leave the fleet (its switches go to the
    other replicas at once instead of after the lease)."""
    task = asyncio.create_task(replica.run(follow, also))
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, task.cancel)
    loop.add_signal_handler(signal.SIGHUP, replica.read_again)
    with contextlib.suppress(asyncio.CancelledError):  # asked to stop: it left the fleet
        await task
