"""nve.mac.Mac: one parse of a MAC address, usable as text, integer and bytes."""

from __future__ import annotations

import pytest

from nve.mac import Mac
from nve.model import Endpoint


def test_text_int_and_bytes_are_one_value() -> None:
    m = Mac("02:00:0A:00:00:01")
    assert m == 0x02000A000001 == Mac(0x02000A000001) == Mac(bytes.fromhex("02000a000001"))
    assert str(m) == "02:00:0a:00:00:01" and f"{m}" == "02:00:0a:00:00:01"
    assert f"{m:#x}" == "0x2000a000001" and repr(m) == "Mac('02:00:0a:00:00:01')"
    assert m.packed == bytes.fromhex("02000a000001")
    assert Mac("02-00-0a-00-00-01") == m
    assert hash(m) == hash(0x02000A000001)


def test_group_bit() -> None:
    assert Mac("01:00:5e:00:00:01").is_multicast and Mac("ff:ff:ff:ff:ff:ff").is_multicast
    assert not Mac("02:00:00:00:00:01").is_multicast


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("02:00:00:00:00", "is not a MAC address"),
        ("02:00:00:00:00:0g", "is not a MAC address"),
        (1 << 48, "does not fit in 48 bits"),
        (-1, "does not fit in 48 bits"),
        (b"\x00" * 5, "6 bytes, not 5"),
    ],
)
def test_bad_values_are_refused_with_the_reason(value: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Mac(value)  # type: ignore[arg-type]  # refusing wrong input is what is tested


def test_the_overlay_model_parses_and_dumps_macs_as_text() -> None:
    ep = Endpoint.model_validate(
        {"name": "a", "vsid": 0x1001, "mac": "52:54:00:AA:00:01", "attachment": {"remote_nve": "x"}}
    )
    assert isinstance(ep.mac, Mac) and ep.mac == 0x525400AA0001
    assert ep.model_dump(mode="json")["mac"] == "52:54:00:aa:00:01"
    with pytest.raises(ValueError, match="must be a string"):
        Endpoint.model_validate(
            {"name": "a", "vsid": 1, "mac": 0x525400AA0001, "attachment": {"remote_nve": "x"}}
        )
