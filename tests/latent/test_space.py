"""A space's codes cache: a model encodes a dataset once, not at every start."""

from __future__ import annotations

import numpy as np

from explorer.latent import space as space_module
from explorer.latent.space import encode_space
from tests.helpers import tiny_dataset, tiny_vae


def test_codes_are_written_once_then_read_without_the_encoder(tmp_path, monkeypatch):
    ds, model, cache = tiny_dataset(), tiny_vae(), tmp_path / "codes"
    first = encode_space("tiny", model, ds, cache)
    assert (cache / "done").is_file()
    calls = []
    real = space_module.encode_all
    monkeypatch.setattr(
        space_module, "encode_all", lambda *a, **k: calls.append(1) or real(*a, **k)
    )
    again = encode_space("tiny", model, ds, cache)
    assert calls == []  # read, not encoded
    np.testing.assert_array_equal(again.z, first.z)
    np.testing.assert_array_equal(again.logvar, first.logvar)
    np.testing.assert_array_equal(again.coords, first.coords)


def test_a_damaged_or_unfinished_cache_is_encoded_again(tmp_path, monkeypatch):
    ds, model, cache = tiny_dataset(), tiny_vae(), tmp_path / "codes"
    want = encode_space("tiny", model, ds, cache).z
    (cache / "mean.npy").write_bytes(b"not an array")
    np.testing.assert_allclose(encode_space("tiny", model, ds, cache).z, want)
    (cache / "done").unlink()  # a run stopped before it finished writing
    calls = []
    real = space_module.encode_all
    monkeypatch.setattr(
        space_module, "encode_all", lambda *a, **k: calls.append(1) or real(*a, **k)
    )
    encode_space("tiny", model, ds, cache)
    assert calls == [1]
    # codes of another dataset size are never taken for this one
    smaller = tiny_dataset(n=10)
    assert len(encode_space("tiny", model, smaller, cache).z) == 10
