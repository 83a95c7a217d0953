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
    return stored.loaded.overlay
