"""Minimal difference between desired and installed entities, ordered for safe application.

The switch may reorder updates inside one Write, so order is expressed as a list of
batches (one Write each, awaited in turn):

* make phase: inserts and modifies, lowest tier first (next hops before their users);
* break phase: modifies that take away a local attachment, then deletes, highest tier
  first. Across switches, every make phase finishes before any break phase starts, so a
  moved endpoint is reachable at its new place before the old one goes (make before break).

Default actions and meter cells always exist on a switch; they are only ever modified,
and installed ones nve does not describe are left alone. When a table cannot hold its
installed entries and the new ones together, `nve.room.fit` reorders the plan.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal

from nve.entities import Entity, EntityKey, MeterConfig, TableEntry

Op = Literal["insert", "modify", "delete"]


@dataclass(frozen=True)
class Change:
    op: Op
    entity: Entity  # the desired entity (insert, modify) or the installed one (delete)
    before: Entity | None = None  # the installed entity a modify replaces

    def describe(self) -> str:
        return f"{self.op:<6} {self.entity.describe()}"


@dataclass(frozen=True)
class Shortage:
    """A table `entries` short of room for the plan (`nve.room`).

    `overflow`: the desired entries alone exceed the table; the inserts beyond its size
    fail. Otherwise no make-before-break order existed: `entries` entries still in use
    were deleted before the entries replacing them were in place.
    """

    table: str
    size: int
    entries: int
    overflow: bool = False

    def describe(self) -> str:
        if self.overflow:
            return (
                f"{self.table}: {self.entries} entries short: the description needs "
                f"{self.size + self.entries} and the table holds {self.size}"
            )
        return (
            f"{self.table} (size {self.size}): {self.entries} entries short of room to "
            f"change make-before-break; {self.entries} entries still in use were deleted "
            "before their replacements were in place"
        )


@dataclass
class Plan:
    """Batches for one switch; each inner list is one Write."""

    make: list[list[Change]] = field(default_factory=list)
    break_: list[list[Change]] = field(default_factory=list)
    short: list[Shortage] = field(default_factory=list)

    def changes(self) -> list[Change]:
        return [c for batch in self.make + self.break_ for c in batch]

    @property
    def empty(self) -> bool:
        return not any(self.make) and not any(self.break_)

    def counts(self) -> dict[str, int]:
        out = {"insert": 0, "modify": 0, "delete": 0}
        for c in self.changes():
            out[c.op] += 1
        return out


def _always_present(e: Entity) -> bool:
    return (isinstance(e, TableEntry) and e.is_default) or isinstance(e, MeterConfig)


def by_tier(changes: Iterable[Change], descending: bool = False) -> list[list[Change]]:
    """One batch per tier, lowest first (highest first if `descending`)."""
    tiers: dict[int, list[Change]] = defaultdict(list)
    for c in changes:
        tiers[c.entity.tier].append(c)
    return [tiers[t] for t in sorted(tiers, reverse=descending) if tiers[t]]


def diff(
    desired: Iterable[Entity],
    installed: Iterable[Entity],
    is_local_attachment: Callable[[Entity], bool] = lambda e: False,
    keep: Callable[[Entity], bool] = lambda e: False,
) -> Plan:
    """The plan that turns `installed` into `desired` with the fewest updates.

    `is_local_attachment(installed_entity)` says whether an entity delivers traffic to a
    locally attached endpoint; replacing one of those is a 'break' and waits.
    `keep(installed_entity)`: an entity not desired that stays (not deleted) for now.
    Raises ValueError if `desired` holds two different entities under one key.
    """
    want: dict[EntityKey, Entity] = {}
    for e in desired:
        k = e.key
        if k in want and want[k] != e:
            raise ValueError(
                f"two desired entities share a key: {want[k].describe()} / {e.describe()}"
            )
        want[k] = e
    have: dict[EntityKey, Entity] = {e.key: e for e in installed}

    make: list[Change] = []
    breaking: list[Change] = []
    deletes: list[Change] = []
    for k, e in want.items():
        old = have.get(k)
        if old is None:
            make.append(Change("modify" if _always_present(e) else "insert", e))
        elif old != e:
            change = Change("modify", e, old)
            (breaking if is_local_attachment(old) else make).append(change)
    for k, old in have.items():
        if k in want or _always_present(old) or keep(old):
            continue
        deletes.append(Change("delete", old))
    return Plan(make=by_tier(make), break_=by_tier(breaking) + by_tier(deletes, descending=True))
