"""A command in a namespace (or here), its output; a failure an AssertionError that names
the command and its stderr, unless check is False."""

from __future__ import annotations

import subprocess


def sh(*argv: str, ns: str | None = None, check: bool = True) -> str:
    cmd = ["ip", "netns", "exec", ns, *argv] if ns else list(argv)
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=30, check=False)
    if check and out.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)}: {out.stderr}")
    return out.stdout
