"""The diff is minimal, exact and ordered: tiers up for make, down for delete, local breaks last."""

import pytest

from nve.diff import diff
from nve.entities import (
    DigestConfig,
    Exact,
    MeterConfig,
    MulticastGroup,
    TableEntry,
    lpm,
    make_match,
    make_params,
)


def entry(table, key, action="fwd", tier=0, **params):
    return TableEntry(table, make_match(k=Exact(key)), action, make_params(**params), tier=tier)


def test_identical_state_gives_empty_plan():
    state = [entry("t", 1, port=1), MulticastGroup(5, ((1, 0), (2, 0))), DigestConfig("d")]
    plan = diff(state, list(state))
    assert plan.empty and plan.changes() == []


def test_insert_modify_delete_exact():
    installed = [entry("t", 1, port=1), entry("t", 2, port=2), entry("t", 3, port=3)]
    desired = [entry("t", 1, port=1), entry("t", 2, port=9), entry("t", 4, port=4)]
    plan = diff(desired, installed)
    got = sorted((c.op, c.entity.match[0][1].value) for c in plan.changes())
    assert got == [("delete", 3), ("insert", 4), ("modify", 2)]
    (modify,) = [c for c in plan.changes() if c.op == "modify"]
    assert modify.before == entry("t", 2, port=2)


def test_kept_entities_are_not_deleted_but_still_modified():
    installed = [entry("ul", 1, port=1), entry("ul", 2, port=2), entry("t", 3, port=3)]
    desired = [entry("ul", 2, port=9)]
    plan = diff(desired, installed, keep=lambda e: e.table == "ul")
    got = sorted((c.op, c.entity.table, c.entity.match[0][1].value) for c in plan.changes())
    assert got == [("delete", "t", 3), ("modify", "ul", 2)]  # ul 1 stays


def test_tiers_order_make_up_and_deletes_down():
    desired = [
        entry("users", 1, tier=2, nh=7),
        entry("nexthop", 7, tier=0, port=1),
        entry("mid", 3, tier=1),
    ]
    installed = [entry("old_users", 1, tier=2), entry("old_nh", 1, tier=0)]
    plan = diff(desired, installed)
    assert [[c.entity.table for c in b] for b in plan.make] == [["nexthop"], ["mid"], ["users"]]
    assert [[c.entity.table for c in b] for b in plan.break_] == [["old_users"], ["old_nh"]]


def test_local_attachment_modify_waits_for_break_phase():
    local = entry("l2", 1, action="to_port", tier=2, port=1)
    remote = entry("l2", 1, action="to_tunnel", tier=2, tunnel=4)
    plan = diff(
        [remote, entry("tun", 4, tier=1)],
        [local],
        is_local_attachment=lambda e: isinstance(e, TableEntry) and e.action == "to_port",
    )
    assert [c.op for b in plan.make for c in b] == ["insert"]
    assert [(c.op, c.entity) for b in plan.break_ for c in b] == [("modify", remote)]


def test_default_entries_and_meters_are_modified_never_inserted_or_deleted():
    default = TableEntry("t", action="drop", is_default=True)
    meter = MeterConfig("m", 0, 100, 10, 200, 20)
    plan = diff(
        [default, meter],
        [TableEntry("u", action="x", is_default=True), MeterConfig("m", 1, 1, 1, 1, 1)],
    )
    assert sorted(c.op for c in plan.changes()) == ["modify", "modify"]


def test_lpm_host_bits_are_canonical():
    a = TableEntry("r", make_match(dst=lpm(0x0A000001, 8, 32)), "x")
    b = TableEntry("r", make_match(dst=lpm(0x0A0000FF, 8, 32)), "x")
    assert a == b and diff([a], [b]).empty


def test_conflicting_desired_entities_rejected():
    with pytest.raises(ValueError, match="share a key"):
        diff([entry("t", 1, port=1), entry("t", 1, port=2)], [])


def test_digest_config_change_is_modify_and_removal_is_delete():
    plan = diff([DigestConfig("d", max_timeout_ns=5)], [DigestConfig("d"), DigestConfig("e")])
    assert sorted((c.op, c.entity.digest) for c in plan.changes()) == [
        ("delete", "e"),
        ("modify", "d"),
    ]
