"""Values the app did not choose (a link's keys and values, checkpoint folder
names, an upload's name) on the page, run headless with ``AppTest``: each is
shown as typed, and nothing on the page, read as Streamlit's Markdown reads it
(bare URLs linked: ``tests.helpers.markup_in``), is a link, an image or HTML.
The browser's view of the same: tests/e2e/test_links_browser.py."""

from __future__ import annotations

import json

import pytest
from google.protobuf.message import Message
from streamlit.testing.v1 import AppTest

from explorer.app.tabs import names as tab_names
from explorer.app.urlstate import FIELDS
from explorer.model.checkpoint import REPO_WEIGHTS
from tests.helpers import APP, errors, markup_in, shown_text

pytestmark = pytest.mark.slow

# The proto fields Streamlit draws as Markdown: element bodies (markdown,
# captions, alerts, headings), widget labels and tooltips, image captions; and
# a radio's options (a select box's are plain text).
MARKDOWN_FIELDS = {"body", "label", "help", "caption"}
MARKDOWN_OPTIONS = {"radio"}

LINK = {
    "ds": "[Sign in again](https://attacker.example/login)",
    "l": "![x](https://attacker.example/p.png)",
    "r": "https://attacker.example/x",
    "tab": '<a href="https://attacker.example">x</a>',
    "path": "www.attacker.example",
    "ml": "me@attacker.example",
    "sel": "`https://attacker.example/` ``x``",
    "[k](https://attacker.example)": "1",
    "https://attacker.example/key": "<img src=https://attacker.example/i.png>",
}


def run(query: dict | None = None, **state) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    state.setdefault("live", False)
    for k, v in state.items():
        at.session_state[k] = v
    for k, v in (query or {}).items():
        at.query_params[k] = v
    return at.run()


def page_markdown(at: AppTest) -> list[str]:
    """Every piece of Markdown the page draws, sidebar and main."""
    out = []

    def fields(msg, names: set[str]) -> None:
        for field, value in msg.ListFields():
            if field.message_type is not None:
                for m in [value] if isinstance(value, Message) else value:
                    if isinstance(m, Message):  # (not a map's keys)
                        fields(m, names)
            elif field.name in names and field.type == field.TYPE_STRING:
                out.extend([value] if isinstance(value, str) else value)

    def walk(node) -> None:
        proto = getattr(node, "proto", None)
        if isinstance(proto, Message):
            kind = getattr(node, "type", "")
            names = MARKDOWN_FIELDS | (
                {"options"} if kind in MARKDOWN_OPTIONS else set()
            )
            fields(proto, names)
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at.sidebar)
    walk(at.main)
    return [text for text in out if text]


def markup_on(at: AppTest) -> list[tuple[str, list[str]]]:
    return [(m, found) for m in page_markdown(at) if (found := markup_in(m))]


def test_a_link_cannot_plant_a_link_and_its_values_show_as_typed():
    at = run(LINK)
    assert not at.exception
    [notice] = [w.value for w in at.warning]
    assert markup_in(notice) == [], notice
    seen = shown_text(notice)
    assert seen.startswith("Part of the link could not be used")
    for key, value in LINK.items():
        # a known key's rejected value is shown; an unknown key itself
        shown = value if key in FIELDS else key
        assert shown in seen, (shown, seen)
    assert markup_on(at) == []
    assert at.selectbox(key="dataset").value == "fashion-mnist"  # defaults stand


def test_an_uploads_name_is_shown_as_typed():
    name = "[Sign in](https://attacker.example/l) www.attacker.example `x`.png"
    at = run(tab="Your image", uploaded={"name": name, "data": b"not an image"})
    [error] = [e.value for e in at.error]
    assert markup_in(error) == [], error
    assert shown_text(error) == (
        f"Could not use the upload. {name}: not a PNG or JPEG image we can read"
    )
    assert markup_on(at) == []


@pytest.fixture
def hostile_weights(tmp_path, monkeypatch):
    """The shipped fashion-mnist z2 checkpoints, in folders named like links."""
    names = {
        "fashion-mnist-ae-z2": "www.attacker.example [a](x) `b`",
        "fashion-mnist-vae-z2": "<img src=x onerror=alert(1)> me@attacker.example",
    }
    for real, name in names.items():
        (tmp_path / name).symlink_to(REPO_WEIGHTS / real, target_is_directory=True)
    monkeypatch.setenv("EXPLORER_WEIGHTS_DIR", str(tmp_path))
    return list(names.values())


def test_folder_names_are_shown_as_typed_in_every_tab(hostile_weights):
    at = run()
    for tab in tab_names():  # each tab opened in turn, in one session
        at.session_state["tab"] = tab
        at = at.run()
        assert not errors(at), tab
        shown = [shown_text(m) for m in page_markdown(at)]
        for name in hostile_weights:
            assert any(name in text for text in shown), (tab, name)
        assert markup_on(at) == [], tab
        for chart in at.get("plotly_chart"):  # Plotly reads its labels as HTML
            for trace in json.loads(chart.proto.spec)["data"]:
                assert "<" not in trace.get("name", ""), (tab, trace["name"])
                assert "<img" not in trace.get("hovertemplate", ""), tab
