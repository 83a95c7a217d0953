"""Runtime state of a p4sim pipeline: tables, counters, meters, registers, PRE, digest config.

Plain Python values only (ints and tuples), so the per-packet path never touches protobufs.
See docs/p4sim-runtime-state.md for the API the engine uses.
"""

from p4sim.state.externs import CounterArray, RegisterArray
from p4sim.state.meters import GREEN, RED, YELLOW, MeterArray, MeterCell, MeterConfig, MeterSpec
from p4sim.state.pre import CloneSession, PacketReplicationEngine
from p4sim.state.runtime import (
    ActionInfo,
    DigestConfig,
    DigestInfo,
    PacketMetadataField,
    ParamSpec,
    RuntimeState,
    StateBuildError,
    TableInfo,
    build_state,
)
from p4sim.state.tables import (
    ExactTable,
    FieldSpec,
    LpmTable,
    MatchKind,
    Table,
    TableEntry,
    TableError,
    TernaryTable,
    make_table,
)

__all__ = [
    "GREEN",
    "RED",
    "YELLOW",
    "ActionInfo",
    "CloneSession",
    "CounterArray",
    "DigestConfig",
    "DigestInfo",
    "ExactTable",
    "FieldSpec",
    "LpmTable",
    "MatchKind",
    "MeterArray",
    "MeterCell",
    "MeterConfig",
    "MeterSpec",
    "PacketMetadataField",
    "PacketReplicationEngine",
    "ParamSpec",
    "RegisterArray",
    "RuntimeState",
    "StateBuildError",
    "Table",
    "TableEntry",
    "TableError",
    "TableInfo",
    "TernaryTable",
    "build_state",
    "make_table",
]
