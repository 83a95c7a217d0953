"""The P4Runtime gRPC service of a p4sim :class:`~p4sim.switch.Switch`."""

from __future__ import annotations

import itertools
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent import futures
from dataclasses import dataclass
from typing import TYPE_CHECKING, NoReturn

import grpc
from finsy.proto import p4r, p4r_grpc

from p4sim.server.arbitration import Arbiter, Controller, election_id_of
from p4sim.server.codec import decode_uint, encode_match, encode_uint
from p4sim.server.digests import DigestManager
from p4sim.server.errors import (
    ABORTED,
    CANCELLED,
    ERROR_SPACE,
    FAILED_PRECONDITION,
    INTERNAL,
    INVALID_ARGUMENT,
    NOT_FOUND,
    PERMISSION_DENIED,
    UNIMPLEMENTED,
    P4RuntimeError,
)
from p4sim.server.pipeline_verify import verify_config
from p4sim.server.read import read_entities
from p4sim.server.tls import ServerTls
from p4sim.server.write import Undo, apply_update, write_failure_status
from p4sim.server.write_log import WriteLog
from p4sim.state import RuntimeState

if TYPE_CHECKING:
    from p4sim.switch import PipelineConfig, Switch

log = logging.getLogger("p4sim.server")

API_VERSION = "1.4.0"
MAX_RECEIVE = 256 * 1024 * 1024  # as PI's server
READ_CHUNK = 1024 * 1024  # bytes of entities per ReadResponse, far below gRPC's 4 MiB default
_STATUS = {c.value[0]: c for c in grpc.StatusCode}
# A full idle-timeout pass over the large profile's 65,536 learned MACs in 16 ticks.
IDLE_SWEEP_BUDGET = 4096


def _abort(context: grpc.ServicerContext, exc: P4RuntimeError) -> NoReturn:
    context.abort(_STATUS[exc.code], exc.message)


@dataclass
class _StreamState:
    """One StreamChannel: its controller once arbitrated, and the error that ends it."""

    ctl: Controller | None = None
    error: P4RuntimeError | None = None


Send = Callable[[p4r.StreamMessageResponse], None]


class P4RuntimeService(p4r_grpc.P4RuntimeServicer):
    def __init__(
        self,
        switch: Switch,
        *,
        require_arbitration: bool = False,
        write_log: WriteLog | None = None,
    ) -> None:
        self.switch = switch
        self.arbiter = Arbiter(require_arbitration=require_arbitration)
        self.write_log = write_log
        self._write_lock = threading.Lock()
        self._config_lock = threading.Lock()
        self.digests = DigestManager(self._to_primaries, set())
        # timed entries the idle-timeout sweep visits per table per tick (see _idle_tick)
        self.idle_budget = IDLE_SWEEP_BUDGET
        switch.on_packet_in = self._packet_in
        switch.on_digest = self._digest

    # -- events out ---------------------------------------------------------------------------------------
    def _to_primaries(self, msg: p4r.StreamMessageResponse) -> None:
        for c in self.arbiter.primaries(self.switch.device_id):
            c.send(msg)

    def _packet_in(self, payload: bytes, metadata: list[tuple[int, int]]) -> None:
        pkt = p4r.PacketIn(payload=payload)
        for mid, value in metadata:
            pkt.metadata.add(metadata_id=mid, value=encode_uint(value))
        self._to_primaries(p4r.StreamMessageResponse(packet=pkt))

    def _digest(self, digest_id: int, values: tuple[int, ...]) -> None:
        cfg = self.switch.config
        if cfg is not None:
            self.digests.add(cfg.state, digest_id, values)

    def tick(self) -> None:
        """Periodic work: digest timeouts and idle-timeout notifications."""
        cfg = self.switch.config
        if cfg is None:
            return
        self.digests.tick(cfg.state)
        self._idle_tick(cfg.state)

    def _idle_tick(self, state: RuntimeState) -> None:
        """Notify the primaries of entries gone idle, visiting a bounded slice of each table.

        Only entries with an idle timeout are visited (each table keeps them in a set), at
        most ``idle_budget`` per table per tick, round robin: a full pass over 65,536 entries
        takes 16 ticks (0.8 s at the default 50 ms tick) instead of one long scan per tick.
        The write lock is held so that no notification names an entry a Write has deleted,
        or inserted and then rolled back, by the time the notification is queued.
        """
        expired: list[p4r.TableEntry] = []
        with self._write_lock:
            now = time.monotonic_ns()
            for info in state.tables.values():
                table = info.table
                if not table.support_timeout or not table.timed_entries:
                    continue
                expired.extend(
                    p4r.TableEntry(
                        table_id=table.id,
                        match=encode_match(info, e.match),
                        priority=e.priority,
                        idle_timeout_ns=e.idle_timeout_ns,
                        controller_metadata=e.controller_metadata,
                        metadata=e.metadata,
                    )
                    for e in table.idle_sweep(now, self.idle_budget).expired
                )
            if expired:
                note = p4r.IdleTimeoutNotification(table_entry=expired, timestamp=time.time_ns())
                self._to_primaries(p4r.StreamMessageResponse(idle_timeout_notification=note))

    # -- helpers ------------------------------------------------------------------------------------------
    def _check_device(self, device_id: int) -> None:
        if device_id != self.switch.device_id:
            raise P4RuntimeError(
                NOT_FOUND,
                f"device id {device_id} is not served here (this is device {self.switch.device_id})",
            )

    def _check_primary(
        self, request: p4r.WriteRequest | p4r.SetForwardingPipelineConfigRequest
    ) -> None:
        eid = election_id_of(request)
        if not self.arbiter.knows_role(request.device_id, request.role):
            raise P4RuntimeError(NOT_FOUND, f"role {request.role!r} is unknown on this device")
        if not self.arbiter.is_primary(request.device_id, request.role, eid):
            raise P4RuntimeError(PERMISSION_DENIED, "not primary")

    def _checked_for_log(
        self, request: p4r.WriteRequest | p4r.SetForwardingPipelineConfigRequest, kind: str
    ) -> None:
        """The primary check of a request about to change state (write lock held), logged
        in the write log when there is one, accepted or refused."""
        try:
            self._check_primary(request)
        except P4RuntimeError as exc:
            self._log(request, kind, refused=f"{_STATUS[exc.code].name}: {exc.message}")
            raise
        if kind == "pipeline":
            self._log(request, kind)

    def _log(
        self,
        request: p4r.WriteRequest | p4r.SetForwardingPipelineConfigRequest,
        kind: str,
        *,
        failed: int = 0,
        refused: str = "",
    ) -> None:
        if self.write_log is None:
            return
        self.write_log.record(
            kind,
            request.device_id,
            request.role,
            election_id_of(request),
            accepted=not refused,
            updates=len(request.updates) if isinstance(request, p4r.WriteRequest) else 0,
            failed=failed,
            refused=refused,
        )

    # -- RPCs ---------------------------------------------------------------------------------------------
    def Capabilities(
        self, request: p4r.CapabilitiesRequest, context: grpc.ServicerContext
    ) -> p4r.CapabilitiesResponse:
        return p4r.CapabilitiesResponse(p4runtime_api_version=API_VERSION)

    def SetForwardingPipelineConfig(
        self, request: p4r.SetForwardingPipelineConfigRequest, context: grpc.ServicerContext
    ) -> p4r.SetForwardingPipelineConfigResponse:
        try:
            self._check_device(request.device_id)
            self._check_primary(request)
            self._set_config(request, context)
        except P4RuntimeError as exc:
            _abort(context, exc)
        return p4r.SetForwardingPipelineConfigResponse()

    def _set_config(
        self, request: p4r.SetForwardingPipelineConfigRequest, context: grpc.ServicerContext
    ) -> None:
        A = p4r.SetForwardingPipelineConfigRequest
        action = request.action
        cfg = request.config
        cookie = cfg.cookie.cookie if cfg.HasField("cookie") else None
        remaining = context.time_remaining()
        deadline = None if remaining is None else time.monotonic() + remaining

        def gone() -> bool:
            return not context.is_active()

        # Wait for the config lock only while the client still waits for the answer.
        while not self._config_lock.acquire(timeout=0.1):
            if gone() or (deadline is not None and time.monotonic() >= deadline):
                raise P4RuntimeError(CANCELLED, "the client went away while another config ran")
        try:
            if action == A.COMMIT:
                saved = self.switch.saved
                if saved is None:
                    raise P4RuntimeError(
                        NOT_FOUND, "COMMIT: no saved pipeline config (use VERIFY_AND_SAVE first)"
                    )
                with self._write_lock:
                    self._checked_for_log(request, "pipeline")
                    self._commit(saved)
                self.switch.saved = None
                return
            if action not in (
                A.VERIFY,
                A.VERIFY_AND_SAVE,
                A.VERIFY_AND_COMMIT,
                A.RECONCILE_AND_COMMIT,
            ):
                raise P4RuntimeError(
                    INVALID_ARGUMENT, "SetForwardingPipelineConfig: action is not set"
                )
            verified = verify_config(
                self.switch,
                cfg.p4info,
                cfg.p4_device_config,
                cookie,
                deadline=deadline,
                cancelled=gone,
            )
            if action == A.VERIFY:
                return
            if action == A.VERIFY_AND_SAVE:
                self.switch.saved = verified
                return
            with self._write_lock:
                # Checked again here: a primary that lost the role while its config was
                # compiled must not replace the new primary's state (fencing).
                self._checked_for_log(request, "pipeline")
                self._commit(verified, reconcile=action == A.RECONCILE_AND_COMMIT)
        finally:
            self._config_lock.release()

    def _commit(self, config: PipelineConfig, reconcile: bool = False) -> None:
        p4info = config.p4info
        struct_ids = {
            d.preamble.id
            for d in p4info.digests
            if d.type_spec.WhichOneof("type_spec") != "bitstring"
        }
        self.digests.reset()
        self.digests._struct = struct_ids
        self.switch.commit(config, reconcile=reconcile)

    def GetForwardingPipelineConfig(
        self, request: p4r.GetForwardingPipelineConfigRequest, context: grpc.ServicerContext
    ) -> p4r.GetForwardingPipelineConfigResponse:
        R = p4r.GetForwardingPipelineConfigRequest
        try:
            self._check_device(request.device_id)
        except P4RuntimeError as exc:
            _abort(context, exc)
        resp = p4r.GetForwardingPipelineConfigResponse()
        cfg = self.switch.config
        if cfg is None:
            return resp  # as PI: an empty config when none is set
        rt = request.response_type
        if rt not in (R.ALL, R.COOKIE_ONLY, R.P4INFO_AND_COOKIE, R.DEVICE_CONFIG_AND_COOKIE):
            _abort(context, P4RuntimeError(INVALID_ARGUMENT, f"unknown response_type {rt}"))
        if rt in (R.ALL, R.P4INFO_AND_COOKIE):
            resp.config.p4info.CopyFrom(cfg.p4info)
        if rt in (R.ALL, R.DEVICE_CONFIG_AND_COOKIE):
            resp.config.p4_device_config = cfg.device_config
        if cfg.cookie is not None:
            resp.config.cookie.cookie = cfg.cookie
        return resp

    def Write(self, request: p4r.WriteRequest, context: grpc.ServicerContext) -> p4r.WriteResponse:
        W = p4r.WriteRequest
        try:
            self._check_device(request.device_id)
            if not self.arbiter.knows_role(request.device_id, request.role):
                raise P4RuntimeError(NOT_FOUND, f"role {request.role!r} is unknown on this device")
            if request.atomicity not in (
                W.CONTINUE_ON_ERROR,
                W.ROLLBACK_ON_ERROR,
                W.DATAPLANE_ATOMIC,
            ):
                raise P4RuntimeError(INVALID_ARGUMENT, f"unknown atomicity {request.atomicity}")
        except P4RuntimeError as exc:
            _abort(context, exc)
        errors: list[P4RuntimeError | None]
        with self._write_lock:
            # Under the lock: a Write checked before a new primary arbitrated is never
            # applied after that primary's first Write (fencing; the write log's order).
            try:
                self._checked_for_log(request, "write")
                # After the primary check: a client that is not primary hears so, whether
                # or not a pipeline is set (PERMISSION_DENIED before FAILED_PRECONDITION).
                state = self.switch.state
            except P4RuntimeError as exc:
                _abort(context, exc)
            if request.atomicity == W.CONTINUE_ON_ERROR:
                errors = [self._apply(state, upd)[1] for upd in request.updates]
            elif request.atomicity == W.ROLLBACK_ON_ERROR:
                errors = self._apply_all_or_none(state, request.updates)
            else:
                with self.switch.quiesced():
                    errors = self._apply_all_or_none(state, request.updates)
            self._log(request, "write", failed=sum(e is not None for e in errors))
        if any(e is not None for e in errors):
            self._write_failure(context, errors)
        return p4r.WriteResponse()

    @staticmethod
    def _apply(state: RuntimeState, upd: p4r.Update) -> tuple[Undo | None, P4RuntimeError | None]:
        try:
            return apply_update(state, upd), None
        except P4RuntimeError as exc:
            return None, exc
        except Exception as exc:  # a bug must surface as an error on this update, not kill the RPC
            log.exception("update failed unexpectedly")
            return None, P4RuntimeError(INTERNAL, f"internal error: {exc}")

    def _apply_all_or_none(
        self, state: RuntimeState, updates: Sequence[p4r.Update]
    ) -> list[P4RuntimeError | None]:
        undos: list[Undo] = []
        for i, upd in enumerate(updates):
            undo, err = self._apply(state, upd)
            if undo is None:  # the update failed: err says why
                for u in reversed(undos):
                    u()
                errors: list[P4RuntimeError | None] = [
                    P4RuntimeError(ABORTED, "rolled back: another update of the batch failed")
                ] * len(updates)
                errors[i] = err
                return errors
            undos.append(undo)
        return [None] * len(updates)

    @staticmethod
    def _write_failure(context: grpc.ServicerContext, errors: list[P4RuntimeError | None]) -> None:
        """gRPC UNKNOWN with one p4.v1.Error per update, as PI and the spec lay it out.

        The trailer grows ~35 bytes per update (a 10,000-update batch: ~350 KB). gRPC's
        metadata limits (grpc.max_metadata_size, grpc.absolute_max_metadata_size: 8 and
        16 KiB by default) apply only to metadata a peer *receives*: the server sends any
        size, and a client must raise its own limits to take a large batch's details."""
        status = write_failure_status(errors)
        context.set_trailing_metadata((("grpc-status-details-bin", status.SerializeToString()),))
        context.abort(grpc.StatusCode.UNKNOWN, "Write failure.")

    def Read(
        self, request: p4r.ReadRequest, context: grpc.ServicerContext
    ) -> Iterator[p4r.ReadResponse]:
        try:
            self._check_device(request.device_id)
            state = self.switch.state
            # Every check a read entity needs happens before its first entity is produced, so
            # pulling the first one of each reports any error before a chunk is sent; the rest
            # is then encoded chunk by chunk while the client takes the previous ones.
            started: list[tuple[p4r.Entity, Iterator[p4r.Entity]]] = []
            for ent in request.entities:
                gen = read_entities(state, ent)
                first = next(gen, None)
                if first is not None:
                    started.append((first, gen))
        except P4RuntimeError as exc:
            _abort(context, exc)
        resp = p4r.ReadResponse()
        size = 0
        sent = False
        count = tables = 0
        try:
            for first, gen in started:
                for e in itertools.chain((first,), gen):
                    count += 1
                    tables += e.HasField("table_entry")
                    resp.entities.append(e)
                    size += e.ByteSize()
                    if size >= READ_CHUNK:
                        yield resp
                        sent = True
                        resp = p4r.ReadResponse()
                        size = 0
        except P4RuntimeError as exc:
            # not expected once started; still an error status, not a crash
            _abort(context, exc)
        if resp.entities or not sent:
            yield resp
        if self.write_log is not None:
            self.write_log.record(
                "read",
                request.device_id,
                request.role,
                None,
                accepted=True,
                entities=count,
                table_entries=tables,
            )

    # -- the stream channel ------------------------------------------------------------------------------------
    def StreamChannel(
        self,
        request_iterator: Iterator[p4r.StreamMessageRequest],
        context: grpc.ServicerContext,
    ) -> Iterator[p4r.StreamMessageResponse]:
        # None ends the stream (the reader is done, or the RPC was cancelled)
        out: queue.Queue[p4r.StreamMessageResponse | None] = queue.Queue(maxsize=10_000)
        state = _StreamState()

        def send(msg: p4r.StreamMessageResponse) -> None:
            try:
                out.put_nowait(msg)
            except queue.Full:
                log.warning("stream send queue full: message dropped")

        def reader() -> None:
            try:
                for req in request_iterator:
                    err = self._stream_request(req, state, send)
                    if err is not None:
                        state.error = err
                        break
            except grpc.RpcError:
                pass
            except Exception as exc:  # a malformed stream must end the stream, not the server
                log.exception("stream reader failed")
                state.error = P4RuntimeError(INTERNAL, str(exc))
            finally:
                out.put(None)

        t = threading.Thread(target=reader, name="p4sim-stream", daemon=True)
        t.start()
        context.add_callback(lambda: out.put(None))
        try:
            while True:
                msg = out.get()
                if msg is None:
                    break
                yield msg
        finally:
            if state.ctl is not None:
                self.arbiter.leave(state.ctl)
        if state.error is not None:
            _abort(context, state.error)

    def _stream_request(
        self, req: p4r.StreamMessageRequest, st: _StreamState, send: Send
    ) -> P4RuntimeError | None:
        kind = req.WhichOneof("update")
        ctl = st.ctl
        if kind == "arbitration":
            arb = req.arbitration
            eid = election_id_of(arb)
            role = arb.role.name if arb.HasField("role") else ""
            try:
                if ctl is None:
                    if arb.device_id != self.switch.device_id:
                        return P4RuntimeError(
                            NOT_FOUND, f"device id {arb.device_id} is not served here"
                        )
                    if arb.HasField("role") and arb.role.HasField("config"):
                        return P4RuntimeError(
                            UNIMPLEMENTED, "role.config is not supported by p4sim"
                        )
                    ctl = Controller(arb.device_id, role, eid, send)
                    self.arbiter.join(ctl)
                    st.ctl = ctl
                else:
                    if arb.device_id != ctl.device_id:
                        return P4RuntimeError(
                            FAILED_PRECONDITION, "device id differs from this stream's"
                        )
                    if role != ctl.role:
                        return P4RuntimeError(
                            FAILED_PRECONDITION,
                            "role differs from this stream's (open a new stream)",
                        )
                    self.arbiter.update(ctl, eid)
            except P4RuntimeError as exc:
                return exc
            return None
        if ctl is None:
            return P4RuntimeError(FAILED_PRECONDITION, "send a MasterArbitrationUpdate first")
        is_primary = self.arbiter.is_primary(ctl.device_id, ctl.role, ctl.election_id)
        if kind == "packet":
            try:
                if not is_primary:
                    raise P4RuntimeError(PERMISSION_DENIED, "PacketOut from a backup controller")
                self._packet_out(req.packet)
            except P4RuntimeError as exc:
                send(
                    p4r.StreamMessageResponse(
                        error=p4r.StreamError(
                            canonical_code=exc.code,
                            message=exc.message,
                            space=ERROR_SPACE,
                            packet_out=p4r.PacketOutError(packet_out=req.packet),
                        )
                    )
                )
        elif kind == "digest_ack" and is_primary:
            self.digests.ack(req.digest_ack.digest_id, req.digest_ack.list_id)
        return None

    def _packet_out(self, pkt: p4r.PacketOut) -> None:
        state = self.switch.state
        fields = {f.id: f for f in state.packet_out_fields}
        values: dict[int, int] = {}
        for md in pkt.metadata:
            f = fields.get(md.metadata_id)
            if f is None:
                raise P4RuntimeError(
                    INVALID_ARGUMENT, f"PacketOut: unknown metadata id {md.metadata_id}"
                )
            try:
                values[f.id] = decode_uint(md.value, f.bitwidth, f"PacketOut metadata {f.name}")
            except P4RuntimeError as exc:  # a bad PacketOut is a bad argument (spec 16.1)
                raise P4RuntimeError(INVALID_ARGUMENT, exc.message) from None
        self.switch.packet_out(pkt.payload, values)


class P4RuntimeServer:
    """A running gRPC server for one switch; ``port`` is the bound TCP port."""

    def __init__(
        self,
        switch: Switch,
        address: str = "127.0.0.1:9559",
        *,
        max_workers: int = 32,
        tick_interval: float = 0.05,
        tls: ServerTls | None = None,
        write_log: WriteLog | None = None,
    ) -> None:
        self.switch = switch
        # With TLS on, only clients that arbitrated may write (docs/p4sim-server.md).
        self.service = P4RuntimeService(
            switch, require_arbitration=tls is not None, write_log=write_log
        )
        self._server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="p4sim-grpc"),
            options=[
                ("grpc.max_receive_message_length", MAX_RECEIVE),
                ("grpc.max_send_message_length", MAX_RECEIVE),
                ("grpc.so_reuseport", 0),
            ],
        )
        p4r_grpc.add_P4RuntimeServicer_to_server(self.service, self._server)
        try:
            if tls is None:
                self.port = self._server.add_insecure_port(address)
            else:
                self.port = self._server.add_secure_port(address, tls.credentials())
        except RuntimeError as exc:
            raise OSError(f"cannot listen on {address}: {exc}") from None
        if self.port == 0:
            raise OSError(f"cannot listen on {address} (address in use or invalid)")
        self.address = address.rsplit(":", 1)[0] + f":{self.port}"
        self._stop = threading.Event()
        self._tick_interval = tick_interval
        self._ticker = threading.Thread(target=self._tick_loop, name="p4sim-tick", daemon=True)

    def start(self) -> P4RuntimeServer:
        self._server.start()
        self._ticker.start()
        return self

    def _tick_loop(self) -> None:
        while not self._stop.wait(self._tick_interval):
            try:
                self.service.tick()
            except Exception:
                log.exception("periodic work failed")

    def stop(self, grace: float = 0.5) -> None:
        self._stop.set()
        self._server.stop(grace).wait()
        if self._ticker.is_alive():
            self._ticker.join(timeout=2)
        if self.service.write_log is not None:
            self.service.write_log.close()
