"""The controller: one overlay description, many switches, one asyncio loop.

`check()` is everything that can be known without a switch (validation, compilation,
capacity against the pipeline's P4Info). `connect()` + `reconcile()` are what `nve apply`
does; `run()` keeps every switch reconciled and handles data-plane events until
cancelled.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field

from nve import contract as C
from nve.codec import canonical_names
from nve.compile import (
    Allocations,
    LearnedEndpoint,
    NeedsFullCompile,
    SwitchState,
    TargetInfo,
    capacity_problems,
    compile_switch,
    is_local_attachment,
    patch_endpoints,
)
from nve.compile.delta import key_positions
from nve.diff import Change, Plan, diff
from nve.endpoint_patch import SwitchPatch, believed_after, plan_patch
from nve.entities import Entity, EntityKey, TableEntry, match_value
from nve.gcpause import SharedPause, gc_paused
from nve.index import OverlayIndex
from nve.learning import DAMPENED, LearnedTable
from nve.loader import LoadedOverlay
from nve.mac import Mac
from nve.model import Endpoint, Learning, Overlay
from nve.p4info import P4Index
from nve.p4names import Key, Table
from nve.p4rt_client import RPC_TIMEOUT_S, SwitchError
from nve.pipeline import PipelineArtifacts, PipelineError, load_pipeline
from nve.problems import ConfigPath, Problem
from nve.reconcile import (
    Journal,
    ReconcileReport,
    SwitchReport,
    Target,
    read_cells,
    read_installed,
    reconcile,
    to_updates,
)
from nve.retry import RETRY_FIRST_S, longer
from nve.session import EventSink, ReadyHook, SwitchSession
from nve.stats import SwitchCounters
from nve.store.learned import LearnedChange
from nve.switch_locks import SwitchLocks
from nve.tls import ClientTls, TlsError, load_client_tls
from nve.underlay.host import UnderlayHost
from nve.underlay.kernel import KernelView, with_kernel
from nve.validate import validate_overlay

log = logging.getLogger("nve.controller")
# Reconciles switches a store change touched; returns the ones to try again.
OnChange = Callable[[list[str]], Awaitable[list[str] | None]]


@dataclass
class SwitchView:
    """One switch as `nve show` prints it."""

    name: str
    address: str
    role: str  # "primary" or "read-only: <why>"
    desired: list[Entity]
    installed: list[Entity]
    plan: Plan
    learned: list[LearnedEndpoint]


class ControllerError(Exception):
    """Something that stops the controller as a whole (the message is the one-line reason)."""


@dataclass
class ControllerStats:
    """The controller's own numbers, exported by `nve run` as Prometheus metrics."""

    reconciles: int = 0
    writes: int = 0
    write_errors: int = 0
    last_reconcile_seconds: float = 0.0
    learned: int = 0
    aged: int = 0
    fragmented: int = 0  # customer IPv4 packets fragmented for a tunnel (PUNT_FRAGMENT)
    endpoint_patches: int = 0  # switches written only the changed endpoints' entries
    packet_ins: dict[str, int] = field(default_factory=dict)


class Controller:
    def __init__(
        self,
        loaded: LoadedOverlay,
        *,
        only: Sequence[str] | None = None,
        progress: Callable[[str], None] | None = None,
        rpc_timeout: float = RPC_TIMEOUT_S,
    ):
        self.loaded = loaded
        self.rpc_timeout = rpc_timeout  # per P4Runtime call (nve.p4rt_client.RPC_TIMEOUT_S)
        self.overlay = loaded.overlay
        self.index = OverlayIndex.build(loaded.overlay)
        names = [s.name for s in self.overlay.switches]
        if only:
            unknown = [n for n in only if n not in names]
            if unknown:
                raise ControllerError(f"no switch named {', '.join(unknown)} in {loaded.source}")
        self.selected = [n for n in names if not only or n in only]
        self.progress = progress
        self.journal = Journal()
        self.stats = ControllerStats()
        self.learned = LearnedTable()
        self.pipelines: dict[str, PipelineArtifacts] = {}
        self.tls: dict[str, ClientTls] = {}  # per switch with a tls: entry, files read
        # control-plane hosts of switches with underlay: (nve run starts them)
        self.underlay_hosts: dict[str, UnderlayHost] = {}
        # what each control-plane host's kernel resolved and routes (nve.underlay.kernel)
        self.kernel_views: dict[str, KernelView] = {}
        # Switches whose control-plane host just started (nve.underlay.hosts), until when:
        # while its kernel has routes through neighbours not resolved again yet (they go
        # with the TAPs' carrier when the previous controller let go), a reconcile keeps
        # the underlay entries the switch holds instead of deleting them (the graceful
        # restart of the switch's forwarding state; docs/underlay.md).
        self.underlay_grace: dict[str, float] = {}
        self.sessions: dict[str, SwitchSession] = {}
        self.states: dict[str, SwitchState] = {}
        self._checked: dict[
            str, tuple[Overlay, list[LearnedEndpoint], TargetInfo | None, SwitchState]
        ] = {}
        # Reconciles and endpoint patches hold the switches they work on, nothing else
        # (nve.switch_locks): a switch being read whole after a takeover, or one that
        # stopped answering, holds back no other switch's work.
        self._locks = SwitchLocks()
        self._gc = SharedPause()
        # Full reconciles a store change asked for (apply_incremental) that have not
        # started yet, by switch, and the tasks that run them.
        self._asked: dict[str, asyncio.Task[None]] = {}
        self._asking: set[asyncio.Task[None]] = set()
        # What each switch holds, as this controller last wrote it in full (no failure, not
        # cut short): the next reconcile diffs against it instead of reading the switch.
        # Dropped when the switch may have changed behind it (a new connection or primary
        # role, a failed or cut-short write) and on demand (forget_installed).
        # Only where a store follower sends incremental changes (`nve run --store`,
        # replicas): `nve run FILE` reads each switch on every reconcile, as before.
        self.trust_installed = False
        self.believed: dict[str, list[Entity]] = {}
        self._believed_at: dict[str, dict[EntityKey, int]] = {}  # key -> position in believed
        # Reconciles the switches a store change touched (set by nve run / a replica).
        self.on_change: OnChange | None = None
        # Told each MAC learned (True) or aged out (False): the store follower publishes them.
        self.on_learned: Callable[[LearnedEndpoint, bool], None] | None = None

    # -- the description and what the data plane taught -----------------------------------
    def reload(self, loaded: LoadedOverlay) -> None:
        """Use a new (already validated) description from the next reconcile on."""
        self.loaded, self.overlay = loaded, loaded.overlay
        self.index = OverlayIndex.build(loaded.overlay)

    def learn(self, le: LearnedEndpoint) -> bool:
        """A MAC a switch reported (digest): True if the desired state changed.

        A configured endpoint is never replaced by a learned one; a MAC that moved
        replaces its old place (one location per (VSID, MAC)); the switch's `learning`
        limits decide the rest (nve.learning)."""
        if (le.vsid, le.mac) in self.index.macs:
            return False
        limits = self._switch_learning(le.switch)
        out = self.learned.offer(le, limits)
        damp = limits.move_dampening
        if out.pinned and damp is not None:  # only dampening pins
            log.warning(
                "%s: %s in VSID 0x%06X moves too often (more than %d moves in %g s): "
                "held on its port for %g s",
                le.switch,
                le.mac,
                le.vsid,
                damp.moves,
                damp.window_s,
                damp.hold_s,
            )
        elif out.refused == DAMPENED:
            log.info(
                "%s: %s in VSID 0x%06X held: move to port %d refused",
                le.switch,
                le.mac,
                le.vsid,
                le.port,
            )
        elif out.refused is not None:
            n = self.learned.refused[out.refused]
            if n & (n - 1) == 0:  # the 1st, 2nd, 4th, 8th ... refusal: bounded logging
                log.info(
                    "%s: %s in VSID 0x%06X on port %d not learned (%s; %d refused so far)",
                    le.switch,
                    le.mac,
                    le.vsid,
                    le.port,
                    out.refused,
                    n,
                )
        if out.changed:
            self.stats.learned += 1
            if self.on_learned is not None:
                self.on_learned(le, True)
        return out.changed

    def _switch_learning(self, name: str) -> Learning:
        for sw in self.overlay.switches:
            if sw.name == name:
                return sw.learning
        return Learning()

    def age_out(self, switch: str, vsid: int, mac: Mac) -> bool:
        """A learned MAC whose entry timed out: True if it was known (and is now forgotten)."""
        le = self.learned.get(switch, vsid, mac)
        if le is None or not self.learned.forget(switch, vsid, mac):
            return False
        self.stats.aged += 1
        if self.on_learned is not None:
            self.on_learned(le, False)
        return True

    def apply_learned(self, changes: Sequence[LearnedChange]) -> set[int]:
        """Learned MACs other controllers (or this one) wrote to the store: the VSIDs whose
        learned MACs changed here (configured endpoints' MACs are never taken)."""
        vsids: set[int] = set()
        for ch in changes:
            if (ch.vsid, ch.mac) in self.index.macs:
                continue
            if ch.learned is not None:
                if self.learned.put(ch.learned):
                    vsids.add(ch.vsid)
                continue
            held = self.learned.where(ch.vsid, ch.mac)
            if held is not None and self.learned.forget(held.switch, ch.vsid, ch.mac):
                vsids.add(ch.vsid)
        return vsids

    def count_packet_in(self, reason: str) -> None:
        self.stats.packet_ins[reason] = self.stats.packet_ins.get(reason, 0) + 1

    # -- without switches -----------------------------------------------------------------
    def load_pipelines(self) -> None:
        cache: dict[str, PipelineArtifacts] = {}
        for sw in self.overlay.switches:
            if sw.name not in self.selected:
                continue
            key = sw.pipeline.model_dump_json()
            if key not in cache:
                try:
                    cache[key] = load_pipeline(sw.pipeline, self.loaded.base_dir)
                except PipelineError as exc:
                    raise ControllerError(f"switch {sw.name}: pipeline: {exc}") from None
            self.pipelines[sw.name] = cache[key]
            if sw.tls is not None:
                try:
                    self.tls[sw.name] = load_client_tls(sw.tls, self.loaded.base_dir)
                except TlsError as exc:
                    raise ControllerError(f"switch {sw.name}: {exc}") from None

    def check(self, with_pipeline: bool = True, compile_switches: bool = True) -> list[Problem]:
        """All problems of the description, located in the file; empty means it can be
        applied. Without `compile_switches` the switches are not compiled here (a replica
        compiles those it is given, when it reconciles them, and reports their problems
        then: compiling all of a fleet's switches would take each replica minutes)."""
        with gc_paused():  # validation and compilation build large acyclic structures
            return self._check(with_pipeline, compile_switches)

    def _check(self, with_pipeline: bool, compile_switches: bool = True) -> list[Problem]:
        problems = validate_overlay(self.overlay)
        if problems:
            return self.loaded.locate(problems)
        if with_pipeline:
            self.load_pipelines()
        if not compile_switches:
            return []
        for pos, sw in enumerate(self.overlay.switches):
            if sw.name not in self.selected:
                continue
            learned = self._learned()
            pipeline = self.pipelines.get(sw.name)
            target = TargetInfo.from_p4index(P4Index(pipeline.p4info)) if pipeline else None
            state = compile_switch(self.overlay, sw.name, learned, target=target, index=self.index)
            # Kept for the first reconcile: on a switch that holds no ids yet it compiles to the same.
            self._checked[sw.name] = (self.overlay, learned, target, state)
            problems.extend(blocking_problems(self.overlay, sw.name, state.problems))
            if sw.name in self.pipelines:
                index = P4Index(self.pipelines[sw.name].p4info)
                problems.extend(self._pipeline_problems(state, index, pos))
        return self.loaded.locate(problems)

    @staticmethod
    def _pipeline_problems(state: SwitchState, index: P4Index, pos: int) -> list[Problem]:
        missing = sorted(
            {
                e.table
                for e in state.entities
                if isinstance(e, TableEntry) and e.table and not index.has_table(e.table)
            }
        )
        out = [
            Problem(
                ("switches", pos, "pipeline"),
                f"the pipeline has no table {t} (see docs/pipeline.md)",
            )
            for t in missing
        ]
        sizes = {t.name: t.size for t in index.tables()}
        counter_sizes = {c.name: c.size for c in index.counters()}
        out.extend(capacity_problems(state, sizes, pos, counter_sizes))
        return out

    # -- with switches --------------------------------------------------------------------
    async def connect(self) -> None:
        """Connect to every selected switch (pushing pipelines where missing or different)."""
        if not self.pipelines:
            self.load_pipelines()
        sessions = self._new_sessions()
        results = await asyncio.gather(
            *(s.connect_once() for s in sessions.values()), return_exceptions=True
        )
        errors = [
            f"{name}: {r}" if not str(r).startswith(name) else str(r)
            for name, r in zip(sessions, results)
            if isinstance(r, BaseException)
        ]
        for name, r in zip(sessions, results):
            if not isinstance(r, BaseException):
                self.sessions[name] = sessions[name]
        if errors:
            await self.close()
            raise ControllerError("; ".join(errors))

    def _new_sessions(
        self,
        on_ready: ReadyHook | None = None,
        on_event: EventSink | None = None,
    ) -> dict[str, SwitchSession]:
        if not self.pipelines:
            self.load_pipelines()
        return {
            sw.name: SwitchSession(
                sw,
                self.pipelines[sw.name],
                on_ready=on_ready,
                on_event=on_event,
                tls=self.tls.get(sw.name),
                rpc_timeout=self.rpc_timeout,
            )
            for sw in self.overlay.switches
            if sw.name in self.selected
        }

    def start_sessions(
        self,
        on_ready: ReadyHook,
        on_event: EventSink,
    ) -> dict[str, SwitchSession]:
        """Sessions that keep their switch connected (`SwitchSession.run`), for `nve run`."""
        self.sessions.update(self._new_sessions(on_ready, on_event))
        return self.sessions

    async def close(self) -> None:
        for task in list(self._asking):
            task.cancel()
        await asyncio.gather(*self._asking, return_exceptions=True)
        for s in self.sessions.values():
            if s.client is not None:
                await s.client.close()
                s.client = None

    def _learned(self) -> list[LearnedEndpoint]:
        return sorted(self.learned.values(), key=lambda le: (le.switch, le.vsid, le.mac))

    async def targets(
        self, names: Sequence[str] | None = None, unreachable: dict[str, str] | None = None
    ) -> list[Target]:
        """Read each switch, compile its desired state reusing its ids, and pair them up.

        The switches not trusted (nothing believed) are read side by side. With
        `unreachable` given, each is pinged first, and one that does not answer the ping
        or fails its Read is left out and recorded there (name -> why) instead of failing
        the call: a reconcile of several switches goes on without a hung one (after the
        ping's deadline, seconds) instead of waiting for its Read deadline (minutes). A
        switch left out holds back no other's break phase: it is written neither way."""
        chosen = [n for n in names or list(self.sessions) if self.sessions[n].client is not None]
        isolate = unreachable is not None
        read = await asyncio.gather(
            *(self._installed(n, ping=isolate) for n in chosen), return_exceptions=isolate
        )
        out = []
        for name, got in zip(chosen, read):
            if isinstance(got, BaseException):
                if not isinstance(got, SwitchError) or unreachable is None:
                    raise got
                unreachable[name] = str(got)
                log.debug("%s: left out of this reconcile: %s", name, got)
                continue
            installed, trusted = got
            session = self.sessions[name]
            assert session.client is not None
            state = self._compiled(name, Allocations.from_installed(installed))
            held = self.underlay_held(name)
            await asyncio.sleep(0)  # let the loop breathe between switches (seconds each)
            blocking = blocking_problems(self.overlay, name, state.problems)
            if blocking:
                raise ControllerError("; ".join(str(p) for p in self.loaded.locate(blocking)))
            for p in state.problems:
                log.info("%s: %s (waiting for the host's kernel to route it)", name, p.message)
            self.states[name] = state
            out.append(
                Target(
                    name,
                    session.client,
                    session.index,
                    state.entities,
                    C.TIERS,
                    is_local_attachment,
                    installed,
                    trusted=trusted,
                    keep=_underlay_entry if held else _nothing,
                )
            )
        return out

    async def _installed(self, name: str, ping: bool) -> tuple[list[Entity], bool]:
        """What switch `name` holds (believed, or read) and whether it was believed."""
        installed = self.believed.get(name)
        if installed is not None:
            return installed, True
        session = self.sessions[name]
        client = session.client
        assert client is not None
        if ping:
            await client.ping()
        return await read_installed(client, session.index, C.TIERS), False

    def underlay_held(self, name: str) -> bool:
        """Whether switch `name`'s underlay entries are kept (its host's grace: until the
        kernel's routes are resolved again, or the deadline)."""
        deadline = self.underlay_grace.get(name)
        if deadline is None:
            return False
        view = self.kernel_views.get(name)
        if time.monotonic() < deadline and (view is None or not view.resolved):
            return True
        del self.underlay_grace[name]
        log.info("%s: underlay grace over (kernel routes resolved or time up)", name)
        return False

    def _compiled(self, name: str, previous: Allocations) -> SwitchState:
        """compile_switch, reusing check()'s result when it used the same inputs: the same
        description and learned MACs, and a switch with no ids to keep (compilation is
        deterministic, so the result is the same; 100,000 endpoints take about a second)."""
        learned = self._learned()
        target = TargetInfo.from_p4index(self.sessions[name].index)
        view = self.kernel_views.get(name)
        if view is not None:  # next hops and routes the switch's kernel resolved
            self._checked.pop(name, None)
            return compile_switch(
                with_kernel(self.overlay, name, view), name, learned, previous, target
            )
        cached = self._checked.pop(name, None)
        if (
            cached is not None
            and cached[0] is self.overlay
            and cached[1] == learned
            and cached[2] == target
            and previous == Allocations()
        ):
            return cached[3]
        return compile_switch(self.overlay, name, learned, previous, target, self.index)

    async def reconcile(
        self, *, dry_run: bool = False, names: Sequence[str] | None = None
    ) -> ReconcileReport:
        # The collector is paused for the bulk work (read, compile, diff, encode): see nve.gcpause.
        chosen = list(names or self.sessions)
        async with self._locks.hold(chosen):
            for name in chosen:  # this one reads every change so far: asked ones are met
                self._asked.pop(name, None)
            with self._gc.paused():
                started = time.monotonic()
                unreachable: dict[str, str] = {}
                targets = await self.targets(chosen, unreachable)
                report = await reconcile(
                    targets, dry_run=dry_run, journal=self.journal, progress=self.progress
                )
                for name, why in unreachable.items():
                    report.switches[name] = SwitchReport(name, Plan(), skipped=why, left_out=True)
                if not dry_run:
                    self._remember(targets, report)
                    self.stats.reconciles += 1
                    self.stats.writes += report.writes
                    self.stats.write_errors += len(report.failures)
                    self.stats.last_reconcile_seconds = time.monotonic() - started
                return report

    def _remember(self, targets: Sequence[Target], report: ReconcileReport) -> None:
        if not self.trust_installed:
            return
        failed = {f.switch for f in report.failures}
        for t in targets:
            rep = report.switches.get(t.name)
            self._believed_at.pop(t.name, None)
            kept = t.keep is not _nothing  # the switch holds more than desired: read it next
            if rep is None or rep.skipped or t.name in failed or t.canonical is None or kept:
                self.believed.pop(t.name, None)
            else:
                self.believed[t.name] = t.canonical
                # Each switch's key maps are built now, inside the reconcile, not by the
                # first endpoint patch after it: at a million endpoints that is 0.1-0.3 s
                # a switch, which a move right after a takeover would wait for.
                self._believed_at[t.name] = key_positions(t.canonical)
                state = self.states.get(t.name)
                if state is not None and state.positions is None:
                    state.positions = key_positions(state.entities)

    def forget_installed(self, name: str | None = None) -> None:
        """The next reconcile of `name` (None: every switch) reads the switch whole."""
        if name is None:
            self.believed.clear()
            self._believed_at.clear()
        else:
            self.believed.pop(name, None)
            self._believed_at.pop(name, None)

    def reload_endpoints(
        self, loaded: LoadedOverlay, old: list[Endpoint], new: list[tuple[int, Endpoint]]
    ) -> None:
        """reload() for a description that differs only in endpoints `old` -> `new` (with
        their order keys; the index's `order` already updated by
        nve.store.incremental.apply_changes): the index is updated, not rebuilt."""
        self.loaded, self.overlay = loaded, loaded.overlay
        self.index.replace_endpoints(old, new)

    async def apply_endpoint_changes(
        self, old: Sequence[Endpoint], names: set[str], touched: set[str]
    ) -> None:
        """A store batch changed the endpoints `names` (`old`: their versions before it;
        `self.index` is after) and touched these switches. Those this controller is
        primary for and trusts get only the changed endpoints' entries
        (nve.endpoint_patch); the others, and any the patch refuses or whose Write fails,
        are reconciled in full (apply_incremental)."""
        new = [self.index.endpoints[n][1] for n in sorted(names) if n in self.index.endpoints]
        # A switch with no trusted state gets a full reconcile anyway, and so does one
        # that a reconcile holds or waits for (it may be being read whole, or not
        # answering): the patch waits for neither, the store follower goes on.
        trusted = sorted(n for n in touched if n in self.believed and not self._locks.busy(n))
        rest: set[str] = set(touched) - set(trusted)
        async with self._locks.hold(trusted):
            learned = self._learned()
            ready: list[tuple[SwitchPatch, list[Entity], dict[EntityKey, int]]] = []
            for name in trusted:
                try:
                    ready.append(self._plan_patch(name, old, new, learned))
                except NeedsFullCompile as exc:
                    log.debug("%s: full reconcile: %s", name, exc)
                    rest.add(name)
            # Make before break across the switches: every switch's inserts and modifies
            # that add reachability are acknowledged before any takes some away. Within
            # a phase the switches are written side by side (one after another, a move
            # that touches ten switches waited for ten round trips).
            for phase in ("make", "brk"):
                todo = [
                    (patch.name, batch)
                    for patch, _, _ in ready
                    if patch.name not in rest
                    and (batch := patch.make if phase == "make" else patch.brk)
                ]
                done = await asyncio.gather(*(self._write_patch(n, b) for n, b in todo))
                rest.update(name for (name, _), ok in zip(todo, done, strict=True) if not ok)
            for patch, believed, positions in ready:
                if patch.name in rest:
                    self.forget_installed(patch.name)
                    continue
                self.believed[patch.name] = believed
                self._believed_at[patch.name] = positions
                self.stats.endpoint_patches += 1
        patched = sorted(p.name for p, _, _ in ready if p.name not in rest)
        if patched:
            log.info("endpoint entries patched on %s", ",".join(patched))
        await self.apply_incremental(rest)

    def _plan_patch(
        self,
        name: str,
        old: Sequence[Endpoint],
        new: Sequence[Endpoint],
        learned: Sequence[LearnedEndpoint],
    ) -> tuple[SwitchPatch, list[Entity], dict[EntityKey, int]]:
        """The switch's patch and its believed state after it (NeedsFullCompile if the
        switch cannot be patched)."""
        session = self.sessions.get(name)
        state = self.states.get(name)
        believed = self.believed.get(name)
        if session is None or session.client is None or not session.state.primary:
            raise NeedsFullCompile("not primary")  # on_change decides what to do with it
        if state is None or believed is None or name in self.kernel_views:
            raise NeedsFullCompile("no trusted state")
        target = TargetInfo.from_p4index(session.index)
        delta = patch_endpoints(self.overlay, self.index, name, state, old, new, learned, target)
        # The patched state is the description's, written or not; it took over the old
        # state's entity list (nve.compile.delta.replace_entries), so it replaces it now.
        self.states[name] = delta.state
        patch = plan_patch(name, delta, session.index)
        after, positions = believed_after(believed, self._believed_at.get(name), patch)
        return patch, after, positions

    async def _write_patch(self, name: str, batch: list[Change]) -> bool:
        session = self.sessions[name]
        client = session.client
        if client is None or not session.state.primary:
            return False
        try:
            result = await client.write(to_updates(batch, session.index))
        except SwitchError as exc:
            log.warning("%s: endpoint update: %s", name, exc)
            return False
        self.stats.writes += len(batch) - len(result.errors)
        self.stats.write_errors += len(result.errors)
        for err in result.errors:
            log.warning("%s: endpoint update %s: %s", name, batch[err.index].describe(), err)
        return result.ok

    async def apply_incremental(self, names: set[str]) -> None:
        """A store change touched these switches: reconcile them (on_change), in the
        background, each on its own. The caller (the store follower) goes on with the
        next change, so a switch that is slow to read or not answering holds back only
        its own reconciles (not the other switches of the change: their make-before-break
        order is each switch's own here; patches keep it across switches); a switch
        whose asked reconcile has not started yet is not asked again (the one that
        starts compiles every change so far)."""
        self._ask(names, later=False)

    def retry_later(self, names: Iterable[str]) -> None:
        """These switches were left out of a reconcile or cut short: reconcile each on its
        own in the background after nve.retry's first wait (and again while it fails)."""
        self._ask(set(names), later=True)

    def _ask(self, names: set[str], later: bool) -> None:
        if self.on_change is None:
            return
        for name in sorted(names):
            if name in self._asked:
                continue
            task = asyncio.create_task(self._reconcile_asked(self.on_change, [name], later))
            self._asked[name] = task
            self._asking.add(task)
            task.add_done_callback(self._asking.discard)

    async def _reconcile_asked(self, on_change: OnChange, names: list[str], later: bool) -> None:
        """on_change(names) (`later`: after nve.retry's first wait), and again on its own
        (the waits doubling) for the switches it left out or cut short, unless a newer
        change asked for them meanwhile."""
        me = asyncio.current_task()
        assert me is not None
        wait = RETRY_FIRST_S
        try:
            if later:
                await asyncio.sleep(wait)
                wait = longer(wait)
            while True:
                try:
                    again = await on_change(names)
                except Exception:
                    log.exception("reconcile of %s after a store change failed", ", ".join(names))
                    return
                # reconcile() un-asked them when it started: asked again, unless newer
                names = [n for n in again or [] if self._asked.setdefault(n, me) is me]
                if not names:
                    return
                log.info("%s: reconciled again in %.0f s", ", ".join(names), wait)
                await asyncio.sleep(wait)
                wait = longer(wait)
        finally:
            for n in names:  # not reconciled (not primary, failed): ask again next time
                if self._asked.get(n) is me:
                    del self._asked[n]

    async def show(self, name: str) -> SwitchView:
        """`nve show`: what switch `name` should hold, what it holds, and the difference."""
        session = self.sessions[name]
        desired, installed = await self.desired_and_installed(name)
        if session.state.primary:
            role = "primary"
        elif session.client is not None:
            role = f"read-only: {session.client.read_only_reason}"
        else:
            role = "read-only"
        return SwitchView(
            name,
            session.switch.address,
            role,
            desired,
            installed,
            diff(desired, installed, is_local_attachment),
            self.learned_from_installed(name, installed),
        )

    async def counters(self, name: str) -> SwitchCounters:
        """Counters of switch `name` named by VSID, drop reason and remote NVE (`nve stats`)."""
        from nve.stats import collect  # stats reads the controller's compiled states

        if name not in self.states:
            await self.targets([name])  # compiles the state (vsi/tunnel ids) against the switch
        return await collect(self, name)

    async def desired_and_installed(self, name: str) -> tuple[list[Entity], list[Entity]]:
        """For `nve show`: what the description asks for and what the switch holds."""
        session = self.sessions[name]
        assert session.client is not None
        installed = await read_installed(session.client, session.index, C.TIERS)
        state = compile_switch(
            self.overlay,
            name,
            self._learned(),
            Allocations.from_installed(installed),
            TargetInfo.from_p4index(session.index),
            self.index,
        )
        self.states[name] = state
        desired = [canonical_names(e, session.index) for e in state.entities]
        return desired, installed + await read_cells(session.client, session.index, desired)

    def learned_from_installed(
        self, name: str, installed: Sequence[Entity]
    ) -> list[LearnedEndpoint]:
        """Learned MACs present on a switch: learn.smac entries with an idle timeout."""
        state = self.states.get(name)
        if state is None:
            return []
        by_vsi = {i: v for v, i in state.vsi.items()}
        out: list[LearnedEndpoint] = []
        for e in installed:
            if isinstance(e, TableEntry) and e.table == Table.LEARN_SMAC and e.idle_timeout_ns:
                m = dict(e.match)
                vsid = by_vsi.get(match_value(m[Key.VSI]))
                if vsid is not None:
                    out.append(
                        LearnedEndpoint(
                            name, vsid, Mac(match_value(m[Key.MAC])), match_value(m[Key.PORT])
                        )
                    )
        return out


def _underlay_entry(e: Entity) -> bool:
    return isinstance(e, TableEntry) and e.table in _UNDERLAY_TABLES


def _nothing(e: Entity) -> bool:
    return False


_UNDERLAY_TABLES = frozenset(
    {
        Table.UNDERLAY_ROUTES_V4,
        Table.UNDERLAY_ROUTES_V6,
        Table.UNDERLAY_ECMP,
        Table.UNDERLAY_NEXTHOP,
    }
)


def blocking_problems(overlay: Overlay, name: str, problems: list[Problem]) -> list[Problem]:
    """The compile problems that stop switch `name` from being written. A switch with a
    control-plane host takes its underlay routes from the host's kernel (BGP, static
    routes there): a remote PA without a route yet is a tunnel that waits for one (its
    replicas are not written), not an error."""
    pos, sw = next((i, s) for i, s in enumerate(overlay.switches) if s.name == name)
    if sw.underlay is None:
        return problems
    waiting: ConfigPath = ("switches", pos, "underlay_routes")
    return [p for p in problems if tuple(p.path) != waiting]
