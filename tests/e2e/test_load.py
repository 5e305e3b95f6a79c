"""``tests.e2e.load`` without browsers: what counts as lost, foreign or answered.
(The load test itself runs in tests/e2e/test_browser.py with 8 browsers.)"""

from __future__ import annotations

from tests.e2e import driver, load


def test_an_input_without_an_answer_is_counted_lost(monkeypatch):
    calls = []
    ids = iter(["5", "6", "6", "6"])  # the press was taken (a new event id)
    monkeypatch.setattr(driver, "latest_input", lambda page: next(ids))
    monkeypatch.setattr(driver, "image_src", lambda page, cap, n: "old")
    monkeypatch.setattr(driver, "wait_idle", lambda page, timeout: calls.append("idle"))

    def never(page, cap, n, old, timeout):
        raise TimeoutError("no new image")

    monkeypatch.setattr(driver, "wait_src_change", never)
    monkeypatch.setattr(driver, "answered_and_echo", lambda page: ["7", "6"])
    result, out = load.UserResult(), []
    assert not load._timed(None, lambda: calls.append("act"), out, result, "point")
    assert result.lost == 1 and out == [] and calls == ["act"]
    # the report says which input, and how far the page and Python had got
    assert result.lost_kinds == ["point (answered, echo: ['7', '6'])"]

    monkeypatch.setattr(driver, "wait_src_change", lambda *a: None)
    assert load._timed(None, lambda: calls.append("act"), out, result)
    assert result.lost == 1 and len(out) == 1 and out[0] >= 0
    assert calls == ["act", "act", "idle"]
    assert result.late == 0


def test_a_press_the_view_never_took_is_missed_not_lost(monkeypatch):
    waits = []
    monkeypatch.setattr(driver, "image_src", lambda page, cap, n: "old")
    monkeypatch.setattr(driver, "latest_input", lambda page: "5")  # no new id
    monkeypatch.setattr(driver, "answered_and_echo", lambda page: ["5", "5"])

    def never(page, cap, n, old, timeout):
        waits.append(timeout)
        raise TimeoutError("no new image")

    monkeypatch.setattr(driver, "wait_src_change", never)
    result = load.UserResult()
    assert not load._timed(None, lambda: None, [], result, "point")
    assert result.missed == 1 and result.lost == 0 and waits == [load.WAIT_MS]
    assert result.missed_kinds == ["point (answered, echo: ['5', '5'])"]
    # in the classic design (no view to ask) such a press counts as lost
    monkeypatch.setattr(driver, "latest_input", lambda page: None)
    monkeypatch.setattr(driver, "answered_and_echo", lambda page: None)
    assert not load._timed(None, lambda: None, [], result, "point")
    assert result.missed == 1 and result.lost == 1


def test_an_answer_after_the_wait_is_late_not_lost(monkeypatch):
    waits = []
    ids = iter(["1", "2"])  # taken: a new event id
    monkeypatch.setattr(driver, "latest_input", lambda page: next(ids))
    monkeypatch.setattr(driver, "image_src", lambda page, cap, n: "old")
    monkeypatch.setattr(driver, "wait_idle", lambda page, timeout: None)
    monkeypatch.setattr(driver, "answered_and_echo", lambda page: ["3", "2"])

    def slow(page, cap, n, old, timeout):
        waits.append(timeout)
        if len(waits) == 1:  # not within WAIT_MS, then it comes
            raise TimeoutError("no new image yet")

    monkeypatch.setattr(driver, "wait_src_change", slow)
    result, out = load.UserResult(), []
    assert load._timed(None, lambda: None, out, result, "empty")
    assert waits == [load.WAIT_MS, load.LOST_MS]
    assert result.late == 1 and result.lost == 0 and len(out) == 1
    assert result.late_kinds[0].startswith("empty after ")
    assert "answered, echo: ['3', '2']" in result.late_kinds[0]


def test_the_selection_is_read_where_it_is_drawn(monkeypatch):
    seen = iter([(10.0, 10.0), (10.0, 10.0), (50.0, 60.0)])
    monkeypatch.setattr(driver, "drawn_mark", lambda frame, cls: next(seen))
    assert load._selected_after(None, (10.0, 10.0), seconds=5) == (50.0, 60.0)
    monkeypatch.setattr(driver, "drawn_mark", lambda frame, cls: (1.0, 2.0))
    assert load._selected_after(None, (1.0, 2.0), seconds=0.1) == (1.0, 2.0)
