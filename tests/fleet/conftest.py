from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fleet.etcd_server import EtcdServer, etcd_binary, running_etcd
from tests.support.p4sim import P4simProcess, PipelineFiles, compile_pipeline


@pytest.fixture(scope="module")
def etcd() -> Iterator[EtcdServer]:
    if etcd_binary() is None:
        pytest.skip("etcd is not installed (Debian package etcd-server)")
    with running_etcd() as server:
        yield server


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> PipelineFiles:
    return compile_pipeline(tmp_path_factory.mktemp("pipeline"))


@pytest.fixture
def switches(tmp_path: Path) -> Iterator[list[P4simProcess]]:
    """Two p4sim switches, each logging every Write it accepts (writes-I.jsonl)."""
    procs = [
        P4simProcess(target_args=["--write-log", str(tmp_path / f"writes-{i}.jsonl")]).start(
            tmp_path
        )
        for i in range(2)
    ]
    yield procs
    for p in procs:
        p.stop()
