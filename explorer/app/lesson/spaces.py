"""Steps 6 to 10 of the lesson: the spaces as a whole. The VAE's filled
space; sampling the prior; the aggregate posterior, an infinite mixture of
Gaussians; interpolation through both spaces; the CVAE's style and class."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from explorer.app import catalogue, i18n
from explorer.app import keys as K
from explorer.app import lesson as L
from explorer.app.components import events
from explorer.app.i18n import N_, _
from explorer.app.lesson import Lesson, Step
from explorer.app.lesson.basics import (
    decode,
    draw_again,
    gap_spot,
    map_key,
    on_point,
    place_at_spot,
    selected,
    spot_check,
    spot_options,
)
from explorer.app.lesson.check import Option, check
from explorer.app.markdown import plotly_text, verbatim
from explorer.app.widgets import class_names, show, zoom
from explorer.data.images import strip
from explorer.latent import lesson as teach
from explorer.latent.paths import interpolate
from explorer.latent.prior import prior_samples

N_SAMPLES = 8
N_FRAMES = 9
KEEP = 0.98  # the data's box: this central share of each axis
POOL = 10_000  # data images a decode is compared with, at most


def data_box(coords: np.ndarray) -> np.ndarray:
    lo, hi = np.quantile(coords, [(1 - KEEP) / 2, (1 + KEEP) / 2], axis=0)
    return np.stack([lo, hi])


# --- 6. the same spot on the VAE's map ---------------------------------------------


def filled_spot(lesson: Lesson) -> np.ndarray:
    """The AE's empty spot (step 2) at the same place of the VAE's map: the
    same fractions of each map's data box."""
    ae, vae = lesson.ae, lesson.vae
    if ae is None:
        return data_box(vae.space.coords).mean(0)
    a, v = data_box(ae.space.coords), data_box(vae.space.coords)
    frac = (gap_spot(lesson, ae) - a[0]) / (a[1] - a[0])
    return v[0] + frac * (v[1] - v[0])


def filled_body(lesson: Lesson) -> None:
    p = lesson.vae
    sp, spot = p.space, filled_spot(lesson)
    d = sp.nearest_point(sp.from_map(spot))[1]

    def why() -> None:
        st.caption(
            _(
                "Here the nearest code is {ratio}× the usual distance between "
                "neighbours: the KL term keeps every q(z|x) spread and near "
                "N(0, I), so the ellipses overlap and cover the space, and the "
                "decoder was trained on z's all over it."
            ).format(ratio=i18n.number(d / sp.spacing, 1))
        )

    options = spot_options(lesson, p, spot)
    if lesson.ae is not None:
        ae = lesson.ae
        z = ae.space.from_map(gap_spot(lesson, ae))
        options[2] = Option(
            "ae", _("the AE's decode in its gap"), decode(ae, z, lesson.ctx.ds)[0]
        )
    spot_check(
        lesson,
        "vae",
        spot,
        _("what will the VAE draw at the same place (?) of its map?"),
        options,
        why,
    )


def filled_click(lesson: Lesson, p, ev: dict) -> bool:
    """An action: a click on the VAE's map near the marked spot."""
    if ev.get("kind") != events.SPACE or p is not lesson.vae:
        return False
    spot = filled_spot(lesson)
    box = data_box(p.space.coords)
    near = np.linalg.norm((np.array([ev["x"], ev["y"]]) - spot) / (box[1] - box[0]))
    return near < 0.1


def filled_marks(lesson: Lesson, p) -> dict:
    return {"targets": [filled_spot(lesson).tolist()]} if p is lesson.vae else {}


def model_options(panels) -> list[Option]:
    """One option per model: "the AE's (its name)", "the VAE's (...)"."""
    return [
        Option(
            p.slot,
            (
                _("the VAE's ({model})")
                if p.space.logvar is not None
                else _("the AE's ({model})")
            ).format(model=verbatim(p.entry.label)),
        )
        for p in panels
    ]


# --- 7. sampling the prior -----------------------------------------------------------


def samples(lesson: Lesson, p) -> np.ndarray:
    seed = lesson.state.get("draws", 0)
    return prior_samples(p.space.latent_dim, N_SAMPLES, 1.0, seed)


def to_data(lesson: Lesson, images: np.ndarray) -> np.ndarray:
    """Each image's mean squared distance to its nearest data image (among
    the first ``POOL``): does it look like the data?"""
    ds = lesson.ctx.ds
    return teach.nearest_distance(images, ds.images[: min(len(ds), POOL)])


def sampling_body(lesson: Lesson) -> None:
    ds = lesson.ctx.ds
    models = [lesson.ae, lesson.vae]  # (the step needs both)
    images = {p.slot: decode(p, samples(lesson, p), ds) for p in models}
    scores = {slot: float(to_data(lesson, im).mean()) for slot, im in images.items()}
    best = min(scores, key=scores.get)

    def why() -> None:
        for p in models:
            show(strip(images[p.slot]), scale=zoom(3, ds))
            st.caption(
                _(
                    "{model}: {n} draws of z ~ N(0, I) (the diamonds); mean squared "
                    "distance to the nearest image {d}."
                ).format(
                    model=verbatim(p.entry.label),
                    n=N_SAMPLES,
                    d=i18n.number(scores[p.slot], 4),
                )
            )
        st.caption(
            _(
                "The VAE was trained so that q(z|x), averaged over the data, "
                "matches N(0, I): the prior's draws land where the decoder was "
                "trained. Nothing tied the AE's codes to N(0, I)."
            )
        )

    options = model_options(models)
    if check(
        lesson,
        _("whose draws of z ~ N(0, I) will look more like the data?"),
        options,
        best,
        why,
        seed="|".join(p.entry.name for p in models),
    ):
        st.button(_("Sample again"), on_click=draw_again, args=(lesson,))


def sampling_marks(lesson: Lesson, p) -> dict:
    if not lesson.state.get("picks") or p not in (lesson.ae, lesson.vae):
        return {}
    return {"samples": p.space.to_map(samples(lesson, p)).tolist()}


# --- 8. an infinite mixture of Gaussians --------------------------------------------


def densities(lesson: Lesson):
    """The VAE's aggregate posterior and prior on its map (kept per model
    and map: a few hundred milliseconds to compute)."""
    p = lesson.vae
    kept = lesson.state.setdefault("densities", {})
    key = (p.entry.name, map_key(p.space))
    if key not in kept:
        sp = p.space
        agg = teach.aggregate_posterior(sp.z, sp.logvar, sp.projection)
        kept[key] = agg, teach.prior_density(sp.projection, extent=agg.extent)
    return kept[key]


def mixture_figure(agg, prior, holes: np.ndarray) -> go.Figure:
    fig = make_subplots(
        1,
        2,
        shared_yaxes=True,
        subplot_titles=(
            plotly_text(_("the data's q(z) = (1/N) Σ N(μᵢ, σᵢ²)")),
            plotly_text(_("the prior p(z) = N(0, I)")),
        ),
    )
    # (a VAE whose σ is small piles the data's density into spikes: the
    # scale stops at twice the prior's peak, so that both stay readable)
    top = 2 * float(prior.values.max())
    for col, d in ((1, agg), (2, prior)):
        fig.add_heatmap(
            x=d.x,
            y=d.y,
            z=d.values,
            zmin=0,
            zmax=top,
            colorscale="Viridis",
            showscale=col == 2,
            row=1,
            col=col,
        )
    for col in (1, 2):  # the holes: the diamonds on the VAE's map
        fig.add_scatter(
            x=holes[:, 0],
            y=holes[:, 1],
            mode="markers",
            marker={
                "symbol": "diamond",
                "size": 10,
                "color": "#fff",
                "line": {"width": 1.5, "color": "#111"},
            },
            showlegend=False,
            hoverinfo="skip",
            row=1,
            col=col,
        )
    fig.update_layout(height=320, margin={"l": 10, "r": 10, "t": 40, "b": 10})
    return fig


def mixture_body(lesson: Lesson) -> None:
    if not lesson.vae.space.projection.is_linear:
        st.info(
            _(
                "This step draws densities through a linear map: choose PCA for "
                "the VAE's map in the sidebar."
            )
        )
        return
    agg, prior = densities(lesson)
    holes = np.asarray(teach.holes(agg, prior)).reshape(-1, 2)
    st.plotly_chart(mixture_figure(agg, prior, holes), width="stretch")
    st.caption(
        _(
            "Each image adds one small Gaussian N(μᵢ, σᵢ²); their average is the "
            "density the decoder was trained on, and p(x) = ∫ p(z) p(x|z) dz adds "
            "up the decoder's p(x|z) for every z: a mixture of infinitely many. The "
            "diamonds on the VAE's map are where the prior has mass and the data "
            "has almost none: click one to see what the decoder makes there."
        )
    )
    st.button(
        _("Place × at the first diamond"),
        on_click=place_at_spot,
        args=(lesson, "vae", holes[0]),
    )


def mixture_marks(lesson: Lesson, p) -> dict:
    if p is not lesson.vae or not p.space.projection.is_linear:
        return {}
    agg, prior = densities(lesson)
    return {"samples": np.asarray(teach.holes(agg, prior)).tolist()}


def hole_click(lesson: Lesson, p, ev: dict) -> bool:
    """An action: a click on the VAE's map near one of the diamonds."""
    if ev.get("kind") != events.SPACE or p is not lesson.vae:
        return False
    if not p.space.projection.is_linear:
        return False
    box = data_box(p.space.coords)
    xy = np.array([ev["x"], ev["y"]])
    return any(
        np.linalg.norm((xy - h) / (box[1] - box[0])) < 0.1
        for h in teach.holes(*densities(lesson))
    )


# --- 9. interpolation -----------------------------------------------------------------


def open_interpolation(lesson: Lesson) -> None:
    ss = st.session_state
    ss[K.INTERP_A] = ss[K.SEL]


def path(lesson: Lesson, p) -> np.ndarray:
    ss = st.session_state
    sp = p.space
    return interpolate(sp.z[ss[K.INTERP_A]], sp.z[ss[K.INTERP_B]], N_FRAMES, "linear")


def interpolation_body(lesson: Lesson) -> None:
    ss, ds = st.session_state, lesson.ctx.ds
    a, b = ss[K.INTERP_A], ss[K.INTERP_B]
    st.markdown(
        _(
            "A = image #{a}, B = image #{b}: the same two images through both spaces."
        ).format(a=a, b=b)
    )
    models = [lesson.ae, lesson.vae]  # (the step needs both)
    frames = {p.slot: decode(p, path(lesson, p), ds) for p in models}
    # each path's frame farthest from every image
    scores = {slot: float(to_data(lesson, f).max()) for slot, f in frames.items()}

    def why() -> None:
        for p in models:
            show(strip(frames[p.slot]), scale=zoom(3, ds))
            st.caption(
                _("{model}: the frame farthest from any image is {d} away.").format(
                    model=verbatim(p.entry.label), d=i18n.number(scores[p.slot], 4)
                )
            )

    options = model_options(models)
    check(
        lesson,
        _("whose path from A to B will pass further from anything in the data?"),
        options,
        max(scores, key=scores.get),
        why,
        seed="|".join(p.entry.name for p in models) + f":{a}-{b}",
    )


def interpolation_event(lesson: Lesson, p, ev: dict) -> bool:
    if ev.get("kind") != events.POINT:
        return False
    st.session_state[K.INTERP_B] = int(ev["index"])
    return True


def interpolation_marks(lesson: Lesson, p) -> dict:
    ss = st.session_state
    sp = p.space
    return {
        "a": sp.coords[ss[K.INTERP_A]].tolist(),
        "b": sp.coords[ss[K.INTERP_B]].tolist(),
        "path": sp.to_map(path(lesson, p)).tolist(),
    }


# --- 10. the CVAE --------------------------------------------------------------------


def cvae_body(lesson: Lesson) -> None:
    ctx, i = lesson.ctx, selected(lesson)
    ds, entry = ctx.ds, L.cvae_entry(ctx)
    sp = catalogue.get_space(str(entry.path), ds.name, ctx.settings.splits)
    names = class_names(ds)
    z, y = sp.z[i], int(ds.labels[i])
    target = (y + 1) % len(names)
    other = (i + 1) % len(ds)
    every = sp.decode(np.repeat(z[None], len(names), 0), np.arange(len(names)))

    def why() -> None:
        show(strip(every), scale=zoom(3, ds))
        st.caption(" · ".join(verbatim(c) for c in names))
        st.caption(
            _(
                "The label y goes into both the encoder and the decoder, so z is "
                "free to hold what the label does not say: the style (thickness, "
                "slant, size). Same z, every class: one style throughout."
            )
        )

    cls = verbatim(names[target])
    check(
        lesson,
        _(
            "{model} encodes image #{index} (a {name}) to a style z. "
            "Which is that z decoded as a {target}?"
        ).format(
            model=verbatim(entry.label), index=i, name=verbatim(names[y]), target=cls
        ),
        [
            Option("model", "", sp.decode(z[None], np.array([target]))[0]),
            Option(
                "prior",
                _("z = 0"),
                sp.decode(np.zeros((1, sp.latent_dim)), np.array([target]))[0],
            ),
            Option(
                "other",
                _("another image's z"),
                sp.decode(sp.z[other][None], np.array([target]))[0],
            ),
        ],
        "model",
        why,
        seed=f"{entry.name}:{i}",
    )


STEPS = [
    Step(
        "filled",
        N_("The same spot on the VAE's map"),
        N_("Back to the AE's empty spot: what does a VAE make of that place?"),
        r"\mathcal{L}_{VAE} = -\mathbb{E}_q[\log p(x \mid z)] + "
        r"\mathrm{KL}(q(z \mid x) \,\|\, \mathcal{N}(0, I))",
        N_("Click the marked spot (?) on the VAE's map."),
        filled_body,
        needs=("vae",),
        on_event=filled_click,
        marks=filled_marks,
    ),
    Step(
        "sampling",
        N_("Sampling"),
        N_("Decode z drawn from the prior N(0, I): new images, or not?"),
        r"z \sim p(z) = \mathcal{N}(0, I), \quad x \sim p(x \mid z)",
        N_("Pick your answer, then sample again and compare."),
        sampling_body,
        needs=("ae", "vae"),
        marks=sampling_marks,
    ),
    Step(
        "mixture",
        N_("An infinite mixture of Gaussians"),
        N_(
            "p(x) adds up a p(x|z) for every z of the prior: where "
            "does the data put its z's?"
        ),
        r"p(x) = \int p(z)\, p(x \mid z)\, dz, \qquad "
        r"q(z) = \frac1N \sum_{i=1}^N \mathcal{N}(\mu_i, \sigma_i^2)",
        N_(
            "Click a diamond on the VAE's map: what does the "
            "decoder make where no image is?"
        ),
        mixture_body,
        needs=("vae",),
        on_event=hole_click,
        marks=mixture_marks,
    ),
    Step(
        "interpolation",
        N_("Interpolation through both spaces"),
        N_("The straight line between two codes, through both spaces."),
        r"z_t = (1 - t)\, z_A + t\, z_B, \quad t \in [0, 1]",
        N_("Click another point on either map: it becomes B."),
        interpolation_body,
        needs=("ae", "vae"),
        on_event=interpolation_event,
        pick_image=True,
        marks=interpolation_marks,
        on_open=open_interpolation,
    ),
    Step(
        "cvae",
        N_("The conditional VAE"),
        N_(
            "A CVAE gives the label y to the encoder and "
            "the decoder: z keeps the style."
        ),
        r"q(z \mid x, y), \quad p(x \mid z, y), \quad "
        r"\mathrm{KL}(q(z \mid x, y) \,\|\, \mathcal{N}(0, I))",
        N_("Click another image on either map: its style, every class."),
        cvae_body,
        needs=("cvae",),
        on_event=on_point(),
        pick_image=True,
    ),
]
