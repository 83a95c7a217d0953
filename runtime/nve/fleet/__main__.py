"""`python -m nve.fleet [FILE] --store etcd://HOST:PORT[/PREFIX] --replica NAME`: one
controller replica of a fleet (docs/fleet-ownership.md). Start one per machine; each
drives the switches the fleet gives it and takes over those of replicas that stop. The
description is FILE, or without it the overlay in the store, followed as it changes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Sequence

from nve.controller import Controller, ControllerError
from nve.fleet.ownership import FleetError
from nve.fleet.replica import FleetReplica, Follow
from nve.loader import LoadedOverlay, OverlayError, load_overlay
from nve.store.etcd import StoreError
from nve.store.follow import follow_store, load_stored
from nve.store.url import StoreUrl, StoreUrlError

EXIT_OK, EXIT_INVALID, EXIT_FAILED, EXIT_USAGE = 0, 1, 2, 64


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m nve.fleet", description=__doc__)
    p.add_argument("file", nargs="?", help="the overlay description (default: the store's)")
    p.add_argument("--store", required=True, metavar="etcd://HOST:PORT[/PREFIX]")
    p.add_argument("--replica", required=True, metavar="NAME", help="unique in the fleet")
    p.add_argument("--ttl", type=int, default=5, metavar="S", help="lease TTL (default 5 s)")
    p.add_argument(
        "--epoch",
        type=int,
        default=None,
        help="high word of the election ids (default: PREFIX/epoch in etcd, else 0)",
    )
    p.add_argument("--log-level", default="info", choices=["debug", "info", "warning"])
    return p


async def _serve(replica: FleetReplica, follow: Follow | None) -> None:
    task = asyncio.create_task(replica.run(follow))
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, task.cancel)
    with contextlib.suppress(asyncio.CancelledError):  # asked to stop: it left the fleet
        await task


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    follow: Follow | None = None
    try:
        url = StoreUrl.parse(args.store)
        if args.file is not None:
            loaded: LoadedOverlay = load_overlay(args.file)
        else:
            stored = asyncio.run(load_stored(url))
            loaded = stored.loaded

            async def follow_it(ctl: Controller, dirty: asyncio.Event) -> None:
                await follow_store(url, ctl, dirty, stored.revision)

            follow = follow_it
        ctl = Controller(loaded)
        problems = ctl.check()
        if problems:
            sys.stderr.write("\n".join(str(p) for p in problems) + "\n")
            return EXIT_INVALID
        replica = FleetReplica(ctl, url, args.replica, ttl_s=args.ttl, epoch=args.epoch)
    except (StoreUrlError, FleetError) as exc:
        sys.stderr.write(f"nve fleet: error: {exc}\n")
        return EXIT_USAGE
    except (OverlayError, ControllerError) as exc:
        sys.stderr.write(f"nve fleet: error: {exc}\n")
        return EXIT_INVALID
    except StoreError as exc:
        sys.stderr.write(f"nve fleet: error: {exc}\n")
        return EXIT_FAILED
    try:
        asyncio.run(_serve(replica, follow))
    except (FleetError, StoreError) as exc:
        sys.stderr.write(f"nve fleet: error: {exc}\n")
        return EXIT_FAILED
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
