"""FRR daemons in a switch's control-plane host: start, stop, read BGP state.

Each switch with `underlay.bgp` gets its own FRR instance: zebra, bgpd and (with BFD)
bfdd run inside the host's namespace (`ip netns exec`), with every path explicit (config
files, pid files, zebra's API socket, vty sockets) in one run directory owned by the
`frr` user, so several switches can run on one machine beside any system FRR.

The daemons are **persistent**, like the namespace and its TAPs: `nve run` starts them
when they are not running (or run an older configuration) and leaves them running when
it stops, so restarting the controller does not reset BGP (a short stop is bridged by
the hold timer: the TAPs have no carrier while no controller holds them). `stop()` ends
them (tests, `nve underlay-stop`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import pwd
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nve.model import Bgp, Switch
from nve.underlay import frr_config

log = logging.getLogger("nve.underlay")

FRR_DIR = Path(os.environ.get("NVE_FRR_DIR", "/usr/lib/frr"))
RUN_BASE = Path("/run/nve/frr")
FRR_USER = "frr"


class FrrError(Exception):
    """An FRR daemon did not start or answer; the message says which and why."""


def frr_missing() -> str | None:
    """None when FRR can run here, else what is missing (for errors and test skips)."""
    for daemon in ("zebra", "bgpd", "bfdd"):
        if not (FRR_DIR / daemon).exists():
            return f"FRR is not installed ({FRR_DIR / daemon} missing; Debian package frr)"
    if shutil.which("vtysh") is None:
        return "vtysh not on PATH (Debian package frr)"
    try:
        pwd.getpwnam(FRR_USER)
    except KeyError:
        return f"no user {FRR_USER!r} (created by Debian's frr package)"
    if os.geteuid() != 0:
        return "FRR daemons in a namespace need root"
    return None


@dataclass(frozen=True)
class Peer:
    """One BGP session as `show bgp summary json` reports it."""

    address: str
    family: str  # ipv4 / ipv6
    remote_asn: int
    state: str  # Established, Active, Connect, Idle, ...
    prefixes_received: int
    uptime_ms: int

    @property
    def established(self) -> bool:
        return self.state == "Established"


def parse_summary(doc: dict[str, Any]) -> list[Peer]:
    """The peers of `show bgp summary json` (one entry per address family)."""
    out = []
    for key, family in (("ipv4Unicast", "ipv4"), ("ipv6Unicast", "ipv6")):
        for address, p in sorted(doc.get(key, {}).get("peers", {}).items()):
            out.append(
                Peer(
                    address=address,
                    family=family,
                    remote_asn=int(p.get("remoteAs", 0)),
                    state=str(p.get("state", "unknown")),
                    prefixes_received=int(p.get("pfxRcd", 0) or 0),
                    uptime_ms=int(p.get("peerUptimeMsec", 0) or 0),
                )
            )
    return out


def run_dir_of(namespace: str) -> Path:
    return RUN_BASE / namespace


class FrrInstance:
    """The FRR daemons of one router (a switch's host, a lab's spine), in namespace
    `namespace`, files in `run_dir`."""

    @classmethod
    def of_switch(cls, switch: Switch, namespace: str, run_dir: Path | None = None) -> FrrInstance:
        if switch.underlay is None or switch.underlay.bgp is None:
            raise ValueError(f"switch {switch.name} has no underlay.bgp")
        return cls(
            switch.name,
            namespace,
            switch.underlay.bgp,
            lambda d: frr_config.render_switch(switch, d),
            run_dir,
            graceful_restart=True,
        )

    def __init__(
        self,
        name: str,
        namespace: str,
        bgp: Bgp,
        render: Callable[[Path], dict[str, str]],
        run_dir: Path | None = None,
        *,
        graceful_restart: bool = False,
    ):
        """`graceful_restart`: `render` configures BGP graceful restart (a switch's FRR):
        zebra keeps its routes in the kernel across a restart, and a stop that is not a
        restart ends the sessions first, so that the peers drop the routes at once."""
        self.name = name
        self.graceful_restart = graceful_restart
        self.bgp = bgp
        self.namespace = namespace
        self.run_dir = run_dir or run_dir_of(namespace)
        self.render = render  # run dir -> file name -> text
        self.daemons = ["zebra", *(["bfdd"] if self.bgp.bfd is not None else []), "bgpd"]
        self.bfd_on: set[str] = set()

    # -- start / stop ---------------------------------------------------------------

    def start(self, timeout: float = 10.0) -> bool:
        """Have the daemons run this configuration; returns whether they were (re)started
        (False: already running it, sessions untouched)."""
        why = frr_missing()
        if why is not None:
            raise FrrError(why)
        files = self.render(self.run_dir)
        digest = hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()
        stamp = self.run_dir / "config.sha256"
        if self.running() and stamp.exists() and stamp.read_text().strip() == digest:
            log.info("%s: FRR already runs this configuration in %s", self.name, self.run_dir)
            self.bfd_on = set(self._bfd_configured())
            return False
        self.stop(graceful=True)  # a restart: the peers keep the routes meanwhile
        self._prepare(files)
        for daemon in self.daemons:
            self._spawn(daemon, timeout)
        stamp.write_text(digest + "\n")
        log.info(
            "%s: FRR (%s) started in %s, files in %s",
            self.name,
            ", ".join(self.daemons),
            self.namespace,
            self.run_dir,
        )
        return True

    def _prepare(self, files: dict[str, str]) -> None:
        user = pwd.getpwnam(FRR_USER)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        os.chown(self.run_dir, user.pw_uid, user.pw_gid)
        self.run_dir.chmod(0o750)
        for name, text in files.items():
            path = self.run_dir / name
            path.write_text(text)
            os.chown(path, user.pw_uid, user.pw_gid)
            path.chmod(0o640)
        for stale in self.run_dir.glob("*.pid"):
            stale.unlink()
        for parent in self.run_dir.resolve().parents:
            if parent.stat().st_uid != user.pw_uid and not parent.stat().st_mode & 0o001:
                raise FrrError(
                    f"FRR's user {FRR_USER} cannot reach {self.run_dir}: {parent} is"
                    f" mode {parent.stat().st_mode & 0o777:o} (others need x)"
                )

    def _argv(self, daemon: str) -> list[str]:
        d = self.run_dir
        argv = [
            "ip", "netns", "exec", self.namespace,
            str(FRR_DIR / daemon), "-d",
            "-f", str(d / f"{daemon}.conf"),
            "-i", str(d / f"{daemon}.pid"),
            "--vty_socket", str(d),
            "-P", "0",
            "-u", FRR_USER, "-g", FRR_USER,
            "-z", str(d / "zserv.api"),  # bgpd and bfdd reach each other through zebra
        ]  # fmt: skip
        if daemon == "bfdd":
            argv += ["--bfdctl", str(d / "bfdd.sock")]
        if daemon == "zebra" and self.graceful_restart:
            # Graceful restart: leave the routes in the kernel when stopped (-r), and
            # when started keep those it finds for the restart time (-K) while bgpd
            # learns them again (frr_config: `bgp graceful-restart`).
            argv += ["-r", "-K", str(frr_config.GR_RESTART_SECONDS)]
        return argv

    def _spawn(self, daemon: str, timeout: float) -> None:
        argv = self._argv(daemon)
        out = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
        if out.returncode != 0:
            raise FrrError(
                f"{daemon} in {self.namespace} did not start ({out.returncode}):"
                f" {(out.stderr or out.stdout).strip()[-500:]}; log {self.run_dir / daemon}.log"
            )
        vty = self.run_dir / f"{daemon}.vty"
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.pid(daemon) is not None and vty.exists():
                return
            time.sleep(0.02)
        raise FrrError(f"{daemon} in {self.namespace}: no pid file or vty socket after {timeout} s")

    def pid(self, daemon: str) -> int | None:
        """The daemon's pid when it is alive and in this instance's namespace."""
        try:
            pid = int((self.run_dir / f"{daemon}.pid").read_text().split()[0])
            mine = Path(f"/run/netns/{self.namespace}").stat().st_ino
            theirs = Path(f"/proc/{pid}/ns/net").stat().st_ino
        except (OSError, ValueError, IndexError):
            return None
        return pid if mine == theirs else None

    def running(self) -> bool:
        return all(self.pid(d) is not None for d in self.daemons)

    def stop(self, timeout: float = 5.0, *, graceful: bool = False) -> None:
        """End this instance's daemons: bgpd first, so the peers see a clean close, or,
        for a graceful restart, zebra first (below). `graceful`: a restart (the switch's host moves to another controller, or a new
        configuration): with graceful restart the peers keep the routes, marked stale,
        until the next bgpd is back. Otherwise, with graceful restart configured, every
        session is shut down first (a Cease the peers act on at once: RFC 8538 makes an
        administrative shutdown a hard reset), so the routes go with the sessions."""
        if self.graceful_restart and not graceful and self.pid("bgpd") is not None:
            self._shut_sessions(timeout)
        if self.graceful_restart and graceful:
            # zebra first (-r: it leaves the routes in the kernel), then bgpd, which can
            # then no longer withdraw them: stopped together, zebra sometimes processed
            # bgpd's departure first and took its routes out of the kernel.
            self._end(("zebra",), timeout)
            self._end(("bgpd", "bfdd"), timeout)
        else:
            self._end(("bgpd", "bfdd", "zebra"), timeout)
        if self.graceful_restart and not graceful:
            self._flush_routes(timeout)  # zebra runs with -r: what it would have removed
        (self.run_dir / "config.sha256").unlink(missing_ok=True)
        self.bfd_on.clear()

    def _end(self, daemons: tuple[str, ...], timeout: float) -> None:
        """SIGTERM these daemons, SIGKILL those still alive after `timeout`."""
        pids = []
        for daemon in daemons:
            path = self.run_dir / f"{daemon}.pid"
            try:
                pid = int(path.read_text().split()[0])
            except (OSError, ValueError, IndexError):
                continue
            if _is_daemon(pid, daemon):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGTERM)
                    pids.append(pid)
            path.unlink(missing_ok=True)
        end = time.monotonic() + timeout
        while pids and time.monotonic() < end:
            pids = [p for p in pids if _alive(p)]
            time.sleep(0.02)
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def _flush_routes(self, timeout: float) -> None:
        for family in ("-4", "-6"):
            argv = ["ip", "-n", self.namespace, family, "route", "flush", "proto", "bgp"]
            try:
                subprocess.run(argv, capture_output=True, timeout=timeout, check=False)
            except (OSError, subprocess.TimeoutExpired) as exc:
                log.warning(
                    "%s: BGP routes not flushed from %s: %s", self.name, self.namespace, exc
                )

    def _shut_sessions(self, timeout: float) -> None:
        commands = ["configure terminal", f"router bgp {self.bgp.asn}"]
        commands += [f"neighbor {frr_config.peer_name(n)} shutdown" for n in self.bgp.neighbors]
        try:
            self.vtysh(*commands, timeout=timeout)
        except (FrrError, OSError, subprocess.TimeoutExpired) as exc:
            log.warning("%s: BGP sessions not shut down before stopping: %s", self.name, exc)

    # -- state ------------------------------------------------------------------------

    def vtysh(self, *commands: str, timeout: float = 10.0) -> str:
        argv = ["vtysh", "--vty_socket", str(self.run_dir)]
        for c in commands:
            argv += ["-c", c]
        out = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
        if out.returncode != 0:
            raise FrrError(f"vtysh {' / '.join(commands)}: {(out.stderr or out.stdout).strip()}")
        return out.stdout

    def peers(self) -> list[Peer]:
        """Every session's state (FrrError when bgpd does not answer)."""
        return parse_summary(json.loads(self.vtysh("show bgp summary json") or "{}"))

    def _bfd_configured(self) -> list[str]:
        text = self.vtysh("show running-config bgpd")
        return [
            line.split()[1]
            for line in text.splitlines()
            if line.strip().startswith("neighbor ") and " bfd" in line
        ]

    def follow_bfd(self, peers: list[Peer]) -> list[str]:
        """Turn BFD on for each Established session that does not have it yet (doing it
        before the session is up costs one more reset); returns the addresses done."""
        if self.bgp.bfd is None:
            return []
        done = []
        for p in peers:
            if p.established and p.address not in self.bfd_on:
                self.vtysh(*frr_config.bfd_commands(self.bgp, p.address))
                self.bfd_on.add(p.address)
                done.append(p.address)
        return done


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _is_daemon(pid: int, daemon: str) -> bool:
    """Whether `pid` is still that FRR daemon (not a reused pid)."""
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip() == daemon
    except OSError:
        return False
