"""Single endpoint changes against a real etcd: checks, concurrent writers, indexes."""

from __future__ import annotations

import asyncio

import pytest

from nve.loader import load_overlay, parse_overlay
from nve.model import LocalAttachment, RemoteAttachment
from nve.store.endpoints import (
    ChangeRefused,
    add_endpoint,
    move_endpoint,
    remove_endpoint,
)
from nve.store.etcd import Etcd
from nve.store.importer import import_overlay
from nve.store.keys import Root
from nve.store.reader import current_generation, read_overlay
from nve.validate import validate_overlay
from tests.fleet.etcd_server import EtcdServer
from tests.fleet.store_util import EXAMPLE, check_indexes, endpoint, run, short_tor2

WEB = 0x001001


def web(
    name: str, mac: str, ipv4: str, port: int = 2, switch: str = "tor2", vlan: int | None = None
) -> dict[str, object]:
    return {
        "name": name,
        "vsid": WEB,
        "mac": mac,
        "ipv4": ipv4,
        "attachment": {"switch": switch, "port": port, "vlan": vlan},
    }


def test_added_endpoint_reads_back_after_the_description(etcd: EtcdServer) -> None:
    loaded = load_overlay(EXAMPLE)
    new = endpoint(**web("blue-web3", "52:54:00:b1:00:03", "192.168.10.13", port=1))

    async def body(client: Etcd, prefix: str) -> None:
        await import_overlay(client, prefix, loaded)
        result = await add_endpoint(client, prefix, new)
        assert result.attempts == 1
        overlay = await check_indexes(client, prefix)
        assert overlay == loaded.overlay.model_copy(
            update={"endpoints": [*loaded.overlay.endpoints, new]}
        )

    run(etcd, body)


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        (
            web("x", "52:54:00:b1:00:01", "192.168.10.99", port=1),
            "MAC 52:54:00:b1:00:01 is already in VSID 0x001001 (endpoint blue-web1)",
        ),
        (
            web("x", "52:54:00:b1:00:99", "192.168.10.12", port=1),
            "CA 192.168.10.12 is already in VSID 0x001001 (endpoint blue-web2)",
        ),
        (
            web("x", "52:54:00:b1:00:99", "192.168.20.21", port=1),
            "CA 192.168.20.21 is also in VSID 0x001002 of tenant blue (endpoint blue-db1)",
        ),
        (
            web("x", "52:54:00:b1:00:99", "192.168.99.1", port=1),
            "endpoint x ipv4: CA 192.168.99.1 is outside subnet 192.168.10.0/24 of VSID 0x001001",
        ),
        (
            web("x", "52:54:00:b1:00:99", "192.168.10.99", port=3),
            "endpoint x attachment.port: port 3 of switch tor2 is a network port",
        ),
        (
            web("x", "52:54:00:b1:00:99", "192.168.10.99", switch="tor9"),
            "endpoint x attachment.switch: unknown switch 'tor9'",
        ),
        # red-app2 is untagged on tor2 port 2 in VSID 0x002001
        (
            web("x", "52:54:00:b1:00:99", "192.168.10.99", port=2),
            "untagged on tor2 port 2 is already used by VSID 0x002001",
        ),
        (
            web("blue-web1", "52:54:00:b1:00:99", "192.168.10.99"),
            "endpoint blue-web1 already exists",
        ),
        (
            {**web("x", "52:54:00:b1:00:99", "192.168.10.99"), "vsid": 0x003003},
            "VSID 0x003003 is not a subnet of any tenant",
        ),
    ],
)
def test_a_refused_change_names_why_and_writes_nothing(
    etcd: EtcdServer, fields: dict[str, object], reason: str
) -> None:
    loaded = load_overlay(EXAMPLE)

    async def body(client: Etcd, prefix: str) -> None:
        await import_overlay(client, prefix, loaded)
        before = await client.revision()
        with pytest.raises(ChangeRefused) as err:
            await add_endpoint(client, prefix, endpoint(**fields))
        assert any(reason in r for r in err.value.reasons), err.value.reasons
        assert await client.revision() == before

    run(etcd, body)


@pytest.mark.parametrize("shared", ["mac", "ca"])
def test_of_eight_writers_of_one_mac_or_ca_exactly_one_wins(etcd: EtcdServer, shared: str) -> None:
    loaded = load_overlay(EXAMPLE)

    def contender(i: int) -> dict[str, object]:
        mac = "52:54:00:b1:01:00" if shared == "mac" else f"52:54:00:b1:01:{i:02x}"
        ca = "192.168.10.100" if shared == "ca" else f"192.168.10.{100 + i}"
        return web(f"w{i}", mac, ca, port=1)

    async def body(client: Etcd, prefix: str) -> None:
        await import_overlay(client, prefix, loaded)
        outcomes = await asyncio.gather(
            *(add_endpoint(client, prefix, endpoint(**contender(i))) for i in range(8)),
            return_exceptions=True,
        )
        won = [o for o in outcomes if not isinstance(o, BaseException)]
        lost = [o for o in outcomes if isinstance(o, ChangeRefused)]
        assert len(won) == 1 and len(lost) == 7, outcomes
        overlay = await check_indexes(client, prefix)
        assert len(overlay.endpoints) == len(loaded.overlay.endpoints) + 1

    run(etcd, body)


def test_writers_filling_a_switch_never_pass_its_limit(etcd: EtcdServer) -> None:
    loaded = load_overlay(EXAMPLE)  # tor1 holds 3 local endpoints
    limit = 6

    async def body(client: Etcd, prefix: str) -> None:
        await import_overlay(client, prefix, loaded, max_local_endpoints=limit)
        outcomes = await asyncio.gather(
            *(
                add_endpoint(
                    client,
                    prefix,
                    endpoint(
                        **web(
                            f"f{i}",
                            f"52:54:00:b1:02:{i:02x}",
                            f"192.168.10.{120 + i}",
                            1,
                            "tor1",
                            100,
                        )
                    ),
                )
                for i in range(10)
            ),
            return_exceptions=True,
        )
        won = [o for o in outcomes if not isinstance(o, BaseException)]
        refused = [o for o in outcomes if isinstance(o, ChangeRefused)]
        assert len(won) == 3 and len(refused) == 7, outcomes
        assert all("switch tor1 already holds 6 local endpoints" in str(r) for r in refused)
        overlay = await check_indexes(client, prefix, limit)
        on_tor1 = [
            e
            for e in overlay.endpoints
            if isinstance(e.attachment, LocalAttachment) and e.attachment.switch == "tor1"
        ]
        assert len(on_tor1) == limit

    run(etcd, body)


def test_move_keeps_indexes_consistent(etcd: EtcdServer) -> None:
    loaded = load_overlay(EXAMPLE)

    async def body(client: Etcd, prefix: str) -> None:
        await import_overlay(client, prefix, loaded)
        # blue-web1: tor1 port 1 VLAN 100 -> tor2 port 1 untagged (where blue-web2 is)
        await move_endpoint(client, prefix, "blue-web1", LocalAttachment(switch="tor2", port=1))
        overlay = await check_indexes(client, prefix)
        moved = next(e for e in overlay.endpoints if e.name == "blue-web1")
        assert moved.attachment == LocalAttachment(switch="tor2", port=1)
        assert [e.name for e in overlay.endpoints] == [e.name for e in loaded.overlay.endpoints]
        # ... then to the remote NVE, which does not carry its VSID: refused
        with pytest.raises(ChangeRefused, match="remote NVE hv9 does not carry VSID 0x001001"):
            await move_endpoint(client, prefix, "blue-web1", RemoteAttachment(remote_nve="hv9"))
        # ... and onto a port whose untagged frames are red's: refused
        with pytest.raises(
            ChangeRefused, match="untagged on tor2 port 2 is already used by VSID 0x002001"
        ):
            await move_endpoint(client, prefix, "blue-web1", LocalAttachment(switch="tor2", port=2))

        # back and forth many times, concurrently with another endpoint's moves
        async def shuttle(name: str, a: LocalAttachment, b: LocalAttachment) -> None:
            for i in range(10):
                await move_endpoint(client, prefix, name, a if i % 2 else b)

        await asyncio.gather(
            shuttle(
                "blue-web1",
                LocalAttachment(switch="tor1", port=1, vlan=100),
                LocalAttachment(switch="tor2", port=1),
            ),
            shuttle(
                "blue-web2",
                LocalAttachment(switch="tor1", port=1, vlan=100),
                LocalAttachment(switch="tor2", port=1),
            ),
        )
        await check_indexes(client, prefix)

    run(etcd, body)


def test_a_move_on_the_same_switch_leaves_the_switchs_counters_alone(etcd: EtcdServer) -> None:
    """Its counts do not change, so it neither writes nor compares them: concurrent moves
    of other endpoints on that switch do not conflict with it there."""
    loaded = load_overlay(EXAMPLE)

    async def body(client: Etcd, prefix: str) -> None:
        await import_overlay(client, prefix, loaded)
        gen = Root(prefix).generation((await current_generation(client, prefix))[0])
        counters = [gen.tenant_on("blue", "tor1"), gen.local_count("tor1")]
        _, before = await client.get_many(counters)
        assert set(before) == set(counters)
        att = LocalAttachment(switch="tor1", port=2, vlan=100)  # was port 1, VLAN 100
        await move_endpoint(client, prefix, "blue-web1", att)
        _, after = await client.get_many(counters)
        assert {k: v.mod_revision for k, v in after.items()} == {
            k: v.mod_revision for k, v in before.items()
        }
        overlay = await check_indexes(client, prefix)
        assert next(e for e in overlay.endpoints if e.name == "blue-web1").attachment == att

    run(etcd, body)


def test_remove_refuses_what_routes_use_and_frees_the_rest(etcd: EtcdServer) -> None:
    loaded = load_overlay(EXAMPLE)

    async def body(client: Etcd, prefix: str) -> None:
        await import_overlay(client, prefix, loaded)
        with pytest.raises(ChangeRefused, match="endpoint blue-vpn is in use"):
            await remove_endpoint(client, prefix, "blue-vpn")
        with pytest.raises(ChangeRefused, match="no endpoint nobody"):
            await remove_endpoint(client, prefix, "nobody")
        await remove_endpoint(client, prefix, "red-app2")
        overlay = await check_indexes(client, prefix)
        assert "red-app2" not in {e.name for e in overlay.endpoints}
        # its port, MAC and CA are free again: blue may take tor2 port 2 untagged
        await add_endpoint(
            client, prefix, endpoint(**web("b", "52:54:00:c1:00:02", "192.168.10.77"))
        )
        await check_indexes(client, prefix)
        assert (await read_overlay(client, prefix)).loaded.overlay.endpoints[-1].name == "b"

    run(etcd, body)


def test_ipv6_customers_stay_off_a_switch_whose_mtu_cannot_carry_them(etcd: EtcdServer) -> None:
    loaded = parse_overlay(short_tor2(EXAMPLE.read_text()), "short.yaml", EXAMPLE.parent)
    assert validate_overlay(loaded.overlay) == []
    red6 = {"vsid": 0x002001, "ipv4": "192.168.10.40", "ipv6": "fd00:c1::40"}

    async def body(client: Etcd, prefix: str) -> None:
        await import_overlay(client, prefix, loaded)
        # blue has an IPv6 gateway: none of its endpoints may come to tor2
        with pytest.raises(
            ChangeRefused,
            match=r"switch tor2 port 3 .mtu 1300. cannot carry the IPv6 customers of tenant blue",
        ):
            await add_endpoint(
                client, prefix, endpoint(**web("b9", "52:54:00:b1:00:99", "192.168.10.99", 1))
            )
        # red is on tor2: it may not get an IPv6 endpoint, even elsewhere
        red_on_tor1 = {
            "name": "r6",
            "mac": "52:54:00:c1:00:40",
            "attachment": {"switch": "tor1", "port": 1, "vlan": 200},
        }
        with pytest.raises(ChangeRefused, match="cannot carry the IPv6 customers of tenant red"):
            await add_endpoint(client, prefix, endpoint(**red6, **red_on_tor1))
        # once red leaves tor2, either may happen, but not both: of the two, one wins
        await remove_endpoint(client, prefix, "red-app2")
        red_on_tor2 = {
            "name": "r4",
            "vsid": 0x002001,
            "mac": "52:54:00:c1:00:41",
            "ipv4": "192.168.10.41",
            "attachment": {"switch": "tor2", "port": 2},
        }
        outcomes = await asyncio.gather(
            add_endpoint(client, prefix, endpoint(**red6, **red_on_tor1)),
            add_endpoint(client, prefix, endpoint(**red_on_tor2)),
            return_exceptions=True,
        )
        assert sum(isinstance(o, ChangeRefused) for o in outcomes) == 1, outcomes
        assert sum(not isinstance(o, BaseException) for o in outcomes) == 1, outcomes
        await check_indexes(client, prefix)  # which validates the overlay too

    run(etcd, body)
