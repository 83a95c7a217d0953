"""The packet tests' own hash and frame builders, checked against published values."""

from __future__ import annotations

from scapy.layers.l2 import Ether

from nve_ptf.packets import (
    NVGRE,
    crc16_arc,
    customer,
    ecmp_bucket,
    flow_id,
    gre_key,
    nvgre,
    tagged,
    untag,
)


def test_crc16_arc_check_value() -> None:
    # The catalogue check value of CRC-16/ARC over "123456789".
    assert crc16_arc(b"123456789") == 0xBB3D
    assert crc16_arc(b"") == 0


def test_flow_id_uses_the_five_tuple_not_the_payload() -> None:
    a = customer(
        "v4", "02:00:00:00:00:01", "02:00:00:00:00:02", "10.0.0.1", "10.0.0.2", payload=b"x" * 50
    )
    b = customer(
        "v4", "02:00:00:00:00:03", "02:00:00:00:00:04", "10.0.0.1", "10.0.0.2", payload=b"y" * 50
    )
    assert flow_id(a) == flow_id(b)
    expected = crc16_arc(
        bytes([10, 0, 0, 1, 10, 0, 0, 2, 17]) + (1234).to_bytes(2, "big") + (80).to_bytes(2, "big")
    )
    assert flow_id(a) == expected & 0xFF


def test_flow_id_of_non_ip_frames_uses_macs_and_ethertype() -> None:
    f = customer("l2", "02:00:00:00:00:01", "02:00:00:00:00:02")
    data = bytes.fromhex("02000000000202000000000188b5")
    assert flow_id(f) == crc16_arc(data) & 0xFF
    assert gre_key(0x123456, f, False) == 0x12345600
    assert gre_key(0x123456, f, True) == 0x12345600 | (crc16_arc(data) & 0xFF)


def test_ecmp_bucket_is_crc_mod_size() -> None:
    data = bytes([192, 0, 2, 1, 198, 51, 100, 10]) + (0x00500142).to_bytes(4, "big")
    assert ecmp_bucket("192.0.2.1", "198.51.100.10", 0x00500142, 4) == crc16_arc(data) % 4


def test_nvgre_header_is_the_rfc_7637_first_word() -> None:
    inner = customer("l2", "02:00:00:00:00:01", "02:00:00:00:00:02")
    pkt = nvgre(
        inner,
        src_pa="192.0.2.1",
        dst_pa="198.51.100.10",
        vsid=0x005001,
        flow=0x42,
        smac="00:00:5e:00:53:01",
        dmac="00:00:5e:00:53:a5",
    )
    raw = bytes(pkt)
    assert raw[12:14] == b"\x08\x00"
    assert raw[14 + 9] == 47
    assert raw[34:38] == bytes.fromhex("20006558")
    assert raw[38:42] == bytes.fromhex("00500142")
    assert raw[42:] == bytes(inner)
    assert bytes(NVGRE(vsid=1)) == bytes.fromhex("20006558 00000100".replace(" ", ""))


def test_tag_and_untag_round_trip() -> None:
    f = customer("v4", "02:00:00:00:00:01", "02:00:00:00:00:02")
    t = tagged(f, 100)
    assert bytes(t)[12:16] == bytes.fromhex("81000064")
    assert bytes(untag(t)) == bytes(f)
    assert bytes(Ether(bytes(t)))[16:18] == b"\x08\x00"
