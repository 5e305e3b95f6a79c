"""The skip hooks of ``tests/conftest.py``, on tiny suites run by ``pytester``:
under ``EXPLORER_NO_SKIPS=1`` every skip fails and names what was missing,
unless ``tests/skips.py`` allows it; without it a skip stays a skip, and the
run ends with the skips counted by reason."""

from __future__ import annotations

import pytest

from tests import skips

pytest_plugins = ["pytester"]

HOOKS = """
from tests.conftest import (
    pytest_make_collect_report,
    pytest_runtest_makereport,
    pytest_terminal_summary,
)
"""

# One skip of each kind: a marker, a call, a fixture's importorskip, and a
# module's importorskip at import; one test that passes and one xfail.
SUITE = {
    "test_a": """
import pytest

@pytest.fixture
def missing():
    return pytest.importorskip("no_such_module_xyz")

@pytest.mark.skip(reason="no frobnicator here")
def test_marker():
    pass

def test_call():
    pytest.skip("no widget here")

def test_fixture(missing):
    pass

def test_passes():
    pass

@pytest.mark.xfail(strict=True)
def test_xfail():
    assert False
""",
    "test_b": """
import pytest

pytest.importorskip("no_such_module_xyz")

def test_never_runs():
    pass
""",
}
MISSING = "no_such_module_xyz not installed (pip install -e '.[test]')"


def lines(*texts: str) -> list[str]:
    """Glob patterns of output lines: ``*`` a wildcard, ``[`` itself."""
    return [t.replace("[", "[[]") for t in texts]


@pytest.fixture
def suite(pytester):
    pytester.makeconftest(HOOKS)
    pytester.makepyfile(**SUITE)
    return pytester


def test_under_no_skips_every_skip_fails_and_names_what_was_missing(suite, monkeypatch):
    monkeypatch.setenv(skips.NO_SKIPS_ENV, "1")
    result = suite.runpytest("-p", "no:cacheprovider")
    # marker and fixture skip in setup (errors); the call and the module fail
    result.assert_outcomes(passed=1, failed=2, errors=2, xfailed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    tail = f"{skips.NO_SKIPS_ENV}=1 fails a skip that tests/skips.py does not allow"
    result.stdout.fnmatch_lines_random(
        lines(
            f"no frobnicator here: skipped at test_a.py:*; {tail}",
            f"no widget here: skipped at test_a.py:12; {tail}",
            f"{MISSING}: skipped at test_a.py:*; {tail}",
            f"{MISSING}: skipped at test_b.py:3; {tail}",
            "*test_b.py: skipped at import*",
            f"failed 2 (skips, under {skips.NO_SKIPS_ENV}=1; 1 of them whole "
            f"modules): {MISSING}",
            f"failed 1 (skips, under {skips.NO_SKIPS_ENV}=1): no widget here",
        )
    )


def test_without_it_a_skip_skips_and_the_summary_counts_each_reason(suite, monkeypatch):
    monkeypatch.delenv(skips.NO_SKIPS_ENV, raising=False)
    result = suite.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, skipped=4, xfailed=1)
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(
        lines(
            "*= skips, by reason =*",
            f"skipped 2 (1 of them whole modules): {MISSING}",
            "skipped 1: no frobnicator here",
            "skipped 1: no widget here",
            f"(CI sets {skips.NO_SKIPS_ENV}=1: *)",
        )
    )


def test_an_allowed_skip_passes_under_no_skips_but_not_for_another_reason(
    pytester, monkeypatch
):
    monkeypatch.setenv(skips.NO_SKIPS_ENV, "1")
    gpu = skips.AllowedSkip(
        "test_gpu.py::test_on_gpu", "no CUDA device", "CI machines have no GPU"
    )
    monkeypatch.setattr(skips, "ALLOWED", (gpu,))
    pytester.makeconftest(HOOKS)
    pytester.makepyfile(
        test_gpu="""
import pytest

@pytest.mark.parametrize("n", [1, 2])
def test_on_gpu(n):
    pytest.skip("no CUDA device")

def test_on_gpu_needs_more():
    pytest.skip("no CUDA device")

def test_elsewhere():
    pytest.skip("pythae missing")
"""
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    # both parameters are allowed; a test whose id only starts alike is not
    result.assert_outcomes(skipped=2, failed=2)
    result.stdout.fnmatch_lines_random(
        lines(
            "skipped 2 (allowed in CI: CI machines have no GPU): no CUDA device",
            f"failed 1 (skips, under {skips.NO_SKIPS_ENV}=1): no CUDA device",
            f"failed 1 (skips, under {skips.NO_SKIPS_ENV}=1): pythae missing",
        )
    )
    # the same test skipping for another reason fails
    pytester.makepyfile(
        test_gpu="""
import pytest

def test_on_gpu():
    pytest.skip("pythae missing")
"""
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(failed=1)
