"""What `nve run` logs after a reconcile: a reconcile cut short says so, with the reason and
what it did not write, instead of a plain "N written, 0 failed"."""

from __future__ import annotations

import logging

from nve.diff import Change, Plan
from nve.entities import TableEntry
from nve.reconcile import ReconcileReport, SwitchReport
from nve.runner import reconcile_summary


def _plan(n: int) -> Plan:
    return Plan(make=[[Change("insert", TableEntry(f"t{i}")) for i in range(n)]])


def test_a_reconcile_cut_short_by_a_lost_switch_says_so() -> None:
    report = ReconcileReport(
        switches={
            "tor1": SwitchReport("tor1", _plan(5000), written=2431, skipped="stream closed"),
            "tor2": SwitchReport("tor2", _plan(10), written=10),
        },
        seconds=1.5,
    )
    lines = reconcile_summary(report, ["tor1", "tor2"])
    expected = (
        "tor1: reconcile cut short (stream closed): 2431 of 5000 planned updates written,"
        " 2569 not written; the next reconcile reads the switch again"
    )
    assert lines[0] == (logging.WARNING, expected)
    assert lines[-1] == (
        logging.INFO,
        "reconciled tor1,tor2: 2441 written, 0 failed, 1 switch cut short, 1.500s",
    )


def test_a_complete_reconcile_is_one_line() -> None:
    report = ReconcileReport(switches={"tor1": SwitchReport("tor1", _plan(3), written=3)})
    assert reconcile_summary(report, ["tor1"]) == [
        (logging.INFO, "reconciled tor1: 3 written, 0 failed, 0.000s")
    ]
