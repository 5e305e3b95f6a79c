"""Conditional generation: a class and a style z, decoded by a CVAE.

The CVAE's map is a second instance of the page's view (``components.view``,
``VIEW``): a click on it, or its sliders, set the style z in the browser at
once, and its event sets the session's (``actions.apply_cvae_event``). The
class is a Streamlit select; the view decodes z with it."""

from __future__ import annotations

import numpy as np
import streamlit as st

from explorer.app import catalogue
from explorer.app import keys as K
from explorer.app.actions import apply_cvae_event, set_style, style
from explorer.app.catalogue import Entry
from explorer.app.components import events
from explorer.app.components.view import Instance, view
from explorer.app.i18n import N_, _, ngettext
from explorer.app.markdown import verbatim
from explorer.app.records import Panel
from explorer.app.tabs import Context
from explorer.app.viewdata import frame, map_data
from explorer.app.widgets import class_names, show, zoom
from explorer.data.images import strip
from explorer.latent.prior import prior_rings

NAME = N_("Conditional")

# The tab's view: its own key, and its own keys for events and their echo.
VIEW = Instance(K.CVAE_VIEW, K.CVAE_PENDING, K.CVAE_ECHO, (events.CVAE,))


def _style_of_selected(sp) -> None:
    set_style(sp, sp.z[st.session_state[K.SEL]])


def render(ctx: Context) -> None:
    ds = ctx.ds
    st.caption(
        _(
            "A conditional VAE gets the class y as well as z, so z only has to "
            "hold the style. Pick a class and a z (sliders, or click the map), or "
            "take the style of the selected image; the row below decodes one z "
            "with every class."
        )
    )
    entry = cvae_entry(ctx)
    if entry is None:
        return
    sp = catalogue.get_space(str(entry.path), ds.name, ctx.settings.splits)
    if sp.latent_dim > len(sp.basis.ranges):
        st.warning(_("This CVAE has more dimensions than sliders; the rest stay at 0."))
    event = st.session_state.pop(K.CVAE_PENDING, None)  # from the view
    if event is not None:
        apply_cvae_event(sp, event)
    set_style(sp, style(sp))  # 0 at first; another model's kept in this one's ranges
    names = class_names(ds)  # (in this session's language)
    left, right = st.columns([3, 2])
    with right:
        k = st.selectbox(
            _("Class"),
            range(len(names)),
            format_func=lambda c: names[c],
            key=K.CVAE_CLASS,
        )
        st.button(
            _("Style of the selected image"), on_click=_style_of_selected, args=(sp,)
        )
    with left:
        view(view_data(ctx, entry, sp, k), VIEW)
        st.caption(
            _("A CVAE's map mixes the classes: z holds the style, not the class.")
        )
    z = style(sp)
    every = sp.decode(
        np.repeat(z[None], len(ds.class_names), 0), np.arange(len(ds.class_names))
    )
    st.markdown(_("**Same style, every class**"))
    show(strip(every), scale=zoom(3, ds))
    st.caption(" · ".join(verbatim(c) for c in names))


def cvae_entry(ctx: Context) -> Entry | None:
    """The CVAE chosen (a select, when there are several), or None after
    saying why there is none."""
    entries, ds = ctx.dataset_entries, ctx.ds
    cvaes = [e for e in entries if e.model_type == "cvae" and not e.error]
    if not cvaes or ds.labels is None:
        no_cvae(ctx)
        return None
    names = [e.name for e in cvaes]
    label = {e.name: e.label for e in cvaes}
    name = st.selectbox(
        _("Model"), names, key=K.CVAE_MODEL(ds.name), format_func=label.get
    )
    return cvaes[names.index(name)]


def no_cvae(ctx: Context) -> None:
    """Says why there is no CVAE to show: no labels, or no model that takes
    them."""
    entries, ds = ctx.dataset_entries, ctx.ds
    dataset = verbatim(catalogue.dataset_label(ds.name))
    if ds.labels is None:
        st.info(
            _("No conditional VAE for {dataset}: the data has no labels.").format(
                dataset=dataset
            )
        )
        return
    others = [e.label for e in entries if not e.error]
    st.info(
        ngettext(
            "No conditional VAE for {dataset}: {models} takes no class label.",
            "No conditional VAE for {dataset}: {models} take no class label.",
            max(len(others), 1),
        ).format(dataset=dataset, models=verbatim(", ".join(others)))
    )


def view_data(ctx: Context, entry: Entry, sp, k: int) -> dict:
    """The tab's view: the CVAE's map of every image, its × at the style z
    and the prior's rings (on a linear map, when shown); z decoded with class
    ``k``, whatever a click on a point hits; no selected image, no lasso."""
    ds, ss = ctx.ds, st.session_state
    pts, shown = catalogue.get_points(
        str(entry.path), ds.name, ctx.settings.splits, len(ds), "class"
    )
    p = Panel(events.CVAE, entry, sp, pts, shown)
    z = style(sp)
    marks = {"cursor": sp.to_map(z)[0].tolist()}
    if ss.get(K.RINGS, True) and sp.projection.is_linear:
        marks["rings"] = [r.tolist() for r in prior_rings(sp.projection)]
    data = map_data(
        ds,
        0,
        p,
        ss.get(K.LIVE, True),
        cursor=z,
        label=np.array([k]),
        overlays=marks,
        caption=_("{label} at z").format(label=class_names(ds)[k]),
        point_selects=False,
        lasso=False,
    )
    return frame(ds, [data], ss.get(K.CVAE_ECHO, 0)) | {
        "columns": 1,
        "original": False,
        "selection": None,
        "selected": None,
    }
