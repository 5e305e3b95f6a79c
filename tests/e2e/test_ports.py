"""The ports the suite's servers start on (``driver.free_port``): each
worker's own band, below the kernel's ephemeral ports, one port in turn,
never one a socket holds; and what the page's run is (``driver.Runs``)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from harness import driver
from tests.helpers import forward_msg, rerun_msg


def band(worker: int) -> range:
    low = driver.PORT_BASE + worker * driver.PORT_BAND
    return range(low, low + driver.PORT_BAND)


def test_each_worker_has_a_band_of_its_own_below_the_ephemeral_ports(monkeypatch):
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    got = {}
    for worker in range(4):
        monkeypatch.setenv("PYTEST_XDIST_WORKER", f"gw{worker}")
        got[worker] = driver.free_port()
        assert got[worker] in band(worker)
        assert band(worker)[-1] < low
    assert len(set(got.values())) == 4


def test_ports_come_in_turn_and_a_held_one_is_passed_over(monkeypatch):
    # (worker 7's band: no server of this run holds its ports; at most four
    # workers run)
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw7")
    monkeypatch.setattr(driver, "_next_port", 0)
    first = driver.free_port()
    assert first == band(7)[0]
    with socket.socket() as held:  # another program holds the next one
        held.bind(("127.0.0.1", first + 1))
        assert driver.free_port() == first + 2
    assert driver.free_port() == first + 3  # in turn, not the freed one again


def test_a_worker_whose_band_would_reach_the_ephemeral_ports_is_refused(monkeypatch):
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw40")  # 20,000 + 40 * 500
    with pytest.raises(RuntimeError, match="ephemeral range"):
        driver.free_port()


def test_a_fragments_run_does_not_end_the_wait_for_the_pages_run():
    """An explore session's selection watch (a fragment rerun every second)
    ran between a click and the click's own run: its end must not count as
    the end of the run the click asked for."""
    runs = driver.Runs()
    since = runs.mark()
    runs.sent(rerun_msg("watch"))  # the fragment's rerun, just before the click's
    runs.sent(rerun_msg())  # the click's
    runs.received(forward_msg("new_session", fragment="watch"))
    runs.received(forward_msg("script_finished", fragment="watch"))
    assert not runs.settled(since)  # only the fragment ran
    runs.received(forward_msg("new_session"))
    assert not runs.settled(since)
    runs.received(forward_msg("script_finished"))
    assert runs.settled(since)


def test_a_fragments_end_that_ends_the_pages_run_too_counts():
    """Seen in an explore session: the watch's rerun was asked for while the
    page's first run was going; Streamlit ran the fragment at the end of
    that run and sent one ``script_finished``, marked as the fragment's
    (no end of the page's run came at all). It ends the page's run."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    runs = driver.Runs()
    runs.sent(rerun_msg())  # the page's first run
    runs.received(forward_msg("new_session"))
    runs.sent(rerun_msg("watch"))  # the watch, a second later, mid-run
    assert not runs.settled()
    runs.received(forward_msg("new_session", fragment="watch"))
    assert not runs.settled()
    runs.received(
        forward_msg(
            "script_finished",
            ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY,
            fragment="watch",
        )
    )
    assert runs.settled() and runs.runs == 1
    # the watch's next runs, alone, end nothing more
    runs.sent(rerun_msg("watch"))
    runs.received(forward_msg("new_session", fragment="watch"))
    runs.received(forward_msg("script_finished", fragment="watch"))
    assert runs.runs == 1
