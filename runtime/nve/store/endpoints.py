"""Endpoint changes (add, move, remove), checked against the overlay in force and
written in etcd transactions (docs/fleet.md, "Endpoint changes").

`change_endpoints` takes a batch: it reads everything the batch depends on at one
revision (four reads, whatever its size), checks the changes in order, each against the
overlay as the ones before it leave it (nve.store.endpoint_plan), and commits the
accepted ones in one transaction with compares on every key they depend on; if any of
those moved since, nothing is written and the uncommitted changes are read and checked
again. A change that would make the overlay invalid is refused alone, with its reasons;
the others go on. A batch larger than one transaction may hold (etcd's --max-txn-ops and
--max-request-bytes) is committed in consecutive transactions, in order, each atomic.
An orchestrator moving many endpoints at once thus pays the store's round trips and
etcd's consensus once per transaction, not once per endpoint.

`add_endpoint`, `move_endpoint` and `remove_endpoint` are batches of one that raise
ChangeRefused.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from nve.model import Endpoint
from nve.store.endpoint_plan import (
    Attachment,
    ChangeRefused,
    Plan,
    View,
    claim_keys,
    context_keys,
    plan_change,
)
from nve.store.etcd import (
    MAX_REQUEST_BYTES,
    MAX_TXN_OPS,
    Compare,
    Delete,
    Etcd,
    ModIs,
    Op,
    Put,
    StoreError,
    ValueIs,
    op_size,
)
from nve.store.keys import Root
from nve.store.reader import current_generation

__all__ = [
    "Add",
    "Attachment",
    "ChangeRefused",
    "ChangeResult",
    "EndpointChange",
    "Move",
    "Remove",
    "add_endpoint",
    "change_endpoints",
    "change_label",
    "move_endpoint",
    "remove_endpoint",
]

DEFAULT_ATTEMPTS = 200
# A compare in a TxnRequest: the key, a revision or value and the framing (bytes; over-
# estimated: the endpoint values it compares are not sent).
_COMPARE_OVERHEAD = 32


@dataclass(frozen=True)
class Add:
    endpoint: Endpoint

    @property
    def name(self) -> str:
        return self.endpoint.name

    def make(self, old: Endpoint | None) -> Endpoint:
        if old is not None:
            raise ChangeRefused([f"endpoint {self.name} already exists"])
        return self.endpoint


@dataclass(frozen=True)
class Move:
    name: str
    attachment: Attachment

    def make(self, old: Endpoint | None) -> Endpoint:
        if old is None:
            raise ChangeRefused([f"no endpoint {self.name}"])
        return old.model_copy(update={"attachment": self.attachment})


@dataclass(frozen=True)
class Remove:
    name: str

    def make(self, old: Endpoint | None) -> None:
        if old is None:
            raise ChangeRefused([f"no endpoint {self.name}"])


EndpointChange = Add | Move | Remove


def change_label(i: int, change: EndpointChange) -> str:
    """How a refusal names a change of a batch: `changes[1] (move web3)`."""
    return f"changes[{i}] ({type(change).__name__.lower()} {change.name})"


@dataclass(frozen=True)
class ChangeResult:
    revision: int  # the store revision of the transaction that wrote the change
    generation: str
    attempts: int  # 1 unless concurrent writers made it read again


@dataclass(frozen=True)
class Limits:
    """What one transaction may hold (etcd's --max-txn-ops, --max-request-bytes)."""

    ops: int = MAX_TXN_OPS
    bytes: int = MAX_REQUEST_BYTES


async def add_endpoint(
    etcd: Etcd, prefix: str, ep: Endpoint, attempts: int = DEFAULT_ATTEMPTS
) -> ChangeResult:
    return await _one(etcd, prefix, Add(ep), attempts=attempts)


async def move_endpoint(
    etcd: Etcd, prefix: str, name: str, attachment: Attachment, attempts: int = DEFAULT_ATTEMPTS
) -> ChangeResult:
    return await _one(etcd, prefix, Move(name, attachment), attempts=attempts)


async def remove_endpoint(
    etcd: Etcd, prefix: str, name: str, attempts: int = DEFAULT_ATTEMPTS
) -> ChangeResult:
    return await _one(etcd, prefix, Remove(name), attempts=attempts)


async def _one(
    etcd: Etcd, prefix: str, change: EndpointChange, attempts: int = DEFAULT_ATTEMPTS
) -> ChangeResult:
    (result,) = await change_endpoints(etcd, prefix, [change], attempts=attempts)
    if isinstance(result, ChangeRefused):
        raise result
    return result


async def change_endpoints(
    etcd: Etcd,
    prefix: str,
    changes: Sequence[EndpointChange],
    attempts: int = DEFAULT_ATTEMPTS,
    limits: Limits = Limits(),
    atomic: bool = False,
) -> list[ChangeResult | ChangeRefused]:
    """Each change's outcome, in the order given: committed (at which revision) or
    refused (why). An endpoint may be named once per batch (ValueError otherwise).
    `atomic`: all or nothing: one transaction, or ChangeRefused naming every refused
    change (or the batch too large for one transaction) and nothing written.
    StoreError when the store cannot be reached, or when concurrent writers kept the
    uncommitted changes from committing for `attempts` reads (those changed nothing)."""
    names: dict[str, int] = {}
    for i, ch in enumerate(changes):
        if ch.name in names:
            raise ValueError(
                f"endpoint {ch.name} is changed twice in one batch (changes {names[ch.name]}"
                f" and {i}): give it once"
            )
        names[ch.name] = i
    root = Root(prefix)
    results: list[ChangeResult | ChangeRefused | None] = [None] * len(changes)
    pending = list(range(len(changes)))
    attempt = 0
    while pending:
        attempt += 1
        if attempt > attempts:
            left = ", ".join(changes[i].name for i in pending[:5])
            raise StoreError(
                f"{etcd.url}: endpoints {left}{' ...' if len(pending) > 5 else ''}: still"
                f" conflicting with other writers after {attempts} attempts; not changed"
            )
        read = await _read(etcd, root, [changes[i] for i in pending])
        if read is None:
            await asyncio.sleep(0)
            continue  # an import became current in between
        view, made = read
        compares: dict[bytes, Compare] = {root.current: ValueIs(root.current, view.gen_id.encode())}
        ops: dict[bytes, Op] = {}
        size = 0
        taken: list[int] = []
        refused: list[int] = []
        for i, (old, new) in zip(pending, made, strict=True):
            try:
                if isinstance(new, ChangeRefused):
                    raise new
                plan = plan_change(view, changes[i].name, old, new)
            except ChangeRefused as exc:
                results[i] = exc
                refused.append(i)
                continue
            more_c = {k: ModIs(k, view.mod(k)) for k in plan.touched if k not in compares}
            more_o = _ops(plan)
            grown = (
                size
                + sum(len(k) + _COMPARE_OVERHEAD for k in more_c)
                + sum(op_size(o) for k, o in more_o.items() if k not in ops)
            )
            if taken and (
                len(compares) + len(more_c) > limits.ops
                or len({*ops, *more_o}) > limits.ops
                or grown > limits.bytes
            ):
                if atomic:
                    too_large = (
                        f"the batch needs more than one transaction (from change {i},"
                        f" {changes[i].name}: etcd allows {limits.ops} compares or operations"
                        f" and {limits.bytes:,} bytes in one); nothing changed"
                    )
                    raise ChangeRefused([too_large])
                break  # the next transaction's
            view.apply(plan)
            compares.update(more_c)
            ops.update(more_o)
            size = grown
            taken.append(i)
        done = {i for i in pending if results[i] is not None}
        if atomic and refused:
            raise ChangeRefused(
                [
                    f"{change_label(i, changes[i])}: {why}"
                    for i in refused
                    for why in _reasons(results[i])
                ]
                + ["nothing changed (all or nothing)"]
            )
        if taken:
            ok, revision = await etcd.txn(list(compares.values()), list(ops.values()))
            if ok:
                for i in taken:
                    results[i] = ChangeResult(revision, view.gen_id, attempt)
                done |= set(taken)
            else:
                # Refusals of this attempt may rest on changes that did not commit: the
                # store had moved. Every uncommitted change is read and checked again.
                for i in refused:
                    results[i] = None
                done -= set(refused)
                await asyncio.sleep(0)
        pending = [i for i in pending if i not in done]
    return [r for r in results if r is not None]


def _reasons(r: ChangeResult | ChangeRefused | None) -> list[str]:
    return r.reasons if isinstance(r, ChangeRefused) else []


def _ops(plan: Plan) -> dict[bytes, Op]:
    return {k: Put(k, v) if v is not None else Delete(k) for k, v in plan.writes.items()}


Made = tuple[Endpoint | None, Endpoint | ChangeRefused | None]


async def _read(
    etcd: Etcd, root: Root, changes: list[EndpointChange]
) -> tuple[View, list[Made]] | None:
    """Everything the changes depend on, read at one revision, and each change's old
    and new endpoint (or why it cannot be made). None: `current` moved while reading.

    Three steps: the endpoints (what they are decides the rest), their context (subnets,
    switches, remote NVEs, references), then the index and counter keys (they depend on
    the subnets' tenants). Each step reads the endpoints again: if one changed in
    between, the batch is read again. Other keys that change within a generation are
    compared at commit, so what a committed batch was checked against was all current
    at once."""
    gen_id, _ = await current_generation(etcd, root.prefix)
    gen = root.generation(gen_id)
    view = View(gen, gen_id)
    eps = [gen.endpoint(ch.name) for ch in changes]
    if not await _get(etcd, root, view, eps):
        return None
    made: list[Made] = []
    keys: list[bytes] = []
    prefixes: list[bytes] = [gen.mtu_short_prefix]
    for ch in changes:
        old = view.endpoint(ch.name)
        try:
            new: Endpoint | ChangeRefused | None = ch.make(old)
        except ChangeRefused as exc:
            new = exc
        made.append((old, new))
        k, p = context_keys(gen, ch.name, old, None if isinstance(new, ChangeRefused) else new)
        keys += k
        prefixes += p
    if not await _get(etcd, root, view, [*eps, *keys], prefixes, check=eps):
        return None
    claims: list[bytes] = []
    for old, new in made:
        if not isinstance(new, ChangeRefused):
            claims += claim_keys(view, old, new)
    if not await _get(etcd, root, view, [*eps, *claims], check=eps):
        return None
    return view, made


async def _get(
    etcd: Etcd,
    root: Root,
    view: View,
    keys: list[bytes],
    prefixes: Sequence[bytes] = (),
    check: Sequence[bytes] = (),
) -> bool:
    """Read the keys (and `current`) into the view; False when `current` moved, or a
    `check` key changed since the view read it (the batch is then read again)."""
    wanted = list(dict.fromkeys([root.current, *keys]))
    _, found = await etcd.get_many(wanted, list(dict.fromkeys(prefixes)))
    kv = found.get(root.current)
    if kv is None or kv.value != view.gen_id.encode():
        return False
    if any(view.mod(k) != (found[k].mod_revision if k in found else 0) for k in check):
        return False
    view.take(wanted, found)
    return True
