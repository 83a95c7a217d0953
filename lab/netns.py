"""Test network plumbing: veth pairs and network namespaces that clean up after themselves.

Every object a test run creates carries the run's token in its name, and is recorded
in a ledger file under ``/run/nvgre-nve-tests/<pid>.json`` before it is created.  The
run removes everything at exit (normal end, failure, Ctrl-C, SIGTERM); a run that was
killed outright (SIGKILL, power loss) leaves its ledger behind, and the next run sweeps
the ledgers of dead processes before it starts.

Names: Linux interface names have at most 15 characters, so a veth is ``nv<token><p|t><n>``
with a 5-character token (``nvab12cp3`` is switch side of port 3, ``nvab12ct3`` the test
side).  Namespaces are ``nvt-<token>-<name>``.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

LEDGER_DIR = Path(os.environ.get("NVE_TEST_LEDGER_DIR", "/run/nvgre-nve-tests"))


class NetnsError(RuntimeError):
    """A namespace or interface operation failed; the message names the command."""


def _run(*argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(argv, check=False, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise NetnsError(f"{' '.join(argv)}: {proc.stderr.strip() or proc.stdout.strip()}")
    return proc


def run(*argv: str, ns: str | None = None) -> str:
    """Run a command (inside namespace ``ns`` if given); return its stdout, raise NetnsError on failure."""
    return _run(*_in_ns(ns, *argv)).stdout


def missing_tools() -> list[str]:
    """Commands the harness needs that are not on PATH (with the Debian package to install)."""
    need = {"ip": "iproute2", "ethtool": "ethtool"}
    return [
        f"{cmd} (Debian package {pkg})" for cmd, pkg in need.items() if shutil.which(cmd) is None
    ]


def can_create_interfaces() -> str | None:
    """None when veths and namespaces can be created here, else the reason why not."""
    if os.geteuid() != 0:
        return "needs root (veth pairs and network namespaces)"
    tools = missing_tools()
    if tools:
        return "missing " + ", ".join(tools)
    return None


def _in_ns(ns: str | None, *argv: str) -> tuple[str, ...]:
    return ("ip", "netns", "exec", ns, *argv) if ns else argv


@dataclass(frozen=True)
class VethPair:
    """One veth pair: ``switch_if`` is given to the switch as port ``port``; ``test_if`` is the test's end."""

    port: int
    switch_if: str
    test_if: str
    switch_ns: str | None = None
    test_ns: str | None = None


@dataclass
class Ledger:
    """What this process created, persisted so that a later run can remove it if we die."""

    path: Path
    links: list[tuple[str, str | None]] = field(default_factory=list)  # (name, namespace)
    namespaces: list[str] = field(default_factory=list)

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(
            json.dumps({"pid": os.getpid(), "links": self.links, "namespaces": self.namespaces})
        )
        tmp.replace(self.path)

    @classmethod
    def load(cls, path: Path) -> Ledger:
        data = json.loads(path.read_text())
        return cls(
            path, [tuple(x) for x in data.get("links", [])], list(data.get("namespaces", []))
        )


def _remove(links: list[tuple[str, str | None]], namespaces: list[str]) -> list[str]:
    """Delete links then namespaces; return what could not be deleted (absent objects are fine)."""
    left: list[str] = []
    existing_ns = set(list_namespaces())
    for name, ns in reversed(links):
        if ns is not None and ns not in existing_ns:
            continue  # the namespace (and the link in it) is already gone
        if _run(*_in_ns(ns, "ip", "link", "show", name), check=False).returncode != 0:
            continue
        if _run(*_in_ns(ns, "ip", "link", "del", name), check=False).returncode != 0:
            left.append(name)
    for ns in reversed(namespaces):
        if ns in existing_ns:
            _end_processes(ns)
            if _run("ip", "netns", "del", ns, check=False).returncode != 0:
                left.append(ns)
    return left


def _end_processes(ns: str, timeout: float = 5.0) -> None:
    """End what still runs in namespace ``ns`` (daemons a test started there, such as
    FRR's): deleting the namespace's name would not stop them."""
    pids = [int(p) for p in _run("ip", "netns", "pids", ns, check=False).stdout.split()]
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        end = time.monotonic() + timeout
        while pids and time.monotonic() < end:
            pids = [p for p in pids if _running(p)]
            if pids:
                time.sleep(0.02)
        if not pids:
            return


def _running(pid: int) -> bool:
    """Alive and not a zombie (a zombie has ended; only its parent's wait is missing)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def list_namespaces() -> list[str]:
    out = _run("ip", "netns", "list", check=False).stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def sweep_stale_ledgers() -> list[str]:
    """Remove what earlier, dead test runs left behind; return the names removed."""
    removed: list[str] = []
    if not LEDGER_DIR.is_dir():
        return removed
    for path in LEDGER_DIR.glob("*.json"):
        try:
            pid = int(path.stem)
        except ValueError:
            continue
        if pid != os.getpid() and _pid_alive(pid):
            continue
        try:
            ledger = Ledger.load(path)
        except (OSError, ValueError):
            path.unlink(missing_ok=True)
            continue
        if not _remove(ledger.links, ledger.namespaces):
            removed += [n for n, _ in ledger.links] + ledger.namespaces
            path.unlink(missing_ok=True)
    return removed


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class LabNetwork:
    """Creates veth pairs and namespaces for one test run and removes them all on ``close()``.

    Use as a context manager, or through the pytest fixtures in :mod:`nve_ptf.plugin`.
    """

    __test__ = False  # not a pytest test class, despite its name

    def __init__(self, token: str | None = None) -> None:
        self.token = token or secrets.token_hex(3)[:5]
        self._ledger = Ledger(LEDGER_DIR / f"{os.getpid()}.json")
        self._lock = threading.Lock()
        self._closed = False
        self._pairs = 0

    # -- namespaces -------------------------------------------------------------------------
    def namespace(self, name: str) -> str:
        """Create network namespace ``nvt-<token>-<name>`` with its loopback up; return its name."""
        ns = f"nvt-{self.token}-{name}"
        with self._lock:
            self._ledger.namespaces.append(ns)
            self._ledger.save()
        _run("ip", "netns", "add", ns)
        _run("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up")
        return ns

    # -- veth pairs ---------------------------------------------------------------------------
    def veth_pair(
        self,
        port: int | None = None,
        *,
        switch_ns: str | None = None,
        test_ns: str | None = None,
        names: tuple[str, str] | None = None,
        mtu: int | None = None,
    ) -> VethPair:
        """Create a veth pair, offloads off and IPv6 autoconfiguration silenced, both ends up.

        ``port`` is the switch port number this pair stands for (default: the next free one).
        Each end may be moved into a namespace.  ``names`` overrides the generated names.
        """
        with self._lock:
            idx = self._pairs
            self._pairs += 1
        port = idx if port is None else port
        a, b = names or (f"nv{self.token}p{idx}", f"nv{self.token}t{idx}")
        if len(a) > 15 or len(b) > 15:
            raise NetnsError(f"interface names longer than 15 characters: {a!r}, {b!r}")
        with self._lock:
            # Record both ends under the namespace each ends up in, before creating anything.
            self._ledger.links.append((a, switch_ns))
            self._ledger.links.append((b, test_ns))
            self._ledger.save()
        _run("ip", "link", "add", a, "type", "veth", "peer", "name", b)
        for name, ns in ((a, switch_ns), (b, test_ns)):
            if ns:
                _run("ip", "link", "set", name, "netns", ns)
            self._prepare(name, ns, mtu)
        return VethPair(port, a, b, switch_ns, test_ns)

    @staticmethod
    def _prepare(name: str, ns: str | None, mtu: int | None) -> None:
        # No IPv6 on the link: otherwise the kernel sends router solicitations, MLD reports
        # and DAD probes that a packet test would see as unexpected packets.
        _run(*_in_ns(ns, "sysctl", "-qw", f"net.ipv6.conf.{name}.disable_ipv6=1"), check=False)
        # Checksums must be finished in software so that what is on the wire is real.
        _run(
            *_in_ns(
                ns,
                "ethtool",
                "-K",
                name,
                "tx",
                "off",
                "rx",
                "off",
                "tso",
                "off",
                "gso",
                "off",
                "gro",
                "off",
            ),
            check=False,
        )
        if mtu:
            _run(*_in_ns(ns, "ip", "link", "set", name, "mtu", str(mtu)))
        _run(*_in_ns(ns, "ip", "link", "set", name, "up"))

    def veth_pairs(self, count: int, first_port: int = 0) -> list[VethPair]:
        return [self.veth_pair(first_port + i) for i in range(count)]

    # -- teardown -----------------------------------------------------------------------------
    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            links, namespaces = list(self._ledger.links), list(self._ledger.namespaces)
        left = _remove(links, namespaces)
        if left:
            raise NetnsError(f"could not remove: {', '.join(left)}")
        self._ledger.path.unlink(missing_ok=True)

    def __enter__(self) -> LabNetwork:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def install_termination_handler() -> None:
    """Turn SIGTERM (and SIGHUP) into KeyboardInterrupt so that finalizers and atexit run."""

    def _raise(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    for sig in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(sig) in (signal.SIG_DFL, None):
            signal.signal(sig, _raise)


def link_exists(name: str, ns: str | None = None) -> bool:
    return _run(*_in_ns(ns, "ip", "link", "show", name), check=False).returncode == 0
