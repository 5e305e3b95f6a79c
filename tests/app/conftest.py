"""Fixtures the app tests share: one walk over the default page's tabs."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
import torch
from streamlit.testing.v1 import AppTest

from explorer.app.tabs import names as tab_names
from tests.helpers import (
    APP,
    KeptMedia,
    errors,
    served,
    shows_content_or_reason,
    tab_elements,
)


@dataclass(frozen=True)
class TabRun:
    """What one run of the walk showed, read as it ran (a widget's value is
    read from the session's state, which the next run changes)."""

    tab: str
    errors: list[str]  # ``errors``
    elements: list[tuple[str, str]]  # ``tab_elements`` of the open tab
    shows_content: bool  # ``shows_content_or_reason`` of the open tab
    # ``served``: the page's images, in page order, and those in the open tab
    images: list[tuple[str, bytes]] = field(repr=False)
    tab_images: list[tuple[str, bytes]] = field(repr=False)


@pytest.fixture(scope="session")
def tab_walk(tmp_path_factory) -> dict[str, TabRun]:
    """The default page as it opens (live decoding off, so the server decodes),
    then each other tab opened in the same session, in ``tab_names()`` order, keyed
    by tab (the default page's is ``tab_names()[0]``'s): 11 AppTest runs, once per
    test session, read by the golden test and the tab tests."""
    import streamlit.testing.v1.app_test as app_test

    from explorer.app import first

    # A session fixture is set up before the function-scoped autouse ones of
    # tests/conftest.py, so it isolates itself the same way: kept media, a
    # private cache, no data directory, a seeded torch, no first-paint wait.
    kept = len(KeptMedia.storages)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(app_test, "MemoryMediaFileStorage", KeptMedia.storage)
        mp.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("walk-cache")))
        mp.delenv("EXPLORER_DATA_DIR", raising=False)
        mp.setattr(first, "WAIT", 0.0)
        torch.manual_seed(0)
        try:
            at = AppTest.from_file(APP, default_timeout=180)
            at.session_state["live"] = False
            runs = {}
            for tab in tab_names():
                if tab != tab_names()[0]:
                    at.session_state["tab"] = tab
                at.run()
                runs[tab] = TabRun(
                    tab,
                    errors(at),
                    tab_elements(at, tab),
                    shows_content_or_reason(at, tab),
                    served(at),
                    served(at, tab),
                )
        finally:
            del KeptMedia.storages[kept:]
    return runs


@pytest.fixture
def fresh_session_state():
    """An empty ``st.session_state`` around a test that calls the app's
    helpers outside a running page."""
    import streamlit as st

    st.session_state.clear()
    yield
    st.session_state.clear()
