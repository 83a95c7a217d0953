"""Storm control per access port and the learning limit's drop mode: the description's
keys, their rules, what the compiler installs, and the controller on a real p4sim switch
(entries follow the learned MACs; `nve show` and `nve stats` report limits and counts)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from nve.compile import LearnedEndpoint, compile_switch
from nve.compile.ecmp import TargetInfo
from nve.controller import Controller
from nve.entities import Exact, MeterConfig, TableEntry
from nve.loader import OverlayError, load_overlay, parse_overlay
from nve.mac import Mac
from nve.p4info import P4Index, load_p4info
from nve.p4names import Action, Meter, Table
from nve.p4rt_client import SwitchClient
from nve.reconcile import read_cells, read_installed
from nve.validate import validate_overlay
from tests.support.p4sim import write_overlay

NVE = str(Path(sys.executable).with_name("nve"))
LIMIT_TABLES = (Table.STORM_PORT, Table.LEARN_PORT_FULL, Table.LEARN_VSI_FULL)
VSID = 0x001001

BASE = """
switches:
  - name: tor1
    address: 127.0.0.1:50061
    pipeline: {{p4info: a.txtpb, device_config: a.json}}
    nve_mac: "02:00:0a:00:00:01"
    local_pas: [10.0.0.1]
{extra}
    ports:
      - {{port: 1, role: access{port1}}}
      - {{port: 2, role: access}}
      - {{port: 3, role: network{port3}}}
tenants:
  - name: blue
    vrf: 1
    subnets:
      - {{name: web, vsid: 0x001001}}
endpoints:
  - {{name: web1, vsid: 0x001001, mac: "52:54:00:b1:00:01", attachment: {{switch: tor1, port: 1}}}}
"""


def text(extra: str = "", port1: str = "", port3: str = "") -> str:
    indented = "\n".join("    " + line for line in extra.strip().splitlines())
    return BASE.format(extra=indented, port1=port1, port3=port3)


def problems_of(source: str) -> list[str]:
    try:
        overlay = parse_overlay(source).overlay
    except OverlayError as exc:
        return [str(p) for p in exc.problems]
    return [str(p) for p in validate_overlay(overlay)]


def learned(*macs: tuple[int, int]) -> list[LearnedEndpoint]:
    return [LearnedEndpoint("tor1", VSID, Mac(mac), port) for mac, port in macs]


def limit_entities(source: str, macs=(), target: TargetInfo | None = None):
    state = compile_switch(parse_overlay(source).overlay, "tor1", macs, target=target)
    tables = [e for e in state.entities if isinstance(e, TableEntry) and e.table in LIMIT_TABLES]
    meters = [
        e for e in state.entities if isinstance(e, MeterConfig) and e.meter == Meter.STORM_RATE
    ]
    return state, tables, meters


def keys(entries, table: str) -> list[int]:
    return sorted(m.value for e in entries if e.table == table for _, m in e.match)


# -- the description -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "extra,port1,port3,expected",
    [
        ("", "", ", storm_control_pps: 100", "port 3 is a network port: storm control applies"),
        ("learning: {over_limit: drop}", "", "", "drop has no effect without max_macs_per_port"),
        ("learning: {over_limit: block}", "", "", "learning.over_limit"),
        ("", ", storm_control_pps: -1", "", "ports[0].storm_control_pps"),
        ("storm_control_pps: -5", "", "", "switches[0].storm_control_pps"),
    ],
)
def test_bad_settings_are_named(extra: str, port1: str, port3: str, expected: str) -> None:
    found = problems_of(text(extra, port1, port3))
    assert len(found) == 1 and expected in found[0], found


# -- what the compiler installs --------------------------------------------------------------


def test_nothing_without_limits() -> None:
    state, tables, meters = limit_entities(text(), learned((1, 1), (2, 1)))
    assert (state.problems, tables, meters) == ([], [], [])


def test_switch_default_rate_with_a_port_override() -> None:
    _, tables, meters = limit_entities(
        text("storm_control_pps: 200", port1=", storm_control_pps: 50")
    )
    assert keys(tables, Table.STORM_PORT) == [1, 2]  # access ports only
    assert {t.action for t in tables} == {Action.STORM_LIMIT}
    assert {(m.index, m.cir, m.cburst, m.pir, m.pburst) for m in meters} == {
        (1, 50, 5, 50, 5),
        (2, 200, 20, 200, 20),
    }
    _, tables, meters = limit_entities(
        text("storm_control_pps: 200", port1=", storm_control_pps: 0")
    )
    assert keys(tables, Table.STORM_PORT) == [2] and [m.index for m in meters] == [2]


def test_drop_mode_marks_ports_and_vsids_at_their_limit() -> None:
    drop = "learning: {max_macs_per_port: 2, max_macs_per_vsid: 3, over_limit: drop}"
    _, tables, _ = limit_entities(text(drop), learned((1, 1)))
    assert tables == []
    state, tables, _ = limit_entities(text(drop), learned((1, 1), (2, 1), (3, 2)))
    assert keys(tables, Table.LEARN_PORT_FULL) == [1]
    assert keys(tables, Table.LEARN_VSI_FULL) == [state.vsi[VSID]]
    assert {t.action for t in tables} == {Action.LEARN_FULL}
    # MACs learned on another switch do not count here
    other = [LearnedEndpoint("tor2", VSID, Mac(9), 1), LearnedEndpoint("tor2", VSID, Mac(8), 1)]
    _, tables, _ = limit_entities(text(drop), other)
    assert tables == []


def test_forward_mode_installs_no_full_entries() -> None:
    fwd = "learning: {max_macs_per_port: 1}"
    _, tables, _ = limit_entities(text(fwd), learned((1, 1), (2, 1)))
    assert tables == []


def test_a_pipeline_without_the_tables_is_a_problem_only_when_used() -> None:
    old = TargetInfo(arch="tna", priorities=False, storm_control=False, mac_limit_drop=False)
    state, tables, meters = limit_entities(text(), learned((1, 1)), old)
    assert (state.problems, tables, meters) == ([], [], [])
    state, tables, meters = limit_entities(
        text("storm_control_pps: 10\nlearning: {max_macs_per_port: 1, over_limit: drop}"),
        learned((1, 1)),
        old,
    )
    assert (tables, meters) == ([], [])
    messages = sorted(p.message for p in state.problems)
    assert len(messages) == 2
    assert "cannot drop over the MAC limit" in messages[0]
    assert "has no storm control" in messages[1]


# -- on a real switch --------------------------------------------------------------------------


def _limits(d: dict) -> None:
    sw = d["switches"][0]
    sw["storm_control_pps"] = 100
    sw["learning"] = {"max_macs_per_port": 2, "over_limit": "drop"}
    sw["ports"][1]["storm_control_pps"] = 0


async def _limit_state(address: str, p4info: Path, desired) -> tuple[list, list]:
    index = P4Index(load_p4info(p4info))
    async with SwitchClient(address, 0, 1) as client:
        tables = await read_installed(client, index)
        cells = await read_cells(client, index, desired)
    return (
        [e for e in tables if isinstance(e, TableEntry) and e.table in LIMIT_TABLES],
        [e for e in cells if isinstance(e, MeterConfig) and e.meter == Meter.STORM_RATE],
    )


def test_controller_follows_the_learned_macs(tmp_path, switches, pipeline):
    path = write_overlay(tmp_path / "o.yaml", switches, pipeline, edit=_limits)

    async def run() -> tuple:
        ctl = Controller(load_overlay(path))
        assert ctl.check() == []
        await ctl.connect()
        try:
            assert (await ctl.reconcile()).ok
            desired = ctl.states["tor1"].entities
            first = await _limit_state(switches[0].address, pipeline.p4info, desired)
            # two MACs learned on port 2 (bound to VSID 0x001001 untagged in the fixture)
            for mac in (0x020000000001, 0x020000000002):
                assert ctl.learn(LearnedEndpoint("tor1", VSID, Mac(mac), 2))
            assert (await ctl.reconcile()).ok
            full = await _limit_state(switches[0].address, pipeline.p4info, desired)
            ctl.age_out("tor1", VSID, Mac(0x020000000001))
            assert (await ctl.reconcile()).ok
            freed = await _limit_state(switches[0].address, pipeline.p4info, desired)
            return first, full, freed
        finally:
            await ctl.close()

    first, full, freed = asyncio.run(run())
    tables, meters = first
    # storm control on port 1 only (port 2 overrides the switch default with 0)
    assert [(e.table, dict(e.match)) for e in tables] == [(Table.STORM_PORT, {"port": Exact(1)})]
    assert [(m.index, m.cir, m.pir) for m in meters] == [(1, 100, 100)]
    assert [(e.table, dict(e.match)) for e in full[0] if e.table == Table.LEARN_PORT_FULL] == [
        (Table.LEARN_PORT_FULL, {"port": Exact(2)})
    ]
    assert [e for e in freed[0] if e.table == Table.LEARN_PORT_FULL] == []


def test_show_and_stats_report_limits_and_counts(tmp_path, switches, pipeline):
    path = write_overlay(tmp_path / "o.yaml", switches, pipeline, edit=_limits)
    real = subprocess.run([NVE, "apply", str(path)], capture_output=True, check=False, text=True)
    assert real.returncode == 0, real.stderr
    show = subprocess.run([NVE, "show", str(path)], capture_output=True, check=False, text=True)
    assert show.returncode == 0, show.stderr
    assert "over the limit: drop" in show.stdout
    assert "  port 1: 0/2 MACs learned, storm control 100 pps" in show.stdout
    assert "  port 2: 0/2 MACs learned, storm control off" in show.stdout
    stats = subprocess.run(
        [NVE, "stats", "--json", str(path)], capture_output=True, check=False, text=True
    )
    assert stats.returncode == 0, stats.stderr
    assert '"storm_dropped": {}' in stats.stdout
