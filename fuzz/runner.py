"""One target under test: its veths, its switch process, its overlay, its outputs per batch.

A runner creates six veth pairs (switch ports 1-4 access, 5-6 network) in the fuzzer's
LabNetwork, starts the target there (``lab.targets.start_switch``: p4sim or
simple_switch_grpc, ``--no-p4``, gRPC on loopback), installs the overlay with ``nve apply``
(which pushes the pipeline first), then opens a primary P4Runtime connection
(``nve_ptf.base.ControlPlane``) for packet-ins, packet-outs, digests and counters.

``run_batch`` sends a batch's frames in bursts, then the data sentinels, reads every port
until all sentinels are out, then sends the punt sentinel and reads the stream until its
packet-in arrives (see :mod:`fuzz.sentinel`), and reads the counters.

Pacing. simple_switch's ingress thread hands each copy to the egress queue of its port,
which holds 64 packets and drops the copy when full (a tail drop, not settable from
simple_switch_grpc's command line); its ingress is faster than an egress thread, so a
burst of floods loses copies that p4sim, which never drops, sends. Frames therefore go in
bursts of at most ``QUEUE_BUDGET / (copies per port of the largest flood group + 1)``,
each followed by a marker (:func:`fuzz.sentinel.markers`) that leaves by every port; the
next burst goes once every marker copy is out. Both targets get the same bursts and
markers, so their counters stay comparable.
"""

from __future__ import annotations

import contextlib
import select
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

from finsy.proto import p4r

from fuzz import sentinel
from fuzz.compare import BatchOutput, CounterCells, Digest, PacketIn, counter_delta, sort_frames
from fuzz.frames import CPU_PORT, split_packet_out
from fuzz.overlay import ALL_PORTS, World
from lab.netns import LabNetwork
from lab.targets import PipelineFiles, RunningSwitch, start_switch
from nve_ptf.base import ControlPlane
from p4sim.ports import (
    ETH_P_ALL,
    PACKET_IGNORE_OUTGOING,
    PACKET_OUTGOING,
    SO_RCVBUFFORCE,
    SO_SNDBUFFORCE,
    SOL_PACKET,
    enable_vlan_auxdata,
    receive_frame,
    set_buffer,
)

# Of simple_switch's 64 packets per egress queue: a burst is sized so that even if every
# frame of it flooded through the group with the most copies per port, no queue would
# hold more than this (see "Pacing" above).
QUEUE_BUDGET = 48
VETH_MTU = 9000  # room for every frame the generator makes, encapsulated
BUFFER_BYTES = 64 << 20


class RunnerError(RuntimeError):
    """A target could not be started or programmed; the message says which and why."""


class TestPort:
    """The test end of one veth: raw frames out and in, 802.1Q tags put back on receive."""

    __test__ = False

    def __init__(self, port: int, ifname: str) -> None:
        self.port = port
        # Protocol 0 until bound: opened for ETH_P_ALL, the socket would queue frames from
        # every interface of the machine until bind().
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
        with contextlib.suppress(OSError):  # else filtered by pkttype in read_all
            self.sock.setsockopt(SOL_PACKET, PACKET_IGNORE_OUTGOING, 1)
        set_buffer(self.sock, SO_RCVBUFFORCE, socket.SO_RCVBUF, BUFFER_BYTES)
        set_buffer(self.sock, SO_SNDBUFFORCE, socket.SO_SNDBUF, 8 << 20)
        enable_vlan_auxdata(self.sock)
        self.sock.bind((ifname, ETH_P_ALL))

    def fileno(self) -> int:
        return self.sock.fileno()

    def send(self, frame: bytes) -> None:
        self.sock.send(frame)

    def read_all(self) -> list[bytes]:
        out: list[bytes] = []
        while True:
            try:
                frame, pkttype = receive_frame(self.sock, socket.MSG_DONTWAIT)
            except BlockingIOError:
                return out
            if pkttype != PACKET_OUTGOING:
                out.append(frame)

    def close(self) -> None:
        self.sock.close()


def _int(data: bytes) -> int:
    return int.from_bytes(data, "big")


def _replica_port(replica: p4r.Replica) -> int:
    """A replica's port: bmv2 reads it back as written (``egress_port``), p4sim as
    ``port`` bytes (docs/p4sim-server.md, replica read-back)."""
    if replica.WhichOneof("port_kind") == "port":
        return _int(replica.port)
    return int(replica.egress_port)


class TargetRunner:
    """A target (``p4sim`` or ``bmv2``) running the overlay, fed batch by batch."""

    def __init__(
        self, target: str, pipeline: PipelineFiles, net: LabNetwork, work: Path, world: World
    ) -> None:
        self.target = target
        self.pipeline = pipeline
        self.net = net
        self.work = work
        self.world = world
        self.switch: RunningSwitch | None = None
        self.cp: ControlPlane | None = None
        self.ports: dict[int, TestPort] = {}
        self.last_counters: CounterCells = {}
        self.digests_seen: dict[Digest, int] = {}
        self.expected = sentinel.expected_data_sentinels()
        self.burst = 1

    # -- setting up ------------------------------------------------------------------------
    def start(self) -> None:
        pairs = [self.net.veth_pair(p, mtu=VETH_MTU) for p in ALL_PORTS]
        self.switch = start_switch(self.target, pairs, self.pipeline, self.work / "logs")
        overlay = self.work / f"overlay-{self.target}.yaml"
        overlay.write_text(
            self.world.to_yaml(
                self.switch.grpc_addr,
                str(self.pipeline.p4info),
                str(self.pipeline.device_config),
            )
        )
        nve = str(Path(sys.executable).with_name("nve"))
        applied = subprocess.run(
            [nve, "apply", str(overlay)], check=False, capture_output=True, text=True
        )
        if applied.returncode != 0:
            raise RunnerError(
                f"{self.target}: nve apply failed:\n{applied.stderr or applied.stdout}"
            )
        self.cp = ControlPlane(self.switch)
        self.ports = {p.port: TestPort(p.port, p.test_if) for p in pairs}
        self.last_counters = self.read_counters()
        self.burst = max(1, QUEUE_BUDGET // (self.max_copies_per_port() + 1))

    @property
    def control(self) -> ControlPlane:
        if self.cp is None:
            raise RunnerError(f"{self.target}: not started")
        return self.cp

    def close(self) -> None:
        for port in self.ports.values():
            port.close()
        self.ports = {}
        if self.cp is not None:
            try:
                self.cp.close()
            except Exception as exc:  # noqa: BLE001  # closing: report, carry on
                print(f"  {self.target}: closing the P4Runtime connection: {exc}", file=sys.stderr)
            self.cp = None
        if self.switch is not None:
            self.switch.stop()

    def alive(self) -> bool:
        return self.switch is not None and self.switch.proc.poll() is None

    # -- reading state -------------------------------------------------------------------
    def read_counters(self) -> CounterCells:
        cp = self.control
        ids = {c.id: c.name for c in cp.index.counters()}
        cells: CounterCells = {}
        request = [p4r.Entity(counter_entry=p4r.CounterEntry(counter_id=cid)) for cid in ids]
        for ent in cp.read(request):
            ce = ent.counter_entry
            if ce.data.packet_count or ce.data.byte_count:
                cells[(ids[ce.counter_id], ce.index.index)] = (
                    ce.data.packet_count,
                    ce.data.byte_count,
                )
        return cells

    def max_copies_per_port(self) -> int:
        """The most copies one multicast group sends out of one port (its egress queue)."""
        request = p4r.Entity(
            packet_replication_engine_entry=p4r.PacketReplicationEngineEntry(
                multicast_group_entry=p4r.MulticastGroupEntry()
            )
        )
        worst = 1
        for ent in self.control.read([request]):
            group = ent.packet_replication_engine_entry.multicast_group_entry
            per_port = Counter(_replica_port(r) for r in group.replicas)
            worst = max(worst, *per_port.values())
        return worst

    def _packet_in(self, msg: p4r.StreamMessageResponse) -> PacketIn:
        names = {m.id: m.name for m in self.control.index.packet_metadata("packet_in").values()}
        meta = tuple(
            sorted(
                (names.get(m.metadata_id, str(m.metadata_id)), _int(m.value))
                for m in msg.packet.metadata
            )
        )
        return meta, bytes(msg.packet.payload)

    def _digest(self, msg: p4r.StreamMessageResponse, batch: int, out: BatchOutput) -> None:
        d = msg.digest
        self.control.digest_ack(d.digest_id, d.list_id)
        for data in d.data:
            members = tuple(_int(m.bitstring) for m in data.struct.members)
            out.digests.append(members)
            self.digests_seen.setdefault(members, batch)

    def _handle(self, msg: p4r.StreamMessageResponse, batch: int, out: BatchOutput) -> bool:
        """File one stream message; True when it is this batch's punt sentinel."""
        kind = msg.WhichOneof("update")
        if kind == "packet":
            pin = self._packet_in(msg)
            tag = sentinel.parse(pin[1])
            if tag is None:
                out.packet_ins[pin] += 1
            elif tag.batch == batch and tag.kind == sentinel.KIND_PUNT:
                return True
            else:
                out.problems.append(f"packet-in: a sentinel of batch {tag.batch} (late)")
        elif kind == "digest":
            self._digest(msg, batch, out)
        elif kind == "error":
            out.problems.append(f"stream error: {msg.error.canonical_code} {msg.error.message}")
        # idle-timeout notifications cannot happen: no entry has an idle timeout
        return False

    # -- one batch -----------------------------------------------------------------------
    def _send(self, port: int, data: bytes) -> None:
        """Into a data port, or from the controller (a packet-out) for the CPU port."""
        if port == CPU_PORT:
            egress, payload = split_packet_out(data)
            self.control.packet_out(payload, egress)
        else:
            self.ports[port].send(data)

    def _collect(
        self,
        received: list[tuple[int, bytes]],
        want: dict[int, int],
        match: Callable[[sentinel.Tag], bool],
        timeout: float,
        out: BatchOutput,
        what: str,
    ) -> None:
        """Read every port into ``received`` until ``want[port]`` frames that ``match``
        have come out of each port."""
        seen = dict.fromkeys(want, 0)
        by_fd = {p.fileno(): p for p in self.ports.values()}
        deadline = time.monotonic() + timeout
        while any(seen[p] < n for p, n in want.items()):
            left = deadline - time.monotonic()
            if left <= 0 or not self.alive():
                missing = {p: n - seen[p] for p, n in want.items() if seen[p] < n}
                why = "timed out" if self.alive() else "switch exited"
                out.problems.append(f"{what} missing ({why}): {missing}")
                return
            ready, _, _ = select.select(list(by_fd), [], [], min(left, 0.5))
            for fd in ready:
                port = by_fd[fd]
                for frame in port.read_all():
                    received.append((port.port, frame))
                    tag = sentinel.parse(frame)
                    if tag is not None and match(tag) and port.port in seen:
                        seen[port.port] += 1

    def run_batch(
        self,
        batch: int,
        frames: Sequence[tuple[int, bytes]],
        timeout: float = 60.0,
        counters: bool = True,
    ) -> BatchOutput:
        """Send ``frames`` (port, bytes), paced, and collect everything they caused."""
        out = BatchOutput(batch)
        received: list[tuple[int, bytes]] = []
        every_port = dict.fromkeys(self.ports, 1)
        for seq, start in enumerate(range(0, len(frames), self.burst), start=1):
            for port, data in frames[start : start + self.burst]:
                self._send(port, data)
            for port, data in sentinel.markers(batch, seq):
                self.ports[port].send(data)

            def is_marker(t: sentinel.Tag, seq: int = seq) -> bool:
                return t.batch == batch and t.kind == sentinel.KIND_MARK and t.seq == seq

            self._collect(received, every_port, is_marker, timeout, out, f"pacing marker {seq}")

        for port, data in sentinel.data_sentinels(batch):
            self.ports[port].send(data)
        for port, data in sentinel.packet_out_sentinels(batch):
            self.control.packet_out(data, port)

        def is_data_sentinel(t: sentinel.Tag) -> bool:
            return t.batch == batch and t.kind in sentinel.DATA_KINDS

        self._collect(received, self.expected, is_data_sentinel, timeout, out, "data sentinels")
        for test_port in self.ports.values():  # anything left behind the sentinels
            received.extend((test_port.port, f) for f in test_port.read_all())
        out.ports, out.sentinels, stray = sort_frames(received, batch)
        out.problems.extend(stray)
        self._stream_until_punt_sentinel(batch, timeout, out)
        if counters:
            now = self.read_counters()
            out.counters = counter_delta(now, self.last_counters)
            self.last_counters = now
        return out

    def _stream_until_punt_sentinel(self, batch: int, timeout: float, out: BatchOutput) -> None:
        """Phase 2: punt one more frame; every packet-in before it belongs to the batch."""
        port, data = sentinel.punt_sentinel(batch)
        self.ports[port].send(data)
        cp = self.control
        done = False
        for msg in cp.drain_events():
            done = self._handle(msg, batch, out) or done
        deadline = time.monotonic() + timeout
        while not done:
            left = deadline - time.monotonic()
            event = cp.next_event(min(left, 1.0)) if left > 0 else None
            if event is None:
                if left <= 0 or not self.alive():
                    out.problems.append("the punt sentinel's packet-in never came")
                    return
                continue
            done = self._handle(event, batch, out)
        for msg in cp.drain_events():
            self._handle(msg, batch, out)

    def drain_digests(self, batch: int, wait: float) -> list[Digest]:
        """Digest lists still on their way (a target flushes them on a timer)."""
        out = BatchOutput(batch)
        deadline = time.monotonic() + wait
        while (left := deadline - time.monotonic()) > 0:
            msg = self.control.next_event(left)
            if msg is None:
                break
            self._handle(msg, batch, out)
        return out.digests
