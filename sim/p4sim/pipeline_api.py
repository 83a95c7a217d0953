"""The contract between the switch and the engine: what a pipeline is and what it returns.

:mod:`p4sim.switch` runs pipelines and :mod:`p4sim.engine` builds them; both import this
module, and it imports neither (only :mod:`p4sim.state`, for the type of the state a pipeline
reads), so the two stay independent of each other: the switch finds the engine at run time
(``p4sim.switch.default_pipeline_factory``) and the engine never needs the switch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from finsy.proto import p4i

    from p4sim.state import RuntimeState

DEFAULT_DROP_PORT = 511


class Result:
    """What one packet produced.

    ``outputs``: frames to transmit, ``(egress port, bytes)``; a frame sent to the CPU port is
    turned into a PacketIn by the switch (the ``packet_in`` controller header is parsed off
    its front), one sent to the drop port is discarded.  ``packet_ins``: PacketIns produced
    directly, ``(payload, {metadata name: value})``.  ``digests``: ``(digest id, values in
    the digest struct's field order)``.

    One is made per packet, so it is a plain class with slots (a dataclass with default
    factories cost a quarter more to build).
    """

    __slots__ = ("digests", "outputs", "packet_ins")

    def __init__(
        self,
        outputs: list[tuple[int, bytes]] | None = None,
        packet_ins: list[tuple[bytes, dict[str, int]]] | None = None,
        digests: list[tuple[int, tuple[int, ...]]] | None = None,
    ) -> None:
        self.outputs = [] if outputs is None else outputs
        self.packet_ins = [] if packet_ins is None else packet_ins
        self.digests = [] if digests is None else digests

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Result):
            return NotImplemented
        return (self.outputs, self.packet_ins, self.digests) == (
            other.outputs,
            other.packet_ins,
            other.digests,
        )

    __hash__ = None  # type: ignore[assignment]  # mutable, as the dataclass was

    def __repr__(self) -> str:
        return f"Result(outputs={self.outputs!r}, packet_ins={self.packet_ins!r}, digests={self.digests!r})"


class Pipeline(Protocol):
    def process(self, port: int, data: bytes) -> Result:
        """Run one frame received on ``port`` through the program.  Must not raise for any frame."""


class CompiledProgram(Protocol):
    """What a compiler returns (p4sim.compiler.Program): the engine takes it as is."""

    def p4info(self) -> p4i.P4Info:
        """The P4Info the program compiles to."""
        ...


class PipelineFactory(Protocol):
    def build(self, program: CompiledProgram, state: RuntimeState) -> Pipeline:
        """A pipeline for a compiled program that reads and updates ``state`` per packet.

        Called once per SetForwardingPipelineConfig (VERIFY included); it may install the
        program's const entries into ``state`` (``TableEntry(..., is_const=True)``).
        """


class DropPipeline:
    """Stand-in while no engine is available: every frame is dropped."""

    def process(self, port: int, data: bytes) -> Result:
        return Result()


class DropPipelineFactory:
    def build(self, program: CompiledProgram, state: RuntimeState) -> Pipeline:
        return DropPipeline()
