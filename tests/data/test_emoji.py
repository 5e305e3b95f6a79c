"""The emoji colour dataset, built from an npm package tarball served by a
file URL (the real one is 74 MB from registry.npmjs.org)."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import tarfile

import numpy as np
import pytest
from PIL import Image

from explorer.cli import main
from explorer.data.dataset import DatasetError, cache_dir
from explorer.data.emoji import IMAGES, build_emoji
from explorer.data.folder import load_folder


def _png(rgba) -> bytes:
    buf = io.BytesIO()
    Image.new("RGBA", (64, 64), rgba).save(buf, "PNG")
    return buf.getvalue()


def fake_package(path, per_class: int = 3) -> str:
    """A tarball laid out as the npm package; returns its npm integrity."""
    meta, files = [], {}
    for c, category in enumerate(("Smileys & Emotion", "Animals & Nature")):
        for i in range(per_class):
            code = f"1F6{c}{i}"
            entry = {
                "unified": code,
                "image": f"{code.lower()}.png",
                "short_name": f"e{c}{i}",
                "category": category,
                "has_img_google": True,
            }
            files[IMAGES + entry["image"]] = _png((200, 40 * i, 0, 255))
            if i == 0:  # a skin-tone variant, and one Google has no image of
                entry["skin_variations"] = {
                    "1F3FB": {"unified": f"{code}-1F3FB", "image": f"{code}-1f3fb.png",
                              "has_img_google": True},
                    "1F3FC": {"unified": f"{code}-1F3FC", "image": f"{code}-1f3fc.png",
                              "has_img_google": False},
                }  # fmt: skip
                files[IMAGES + f"{code}-1f3fb.png"] = _png((0, 0, 255, 128))
            meta.append(entry)
    meta.append(  # a category too small to be a class
        {"unified": "1F3FB", "image": "1f3fb.png", "short_name": "tone",
         "category": "Component", "has_img_google": True}
    )  # fmt: skip
    files[IMAGES + "1f3fb.png"] = _png((90, 60, 30, 255))
    files["package/emoji.json"] = json.dumps(meta).encode()
    with tarfile.open(path, "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    digest = hashlib.sha512(path.read_bytes()).digest()
    return "sha512-" + base64.b64encode(digest).decode()


def test_builds_a_folder_of_categories_on_white(tmp_path):
    tgz = tmp_path / "pkg.tgz"
    integrity = fake_package(tgz)
    out = build_emoji(tmp_path / "emoji", tgz.as_uri(), integrity, min_class=3)
    ds = load_folder(out, (64, 64), 3)
    assert ds.class_names == ("Animals & Nature", "Smileys & Emotion")
    assert len(ds) == 8  # 3 + 1 skin tone per category; Component left out
    assert "Apache License 2.0" in (out / "LICENSE.md").read_text()
    # Half-transparent blue over white: light blue, not dark.
    tone = np.asarray(Image.open(next(out.rglob("*1f3fb.png"))))
    assert tone.shape == (64, 64, 3) and tuple(tone[0, 0]) == (127, 127, 255)
    # A second call reuses the folder (no download).
    tgz.unlink()
    assert build_emoji(tmp_path / "emoji", tgz.as_uri(), integrity) == out


def test_a_wrong_checksum_writes_nothing(tmp_path):
    tgz = tmp_path / "pkg.tgz"
    fake_package(tgz)
    wrong = "sha512-" + base64.b64encode(b"\0" * 64).decode()
    with pytest.raises(DatasetError, match="checksum mismatch"):
        build_emoji(tmp_path / "emoji", tgz.as_uri(), wrong)
    assert not (tmp_path / "emoji").exists()
    npm = cache_dir() / "npm"
    assert not npm.exists() or not any(npm.iterdir())


def test_a_corrupt_cached_tarball_is_fetched_again(tmp_path):
    tgz = tmp_path / "pkg.tgz"
    integrity = fake_package(tgz)
    cached = cache_dir() / "npm" / "pkg.tgz"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"truncated")
    out = build_emoji(tmp_path / "emoji", tgz.as_uri(), integrity, min_class=3)
    assert cached.read_bytes() == tgz.read_bytes() and (out / "LICENSE.md").is_file()


def test_cli_unreachable_url_is_one_line(tmp_path, capsys):
    code = main(["emoji", "--out", str(tmp_path / "e"), "--url", "file:///nope.tgz"])
    assert code == 2
    assert "could not download emoji-datasource-google" in capsys.readouterr().err
