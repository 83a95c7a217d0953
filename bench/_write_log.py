"""p4sim's write log (`--write-log FILE`) as the fleet benchmarks read it."""

from __future__ import annotations

import json
from pathlib import Path


def write_times(log: Path) -> list[float]:
    """Unix times of the Writes the switch accepted, in order (none yet: empty)."""
    if not log.exists():
        return []
    return [
        float(d["time"])
        for d in map(json.loads, log.read_text().splitlines())
        if d["kind"] == "write" and d["accepted"]
    ]
