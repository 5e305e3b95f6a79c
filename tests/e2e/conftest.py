"""Fixtures the browser test modules share: one server for the session, the
screenshot folder, and the spaces the server computes for the default pair."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness.driver import streamlit_server


@pytest.fixture(scope="session")
def server_home(tmp_path_factory):
    """The plain app's cache folder, and its trained-models folder inside."""
    return tmp_path_factory.mktemp("xdg")


@pytest.fixture(scope="session")
def server(server_home):
    """One ``streamlit run`` for every browser test that needs the plain app:
    its caches, once warm, serve them all (each test opens its own page, a
    session of its own). Its in-page trainings go to ``server_home/trained``."""
    env = {
        "XDG_CACHE_HOME": str(server_home),
        "EXPLORER_TRAINED_DIR": str(server_home / "trained"),
    }
    with streamlit_server(env) as url:
        yield url


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    folder = Path(
        os.environ.get("EXPLORER_SCREENSHOTS") or tmp_path_factory.mktemp("screens")
    )
    folder.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots: {folder}")
    return folder


@pytest.fixture(scope="module")
def spaces():
    """What the server computes for the default pair: the fashion-mnist test
    split through the AE and the VAE (2-D: map coordinates are the means)."""
    from explorer import load_dataset, load_model
    from explorer.latent.space import encode_space

    ds = load_dataset("fashion-mnist", "test")
    return {
        kind: encode_space(n, load_model(n), ds)
        for kind, n in (("ae", "fashion-mnist-ae-z2"), ("vae", "fashion-mnist-vae-z2"))
    }
