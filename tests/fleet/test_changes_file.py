"""`nve endpoint apply`'s file: changes in order, every mistake at file:line (no etcd)."""

from __future__ import annotations

import pytest

from nve.loader import OverlayError
from nve.model import LocalAttachment, RemoteAttachment
from nve.store.changes_file import parse_changes
from nve.store.endpoints import Add, Move, Remove


def problems(text: str) -> list[str]:
    with pytest.raises(OverlayError) as err:
        parse_changes(text, "c.yaml")
    return [str(p) for p in err.value.problems]


def test_changes_come_back_in_file_order() -> None:
    changes = parse_changes(
        "changes:\n"
        "  - remove: a\n"
        "  - move: {name: b, attachment: {remote_nve: hv9}}\n"
        "  - move: {name: c, attachment: {switch: tor1, port: 2, vlan: 7}}\n"
        "  - add: {name: d, vsid: 0x001001, mac: '52:54:00:00:00:01',\n"
        "          attachment: {switch: tor1, port: 1}}\n"
    )
    assert changes[:3] == [
        Remove("a"),
        Move("b", RemoteAttachment(remote_nve="hv9")),
        Move("c", LocalAttachment(switch="tor1", port=2, vlan=7)),
    ]
    assert isinstance(changes[3], Add) and changes[3].endpoint.vsid == 0x001001


def test_each_mistake_is_named_at_its_line() -> None:
    got = problems(
        "changes:\n"
        "  - remove: a\n"
        "  - move: {name: b, attachment: {switch: tor1, port: '2'}}\n"
        "  - rename: {name: c}\n"
        "  - add: {name: d, vsid: 0x001001, mac: zz, attachment: {switch: tor1, port: 1}}\n"
    )
    assert any(p.startswith("c.yaml:3:") and "must be an integer" in p for p in got), got
    assert any(p.startswith("c.yaml:4:") for p in got), got
    assert any(p.startswith("c.yaml:5:") and "not a MAC address" in p for p in got), got


def test_unknown_fields_duplicate_keys_and_other_shapes_are_refused() -> None:
    got = problems("changes:\n  - remove: a\n    move: {name: b}\nextra: 1\n")
    assert any("c.yaml:4:" in p and "not part of an endpoint changes file" in p for p in got), got
    got = problems("changes:\n  - remove: a\n  - remove: b\n    remove: c\n")
    assert any("c.yaml:4:" in p and "duplicate" in p.lower() for p in got), got
    assert problems("- remove: a\n") == [
        "c.yaml:1:1: must be a mapping: an endpoint changes file (changes: [add/move/remove])"
    ]
    assert problems("") == ["c.yaml:1:1: the file is empty"]
    assert any(
        "alias" in p.lower() or "nested" in p.lower()
        for p in problems("changes: " + "[" * 200 + "]" * 200)
    )
