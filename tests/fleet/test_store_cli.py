"""`nve import` and `nve endpoint` on the command line, against a real etcd."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from nve.cli import EXIT_FAILED, EXIT_INVALID, EXIT_OK, EXIT_USAGE, main
from tests.fleet.etcd_server import EtcdServer
from tests.fleet.store_util import EXAMPLE


def nve(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_import_then_change_endpoints(etcd: EtcdServer, capsys: pytest.CaptureFixture[str]) -> None:
    store = f"{etcd.url}/cli{secrets.token_hex(4)}"
    code, out, _ = nve(capsys, "import", str(EXAMPLE), "--store", store, "--no-pipeline")
    assert code == EXIT_OK and "current overlay in" in out
    add = [
        "endpoint",
        "add",
        "--store",
        store,
        "w3",
        "--vsid",
        "0x001001",
        "--ipv4",
        "192.168.10.5",
    ]
    code, _, err = nve(
        capsys, *add, "--mac", "52:54:00:b1:00:01", "--switch", "tor2", "--port", "1"
    )
    assert code == EXIT_INVALID
    assert "MAC 52:54:00:b1:00:01 is already in VSID 0x001001 (endpoint blue-web1)" in err
    code, _, err = nve(capsys, *add, "--mac", "zz", "--switch", "tor2", "--port", "1")
    assert code == EXIT_USAGE and "--mac: 'zz' is not a MAC address" in err
    code, _, err = nve(capsys, *add, "--mac", "52:54:00:b1:00:33", "--switch", "tor2")
    assert code == EXIT_USAGE and "give --switch and --port, or --remote-nve" in err
    code, out, _ = nve(
        capsys, *add, "--mac", "52:54:00:b1:00:33", "--switch", "tor2", "--port", "1"
    )
    assert code == EXIT_OK and "endpoint w3: add done" in out
    move = ["endpoint", "move", "--store", store, "w3", "--switch", "tor1", "--port", "1"]
    code, out, err = nve(capsys, *move, "--vlan", "100")
    assert code == EXIT_OK, err
    code, out, err = nve(capsys, "endpoint", "remove", "--store", store, "w3")
    assert code == EXIT_OK, err
    code, out, err = nve(capsys, "endpoint", "remove", "--store", store, "w3")
    assert code == EXIT_INVALID and "no endpoint w3" in err


def test_rejected_import_prints_the_problems(
    etcd: EtcdServer, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(EXAMPLE.read_text().replace("vsid: 0x002001", "vsid: 0x001001"))
    store = f"{etcd.url}/cli{secrets.token_hex(4)}"
    code, _, err = nve(capsys, "import", str(bad), "--store", store, "--no-pipeline")
    assert code == EXIT_INVALID and "bad.yaml:" in err and "0x001001 is already used" in err
    code, _, err = nve(capsys, "endpoint", "remove", "--store", store, "w3")
    assert code == EXIT_FAILED and "no overlay stored under" in err


def test_unreachable_or_malformed_store(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = nve(capsys, "endpoint", "remove", "--store", "http://x", "w3")
    assert code == EXIT_USAGE and "is not a store address" in err
