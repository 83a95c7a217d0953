"""Election ids derived from ownership: the switch's arbitration is the fence.

A lease cannot stop a paused or partitioned replica from writing, but the switch refuses
every Write whose election id is not its primary's (P4Runtime section 5). An owner's id
is (epoch << 64) | revision, where `revision` is the etcd revision at which it took the
switch: every later owner took it at a higher revision, so its id is higher and the switch
makes it primary, and from then on refuses the older owner's Writes (PERMISSION_DENIED).

The epoch is configured; raise it when the etcd cluster is rebuilt (its revisions start
again from 1), so that ids keep growing across clusters.
"""

from __future__ import annotations

MAX_WORD = 2**64 - 1


class ElectionIdError(ValueError):
    """An epoch or revision that cannot make an election id; the text says which."""


def election_id(epoch: int, revision: int) -> int:
    """The 128-bit election id of an owner that took its switch at `revision`."""
    if not 0 <= epoch <= MAX_WORD:
        raise ElectionIdError(f"epoch {epoch} is outside 0..{MAX_WORD}")
    if not 1 <= revision <= MAX_WORD:
        raise ElectionIdError(f"etcd revision {revision} is outside 1..{MAX_WORD}")
    return (epoch << 64) | revision


def split(eid: int) -> tuple[int, int]:
    """(epoch, revision) of an election id made by `election_id`."""
    return eid >> 64, eid & MAX_WORD
