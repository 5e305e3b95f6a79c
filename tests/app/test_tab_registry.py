"""The tab registry (``explorer.app.tabs``): a tab is one module (``NAME``,
``render(ctx)``, optionally ``marks(ctx, panel)``) and one line in
``REGISTRY``."""

from __future__ import annotations

import sys
import textwrap

import pytest
from streamlit.testing.v1 import AppTest

from explorer.app import tabs
from tests.helpers import APP, errors, view_data

PROBE = '''
"""A tab added for a test: it says what it was given and marks a spot."""

import streamlit as st

NAME = "Probe"


def render(ctx):
    st.markdown(f"probe: {len(ctx.panels)} panels of {ctx.settings.dataset}")


def marks(ctx, panel):
    return {"probe": [[0.25, -0.5]]} if ctx.tab == NAME else {}
'''


def test_every_registered_tab_has_a_name_and_a_render():
    found = tabs.all_tabs()
    assert len(found) == len(tabs.REGISTRY)
    for t in found:
        assert isinstance(t.NAME, str) and callable(t.render), t.__name__
        assert not hasattr(t, "marks") or callable(t.marks), t.__name__
    assert len(set(tabs.names())) == len(found)
    # the tabs that draw on the maps say so in one place each
    drawing = {t.NAME for t in found if hasattr(t, "marks")}
    assert drawing == {"Interpolation", "Prior samples", "Your image"}


def test_a_new_tab_is_one_file_and_one_registry_line(tmp_path, monkeypatch):
    (tmp_path / "probe_tab.py").write_text(textwrap.dedent(PROBE))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(tabs, "REGISTRY", [*tabs.REGISTRY, "probe_tab"])
    try:
        at = AppTest.from_file(APP, default_timeout=120)
        at.query_params["tab"] = "Probe"  # (a link may open any registered tab)
        at.run()
        assert not errors(at)
        assert "Probe" in [t.label for t in at.tabs]
        said = [m.value for m in at.markdown if m.value.startswith("probe:")]
        assert said == ["probe: 2 panels of fashion-mnist"]
        [data] = view_data(at)
        for m in data["maps"]:
            assert m["overlays"]["probe"] == [[0.25, -0.5]], m["slot"]
        # another tab open: the probe's marks go, its body does not run
        at.session_state["tab"] = tabs.names()[0]
        at.run()
        assert not errors(at)
        assert not [m for m in at.markdown if m.value.startswith("probe:")]
        [data] = view_data(at)
        assert all("probe" not in m["overlays"] for m in data["maps"])
    finally:
        sys.modules.pop("probe_tab", None)


@pytest.mark.parametrize("tab", ["Prior samples", "Selected image"])
def test_the_prior_tab_marks_its_samples_only_while_open(tab):
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["tab"] = tab
    at.run()
    assert not errors(at)
    [data] = view_data(at)
    for m in data["maps"]:
        assert ("samples" in m["overlays"]) == (tab == "Prior samples")
        assert {"selected", "cursor", "a", "b", "path"} <= set(m["overlays"])
