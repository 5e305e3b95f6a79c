"""The decoder, exported for the browser: its weights are a few matrices.

Format (little-endian): ``b"LXD1"``, a uint32 header length, a JSON header,
zero padding to a multiple of 4 bytes, then for each linear layer its weight
``[out, in]`` (row-major) and bias ``[out]``, as float32, or as float16 where
the header's layer says ``"dtype": "f2"``: then each array's low bytes, then
its high bytes (the high bytes, sign and exponent, compress well apart), each
array padded to 4 bytes.
Hidden layers use ReLU, the output a sigmoid, and the arithmetic is float32
either way. ``decode`` below reads the same bytes with NumPy: it is the
reference the browser's JavaScript is tested against.

``half_layers`` chooses which layers go as float16: those whose rounding
keeps every decode of the points it is given within one grey level of the
float32 decode (half the bytes, for a class of browsers on one network).
"""

from __future__ import annotations

import json
import struct
from collections.abc import Sequence

import numpy as np
from torch import nn

from explorer.model.autoencoder import Autoencoder

MAGIC = b"LXD1"
DTYPES = {"f4": "<f4", "f2": "<f2"}
GREY = 1 / 255  # one grey level of a [0, 1] pixel


def export_decoder(model: Autoencoder, half: Sequence[bool] = ()) -> bytes:
    """Serialises ``model``'s decoder (MLP with ReLU, sigmoid output); the
    layers marked in ``half`` (one flag per linear layer, or none: all
    float32) as float16."""
    return _pack(_header(model), _layers(model), half)


def _layers(model: Autoencoder) -> list[tuple[np.ndarray, np.ndarray]]:
    linears = [m for m in model.decoder if isinstance(m, nn.Linear)]
    return [
        (m.weight.detach().numpy().astype("<f4"), m.bias.detach().numpy().astype("<f4"))
        for m in linears
    ]


def _header(model: Autoencoder) -> dict:
    if not model.exportable:
        raise ValueError(f"{model.name}: only an MLP decoder can be exported")
    linears = [m for m in model.decoder if isinstance(m, nn.Linear)]
    acts = [m for m in model.decoder if not isinstance(m, nn.Linear)]
    if len(acts) != len(linears) - 1 or not all(isinstance(a, nn.ReLU) for a in acts):
        raise ValueError("only an MLP decoder with ReLU between layers can be exported")
    cfg = model.config
    return {
        "latent_dim": cfg.latent_dim,
        "cond_dim": cfg.num_classes if cfg.conditional else 0,
        "image_shape": list(cfg.image_shape),
        "layers": [{"in": m.in_features, "out": m.out_features} for m in linears],
    }


def _pack(header: dict, layers: list, half: Sequence[bool]) -> bytes:
    half = list(half) or [False] * len(layers)
    if len(half) != len(layers):
        raise ValueError(f"{len(half)} precision flags for {len(layers)} layers")
    header = dict(header, layers=[dict(L) for L in header["layers"]])
    blobs = []
    for L, (w, b), h in zip(header["layers"], layers, half, strict=True):
        L["dtype"] = "f2" if h else "f4"
        for a in (w, b):
            raw = _planes(np.ascontiguousarray(a, DTYPES[L["dtype"]]).ravel())
            blobs.append(raw + b"\0" * (-len(raw) % 4))
    head = json.dumps(header).encode()
    head += b" " * (-(len(MAGIC) + 4 + len(head)) % 4)
    return MAGIC + struct.pack("<I", len(head)) + head + b"".join(blobs)


def _planes(a: np.ndarray) -> bytes:
    """float32 as it is; float16 as its low bytes, then its high bytes."""
    if a.dtype.itemsize == 4:
        return a.tobytes()
    return a.view(np.uint8).reshape(-1, 2).T.tobytes()


def _unplanes(data: bytes, dtype: np.dtype, size: int, offset: int) -> np.ndarray:
    if dtype.itemsize == 4:
        return np.frombuffer(data, dtype, size, offset).copy()
    planes = np.frombuffer(data, np.uint8, 2 * size, offset).reshape(2, size)
    return np.ascontiguousarray(planes.T).view(dtype).ravel()


def half_layers(
    model: Autoencoder, z: np.ndarray, labels: np.ndarray | None = None
) -> list[bool]:
    """Which of ``model``'s decoder layers may go as float16: the largest
    first, each kept in float16 if every decode of ``z`` (with ``labels``,
    a conditional model's classes) then stays within one grey level
    (``GREY``, max abs difference on [0, 1] pixels) of the float32 decode;
    all of them when that holds at once.

    Args:
        model: an exportable model.
        z: ``[N, D]`` the latent points checked (a grid over the map, and
            codes of the data).
        labels: ``[N]`` the classes they decode with, for a conditional model.

    Returns:
        One flag per linear layer.
    """
    header, layers = _header(model), _layers(model)
    h0 = _inputs(header, z, labels)
    ref = _forward(layers, h0)
    half = [True] * len(layers)
    if _error(layers, half, h0, ref) < GREY:
        return half
    half = [False] * len(layers)
    for i in sorted(range(len(layers)), key=lambda i: -layers[i][0].size):
        half[i] = True
        if _error(layers, half, h0, ref) >= GREY:
            half[i] = False
    return half


def grey_error(model: Autoencoder, half: Sequence[bool], z, labels=None) -> float:
    """The largest difference, on [0, 1] pixels, between the decodes of ``z``
    with the layers ``half`` in float16 and in float32."""
    header, layers = _header(model), _layers(model)
    h0 = _inputs(header, z, labels)
    return _error(layers, list(half), h0, _forward(layers, h0))


def _inputs(header: dict, z, labels) -> np.ndarray:
    h = np.asarray(z, dtype=np.float32).reshape(-1, header["latent_dim"])
    if header["cond_dim"]:
        y = np.zeros(len(h), int) if labels is None else np.asarray(labels)
        h = np.concatenate([h, np.eye(header["cond_dim"], dtype=np.float32)[y]], 1)
    return h


def _error(layers, half, h0, ref) -> float:
    rounded = [
        (w.astype("<f2").astype("<f4"), b.astype("<f2").astype("<f4")) if f else (w, b)
        for (w, b), f in zip(layers, half, strict=True)
    ]
    return float(np.abs(_forward(rounded, h0) - ref).max())


def _forward(layers, h: np.ndarray) -> np.ndarray:
    """``[N, in]`` float32 through the layers: ``[N, out]`` pixels in [0, 1]."""
    for i, (w, b) in enumerate(layers):
        h = h @ w.T + b
        if i < len(layers) - 1:
            h = np.maximum(h, 0)
    return 1 / (1 + np.exp(-np.clip(h, -80, 80)))


def read_decoder(data: bytes) -> tuple[dict, list[tuple[np.ndarray, np.ndarray]]]:
    """The header and ``(weight, bias)`` of each layer."""
    if data[:4] != MAGIC:
        raise ValueError("not an exported decoder")
    (n,) = struct.unpack("<I", data[4:8])
    header = json.loads(data[8 : 8 + n])
    offset, layers = 8 + n, []
    for layer in header["layers"]:
        if layer.get("dtype", "f4") not in DTYPES:
            raise ValueError(f"exported decoder has a layer of dtype {layer['dtype']}")
        dtype = np.dtype(DTYPES[layer.get("dtype", "f4")])
        arrays = []
        for size in (layer["out"] * layer["in"], layer["out"]):
            a = _unplanes(data, dtype, size, offset).astype("<f4")
            offset += size * dtype.itemsize + (-size * dtype.itemsize) % 4
            arrays.append(a)
        layers.append((arrays[0].reshape(layer["out"], layer["in"]), arrays[1]))
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
