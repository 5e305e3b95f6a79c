"""The Streamlit page, run headless with AppTest."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parent.parent / "app.py")


def test_page_lists_the_bundled_checkpoints():
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    names = list(at.dataframe[0].value["checkpoint"])
    assert "fashion-mnist-vae-z2" in names and "mnist-ae-z2" in names


def test_page_without_checkpoints_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("EXPLORER_WEIGHTS_DIR", str(tmp_path))
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert "No checkpoints found" in at.warning[0].value
