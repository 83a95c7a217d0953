"""The description's `version:` key: absent means 1; newer than this nve is refused by name."""

from __future__ import annotations

import pytest

from nve.loader import OverlayError, parse_overlay
from nve.model import OVERLAY_VERSION


def test_absent_version_is_1_and_the_current_one_is_accepted() -> None:
    assert parse_overlay("switches: []\n").overlay.version == 1
    text = f"version: {OVERLAY_VERSION}\nswitches: []\n"
    assert parse_overlay(text).overlay.version == OVERLAY_VERSION


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (OVERLAY_VERSION + 1, "is newer than this nve reads"),
        ("yes", "is an integer"),
        ('"1"', "is an integer"),
        (0, "versions start at 1"),
    ],
)
def test_a_version_this_nve_cannot_read_is_refused_where_it_is_written(
    value: object, message: str
) -> None:
    with pytest.raises(OverlayError) as info:
        parse_overlay(f"switches: []\nversion: {value}\n", "o.yaml")
    assert str(info.value).startswith("o.yaml:2:10: version: ")
    assert message in str(info.value)
