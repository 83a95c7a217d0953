"""`nve`: validate, apply, show, stats and run an overlay description.

Every failure ends with a non-zero exit status and a one-line reason on stderr
(validation lists one line per problem, each with file:line:col).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

from nve.compile import LearnedEndpoint
from nve.compile.limits import storm_rate
from nve.controller import Controller, ControllerError
from nve.loader import LoadedOverlay, OverlayError, load_overlay
from nve.p4rt_client import SwitchError
from nve.problems import Problem, format_problems
from nve.underlay.bgp_service import show_lines
from nve.underlay.host import namespace_of

if TYPE_CHECKING:
    from nve.runner import Follower

EXIT_OK, EXIT_INVALID, EXIT_FAILED, EXIT_USAGE = 0, 1, 2, 64
T = TypeVar("T")
DEFAULT_MAX_PROBLEMS = 100  # `nve validate` lines of problems before it only counts them


class _Fail(Exception):
    def __init__(self, message: str, code: int = EXIT_FAILED):
        super().__init__(message)
        self.code = code


def _count(text: str) -> int:
    try:
        value = int(text, 10)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a count (0, 1, 2, ...)")
    return value


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="nve", description="NVGRE overlay controller (P4Runtime)")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = p.add_subparsers(dest="command", required=True)
    v = sub.add_parser(
        "validate", help="check a description (and compile it) without touching any switch"
    )
    v.add_argument("file")
    v.add_argument(
        "--no-pipeline", action="store_true", help="skip loading/compiling the P4 pipeline"
    )
    v.add_argument(
        "--max-problems",
        type=_count,
        default=DEFAULT_MAX_PROBLEMS,
        metavar="N",
        help=f"print at most N problems, then how many more there are (default {DEFAULT_MAX_PROBLEMS})",
    )
    a = sub.add_parser("apply", help="make the switches match the description")
    a.add_argument("file")
    a.add_argument("--switch", action="append", default=[], help="only this switch (repeatable)")
    a.add_argument("--dry-run", action="store_true", help="print the changes, write nothing")
    s = sub.add_parser("show", help="desired vs installed state per switch")
    s.add_argument("file")
    s.add_argument("--switch", action="append", default=[])
    s.add_argument("--all", action="store_true", help="list every entry, not only differences")
    st = sub.add_parser(
        "stats",
        help="counters per VSID, drop reason and remote NVE",
        description="Packets and bytes per VSID, drop reason and remote NVE. Bytes are "
        "frames as the switch received them: encap/tx count the customer frame from the "
        "access port (802.1Q tag included), decap/rx the whole NVGRE packet (outer headers "
        "included); compare packets across directions (docs/pipeline.md, Counters).",
    )
    st.add_argument("file")
    st.add_argument("--switch", action="append", default=[])
    st.add_argument("--json", action="store_true")
    r = sub.add_parser("run", help="reconcile, then watch events, reconnects and file changes")
    r.add_argument("file", nargs="?", help="the description (or --store)")
    r.add_argument(
        "--store",
        metavar="etcd[s]://HOST:PORT[/PREFIX][?ca=F&cert=F&key=F]",
        help="follow the overlay in etcd instead of a file (docs/fleet.md)",
    )
    r.add_argument("--switch", action="append", default=[])
    r.add_argument(
        "--replica",
        metavar="NAME",
        help="one replica of a fleet: drive the switches the fleet in --store gives this "
        "replica (docs/fleet-ownership.md); FILE, if given, instead of the store's overlay",
    )
    r.add_argument(
        "--lease-ttl", type=int, default=5, metavar="S", help="the replica's lease (default 5 s)"
    )
    r.add_argument(
        "--epoch",
        type=int,
        default=None,
        metavar="N",
        help="high word of the replica's election ids (default: PREFIX/epoch in etcd, else 0)",
    )
    r.add_argument(
        "--metrics-port", type=int, default=9105, help="Prometheus port on 127.0.0.1 (0: off)"
    )
    r.add_argument("--metrics-addr", default="127.0.0.1")
    r.add_argument("--log-json", action="store_true", help="one JSON object per log line")
    from nve.store.cli import add_parsers

    add_parsers(sub)
    return p


def _progress(msg: str) -> None:
    print(f"  {msg}", file=sys.stderr, flush=True)


def _load(path: str, max_problems: int | None = None) -> LoadedOverlay:
    try:
        return load_overlay(path)
    except OverlayError as exc:
        raise _Fail(_problems_text(exc.problems, max_problems), EXIT_INVALID) from None


def _problems_text(problems: Sequence[Problem], max_problems: int | None) -> str:
    return format_problems(problems, max_problems, hint=" (--max-problems N shows more)")


def _checked_controller(
    args: argparse.Namespace, progress: Callable[[str], None] | None = None
) -> Controller:
    max_problems: int | None = getattr(args, "max_problems", None)
    loaded = _load(args.file, max_problems)
    try:
        ctl = Controller(loaded, only=getattr(args, "switch", None) or None, progress=progress)
        problems = ctl.check(with_pipeline=not getattr(args, "no_pipeline", False))
    except ControllerError as exc:
        raise _Fail(str(exc)) from None
    if problems:
        raise _Fail(_problems_text(problems, max_problems), EXIT_INVALID)
    return ctl


def cmd_validate(args: argparse.Namespace) -> int:
    ctl = _checked_controller(args)
    print(
        f"{args.file}: valid ({len(ctl.overlay.switches)} switches, {len(ctl.overlay.tenants)} tenants, "
        f"{sum(len(t.subnets) for t in ctl.overlay.tenants)} subnets, {len(ctl.overlay.endpoints)} endpoints)"
    )
    return EXIT_OK


async def _apply(args: argparse.Namespace) -> int:
    ctl = _checked_controller(args, progress=None if args.dry_run else _progress)
    try:
        await ctl.connect()
        report = await ctl.reconcile(dry_run=args.dry_run)
    except (ControllerError, SwitchError) as exc:
        raise _Fail(str(exc)) from None
    finally:
        await ctl.close()
    for name, rep in report.switches.items():
        counts = rep.plan.counts()
        print(
            f"{name}: {counts['insert']} insert, {counts['modify']} modify, {counts['delete']} delete"
            + ("" if args.dry_run else f"; {rep.written} written")
        )
        if args.dry_run:
            for change in rep.plan.changes():
                print(f"  {change.describe()}")
    for failure in report.failures:
        print(f"failed: {failure}", file=sys.stderr)
    skipped = [f"{n}: {r.skipped}" for n, r in report.switches.items() if r.skipped]
    if report.failures or skipped:
        reason = skipped[0] if skipped else f"{len(report.failures)} updates failed"
        raise _Fail(reason)
    return EXIT_OK


def _learning_limits(ctl: Controller, switch: str) -> str:
    """The switch's learning limits, as `nve show` prints them."""
    lim = next(sw.learning for sw in ctl.overlay.switches if sw.name == switch)
    parts = [
        f"{lim.max_macs_per_port or 'any'} MACs per port",
        f"{lim.max_macs_per_vsid or 'any'} per VSID",
        f"{lim.rate_per_s or 'unlimited'} per s",
    ]
    d = lim.move_dampening
    parts.append(
        f"held {d.hold_s:g} s after {d.moves} moves in {d.window_s:g} s" if d else "no dampening"
    )
    parts.append(f"over the limit: {lim.over_limit}")
    return ", ".join(parts)


def _limit_lines(ctl: Controller, switch: str, learned: Sequence[LearnedEndpoint]) -> list[str]:
    """`nve show`: per access port its learned MACs (on the switch) against the limit and
    its storm control rate; per VSID with learned MACs the same count."""
    sw = next(sw for sw in ctl.overlay.switches if sw.name == switch)
    lim = sw.learning
    per_port = Counter(le.port for le in learned)
    per_vsid = Counter(le.vsid for le in learned)
    lines = []
    for port in sw.ports:
        if port.role != "access":
            continue
        pps = storm_rate(sw, port)
        lines.append(
            f"  port {port.port}: {per_port[port.port]}/{lim.max_macs_per_port or 'any'} MACs"
            f" learned, storm control {f'{pps} pps' if pps else 'off'}"
        )
    for vsid, n in sorted(per_vsid.items()):
        lines.append(f"  VSID 0x{vsid:06X}: {n}/{lim.max_macs_per_vsid or 'any'} MACs learned")
    return lines


async def _show(args: argparse.Namespace) -> int:
    ctl = _checked_controller(args)
    try:
        await ctl.connect()
        for name in ctl.sessions:
            view = await ctl.show(name)
            print(
                f"== {name} ({view.address}, {view.role}): {len(view.desired)} desired, "
                f"{len(view.installed)} installed, {len(view.plan.changes())} differences"
            )
            if args.all:
                for e in sorted(view.installed, key=lambda e: repr(e.key)):
                    print(f"  = {e.describe()}")
            for c in view.plan.changes():
                sign = {"insert": "+", "delete": "-", "modify": "~"}[c.op]
                print(f"  {sign} {c.entity.describe()}")
            print(f"  learning: {_learning_limits(ctl, name)}")
            for line in _limit_lines(ctl, name, view.learned):
                print(line)
            for le in view.learned:
                print(f"  learned: VSID 0x{le.vsid:06X} {le.mac} port {le.port}")
            sw = next(s for s in ctl.overlay.switches if s.name == name)
            if sw.underlay is not None and sw.underlay.bgp is not None:
                for line in show_lines(sw, namespace_of(sw)):
                    print(line)
    except (ControllerError, SwitchError) as exc:
        raise _Fail(str(exc)) from None
    finally:
        await ctl.close()
    return EXIT_OK


async def _stats(args: argparse.Namespace) -> int:
    from nve.stats import format_table

    ctl = _checked_controller(args)
    try:
        await ctl.connect()
        result = {name: await ctl.counters(name) for name in ctl.sessions}
    except (ControllerError, SwitchError) as exc:
        raise _Fail(str(exc)) from None
    finally:
        await ctl.close()
    if args.json:
        print(json.dumps({n: s.as_dict() for n, s in result.items()}, indent=1, sort_keys=True))
    else:
        for name, s in result.items():
            print(format_table(name, s))
    return EXIT_OK


async def _run(args: argparse.Namespace) -> int:
    from nve.runner import run_forever

    if args.replica is not None:
        return await _run_replica(args)
    if (args.file is None) == (args.store is None):
        raise _Fail("give a description file or --store etcd://HOST:PORT[/PREFIX]", EXIT_USAGE)
    follow: Follower | None = None
    if args.store is not None:
        ctl, follow = await _stored_controller(args)
    else:
        ctl = _checked_controller(args, progress=None)
    try:
        await run_forever(ctl, args, follow)
    except (ControllerError, SwitchError) as exc:
        raise _Fail(str(exc)) from None
    return EXIT_OK


async def _run_replica(args: argparse.Namespace) -> int:
    """`nve run --store URL --replica NAME [FILE]`: one replica of a fleet (nve.fleet)."""
    from nve.fleet.ownership import FleetError
    from nve.fleet.replica import FleetReplica, serve_until_signalled
    from nve.store.etcd import StoreError
    from nve.store.url import StoreUrl

    if args.store is None:
        raise _Fail("--replica needs --store etcd://HOST:PORT[/PREFIX]", EXIT_USAGE)
    try:
        url = StoreUrl.parse(args.store)
    except ValueError as exc:
        raise _Fail(str(exc), EXIT_USAGE) from None
    follow: Follower | None = None
    if args.file is None:
        ctl, follow = await _stored_controller(args)
    else:
        ctl = _checked_controller(args, progress=None)
    try:
        replica = FleetReplica(ctl, url, args.replica, ttl_s=args.lease_ttl, epoch=args.epoch)
    except FleetError as exc:
        raise _Fail(str(exc), EXIT_USAGE) from None
    also = []
    if args.metrics_port:
        from nve.fleet.replica import ReplicaCollector
        from nve.runner import MetricsCollector, poll_counters, serve_metrics

        metrics = MetricsCollector(ctl, replica.bgp)
        try:
            serve_metrics(
                metrics, ReplicaCollector(replica), port=args.metrics_port, addr=args.metrics_addr
            )
        except OSError as exc:
            raise _Fail(f"--metrics-port {args.metrics_port}: {exc.strerror or exc}") from None
        also.append(lambda: poll_counters(ctl, metrics))
    try:
        await serve_until_signalled(replica, follow, also)
    except (FleetError, StoreError) as exc:
        raise _Fail(str(exc)) from None
    return EXIT_OK


async def _import(args: argparse.Namespace) -> int:
    from nve.store import cli as store_cli

    ctl = _checked_controller(args)
    print(await _in_store(store_cli.run_import(args, ctl.loaded)))
    return EXIT_OK


async def _endpoint(args: argparse.Namespace) -> int:
    from nve.store import cli as store_cli

    print(await _in_store(store_cli.run_endpoint(args)))
    return EXIT_OK


async def _store_roles(args: argparse.Namespace) -> int:
    from nve.store import cli as store_cli
    from nve.store.url import StoreUrlError

    try:
        print(store_cli.run_store_roles(args))
    except StoreUrlError as exc:
        raise _Fail(str(exc)) from None
    return EXIT_OK


async def _in_store(work: Awaitable[T]) -> T:
    """A store command's outcome; its refusals and failures as _Fail."""
    from nve.store.cli import OptionError
    from nve.store.endpoints import ChangeRefused
    from nve.store.etcd import StoreError
    from nve.store.url import StoreUrlError

    try:
        return await work
    except ChangeRefused as exc:
        raise _Fail("\n".join(exc.reasons), EXIT_INVALID) from None
    except OverlayError as exc:
        raise _Fail(_problems_text(exc.problems, DEFAULT_MAX_PROBLEMS), EXIT_INVALID) from None
    except (OptionError, StoreUrlError) as exc:
        raise _Fail(str(exc), EXIT_USAGE) from None
    except StoreError as exc:
        raise _Fail(str(exc)) from None


async def _stored_controller(args: argparse.Namespace) -> tuple[Controller, Follower]:
    """The controller of the overlay in force in the store, and what follows its changes."""
    from nve.store.follow import follow_store, load_stored
    from nve.store.url import StoreUrl

    try:
        url = StoreUrl.parse(args.store)
    except ValueError as exc:
        raise _Fail(str(exc), EXIT_USAGE) from None
    stored = await _in_store(load_stored(url))
    try:
        ctl = Controller(stored.loaded, only=args.switch or None)
        # A replica compiles the switches it is given when it reconciles them.
        problems = ctl.check(with_pipeline=True, compile_switches=args.replica is None)
    except ControllerError as exc:
        raise _Fail(str(exc)) from None
    if problems:
        raise _Fail(_problems_text(problems, DEFAULT_MAX_PROBLEMS), EXIT_INVALID)

    ctl.trust_installed = True  # endpoint changes are applied incrementally

    async def follow(c: Controller, dirty: asyncio.Event) -> None:
        await follow_store(url, c, dirty, stored.revision, generation=stored.generation)

    return ctl, follow


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    level = logging.DEBUG if args.verbose else logging.INFO
    if getattr(args, "log_json", False):
        from nve.runner import JsonLogFormatter

        handler = logging.StreamHandler()
        handler.setFormatter(JsonLogFormatter())
        logging.basicConfig(level=level, handlers=[handler])
    else:
        logging.basicConfig(
            level=level if args.command == "run" else logging.WARNING,
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        )
    try:
        if args.command == "validate":
            return cmd_validate(args)
        runner = {
            "apply": _apply,
            "show": _show,
            "stats": _stats,
            "run": _run,
            "import": _import,
            "endpoint": _endpoint,
            "store-roles": _store_roles,
        }[args.command]
        return asyncio.run(runner(args))
    except _Fail as exc:
        print(f"nve {args.command}: {exc}" if "\n" not in str(exc) else str(exc), file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
