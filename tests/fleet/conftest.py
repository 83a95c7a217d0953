from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fleet.etcd_server import EtcdServer, etcd_binary, running_etcd


@pytest.fixture(scope="module")
def etcd() -> Iterator[EtcdServer]:
    if etcd_binary() is None:
        pytest.skip("etcd is not installed (Debian package etcd-server)")
    with running_etcd() as server:
        yield server
