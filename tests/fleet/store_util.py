"""Helpers of the store tests: a prefix per test, the example, index consistency."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from nve.model import Endpoint, Overlay
from nve.store.etcd import Etcd
from nve.store.keys import Root
from nve.store.reader import read_overlay
from nve.store.records import overlay_records
from nve.store.url import StoreUrl
from nve.validate import validate_overlay
from tests.fleet.etcd_server import EtcdServer

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "two-tor-two-tenants.yaml"
T = TypeVar("T")


def run(etcd: EtcdServer, body: Callable[[Etcd, str], Awaitable[T]]) -> T:
    """Run `body` against the server, under a prefix of its own."""
    prefix = f"/t{secrets.token_hex(4)}"

    async def go() -> T:
        async with Etcd(StoreUrl.parse(etcd.url + prefix)) as client:
            return await body(client, prefix)

    return asyncio.run(go())


def endpoint(**fields: object) -> Endpoint:
    return Endpoint.model_validate(fields)


def short_tor2(text: str) -> str:
    """The example with tor2's network port too small for IPv6 customers (1300 < 1322)
    and blue (which has an IPv6 gateway) off tor2: valid, red alone on tor2."""
    text = text.replace(
        '{port: 3, role: network, mtu: 1500}\n    next_hops:\n      - {name: spine1, port: 3, mac: "02:00:0b:00:00:11"}',
        '{port: 3, role: network, mtu: 1300}\n    next_hops:\n      - {name: spine1, port: 3, mac: "02:00:0b:00:00:11"}',
    )
    return text.replace(
        "attachment: {switch: tor2, port: 1}", "attachment: {switch: tor1, port: 2, vlan: 300}"
    )


async def check_indexes(client: Etcd, prefix: str, limit: int | None = None) -> Overlay:
    """The index and counter keys in the store are exactly those of the overlay it holds
    (as an import of that overlay would write them); returns that overlay."""
    stored = await read_overlay(client, prefix)
    gen = Root(prefix).generation(stored.generation)
    wanted = {
        k: v
        for k, v in overlay_records(gen, stored.loaded.overlay, {}, limit)
        if k.startswith((gen.prefix + b"idx/", gen.prefix + b"count/"))
    }
    _, found = await client.get_many([], [gen.prefix + b"idx/", gen.prefix + b"count/"])
    assert {k: kv.value for k, kv in found.items()} == wanted
    assert validate_overlay(stored.loaded.overlay) == []
    return stored.loaded.overlay
