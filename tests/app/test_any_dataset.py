"""The page on the shapes of data real users bring: every tab, no exception.

Each case is a folder of images made here (a handful of images, no labels, one
class, a hundred classes, identical images, colour, latents of size 1 and 64,
sizes around every threshold the page uses, a store whose checkpoint is gone
or broken). Tiny models are trained on it for one epoch, its images are
encoded into a store, and the page runs on that store with ``AppTest``, once
per tab: no exception element, and each tab shows its content or its one-line
reason.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from explorer import cli
from explorer.app.components import density
from explorer.app.tabs import names as tab_names
from tests.helpers import (
    APP,
    image_folder,
    plain,
    shows_content_or_reason,
    tab_elements,
    train_on_folder,
)

SIDE = 8  # image_folder's side


@dataclass(frozen=True)
class Case:
    name: str
    n: int
    classes: int = 3  # 0: a flat, unlabelled folder
    channels: int = 1
    identical: bool = False
    latent: int = 2
    models: tuple[str, ...] = ("ae", "vae", "cvae")
    large_map: int | None = None  # lowers the large-map threshold to this
    damage: str | None = None  # "missing" or "broken": one checkpoint after encoding
    env: dict = field(default_factory=dict)


CASES = [
    Case("one-image", 1, classes=0, models=("ae", "vae")),
    Case("two-images", 2, classes=0, models=("ae", "vae")),
    Case("five-images", 5, classes=2),
    Case("unlabelled", 40, classes=0, models=("ae", "vae")),
    Case("one-class", 30, classes=1, models=("ae", "vae")),
    Case("hundred-classes", 200, classes=100),
    Case("identical", 20, identical=True),
    Case("colour", 40, channels=3),
    Case("latent-1", 40, latent=1),
    Case("latent-64", 40, latent=64),
    Case("latent-64-three-images", 3, latent=64, classes=0, models=("ae", "vae")),
    Case("below-points-step", 499, models=("ae", "vae")),
    Case("at-points-step", 500, models=("ae", "vae")),
    Case("above-points-step", 501, models=("ae", "vae")),
    Case("neighbours-8", 8, models=("ae", "vae")),
    Case("unusual-12", 12, models=("ae", "vae")),
    Case("large-map-at", 60, large_map=60, models=("ae", "vae")),
    Case("large-map-above", 61, large_map=60, models=("ae", "vae")),
    Case("checkpoint-missing", 30, damage="missing"),
    Case("checkpoint-broken", 30, damage="broken"),
]


def build(case: Case, tmp: Path) -> tuple[Path, Path]:
    """Trains the case's models and encodes its store: (weights, spaces)."""
    data = image_folder(
        tmp / "data" / case.name, case.n, case.classes, case.channels, case.identical
    )
    weights, spaces = tmp / "weights", tmp / "spaces"
    folders = train_on_folder(
        data,
        weights,
        case.name,
        case.models,
        case.latent,
        channels=case.channels,
        store=spaces / case.name,
    )
    if case.damage == "missing":
        for f in (folders[0]).iterdir():
            f.unlink()
        folders[0].rmdir()
    elif case.damage == "broken":
        (folders[1] / "model.safetensors").write_bytes(b"not a safetensors file")
    return weights, spaces


def exceptions(at: AppTest) -> list[str]:
    return [str(e.value) for e in at.exception]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_every_tab_opens_on_any_dataset(case, tmp_path, monkeypatch):
    weights, spaces = build(case, tmp_path)
    monkeypatch.setenv("EXPLORER_WEIGHTS_DIR", str(weights))
    monkeypatch.setenv("EXPLORER_SPACES_DIR", str(spaces))
    if case.large_map:
        monkeypatch.setattr(density, "LARGE_MAP", case.large_map)
        monkeypatch.setattr(density, "DRAW_LIMIT", 20)
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["live"] = False
    for tab in tab_names():
        at.session_state["tab"] = tab
        at.run()
        assert not exceptions(at), (tab, exceptions(at))
        assert at.session_state["tab"] == tab
        assert shows_content_or_reason(at, tab), (tab, tab_elements(at, tab))


def sidebar_codes(at: AppTest) -> list[str]:
    return [c.value for c in at.sidebar.code]


def test_a_folder_without_a_store_is_listed_with_its_encode_command(
    tmp_path, monkeypatch
):
    """A folder-trained checkpoint whose images have no store is never the
    default dataset; the sidebar gives the exact command, which works."""
    stored = Case("zzz-stored", 30, models=("ae", "vae"))
    weights, spaces = build(stored, tmp_path)
    data = image_folder(tmp_path / "data" / "aaa pets", 30)
    train_on_folder(data, weights, "aaa pets")
    for kind in ("ae", "vae"):  # checkpoint folders are named without spaces
        (weights / f"aaa pets-{kind}-z2").rename(weights / f"aaa-pets-{kind}-z2")
    monkeypatch.setenv("EXPLORER_WEIGHTS_DIR", str(weights))
    monkeypatch.setenv("EXPLORER_SPACES_DIR", str(spaces))
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not exceptions(at) and not at.error
    assert at.selectbox(key="dataset").options == ["zzz-stored"]
    assert at.selectbox(key="dataset").value == "zzz-stored"
    [warning] = at.sidebar.warning
    assert plain(warning.value).startswith(
        "**aaa pets** (aaa-pets-ae-z2, aaa-pets-vae-z2)"
    )
    [command] = sidebar_codes(at)
    words = shlex.split(command)
    assert words[:4] == ["python", "-m", "explorer", "encode"]
    assert words[4:] == [
        str(weights / "aaa-pets-ae-z2"),
        str(weights / "aaa-pets-vae-z2"),
        "--dataset",
        f"folder:{data}",
        "--name",
        "aaa-pets",
    ]
    assert cli.main(words[3:] + ["--no-progress", "--workers", "0"]) == 0
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert at.selectbox(key="dataset").options == ["aaa-pets", "zzz-stored"]
    assert not at.sidebar.warning and not sidebar_codes(at)
    at.selectbox(key="dataset").set_value("aaa-pets").run()
    assert not exceptions(at) and not at.error
    assert at.session_state["ckpt_left_aaa-pets"] == "aaa-pets-ae-z2"


def test_only_unencoded_folders_still_open_a_page_that_says_what_to_do(
    tmp_path, monkeypatch
):
    case = Case("pets", 20, models=("vae",))
    weights, spaces = build(case, tmp_path)
    for f in (spaces / "pets").rglob("*"):
        if f.is_file():
            f.unlink()
    monkeypatch.setenv("EXPLORER_WEIGHTS_DIR", str(weights))
    monkeypatch.setenv("EXPLORER_SPACES_DIR", str(spaces))
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not exceptions(at)
    assert [e.value for e in at.sidebar.error] == [
        "No checkpoint here can be opened with its data."
    ]
    [command] = sidebar_codes(at)
    assert command.endswith("--name pets")
