"""The errors made below the app reach the page in the reader's language
(``explorer.app.errors``): every code of every family has the page's words,
with no field the error lacks, and every raise names a code; one real error
of each family reads as Chinese in a Chinese session."""

from __future__ import annotations

import ast
import re
import string

import numpy as np
import pytest

from explorer.app import errors, i18n
from explorer.data.builtin import load_builtin
from explorer.data.dataset import ImageDataset
from explorer.data.store import check_name
from explorer.data.upload import UploadError, open_image, preprocess
from explorer.latent import align, directions, maps, selection
from explorer.latent.space import encode_space
from explorer.model.adapters.module import as_encoding
from explorer.model.autoencoder import build_model
from explorer.model.checkpoint import CheckpointError, read_config
from explorer.model.config import ModelConfig
from explorer.problem import Problem
from explorer.training import job
from tests.helpers import REPO

FAMILIES = sorted({cls for cls, _code in errors.TEXTS}, key=lambda c: c.__name__)
HAN = re.compile(r"[\u4e00-\u9fff]")


def fields(template: str) -> set[str]:
    return {f for _t, f, _s, _c in string.Formatter().parse(template) if f}


@pytest.mark.parametrize("family", FAMILIES, ids=lambda c: c.__name__)
def test_every_code_of_a_family_has_the_pages_words(family):
    page = {code for cls, code in errors.TEXTS if cls is family}
    assert page == set(family.MESSAGES)
    for code, english in family.MESSAGES.items():
        assert fields(errors.TEXTS[family, code]) <= fields(english), code


def test_every_raise_of_a_family_names_one_of_its_codes():
    names = {c.__name__: c for c in FAMILIES}
    bad = []
    for path in sorted((REPO / "explorer").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            call = node.exc if isinstance(node, ast.Raise) else None
            if not (isinstance(call, ast.Call) and call.args):
                continue
            f = call.func
            name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", None)
            if name not in names:
                continue
            code = call.args[0]
            ok = isinstance(code, ast.Constant) and code.value in names[name].MESSAGES
            if not ok:
                bad.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert not bad, f"a raise with free text, not a code: {bad}"


@pytest.fixture
def zh(monkeypatch):
    monkeypatch.setattr(i18n, "lang", lambda: "zh")


def made(call) -> Problem:
    with pytest.raises(Problem) as e:
        call()
    return e.value


def _unlabelled():
    images = np.zeros((2, 1, 28, 28), np.uint8)
    return ImageDataset(images, None, (), "unlabelled", "all")


def _scattered():
    idx = np.random.default_rng(0).choice(100_000, 20_000, replace=False)
    selection.encode(np.sort(idx), 100_000)


CASES = {
    "SelectionError": lambda: selection.decode("5-2", 10),
    "ProjectionError": lambda: maps.make_projection("umap", np.zeros((5, 3))),
    "DirectionError": lambda: directions.local_directions(
        np.zeros((9, 2)), np.zeros(2), 5
    ),
    "AlignmentError": lambda: align.align(np.zeros((4, 2)), np.ones((4, 2))),
    "UploadError": lambda: preprocess(b"not an image", (1, 28, 28)),
    "SpaceError": lambda: encode_space(
        "cvae",
        build_model(ModelConfig(model_type="cvae", num_classes=3)),
        _unlabelled(),
    ),
    "ModelContractError": lambda: as_encoding("not a tensor", "mine.encode"),
    "CheckpointError": lambda: read_config("/no/such/checkpoint"),
    "StoreError": lambda: check_name("a name with spaces"),
    "DatasetError": lambda: load_builtin("fashion-mnist", "no-such-split"),
    "JobError": lambda: job.validate(
        job.Request("vae", 1.0, 1, 1, 100, "mine", "mnist", "test")
    ),
}


@pytest.mark.parametrize("family", FAMILIES, ids=lambda c: c.__name__)
def test_an_error_of_each_family_reads_in_chinese(zh, family):
    e = made(CASES[family.__name__])
    assert type(e) is family and e.code is not None
    text = errors.describe(e)
    assert HAN.search(text), text
    # its English stays for the logs and the command line
    assert str(e) == family.MESSAGES[e.code].format(**e.fields)
    assert not HAN.search(str(e))


def test_numbers_are_written_as_the_language_writes_them(zh):
    e = made(_scattered)
    assert "20,000" in errors.describe(e) and HAN.search(errors.describe(e))


def test_an_error_without_words_keeps_its_english_under_a_translated_lead(zh):
    text = errors.describe(RuntimeError("disk full"))
    assert "disk full" in text and "RuntimeError" in text and HAN.search(text)
    assert errors.describe(made(lambda: open_image(b""))) != "the file is empty"


def test_free_text_in_a_family_is_kept_as_free_text():
    e = UploadError("something new went wrong")
    assert e.code is None and str(e) == "something new went wrong"


def test_a_broken_checkpoint_in_the_list_keeps_its_code_through_the_cache(zh, tmp_path):
    """The checkpoint list is cached as pickles: its errors come back with
    their codes, and read in Chinese."""
    import pickle

    from explorer.app import catalogue

    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "config.json").write_text("{not json")
    [entry] = [e for e in catalogue.scan(tmp_path) if e.name == "broken"]
    e = pickle.loads(pickle.dumps(entry.error))
    assert (type(e), e.code) == (CheckpointError, "bad_config")
    assert str(e) == str(entry.error)
    assert HAN.search(errors.describe(e)) and "config.json" in errors.describe(e)
