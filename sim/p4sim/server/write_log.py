"""p4sim's write log (`p4sim --write-log FILE`): one JSON line per Write and pipeline
commit, in the order the switch applied or refused them, with the election id and role
each carried (docs/p4sim-server.md). Tests use it to prove fencing: once a new primary's
Write is applied, no request of a lower election id is.

Each line: `seq` (from 1), `time` (Unix seconds), `kind` (`write`, `pipeline` or
`read`), `device_id`, `role`, `election_id` (decimal, or null when unset or for a read),
`accepted` (bool), and for a write `updates` (how many) and `failed` (how many of them the
switch refused), for a read `entities` (how many it returned) and `table_entries` (how many
of them were table entries: counter polls return none), for a refused request
`refused` (the status and message). Reads show whether a controller read a switch whole
or trusted what it wrote before (tests/fleet/test_store_incremental.py).
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import IO


class WriteLog:
    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._file: IO[str] = open(path, "a", encoding="utf-8", buffering=1)  # noqa: SIM115
        except OSError as exc:
            raise OSError(f"--write-log {path}: cannot open: {exc.strerror}") from None
        self._lock = threading.Lock()
        self._seq = 0

    def record(
        self,
        kind: str,
        device_id: int,
        role: str,
        election_id: int | None,
        *,
        accepted: bool,
        updates: int = 0,
        failed: int = 0,
        refused: str = "",
        entities: int = 0,
        table_entries: int = 0,
    ) -> None:
        with self._lock:
            self._seq += 1
            doc: dict[str, object] = {
                "seq": self._seq,
                "time": round(time.time(), 6),
                "kind": kind,
                "device_id": device_id,
                "role": role,
                # decimal text: a 128-bit id is beyond what JSON readers keep exact
                "election_id": None if election_id is None else str(election_id),
                "accepted": accepted,
            }
            if kind == "write":
                doc["updates"] = updates
                doc["failed"] = failed
            if kind == "read":
                doc["entities"] = entities
                doc["table_entries"] = table_entries
            if refused:
                doc["refused"] = refused
            self._file.write(json.dumps(doc, sort_keys=True) + "\n")

    def close(self) -> None:
        with self._lock:
            self._file.close()
