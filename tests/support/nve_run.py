"""`nve run FILE` as a real process, for tests that watch it handle data-plane events."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

NVE = str(Path(sys.executable).with_name("nve"))


@dataclass
class NveRun:
    """One `nve run` process; its log (stderr) goes to a file the test can search."""

    overlay: Path
    log: Path
    proc: subprocess.Popen | None = None

    def start(self, ready_timeout: float = 30.0, store: str | None = None) -> NveRun:
        """Start (`store`: `nve run --store URL` instead of the file) and wait for the first
        reconcile to be logged."""
        source = ["--store", store] if store is not None else [str(self.overlay)]
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(
                [NVE, "run", *source, "--metrics-port", "0"],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.wait_log("reconciled ", ready_timeout)
        return self

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_log(self, needle: str, timeout: float, after: int = 0) -> str:
        """Wait until `needle` appears in the log past character `after`; return that line."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            text = self.text()
            pos = text.find(needle, after)
            if pos >= 0:
                return text[
                    text.rfind("\n", 0, pos) + 1 : text.find("\n", pos)
                    if "\n" in text[pos:]
                    else None
                ]
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(f"nve run exited with {self.proc.returncode}:\n{text[-3000:]}")
            time.sleep(0.05)
        raise AssertionError(
            f"{needle!r} not logged by nve run within {timeout} s:\n{self.text()[-3000:]}"
        )

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
