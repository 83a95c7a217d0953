"""scripts/tna_resources.py reads a Tofino context.json into the resource summary that
docs/tna.md quotes (stages, memory units, tables, hash functions, PHV containers)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "tna_resources.py"


def _way(stage: int, kind: str, units: list[int], hash_fn: int) -> dict:
    return {
        "stage_number": stage,
        "hash_functions": [{"hash_function_number": hash_fn}],
        "ways": [
            {
                "stage_number": stage,
                "memory_resource_allocation": {
                    "memory_type": kind,
                    "memory_units_and_vpns": [{"memory_units": units, "vpns": [0]}],
                },
            }
        ],
    }


CONTEXT = {
    "tables": [
        {
            "name": "NveIngress.l2.dmac",
            "direction": "ingress",
            "table_type": "match",
            "size": 65536,
            "match_attributes": {"stage_tables": [_way(6, "sram", [1, 2, 3], 2)]},
        },
        {
            "name": "NveIngress.routing.routes_v4",
            "direction": "ingress",
            "table_type": "match",
            "size": 1024,
            "match_attributes": {
                "stage_tables": [_way(3, "tcam", [0, 1], 0), _way(4, "tcam", [0], 1)]
            },
        },
        {
            "name": "NveEgress.replica.tunnel",
            "direction": "egress",
            "table_type": "match",
            "size": 4096,
            "match_attributes": {"stage_tables": [_way(0, "sram", [9], 0)]},
        },
    ],
    "phv_allocation": [
        {
            "stage_number": 0,
            "ingress": [
                {"phv_number": 1, "word_bit_width": 32},
                {"phv_number": 70, "word_bit_width": 16},
            ],
            "egress": [{"phv_number": 200, "word_bit_width": 8}],
        },
        {"stage_number": 1, "ingress": [{"phv_number": 1, "word_bit_width": 32}], "egress": []},
    ],
}


def test_the_summary_counts_stages_units_hashes_and_containers(tmp_path: Path) -> None:
    path = tmp_path / "context.json"
    path.write_text(json.dumps(CONTEXT))
    out = subprocess.run(
        [sys.executable, str(SCRIPT), str(path)], capture_output=True, text=True, check=True
    ).stdout
    assert "MAU stages: ingress 7/12, egress 1/12" in out
    assert "stage  6: SRAM   3  TCAM  0" in out
    assert "stage  3: SRAM   0  TCAM  2" in out
    assert "in all: sram 4/960 (0 %), tcam 3/288 (1 %)" in out
    assert "NveIngress.routing.routes_v4" in out and "stages [3, 4]" in out
    assert "PHV containers: 3/336 (ingress 2, egress 1); 32-bit 1/96, 16-bit 1/144" in out


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    res = subprocess.run(
        [sys.executable, str(SCRIPT), str(tmp_path / "nope.json")],
        check=False,
        capture_output=True,
        text=True,
    )
    assert res.returncode == 1 and "nope.json" in res.stderr
