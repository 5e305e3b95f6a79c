"""``python -m benchmarks``: every speed figure, as one table and as JSON.

Run from the repository (the benchmark drives the app's ``app.py`` with the
browser driver in ``harness``); it is not part of the installed package.
"""

from __future__ import annotations

import argparse
import sys

from benchmarks.rows import render, table
from benchmarks.suites import Options, run
from explorer.data.dataset import DatasetError


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="measure every speed figure; print a table",
    )
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="fewer repeats (default)")
    mode.add_argument("--full", action="store_true", help="more repeats")
    p.add_argument(
        "--no-browser", action="store_true", help="skip the Chromium figures"
    )
    p.add_argument(
        "--data-dir", default=None, help="folder with fashion-mnist/ IDX files"
    )
    p.add_argument("--out", default="bench.json", help="where to write the JSON")
    p.add_argument(
        "--render",
        default=None,
        metavar="JSON",
        help="print the table of a saved run (its --out file) and exit",
    )
    p.add_argument(
        "--users",
        type=int,
        default=0,
        help="also run a load test: this many browser sessions at once "
        "(each its own Chromium), next to one user alone: against one server "
        "(the load and followup suites) and against two workers behind "
        "HAProxy (load)",
    )
    p.add_argument(
        "--seconds", type=float, default=60.0, help="how long each load-test user acts"
    )
    p.add_argument(
        "--million",
        action="store_true",
        help="also measure a store of 1,000,000 images: packing, streamed "
        "encoding and its memory, the map's bytes, drawing it in Chromium",
    )
    p.add_argument(
        "--maps",
        action="store_true",
        help="also fit UMAP and t-SNE maps of a 16-D VAE's codes (10,000 points; "
        "UMAP of 70,000 too with --full): fit times, the inverse per click, "
        "round-trip errors; in Chromium, a lasso on 70,000 points and pan "
        "frames per second with the dots drawn as images",
    )
    p.add_argument(
        "--only-maps",
        action="store_true",
        help="measure the --maps figures alone (no other row)",
    )
    p.add_argument(
        "--suite",
        action="append",
        metavar="NAME",
        help="measure only this suite (repeatable; the names are the table's: "
        "model, conv, page, training, browser, conv_browser, lesson, trainer, "
        "replay, load, million, maps, maps_browser)",
    )
    return p


def options(a: argparse.Namespace) -> Options:
    """The suites' options from the parsed flags."""
    return Options(
        quick=not a.full,
        browser=not a.no_browser,
        data_dir=a.data_dir,
        users=a.users,
        seconds=a.seconds,
        million=a.million,
        maps=a.maps,
        only_maps=a.only_maps,
        suites=tuple(a.suite or ()),
    )


def main(argv: list[str] | None = None) -> int:
    a = parser().parse_args(argv)

    if a.render:
        print(render(a.render))
        return 0

    try:
        rows = run(options(a), a.out)
    except DatasetError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(table(rows))
    print(f"\nwrote {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
