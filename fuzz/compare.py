"""What a target produced for one batch, and the comparison of two targets' outputs.

Per batch and per port, the frames out are compared as multisets (``Counter`` of bytes):
bmv2's egress threads and p4sim's port reads interleave ports differently, so only the
order within one port is meaningful, and a multiset comparison ignores it altogether.
Packet-ins are compared the same way (payload and metadata), counters by their change
over the batch. Learning digests are compared over the whole run as sets (see
:func:`compare_digests`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from fuzz.sentinel import DATA_KINDS, KIND_MARK, parse

PacketIn = tuple[tuple[tuple[str, int], ...], bytes]  # (metadata (name, value)..., payload)
CounterCells = dict[tuple[str, int], tuple[int, int]]  # (counter, index) -> (packets, bytes)
Digest = tuple[int, ...]
K = TypeVar("K")


@dataclass
class BatchOutput:
    """Everything one target produced for one batch."""

    batch: int
    ports: dict[int, Counter[bytes]] = field(default_factory=dict)
    sentinels: dict[int, int] = field(default_factory=dict)
    packet_ins: Counter[PacketIn] = field(default_factory=Counter)
    digests: list[Digest] = field(default_factory=list)
    counters: CounterCells = field(default_factory=dict)  # change over the batch, non-zero
    problems: list[str] = field(default_factory=list)  # e.g. a sentinel that never came


def sort_frames(
    received: Iterable[tuple[int, bytes]], batch: int
) -> tuple[dict[int, Counter[bytes]], dict[int, int], list[str]]:
    """Frames received as (port, bytes), in any order: the batch's outputs per port as
    multisets, its sentinel copies counted per port, and notes on stray sentinels."""
    ports: dict[int, Counter[bytes]] = {}
    sentinels: dict[int, int] = {}
    stray: list[str] = []
    for port, frame in received:
        tag = parse(frame)
        if tag is None:
            ports.setdefault(port, Counter())[frame] += 1
        elif tag.batch == batch and tag.kind in DATA_KINDS:
            sentinels[port] = sentinels.get(port, 0) + 1
        elif tag.batch != batch or tag.kind != KIND_MARK:
            stray.append(f"port {port}: a sentinel of batch {tag.batch} (late or duplicated)")
    return ports, sentinels, stray


def counter_delta(now: CounterCells, before: CounterCells) -> CounterCells:
    """The non-zero change of every cell between two readings."""
    out: CounterCells = {}
    for key in now.keys() | before.keys():
        p1, b1 = now.get(key, (0, 0))
        p0, b0 = before.get(key, (0, 0))
        if (p1 - p0, b1 - b0) != (0, 0):
            out[key] = (p1 - p0, b1 - b0)
    return out


@dataclass
class Difference:
    """One way two targets disagreed in one batch: what only one of them produced."""

    batch: int
    kind: str  # "frames", "packet-in", "counter", "digest", "incomplete"
    where: str  # "port 3", "NveIngress.counters.drops[40]", ...
    only_a: list[tuple[str, int]]  # (item, how many more times A produced it than B)
    only_b: list[tuple[str, int]]

    def to_json(self) -> dict[str, object]:
        return {
            "batch": self.batch,
            "kind": self.kind,
            "where": self.where,
            "only_a": [list(x) for x in self.only_a],
            "only_b": [list(x) for x in self.only_b],
        }


def _multiset_diff(
    a: Mapping[K, int], b: Mapping[K, int]
) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    ca, cb = Counter(a), Counter(b)
    only_a, only_b = ca - cb, cb - ca

    def fmt(x: object) -> str:
        if isinstance(x, bytes):
            return x.hex()
        if isinstance(x, tuple) and len(x) == 2 and isinstance(x[1], bytes):
            meta = ",".join(f"{k}={v}" for k, v in x[0])
            return f"{meta} {x[1].hex()}"
        return str(x)

    return (
        sorted((fmt(k), n) for k, n in only_a.items()),
        sorted((fmt(k), n) for k, n in only_b.items()),
    )


def compare_batch(a: BatchOutput, b: BatchOutput) -> list[Difference]:
    """Every difference between two targets' outputs for the same batch."""
    diffs: list[Difference] = []
    batch = a.batch
    if a.problems or b.problems:
        diffs.append(
            Difference(
                batch,
                "incomplete",
                "batch",
                [(p, 1) for p in a.problems],
                [(p, 1) for p in b.problems],
            )
        )
    for port in sorted(a.ports.keys() | b.ports.keys()):
        fa, fb = a.ports.get(port, Counter()), b.ports.get(port, Counter())
        if fa != fb:
            only_a, only_b = _multiset_diff(fa, fb)
            diffs.append(Difference(batch, "frames", f"port {port}", only_a, only_b))
    if a.sentinels != b.sentinels:
        diffs.append(
            Difference(
                batch,
                "incomplete",
                "sentinels",
                [(f"port {p}: {n}", 1) for p, n in sorted(a.sentinels.items())],
                [(f"port {p}: {n}", 1) for p, n in sorted(b.sentinels.items())],
            )
        )
    if a.packet_ins != b.packet_ins:
        only_a, only_b = _multiset_diff(a.packet_ins, b.packet_ins)
        diffs.append(Difference(batch, "packet-in", "CPU port", only_a, only_b))
    for key in sorted(a.counters.keys() | b.counters.keys()):
        va, vb = a.counters.get(key, (0, 0)), b.counters.get(key, (0, 0))
        if va != vb:
            name, index = key
            diffs.append(
                Difference(
                    batch,
                    "counter",
                    f"{name}[{index}]",
                    [(f"{va[0]} packets, {va[1]} bytes", 1)],
                    [(f"{vb[0]} packets, {vb[1]} bytes", 1)],
                )
            )
    return diffs


def compare_digests(a: Mapping[Digest, int], b: Mapping[Digest, int]) -> list[Difference]:
    """Learning digests over the whole run, as sets of (vsid, mac, port): ``a`` and ``b``
    map each digest to the first batch in which the target sent it. How often one is sent
    depends on when lists are acknowledged and flushed (timers), so only whether it was
    sent at all is compared; a difference is reported in the batch it first appeared."""
    diffs: list[Difference] = []
    for d in sorted(a.keys() ^ b.keys()):
        batch = a.get(d, b.get(d, -1))
        vsid, mac, port = (d + (0, 0, 0))[:3]
        item = f"vsid={vsid:#08x} mac={mac:012x} port={port}"
        only_a = [(item, 1)] if d in a else []
        only_b = [(item, 1)] if d in b else []
        diffs.append(Difference(batch, "digest", "mac_learn_digest_t", only_a, only_b))
    return diffs
