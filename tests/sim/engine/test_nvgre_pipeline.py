"""The NVGRE program end to end in-process: entries installed through the runtime-state API
(as the P4Runtime server installs them), scapy-built frames through ``process``, output bytes
compared with frames scapy builds independently (checksums and lengths filled in by scapy)."""

from __future__ import annotations

import pytest
from scapy.layers.inet import GRE, IP, TCP, UDP
from scapy.layers.l2 import ARP, Dot1Q, Ether

from tests.sim.engine.nvgre_support import (
    ACCESS,
    LOCAL_PA,
    NETWORK,
    NH_DMAC,
    NH_SMAC,
    REMOTE_PA,
    TUNNEL,
    VM_A,
    VM_B,
    VSI,
    VSID,
    add_entry,
    clone_session,
    crc16_arc,
    install_vsi,
    ip,
    load,
    mac,
)

CPU = 255


@pytest.fixture
def nve(nvgre_program):
    """Access port 1 and network port 2 of VSID 0x123456; VM_B behind remote NVE 7."""
    pipeline, st = load(nvgre_program)
    install_vsi(st)
    return pipeline, st


def customer_frame(**ip_kw) -> Ether:
    return (
        Ether(src=VM_A, dst=VM_B)
        / IP(src="10.0.0.1", dst="10.0.0.2", tos=0x2A, **ip_kw)
        / UDP(sport=1234, dport=5678)
        / (b"x" * 40)
    )


def test_access_frame_is_nvgre_encapsulated_with_key_and_outer_checksum(nve) -> None:
    pipeline, _st = nve
    inner = customer_frame()
    result = pipeline.process(ACCESS, bytes(inner))
    flow_hash = crc16_arc(bytes.fromhex("0a0000010a0000021104d2162e"))
    key = VSID << 8 | (flow_hash & 0xFF)
    expected = (
        Ether(src=NH_SMAC, dst=NH_DMAC)
        / IP(src=LOCAL_PA, dst=REMOTE_PA, ttl=64, flags="DF", id=0, tos=0x2A, proto=47)
        / GRE(key_present=1, proto=0x6558, key=key)
        / inner
    )
    assert result.outputs == [(NETWORK, bytes(expected))]
    assert result.digests == []
    out = Ether(result.outputs[0][1])
    assert out[IP].chksum == IP(bytes(expected[IP]))[IP].chksum


def test_tagged_access_frame_loses_its_tag_before_encapsulation(nve) -> None:
    pipeline, st = nve
    add_entry(
        st,
        "NveIngress.access.port_vlan",
        {"port": ACCESS, "tagged": 1, "vid": 100},
        "NveIngress.access.set_vsi",
        {"vsi": VSI},
    )
    untagged = customer_frame()
    tagged = Ether(src=VM_A, dst=VM_B) / Dot1Q(vlan=100) / untagged[IP]
    out = pipeline.process(ACCESS, bytes(tagged)).outputs
    assert len(out) == 1
    frame = Ether(out[0][1])
    assert bytes(frame[GRE].payload) == bytes(untagged)
    assert frame[IP].len == len(untagged) + 28


def test_unknown_source_mac_raises_the_learning_digest(nve) -> None:
    pipeline, st = nve
    frame = Ether(src="52:54:00:00:00:99", dst=VM_B) / IP() / TCP()
    result = pipeline.process(ACCESS, bytes(frame))
    assert result.digests == [(st.digest_id("mac_learn_digest_t"), (VSID, 0x525400000099, ACCESS))]
    assert len(result.outputs) == 1  # still forwarded


def test_network_frame_is_decapsulated_to_the_access_port(nve) -> None:
    pipeline, st = nve
    inner = Ether(src=VM_B, dst=VM_A) / IP(src="10.0.0.2", dst="10.0.0.1") / UDP() / b"hello"
    outer = (
        Ether(src=NH_DMAC, dst=NH_SMAC)
        / IP(src=REMOTE_PA, dst=LOCAL_PA, proto=47)
        / GRE(key_present=1, proto=0x6558, key=VSID << 8 | 0x5A)
        / inner
    )
    result = pipeline.process(NETWORK, bytes(outer))
    assert result.outputs == [(ACCESS, bytes(inner))]
    counters = st.counter("NveIngress.counters.vsi_decap")
    assert counters.packets[VSI] == 1 and counters.bytes[VSI] == len(bytes(outer))


def test_outer_checksum_error_drops_with_its_reason(nve) -> None:
    pipeline, st = nve
    inner = Ether(src=VM_B, dst=VM_A) / IP() / UDP()
    outer = (
        Ether(src=NH_DMAC, dst=NH_SMAC)
        / IP(src=REMOTE_PA, dst=LOCAL_PA, proto=47, chksum=0x1234)
        / GRE(key_present=1, proto=0x6558, key=VSID << 8)
        / inner
    )
    assert pipeline.process(NETWORK, bytes(outer)).outputs == []
    drops = st.counter("NveIngress.counters.drops")
    assert drops.packets[42] == 1  # DROP_NET_BAD_CHECKSUM


def test_arp_proxy_replies_out_of_the_ingress_port(nve) -> None:
    pipeline, st = nve
    add_entry(
        st,
        "NveIngress.arp.proxy",
        {"vsi": VSI, "ip": ip("10.0.0.2")},
        "NveIngress.arp.reply",
        {"mac": mac(VM_B)},
    )
    req = Ether(src=VM_A, dst="ff:ff:ff:ff:ff:ff") / ARP(
        op=1, hwsrc=VM_A, psrc="10.0.0.1", pdst="10.0.0.2"
    )
    out = pipeline.process(ACCESS, bytes(req)).outputs
    expected = Ether(src=VM_B, dst=VM_A) / ARP(
        op=2, hwsrc=VM_B, psrc="10.0.0.2", hwdst=VM_A, pdst="10.0.0.1"
    )
    assert out == [(ACCESS, bytes(expected))]


def test_network_arp_is_punted_to_the_cpu_with_packet_in_header(nve) -> None:
    pipeline, st = nve
    clone_session(st, 100, ((CPU, 0),))
    arp = Ether(src=NH_DMAC, dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, psrc="192.0.2.2", pdst=LOCAL_PA)
    out = pipeline.process(NETWORK, bytes(arp)).outputs
    assert len(out) == 1
    port, frame = out[0]
    assert port == CPU
    # packet_in: ingress_port(9) reason(8) vsid(24) pad(7) = 6 bytes, reason 3 = UNDERLAY_ARP
    header = int.from_bytes(frame[:6], "big")
    assert header >> 39 == NETWORK
    assert (header >> 31) & 0xFF == 3
    assert frame[6:] == bytes(arp)


def test_outer_ipv4_options_are_part_of_the_verified_checksum(nve) -> None:
    pipeline, st = nve
    inner = Ether(src=VM_B, dst=VM_A) / IP(src="10.0.0.2", dst="10.0.0.1") / UDP() / b"opt"
    outer = (
        Ether(src=NH_DMAC, dst=NH_SMAC)
        / IP(src=REMOTE_PA, dst=LOCAL_PA, proto=47, options=b"\x94\x04\x00\x00")
        / GRE(key_present=1, proto=0x6558, key=VSID << 8)
        / inner
    )
    assert pipeline.process(NETWORK, bytes(outer)).outputs == [(ACCESS, bytes(inner))]
    broken = bytearray(bytes(outer))
    broken[14 + 21] ^= 0x01  # one bit of the option changes
    assert pipeline.process(NETWORK, bytes(broken)).outputs == []
    assert st.counter("NveIngress.counters.drops").packets[42] == 1


def test_unknown_unicast_floods_to_local_ports_and_remote_nves(nve) -> None:
    pipeline, st = nve
    other_access = 3
    add_entry(st, "NveIngress.port.role", {"port": other_access}, "NveIngress.port.set_access")
    add_entry(
        st,
        "NveEgress.access.port_vsi",
        {"port": other_access, "vsi": VSI},
        "NveEgress.access.tagged",
        {"vid": 42},
    )
    add_entry(
        st,
        "NveEgress.replica.tunnel",
        {"rid": TUNNEL},
        "NveEgress.replica.replica_v4",
        {
            "src_pa": ip(LOCAL_PA),
            "dst_pa": ip(REMOTE_PA),
            "use_flow_id": 0,
            "smac": mac(NH_SMAC),
            "dmac": mac(NH_DMAC),
            "vid": 0,
        },
    )
    st.pre.groups[VSI] = ((ACCESS, 0), (other_access, 0), (NETWORK, TUNNEL))
    frame = Ether(src=VM_A, dst="52:54:00:00:00:77") / IP() / UDP() / b"bum"
    outs = dict(pipeline.process(ACCESS, bytes(frame)).outputs)
    assert set(outs) == {other_access, NETWORK}  # never back out of the ingress port
    assert outs[other_access] == bytes(
        Ether(src=VM_A, dst="52:54:00:00:00:77") / Dot1Q(vlan=42) / IP() / UDP() / b"bum"
    )
    encap = Ether(outs[NETWORK])
    assert encap[GRE].key == VSID << 8  # FlowID 0 for this peer
    assert bytes(encap[GRE].payload) == bytes(frame)
    drops = st.counter("NveEgress.counters.drops")
    assert drops.packets[60] == 1  # PRUNE_INGRESS_PORT
