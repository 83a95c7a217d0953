"""One P4Runtime connection: arbitration, the stream, batched Write, Read, pipeline config.

A thin layer over finsy's generated stubs and grpc.aio. It knows nothing about the
overlay; `nve.session` builds the lifecycle (pipeline push, reconcile, reconnect) on it.
Stream messages other than arbitration (packet-in, digests, idle-timeout
notifications, errors) go to an asyncio queue for `nve.events`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import TypeVar

import grpc
from finsy.proto import p4i, p4r, p4r_grpc, rpc_code, rpc_status

from nve.takeover import Takeover, default_priority
from nve.tls import ClientTls, handshake_problem
from nve.write_readback import failed_updates

log = logging.getLogger("nve.switch")

T = TypeVar("T")

# A failed Write's answer is one p4.v1.Error per update in the grpc-status-details-bin
# trailer; gRPC's default metadata limit (16 KiB) would drop it past ~450 updates.
METADATA_LIMIT = 8 * 1024 * 1024
# The most one update's p4.v1.Error takes in that trailer, base64 as HTTP/2 may carry it:
# ~50 bytes when OK, ~370 when failed with a 200-byte message (p4sim caps its messages there).
ERROR_DETAIL_BYTES = 400
MAX_UPDATES_PER_TRAILER = METADATA_LIMIT // ERROR_DETAIL_BYTES  # 20,971: every update may fail
GRPC_OPTIONS = [
    ("grpc.max_send_message_length", 256 * 1024 * 1024),
    ("grpc.max_receive_message_length", 256 * 1024 * 1024),
    # Both limits the same: between a lower soft limit and the hard one gRPC drops at random.
    ("grpc.max_metadata_size", METADATA_LIMIT),
    ("grpc.absolute_max_metadata_size", METADATA_LIMIT),
]
INSERT, MODIFY, DELETE = p4r.Update.INSERT, p4r.Update.MODIFY, p4r.Update.DELETE
# Seconds a unary call (Write, a pipeline push or fetch) or a whole Read may take before the
# switch is taken for unreachable (DEADLINE_EXCEEDED): a switch that stops answering
# without closing its connection (a hung agent, a silent network partition) otherwise
# holds its caller for ever. Generous: a Read of a full table on a slow target, a
# pipeline push to bmv2, take seconds.
RPC_TIMEOUT_S = 300.0
# A Write's deadline grows with its updates, up to RPC_TIMEOUT_S: the few updates of an
# endpoint patch are given up on after about ten seconds, so that a switch that stopped
# answering is soon read whole again in the background (nve.controller) instead of
# holding the store follower for minutes. 5 ms an update: 200 updates/s, far below
# what bmv2 or p4sim writes.
WRITE_TIMEOUT_BASE_S = 10.0
WRITE_TIMEOUT_PER_UPDATE_S = 0.005
# Seconds a switch has to answer a Capabilities request (ping) before a reconcile of
# several switches reads it whole: one that does not answer is left out of that reconcile
# instead of holding the others for a Read deadline (nve.controller).
PING_TIMEOUT_S = 5.0
# Seconds a Read may go without a message from the switch (its first, or the next chunk)
# before the switch is taken for unreachable, within the whole Read's RPC_TIMEOUT_S: a
# switch that answers the ping and then hangs in the Read holds a reconcile of several
# switches this long, not five minutes. p4sim answers in chunks of 1 MiB; PI
# (simple_switch_grpc) builds one answer, in seconds for the largest tables here.
READ_IDLE_S = 60.0


class SwitchError(Exception):
    """A switch could not be reached or refused an operation as a whole.

    `code` is the gRPC status the switch answered with (None when there was no answer:
    no connection, no arbitration reply, a closed stream)."""

    def __init__(self, message: str, code: grpc.StatusCode | None = None):
        super().__init__(message)
        self.code = code

    @classmethod
    def from_rpc(cls, switch: str, call: str, exc: grpc.aio.AioRpcError) -> SwitchError:
        return cls(f"{switch}: {call}: {exc.code().name}: {exc.details()}", exc.code())


class NotPrimaryError(SwitchError):
    """Writes need primary arbitration; another controller holds it."""


@dataclass(frozen=True)
class UpdateError:
    """One failed update of a batched Write, with the switch's own code and message."""

    index: int
    update_type: int
    entity: p4r.Entity
    code: int
    message: str

    @property
    def code_name(self) -> str:
        return (
            rpc_code.Code.Name(rpc_code.Code.ValueType(self.code))
            if self.code in rpc_code.Code.values()
            else str(self.code)
        )


@dataclass
class WriteResult:
    attempted: int = 0
    errors: list[UpdateError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


@contextlib.contextmanager
def _channel_closed_is_an_error(switch: str, call: str) -> Iterator[None]:
    """grpc.aio ends a call with asyncio.CancelledError when its channel is closed under it
    (the session closing a client whose switch went away). Unless this task itself is being
    cancelled, that is a lost connection: a SwitchError, not a cancellation that would
    take the caller's task group (e.g. `nve run`) down with it."""
    try:
        yield
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise
        raise SwitchError(
            f"{switch}: {call}: the connection was closed", grpc.StatusCode.CANCELLED
        ) from None


def _uint128(value: int) -> p4r.Uint128:
    return p4r.Uint128(high=value >> 64, low=value & ((1 << 64) - 1))


def _from_uint128(u: p4r.Uint128) -> int:
    return (u.high << 64) | u.low


def decode_write_error(
    exc: grpc.aio.AioRpcError, updates: Sequence[p4r.Update]
) -> list[UpdateError] | None:
    """Per-update errors from a failed Write (P4Runtime spec: one p4.v1.Error per update in
    google.rpc.Status.details, carried in the grpc-status-details-bin trailer); None when
    the answer has no such details (or not one per update)."""
    details = None
    for key, value in exc.trailing_metadata() or ():
        if key == "grpc-status-details-bin" and isinstance(value, bytes):  # -bin values are bytes
            details = rpc_status.Status()
            details.ParseFromString(value)
    if details is None or len(details.details) != len(updates):
        return None
    errors = []
    for i, (u, any_msg) in enumerate(zip(updates, details.details)):
        if not any_msg.value and any_msg.Is(p4r.Error.DESCRIPTOR):
            continue  # an OK error serializes empty: most of a large batch, skip the unpacking
        err = p4r.Error()
        if not any_msg.Unpack(err):
            errors.append(
                UpdateError(i, u.type, u.entity, rpc_code.UNKNOWN, "undecodable error detail")
            )
        elif err.canonical_code != rpc_code.OK:
            errors.append(UpdateError(i, u.type, u.entity, err.canonical_code, err.message))
    return errors


class SwitchClient:
    """A P4Runtime client for one device: open() arbitrates, then write/read/pipeline calls."""

    def __init__(
        self,
        address: str,
        device_id: int,
        election_id: int,
        *,
        name: str = "",
        max_updates_per_write: int = 20000,
        priority: int | None = None,
        tls: ClientTls | None = None,
        rpc_timeout: float = RPC_TIMEOUT_S,
    ):
        self.address = address
        self.tls = tls
        self.rpc_timeout = rpc_timeout
        self.ping_timeout = PING_TIMEOUT_S
        self.read_idle = READ_IDLE_S
        self.device_id = device_id
        self.election_id = election_id
        self.name = name or address
        self.max_updates_per_write = max_updates_per_write
        self.events: asyncio.Queue[p4r.StreamMessageResponse] = asyncio.Queue()
        self.primary_election_id: int | None = None
        self.is_primary = False
        self._channel: grpc.aio.Channel | None = None
        self._stub: p4r_grpc.P4RuntimeAsyncStub | None = None
        self._stream: (
            grpc.aio.StreamStreamCall[p4r.StreamMessageRequest, p4r.StreamMessageResponse] | None
        ) = None
        self._reader: asyncio.Task[None] | None = None
        # gRPC allows one write at a time on a stream: a second one started before the
        # first finished fails (TOO_MANY_OPERATIONS) and ends the stream. Packet-outs come
        # from several tasks (the relay's frames, ARP answers, digest acks).
        self._write_lock = asyncio.Lock()
        self._arbitrated = asyncio.Event()
        self._closed = asyncio.Event()
        self.stream_error: BaseException | None = None
        self.refused: str | None = None  # the switch's reason when it rejected our arbitration
        # Taking over when the primary leaves (nve.takeover, _on_arbitration).
        self.takeover = Takeover(default_priority(election_id) if priority is None else priority)
        self.arbitration_status: int | None = None  # the last update's code (OK, ALREADY_EXISTS, …)
        self.highest_election_id: int | None = None  # the switch's highest seen, as last told
        self.arbitrations_sent = 0  # MasterArbitrationUpdates sent on this client's streams
        self.arbitration_changed = asyncio.Event()  # set on every update; the session clears it
        self._takeover: asyncio.Task[None] | None = None

    # -- connection -----------------------------------------------------------------------
    async def open(self, timeout: float = 5.0) -> bool:
        """Connect and arbitrate; returns whether this client is primary. Raises SwitchError."""
        if self.tls is None:
            self._channel = grpc.aio.insecure_channel(self.address, options=GRPC_OPTIONS)
        else:
            self._channel = grpc.aio.secure_channel(
                self.address,
                self.tls.credentials(),
                options=GRPC_OPTIONS + self.tls.channel_options(),
            )
        try:
            async with asyncio.timeout(timeout):
                await self._channel.channel_ready()
        except (TimeoutError, grpc.aio.AioRpcError) as exc:
            await self._channel.close()
            why = type(exc).__name__
            if self.tls is not None:
                why = await handshake_problem(self.address, self.tls) or why
            raise SwitchError(f"{self.name}: cannot connect to {self.address} ({why})") from None
        self._stub = p4r_grpc.P4RuntimeStub(self._channel)
        self._stream = self._stub.StreamChannel()
        self._closed.clear()
        self._reader = asyncio.create_task(self._read_stream(), name=f"stream-{self.name}")
        await self._send_arbitration()
        try:
            async with asyncio.timeout(timeout):
                await self._arbitrated.wait()
        except TimeoutError:
            await self.close()
            raise SwitchError(f"{self.name}: no arbitration answer from {self.address}") from None
        if self.stream_error is not None and not self._arbitrated.is_set():
            raise SwitchError(f"{self.name}: stream failed: {self.stream_error}")
        return self.is_primary

    async def _send_arbitration(self) -> None:
        assert self._stream is not None
        self.arbitrations_sent += 1
        req = p4r.StreamMessageRequest(
            arbitration=p4r.MasterArbitrationUpdate(
                device_id=self.device_id, election_id=_uint128(self.election_id)
            )
        )
        async with self._write_lock:
            await self._stream.write(req)

    async def _read_stream(self) -> None:
        assert self._stream is not None
        try:
            async for msg in self._stream:
                if msg.WhichOneof("update") == "arbitration":
                    await self._on_arbitration(msg.arbitration)
                else:
                    self.events.put_nowait(msg)
            self.stream_error = SwitchError("stream closed by the switch")
        except grpc.aio.AioRpcError as exc:
            self.stream_error = SwitchError(
                f"stream failed: {exc.code().name}: {exc.details()}", exc.code()
            )
            if not self._arbitrated.is_set() and exc.code() != grpc.StatusCode.CANCELLED:
                # Rejected (e.g. our election id is held by another client): reads still work,
                # writes do not; read_only_reason says why instead of naming a primary.
                self.refused = f"{exc.code().name}: {exc.details()}"
                self._arbitrated.set()
        except asyncio.CancelledError:
            pass
        finally:
            self._closed.set()

    async def _on_arbitration(self, arb: p4r.MasterArbitrationUpdate) -> None:
        code = arb.status.code
        self.arbitration_status = code
        # OK and ALREADY_EXISTS carry the primary's id; NOT_FOUND the highest id seen.
        self.highest_election_id = (
            _from_uint128(arb.election_id) if arb.HasField("election_id") else None
        )
        self.primary_election_id = None if code == rpc_code.NOT_FOUND else self.highest_election_id
        was = self.is_primary
        self.is_primary = code == rpc_code.OK
        if code == rpc_code.NOT_FOUND:
            # No primary (it left, or never came back): take over in turn (nve.takeover).
            if self._takeover is None or self._takeover.done():
                self._takeover = asyncio.create_task(
                    self._take_over(), name=f"takeover-{self.name}"
                )
        else:
            # A primary exists, us or another live controller: stay as we are, no preemption.
            if self._takeover is not None:
                self._takeover.cancel()
                self._takeover = None
            self.takeover.settled()
        if was != self.is_primary and self._arbitrated.is_set():
            log.info(
                "%s: %s",
                self.name,
                "now primary" if self.is_primary else f"read-only: {self.read_only_reason}",
            )
        self._arbitrated.set()
        self.arbitration_changed.set()

    async def _take_over(self) -> None:
        """After this controller's turn (nve.takeover), arbitrate with an id above the
        highest seen, unless a primary appeared or the stream ended meanwhile."""
        await asyncio.sleep(self.takeover.next_delay())
        if self.arbitration_status != rpc_code.NOT_FOUND or not self.connected:
            return
        highest = self.highest_election_id
        if highest is None or self.election_id >= highest:
            election_id: int | None = self.election_id  # already high enough: ask again
        else:
            election_id = self.takeover.election_id(highest)
        if election_id is None:
            log.error("%s: no election id above %d is left; staying read-only", self.name, highest)
            return
        log.info(
            "%s: no primary controller (highest election id seen %s); taking over with"
            " election id %d (priority %d)",
            self.name,
            highest,
            election_id,
            self.takeover.priority,
        )
        self.election_id = election_id
        self._takeover = None  # a NOT_FOUND answer schedules the next try, backed off
        try:
            await self._send_arbitration()
        except (grpc.aio.AioRpcError, grpc.aio.UsageError, asyncio.InvalidStateError) as exc:
            log.debug("%s: takeover not sent: %s", self.name, exc)  # the reader reports the loss

    async def wait_closed(self) -> None:
        """Returns when the stream ends (switch restarted, connection lost, or close())."""
        await self._closed.wait()

    @property
    def read_only_reason(self) -> str:
        """Why this client may not write, for messages (valid when not primary)."""
        if self.refused is not None:
            return f"the switch refused arbitration with election id {self.election_id} ({self.refused})"
        if self.arbitration_status == rpc_code.NOT_FOUND:
            return (
                f"no controller is primary (highest election id seen {self.highest_election_id});"
                f" taking over in turn with priority {self.takeover.priority}"
            )
        return f"controller with election id {self.primary_election_id} is primary"

    @property
    def connected(self) -> bool:
        return self._stream is not None and not self._closed.is_set()

    @property
    def takeover_pending(self) -> bool:
        """Whether this client waits for its turn to take over a switch without primary."""
        return self._takeover is not None and not self._takeover.done()

    async def close(self) -> None:
        if self._takeover is not None:
            self._takeover.cancel()
            self._takeover = None
        if self._stream is not None:
            self._stream.cancel()
        if self._reader is not None:
            self._reader.cancel()
            # Closing must not fail, however the reader task ended; waiting on it (not
            # awaiting it) keeps a cancellation of the closing task itself.
            await asyncio.wait({self._reader})
            if not self._reader.cancelled():
                self._reader.exception()  # retrieved: nothing to log
        if self._channel is not None:
            await self._channel.close()
        self._stream = self._reader = self._channel = None
        self._arbitrated.clear()
        self.is_primary = False
        self.refused = None
        self.arbitration_status = None

    async def __aenter__(self) -> SwitchClient:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def write_timeout(self, updates: int) -> float:
        """Seconds a Write of `updates` updates may take."""
        return min(self.rpc_timeout, WRITE_TIMEOUT_BASE_S + WRITE_TIMEOUT_PER_UPDATE_S * updates)

    def _require_stub(self) -> p4r_grpc.P4RuntimeAsyncStub:
        if self._stub is None or self._channel is None:
            raise SwitchError(f"{self.name}: not connected")
        return self._stub

    async def ping(self) -> None:
        """A Capabilities request: answered within `ping_timeout` s, or SwitchError."""
        stub = self._require_stub()
        try:
            with _channel_closed_is_an_error(self.name, "Capabilities"):
                await stub.Capabilities(p4r.CapabilitiesRequest(), timeout=self.ping_timeout)
        except grpc.aio.AioRpcError as exc:
            raise SwitchError.from_rpc(self.name, "Capabilities", exc) from None

    # -- pipeline -------------------------------------------------------------------------
    async def get_pipeline(self, with_p4info: bool = True) -> p4r.ForwardingPipelineConfig | None:
        """The installed pipeline (P4Info and cookie), or None when the switch has none."""
        stub = self._require_stub()
        rtype = (
            p4r.GetForwardingPipelineConfigRequest.P4INFO_AND_COOKIE
            if with_p4info
            else p4r.GetForwardingPipelineConfigRequest.COOKIE_ONLY
        )
        try:
            with _channel_closed_is_an_error(self.name, "GetForwardingPipelineConfig"):
                resp = await stub.GetForwardingPipelineConfig(
                    p4r.GetForwardingPipelineConfigRequest(
                        device_id=self.device_id, response_type=rtype
                    ),
                    timeout=self.rpc_timeout,
                )
        except grpc.aio.AioRpcError as exc:
            if exc.code() in (grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.NOT_FOUND):
                return None
            raise SwitchError.from_rpc(self.name, "GetForwardingPipelineConfig", exc) from None
        cfg = resp.config
        if not cfg.HasField("p4info") and not cfg.HasField("cookie"):
            return None
        return cfg

    async def set_pipeline(
        self, p4info: p4i.P4Info, device_config: bytes, cookie: int, *, reconcile: bool = False
    ) -> None:
        """VERIFY_AND_COMMIT (the switch starts empty), or RECONCILE_AND_COMMIT."""
        stub = self._require_stub()
        A = p4r.SetForwardingPipelineConfigRequest
        req = p4r.SetForwardingPipelineConfigRequest(
            device_id=self.device_id,
            election_id=_uint128(self.election_id),
            action=A.RECONCILE_AND_COMMIT if reconcile else A.VERIFY_AND_COMMIT,
            config=p4r.ForwardingPipelineConfig(
                p4info=p4info,
                p4_device_config=device_config,
                cookie=p4r.ForwardingPipelineConfig.Cookie(cookie=cookie),
            ),
        )
        try:
            with _channel_closed_is_an_error(self.name, "SetForwardingPipelineConfig"):
                await stub.SetForwardingPipelineConfig(req, timeout=self.rpc_timeout)
        except grpc.aio.AioRpcError as exc:
            if exc.code() == grpc.StatusCode.PERMISSION_DENIED:
                raise NotPrimaryError(
                    f"{self.name}: not primary, cannot set the pipeline", exc.code()
                ) from None
            raise SwitchError.from_rpc(self.name, "SetForwardingPipelineConfig", exc) from None

    # -- write / read ---------------------------------------------------------------------
    async def write(self, updates: Sequence[p4r.Update]) -> WriteResult:
        """Send updates in as few Writes as the size cap allows, awaiting each; errors per update."""
        return await self.write_chunked(updates, list)

    async def write_chunked(
        self,
        items: Sequence[T],
        encode: Callable[[Sequence[T]], list[p4r.Update]],
        *,
        chunk: int | None = None,
        in_flight: int = 1,
    ) -> WriteResult:
        """Write `items`, split into WriteRequests: the one place nve chunks its Writes.

        Each Write carries at most `chunk` updates (never more than max_updates_per_write, nor
        than MAX_UPDATES_PER_TRAILER, so that its errors fit the channel's metadata limit), the
        updates of `encode(items[start : start + chunk])`, encoded just before it is
        sent. With `in_flight` > 1 that many Writes may be outstanding (the next chunk is
        encoded while the switch applies the previous one), so the chunks of one call must
        not depend on each other's order. Every Write is answered before this returns; an
        error's index is its item's position in `items`."""
        stub = self._require_stub()
        result = WriteResult()
        if not items:
            return result
        cap = self.max_updates_per_write
        step = max(1, min(cap if chunk is None else chunk, cap, MAX_UPDATES_PER_TRAILER))
        pending: deque[tuple[int, asyncio.Task[WriteResult]]] = deque()

        def add(start: int, got: WriteResult) -> None:
            result.attempted += got.attempted
            result.errors.extend(replace(err, index=err.index + start) for err in got.errors)

        try:
            for start in range(0, len(items), step):
                request = self._write_request(stub, encode(items[start : start + step]))
                if in_flight <= 1:
                    add(start, await request)
                    continue
                pending.append((start, asyncio.ensure_future(request)))
                await asyncio.sleep(0)  # let gRPC take the request before encoding the next chunk
                while len(pending) >= in_flight:
                    first, task = pending.popleft()
                    add(first, await task)
            while pending:
                first, task = pending.popleft()
                add(first, await task)
        finally:
            for _, task in pending:
                task.cancel()
            if pending:
                await asyncio.gather(*(t for _, t in pending), return_exceptions=True)
        return result

    async def _write_request(
        self, stub: p4r_grpc.P4RuntimeAsyncStub, updates: list[p4r.Update]
    ) -> WriteResult:
        """One WriteRequest, CONTINUE_ON_ERROR; error indexes are positions in `updates`."""
        if not self.is_primary:
            raise NotPrimaryError(f"{self.name}: read-only, {self.read_only_reason}")
        req = p4r.WriteRequest(
            device_id=self.device_id,
            election_id=_uint128(self.election_id),
            updates=updates,
            atomicity=p4r.WriteRequest.CONTINUE_ON_ERROR,
        )
        result = WriteResult(attempted=len(updates))
        try:
            with _channel_closed_is_an_error(self.name, "Write"):
                await stub.Write(req, timeout=self.write_timeout(len(updates)))
        except grpc.aio.AioRpcError as exc:
            if exc.code() == grpc.StatusCode.PERMISSION_DENIED:
                raise NotPrimaryError(f"{self.name}: {exc.details()}", exc.code()) from None
            if exc.code() in (
                grpc.StatusCode.UNAVAILABLE,
                grpc.StatusCode.CANCELLED,
                grpc.StatusCode.DEADLINE_EXCEEDED,  # not answering: nothing to read back
            ):
                raise SwitchError.from_rpc(self.name, "Write", exc) from None
            errors = decode_write_error(exc, updates)
            if errors is None:
                errors = await self._errors_read_back(exc, updates)
            result.errors = errors
        return result

    async def _errors_read_back(
        self, exc: grpc.aio.AioRpcError, updates: Sequence[p4r.Update]
    ) -> list[UpdateError]:
        """The failed updates of a Write whose answer had no per-update details, told by
        reading the switch back (nve.write_readback), each with the Write's own answer."""
        answer = f"{exc.code().name}: {exc.details() or 'no details'}"
        log.warning(
            "%s: Write of %d updates failed without per-update details (%s); reading back",
            self.name,
            len(updates),
            answer,
        )
        failed = await failed_updates(updates, self.read_all, SwitchError)
        return [
            UpdateError(
                i,
                updates[i].type,
                updates[i].entity,
                rpc_code.UNKNOWN,
                f"the switch answered {answer}; read back: {why}",
            )
            for i, why in failed.items()
        ]

    async def read(self, entities: Sequence[p4r.Entity]) -> AsyncIterator[p4r.Entity]:
        stub = self._require_stub()
        call = stub.Read(
            p4r.ReadRequest(device_id=self.device_id, entities=list(entities)),
            timeout=self.rpc_timeout,
        )
        answers = aiter(call)
        idle = min(self.read_idle, self.rpc_timeout)
        try:
            with _channel_closed_is_an_error(self.name, "Read"):
                while True:
                    try:
                        async with asyncio.timeout(idle):
                            resp = await anext(answers)
                    except StopAsyncIteration:
                        return
                    except TimeoutError:
                        call.cancel()
                        raise SwitchError(
                            f"{self.name}: Read: DEADLINE_EXCEEDED: nothing from the switch"
                            f" for {idle:g} s",
                            grpc.StatusCode.DEADLINE_EXCEEDED,
                        ) from None
                    for ent in resp.entities:
                        yield ent
        except grpc.aio.AioRpcError as exc:
            raise SwitchError.from_rpc(self.name, "Read", exc) from None
        finally:
            if not call.done():  # left early, or failed: the switch stops sending
                call.cancel()

    async def read_all(self, entities: Sequence[p4r.Entity]) -> list[p4r.Entity]:
        return [e async for e in self.read(entities)]

    # -- stream out -----------------------------------------------------------------------
    async def send(self, msg: p4r.StreamMessageRequest) -> None:
        if self._stream is None:
            raise SwitchError(f"{self.name}: not connected")
        with _channel_closed_is_an_error(self.name, "StreamChannel"):
            async with self._write_lock:
                await self._stream.write(msg)

    async def packet_out(self, payload: bytes, metadata: Sequence[p4r.PacketMetadata]) -> None:
        await self.send(
            p4r.StreamMessageRequest(packet=p4r.PacketOut(payload=payload, metadata=list(metadata)))
        )

    async def digest_ack(self, digest_id: int, list_id: int) -> None:
        await self.send(
            p4r.StreamMessageRequest(
                digest_ack=p4r.DigestListAck(digest_id=digest_id, list_id=list_id)
            )
        )
