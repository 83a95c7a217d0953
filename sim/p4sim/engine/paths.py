"""Which packets run a specialised path, and when a new path is recorded and built.

Per ingress port the pipeline keeps a few specialised functions (see ``specialize``), tried
in turn before the generic function. A packet none of them takes is a *miss*; after
``record_after`` misses on a port, the next one runs through the recording variant of the
generic function (the same code with every ``if`` outcome and ``for`` length logged, so it
does what the generic function does), and its path is specialised and compiled.

Building a path costs 10-20 ms, so the time spent building is capped at a share of the
pipeline's lifetime (``budget_share``, plus ``budget_start_s`` at start): traffic where every
packet takes a new path (a fuzzer, a scan) cannot turn the switch into a compiler. A port
keeps at most ``per_port`` paths; when full, the one with the fewest hits since the last
build on that port is replaced.
"""

from __future__ import annotations

import ast
import copy
import gc
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .calls import CallKind
from .specialize import Specializer, Unspecializable, number_branches, specializable, stored_names

log = logging.getLogger("p4sim.engine.paths")

Frames = list[tuple[int, bytes]]  # (egress port, frame), as p4sim.pipeline_api.Result.outputs
Digests = list[tuple[int, tuple[int, ...]]]  # (digest id, values), as Result.digests
PacketFn = Callable[[int, bytes, Frames, Digests], Any]


@dataclass
class PathStats:
    """What the path cache did (for tests, benchmarks and the engine's debug log)."""

    built: int = 0  # paths compiled
    refused: int = 0  # recorded paths that cannot be specialised (meters, registers, ...)
    evicted: int = 0
    build_seconds: float = 0.0
    refusals: dict[str, int] = field(default_factory=dict)  # reason -> count


class _Path:
    __slots__ = ("fn", "hits", "source")

    def __init__(self, fn: PacketFn, hits: list[int], source: str) -> None:
        self.fn = fn
        self.hits = hits
        self.source = source


class _Recorder:
    """The outcome log the recording variant writes into (one packet at a time)."""

    def __init__(self) -> None:
        self.log: list[tuple[int, Any]] = []

    def branch(self, bid: int, value: Any) -> Any:
        self.log.append((bid, bool(value)))
        return value

    def loop(self, bid: int, items: Any) -> Any:
        self.log.append((bid, len(items)))
        return items


class _Instrument(ast.NodeTransformer):
    def visit_If(self, node: ast.If) -> ast.If:
        self.generic_visit(node)
        bid = node._bid  # type: ignore[attr-defined]  # set by number_branches
        node.test = ast.Call(ast.Name("_br", ast.Load()), [ast.Constant(bid), node.test], [])
        return node

    def visit_For(self, node: ast.For) -> ast.For:
        self.generic_visit(node)
        bid = node._bid  # type: ignore[attr-defined]  # set by number_branches
        node.iter = ast.Call(ast.Name("_bf", ast.Load()), [ast.Constant(bid), node.iter], [])
        return node


class PathCache:
    """The specialised paths of one compiled program, per ingress port."""

    def __init__(
        self,
        source: str,
        namespace: dict[str, Any],
        generic: PacketFn,
        *,
        calls: Mapping[str, CallKind],
        record_after: int = 8,
        per_port: int = 4,
        budget_share: float = 0.05,
        budget_start_s: float = 1.0,
        filename: str = "<p4sim-path>",
    ) -> None:
        self.ns = namespace
        self.calls = calls  # what calling each global does (p4sim.engine.calls)
        self.generic = generic
        self.record_after = max(1, record_after)
        self.per_port = max(1, per_port)
        self.budget_share = budget_share
        self.budget_start_s = budget_start_s
        self.filename = filename
        self.stats = PathStats()
        self.by_port: dict[int, list[PacketFn]] = {}
        self._paths: dict[int, list[_Path]] = {}
        self._misses: dict[int, int] = {}
        self._born = time.perf_counter()
        module = ast.parse(source)
        fn = next(n for n in module.body if isinstance(n, ast.FunctionDef) and n.name == "_process")
        self.why_not = specializable(fn)
        self.enabled = self.why_not is None
        self._fn = fn
        self._recording: PacketFn | None = None
        self._recorder = _Recorder()
        if self.enabled:
            number_branches(fn)
            self._locals = stored_names(fn)
            self._recording = self._compile_recording(module)

    def _compile_recording(self, module: ast.Module) -> PacketFn:
        rec_module = copy.deepcopy(module)
        for node in rec_module.body:
            if isinstance(node, ast.FunctionDef) and node.name == "_process":
                _Instrument().visit(node)
        ast.fix_missing_locations(rec_module)
        ns = dict(self.ns)
        ns["_br"] = self._recorder.branch
        ns["_bf"] = self._recorder.loop
        exec(compile(rec_module, f"{self.filename}:recording", "exec"), ns)  # noqa: S102 - p4sim's own generated code
        recording: PacketFn = ns["_process"]
        return recording

    # -- per packet (misses only) ---------------------------------------------------------------
    def miss(self, port: int, data: bytes, out: Frames, digests: Digests) -> None:
        """Run a packet no specialised path took; record and build its path when due."""
        n = self._misses.get(port, 0) + 1
        if n < self.record_after or not self.enabled or not self._within_budget():
            self._misses[port] = n
            self.generic(port, data, out, digests)
            return
        self._misses[port] = 0
        rec = self._recorder
        rec.log = []
        assert self._recording is not None
        self._recording(port, data, out, digests)
        started = time.perf_counter()
        collecting = gc.isenabled()
        if collecting:
            # a build makes thousands of short-lived AST nodes and no cycles: with the
            # collector on, they trigger full collections over the switch's whole heap
            # (a hundred thousand table entries), which tripled the build time
            gc.disable()
        try:
            self._build(port, rec.log)
        finally:
            if collecting:
                gc.enable()
            self.stats.build_seconds += time.perf_counter() - started

    def _within_budget(self) -> bool:
        alive = time.perf_counter() - self._born
        return self.stats.build_seconds < self.budget_start_s + self.budget_share * alive

    def _build(self, port: int, records: list[tuple[int, Any]]) -> None:
        try:
            spec = Specializer(self._fn, records, self.ns, self._locals, self.calls)
            fn_ast = spec.build("_path")
        except Unspecializable as exc:
            self.stats.refused += 1
            reason = str(exc).split(": ", 1)[-1]
            self.stats.refusals[reason] = self.stats.refusals.get(reason, 0) + 1
            log.debug("path on port %d not specialised: %s", port, exc)
            return
        hits = [0]
        fn_ast.body.insert(len(fn_ast.body) - 1, _count_hit())
        ns = dict(self.ns)
        ns["_hits"] = hits
        # compiled from its source text: line numbers in tracebacks and profiles are its own
        source = ast.unparse(fn_ast)
        exec(compile(source, f"{self.filename}:path{self.stats.built + 1}", "exec"), ns)  # noqa: S102 - p4sim's own generated code
        paths = self._paths.setdefault(port, [])
        if len(paths) >= self.per_port:
            victim = min(paths, key=lambda p: p.hits[0])
            paths.remove(victim)
            self.stats.evicted += 1
        for p in paths:
            p.hits[0] = 0
        paths.insert(0, _Path(ns["_path"], hits, source))
        self.by_port[port] = [p.fn for p in paths]
        self.stats.built += 1
        log.debug(
            "path %d built for port %d: %d statements", self.stats.built, port, len(fn_ast.body)
        )

    def source_of(self, records: list[tuple[int, Any]]) -> str:
        """The specialised source for a recorded path (for tests and debugging)."""
        return ast.unparse(
            Specializer(self._fn, records, self.ns, self._locals, self.calls).build("_path")
        )

    def calls_kept(
        self, records: list[tuple[int, Any]], calls: Mapping[str, CallKind] | None = None
    ) -> dict[str, int]:
        """The calls the specialised path for ``records`` keeps, by kind ("pure", "folded",
        "read", "deferred", "memo fill"), with ``calls`` in place of the program's records
        if given (for tests: what the specialiser makes of the code generator's records)."""
        spec = Specializer(
            self._fn, records, self.ns, self._locals, self.calls if calls is None else calls
        )
        spec.build("_path")
        return dict(spec.handled)

    def record(self, port: int, data: bytes) -> tuple[list[tuple[int, Any]], Frames, Digests]:
        """Run one packet through the recording variant: (path record, outputs, digests)."""
        if self._recording is None:
            raise Unspecializable(self.why_not or "specialisation is off")
        self._recorder.log = []
        out: Frames = []
        digests: Digests = []
        self._recording(port, data, out, digests)
        return self._recorder.log, out, digests


def _count_hit() -> ast.stmt:
    return ast.AugAssign(
        ast.Subscript(ast.Name("_hits", ast.Load()), ast.Constant(0), ast.Store()),
        ast.Add(),
        ast.Constant(1),
    )
