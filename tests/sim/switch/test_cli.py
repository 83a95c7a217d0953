"""The p4sim command as a process: flags, one-line errors, serving, clean shutdown."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import grpc
import pytest
from finsy.proto import p4r, p4r_grpc

P4SIM = str(Path(sys.executable).with_name("p4sim"))


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([P4SIM, *args], check=False, capture_output=True, text=True, timeout=60)


def test_bad_flag_is_one_line():
    r = run("--no-such-flag")
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "--no-such-flag" in r.stderr


def test_bad_interface_spelling():
    r = run("--no-p4", "-i", "eth0")
    assert r.returncode == 2 and "PORT@INTERFACE" in r.stderr and r.stderr.count("\n") == 1


def test_missing_interface_is_named():
    r = run("--no-p4", "-i", "3@nvnosuchif0", "--", "--grpc-server-addr", "127.0.0.1:0")
    assert r.returncode == 1
    assert r.stderr.strip() == "p4sim: error: port 3: interface 'nvnosuchif0' does not exist"


def test_program_or_no_p4_required():
    r = run("--", "--grpc-server-addr", "127.0.0.1:0")
    assert r.returncode == 1 and "--no-p4" in r.stderr


def test_port_in_use():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        r = run("--no-p4", "--", "--grpc-server-addr", f"127.0.0.1:{port}")
    assert r.returncode == 1
    assert f"127.0.0.1:{port}" in r.stderr and r.stderr.count("\n") == 1


def test_serves_p4runtime_and_stops_cleanly_on_sigterm():
    proc = subprocess.Popen(
        [
            P4SIM,
            "--no-p4",
            "--device-id",
            "3",
            "--",
            "--grpc-server-addr",
            "127.0.0.1:0",
            "--cpu-port",
            "255",
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        m = None
        for _ in range(20):
            line = proc.stderr.readline()
            m = re.search(r"P4Runtime on (\S+),", line)
            if m or not line:
                break
        assert m, line
        ch = grpc.insecure_channel(m.group(1))
        stub = p4r_grpc.P4RuntimeStub(ch)
        assert stub.Capabilities(p4r.CapabilitiesRequest(), timeout=10).p4runtime_api_version
        with pytest.raises(grpc.RpcError) as ei:
            stub.Write(p4r.WriteRequest(device_id=1), timeout=10)
        assert ei.value.code() == grpc.StatusCode.NOT_FOUND  # this is device 3
        ch.close()
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        assert time.monotonic() - t0 < 5
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
