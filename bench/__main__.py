"""Run every benchmark module of this package and print its figures."""

from __future__ import annotations

import importlib
import pkgutil
import signal
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    names = sorted(
        m.name
        for m in pkgutil.iter_modules([str(Path(__file__).parent)])
        if not m.name.startswith("_")
    )
    wanted = [n for n in names if not argv or n in argv]
    for name in wanted:
        module = importlib.import_module(f"bench.{name}")
        print(f"== {name}: {(module.__doc__ or '').strip().splitlines()[0]}")
        module.main()
    return 0


if __name__ == "__main__":
    # A bench stopped with SIGTERM (kill, a CI timeout) unwinds as on Ctrl-C: its context
    # managers stop the processes it started and remove their data (a stopped fleet
    # bench otherwise left its etcd members' gigabytes on tmpfs).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sys.exit(main(sys.argv[1:]))
