"""The switch under test, driven through the controller's P4Runtime layer, for synchronous tests.

PTF's ``testutils`` are synchronous and the controller's client (``nve.p4rt_client.SwitchClient``)
is asyncio; :class:`ControlPlane` runs the client on an event loop of its own thread and
offers blocking calls. Entries are nve.entities dataclasses encoded by ``nve.codec``
against the pushed P4Info, so every name a test uses is checked against the program.

:class:`Case` is what one test gets: it writes entries and removes them all after the test
(a test never sees another test's state), reads drop counters over P4Runtime, and
receives packet-ins and digests from the stream.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Coroutine, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from finsy.proto import p4r

from lab.targets import RunningSwitch
from nve import codec
from nve.entities import CloneSession, DigestConfig, Entity, MeterConfig, MulticastGroup, TableEntry
from nve.p4info import P4Index, encode_int, load_p4info
from nve.p4names import Counter, PacketOut
from nve.p4rt_client import DELETE, INSERT, MODIFY, SwitchClient, WriteResult
from nve.pipeline import cookie_of
from nve.stats import read_frame_bytes
from nve_ptf.adapter import PtfFailure, PtfTest

T = TypeVar("T")
DROP_COUNTERS = (Counter.INGRESS_COUNTERS_DROPS, Counter.EGRESS_COUNTERS_DROPS)
ELECTION_ID = 10


class ControlPlaneError(AssertionError):
    """The switch refused a write or a read; the message names the entity and the switch's reason."""


class _LoopThread:
    """An asyncio loop in a daemon thread; ``run`` blocks on one coroutine."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self.loop.run_forever, name="p4runtime-loop", daemon=True
        )
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 60.0) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)
        self.loop.close()


def _describe_errors(result: WriteResult, index: P4Index) -> str:
    lines = []
    for err in result.errors:
        ent = codec.decode(err.entity, index)
        what = ent.describe() if ent is not None else str(err.entity)
        lines.append(f"  update {err.index}: {err.code_name}: {err.message} ({what})")
    return "\n".join(lines)


class ControlPlane:
    """A primary P4Runtime connection to the switch under test, with blocking calls."""

    def __init__(self, switch: RunningSwitch) -> None:
        self.switch = switch
        self._loop = _LoopThread()
        self.p4info = load_p4info(switch.pipeline.p4info)
        self.index = P4Index(self.p4info)
        self.client: SwitchClient = self._loop.run(self._open())

    async def _open(self) -> SwitchClient:
        client = SwitchClient(
            self.switch.grpc_addr, self.switch.device_id, ELECTION_ID, name="switch-under-test"
        )
        primary = await client.open(timeout=10.0)
        if not primary:
            await client.close()
            raise ControlPlaneError(f"not primary on {self.switch.grpc_addr}")
        return client

    def push_pipeline(self) -> None:
        config = self.switch.pipeline.device_config.read_bytes()
        self._loop.run(
            self.client.set_pipeline(self.p4info, config, cookie_of(self.p4info, config)),
            timeout=300,
        )

    def close(self) -> None:
        try:
            self._loop.run(self.client.close(), timeout=10)
        finally:
            self._loop.close()

    # -- writes and reads ----------------------------------------------------------------
    def write(self, updates: list[p4r.Update]) -> None:
        result = self._loop.run(self.client.write(updates))
        if not result.ok:
            raise ControlPlaneError(
                "the switch refused a write:\n" + _describe_errors(result, self.index)
            )

    def read(self, entities: list[p4r.Entity]) -> list[p4r.Entity]:
        return self._loop.run(self.client.read_all(entities))

    def counter(self, name: str) -> dict[int, tuple[int, int]]:
        """Every cell of an indexed counter: {index: (packets, bytes)}."""
        cid = self.index.counter(name).id
        out: dict[int, tuple[int, int]] = {}
        for ent in self.read([p4r.Entity(counter_entry=p4r.CounterEntry(counter_id=cid))]):
            ce = ent.counter_entry
            out[ce.index.index] = (ce.data.packet_count, ce.data.byte_count)
        return out

    def frame_bytes(self, name: str, index: int) -> int:
        """Customer-frame bytes of one vsi/tunnel from a `frame_bytes` counter (its 64 cells)."""
        got = self._loop.run(read_frame_bytes(self.client, self.index, name, [index]))
        if got is None:
            raise ControlPlaneError(f"the program has no counter {name}")
        return got[index]

    def table_entries(self) -> list[Entity]:
        """Every non-default entry of every table (a wildcard read)."""
        ents = self.read([p4r.Entity(table_entry=p4r.TableEntry(table_id=0))])
        return [e for e in (codec.decode(x, self.index) for x in ents) if e is not None]

    # -- stream ----------------------------------------------------------------------------
    def next_event(self, timeout: float) -> p4r.StreamMessageResponse | None:
        async def get() -> p4r.StreamMessageResponse | None:
            try:
                return await asyncio.wait_for(self.client.events.get(), timeout)
            except TimeoutError:
                return None

        return self._loop.run(get(), timeout=timeout + 10)

    def drain_events(self) -> list[p4r.StreamMessageResponse]:
        async def drain() -> list[p4r.StreamMessageResponse]:
            out = []
            while not self.client.events.empty():
                out.append(self.client.events.get_nowait())
            return out

        return self._loop.run(drain())

    def packet_out(self, payload: bytes, egress_port: int) -> None:
        meta = self.index.packet_metadata("packet_out")
        md = [
            p4r.PacketMetadata(
                metadata_id=meta[PacketOut.EGRESS_PORT].id,
                value=encode_int(
                    egress_port, meta[PacketOut.EGRESS_PORT].bitwidth, "packet_out.egress_port"
                ),
            )
        ]
        self._loop.run(self.client.packet_out(payload, md))

    def digest_ack(self, digest_id: int, list_id: int) -> None:
        self._loop.run(self.client.digest_ack(digest_id, list_id))

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 60.0) -> T:
        """Run a coroutine on the client's event loop (e.g. a controller event handler that
        answers through ``self.client``), blocking until it is done."""
        return self._loop.run(coro, timeout)


@dataclass(frozen=True)
class PacketIn:
    payload: bytes
    metadata: dict[str, int]


@dataclass(frozen=True)
class Digest:
    name: str
    members: list[tuple[int, ...]]


def _int(data: bytes) -> int:
    return int.from_bytes(data, "big")


@dataclass
class Case:
    """One test's view of the switch: entries it installs are removed after it."""

    cp: ControlPlane
    test: PtfTest
    _undo: list[p4r.Update] = field(default_factory=list)
    _events: list[p4r.StreamMessageResponse] = field(default_factory=list)
    stale_digests: list[Digest] = field(default_factory=list)

    # -- entries ---------------------------------------------------------------------------
    def install(self, *entities: Entity | Iterable[Entity]) -> None:
        """Write the entities (flattened, in order) in one batch; each is undone after the test."""
        flat: list[Entity] = []
        for e in entities:
            if isinstance(e, (TableEntry, MulticastGroup, CloneSession, MeterConfig, DigestConfig)):
                flat.append(e)
            else:
                flat.extend(e)
        updates: list[p4r.Update] = []
        undo: list[p4r.Update] = []
        for e in flat:
            if isinstance(e, TableEntry) and e.is_default:
                updates.append(p4r.Update(type=MODIFY, entity=codec.encode(e, self.cp.index)))
                # MODIFY of the default entry with no action restores the program's default.
                undo.append(
                    p4r.Update(
                        type=MODIFY,
                        entity=codec.encode_key(replace(e, action="", params=()), self.cp.index),
                    )
                )
            elif isinstance(e, MeterConfig):
                updates.append(p4r.Update(type=MODIFY, entity=codec.encode(e, self.cp.index)))
                undo.append(p4r.Update(type=MODIFY, entity=codec.encode_key(e, self.cp.index)))
            else:
                updates.append(p4r.Update(type=INSERT, entity=codec.encode(e, self.cp.index)))
                undo.append(p4r.Update(type=DELETE, entity=codec.encode_key(e, self.cp.index)))
        self.cp.write(updates)
        self._undo.extend(undo)

    def cleanup(self) -> None:
        """Undo every write of this test, newest first, and check that no entry is left."""
        undo, self._undo = list(reversed(self._undo)), []
        if undo:
            self.cp.write(undo)
        left = self.cp.table_entries()
        if left:
            raise ControlPlaneError(
                "entries left after cleanup:\n" + "\n".join(e.describe() for e in left)
            )

    # -- counters --------------------------------------------------------------------------
    def drops(self) -> dict[int, int]:
        """Dropped packets per reason, ingress and egress added (docs/pipeline.md, Counters)."""
        total: dict[int, int] = {}
        for name in DROP_COUNTERS:
            for idx, (pkts, _) in self.cp.counter(name).items():
                if pkts:
                    total[idx] = total.get(idx, 0) + pkts
        return total

    def counter(self, name: str, index: int) -> tuple[int, int]:
        return self.cp.counter(name).get(index, (0, 0))

    def frame_bytes(self, name: str, index: int) -> int:
        return self.cp.frame_bytes(name, index)

    # -- stream ----------------------------------------------------------------------------
    def _pull(self, kind: str, timeout: float) -> p4r.StreamMessageResponse | None:
        for i, msg in enumerate(self._events):
            if msg.WhichOneof("update") == kind:
                return self._events.pop(i)
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            event = self.cp.next_event(left)
            if event is None:
                return None
            if event.WhichOneof("update") == kind:
                return event
            self._events.append(event)
        return None

    def packet_in_message(self, timeout: float = 3.0) -> p4r.PacketIn | None:
        """The next packet-in as the stream delivered it (what the controller's handler gets)."""
        msg = self._pull("packet", timeout)
        return None if msg is None else msg.packet

    def packet_in(self, timeout: float = 3.0) -> PacketIn | None:
        msg = self._pull("packet", timeout)
        if msg is None:
            return None
        names = {m.id: m.name for m in self.cp.index.packet_metadata("packet_in").values()}
        return PacketIn(
            msg.packet.payload,
            {
                names.get(m.metadata_id, str(m.metadata_id)): _int(m.value)
                for m in msg.packet.metadata
            },
        )

    def _next_digest(self, timeout: float) -> Digest | None:
        msg = self._pull("digest", timeout)
        if msg is None:
            return None
        d = msg.digest
        self.cp.digest_ack(d.digest_id, d.list_id)
        members = [tuple(_int(m.bitstring) for m in data.struct.members) for data in d.data]
        return Digest(self.cp.index.digest_by_id(d.digest_id).name, members)

    def digest(self, members: list[tuple[int, ...]], timeout: float = 3.0) -> Digest | None:
        """Wait for the digest list whose members are exactly ``members``. Digest lists with
        other content are acknowledged and set aside in ``self.stale_digests``: a target may
        deliver an earlier test's digest late (bmv2 batches them for a while), so digests
        are matched by content, never by arrival order."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            d = self._next_digest(left)
            if d is None:
                return None
            if d.members == members:
                return d
            self.stale_digests.append(d)
        return None

    def no_digest(self, members: list[tuple[int, ...]], timeout: float = 0.7) -> bool:
        """True when no digest list with these members arrives within timeout (others are
        set aside as in ``digest``)."""
        return self.digest(members, timeout) is None


def wait_for_drops(
    case: Case, before: Mapping[int, int], expected: Mapping[int, int], timeout: float = 3.0
) -> dict[int, int]:
    """Poll the drop counters until they moved by at least ``expected``; return the deltas."""
    deadline = time.monotonic() + timeout
    while True:
        now = case.drops()
        delta = {r: now.get(r, 0) - before.get(r, 0) for r in set(now) | set(before)}
        delta = {r: d for r, d in delta.items() if d}
        if all(delta.get(r, 0) >= n for r, n in expected.items()) or time.monotonic() > deadline:
            return delta
        time.sleep(0.05)


def fail(msg: str) -> None:
    raise PtfFailure(msg)
