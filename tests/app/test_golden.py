"""The default page draws exactly the images it drew when the golden files
were recorded (before the layout move): every served PNG, byte for byte, on
the page as it opens and in each tab.

Float results can differ by a rounding step between CPU kernels (AVX2 vs
AVX-512), so on a processor other than the recording one the pixels must agree
within one grey level instead. Re-record only on purpose, after a change that
is meant to alter what the page draws:
``EXPLORER_WRITE_GOLDEN=1 python -m pytest tests/app/test_golden.py``.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from streamlit.testing.v1 import AppTest

from explorer.app.state import TABS
from tests.helpers import APP, errors, served

GOLDEN = Path(__file__).parent / "golden" / "default_page"
MANIFEST = GOLDEN / "manifest.json"


def _cpu() -> str:
    return torch.backends.cpu.get_cpu_capability()


def _slug(i: int, caption: str) -> str:
    return f"{i:02d}-{re.sub(r'[^a-z0-9]+', '-', caption.lower()).strip('-')}.png"


def _record(pages: dict[str, list[tuple[str, bytes]]]) -> None:
    GOLDEN.mkdir(parents=True, exist_ok=True)
    for old in GOLDEN.glob("*.png"):
        old.unlink()
    record = {"cpu": _cpu(), "torch": torch.__version__, "pages": {}}
    n = 0
    for page, shown in pages.items():
        entries = record["pages"][page] = []
        for caption, data in shown:
            name = _slug(n, f"{page} {caption}")
            n += 1
            (GOLDEN / name).write_bytes(data)
            digest = hashlib.sha256(data).hexdigest()
            entries.append({"caption": caption, "file": name, "sha256": digest})
    MANIFEST.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n")


def _pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)), dtype=np.int16)


def _shown() -> dict[str, list[tuple[str, bytes]]]:
    """The default page's images, then each other tab's, as served."""
    at = AppTest.from_file(APP, default_timeout=180)
    at.session_state["live"] = False
    at.run()
    assert not errors(at)
    pages = {"default page": served(at)}
    for tab in TABS[1:]:
        at.session_state["tab"] = tab
        at.run()
        assert not errors(at), tab
        pages[tab] = served(at, tab)
    return pages


def test_default_page_draws_the_recorded_images():
    pages = _shown()
    if os.environ.get("EXPLORER_WRITE_GOLDEN") == "1":
        _record(pages)
    record = json.loads(MANIFEST.read_text())
    assert list(pages) == list(record["pages"])
    assert sum(len(shown) for shown in pages.values()) >= 20
    same_kernels = record["cpu"] == _cpu()
    for page, shown in pages.items():
        want_all = record["pages"][page]
        assert [c for c, _ in shown] == [e["caption"] for e in want_all], page
        for (caption, data), entry in zip(shown, want_all, strict=True):
            where = f"{page}: {caption!r} ({entry['file']})"
            if same_kernels:
                assert hashlib.sha256(data).hexdigest() == entry["sha256"], where
            else:
                want = _pixels((GOLDEN / entry["file"]).read_bytes())
                got = _pixels(data)
                assert got.shape == want.shape, where
                assert np.abs(got - want).max() <= 1, where
