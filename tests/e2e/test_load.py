"""``harness.load`` and the driver's waits without browsers: what counts as
lost, foreign or answered, and when a rerun has ended. (The load test itself
runs in tests/e2e/test_browser.py.)"""

from __future__ import annotations

import time

from harness import driver, load
from tests.helpers import forward_msg, rerun_msg


def test_an_input_without_an_answer_is_counted_lost(monkeypatch):
    calls = []
    ids = iter(["5", "6", "6", "6"])  # the press was taken (a new event id)
    monkeypatch.setattr(driver, "latest_input", lambda page: next(ids))
    monkeypatch.setattr(driver, "image_src", lambda page, cap, n: "old")
    monkeypatch.setattr(driver, "mark", lambda page: 0)
    monkeypatch.setattr(driver, "answered_image", lambda page: 17)
    monkeypatch.setattr(
        driver, "wait_idle", lambda page, timeout, since: calls.append(("idle", since))
    )

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
    # the rerun the input asked for is waited for (since the mark before it)
    assert calls == ["act", "act", ("idle", 0)]
    assert result.late == 0 and result.answered == 17


def test_a_press_the_view_never_took_is_missed_not_lost(monkeypatch):
    waits = []
    monkeypatch.setattr(driver, "image_src", lambda page, cap, n: "old")
    monkeypatch.setattr(driver, "latest_input", lambda page: "5")  # no new id
    monkeypatch.setattr(driver, "mark", lambda page: 0)
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
    monkeypatch.setattr(driver, "mark", lambda page: 0)
    monkeypatch.setattr(driver, "answered_image", lambda page: None)
    monkeypatch.setattr(driver, "wait_idle", lambda page, timeout, since: None)
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


def test_latency_counts_from_the_press(monkeypatch):
    monkeypatch.setattr(driver, "image_src", lambda page, cap, n: "old")
    monkeypatch.setattr(driver, "latest_input", lambda page: "1")
    monkeypatch.setattr(driver, "mark", lambda page: 0)
    monkeypatch.setattr(driver, "answered_image", lambda page: 4)
    monkeypatch.setattr(driver, "wait_idle", lambda page, timeout, since: None)
    monkeypatch.setattr(driver, "wait_src_change", lambda *a: None)
    out = []
    # act returns the moment of its press, an hour ago: latency counts from it
    assert load._timed(None, lambda: time.perf_counter() - 3600, out, load.UserResult())
    assert out[0] >= 3600


def test_a_foreign_selection_is_judged_by_identity(monkeypatch):
    """The server's selection (the link it wrote once its rerun ended) must be
    the image the page answered the click with, whatever the pixels say."""
    monkeypatch.setattr(driver, "link_params", lambda page: {"sel": "12", "a": "0"})
    assert load._foreign(None, 12) is None
    assert load._foreign(None, 13) == (
        "the page answered image #13, the server selected #12"
    )
    # no answered image, or no selection in the link: not ours either
    assert load._foreign(None, None) is not None
    monkeypatch.setattr(driver, "link_params", lambda page: {})
    assert load._foreign(None, 12) == (
        "the page answered image #12, the server selected #None"
    )


def test_the_link_is_read_as_the_page_has_it():
    class Page:
        def evaluate(self, js):
            return "?ds=fashion-mnist&sel=15&zl=-2.1%2C-5.5"

    assert driver.link_params(Page()) == {
        "ds": "fashion-mnist",
        "sel": "15",
        "zl": "-2.1,-5.5",
    }


def test_runs_settle_only_after_a_run_asked_for_after_the_mark():
    """``Runs`` reads Streamlit's own messages: a rerun the page asked for,
    each run's start and its end; a run stopped early for a rerun is not an
    end."""
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    heartbeat = BackMsg()
    heartbeat.app_heartbeat = True

    runs = driver.Runs()
    assert not runs.settled()  # nothing has run yet
    runs.sent(rerun_msg())
    runs.received(forward_msg("new_session"))
    runs.received(forward_msg("script_finished", ForwardMsg.FINISHED_SUCCESSFULLY))
    assert runs.settled() and runs.runs == 1
    since = runs.mark()
    assert not runs.settled(since)  # the action's rerun was not asked for yet
    runs.sent(heartbeat.SerializeToString())  # not a rerun
    runs.received(b"not a protobuf \xff\xff")
    runs.sent("a text frame")
    assert not runs.settled(since)
    runs.sent(rerun_msg())
    assert not runs.settled(since)  # asked, not started
    runs.received(forward_msg("new_session"))
    assert not runs.settled(since)  # started, not ended
    runs.sent(rerun_msg())  # a second input interrupts it
    runs.received(forward_msg("script_finished", ForwardMsg.FINISHED_EARLY_FOR_RERUN))
    assert not runs.settled(since)  # stopped for the rerun: not an end
    runs.received(forward_msg("new_session"))
    runs.received(
        forward_msg("script_finished", ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY)
    )
    assert runs.settled(since) and runs.runs == 2


def test_a_click_ends_with_the_first_run_to_start_after_its_event():
    """``Runs.end_of``: the run that answers a view event is the first to
    start after the rerun request carrying that event's id, and its end is
    the first full end after that start (not an end of a run asked for
    something else before it, nor a run stopped early for a rerun); frames
    are counted in the order they came, text frames too."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    runs = driver.Runs()
    # another event, whose id begins like this one's
    runs.sent(rerun_msg(event_id=170))
    runs.sent(rerun_msg())  # a window the view told, before the click
    runs.received(forward_msg("new_session"))  # frame 0
    assert runs.end_of(17) is None  # the click's request has not gone out
    runs.sent(rerun_msg(event_id=17))
    runs.received("a text frame")  # frame 1
    runs.received(forward_msg("script_finished"))  # frame 2: the window's run
    assert runs.end_of(17) is None  # ended, but it started before the ask
    assert runs.end_of(1) is None  # no request carried event 1
    runs.received(forward_msg("new_session"))  # frame 3: the click's run
    runs.sent(rerun_msg(event_id=18))  # another click interrupts it
    runs.received(forward_msg("script_finished", ForwardMsg.FINISHED_EARLY_FOR_RERUN))
    assert runs.end_of(17) is None  # stopped early: not an end
    runs.received(forward_msg("new_session"))  # frame 5
    runs.received(forward_msg("script_finished"))  # frame 6
    end = driver.Frame(None, 6)
    assert runs.end_of(17) == end and runs.end_of(18) == end and runs.frames == 7


def test_frames_are_numbered_per_socket_as_the_pages_clock_numbers_them():
    """A page that navigates (or reconnects) opens a new socket: its frames
    are numbered from 0 again, as the page's clock (``__lxSockets``)
    numbers them, and the socket's key is the one the clock tagged onto its
    address."""
    assert driver._socket_key("ws://127.0.0.1:1/_stcore/stream?lx=ab12.0") == "ab12.0"
    assert driver._socket_key("ws://127.0.0.1:1/_stcore/stream") is None
    runs = driver.Runs()
    assert runs.last_end is None
    runs.received(forward_msg("new_session"), "a.0")
    runs.received(forward_msg("script_finished"), "a.0")
    assert runs.last_end == driver.Frame("a.0", 1)
    runs.received(forward_msg("new_session"), "b.0")  # the new page's socket
    runs.received("a text frame", "b.0")
    runs.received(forward_msg("script_finished"), "b.0")
    assert runs.last_end == driver.Frame("b.0", 2) and runs.frames == 5
    assert runs.per_socket == {"a.0": 2, "b.0": 3}
