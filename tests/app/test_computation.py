"""The Computation graph tab, run headless with AppTest on the shipped
fashion-mnist checkpoints: the values its graph shows are the models' own,
checked against an independent pass through each model (μ, log σ²,
σ = exp(½ log σ²), ε from the seed, z = μ + σ·ε) and the loss terms of
``explorer.model.loss``, for the VAE (the tab's default) and the AE."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

from explorer import load_dataset, load_model
from explorer.app import i18n
from explorer.model import loss
from tests.helpers import APP, errors

pytestmark = pytest.mark.slow

TAB = "Computation graph"
SEL = 7


def graphs(at) -> list[dict]:
    """The data of each graph element on the page."""
    found = []

    def walk(node):
        if getattr(node, "type", "") == "bidi_component" and (
            node.proto.component_name == "latent_explorer_graph"
        ):
            found.append(json.loads(json.loads(node.proto.json)["graph"]))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at.main)
    return found


def numbers(v: torch.Tensor) -> list[str]:
    vals = [i18n.number(float(a), 2) for a in v]
    return [", ".join(vals[k : k + 2]) for k in range(0, len(vals), 2)]


def nats(v: float) -> list[str]:
    return [f"{i18n.number(v, 2)} nats"]


def expected(name: str, seed: int) -> dict[str, list[str]]:
    """What the graph must show for image ``SEL``, computed here."""
    model = load_model(name)
    ds = load_dataset("fashion-mnist", "test")
    x = torch.from_numpy(ds.images[SEL][None].astype(np.float32) / 255)
    out = {"x": ["[1 × 1 × 28 × 28]"], "xhat": ["[1 × 1 × 28 × 28]"]}
    with torch.inference_mode():
        enc = model.encode(x)
        z = enc.mean
        if enc.logvar is not None:
            sigma = torch.exp(0.5 * enc.logvar)
            g = torch.Generator().manual_seed(seed)
            eps = torch.randn(enc.mean.shape, generator=g)
            z = enc.mean + sigma * eps
            out |= {
                "mu": numbers(enc.mean[0]),
                "logvar": numbers(enc.logvar[0]),
                "sigma": numbers(sigma[0]),
                "eps": numbers(eps[0]),
                "kl": nats(loss.kl_divergence(enc.mean, enc.logvar)[0].item()),
            }
        out["z"] = numbers(z[0])
        logits = model.decode_logits(z)
        out["recon"] = nats(loss.reconstruction_nll(logits, x, model.config)[0].item())
    return out


def test_the_graph_shows_the_vae_then_the_ae_with_the_models_values():
    at = AppTest.from_file(APP, default_timeout=180)
    for k, v in {"live": False, "tab": TAB, "sel": SEL, "resample_seed": 3}.items():
        at.session_state[k] = v
    at.run()
    assert not errors(at)
    (g,) = graphs(at)  # the VAE by default
    assert g["kind"] == "vae"
    shown = {n["id"]: n["value"] for n in g["nodes"]}
    assert {k: shown[k] for k in expected("fashion-mnist-vae-z2", 3)} == expected(
        "fashion-mnist-vae-z2", 3
    )
    assert [n["id"] for n in g["nodes"] if n["mark"] == "ellipse"] == [
        "logvar",
        "sigma",
    ]
    assert not [i for i in at.info if "no σ, ε or KL" in i.value]

    at.radio[0].set_value("left").run()  # the AE
    assert not errors(at)
    (g,) = graphs(at)
    assert g["kind"] == "ae"
    shown = {n["id"]: n["value"] for n in g["nodes"]}
    want = expected("fashion-mnist-ae-z2", 3)
    assert shown == want | {
        "encoder": ["in [1 × 784]"],
        "decoder": ["in [1 × 2]"],
    }
    assert not {"sigma", "eps", "kl"} & set(shown)
    assert [i for i in at.info if "no σ, ε or KL" in i.value]
