"""The maps' part of the page: each model's heading, the view (both maps, the
image strip and the sliders, ``components.view``, with its data from
``viewdata``), and what each panel says about its cursor (the distance to
the data, the nearest images, the download)."""

from __future__ import annotations

from functools import partial

import numpy as np
import streamlit as st

from explorer.app import catalogue, errors, first, i18n, lesson
from explorer.app import keys as K
from explorer.app import selection as selecting
from explorer.app import tabs as tab_registry
from explorer.app.actions import on_this_map
from explorer.app.components.view import view
from explorer.app.i18n import N_, _
from explorer.app.markdown import verbatim
from explorer.app.records import Panel
from explorer.app.tabs import Context
from explorer.app.viewdata import SCALE, data_url, frame, map_data
from explorer.app.widgets import (
    FAR,
    class_name,
    class_names,
    download,
    labels_for,
    neighbour_strip,
    zoom,
)
from explorer.data.dataset import ImageDataset
from explorer.data.images import to_png
from explorer.latent import maps
from explorer.latent.posterior import posterior_ellipse
from explorer.latent.prior import prior_rings


def overlays(ctx: Context, p: Panel) -> dict:
    """The marks on ``p``'s map: the selected image, the cursor, the prior's
    rings and the selected image's posterior (a VAE's), then every tab's
    (``tabs.marks``)."""
    ss = st.session_state
    sp = p.space
    out = {
        "selected": sp.coords[ss[K.SEL]].tolist(),
        "cursor": on_this_map(p, K.CURSOR_XY)
        or sp.to_map(ss[K.CURSOR][p.slot])[0].tolist(),
    }
    if ss.get(K.RINGS, True) and sp.projection.is_linear:
        out["rings"] = [r.tolist() for r in prior_rings(sp.projection)]
    if sp.logvar is not None and sp.projection.is_linear:
        mu, lv = sp.z[ss[K.SEL]], sp.logvar[ss[K.SEL]].astype(np.float64)
        out["ellipses"] = [
            posterior_ellipse(mu, lv, sp.projection, k).tolist() for k in (1, 2)
        ]
    if lesson.active() is None:  # (in the lesson, only the step's own marks)
        out.update(tab_registry.marks(ctx, p))
    else:
        out.update(lesson.marks(ctx, p))
    return out


def panel_header(p: Panel) -> None:
    emit(header_lines(p))


def emit(lines: list[tuple[str, str]]) -> None:
    """Shows ``(kind, markdown)`` lines: kind "subheader" or "caption"."""
    for kind, text in lines:
        getattr(st, kind)(text)


def header_lines(p: Panel) -> list[tuple[str, str]]:
    """A panel's heading and the captions under it, as ``(kind, markdown)``."""
    out = [("subheader", verbatim(p.entry.label))]
    if p.space is None:
        return out
    proj = p.space.projection
    out.append(("caption", model_caption(p)))
    if proj.note:
        out.append(("caption", _("Note: {note}.").format(note=proj.note)))
    if p.alignment is not None:
        out.append(("caption", alignment_caption(p.alignment)))
    if not proj.is_linear:
        out.append(("caption", fitted_map_caption(p)))
    fit = p.fit
    if fit is not None and fit.error:
        no_map = _("No {kind} map: {error}.")
        out.append(
            (
                "warning",
                no_map.format(
                    kind=maps.LABELS[fit.kind],
                    error=verbatim(errors.describe(fit.error)),
                ),
            )
        )
    about = adapter_caption(p.space.model)
    if about:
        out.append(("caption", about))
    return out  # (a large map's note: the view says it under its map)


def model_caption(p: Panel) -> str:
    """The model's kind and latent size, what the map shows, and its marks."""
    kind = {
        "ae": _("autoencoder"),
        "vae": _("variational autoencoder"),
        "cvae": _("conditional VAE"),
    }
    model = p.space.model
    proj = p.space.projection
    if not proj.is_linear:
        view = _("{projection} of the latent means").format(projection=proj.label)
    else:
        view = _("PCA of the latent means") if proj.is_pca else _("raw latent axes")
    marks = _("× the decoded point, ○ the selected image")
    if p.space.logvar is not None and proj.is_linear:
        marks += _(" (red: its posterior's 1σ, 2σ)")
    if st.session_state.get(K.RINGS, True) and proj.is_linear:
        marks += _(", dashed: the prior's 1σ, 2σ")
    return _("{kind}, {d}-D latent; map: {view}. {marks}.").format(
        kind=kind[model.kind], d=model.latent_dim, view=view, marks=marks
    )


def alignment_caption(a) -> str:
    """How the right map was aligned to the left, and how alike they are."""
    text = (
        _(
            "Aligned to the left map: reflected, then rotated {degrees}°, "
            "scaled ×{scale} and shifted (orthogonal Procrustes over every "
            "image). **Disparity {disparity}**: 0 would be the same shape, 1 "
            "no likeness."
        )
        if a.reflected
        else _(
            "Aligned to the left map: rotated {degrees}°, scaled ×{scale} and "
            "shifted (orthogonal Procrustes over every image). **Disparity "
            "{disparity}**: 0 would be the same shape, 1 no likeness."
        )
    )
    return text.format(
        degrees=i18n.number(a.degrees, 0),
        scale=f"{a.scale:.3g}",
        disparity=i18n.number(a.disparity, 3),
    )


def fitted_map_caption(p: Panel) -> str:
    """What a UMAP or t-SNE map keeps, and what a click and the sliders do."""
    proj = p.space.projection
    text = (
        _(
            "A {projection} map keeps neighbours together, not distances or "
            "directions: a click between points decodes the code interpolated "
            "from the three nearest on the map, and the sliders move along the "
            "latent's own dimensions, not along the map's axes. The prior's "
            "rings and the σ ellipses have no image on it."
        )
        if not p.space.basis.labels[0].startswith("PC")
        else _(
            "A {projection} map keeps neighbours together, not distances or "
            "directions: a click between points decodes the code interpolated "
            "from the three nearest on the map, and the sliders move along the "
            "principal components of the latent means, not along the map's "
            "axes. The prior's rings and the σ ellipses have no image on it."
        )
    )
    return text.format(projection=proj.label)


def adapter_caption(model) -> str | None:
    """What an adapter did to a model it did not train, if anything."""
    about = []
    shape = getattr(model, "latent_shape", ())
    if len(shape) > 1:
        about.append(
            _(
                "Spatial latent {shape}, flattened to {d}-D for the map and "
                "reshaped to decode"
            ).format(shape=" × ".join(map(str, shape)), d=model.latent_dim)
        )
    if getattr(model, "note", None):  # the adapter's, or a user's model's own
        about.append(verbatim(model.note))
    return _("{notes}.").format(notes=_("; ").join(about)) if about else None


def cursor_extras(p: Panel, ds, z: np.ndarray) -> None:
    """The data nearest the decoded point, and its download (decoded when the
    button is pressed: the page shows the decode already, drawn by the view)."""
    neighbour_strip(p.space, ds, z, k=6)
    point = "_".join(f"{v:.2f}" for v in z[:4])
    download(
        _("Download the decoded image (PNG)"),
        partial(decoded_png, p.space, ds, np.array(z, copy=True)),
        f"{p.entry.name}-z_{point}.png",
        "image/png",
        K.DOWNLOAD("cursor", p.slot),
    )


def decoded_png(space, ds, z: np.ndarray) -> bytes:
    """The decode at ``z`` as the PNG the cursor's download gives."""
    img = space.decode(z[None], labels_for(space, ds, 1))[0]
    return to_png(img, zoom(SCALE, ds))


def distance_note(p: Panel, ds, z: np.ndarray) -> None:
    """How far the cursor is from the data, and a warning when it is far."""
    sp = p.space
    j, d = sp.nearest_point(z)
    ratio = d / sp.spacing if sp.spacing > 0 else 0.0
    text = (
        _(
            "Nearest data point: #{index} ({name}), {distance} away ({ratio}× "
            "the typical gap between neighbouring points)."
        )
        if sp.spacing > 0
        else _(
            "Nearest data point: #{index} ({name}), {distance} away (the codes "
            "have no gap between them to compare with)."
        )
    ).format(
        index=j,
        name=class_name(ds, j),
        distance=i18n.number(d, 2),
        ratio=i18n.number(ratio, 1),
    )
    if sp.conditional:
        st.caption(
            _(
                "Conditional model: decoding as class **{name}** (the selected "
                "image's)."
            ).format(name=class_name(ds, st.session_state[K.SEL]))
        )
    if on_this_map(p, K.OUTSIDE):
        st.warning(
            _(
                "Outside the data on this {projection} map: a non-linear map has "
                "no inverse beyond its points, so this is the nearest image's "
                "code (#{index}, {name})."
            ).format(projection=sp.projection.label, index=j, name=class_name(ds, j))
        )
    elif ratio > FAR:
        far = _("{note} Far from the data: the decoder never saw anything here.")
        st.warning(far.format(note=text))
    else:
        st.caption(text)


def show_panels(ctx: Context, painted: dict | None = None) -> None:
    """Both panels' headers, the view (maps, image strip, live sliders), then
    what each panel says about its cursor. ``painted``: the view's data the
    first paint showed already (``first``), if it did."""
    panels, ds = ctx.panels, ctx.ds
    headers = []
    for p in panels.values():
        lines = header_lines(p)
        if p.error:
            lines.append(("error", verbatim(catalogue.public(p.error))))
        elif not (st.session_state.get(K.LIVE, True) and p.space.model.exportable):
            lines.append(("caption", server_note(p)))
        headers.append(lines)
    if len(panels) == 1 and not (lesson.hidden("left") or lesson.hidden("right")):
        headers.append([("info", i18n.marked(ONE_MODEL))])
    ok = any(p.space is not None for p in panels.values())
    data = view_data(ctx) if ok else None
    ss = st.session_state
    images = None
    if data is not None and (K.FIRST_RUN_QUERY in ss or K.VIEW_DRAWN not in ss):
        images = first_images(panels, ds)
    query = ss.pop(K.FIRST_RUN_QUERY, None)
    if query is not None and data is not None:
        first.save(query, headers, data, images)  # for the next visitor
    if painted is not None:
        ss[K.VIEW_DRAWN] = "first paint"  # its page has drawn (it waited for that)
        if data is not None and first.same(painted, data):
            pass  # the first paint showed this very view
        else:  # it showed another (a cache cleared under the server): again
            st.rerun()
    else:
        first.show_headers(headers)
        if data is not None:
            first_view(data, images)
    if data is None:
        return
    cols = st.columns(2, gap="large")
    for col, p in zip(cols, panels.values(), strict=False):
        if p.space is None:
            continue
        with col:
            z = st.session_state[K.CURSOR][p.slot]
            distance_note(p, ds, z)
            cursor_extras(p, ds, z)


def first_view(data: dict, images: dict | None) -> None:
    """Mounts the view. A session's first view carries the server's images
    (the selected one and each decode, so neither waits for the dataset's
    chunks or a decoder of megabytes), and the rest of the page waits, at
    most ``first.WAIT`` seconds, until the browser says it has drawn it: the
    slow rest (the nearest-data index, scikit-learn's import) would hold the
    interpreter that also serves the browser its files."""
    ss = st.session_state
    if K.VIEW_DRAWN in ss or images is None:
        view(data)
        return
    ss[K.VIEW_DRAWN] = first.show_until_drawn(first.with_images(data, images))


ONE_MODEL = N_(
    "One model given, so one map. To compare two side by side, "
    "give a second one: `latent-explorer explore ... --model A "
    "--model B`, or `explorer.explore(model_a, model_b)`."
)


def server_note(p: Panel) -> str:
    if p.space.model.exportable:
        return _("Decoding on the server (browser decoding is off in the sidebar).")
    return _(
        "This model's decoder cannot run in the browser (only an MLP decoder is "
        "exported), so the server decodes each click and slider release."
    )


def view_data(ctx: Context) -> dict:
    """What the page's view needs this rerun: both maps (their URLs, marks
    and cursors), the selection and the selected image."""
    panels, ds = ctx.panels, ctx.ds
    ss = st.session_state
    live = ss.get(K.LIVE, True)
    maps = [
        map_data(
            ds,
            column,
            p,
            live,
            cursor=ss[K.CURSOR][p.slot],
            label=labels_for(p.space, ds, 1),
            overlays=overlays(ctx, p),
            caption=_("{model}: decoded at ×").format(model=p.entry.label),
        )
        for column, p in enumerate(panels.values())
        if p.space is not None
    ]
    sel = int(ss[K.SEL])
    caption = (
        _("Image #{index} ({name})").format(
            index=sel, name=class_names(ds)[ds.labels[sel]]
        )
        if ds.labels is not None
        else _("Image #{index}").format(index=sel)
    )
    return frame(ds, maps, ss.get(K.VIEW_ECHO, 0)) | {
        "columns": 2,
        "original": True,
        "selection": selecting.view_data(),
        "selected": {"index": sel, "caption": caption},
    }


def first_images(panels: dict[str, Panel], ds: ImageDataset) -> dict:
    """The selected image and each model's decode at its cursor, as PNG data
    URLs: what a first paint shows before the decoders arrive."""
    ss = st.session_state
    out = {"selected": data_url(to_png(ds.images[int(ss[K.SEL])]))}
    for p in panels.values():
        if p.space is not None:
            z = np.asarray(ss[K.CURSOR][p.slot])
            img = p.space.decode(z[None], labels_for(p.space, ds, 1))[0]
            out[p.slot] = data_url(to_png(img))
    return out
