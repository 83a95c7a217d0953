"""ECMP groups on Tofino (TNA): 16 buckets per group, read back without a diff.

The TNA pipeline's bucket is the hash's low four bits (no run-time modulo, no masking
stage), v1model's hash % size; docs/tna.md, "ECMP on Tofino". The TNA P4Info here is the golden v1model
one as p4c's Tofino backend names it (arch "tna", tables under the pipe's name), which
is what the controller sees of a Tofino switch (tests/runtime/test_p4index_tna.py).
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from pathlib import Path

import pytest
from finsy.proto import p4i

from nve import contract as C
from nve.codec import decode, encode
from nve.compile import Allocations, SwitchState, TargetInfo, compile_switch
from nve.compile.ecmp import TNA_BUCKETS, buckets, fixed_sizes, holds, reuse_power_of_two
from nve.diff import Change, diff
from nve.entities import Entity, TableEntry, lpm
from nve.p4info import P4Index, load_p4info
from nve.p4names import Action, Param, Table
from tests.runtime.test_compile import entries, example_data, overlay_of

GOLDEN = Path(__file__).resolve().parents[1] / "p4src" / "golden" / "nvgre_nve.p4info.txtpb"


def tna_p4info(ecmp_size: int | None = None) -> p4i.P4Info:
    info = load_p4info(GOLDEN)
    info.pkg_info.arch = "tna"
    for t in info.tables:
        if t.preamble.name == Table.UNDERLAY_ECMP and ecmp_size is not None:
            t.size = ecmp_size
        t.preamble.name = "pipe." + t.preamble.name
    return info


def tna(ecmp_size: int | None = None) -> TargetInfo:
    return TargetInfo.from_p4index(P4Index(tna_p4info(ecmp_size)))


def with_group(n: int, *, groups: int = 1) -> dict:
    """The example with tor1's spines group grown to n next hops (ports 3 + i), `groups`
    times under different names, each with its own route."""
    data = example_data()
    tor1 = data["switches"][0]
    tor1["ports"] += [{"port": 10 + i, "role": "network"} for i in range(n)]
    tor1["next_hops"] += [
        {"name": f"hop{i}", "port": 10 + i, "mac": f"02:00:0c:00:00:{i:02x}"} for i in range(n)
    ]
    members = ["spine1", "spine2"] + [f"hop{i}" for i in range(n)]
    for g in range(groups):
        tor1["ecmp_groups"].append({"name": f"g{g}", "members": members[:n]})
        tor1["underlay_routes"].append({"prefix": f"172.16.{g}.0/24", "via": f"g{g}"})
    return data


def group_of(state: SwitchState, prefix: str) -> tuple[int, int]:
    net = ipaddress.ip_network(prefix)
    (route,) = [
        e
        for e in entries(state, Table.UNDERLAY_ROUTES_V4)
        if dict(e.match)["dst"] == lpm(int(net.network_address), net.prefixlen, 32)
    ]
    assert route.action == Action.UNDERLAY_SET_ECMP
    params = dict(route.params)
    return params[Param.GROUP], params[Param.SIZE]


def bucket_map(state: SwitchState, gid: int) -> dict[int, int]:
    out = {}
    for e in entries(state, Table.UNDERLAY_ECMP):
        m = dict(e.match)
        if m["group"].value == gid:
            out[m["bucket"].value] = dict(e.params)[Param.NEXTHOP]
    return out


def read_back(state: SwitchState, index: P4Index) -> list[Entity]:
    """What a switch holding `state` returns to a wildcard read (through the codec)."""
    out = []
    for e in state.entities:
        if isinstance(e, TableEntry) and e.is_default:
            continue
        got = decode(encode(e, index), index, C.TIERS)
        assert got is not None
        out.append(got)
    return out


# -- the layout --------------------------------------------------------------------------
@pytest.mark.parametrize("n", range(1, 17))
def test_layout_spreads_every_member_evenly(n: int) -> None:
    (size,), unfit = fixed_sizes([n], 4096)
    assert unfit == [] and size == TNA_BUCKETS == 16
    members = tuple(range(100, 100 + n))
    per_member = Counter(buckets(members, size))
    assert set(per_member) == set(members)
    assert max(per_member.values()) - min(per_member.values()) <= 1
    assert holds(buckets(members, size), members)


def test_more_members_than_buckets_or_entries_do_not_fit() -> None:
    sizes, unfit = fixed_sizes([17, 16, 3, 2], 40)
    assert sizes == [0, 16, 16, 0]
    assert [(u.position, u.members, u.left) for u in unfit] == [(0, 17, 40), (3, 2, 8)]
    assert fixed_sizes([16, 16, 16], 0) == ([16, 16, 16], [])


def test_reuse_prefers_the_exact_layout_then_any_power_of_two() -> None:
    a, b, c = 7, 8, 9
    installed = {(a, b): 3, buckets((a, b), 16): 5, (a, b, c): 6}
    got = reuse_power_of_two(installed, {(a, b): buckets((a, b), 16), (b, a): (b, a) * 8})
    assert got == {(a, b): 5}  # (b, a) is another spread; (a, b, c) is no power of two
    got = reuse_power_of_two(installed, {(a, b): buckets((a, b), 32)})
    assert got == {(a, b): 3}  # the lowest id that holds (a, b); its buckets grow in place


def test_target_from_p4info() -> None:
    t = tna(1024)
    assert (t.arch, t.ecmp_buckets, t.ecmp_capacity) == ("tna", 16, 1024)
    v1 = TargetInfo.from_p4index(P4Index(load_p4info(GOLDEN)))
    assert (v1.arch, v1.ecmp_buckets, v1.ecmp_capacity) == ("v1model", 0, 4096)
    assert t.group_macs and t.group_mac_action and not v1.group_macs


def test_a_tna_pipeline_without_group_mac_is_seen() -> None:
    """Pipelines before 3.8.0 have no NveIngress.outer.group_mac: the controller then
    installs the groups' MACs with local_mac (tests/runtime/test_compile.py)."""
    info = tna_p4info()
    (action,) = [a for a in info.actions if a.preamble.name == Action.OUTER_GROUP_MAC]
    info.actions.remove(action)
    for table in info.tables:
        for ref in [r for r in table.action_refs if r.id == action.preamble.id]:
            table.action_refs.remove(ref)
    target = TargetInfo.from_p4index(P4Index(info))
    assert target.group_macs and not target.group_mac_action


# -- compiled for a switch -----------------------------------------------------------------
@pytest.mark.parametrize("n", [1, 2, 3, 5, 7, 15, 16])
def test_tna_group_entries_and_route_size(n: int) -> None:
    state = compile_switch(overlay_of(with_group(n)), "tor1", target=tna())
    assert state.problems == []
    gid, size = group_of(state, "172.16.0.0/24")
    assert size == 16
    got = bucket_map(state, gid)
    assert sorted(got) == list(range(size))
    members = [got[b] for b in range(n)]
    assert len(set(members)) == n
    assert all(got[b] == members[b % n] for b in range(size))
    per_member = Counter(got.values())
    assert max(per_member.values()) - min(per_member.values()) <= 1


def test_v1model_layout_is_unchanged() -> None:
    o = overlay_of(with_group(3))
    plain = compile_switch(o, "tor1")
    v1 = compile_switch(o, "tor1", target=TargetInfo.from_p4index(P4Index(load_p4info(GOLDEN))))
    assert v1.entities == plain.entities
    gid, size = group_of(plain, "172.16.0.0/24")
    assert size == 3 and sorted(bucket_map(plain, gid)) == [0, 1, 2]


def test_tna_apply_twice_writes_nothing() -> None:
    data = with_group(3, groups=2)  # g0 and g1: the same members, one group id
    data["switches"][0]["ecmp_groups"].append({"name": "pair", "members": ["hop1", "hop2"]})
    data["switches"][0]["underlay_routes"].append({"prefix": "172.16.9.0/24", "via": "pair"})
    o = overlay_of(data)
    index = P4Index(tna_p4info())
    target = TargetInfo.from_p4index(index)
    first = compile_switch(o, "tor1", target=target)
    assert first.problems == []
    assert group_of(first, "172.16.0.0/24") == group_of(first, "172.16.1.0/24")
    installed = read_back(first, index)
    second = compile_switch(
        o, "tor1", previous=Allocations.from_installed(installed), target=target
    )
    assert second.entities == first.entities
    plan = diff([e for e in second.entities if not _default(e)], installed)
    assert plan.changes() == []


def test_tna_group_that_does_not_fit_is_a_problem_naming_it() -> None:
    o = overlay_of(with_group(5))
    state = compile_switch(o, "tor1", target=TargetInfo("tna", 16, 24))
    (problem,) = [p for p in state.problems if p.path[:3] == ("switches", 0, "ecmp_groups")]
    assert problem.path == ("switches", 0, "ecmp_groups", 1)
    assert "'g0' needs 16 buckets" in problem.message
    assert "8 of its 24 entries left" in problem.message
    assert len(entries(state, Table.UNDERLAY_ECMP)) == 16  # spines only


def test_tna_group_with_more_members_than_buckets_is_a_problem() -> None:
    state = compile_switch(overlay_of(with_group(17)), "tor1", target=tna())
    (problem,) = [p for p in state.problems if p.path[:3] == ("switches", 0, "ecmp_groups")]
    assert problem.path == ("switches", 0, "ecmp_groups", 1)
    assert "'g0' has 17 members" in problem.message and "at most 16" in problem.message


def test_v1model_layout_on_a_tna_switch_is_upgraded_in_place() -> None:
    """A 2-member group written as v1model lays it out (2 buckets, size 2) already holds
    its members on a power of two: a TNA apply keeps its id and adds buckets 2..15 (and
    the MAC of the underlay group tor1 joins, which only TNA needs in my_mac)."""
    o = overlay_of(example_data())
    index = P4Index(tna_p4info())
    old = compile_switch(o, "tor1")
    installed = read_back(old, index)
    new = compile_switch(o, "tor1", previous=Allocations.from_installed(installed), target=tna())
    ops = table_ops(diff([e for e in new.entities if not _default(e)], installed).changes())
    assert ops == {
        ("insert", Table.UNDERLAY_ECMP): 14,
        ("modify", Table.UNDERLAY_ROUTES_V4): 1,
        ("insert", Table.OUTER_MY_MAC): 1,
    }


def table_ops(changes: list[Change]) -> Counter[tuple[str, str]]:
    return Counter((c.op, c.entity.table) for c in changes if isinstance(c.entity, TableEntry))


def _default(e: Entity) -> bool:
    return isinstance(e, TableEntry) and e.is_default
