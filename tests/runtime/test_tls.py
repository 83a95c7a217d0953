"""P4Runtime over mutual TLS: p4sim's --grpc-server-ssl flags and the description's `tls:`.

Real certificates (a CA, a server certificate with IP SAN 127.0.0.1, client certificates,
and a second CA nobody trusts), a real p4sim process serving TLS, real gRPC clients.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import grpc
import pytest
from finsy.proto import p4r, p4r_grpc

from nve.controller import Controller, ControllerError
from nve.loader import load_overlay, parse_overlay
from nve.model import SwitchTls
from nve.p4rt_client import SwitchClient, SwitchError
from nve.tls import ClientTls, load_client_tls
from tests.support.certs import Ca
from tests.support.p4sim import P4simProcess, write_overlay

pytest.importorskip("cryptography", reason="cryptography (test extra) is not installed")

P4SIM = str(Path(sys.executable).with_name("p4sim"))


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    d = tmp_path_factory.mktemp("pki")
    ca = Ca(d, "switch-ca")
    rogue = Ca(d, "rogue-ca")
    return {
        "dir": d,
        "ca": ca,
        "server": ca.issue("tor1", ips=("127.0.0.1",), dns=("tor1.example",)),
        "client": ca.issue("nve", server=False),
        "rogue_client": rogue.issue("intruder", server=False),
        "rogue": rogue,
    }


def tls_args(pki) -> list[str]:
    return [
        "--grpc-server-ssl",
        "--grpc-server-cert",
        str(pki["server"].cert),
        "--grpc-server-key",
        str(pki["server"].key),
        "--grpc-server-cacert",
        str(pki["ca"].pem),
        "--grpc-server-with-client-auth",
    ]


@pytest.fixture
def tls_switch(tmp_path, pki):
    sw = P4simProcess(target_args=tls_args(pki)).start(tmp_path)
    yield sw
    sw.stop()


def client_tls(pki, *, cert: str = "client", server_name: str | None = None) -> ClientTls:
    spec = SwitchTls(
        ca=str(pki["ca"].pem),
        cert=str(pki[cert].cert) if cert else None,
        key=str(pki[cert].key) if cert else None,
        server_name=server_name,
    )
    return load_client_tls(spec, Path())


async def arbitrate(address: str, tls: ClientTls | None) -> bool:
    async with SwitchClient(address, 0, 5, tls=tls) as client:
        return client.is_primary


def test_controller_with_a_valid_certificate_arbitrates_and_writes(tmp_path, pki, pipeline):
    """`nve apply` over mutual TLS: the whole description lands on the TLS switch."""
    tls_sw = P4simProcess(target_args=tls_args(pki)).start(tmp_path)
    plain = P4simProcess().start(tmp_path)
    try:

        def edit(data):
            data["switches"][0]["tls"] = {
                "ca": str(pki["ca"].pem),
                "cert": str(pki["client"].cert),
                "key": str(pki["client"].key),
            }

        path = write_overlay(tmp_path / "o.yaml", [tls_sw, plain], pipeline, edit=edit)
        out = subprocess.run(
            [str(Path(sys.executable).with_name("nve")), "apply", str(path)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert out.returncode == 0, out.stderr
        ctl = Controller(load_overlay(path))

        async def reconcile_again() -> tuple[bool, int]:
            await ctl.connect()
            try:
                report = await ctl.reconcile(names=["tor1"])
                return report.ok, report.writes
            finally:
                await ctl.close()

        # A second controller run over TLS reads the switch and finds nothing left to write.
        assert asyncio.run(reconcile_again()) == (True, 0)
    finally:
        tls_sw.stop()
        plain.stop()


def test_client_certificate_is_required(tls_switch, pki):
    with pytest.raises(SwitchError, match="cannot connect"):
        asyncio.run(arbitrate(tls_switch.address, client_tls(pki, cert="")))


def test_certificate_from_another_ca_is_refused(tls_switch, pki):
    with pytest.raises(SwitchError, match="cannot connect"):
        asyncio.run(arbitrate(tls_switch.address, client_tls(pki, cert="rogue_client")))


def test_plaintext_client_cannot_connect(tls_switch):
    with pytest.raises(SwitchError, match="cannot connect"):
        asyncio.run(arbitrate(tls_switch.address, None))


def test_valid_client_arbitrates(tls_switch, pki):
    assert asyncio.run(arbitrate(tls_switch.address, client_tls(pki))) is True


def test_server_name_is_checked_against_the_certificate(tls_switch, pki):
    """The address's IP (127.0.0.1) is in the certificate's SANs; a server_name must be too."""
    assert asyncio.run(arbitrate(tls_switch.address, client_tls(pki, server_name="tor1.example")))
    with pytest.raises(SwitchError, match=r"(?i)mismatch|hostname|certificate"):
        asyncio.run(arbitrate(tls_switch.address, client_tls(pki, server_name="tor9.example")))


def test_switch_whose_certificate_names_another_address_is_refused(tmp_path, pki):
    """A certificate for 127.0.0.2 presented at 127.0.0.1: the controller will not talk to it."""
    other = pki["ca"].issue("tor2", ips=("127.0.0.2",))
    args = tls_args(pki)
    args[2], args[4] = str(other.cert), str(other.key)
    sw = P4simProcess(target_args=args).start(tmp_path)
    try:
        with pytest.raises(SwitchError, match=r"(?i)mismatch|127\.0\.0\.1"):
            asyncio.run(arbitrate(sw.address, client_tls(pki)))
    finally:
        sw.stop()


def test_with_tls_writes_need_arbitration(tls_switch, pki):
    """PI accepts Writes without election id while nobody arbitrated; p4sim with TLS does not."""
    tls = client_tls(pki)

    async def write_unarbitrated() -> grpc.StatusCode:
        async with grpc.aio.secure_channel(tls_switch.address, tls.credentials()) as ch:
            stub = p4r_grpc.P4RuntimeStub(ch)
            try:
                await stub.Write(p4r.WriteRequest(device_id=0), timeout=10)
            except grpc.aio.AioRpcError as exc:
                return exc.code()
            return grpc.StatusCode.OK

    assert asyncio.run(write_unarbitrated()) == grpc.StatusCode.PERMISSION_DENIED


def test_without_tls_unarbitrated_writes_pass_arbitration_as_pi_does(tmp_path):
    """Past the arbitration check, the same Write fails on the missing pipeline instead."""
    sw = P4simProcess().start(tmp_path)
    try:

        async def write() -> grpc.StatusCode:
            async with grpc.aio.insecure_channel(sw.address) as ch:
                try:
                    await p4r_grpc.P4RuntimeStub(ch).Write(
                        p4r.WriteRequest(device_id=0), timeout=10
                    )
                except grpc.aio.AioRpcError as exc:
                    return exc.code()
                return grpc.StatusCode.OK

        assert asyncio.run(write()) == grpc.StatusCode.FAILED_PRECONDITION
    finally:
        sw.stop()


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--grpc-server-ssl"], "--grpc-server-ssl needs --grpc-server-cert"),
        (["--grpc-server-cert", "x.pem"], "--grpc-server-cert needs --grpc-server-ssl"),
        (
            [
                "--grpc-server-ssl",
                "--grpc-server-cert",
                "{cert}",
                "--grpc-server-key",
                "{key}",
                "--grpc-server-with-client-auth",
            ],
            "--grpc-server-with-client-auth needs --grpc-server-cacert",
        ),
        (
            [
                "--grpc-server-ssl",
                "--grpc-server-cert",
                "/nonexistent.pem",
                "--grpc-server-key",
                "{key}",
            ],
            "--grpc-server-cert /nonexistent.pem: No such file",
        ),
        (
            ["--grpc-server-ssl", "--grpc-server-cert", "{key}", "--grpc-server-key", "{key}"],
            "no PEM CERTIFICATE block",
        ),
    ],
)
def test_p4sim_tls_flag_errors(pki, flags, message):
    flags = [f.format(cert=pki["server"].cert, key=pki["server"].key) for f in flags]
    out = subprocess.run(
        [P4SIM, "--no-p4", "--", "--grpc-server-addr", "127.0.0.1:0", *flags],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 1
    assert message in out.stderr, out.stderr


OVERLAY_SWITCH = """
switches:
  - name: tor1
    address: {address}
{extra}    pipeline: {{p4info: p.txt, device_config: c.json}}
    nve_mac: "02:00:0a:00:00:01"
    local_pas: [10.0.0.1]
"""


@pytest.mark.parametrize(
    ("address", "extra", "problem"),
    [
        ("10.20.0.1:9559", "", "needs tls"),
        ("switch1.example:9559", "", "needs tls"),
        ("10.20.0.1:9559", "    insecure: true\n", None),
        ("127.0.0.1:9559", "", None),
        ("localhost:9559", "", None),
        ('"[::1]:9559"', "", None),
        ("unix:/run/p4sim.sock", "", None),
        ("10.20.0.1:9559", "    tls: {ca: ca.pem, cert: c.pem, key: k.pem}\n", None),
        ("10.20.0.1:9559", "    tls: {ca: ca.pem, cert: c.pem}\n", "cert and key go together"),
        (
            "10.20.0.1:9559",
            "    insecure: true\n    tls: {ca: ca.pem}\n",
            "exclude each other",
        ),
    ],
)
def test_description_needs_tls_beyond_loopback(address, extra, problem):
    text = OVERLAY_SWITCH.format(address=address, extra=extra)
    if problem is None:
        parse_overlay(text)
    else:
        with pytest.raises(Exception, match=problem) as info:
            parse_overlay(text)
        assert "switches" in str(info.value) or ":3" in str(info.value)


def test_missing_tls_file_is_named(tmp_path, pki, pipeline):
    text = (
        OVERLAY_SWITCH.format(address="127.0.0.1:9559", extra="    tls: {ca: missing-ca.pem}\n")
        .replace("p.txt", str(pipeline.p4info))
        .replace("c.json", str(pipeline.device_config))
    )
    path = tmp_path / "o.yaml"
    path.write_text(text)
    ctl = Controller(load_overlay(path))
    with pytest.raises(ControllerError, match=r"tor1: tls\.ca: .*missing-ca\.pem: No such file"):
        ctl.load_pipelines()
