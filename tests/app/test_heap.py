"""``heap.settle``: the long-lived objects frozen once a run has imported
them, and again only after a run imports more."""

from __future__ import annotations

import gc
import sys
import types

import pytest

from explorer.app import heap


@pytest.fixture
def thawed(monkeypatch):
    monkeypatch.setattr(heap, "_settled_at", 0)
    yield
    gc.unfreeze()


def test_settle_freezes_what_the_runs_imported_once(thawed, monkeypatch):
    gc.unfreeze()
    tracked = len(gc.get_objects())
    assert heap.settle() is True
    # everything alive and tracked is now out of the collector's passes
    assert gc.get_freeze_count() >= tracked * 0.9
    assert not gc.get_objects(generation=2) or len(gc.get_objects()) < tracked / 10
    assert heap.settle() is False  # nothing imported since
    monkeypatch.setitem(sys.modules, "a_module_a_run_imported", types.ModuleType("m"))
    frozen = gc.get_freeze_count()
    assert heap.settle() is True
    assert gc.get_freeze_count() >= frozen


def test_garbage_without_a_cycle_is_still_freed_after_a_freeze(thawed):
    import weakref

    class Big:
        pass

    obj = Big()
    ref = weakref.ref(obj)
    heap.settle()
    del obj  # its last reference: freed at once, frozen or not
    assert ref() is None
