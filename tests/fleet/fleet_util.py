"""Helpers of the ownership tests and the takeover benchmark: replica processes, a TCP
proxy that cuts one replica off etcd, p4sim's write log, an observer of the primary."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from nve.fleet.etcd_leases import LeaseEtcd
from nve.fleet.fenced import FencedClient
from nve.fleet.ownership import FleetKeys, Owner, parse_view
from nve.store.url import StoreUrl
from tests.support.nve_run import NVE


def write_log(path: Path, reads: bool = False) -> list[dict[str, object]]:
    """p4sim's write log (p4sim ... -- --write-log FILE), one dict per request (Reads
    only with `reads`)."""
    if not path.exists():
        return []
    docs = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [d for d in docs if reads or d["kind"] != "read"]


def fenced_after(log: list[dict[str, object]], new_id: int) -> tuple[int, list[dict[str, object]]]:
    """The seq of the first accepted Write of `new_id`, and every request of a lower id
    accepted after it (must be none)."""
    first = next(
        int(str(r["seq"]))
        for r in log
        if r["kind"] == "write" and r["accepted"] and r["election_id"] == str(new_id)
    )
    late = [
        r
        for r in log
        if int(str(r["seq"])) > first
        and r["accepted"]
        and r["election_id"] is not None
        and int(str(r["election_id"])) < new_id
    ]
    return first, late


async def owners(url: StoreUrl) -> dict[str, Owner]:
    etcd = LeaseEtcd(url)
    await etcd.open()
    try:
        keys = FleetKeys(url.prefix)
        revision, held = await etcd.read(keys.members, keys.owners)
        return parse_view(keys, revision, held).owners
    finally:
        await etcd.close()


async def observer(address: str) -> FencedClient:
    """A backup with election id 1 (it never takes over): the switch tells it the primary's id.
    Open it only once an owner is primary."""
    client = FencedClient(address, 0, 1, name="observer")
    await client.open()
    return client


@dataclass
class TcpProxy:
    """127.0.0.1:port -> target; cut() closes every connection and stops listening."""

    target_host: str
    target_port: int
    port: int = 0
    _server: asyncio.Server | None = None
    _writers: list[asyncio.StreamWriter] = field(default_factory=list)

    async def start(self) -> TcpProxy:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_r, up_w = await asyncio.open_connection(self.target_host, self.target_port)
        except OSError:
            writer.close()
            return
        self._writers += [writer, up_w]

        async def pipe(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, asyncio.CancelledError):
                while data := await r.read(65536):
                    w.write(data)
                    await w.drain()
            w.close()

        await asyncio.gather(pipe(reader, up_w), pipe(up_r, writer))

    async def cut(self) -> None:
        if self._server is not None:
            self._server.close()
        for w in self._writers:
            w.close()
            with contextlib.suppress(Exception):
                w.transport.abort()
        self._writers.clear()


@dataclass
class ReplicaProcess:
    """`nve run [FILE] --store URL --replica NAME` with its log in a file
    (without FILE, the replica reads and follows the overlay in the store)."""

    overlay: Path | None
    store: str
    name: str
    log: Path
    ttl: int = 2
    proc: subprocess.Popen[bytes] | None = None
    metrics_port: int = 0  # 0: no Prometheus endpoint (replicas share the machine here)

    def start(self) -> ReplicaProcess:
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                [
                    NVE,
                    "run",
                    *([str(self.overlay)] if self.overlay is not None else []),
                    "--store",
                    self.store,
                    "--replica",
                    self.name,
                    "--lease-ttl",
                    str(self.ttl),
                    "--metrics-port",
                    str(self.metrics_port),
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        return self

    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def kill(self) -> None:
        """kill -9: no goodbye, the lease lapses on its own."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


async def until(cond: Callable[[], object], timeout: float = 40.0, what: str = "") -> None:
    """Liveness, not speed: poll `cond()` (sync or async) until true or a generous deadline."""
    end = time.monotonic() + timeout
    while True:
        got = cond()
        if inspect.isawaitable(got):
            got = await got
        if got:
            return
        if time.monotonic() > end:
            raise AssertionError(f"not reached within {timeout} s: {what}")
        await asyncio.sleep(0.05)
