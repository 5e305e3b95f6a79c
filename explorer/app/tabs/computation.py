"""The computation, drawn: the selected image's way through a model as a
graph (x → encoder → μ, log σ² → σ → ε → z → decoder → x̂, and the loss's two
terms), each node with its value computed by the model, beside the model's
own code (``listing``); hovers link the graph, the code and the maps.

Which mark on the maps each node lights up (``MARKS``; the view draws them,
``frontend/view/marks.js``):

- x, μ: ``selected`` (○, where the image's code lies: μ for a VAE);
- log σ², σ: ``ellipse`` (q(z|x)'s 1σ and 2σ contours);
- z of a VAE: ``cursor`` (×, the point the decoder sees on the map);
- z of an AE: ``selected`` (its code is the image's point);
- encoder, ε, decoder, x̂, the loss terms: no mark (the hover says so).

``draw(ctx, panel)`` draws the graph and its listing for one panel, so other
pages (the lesson) can show it too.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from explorer.app import i18n
from explorer.app import keys as K
from explorer.app.components.graph import graph
from explorer.app.i18n import N_, _
from explorer.app.listing import listing, nodes
from explorer.app.markdown import verbatim
from explorer.app.records import Panel
from explorer.app.tabs import Context
from explorer.app.trace import Trace, trace
from explorer.app.widgets import live_panels

NAME = N_("Computation graph")

MARKS = {"x": "selected", "mu": "selected", "logvar": "ellipse",
         "sigma": "ellipse", "z": "cursor"}  # fmt: skip
SHOWN = 4  # a latent of at most this many dimensions is shown whole

# (column, row) of each node: left to right, the sampling path below
PLACES = {
    "vae": {"x": (0, 1), "encoder": (1, 1), "mu": (2, 0), "logvar": (2, 2),
            "sigma": (3, 2), "eps": (4, 0), "z": (4, 1), "decoder": (5, 1),
            "xhat": (6, 1), "recon": (7, 1), "kl": (7, 2)},
    "ae": {"x": (0, 0), "encoder": (1, 0), "z": (2, 0), "decoder": (3, 0),
           "xhat": (4, 0), "recon": (5, 0)},
}  # fmt: skip
EDGES = {
    "vae": [("x", "encoder"), ("encoder", "mu"), ("encoder", "logvar"),
            ("logvar", "sigma"), ("mu", "z"), ("sigma", "z"), ("eps", "z"),
            ("z", "decoder"), ("decoder", "xhat"), ("xhat", "recon")],
    "ae": [("x", "encoder"), ("encoder", "z"), ("z", "decoder"),
           ("decoder", "xhat"), ("xhat", "recon")],
}  # fmt: skip
# the loss's other inputs, drawn dashed along a lane above or below
LANES = {
    "vae": [("x", "recon", "top"), ("mu", "kl", "bottom"), ("logvar", "kl", "bottom")],
    "ae": [("x", "recon", "top")],
}


def labels() -> dict[str, str]:
    return {
        "x": "x",
        "encoder": _("encoder"),
        "mu": "μ",
        "logvar": "log σ²",
        "sigma": "σ = exp(½ log σ²)",
        "eps": "ε ~ N(0, I)",
        "z": "z = μ + σ·ε",
        "decoder": _("decoder"),
        "xhat": "x̂",
        "recon": _("reconstruction"),
        "kl": "KL(q(z|x) ‖ p(z))",
    }


def about() -> dict[str, str]:
    """What each node is (the annotation beside its code line)."""
    return {
        "x": _("the image, pixels in [0, 1]"),
        "encoder": _("the encoder's network"),
        "mu": _("the mean of q(z|x)"),
        "logvar": _("the log-variance of q(z|x)"),
        "sigma": _("the standard deviation σ"),
        "eps": _("noise ε drawn from N(0, I)"),
        "z": _("the code the decoder sees"),
        "decoder": _("the decoder's network"),
        "xhat": _("the reconstruction, pixels in [0, 1]"),
        "recon": _("reconstruction term −log p(x|z)"),
        "kl": _("KL term, closed form"),
    }


def mark_words() -> dict[str, str]:
    return {
        "selected": _("On the maps: ○, the selected image's point (its μ)."),
        "ellipse": _("On the maps: the red ellipses, q(z|x)'s 1σ and 2σ contours."),
        "cursor": _(
            "On the maps: ×, the point the decoder sees (where you click; "
            "this graph's z is one draw of μ + σ·ε)."
        ),
        "none": _("No mark on the maps for this node."),
    }


def numbers(v: np.ndarray) -> list[str]:
    """A small vector's values, two per line; a large one's first few and …"""
    vals = [i18n.number(float(a), 2) for a in v[: SHOWN if len(v) <= SHOWN else 3]]
    lines = [", ".join(vals[k : k + 2]) for k in range(0, len(vals), 2)]
    if len(v) > SHOWN:
        lines[-1] += ", …"
        lines.append(_("({n} values)").format(n=len(v)))
    return lines


def shape(s) -> str:
    return "[" + " × ".join(str(int(d)) for d in s) + "]"


def values(tr: Trace) -> dict[str, list[str]]:
    """Each node's value as lines of text: shapes for large tensors, numbers
    for small ones."""
    out = {
        "x": [shape((1, *tr.x.shape))],
        "encoder": [_("in {shape}").format(shape=shape(tr.encoder_in))],
        "mu": numbers(tr.mu),
        "z": numbers(tr.z),
        "decoder": [_("in {shape}").format(shape=shape(tr.decoder_in))],
        "xhat": [shape((1, *tr.xhat.shape))],
        "recon": [_("{value} nats").format(value=i18n.number(tr.recon, 2))],
    }
    if tr.logvar is not None:
        out |= {"logvar": numbers(tr.logvar), "sigma": numbers(tr.sigma)}
        out |= {"eps": numbers(tr.eps)}
        out["kl"] = [_("{value} nats").format(value=i18n.number(tr.kl, 2))]
    return out


def graph_data(model, tr: Trace, slot: str) -> dict:
    """The graph element's data: nodes, edges, the listing and the words."""
    kind = "ae" if tr.logvar is None else "vae"
    code = listing(model)
    vals, names, notes = values(tr), labels(), about()
    if kind == "ae":  # the code itself, not a draw
        names["z"], notes["z"] = "z", _("the code: what the encoder returns")
    marks = dict(MARKS, z="selected") if kind == "ae" else MARKS
    words = mark_words()
    out_nodes = []
    for n in nodes(model):
        mark = marks.get(n)
        col, row = PLACES[kind][n]
        out_nodes.append(
            {
                "id": n,
                "label": names[n],
                "value": vals[n],
                "col": col,
                "row": row,
                "mark": mark,
                "about": notes[n],
                "line": code.lines.get(n),
                "hover": words[mark or "none"],
            }  # fmt: skip
        )
    return {
        "slot": slot,
        "kind": kind,
        "nodes": out_nodes,
        "edges": EDGES[kind],
        "lanes": LANES[kind],
        "blocks": [
            {"title": b.title, "start": b.start, "n": len(b.lines)} for b in code.blocks
        ],  # fmt: skip
        "lines": code.text_lines,
        "words": {
            "code": _("The code that computes it"),
            "hint": _(
                "Hover a node, a code line or a mark on the map: the others light up."
            ),
        },  # fmt: skip
    }


def draw(ctx: Context, panel: Panel, where: str = "tab") -> None:
    """The graph and listing of ``panel``'s model for the selected image;
    ``where``: "tab", or "lesson" (a second element, under a key of its own)."""
    ss = st.session_state
    sp, ds, i = panel.space, ctx.ds, int(ss[K.SEL])
    label = None if ds.labels is None else int(ds.labels[i])
    tr = trace(sp.model, ds.images[i], label, int(ss.get(K.RESAMPLE_SEED, 0)))
    st.markdown("**" + verbatim(panel.entry.label) + "**")
    if tr.logvar is None:
        st.info(
            _(
                "An autoencoder has no σ, ε or KL: its encoder gives one code z "
                "per image, not a distribution to sample from, and its loss is "
                "the reconstruction alone, so nothing keeps its codes near N(0, I)."
            )
        )
    graph(graph_data(sp.model, tr, panel.slot), K.GRAPH(f"{where}_{panel.slot}"))
    loss_caption(tr)


def loss_caption(tr: Trace) -> None:
    recon = i18n.number(tr.recon, 2)
    if tr.kl is not None:
        text = _(
            "Loss of this image (the negative ELBO): reconstruction {recon} + "
            "KL {kl} = {total} nats, with ε drawn from seed {seed}."
        ).format(
            recon=recon,
            kl=i18n.number(tr.kl, 2),
            total=i18n.number(tr.recon + tr.kl, 2),
            seed=int(st.session_state.get(K.RESAMPLE_SEED, 0)),
        )
    else:
        text = _("Loss of this image: reconstruction {recon} nats.").format(recon=recon)
    if not tr.exact_recon:
        text += " " + _(
            "(A model the explorer did not train: the reconstruction term reads "
            "its pixels as Bernoulli probabilities.)"
        )
    st.caption(text)


def render(ctx: Context) -> None:
    live = live_panels(ctx.panels)
    if not live:
        return
    st.caption(
        _(
            "The selected image's way through the model: each box holds the "
            "value the model computes for it. Hover a box to see its line of "
            "code and its mark on the maps."
        )
    )
    slots = [p.slot for p in live]
    default = next((p.slot for p in live if p.space.logvar is not None), slots[0])
    if ss_slot() not in slots:
        st.session_state[K.GRAPH_SLOT] = default
    if len(live) > 1:
        by_slot = {p.slot: verbatim(p.entry.label) for p in live}
        st.radio(
            _("Model"),
            slots,
            format_func=lambda s: by_slot[s],
            horizontal=True,
            key=K.GRAPH_SLOT,
        )
    panel = next(p for p in live if p.slot == st.session_state[K.GRAPH_SLOT])
    draw(ctx, panel)
    if panel.space.logvar is not None:
        st.button(
            _("Resample ε"),
            on_click=lambda: st.session_state.update(
                resample_seed=st.session_state.get(K.RESAMPLE_SEED, 0) + 1
            ),
        )


def ss_slot() -> str | None:
    return st.session_state.get(K.GRAPH_SLOT)
