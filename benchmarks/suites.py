"""The suites ``python -m benchmarks`` runs, in the order of the table, each
chosen by the command's flags: ``SUITES``, and ``run``, which walks it.

A suite is a module with ``measure(...) -> samples`` (raw measurements, no
text) and ``report(samples) -> list[Row]`` (the rows' names, targets,
baselines and notes); its entry here says when it runs and with what.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from types import ModuleType

import numpy as np

from benchmarks import (
    browser,
    conv,
    conv_browser,
    encode,
    followup,
    lesson,
    load,
    maps,
    maps_browser,
    million,
    model,
    page,
    replay,
    trainer,
    training,
)
from benchmarks import bytes as page_bytes
from benchmarks.data import MODEL, map_dataset
from benchmarks.rows import Row, save
from explorer.data.dataset import DatasetError
from explorer.latent.space import encode_all
from explorer.model.checkpoint import load_checkpoint, resolve


@dataclass(frozen=True)
class Options:
    """What the command's flags ask for."""

    quick: bool = True
    browser: bool = True
    data_dir: str | None = None
    users: int = 0
    seconds: float = 60.0
    million: bool = False
    maps: bool = False
    only_maps: bool = False
    suites: tuple[str, ...] = ()  # only these (by name), whatever the flags


class Context:
    """A run's options, and the data several suites measure on, each made
    once, when a suite first asks for it."""

    def __init__(self, options: Options):
        self.options = options
        self.data_dir = options.data_dir or os.environ.get("EXPLORER_DATA_DIR")

    def pick(self, quick, full):
        return quick if self.options.quick else full

    @property
    def repeats(self) -> int:
        return self.pick(3, 10)

    @cached_property
    def dataset(self):
        return map_dataset(self.data_dir)

    @cached_property
    def x(self):
        return self.dataset[0].tensors()[0]

    @cached_property
    def coords(self) -> np.ndarray:
        coords, _ = encode_all(load_checkpoint(MODEL), self.x, None)
        return coords.astype(np.float32)


@dataclass(frozen=True)
class Suite:
    """A suite: its module, when the flags choose it, and the arguments of
    its ``measure`` in a run."""

    name: str
    module: ModuleType
    when: Callable[[Options], bool]
    args: Callable[[Context], dict]

    def rows(self, ctx: Context) -> list[Row]:
        return self.module.report(self.module.measure(**self.args(ctx)))


def _always(o: Options) -> bool:
    return not o.only_maps


def _in_browser(o: Options) -> bool:
    return o.browser and not o.only_maps


def _maps(o: Options) -> bool:
    return o.maps or o.only_maps


SUITES: tuple[Suite, ...] = (
    Suite("model", model, _always,
          lambda c: dict(x=c.x, repeats=c.repeats, source=c.dataset[1])),
    Suite("conv", conv, _always,
          lambda c: dict(repeats=c.repeats, x28=c.x[-10_000:])),
    Suite("page", page, _always,
          lambda c: dict(coords=c.coords, labels=c.dataset[0].labels,
                         repeats=c.repeats)),
    Suite("training", training, _always,
          lambda c: dict(data_dir=c.data_dir, epochs=c.pick(2, 5))),
    Suite("encode", encode, _always, lambda c: dict(repeats=c.pick(3, 5))),
    Suite("browser", browser, _in_browser,
          lambda c: dict(repeats=c.pick(1, 3), interactions=c.pick(20, 40),
                         data_dir=c.data_dir)),
    Suite("followup", followup, _in_browser,
          lambda c: dict(clicks=c.pick(20, 40), users=8, data_dir=c.data_dir)),
    Suite("conv_browser", conv_browser, _in_browser,
          lambda c: dict(interactions=c.pick(20, 40), data_dir=c.data_dir)),
    Suite("lesson", lesson, _in_browser,
          lambda c: dict(repeats=c.pick(2, 3),
                         steps=c.pick((2, 5, 8), tuple(range(1, 11))),
                         data_dir=c.data_dir)),
    Suite("trainer", trainer, _in_browser,
          lambda c: dict(data_dir=c.data_dir, clicks=c.pick(10, 30))),
    Suite("replay", replay, _in_browser, lambda c: dict(repeats=c.pick(2, 4))),
    Suite("bytes", page_bytes, _in_browser, lambda c: dict(data_dir=c.data_dir)),
    Suite("load", load, lambda o: bool(o.users) and not o.only_maps,
          lambda c: dict(users=c.options.users, seconds=c.options.seconds,
                         data_dir=c.data_dir, workers=2)),
    Suite("million", million, lambda o: o.million and not o.only_maps,
          lambda c: dict(data_dir=c.data_dir, browser=c.options.browser)),
    Suite("maps", maps, _maps,
          lambda c: dict(data_dir=c.data_dir,
                         sizes=c.pick((10_000,), (10_000, 70_000)))),
    Suite("maps_browser", maps_browser, lambda o: _maps(o) and o.browser,
          lambda c: dict(data_dir=c.data_dir, repeats=c.pick(2, 4))),
)  # fmt: skip


def chosen(options: Options) -> list[Suite]:
    """The suites ``options`` asks for, in the table's order."""
    if options.suites:
        unknown = set(options.suites) - {s.name for s in SUITES}
        if unknown:
            raise SystemExit(f"unknown suite: {', '.join(sorted(unknown))}")
        return [s for s in SUITES if s.name in options.suites]
    return [s for s in SUITES if s.when(options)]


def run(options: Options, out: str | Path) -> list[Row]:
    """Measures every chosen suite, writes the rows to ``out`` (JSON) and
    returns them."""
    if not (resolve(MODEL) / "model.safetensors").is_file():
        raise DatasetError(f"the {MODEL} checkpoint is missing from weights/")
    ctx = Context(options)
    rows = [r for suite in chosen(options) for r in suite.rows(ctx)]
    return save(rows, options.quick, out)
