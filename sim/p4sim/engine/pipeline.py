"""The runnable pipeline: the generated packet function compiled once, plus its runtime.

``process`` picks one of two compilations of the same program: the fast one, or (when the
``p4sim.engine.trace`` logger is enabled for DEBUG) one that logs every parser state,
table lookup, action and drop like bmv2's ``--log-console``. Both are built from the IR
once; the traced one on first use.
"""

from __future__ import annotations

import itertools
import logging
import os
import random
import time
from collections.abc import Callable
from typing import Any

from ..pipeline_api import DEFAULT_DROP_PORT, Result
from . import algorithms
from .calls import BUILTIN_CALLS, DEFERRED, FOLDABLE, PURE, CallKind
from .errors import EngineError
from .paths import PathCache
from .reentry import MAX_PASSES, RESUBMIT
from .v1model import generate

log = logging.getLogger("p4sim.engine")
trace_log = logging.getLogger("p4sim.engine.trace")
_tracing = trace_log.isEnabledFor  # bound once: process asks it for every packet
_DEBUG = logging.DEBUG
msg_log = logging.getLogger("p4sim.engine.log_msg")


class _Exit(Exception):
    """Raised by `exit;` to leave the current top-level control."""


def _pack_bytes(acc: int, bits: int) -> bytes:
    pad = -bits % 8
    return (acc << pad).to_bytes((bits + pad) // 8, "big")


def _sat_s(v: int, w: int) -> int:
    lo, hi = -(1 << (w - 1)), (1 << (w - 1)) - 1
    return max(lo, min(hi, v)) & ((1 << w) - 1)


# What calling each helper of V1ModelPipeline._globals does, for the path specialiser (see
# p4sim.engine.calls); a helper not named here (_xor16, _randint, the tracers) keeps the
# generic function.
HELPER_CALLS: dict[str, CallKind] = {
    "_crc16": PURE,
    "_crc32": PURE,
    "_csum16": PURE,
    "_csum16_int": FOLDABLE,
    "_identity": PURE,
    "_pack_bytes": FOLDABLE,
    "_sat_s": PURE,
    "_now": PURE,
    "_ts": PURE,
    "_log_msg": DEFERRED,
    "_assert_failed": DEFERRED,
}


class V1ModelPipeline:
    """A compiled v1model program bound to one RuntimeState (see p4sim.pipeline_api.Pipeline)."""

    def __init__(
        self,
        program: Any,
        state: Any,
        *,
        drop_port: int = DEFAULT_DROP_PORT,
        seed: int | None = None,
        max_passes: int = MAX_PASSES,
        specialize: bool | None = None,
        record_after: int | None = None,
    ) -> None:
        self.program = program
        self.ir = getattr(program, "ir", program)
        self.state = state
        self.drop_port = drop_port
        self._rng = random.Random(seed)
        self._start_ns = time.monotonic_ns()
        self._pkt_ids = itertools.count()
        self._pkt_id = 0
        gen = generate(self.ir, state, drop_port=drop_port, trace=False)
        self.source = gen.source
        self._fast_ns: dict[str, Any] = {}
        self._fast = self._compile(gen, "fast", self._fast_ns)
        self._traced: Callable[..., None] | None = None
        if specialize is None:
            specialize = os.environ.get("P4SIM_SPECIALIZE", "1") != "0"
        if record_after is None:
            # P4SIM_RECORD_AFTER=1 builds a path for nearly every packet: a stress setting
            # for running a whole test suite through specialised paths
            record_after = int(os.environ.get("P4SIM_RECORD_AFTER", "8") or 8)
        # per ingress port, the specialised paths tried before the generic function
        self.paths: PathCache | None = None
        self._by_port: dict[int, list[Callable[..., Any]]] = {}
        if specialize and not gen.reentry:
            self.paths = PathCache(
                gen.source,
                self._fast_ns,
                self._fast,
                calls={**BUILTIN_CALLS, **HELPER_CALLS, **gen.calls},
                record_after=record_after,
                filename=f"<p4sim-engine:{getattr(program, 'filename', 'program')}",
            )
            if self.paths.enabled:
                self._by_port = self.paths.by_port
            else:
                log.debug("paths are not specialised: %s", self.paths.why_not)
                self.paths = None
        # resubmit/recirculate: ingress passes allowed per received frame, and the re-entry
        # requests dropped because a frame reached that many
        self.max_passes = max(1, max_passes)
        self.pass_limit_drops = 0
        if gen.reentry:
            # only programs that resubmit or recirculate pay for the re-entry loop
            self.process = self._process_reentrant  # type: ignore[method-assign]  # chosen once per program

    # -- compilation ---------------------------------------------------------------------------
    def _globals(self) -> dict[str, Any]:
        """The helpers every generated function may call (what each call does: HELPER_CALLS)."""
        return {
            "_EXIT": _Exit(),
            "_Exit": _Exit,
            "_crc16": algorithms.crc16,
            "_crc32": algorithms.crc32,
            "_csum16": algorithms.csum16,
            "_csum16_int": algorithms.csum16_of_int,
            "_identity": algorithms.identity,
            "_xor16": algorithms.xor16,
            "_pack_bytes": _pack_bytes,
            "_sat_s": _sat_s,
            "_now": time.monotonic_ns,
            "_ts": self._timestamp_us,
            "_randint": self._rng.randint,
            "_log_msg": self._log_msg,
            "_assert_failed": self._assert_failed,
            "_tr": self._trace,
            "_tr_table": self._trace_table,
        }

    def _compile(
        self, gen: Any, label: str, namespace: dict[str, Any] | None = None
    ) -> Callable[..., None]:
        if namespace is None:
            namespace = {}
        namespace.update(self._globals())
        namespace.update(gen.bindings)
        filename = f"<p4sim-engine:{getattr(self.program, 'filename', 'program')}:{label}>"
        try:
            code = compile(gen.source, filename, "exec")
        except SyntaxError as exc:  # a generator bug: report it with the offending line
            raise EngineError(f"internal error: generated code does not compile: {exc}") from exc
        exec(code, namespace)  # noqa: S102 - the code generated from the program, compiled above
        process: Callable[..., None] = namespace["_process"]
        return process

    def _traced_fn(self) -> Callable[..., None]:
        if self._traced is None:
            gen = generate(self.ir, self.state, drop_port=self.drop_port, trace=True)
            self._traced = self._compile(gen, "traced")
        return self._traced

    # -- per packet ------------------------------------------------------------------------------
    def process(self, port: int, data: bytes) -> Result:
        """Run one frame received on ``port``; never raises for any frame content."""
        out: list[tuple[int, bytes]] = []
        digests: list[tuple[int, tuple[int, ...]]] = []
        if type(data) is not bytes:
            data = bytes(data)
        if _tracing(_DEBUG):
            self._pkt_id = next(self._pkt_ids)
            self._trace(f"Processing packet received on port {port & 0x1FF}, {len(data)} bytes")
            self._traced_fn()(port & 0x1FF, data, out, digests)
            return Result(out, [], digests)
        port &= 0x1FF
        fns = self._by_port.get(port)
        if fns is not None:
            for fn in fns:
                if fn(port, data, out, digests):
                    return Result(out, [], digests)
        if self.paths is not None:
            self.paths.miss(port, data, out, digests)
        else:
            self._fast(port, data, out, digests)
        return Result(out, [], digests)

    def _process_reentrant(self, port: int, data: bytes) -> Result:
        """``process`` for a program that resubmits or recirculates: the frame's first pass,
        then every re-entry request in the order made (bmv2 gives them priority over new
        frames), until none is left or ``max_passes`` ingress passes have run."""
        out: list[tuple[int, bytes]] = []
        digests: list[tuple[int, tuple[int, ...]]] = []
        again: list[tuple[bytes, tuple[int, int, tuple[int, ...]]]] = []
        if type(data) is not bytes:
            data = bytes(data)
        port &= 0x1FF
        traced = trace_log.isEnabledFor(logging.DEBUG)
        if traced:
            self._pkt_id = next(self._pkt_ids)
            self._trace(f"Processing packet received on port {port}, {len(data)} bytes")
            fn = self._traced_fn()
        else:
            fn = self._fast
        fn(port, data, out, digests, again)
        done = 0
        while done < len(again):
            if done + 1 >= self.max_passes:
                self._pass_limit(len(again) - done, traced)
                break
            frame, request = again[done]
            done += 1
            if traced:
                kind = "resubmitted" if request[0] == RESUBMIT else "recirculated"
                self._trace(
                    f"Processing {kind} packet, {len(frame)} bytes "
                    f"(pass {done + 1} of at most {self.max_passes})"
                )
            fn(port, frame, out, digests, again, request)
        return Result(out, [], digests)

    def _pass_limit(self, dropped: int, traced: bool) -> None:
        """Drop the re-entries beyond the pass limit: counted, logged once per pipeline (a
        looping program would otherwise log every frame) and in the trace."""
        if not self.pass_limit_drops:
            log.warning(
                "a frame reached %d ingress passes (resubmit/recirculate); further "
                "re-entries are dropped (counted in pass_limit_drops)",
                self.max_passes,
            )
        self.pass_limit_drops += dropped
        if traced:
            self._trace(
                f"Dropping {dropped} resubmitted/recirculated packet(s): "
                f"{self.max_passes} ingress passes reached"
            )

    # -- runtime helpers used by the generated code ---------------------------------------------
    def _timestamp_us(self) -> int:
        return ((time.monotonic_ns() - self._start_ns) // 1000) & 0xFFFFFFFFFFFF

    def _log_msg(self, fmt: str, values: tuple[int, ...]) -> None:
        if msg_log.isEnabledFor(logging.INFO):
            text = fmt
            for v in values:
                text = text.replace("{}", str(v), 1)
            msg_log.info("%s", text)

    def _assert_failed(self, where: str) -> None:
        log.error("assert/assume failed at %s", where)

    def _trace(self, msg: str) -> None:
        trace_log.debug("[%d] %s", self._pkt_id, msg)

    def _trace_table(self, name: str, key: tuple[int, ...], result: Any) -> None:
        action_id, params, entry = result
        action = self.state.actions.get(action_id)
        aname = action.name if action is not None else "(none)"
        keytext = ", ".join(hex(k) for k in key)
        if entry is None:
            trace_log.debug(
                "[%d] Table '%s': key (%s): miss, default action %s%s",
                self._pkt_id,
                name,
                keytext,
                aname,
                params,
            )
        else:
            trace_log.debug(
                "[%d] Table '%s': key (%s): hit entry %s priority %d, action %s%s",
                self._pkt_id,
                name,
                keytext,
                entry.match,
                entry.priority,
                aname,
                params,
            )


class PipelineFactory:
    """What p4sim.switch loads: builds a V1ModelPipeline per pipeline config."""

    def __init__(self, drop_port: int = DEFAULT_DROP_PORT) -> None:
        self.drop_port = drop_port

    def build(self, program: Any, state: Any) -> V1ModelPipeline:
        return V1ModelPipeline(program, state, drop_port=self.drop_port)
