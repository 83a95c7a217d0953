"""Fixtures for the engine tests: the NVGRE program compiled once per session."""

from __future__ import annotations

import pytest

from p4sim.compiler import Program
from tests.sim.engine.nvgre_support import compile_nvgre


@pytest.fixture(scope="session")
def nvgre_program() -> Program:
    return compile_nvgre()
