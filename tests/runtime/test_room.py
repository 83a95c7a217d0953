"""Room in full tables (nve.room): plans that free room make-before-break, checked on a
model switch that enforces table sizes and applies each Write's updates in a random order
(a P4Runtime switch may reorder a batch)."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nve.controller import Controller
from nve.diff import Change, Plan, diff
from nve.entities import (
    Entity,
    EntityKey,
    Exact,
    TableEntry,
    make_match,
    make_params,
    match_value,
)
from nve.loader import load_overlay
from nve.p4info import P4Index, load_p4info
from nve.p4names import Table
from nve.p4rt_client import SwitchClient
from nve.reconcile import ReconcileReport, read_installed
from nve.room import NVE_RULES, Pointer, Rules, fit, overfull, table_of
from tests.support.p4sim import P4simProcess, PipelineFiles, compile_pipeline

# A small pipeline with the shapes of the real one: next hops, tunnels through them, VSIs,
# bridging to a port or a tunnel, host routes naming a bridging entry by (vsi, mac), and a
# classification table that depends on bridging and routing table-wide.
DEPENDS_ON = {
    "nh": (),
    "vsi": (),
    "tun": ("nh",),
    "l2": ("tun", "vsi"),
    "route": ("l2", "vsi"),
    "cls": ("l2", "route", "vsi"),
}
RULES = Rules(
    DEPENDS_ON,
    (
        Pointer("tun", "nh", (("nh", "nh"),)),
        Pointer("l2", "tun", (("tunnel", "tunnel"),)),
        Pointer("l2", "vsi", (("vsi", "vsi"),)),
        Pointer("route", "l2", (("vsi", "vsi"), ("dmac", "mac"))),
        Pointer("route", "vsi", (("vsi", "vsi"),)),
        Pointer("cls", "vsi", (("vsi", "vsi"),)),
    ),
)


def nh(n: int, port: int = 1) -> TableEntry:
    return TableEntry("nh", make_match(nh=Exact(n)), "fwd", make_params(port=port), tier=0)


def vsi(v: int) -> TableEntry:
    return TableEntry("vsi", make_match(vsi=Exact(v)), "info", tier=0)


def tun(t: int, n: int) -> TableEntry:
    return TableEntry("tun", make_match(tunnel=Exact(t)), "remote", make_params(nh=n), tier=1)


def l2(v: int, mac: int, *, port: int = 0, tunnel: int = 0) -> TableEntry:
    """Bridging to `port`, or else to `tunnel`."""
    action, params = (
        ("to_port", make_params(port=port)) if port else ("to_tunnel", make_params(tunnel=tunnel))
    )
    return TableEntry("l2", make_match(vsi=Exact(v), mac=Exact(mac)), action, params, tier=2)


def route(ip: int, v: int, mac: int) -> TableEntry:
    m = make_match(vrf=Exact(1), dst=Exact(ip))
    return TableEntry("route", m, "route", make_params(vsi=v, dmac=mac), tier=3)


def cls(port: int, v: int) -> TableEntry:
    return TableEntry("cls", make_match(port=Exact(port)), "set_vsi", make_params(vsi=v), tier=4)


def is_local(e: Entity) -> bool:
    return isinstance(e, TableEntry) and e.action == "to_port"


class ModelSwitch:
    """Entries by key; inserts beyond a table's size fail; a Write's updates in any order."""

    def __init__(self, sizes: dict[str, int], entries: Sequence[Entity], seed: int = 0):
        self.sizes = sizes
        self.entries: dict[EntityKey, Entity] = {e.key: e for e in entries}
        self.rng = random.Random(seed)
        self.writes = 0

    def count(self, table: str) -> int:
        return sum(1 for e in self.entries.values() if table_of(e) == table)

    def write(self, batch: list[Change]) -> list[Change]:
        self.writes += 1
        failed = []
        for c in self.rng.sample(batch, len(batch)):
            k, table = c.entity.key, table_of(c.entity) or ""
            if c.op == "insert":
                if k in self.entries or self.count(table) >= self.sizes.get(table, 1 << 30):
                    failed.append(c)
                    continue
            elif k not in self.entries:
                failed.append(c)
                continue
            if c.op == "delete":
                del self.entries[k]
            else:
                self.entries[k] = c.entity
        return failed

    def dangling(self, staying: set[EntityKey]) -> set[EntityKey]:
        """Entries that stay and point at something absent."""
        out = set()
        for k, e in self.entries.items():
            if k in staying:
                for table, values in RULES.refs(e):
                    if not any(
                        isinstance(t, TableEntry)
                        and t.table == table
                        and all(dict(t.match)[f] == Exact(v) for f, v in values)
                        for t in self.entries.values()
                    ):
                        out.add(k)
        return out


def plan_for(switch: ModelSwitch, desired: Sequence[Entity]) -> Plan:
    installed = list(switch.entries.values())
    return fit(diff(desired, installed, is_local), installed, switch.sizes, RULES)


@dataclass
class Outcome:
    plan: Plan
    failed: list[Change]
    window: int  # the most consecutive Writes an entry that stays was without a target


def reconcile(switch: ModelSwitch, desired: Sequence[Entity]) -> Outcome:
    """As nve.reconcile does: the make phase, then the break phase only if nothing failed.
    Checks make-before-break on the way: an entry that stays never points at something
    absent unless the plan reports a table short of room, and then not beyond the make
    phase."""
    plan = plan_for(switch, desired)
    staying = {e.key for e in desired}
    short = [s for s in plan.short if not s.overflow]
    failed: list[Change] = []
    since: dict[EntityKey, int] = {}
    window = 0
    for batch in plan.make:
        failed += switch.write(batch)
        now = switch.dangling(staying)
        assert not now or short, f"without a target, not reported: {now}"
        since = {k: since.get(k, 0) + 1 for k in now}
        window = max([window, *since.values()])
    assert not since, f"still without a target after the make phase: {since}"
    if not failed:
        for batch in plan.break_:
            failed += switch.write(batch)
    return Outcome(plan, failed, window)


def fits(entities: Sequence[Entity], sizes: dict[str, int]) -> bool:
    count = Counter(table_of(e) for e in entities)
    return all(count[t] <= n for t, n in sizes.items())


# -- scenarios ---------------------------------------------------------------------------------
SIZES = {"nh": 4, "vsi": 4, "tun": 4, "l2": 10, "route": 10, "cls": 4}


def endpoints(macs: range, *, routed: bool = False) -> list[Entity]:
    out: list[Entity] = [nh(1), vsi(1), tun(1, 1)]
    for i, mac in enumerate(macs):
        out.append(l2(1, mac, tunnel=1))
        if routed:
            out.append(route(100 + i, 1, mac))
    return out


def test_plan_is_unchanged_when_everything_fits():
    installed = endpoints(range(3))
    plan = diff(endpoints(range(10, 13)), installed)
    assert fit(plan, installed, SIZES, RULES) is plan
    assert not overfull(plan, installed, SIZES)


def test_new_macs_for_every_endpoint_delete_just_enough_first():
    """The issue: 7 endpoints, then the same with new MACs, in a table of 10."""
    switch = ModelSwitch(SIZES, endpoints(range(7)))
    desired = endpoints(range(100, 107))
    out = reconcile(switch, desired)
    assert not out.failed and not out.plan.short and not out.window
    assert switch.entries == {e.key: e for e in desired}
    (frees, inserts) = out.plan.make
    assert [c.op for c in frees] == ["delete"] * 4  # exactly the room the 7 inserts need
    assert [c.op for c in inserts] == ["insert"] * 7
    assert overfull(diff(desired, endpoints(range(7))), endpoints(range(7)), SIZES) == {"l2": 4}


def test_routed_endpoints_are_re_pointed_before_their_old_entries_go():
    """Every old bridging entry is pointed at by a route until the route is modified: the
    3 free slots are used in rounds, and no route is ever without its entry."""
    switch = ModelSwitch(SIZES, endpoints(range(7), routed=True))
    desired = endpoints(range(100, 107), routed=True)
    out = reconcile(switch, desired)
    assert not out.failed and not out.plan.short and not out.window
    assert switch.entries == {e.key: e for e in desired}
    assert len(out.plan.make) > 2  # more than one round


def test_no_safe_order_says_which_table_and_how_many():
    """A full table whose every entry is in use: no make-before-break order exists."""
    sizes = {**SIZES, "l2": 7}
    switch = ModelSwitch(sizes, endpoints(range(7), routed=True))
    desired = endpoints(range(100, 107), routed=True)
    out = reconcile(switch, desired)
    assert not out.failed
    assert switch.entries == {e.key: e for e in desired}
    assert [(s.table, s.entries, s.overflow) for s in out.plan.short] == [("l2", 7, False)]
    assert "l2 (size 7): 7 entries short" in out.plan.short[0].describe()
    assert out.window == 1  # the routes are re-pointed by the Write inserting the new entries


def test_moved_endpoint_keeps_its_tunnel_until_re_pointed():
    """An endpoint moves from tunnel 1 to tunnel 3 in a full tunnel table; tunnel 1 goes
    only once nothing points at it. With one free slot the order is safe; without, the
    endpoint is without its tunnel for one Write."""
    installed = [nh(1), vsi(1), tun(1, 1), tun(2, 1), l2(1, 5, tunnel=1), l2(1, 6, tunnel=2)]
    desired = [nh(1), vsi(1), tun(2, 1), tun(3, 1), l2(1, 5, tunnel=3), l2(1, 6, tunnel=2)]
    for size, short, window in ((3, [], 0), (2, [("tun", 1, False)], 1)):
        switch = ModelSwitch({**SIZES, "tun": size}, installed)
        out = reconcile(switch, desired)
        assert not out.failed and switch.entries == {e.key: e for e in desired}
        assert [(s.table, s.entries, s.overflow) for s in out.plan.short] == short
        assert out.window == window


def test_desired_beyond_the_table_is_reported_as_overflow():
    installed = endpoints(range(3))
    plan = fit(diff(endpoints(range(3, 15)), installed), installed, SIZES, RULES)
    assert [(s.table, s.entries, s.overflow) for s in plan.short] == [("l2", 2, True)]
    assert (
        plan.short[0].describe()
        == "l2: 2 entries short: the description needs 12 and the table holds 10"
    )


def test_a_pointer_without_a_dependency_is_refused():
    with pytest.raises(ValueError, match="pointer l2 -> nh: l2 does not depend on nh"):
        Rules(DEPENDS_ON, (Pointer("l2", "nh", (("nh", "nh"),)),))


def test_the_pipeline_rules_are_consistent():
    assert NVE_RULES.pointers  # built at import: every pointer follows a table dependency


# -- property ----------------------------------------------------------------------------------
@st.composite
def states(draw: st.DrawFn, sizes: dict[str, int]) -> list[Entity]:
    """A consistent switch state (everything pointed at exists) within `sizes`."""
    nhs = draw(st.lists(st.integers(1, 5), unique=True, min_size=1, max_size=sizes["nh"]))
    vsis = draw(st.lists(st.integers(1, 5), unique=True, min_size=1, max_size=sizes["vsi"]))
    tunnels: list[int] = draw(st.lists(st.integers(1, 6), unique=True, max_size=sizes["tun"]))
    out: list[Entity] = [nh(n, draw(st.integers(1, 2))) for n in nhs]
    out += [vsi(v) for v in vsis]
    out += [tun(t, draw(st.sampled_from(nhs))) for t in tunnels]
    bridged = draw(
        st.lists(
            st.tuples(st.sampled_from(vsis), st.integers(0, 9)),
            unique=True,
            max_size=sizes["l2"],
        )
    )
    for v, mac in bridged:
        if draw(st.booleans()) and tunnels:
            out.append(l2(v, mac, tunnel=draw(st.sampled_from(tunnels))))
        else:
            out.append(l2(v, mac, port=draw(st.integers(1, 3))))
    if bridged:
        ips = draw(st.lists(st.integers(1, 9), unique=True, max_size=sizes["route"]))
        out += [route(ip, *draw(st.sampled_from(bridged))) for ip in ips]
    ports = draw(st.lists(st.integers(1, 4), unique=True, max_size=sizes["cls"]))
    out += [cls(p, draw(st.sampled_from(vsis))) for p in ports]
    return out


SMALL = st.fixed_dictionaries(
    {t: st.integers(1, 3) for t in ("nh", "vsi", "tun", "cls")}
    | {t: st.integers(1, 8) for t in ("l2", "route")}
)


@settings(max_examples=400, deadline=None)
@given(data=st.data(), sizes=SMALL, seed=st.integers(0, 2**16))
def test_any_installed_state_converges_to_any_desired_state_that_fits(
    data: st.DataObject, sizes: dict[str, int], seed: int
):
    installed = data.draw(states(sizes), "installed")
    desired = data.draw(states(sizes), "desired")
    assert fits(installed, sizes) and fits(desired, sizes)
    switch = ModelSwitch(sizes, installed, seed)
    for _ in range(2):
        out = reconcile(switch, desired)
        assert not out.failed, [c.describe() for c in out.failed]
        assert not any(s.overflow for s in out.plan.short)
        if not out.plan.short:
            assert not out.window  # make-before-break throughout
    assert switch.entries == {e.key: e for e in desired}
    assert plan_for(switch, desired).empty


# -- against p4sim -----------------------------------------------------------------------------
# The small profile's l2.dmac holds 1,024 entries: 700 endpoints, then the same 700 with new
# MACs (1,400 together). 100 of them are routed (a host route names the bridging entry), so
# their old entries are in use until the route is re-pointed.
UNROUTED, ROUTED = 600, 100


def description(pipeline: PipelineFiles, address: str, mac_base: int) -> str:
    lines = [
        "switches:",
        "  - name: tor1",
        f"    address: '{address}'",
        "    election_id: 10",
        f"    pipeline: {{p4info: {pipeline.p4info}, device_config: {pipeline.device_config}}}",
        "    nve_mac: '02:00:0a:00:00:01'",
        "    local_pas: [10.0.0.1]",
        "    ports:",
        "      - {port: 1, role: access, bindings: [{vsid: 0x1001, vlan: 50}, {vsid: 0x1002, vlan: 60}]}",
        "      - {port: 3, role: network, mtu: 9000}",
        "    next_hops: [{name: spine, port: 3, mac: '02:00:0b:00:00:01'}]",
        "    underlay_routes: [{prefix: 10.0.0.0/16, via: spine}]",
        "tenants:",
        "  - name: blue",
        "    vrf: 1",
        "    subnets:",
        "      - {name: flat, vsid: 0x1001}",
        "      - {name: routed, vsid: 0x1002, gateway: {mac: '02:00:00:00:10:02', ipv4: 10.2.0.1/16}}",
        "remote_nves: [{name: hv9, pa: 10.0.9.9, vsids: [0x1001, 0x1002]}]",
        "endpoints:",
    ]
    for i in range(UNROUTED + ROUTED):
        mac = mac_base + i
        mac_text = ":".join(f"{(mac >> s) & 0xFF:02x}" for s in range(40, -8, -8))
        where = (
            "vsid: 0x1001" if i < UNROUTED else f"vsid: 0x1002, ipv4: 10.2.{i // 250}.{i % 250 + 2}"
        )
        lines.append(
            f"  - {{name: ep{i}, {where}, mac: '{mac_text}', attachment: {{remote_nve: hv9}}}}"
        )
    return "\n".join(lines) + "\n"


async def apply(path: Path, *, dry_run: bool = False) -> ReconcileReport:
    ctl = Controller(load_overlay(path))
    assert ctl.check() == []
    await ctl.connect()
    try:
        return await ctl.reconcile(dry_run=dry_run)
    finally:
        await ctl.close()


async def bridged_macs(address: str, p4info: Path) -> set[int]:
    index = P4Index(load_p4info(p4info))
    async with SwitchClient(address, 0, 1) as client:
        installed = await read_installed(client, index)
    return {
        match_value(dict(e.match)["mac"])
        for e in installed
        if isinstance(e, TableEntry) and e.table == Table.L2_DMAC
    }


@pytest.fixture(scope="module")
def small_pipeline(tmp_path_factory: pytest.TempPathFactory) -> PipelineFiles:
    return compile_pipeline(tmp_path_factory.mktemp("pipeline"))


@pytest.fixture
def switch(tmp_path: Path) -> Iterator[P4simProcess]:
    proc = P4simProcess().start(tmp_path)
    yield proc
    proc.stop()


@pytest.mark.slow
def test_new_macs_for_every_endpoint_converge_on_a_full_table(
    tmp_path: Path, small_pipeline: PipelineFiles, switch: P4simProcess
):
    old, new = 0x525400000000, 0x525400100000
    path = tmp_path / "overlay.yaml"
    path.write_text(description(small_pipeline, switch.address, old))
    assert asyncio.run(apply(path)).ok

    path.write_text(description(small_pipeline, switch.address, new))
    report = asyncio.run(apply(path))
    assert report.ok, [str(f) for f in report.failures[:3]]
    plan = report.switches["tor1"].plan
    assert not plan.short
    # 1,400 entries for 1,024 slots: a make Write deletes 376 old entries no route names,
    # then the next one inserts the 700 new ones; the routes are re-pointed after that, and
    # the other 324 old entries (100 of them named by the routes until then) go last.
    ops = [
        sorted(Counter((c.op, table_of(c.entity)) for c in batch).items()) for batch in plan.make
    ]
    frees = ops.index([(("delete", Table.L2_DMAC), 376)])
    assert ops[frees + 1] == [(("insert", Table.L2_DMAC), 700)]
    assert ops[frees + 2] == [(("modify", Table.ROUTING_ROUTES_V4), 100)]
    routed = set(range(old + UNROUTED, old + UNROUTED + ROUTED))
    freed = {
        match_value(dict(c.entity.match)["mac"])
        for c in plan.make[frees]
        if isinstance(c.entity, TableEntry)
    }
    assert len(freed) == 376 and not freed & routed
    assert [len(batch) for batch in plan.break_] == [324]
    want = set(range(new, new + UNROUTED + ROUTED))
    assert asyncio.run(bridged_macs(switch.address, small_pipeline.p4info)) == want
    again = asyncio.run(apply(path, dry_run=True))
    assert all(r.plan.empty for r in again.switches.values())
