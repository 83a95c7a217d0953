"""bench underlay_bgp: what it reads from nve run's log and from ping's output."""

from __future__ import annotations

import time
from pathlib import Path

from bench.underlay_bgp import REPLY, frr_started


def test_frr_started_is_the_last_instance_started(tmp_path: Path):
    log = tmp_path / "nve-run.log"
    log.write_text(
        "2026-12-03 16:51:48,976 INFO nve.underlay: tor2: FRR (zebra, bgpd) started in ns2, files in d\n"
        "2026-12-03 16:51:49,208 INFO nve.underlay: tor1: FRR (zebra, bfdd, bgpd) started in ns1, files in d\n"
        "2026-12-03 16:51:50,000 INFO nve.underlay: tor1: BGP 10.1.1.0 (AS 65000): Established\n"
    )
    first = time.mktime(time.strptime("2026-12-03 16:51:49", "%Y-%m-%d %H:%M:%S"))
    assert abs(frr_started(log) - (first + 0.208)) < 1e-6


def test_reply_lines_give_their_time():
    line = "[1764780000.123456] 64 bytes from 192.168.1.20: icmp_seq=12 ttl=64 time=1.85 ms"
    m = REPLY.match(line)
    assert m is not None and (float(m.group(1)), int(m.group(2))) == (1764780000.123456, 12)
    assert REPLY.match("no answer yet for icmp_seq=13") is None
