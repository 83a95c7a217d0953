"""Verifying a pipeline config a client sent: the server trusts nothing in it.

The device config is parsed (every malformed or over-limit one is INVALID_ARGUMENT or
RESOURCE_EXHAUSTED naming what is wrong), its program compiled (in a child process with
limits when the switch's compiler is a :class:`~p4sim.sandbox_compiler.ChildCompiler`), the
P4Info built from that program and compared with the P4Info sent, whatever digest the
client wrote, naming the first difference; then the state and the pipeline are built.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from google.protobuf.message import Message

from p4sim.device_config import DeviceConfigError, DeviceConfigTooLarge, parse_device_config
from p4sim.sandbox_compiler import ChildCompiler, collector_paused
from p4sim.state import StateBuildError, build_state
from p4sim.status import INTERNAL, INVALID_ARGUMENT, RESOURCE_EXHAUSTED, P4RuntimeError

if TYPE_CHECKING:
    from finsy.proto import p4i

    from p4sim.pipeline_api import CompiledProgram
    from p4sim.switch import PipelineConfig, Switch

log = logging.getLogger("p4sim.server")


def first_difference(ours: Message, sent: Message, path: str = "p4info") -> str | None:
    """Where two messages first differ (a field path and both values), or None if equal."""
    if ours == sent:
        return None
    for fd in ours.DESCRIPTOR.fields:
        name = f"{path}.{fd.name}"
        a, b = getattr(ours, fd.name), getattr(sent, fd.name)
        if a == b:
            continue
        if not isinstance(a, (Message, str, bytes, int, float)):  # a repeated field
            for i in range(max(len(a), len(b))):
                label = _label(a[i] if i < len(a) else b[i], f"{name}[{i}]")
                if i >= len(a):
                    return f"{label} is only in the P4Info sent"
                if i >= len(b):
                    return f"{label} is missing from the P4Info sent"
                if a[i] != b[i]:
                    if isinstance(a[i], Message):
                        return first_difference(a[i], b[i], label)
                    return f"{label}: {a[i]!r} in the program, {b[i]!r} in the P4Info sent"
            continue
        if isinstance(a, Message):
            return first_difference(a, b, name)
        return f"{name}: {a!r} in the program, {b!r} in the P4Info sent"
    return f"{path} differs"


def _label(item: object, fallback: str) -> str:
    """``tables['ingress.t']`` for an entity with a preamble, else the indexed path."""
    preamble = getattr(item, "preamble", None)
    name = getattr(preamble, "name", "") if preamble is not None else ""
    if name:
        return f"{fallback.rsplit('[', 1)[0]}[{name!r}]"
    return fallback


def _compile(
    switch: Switch, device_config: bytes, deadline: float | None, cancelled: Callable[[], bool]
) -> CompiledProgram:
    try:
        cfg = parse_device_config(device_config)
    except DeviceConfigTooLarge as exc:
        raise P4RuntimeError(RESOURCE_EXHAUSTED, str(exc)) from None
    except DeviceConfigError as exc:
        raise P4RuntimeError(INVALID_ARGUMENT, str(exc)) from None
    compiler = switch.compiler
    if isinstance(compiler, ChildCompiler):
        return compiler.compile(
            cfg.source, cfg.filename, cfg.files, deadline=deadline, cancelled=cancelled
        )
    if cfg.files:
        raise P4RuntimeError(
            INVALID_ARGUMENT,
            "p4_device_config field 'files': this switch's compiler takes no included files",
        )
    try:
        return compiler(cfg.source, cfg.filename)
    except RecursionError:
        raise P4RuntimeError(
            RESOURCE_EXHAUSTED,
            "p4_device_config: the program nests too deeply for p4sim's compiler (Python's "
            f"recursion limit, {sys.getrecursionlimit()} frames)",
        ) from None
    except Exception as exc:  # noqa: BLE001 - CompileError, or what the front end did not foresee
        raise P4RuntimeError(
            INVALID_ARGUMENT, f"p4_device_config does not compile: {str(exc)[:1000]}"
        ) from None


def verify_config(
    switch: Switch,
    p4info: p4i.P4Info,
    device_config: bytes,
    cookie: int | None,
    *,
    deadline: float | None = None,
    cancelled: Callable[[], bool] = lambda: False,
) -> PipelineConfig:
    """A verified pipeline config for ``switch``, applying nothing (see the module's doc)."""
    if not p4info.ByteSize():
        raise P4RuntimeError(INVALID_ARGUMENT, "ForwardingPipelineConfig has no p4info")
    program = _compile(switch, device_config, deadline, cancelled)
    with collector_paused():  # the P4Info and the pipeline are made in time linear in the program
        return _build(switch, program, p4info, device_config, cookie)


def _build(
    switch: Switch,
    program: CompiledProgram,
    p4info: p4i.P4Info,
    device_config: bytes,
    cookie: int | None,
) -> PipelineConfig:
    from p4sim.switch import PipelineConfig  # the switch module imports the engine contract

    difference = first_difference(program.p4info(), p4info)
    if difference is not None:
        raise P4RuntimeError(
            INVALID_ARGUMENT,
            "the P4Info does not belong to the program in p4_device_config: " + difference,
        )
    try:
        state = build_state(p4info)
    except StateBuildError as exc:
        raise P4RuntimeError(INVALID_ARGUMENT, f"p4info: {exc}") from None
    started = time.monotonic()
    try:
        pipeline = switch.pipeline_factory.build(program, state)
    except RecursionError:
        raise P4RuntimeError(
            RESOURCE_EXHAUSTED,
            "p4_device_config: the program nests too deeply for p4sim's engine (Python's "
            f"recursion limit, {sys.getrecursionlimit()} frames)",
        ) from None
    except SyntaxError as exc:
        if not str(exc.msg).startswith("too many"):  # anything else is the engine's bug
            raise _build_error(exc) from None
        raise P4RuntimeError(
            RESOURCE_EXHAUSTED,
            f"p4_device_config: the program nests too deeply for p4sim's engine ({exc.msg}: "
            "Python's limit is 100 nested blocks)",
        ) from None
    except MemoryError:
        raise P4RuntimeError(
            RESOURCE_EXHAUSTED, "p4_device_config: the program needs more memory than p4sim has"
        ) from None
    except Exception as exc:  # noqa: BLE001 - sorted below
        raise _build_error(exc) from None
    log.debug("pipeline built in %.2f s", time.monotonic() - started)
    return PipelineConfig(p4info, device_config, cookie, program, state, pipeline)


def _build_error(exc: Exception) -> P4RuntimeError:
    """A program the engine cannot run is the client's (INVALID_ARGUMENT); anything else is a
    bug in the engine: INTERNAL, logged with its traceback, the running pipeline stays."""
    from p4sim.engine.errors import EngineError  # lazily: it loads the whole engine package

    if isinstance(exc, EngineError):
        return P4RuntimeError(INVALID_ARGUMENT, f"p4_device_config cannot run on p4sim: {exc}")
    log.error("building the pipeline failed", exc_info=exc)
    return P4RuntimeError(INTERNAL, f"building the pipeline failed: {type(exc).__name__}: {exc}")
