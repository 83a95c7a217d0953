"""A replica's lease kept alive from a thread of its own.

The replica's event loop also compiles switches (100,000 entries take seconds at a
million endpoints), opens a session per owned switch and decodes the store's watch
events. A keep-alive sent from that loop waited behind such work: at 1,016 switches and
1,000,000 endpoints the replicas missed their keep-alives for a whole TTL, lost their
leases and their switches went round between them. The keeper sends the keep-alives on
its own gRPC channel (blocking calls, which release the GIL while they wait), every
third of the TTL, whatever the loop is doing.

A loop that does not come back at all (hung, not just busy) must not keep the switches
for ever: the loop checks in every third of the TTL (`LeaseKeeper.check`), and the
keeper stops refreshing once it has not heard from the loop for `max_stall_s`; etcd then
expires the lease and the other replicas take the switches. Fencing (election ids) keeps
a stalled replica that wakes up later off the switches either way.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

import grpc
from aetcd import rpc

from nve.store.client import credentials
from nve.store.url import StoreUrl

log = logging.getLogger("nve.fleet")


@dataclass
class KeeperState:
    alive_from: float  # monotonic send time of the last answered keep-alive
    loop_seen: float  # monotonic time the loop last checked in
    expired: bool = False  # etcd answered that the lease is gone
    error: str = ""  # the last failure, for the log
    sent: int = 0
    answered: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class LeaseKeeper:
    def __init__(
        self,
        url: StoreUrl,
        endpoint: tuple[str, int],
        lease: int,
        ttl_s: int,
        granted_at: float,
        *,
        max_stall_s: float = 30.0,
    ) -> None:
        self.url = url
        self.endpoint = endpoint
        self.lease = lease
        self.ttl_s = ttl_s
        self.max_stall_s = max(max_stall_s, 2.0 * ttl_s)
        now = time.monotonic()
        self.state = KeeperState(alive_from=granted_at, loop_seen=now)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease-{lease:x}", daemon=True)

    def start(self) -> LeaseKeeper:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self.ttl_s)

    # -- the loop's side ------------------------------------------------------------------
    def check(self) -> str | None:
        """The loop checks in; why the lease can no longer be counted on, else None."""
        with self.state.lock:
            self.state.loop_seen = time.monotonic()
            if self.state.expired:
                return f"etcd expired lease {self.lease:x}"
            quiet = self.state.loop_seen - self.state.alive_from
            if quiet >= self.ttl_s:
                return (
                    f"no keep-alive answered for {quiet:.1f} s ({self.state.error or 'none sent'})"
                )
            if not self._thread.is_alive() and not self._stop.is_set():
                return "the keep-alive thread ended"
        return None

    # -- the thread -----------------------------------------------------------------------
    def _channel(self) -> grpc.Channel:
        target = f"{self.endpoint[0]}:{self.endpoint[1]}"
        if self.url.tls is None:
            return grpc.insecure_channel(target)
        return grpc.secure_channel(target, credentials(self.url.tls))

    def _run(self) -> None:
        channel = self._channel()
        stub = rpc.LeaseStub(channel)
        timeout = max(1.0, self.ttl_s / 3)
        try:
            while not self._stop.wait(self.ttl_s / 3):
                with self.state.lock:
                    stalled = time.monotonic() - self.state.loop_seen
                if stalled > self.max_stall_s:
                    log.error(
                        "lease %x: the replica's loop has not run for %.0f s: no more"
                        " keep-alives, the lease will expire",
                        self.lease,
                        stalled,
                    )
                    return
                sent = time.monotonic()
                with self.state.lock:
                    self.state.sent += 1
                try:
                    replies = stub.LeaseKeepAlive(
                        iter([rpc.LeaseKeepAliveRequest(ID=self.lease)]), timeout=timeout
                    )
                    reply = next(replies, None)
                    replies.cancel()
                except grpc.RpcError as exc:
                    code = exc.code() if isinstance(exc, grpc.Call) else None
                    with self.state.lock:
                        self.state.error = f"LeaseKeepAlive: {code.name if code else exc}"
                    continue
                with self.state.lock:
                    if reply is None:
                        self.state.error = "LeaseKeepAlive: no answer"
                        continue
                    self.state.answered += 1
                    if reply.TTL <= 0:
                        self.state.expired = True
                        return
                    self.state.alive_from = sent
        finally:
            channel.close()
