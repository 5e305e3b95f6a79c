"""The decoder, exported for the browser: its weights are a few matrices.

Format (little-endian): ``b"LXD1"``, a uint32 header length, a JSON header,
zero padding to a multiple of 4 bytes, then for each linear layer its weight
``[out, in]`` (row-major) and bias ``[out]`` as float32. Hidden layers use
ReLU, the output a sigmoid. ``decode`` below reads the same bytes with NumPy:
it is the reference the browser's JavaScript is tested against.
"""

from __future__ import annotations

import json
import struct

import numpy as np
from torch import nn

from explorer.model.autoencoder import Autoencoder

MAGIC = b"LXD1"


def export_decoder(model: Autoencoder) -> bytes:
    """Serialises ``model``'s decoder (MLP with ReLU, sigmoid output)."""
    if not model.exportable:
        raise ValueError(f"{model.name}: only an MLP decoder can be exported")
    linears = [m for m in model.decoder if isinstance(m, nn.Linear)]
    acts = [m for m in model.decoder if not isinstance(m, nn.Linear)]
    if len(acts) != len(linears) - 1 or not all(isinstance(a, nn.ReLU) for a in acts):
        raise ValueError("only an MLP decoder with ReLU between layers can be exported")
    cfg = model.config
    header = {
        "latent_dim": cfg.latent_dim,
        "cond_dim": cfg.num_classes if cfg.conditional else 0,
        "image_shape": list(cfg.image_shape),
        "layers": [{"in": m.in_features, "out": m.out_features} for m in linears],
    }
    head = json.dumps(header).encode()
    head += b" " * (-(len(MAGIC) + 4 + len(head)) % 4)
    blobs = []
    for m in linears:
        blobs.append(m.weight.detach().numpy().astype("<f4").tobytes())
        blobs.append(m.bias.detach().numpy().astype("<f4").tobytes())
    return MAGIC + struct.pack("<I", len(head)) + head + b"".join(blobs)


def read_decoder(data: bytes) -> tuple[dict, list[tuple[np.ndarray, np.ndarray]]]:
    """The header and ``(weight, bias)`` of each layer."""
    if data[:4] != MAGIC:
        raise ValueError("not an exported decoder")
    (n,) = struct.unpack("<I", data[4:8])
    header = json.loads(data[8 : 8 + n])
    offset, layers = 8 + n, []
    for layer in header["layers"]:
        size = layer["out"] * layer["in"]
        w = np.frombuffer(data, "<f4", size, offset).reshape(layer["out"], layer["in"])
        offset += 4 * size
        b = np.frombuffer(data, "<f4", layer["out"], offset)
        offset += 4 * layer["out"]
        layers.append((w, b))
    if offset != len(data):
        raise ValueError(f"exported decoder has {len(data) - offset} stray bytes")
    return header, layers


def decode(data: bytes, z: np.ndarray, label: int | None = None) -> np.ndarray:
    """Decodes one ``z`` ``[D]`` with the exported bytes: uint8 ``[C, H, W]``."""
    header, layers = read_decoder(data)
    h = np.asarray(z, dtype=np.float32)
    if header["cond_dim"]:
        h = np.concatenate([h, np.eye(header["cond_dim"], dtype=np.float32)[label]])
    for i, (w, b) in enumerate(layers):
        h = w @ h + b
        if i < len(layers) - 1:
            h = np.maximum(h, 0)
    x = 1 / (1 + np.exp(-h))
    return (x * 255 + 0.5).astype(np.uint8).reshape(header["image_shape"])
