"""JSON and binary files: atomic writes (a reader never sees a partial file)
and the one JSON reader; and where the package keeps files (the cache and
the weights folders), which light modules need without importing PyTorch."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

WEIGHTS_ENV = "EXPLORER_WEIGHTS_DIR"
REPO_WEIGHTS = Path(__file__).resolve().parents[1] / "weights"


def cache_dir() -> Path:
    """The user cache directory, honouring ``XDG_CACHE_HOME``."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "latent-explorer"


def weights_dir() -> Path:
    """Named checkpoints live here: ``EXPLORER_WEIGHTS_DIR``, else ``weights/``."""
    return Path(os.environ.get(WEIGHTS_ENV) or REPO_WEIGHTS)


def atomic_write(path: str | Path, data: bytes) -> None:
    """Writes ``data`` to a temporary file beside ``path``, then renames it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: str | Path, obj: object) -> None:
    atomic_write(path, (json.dumps(obj, indent=2) + "\n").encode())


def load_json(path: str | Path) -> dict:
    """A JSON object from ``path``.

    Raises:
        OSError: the file cannot be read.
        ValueError: it is not valid UTF-8 JSON, or not an object.
    """
    d = json.loads(Path(path).read_text())
    if not isinstance(d, dict):
        raise ValueError("not a JSON object")
    return d


def read_json(path: str | Path) -> dict | None:
    """A JSON object from ``path``, or None when the file is missing or not valid."""
    try:
        return load_json(path)
    except (OSError, ValueError):
        return None
