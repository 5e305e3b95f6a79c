"""Skips: the only ones CI allows, and how a skip's reason is told.

With ``EXPLORER_NO_SKIPS=1`` (``.ci/run`` sets it) a skipped test fails,
whatever skipped it (``pytest.importorskip``, ``pytest.skip``, a skip marker,
a module skipped at import), unless it is in ``ALLOWED`` below with why CI
may lack what it needs. Without the variable a skip stays a skip, and every
run ends with the skips counted by reason. The hooks that do this are in
``tests/conftest.py``; this module holds what they decide with.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

NO_SKIPS_ENV = "EXPLORER_NO_SKIPS"
INSTALL = "pip install -e '.[test]'"


@dataclass(frozen=True)
class AllowedSkip:
    """A skip CI accepts.

    Args:
        test: a node id: one test, every parameter of one (the id without
            ``[...]``), or a whole module (its path).
        reason: text the skip's reason contains (what was missing), so the
            same test skipping for another reason still fails.
        why: why a CI machine may lack it.
    """

    test: str
    reason: str
    why: str

    def covers(self, nodeid: str, reason: str) -> bool:
        inside = nodeid == self.test or nodeid.startswith(
            (self.test + "[", self.test + "::")
        )
        return inside and self.reason in reason


# None today: no test needs a GPU or anything else a CI machine cannot have
# (the CUDA paths in explorer/training are not tested on a GPU). An entry
# reads, say:
#   AllowedSkip("tests/training/test_gpu.py::test_nccl", "no CUDA device",
#               "CI machines have no GPU"),
ALLOWED: tuple[AllowedSkip, ...] = ()

_MISSING = re.compile(r"could not import '[^']+': No module named '([^'.]+)[^']*'")


def no_skips() -> bool:
    """Whether a skip fails this run (``EXPLORER_NO_SKIPS`` set, not ``0``)."""
    return os.environ.get(NO_SKIPS_ENV, "") not in ("", "0")


def reason_of(longrepr) -> str:
    """A skip report's reason in words: what was missing, with how to get it
    when it is a package."""
    message = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    message = message.removeprefix("Skipped: ")
    missing = _MISSING.fullmatch(message)
    return f"{missing[1]} not installed ({INSTALL})" if missing else message


def where(longrepr, root: Path) -> str:
    """The skip's ``path:line`` (from ``root`` when under it), or "" when the
    report does not say."""
    if not isinstance(longrepr, tuple):
        return ""
    path = Path(longrepr[0])
    if path.is_relative_to(root):
        path = path.relative_to(root)
    return f"{path}:{longrepr[1]}"


def allowed(nodeid: str, reason: str) -> AllowedSkip | None:
    """The entry of ``ALLOWED`` that lets this skip pass in CI, if any."""
    return next((a for a in ALLOWED if a.covers(nodeid, reason)), None)


def failure(reason: str, place: str) -> str:
    """What a skip that CI does not allow fails with: one line, the reason
    first (the short summary shows as much of it as fits)."""
    at = f" at {place}" if place else ""
    return (
        f"{reason}: skipped{at}; {NO_SKIPS_ENV}=1 fails a skip that "
        "tests/skips.py does not allow"
    )
