"""The fuzzer's report: what was sent, what was compared, every difference found.

Printed as text at the end of a run and written as JSON (``--report``), with enough to
reproduce each difference: the seed, the batch, and for isolated differences the single
frame (port and hex) with what each target made of it.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from fuzz.compare import BatchOutput, Difference
from fuzz.frames import CATEGORIES, KINDS, Frame
from lab.targets import INCLUDE

SHOW_ITEMS = 4  # per difference in the text report; the JSON report has all of them
SHOW_HEX = 240  # hex digits of a frame in the text report
DROP_COUNTERS = ("NveIngress.counters.drops", "NveEgress.counters.drops")
PUNT_NAMES = {1: "MTU_EXCEEDED", 2: "IPV6_NS", 3: "UNDERLAY_ARP", 4: "UNDERLAY_ND"}


def drop_reason_names() -> dict[int, str]:
    """Drop reason codes by name, from the pipeline's own list (drop_reasons.p4)."""
    text = (INCLUDE / "drop_reasons.p4").read_text()
    return {
        int(code): name
        for name, code in re.findall(r"DROP_(\w+)\s*=\s*8w(\d+)\s*;", text)
        if name != "NONE"
    }


def _short(hexstr: str) -> str:
    if len(hexstr) <= SHOW_HEX:
        return hexstr
    return f"{hexstr[:SHOW_HEX]}… ({len(hexstr) // 2} bytes)"


def describe_output(out: BatchOutput) -> str:
    """What one target made of a batch, frame by frame (sentinels left out)."""
    lines: list[str] = []
    for port in sorted(out.ports):
        for frame, n in sorted(out.ports[port].items()):
            lines.append(f"  port {port} ×{n}: {_short(frame.hex())}")
    for (meta, payload), n in sorted(out.packet_ins.items()):
        fields = ",".join(f"{k}={v}" for k, v in meta)
        lines.append(f"  packet-in ×{n} {fields}: {_short(payload.hex())}")
    lines.extend(f"  digest {d}" for d in sorted(set(out.digests)))
    names = drop_reason_names()
    for (counter, index), (packets, nbytes) in sorted(out.counters.items()):
        what = f" ({names.get(index, '?')})" if counter in DROP_COUNTERS else ""
        lines.append(f"  {counter}[{index}]{what} +{packets} packets, +{nbytes} bytes")
    lines.extend(f"  problem: {p}" for p in out.problems)
    return "\n".join(lines) if lines else "  nothing"


@dataclass
class Isolated:
    """A single frame that, sent alone, made the targets disagree."""

    batch: int
    index: int
    frame: Frame
    differences: list[Difference]

    def to_json(self) -> dict[str, object]:
        return {
            "batch": self.batch,
            "index": self.index,
            "port": self.frame.port,
            "category": self.frame.category,
            "kind": self.frame.kind,
            "frame": self.frame.data.hex(),
            "differences": [d.to_json() for d in self.differences],
        }


@dataclass
class Report:
    seed: int
    batch_size: int
    names: tuple[str, str]
    sent: Counter[tuple[str, str]] = field(default_factory=Counter)  # (category, kind)
    compared: Counter[tuple[str, str]] = field(default_factory=Counter)
    batches: int = 0
    incomplete_batches: list[int] = field(default_factory=list)
    outputs: dict[str, Counter[str]] = field(default_factory=dict)
    differences: list[Difference] = field(default_factory=list)
    isolated: list[Isolated] = field(default_factory=list)
    seconds: float = 0.0
    batch_seconds: list[float] = field(default_factory=list)
    distinct_digests: dict[str, int] = field(default_factory=dict)  # per target, whole run
    drops: Counter[int] = field(default_factory=Counter)  # by reason, first target
    punts: Counter[int] = field(default_factory=Counter)  # packet-ins by reason

    def add_batch(
        self,
        frames: list[Frame],
        outputs: tuple[BatchOutput, BatchOutput],
        diffs: list[Difference],
        seconds: float,
    ) -> None:
        self.batches += 1
        self.batch_seconds.append(seconds)
        for f in frames:
            self.sent[(f.category, f.kind)] += 1
        complete = not any(o.problems for o in outputs)
        if complete:
            for f in frames:
                self.compared[(f.category, f.kind)] += 1
        else:
            self.incomplete_batches.append(outputs[0].batch)
        for (counter, index), (packets, _bytes) in outputs[0].counters.items():
            if counter in DROP_COUNTERS:
                self.drops[index] += packets
        for (meta, _payload), n in outputs[0].packet_ins.items():
            self.punts[dict(meta).get("reason", 0)] += n
        for name, out in zip(self.names, outputs):
            c = self.outputs.setdefault(name, Counter())
            c["frames out"] += sum(sum(x.values()) for x in out.ports.values())
            c["packet-ins"] += sum(out.packet_ins.values())
            c["digest entries"] += len(out.digests)
        self.differences.extend(diffs)

    @property
    def frames_sent(self) -> int:
        return sum(self.sent.values())

    @property
    def frames_compared(self) -> int:
        return sum(self.compared.values())

    def text(self) -> str:
        a, b = self.names
        summary = (
            f"seed {self.seed}: {self.batches} batches of up to {self.batch_size} frames, "
            f"{self.frames_sent:,} frames sent to each target, {self.frames_compared:,} compared "
            f"({self.seconds:.0f} s)"
        )
        lines = [summary]
        head = "  " + "category".ljust(10) + "".join(k.rjust(11) for k in KINDS) + "total".rjust(10)
        lines.append(head)
        for cat in (*CATEGORIES, "random"):
            row = [self.compared[(cat, k)] for k in KINDS]
            if sum(row):
                lines.append(
                    "  " + cat.ljust(10) + "".join(f"{n:>11,}" for n in row) + f"{sum(row):>10,}"
                )
        for name in self.names:
            c = self.outputs.get(name, Counter())
            distinct = self.distinct_digests.get(name)
            lines.append(
                f"  {name}: {c['frames out']:,} frames out, {c['packet-ins']:,} packet-ins, "
                f"{c['digest entries']:,} digest entries"
                + (f" ({distinct:,} distinct)" if distinct is not None else "")
            )
        names = drop_reason_names()
        if self.drops:
            lines.append(
                f"  drops by reason ({a}; sentinels included): "
                + ", ".join(f"{names.get(r, r)} {n:,}" for r, n in sorted(self.drops.items()))
            )
        if self.punts:
            lines.append(
                "  packet-ins by reason: "
                + ", ".join(f"{PUNT_NAMES.get(r, r)} {n:,}" for r, n in sorted(self.punts.items()))
            )
        if self.batch_seconds:
            per = sum(self.batch_seconds) / len(self.batch_seconds)
            lines.append(f"  {per:.2f} s per batch (both targets at once)")
        if self.incomplete_batches:
            lines.append(f"  incomplete batches (not compared): {self.incomplete_batches}")
        by_kind = Counter(d.kind for d in self.differences)
        lines.append(
            f"differences: {len(self.differences)}"
            + (f" ({', '.join(f'{k} {n}' for k, n in sorted(by_kind.items()))})" if by_kind else "")
        )
        for d in self.differences[:50]:
            lines.append(f"  batch {d.batch}: {d.kind} at {d.where}")
            for label, items in ((f"only {a}", d.only_a), (f"only {b}", d.only_b)):
                for item, n in items[:SHOW_ITEMS]:
                    lines.append(f"    {label} ×{n}: {_short(item)}")
                if len(items) > SHOW_ITEMS:
                    lines.append(f"    {label}: … {len(items) - SHOW_ITEMS} more")
        if len(self.differences) > 50:
            lines.append(f"  … {len(self.differences) - 50} more differences (see the JSON report)")
        for iso in self.isolated:
            f = iso.frame
            lines.append(
                f"isolated: seed {self.seed} batch {iso.batch} frame {iso.index} "
                f"({f.category}, {f.kind}) on port {f.port}: {_short(f.data.hex())}"
            )
            for d in iso.differences:
                lines.append(f"    {d.kind} at {d.where}")
                for label, items in ((a, d.only_a), (b, d.only_b)):
                    for item, n in items[:SHOW_ITEMS]:
                        lines.append(f"      {label} ×{n}: {_short(item)}")
        return "\n".join(lines)

    def to_json(self) -> dict[str, object]:
        return {
            "seed": self.seed,
            "batch_size": self.batch_size,
            "targets": list(self.names),
            "batches": self.batches,
            "frames_sent": self.frames_sent,
            "frames_compared": self.frames_compared,
            "compared_by_category_kind": {
                f"{c}/{k}": n for (c, k), n in sorted(self.compared.items())
            },
            "outputs": {n: dict(c) for n, c in self.outputs.items()},
            "distinct_digests": self.distinct_digests,
            "incomplete_batches": self.incomplete_batches,
            "drops_by_reason": {str(r): n for r, n in sorted(self.drops.items())},
            "packet_ins_by_reason": {str(r): n for r, n in sorted(self.punts.items())},
            "seconds": round(self.seconds, 1),
            "differences": [d.to_json() for d in self.differences],
            "isolated": [i.to_json() for i in self.isolated],
        }

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_json(), indent=1) + "\n")
