"""Real p4sim switches for the controller's integration tests: compiled once, one process per switch."""

from __future__ import annotations

from pathlib import Path

import yaml

from lab import targets
from lab.targets import P4simProcess, PipelineFiles  # noqa: F401 (the fixtures' switch)


def compile_pipeline(out_dir: Path) -> PipelineFiles:
    """`p4sim compile` of the project's program in the small profile."""
    return targets.compile_pipeline("p4sim", out_dir, {"NVE_PROFILE_SMALL": ""})


OVERLAY = """
switches:
  - name: tor1
    address: {tor1}
    election_id: {election}
    pipeline: {{p4info: {p4info}, device_config: {config}}}
    nve_mac: "02:00:0a:00:00:01"
    local_pas: [10.0.0.1]
    ports:
      - {{port: 1, role: access}}
      - {{port: 2, role: access, bindings: [{{vsid: 0x001001, vlan: 50}}]}}
      - {{port: 3, role: network, mtu: 9000}}
    next_hops:
      - {{name: spine, port: 3, mac: "02:00:0b:00:00:01"}}
    underlay_routes:
      - {{prefix: 10.0.0.0/16, via: spine}}
  - name: tor2
    address: {tor2}
    election_id: {election}
    pipeline: {{p4info: {p4info}, device_config: {config}}}
    nve_mac: "02:00:0a:00:00:02"
    local_pas: [10.0.0.2]
    ports:
      - {{port: 1, role: access}}
      - {{port: 2, role: access}}
      - {{port: 3, role: network, mtu: 9000}}
    next_hops:
      - {{name: spine, port: 3, mac: "02:00:0b:00:00:11"}}
    underlay_routes:
      - {{prefix: 10.0.0.0/16, via: spine}}
tenants:
  - name: blue
    vrf: 1
    vpn_gateway: 192.168.20.254
    subnets:
      - {{name: web, vsid: 0x001001, gateway: {{mac: "02:00:00:00:10:01", ipv4: 192.168.10.1/24, ipv6: "fd00:b1::1/64"}}}}
      - {{name: db, vsid: 0x001002, gateway: {{mac: "02:00:00:00:10:02", ipv4: 192.168.20.1/24}}}}
  - name: red
    vrf: 2
    subnets:
      - {{name: app, vsid: 0x002001, gateway: {{mac: "02:00:00:00:20:01", ipv4: 192.168.10.1/24}}}}
endpoints:
  - {{name: web1, vsid: 0x001001, mac: "52:54:00:b1:00:01", ipv4: 192.168.10.11, ipv6: "fd00:b1::11",
     attachment: {{switch: tor1, port: 1, vlan: 100}}}}
  - {{name: web2, vsid: 0x001001, mac: "52:54:00:b1:00:02", ipv4: 192.168.10.12, attachment: {{switch: tor2, port: 1}}}}
  - {{name: db1, vsid: 0x001002, mac: "52:54:00:b2:00:01", ipv4: 192.168.20.21, attachment: {{switch: tor1, port: 1, vlan: 200}}}}
  - {{name: vpn, vsid: 0x001002, mac: "52:54:00:b2:00:fe", ipv4: 192.168.20.254, attachment: {{remote_nve: hv9}}}}
  - {{name: red1, vsid: 0x002001, mac: "52:54:00:c1:00:01", ipv4: 192.168.10.11, attachment: {{switch: tor1, port: 1, vlan: 300}}}}
  - {{name: red2, vsid: 0x002001, mac: "52:54:00:c1:00:02", ipv4: 192.168.10.12, attachment: {{switch: tor2, port: 2}}}}
remote_nves:
  - {{name: hv9, pa: 10.0.9.9, flow_id: false, vsids: [0x001002]}}
"""


def overlay_text(tor1: str, tor2: str, pipeline: PipelineFiles, election: int = 10) -> str:
    return OVERLAY.format(
        tor1=tor1,
        tor2=tor2,
        p4info=pipeline.p4info,
        config=pipeline.device_config,
        election=election,
    )


def write_overlay(
    path: Path, switches, pipeline: PipelineFiles, election: int = 10, edit=None
) -> Path:
    """The two-switch description for `switches` (P4simProcess pair) at `path`, edited by
    `edit(data)` if given."""
    data = yaml.safe_load(
        overlay_text(switches[0].address, switches[1].address, pipeline, election)
    )
    if edit:
        edit(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path
