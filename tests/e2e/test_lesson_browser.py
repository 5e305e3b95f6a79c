"""The lesson in a real Chromium: the whole of it walked from the keyboard
alone (Tab to a control, Enter or Space to use it; each step's own result,
"Step done", on the page before the next), with a screenshot of every step;
then the same ten steps in Chinese, each check answered, where no English
sentence is left in the lesson's frame."""

from __future__ import annotations

import re
from functools import partial

import pytest

from harness.driver import act, open_app

playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.browser

FRAME = ".st-key-lesson_frame"
MAX_TABS = 200  # focusable elements before the lesson's: the sidebar's, the maps'
BACK = 12  # the controls of one step, at most

# Each step's keyboard actions: a check answered (its first option), then a
# button pressed (by its English label).
WALK = {
    1: [("button", "Pick another image")],
    2: [("radio", None), ("button", "Place × at the marked spot")],
    3: [("button", "Draw ε again")],
    4: [("radio", None), ("button", "Pick another image")],
    5: [("button", "Pick another image")],
    6: [("radio", None), ("button", "Place × at the marked spot")],
    7: [("radio", None), ("button", "Sample again")],
    8: [("button", "Place × at the first diamond")],
    9: [("radio", None), ("button", "Pick another image")],
    10: [("radio", None), ("button", "Pick another image")],
}

FOCUSED = """([kind, label, frame]) => {
  const e = document.activeElement;
  if (!e || !e.closest(frame)) return false;
  if (kind === "radio") return e.type === "radio";
  return e.tagName === "BUTTON" && e.innerText.trim() === label;
}"""


def tab_to(page, kind: str, label: str | None, back: int = BACK) -> None:
    """Presses Tab, from wherever the focus is (the control used last: a
    rerun keeps it), until the wanted control of the lesson has it."""
    if page.evaluate(FOCUSED, [kind, label, FRAME]):
        return
    # a step's first control comes before the "Next step" button that
    # opened it: back (Shift+Tab) through the lesson's own controls first
    for key, presses in (("Shift+Tab", back), ("Tab", MAX_TABS)):
        for _ in range(presses):
            page.keyboard.press(key)
            if page.evaluate(FOCUSED, [kind, label, FRAME]):
                return
    raise AssertionError(f"Tab never reached the {kind} {label!r}")


def step_title(page) -> str:
    return page.locator(f"{FRAME} h3").first.inner_text()


def test_the_whole_lesson_from_the_keyboard_alone(browser, server, shots):
    context = browser.new_context(
        locale="en-US", viewport={"width": 1400, "height": 1000}
    )
    try:
        page = context.new_page()
        open_app(page, server + "/?lesson=1")
        for n, actions in WALK.items():
            assert step_title(page).startswith(f"Lesson, step {n} of 10"), n
            done = page.locator(f"{FRAME} [data-testid='stAlertContentSuccess']")
            done = done.filter(has_text="Step done")
            assert done.count() == 0, n  # not done before its action
            for kind, label in actions:
                tab_to(page, kind, label)
                key = "Space" if kind == "radio" else "Enter"
                act(page, partial(page.keyboard.press, key))
            done.wait_for()
            page.screenshot(path=str(shots / f"lesson-en-{n}.png"), full_page=True)
            if n < 10:
                tab_to(page, "button", "Next step →", back=0)
                act(page, lambda: page.keyboard.press("Enter"))
        assert "done=1%2C2%2C3%2C4%2C5%2C6%2C7%2C8%2C9%2C10" in page.url or (
            "done=1,2,3,4,5,6,7,8,9,10" in page.url
        )
    finally:
        context.close()


# What may stay Latin on a Chinese page: model and dataset names, formula
# symbols and abbreviations the notes use as they are.
ALLOWED = re.compile(
    r"^(fashion-mnist[-\w]*|mnist[-\w]*|AE|VAE|CVAE|KL|ELBO|PCA|UMAP|GMM|MSE|nats?|"
    r"log|exp|enc|dec|max|min|z\d*|x|y|s|t|N|I|K|[A-D]+|Fashion-MNIST|MNIST)$"
)


def english_words(text: str) -> list[str]:
    """Words of three or more Latin letters not in ``ALLOWED``."""
    words = re.findall(r"[A-Za-z][A-Za-z0-9\-]{2,}", text)
    return [w for w in words if not ALLOWED.match(w)]


LESSON_TEXT = """(frame) => {
  const root = document.querySelector(frame);
  const clone = root.cloneNode(true);
  const skip = '.katex, .js-plotly-plot, svg, pre, code, '
    + '[data-testid="stIconMaterial"]';
  for (const k of clone.querySelectorAll(skip)) k.remove();
  const plots = [...root.querySelectorAll('.js-plotly-plot text')]
    .map((t) => t.textContent);
  return clone.innerText + '\\n' + plots.join('\\n');
}"""


def test_the_lesson_in_chinese_has_no_english_left(browser, server, shots):
    context = browser.new_context(
        locale="zh-CN", viewport={"width": 1400, "height": 1000}
    )
    try:
        page = context.new_page()
        open_app(page, server + "/?lesson=1")
        left = {}
        for n in range(1, 11):
            assert f"{n}" in step_title(page)
            radios = page.locator(f"{FRAME} [role='radiogroup'] label")
            if radios.count():  # a check: its answer and why, in Chinese too
                act(page, radios.first.click)
                page.locator(f"{FRAME} [data-testid='stAlert']").first.wait_for()
            page.screenshot(path=str(shots / f"lesson-zh-{n}.png"), full_page=True)
            words = english_words(page.evaluate(LESSON_TEXT, FRAME))
            if words:
                left[n] = words
            if n < 10:
                nav = page.locator(f"{FRAME} [data-testid='stButton'] button")
                act(page, nav.nth(nav.count() - 2).click)  # next (then: leave)
        assert left == {}, left
    finally:
        context.close()
