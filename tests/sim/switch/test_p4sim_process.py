"""p4sim as a process with a real compiled program: compile, push, write, read, delete."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from finsy.proto import p4i, p4r
from google.protobuf import json_format, text_format

from tests.sim.p4sim_switch_support import Client, update, write_errors

pytest.importorskip("p4sim.compiler")

P4SIM = str(Path(sys.executable).with_name("p4sim"))

MINI = textwrap.dedent("""
    #include <core.p4>
    #include <v1model.p4>
    header ethernet_t { bit<48> dst; bit<48> src; bit<16> type; }
    struct headers_t { ethernet_t eth; }
    struct meta_t { }
    parser P(packet_in pkt, out headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
        state start { pkt.extract(hdr.eth); transition accept; }
    }
    control VC(inout headers_t hdr, inout meta_t meta) { apply { } }
    control Ing(inout headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
        counter(8, CounterType.packets_and_bytes) port_counter;
        action fwd(bit<9> port) { sm.egress_spec = port; }
        action drop() { mark_to_drop(sm); }
        table l2 {
            key = { hdr.eth.dst : exact; }
            actions = { fwd; drop; }
            default_action = drop();
            size = 64;
        }
        apply { port_counter.count((bit<32>) sm.ingress_port); l2.apply(); }
    }
    control Eg(inout headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) { apply { } }
    control CC(inout headers_t hdr, inout meta_t meta) { apply { } }
    control D(packet_out pkt, in headers_t hdr) { apply { pkt.emit(hdr.eth); } }
    V1Switch(P(), VC(), Ing(), Eg(), CC(), D()) main;
""")


@pytest.fixture(scope="module")
def compiled(tmp_path_factory) -> tuple[Path, p4i.P4Info, bytes]:
    d = tmp_path_factory.mktemp("mini")
    (d / "mini.p4").write_text(MINI)
    r = subprocess.run(
        [
            P4SIM,
            "compile",
            str(d / "mini.p4"),
            "--p4info",
            str(d / "mini.txtpb"),
            "-o",
            str(d / "mini.json"),
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    info = text_format.Parse((d / "mini.txtpb").read_text(), p4i.P4Info())
    return d, info, (d / "mini.json").read_bytes()


def _start(*args: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [P4SIM, *args, "--", "--grpc-server-addr", "127.0.0.1:0", "--cpu-port", "255"],
        stderr=subprocess.PIPE,
        text=True,
    )
    stderr = proc.stderr
    assert stderr is not None  # stderr=PIPE
    for _ in range(50):
        line = stderr.readline()
        m = re.search(r"P4Runtime on (\S+),", line)
        if m:
            return proc, m.group(1)
        if not line:
            break
    proc.kill()
    raise AssertionError(f"p4sim did not start: {line!r}")


@pytest.fixture
def no_p4() -> Iterator[str]:
    proc, addr = _start("--no-p4")
    yield addr
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=10) == 0


def _ids(info: p4i.P4Info) -> dict[str, int]:
    return {
        e.preamble.name: e.preamble.id
        for kind in ("tables", "actions", "counters")
        for e in getattr(info, kind)
    }


def test_compile_formats(compiled, tmp_path):
    d, info, _ = compiled
    for fmt in ("binary", "json"):
        out = tmp_path / f"p4info.{fmt}"
        r = subprocess.run(
            [P4SIM, "compile", str(d / "mini.p4"), "--p4info", str(out), "--p4runtime-format", fmt],
            check=False,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert r.returncode == 0, r.stderr
        got = (
            p4i.P4Info.FromString(out.read_bytes())
            if fmt == "binary"
            else json_format.Parse(out.read_text(), p4i.P4Info())
        )
        assert got == info


def test_compile_error_is_one_line_with_position(tmp_path):
    bad = tmp_path / "bad.p4"
    bad.write_text("control X { apply { x = ; } }\n")
    r = subprocess.run(
        [P4SIM, "compile", str(bad), "--p4info", str(tmp_path / "x")],
        check=False,
        capture_output=True,
        text=True,
    )
    assert r.returncode == 1
    assert r.stderr.count("\n") == 1 and re.search(r"bad\.p4:1:\d+", r.stderr)


def test_push_write_read_delete(compiled, no_p4):
    _, info, blob = compiled
    ids = _ids(info)
    c = Client(no_p4, device_id=0).open()  # the CLI default, as simple_switch_grpc
    assert c.next("arbitration").arbitration.status.code == 0
    c.set_pipeline(info, blob, cookie=3)
    te = p4r.TableEntry(table_id=ids["Ing.l2"])
    te.match.add(field_id=1).exact.value = bytes.fromhex("0a0000000001")
    te.action.action.action_id = ids["Ing.fwd"]
    te.action.action.params.add(param_id=1, value=b"\x02")
    c.write(update("INSERT", te))
    [got] = c.read(p4r.Entity(table_entry=p4r.TableEntry(table_id=ids["Ing.l2"])))
    assert got.table_entry == te
    cells = c.read(p4r.Entity(counter_entry=p4r.CounterEntry(counter_id=ids["Ing.port_counter"])))
    assert len(cells) == 8
    with pytest.raises(grpc.RpcError) as ei:
        c.write(update("INSERT", te))
    assert [e.canonical_code for e in write_errors(ei.value)] == [6]
    c.write(update("DELETE", te))
    assert c.read(p4r.Entity(table_entry=p4r.TableEntry(table_id=ids["Ing.l2"]))) == []
    # a P4Info that is not the program's is refused
    other = p4i.P4Info()
    other.CopyFrom(info)
    other.tables[0].size = 1
    with pytest.raises(grpc.RpcError) as ei:
        c.set_pipeline(other, blob)
    assert ei.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "Ing.l2" in ei.value.details()
    c.close()


def test_program_loaded_at_start(compiled):
    d, info, _ = compiled
    proc, addr = _start(str(d / "mini.p4"))
    try:
        c = Client(addr, device_id=0)
        cfg = c.stub.GetForwardingPipelineConfig(
            p4r.GetForwardingPipelineConfigRequest(device_id=0), timeout=10
        ).config
        assert cfg.p4info == info
        c.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0


SHELL_SCRIPT = textwrap.dedent("""
    import sys
    import p4runtime_sh.shell as sh
    addr, p4info, blob = sys.argv[1:4]
    sh.setup(device_id=0, grpc_addr=addr, election_id=(0, 1), config=sh.FwdPipeConfig(p4info, blob))
    te = sh.TableEntry("Ing.l2")(action="Ing.fwd")
    te.match["hdr.eth.dst"] = "0a:00:00:00:00:01"
    te.action["port"] = "2"
    te.insert()
    print("entries", len(list(sh.TableEntry("Ing.l2").read())))
    cells = list(sh.CounterEntry("Ing.port_counter").read())
    print("counter cells", len(cells), cells[0].packet_count)
    te.delete()
    print("after delete", len(list(sh.TableEntry("Ing.l2").read())))
    sh.teardown()
""")


def _shell_venv() -> Path:
    """p4runtime-shell in a virtual environment of its own (it pins protobuf<3.21); cached between runs."""
    import tempfile

    venv = Path(tempfile.gettempdir()) / "nvgre-nve-p4runtime-shell-venv"
    py = venv / "bin" / "python"
    if not (venv / ".ready").exists():
        subprocess.run(
            ["python3", "-m", "venv", str(venv)], check=True, capture_output=True, timeout=120
        )
        r = subprocess.run(
            [str(venv / "bin" / "pip"), "install", "-q", "p4runtime-shell"],
            check=False,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if r.returncode != 0:
            pytest.skip(f"cannot install p4runtime-shell: {r.stderr.strip().splitlines()[-1:]}")
        (venv / ".ready").write_text("ok\n")
    return py


@pytest.mark.slow
def test_unmodified_p4runtime_shell(compiled, no_p4):
    d, _, _ = compiled
    py = _shell_venv()
    r = subprocess.run(
        [str(py), "-c", SHELL_SCRIPT, no_p4, str(d / "mini.txtpb"), str(d / "mini.json")],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    assert "entries 1" in r.stdout
    assert "counter cells 8 0" in r.stdout
    assert "after delete 0" in r.stdout
