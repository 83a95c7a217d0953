"""Open vSwitch in a namespace of its own, as a third-party NVGRE endpoint (a hypervisor's NVE).

Each :class:`OvsInstance` runs its own ``ovsdb-server`` and ``ovs-vswitchd`` inside one
network namespace, with the database, sockets, pidfiles and logs in a run directory of its
own: nothing is shared with a system Open vSwitch (whose services may stay stopped).  The
bridges use the userspace datapath (``datapath_type=netdev``), so no kernel module is
needed, and GRE is OVS's native tunnelling: OVS resolves the underlay next hop by ARP
itself, out of the bridge that carries the underlay address.

Layout made by :meth:`OvsInstance.nvgre_endpoint`:

- ``br-ul``: the underlay bridge; its uplink is a kernel interface (the namespace's end
  of a veth), its internal port (a TAP) carries the provider address and the route;
- ``br-vN``: one bridge per VSID; a ``gre`` port per peer PA with ``key = VSID << 8``
  (no FlowID, RFC 7637 §4.1) and the VMs' interfaces; MAC learning (``NORMAL``).
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

SCHEMA_PATHS = (
    Path("/usr/share/openvswitch/vswitch.ovsschema"),
    Path("/usr/local/share/openvswitch/vswitch.ovsschema"),
)
TOOLS = ("ovsdb-server", "ovs-vswitchd", "ovs-vsctl", "ovsdb-tool", "ovs-appctl")


class OvsError(RuntimeError):
    """An Open vSwitch command failed; the message names it and carries its output."""


def ovs_missing() -> str | None:
    """None when Open vSwitch can be run here, else one line saying what is missing."""
    tools = [t for t in TOOLS if shutil.which(t) is None]
    if tools:
        return (
            f"Open vSwitch is not installed ({', '.join(tools)} missing; "
            "Debian package openvswitch-switch, `make bootstrap` as root)"
        )
    if _schema() is None:
        return "Open vSwitch's database schema vswitch.ovsschema was not found"
    if not Path("/dev/net/tun").exists():
        return "/dev/net/tun is missing (Open vSwitch's userspace datapath needs TAP devices)"
    return None


def ovs_version() -> str:
    """``ovs-vswitchd --version``'s first line, e.g. ``ovs-vswitchd (Open vSwitch) 3.1.0``."""
    out = subprocess.run(
        ["ovs-vswitchd", "--version"], capture_output=True, text=True, check=False
    ).stdout
    return out.splitlines()[0] if out else "unknown"


def _schema() -> Path | None:
    return next((p for p in SCHEMA_PATHS if p.exists()), None)


@dataclass
class OvsInstance:
    """ovsdb-server and ovs-vswitchd of one namespace; :meth:`stop` ends both."""

    ns: str
    run_dir: Path
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def db_sock(self) -> Path:
        return self.run_dir / "db.sock"

    def _env(self) -> list[str]:
        d = str(self.run_dir)
        return ["env", f"OVS_RUNDIR={d}", f"OVS_DBDIR={d}", f"OVS_LOGDIR={d}"]

    def _spawn(self, name: str, *args: str) -> None:
        log = open(self.run_dir / f"{name}.out", "wb")  # noqa: SIM115 - closed with the process
        with log:
            self.procs.append(
                subprocess.Popen(
                    ["ip", "netns", "exec", self.ns, *self._env(), name, *args],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                )
            )

    def start(self, timeout: float = 20.0) -> OvsInstance:
        schema = _schema()
        if schema is None:
            raise OvsError("vswitch.ovsschema not found")
        self.run_dir.mkdir(parents=True, exist_ok=True)
        db = self.run_dir / "conf.db"
        _check(["ovsdb-tool", "create", str(db), str(schema)])
        d = self.run_dir
        self._spawn(
            "ovsdb-server",
            str(db),
            f"--remote=punix:{self.db_sock}",
            f"--pidfile={d / 'ovsdb-server.pid'}",
            f"--unixctl={d / 'ovsdb-server.ctl'}",
            f"--log-file={d / 'ovsdb-server.log'}",
            "--no-chdir",
        )
        self._wait(self.db_sock.exists, timeout, "ovsdb-server's socket")
        self.vsctl("--no-wait", "init")
        self._spawn(
            "ovs-vswitchd",
            f"unix:{self.db_sock}",
            f"--pidfile={d / 'ovs-vswitchd.pid'}",
            f"--unixctl={d / 'ovs-vswitchd.ctl'}",
            f"--log-file={d / 'ovs-vswitchd.log'}",
            "--no-chdir",
        )
        self._wait((d / "ovs-vswitchd.ctl").exists, timeout, "ovs-vswitchd's socket")
        return self

    def _wait(self, ready: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if ready():
                return
            dead = [p for p in self.procs if p.poll() is not None]
            if dead:
                break
            time.sleep(0.05)
        raise OvsError(f"{what} did not appear in {self.run_dir}; logs:\n{self.logs()}")

    def logs(self, tail: int = 2000) -> str:
        parts = []
        for name in ("ovsdb-server.out", "ovs-vswitchd.out", "ovs-vswitchd.log"):
            path = self.run_dir / name
            if path.exists():
                parts.append(f"--- {name}\n{path.read_text(errors='replace')[-tail:]}")
        return "\n".join(parts)

    def vsctl(self, *args: str) -> str:
        return _check(
            ["ip", "netns", "exec", self.ns, "ovs-vsctl", f"--db=unix:{self.db_sock}", *args]
        )

    def appctl(self, *args: str) -> str:
        ctl = self.run_dir / "ovs-vswitchd.ctl"
        return _check(["ip", "netns", "exec", self.ns, "ovs-appctl", "-t", str(ctl), *args])

    def ofctl(self, command: str, bridge: str, *args: str) -> str:
        mgmt = self.run_dir / f"{bridge}.mgmt"
        return _check(["ip", "netns", "exec", self.ns, "ovs-ofctl", command, f"unix:{mgmt}", *args])

    def stop(self) -> None:
        for p in reversed(self.procs):
            if p.poll() is None:
                p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.procs.clear()

    # -- the NVGRE endpoint ----------------------------------------------------------------
    def underlay(self, uplink: str, address: str, gateway: str | None, mac: str) -> None:
        """Bridge ``br-ul`` with ``uplink`` (a kernel interface in this namespace) and the
        provider ``address`` (CIDR) on its internal port, whose MAC is ``mac``; a default
        route via ``gateway`` (None: on-link routes only). OVS reads the namespace's routes
        and resolves the next hop by ARP out of this bridge."""
        self.vsctl(
            "--may-exist",
            "add-br",
            "br-ul",
            "--",
            "set",
            "bridge",
            "br-ul",
            "datapath_type=netdev",
            f"other_config:hwaddr={mac}",
        )
        self.vsctl("--may-exist", "add-port", "br-ul", uplink)
        self._ip("link", "set", "br-ul", "up")
        self._ip("addr", "add", address, "dev", "br-ul")
        if gateway is not None:
            self._ip("route", "add", "default", "via", gateway, "dev", "br-ul")

    def route_to(self, prefix: str) -> None:
        """An on-link route in the namespace: OVS resolves addresses of ``prefix`` directly."""
        self._ip("route", "add", prefix, "dev", "br-ul")

    def vsid_bridge(self, vsid: int, local_pa: str, peers: list[str], *, up: bool = True) -> str:
        """Bridge ``br-v<VSID>`` with one GRE port per peer PA (``gre<VSID>-<i>``, i the
        peer's index), key VSID << 8; its name. With ``up`` False the bridge's own kernel
        interface stays down, so the kernel never sends on it (IPv6 router solicitations,
        MLD reports): only what a test injects with ``ofctl packet-out`` leaves."""
        br = f"br-v{vsid:x}"
        self.vsctl("--may-exist", "add-br", br, "--", "set", "bridge", br, "datapath_type=netdev")
        for i, peer in enumerate(peers):
            port = f"gre{vsid:x}-{i}"
            self.vsctl(
                "--may-exist",
                "add-port",
                br,
                port,
                "--",
                "set",
                "interface",
                port,
                "type=gre",
                f"options:remote_ip={peer}",
                f"options:local_ip={local_pa}",
                f"options:key={vsid << 8}",
            )
        if up:
            self._ip("link", "set", br, "up")
        return br

    def gateway(self, bridge: str, ip: str, mac: str, toward: str) -> None:
        """The hypervisor's share of a distributed gateway, in OpenFlow: ``bridge`` answers
        ARP requests for ``ip`` with ``mac`` itself (as a hypervisor NVE does for its VMs),
        and frames to ``mac`` leave by GRE port ``toward`` (the NVE that routes them)
        instead of being flooded to every peer."""
        mac_hex = "0x" + mac.replace(":", "")
        ip_hex = "0x" + "".join(f"{int(o):02x}" for o in ip.split("."))
        answer = ",".join(
            (
                "move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[]",
                f"mod_dl_src:{mac}",
                "load:0x2->NXM_OF_ARP_OP[]",
                "move:NXM_NX_ARP_SHA[]->NXM_NX_ARP_THA[]",
                f"load:{mac_hex}->NXM_NX_ARP_SHA[]",
                "move:NXM_OF_ARP_SPA[]->NXM_OF_ARP_TPA[]",
                f"load:{ip_hex}->NXM_OF_ARP_SPA[]",
                "in_port",
            )
        )
        self.ofctl("add-flow", bridge, f"priority=100,arp,arp_op=1,arp_tpa={ip},actions={answer}")
        self.ofctl("add-flow", bridge, f"priority=100,dl_dst={mac},actions=output:{toward}")

    def attach(self, bridge: str, ifname: str) -> None:
        """Add kernel interface ``ifname`` (in this namespace) to ``bridge``."""
        self.vsctl("--may-exist", "add-port", bridge, ifname)

    def _ip(self, *args: str) -> None:
        _check(["ip", "netns", "exec", self.ns, "ip", *args])


def _check(argv: list[str]) -> str:
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=60)
    if proc.returncode != 0:
        raise OvsError(f"{' '.join(argv)}: {proc.stderr.strip() or proc.stdout.strip()}")
    return proc.stdout
