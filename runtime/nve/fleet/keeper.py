"""A replica's lease kept alive by a process of its own.

The replica's event loop also compiles switches (100,000 entries take seconds at a
million endpoints), opens a session per owned switch, encodes and decodes P4Runtime
messages of tens of megabytes and decodes the store's changes. Keep-alives sent from that
loop waited behind such work: at 1,016 switches and 1,000,000 endpoints every replica lost
its lease again and again and its switches went round the fleet. A thread did not do:
a protobuf encode or decode holds the interpreter lock for seconds. The keeper is a child
process (`python -m nve.fleet.keeper`) with its own gRPC channel to the member the replica
reached, refreshing the lease every third of the TTL whatever the replica is doing.

The two talk over pipes. The replica checks in every third of the TTL (a byte on the
keeper's stdin, `LeaseKeeper.check`) and reads what the keeper reports on its stdout:
`alive T` (etcd answered the refresh sent at monotonic time T, which the two processes
share), `error TEXT`, `expired`. The keeper ends when its stdin closes (the replica
stopped or died: a killed replica's lease then lapses after the TTL, as before), and stops
refreshing when the replica has not checked in for `max_stall_s` (120 s: one replica
reconciling 110,000-entry switches at a million endpoints went 30 s without checking in):
a hung replica must not keep its switches for ever. Fencing (election ids) keeps a
stalled replica that wakes up later off the switches either way.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import os
import select
import signal
import subprocess
import sys
import time
from dataclasses import dataclass

import grpc
from aetcd import rpc

from nve.store.client import credentials
from nve.store.url import StoreUrl


@dataclass
class KeeperState:
    alive_from: float  # monotonic send time of the last answered keep-alive
    expired: bool = False  # etcd answered that the lease is gone
    error: str = ""  # the last failure, for the log
    answered: int = 0


class LeaseKeeper:
    """The replica's side: start the keeper process, check in, read its reports."""

    def __init__(
        self,
        url: StoreUrl,
        endpoint: tuple[str, int],
        lease: int,
        ttl_s: int,
        granted_at: float,
        *,
        max_stall_s: float = 120.0,
    ) -> None:
        self.url = url
        self.endpoint = endpoint
        self.lease = lease
        self.ttl_s = ttl_s
        self.max_stall_s = max(max_stall_s, 2.0 * ttl_s)
        self.state = KeeperState(alive_from=granted_at)
        self.proc: subprocess.Popen[bytes] | None = None
        self._partial = b""

    def start(self) -> LeaseKeeper:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "nve.fleet.keeper",
                str(self.url),
                self.endpoint[0],
                str(self.endpoint[1]),
                f"{self.lease:x}",
                str(self.ttl_s),
                str(self.max_stall_s),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_NONBLOCK)
        return self

    def stop(self) -> None:
        """End the keeper (blocking for at most a TTL; the lease itself is left alone)."""
        if self.proc is None:
            return
        with contextlib.suppress(OSError):
            if self.proc.stdin is not None:
                self.proc.stdin.close()
        try:
            self.proc.wait(timeout=self.ttl_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()

    def _read_reports(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        while True:
            try:
                chunk = os.read(self.proc.stdout.fileno(), 65536)
            except BlockingIOError:
                break
            if not chunk:
                break
            self._partial += chunk
        *lines, self._partial = self._partial.split(b"\n")
        for line in lines:
            word, _, rest = line.decode(errors="replace").partition(" ")
            if word == "alive":
                self.state.alive_from = max(self.state.alive_from, float(rest))
                self.state.answered += 1
            elif word == "expired":
                self.state.expired = True
            elif word == "error":
                self.state.error = rest

    def check(self) -> str | None:
        """Check in; why the lease can no longer be counted on, else None."""
        if self.proc is None:
            return "the keeper was not started"
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.write(b".")
            self.proc.stdin.flush()
        except (BrokenPipeError, ValueError):
            pass  # it ended: said below
        self._read_reports()
        if self.state.expired:
            return f"etcd expired lease {self.lease:x}"
        if self.proc.poll() is not None:  # 1: it found this replica stalled
            return f"the lease keeper ended (exit {self.proc.returncode})"
        quiet = time.monotonic() - self.state.alive_from
        if quiet >= self.ttl_s:
            return f"no keep-alive answered for {quiet:.1f} s ({self.state.error or 'none yet'})"
        return None


# -- the keeper process ---------------------------------------------------------------------
def _channel(url: StoreUrl, target: str) -> grpc.Channel:
    if url.tls is None:
        return grpc.insecure_channel(target)
    return grpc.secure_channel(target, credentials(url.tls))


def _report(line: str) -> None:
    os.write(1, (line + "\n").encode())


def keep(url: StoreUrl, target: str, lease: int, ttl_s: int, max_stall_s: float) -> int:
    """Refresh `lease` every TTL/3 until stdin closes or the replica stalls."""
    channel = _channel(url, target)
    stub = rpc.LeaseStub(channel)
    seen = time.monotonic()
    next_at = seen
    try:
        while True:
            wait = max(0.0, next_at - time.monotonic())
            ready, _, _ = select.select([0], [], [], wait)
            if ready:
                if not os.read(0, 4096):
                    return 0  # the replica closed its end, or died
                seen = time.monotonic()
                continue
            next_at = time.monotonic() + ttl_s / 3
            if time.monotonic() - seen > max_stall_s:
                print(
                    f"lease {lease:x}: the replica has not checked in for {max_stall_s:.0f} s:"
                    " no more keep-alives, the lease will expire",
                    file=sys.stderr,
                )
                return 1
            sent = time.monotonic()
            try:
                replies = stub.LeaseKeepAlive(
                    iter([rpc.LeaseKeepAliveRequest(ID=lease)]), timeout=max(1.0, ttl_s / 3)
                )
                reply = next(replies, None)
                replies.cancel()
            except grpc.RpcError as exc:
                code = exc.code() if isinstance(exc, grpc.Call) else None
                _report(f"error LeaseKeepAlive: {code.name if code else exc}")
                continue
            if reply is None:
                _report("error LeaseKeepAlive: no answer")
            elif reply.TTL <= 0:
                _report("expired")
                return 0
            else:
                _report(f"alive {sent}")
    finally:
        channel.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m nve.fleet.keeper")
    ap.add_argument("url")
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("lease")
    ap.add_argument("ttl", type=int)
    ap.add_argument("max_stall", type=float)
    args = ap.parse_args(argv)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the replica's: it closes stdin
    try:
        return keep(
            StoreUrl.parse(args.url),
            f"{args.host}:{args.port}",
            int(args.lease, 16),
            args.ttl,
            args.max_stall,
        )
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
