"""The store over mutual TLS with etcd's RBAC (docs/fleet.md, "Securing the store"): a real
etcd serving TLS with `--client-cert-auth` and authentication on, users named by their
certificates' common names, the roles `nve store-roles` prints.

An admin imports over mTLS; a client without a certificate, or with one from another
CA, is refused with an error that says so; a missing certificate file is named; the
orchestrator moves an endpoint but cannot touch ownership or the epoch; a replica cannot
change the overlay, yet runs: it owns a p4sim switch and reconciles it, reading the
overlay and writing only its membership and ownership keys.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from nve.fleet.election import election_id
from nve.fleet.etcd_leases import LeaseEtcd
from nve.fleet.ownership import FleetKeys
from nve.loader import load_overlay
from nve.model import LocalAttachment
from nve.store.endpoints import move_endpoint
from nve.store.etcd import Etcd, Put, StoreError
from nve.store.importer import import_overlay
from nve.store.reader import read_overlay
from nve.store.url import StoreUrl
from tests.fleet.etcd_server import EtcdServer, ServerTls, etcd_binary, running_etcd
from tests.fleet.fleet_util import ReplicaProcess, owners, until
from tests.fleet.store_util import EXAMPLE
from tests.support.certs import Ca
from tests.support.nve_run import NVE
from tests.support.p4sim import P4simProcess, PipelineFiles, write_overlay

pytestmark = pytest.mark.slow
PREFIX = "/nve"
USERS = {"admin": "nve-admin", "orch": "nve-orchestrator", "replica-a": "nve-replica"}


@dataclass
class SecureStore:
    server: EtcdServer
    ca: Path
    certs: dict[str, tuple[Path, Path]]  # user -> (cert, key)

    def url(self, user: str | None, ca: Path | None = None) -> str:
        base = f"{self.server.url}{PREFIX}?ca={ca or self.ca}"
        if user is None:
            return base
        cert, key = self.certs[user]
        return f"{base}&cert={cert}&key={key}"

    def etcdctl(self, *argv: str, user: str = "root") -> str:
        cert, key = self.certs[user]
        out = subprocess.run(
            ["etcdctl", f"--endpoints=https://127.0.0.1:{self.server.port}",
             f"--cacert={self.ca}", f"--cert={cert}", f"--key={key}", *argv],
            capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
        if out.returncode != 0:
            raise AssertionError(f"etcdctl {' '.join(argv)}: {out.stderr}")
        return out.stdout


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureStore]:
    if etcd_binary() is None or shutil.which("etcdctl") is None:
        pytest.skip("etcd or etcdctl is not installed (Debian packages etcd-server, etcd-client)")
    pki = tmp_path_factory.mktemp("pki")
    ca = Ca(pki)
    server = ca.issue("etcd", ips=("127.0.0.1",))
    certs = {}
    for user in ("root", *USERS):
        issued = ca.issue(user, server=False)
        certs[user] = (issued.cert, issued.key)
    with running_etcd(tls=ServerTls(ca.pem, server.cert, server.key)) as srv:
        s = SecureStore(srv, ca.pem, certs)
        s.etcdctl("user", "add", "root", "--no-password")
        s.etcdctl("user", "grant-role", "root", "root")
        roles = subprocess.run(
            [NVE, "store-roles", "--store", s.url(None)],
            capture_output=True, text=True, timeout=60, check=True,
        ).stdout  # fmt: skip
        for line in roles.splitlines():
            if line.startswith("etcdctl "):
                s.etcdctl(*line.split()[1:])
        for user, role in USERS.items():
            s.etcdctl("user", "add", user, "--no-password")
            s.etcdctl("user", "grant-role", user, role)
        s.etcdctl("auth", "enable")
        yield s


def _import(store: SecureStore, overlay: Path, user: str = "admin") -> None:
    url = StoreUrl.parse(store.url(user))

    async def go() -> None:
        async with Etcd(url) as etcd:
            await import_overlay(etcd, url.prefix, load_overlay(overlay))

    asyncio.run(go())


def _import_plain(url: StoreUrl) -> None:
    async def go() -> None:
        async with Etcd(url) as etcd:
            await import_overlay(etcd, url.prefix, load_overlay(EXAMPLE))

    asyncio.run(go())


def _read(url: StoreUrl) -> list[str]:
    async def go() -> list[str]:
        async with Etcd(url) as etcd:
            stored = await read_overlay(etcd, url.prefix)
        return sorted(ep.name for ep in stored.loaded.overlay.endpoints)

    return asyncio.run(go())


def test_the_admin_imports_over_mutual_tls_and_others_read(store: SecureStore) -> None:
    out = subprocess.run(
        [NVE, "import", str(EXAMPLE), "--no-pipeline", "--store", store.url("admin")],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    want = sorted(ep.name for ep in load_overlay(EXAMPLE).overlay.endpoints)
    for user in USERS:
        assert _read(StoreUrl.parse(store.url(user))) == want


def test_a_client_without_a_certificate_or_from_another_ca_is_refused(
    store: SecureStore, tmp_path: Path
) -> None:
    for url in (store.url(None), store.url("admin", ca=Ca(tmp_path, "other").pem)):
        with pytest.raises(StoreError, match="cannot reach etcd"):
            _read(StoreUrl.parse(url))
    stranger = Ca(tmp_path, "stranger-ca").issue("admin", server=False)
    forged = f"{store.server.url}{PREFIX}?ca={store.ca}&cert={stranger.cert}&key={stranger.key}"
    with pytest.raises(StoreError, match="cannot reach etcd"):
        _read(StoreUrl.parse(forged))


def test_a_missing_certificate_file_is_named(store: SecureStore, tmp_path: Path) -> None:
    gone = tmp_path / "gone.crt"
    url = f"{store.server.url}{PREFIX}?ca={store.ca}&cert={gone}&key={store.certs['admin'][1]}"
    with pytest.raises(StoreError, match=f"certificate \\(cert=\\) {gone}"):
        _read(StoreUrl.parse(url))


def test_roles_bound_what_each_user_may_write(store: SecureStore) -> None:
    _import(store, EXAMPLE)
    # A replica cannot change the overlay: the CLI says permission denied.
    out = subprocess.run(
        [NVE, "endpoint", "move", "blue-web2", "--switch", "tor1", "--port", "2", "--vlan", "300",
         "--store", store.url("replica-a")],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert out.returncode != 0 and "permission denied" in out.stderr, out.stderr

    async def orchestrator() -> None:
        url = StoreUrl.parse(store.url("orch"))
        async with Etcd(url) as etcd:
            await move_endpoint(
                etcd, url.prefix, "blue-web2", LocalAttachment(switch="tor1", port=2, vlan=300)
            )
            keys = FleetKeys(url.prefix)
            for key in (keys.epoch, keys.owner("tor1"), f"{PREFIX}/current".encode()):
                with pytest.raises(StoreError, match="permission denied"):
                    await etcd.txn([], [Put(key, b"x")])

    asyncio.run(orchestrator())

    async def replica() -> None:
        url = StoreUrl.parse(store.url("replica-a"))
        etcd = LeaseEtcd(url)
        await etcd.open()
        try:
            lease = await etcd.grant(5)
            keys = FleetKeys(url.prefix)
            assert await etcd.create(keys.member("replica-a"), b"replica-a", lease) is not None
            with pytest.raises(StoreError, match="PERMISSION_DENIED"):
                await etcd.create(f"{PREFIX}/gen/x".encode(), b"x", lease)
            await etcd.revoke(lease)
        finally:
            await etcd.close()

    asyncio.run(replica())


def test_a_replica_owns_and_reconciles_a_switch_over_mutual_tls(
    store: SecureStore, tmp_path: Path, switches: list[P4simProcess], pipeline: PipelineFiles
) -> None:
    _import(store, write_overlay(tmp_path / "overlay.yaml", switches, pipeline))
    rep = ReplicaProcess(None, store.url("replica-a"), "replica-a", tmp_path / "r.log").start()
    try:

        async def owned() -> bool:
            got = await owners(StoreUrl.parse(store.url("admin")))
            return sorted(o.replica for o in got.values()) == ["replica-a", "replica-a"]

        asyncio.run(until(owned, 60, "both switches owned by replica-a"))

        async def reconciled() -> bool:
            return "reconciled tor" in rep.text()

        asyncio.run(until(reconciled, 60, "replica-a reconciling"))
        time.sleep(3 * rep.ttl)  # the lease is kept alive over TLS too (nve.fleet.keeper)
        assert "giving up every switch" not in rep.text(), rep.text()[-2000:]
    finally:
        assert rep.stop() == 0, rep.text()[-2000:]


def test_a_snapshot_restores_the_overlay_and_the_epoch_keeps_ids_rising(tmp_path: Path) -> None:
    """docs/fleet.md, "Snapshot and restore": the restored cluster holds the overlay as it
    was, at a lower revision than etcd had reached, so an owner's id (epoch << 64 | the
    revision it took the switch at) could fall below one the switches have seen; bumping
    PREFIX/epoch before the replicas start keeps every new id above the old ones."""
    if etcd_binary() is None or shutil.which("etcdctl") is None:
        pytest.skip("etcd or etcdctl is not installed (Debian packages etcd-server, etcd-client)")
    snap = tmp_path / "overlay.snap"
    with running_etcd() as first:
        url = StoreUrl.parse(f"{first.url}{PREFIX}")
        _import_plain(url)
        names = _read(url)
        subprocess.run(
            ["etcdctl", f"--endpoints=http://127.0.0.1:{first.port}", "snapshot", "save",
             str(snap)],
            capture_output=True, check=True, timeout=60,
        )  # fmt: skip

        async def later() -> int:  # history after the snapshot: lost by a restore
            async with Etcd(url) as etcd:
                for vlan in range(300, 320):
                    att = LocalAttachment(switch="tor1", port=2, vlan=vlan)
                    await move_endpoint(etcd, url.prefix, "blue-web2", att)
                return await etcd.revision()

        last = asyncio.run(later())
    restored = tmp_path / "restored"
    subprocess.run(
        ["etcdctl", "snapshot", "restore", str(snap), f"--data-dir={restored}",
         "--name=nve-test", "--initial-cluster=nve-test=http://127.0.0.1:2380",
         "--initial-advertise-peer-urls=http://127.0.0.1:2380"],
        capture_output=True, check=True, timeout=60,
    )  # fmt: skip
    with running_etcd(data_dir=restored) as second:
        url = StoreUrl.parse(f"{second.url}{PREFIX}")
        assert _read(url) == names

        async def after() -> tuple[int, bool]:
            async with Etcd(url) as etcd:
                ep = next(
                    e
                    for e in (await read_overlay(etcd, url.prefix)).loaded.overlay.endpoints
                    if e.name == "blue-web2"
                )
                moved = isinstance(ep.attachment, LocalAttachment) and ep.attachment.port == 2
                keys = FleetKeys(url.prefix)
                await etcd.txn([], [Put(keys.epoch, b"1")])  # the restore's epoch bump
                return await etcd.revision(), moved

        now, moved = asyncio.run(after())
    assert not moved, "the restore kept a move made after the snapshot"
    assert now < last, (now, last)  # the hazard the epoch bump answers
    assert election_id(1, now) > election_id(0, last)
