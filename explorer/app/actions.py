"""What each input does on the server: a click on a map (a point or empty
space), a slider moved or released, a lasso or box, and a pan or zoom.

The view (``components.view``) answers each of these in the browser first and
sends the event (``components.events``); ``apply_view_event`` makes the same
change to the session's state, so this rerun's neighbours, tabs and link
follow. A hover is the browser's alone (the rings on the other map): nothing
runs here. The Conditional tab's view of its CVAE map sets the style z instead
(``apply_cvae_event``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import streamlit as st

from explorer.app import keys as K
from explorer.app import selection as selecting
from explorer.app.components import events

if TYPE_CHECKING:
    from explorer.app.records import Panel
    from explorer.latent.space import LatentSpace


def set_cursor(p: Panel, z: np.ndarray) -> None:
    """Moves a panel's cursor (×) to ``z``; its sliders follow it."""
    ss = st.session_state
    ss.pop(K.OUTSIDE(p.slot), None)
    ss.pop(K.CURSOR_XY(p.slot), None)
    ss[K.CURSOR][p.slot] = np.asarray(z, dtype=np.float64).copy()


def select(panels: dict[str, Panel], index: int) -> None:
    st.session_state[K.SEL] = int(index)
    for p in panels.values():
        if p.space is not None:
            set_cursor(p, p.space.z[index])


def place(p: Panel, xy: list[float]) -> None:
    """Moves a panel's cursor under a map point. On a non-linear map, a point
    outside the data's hull is marked (``outside_<slot>``): the inverse only
    repeats the nearest image's code there."""
    set_cursor(p, p.space.from_map(xy))
    proj = p.space.projection
    if not proj.is_linear:
        # the × stays where it was clicked (placing its code again would
        # move it: a non-linear map's forward and inverse are not exact
        # inverses between the data's points); both notes name their map
        ss = st.session_state
        ss[K.CURSOR_XY(p.slot)] = (proj.kind, [float(v) for v in xy])
        if not proj.inside(np.asarray([xy], dtype=np.float64))[0]:
            ss[K.OUTSIDE(p.slot)] = proj.kind


def on_this_map(p: Panel, family: K.Family):
    """The value of a note about ``p``'s map (``K.CURSOR_XY``, ``K.OUTSIDE``)
    when it was made on the map shown now, else None."""
    note = st.session_state.get(family(p.slot))
    kind = p.space.projection.kind
    if isinstance(note, tuple) and note[0] == kind:
        return note[1]
    return note if note == kind else None


def apply_view_event(panels: dict[str, Panel], ev: dict) -> None:
    """An event from the view (``components.view``), which has drawn its
    answer already: the same change to the state, so that this rerun's
    neighbours, tabs and link follow, and its id echoed back (the view's
    callback kept it; the page applies it once the panels are loaded)."""
    ss = st.session_state
    if not isinstance(ev, dict) or ev.get("id") == ss.get(K.VIEW_ECHO):
        return
    ss[K.VIEW_ECHO] = int(ev["id"])
    p = panels.get(ev.get("slot"))
    if p is None or p.space is None:
        return
    kind = ev.get("kind")
    if kind == events.POINT:
        index = int(ev["index"])
        if 0 <= index < len(p.space.z):
            select(panels, index)
    elif kind == events.SPACE:
        place(p, [float(ev["x"]), float(ev["y"])])
    elif kind == events.SLIDER:
        set_cursor(p, p.space.basis.set_all(ss[K.CURSOR][p.slot], ev["values"]))
    elif kind == events.SELECT:
        selecting.select_area(p, ev)
    # (a pan or zoom's window never comes here: the view's callback stores it)


def style(sp: LatentSpace) -> np.ndarray:
    """The Conditional tab's style z ``[D]`` for the CVAE ``sp``: the one set
    on it; one set on another model, its slider coordinates clipped to
    ``sp``'s ranges (0 from a model of another latent size); at first 0,
    the prior's mean."""
    z = np.zeros(sp.latent_dim)
    kept = st.session_state.get(K.CVAE_STYLE)
    if kept is None:
        return z
    name, values = kept
    values = np.asarray(values, dtype=np.float64)
    if values.shape != z.shape:
        return z
    if name == sp.name:
        return values
    basis = sp.basis
    coords = basis.coordinates(values)
    inside = np.clip(coords, basis.ranges[:, 0], basis.ranges[:, 1])
    return values if np.array_equal(inside, coords) else basis.set_all(values, inside)


def set_style(sp: LatentSpace, z: np.ndarray) -> None:
    """Sets the Conditional tab's style z, on the CVAE ``sp``."""
    st.session_state[K.CVAE_STYLE] = (sp.name, tuple(float(v) for v in z))


def apply_cvae_event(sp: LatentSpace, ev: dict) -> None:
    """An event from the Conditional tab's view (slot ``events.CVAE``), which
    has decoded its answer already: the style z follows it. A point gives
    that image's latent mean, empty space the inverse projection's z, a
    slider release the basis' coordinates; a lasso or box does nothing (the
    view offers no such tool on this map: ``lasso`` is false in its data).
    Its id is echoed back, as ``apply_view_event`` echoes the main view's."""
    ss = st.session_state
    if not isinstance(ev, dict) or ev.get("id") == ss.get(K.CVAE_ECHO):
        return
    ss[K.CVAE_ECHO] = int(ev["id"])
    kind = ev.get("kind")
    if ev.get("slot") != events.CVAE:
        return
    if kind == events.POINT:
        index = int(ev["index"])
        if 0 <= index < len(sp.z):
            set_style(sp, sp.z[index])
    elif kind == events.SPACE:
        set_style(sp, sp.from_map([float(ev["x"]), float(ev["y"])]))
    elif kind == events.SLIDER:
        set_style(sp, sp.basis.set_all(style(sp), ev["values"]))
