"""A colour dataset that works offline: Google's Noto emoji at 64x64 RGB,
from the npm package ``emoji-datasource-google`` (npm's registry is reachable
where other dataset hosts are not).

``build_emoji()`` downloads the package's tarball (about 74 MB) once into the
cache, verifies its npm ``sha512`` integrity, and writes an image folder with
one sub-folder per emoji category (``Smileys & Emotion``, ``Animals & Nature``,
...): each emoji with a Google image, skin-tone variants included, composited
on white, as RGB PNGs. Open it as ``folder:<that folder>``.

Licences (recorded in the folder's ``LICENSE.md``): the images are Google's
Noto Emoji art, Apache License 2.0; the package and its ``emoji.json`` are
MIT (Cal Henderson, github.com/iamcal/emoji-data).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import shutil
import tarfile
import urllib.error
import urllib.request
from pathlib import Path

from explorer.data.dataset import DatasetError, cache_dir
from explorer.fileio import atomic_write

PACKAGE = "emoji-datasource-google"
VERSION = "16.0.0"
URL = f"https://registry.npmjs.org/{PACKAGE}/-/{PACKAGE}-{VERSION}.tgz"
# dist.integrity of the version in the npm registry's metadata
INTEGRITY = (
    "sha512-ZRexfzs7MVoLnmzZmNsO4TKhnAJp5D++Vm6PpUpH/jEQQlemp3l88CjZ+DoZ2faM9R4Q"
    "xZkOPJCoT8DlPhfQ3A=="
)
IMAGES = "package/img/google/64/"
MIN_CLASS = 20  # categories with fewer images (npm's "Component": 5) are left out
LICENCE = """# Emoji images

From the npm package `{package}` {version} ({url}).

- The images are Google's Noto Emoji art (github.com/googlefonts/noto-emoji),
  licensed under the Apache License 2.0.
- The package and its emoji.json (the categories used as classes) are MIT
  licensed, Copyright (c) 2013 Cal Henderson (github.com/iamcal/emoji-data).

Each image is composited on white and saved as RGB; one folder per category.
"""


def check_integrity(data: bytes, integrity: str, source: str) -> None:
    """Checks npm's ``sha512-<base64>`` integrity string."""
    algo, _, want = integrity.partition("-")
    if algo != "sha512":
        raise DatasetError("integrity", path=source, algo=algo)
    got = base64.b64encode(hashlib.sha512(data).digest()).decode()
    if got != want:
        raise DatasetError("sha512", path=source, got=got[:16], want=want[:16])


def fetch_tarball(
    url: str = URL, integrity: str = INTEGRITY, timeout: float = 120.0
) -> Path:
    """The package tarball in the cache: downloaded and verified once (a
    cached copy is verified again before use, and replaced if it is wrong)."""
    dest = cache_dir() / "npm" / url.rsplit("/", 1)[-1]
    if dest.is_file():
        try:
            check_integrity(dest.read_bytes(), integrity, str(dest))
            return dest
        except DatasetError:
            dest.unlink()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            data = response.read()
    except (urllib.error.URLError, OSError, ValueError) as e:
        raise DatasetError("download", name=PACKAGE, url=url, reason=e) from e
    check_integrity(data, integrity, f"{PACKAGE} downloaded from {url}")
    atomic_write(dest, data)
    return dest


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name)[:80]


def build_emoji(
    out: str | Path | None = None,
    url: str = URL,
    integrity: str = INTEGRITY,
    min_class: int = MIN_CLASS,
) -> Path:
    """Writes the emoji image folder (default: the cache's ``emoji-google-64``)
    and returns it; a complete folder is reused.

    Raises:
        DatasetError: the download failed or its checksum is wrong (nothing
            is written), or the tarball is not the package's layout.
    """
    from PIL import Image

    out = Path(out) if out else cache_dir() / "emoji-google-64"
    done = out / "LICENSE.md"
    if done.is_file():
        return out
    tgz = fetch_tarball(url, integrity)
    try:
        # Unpacked in memory (~0.2 GB): reading members out of order from the
        # gzip stream would decompress it again for each one.
        raw = io.BytesIO(gzip.decompress(tgz.read_bytes()))
        with tarfile.open(fileobj=raw) as tar:
            names = set(tar.getnames())
            meta = json.load(tar.extractfile("package/emoji.json"))
            entries = []
            for e in meta:
                kinds = [e, *(e.get("skin_variations") or {}).values()]
                for k in kinds:
                    path = IMAGES + str(k.get("image"))
                    if k.get("has_img_google") and path in names:
                        entries.append((e["category"], e["short_name"], k))
            counts: dict[str, int] = {}
            for category, _, _ in entries:
                counts[category] = counts.get(category, 0) + 1
            tmp = out.with_name(f".{out.name}.part")
            shutil.rmtree(tmp, ignore_errors=True)
            for category, short, k in entries:
                if counts[category] < min_class:
                    continue
                member = tar.extractfile(IMAGES + k["image"])
                with Image.open(io.BytesIO(member.read())) as im:
                    rgba = im.convert("RGBA")
                white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
                rgb = Image.alpha_composite(white, rgba).convert("RGB")
                folder = tmp / category
                folder.mkdir(parents=True, exist_ok=True)
                stem = _safe(f"{short}-{k['unified'].lower()}")
                rgb.save(folder / f"{stem}.png", optimize=True)
    except (tarfile.TarError, KeyError, OSError, ValueError, EOFError) as e:
        raise DatasetError("package", path=tgz, package=PACKAGE, reason=e) from e
    (tmp / "LICENSE.md").write_text(
        LICENCE.format(package=PACKAGE, version=VERSION, url=url)
    )
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    return out
