"""The switch's control-plane host (nve.underlay): its kernel answers ARP and ND for the
switch's addresses and resolves its neighbours through the switch's network port.

Topology: a p4sim switch whose port 3 (network) is a veth to a "spine" namespace (a plain
Linux router end: 10.1.0.0/31 and fd00:1::/127); `nve run` with `underlay:` gives the
switch a host namespace where TAP port3 carries 10.1.0.1/31 and fd00:1::1/127 and the
loopback the PA 10.0.0.1 (fd00:a::1 by proxy NDP). Everything the spine's kernel and the
host's kernel exchange crosses the switch: punted by the pipeline, relayed to the TAP by
the controller, and the kernel's answers sent back by packet-out.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from lab.netns import LabNetwork, can_create_interfaces
from lab.targets import RunningSwitch, compile_pipeline, start_switch
from tests.support.nve_run import NveRun

pytestmark = pytest.mark.root

NVE_MAC = "02:00:0a:00:00:01"
PA4, PA6 = "10.0.0.1", "fd00:a::1"
PORT4, SPINE4 = "10.1.0.1/31", "10.1.0.0/31"
PORT6, SPINE6 = "fd00:1::1/127", "fd00:1::/127"
NET_PORT = 3


@dataclass
class Fabric:
    switch: RunningSwitch
    spine_ns: str
    spine_if: str
    host_ns: str
    work: Path


def sh(*argv: str, ns: str | None = None, check: bool = True) -> str:
    cmd = ["ip", "netns", "exec", ns, *argv] if ns else list(argv)
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=30, check=False)
    if check and out.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)}: {out.stderr}")
    return out.stdout


@pytest.fixture(scope="module")
def fabric(tmp_path_factory) -> Iterator[Fabric]:
    why = can_create_interfaces()
    if why is not None:
        pytest.skip(f"real-interface test skipped: {why}")
    work = tmp_path_factory.mktemp("underlay-host")
    pipeline = compile_pipeline("p4sim", work / "build", {"NVE_PROFILE_SMALL": ""})
    with LabNetwork() as net:
        spine = net.namespace("spine")
        host = net.namespace("host")  # created here so the lab removes it; nve reuses it
        pair = net.veth_pair(NET_PORT, test_ns=spine)
        sh("sysctl", "-qw", f"net.ipv6.conf.{pair.test_if}.disable_ipv6=0", ns=spine)
        sh("ip", "addr", "add", SPINE4, "dev", pair.test_if, ns=spine)
        sh("ip", "addr", "add", SPINE6, "dev", pair.test_if, "nodad", ns=spine)
        switch = start_switch("p4sim", [pair], pipeline, work / "logs")
        try:
            overlay = {
                "switches": [
                    {
                        "name": "tor1",
                        "address": switch.grpc_addr,
                        "pipeline": {
                            "p4info": str(pipeline.p4info),
                            "device_config": str(pipeline.device_config),
                        },
                        "nve_mac": NVE_MAC,
                        "local_pas": [PA4, PA6],
                        "underlay": {"namespace": host},
                        "ports": [
                            {"port": 1, "role": "access"},
                            {"port": NET_PORT, "role": "network", "addresses": [PORT4, PORT6]},
                        ],
                    }
                ]
            }
            (work / "overlay.yaml").write_text(yaml.safe_dump(overlay, sort_keys=False))
            yield Fabric(switch, spine, pair.test_if, host, work)
        finally:
            switch.stop()


@pytest.fixture
def nve(fabric: Fabric, tmp_path) -> Iterator[NveRun]:
    run = NveRun(fabric.work / "overlay.yaml", tmp_path / "nve-run.log").start()
    yield run
    run.stop()


def neighbour(ns: str, address: str, timeout: float = 10.0) -> dict:
    """The neighbour entry for `address` in `ns` once resolved (lladdr known)."""
    end = time.monotonic() + timeout
    entry: dict = {}
    while time.monotonic() < end:
        shown = json.loads(sh("ip", "-j", "neigh", "show", address, ns=ns) or "[]")
        entry = shown[0] if shown else {}
        if entry.get("lladdr") and not set(entry.get("state", [])) & {"FAILED", "INCOMPLETE"}:
            return entry
        time.sleep(0.1)
    raise AssertionError(f"{address} not resolved in {ns}: {entry}")


def test_spine_resolves_the_port_address_and_the_pas(fabric: Fabric, nve: NveRun) -> None:
    spine, dev = fabric.spine_ns, fabric.spine_if
    sh("ip", "route", "replace", f"{PA4}/32", "dev", dev, ns=spine)  # on-link: ARP for the PA
    sh("ip", "-6", "route", "replace", f"{PA6}/128", "dev", dev, ns=spine)
    for address in (PORT4.split("/", maxsplit=1)[0], PA4, PORT6.split("/", maxsplit=1)[0], PA6):
        sh("ip", "neigh", "flush", "to", address, "dev", dev, ns=spine, check=False)
        # The ICMP itself is not for the host yet; what matters is the address resolution.
        sh("ping", "-c", "1", "-W", "1", address, ns=spine, check=False)
        assert neighbour(spine, address)["lladdr"] == NVE_MAC, address


def test_the_hosts_kernel_resolves_the_spine(fabric: Fabric, nve: NveRun) -> None:
    spine_mac = json.loads(sh("ip", "-j", "link", "show", fabric.spine_if, ns=fabric.spine_ns))[0][
        "address"
    ]
    for address in (SPINE4.split("/", maxsplit=1)[0], SPINE6.split("/", maxsplit=1)[0]):
        sh("ip", "neigh", "flush", "to", address, "dev", "port3", ns=fabric.host_ns, check=False)
        sh("ping", "-c", "1", "-W", "1", address, ns=fabric.host_ns, check=False)
        assert neighbour(fabric.host_ns, address)["lladdr"] == spine_mac, address


def test_the_host_keeps_its_interfaces_across_a_controller_restart(
    fabric: Fabric, nve: NveRun
) -> None:
    addrs = json.loads(sh("ip", "-j", "addr", "show", "dev", "port3", ns=fabric.host_ns))[0]
    assert addrs["address"] == NVE_MAC
    nve.stop()
    kept = json.loads(sh("ip", "-j", "addr", "show", "dev", "port3", ns=fabric.host_ns))[0]
    owned = {f"{a['local']}/{a['prefixlen']}" for a in kept["addr_info"] if a["scope"] == "global"}
    assert owned == {PORT4, PORT6}
    lo = json.loads(sh("ip", "-j", "addr", "show", "dev", "lo", ns=fabric.host_ns))[0]
    assert f"{PA4}/32" in {f"{a['local']}/{a['prefixlen']}" for a in lo["addr_info"]}
