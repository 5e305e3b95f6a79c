"""JSON and binary files: atomic writes (a reader never sees a partial file)
and the one JSON reader; a lock for a cache entry that is costly to make;
and where the package keeps files (the cache and the weights folders), which
light modules need without importing PyTorch.

Several processes share the caches (``latent-explorer serve`` runs the page
on several): a file is only ever written whole, under a temporary name
beside it, then renamed over the old one, so a reader sees the old file or
the new one; two writers of the same entry write the same bytes, and the
second rename is harmless. Where the work is costly (a fit, an encoding),
``exclusive`` lets one process make the entry while the others wait, then
read it."""

from __future__ import annotations

import json
import os
import tempfile
from contextlib import contextmanager
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


def _umask() -> int:
    """The process's umask (read without changing it where Linux tells it)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# Read once: a file's mode is what ``open`` would have given it, not mkstemp's
# 0600 (another user's server, or a group, reads the shared cache).
FILE_MODE = 0o666 & ~_umask()


def atomic_write(path: str | Path, data: bytes) -> None:
    """Writes ``data`` to a temporary file beside ``path``, then renames it
    (its mode: 0666 less the umask, as ``open`` makes a file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def exclusive(path: str | Path, timeout: float = -1):
    """Holds a lock on the cache entry ``path`` (a file ``.<name>.lock``
    beside it) across processes: around work that makes the entry, check
    again inside whether another process made it while this one waited.
    ``timeout`` seconds (-1: wait as long as it takes); a cache folder that
    cannot be written holds no lock (the work is then done unshared)."""
    from filelock import FileLock

    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(path.parent / f".{path.name}.lock", timeout=timeout)
        lock.acquire()
    except OSError:
        yield
        return
    try:
        yield
    finally:
        lock.release()


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
