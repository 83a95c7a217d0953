"""Fixtures for the engine tests: the NVGRE program compiled once per session."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from nvgre_support import compile_nvgre  # noqa: E402


@pytest.fixture(scope="session")
def nvgre_program():
    return compile_nvgre()
