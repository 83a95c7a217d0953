"""nve.gcpause: bulk structures built under the pause are kept out of later collections."""

from __future__ import annotations

import gc

from nve.gcpause import FREEZE_ABOVE, SharedPause, gc_paused


def test_the_pause_ends_with_what_it_built_frozen_and_the_collector_back_on() -> None:
    assert gc.isenabled()
    frozen = gc.get_freeze_count()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():  # nested: the outer pause decides
            built = [[i] for i in range(FREEZE_ABOVE + 1000)]
        assert not gc.isenabled()
        assert gc.get_freeze_count() == frozen
    assert gc.isenabled()
    assert gc.get_freeze_count() >= frozen + len(built)
    assert all(gc.is_tracked(d) for d in built[:3])
    # frozen, not scanned: the dicts are not among the objects a collection visits
    ids = {id(d) for d in built}
    assert not any(id(o) in ids for o in gc.get_objects())


def test_a_small_build_is_left_to_the_collector() -> None:
    frozen = gc.get_freeze_count()
    with gc_paused():
        built = [[i] for i in range(100)]
    assert gc.isenabled()
    assert gc.get_freeze_count() == frozen
    assert any(o is built for o in gc.get_objects())


def test_a_shared_pause_lasts_until_its_last_holder_leaves_in_any_order() -> None:
    shared = SharedPause()
    first, second = shared.paused(), shared.paused()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)  # the first to enter leaves first: not nested
    assert not gc.isenabled()
    second.__exit__(None, None, None)
    assert gc.isenabled()
