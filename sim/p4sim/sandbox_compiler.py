"""Compiling a received program in a child process, with limits, a deadline and a bounded cache.

A program sent in SetForwardingPipelineConfig is compiled by ``python -m
p4sim.compile_worker``: a separate process, so it holds none of the server's locks or its
interpreter lock, limited to ``cpu_seconds`` of CPU and ``memory_mib`` of address space, and
killed when the request's deadline passes or its client goes away. Compiled programs are kept
by content (source, filename, files) in a cache of at most ``cache_mib`` (each program counted
by the size of its pickle, which grows with its IR).

:class:`ChildCompiler` is also a plain ``(source, filename) -> Program`` compiler, so a
:class:`~p4sim.switch.Switch` can take it as its ``compiler``.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import pickle
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from p4sim.status import (
    CANCELLED,
    INTERNAL,
    INVALID_ARGUMENT,
    RESOURCE_EXHAUSTED,
    UNAVAILABLE,
    P4RuntimeError,
)

if TYPE_CHECKING:
    from p4sim.compiler import Program

_MIB = 1024 * 1024
_POLL = 0.1  # seconds between looks at the deadline and the client


@dataclass(frozen=True)
class CompileLimits:
    """What one compile may use (the ``p4sim`` flags of the same names set them)."""

    cpu_seconds: int = 60  # --compile-cpu-seconds
    memory_mib: int = 2048  # --compile-memory-mib
    cache_mib: float = 256  # --compile-cache-mib


def _never() -> bool:
    return False


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """No cycle collection while a program's objects are made in one go (unpickled, built).

    Each collection of the oldest generation walks every live object, and making a big IR
    triggers many: the time would grow faster than the program. Reference counting still
    frees what is dropped meanwhile; the collector resumes (if it ran before) on leaving."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class ChildCompiler:
    """Compiles in a child process; one instance per switch (it owns the cache)."""

    def __init__(self, limits: CompileLimits | None = None) -> None:
        self.limits = limits or CompileLimits()
        self._cache: OrderedDict[str, tuple[Program, int]] = OrderedDict()
        self._cache_bytes = 0
        self._lock = threading.Lock()

    def __call__(self, source: str, filename: str) -> Program:
        return self.compile(source, filename)

    @property
    def cache_bytes(self) -> int:
        """Bytes the cached programs take (their pickles' sizes)."""
        return self._cache_bytes

    @property
    def cached(self) -> int:
        """How many compiled programs the cache holds."""
        return len(self._cache)

    def compile(
        self,
        source: str,
        filename: str,
        files: Mapping[str, str] | None = None,
        *,
        deadline: float | None = None,
        cancelled: Callable[[], bool] = _never,
    ) -> Program:
        """The compiled program; :class:`P4RuntimeError` (INVALID_ARGUMENT for a wrong program,
        RESOURCE_EXHAUSTED naming the limit, CANCELLED when the client left or its deadline
        passed) otherwise. ``deadline`` is a :func:`time.monotonic` time."""
        request = json.dumps(
            {"source": source, "filename": filename, "files": dict(sorted((files or {}).items()))}
        ).encode("utf-8")
        key = hashlib.sha256(request).hexdigest()
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return hit[0]
        reply = self._run(request, deadline, cancelled)
        with collector_paused():
            program = self._unpack(reply)
        self._remember(key, program, len(reply))
        return program

    def _remember(self, key: str, program: Program, size: int) -> None:
        cap = int(self.limits.cache_mib * _MIB)
        if size > cap:
            return
        with self._lock:
            if key in self._cache:
                return
            self._cache[key] = (program, size)
            self._cache_bytes += size
            while self._cache_bytes > cap:
                _, (_, dropped) = self._cache.popitem(last=False)
                self._cache_bytes -= dropped

    def _run(self, request: bytes, deadline: float | None, cancelled: Callable[[], bool]) -> bytes:
        lim = self.limits
        argv = [sys.executable, "-m", "p4sim.compile_worker"]
        argv += ["--cpu-seconds", str(lim.cpu_seconds), "--memory-mib", str(lim.memory_mib)]
        # a wall-clock bound too, for a child that waits instead of computing (generous: on a
        # loaded machine a child gets a fraction of a core)
        wall = time.monotonic() + 10 * lim.cpu_seconds + 60
        # The request goes in through a file: communicate() cannot resume writing to a pipe
        # after a timeout, and the child may be slow to start reading.
        with tempfile.TemporaryFile() as stdin:
            stdin.write(request)
            stdin.seek(0)
            try:
                proc = subprocess.Popen(
                    argv, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE
                )
            except OSError as exc:
                raise P4RuntimeError(UNAVAILABLE, f"cannot start the compiler: {exc}") from None
        try:
            while True:
                try:
                    out, err = proc.communicate(timeout=_POLL)
                    break
                except subprocess.TimeoutExpired:
                    pass
                if cancelled():
                    raise P4RuntimeError(CANCELLED, "the client went away: compile stopped")
                now = time.monotonic()
                if deadline is not None and now >= deadline:
                    raise P4RuntimeError(
                        CANCELLED, "the request's deadline passed while compiling: compile stopped"
                    )
                if now >= wall:
                    raise P4RuntimeError(
                        RESOURCE_EXHAUSTED,
                        f"compiling took more than {10 * lim.cpu_seconds + 60} s of wall-clock "
                        "time (10 x --compile-cpu-seconds + 60)",
                    )
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        if proc.returncode == -signal.SIGXCPU:
            raise P4RuntimeError(
                RESOURCE_EXHAUSTED,
                f"compiling took more than the {lim.cpu_seconds} s of CPU allowed "
                "(--compile-cpu-seconds)",
            )
        if proc.returncode == -signal.SIGKILL:
            raise P4RuntimeError(
                RESOURCE_EXHAUSTED,
                f"the compiler was killed: over the {lim.cpu_seconds} s of CPU "
                f"(--compile-cpu-seconds) or out of memory (--compile-memory-mib "
                f"{lim.memory_mib})",
            )
        if proc.returncode != 0 or not out:
            raise P4RuntimeError(
                RESOURCE_EXHAUSTED,
                f"the compiler stopped (exit {proc.returncode}), most likely over the "
                f"{lim.memory_mib} MiB allowed (--compile-memory-mib): "
                f"{err.decode('utf-8', 'replace')[-300:].strip()}",
            )
        return out

    def _unpack(self, reply: bytes) -> Program:
        from p4sim.compiler import Program  # the front end, loaded on first use

        try:
            kind, value = pickle.loads(reply)  # noqa: S301 - written by our own worker
        except Exception as exc:  # noqa: BLE001 - a reply we cannot read is our bug
            raise P4RuntimeError(INTERNAL, f"unreadable reply from the compiler: {exc}") from None
        if kind == "ok" and isinstance(value, Program):
            return value
        if kind == "exhausted":
            raise P4RuntimeError(RESOURCE_EXHAUSTED, f"p4_device_config: {value}")
        return_message = f"p4_device_config does not compile: {value}"
        raise P4RuntimeError(INVALID_ARGUMENT, return_message)
