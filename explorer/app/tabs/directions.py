"""Directions: move each model's × from a start (where the × was, or class
A's centroid) along "class A → class B" and along the two local principal
directions of the data there; an analogy grid (A is to B as C is to ?)."""

from __future__ import annotations

import numpy as np
import streamlit as st

from explorer.app import errors, i18n
from explorer.app import keys as K
from explorer.app.actions import set_cursor
from explorer.app.i18n import N_, _
from explorer.app.markdown import verbatim
from explorer.app.tabs import Context
from explorer.app.widgets import (
    NO_MODEL,
    class_names,
    labels_for,
    live_panels,
    show,
    zoom,
)
from explorer.data.images import grid, strip
from explorer.latent import directions as dirs

NAME = N_("Directions")

STEPS = np.linspace(0.0, 1.0, 7)  # the A -> B strip
N_ANALOGY = 6  # images C in the analogy grid
K_LOCAL = 50  # neighbours whose PCA gives the local directions
STARTS = (N_("the ×"), N_("class A's centroid"))  # the values kept; shown translated


def _centroids(sp, ds) -> np.ndarray:
    key = ("centroids", id(sp))
    cache = st.session_state.setdefault(K.DIR_CACHE, {})
    if key not in cache:
        if len(cache) >= 4:  # a few spaces' at a time per session: small
            cache.clear()
        cache[key] = dirs.class_centroids(sp.z, ds.labels, len(ds.class_names))
    return cache[key]


def labelled(ds) -> bool:
    """Whether the data has classes to go between."""
    return ds.labels is not None and len(ds.class_names) >= 2


def anchor(p) -> np.ndarray:
    """Where panel ``p``'s × was when these sliders began to move it: it
    follows the × when something else has moved it since (a click, a map's
    own slider, a selected image)."""
    ss = st.session_state
    anchors, last = ss.setdefault(K.DIR_ANCHOR, {}), ss.setdefault(K.DIR_LAST, {})
    now = np.asarray(ss[K.CURSOR][p.slot], dtype=np.float64)
    moved = p.slot not in last or not np.allclose(now, last[p.slot])
    if moved or p.slot not in anchors:
        anchors[p.slot] = now.copy()
    return anchors[p.slot]


def start_of(p, ds, a: int) -> np.ndarray:
    ss = st.session_state
    if ss.get(K.DIR_FROM, STARTS[0]) == STARTS[1] and labelled(ds):
        return _centroids(p.space, ds)[a]
    return anchor(p)


def point(p, ds) -> np.ndarray:
    """The code the sliders put panel ``p``'s × at: start + t (B − A) + the
    local moves (each in standard deviations of the data at the start)."""
    ss = st.session_state
    sp = p.space
    a, b = int(ss.get(K.DIR_A, 0)), int(ss.get(K.DIR_B, 1))
    start = start_of(p, ds, a)
    z = start
    if labelled(ds):
        z = dirs.along(z, dirs.class_direction(_centroids(sp, ds), a, b), ss[K.DIR_T])
    if sp.latent_dim >= 2:
        comps, sd = dirs.local_directions(sp.z, start, K_LOCAL)
        z = z + ss[K.DIR_L1] * sd[0] * comps[0] + ss[K.DIR_L2] * sd[1] * comps[1]
    return z


def move(panels, ds) -> None:
    """A slider moved: each model's × to its ``point``."""
    ss = st.session_state
    for p in live_panels(panels):
        try:
            z = point(p, ds)
        except ValueError as e:
            ss[K.DIR_NOTE] = errors.describe(e)
            continue
        set_cursor(p, z)
        ss.setdefault(K.DIR_LAST, {})[p.slot] = np.asarray(ss[K.CURSOR][p.slot]).copy()


def render(ctx: Context) -> None:
    panels, ds = ctx.panels, ctx.ds
    ss = st.session_state
    live = live_panels(panels)
    if not live:
        st.info(i18n.marked(NO_MODEL))
        return
    has_classes = labelled(ds)
    st.caption(
        _(
            "Move each model's × along a direction, from where it is (or from "
            "class A's centroid): **class A → class B** goes from A's mean code to "
            "B's (t = 1 goes all the way), and the two **local directions** are "
            "the principal directions of the {k} codes nearest the start (in "
            "standard deviations of the data there). Each model moves in its own "
            "latent space; the maps show where its × goes. Click a map or select "
            "an image, and the sliders start again from there."
        ).format(k=K_LOCAL)
    )
    names = list(class_names(ds)) if has_classes else []
    controls(panels, ds, names)
    note = ss.pop(K.DIR_NOTE, None)
    if note:
        st.warning(verbatim(note))
    a, b = int(ss.get(K.DIR_A, 0)), int(ss.get(K.DIR_B, 1))
    cols = st.columns(len(live))
    for col, p in zip(cols, live, strict=True):
        with col:
            st.markdown("**" + verbatim(p.entry.label) + "**")  # a name: no words
            strips(p, ds, a, b, names)
    if has_classes:
        analogy_grid(live, ds, a, b, names)


def controls(panels, ds, names: list[str]) -> None:
    """Classes A and B and where the move starts (when the data has classes),
    and the three sliders that move each model's ×."""
    c = st.columns(3)
    if names:
        c[0].selectbox(
            _("Class A"), range(len(names)), format_func=lambda i: names[i], key=K.DIR_A
        )
        c[1].selectbox(
            _("Class B"),
            range(len(names)),
            index=min(1, len(names) - 1),
            format_func=lambda i: names[i],
            key=K.DIR_B,
        )
        c[2].radio(
            _("Start at"),
            STARTS,
            key=K.DIR_FROM,
            format_func={s: i18n.marked(s) for s in STARTS}.get,
        )
    else:
        st.info(_("No two classes to go between here: only the local directions."))
    s = st.columns(3)
    kw = {"on_change": move, "args": (panels, ds)}
    s[0].slider(
        _("t along A → B"),
        -1.0,
        2.0,
        0.0,
        0.05,
        key=K.DIR_T,
        disabled=not names,
        **kw,
    )
    s[1].slider(_("Local direction 1 (σ)"), -3.0, 3.0, 0.0, 0.1, key=K.DIR_L1, **kw)
    s[2].slider(_("Local direction 2 (σ)"), -3.0, 3.0, 0.0, 0.1, key=K.DIR_L2, **kw)


def strips(p, ds, a: int, b: int, names: list[str]) -> None:
    """A model's decodes along A → B (t = 0 to 1) and along the first local
    direction (-2σ to 2σ) from the start."""
    ss = st.session_state
    sp = p.space
    start = start_of(p, ds, a)
    drew = False
    if names:
        try:
            d = dirs.class_direction(_centroids(sp, ds), a, b)
        except ValueError as e:
            st.caption(verbatim(errors.describe(e)))
        else:
            drew = True
            zs = dirs.along(start, d, STEPS)
            show(strip(sp.decode(zs, labels_for(sp, ds, len(zs)))), None, zoom(2, ds))
            st.caption(
                _(
                    "{a} → {b}, t = 0 to 1 from {start}; the centroids are "
                    "{distance} apart."
                ).format(
                    a=verbatim(names[a]),
                    b=verbatim(names[b]),
                    start=i18n.marked(ss.get(K.DIR_FROM, STARTS[0])),
                    distance=i18n.number(np.linalg.norm(d), 2),
                )
            )
    try:
        comps, sd = dirs.local_directions(sp.z, start, K_LOCAL)
    except ValueError as e:
        # (an info when there is nothing at all to show)
        (st.caption if drew else st.info)(
            _("No local directions here: {reason}.").format(
                reason=verbatim(errors.describe(e))
            )
        )
        return
    zs = dirs.along(start, comps[0] * sd[0], np.linspace(-2, 2, 7))
    show(strip(sp.decode(zs, labels_for(sp, ds, len(zs)))), None, zoom(2, ds))
    st.caption(
        _("Local direction 1, −2σ to 2σ (σ = {sd}) from the start.").format(
            sd=i18n.number(sd[0], 2)
        )
    )


def analogy_grid(live, ds, a: int, b: int, names: list[str]) -> None:
    """Rows: the images C, then each model's decode of C + (B − A)."""
    ss = st.session_state
    st.markdown(
        _("**Analogy**: {a} is to {b} as each image C is to ?").format(
            a=verbatim(names[a]), b=verbatim(names[b])
        )
    )
    rng = np.random.default_rng(int(ss.get(K.ANALOGY_SEED, 0)))
    pool = np.flatnonzero(ds.labels == a)
    others = pool[pool != ss[K.SEL]] if len(pool) > 1 else np.arange(len(ds))
    picks = rng.choice(others, min(N_ANALOGY - 1, len(others)), replace=False)
    cs = np.r_[int(ss[K.SEL]), np.sort(picks)].astype(int)
    rows = [ds.images[cs]]
    lines = [
        _("C: the selected image, then images of class {a}").format(
            a=verbatim(names[a])
        )
    ]
    for p in live:
        sp = p.space
        cents = _centroids(sp, ds)
        if not np.isfinite(cents[[a, b]]).all():
            continue
        zc = np.asarray(sp.z[cs], dtype=np.float64)
        guess = dirs.analogy(cents[a], cents[b], zc)
        rows.append(sp.decode(guess, labels_for(sp, ds, len(cs))))
        lines.append(
            _("{model}: decode of C + ({b} − {a})").format(
                model=verbatim(p.entry.label),
                b=verbatim(names[b]),
                a=verbatim(names[a]),
            )
        )
    show(grid(np.stack(rows)), None, zoom(2, ds))
    st.caption(_("Rows, top to bottom: {rows}.").format(rows=_("; ").join(lines)))
    st.button(
        _("Other images C"),
        key=K.ANALOGY_MORE,
        on_click=lambda: ss.update(analogy_seed=ss.get(K.ANALOGY_SEED, 0) + 1),
    )
