"""The TNA program punts for every reason the v1model program does, but those docs/tna.md
says it cannot, and from the same port roles.

There is no Tofino here, so this reads the source: the punt reasons the TNA program can
put in a packet_in (the `punt_as` arguments of PuntIngress's const table `reasons`, and
the reasons PuntEgress assigns) against the PUNT_ constants p4src/include/constants.p4
defines (v1model punts with each of them), the port-role column of the entries that
punt a gateway's ICMP and a TTL expiry, and the decap entries that consume IP for the
control-plane host (to a link-local address, to the switch's PAs and port addresses).
"""

from __future__ import annotations

import re
from pathlib import Path

from p4sim.frontend.preprocess import preprocess
from tests.p4src.test_tna_drops import _body

ROOT = Path(__file__).resolve().parents[2]
TNA = ROOT / "p4src" / "tna"
CONSTANTS = ROOT / "p4src" / "include" / "constants.p4"
# Not ported, each with its row in docs/tna.md.
NOT_ON_TNA: dict[str, str] = {}

_DEFINED = re.compile(r"^const\s+bit<8>\s+(PUNT_\w+)\s*=", re.M)
_ENTRY = re.compile(r"^\s*\((.*)\)\s*:\s*punt_as\((PUNT_\w+)\)\s*;", re.M)
_TABLE = re.compile(r"\btable\s+reasons\s*\{")
_KEY = re.compile(r"^\s*(\S+)\s*:\s*ternary\s+@name\(\"(\w+)\"\)", re.M)
_EGRESS = re.compile(r"\bcontrol\s+PuntEgress\s*\(")
_ASSIGNED = re.compile(r"\bpunt_reason\s*=\s*(PUNT_\w+)\s*;")


def _punt_source() -> str:
    text = preprocess(TNA / "punt.p4", include_dirs=[], defines={}).text
    return re.sub(r"/\*.*?\*/", "", text, flags=re.S)


def reason_entries() -> list[dict[str, str]]:
    """punt.reasons' const entries: {key name: cell, "punt": reason}."""
    text = _punt_source()
    table = _TABLE.search(text)
    assert table, "punt.p4 has no table reasons"
    body = _body(text, table.end() - 1)
    names = [name for _field, name in _KEY.findall(body)]
    rows = []
    for cells, reason in _ENTRY.findall(body):
        values = [c.strip() for c in cells.split(",")]
        assert len(values) == len(names), f"reasons entry {cells!r}: {len(values)} cells"
        rows.append({**dict(zip(names, values)), "punt": reason})
    return rows


def egress_reasons() -> set[str]:
    text = _punt_source()
    found = _EGRESS.search(text)
    assert found, "punt.p4 has no control PuntEgress"
    return set(_ASSIGNED.findall(_body(text, text.index("{", found.end()))))


def test_the_source_is_read() -> None:
    rows = reason_entries()
    assert {"port_role", "fwd", "rchk", "icmp"} <= set(rows[0])
    assert "PUNT_MTU_EXCEEDED" in egress_reasons()


def test_every_v1model_punt_reason_is_punted_on_tna_but_the_documented_ones() -> None:
    defined = set(_DEFINED.findall(CONSTANTS.read_text())) - {"PUNT_NONE"}
    punted = {row["punt"] for row in reason_entries()} | egress_reasons()
    missing = sorted(defined - punted - set(NOT_ON_TNA))
    assert not missing, f"punt reasons the TNA program never sends: {missing}"
    documented = (ROOT / "docs" / "tna.md").read_text()
    for reason, row in NOT_ON_TNA.items():
        assert reason not in punted, f"{reason} is punted now: drop it from NOT_ON_TNA"
        assert f"| {row} (punt.p4, `{reason}`)" in documented


def test_gateway_and_ttl_punts_come_from_either_port_role() -> None:
    """Hosts behind other NVEs route through this NVE's gateways too (RFC 7637 section
    4.6): their ping to a gateway and their traceroute through it are punted as a local
    host's are (the controller answers through the sender's tunnel)."""
    rows = [r for r in reason_entries() if r["punt"] in ("PUNT_GATEWAY", "PUNT_TTL_EXPIRED")]
    assert {r["punt"] for r in rows} == {"PUNT_GATEWAY", "PUNT_TTL_EXPIRED"}
    restricted = [r for r in rows if r["port_role"] != "_"]
    assert not restricted, f"gateway/TTL punts limited to one port role: {restricted}"


def _decap_checks() -> tuple[str, list[dict[str, str]]]:
    """Decap's source without comments, and its checks entries ({key: cell, "action"})."""
    text = re.sub(
        r"/\*.*?\*/",
        "",
        preprocess(TNA / "tunnel_decap.p4", include_dirs=[], defines={}).text,
        flags=re.S,
    )
    checks = _body(text, text.index("{", text.index("table checks")))
    names = [name for _field, name in _KEY.findall(checks)]
    rows = []
    for cells, action in re.findall(r"^\s*\((.*)\)\s*:\s*(\w+\(.*?\))\s*;", checks, re.M):
        values = [c.strip() for c in cells.split(",")]
        assert len(values) == len(names), f"checks entry {cells!r}: {len(values)} cells"
        rows.append({**dict(zip(names, values)), "action": action})
    return text, rows


def test_ip_to_the_switchs_addresses_is_consumed_for_the_control_plane_host() -> None:
    """Numbered BGP and pings to the PAs: IP that is not GRE nor a fragment, sent to the
    NVE's MAC and to an address my_pa holds with local_pa (the controller puts the
    ports' addresses there on TNA) is DROP_TO_CPU, after the outer checks and before
    NET_NOT_LOCAL; an underlay group's address (underlay_group) is not."""
    text, rows = _decap_checks()
    assert re.search(r"action\s+local_pa\(\)\s*\{\s*meta\.pa_local\s*=\s*2w1;", text)
    assert re.search(r"action\s+underlay_group\(\)\s*\{\s*meta\.pa_local\s*=\s*2w2;", text)
    at = [
        i
        for i, r in enumerate(rows)
        if r["action"] == "drop_net(DROP_TO_CPU)"
        and (r["pa_local"], r["gre"], r["frag"], r["mac_ok"]) == ("1", "false", "0", "1")
    ]
    assert len(at) == 1, "no entry gives IP to a local address to the host"
    order = [r["action"] for r in rows]
    assert order.index("drop_net(DROP_NET_NOT_LOCAL)") > at[0]
    last_check = max(
        i
        for i, a in enumerate(order)
        if a in ("drop_net(DROP_NET_BAD_VERSION)", "drop_net(DROP_NET_BAD_IHL)")
    )
    assert at[0] > last_check, "the outer header checks come first, as v1model's OuterChecks"
    to_groups = [r for r in rows if r["pa_local"] != "_" and _cell_matches(r["pa_local"], 2)]
    assert all(r["action"] != "drop_net(DROP_TO_CPU)" for r in to_groups)  # never punted


def test_link_local_ipv6_is_consumed_for_the_control_plane_host() -> None:
    """BGP unnumbered runs over the ports' fe80:: addresses: Decap consumes IPv6 to
    fe80::/10 (DROP_TO_CPU, the destination's top ten bits 0x3FA) and punt.reasons punts a
    network port's DROP_TO_CPU that is not ARP or ND as PUNT_UNDERLAY_LOCAL, after them."""
    _, rows = _decap_checks()
    consumed = [r for r in rows if r["action"] == "drop_net(DROP_TO_CPU)"]
    assert any(row.get("dst_fe80") == "0x3FA" and row.get("nvgre") == "false" for row in consumed)
    rows = reason_entries()
    local = [i for i, r in enumerate(rows) if r["punt"] == "PUNT_UNDERLAY_LOCAL"]
    nd = [i for i, r in enumerate(rows) if r["punt"] in ("PUNT_UNDERLAY_ARP", "PUNT_UNDERLAY_ND")]
    assert local and nd and min(local) > max(nd), "the local punt must come after ARP and ND"
    assert rows[local[0]]["net"] == "DROP_TO_CPU"


# A const entry's named cells: the flags and the constants of constants.p4.
_NAMED = {
    "true": 1,
    "false": 0,
    **{
        name: int(value, 0)
        for name, value in re.findall(
            r"const\s+bit<\d+>\s+(\w+)\s*=\s*(?:\d+w)?(\w+)\s*;", CONSTANTS.read_text()
        )
    },
}


def _cell_matches(cell: str, value: int) -> bool:
    """A ternary cell of a const entry ("_", "true", "2", "0x3FA", "2w0 &&& 2w2", a
    constant of constants.p4)."""
    if cell == "_":
        return True

    def number(text: str) -> int:
        text = re.sub(r"^\d+w", "", text.strip())
        return _NAMED[text] if text in _NAMED else int(text, 0)

    if "&&&" in cell:
        v, m = (number(x) for x in cell.split("&&&"))
        return value & m == v & m
    return value == number(cell)


def _verdict(rows: list[dict[str, str]], **facts: int) -> str:
    """The action of the first checks entry that the facts match (keys not given: 0)."""
    assert facts.keys() <= rows[0].keys(), f"no such key: {facts.keys() - rows[0].keys()}"
    for row in rows:
        cells = {k: v for k, v in row.items() if k != "action"}
        if all(_cell_matches(cell, facts.get(k, 0)) for k, cell in cells.items()):
            return row["action"]
    return "pass_l2()"


def test_a_groups_mac_passes_only_with_a_joined_groups_address() -> None:
    """OuterChecks' my_mac sets mac_ok 1 for the NVE's MAC (local_mac) and 2 for a
    joined group's (group_mac, which the controller installs on TNA): NVGRE to a group
    my_pa holds (pa_local 2) passes with either; to the NVE's PA (pa_local 1) or to an
    address that is no joined group (0) a group's MAC drops as NET_DMAC_NOT_LOCAL, as
    v1model drops a group's MAC toward a unicast address (toward a group it has not
    joined v1model says NET_NOT_LOCAL: docs/tna.md); no my_mac hit drops whatever the
    address. The entry sits with the MAC check, before the version checks."""
    _, rows = _decap_checks()
    outer = (TNA / "outer_checks.p4").read_text()
    assert re.search(r"action\s+local_mac\(\)\s*\{\s*meta\.mac_ok\s*=\s*2w1;", outer)
    assert re.search(r"action\s+group_mac\(\)\s*\{\s*meta\.mac_ok\s*=\s*2w2;", outer)
    assert re.search(r"actions\s*=\s*\{[^}]*\bgroup_mac;", outer)
    nvgre_v4 = {
        "outer_v4": 1, "v4_version": 4, "ihl": 5, "csum_ok": 1, "gre": 1, "nvgre": 1,
        "inner_eth": 1, "vsid": 0x001001, "vsid_ok": 1, "peer_ok": 1,
    }  # fmt: skip
    dmac = "drop_net(DROP_NET_DMAC_NOT_LOCAL)"
    assert _verdict(rows, **nvgre_v4, mac_ok=1, pa_local=2) == "pass_l2()"
    assert _verdict(rows, **nvgre_v4, mac_ok=2, pa_local=2) == "pass_l2()"
    assert _verdict(rows, **nvgre_v4, mac_ok=1, pa_local=1) == "pass_l2()"
    assert _verdict(rows, **nvgre_v4, mac_ok=2, pa_local=1) == dmac
    assert _verdict(rows, **nvgre_v4, mac_ok=2, pa_local=0) == dmac
    assert _verdict(rows, **nvgre_v4, mac_ok=0, pa_local=2) == dmac
    # non-IP to a group's MAC: no address at all (v1model: no group to map it from)
    assert _verdict(rows, mac_ok=2) == dmac
    assert _verdict(rows, **nvgre_v4, mac_ok=1, pa_local=0) == "drop_net(DROP_NET_NOT_LOCAL)"
    order = [r["action"] for r in rows]
    (group,) = [i for i, r in enumerate(rows) if r["mac_ok"] == "2"]
    assert rows[group]["pa_local"] == "2w0 &&& 2w2" and order[group] == dmac
    assert group < order.index("drop_net(DROP_NET_BAD_VERSION)")
