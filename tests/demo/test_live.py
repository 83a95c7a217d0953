"""demo.live: the periodic report shows totals and packets per second since the last one."""

from __future__ import annotations

from demo.live import Snapshot, format_report
from nve.stats import CountersJson


def counters(encap: int, tx: int, drops: dict[str, list[int]]) -> CountersJson:
    return {
        "bytes": "customer frame",
        "vsid": {"0x001001": {"encap": [encap, encap * 100], "decap": [0, 0]}},
        "drops": drops,
        "remote_nve": {"hv9": {"tx": [tx, tx * 140], "rx": [0, 0]}},
        "storm_dropped": {},
    }


def row(report: str, first: str) -> list[str]:
    return next(line.split() for line in report.splitlines() if line.startswith(first))


def test_rates_per_vsid_remote_nve_and_drop_reason() -> None:
    before = Snapshot(100.0, {"tor1": counters(10, 4, {"ROUTE_MISS": [1, 60]})})
    after = Snapshot(
        104.0,
        {"tor1": counters(30, 24, {"ROUTE_MISS": [1, 60], "NET_VSID_UNKNOWN": [8, 800]})},
    )
    first = format_report(before, None)
    assert "bytes = the customer frame both ways" in first
    assert row(first, "0x001001") == ["0x001001", "10", "1000", "-", "0", "0", "-"]
    report = format_report(after, before)
    assert "over the last 4.0 s" in report
    assert row(report, "0x001001") == ["0x001001", "30", "3000", "5.0", "0", "0", "0.0"]
    assert row(report, "hv9") == ["hv9", "24", "3360", "5.0", "0", "0", "0.0"]
    assert row(report, "ROUTE_MISS") == ["ROUTE_MISS", "1", "60", "0.0"]
    # A reason that appeared since the last report counts from zero.
    assert row(report, "NET_VSID_UNKNOWN") == ["NET_VSID_UNKNOWN", "8", "800", "2.0"]
