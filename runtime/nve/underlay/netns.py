"""Network namespaces: create one, run `ip` in it, and enter it from one thread.

iproute2's `ip` does the configuration (it is in every Debian install); entering a
namespace is setns(2) through ctypes, which affects only the calling thread.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

CLONE_NEWNET = 0x40000000
NETNS_DIR = Path("/run/netns")


class NetnsError(Exception):
    """A namespace operation failed; the message has the command and what it printed."""


def ip(*args: str, namespace: str | None = None, check: bool = True) -> str:
    cmd = ["ip", *(("-n", namespace) if namespace else ()), *args]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise NetnsError(f"{' '.join(cmd)}: {exc}") from None
    if check and out.returncode != 0:
        raise NetnsError(f"{' '.join(cmd)}: {out.stderr.strip() or out.returncode}")
    return out.stdout


def exists(name: str) -> bool:
    return (NETNS_DIR / name).exists()


def ensure(name: str) -> bool:
    """Create the namespace unless it exists; returns whether it was created."""
    if exists(name):
        return False
    ip("netns", "add", name)
    return True


def delete(name: str) -> None:
    if exists(name):
        ip("netns", "delete", name)


def sysctl(name: str, key: str, value: str) -> None:
    """Write /proc/sys/KEY inside the namespace (`ip netns exec` mounts its own /proc/sys)."""
    cmd = ["ip", "netns", "exec", name, "sysctl", "-q", "-w", f"{key}={value}"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=10, check=False)
    if out.returncode != 0:
        raise NetnsError(f"{' '.join(cmd)}: {out.stderr.strip() or out.returncode}")


def _setns(fd: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise NetnsError(f"setns: {os.strerror(err)}")


@contextlib.contextmanager
def entered(name: str) -> Iterator[None]:
    """Run the body with this thread in namespace `name`, then return to where it was.

    Only the calling thread moves; file descriptors opened inside stay bound to the
    namespace they were opened in (a TAP, a socket)."""
    here = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    try:
        target = os.open(NETNS_DIR / name, os.O_RDONLY)
        try:
            _setns(target)
        finally:
            os.close(target)
        try:
            yield
        finally:
            _setns(here)
    finally:
        os.close(here)
