"""A small hand-written P4Info for codec tests (IDs are arbitrary; nve must not care)."""

from finsy.proto import p4i
from google.protobuf import text_format

TEXT = """
pkg_info { arch: "v1model" }
tables {
  preamble { id: 40001 name: "Ingress.l2.vsid_mac" alias: "vsid_mac" }
  match_fields { id: 1 name: "meta.vsid" bitwidth: 24 match_type: EXACT }
  match_fields { id: 2 name: "hdr.ethernet.dst_addr" bitwidth: 48 match_type: EXACT }
  action_refs { id: 20001 }
  action_refs { id: 20002 }
  action_refs { id: 20003 }
  size: 1024
  idle_timeout_behavior: NOTIFY_CONTROL
}
tables {
  preamble { id: 40002 name: "Ingress.underlay.routes" alias: "routes" }
  match_fields { id: 1 name: "dst" bitwidth: 32 match_type: LPM }
  match_fields { id: 2 name: "acl" bitwidth: 16 match_type: TERNARY }
  action_refs { id: 20003 }
  size: 64
}
actions { preamble { id: 20001 name: "Ingress.l2.to_port" alias: "to_port" }
  params { id: 1 name: "port" bitwidth: 9 } params { id: 2 name: "vlan" bitwidth: 12 } }
actions { preamble { id: 20002 name: "Ingress.l2.to_tunnel" alias: "to_tunnel" }
  params { id: 1 name: "tunnel" bitwidth: 16 } }
actions { preamble { id: 20003 name: "NoAction" alias: "NoAction" } }
meters { preamble { id: 70001 name: "Ingress.punt_meter" alias: "punt_meter" } size: 4 }
digests { preamble { id: 80001 name: "learn_t" alias: "learn_t" } }
counters { preamble { id: 30001 name: "Ingress.drops" alias: "drops" } size: 32 }
controller_packet_metadata { preamble { id: 90001 name: "packet_in" }
  metadata { id: 1 name: "ingress_port" bitwidth: 9 } metadata { id: 2 name: "reason" bitwidth: 8 } }
"""


def small_p4info() -> p4i.P4Info:
    return text_format.Parse(TEXT, p4i.P4Info())
