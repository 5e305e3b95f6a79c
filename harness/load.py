"""Many users at once: browser sessions clicking on one ``streamlit run``,
or on ``latent-explorer serve --workers N`` (N workers behind HAProxy).

Each user is its own Chromium (a thread with its own Playwright) so the
server sees real concurrent sessions. Every user clicks points, clicks empty
space and moves a slider for a bounded time, and checks after each point
click that the server, once its rerun for that click has ended, selected the
very image the page answered the click with (a session that got another
user's selection would fail that check), and how long the server took to
follow a point click up (its rerun echoed in the page). The server's memory
(all its processes') is sampled throughout.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from harness import driver


@dataclass
class UserResult:
    """What one user saw. Latencies in seconds, from input to changed image."""

    clicks: list[float] = field(default_factory=list)  # on a point
    follow: list[float] = field(default_factory=list)  # a point click's rerun echoed
    empty: list[float] = field(default_factory=list)  # on empty space
    sliders: list[float] = field(default_factory=list)
    late: int = 0  # inputs answered, but after WAIT_MS
    late_kinds: list[str] = field(default_factory=list)  # which, for the report
    lost: int = 0  # inputs taken, with no visible answer within WAIT_MS + LOST_MS
    lost_kinds: list[str] = field(default_factory=list)
    missed: int = 0  # presses the page never took as an input (no event at all)
    missed_kinds: list[str] = field(default_factory=list)
    foreign: int = 0  # the server selected another image than this page answered
    foreign_at: list[str] = field(default_factory=list)  # which, for the report
    answered: int | None = None  # the image the page answered the last click with
    errors: list[str] = field(default_factory=list)


WAIT_MS = 30_000  # an answer later than this is late
LOST_MS = 90_000  # and one that has not come this much later still, lost


def _timed(page, act, out: list[float], result: UserResult, kind: str = "") -> bool:
    """Does ``act`` and waits for the decoded image to change, then for the
    rerun the input asked for to end. An answer after ``WAIT_MS`` is late (its
    latency still counts); none within ``LOST_MS`` more is lost. A press the
    view never took as an input (no event id: plotly saw no click) is missed,
    not lost. The report says which input it was, and what the page had
    answered and Python had echoed when the wait ran out. ``act`` may return
    the moment of its press (``perf_counter``): latency counts from there.
    A point click's answered image (the view's) is kept in ``result.answered``,
    read as soon as the page has drawn it."""
    old = driver.image_src(page, "decoded at", 0)
    taken = driver.latest_input(page)
    since = driver.mark(page)
    t = time.perf_counter()
    pressed = act()
    t = pressed if pressed is not None else t
    try:
        driver.wait_src_change(page, "decoded at", 0, old, WAIT_MS)
    except Exception:  # noqa: BLE001 - Playwright's TimeoutError
        state = driver.answered_and_echo(page)
        if state is not None and driver.latest_input(page) == taken:
            # the view never took the press as an input (plotly saw no click)
            result.missed += 1
            result.missed_kinds.append(f"{kind} (answered, echo: {state})")
            return False
        try:
            driver.wait_src_change(page, "decoded at", 0, old, LOST_MS)
        except Exception:  # noqa: BLE001
            result.lost += 1
            result.lost_kinds.append(f"{kind} (answered, echo: {state})")
            return False
        late = time.perf_counter() - t
        result.late += 1
        result.late_kinds.append(
            f"{kind} after {late:.0f} s (at {WAIT_MS // 1000} s "
            f"answered, echo: {state})"
        )
    out.append(time.perf_counter() - t)
    result.answered = driver.answered_image(page)
    if kind == "point":  # the server's follow-up: its rerun for the click echoed
        page.wait_for_function(driver.CAUGHT_UP, polling="raf", timeout=LOST_MS)
        result.follow.append(time.perf_counter() - t)
    driver.wait_idle(page, 120_000, since=since)
    return True


def _foreign(page, answered: int | None) -> str | None:
    """Whether the server's selection, once its rerun for this page's click
    has ended (the link's ``sel``), is another image than the one the page
    answered the click with: a description if so, else None."""
    echoed = driver.link_params(page).get("sel")
    if answered is None or echoed != str(answered):
        return f"the page answered image #{answered}, the server selected #{echoed}"
    return None


def _user(url: str, seed: int, seconds: float, out: UserResult) -> None:
    from playwright.sync_api import sync_playwright

    rng = np.random.default_rng(max(seed, 0))
    try:
        with sync_playwright() as p:
            browser, page, left = driver.user_page(p, url, out.errors)
            driver.set_live(page, False)
            counts = driver.trace_counts(left)
            classes = np.flatnonzero(np.asarray(counts) > 0)

            def a_free_point():
                """A data point no part of the page covers (the mode bar)."""
                while True:
                    c = int(rng.choice(classes))
                    x, y = driver.a_point(left, c, int(rng.integers(counts[c])))
                    if driver.pressable(left, x, y):
                        return x, y

            def single_press(x, y) -> float:
                """A press no sooner after the last than a person's next
                click (not a double click, which resets the map)."""
                driver.wait_single_click(page, left)
                return driver.press(page, left, x, y)

            deadline = time.monotonic() + seconds
            k = 0
            while time.monotonic() < deadline:
                kind, k = k % 3, k + 1
                if kind == 0:
                    x, y = a_free_point()
                    press = lambda x=x, y=y: single_press(x, y)  # noqa: E731
                    if _timed(page, press, out.clicks, out, "point"):
                        foreign = _foreign(page, out.answered)
                        if foreign:
                            out.foreign += 1
                            out.foreign_at.append(foreign)
                elif kind == 1:
                    x, y = driver.empty_spot(left)
                    press = lambda x=x, y=y: single_press(x, y)  # noqa: E731
                    _timed(page, press, out.empty, out, "empty")
                else:
                    thumb = driver.slider(page, "z[0]", 0)
                    v, lo, hi = thumb.evaluate("(e) => [+e.value, +e.min, +e.max]")
                    thumb.focus()
                    # towards the middle, so the slider is never pinned at an end
                    key = "ArrowLeft" if v > (lo + hi) / 2 else "ArrowRight"
                    _timed(
                        page,
                        lambda key=key: page.keyboard.press(key),
                        out.sliders,
                        out,
                        "slider",
                    )
            shown = page.locator("[data-testid='stException']").count()
            if shown:
                out.errors.append(f"{shown} exception(s) shown on the page")
            browser.close()
    except Exception as e:  # noqa: BLE001 - a failed user is a finding
        out.errors.append(f"{type(e).__name__}: {e}")


# After the users leave, the server may keep this much more than it held once
# warm (one session had loaded the models and data, then left): Python keeps
# freed memory in its arenas, and each session leaves a little state.
SETTLE_MB = 150.0


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants, in MB."""
    import psutil

    root = psutil.Process(pid)
    total = 0.0
    for p in [root, *root.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total / 2**20


@contextmanager
def serve_process(workers: int, env: dict | None = None):
    """Runs ``latent-explorer serve --workers N`` (HAProxy in front) on a free
    loopback port; yields its URL, the command's process, and each worker's
    own URL (to warm each one up directly)."""
    port = driver.free_port()
    log = tempfile.TemporaryFile(mode="w+")
    cmd = [sys.executable, "-m", "explorer", "serve", "--workers", str(workers),
           "--port", str(port)]  # fmt: skip
    proc = subprocess.Popen(
        cmd, cwd=driver.REPO, env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE, stderr=log, text=True,
    )  # fmt: skip
    try:
        line = proc.stdout.readline()  # the address, once every worker answers
        log.seek(0)
        said = log.read()
        if "http://" not in line:
            raise RuntimeError(f"serve did not start:\n{said}")
        ports = re.findall(r"worker w\d+: pid \d+, port (\d+)", said)
        yield (
            f"http://127.0.0.1:{port}",
            proc,
            [f"http://127.0.0.1:{p}" for p in ports],
        )
    finally:
        proc.terminate()  # serve stops its workers and the proxy
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@contextmanager
def _server(env: dict | None, workers: int):
    """``(url, process, [each worker's url])``: one ``streamlit run`` for
    ``workers`` 0, else ``serve`` with that many workers behind the proxy."""
    if not workers:
        with driver.streamlit_process(env) as (url, proc):
            yield url, proc, [url]
    else:
        with serve_process(workers, env) as served:
            yield served


def run_load(
    users: int, seconds: float, env: dict | None = None, workers: int = 0
) -> tuple[list[UserResult], dict]:
    """Runs ``users`` sessions for ``seconds`` each against one server
    (``workers`` 0: ``streamlit run``), or against ``latent-explorer serve``
    with that many workers behind HAProxy.

    Returns each user's result and the server's memory (MB, all its
    processes): once warm (one session opened the app on each worker and
    left, so the caches are filled), the peak while the users ran, and the
    lowest of a few samples after they left.
    """
    with _server(env, workers) as (url, proc, each):
        warm = [UserResult() for _ in each]  # threads of their own, like users
        threads = [
            threading.Thread(target=_user, args=(u, -1, 0.0, r), daemon=True)
            for u, r in zip(each, warm, strict=True)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if any(r.errors for r in warm):
            raise RuntimeError(f"a warm-up session failed: {[r.errors for r in warm]}")
        time.sleep(2.0)
        memory = {"warm": tree_rss_mb(proc.pid), "peak": 0.0}
        results = [UserResult() for _ in range(users)]
        threads = [
            threading.Thread(target=_user, args=(url, i, seconds, r), daemon=True)
            for i, r in enumerate(results)
        ]
        for t in threads:
            t.start()
        while any(t.is_alive() for t in threads):
            memory["peak"] = max(memory["peak"], tree_rss_mb(proc.pid))
            time.sleep(0.5)
        after = []
        for _ in range(6):
            time.sleep(1.0)
            after.append(tree_rss_mb(proc.pid))
        memory["after"] = min(after)
    return results, memory
