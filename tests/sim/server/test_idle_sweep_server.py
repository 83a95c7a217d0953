"""The server's idle-timeout ticks: bounded slices, notified once, rollback and reconcile kept."""

from __future__ import annotations

from typing import Any

from finsy.proto import p4r

from p4sim.pipeline_api import DropPipeline
from p4sim.server.service import P4RuntimeService
from p4sim.state import build_state
from p4sim.switch import PipelineConfig, Switch
from tests.sim.p4sim_switch_support import (
    SOURCE,
    T_EXACT,
    FakeProgram,
    exact_entry,
    sample_p4info,
    update,
)

SIZE = 10_000


def _config(p4info: Any) -> PipelineConfig:
    return PipelineConfig(
        p4info, b"", None, FakeProgram(p4info, SOURCE), build_state(p4info), DropPipeline()
    )


def _service() -> tuple[P4RuntimeService, list[p4r.StreamMessageResponse]]:
    p4info = sample_p4info()
    for t in p4info.tables:
        if t.preamble.id == T_EXACT:
            t.size = SIZE
    switch = Switch(device_id=1)
    switch.config = _config(p4info)
    service = P4RuntimeService(switch)
    sent: list[p4r.StreamMessageResponse] = []
    service._to_primaries = sent.append  # type: ignore[assignment]  # stands for the primaries' streams
    return service, sent


def _notified(sent: list[p4r.StreamMessageResponse]) -> list[int]:
    return [
        int.from_bytes(te.match[0].exact.value, "big")
        for m in sent
        for te in m.idle_timeout_notification.table_entry
    ]


def _insert_all(service: P4RuntimeService, macs: range, idle_timeout_ns: int) -> None:
    errors = service._apply_all_or_none(
        service.switch.state,
        [update("INSERT", exact_entry(mac, 1, idle_timeout_ns=idle_timeout_ns)) for mac in macs],
    )
    assert errors == [None] * len(macs)


def test_large_set_each_entry_notified_once_within_one_pass() -> None:
    service, sent = _service()
    service.idle_budget = 1_000
    _insert_all(service, range(1, SIZE + 1), idle_timeout_ns=1)
    ticks = -(-SIZE // service.idle_budget)
    for _ in range(ticks):
        service.tick()
        assert len(_notified(sent)) <= service.idle_budget * len(sent)
    got = _notified(sent)
    assert sorted(got) == list(range(1, SIZE + 1))
    for _ in range(ticks):
        service.tick()
    assert len(_notified(sent)) == SIZE  # not again while idle


def test_untimed_entries_are_not_swept() -> None:
    service, sent = _service()
    _insert_all(service, range(1, SIZE + 1), idle_timeout_ns=0)
    table = service.switch.state.tables[T_EXACT].table
    assert len(table) == SIZE and table.timed_entries == 0
    service.tick()
    assert sent == []


def test_rolled_back_batch_leaves_the_sweep_as_it_was() -> None:
    service, sent = _service()
    _insert_all(service, range(1, 3), idle_timeout_ns=1)
    table = service.switch.state.tables[T_EXACT].table
    bad = exact_entry(99, 1)
    bad.match[0].exact.value = b"\x01" * 7  # too wide: the batch fails at its last update
    errors = service._apply_all_or_none(
        service.switch.state,
        [
            update(
                "MODIFY", exact_entry(1, 2, idle_timeout_ns=0)
            ),  # would drop entry 1 from the sweep
            update("DELETE", exact_entry(2, 1)),
            update("INSERT", exact_entry(3, 1, idle_timeout_ns=1)),
            update("INSERT", bad),
        ],
    )
    assert errors[-1] is not None
    assert table.timed_entries == 2 and len(table) == 2
    service.tick()
    assert sorted(_notified(sent)) == [1, 2]


def test_deleted_entries_are_never_notified() -> None:
    service, sent = _service()
    _insert_all(service, range(1, 101), idle_timeout_ns=1)
    errors = service._apply_all_or_none(
        service.switch.state, [update("DELETE", exact_entry(m, 1)) for m in range(1, 51)]
    )
    assert errors == [None] * 50
    service.tick()
    assert sorted(_notified(sent)) == list(range(51, 101))


def test_reconcile_carries_timed_entries_into_the_new_sweep() -> None:
    service, sent = _service()
    _insert_all(service, range(1, 4), idle_timeout_ns=1)
    old = service.switch.config
    assert old is not None
    new = _config(old.p4info)
    service.switch.commit(new, reconcile=True)
    assert new.state.tables[T_EXACT].table.timed_entries == 3
    service.tick()
    assert sorted(_notified(sent)) == [1, 2, 3]


def test_modify_to_no_timeout_stops_notifications() -> None:
    service, sent = _service()
    _insert_all(service, range(1, 3), idle_timeout_ns=1)
    assert service._apply_all_or_none(
        service.switch.state, [update("MODIFY", exact_entry(1, 2, idle_timeout_ns=0))]
    ) == [None]
    service.tick()
    assert _notified(sent) == [2]
    assert isinstance(sent[0], p4r.StreamMessageResponse)
