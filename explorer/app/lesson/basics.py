"""Steps 1 to 5 of the lesson: one image's way through the models. Encoder,
code and decoder; the AE's gaps; the VAE's distribution and the
reparameterization trick; the KL term; the loss of one image and the ELBO."""

from __future__ import annotations

import hashlib

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from explorer.app import actions, i18n
from explorer.app import keys as K
from explorer.app.components import events
from explorer.app.i18n import N_, _
from explorer.app.lesson import Lesson, Step, number_text
from explorer.app.lesson.check import Option, check
from explorer.app.markdown import plotly_text, verbatim
from explorer.app.tabs import computation
from explorer.app.widgets import FAR, labels_for, show, zoom
from explorer.data.images import strip
from explorer.latent import lesson as teach
from explorer.latent.posterior import posterior_samples

N_DRAWS = 8


def selected(lesson: Lesson) -> int:
    return int(st.session_state[K.SEL])


def on_point(kind: str | None = None):
    """An action: a click on a data point (on any map, or on the ``kind``
    model's: "ae", "vae")."""

    def done(lesson: Lesson, p, ev: dict) -> bool:
        if ev.get("kind") != events.POINT:
            return False
        return kind is None or p is getattr(lesson, kind)

    return done


def decode(p, z: np.ndarray, ds) -> np.ndarray:
    z = np.atleast_2d(z)
    return p.space.decode(z, labels_for(p.space, ds, len(z)))


# --- 1. encoder -> code -> decoder ---------------------------------------------------


def code_body(lesson: Lesson) -> None:
    ds, i = lesson.ctx.ds, selected(lesson)
    cols = st.columns(1 + len(lesson.live))
    with cols[0]:
        show(ds.images[i], _("x: image #{index}").format(index=i))
    for col, p in zip(cols[1:], lesson.live, strict=True):
        sp = p.space
        x_hat = decode(p, sp.z[i], ds)[0]
        mse = float(np.mean((x_hat / 255.0 - ds.images[i] / 255.0) ** 2))
        with col:
            show(x_hat, _("x̂: {model}").format(model=verbatim(p.entry.label)))
            st.caption(
                _("code z = {z} ({d} numbers); squared error per pixel {mse}").format(
                    z=number_text(sp.z[i]), d=sp.latent_dim, mse=i18n.number(mse, 4)
                )
            )
    st.caption(
        _(
            "The encoder turns {pixels} pixel values into a few numbers, the "
            "code z: the point's place on the map. The decoder draws an image "
            "from those numbers alone; what it cannot recover from them is lost."
        ).format(pixels=i18n.number(int(np.prod(ds.image_shape))))
    )


# --- 2. the AE's gaps ----------------------------------------------------------------


def map_key(sp) -> str:
    """Names a map by its points' coordinates: a realigned or refitted map
    (the same kind, other places) is another."""
    return hashlib.sha1(np.ascontiguousarray(sp.coords).tobytes()).hexdigest()


def gap_spot(lesson: Lesson, p) -> np.ndarray:
    """The point of ``p``'s map farthest from every image (kept per model)."""
    spots = lesson.state.setdefault("spots", {})
    key = (p.entry.name, map_key(p.space))
    if key not in spots:
        xy, _r = teach.empty_spot(p.space.coords)
        spots[key] = np.asarray(xy, dtype=np.float64)
    return spots[key]


def far_click(lesson: Lesson, p, ev: dict, kind: str) -> bool:
    """An action: a click on empty space of the ``kind`` model's map, far
    from every image (``widgets.FAR`` typical gaps)."""
    if ev.get("kind") != events.SPACE or p is not getattr(lesson, kind):
        return False
    z = p.space.from_map([float(ev["x"]), float(ev["y"])])
    return p.space.nearest_point(z)[1] >= FAR * p.space.spacing


def place_at_spot(lesson: Lesson, kind: str, spot) -> None:
    """The keyboard's way to click the marked spot."""
    p = getattr(lesson, kind)
    actions.place(p, list(spot))
    lesson.complete()


def blend(images: np.ndarray) -> np.ndarray:
    """The pixel mean of uint8 images, as a uint8 image."""
    return np.asarray(images, dtype=np.float64).mean(0).round().astype(np.uint8)


def spot_options(lesson: Lesson, p, spot) -> list[Option]:
    """What the model draws at ``spot`` and two guesses a learner might make:
    a copy of the nearest image, or a blend of the nearest eight."""
    ds, sp = lesson.ctx.ds, p.space
    z = sp.from_map(spot)
    _d, idx = sp.nearest.query(z[None], k=8)
    return [
        Option("model", "", decode(p, z, ds)[0]),
        Option("nearest", _("the nearest image"), ds.images[idx[0, 0]]),
        Option("blend", _("a blend of the 8 nearest"), blend(ds.images[idx[0]])),
    ]


def gaps_body(lesson: Lesson) -> None:
    p = lesson.ae
    spot = gap_spot(lesson, p)
    sp = p.space
    d = sp.nearest_point(sp.from_map(spot))[1]

    def why() -> None:
        st.caption(
            _(
                "No image was encoded near this spot: the nearest is {ratio}× the "
                "usual distance between neighbouring codes. The AE's loss only asks "
                "the decoder to redraw the codes of training images, so nothing "
                "shaped what it draws in the gaps between them."
            ).format(ratio=i18n.number(d / sp.spacing, 1))
        )

    spot_check(
        lesson,
        "ae",
        spot,
        _("what will the AE draw at the marked spot (?) on its map?"),
        spot_options(lesson, p, spot),
        why,
    )


def spot_check(lesson: Lesson, kind: str, spot, question: str, options, why) -> None:
    """A check of what the ``kind`` model ("ae", "vae") draws at ``spot``,
    then the keyboard's way to click there."""
    p = getattr(lesson, kind)
    if check(lesson, question, options, "model", why, seed=p.entry.name):
        st.button(
            _("Place × at the marked spot"),
            on_click=place_at_spot,
            args=(lesson, kind, spot),
        )


def gaps_marks(lesson: Lesson, p) -> dict:
    return {"targets": [gap_spot(lesson, p).tolist()]} if p is lesson.ae else {}


# --- 3. the VAE encodes a distribution -------------------------------------------


def draw_again(lesson: Lesson) -> None:
    """A new seed for the step's draws (of ε, of z ~ N(0, I)): its action."""
    lesson.state["draws"] = lesson.state.get("draws", 0) + 1
    lesson.complete()


def draws(lesson: Lesson) -> np.ndarray:
    sp, i = lesson.vae.space, selected(lesson)
    seed = 1000 * lesson.state.get("draws", 0) + i
    return posterior_samples(sp.z[i], sp.logvar[i].astype(np.float64), N_DRAWS, seed)


def posterior_figure(mu: np.ndarray, sigma: np.ndarray, zs: np.ndarray) -> go.Figure:
    """q(z|x) in its first two dimensions, zoomed in to μ ± 3σ: its 1σ and
    2σ contours, μ, and the draws z = μ + σ·ε (the first one larger)."""
    d = [0, 1] if len(mu) > 1 else [0, 0]
    t = np.linspace(0, 2 * np.pi, 73)
    fig = go.Figure()
    for k in (1, 2):
        fig.add_scatter(
            x=mu[d[0]] + k * sigma[d[0]] * np.cos(t),
            y=mu[d[1]] + k * sigma[d[1]] * np.sin(t),
            mode="lines",
            line={"color": "#d62728"},
            showlegend=False,
            hoverinfo="skip",
        )
    fig.add_scatter(
        x=zs[:, d[0]],
        y=zs[:, d[1]],
        mode="markers",
        marker={
            "symbol": "diamond",
            "size": [14] + [8] * (len(zs) - 1),
            "color": "#111",
        },
        name="z",
    )
    fig.add_scatter(
        x=[mu[d[0]]], y=[mu[d[1]]], mode="markers", marker={"size": 10}, name="μ"
    )
    fig.update_layout(
        height=260,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        xaxis={
            "title": f"z{d[0] + 1}",
            "range": [mu[d[0]] - 3 * sigma[d[0]], mu[d[0]] + 3 * sigma[d[0]]],
        },
        yaxis={
            "title": f"z{d[1] + 1}",
            "range": [mu[d[1]] - 3 * sigma[d[1]], mu[d[1]] + 3 * sigma[d[1]]],
        },
        legend={"orientation": "h"},
    )
    return fig


def distribution_body(lesson: Lesson) -> None:
    p, ds, i = lesson.vae, lesson.ctx.ds, selected(lesson)
    sp = p.space
    mu, lv = sp.z[i].astype(np.float64), sp.logvar[i].astype(np.float64)
    sigma = np.exp(0.5 * lv)
    zs = draws(lesson)
    eps = (zs[0] - mu) / sigma
    st.markdown(
        _(
            "For image #{index}, {model}'s encoder gives μ = {mu} and log σ² = "
            "{lv}, so σ = {sigma}. One draw: ε = {eps}, z = μ + σ·ε = {z}."
        ).format(
            index=i,
            model=verbatim(p.entry.label),
            mu=number_text(mu),
            lv=number_text(lv),
            sigma=number_text(sigma),
            eps=number_text(eps),
            z=number_text(zs[0]),
        )
    )
    left, right = st.columns([2, 3])
    with left:
        st.plotly_chart(posterior_figure(mu, sigma, zs), width="stretch")
    with right:
        show(strip(decode(p, zs, ds)), scale=zoom(2, ds))
        st.caption(
            _(
                "The {n} z's decoded (left: around μ, zoomed in to ±3σ, with "
                "q(z|x)'s 1σ and 2σ contours; on the map, the diamonds). Training "
                "decodes a fresh z like these each time, so every z near μ must "
                "decode to this image."
            ).format(n=N_DRAWS)
        )
    st.button(_("Draw ε again"), on_click=draw_again, args=(lesson,))


def distribution_marks(lesson: Lesson, p) -> dict:
    if p is not lesson.vae:
        return {}
    return {"samples": p.space.to_map(draws(lesson)).tolist()}


# --- 4. why σ does not shrink to zero ------------------------------------------------


def kl_figure(mu: np.ndarray, lv: np.ndarray) -> go.Figure:
    s = np.linspace(min(-6.0, float(lv.min()) - 1), max(3.0, float(lv.max()) + 1), 241)
    fig = go.Figure()
    fig.add_scatter(
        x=s, y=teach.kl_curve(s), mode="lines", name=plotly_text(_("μ = 0"))
    )
    base = teach.kl_curve(lv)
    fig.add_scatter(  # each dimension's ½μ²: from the μ = 0 curve up to its KL
        x=np.repeat(lv, 3),
        y=np.stack(
            [base, teach.kl_per_dim(mu, lv), np.full_like(lv, np.nan)], 1
        ).ravel(),
        mode="lines",
        line={"color": "#d62728", "dash": "dot", "width": 1},
        name=plotly_text(_("½μ² above the curve")),
        hoverinfo="skip",
    )
    fig.add_scatter(
        x=lv,
        y=teach.kl_per_dim(mu, lv),
        mode="markers+text",
        text=[f"z{d + 1}" for d in range(len(mu))],
        textposition="top center",
        marker={"size": 11, "color": "#d62728"},
        name=plotly_text(_("this image's dimensions")),
    )
    fig.add_scatter(
        x=[0],
        y=[0],
        mode="markers",
        marker={"size": 11, "symbol": "diamond", "color": "#111"},
        name=plotly_text(_("the minimum: s = 0 (σ = 1), μ = 0")),
    )
    fig.update_layout(
        height=300,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        xaxis_title=plotly_text(_("s = log σ²")),
        yaxis_title=plotly_text(_("KL term of one dimension")),
        legend={"orientation": "h", "y": 1.15},
    )
    return fig


def kl_body(lesson: Lesson) -> None:
    p, i = lesson.vae, selected(lesson)
    mu = p.space.z[i].astype(np.float64)
    lv = p.space.logvar[i].astype(np.float64)
    left, right = st.columns([3, 2])
    with left:
        st.plotly_chart(kl_figure(mu, lv), width="stretch")
    with right:
        st.markdown(_("The learners' notes write the same sum as"))
        st.latex(r"\sum_i \left(e^{\sigma_i} - (1 + \sigma_i) + m_i^2\right)")
        st.caption(
            _(
                "Their σᵢ is the log-variance s (not the standard deviation) and "
                "their mᵢ is μ; they drop the ½, which scales the term but moves "
                "no minimum. For this image: ours {ours}, theirs {theirs}."
            ).format(
                ours=i18n.number(float(teach.kl_per_dim(mu, lv).sum()), 3),
                theirs=i18n.number(float(teach.notes_form(mu, lv).sum()), 3),
            )
        )
    shrink_check(lesson, mu, lv)
    if lesson.ae is not None:
        st.caption(
            _(
                "{model} has no KL term: nothing stops its codes' σ shrinking to "
                "0 (s → −∞), so each image is a point and the space between "
                "points is never trained."
            ).format(model=verbatim(lesson.ae.entry.label))
        )


def shrink_check(lesson: Lesson, mu: np.ndarray, lv: np.ndarray) -> None:
    """Predict: halving σ of the image's first dimension, does its KL rise?"""
    before = float(teach.kl_per_dim(mu[:1], lv[:1])[0])
    after = float(teach.kl_per_dim(mu[:1], lv[:1] - 2 * np.log(2))[0])
    answer = "up" if after > before else "down"

    def why() -> None:
        st.caption(
            _(
                "Its term goes from {before} to {after}. Below s = 0, −(1 + s) "
                "grows faster than e^s falls: the KL charges for every σ smaller "
                "than 1 (and for every μ away from 0), so the encoder keeps some "
                "spread, and the spreads of neighbouring images overlap."
            ).format(before=i18n.number(before, 3), after=i18n.number(after, 3))
        )

    check(
        lesson,
        _(
            "if the encoder halved σ in this image's first dimension (z1), "
            "would that dimension's KL term rise or fall?"
        ),
        [Option("up", _("rise")), Option("down", _("fall"))],
        answer,
        why,
        seed=f"{lesson.vae.entry.name}:{selected(lesson)}",
    )


# --- 5. the loss of one image ---------------------------------------------------------


def loss_figure(rows: list[tuple[str, float, float]]) -> go.Figure:
    fig = go.Figure()
    names = [plotly_text(r[0]) for r in rows]
    fig.add_bar(
        y=names,
        x=[r[1] for r in rows],
        orientation="h",
        name=plotly_text(_("reconstruction")),
    )
    fig.add_bar(y=names, x=[r[2] for r in rows], orientation="h", name="KL")
    signed = any(r[1] < 0 or r[2] < 0 for r in rows)
    fig.update_layout(
        barmode="group" if signed else "stack",
        height=90 + 40 * len(rows),
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        xaxis_title=plotly_text(_("nats (reconstruction + KL = −ELBO)")),
        legend={"orientation": "h"},
    )
    return fig


def loss_body(lesson: Lesson) -> None:
    ds, i = lesson.ctx.ds, selected(lesson)
    rows, vae_loss = [], None
    for p in lesson.live:
        y = labels_for(p.space, ds, 1)
        loss = teach.image_loss(p.space.model, ds.images[i], y)
        if loss is None:
            continue
        rows.append((p.entry.label, loss.recon, loss.kl))
        if p is lesson.vae:
            vae_loss = loss
    if not rows:
        st.info(_("Neither model's likelihood is known here (a foreign model)."))
        return
    st.plotly_chart(loss_figure(rows), width="stretch")
    if any(r[1] < 0 for r in rows):
        st.caption(
            _(
                "A model with a Gaussian likelihood measures its reconstruction as "
                "a density of continuous pixels: its nats can be negative, and they "
                "do not compare with a Bernoulli model's."
            )
        )
    if vae_loss is not None:
        bound_text(lesson, i, vae_loss)
        with st.expander(
            _("Where the two terms come from: the computation"), expanded=True
        ):
            computation.draw(lesson.ctx, lesson.vae, "lesson")


def bound_text(lesson: Lesson, i: int, loss) -> None:
    p, ds = lesson.vae, lesson.ctx.ds
    b = teach.log_px_bound(p.space.model, ds.images[i], labels_for(p.space, ds, 1))
    if b is None:
        return
    st.markdown(
        _(
            "For {model}: ELBO = −({recon} + {kl}) = {elbo} nats (the "
            "reconstruction term over {n} draws of ε, the KL in closed form). An "
            "importance-weighted estimate from K = {k} draws of q gives log p(x) ≈ "
            "{logp} ± {se}; against the ELBO those same draws estimate "
            "({elbo_k}), KL(q(z|x) ‖ p(z|x)) ≈ {gap} ± {gap_se}: how far q is "
            "from the true posterior."
        ).format(
            model=verbatim(p.entry.label),
            recon=i18n.number(loss.recon, 1),
            kl=i18n.number(loss.kl, 1),
            elbo=i18n.number(-loss.neg_elbo, 1),
            n=loss.samples,
            k=b.k,
            logp=i18n.number(b.log_px, 1),
            se=i18n.number(b.log_px_se, 2),
            elbo_k=i18n.number(b.elbo, 1),
            gap=i18n.number(b.gap, 2),
            gap_se=i18n.number(b.gap_se, 2),
        )
    )
    st.caption(
        _(
            "An estimate: with finitely many draws it can only fall short of the "
            "true gap (the weighted estimate is itself a lower bound on log p(x)), "
            "and ± is one standard error."
        )
    )


STEPS = [
    Step(
        "code",
        N_("Encoder → code → decoder"),
        N_("An autoencoder squeezes an image into a code z and draws it back."),
        r"x \xrightarrow{\ \mathrm{enc}\ } z \xrightarrow{\ \mathrm{dec}\ } \hat x",
        N_("Click any point on either map: that image becomes x."),
        code_body,
        on_event=on_point(),
        pick_image=True,
    ),
    Step(
        "gaps",
        N_("The AE's gaps"),
        N_("Nothing shapes an AE's space between the codes of its images."),
        r"\mathcal{L}_{AE} = \lVert x - \mathrm{dec}(\mathrm{enc}(x)) \rVert^2",
        N_("Now click the marked spot (?) on the AE's map, far from every point."),
        gaps_body,
        needs=("ae",),
        on_event=lambda lesson, p, ev: far_click(lesson, p, ev, "ae"),
        marks=gaps_marks,
    ),
    Step(
        "distribution",
        N_("A VAE encodes a distribution"),
        N_(
            "A VAE's encoder gives each image a Gaussian, and "
            "training decodes draws from it."
        ),
        r"q(z \mid x) = \mathcal{N}(\mu, \sigma^2), \quad "
        r"z = \mu + \sigma \odot \varepsilon, \quad \varepsilon \sim \mathcal{N}(0, I)",
        N_("Draw ε again and watch z move inside the ellipse."),
        distribution_body,
        needs=("vae",),
        marks=distribution_marks,
    ),
    Step(
        "kl",
        N_("Why σ does not shrink to zero"),
        N_("The KL term, one dimension at a time: what does it charge for?"),
        r"\mathrm{KL}\big(q(z \mid x) \,\|\, \mathcal{N}(0, I)\big) = \tfrac12 "
        r"\sum_i \left(e^{s_i} - (1 + s_i) + "
        r"\mu_i^2\right), \quad s_i = \log \sigma_i^2",
        N_(
            "Click another image on the VAE's map: its dimensions move along "
            "the curve as s changes, and above it by ½μ²."
        ),
        kl_body,
        needs=("vae",),
        on_event=on_point("vae"),
        pick_image=True,
    ),
    Step(
        "loss",
        N_("The loss of one image"),
        N_(
            "Training minimises reconstruction + KL: the "
            "negative ELBO, a bound on log p(x)."
        ),
        r"\log p(x) = \underbrace{\mathbb{E}_q[\log p(x \mid z)] - "
        r"\mathrm{KL}(q(z \mid x) \,\|\, p(z))}_{\mathrm{ELBO}} + "
        r"\mathrm{KL}(q(z \mid x) \,\|\, p(z \mid x)) \;\ge\; \mathrm{ELBO}",
        N_("Click images of different classes: which term changes more?"),
        loss_body,
        needs=("vae",),
        on_event=on_point(),
        pick_image=True,
    ),
]
