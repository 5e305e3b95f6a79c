"""β from AE to VAE: the series of one VAE trained with the KL term weighted
by β (``explorer.training.beta``), from β = 0 (an AE's space, with gaps) to
the β where the posterior collapses onto the prior.

One canvas element (``explorer.app.components.canvas``): on the left the
rate–distortion plane (KL against reconstruction, a point per β, the current
one ringed), on the right the held-out sample's map under the current β,
each map turned onto β = 1's. Its β slider and Play run in the browser: the
points move from their place under one β to their place under the next, the
ring moves along the curve and the line above says what β did. A table
below gives every β's numbers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import streamlit as st

from explorer.app import i18n, widgets
from explorer.app import keys as K
from explorer.app.components import canvas
from explorer.app.i18n import N_, _
from explorer.app.markdown import verbatim
from explorer.app.tabs import Context
from explorer.training.beta import BetaRow, Series, find_series, read_series

NAME = N_("β from AE to VAE")

SERIES_OF = "{dataset}-vae-z2"  # the series' base name for a dataset
CURVE = "#888"
HEIGHT = 460
NO_KL = 0.05  # nats: a KL under this is drawn at the plane's left edge


def reading_words(row: BetaRow) -> str:
    """What β did, in one line of the session's language."""
    n = i18n.number
    if row.reading == "collapsed":
        return _(
            "KL → 0: the posterior collapsed onto the prior, and every image gets "
            "the same code"
        )
    if row.reading == "partial":
        return _(
            "{collapsed} of {dims} dimensions collapsed onto the prior: only "
            "{active} carries the images"
        ).format(
            collapsed=row.dims - row.active_units,
            dims=row.dims,
            active=row.active_units,
        )
    if row.reading == "gaps":
        return _(
            "σ → 0 (mean σ {sigma}) and the codes spread far past the prior (mean "
            "‖μ‖ {norm}): the space has gaps like an AE's"
        ).format(sigma=n(row.mean_sigma, 2), norm=n(row.mean_norm_mu, 3))
    return _(
        "the KL term holds the codes near the prior (mean ‖μ‖ {norm}): a "
        "continuous space that N(0, I) covers"
    ).format(norm=n(row.mean_norm_mu, 3))


def beta_text(beta: float) -> str:
    return "β = " + i18n.number(beta)


def _map_range(xy: np.ndarray) -> list[float]:
    """A square range about 0 that holds the map and the prior's 3σ."""
    r = max(3.0, 1.08 * float(np.abs(xy).max()) if xy.size else 3.0)
    return [-r, r, -r, r]


def element(series: Series, class_names: list[str]) -> dict:
    """The canvas element's data: the rate–distortion plane (a point per β,
    the current one ringed) beside the map, a step per β with its reading."""
    rows = series.rows
    # KL on a log axis (from a collapsed model's ~0 to β = 0's tens of nats),
    # a KL of 0 drawn at the left, as the replay draws step 0
    kl = np.array([r.kl for r in rows])
    big = kl[kl >= NO_KL]
    kl = np.maximum(kl, big.min() / 2 if big.size else NO_KL)
    plane = canvas.curve_panel(
        _("The rate–distortion plane"),
        (
            _("KL (nats, log scale; ≈ 0 at the left): the rate"),
            _("reconstruction (nats): the distortion"),
        ),
        [
            canvas.series(
                "", CURVE, kl, [r.recon for r in rows],
                labels=[beta_text(r.beta) for r in rows],
            )
        ],
        kl, [r.recon for r in rows], width=0.42, height=HEIGHT, log_x=True,
    )  # fmt: skip
    xy = np.stack(series.positions)  # [T, N, 2]
    codes = canvas.map_panel(
        _("The codes μ under the current β"), ("z₁", "z₂"), xy, range(len(rows)),
        series.labels, class_names, [_map_range(p) for p in series.positions],
        width=0.58, height=HEIGHT, circles=(1, 2), equal=True,
    )  # fmt: skip
    return canvas.data(
        [beta_text(r.beta) for r in rows],
        [plane, codes],
        {"play": _("Play"), "pause": _("Pause")},
        start=series.reference,
        texts=[beta_text(r.beta) + ": " + reading_words(r) for r in rows],
    )


def table(series: Series) -> dict[str, list[str]]:
    """Every β's numbers, as the page's table shows them."""
    n = i18n.number
    rows = series.rows
    return {
        "β": [n(r.beta) for r in rows],
        _("KL (nats)"): [n(r.kl, 3) for r in rows],
        _("reconstruction (nats)"): [n(r.recon, 4) for r in rows],
        _("active units"): [f"{r.active_units} / {r.dims}" for r in rows],
        _("mean σ"): [n(r.mean_sigma, 4) for r in rows],
        _("mean ‖μ‖"): [n(r.mean_norm_mu, 3) for r in rows],
        _("what β did"): [reading_words(r) for r in rows],
    }


@st.cache_data(show_spinner=False, max_entries=4)
def load(folders: tuple[str, ...], base: str, stamp: tuple) -> Series | None:
    """The series ``base`` found in ``folders`` (cached by the files' times)."""
    for folder in folders:
        members = find_series(folder, base)
        if len(members) >= 2:
            return read_series(members)
    return None


def _stamp(folders: tuple[str, ...], base: str) -> tuple:
    return tuple(
        (p.name, p.stat().st_mtime_ns)
        for f in folders
        for p in sorted(Path(f).glob(f"{base}-b*/snapshots.safetensors"))
    )


def render(ctx: Context) -> None:
    base = SERIES_OF.format(dataset=ctx.settings.dataset)
    folders = tuple(sorted({str(Path(e.path).parent) for e in ctx.dataset_entries}))
    series = load(folders, base, _stamp(folders, base))
    if series is None:
        st.info(
            _(
                "No β series for {dataset}: it ships for Fashion-MNIST; "
                "`bash weights/train.sh beta` trains one."
            ).format(dataset=verbatim(ctx.settings.dataset))
        )
        return
    st.caption(
        _(
            "The same VAE (the same seed, data and net) trained with the KL term "
            "weighted by β. Left: each β's KL against its reconstruction, on "
            "{n} held-out images. Right: those images' codes under the current β "
            "(the means μ, each map turned onto β = 1's; dotted: the prior's 1σ "
            "and 2σ). Slide β or press Play: each image moves from its place "
            "under one β to its place under the next."
        ).format(n=len(series.index))
    )
    canvas.canvas(element(series, list(widgets.class_names(ctx.ds))), key=K.BETA_CHART)
    st.dataframe(
        table(series),
        hide_index=True,
        width="stretch",
        height=38 + 35 * len(series.rows),  # every β, no scrolling
    )
    swap(ctx, series)


def swap(ctx: Context, series: Series) -> None:
    """Opens one β of the series on the right map (the main maps')."""
    names = [m.name for m in series.members]
    betas = {m.name: m.beta for m in series.members}
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    with left:
        name = st.select_slider(
            _("A β for the right map"),
            options=names,
            value=names[series.reference],
            format_func=lambda n: beta_text(betas[n]),
            key=K.BETA_PICK,
        )
    slot = "right" if "right" in ctx.panels else next(iter(ctx.panels), "right")
    with right:
        st.button(
            _("Open it on the right map"),
            on_click=_open,
            args=(slot, ctx.settings.dataset, name),
            key=K.BETA_OPEN,
        )


def _open(slot: str, dataset: str, name: str) -> None:
    st.session_state[K.CHECKPOINT(slot, dataset)] = name
