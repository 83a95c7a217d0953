"""p4sim's execution engine: a compiled v1model program as fast straight-line Python.

Public API::

    from p4sim import engine
    pipeline = engine.load(program, state)      # program: p4sim.compiler.Program (or its IR)
    result = pipeline.process(port, frame)      # p4sim.pipeline_api.Result
    engine.pipeline_factory()                   # what p4sim.switch uses per pipeline config

See docs/p4sim-engine.md for the code generation scheme and the bmv2 semantics it follows.
"""

from __future__ import annotations

from typing import Any

from ..pipeline_api import DEFAULT_DROP_PORT
from .errors import EngineError
from .pipeline import PipelineFactory, V1ModelPipeline
from .reentry import MAX_PASSES

__all__ = [
    "MAX_PASSES",
    "EngineError",
    "PipelineFactory",
    "V1ModelPipeline",
    "load",
    "pipeline_factory",
]


def load(
    program: Any,
    state: Any | None = None,
    *,
    drop_port: int = DEFAULT_DROP_PORT,
    seed: int | None = None,
    max_passes: int = MAX_PASSES,
    specialize: bool | None = None,
    record_after: int | None = None,
) -> V1ModelPipeline:
    """Compile ``program`` into a pipeline bound to ``state`` (a p4sim.state.RuntimeState;
    built from the program's P4Info when omitted). Const entries are installed into state.
    ``max_passes`` bounds the ingress passes (resubmit/recirculate) of one received frame.
    ``specialize`` (default: on unless the environment sets P4SIM_SPECIALIZE=0) runs the
    packet paths seen often as specialised straight-line code, built after ``record_after``
    packets on a port took no path built so far (default 8, or P4SIM_RECORD_AFTER; see
    p4sim.engine.paths)."""
    if state is None:
        from ..state import build_state

        state = build_state(program.p4info())
    return V1ModelPipeline(
        program,
        state,
        drop_port=drop_port,
        seed=seed,
        max_passes=max_passes,
        specialize=specialize,
        record_after=record_after,
    )


def pipeline_factory(drop_port: int = DEFAULT_DROP_PORT) -> PipelineFactory:
    """The factory p4sim.switch calls for every SetForwardingPipelineConfig."""
    return PipelineFactory(drop_port)
