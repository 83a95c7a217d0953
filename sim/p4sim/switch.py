"""The switch: pipeline configs and the data-plane loop.

The engine (``p4sim.engine``) plugs in through :class:`~p4sim.pipeline_api.PipelineFactory`
(the contract both sides import; this module re-exports its names); the P4Runtime server
(``p4sim.server``) drives :class:`Switch` to set pipelines and subscribes to its events
(packet-ins, digests).  One data-plane thread, apart from the gRPC thread pool, processes
frames one at a time with no lock held: it reads raw-socket ports itself (a
:class:`~p4sim.ports.PolledPortBackend`: no per-frame handoff between threads, which costs
more than the packet) and takes everything else (PacketOuts, frames from other backends,
pause and stop requests) from a control queue whose arrivals it is woken for by a pipe.
"""

from __future__ import annotations

import contextlib
import enum
import hashlib
import logging
import os
import select
import threading
import weakref
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from p4sim.device_config import (
    DeviceConfig,
    DeviceConfigError,
    p4info_digest,
    parse_device_config,
)
from p4sim.pipeline_api import (
    DEFAULT_DROP_PORT,
    CompiledProgram,
    DropPipelineFactory,
    Pipeline,
    PipelineFactory,
    Result,
)
from p4sim.ports import PcapWriter, PolledPortBackend, PortBackend
from p4sim.state import PacketMetadataField, RuntimeState, StateBuildError, build_state
from p4sim.status import FAILED_PRECONDITION, INTERNAL, INVALID_ARGUMENT, P4RuntimeError

if TYPE_CHECKING:
    from finsy.proto import p4i

log = logging.getLogger("p4sim.switch")

CONTROL_QUEUE_LIMIT = 100_000
READ_BATCH = 64  # frames read from one port before the others and the control queue get a turn


# -- the engine ---------------------------------------------------------------------------------------
def default_pipeline_factory() -> PipelineFactory:
    """The engine's factory (``p4sim.engine.pipeline_factory()``) if the engine is installed."""
    try:
        from p4sim import engine

        return engine.pipeline_factory()
    except (ImportError, AttributeError):
        log.info("p4sim.engine is not available: pipelines will drop every packet")
        return DropPipelineFactory()


Compiler = Callable[[str, str], CompiledProgram]


def default_compiler(source: str, filename: str) -> CompiledProgram:
    from p4sim.compiler import compile_source  # the front end; imported lazily

    return compile_source(source, filename=filename)


# -- pipeline configs ----------------------------------------------------------------------------------
@dataclass
class PipelineConfig:
    """A verified pipeline: the P4Runtime view (p4info, cookie, device config) and the live parts."""

    p4info: p4i.P4Info
    device_config: bytes
    cookie: int | None
    program: CompiledProgram
    state: RuntimeState
    pipeline: Pipeline


def _build_error(exc: Exception) -> P4RuntimeError:
    """The status for a pipeline the factory could not build.

    The engine's EngineError means a program it cannot run (its message starts with
    file:line:col): the client sent it, so INVALID_ARGUMENT.  Anything else is a bug in the
    factory: INTERNAL, logged with its traceback, and the running pipeline stays.
    """
    from p4sim.engine.errors import EngineError  # lazily: it loads the whole engine package

    if isinstance(exc, EngineError):
        return P4RuntimeError(INVALID_ARGUMENT, f"p4_device_config cannot run on p4sim: {exc}")
    log.error("building the pipeline failed", exc_info=exc)
    return P4RuntimeError(INTERNAL, f"building the pipeline failed: {type(exc).__name__}: {exc}")


def _describe_p4info_difference(a: p4i.P4Info, b: p4i.P4Info) -> str:
    """Name the first entity that differs between two P4Infos (for a useful error message)."""
    for kind in (
        "tables",
        "actions",
        "counters",
        "direct_counters",
        "meters",
        "direct_meters",
        "registers",
        "digests",
        "controller_packet_metadata",
    ):
        ea = {e.preamble.name: e for e in getattr(a, kind)}
        eb = {e.preamble.name: e for e in getattr(b, kind)}
        for name in sorted(set(ea) | set(eb)):
            if name not in ea:
                return f"{kind[:-1]} {name} is only in the P4Info sent"
            if name not in eb:
                return f"{kind[:-1]} {name} is missing from the P4Info sent"
            if ea[name] != eb[name]:
                return f"{kind[:-1]} {name} differs"
    return "the messages differ"


class Switch:
    """One p4sim device: pipeline configs, ports, the data-plane thread and its events."""

    def __init__(
        self,
        *,
        device_id: int = 1,
        cpu_port: int | None = None,
        drop_port: int = DEFAULT_DROP_PORT,
        ports: PortBackend | None = None,
        compiler: Compiler | None = None,
        pipeline_factory: PipelineFactory | None = None,
        pcap: PcapWriter | None = None,
    ) -> None:
        self.device_id = device_id
        self.cpu_port = cpu_port
        self.drop_port = drop_port
        self.ports = ports
        self.compiler = compiler or default_compiler
        self.pipeline_factory = pipeline_factory or default_pipeline_factory()
        self.pcap = pcap
        self.config: PipelineConfig | None = None
        self.saved: PipelineConfig | None = None
        self._compiled: OrderedDict[str, CompiledProgram] = OrderedDict()
        self._config_lock = threading.Lock()
        # (port, frame) to process, _PAUSE to hold between two packets, None to stop
        self._control: deque[tuple[int, bytes] | _Signal | None] = deque()
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        weakref.finalize(self, _close_fds, self._wake_r, self._wake_w)
        self._thread: threading.Thread | None = None
        self._pause_lock = threading.Lock()
        self._paused = threading.Event()
        self._resume = threading.Event()
        # events, set by the P4Runtime server
        self.on_packet_in: Callable[[bytes, list[tuple[int, int]]], None] | None = None
        self.on_digest: Callable[[int, tuple[int, ...]], None] | None = None
        self.stats = {"received": 0, "sent": 0, "dropped": 0, "packet_in": 0, "errors": 0}

    # -- pipeline configs ------------------------------------------------------------------------
    def compile_config(self, device_config: bytes) -> tuple[DeviceConfig, CompiledProgram]:
        """Compile a device config's source with the front end, cached by content hash."""
        try:
            cfg = parse_device_config(device_config)
        except DeviceConfigError as exc:
            raise P4RuntimeError(INVALID_ARGUMENT, str(exc)) from None
        key = hashlib.sha256(device_config).hexdigest()
        program = self._compiled.get(key)
        if program is None:
            try:
                program = self.compiler(cfg.source, cfg.filename)
            except Exception as exc:  # noqa: BLE001  # CompileError, or anything the front end did not foresee
                raise P4RuntimeError(
                    INVALID_ARGUMENT, f"p4_device_config does not compile: {exc}"
                ) from None
            self._compiled[key] = program
            while len(self._compiled) > 8:
                self._compiled.popitem(last=False)
        else:
            self._compiled.move_to_end(key)
        return cfg, program

    def verify(
        self, p4info: p4i.P4Info, device_config: bytes, cookie: int | None
    ) -> PipelineConfig:
        """Check a config fully (compile, compare P4Infos, build state and pipeline); apply nothing."""
        if not p4info.ByteSize():
            raise P4RuntimeError(INVALID_ARGUMENT, "ForwardingPipelineConfig has no p4info")
        cfg, program = self.compile_config(device_config)
        if cfg.p4info_sha256 != p4info_digest(p4info):
            compiled = program.p4info()
            if compiled != p4info:
                raise P4RuntimeError(
                    INVALID_ARGUMENT,
                    "the P4Info does not belong to the program in p4_device_config: "
                    + _describe_p4info_difference(compiled, p4info),
                )
        try:
            state = build_state(p4info)
        except StateBuildError as exc:
            raise P4RuntimeError(INVALID_ARGUMENT, f"p4info: {exc}") from None
        try:
            pipeline = self.pipeline_factory.build(program, state)
        except Exception as exc:  # noqa: BLE001  # _build_error sorts and logs it
            raise _build_error(exc) from None
        return PipelineConfig(p4info, device_config, cookie, program, state, pipeline)

    def commit(self, config: PipelineConfig, *, reconcile: bool = False) -> None:
        """Make ``config`` the running pipeline; with ``reconcile``, carry over what still fits."""
        with self._config_lock:
            old = self.config
            if reconcile and old is not None:
                _carry_over(old, config)
            self.config = config

    def set_pipeline(
        self, p4info: p4i.P4Info, device_config: bytes, cookie: int | None = None
    ) -> PipelineConfig:
        config = self.verify(p4info, device_config, cookie)
        self.commit(config)
        return config

    @property
    def state(self) -> RuntimeState:
        cfg = self.config
        if cfg is None:
            raise P4RuntimeError(
                FAILED_PRECONDITION, "no forwarding pipeline config set for this device"
            )
        return cfg.state

    # -- data plane -----------------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="p4sim-dataplane", daemon=True)
        self._thread.start()
        if self.ports is not None and not isinstance(self.ports, PolledPortBackend):
            self.ports.start(self.receive)

    def stop(self) -> None:
        if self._thread is not None:
            self._enqueue(None)
            self._thread.join(timeout=5)
            self._thread = None
        if self.ports is not None:
            self.ports.close()
        if self.pcap is not None:
            self.pcap.close()

    def _enqueue(self, item: tuple[int, bytes] | _Signal | None) -> None:
        self._control.append(item)
        try:  # noqa: SIM105  # per packet: try/except costs less than contextlib.suppress
            os.write(self._wake_w, b"\0")
        except (BlockingIOError, OSError):
            pass  # the pipe is full: a wake-up is pending anyway

    def receive(self, port: int, frame: bytes) -> None:
        """A frame arrived on ``port`` (called by port backends, from their threads)."""
        if self.pcap is not None:
            self.pcap.write(port, "in", frame)
        if len(self._control) >= CONTROL_QUEUE_LIMIT:
            self.stats["dropped"] += 1
            return
        self._enqueue((port, frame))

    def packet_out(self, payload: bytes, metadata: dict[int, int]) -> None:
        """Inject a PacketOut at the CPU port, its ``packet_out`` header in front (as bmv2 does)."""
        if self.cpu_port is None:
            raise P4RuntimeError(
                FAILED_PRECONDITION, "no CPU port configured (--cpu-port): PacketOut dropped"
            )
        state = self.state
        header = pack_header(state.packet_out_fields, metadata)
        self._enqueue((self.cpu_port, header + payload))

    @contextmanager
    def quiesced(self) -> Iterator[None]:
        """Hold the data plane between two packets (for DATAPLANE_ATOMIC writes)."""
        with self._pause_lock:
            if self._thread is None or not self._thread.is_alive():
                yield
                return
            self._paused.clear()
            self._resume.clear()
            self._enqueue(_PAUSE)
            self._paused.wait(timeout=5)
            try:
                yield
            finally:
                self._resume.set()

    def _run(self) -> None:
        poller = select.poll()
        poller.register(self._wake_r, select.POLLIN)
        polled = self.ports if isinstance(self.ports, PolledPortBackend) else None
        fd_ports: dict[int, int]
        read_frames: Callable[[int, int], list[bytes]]
        if polled is not None:
            fd_ports = polled.fileno_ports()
            read_frames = polled.read_frames
        else:
            fd_ports = {}
            read_frames = _no_frames
        for fd in fd_ports:
            poller.register(fd, select.POLLIN)
        wake_r = self._wake_r
        frame_in = self._frame_in
        while True:
            for fd, _ in poller.poll():
                if fd == wake_r:
                    if not self._run_control():
                        return
                else:
                    port = fd_ports[fd]
                    for frame in read_frames(port, READ_BATCH):
                        frame_in(port, frame)

    def _run_control(self) -> bool:
        """Handle everything queued; False once asked to stop."""
        try:
            while os.read(self._wake_r, 4096):
                pass
        except BlockingIOError:
            pass
        control = self._control
        while control:
            item = control.popleft()
            if item is None:
                return False
            if item is _PAUSE:
                self._paused.set()
                self._resume.wait(timeout=30)
                continue
            self._process(*item)
        return True

    def _frame_in(self, port: int, frame: bytes) -> None:
        """A frame read by the data-plane thread itself from a polled port."""
        if self.pcap is not None:
            self.pcap.write(port, "in", frame)
        self._process(port, frame)

    def _process(self, port: int, frame: bytes) -> None:
        stats = self.stats
        stats["received"] += 1
        cfg = self.config
        if cfg is None:
            stats["dropped"] += 1
            return
        try:
            result = cfg.pipeline.process(port, frame)
        except Exception:  # a bug in a pipeline must not stop the switch
            stats["errors"] += 1
            log.exception("pipeline raised on a frame from port %d", port)
            return
        self._deliver(cfg, result)

    def _deliver(self, cfg: PipelineConfig, result: Result) -> None:
        for out_port, frame in result.outputs:
            if out_port == self.cpu_port:
                fields = cfg.state.packet_in_fields
                values, payload = unpack_header(fields, frame)
                if values is None:
                    self.stats["dropped"] += 1
                    continue
                self._packet_in(payload, list(zip((f.id for f in fields), values)))
            elif out_port == self.drop_port:
                self.stats["dropped"] += 1
            else:
                self.stats["sent"] += 1
                if self.pcap is not None:
                    self.pcap.write(out_port, "out", frame)
                if self.ports is not None:
                    self.ports.send(out_port, frame)
        for payload, md in result.packet_ins:
            ids = {f.name: f.id for f in cfg.state.packet_in_fields}
            self._packet_in(payload, [(ids[k], v) for k, v in md.items() if k in ids])
        if result.digests and self.on_digest is not None:
            for digest_id, digest_values in result.digests:
                self.on_digest(digest_id, digest_values)

    def _packet_in(self, payload: bytes, metadata: list[tuple[int, int]]) -> None:
        self.stats["packet_in"] += 1
        if self.on_packet_in is not None:
            self.on_packet_in(payload, metadata)


class _Signal(enum.Enum):
    """A control-queue item that is not a frame."""

    PAUSE = enum.auto()


_PAUSE: Final = _Signal.PAUSE


def _no_frames(port: int, limit: int) -> list[bytes]:
    """The frames waiting on a port when no backend is polled: none."""
    return []


def _close_fds(*fds: int) -> None:
    for fd in fds:
        with contextlib.suppress(OSError):
            os.close(fd)


def pack_header(fields: Sequence[PacketMetadataField], values: dict[int, int]) -> bytes:
    """Serialise controller-header fields MSB first, padded with zero bits to a whole byte."""
    acc = 0
    bits = 0
    for f in fields:
        acc = (acc << f.bitwidth) | (values.get(f.id, 0) & ((1 << f.bitwidth) - 1))
        bits += f.bitwidth
    pad = -bits % 8
    return (acc << pad).to_bytes((bits + pad) // 8, "big") if bits else b""


def unpack_header(
    fields: Sequence[PacketMetadataField], frame: bytes
) -> tuple[list[int] | None, bytes]:
    """Split a controller header off the front of ``frame``; (None, frame) when it is too short."""
    bits = sum(f.bitwidth for f in fields)
    nbytes = (bits + 7) // 8
    if len(frame) < nbytes:
        return None, frame
    acc = int.from_bytes(frame[:nbytes], "big") >> (nbytes * 8 - bits)
    values: list[int] = []
    shift = bits
    for f in fields:
        shift -= f.bitwidth
        values.append((acc >> shift) & ((1 << f.bitwidth) - 1))
    return values, frame[nbytes:]


def _resized(
    old_def: p4i.Table | p4i.Counter | p4i.Meter | p4i.Register,
    new_def: p4i.Table | p4i.Counter | p4i.Meter | p4i.Register,
) -> bool:
    """Whether two P4Info definitions are the same but for their `size`."""
    if old_def.size == new_def.size:
        return old_def == new_def
    copy = type(old_def).FromString(old_def.SerializeToString())
    copy.size = new_def.size
    return copy == new_def


def _carry_over(old: PipelineConfig, new: PipelineConfig) -> None:
    """RECONCILE_AND_COMMIT: keep entries of tables, externs and PRE state whose definition
    did not change, or changed only in size (a table whose entries still fit; the first
    cells of a counter, register or meter array)."""
    old_info = {t.preamble.id: t for t in old.p4info.tables}
    old_actions = {a.preamble.id: a for a in old.p4info.actions}
    new_actions = {a.preamble.id: a for a in new.p4info.actions}
    for t in new.p4info.tables:
        prev = old_info.get(t.preamble.id)
        if prev is None or not _resized(prev, t):
            continue
        if any(old_actions.get(r.id) != new_actions.get(r.id) for r in t.action_refs):
            continue
        src = old.state.tables[t.preamble.id].table
        dst = new.state.tables[t.preamble.id].table
        kept = [e for e in src.entries() if not e.is_const]
        if t.size and len(kept) > t.size:
            continue  # shrunk below its entries: the reconcile that follows decides
        for entry in kept:
            if dst.get(entry.match, entry.priority) is None:
                dst.insert(entry)
        dst.default_result = src.default_result
    # Copy cell contents into the new objects: the new pipeline is already bound to them.
    prev_counters = {e.preamble.id: e for e in old.p4info.counters}
    for e in new.p4info.counters:
        prev_c = prev_counters.get(e.preamble.id)
        if prev_c is not None and _resized(prev_c, e):
            src_c, dst_c = old.state.counters[e.preamble.id], new.state.counters[e.preamble.id]
            n = min(len(src_c.packets), len(dst_c.packets))
            dst_c.packets[:n], dst_c.bytes[:n] = src_c.packets[:n], src_c.bytes[:n]
    prev_registers = {r.preamble.id: r for r in old.p4info.registers}
    for r in new.p4info.registers:
        prev_r = prev_registers.get(r.preamble.id)
        if prev_r is not None and _resized(prev_r, r):
            old_cells = old.state.registers[r.preamble.id].cells
            new_cells = new.state.registers[r.preamble.id].cells
            n = min(len(old_cells), len(new_cells))
            new_cells[:n] = old_cells[:n]
    new.state.pre.groups.update(old.state.pre.groups)
    new.state.pre.sessions.update(old.state.pre.sessions)
    # Meter configurations (P4Runtime MeterEntry) and digest configurations (DigestEntry)
    # are forwarding state too: a punt meter or learning digest must not lapse meanwhile.
    prev_meters = {m.preamble.id: m for m in old.p4info.meters}
    for m in new.p4info.meters:
        prev_m = prev_meters.get(m.preamble.id)
        if prev_m is not None and _resized(prev_m, m):
            src_cells = old.state.meters[m.preamble.id].cells
            for src_cell, dst_cell in zip(src_cells, new.state.meters[m.preamble.id].cells):
                if src_cell.config is not None:
                    dst_cell.configure(src_cell.config)
    prev_digests = {d.preamble.id: d for d in old.p4info.digests}
    for d in new.p4info.digests:
        if prev_digests.get(d.preamble.id) == d:
            new.state.digests[d.preamble.id].config = old.state.digests[d.preamble.id].config
