"""``latent-explorer serve --workers 2`` (the command itself, as a
subprocess) in Chromium: four browser contexts, each with its own cookies,
land on both workers behind HAProxy; each stays on its worker for its whole
session (every response it gets names that worker, and its one websocket is
never replaced); every click is answered, the server selecting the image the
page answered with. Then one worker is killed: the supervisor says so and
restarts it, and its users, reloading their link, get their view back from
the live worker. Last, SIGTERM stops the command and every worker."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from harness import driver
from tests.helpers import REPO

pytest.importorskip("playwright.sync_api")
pytestmark = [pytest.mark.browser, pytest.mark.slow]

USERS = 4
WORKER = "x-latent-worker"  # the header the proxy adds: the worker's name


def _said(log, pattern: str, timeout: float = 30.0) -> re.Match:
    """Waits until ``serve``'s stderr (a file) holds ``pattern``."""
    deadline = time.monotonic() + timeout
    while True:
        log.seek(0)
        found = re.search(pattern, log.read())
        if found:
            return found
        if time.monotonic() > deadline:
            log.seek(0)
            raise AssertionError(f"serve never said {pattern!r}:\n{log.read()}")
        time.sleep(0.1)


@pytest.fixture(scope="module")
def served(tmp_path_factory, server_home):
    """``serve --workers 2`` on a free port: its URL, its stderr, its pids
    by worker, the command's pid; stopped with SIGTERM at the end (and
    checked gone). Its caches are the shared server's (warm when another
    browser test ran first; both workers fill them at once when not)."""
    root = tmp_path_factory.mktemp("serve")
    port = driver.free_port()
    env = {
        **os.environ,
        "XDG_CACHE_HOME": str(server_home),
        "EXPLORER_TRAINED_DIR": str(server_home / "trained"),
        "PYTHONPATH": str(REPO),
    }
    err = open(root / "serve.err", "w+")  # noqa: SIM115 - read while it runs
    cmd = [sys.executable, "-m", "explorer", "serve", "--workers", "2",
           "--port", str(port)]  # fmt: skip
    proc = subprocess.Popen(
        cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=err, text=True
    )
    try:
        line = proc.stdout.readline()  # the address, once all answer
        assert f"http://localhost:{port}" in line, _said(err, "$", 0).string
        pids = {
            name: int(pid)
            for name, pid in re.findall(
                r"worker (w\d): pid (\d+)", _said(err, "w2").string
            )
        }
        yield f"http://localhost:{port}", err, pids, proc.pid
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(30)
        err.seek(0)
        said = err.read()
        err.close()
    assert code == 0, said
    for pid in map(int, re.findall(r"worker w\d: pid (\d+)", said)):
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)  # no worker outlives the command


class User:
    """One browser context (its own cookies) with one page on the app:
    the worker named by each response, and the websockets it opened."""

    def __init__(self, browser, seed: int) -> None:
        self.context = browser.new_context(viewport={"width": 1300, "height": 1100})
        self.page = self.context.new_page()
        self.workers: list[str | None] = []
        self.sockets = 0
        self.errors: list[str] = []
        self.rng = np.random.default_rng(seed)
        self.page.on("response", self._response)
        self.page.on("websocket", lambda ws: setattr(self, "sockets", self.sockets + 1))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        driver.watch(self.page)

    def _response(self, r) -> None:
        if r.url.startswith("http"):  # not a data: or blob: address
            self.workers.append(r.headers.get(WORKER))

    @property
    def cookie(self) -> str | None:
        found = [c["value"] for c in self.context.cookies() if c["name"] == "SERVERID"]
        return found[0] if found else None

    def opened(self) -> None:
        """Waits for the page started with ``goto(..., wait_until="commit")``."""
        self.page.wait_for_selector(
            "[data-testid='stAppViewContainer']", timeout=240_000
        )
        driver.wait_idle(self.page, 240_000)
        self.left = driver.map_frames(self.page, 240_000)[0]

    def click(self) -> int:
        """Clicks a point; returns the image the page answered with, once
        the server's rerun has selected that very image."""
        counts = driver.trace_counts(self.left)
        while True:
            c = int(self.rng.choice(np.flatnonzero(np.asarray(counts) > 0)))
            x, y = driver.a_point(self.left, c, int(self.rng.integers(counts[c])))
            if driver.pressable(self.left, x, y):
                break
        since = driver.mark(self.page)
        taken = driver.latest_input(self.page)
        driver.press(self.page, self.left, x, y)
        driver.wait_until(lambda: driver.latest_input(self.page) != taken, 30)
        driver.wait_answered(self.page, 60)
        driver.wait_idle(self.page, 120_000, since=since)
        self.page.wait_for_function(driver.CAUGHT_UP, polling="raf", timeout=60_000)
        chosen = driver.answered_image(self.page)
        assert driver.link_params(self.page)["sel"] == str(chosen)
        return chosen


def test_sessions_stay_on_their_worker_and_a_dead_workers_users_come_back(
    browser, served
):
    url, err, pids, supervisor = served
    users = [User(browser, seed) for seed in range(USERS)]
    for u in users:  # four first visits at once
        u.page.goto(url, wait_until="commit", timeout=60_000)
    for u in users:
        u.opened()
    home = [u.cookie for u in users]
    assert set(home) == {"w1", "w2"}, home  # both workers serve
    for u in users:  # every click answered, on the session's own worker
        u.click()
    for u, w in zip(users, home, strict=True):
        assert set(u.workers) == {w}, (w, set(u.workers))
        assert u.sockets == 1 and u.cookie == w  # the session never moved
        assert not u.errors, u.errors

    # A worker dies: its users reload their link and get their view back
    # from the live one; the supervisor restarts the dead one.
    dead, live = "w1", "w2"
    views = {id(u): driver.link_params(u.page) for u in users}
    moved = [u for u in users if u.cookie == dead]
    # The supervisor paused, so that the dead worker stays dead (restarted, it
    # answers within a second) while its users come back.
    os.kill(supervisor, signal.SIGSTOP)
    try:
        os.kill(pids[dead], signal.SIGKILL)
        for u in moved:
            # no file from the browser's cache (Playwright's routing turns it
            # off): each response then names the worker that sent it
            u.page.route("**/*", lambda route: route.continue_())
            u.workers.clear()
            u.page.goto(u.page.url, wait_until="commit", timeout=60_000)
        for u in moved:
            u.opened()
            assert set(u.workers) == {live} and u.cookie == live
            assert driver.link_params(u.page) == views[id(u)]
            sel = int(views[id(u)]["sel"])
            assert driver.answered_image(u.page) == sel  # the selection is back
            u.click()  # and the live worker answers
    finally:
        os.kill(supervisor, signal.SIGCONT)
    _said(err, rf"worker {dead} \(pid {pids[dead]}\) exited .*; restarting it")
    _said(err, rf"worker {dead}: pid (?!{pids[dead]})\d+", 30)
    for u in users:
        u.context.close()
