"""The idle-timeout sweep of a table: which entries it visits, and that each goes idle once."""

from __future__ import annotations

import random

from p4sim.state import FieldSpec, MatchKind, TableEntry, make_table

NOW = 10**12
FIELDS = (FieldSpec(1, "mac", 48, MatchKind.EXACT),)


def _table(size: int, support_timeout: bool = True):
    return make_table(7, "t", FIELDS, size, support_timeout=support_timeout)


def _entry(key: int, timeout_ns: int, last_hit_ns: int) -> TableEntry:
    return TableEntry((key,), 1, (), idle_timeout_ns=timeout_ns, now_ns=last_hit_ns)


def _hit(e: TableEntry, now_ns: int) -> None:
    """What the generated per-packet code does on a hit of a support_timeout table."""
    e.last_hit_ns = now_ns
    e.idle_notified = False


def test_entries_without_idle_timeout_are_never_visited() -> None:
    t = _table(10_000)
    for k in range(5_000):
        t.insert(_entry(k, 0, 0))  # long idle, but no timeout: nothing to notify, nothing to visit
    timed = [_entry(100_000 + k, 1_000, 0) for k in range(3)]
    for e in timed:
        t.insert(e)
    assert t.timed_entries == 3
    r = t.idle_sweep(NOW, budget=100_000)
    assert r.visited == 3
    assert set(map(id, r.expired)) == set(map(id, timed))
    for e in timed:
        t.delete(e.match)
    assert t.timed_entries == 0 and t.idle_sweep(NOW, budget=100_000).visited == 0


def test_table_without_support_timeout_tracks_nothing() -> None:
    t = _table(100, support_timeout=False)
    for k in range(50):
        t.insert(_entry(k, 5, 0))
    assert t.timed_entries == 0
    assert t.idle_sweep(NOW, budget=1_000).expired == []


def test_each_slice_is_bounded_by_the_budget() -> None:
    t = _table(1_000)
    for k in range(1_000):
        t.insert(_entry(k, 10**15, NOW))
    visits = [t.idle_sweep(NOW, budget=300).visited for _ in range(5)]
    # a pass ends at the end of the set even with budget left, then starts over
    assert visits == [300, 300, 300, 100, 300]


def test_every_timed_out_entry_notified_exactly_once_despite_deletes_mid_pass() -> None:
    rng = random.Random(7)
    n, budget = 20_000, 1_500
    t = _table(n)
    entries = []
    for k in range(n):
        expired = rng.random() < 0.7
        e = _entry(k, 1_000, NOW - 2_000 if expired else NOW)
        entries.append(e)
        t.insert(e)
    expired_ids = {id(e) for e in entries if e.last_hit_ns < NOW - 1_000}
    deleted = set(map(id, rng.sample(entries, 2_000)))
    counts: dict[int, int] = {}
    notified_before_delete: set[int] = set()
    for tick in range(3 * (n // budget + 1)):  # three full passes
        if tick == 4:  # mid-pass: part of the set visited, part not
            notified_before_delete = {i for i in counts if i in deleted}
            for e in entries:
                if id(e) in deleted:
                    t.delete(e.match)
        for e in t.idle_sweep(NOW, budget).expired:
            counts[id(e)] = counts.get(id(e), 0) + 1
        if tick == -(-n // budget) - 1:
            # deletes never make a pass skip an entry: all are notified within the first pass
            assert (expired_ids - deleted) <= set(counts)
    assert all(c == 1 for c in counts.values())
    assert set(counts) == (expired_ids - deleted) | notified_before_delete
    assert notified_before_delete and notified_before_delete < deleted & expired_ids


def test_an_entry_hit_after_its_notification_is_notified_again_once_idle_again() -> None:
    t = _table(10)
    e = _entry(1, 1_000, NOW - 5_000)
    t.insert(e)
    assert t.idle_sweep(NOW, 10).expired == [e]
    assert t.idle_sweep(NOW + 10_000, 10).expired == []  # once per idle period
    _hit(e, NOW + 20_000)
    assert t.idle_sweep(NOW + 20_500, 10).expired == []  # not idle for long enough yet
    assert t.idle_sweep(NOW + 21_000, 10).expired == [e]
    assert t.idle_sweep(NOW + 99_000, 10).expired == []


def test_set_idle_timeout_adds_and_removes_from_the_sweep() -> None:
    t = _table(10)
    e = _entry(1, 0, 0)
    t.insert(e)
    assert t.timed_entries == 0
    t.set_idle_timeout(e, 1_000)
    assert t.timed_entries == 1 and t.idle_sweep(NOW, 10).expired == [e]
    t.set_idle_timeout(e, 0)
    assert e.idle_timeout_ns == 0 and t.timed_entries == 0
    t.delete(e.match)
    t.set_idle_timeout(e, 1_000)  # no longer installed: must not come back into the sweep
    assert t.timed_entries == 0


def test_clear_empties_the_sweep() -> None:
    t = _table(10)
    for k in range(5):
        t.insert(_entry(k, 1, 0))
    t.clear()
    assert t.timed_entries == 0 and t.idle_sweep(NOW, 10).visited == 0
