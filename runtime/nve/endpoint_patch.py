"""Endpoint changes written to switches without compiling or diffing them whole.

The store follower (nve.store.follow) hands a batch of endpoint changes to
`Controller.apply_endpoint_changes`. For each touched switch this controller is primary
for and whose state it trusts (it wrote it in full, nothing failed since), the switch's
compiled state is patched (nve.compile.delta) and only the entries of the changed
endpoints are written: a move is a few updates per switch, whatever the number of
endpoints. Make before break across the switches, as a full reconcile orders it: first
every insert and every modify that adds reachability, then the modifies that take a
local attachment away and the deletes. A switch the patch refuses (a structural change)
or whose Write fails is reconciled in full (a failed one after a full read).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from nve import contract as C
from nve.compile import Delta
from nve.compile.common import is_local_attachment
from nve.compile.delta import replace_entries
from nve.diff import Change
from nve.entities import Entity, EntityKey
from nve.p4info import P4Index
from nve.reconcile import canonical_desired


@dataclass
class SwitchPatch:
    """One switch's part of a batch: the updates of each phase, and its believed state
    after them (the canonical entities a full reconcile would have remembered)."""

    name: str
    delta: Delta
    make: list[Change] = field(default_factory=list)
    brk: list[Change] = field(default_factory=list)
    removed: list[Entity] = field(default_factory=list)  # canonical, as believed
    added: list[Entity] = field(default_factory=list)


def plan_patch(name: str, delta: Delta, index: P4Index) -> SwitchPatch:
    """The updates that take the switch from the delta's old entries to its new ones."""
    removed = canonical_desired(delta.removed, index, C.TIERS)
    added = canonical_desired(delta.added, index, C.TIERS)
    patch = SwitchPatch(name, delta, removed=removed, added=added)
    before = {e.key: e for e in removed}
    after = {e.key: e for e in added}
    for key, new in after.items():
        old = before.get(key)
        if old is None:
            patch.make.append(Change("insert", new))
        elif old != new:
            change = Change("modify", new, before=old)
            if is_local_attachment(old) and not is_local_attachment(new):
                patch.brk.append(change)  # the endpoint's old local attachment goes
            else:
                patch.make.append(change)
    patch.brk += [Change("delete", old) for key, old in before.items() if key not in after]
    return patch


def believed_after(
    believed: list[Entity],
    positions: dict[EntityKey, int] | None,
    patch: SwitchPatch,
) -> tuple[list[Entity], dict[EntityKey, int]]:
    """What the switch holds once the patch is written (NeedsFullCompile if the believed
    state does not hold the removed entries as the patch assumes). `believed` and
    `positions` are changed in place (nve.compile.delta.replace_entries): if the patch is
    then not written, the caller forgets them."""
    return replace_entries(believed, positions, patch.removed, patch.added)
