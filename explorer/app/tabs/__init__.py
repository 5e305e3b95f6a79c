"""The tabs under the maps: one module each, listed once in ``REGISTRY``.

A tab module holds:

- ``NAME``: the tab's title (shown, and kept in a shared link);
- ``render(ctx)``: draws the tab (only the open tab runs);
- ``marks(ctx, panel) -> dict`` (optional): what the tab draws on ``panel``'s
  map, as the view's overlay marks (``{kind: coordinates}``); called on every
  run, open or not, so a tab decides itself when its marks show.

``ctx`` is one ``Context``: the loaded panels, the dataset, the sidebar's
settings and every checkpoint found. Adding a tab is its file and one line in
``REGISTRY``.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # (the tabs import the state; the state reads this registry)
    from explorer.app.catalogue import Entry
    from explorer.app.records import Panel, Settings
    from explorer.data.dataset import ImageDataset

REGISTRY = [
    "explorer.app.tabs.selected",
    "explorer.app.tabs.computation",
    "explorer.app.tabs.interpolation",
    "explorer.app.tabs.directions",
    "explorer.app.tabs.movement",
    "explorer.app.tabs.manifold",
    "explorer.app.tabs.prior",
    "explorer.app.tabs.unusual",
    "explorer.app.tabs.dimensions",
    "explorer.app.tabs.conditional",
    "explorer.app.tabs.your_image",
    "explorer.app.tabs.metrics",
    "explorer.app.tabs.training",
    "explorer.app.tabs.beta",
    "explorer.app.tabs.trainer",
]


@dataclass(frozen=True)
class Context:
    """What every tab may read: this run's panels (slot -> ``Panel``), the
    dataset they show, the sidebar's settings, every checkpoint found, and
    the open tab's name."""

    panels: dict[str, Panel]
    ds: ImageDataset
    settings: Settings
    entries: list[Entry]
    tab: str

    @property
    def dataset_entries(self) -> list[Entry]:
        """The checkpoints of the shown dataset."""
        return [e for e in self.entries if e.dataset == self.settings.dataset]


def all_tabs() -> list[ModuleType]:
    """The tab modules, in the order they are shown."""
    return [importlib.import_module(name) for name in REGISTRY]


def names() -> list[str]:
    return [t.NAME for t in all_tabs()]


def marks(ctx: Context, panel: Panel) -> dict:
    """Every tab's marks on ``panel``'s map."""
    out: dict = {}
    for t in all_tabs():
        if hasattr(t, "marks"):
            out.update(t.marks(ctx, panel))
    return out
