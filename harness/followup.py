"""A click's server follow-up, as its user sees it: from the press on a point
of the left map until the page has drawn the end of the rerun that press
asked for (Streamlit shows the run as ended once it has handled every
element the run sent: the neighbours, the open tab and the link), on points
this user has not clicked before; for one user or for several at once on
one server, with the server's CPU time.

Each user is its own Chromium (a thread with its own Playwright). The users
open the page first and all start clicking together, so their follow-ups
overlap. After each click the link must name the image the page answered
the click with: a rerun that lost or mixed up the input counts as an error.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import numpy as np

from harness import driver


@dataclass
class UserRun:
    """One user's follow-ups (seconds), the same clicks until the run's last
    message reached the page (``arrivals``), and what went wrong."""

    followups: list[float] = field(default_factory=list)
    arrivals: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def fresh_point(frame, counts, rng, seen: set) -> tuple[float, float]:
    """A data point of the map that this user has not clicked before and
    that no part of the page covers."""
    classes = np.flatnonzero(np.asarray(counts) > 0)
    while True:
        c = int(rng.choice(classes))
        k = int(rng.integers(counts[c]))
        if (c, k) in seen:
            continue
        x, y = driver.a_point(frame, c, k)
        if driver.pressable(frame, x, y):
            seen.add((c, k))
            return x, y


def click(
    page, frame, x: float, y: float, timeout: float = 60.0
) -> tuple[float, float]:
    """Presses a point; seconds from the press until the page has drawn the
    end of the rerun it asked for, both by the page's own clock: from the
    press's mousedown event until the page, having the ``script_finished``
    of the first run to start after the rerun request that carries this
    press's event, has painted itself as no longer running (Streamlit marks
    that once it has handled every element the run sent: the neighbours,
    the open tab, the link; ``driver.drawn_after``). Also returned, second:
    the seconds until that ``script_finished`` reached the page's script
    (the drawing after it is the browser's). A rerun asked for anything
    else (a window the view told), before or after, is not this one's; the
    harness's polling adds nothing. The press comes no sooner after the
    last than a person's next click would: past plotly's double-click
    delay, so that it is not a double click."""
    runs = driver.watch(page)
    before = driver.latest_input(page)
    driver.wait_single_click(page, frame)
    driver.press(page, frame, x, y)
    sent = driver.wait_change(lambda: driver.latest_input(page), before, 30)
    deadline = time.monotonic() + timeout
    while (end := runs.end_of(sent)) is None:
        if time.monotonic() > deadline:
            raise AssertionError(f"no run answered event {sent} in {timeout:.0f} s")
        page.wait_for_timeout(10)  # lets Playwright deliver the frames
    pressed = driver.pressed_at(page)
    drawn = driver.drawn_after(page, end)
    return (drawn - pressed) / 1000, (driver.frame_time(page, end) - pressed) / 1000


def _link_follows(page, timeout: float = 5.0) -> str | None:
    """None once the link names the image the page answered the click with
    (the rerun's new address reaches the page with its last messages); else
    what it says instead after ``timeout`` seconds."""
    answered = driver.answered_image(page)
    try:
        driver.wait_until(
            lambda: driver.link_params(page).get("sel") == str(answered), timeout
        )
    except AssertionError:
        linked = driver.link_params(page).get("sel")
        return f"the page answered #{answered}, the link says #{linked}"
    return None if answered is not None else "the page answered no image"


def _user(url, seed, clicks, start: threading.Barrier, out: UserRun) -> None:
    from playwright.sync_api import sync_playwright

    rng = np.random.default_rng(seed)
    try:
        with sync_playwright() as p:
            browser, page, left = driver.user_page(p, url, out.errors)
            driver.wait_idle(page, 120_000)
            counts = driver.trace_counts(left)
            seen: set = set()
            start.wait()
            for _ in range(clicks):
                x, y = fresh_point(left, counts, rng, seen)
                drawn, arrived = click(page, left, x, y)
                out.followups.append(drawn)
                out.arrivals.append(arrived)
                problem = _link_follows(page)
                if problem:
                    out.errors.append(problem)
            browser.close()
    except Exception as e:  # noqa: BLE001 - a failed user is a finding
        out.errors.append(f"{type(e).__name__}: {e}")
        if not start.broken:
            start.abort()


def run(url: str, users: int, clicks: int, pid: int) -> tuple[list[UserRun], float]:
    """``users`` sessions at once, ``clicks`` each; returns each user's run
    and the server's CPU seconds (user and system, process ``pid`` and its
    children) from the moment they all started clicking until the last
    ended."""
    import psutil

    server = psutil.Process(pid)

    def cpu() -> float:
        procs = [server, *server.children(recursive=True)]
        return sum(sum(p.cpu_times()[:2]) for p in procs)

    results = [UserRun() for _ in range(users)]
    marks: list[float] = []
    start = threading.Barrier(users + 1, action=lambda: marks.append(cpu()))
    threads = [
        threading.Thread(target=_user, args=(url, i, clicks, start, r), daemon=True)
        for i, r in enumerate(results)
    ]
    for t in threads:
        t.start()
    try:
        start.wait(timeout=600)
    except threading.BrokenBarrierError:
        pass  # a user failed to open the page: its error says why
    for t in threads:
        t.join()
    used = cpu() - marks[0] if marks else float("nan")
    return results, used
