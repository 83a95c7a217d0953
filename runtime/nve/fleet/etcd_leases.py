"""The etcd v3 calls ownership makes: leases, keys bound to a lease, watches.

Over aetcd's gRPC channel, as `nve.store.etcd` does for the overlay; every call has its own
deadline, so a replica cut off from etcd learns it within that deadline instead of hanging.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import grpc
from aetcd import rpc
from aetcd.exceptions import ClientError

from nve.store.client import StoreTlsError, client_for
from nve.store.etcd import StoreError, prefix_end
from nve.store.url import StoreUrl


@dataclass(frozen=True)
class Held:
    """A key as read: its value, the revision it was last written at, and its lease."""

    key: bytes
    value: bytes
    mod_revision: int
    lease: int


def _reason(exc: BaseException) -> str:
    if isinstance(exc, rpc.AioRpcError):
        return f"{exc.code().name}: {exc.details()}"
    return str(exc) or type(exc).__name__


def _create_txn(key: bytes, value: bytes, lease: int) -> Any:
    """Put `key` bound to `lease` only if it does not exist."""
    return rpc.TxnRequest(
        compare=[
            rpc.Compare(
                key=key, result=rpc.Compare.EQUAL, target=rpc.Compare.CREATE, create_revision=0
            )
        ],
        success=[rpc.RequestOp(request_put=rpc.PutRequest(key=key, value=value, lease=lease))],
    )


class LeaseEtcd:
    """One connection to etcd for one replica's ownership."""

    def __init__(self, url: StoreUrl, timeout_s: float = 2.0) -> None:
        self.url = url
        self.timeout = timeout_s
        self._client = client_for(url, int(timeout_s) + 1)
        self.endpoint: tuple[str, int] = url.endpoints[0]  # the member open() reached

    async def open(self) -> None:
        """Connect to the first member of the address that answers (in order)."""
        failures = []
        for i, endpoint in enumerate(self.url.endpoints):
            if i:
                self._client = client_for(self.url, int(self.timeout) + 1, None, endpoint)
            try:
                await self._client.connect()
                await self.revision()
                self.endpoint = endpoint
                return
            except (ClientError, rpc.AioRpcError, TimeoutError, StoreError) as exc:
                why = str(exc) if isinstance(exc, StoreError) else _reason(exc)
                failures.append(f"{endpoint[0]}:{endpoint[1]}: {why}")
                await self._client.close()
            except StoreTlsError as exc:
                raise StoreError(f"{self.url}: {exc}") from None
        raise StoreError(f"{self.url}: cannot reach etcd ({'; '.join(failures)})")

    async def close(self) -> None:
        await self._client.close()

    async def _unary(self, stub: Any, method: str, request: Any) -> Any:
        try:
            return await getattr(stub, method)(
                request, timeout=self.timeout, metadata=self._client.metadata
            )
        except rpc.AioRpcError as exc:
            raise StoreError(f"{self.url}: {method}: {_reason(exc)}") from None

    async def revision(self) -> int:
        probe = f"{self.url.prefix}/epoch".encode()  # inside the prefix (RBAC)
        resp = await self._unary(
            self._client.kvstub, "Range", rpc.RangeRequest(key=probe, count_only=True)
        )
        return int(resp.header.revision)

    # -- leases ---------------------------------------------------------------------------
    async def grant(self, ttl_s: int) -> int:
        resp = await self._unary(
            self._client.leasestub, "LeaseGrant", rpc.LeaseGrantRequest(TTL=ttl_s)
        )
        if resp.error:
            raise StoreError(f"{self.url}: LeaseGrant: {resp.error}")
        return int(resp.ID)

    async def keep_alive(self, lease: int) -> int:
        """Refresh the lease; its remaining TTL in seconds (0 or less: the lease is gone)."""
        call = self._client.leasestub.LeaseKeepAlive(
            timeout=self.timeout, metadata=self._client.metadata
        )
        try:
            await call.write(rpc.LeaseKeepAliveRequest(ID=lease))
            reply = await call.read()
        except rpc.AioRpcError as exc:
            raise StoreError(f"{self.url}: LeaseKeepAlive: {_reason(exc)}") from None
        finally:
            call.cancel()
        if reply is grpc.aio.EOF:
            raise StoreError(f"{self.url}: LeaseKeepAlive: no answer")
        return int(reply.TTL)

    async def revoke(self, lease: int) -> None:
        try:
            await self._unary(
                self._client.leasestub, "LeaseRevoke", rpc.LeaseRevokeRequest(ID=lease)
            )
        except StoreError as exc:
            if "NOT_FOUND" not in str(exc):  # gone already: what revoking wants
                raise

    # -- keys -----------------------------------------------------------------------------
    async def read(self, *prefixes: bytes) -> tuple[int, list[Held]]:
        """Every key under the prefixes, at one revision (ownership keys are few)."""
        ops = [
            rpc.RequestOp(request_range=rpc.RangeRequest(key=p, range_end=prefix_end(p)))
            for p in prefixes
        ]
        resp = await self._unary(self._client.kvstub, "Txn", rpc.TxnRequest(success=ops))
        held = [
            Held(bytes(m.key), bytes(m.value), int(m.mod_revision), int(m.lease))
            for r in resp.responses
            for m in r.response_range.kvs
        ]
        return int(resp.header.revision), held

    async def create(self, key: bytes, value: bytes, lease: int) -> int | None:
        """Put the key bound to `lease` if it does not exist; the revision it was written
        at, or None when it exists."""
        resp = await self._unary(self._client.kvstub, "Txn", _create_txn(key, value, lease))
        return int(resp.header.revision) if resp.succeeded else None

    async def create_many(
        self, keys: list[bytes], value: bytes, lease: int, batch: int = 64
    ) -> dict[bytes, int]:
        """`create` for many keys, `batch` per round trip: one transaction holding one
        nested transaction per key (etcd 3.3+), so each key is created only where absent
        and one existing key does not stop the others. The keys created, with the revision
        they were written at (one per round trip); the others existed."""
        created: dict[bytes, int] = {}
        for start in range(0, len(keys), batch):
            part = keys[start : start + batch]
            ops = [rpc.RequestOp(request_txn=_create_txn(key, value, lease)) for key in part]
            resp = await self._unary(self._client.kvstub, "Txn", rpc.TxnRequest(success=ops))
            revision = int(resp.header.revision)
            for key, r in zip(part, resp.responses, strict=True):
                if r.response_txn.succeeded:
                    created[key] = revision
        return created

    async def put(self, key: bytes, value: bytes, lease: int) -> int:
        """Put the key bound to `lease` (replacing any value); the revision written."""
        req = rpc.PutRequest(key=key, value=value, lease=lease)
        resp = await self._unary(self._client.kvstub, "Put", req)
        return int(resp.header.revision)

    async def delete_if_value(self, key: bytes, value: bytes) -> bool:
        """Delete the key if it holds `value` (nobody replaced it since)."""
        req = rpc.TxnRequest(
            compare=[
                rpc.Compare(
                    key=key, result=rpc.Compare.EQUAL, target=rpc.Compare.VALUE, value=value
                )
            ],
            success=[rpc.RequestOp(request_delete_range=rpc.DeleteRangeRequest(key=key))],
        )
        resp = await self._unary(self._client.kvstub, "Txn", req)
        return bool(resp.succeeded)

    async def delete_if(self, key: bytes, mod_revision: int) -> bool:
        """Delete the key if it was last written at `mod_revision` (it is still ours)."""
        req = rpc.TxnRequest(
            compare=[
                rpc.Compare(
                    key=key,
                    result=rpc.Compare.EQUAL,
                    target=rpc.Compare.MOD,
                    mod_revision=mod_revision,
                )
            ],
            success=[rpc.RequestOp(request_delete_range=rpc.DeleteRangeRequest(key=key))],
        )
        resp = await self._unary(self._client.kvstub, "Txn", req)
        return bool(resp.succeeded)

    # -- watches --------------------------------------------------------------------------
    async def watch(self, prefix: bytes, start_revision: int) -> AsyncIterator[int]:
        """The revision of each change under `prefix` from `start_revision` on; raises
        StoreError when the watch ends (etcd unreachable, history compacted)."""
        call = rpc.WatchStub(self._client.channel).Watch(metadata=self._client.metadata)
        try:
            await call.write(
                rpc.WatchRequest(
                    create_request=rpc.WatchCreateRequest(
                        key=prefix, range_end=prefix_end(prefix), start_revision=start_revision
                    )
                )
            )
            while (resp := await call.read()) is not grpc.aio.EOF:
                if resp.canceled:
                    raise StoreError(
                        f"{self.url}: watch of {prefix.decode()} ended:"
                        f" {resp.cancel_reason or 'canceled'}"
                    )
                if resp.events:
                    yield int(resp.header.revision)
        except rpc.AioRpcError as exc:
            raise StoreError(f"{self.url}: watch: {_reason(exc)}") from None
        finally:
            call.cancel()
        raise StoreError(f"{self.url}: watch of {prefix.decode()} ended")
