"""Shared fixtures: the media an ``AppTest`` page serves, one Chromium per
module, the shared data, and a private cache for every test."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from tests.helpers import REPO, TEST_DATA_ENV, KeptMedia


@pytest.fixture(autouse=True)
def _keep_media(monkeypatch):
    import streamlit.testing.v1.app_test as app_test

    monkeypatch.setattr(app_test, "MemoryMediaFileStorage", KeptMedia.storage)
    yield
    KeptMedia.storages.clear()


@pytest.fixture(scope="module")
def browser():
    """One Chromium for a test module (Playwright, Debian's binary)."""
    playwright_api = pytest.importorskip("playwright.sync_api")
    from tests.e2e.driver import launch

    with playwright_api.sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared data folder (``EXPLORER_TEST_DATA``, else ``../shared/data``)."""
    path = Path(os.environ.get(TEST_DATA_ENV) or REPO.parent / "shared" / "data")
    if not (path / "fashion-mnist").is_dir():
        pytest.skip(f"shared data not found at {path}; set {TEST_DATA_ENV}")
    return path


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """No test reads or writes the user's real cache or data directory."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.delenv("EXPLORER_DATA_DIR", raising=False)
    torch.manual_seed(0)
    # No browser draws an AppTest's first paint: nothing to wait for.
    from explorer.app import first

    monkeypatch.setattr(first, "WAIT", 0.0)
