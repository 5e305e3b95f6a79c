"""The checkpoints' evaluation figures, side by side."""

from __future__ import annotations

import shlex
from pathlib import Path

import streamlit as st

from explorer.app import catalogue, i18n
from explorer.app.i18n import N_, _
from explorer.app.markdown import verbatim
from explorer.app.tabs import Context

# key in metrics.json, the row's words (``N_``: translated where shown), and
# the digits after the point (None: an integer, as it is)
METRIC_ROWS = (
    ("neg_elbo", N_("-ELBO (nats)"), 2),
    ("recon", N_("reconstruction (nats)"), 2),
    ("kl", N_("KL (nats)"), 2),
    ("iw_nll", N_("IW bound on -log p(x) (nats)"), 2),
    ("mse", N_("MSE per pixel"), 5),
    ("knn5_acc", N_("5-NN accuracy"), 4),
    ("active_units", N_("active units"), None),
)

NAME = N_("Metrics")


def metrics_table(paths: dict[str, Path]) -> dict[str, list[str]]:
    """Rows of figures per checkpoint, from each metrics.json (— when absent)."""
    labels = [i18n.marked(label) for _k, label, _d in METRIC_ROWS]
    table = {_("figure"): labels + [_("PCA MSE (same dims)"), _("evaluated on")]}
    for name, path in paths.items():
        m = catalogue.metrics(str(path))
        col = []
        for key, _label, digits in METRIC_ROWS:
            v = m.get(key)
            col.append("—" if v is None else i18n.number(v, digits))
        pca = (m.get("pca") or {}).get("mse")
        col.append("—" if pca is None else i18n.number(pca, 5))
        data = m.get("eval_data") or {}
        col.append(
            _("{split} split, {images} images").format(
                split=data["split"], images=i18n.number(data["images"])
            )
            if data
            else "—"
        )
        table[name] = col
    return table


def render(ctx: Context) -> None:
    panels = ctx.panels
    st.caption(
        _(
            "Each model's figures from its metrics.json (written by "
            "`python -m explorer evaluate`), side by side; weights/README.md "
            "explains them."
        )
    )
    paths = {p.entry.label: p.entry.path for p in panels.values() if not p.error}
    st.dataframe(metrics_table(paths), hide_index=True)
    for name, path in paths.items():
        if catalogue.in_session(str(path)):
            st.caption(
                _(
                    "{model} was not trained by the explorer, so it has no "
                    "metrics.json; its per-image measures (the Unusual images tab, "
                    "colouring the map) come from its own encode and decode."
                ).format(model=verbatim(name))
            )
        elif not catalogue.metrics(str(path)):
            command = f"python -m explorer evaluate {shlex.quote(name)}"
            st.caption(
                _("{model} has no metrics.json yet: {command} writes it.").format(
                    model=verbatim(name), command=verbatim(command, code=True)
                )
            )
