"""`nve import` and `nve endpoint` on the command line, against a real etcd."""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path

import pytest

from nve.cli import EXIT_FAILED, EXIT_INVALID, EXIT_OK, EXIT_USAGE, main
from nve.model import LocalAttachment
from nve.store.etcd import Etcd
from nve.store.reader import read_overlay
from nve.store.url import StoreUrl
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


def test_apply_commits_a_file_of_changes_and_reports_each_refusal(
    etcd: EtcdServer, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    store = _imported(etcd, capsys)
    good = tmp_path / "changes.yaml"
    good.write_text(
        "changes:\n"
        "  - remove: red-app2\n"
        "  - move: {name: blue-web1, attachment: {switch: tor2, port: 2}}\n"
        "  - add: {name: w9, vsid: 0x001001, mac: '52:54:00:b1:00:09', ipv4: 192.168.10.19,\n"
        "          attachment: {switch: tor1, port: 1, vlan: 100}}\n"
    )
    code, out, err = nve(capsys, "endpoint", "apply", "--store", store, str(good))
    assert code == EXIT_OK, err
    assert "endpoint blue-web1: move done at revision" in out
    assert "3 changes committed in 1 transaction(s)" in out
    partly = tmp_path / "partly.yaml"
    partly.write_text(
        "changes:\n"
        "  - move: {name: w9, attachment: {switch: tor2, port: 1}}\n"
        "  - add: {name: w10, vsid: 0x001001, mac: '52:54:00:b1:00:09',\n"
        "          attachment: {switch: tor1, port: 1, vlan: 100}}\n"
        "  - remove: nobody\n"
    )
    code, out, err = nve(capsys, "endpoint", "apply", "--store", store, str(partly))
    assert code == EXIT_INVALID
    assert "endpoint w9: move done at revision" in err
    assert "1 of 3 changes committed; refused:" in err
    assert (
        f"{partly}: changes[1] (add w10): MAC 52:54:00:b1:00:09 is already in VSID 0x001001"
        " (endpoint w9)" in err
    )
    assert f"{partly}: changes[2] (remove nobody): no endpoint nobody" in err


def test_apply_names_file_and_line_of_a_malformed_change(
    etcd: EtcdServer, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    store = _imported(etcd, capsys)
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "changes:\n"
        "  - move: {name: blue-web1, attachment: {switch: tor2, port: 1}}\n"
        "  - move: {name: blue-web2, attachment: {switch: tor2, port: '1'}}\n"
        "  - rename: {name: x}\n"
        "  - remove: blue-web1\n"
    )
    before = nve(capsys, "endpoint", "apply", "--store", store, str(bad))
    code, _, err = before
    assert code == EXIT_INVALID
    assert f"{bad}:3:" in err and "must be an integer" in err
    assert f"{bad}:4:" in err
    twice = tmp_path / "twice.yaml"
    twice.write_text(
        bad.read_text().replace(
            "  - move: {name: blue-web2, attachment: {switch: tor2, port: '1'}}\n  - rename: {name: x}\n",
            "",
        )
    )
    code, _, err = nve(capsys, "endpoint", "apply", "--store", store, str(twice))
    assert code == EXIT_USAGE and "endpoint blue-web1 is changed twice in one batch" in err
    # nothing of either file was committed: blue-web1 is still where the example has it
    assert _attachment(store, "blue-web1") == LocalAttachment(switch="tor1", port=1, vlan=100)


def test_apply_atomic_commits_nothing_when_one_change_is_refused(
    etcd: EtcdServer, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    store = _imported(etcd, capsys)
    changes = tmp_path / "changes.yaml"
    changes.write_text(
        "changes:\n"
        "  - move: {name: blue-web1, attachment: {switch: tor2, port: 1}}\n"
        "  - remove: nobody\n"
    )
    code, _, err = nve(capsys, "endpoint", "apply", "--atomic", "--store", store, str(changes))
    assert code == EXIT_INVALID
    assert f"{changes}: changes[1] (remove nobody): no endpoint nobody" in err
    assert "nothing changed (all or nothing)" in err
    assert _attachment(store, "blue-web1") == LocalAttachment(switch="tor1", port=1, vlan=100)


def _imported(etcd: EtcdServer, capsys: pytest.CaptureFixture[str]) -> str:
    """A store prefix of its own holding the example."""
    store = f"{etcd.url}/cli{secrets.token_hex(4)}"
    code, _, err = nve(capsys, "import", str(EXAMPLE), "--store", store, "--no-pipeline")
    assert code == EXIT_OK, err
    return store


def _attachment(store: str, name: str) -> object:
    url = StoreUrl.parse(store)

    async def read() -> object:
        async with Etcd(url) as client:
            stored = await read_overlay(client, url.prefix)
        return next(e.attachment for e in stored.loaded.overlay.endpoints if e.name == name)

    return asyncio.run(read())
