"""Train a model now, in a real Chromium: start a training, watch the map of
its newest snapshot and its curves appear and the map move to a later frame,
cancel it; the page says so, the training process has stopped, the lock is
free and nothing was saved.

The test holds the training process still (SIGSTOP) once it has written the
frames it waits for, and lets it go on (SIGCONT) after, so that a fast
machine cannot finish the run before the page has shown them and Cancel has
been pressed."""

from __future__ import annotations

import os
import signal
import urllib.parse

import pytest

from explorer.training import job
from harness.driver import act, open_app, wait_until

playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.browser

TAB = "Train a model now"
NAME = "watched-run"
# the newest frame's map: its title and how many points it draws
MAP = """() => { const gd = [...document.querySelectorAll('.js-plotly-plot')]
    .find((g) => JSON.stringify(g.layout.title || '').includes('The map at epoch'));
  return gd ? [gd.layout.title.text, gd.data[0].x.length] : null; }"""
CURVES = """() => [...document.querySelectorAll('.js-plotly-plot')]
  .some((g) => (g.layout.annotations || [])
    .some((a) => a.text.includes('reconstruction')) && g.data[0].x.length >= 2)"""


@pytest.fixture(scope="module")
def trainer_server(server, server_home):
    """The shared server, and its trained-models folder (the test's own)."""
    return server, server_home / "trained"


def _held_at(frames: int, trained) -> tuple[str, int]:
    """The running job, stopped once it has written ``frames`` frames."""
    found = []

    def ready() -> bool:
        for f in (trained / job.JOBS).glob(f"*/{job.STATUS_FILE}"):
            s = job.status(f.parent.name) or {}
            if len(s.get("curves") or ()) >= frames and s["phase"] == "training":
                os.kill(s["pid"], signal.SIGSTOP)
                found.append((f.parent.name, s["pid"]))
                return True
        return False

    wait_until(ready, timeout=60)
    return found[0]


def test_start_watch_and_cancel(browser, trainer_server, shots, monkeypatch):
    url, trained = trainer_server
    monkeypatch.setenv(job.TRAINED_ENV, str(trained))  # (the server's folder)
    context = browser.new_context(viewport={"width": 1400, "height": 1800})
    pid = None
    try:
        page = context.new_page()
        open_app(page, f"{url}/?tab={urllib.parse.quote(TAB)}")
        page.get_by_label("Name", exact=True).fill(NAME)
        images = page.get_by_label("Images", exact=True)
        images.fill("4000")  # (the test split's other 6,000 are held out)
        images.press("Tab")
        act(page, lambda: page.get_by_role("button", name="Start training").click())
        mine, pid = _held_at(2, trained)
        page.wait_for_function(MAP, timeout=30_000)
        page.wait_for_function(CURVES, timeout=30_000)
        title, points = page.evaluate(MAP)
        assert points == 2000  # (the snapshots' sample of the held-out images)
        page.get_by_text(f"Training {NAME}: epoch").wait_for()
        os.kill(pid, signal.SIGCONT)
        assert _held_at(4, trained) == (mine, pid)
        page.wait_for_function(f"() => ({MAP})()[0] !== {title!r}", timeout=30_000)
        page.screenshot(path=str(shots / "trainer-running-en.png"), full_page=True)
        assert job.locked(trained)
        page.get_by_role("button", name="Cancel").click()
        wait_until(lambda: (trained / job.JOBS / mine / job.CANCEL_FILE).exists())
        os.kill(pid, signal.SIGCONT)
        page.get_by_text(f"Cancelled: {NAME} was not saved.").wait_for(timeout=30_000)
        page.screenshot(path=str(shots / "trainer-cancelled-en.png"), full_page=True)
        assert job.status(mine)["phase"] == "cancelled"
        wait_until(lambda: not job.alive(pid), timeout=10)  # (it exits now)
        assert not job.locked(trained)
        assert not (trained / NAME).exists()
        assert not (trained / job.STAGING / NAME).exists()
    finally:
        if pid is not None and job.alive(pid):
            os.kill(pid, signal.SIGCONT)
            os.kill(pid, signal.SIGKILL)
        context.close()
