"""A real etcd (Debian's etcd-server) for the store tests and benchmarks: one member on
loopback, free ports, data in a temporary directory, stopped and removed afterwards."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ServerTls:
    """etcd's client port over TLS: the CA that signed the server certificate and that
    client certificates must chain to (with `client_cert_auth`), the server's pair."""

    ca: Path
    cert: Path
    key: Path
    client_cert_auth: bool = True


@dataclass(frozen=True)
class EtcdServer:
    host: str
    port: int
    data_dir: Path
    tls: ServerTls | None = None

    @property
    def url(self) -> str:
        """Without the client's files: add `?ca=…&cert=…&key=…` for a TLS server."""
        return f"{'etcds' if self.tls else 'etcd'}://{self.host}:{self.port}"


def etcd_binary() -> str | None:
    return shutil.which("etcd")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_etcd(
    *extra: str,
    startup_s: float = 30.0,
    tls: ServerTls | None = None,
    data_dir: Path | None = None,
) -> Iterator[EtcdServer]:
    """`data_dir`: start on this data (a restored snapshot) instead of a new one."""
    binary = etcd_binary()
    if binary is None:
        raise RuntimeError("etcd is not installed (Debian package etcd-server)")
    with tempfile.TemporaryDirectory(prefix="nve-etcd-") as tmp:
        data = data_dir or Path(tmp) / "data"
        client, peer = _free_port(), _free_port()
        scheme = "https" if tls else "http"
        args = [
            binary,
            "--name=nve-test",
            f"--data-dir={data}",
            f"--listen-client-urls={scheme}://127.0.0.1:{client}",
            f"--advertise-client-urls={scheme}://127.0.0.1:{client}",
            f"--listen-peer-urls=http://127.0.0.1:{peer}",
            f"--initial-advertise-peer-urls=http://127.0.0.1:{peer}",
            f"--initial-cluster=nve-test=http://127.0.0.1:{peer}",
            "--log-level=error",
            *extra,
        ]
        if tls:
            args += [f"--cert-file={tls.cert}", f"--key-file={tls.key}"]
            if tls.client_cert_auth:
                args += ["--client-cert-auth", f"--trusted-ca-file={tls.ca}"]
        # Health over plain HTTP on a port of its own, whatever the client port speaks.
        metrics = _free_port()
        args.append(f"--listen-metrics-urls=http://127.0.0.1:{metrics}")
        with open(Path(tmp) / "etcd.log", "wb") as log:
            proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
            try:
                _wait_healthy(proc, metrics, startup_s, Path(tmp) / "etcd.log")
                yield EtcdServer("127.0.0.1", client, data, tls)
            finally:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


def _wait_healthy(proc: subprocess.Popen[bytes], port: int, limit_s: float, log: Path) -> None:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"etcd exited with {proc.returncode}: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as r:
                if b'"true"' in r.read():
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"etcd did not become healthy in {limit_s:g} s")


@dataclass
class EtcdMember:
    name: str
    client: int
    proc: subprocess.Popen[bytes]

    def kill(self) -> None:
        """kill -9: the member is gone without a word to the others."""
        self.proc.kill()
        self.proc.wait()


@dataclass
class EtcdCluster:
    members: list[EtcdMember]
    data_dir: Path

    @property
    def url(self) -> str:
        """Every member, as a store address lists them."""
        return "etcd://" + ",".join(f"127.0.0.1:{m.client}" for m in self.members)


@contextmanager
def running_etcd_cluster(
    size: int = 3, startup_s: float = 60.0, base: Path | None = None
) -> Iterator[EtcdCluster]:
    """`size` members on loopback forming one cluster (data under `base`, default a
    temporary directory), stopped and removed afterwards."""
    binary = etcd_binary()
    if binary is None:
        raise RuntimeError("etcd is not installed (Debian package etcd-server)")
    with tempfile.TemporaryDirectory(prefix="nve-etcd-cluster-", dir=base) as tmp:
        ports = [(f"m{i}", _free_port(), _free_port(), _free_port()) for i in range(size)]
        initial = ",".join(f"{n}=http://127.0.0.1:{peer}" for n, _, peer, _ in ports)
        members: list[EtcdMember] = []
        logs: list[Path] = []
        try:
            for name, client, peer, metrics in ports:
                log = Path(tmp) / f"{name}.log"
                logs.append(log)
                with open(log, "wb") as out:
                    proc = subprocess.Popen(
                        [binary, f"--name={name}", f"--data-dir={Path(tmp) / name}",
                         f"--listen-client-urls=http://127.0.0.1:{client}",
                         f"--advertise-client-urls=http://127.0.0.1:{client}",
                         f"--listen-peer-urls=http://127.0.0.1:{peer}",
                         f"--initial-advertise-peer-urls=http://127.0.0.1:{peer}",
                         f"--initial-cluster={initial}", "--initial-cluster-state=new",
                         f"--listen-metrics-urls=http://127.0.0.1:{metrics}",
                         "--log-level=error"],
                        stdout=out, stderr=subprocess.STDOUT,
                    )  # fmt: skip
                members.append(EtcdMember(name, client, proc))
            for m, (_, _, _, metrics), log in zip(members, ports, logs):
                _wait_healthy(m.proc, metrics, startup_s, log)
            yield EtcdCluster(members, Path(tmp))
        finally:
            for m in members:
                if m.proc.poll() is None:
                    m.proc.terminate()
            for m in members:
                try:
                    m.proc.wait(10)
                except subprocess.TimeoutExpired:
                    m.proc.kill()
                    m.proc.wait()
