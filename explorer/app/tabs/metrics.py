"""The checkpoints' evaluation figures, side by side."""

from __future__ import annotations

import shlex
from pathlib import Path

import streamlit as st

from explorer.app import catalogue
from explorer.app.i18n import N_
from explorer.app.markdown import verbatim
from explorer.app.tabs import Context

METRIC_ROWS = (
    ("neg_elbo", "-ELBO (nats)", "{:.2f}"),
    ("recon", "reconstruction (nats)", "{:.2f}"),
    ("kl", "KL (nats)", "{:.2f}"),
    ("iw_nll", "IW bound on -log p(x) (nats)", "{:.2f}"),
    ("mse", "MSE per pixel", "{:.5f}"),
    ("knn5_acc", "5-NN accuracy", "{:.4f}"),
    ("active_units", "active units", "{}"),
)

NAME = N_("Metrics")


def metrics_table(paths: dict[str, Path]) -> dict[str, list[str]]:
    """Rows of figures per checkpoint, from each metrics.json (— when absent)."""
    labels = [label for _, label, _ in METRIC_ROWS]
    table = {"figure": labels + ["PCA MSE (same dims)", "evaluated on"]}
    for name, path in paths.items():
        m = catalogue.metrics(str(path))
        col = []
        for key, _, fmt in METRIC_ROWS:
            v = m.get(key)
            col.append("—" if v is None else fmt.format(v))
        pca = (m.get("pca") or {}).get("mse")
        col.append("—" if pca is None else f"{pca:.5f}")
        data = m.get("eval_data") or {}
        col.append(f"{data['split']} split, {data['images']:,} images" if data else "—")
        table[name] = col
    return table


def render(ctx: Context) -> None:
    panels = ctx.panels
    st.caption(
        "Each model's figures from its metrics.json (written by "
        "`python -m explorer evaluate`), side by side; weights/README.md explains them."
    )
    paths = {p.entry.label: p.entry.path for p in panels.values() if not p.error}
    st.dataframe(metrics_table(paths), hide_index=True)
    for name, path in paths.items():
        if catalogue.in_session(str(path)):
            st.caption(
                f"{verbatim(name)} was not trained by the explorer, so it has no "
                "metrics.json; its per-image measures (the Unusual images tab, "
                "colouring the map) come from its own encode and decode."
            )
        elif not catalogue.metrics(str(path)):
            command = f"python -m explorer evaluate {shlex.quote(name)}"
            st.caption(
                f"{verbatim(name)} has no metrics.json yet: "
                f"{verbatim(command, code=True)} writes it."
            )
