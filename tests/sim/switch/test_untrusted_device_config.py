"""A running p4sim treats a received device config as untrusted data (issue 19, item 5).

Every test talks P4Runtime over gRPC to a ``p4sim --no-p4`` process: includes never reach the
machine's files, ``#if`` arithmetic is cpp's and bounded, widths and stacks stop at p4c's
limits, the P4Info is checked against the program whatever digest the client wrote, malformed
configs get INVALID_ARGUMENT or RESOURCE_EXHAUSTED naming the problem, and a compile over its
CPU limit or abandoned by its client neither blocks the server nor keeps the config lock.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from finsy.proto import p4r, p4r_grpc

from p4sim.device_config import p4info_digest, source_digest
from tests.sim.switch.untrusted_support import (
    MINI,
    big_program,
    bundle,
    children,
    mini_p4info,
    raw_config,
    running_p4sim,
    set_pipeline,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with running_p4sim("--compile-cpu-seconds", "4", "--compile-memory-mib", "1024") as (_, addr):
        yield addr


@pytest.fixture(scope="module")
def info() -> Any:
    return mini_p4info()


_set = set_pipeline


def _refused(addr: str, p4info: Any, config: bytes) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as ei:
        _set(addr, p4info, config)
    return ei.value


def _with_prefix(prefix: str) -> str:
    return prefix + "\n" + MINI


def test_a_bundle_with_its_included_files_is_accepted(server, info):
    source = MINI.replace(
        "header ethernet_t { bit<48> dst; bit<48> src; bit<16> type; }", '#include "hdr/eth.p4"'
    )
    eth = '#include "../types.p4"\nheader ethernet_t { mac_t dst; mac_t src; bit<16> type; }\n'
    files = {"hdr/eth.p4": eth, "types.p4": "typedef bit<48> mac_t;\n"}
    _set(server, info, bundle(source, info, **files))


@pytest.mark.parametrize("how", ["absolute", "relative to the filename", "climbing out"])
def test_an_include_never_opens_a_file_of_the_machine(server, info, tmp_path, how):
    secret = tmp_path / "secret.p4"
    secret.write_text("TOPSECRET_TOKEN and more\n")
    target, filename = {
        "absolute": (str(secret), "mini.p4"),
        "relative to the filename": ("secret.p4", str(tmp_path / "mini.p4")),
        "climbing out": ("../" * 12 + str(secret).lstrip("/"), str(tmp_path / "mini.p4")),
    }[how]
    err = _refused(server, info, bundle(_with_prefix(f'#include "{target}"'), info, filename))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "TOPSECRET_TOKEN" not in (err.details() or "")
    assert "include" in (err.details() or "")


@pytest.mark.parametrize(
    ("condition", "expected"),
    [("0x10 == 16", True), ("010 == 8", True), ("'A' == 65", True), ("-1 < 0u", False)],
)
def test_if_arithmetic_is_cpps(server, info, condition, expected):
    # the wrong branch holds a syntax error, so only the right evaluation compiles
    text = f"#if {condition}\n#else\nthis is not P4\n#endif"
    if not expected:
        text = f"#if {condition}\nthis is not P4\n#endif"
    _set(server, info, bundle(_with_prefix(text), info))


def test_if_exponent_is_refused_not_computed(server, info):
    err = _refused(server, info, bundle(_with_prefix("#if 9**20000000 > 1\n#endif"), info))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "mini.p4:1:1" in (err.details() or "")


@pytest.mark.parametrize(
    ("decl", "limit"),
    [
        ("const bit<8> HUGE = (bit<8>)(1 << 8000000000);", "4096 bits"),
        ("header wide_t { bit<4096> f; }", "2048 bits"),
        ("header w2_t { varbit<100000> f; }", "2048 bits"),
        ("struct s_t { ethernet_t[1000] stack; }", "256 elements"),
    ],
)
def test_widths_stacks_and_constants_stop_at_the_limits(server, info, decl, limit):
    source = MINI.replace("struct headers_t", decl + "\nstruct headers_t")
    err = _refused(server, info, bundle(source, info))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert limit in (err.details() or "")


def test_an_altered_p4info_is_refused_whatever_digest_the_client_wrote(server, info):
    altered = type(info)()
    altered.CopyFrom(info)
    altered.tables[0].size = 4096
    config = bundle(MINI, altered)  # the digest of the altered P4Info, as a client would write
    err = _refused(server, altered, config)
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "size: 64 in the program, 4096 in the P4Info sent" in (err.details() or "")
    assert "tables['Ing.l2']" in (err.details() or "")
    assert p4info_digest(altered) in config.decode()


def _doc(**over: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "format": "p4sim-device-config",
        "version": 1,
        "filename": "mini.p4",
        "source": MINI,
        "source_sha256": source_digest(MINI),
        "p4info_sha256": "0" * 64,
    }
    doc.update(over)
    return doc


@pytest.mark.parametrize(
    ("config", "field"),
    [
        (raw_config(_doc(source="\ud800")), "'source'"),
        (
            b'{"format": "p4sim-device-config", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
            "nested",
        ),
        (raw_config(_doc(files={"/etc/passwd": "x"})), "'files'"),
        (raw_config(_doc(files=["a"])), "'files'"),
        (raw_config(_doc(filename="a\nb")), "'filename'"),
        (b'{"format": "p4sim-device-config", "n": ' + b"9" * 10_000 + b"}", "not JSON"),
    ],
)
def test_malformed_configs_are_invalid_argument_naming_the_problem(server, info, config, field):
    err = _refused(server, info, config)
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field in (err.details() or "")
    assert "Traceback" not in (err.details() or "")


_big_program = big_program


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ("if (sm.egress_spec == 1) {" * 150 + "sm.egress_spec = 2;" + "}" * 150, "100 nested"),
        ("sm.egress_spec = sm.egress_spec" + " + sm.egress_spec" * 5000 + ";", "recursion limit"),
    ],
)
def test_programs_too_deep_for_p4sim_are_resource_exhausted(server, info, body, says):
    source = MINI.replace("apply { l2.apply(); }", "apply { " + body + " l2.apply(); }")
    err = _refused(server, info, bundle(source, info))
    assert err.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert says in (err.details() or "")


def test_a_compile_over_its_cpu_limit_is_resource_exhausted(server, info):
    err = _refused(server, info, bundle(_big_program(60_000), info))
    assert err.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "--compile-cpu-seconds" in (err.details() or "")


_children = children


def test_an_abandoned_compile_is_stopped_and_frees_the_config_lock(info):
    with running_p4sim("--compile-cpu-seconds", "600") as (proc, addr):
        slow = bundle(_big_program(60_000), info)
        with pytest.raises(grpc.RpcError) as ei:
            _set(addr, info, slow, timeout=1.0)
        assert ei.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        # the compiler child is gone long before its 600 s of CPU ...
        for _ in range(100):
            if not _children(proc.pid):
                break
            time.sleep(0.1)
        assert _children(proc.pid) == []
        # ... and the config lock with it: the next config goes through
        _set(addr, info, bundle(MINI, info))


def test_other_rpcs_are_answered_while_a_program_compiles(server: str, info: Any) -> None:
    slow = bundle(_big_program(60_000), info)
    errors: list[grpc.RpcError] = []

    def push() -> None:
        try:
            _set(server, info, slow)
        except grpc.RpcError as exc:
            errors.append(exc)

    t = threading.Thread(target=push)
    t.start()
    with grpc.insecure_channel(server) as ch:
        caps = p4r_grpc.P4RuntimeStub(ch).Capabilities(p4r.CapabilitiesRequest(), timeout=10)
    t.join()
    assert caps.p4runtime_api_version
    assert errors and errors[0].code() == grpc.StatusCode.RESOURCE_EXHAUSTED
