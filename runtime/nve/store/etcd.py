"""The etcd v3 calls the store makes, typed, over aetcd's gRPC channel.

aetcd gives the connection (channel, authentication) and the v3 API messages; the
requests are built here because the store needs what aetcd's helpers leave out: the
revision a transaction committed at, reads pinned to one revision and read in pages, and
the size of a request before it is sent (etcd refuses transactions over its limits).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

import aetcd
from aetcd import rpc
from aetcd.exceptions import ClientError

from nve.store.client import StoreTlsError, client_for
from nve.store.url import StoreUrl

# etcd's defaults (--max-txn-ops, --max-request-bytes); a server may be configured lower.
MAX_TXN_OPS = 128
MAX_REQUEST_BYTES = 1_572_864
READ_PAGE = 2000
READ_PAGE_MAX = 50_000  # about 12 MB of endpoints a response
_MAX_RECEIVE = 256 * 1024 * 1024


class StoreError(Exception):
    """The store cannot be reached, or refused a request; the text says which and why."""


@dataclass(frozen=True)
class KeyValue:
    key: bytes
    value: bytes
    create_revision: int
    mod_revision: int


@dataclass(frozen=True)
class Put:
    key: bytes
    value: bytes


@dataclass(frozen=True)
class Delete:
    key: bytes
    prefix: bool = False  # every key starting with `key`


Op = Put | Delete


@dataclass(frozen=True)
class ModIs:
    """The key was last modified at `revision` (0: the key does not exist)."""

    key: bytes
    revision: int


@dataclass(frozen=True)
class ValueIs:
    key: bytes
    value: bytes


@dataclass(frozen=True)
class NoneUnder:
    """No key starts with `prefix`."""

    prefix: bytes


Compare = ModIs | ValueIs | NoneUnder


@dataclass(frozen=True)
class WatchedChange:
    """One key's change as a watch reports it."""

    key: bytes
    value: bytes  # b"" for a delete
    deleted: bool
    mod_revision: int


def prefix_end(prefix: bytes) -> bytes:
    return bytes(aetcd.utils.prefix_range_end(prefix))


def op_size(op: Op) -> int:
    """Bytes the operation adds to a TxnRequest (exact: protobuf's own count)."""
    return int(_request_op(op).ByteSize()) + 4


def _request_op(op: Op) -> Any:
    if isinstance(op, Put):
        return rpc.RequestOp(request_put=rpc.PutRequest(key=op.key, value=op.value))
    req = rpc.DeleteRangeRequest(key=op.key)
    if op.prefix:
        req.range_end = prefix_end(op.key)
    return rpc.RequestOp(request_delete_range=req)


def _compare(c: Compare) -> Any:
    if isinstance(c, ModIs):
        return rpc.Compare(
            key=c.key, result=rpc.Compare.EQUAL, target=rpc.Compare.MOD, mod_revision=c.revision
        )
    if isinstance(c, ValueIs):
        return rpc.Compare(
            key=c.key, result=rpc.Compare.EQUAL, target=rpc.Compare.VALUE, value=c.value
        )
    # Over a range, etcd compares every key in it; with none, a zero key (version 0).
    return rpc.Compare(
        key=c.prefix,
        range_end=prefix_end(c.prefix),
        result=rpc.Compare.EQUAL,
        target=rpc.Compare.VERSION,
        version=0,
    )


def _kv(m: Any) -> KeyValue:
    return KeyValue(bytes(m.key), bytes(m.value), int(m.create_revision), int(m.mod_revision))


class Etcd:
    """One connection to an etcd cluster member."""

    def __init__(self, url: StoreUrl, timeout_s: float = 30.0) -> None:
        self.url = url
        self._timeout = timeout_s
        self._client = self._client_for(url.endpoints[0])

    def _client_for(self, endpoint: tuple[str, int]) -> Any:
        options = {"grpc.max_receive_message_length": _MAX_RECEIVE}
        return client_for(self.url, self._timeout, options, endpoint)

    async def __aenter__(self) -> Etcd:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def open(self) -> None:
        """Connect to the first member of the address that answers (in order)."""
        failures = []
        for i, endpoint in enumerate(self.url.endpoints):
            if i:
                self._client = self._client_for(endpoint)
            try:
                await self._client.connect()
                await self.revision()  # fails here, not at the first real request
                return
            except (ClientError, rpc.AioRpcError, StoreError) as exc:
                why = (
                    str(exc).split("cannot reach etcd ", 1)[-1]
                    if isinstance(exc, StoreError)
                    else f"({_reason(exc)})"
                )
                failures.append(f"{endpoint[0]}:{endpoint[1]} {why}")
                await self._client.close()
            except StoreTlsError as exc:
                raise StoreError(f"{self.url}: {exc}") from None
        if len(self.url.endpoints) == 1:
            raise StoreError(f"{self.url}: cannot reach etcd {failures[0].split(' ', 1)[1]}")
        raise StoreError(f"{self.url}: cannot reach etcd: {'; '.join(failures)}")

    async def close(self) -> None:
        await self._client.close()

    async def _call(self, method: str, request: Any) -> Any:
        stub = self._client.kvstub
        try:
            return await getattr(stub, method)(
                request, timeout=self._timeout, metadata=self._client.metadata
            )
        except rpc.AioRpcError as exc:
            if exc.code() == rpc.StatusCode.UNAVAILABLE:
                raise StoreError(f"{self.url}: cannot reach etcd ({_reason(exc)})") from None
            if exc.code() == rpc.StatusCode.PERMISSION_DENIED:
                raise StoreError(
                    f"{self.url}: etcd refused {method}: permission denied (the user this"
                    " client authenticates as has no role that allows it: docs/fleet.md,"
                    " Securing the store)"
                ) from None
            raise StoreError(f"{self.url}: etcd refused {method} ({_reason(exc)})") from None

    async def revision(self) -> int:
        # A key inside the prefix: a user whose role covers only the prefix may read it.
        probe = f"{self.url.prefix}/current".encode()
        resp = await self._call("Range", rpc.RangeRequest(key=probe, count_only=True))
        return int(resp.header.revision)

    async def get_many(
        self, keys: Sequence[bytes], prefixes: Sequence[bytes] = ()
    ) -> tuple[int, dict[bytes, KeyValue]]:
        """The keys (and every key under the prefixes) as of one revision: one transaction,
        or, beyond etcd's operations per transaction, the first one's revision read by the
        next ones."""
        ranges = [rpc.RangeRequest(key=k) for k in keys]
        ranges += [rpc.RangeRequest(key=p, range_end=prefix_end(p)) for p in prefixes]
        found: dict[bytes, KeyValue] = {}
        revision = 0
        for start in range(0, max(len(ranges), 1), MAX_TXN_OPS):
            chunk = ranges[start : start + MAX_TXN_OPS]
            for r in chunk:
                r.revision = revision
            resp = await self._call(
                "Txn", rpc.TxnRequest(success=[rpc.RequestOp(request_range=r) for r in chunk])
            )
            revision = revision or int(resp.header.revision)
            for r in resp.responses:
                for m in r.response_range.kvs:
                    kv = _kv(m)
                    found[kv.key] = kv
        return revision, found

    async def get(self, key: bytes) -> KeyValue | None:
        _, found = await self.get_many([key])
        return found.get(key)

    async def scan(
        self, prefix: bytes, revision: int, page: int = READ_PAGE
    ) -> AsyncIterator[KeyValue]:
        """Every key under the prefix as of `revision`, in key order, at least `page` keys a
        request. etcd 3.4 visits every key from a request's start to its range end to count
        them, whatever its limit, so fixed pages cost the square of the keys (1,000,000
        endpoints in pages of 2,000: 500 requests visiting 250 million keys, minutes). A page
        is therefore an eighth of the keys still to read (from `page` up to READ_PAGE_MAX):
        about 20 requests for a million keys."""
        start, end = prefix, prefix_end(prefix)
        limit = page
        while True:
            resp = await self._call(
                "Range", rpc.RangeRequest(key=start, range_end=end, limit=limit, revision=revision)
            )
            for m in resp.kvs:
                yield _kv(m)
            if not resp.more or not resp.kvs:
                return
            start = bytes(resp.kvs[-1].key) + b"\0"
            left = int(resp.count) - len(resp.kvs)
            limit = max(page, min(READ_PAGE_MAX, left // 8))

    async def watch(self, prefix: bytes, start_revision: int) -> AsyncIterator[int]:
        """The revision of every change under the prefix from `start_revision` on."""
        try:
            w = await self._client.watch_prefix(prefix, start_revision=start_revision)
            try:
                async for event in w:
                    yield int(event.kv.mod_revision)
            finally:
                await w.cancel()
        except (ClientError, rpc.AioRpcError) as exc:
            raise StoreError(f"{self.url}: the watch failed ({_reason(exc)})") from None

    async def watch_changes(
        self, prefix: bytes, start_revision: int
    ) -> AsyncIterator[WatchedChange]:
        """Every change under the prefix from `start_revision` on, key and value; a
        StoreError when the watch ends (etcd unreachable, the start compacted away)."""
        try:
            w = await self._client.watch_prefix(prefix, start_revision=start_revision)
            try:
                async for event in w:
                    yield WatchedChange(
                        bytes(event.kv.key),
                        bytes(event.kv.value or b""),
                        str(event.kind) == "DELETE",
                        int(event.kv.mod_revision),
                    )
            finally:
                await w.cancel()
        except (ClientError, rpc.AioRpcError) as exc:
            raise StoreError(f"{self.url}: the watch failed ({_reason(exc)})") from None

    async def txn(self, compares: Sequence[Compare], ops: Sequence[Op]) -> tuple[bool, int]:
        """Apply `ops` if every compare holds; (succeeded, the revision after it)."""
        req = rpc.TxnRequest(
            compare=[_compare(c) for c in compares], success=[_request_op(o) for o in ops]
        )
        resp = await self._call("Txn", req)
        return bool(resp.succeeded), int(resp.header.revision)

    async def compact_and_defragment(self) -> None:
        """Drop the history before now and give its space back (for size measurements)."""
        revision = await self.revision()
        try:
            await self._client.kvstub.Compact(
                rpc.CompactionRequest(revision=revision, physical=True),
                timeout=self._timeout,
                metadata=self._client.metadata,
            )
        except rpc.AioRpcError as exc:
            if exc.code() != rpc.StatusCode.OUT_OF_RANGE:  # compacted there already
                raise StoreError(f"{self.url}: etcd refused compaction ({_reason(exc)})") from None
        try:
            await self._client.maintenancestub.Defragment(
                rpc.DefragmentRequest(), timeout=self._timeout, metadata=self._client.metadata
            )
        except rpc.AioRpcError as exc:
            raise StoreError(f"{self.url}: etcd refused defragmentation ({_reason(exc)})") from None

    async def db_size(self) -> int:
        try:
            resp = await self._client.maintenancestub.Status(
                rpc.StatusRequest(), timeout=self._timeout, metadata=self._client.metadata
            )
        except rpc.AioRpcError as exc:
            raise StoreError(f"{self.url}: etcd refused Status ({_reason(exc)})") from None
        return int(resp.dbSize)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, rpc.AioRpcError):
        return f"{exc.code().name}: {exc.details()}"
    return str(exc) or type(exc).__name__
