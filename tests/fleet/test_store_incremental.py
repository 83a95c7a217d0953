"""Incremental updates (docs/fleet.md): `nve run --store` applies each endpoint change to
the switches it touches and writes only what changed, counted by p4sim's write log.

tor2 carries no VSID of tenant red here (red2 is left out), so a red endpoint added on
tor1 sends tor2 nothing at all; tor1 gets exactly the updates that separate a full
compilation before the change from one after it; a move of a blue endpoint between the
switches writes exactly the two switches' differences; after a burst of moves a fresh
controller that reads both switches whole finds nothing to change.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from nve.compile import Allocations, compile_switch, is_local_attachment
from nve.diff import diff
from nve.loader import load_overlay
from nve.model import Endpoint, LocalAttachment, Overlay
from nve.store.endpoints import add_endpoint, move_endpoint
from nve.store.etcd import Etcd
from nve.store.importer import import_overlay
from nve.store.reader import read_overlay
from nve.store.url import StoreUrl
from tests.fleet.etcd_server import EtcdServer
from tests.fleet.store_util import endpoint
from tests.support.nve_run import NveRun
from tests.support.p4sim import P4simProcess, PipelineFiles, write_overlay
from tests.support.planned import planned_changes

pytestmark = pytest.mark.slow

RED3 = {
    "name": "red3",
    "vsid": 0x002001,
    "mac": "52:54:00:c1:00:03",
    "ipv4": "192.168.10.13",
    "attachment": {"switch": "tor1", "port": 2, "vlan": 60},
}


def _without_red2(data: dict[str, Any]) -> None:
    """No red on tor2; a second blue-web endpoint there (web3), so that web2 leaving tor2
    is not its last one: the move is a patch of both switches (nve.compile.delta)."""
    data["endpoints"] = [e for e in data["endpoints"] if e["name"] != "red2"]
    data["endpoints"].append(
        {
            "name": "web3",
            "vsid": 0x001001,
            "mac": "52:54:00:b1:00:03",
            "ipv4": "192.168.10.13",
            "attachment": {"switch": "tor2", "port": 1},
        }
    )


def _updates(log: Path, after: int) -> int:
    """Updates the switch accepted in Writes logged after line `after`."""
    lines = log.read_text().splitlines()[after:] if log.exists() else []
    return sum(
        int(d.get("updates", 0)) - int(d.get("failed", 0))
        for d in map(json.loads, lines)
        if d.get("kind") == "write" and d.get("accepted")
    )


def _reads(log: Path, after: int) -> int:
    """Table entries the switch returned to Reads logged after line `after` (the counter
    polls of `nve run` return none)."""
    lines = log.read_text().splitlines()[after:] if log.exists() else []
    return sum(
        int(d.get("table_entries", 0)) for d in map(json.loads, lines) if d["kind"] == "read"
    )


def _write_times(log: Path, after: int) -> list[float]:
    """When the Writes logged after line `after` were accepted."""
    lines = log.read_text().splitlines()[after:] if log.exists() else []
    return [float(d["time"]) for d in map(json.loads, lines) if d["kind"] == "write"]


def _writes(log: Path, after: int) -> int:
    return len(_write_times(log, after))


def _lines(log: Path) -> int:
    return len(log.read_text().splitlines()) if log.exists() else 0


def _expected(before: Overlay, after: Overlay, switch: str) -> int:
    """Updates between full compilations of `switch` before and after a change."""
    old = compile_switch(before, switch).entities
    # ids (vsi, tunnel, ...) kept from what the switch holds, as the controller does
    new = compile_switch(after, switch, previous=Allocations.from_installed(old)).entities
    return len(diff(new, old, is_local_attachment).changes())


async def _stored(url: StoreUrl) -> Overlay:
    async with Etcd(url) as etcd:
        return (await read_overlay(etcd, url.prefix)).loaded.overlay


async def _settled(logs: list[Path], quiet_s: float = 1.0, limit_s: float = 30.0) -> None:
    """Until no switch has logged a Write for `quiet_s` (the change has been applied)."""
    loop = asyncio.get_running_loop()
    end, last, since = loop.time() + limit_s, [-1] * len(logs), loop.time()
    while loop.time() < end:
        now = [_lines(p) for p in logs]
        if now != last:
            last, since = now, loop.time()
        elif loop.time() - since >= quiet_s:
            return
        await asyncio.sleep(0.1)


def test_changes_write_only_their_difference(
    tmp_path: Path, etcd: EtcdServer, switches: list[P4simProcess], pipeline: PipelineFiles
) -> None:
    url = StoreUrl.parse(etcd.url + "/incr")
    path = write_overlay(tmp_path / "overlay.yaml", switches, pipeline, edit=_without_red2)
    logs = [tmp_path / "writes-0.jsonl", tmp_path / "writes-1.jsonl"]

    async def store(work: str, name: str = "", att: LocalAttachment | None = None) -> None:
        async with Etcd(url) as client:
            if work == "import":
                await import_overlay(client, url.prefix, load_overlay(path))
            elif work == "add":
                await add_endpoint(client, url.prefix, endpoint(**RED3))
            else:
                assert att is not None
                await move_endpoint(client, url.prefix, name, att)

    asyncio.run(store("import"))
    run = NveRun(path, tmp_path / "nve.log").start(60, store=str(url))
    try:
        run.wait_log("reconciled tor1", 60)
        run.wait_log("reconciled tor2", 60)
        asyncio.run(_settled(logs))

        # A red endpoint on tor1: tor1 gets exactly its difference, tor2 nothing.
        before, marks = asyncio.run(_stored(url)), [_lines(p) for p in logs]
        asyncio.run(store("add"))
        run.wait_log("reconciled tor1", 30, after=len(run.text()))
        asyncio.run(_settled(logs))
        after = asyncio.run(_stored(url))
        want = _expected(before, after, "tor1")
        assert want > 0
        assert _updates(logs[0], marks[0]) == want
        assert _writes(logs[1], marks[1]) == 0, "tor2 carries no red VSID: it must get no Write"
        assert _reads(logs[1], marks[1]) == 0
        assert _reads(logs[0], marks[0]) == 0, "tor1's tables were read"

        # red3's binding is new on tor1: a full compilation of tor1 (structural).
        assert "endpoint entries patched" not in run.text()

        # web2 moves from tor2 to tor1: each switch gets exactly its difference, patched.
        before, marks = after, [_lines(p) for p in logs]
        mark = len(run.text())
        asyncio.run(store("move", "web2", LocalAttachment(switch="tor1", port=2, vlan=50)))
        asyncio.run(_settled(logs))
        after = asyncio.run(_stored(url))
        assert "endpoint entries patched on tor1,tor2" in run.text()[mark:]
        for i, name in enumerate(("tor1", "tor2")):
            want = _expected(before, after, name)
            assert want > 0
            assert _updates(logs[i], marks[i]) == want, name
            assert _reads(logs[i], marks[i]) == 0, f"{name}'s tables were read"
        # Make before break across the switches: tor2 gives up web2's local attachment
        # (its one Write) only once tor1 has acknowledged taking it on.
        (made,), (broken,) = _write_times(logs[0], marks[0]), _write_times(logs[1], marks[1])
        assert broken >= made

        # A burst: where web2 ends up, a full read finds the switches as they should be.
        for n in range(12):
            att = (
                LocalAttachment(switch="tor2", port=1)
                if n % 2 == 0
                else LocalAttachment(switch="tor1", port=2, vlan=50)
            )
            asyncio.run(store("move", "web2", att))
        asyncio.run(_settled(logs))
    finally:
        run.stop()
    assert "reading the overlay whole" not in run.text()

    final = asyncio.run(_stored(url))
    web2 = next(e for e in final.endpoints if e.name == "web2")
    assert isinstance(web2, Endpoint) and web2.attachment == LocalAttachment(
        switch="tor1", port=2, vlan=50
    )

    assert asyncio.run(planned_changes(path, final)) == {"tor1": 0, "tor2": 0}
