"""The events the view sends to Python, declared once.

The browser builds each with a constructor of ``frontend/view/events.js``
(which mirrors these kinds and fields; ``tests/app/test_events.py`` checks
that they agree) and sends it as the component's ``event`` trigger
(``components.view.keep_event`` keeps it for the page). Every event carries
``id``, a number the view gave it (the newest input's time in milliseconds,
or one more than the last), which Python's reruns echo so that an answer to
an older event never overwrites a newer one drawn in the browser; and
``slot``, the map it happened on: "left" or "right" (the page's view), or
``CVAE`` (the Conditional tab's view of its CVAE map, whose events set the
style z: ``actions.apply_cvae_event``).

Not ``from __future__ import annotations``: ``NotRequired`` must be read when
the classes are made for ``__optional_keys__`` to hold it.
"""

from typing import Literal, NotRequired, TypedDict

POINT = "point"
SPACE = "space"
SLIDER = "slider"
SELECT = "select"
VIEW = "view"

CVAE = "cvae"  # the slot of the Conditional tab's map


class PointEvent(TypedDict):
    """A data point clicked: ``index`` is its dataset index."""

    id: int
    kind: Literal["point"]
    slot: str
    index: int


class SpaceEvent(TypedDict):
    """Empty space clicked, at map coordinates (``x``, ``y``)."""

    id: int
    kind: Literal["space"]
    slot: str
    x: float
    y: float


class SliderEvent(TypedDict):
    """The map's sliders released: ``values`` are the cursor's coordinates in
    the map's basis, one per slider."""

    id: int
    kind: Literal["slider"]
    slot: str
    values: list[float]


class SelectEvent(TypedDict):
    """A lasso (``lasso``: its outline, ``[[x, y], ...]`` in map
    coordinates), a box (``box``: ``[[x0, x1], [y0, y1]]``) or the selection
    cleared (``clear``: true); exactly one of the three."""

    id: int
    kind: Literal["select"]
    slot: str
    lasso: NotRequired[list[list[float]]]
    box: NotRequired[list[list[float]]]
    clear: NotRequired[bool]


class ViewEvent(TypedDict):
    """The map panned or zoomed: its visible window, ``x: [x0, x1]`` and
    ``y: [y0, y1]`` in map coordinates."""

    id: int
    kind: Literal["view"]
    slot: str
    x: list[float]
    y: list[float]


Event = PointEvent | SpaceEvent | SliderEvent | SelectEvent | ViewEvent

# Each kind's declaration, by the name the browser sends as ``kind``.
KINDS: dict[str, type] = {
    POINT: PointEvent,
    SPACE: SpaceEvent,
    SLIDER: SliderEvent,
    SELECT: SelectEvent,
    VIEW: ViewEvent,
}


def fields(kind: str) -> tuple[frozenset[str], frozenset[str]]:
    """The required and the optional fields of an event of ``kind``.

    Args:
        kind: one of ``KINDS``.

    Returns:
        (required, optional) field names, ``id`` and ``kind`` among the
        required ones.
    """
    td = KINDS[kind]
    return td.__required_keys__, td.__optional_keys__
