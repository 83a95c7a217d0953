"""Digest batching, acknowledgement and duplicate suppression (P4Runtime DigestEntry config).

A digest id produces nothing until the controller configures it with a DigestEntry (as PI
does).  Messages are batched up to ``max_list_size`` or ``max_timeout_ns``; the data of a
list sent and not yet acknowledged is not sent again until the ack (or ``ack_timeout_ns``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from finsy.proto import p4r

from p4sim.server.codec import encode_bitstring_data
from p4sim.state import DigestConfig, RuntimeState


@dataclass
class _Pending:
    values: list[tuple[int, ...]] = field(default_factory=list)
    first_ns: int = 0


class DigestManager:
    def __init__(
        self, send: Callable[[p4r.StreamMessageResponse], None], struct_digests: set[int]
    ) -> None:
        self._send = send
        self._struct = struct_digests
        self._lock = threading.Lock()
        self._pending: dict[int, _Pending] = {}
        self._outstanding: dict[tuple[int, int], tuple[int, set[tuple[int, ...]]]] = {}
        self._next_list_id = 1

    def _in_flight(self, digest_id: int) -> set[tuple[int, ...]]:
        s: set[tuple[int, ...]] = set()
        for (did, _), (_, vals) in self._outstanding.items():
            if did == digest_id:
                s |= vals
        return s

    def add(self, state: RuntimeState, digest_id: int, values: tuple[int, ...]) -> None:
        info = state.digests.get(digest_id)
        if info is None or info.config is None:
            return
        cfg = info.config
        with self._lock:
            p = self._pending.setdefault(digest_id, _Pending())
            if values in p.values or values in self._in_flight(digest_id):
                return
            if not p.values:
                p.first_ns = time.monotonic_ns()
            p.values.append(values)
            if (
                cfg.max_list_size and len(p.values) >= cfg.max_list_size
            ) or cfg.max_timeout_ns == 0:
                self._flush(digest_id, cfg)

    def _flush(self, digest_id: int, cfg: DigestConfig) -> None:
        p = self._pending.pop(digest_id, None)
        if p is None or not p.values:
            return
        list_id = self._next_list_id
        self._next_list_id += 1
        if cfg.ack_timeout_ns:
            self._outstanding[(digest_id, list_id)] = (time.monotonic_ns(), set(p.values))
        msg = p4r.DigestList(digest_id=digest_id, list_id=list_id, timestamp=time.time_ns())
        for v in p.values:
            msg.data.append(encode_bitstring_data(v, digest_id in self._struct))
        self._send(p4r.StreamMessageResponse(digest=msg))

    def ack(self, digest_id: int, list_id: int) -> None:
        with self._lock:
            self._outstanding.pop((digest_id, list_id), None)

    def tick(self, state: RuntimeState) -> None:
        """Flush batches whose max_timeout_ns passed and forget acks that timed out."""
        now = time.monotonic_ns()
        with self._lock:
            for digest_id, p in list(self._pending.items()):
                info = state.digests.get(digest_id)
                if info is None or info.config is None:
                    del self._pending[digest_id]
                elif now - p.first_ns >= info.config.max_timeout_ns:
                    self._flush(digest_id, info.config)
            for key, (sent, _) in list(self._outstanding.items()):
                info = state.digests.get(key[0])
                if info is None or info.config is None or now - sent >= info.config.ack_timeout_ns:
                    del self._outstanding[key]

    def reset(self) -> None:
        with self._lock:
            self._pending.clear()
            self._outstanding.clear()
