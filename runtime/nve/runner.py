"""`nve run`: keep every switch reconciled, follow events, reconnects and file edits,
and serve Prometheus metrics (switch counters and the controller's own numbers).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import signal
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from nve.compile.limits import storm_rate
from nve.controller import Controller, ControllerError
from nve.events import EventHandler
from nve.learning import REASONS
from nve.loader import OverlayError, load_overlay
from nve.p4rt_client import SwitchError
from nve.reconcile import ReconcileReport
from nve.retry import Retry
from nve.session import SwitchSession
from nve.tasks import cancel_and_wait
from nve.underlay.bgp_service import BgpService
from nve.underlay.hosts import HostError, UnderlayHosts
from nve.validate import validate_overlay

if TYPE_CHECKING:
    from nve.stats import SwitchCounters

log = logging.getLogger("nve.run")


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line: machine-readable logs for `nve run`."""

    def format(self, record: logging.LogRecord) -> str:
        doc = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info:
            doc["exc"] = self.formatException(record.exc_info)
        return json.dumps(doc, sort_keys=True)


class MetricsCollector:
    """Prometheus collector reading the controller's latest numbers (refreshed by the run loop)."""

    def __init__(self, ctl: Controller, bgp: BgpService | None = None):
        self.ctl = ctl
        self.bgp = bgp or BgpService()
        self.counters: dict[str, SwitchCounters] = {}

    def collect(self) -> Iterator[Metric]:
        s = self.ctl.stats
        yield CounterMetricFamily("nve_reconciles", "reconcile runs", value=s.reconciles)
        yield CounterMetricFamily("nve_writes", "updates written", value=s.writes)
        yield CounterMetricFamily("nve_write_errors", "updates that failed", value=s.write_errors)
        yield GaugeMetricFamily(
            "nve_reconcile_seconds",
            "duration of the last reconcile",
            value=s.last_reconcile_seconds,
        )
        yield CounterMetricFamily("nve_learned", "MACs learned", value=s.learned)
        yield CounterMetricFamily("nve_aged", "learned MACs aged out", value=s.aged)
        yield CounterMetricFamily(
            "nve_fragmented", "customer IPv4 packets fragmented for a tunnel", value=s.fragmented
        )
        relayed = CounterMetricFamily(
            "nve_underlay_frames",
            "frames between network ports and the control-plane host's kernel",
            labels=["switch", "direction"],
        )
        for name, host in self.ctl.underlay_hosts.items():
            if host.relay is not None:
                st = host.relay.stats
                relayed.add_metric([name, "to_kernel"], st.to_kernel)
                relayed.add_metric([name, "from_kernel"], st.from_kernel)
                relayed.add_metric([name, "dropped"], st.dropped)
        yield relayed
        yield from self._bgp()
        refused = CounterMetricFamily(
            "nve_learn_refused", "reported MACs not learned, by reason", labels=["reason"]
        )
        for reason in REASONS:
            refused.add_metric([reason], self.ctl.learned.refused[reason])
        yield refused
        per_port = GaugeMetricFamily(
            "nve_learned_macs", "learned MACs per port", labels=["switch", "port"]
        )
        for name in self.ctl.sessions:
            for port, n in self.ctl.learned.ports_of(name).items():
                per_port.add_metric([name, str(port)], n)
        yield per_port
        yield from self._limits()
        yield GaugeMetricFamily(
            "nve_learned_macs_held",
            "MACs held by move dampening",
            value=len(self.ctl.learned.pinned()),
        )
        punts = CounterMetricFamily("nve_packet_ins", "packet-ins by reason", labels=["reason"])
        for reason, n in sorted(s.packet_ins.items()):
            punts.add_metric([reason], n)
        yield punts
        up = GaugeMetricFamily("nve_switch_connected", "1 if connected", labels=["switch"])
        primary = GaugeMetricFamily(
            "nve_switch_primary", "1 if this controller is primary", labels=["switch"]
        )
        for name, sess in self.ctl.sessions.items():
            up.add_metric([name], float(sess.state.connected))
            primary.add_metric([name], float(sess.state.primary))
        yield up
        yield primary
        pk = CounterMetricFamily(
            "nve_vsid_packets", "packets per VSID", labels=["switch", "vsid", "direction"]
        )
        by = CounterMetricFamily(
            "nve_vsid_bytes",
            "customer-frame bytes per VSID (as received on a pipeline before 3.7.0)",
            labels=["switch", "vsid", "direction"],
        )
        drops = CounterMetricFamily(
            "nve_drops", "dropped packets per reason", labels=["switch", "reason"]
        )
        remote = CounterMetricFamily(
            "nve_remote_nve_packets",
            "packets per remote NVE",
            labels=["switch", "remote", "direction"],
        )
        remote_bytes = CounterMetricFamily(
            "nve_remote_nve_bytes",
            "customer-frame bytes per remote NVE (as received on a pipeline before 3.7.0)",
            labels=["switch", "remote", "direction"],
        )
        for name, c in self.counters.items():
            for vsid, d in c.vsid.items():
                for direction, (p, b) in d.items():
                    pk.add_metric([name, f"0x{vsid:06X}", direction], p)
                    by.add_metric([name, f"0x{vsid:06X}", direction], b)
            for reason, (p, _) in c.drops.items():
                drops.add_metric([name, reason], p)
            for r, d in c.remote.items():
                for direction, (p, b) in d.items():
                    remote.add_metric([name, r, direction], p)
                    remote_bytes.add_metric([name, r, direction], b)
        storm = CounterMetricFamily(
            "nve_storm_dropped",
            "BUM frames dropped by storm control per access port",
            labels=["switch", "port"],
        )
        for name, c in self.counters.items():
            for port, n in c.storm.items():
                storm.add_metric([name, str(port)], n)
        yield pk
        yield by
        yield drops
        yield remote
        yield remote_bytes
        yield storm

    def _bgp(self) -> Iterator[Metric]:
        """BGP sessions of the control-plane hosts (nve.underlay.bgp_service)."""
        running = GaugeMetricFamily(
            "nve_bgp_running", "1 if the switch's FRR answers", labels=["switch"]
        )
        up = GaugeMetricFamily(
            "nve_bgp_session_up",
            "1 if the BGP session is Established",
            labels=["switch", "peer", "family"],
        )
        received = GaugeMetricFamily(
            "nve_bgp_prefixes_received",
            "prefixes received on the session",
            labels=["switch", "peer", "family"],
        )
        for name, state in sorted(self.bgp.states.items()):
            running.add_metric([name], float(state.running))
            for p in state.peers:
                up.add_metric([name, p.address, p.family], float(p.established))
                received.add_metric([name, p.address, p.family], p.prefixes_received)
        yield running
        yield up
        yield received

    def _limits(self) -> Iterator[Metric]:
        """The configured limits, beside the counts (nve_learned_macs, nve_storm_dropped)."""
        learn = GaugeMetricFamily(
            "nve_learning_limit",
            "learned MACs allowed per port or per VSID (0: no limit)",
            labels=["switch", "per"],
        )
        per_vsid = GaugeMetricFamily(
            "nve_learned_macs_vsid", "learned MACs per VSID", labels=["switch", "vsid"]
        )
        storm = GaugeMetricFamily(
            "nve_storm_control_pps",
            "storm control rate of an access port, frames per second (0: off)",
            labels=["switch", "port"],
        )
        for sw in self.ctl.overlay.switches:
            if sw.name not in self.ctl.sessions:
                continue
            learn.add_metric([sw.name, "port"], sw.learning.max_macs_per_port)
            learn.add_metric([sw.name, "vsid"], sw.learning.max_macs_per_vsid)
            for port in sw.ports:
                if port.role == "access":
                    storm.add_metric([sw.name, str(port.port)], storm_rate(sw, port))
        counts: dict[tuple[str, int], int] = {}
        for le in self.ctl.learned:
            counts[(le.switch, le.vsid)] = counts.get((le.switch, le.vsid), 0) + 1
        for (name, vsid), n in sorted(counts.items()):
            per_vsid.add_metric([name, f"0x{vsid:06X}"], n)
        yield learn
        yield per_vsid
        yield storm


Follower = Callable[[Controller, asyncio.Event], Coroutine[Any, Any, None]]


def serve_metrics(*collectors: Any, port: int = 0, addr: str = "127.0.0.1") -> None:
    """Prometheus on http://ADDR:PORT/metrics with these collectors."""
    registry = CollectorRegistry()
    for c in collectors:
        registry.register(c)
    start_http_server(port, addr=addr, registry=registry)
    log.info("metrics on http://%s:%d/metrics", addr, port)


async def run_forever(
    ctl: Controller, args: argparse.Namespace, follow: Follower | None = None
) -> None:
    """Reconcile and keep reconciling; `follow` watches the description's source (by
    default the file) and sets the event when it changed."""
    if not ctl.pipelines:
        ctl.load_pipelines()
    dirty = asyncio.Event()
    handler = EventHandler(ctl, dirty.set)
    bgp = BgpService()
    hosts = UnderlayHosts(ctl, asyncio.get_running_loop(), bgp, dirty.set)
    metrics = MetricsCollector(ctl, bgp)
    if getattr(args, "metrics_port", 0):
        serve_metrics(metrics, port=args.metrics_port, addr=args.metrics_addr)

    async def on_ready(session: SwitchSession) -> None:
        # Connected (again) or newly primary: restore this switch's state now, from a
        # full read (another controller may have written meanwhile).
        ctl.forget_installed(session.name)
        if session.state.primary:
            # left out or cut short: tried again in the background (nve.retry's waits)
            ctl.retry_later(await _reconcile(ctl, [session.name]))
            await hosts.ready(session.name)  # FRR starts, or retries now
        else:
            reason = (
                session.client.read_only_reason if session.client is not None else "not primary"
            )
            log.warning("%s: read-only: %s; not writing", session.name, reason)

    async def on_change(names: list[str]) -> list[str]:  # a store change touched these
        primary = set(_primary_names(ctl))
        if any(n in primary for n in names):
            return await _reconcile(ctl, [n for n in names if n in primary])
        return []

    ctl.on_change = on_change

    def read_again() -> None:  # SIGHUP: the next reconcile reads every switch whole
        log.info("SIGHUP: reading every switch again")
        ctl.forget_installed()
        dirty.set()

    with contextlib.suppress(NotImplementedError, RuntimeError):  # not the main thread
        asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, read_again)
    sessions = ctl.start_sessions(on_ready, handler)
    for name in ctl.selected:
        try:
            hosts.start(name)
        except HostError as exc:
            await hosts.close()
            raise ControllerError(str(exc)) from None
        hosts.watch(name)
    tasks = [asyncio.create_task(s.run(), name=f"session-{n}") for n, s in sessions.items()]
    tasks.append(asyncio.create_task(_reconcile_loop(ctl, dirty)))
    if ctl.underlay_hosts:
        tasks.append(asyncio.create_task(hosts.follow_bgp(), name="bgp"))
    tasks.append(asyncio.create_task((follow or _watch_file)(ctl, dirty)))
    tasks.append(asyncio.create_task(poll_counters(ctl, metrics)))
    try:
        await asyncio.gather(*tasks)
    finally:
        await cancel_and_wait(tasks)
        await hosts.close()
        await ctl.close()


def _primary_names(ctl: Controller) -> list[str]:
    return [n for n, s in ctl.sessions.items() if s.client is not None and s.state.primary]


async def _reconcile(ctl: Controller, names: list[str] | None = None) -> list[str]:
    """Reconcile `names` (default: every switch this controller is primary for); the
    switches to try again: left out or cut short (SwitchError: all of them)."""
    names = names or _primary_names(ctl)
    if not names:
        return []
    try:
        report = await ctl.reconcile(names=names)
    except SwitchError as exc:
        log.warning("reconcile: %s", exc)
        return names
    except Exception:
        log.exception("reconcile failed")
        return []
    for f in report.failures:
        log.warning("write failed: %s", f)
    for level, message in reconcile_summary(report, names):
        log.log(level, "%s", message)
    return [n for n, r in report.switches.items() if r.skipped]


def reconcile_summary(report: ReconcileReport, names: list[str]) -> list[tuple[int, str]]:
    """What a reconcile did, as log lines: one per switch whose reconcile was cut short
    (a lost connection, a lost primary role, a held-back break phase) or that was left
    out (not answering), saying why and what it did not write, then the summary line."""
    lines: list[tuple[int, str]] = []
    cut = 0
    for name, rep in report.switches.items():
        if not rep.skipped:
            continue
        cut += 1
        if rep.left_out:
            why = f"{name}: left out of the reconcile ({rep.skipped}): not read, nothing written"
            lines.append((logging.WARNING, f"{why}; tried again on its own"))
            continue
        planned = len(rep.plan.changes())
        left = max(0, planned - rep.written - len(rep.failures))
        message = (
            f"{name}: reconcile cut short ({rep.skipped}): {rep.written} of {planned}"
            f" planned updates written, {left} not written; the next reconcile reads"
            " the switch again"
        )
        lines.append((logging.WARNING, message))
    summary = (
        f"reconciled {','.join(names)}: {report.writes} written, {len(report.failures)} failed"
    )
    if cut:
        summary += f", {cut} switch{'es' if cut > 1 else ''} cut short"
    lines.append((logging.INFO, f"{summary}, {report.seconds:.3f}s"))
    return lines


async def _reconcile_loop(ctl: Controller, dirty: asyncio.Event) -> None:
    retry = Retry()
    while True:
        again = await retry.next(dirty)
        if again is not None:  # only the switches left out or cut short, on their own
            primary = set(_primary_names(ctl))
            names = [n for n in again if n in primary]
            retry.after(await _reconcile(ctl, names) if names else [], retried=True)
            continue
        await asyncio.sleep(0.05)  # coalesce bursts of digests
        dirty.clear()
        retry.after(await _reconcile(ctl), retried=False)


async def _watch_file(ctl: Controller, dirty: asyncio.Event, interval: float = 1.0) -> None:
    path = Path(ctl.loaded.source)
    last = path.stat().st_mtime_ns if path.exists() else 0  # noqa: ASYNC240  # once, at start
    while True:
        await asyncio.sleep(interval)
        try:
            now = path.stat().st_mtime_ns  # noqa: ASYNC240  # a local stat() a second: no thread hop
        except OSError:
            continue
        if now == last:
            continue
        last = now
        try:
            loaded = load_overlay(path)
        except OverlayError as exc:
            log.error(
                "%s changed but does not load; keeping the previous description:\n%s", path, exc
            )
            continue
        problems = loaded.locate(validate_overlay(loaded.overlay))
        if problems:
            log.error(
                "%s changed but is invalid; keeping the previous description:\n%s",
                path,
                "\n".join(str(p) for p in problems),
            )
            continue
        ctl.reload(loaded)
        log.info("%s changed: reconciling", path)
        dirty.set()


async def poll_counters(ctl: Controller, metrics: MetricsCollector, interval: float = 5.0) -> None:
    """Read the counters of every connected switch into `metrics`, every `interval` s."""
    while True:
        await asyncio.sleep(interval)
        for name, s in list(ctl.sessions.items()):
            if s.client is None or name not in ctl.states:
                continue
            with contextlib.suppress(SwitchError):
                metrics.counters[name] = await ctl.counters(name)
