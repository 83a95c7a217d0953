"""The traffic side of `bench switch_pps`: one process, pinned to one CPU, that offers frames at
a paced rate on one veth and receives, checks and timestamps what comes out of another.

Run as ``python -m bench._traffic`` with a JSON :class:`TrialSpec` on stdin; prints a JSON
:class:`TrialResult`.  Standard library only, so that it starts quickly and its loop is the
only thing it runs.

Pacing: the frames of a trial are scheduled at ``t0 + i / rate``; the loop sends every
frame whose time has come, in bursts of at most ``burst`` frames (the frames of 100 µs), and
between bursts reads what came out.  With nothing to read it sleeps in ``select()`` on the
receive socket until the next burst is nearly due (timer slack set to 1 µs) and polls for
the last 50 µs: a frame out wakes it at once, so it is read and timestamped as it arrives,
and the CPU is free for the kernel's share of the work.  When the generator was held up
(another task had its CPU), it sends the frames that fell due meanwhile, but at most
``max_catchup`` seconds' worth (or one burst), and moves the rest of its schedule back: it
never offers more than the nominal rate beyond a 5-ms burst, and the time given up lowers
the achieved rate instead, which the caller checks.  When the last frame has been sent,
the frames offered but not yet out are the switch's ``backlog``.

Each offered frame ends with a 16-byte marker ``<trial id u32><sequence u32><send time
u64 ns>`` (little-endian, CLOCK_MONOTONIC through ``time.perf_counter_ns``).  Both paths
keep the end of the frame (encap prepends the NVGRE headers, decap strips them), so the
marker is the last 16 bytes of the frame that comes out.  A frame out counts when its
length is right, its trial id is this trial's and everything before the marker is exactly
the expected output; latency is receive time minus the send time in its marker.  The
longest interval between the receive times of two consecutive counted frames
(``max_gap_ns``, and when it ended) is how long forwarding stopped, for a trial during
which the switch is changed.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import gc
import json
import math
import os
import select
import socket
import struct
import sys
import time
from array import array
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_STATISTICS = 6
SO_RCVBUFFORCE = 33
SO_SNDBUFFORCE = 32
MARKER = struct.Struct("<IIQ")
MARKER_LEN = MARKER.size  # 16
SPIN_NS = 50_000  # below this the loop polls instead of sleeping until the next burst
PR_SET_TIMERSLACK = 29


@dataclass
class TrialSpec:
    tx_if: str
    rx_if: str
    frame_hex: str  # the offered frame; its last 16 bytes are overwritten with the marker
    out_prefix_hex: str  # the expected frame out, without its 16-byte marker
    rate: float  # offered frames/s; 0 = as fast as the loop can send (the probe)
    duration: float  # seconds of offered traffic
    drain: float  # seconds to keep receiving after the last frame was sent
    trial_id: int
    cpu: int | None = None
    burst_interval: float = 100e-6  # a burst holds the frames of this many seconds
    settle: float = 0.2  # before the trial: receive until this long passes with nothing out
    max_catchup: float = 0.005  # after a stall, send at most this many seconds' frames at once
    nice: int = 0
    gap_log_ns: int = 0  # list every gap longer than this in TrialResult.gaps (0: none)


@dataclass
class TrialResult:
    offered: int = 0  # frames sent (send() returned)
    send_errors: int = 0  # send() failed (ENOBUFS: the kernel refused the frame)
    received: int = 0  # distinct frames of this trial, correct
    duplicates: int = 0
    reordered: int = 0  # frames out whose sequence number is below one already seen
    wrong: int = 0  # frames of this trial whose bytes differ from the expected output
    wrong_example_hex: str = ""
    stale: int = 0  # frames of earlier trials (or foreign frames) seen during this one
    rx_drops: int = 0  # frames the receive socket dropped (the receiver's fault)
    max_lag_ns: int = 0  # how far behind schedule the latest burst went out
    skipped_s: float = 0.0  # schedule time given up after stalls (see TrialSpec.max_catchup)
    backlog: int = 0  # frames offered but not yet out when the last frame was sent
    send_span_s: float = 0.0  # first send to last send
    achieved_rate: float = 0.0  # offered / the time it took to offer them
    burst: int = 1
    lat_samples: int = 0
    lat_median_us: float = 0.0
    lat_p99_us: float = 0.0
    lat_min_us: float = 0.0
    lat_max_us: float = 0.0
    # The longest time between two consecutive correct frames out (receive times), and when
    # it ended (perf_counter_ns, CLOCK_MONOTONIC: comparable with the caller's clock).
    max_gap_ns: int = 0
    max_gap_end_ns: int = 0
    first_rx_ns: int = 0
    last_rx_ns: int = 0
    gaps: list[list[int]] = field(default_factory=list)  # [end ns, length ns], first 1,000


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """The q-quantile (0..1) of sorted values, nearest rank."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(q * len(sorted_values)))
    return float(sorted_values[rank - 1])


def rx_socket(ifname: str) -> socket.socket:
    rx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)  # no frames until bound
    rx.bind((ifname, ETH_P_ALL))
    try:
        rx.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 256 << 20)
    except OSError:
        rx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 256 << 20)
    rx.setblocking(False)
    return rx


def tx_socket(ifname: str) -> socket.socket:
    tx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
    tx.bind((ifname, 0))
    try:
        tx.setsockopt(socket.SOL_SOCKET, SO_SNDBUFFORCE, 4 << 20)
    except OSError:
        tx.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    return tx


def rx_drops(rx: socket.socket) -> int:
    """Frames the socket dropped since the last call (PACKET_STATISTICS resets on read)."""
    _packets, drops = struct.unpack("II", rx.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8))
    return int(drops)


def run_trial(spec: TrialSpec) -> TrialResult:
    if spec.cpu is not None:
        os.sched_setaffinity(0, {spec.cpu})
    if spec.nice:
        os.setpriority(os.PRIO_PROCESS, 0, spec.nice)
    with contextlib.suppress(OSError, AttributeError):  # 1 µs timer slack instead of 50 µs
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_TIMERSLACK, 1000, 0, 0, 0)
    res = TrialResult()
    frame = bytearray(bytes.fromhex(spec.frame_hex))
    prefix = bytes.fromhex(spec.out_prefix_hex)
    out_len = len(prefix) + MARKER_LEN
    in_mark = len(frame) - MARKER_LEN
    tid_bytes = struct.pack("<I", spec.trial_id)
    total = max(1, round(spec.rate * spec.duration)) if spec.rate > 0 else 0
    paced = spec.rate > 0
    burst = max(1, math.ceil(spec.rate * spec.burst_interval)) if paced else 32
    res.burst = burst
    tx, rx = tx_socket(spec.tx_if), rx_socket(spec.rx_if)
    seen = bytearray(total if paced else 1 << 24)
    lat = array("q")
    pack_into, unpack_from = MARKER.pack_into, MARKER.unpack_from
    send, recv, now_ns = tx.send, rx.recv, time.perf_counter_ns
    tid, max_seq = spec.trial_id, -1
    received = dup = reord = wrong = stale = 0
    last_rx = max_gap = max_gap_end = 0
    log_gap = spec.gap_log_ns

    def drain_once() -> bool:
        """Read every frame waiting; False when there was none."""
        nonlocal received, dup, reord, wrong, stale, max_seq, last_rx, max_gap, max_gap_end
        got_any = False
        while True:
            try:
                d = recv(4096)
            except BlockingIOError:
                return got_any
            t = now_ns()
            got_any = True
            if d[-16:-12] != tid_bytes:
                stale += 1
                continue
            _tid, seq, sent_ns = unpack_from(d, len(d) - MARKER_LEN)
            if len(d) != out_len or d[: out_len - MARKER_LEN] != prefix or seq >= len(seen):
                wrong += 1
                if not res.wrong_example_hex:
                    res.wrong_example_hex = d.hex()
                continue
            if seen[seq]:
                dup += 1
                continue
            seen[seq] = 1
            received += 1
            if seq < max_seq:
                reord += 1
            else:
                max_seq = seq
            lat.append(t - sent_ns)
            if last_rx and t - last_rx > max_gap:
                max_gap, max_gap_end = t - last_rx, t
            elif not last_rx:
                res.first_rx_ns = t
            if last_rx and log_gap and t - last_rx > log_gap and len(res.gaps) < 1000:
                res.gaps.append([t, t - last_rx])
            last_rx = t

    # Settle: whatever an earlier trial left in the switch comes out before this one starts.
    quiet_since = time.monotonic()
    settle_deadline = quiet_since + 10.0
    while time.monotonic() - quiet_since < spec.settle and time.monotonic() < settle_deadline:
        if drain_once():
            quiet_since = time.monotonic()
        else:
            time.sleep(0.001)
    stale, _ = 0, rx_drops(rx)

    gc.disable()
    sent = errors = skipped = 0
    max_lag = 0
    catchup = max(burst, math.ceil(spec.rate * spec.max_catchup))  # frames
    period = 1e9 / spec.rate if paced else 0.0
    t0 = now_ns() + 1_000_000
    deadline = t0 + int(spec.duration * 1e9)
    next_t = t0
    t_first = t_last = 0
    rx_fd = [rx]
    while True:
        now = now_ns()
        if paced:
            if sent >= total:
                break
            wait = next_t - now
            if wait > 0:
                # Read what is there; sleep until the next burst is nearly due unless a
                # frame arrives first (so a frame out is read as it arrives); spin the last
                # SPIN_NS, shorter than a timer can be trusted to wake us.
                if not drain_once() and wait > SPIN_NS:
                    select.select(rx_fd, [], [], (wait - SPIN_NS) / 1e9)
                continue
            max_lag = max(max_lag, now - next_t)
            behind = int((now - t0) / period) + 1 - sent  # frames due and not yet sent
            if behind > catchup:  # a stall: move the schedule rather than burst it all out
                shift = int((behind - catchup) * period)
                t0 += shift
                skipped += shift
            end = min(sent + burst, total)
        else:
            if now >= deadline:
                break
            end = sent + burst
        if not t_first:
            t_first = now
        while sent < end:
            pack_into(frame, in_mark, tid, sent, now_ns())
            try:
                send(frame)
            except OSError as exc:
                if exc.errno not in (errno.ENOBUFS, errno.EAGAIN):
                    raise
                errors += 1
            sent += 1
        t_last = now_ns()
        if paced:
            next_t = t0 + int(sent * period)
        else:
            drain_once()
    drain_once()
    res.backlog = sent - errors - received - wrong
    # Drain: frames still in the switch or the kernel come out (or never will).
    drain_end = now_ns() + int(spec.drain * 1e9)
    while (left := drain_end - now_ns()) > 0 and received + wrong < sent - errors:
        if not drain_once():
            select.select(rx_fd, [], [], min(left / 1e9, 0.01))
    if received + wrong >= sent - errors:  # all out: wait a little for duplicates
        linger = now_ns() + 20_000_000
        while now_ns() < linger:
            if not drain_once():
                select.select(rx_fd, [], [], 0.002)
    gc.enable()

    res.offered, res.send_errors = sent, errors
    res.received, res.duplicates, res.reordered = received, dup, reord
    res.wrong, res.stale = wrong, stale
    res.max_gap_ns, res.max_gap_end_ns, res.last_rx_ns = max_gap, max_gap_end, last_rx
    res.rx_drops = rx_drops(rx)
    res.max_lag_ns = max_lag
    res.skipped_s = skipped / 1e9
    res.send_span_s = (t_last - t_first) / 1e9
    # The last burst's frames were due over the burst's period, not at its start.
    span = res.send_span_s + (burst * period / 1e9 if paced else 0.0)
    res.achieved_rate = sent / span if span > 0 else 0.0
    if lat:
        ordered = sorted(lat)
        res.lat_samples = len(ordered)
        res.lat_median_us = percentile(ordered, 0.5) / 1e3
        res.lat_p99_us = percentile(ordered, 0.99) / 1e3
        res.lat_min_us = ordered[0] / 1e3
        res.lat_max_us = ordered[-1] / 1e3
    with contextlib.suppress(OSError):
        tx.close()
        rx.close()
    return res


def main() -> int:
    spec = TrialSpec(**json.loads(sys.stdin.read()))
    result = run_trial(spec)
    json.dump(asdict(result), sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
