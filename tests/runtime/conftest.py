"""Fixtures of the controller tests that run real p4sim switches: the pipeline, compiled
once per test module, and a pair of switches per test."""

from __future__ import annotations

import pytest

from tests.support.p4sim import P4simProcess, compile_pipeline


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    return compile_pipeline(tmp_path_factory.mktemp("pipeline"))


@pytest.fixture
def switches(tmp_path, pipeline):
    procs = [P4simProcess().start(tmp_path), P4simProcess().start(tmp_path)]
    yield procs
    for p in procs:
        p.stop()
