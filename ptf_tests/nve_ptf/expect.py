"""Strict packet expectations on top of ``ptf.testutils``.

``testutils.verify_packet`` skips packets that do not match while it looks for the
expected one, so an extra wrong frame ahead of the right one would go unnoticed. Here
every frame that arrives on a port must be one of the frames expected there (compared
byte for byte, or through a ``Mask`` where a field is genuinely don't-care), and
``verify_no_other_packets`` then checks that nothing else arrived anywhere.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ptf import testutils
from ptf.dataplane import match_exp_pkt
from ptf.mask import Mask
from scapy.layers.l2 import Ether

from nve_ptf.adapter import PtfFailure, PtfTest
from nve_ptf.base import Case, wait_for_drops

# A scapy packet, bytes or a ptf Mask (scapy and ptf carry no type information).
Expected = Any


def _bytes(p: Expected) -> bytes:
    if isinstance(p, Mask):
        return bytes(p.exp_pkt)
    return bytes(p)


def _same(exp: Expected, got: bytes) -> bool:
    if isinstance(exp, Mask):
        return match_exp_pkt(exp, got)
    return _bytes(exp) == got  # exact: no padding tolerance, the switch must not pad or trim


def _show(data: bytes) -> str:
    try:
        return Ether(data).summary() + "\n" + data.hex(" ")
    except Exception:  # noqa: BLE001 (a description for a failure message; any dissector error falls back to hex)
        return data.hex(" ")


def send(test: PtfTest, port: int, pkt: Expected) -> None:
    testutils.send_packet(test, port, bytes(pkt))


def expect(
    test: PtfTest, expected: Mapping[int, Expected | Sequence[Expected]], *, timeout: float = 3.0
) -> None:
    """Exactly these frames on these ports (any order within a port), then nothing else anywhere."""
    for port, want in expected.items():
        wanted = list(want) if isinstance(want, (list, tuple)) else [want]
        got: list[bytes] = []
        for _ in wanted:
            res = testutils.dp_poll(test, device_number=0, port_number=port, timeout=timeout)
            if not isinstance(res, test.dataplane.PollSuccess):
                break
            got.append(bytes(res.packet))
        unmatched = list(got)
        missing = []
        for w in wanted:
            for i, g in enumerate(unmatched):
                if _same(w, g):
                    unmatched.pop(i)
                    break
            else:
                missing.append(w)
        if missing or unmatched:
            lines = [f"port {port}: expected {len(wanted)} frame(s), received {len(got)}"]
            lines += [
                "  missing:\n    " + _show(_bytes(m)).replace("\n", "\n    ") for m in missing
            ]
            lines += ["  unexpected:\n    " + _show(u).replace("\n", "\n    ") for u in unmatched]
            raise PtfFailure("\n".join(lines))
    testutils.verify_no_other_packets(test)


def expect_nothing(test: PtfTest) -> None:
    testutils.verify_no_other_packets(test)


def expect_drop(case: Case, port: int, pkt: object, reason: int, *, count: int = 1) -> None:
    """Send pkt on port; nothing may come out, and exactly ``reason`` counts ``count`` drops."""
    before = case.drops()
    for _ in range(count):
        send(case.test, port, pkt)
    testutils.verify_no_other_packets(case.test)
    delta = wait_for_drops(case, before, {reason: count})
    if delta != {reason: count}:
        raise PtfFailure(f"drop counters moved by {delta}, expected {{{reason}: {count}}}")


def expect_forward(
    case: Case,
    port: int,
    pkt: object,
    expected: Mapping[int, Expected | Sequence[Expected]],
    *,
    drops: Mapping[int, int] | None = None,
) -> None:
    """Send pkt on port, expect exactly ``expected``; the drop counters move only as ``drops`` says."""
    before = case.drops()
    send(case.test, port, pkt)
    expect(case.test, expected)
    want = dict(drops or {})
    delta = wait_for_drops(case, before, want, timeout=1.0 if want else 0.0)
    if delta != want:
        raise PtfFailure(f"drop counters moved by {delta}, expected {want}")
