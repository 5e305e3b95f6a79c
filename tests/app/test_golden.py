"""The default page draws the images it drew when the golden files were
recorded (before the layout move): every served image, on the page as it
opens and in each tab (the shared ``tab_walk``), pixel for pixel within one
grey level.

Decoded pixels are compared, never PNG bytes: a Pillow or zlib upgrade
re-encodes the same pixels into other bytes, and float results can differ by
a rounding step between CPU kernels (AVX2 vs AVX-512). Re-record only on
purpose, after a change that is meant to alter what the page draws:
``EXPLORER_WRITE_GOLDEN=1 python -m pytest tests/app/test_golden.py``, which
records and skips (a recording is never compared with itself); run it again
without the variable to compare.
"""

from __future__ import annotations

import io
import json
import os
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from explorer.app.tabs import names as tab_names

GOLDEN = Path(__file__).parent / "golden" / "default_page"
WRITE = "EXPLORER_WRITE_GOLDEN"
TOLERANCE = 1  # grey levels

Pages = dict[str, list[tuple[str, bytes]]]  # page -> (caption, PNG) in page order


def _slug(i: int, caption: str) -> str:
    return f"{i:02d}-{re.sub(r'[^a-z0-9]+', '-', caption.lower()).strip('-')}.png"


def record(pages: Pages, folder: Path) -> None:
    """Writes ``pages``' images to ``folder`` and their captions and files to
    its ``manifest.json`` (with the CPU and torch they were drawn on)."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    manifest = {
        "cpu": torch.backends.cpu.get_cpu_capability(),
        "torch": torch.__version__,
        "pages": {},
    }
    n = 0
    for page, shown in pages.items():
        entries = manifest["pages"][page] = []
        for caption, data in shown:
            name = _slug(n, f"{page} {caption}")
            n += 1
            (folder / name).write_bytes(data)
            entries.append({"caption": caption, "file": name})
    text = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
    (folder / "manifest.json").write_text(text)


def pixels(data: bytes) -> tuple[str, np.ndarray]:
    """A PNG's mode and decoded pixels, ``[H, W]`` or ``[H, W, C]``."""
    with Image.open(io.BytesIO(data)) as im:
        return im.mode, np.asarray(im, dtype=np.int16)


def assert_matches(pages: Pages, folder: Path) -> None:
    """``pages`` hold the recording in ``folder``: the same pages, captions in
    the same order, and each image the same mode and size, its pixels at most
    ``TOLERANCE`` grey levels from the recorded ones."""
    manifest = json.loads((folder / "manifest.json").read_text())
    assert list(pages) == list(manifest["pages"])
    for page, shown in pages.items():
        want_all = manifest["pages"][page]
        assert [c for c, _ in shown] == [e["caption"] for e in want_all], page
        for (caption, data), entry in zip(shown, want_all, strict=True):
            where = f"{page}: {caption!r} ({entry['file']})"
            want_mode, want = pixels((folder / entry["file"]).read_bytes())
            got_mode, got = pixels(data)
            assert (got_mode, got.shape) == (want_mode, want.shape), where
            off = np.abs(got - want)
            assert off.max() <= TOLERANCE, (
                f"{where}: {int((off > TOLERANCE).sum())} pixels off by up to "
                f"{off.max()} grey levels"
            )


def record_or_compare(pages: Pages, folder: Path) -> None:
    """With ``EXPLORER_WRITE_GOLDEN=1``, records ``pages`` in ``folder`` and
    skips; else ``assert_matches``."""
    if os.environ.get(WRITE) == "1":
        record(pages, folder)
        n = sum(len(shown) for shown in pages.values())
        pytest.skip(f"recorded {n} images in {folder}; unset {WRITE} to compare")
    assert_matches(pages, folder)


def test_default_page_draws_the_recorded_images(tab_walk):
    for tab, run in tab_walk.items():
        assert not run.errors, tab
    pages = {"default page": tab_walk[tab_names()[0]].images}
    pages |= {tab: tab_walk[tab].tab_images for tab in tab_names()[1:]}
    assert sum(len(shown) for shown in pages.values()) >= 20
    record_or_compare(pages, GOLDEN)


# The comparison itself, on the recorded files (no page is run).


def recorded(folder: Path = GOLDEN, **png_options) -> Pages:
    """The recording in ``folder``, each image decoded and encoded again by
    Pillow with ``png_options``."""
    manifest = json.loads((folder / "manifest.json").read_text())
    out = {}
    for page, entries in manifest["pages"].items():
        out[page] = []
        for e in entries:
            with Image.open(folder / e["file"]) as im:
                buf = io.BytesIO()
                im.save(buf, format="PNG", **png_options)
            out[page].append((e["caption"], buf.getvalue()))
    return out


def _changed(pages: Pages, by: int) -> tuple[Pages, str]:
    """``pages`` with one pixel of one image moved ``by`` grey levels."""
    page = next(t for t in tab_names() if pages.get(t))  # a tab with images
    caption, data = pages[page][0]
    with Image.open(io.BytesIO(data)) as im:
        x = np.asarray(im).copy()
    y, col = x.shape[0] // 2, x.shape[1] // 2
    x[y, col] = x[y, col] + by if x[y, col] < 128 else x[y, col] - by
    buf = io.BytesIO()
    Image.fromarray(x).save(buf, format="PNG")
    changed = dict(pages)
    changed[page] = [(caption, buf.getvalue()), *pages[page][1:]]
    return changed, page


@pytest.mark.parametrize(
    "png_options",
    [{"compress_level": 0}, {"compress_level": 1}],
    ids=["stored", "fastest"],  # (the page's: Pillow's default, level 6)
)
def test_the_recording_encoded_again_other_bytes_same_pixels_matches(png_options):
    pages = recorded(**png_options)
    files = [
        (GOLDEN / e["file"]).read_bytes()
        for entries in json.loads((GOLDEN / "manifest.json").read_text())[
            "pages"
        ].values()
        for e in entries
    ]
    again = [data for shown in pages.values() for _, data in shown]
    # Other zlib settings: other bytes for every image...
    assert all(a != b for a, b in zip(again, files, strict=True))
    # ... the same pictures.
    assert_matches(pages, GOLDEN)


def test_a_pixel_one_grey_level_off_matches_and_two_do_not():
    pages = recorded()
    one, _ = _changed(pages, 1)
    assert_matches(one, GOLDEN)
    two, page = _changed(pages, 2)
    with pytest.raises(AssertionError, match=rf"{re.escape(page)}: .* 1 pixels off"):
        assert_matches(two, GOLDEN)


def test_writing_records_and_skips_without_comparing(tmp_path, monkeypatch):
    old, _ = _changed(recorded(), 2)
    record(old, tmp_path)  # an older recording the new one differs from
    new = recorded()
    n = sum(len(shown) for shown in new.values())
    monkeypatch.setenv(WRITE, "1")
    with pytest.raises(pytest.skip.Exception, match=f"recorded {n} images"):
        record_or_compare(new, tmp_path)
    assert len(list(tmp_path.glob("*.png"))) == n
    # what it wrote is the new recording: compared (without the variable), it
    # matches the new pages and not the old ones
    monkeypatch.delenv(WRITE)
    record_or_compare(new, tmp_path)
    with pytest.raises(AssertionError, match="off by up to 2"):
        record_or_compare(old, tmp_path)
