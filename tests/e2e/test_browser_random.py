"""Random actions in a real Chromium: no input may bring an exception to the page.

A seeded sequence of 30 actions against ``streamlit run``: clicks at
random spots of both maps, tab switches, dataset and model switches, slider
keys, toggles, the buttons of the open tab, uploads of hostile files and
malformed links. After each action that asks for a rerun the test waits until
the server has run the script again and ended it (by the server's own
messages), then checks that no exception element is on the page. Nothing is
tried twice: an input the app drops fails the test.
It runs on the bundled data and on a small folder encoded into a store.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from explorer.model.checkpoint import REPO_WEIGHTS
from harness.driver import (
    MapRef,
    act,
    map_frames,
    mark,
    open_app,
    press,
    streamlit_server,
    wait_idle,
)
from tests.helpers import bomb_png, image_folder, train_on_folder

# (the browser fixture skips without Playwright; the tests that need no
# browser run all the same)
pytestmark = pytest.mark.browser

N_ACTIONS = 30
ANSWER_MS = 60_000
EXCEPTION = "[data-testid='stException']"


def png(arr: np.ndarray, mode: str | None = None) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr, mode).save(buf, format="PNG")
    return buf.getvalue()


def hostile_files(rng: np.random.Generator) -> dict[str, bytes]:
    """Uploads a user might send, by accident or not."""
    ring = np.zeros((64, 64), np.uint16)
    ring[16:48, 16:48] = 40000
    ring[24:40, 24:40] = 0
    rgba = np.zeros((40, 40, 4), np.uint8)
    rgba[10:30, 15:25] = (255, 255, 255, 255)
    return {
        "empty.png": b"",
        "random.png": rng.bytes(3000),
        "notes.png": b"these are my notes, not a picture\n" * 10,
        "bomb.png": bomb_png(100_000, 100_000),
        "sixteen-bit.png": png(ring),
        "rgba.png": png(rgba, "RGBA"),
        "one-pixel.png": png(np.full((1, 1), 255, np.uint8)),
    }


MALFORMED_LINKS = [
    "?ds=[Sign in again](https://example.invalid)",
    "?ds=nope&l=../../etc/passwd&r=![x](https://example.invalid/p.png)",
    "?sel=-5&a=99999999999&b=NaN",
    "?zl=1,2,three&zr=inf,nan",
    "?tab=%00%ff&t=2&steps=1000&path=`rm`",
    "?ds=fashion-mnist&l=fashion-mnist-vae-z2&sel=1e309",
    "?" + "x=" + "9" * 3000,
]


class Driver:
    """Performs one random action and says what answer to expect."""

    def __init__(self, page, url: str, rng: np.random.Generator, files: Path):
        self.page, self.url, self.rng, self.files = page, url, rng, files
        self.hostile = hostile_files(rng)
        for name, data in self.hostile.items():
            (files / name).write_bytes(data)

    def runs(self) -> int:
        return self.page.evaluate("() => window.__runs")

    def pick(self, locator):
        n = locator.count()
        return locator.nth(int(self.rng.integers(n))) if n else None

    # --- actions: each returns a description and whether a rerun must follow

    def click_map(self):
        maps = self.page.locator(".lx-map")
        n = maps.count()
        if not n:
            return "no map to click", False
        k = int(self.rng.integers(n))
        # Whole, in the middle of the view: a map only partly scrolled into
        # view may have its top under the page's sticky header.
        maps.nth(k).evaluate("(e) => e.scrollIntoView({block: 'center'})")
        frame = MapRef(self.page, maps.nth(k).get_attribute("data-lx-slot"))
        # not the top strip, where plotly's mode bar shows over the plot
        fx, fy = self.rng.uniform(0.02, 0.98), self.rng.uniform(0.12, 0.98)
        (x0, x1), (y0, y1) = frame.evaluate(
            "() => { const L = document.getElementById('map')._fullLayout;"
            " return [L.xaxis.range, L.yaxis.range]; }"
        )
        press(self.page, frame, x0 + fx * (x1 - x0), y1 - fy * (y1 - y0))
        return f"click the map at ({fx:.2f}, {fy:.2f})", True

    def switch_tab(self):
        # (none for a moment: the run that ended is not drawn yet, and its
        # tabs with it; a person would wait, as the maps and buttons do)
        tab = self.pick(self.page.get_by_role("tab"))
        if tab is None:
            return "no tab drawn yet", False
        if tab.get_attribute("aria-selected") == "true":
            return "the open tab again", False
        name = tab.inner_text()
        tab.click()
        return f"tab {name}", True

    def choose(self, label: str):
        field = self.page.locator(
            f"[data-testid='stSidebar'] input[aria-label='{label}']"
        )
        if not field.count():
            return f"no {label} box", False
        before = field.input_value()
        field.click()
        option = self.pick(self.page.get_by_role("option"))
        if option is None:  # the box was redrawn under the click: closed
            return f"{label}: no list opened", False
        name = option.inner_text()
        option.click()
        return f"{label}: {name}", name != before

    def switch_dataset(self):
        return self.choose("Dataset")

    def switch_model(self):
        return self.choose(["Left model", "Right model"][int(self.rng.integers(2))])

    def slider_key(self):
        """A key on a slider: the page's or the view's."""
        pools = [
            self.page.locator("[data-testid='stSlider'] input[type='range']"),
            self.page.locator(".lx-sliders input[type='range']"),
        ]
        pools = [p for p in pools if p.count()]
        if not pools:
            return "no slider", False
        thumb = self.pick(pools[int(self.rng.integers(len(pools)))])
        now, hi = float(thumb.input_value()), float(thumb.get_attribute("max"))
        step = float(thumb.get_attribute("step") or 0)
        # up unless a step up would pass the end (then the value cannot move)
        key = "ArrowLeft" if now + step > hi + 1e-9 else "ArrowRight"
        thumb.focus()
        self.page.keyboard.press(key)
        return f"slider {thumb.get_attribute('aria-label')} {key}", True

    def toggle(self):
        boxes = self.page.locator("[data-testid='stCheckbox']:has(input:enabled)")
        box = self.pick(boxes)
        if box is None:
            return "no toggle", False
        name = box.inner_text()
        switch = box.locator("input[type='checkbox']")
        switch.set_checked(not switch.is_checked(), force=True)  # checks it flipped
        return f"toggle {name}", True

    def tab_button(self):
        panel = self.page.locator("[data-testid='stTabs'] [role='tabpanel']:visible")
        button = self.pick(panel.locator("[data-testid='stButton'] button"))
        if button is None:
            return "no button in this tab", False
        name = button.inner_text()
        button.click()
        return f"button {name}", True

    def upload(self):
        tab = self.page.get_by_role("tab", name="Your image")
        if tab.get_attribute("aria-selected") != "true":
            act(self.page, tab.click)
        name = list(self.hostile)[int(self.rng.integers(len(self.hostile)))]
        self.page.locator("input[type='file']").set_input_files(str(self.files / name))
        return f"upload {name}", True

    def malformed_link(self):
        link = MALFORMED_LINKS[int(self.rng.integers(len(MALFORMED_LINKS)))]
        self.page.goto(self.url + "/" + link)
        map_frames(self.page)
        return f"open {link[:60]}", True

    ACTIONS = (
        (click_map, 12),
        (switch_tab, 10),
        (switch_dataset, 4),
        (switch_model, 6),
        (slider_key, 10),
        (toggle, 5),
        (tab_button, 7),
        (upload, 4),
        (malformed_link, 2),
    )

    def act(self):
        fns, weights = zip(*self.ACTIONS, strict=True)
        p = np.asarray(weights, float) / sum(weights)
        return fns[int(self.rng.choice(len(fns), p=p))](self)


def run_random_actions(browser, url: str, tmp: Path, seed: int) -> list[str]:
    """The seeded actions, once. Each action that asks for a rerun must see
    the server run the script again and end it (by the server's own
    messages, ``driver.Runs``), within ``ANSWER_MS``: an input the app
    drops fails the test, however rarely."""
    ctx = browser.new_context(viewport={"width": 1400, "height": 1800})
    page = ctx.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    open_app(page, url)
    driver = Driver(page, url, np.random.default_rng(seed), tmp)
    done = []
    for _ in range(N_ACTIONS):
        since = mark(page)
        try:
            what, rerun = driver.act()
        except Exception as e:
            page.screenshot(path=str(tmp / "failed-action.png"), full_page=True)
            raise AssertionError(
                f"an action failed ({type(e).__name__}: {e}; screenshot "
                f"{tmp}/failed-action.png); actions before it: " + "; ".join(done)
            ) from e
        done.append(what)
        try:
            # answered: a run asked for after the action ended (a new page
            # counts too); else whatever was running has ended
            wait_idle(page, ANSWER_MS, since if rerun else None)
        except AssertionError as e:
            page.screenshot(path=str(tmp / "no-answer.png"), full_page=True)
            raise AssertionError(
                f"no answer to {what!r} ({e}; screenshot {tmp}/no-answer.png); "
                "actions: " + "; ".join(done)
            ) from None
        if page.locator(EXCEPTION).count():
            text = page.locator(EXCEPTION).first.inner_text()
            raise AssertionError(
                f"exception after {what!r}: {text}; actions: " + " | ".join(done)
            )
    ctx.close()
    assert not errors, errors
    print("\n".join(done))
    return done


def test_random_actions_on_the_bundled_data(browser, server, tmp_path):
    """On the browser tests' shared server (its caches warm): the actions
    open sessions of their own, as every browser test does."""
    done = run_random_actions(browser, server, tmp_path, seed=0)
    assert len(done) == N_ACTIONS


def small_store(tmp: Path) -> tuple[Path, Path]:
    """A folder of 300 images, two tiny models trained on it, encoded into a
    store; and the shipped Fashion-MNIST pair beside it (a second dataset)."""
    data = image_folder(tmp / "data" / "shapes", 300, classes=4)
    weights, spaces = tmp / "weights", tmp / "spaces"
    for name in ("fashion-mnist-ae-z2", "fashion-mnist-vae-z2"):
        (weights / name).parent.mkdir(parents=True, exist_ok=True)
        (weights / name).symlink_to(REPO_WEIGHTS / name, target_is_directory=True)
    train_on_folder(
        data,
        weights,
        "shapes",
        ("ae", "vae", "cvae"),
        hidden=32,
        epochs=3,
        store=spaces / "shapes",
    )
    return weights, spaces


def test_random_actions_on_a_small_folder_store(browser, tmp_path):
    weights, spaces = small_store(tmp_path)
    env = {
        "XDG_CACHE_HOME": str(tmp_path / "xdg"),
        "EXPLORER_WEIGHTS_DIR": str(weights),
        "EXPLORER_SPACES_DIR": str(spaces),
    }
    with streamlit_server(env) as url:
        done = run_random_actions(browser, url, tmp_path, seed=1)
    assert len(done) == N_ACTIONS


def test_hostile_files_are_what_they_claim():
    files = hostile_files(np.random.default_rng(0))
    assert files["empty.png"] == b""
    assert Image.open(io.BytesIO(files["sixteen-bit.png"])).mode.startswith("I;16")
    assert Image.open(io.BytesIO(files["rgba.png"])).mode == "RGBA"
    assert Image.open(io.BytesIO(files["one-pixel.png"])).size == (1, 1)
    assert files["bomb.png"].startswith(b"\x89PNG") and len(files["bomb.png"]) < 2000
