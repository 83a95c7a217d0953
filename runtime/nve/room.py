"""Room in full tables: the write order when installed and desired entries do not fit together.

`diff` writes every insert before any delete (make before break). A table that holds its
installed entries plus the new ones only beyond its size fails the excess inserts, the
break phase that would free the room is held back, and every later run fails the same way.
`fit` lays such a plan out again, simulating the switch Write by Write, in rounds:

* each tier's make Write inserts only what fits; just before it, a Write deletes entries
  that are going anyway and that nothing staying on the switch points at, as many as the
  inserts need (and no more);
* what did not fit waits for the next round. Meanwhile entries that stay are re-pointed
  (modified) as soon as what they now point at is in place, which releases the entries
  they pointed at; the next round deletes those to make room. Nothing that stays ever
  loses what it points at, so a moved endpoint keeps its delivery throughout;
* when no round can progress (every entry that could go is still pointed at), there is no
  make-before-break order: as many of those entries as the waiting inserts need are
  deleted, and the Write that inserts the new entries also re-points their users (with
  any new entry they point at), so those users are without a target for one Write, or
  longer where what they now point at waits for room in another table too. The plan
  names each such table and the count (`Plan.short`).

A table whose desired entries alone exceed its size cannot be fitted: the plan says so and
its inserts are written as `diff` ordered them (the switch refuses the excess).

What points at what is `Rules`: the table dependencies (`nve.contract.DEPENDS_ON`) and,
where an entry names another table's entries by value (a tunnel id, a VSI, a MAC), the
field-level pointers. A dependency without a pointer is honoured table-wide: nothing of
the dependent table is written while the table it depends on has changes waiting (it
orders writes but never holds a delete back).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import islice

from nve import contract as C
from nve.diff import Change, Plan, Shortage, by_tier
from nve.entities import Entity, EntityKey, MulticastGroup, Range, TableEntry
from nve.p4info import P4Index
from nve.p4names import Key, Param, Table

# (table, ((field, value), ...)): the entries of `table` whose match fields have these values.
Selector = tuple[str, tuple[tuple[str, int], ...]]


@dataclass(frozen=True)
class Pointer:
    """Entries of `source` name entries of `target`: for each (source field, target match
    field) pair in `fields`, the source's match field or action parameter of that name
    holds the target's match value."""

    source: str
    target: str
    fields: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Rules:
    """Table dependencies and the pointers that make some of them per entry."""

    depends_on: Mapping[str, tuple[str, ...]]
    pointers: tuple[Pointer, ...]
    _from: dict[str, tuple[Pointer, ...]] = field(init=False, repr=False, compare=False)
    _to: dict[str, tuple[Pointer, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        src: dict[str, list[Pointer]] = defaultdict(list)
        dst: dict[str, list[Pointer]] = defaultdict(list)
        for p in self.pointers:
            if p.target not in self.depends_on.get(p.source, ()):
                raise ValueError(
                    f"pointer {p.source} -> {p.target}: {p.source} does not depend on"
                    f" {p.target} (add it to the table dependencies first)"
                )
            src[p.source].append(p)
            dst[p.target].append(p)
        object.__setattr__(self, "_from", {k: tuple(v) for k, v in src.items()})
        object.__setattr__(self, "_to", {k: tuple(v) for k, v in dst.items()})

    def refs(self, e: Entity) -> list[Selector]:
        """What `e` points at."""
        if isinstance(e, TableEntry):
            pointers = self._from.get(e.table)
            if not pointers:
                return []
            values = dict(e.params)
            values.update((n, m.value) for n, m in e.match if not isinstance(m, Range))
            return [
                (p.target, tuple((dst, values[src]) for src, dst in p.fields))
                for p in pointers
                if all(src in values for src, _ in p.fields)
            ]
        if isinstance(e, MulticastGroup):
            return [
                (p.target, values)
                for p in self._from.get(C.MULTICAST_GROUPS, ())
                for values in _combinations(e, p.fields)
            ]
        return []

    def names(self, e: Entity) -> list[Selector]:
        """The selectors that name `e` (what pointing at `e` looks like)."""
        if not isinstance(e, TableEntry):
            return []
        pointers = self._to.get(e.table)
        if not pointers:
            return []
        match = {n: m.value for n, m in e.match if not isinstance(m, Range)}
        return [
            (e.table, tuple((dst, match[dst]) for _, dst in p.fields))
            for p in pointers
            if all(dst in match for _, dst in p.fields)
        ]

    def pointing_at(self, tables: Iterable[str]) -> set[str]:
        """The tables whose entries may point at entries of `tables`."""
        return {p.source for t in tables for p in self._to.get(t, ())}

    def dependents(self, tables: Iterable[str]) -> set[str]:
        """`tables` and every table that depends on one of them, directly or not."""
        out = set(tables)
        grew = True
        while grew:
            grew = False
            for t, deps in self.depends_on.items():
                if t not in out and any(d in out for d in deps):
                    out.add(t)
                    grew = True
        return out

    def unpointed(self, table: str) -> tuple[str, ...]:
        """The tables `table` depends on without a pointer (honoured table-wide)."""
        pointed = {p.target for p in self._from.get(table, ())}
        return tuple(d for d in self.depends_on.get(table, ()) if d not in pointed)


def table_of(e: Entity) -> str | None:
    if isinstance(e, TableEntry):
        return e.table
    if isinstance(e, MulticastGroup):
        return C.MULTICAST_GROUPS
    return None


def _counted(e: Entity) -> str | None:
    """The table whose room `e` takes (default entries take none)."""
    return e.table if isinstance(e, TableEntry) and not e.is_default else None


def _group(c: Change) -> tuple[int, str | None]:
    return (c.entity.tier, table_of(c.entity))


def _combinations(
    e: MulticastGroup, fields: tuple[tuple[str, str], ...]
) -> Iterator[tuple[tuple[str, int], ...]]:
    """A multicast group names one entry per replica: one selector per rid."""
    rids = sorted({rid for _, rid in e.replicas})
    if [src for src, _ in fields] == [Key.RID]:
        for rid in rids:
            yield ((fields[0][1], rid),)


# The pipeline's entries that name other entries by value (docs/pipeline.md).
NVE_POINTERS = (
    Pointer(Table.L2_DMAC, Table.TUNNEL_REMOTE, ((Param.TUNNEL, Key.TUNNEL),)),
    Pointer(Table.L2_DMAC, Table.VSI_INFO, ((Key.VSI, Key.VSI),)),
    Pointer(Table.DECAP_PEER_V4, Table.TUNNEL_REMOTE, ((Param.TUNNEL, Key.TUNNEL),)),
    Pointer(Table.DECAP_PEER_V6, Table.TUNNEL_REMOTE, ((Param.TUNNEL, Key.TUNNEL),)),
    Pointer(Table.DECAP_PEER_V4, Table.DECAP_VSID, ((Key.VSID, Key.VSID),)),
    Pointer(Table.DECAP_PEER_V6, Table.DECAP_VSID, ((Key.VSID, Key.VSID),)),
    Pointer(Table.UNDERLAY_ECMP, Table.UNDERLAY_NEXTHOP, ((Param.NEXTHOP, Key.NEXTHOP),)),
    Pointer(Table.UNDERLAY_ROUTES_V4, Table.UNDERLAY_NEXTHOP, ((Param.NEXTHOP, Key.NEXTHOP),)),
    Pointer(Table.UNDERLAY_ROUTES_V6, Table.UNDERLAY_NEXTHOP, ((Param.NEXTHOP, Key.NEXTHOP),)),
    Pointer(Table.UNDERLAY_ROUTES_V4, Table.UNDERLAY_ECMP, ((Param.GROUP, Key.GROUP),)),
    Pointer(Table.UNDERLAY_ROUTES_V6, Table.UNDERLAY_ECMP, ((Param.GROUP, Key.GROUP),)),
    Pointer(Table.ROUTING_ROUTES_V4, Table.L2_DMAC, ((Param.VSI, Key.VSI), (Param.DMAC, Key.MAC))),
    Pointer(Table.ROUTING_ROUTES_V6, Table.L2_DMAC, ((Param.VSI, Key.VSI), (Param.DMAC, Key.MAC))),
    Pointer(Table.ROUTING_ROUTES_V4, Table.VSI_INFO, ((Param.VSI, Key.VSI),)),
    Pointer(Table.ROUTING_ROUTES_V6, Table.VSI_INFO, ((Param.VSI, Key.VSI),)),
    Pointer(Table.ARP_PROXY, Table.VSI_INFO, ((Key.VSI, Key.VSI),)),
    Pointer(Table.LEARN_SMAC, Table.VSI_INFO, ((Key.VSI, Key.VSI),)),
    Pointer(Table.ACCESS_PORT_VLAN, Table.VSI_INFO, ((Param.VSI, Key.VSI),)),
    Pointer(C.MULTICAST_GROUPS, Table.REPLICA_TUNNEL, ((Key.RID, Key.RID),)),
)
NVE_RULES = Rules(C.DEPENDS_ON, NVE_POINTERS)


def table_sizes(index: P4Index) -> dict[str, int]:
    """Table name -> size (P4Info `size`) for the tables nve writes."""
    return {t.name: t.size for t in index.tables() if t.size > 0 and not t.is_const}


def overfull(plan: Plan, installed: Iterable[Entity], sizes: Mapping[str, int]) -> dict[str, int]:
    """Tables whose installed entries plus the plan's inserts exceed their size, by how much."""
    count = Counter(_counted(e) for e in installed)
    count.update(_counted(c.entity) for batch in plan.make for c in batch if c.op == "insert")
    return {t: n - sizes[t] for t, n in count.items() if t is not None and n > sizes.get(t, n)}


def fit(
    plan: Plan, installed: Sequence[Entity], sizes: Mapping[str, int], rules: Rules = NVE_RULES
) -> Plan:
    """`plan` as it is when every table has room for it; else laid out to free room first."""
    if not overfull(plan, installed, sizes):
        return plan
    return _Layout(plan, installed, sizes, rules).run()


class _Layout:
    """The switch, Write by Write, while the make phase is laid out in rounds."""

    def __init__(
        self, plan: Plan, installed: Sequence[Entity], sizes: Mapping[str, int], rules: Rules
    ) -> None:
        self.rules = rules
        self.present: dict[EntityKey, Entity] = {e.key: e for e in installed}
        self.pending: dict[EntityKey, Change] = {c.entity.key: c for b in plan.make for c in b}
        self.breaking = [c for b in plan.break_ for c in b if c.op != "delete"]
        self.doomed: dict[EntityKey, Entity] = {
            c.entity.key: c.entity for b in plan.break_ for c in b if c.op == "delete"
        }
        self.count = Counter(_counted(e) for e in installed)
        self.pending_in = Counter(table_of(c.entity) for c in self.pending.values())
        self.writes: list[list[Change]] = []
        self.urgent: set[EntityKey] = set()  # users of entries deleted while in use

        # Room: every sized table, except those the desired entries alone overflow.
        desired = Counter(self.count)
        desired.subtract(_counted(e) for e in self.doomed.values())
        desired.update(_counted(c.entity) for c in self.pending.values() if c.op == "insert")
        self.sizes = {t: n for t, n in sizes.items() if desired[t] <= n}
        self.short: Counter[str] = Counter()
        self.overflow = [
            Shortage(t, n, desired[t] - n, overflow=True)
            for t, n in sorted(sizes.items())
            if desired[t] > n
        ]

        # Only the tables short of room have entries deleted early, and only they and what
        # depends on them have changes held back: the bookkeeping below covers just those.
        over = set(overfull(plan, installed, self.sizes))
        held = rules.dependents(over)
        self.user_tables = rules.pointing_at(over)

        # Which doomed entries of those tables entries that stay point at (`users`, by the
        # selector naming them), and which nothing uses (`free`, by table).
        self._names: dict[EntityKey, tuple[Selector, ...]] = {}
        self.doomed_by: dict[Selector, set[EntityKey]] = defaultdict(set)
        if self.pending_in.keys() & self.user_tables or any(
            table_of(e) in self.user_tables for e in self.present.values()
        ):
            for k, e in self.doomed.items():
                if _counted(e) in over:
                    for sel in self.names(e):
                        self.doomed_by[sel].add(k)
        self.users: dict[Selector, set[EntityKey]] = defaultdict(set)
        for k, e in self.present.items():
            if table_of(e) in self.user_tables and k not in self.doomed:
                for sel in rules.refs(e):
                    if sel in self.doomed_by:
                        self.users[sel].add(k)
        self.free: dict[str | None, dict[EntityKey, None]] = defaultdict(dict)
        for k, e in self.doomed.items():
            if _counted(e) in over and not (self.doomed_by and self._in_use(e)):
                self.free[_counted(e)][k] = None

        # What each change waits for: the pending changes of the entries it points at, in
        # tables whose changes can be held back (the others are written in the first round,
        # tier by tier, as diff ordered them).
        self.waiting_tables = rules.pointing_at(held)
        named: dict[Selector, list[EntityKey]] = defaultdict(list)
        if any(table_of(c.entity) in self.waiting_tables for c in self.pending.values()):
            for k, c in self.pending.items():
                if table_of(c.entity) in held:
                    for sel in self.names(c.entity):
                        named[sel].append(k)
        self.deps: dict[EntityKey, set[EntityKey]] = {}
        self.waits: dict[EntityKey, int] = {}  # how many of its deps are still pending
        self.waiters: dict[EntityKey, list[EntityKey]] = defaultdict(list)
        self.recyclers: set[EntityKey] = set()  # inserts that a re-pointed entry waits for
        # Changes whose targets are in place, by (tier, table).
        self.ready: dict[tuple[int, str | None], dict[EntityKey, Change]] = defaultdict(dict)
        for k, c in self.pending.items():
            deps = (
                {d for sel in rules.refs(c.entity) for d in named.get(sel, ()) if d != k}
                if named and table_of(c.entity) in self.waiting_tables
                else set()
            )
            if deps:
                self.deps[k] = deps
            for d in deps:
                self.waiters[d].append(k)
                if c.op == "modify" and self.pending[d].op == "insert":
                    self.recyclers.add(d)
            self.waits[k] = len(deps)
            if not deps:
                self.ready[_group(c)][k] = c

    # -- the simulated switch -----------------------------------------------------------------
    def names(self, e: Entity) -> tuple[Selector, ...]:
        """`Rules.names`, once per key (it depends on the match only)."""
        found = self._names.get(e.key)
        if found is None:
            found = self._names[e.key] = tuple(self.rules.names(e))
        return found

    def _in_use(self, e: Entity) -> bool:
        return any(self.users.get(sel) for sel in self.names(e))

    def _add_user(self, k: EntityKey, e: Entity) -> None:
        for sel in self.rules.refs(e):
            doomed = self.doomed_by.get(sel)
            if not doomed:
                continue
            users = self.users[sel]
            if not users:
                for d in doomed:
                    self.free[_counted(self.doomed[d])].pop(d, None)
            users.add(k)

    def _drop_user(self, k: EntityKey, e: Entity) -> None:
        for sel in self.rules.refs(e):
            users = self.users.get(sel)
            if not users:
                continue
            users.discard(k)
            if not users:
                for d in self.doomed_by.get(sel, ()):
                    if not self._in_use(self.doomed[d]):
                        self.free[_counted(self.doomed[d])][d] = None

    def _apply(self, c: Change) -> None:
        e, k = c.entity, c.entity.key
        if c.op == "delete":
            del self.present[k], self.doomed[k]
            self.count[_counted(e)] -= 1
            self.free[_counted(e)].pop(k, None)
            for sel in self._names.get(k, ()):
                self.doomed_by[sel].discard(k)
            return
        old = self.present.get(k)
        if old is None and c.op == "insert":
            self.count[_counted(e)] += 1
        if table_of(e) in self.user_tables:
            if old is not None:
                self._drop_user(k, old)
            self._add_user(k, e)
        self.present[k] = e
        del self.pending[k], self.ready[_group(c)][k]
        self.pending_in[table_of(e)] -= 1
        self.urgent.discard(k)
        for w in self.waiters.pop(k, ()):
            self.waits[w] -= 1
            if not self.waits[w]:
                self.ready[_group(self.pending[w])][w] = self.pending[w]

    def _write(self, batch: list[Change]) -> None:
        """One Write: `batch`, plus the re-pointing of urgent users it makes possible."""
        for c in batch:
            self._apply(c)
        if batch and batch[0].op != "delete" and self.urgent:
            batch.extend(self._repoint_urgent())
        if batch:
            self.writes.append(batch)

    def _repoint_urgent(self) -> list[Change]:
        """Entries left without a target (deleted for room while in use) are re-pointed in
        the Write that makes it possible, with the chain of new entries they now point at,
        without waiting for table-wide dependencies."""
        chain: set[EntityKey] = set()
        todo = list(self.urgent)
        while todo:
            for d in self.deps.get(todo.pop(), ()):
                if d in self.pending and d not in chain:
                    chain.add(d)
                    todo.append(d)
        out: list[Change] = []
        # Pointers go to lower tiers: one pass in tier order writes whole chains.
        for c in sorted(
            (self.pending[k] for k in chain | self.urgent if k in self.pending),
            key=lambda c: (c.entity.tier, repr(c.entity.key)),
        ):
            room = self._room(table_of(c.entity))
            if self.waits[c.entity.key] or (c.op == "insert" and room is not None and room <= 0):
                continue
            self._apply(c)
            out.append(c)
        return out

    # -- laying the make phase out ------------------------------------------------------------
    def _blocked(self, table: str | None) -> bool:
        return any(self.pending_in[d] for d in self.rules.unpointed(table or ""))

    def _room(self, table: str | None) -> int | None:
        size = self.sizes.get(table or "")
        return None if size is None else size - self.count[table]

    def _step(self, tier: int) -> bool:
        """One tier of a round: the deletes that make room, then the make Write."""
        batch: list[Change] = []
        frees: list[Change] = []
        for (t, table), changes in list(self.ready.items()):
            if t != tier or not changes or self._blocked(table):
                continue
            inserts = [c for c in changes.values() if c.op == "insert"]
            batch.extend(c for c in changes.values() if c.op != "insert")
            room = self._room(table)
            if room is not None and len(inserts) > room:
                free = list(islice(self.free[table], len(inserts) - room))
                frees.extend(Change("delete", self.doomed[k]) for k in free)
                # Inserts that let an entry be re-pointed (and release another) go first.
                inserts.sort(key=lambda c: c.entity.key not in self.recyclers)
                inserts = inserts[: max(room + len(free), 0)]
            batch.extend(inserts)
        self._write(frees)
        self._write(batch)
        return bool(frees or batch)

    def _round(self) -> bool:
        moved = False
        tier = -1
        while True:
            tiers = [t for (t, _), changes in self.ready.items() if changes and t > tier]
            if not tiers:
                return moved
            tier = min(tiers)
            moved = self._step(tier) or moved

    def _force(self) -> bool:
        """No make-before-break order: delete in-use entries of the lowest blocked table."""
        blocked: list[tuple[int, str, int]] = []
        for (tier, table), changes in self.ready.items():
            room = self._room(table)
            if table is None or room is None or self._blocked(table):
                continue
            inserts = sum(1 for c in changes.values() if c.op == "insert")
            if inserts > room:
                blocked.append((tier, table, inserts - room))
        if not blocked:
            return False
        _, table, need = min(blocked)
        doomed = [k for k, e in self.doomed.items() if _counted(e) == table]
        victims = sorted(doomed, key=self._users_of)[:need]
        if not victims:
            return False
        for k in victims:
            for sel in self.names(self.doomed[k]):
                self.urgent.update(self.users.get(sel, ()))
        self.short[table] += len(victims)
        self._write([Change("delete", self.doomed[k]) for k in victims])
        return True

    def _users_of(self, k: EntityKey) -> int:
        return sum(len(self.users.get(sel, ())) for sel in self.names(self.doomed[k]))

    def run(self) -> Plan:
        while self.pending:
            if self._round() or self._force():
                continue
            # Nothing can move (rules that contradict the tiers): the rest as diff ordered it.
            for batch in by_tier(self.pending.values()):
                self.writes.append(batch)
            break
        deletes = [Change("delete", e) for e in self.doomed.values()]
        short = [Shortage(t, self.sizes[t], n) for t, n in sorted(self.short.items())]
        return Plan(
            make=self.writes,
            break_=by_tier(self.breaking) + by_tier(deletes, descending=True),
            short=self.overflow + short,
        )
