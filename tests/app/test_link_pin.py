"""A link pins the weights it was made on (``hl``/``hr``: a hash of each
model's weights), and a page opened from it says when they have changed
since (a model retrained or replaced under the same name)."""

from __future__ import annotations

import hashlib
import os

from streamlit.testing.v1 import AppTest

from explorer.app import catalogue
from tests.helpers import APP

DS = "fashion-mnist"


def test_a_pin_is_the_start_of_the_weights_hash_and_follows_a_new_file(tmp_path):
    assert catalogue.weights_pin(tmp_path) is None  # no weights: nothing to pin
    f = tmp_path / "model.safetensors"
    f.write_bytes(b"one")
    assert catalogue.weights_pin(tmp_path) == hashlib.sha256(b"one").hexdigest()[:12]
    f.write_bytes(b"two!")
    os.utime(f, ns=(1, 1))  # (a new size and time: not the cached hash)
    assert catalogue.weights_pin(tmp_path) == hashlib.sha256(b"two!").hexdigest()[:12]


def _pin(name: str) -> str:
    return catalogue.weights_pin(catalogue.weights_dir() / name)


def _open(**query) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    for k, v in query.items():
        at.query_params[k] = v
    return at.run()


def _changed(at: AppTest) -> list[str]:
    return [w.value for w in at.warning if "other weights" in w.value]


def test_the_link_pins_both_models_and_a_changed_one_is_named():
    at = _open()
    assert not at.exception
    left, right = f"{DS}-ae-z2", f"{DS}-vae-z2"
    assert at.query_params["hl"] == _pin(left) and at.query_params["hr"] == _pin(right)
    assert _changed(at) == []
    # the same models: no notice
    same = _open(ds=DS, l=left, r=right, hl=_pin(left), hr=_pin(right))
    assert _changed(same) == []
    # the left model's weights are not those the link was made on
    other = _open(ds=DS, l=left, r=right, hl="0" * 12, hr=_pin(right))
    (notice,) = _changed(other)
    assert f"**{left}**" in notice and right not in notice
    assert other.query_params["hl"] == _pin(left)  # the link now pins today's
    other.run()
    assert _changed(other) == []  # said once
