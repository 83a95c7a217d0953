"""Priorities per path (IEEE 802.1Q PCP <-> outer DSCP): the description's keys, their
rules, what the compiler installs for them, and the entries on a real p4sim switch."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from nve.compile import compile_switch
from nve.compile.ecmp import TargetInfo
from nve.controller import Controller
from nve.entities import Exact, TableEntry
from nve.loader import OverlayError, load_overlay, parse_overlay
from nve.p4info import P4Index, load_p4info
from nve.p4names import Action, Table
from nve.p4rt_client import SwitchClient
from nve.reconcile import read_installed
from nve.validate import validate_overlay
from tests.support.p4sim import write_overlay

PRIORITY_TABLES = (
    Table.ENCAP_PCP_DSCP,
    Table.DECAP_DSCP_PCP,
    Table.INGRESS_ACCESS_PORT_PCP,
    Table.EGRESS_ACCESS_PORT_PCP,
)

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
      - {{port: 3, role: network{port3}}}
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


def priority_entries(source: str, target: TargetInfo | None = None):
    state = compile_switch(parse_overlay(source).overlay, "tor1", target=target)
    entries = [
        e for e in state.entities if isinstance(e, TableEntry) and e.table in PRIORITY_TABLES
    ]
    return state, entries


def by_table(entries, table: str) -> dict[int, tuple[str, dict[str, int]]]:
    out = {}
    for e in entries:
        if e.table == table:
            (value,) = [m.value for _, m in e.match]
            out[value] = (e.action, dict(e.params))
    return out


# -- the description -----------------------------------------------------------------------


def test_maps_and_port_default_are_read() -> None:
    o = parse_overlay(
        text("pcp_to_dscp: {5: 46, 0: 0}\ndscp_to_pcp: {46: 5, 0x0a: 1}", port1=", default_pcp: 3")
    ).overlay
    sw = o.switches[0]
    assert sw.pcp_to_dscp == {5: 46, 0: 0}
    assert sw.dscp_to_pcp == {46: 5, 10: 1}
    assert sw.ports[0].default_pcp == 3 and sw.ports[1].default_pcp == 0


@pytest.mark.parametrize(
    "extra,expected",
    [
        ("pcp_to_dscp: {8: 1}", "pcp_to_dscp: key 8: a PCP is an integer 0-7"),
        ("pcp_to_dscp: {1: 64}", "pcp_to_dscp: PCP 1 -> 64: a DSCP is an integer 0-63"),
        ("pcp_to_dscp: {'1': 8}", "pcp_to_dscp: key '1': a PCP is an integer 0-7"),
        ("dscp_to_pcp: {64: 1}", "dscp_to_pcp: key 64: a DSCP is an integer 0-63"),
        ("dscp_to_pcp: {46: 8}", "dscp_to_pcp: DSCP 46 -> 8: a PCP is an integer 0-7"),
        ("dscp_to_pcp: [1, 2]", "dscp_to_pcp: a mapping of DSCP (0-63) to PCP (0-7) is expected"),
        ("dscp_mode: wfq", "dscp_mode"),
    ],
)
def test_bad_maps_are_named_with_their_place(extra: str, expected: str) -> None:
    found = problems_of(text(extra))
    assert len(found) == 1 and expected in found[0], found
    assert found[0].startswith("<string>:"), found  # file:line:col


def test_bad_port_default_pcp_is_named() -> None:
    found = problems_of(text(port1=", default_pcp: 8"))
    assert len(found) == 1 and "ports[0].default_pcp" in found[0], found


@pytest.mark.parametrize(
    "extra,port3,expected",
    [
        (
            "dscp_mode: pcp",
            "",
            "dscp_mode pcp takes the outer DSCP from pcp_to_dscp, which is empty",
        ),
        ("dscp_mode: pipe\npcp_to_dscp: {5: 46}", "", "has no effect with dscp_mode pipe"),
        ("", ", default_pcp: 2", "port 3 is a network port: default_pcp applies to access ports"),
    ],
)
def test_contradictory_settings_are_problems(extra: str, port3: str, expected: str) -> None:
    found = problems_of(text(extra, port3=port3))
    assert len(found) == 1 and expected in found[0], found


# -- what the compiler installs --------------------------------------------------------------


def test_nothing_is_installed_without_priority_settings() -> None:
    _, entries = priority_entries(text())
    assert entries == []


def test_uniform_maps_non_ip_frames_only_for_the_listed_pcps() -> None:
    _, entries = priority_entries(text("pcp_to_dscp: {5: 46, 1: 8}"))
    assert by_table(entries, Table.ENCAP_PCP_DSCP) == {
        1: (Action.ENCAP_SET_DSCP_NON_IP, {"dscp": 8}),
        5: (Action.ENCAP_SET_DSCP_NON_IP, {"dscp": 46}),
    }


def test_pcp_mode_maps_every_pcp_unlisted_ones_to_0() -> None:
    _, entries = priority_entries(text("dscp_mode: pcp\npcp_to_dscp: {5: 46}"))
    got = by_table(entries, Table.ENCAP_PCP_DSCP)
    assert sorted(got) == list(range(8))
    assert {a for a, _ in got.values()} == {Action.ENCAP_SET_DSCP}
    assert {p: params["dscp"] for p, (_, params) in got.items()} == {
        0: 0,
        1: 0,
        2: 0,
        3: 0,
        4: 0,
        5: 46,
        6: 0,
        7: 0,
    }


def test_decap_map_and_port_defaults() -> None:
    _, entries = priority_entries(text("dscp_to_pcp: {46: 5}", port1=", default_pcp: 3"))
    assert by_table(entries, Table.DECAP_DSCP_PCP) == {46: (Action.DECAP_SET_PCP, {"pcp": 5})}
    assert by_table(entries, Table.INGRESS_ACCESS_PORT_PCP) == {
        1: (Action.INGRESS_ACCESS_SET_DEFAULT_PCP, {"pcp": 3})
    }
    assert by_table(entries, Table.EGRESS_ACCESS_PORT_PCP) == {
        1: (Action.EGRESS_ACCESS_SET_DEFAULT_PCP, {"pcp": 3})
    }


def test_a_pipeline_without_priority_tables_is_a_problem_only_when_used() -> None:
    old = TargetInfo(arch="tna", priorities=False)
    state, entries = priority_entries(text(), old)
    assert state.problems == [] and entries == []
    state, entries = priority_entries(text("dscp_to_pcp: {46: 5}"), old)
    assert entries == []
    assert len(state.problems) == 1
    assert "has no priority tables" in state.problems[0].message


# -- on a real switch --------------------------------------------------------------------------


async def _apply(path: Path):
    ctl = Controller(load_overlay(path))
    assert ctl.check() == []
    await ctl.connect()
    try:
        return await ctl.reconcile()
    finally:
        await ctl.close()


async def _installed(address: str, p4info: Path) -> list:
    index = P4Index(load_p4info(p4info))
    async with SwitchClient(address, 0, 1) as client:
        return await read_installed(client, index)


def _with_priorities(pcp_5: int):
    def edit(d: dict) -> None:
        sw = d["switches"][0]
        sw["dscp_mode"] = "uniform"
        sw["pcp_to_dscp"] = {5: pcp_5, 3: 24}
        sw["dscp_to_pcp"] = {46: 5}
        sw["ports"][0]["default_pcp"] = 3

    return edit


def test_controller_installs_and_edits_the_maps(tmp_path, switches, pipeline):
    path = write_overlay(tmp_path / "o.yaml", switches, pipeline, edit=_with_priorities(46))
    assert asyncio.run(_apply(path)).ok
    tor1 = asyncio.run(_installed(switches[0].address, pipeline.p4info))
    got = [e for e in tor1 if isinstance(e, TableEntry) and e.table in PRIORITY_TABLES]
    assert by_table(got, Table.ENCAP_PCP_DSCP) == {
        3: (Action.ENCAP_SET_DSCP_NON_IP, {"dscp": 24}),
        5: (Action.ENCAP_SET_DSCP_NON_IP, {"dscp": 46}),
    }
    assert by_table(got, Table.DECAP_DSCP_PCP) == {46: (Action.DECAP_SET_PCP, {"pcp": 5})}
    assert by_table(got, Table.INGRESS_ACCESS_PORT_PCP) == {
        1: (Action.INGRESS_ACCESS_SET_DEFAULT_PCP, {"pcp": 3})
    }
    # One value changed: one entry modified, nothing else written.
    write_overlay(path, switches, pipeline, edit=_with_priorities(34))
    rep = asyncio.run(_apply(path))
    plan = rep.switches["tor1"].plan
    changes = [(c.op, c.entity.table, dict(c.entity.match)) for c in plan.changes()]
    assert changes == [("modify", Table.ENCAP_PCP_DSCP, {"pcp": Exact(5)})]
    assert rep.switches["tor2"].plan.empty
