#!/usr/bin/env python3
"""Resource use of a compiled Tofino program, read from the compiler's context.json.

    python3 scripts/tna_resources.py out/tofino/pipe/context.json

The open-source Tofino back end writes no resource logs unless asked, but context.json
(what the driver loads) records where every table, counter and meter was placed. This
prints: MAU stages per gress; SRAM, TCAM and map RAM units per stage (out of 80, 24 and 48
per stage on Tofino 1) and in all; the match tables with their entries, stages and units;
the hash functions each stage uses (8 per stage); and the PHV containers allocated (Tofino 1:
96 x 32-bit, 144 x 16-bit, 96 x 8-bit, normal and tagalong together). Standard library only.
"""

from __future__ import annotations

import collections
import json
import sys
from collections.abc import Iterator
from typing import Any

PER_STAGE = {"sram": 80, "tcam": 24, "map_ram": 48}
STAGES = 12
HASH_FUNCTIONS = 8
PHV = {32: 96, 16: 144, 8: 96}


def _nodes(obj: Any, stage: int | None = None) -> Iterator[tuple[dict[str, Any], int | None]]:
    """Every dict below `obj` with the stage number of its closest enclosing stage table."""
    if isinstance(obj, dict):
        if isinstance(obj.get("stage_number"), int):
            stage = obj["stage_number"]
        yield obj, stage
        for value in obj.values():
            yield from _nodes(value, stage)
    elif isinstance(obj, list):
        for value in obj:
            yield from _nodes(value, stage)


def _units(table: dict[str, Any]) -> set[tuple[int, str, int]]:
    found: set[tuple[int, str, int]] = set()
    for node, stage in _nodes(table):
        mra = node.get("memory_resource_allocation")
        if stage is None or not isinstance(mra, dict) or "memory_type" not in mra:
            continue
        for group in mra.get("memory_units_and_vpns", []):
            for unit in group.get("memory_units", []):
                found.add((stage, mra["memory_type"], unit))
    return found


def report(ctx: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    stages: dict[str, set[int]] = {"ingress": set(), "egress": set()}
    units: set[tuple[int, str, int]] = set()
    hashes: dict[tuple[str, int], set[int]] = collections.defaultdict(set)
    tables: list[tuple[int, str, list[int], collections.Counter[str]]] = []
    for t in ctx.get("tables", []):
        direction = t.get("direction", "")
        used = _units(t)
        units |= used
        placed = sorted({s for s, _, _ in used})
        for node, stage in _nodes(t.get("match_attributes", {})):
            if stage is not None and direction in stages:
                stages[direction].add(stage)
            if stage is not None:
                for h in node.get("hash_functions", []):
                    hashes[(direction, stage)].add(h.get("hash_function_number"))
        if t.get("table_type") == "match" and used:
            kinds = collections.Counter(kind for _, kind, _ in used)
            tables.append((int(t.get("size", 0)), t.get("name", "?"), placed, kinds))
    lines.append(
        "MAU stages: "
        + ", ".join(f"{g} {max(s) + 1 if s else 0}/{STAGES}" for g, s in stages.items())
    )
    per_stage: dict[int, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for stage, kind, _ in units:
        if stage >= 0:  # -1: the parser's port metadata
            per_stage[stage][kind] += 1
    lines.append("memory units per stage (SRAM/80, TCAM/24, map RAM/48):")
    for stage in sorted(per_stage):
        c = per_stage[stage]
        lines.append(
            f"  stage {stage:2d}: SRAM {c['sram']:3d}  TCAM {c['tcam']:2d}  map RAM {c['map_ram']:2d}"
        )
    total = collections.Counter(kind for _, kind, _ in units)
    lines.append(
        "in all: "
        + ", ".join(
            f"{kind} {total[kind]}/{limit * STAGES} ({100 * total[kind] / (limit * STAGES):.0f} %)"
            for kind, limit in PER_STAGE.items()
        )
    )
    lines.append("match tables with memory (entries, stages, units):")
    for size, name, placed, kinds in sorted(tables, key=lambda r: (-r[0], r[1])):
        mem = ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))
        lines.append(f"  {name:40s} {size:7d}  stages {placed}  {mem}")
    lines.append(f"hash functions used per stage (of {HASH_FUNCTIONS}):")
    for (direction, stage), ids in sorted(hashes.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        lines.append(f"  stage {stage:2d} {direction:7s}: {len(ids)}")
    containers: dict[str, set[tuple[int, int]]] = collections.defaultdict(set)
    for stage_alloc in ctx.get("phv_allocation", []):
        for gress in ("ingress", "egress"):
            for c in stage_alloc.get(gress, []):
                containers[gress].add((c["phv_number"], c["word_bit_width"]))
    both = containers["ingress"] | containers["egress"]
    widths = collections.Counter(w for _, w in both)
    lines.append(
        f"PHV containers: {len(both)}/{sum(PHV.values())} "
        f"(ingress {len(containers['ingress'])}, egress {len(containers['egress'])}); "
        + ", ".join(f"{w}-bit {widths[w]}/{n}" for w, n in PHV.items())
    )
    return lines


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 64
    try:
        with open(argv[1], encoding="utf-8") as f:
            ctx = json.load(f)
    except (OSError, ValueError) as exc:
        print(f"tna_resources: {argv[1]}: {exc}", file=sys.stderr)
        return 1
    print("\n".join(report(ctx)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
