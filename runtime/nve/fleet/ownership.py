"""One replica's share of the switches: join the fleet, own switches through an etcd lease,
give them up when the spread says so or when the lease is lost.

Keys, under the store prefix (`/nve` by default; docs/fleet.md reserves them):

- `PREFIX/replicas/REPLICA` = REPLICA, bound to the replica's lease: the live replicas;
- `PREFIX/owners/SWITCH` = REPLICA, bound to the owner's lease, created only where
  absent (a transaction): the revision it was created at makes the owner's election id
  (`nve.fleet.election`);
- `PREFIX/epoch`: the epoch of those ids (decimal; 0 when absent), read at each join.

Every replica reads both at one revision, computes the same assignment (`nve.fleet.spread`),
gives up the switches it should no longer own (callback first, then the key), and creates
the owner keys of the unowned switches assigned to it (key first, then the callback). It
reads again on every change under `replicas/` or `owners/` (watches) and at least every third of the
lease's TTL.

A replica whose lease lapses (killed, paused, cut off from etcd) loses its keys when etcd
expires the lease, and the others take its switches. The keep-alives go from a process of
their own (nve.fleet.keeper), so a busy replica does not lose the lease. The replica gives its
switches up itself as soon as it cannot be sure of the lease: when no keep-alive sent
within the last TTL was answered. That
is a courtesy, not the guarantee: the switch's arbitration is (`nve.fleet.election`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from nve.fleet.election import election_id
from nve.fleet.etcd_leases import Held, LeaseEtcd
from nve.fleet.keeper import LeaseKeeper
from nve.fleet.spread import assign
from nve.store.etcd import StoreError
from nve.store.url import StoreUrl

log = logging.getLogger("nve.fleet")

AcquireHook = Callable[[str, int], Awaitable[None]]  # (switch, election id)
ReleaseHook = Callable[[str], Awaitable[None]]
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")


class FleetError(Exception):
    """A replica that cannot take part, with the reason."""


class LeaseLost(Exception):
    """The replica's lease expired or can no longer be known to be alive."""


@dataclass(frozen=True)
class FleetKeys:
    prefix: str  # the store prefix, e.g. "/nve"

    @property
    def members(self) -> bytes:
        return f"{self.prefix}/replicas/".encode()

    @property
    def owners(self) -> bytes:
        return f"{self.prefix}/owners/".encode()

    @property
    def epoch(self) -> bytes:
        return f"{self.prefix}/epoch".encode()

    def member(self, replica: str) -> bytes:
        return self.members + replica.encode()

    def owner(self, switch: str) -> bytes:
        return self.owners + switch.encode()


@dataclass(frozen=True)
class Owner:
    replica: str
    revision: int  # the owner key's revision: when it took the switch


@dataclass(frozen=True)
class FleetView:
    """Members and owners as read at one revision."""

    revision: int
    members: frozenset[str]
    owners: dict[str, Owner]


def parse_view(keys: FleetKeys, revision: int, held: Sequence[Held]) -> FleetView:
    members: set[str] = set()
    owners: dict[str, Owner] = {}
    for kv in held:
        if kv.key.startswith(keys.members):
            members.add(kv.key[len(keys.members) :].decode())
        elif kv.key.startswith(keys.owners):
            owners[kv.key[len(keys.owners) :].decode()] = Owner(kv.value.decode(), kv.mod_revision)
    return FleetView(revision, frozenset(members), owners)


def check_name(what: str, name: str) -> str:
    if not _NAME.match(name):
        raise FleetError(
            f"{what} {name!r} may hold only letters, digits, '_', '.', '-' (1 to 128 of them)"
        )
    return name


@dataclass
class OwnershipStats:
    acquired: int = 0
    released: int = 0
    leases_lost: int = 0


@dataclass
class OwnershipManager:
    """Run `run()` for as long as the replica serves; cancel it to leave (gracefully)."""

    url: StoreUrl
    replica: str
    switches: Sequence[str]
    on_acquire: AcquireHook
    on_release: ReleaseHook
    ttl_s: int = 5
    epoch: int | None = None  # None: PREFIX/epoch, read at each join
    etcd: LeaseEtcd | None = None
    owned: dict[str, int] = field(default_factory=dict)  # switch -> revision it was taken at
    view: FleetView | None = None
    stats: OwnershipStats = field(default_factory=OwnershipStats)
    joined: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        check_name("replica name", self.replica)
        for s in self.switches:
            check_name("switch name", s)
        if self.ttl_s < 2:
            raise FleetError(f"lease TTL {self.ttl_s} s is too short (at least 2 s)")
        self.keys = FleetKeys(self.url.prefix)
        self._changed = asyncio.Event()
        self._lease: int | None = None
        self.keeper: LeaseKeeper | None = None  # refreshes the lease (nve.fleet.keeper)
        self._epoch = 0

    def set_switches(self, switches: Sequence[str]) -> None:
        """The overlay's switches changed: spread the new set from the next read on."""
        for s in switches:
            check_name("switch name", s)
        self.switches = list(switches)
        self._changed.set()

    def election_id(self, switch: str) -> int:
        return election_id(self._epoch, self.owned[switch])

    # -- the loop -------------------------------------------------------------------------
    async def run(self) -> None:
        """Join, own a share, follow changes; after a lost lease or etcd failure, give
        everything up and join again with a new lease."""
        etcd = self.etcd or LeaseEtcd(self.url, timeout_s=max(1.0, self.ttl_s / 3))
        self.etcd = etcd
        retry = 0.2
        try:
            while True:
                try:
                    await etcd.open()
                    await self._membership(etcd)
                except (StoreError, LeaseLost) as exc:
                    if isinstance(exc, LeaseLost):
                        self.stats.leases_lost += 1
                    log.warning("%s: %s; giving up every switch, joining again", self.replica, exc)
                    await self._release_all(etcd, delete=False)
                    if self._lease is not None:  # its keys go now if etcd can still be told
                        with contextlib.suppress(StoreError):
                            await etcd.revoke(self._lease)
                        self._lease = None
                    await asyncio.sleep(retry)
                    retry = min(retry * 2, float(self.ttl_s))
                    continue
                retry = 0.2
        finally:
            with contextlib.suppress(Exception):
                await asyncio.shield(self._leave(etcd))
            await etcd.close()

    async def _read_epoch(self, etcd: LeaseEtcd) -> int:
        if self.epoch is not None:
            return self.epoch
        _, held = await etcd.read(self.keys.epoch)
        text = next((kv.value for kv in held if kv.key == self.keys.epoch), b"0")
        try:
            value = int(text.decode().strip())
        except (UnicodeDecodeError, ValueError):
            value = -1
        if not 0 <= value < 2**64:
            raise FleetError(
                f"{self.url}: {self.keys.epoch.decode()} = {text[:40]!r} is not an epoch"
                " (a whole number 0 .. 2**64-1)"
            )
        return value

    async def _membership(self, etcd: LeaseEtcd) -> None:
        self._epoch = await self._read_epoch(etcd)
        sent = time.monotonic()  # etcd starts the lease's TTL after this
        lease = await etcd.grant(self.ttl_s)
        self._lease = lease
        while (
            await etcd.create(self.keys.member(self.replica), self.replica.encode(), lease) is None
        ):
            # A replica of that name is live, or this one's previous lease has not expired yet.
            if time.monotonic() - sent > self.ttl_s * 3:
                raise FleetError(f"replica {self.replica!r} is already live in {self.url}")
            await asyncio.sleep(0.2)
            await etcd.keep_alive(lease)
        log.info("%s: joined %s (lease %x, TTL %d s)", self.replica, self.url, lease, self.ttl_s)
        self.joined.set()
        keeper = LeaseKeeper(self.url, etcd.endpoint, lease, self.ttl_s, sent).start()
        self.keeper = keeper
        keepalive = asyncio.create_task(self._keep_alive(keeper))
        watches = [
            asyncio.create_task(self._watch(etcd, p)) for p in (self.keys.members, self.keys.owners)
        ]
        try:
            while True:
                self._changed.clear()
                try:
                    await self._step(etcd, lease)
                except StoreError as exc:  # ownership stands while the lease does: try again
                    log.warning("%s: %s", self.replica, exc)
                waiter = asyncio.create_task(self._changed.wait())
                await asyncio.wait(
                    {waiter, keepalive}, timeout=self.ttl_s / 3, return_when=asyncio.FIRST_COMPLETED
                )
                waiter.cancel()
                if keepalive.done():
                    keepalive.result()  # raises LeaseLost / StoreError
                    raise LeaseLost("the keep-alive ended")
        finally:
            self.joined.clear()
            for t in (keepalive, *watches):
                t.cancel()
            await asyncio.gather(keepalive, *watches, return_exceptions=True)
            await asyncio.to_thread(keeper.stop)

    async def _keep_alive(self, keeper: LeaseKeeper) -> None:
        """Check in with the keeper (nve.fleet.keeper) every third of the TTL: it refreshes
        the lease from its own process, and this replica never counts on the lease for
        longer than a TTL after the send time of the last refresh etcd answered."""
        while True:
            await asyncio.sleep(self.ttl_s / 3)
            why = keeper.check()
            if why is not None:
                raise LeaseLost(why)

    async def _watch(self, etcd: LeaseEtcd, prefix: bytes) -> None:
        """Wake the loop on every change under `prefix` (the loop also polls)."""
        while True:
            try:
                start = await etcd.revision() + 1
                async for _ in etcd.watch(prefix, start):
                    self._changed.set()
            except StoreError as exc:
                log.debug("%s: watch: %s", self.replica, exc)
            await asyncio.sleep(self.ttl_s / 3)

    async def _step(self, etcd: LeaseEtcd, lease: int) -> None:
        revision, held = await etcd.read(self.keys.members, self.keys.owners)
        view = parse_view(self.keys, revision, held)
        self.view = view
        for s, rev in list(self.owned.items()):  # taken from us (our key expired or was deleted)
            if view.owners.get(s) != Owner(self.replica, rev):
                log.warning("%s: %s is no longer ours (owner key changed)", self.replica, s)
                await self._drop(s)
        if self.replica not in view.members:
            raise LeaseLost(f"member key {self.keys.member(self.replica).decode()} is gone")
        desired = assign(
            self.switches, view.members, {s: o.replica for s, o in view.owners.items()}
        )
        for s in sorted(self.owned):
            if desired.get(s) != self.replica:
                rev = self.owned[s]
                log.info("%s: giving %s to %s (spread)", self.replica, s, desired.get(s))
                await self._drop(s)
                await etcd.delete_if(self.keys.owner(s), rev)
        wanted = [
            s
            for s, replica in sorted(desired.items())
            if replica == self.replica and s not in view.owners
        ]
        # One round trip per 64 switches: after a replica dies, its share is taken at once
        # (one create per switch, about 70 ms each under load, made the takeover of 340
        # switches last about 24 s).
        created = await etcd.create_many(
            [self.keys.owner(s) for s in wanted], self.replica.encode(), lease
        )
        for s in wanted:
            rev_or_none = created.get(self.keys.owner(s))
            if rev_or_none is None:
                continue  # someone took it first: the next read shows who
            self.owned[s] = rev_or_none
            self.stats.acquired += 1
            eid = self.election_id(s)
            log.info(
                "%s: owns %s from revision %d (election id %d)", self.replica, s, rev_or_none, eid
            )
            try:
                await self.on_acquire(s, eid)
            except Exception:
                log.exception("%s: on_acquire(%s) failed", self.replica, s)

    async def _drop(self, switch: str) -> None:
        self.owned.pop(switch, None)
        self.stats.released += 1
        try:
            await self.on_release(switch)
        except Exception:
            log.exception("%s: on_release(%s) failed", self.replica, switch)

    async def _release_all(self, etcd: LeaseEtcd, *, delete: bool) -> None:
        for s in sorted(self.owned):
            rev = self.owned[s]
            await self._drop(s)
            if delete:
                with contextlib.suppress(StoreError):
                    await etcd.delete_if(self.keys.owner(s), rev)

    async def _leave(self, etcd: LeaseEtcd) -> None:
        """Leaving on purpose: stop writing everywhere, then free the keys at once."""
        await self._release_all(etcd, delete=True)
        if self._lease is not None:
            with contextlib.suppress(StoreError):
                await etcd.revoke(self._lease)
            self._lease = None
