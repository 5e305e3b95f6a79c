"""The networks an autoencoder is built from."""

from __future__ import annotations

import torch
from torch import nn


def mlp(sizes: list[int]) -> nn.Sequential:
    """Linear layers of these widths with ReLU between them (none after the last)."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


# --- convolutional (the beta-VAE / disentanglement_lib style) ----------------------

MIN_SIDE = 3  # the convolutions stop before the image side would fall below this


def conv_sides(side: int, layers: int) -> list[int]:
    """Image sides through 4x4 convolutions of stride 2 and padding 1, each
    halving (rounding down), for as many of ``layers`` as keep ``MIN_SIDE``."""
    sides = [side]
    while len(sides) <= layers and sides[-1] // 2 >= MIN_SIDE:
        sides.append(sides[-1] // 2)
    return sides


class ConvTrunk(nn.Module):
    """Images ``[B, C, H, W]`` to features ``[B, F]``: strided 4x4 convolutions
    with ReLU, flattened (Higgins et al. 2017; Locatello et al. 2019)."""

    def __init__(self, image_shape: tuple[int, int, int], channels: tuple[int, ...]):
        super().__init__()
        c, h, w = image_shape
        self.hs, self.ws = conv_sides(h, len(channels)), conv_sides(w, len(channels))
        n = min(len(self.hs), len(self.ws)) - 1
        self.hs, self.ws, self.channels = (
            self.hs[: n + 1],
            self.ws[: n + 1],
            channels[:n],
        )
        layers: list[nn.Module] = []
        for out in self.channels:
            layers += [nn.Conv2d(c, out, 4, stride=2, padding=1), nn.ReLU()]
            c = out
        self.net = nn.Sequential(*layers, nn.Flatten())
        self.features = c * self.hs[-1] * self.ws[-1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class ConvHead(nn.Module):
    """Features ``[B, F]`` back to image logits ``[B, C, H, W]``: the trunk
    mirrored with 4x4 transposed convolutions of stride 2 (each output padded
    to the exact side the trunk halved)."""

    def __init__(self, trunk: ConvTrunk, out_channels: int):
        super().__init__()
        chans = list(reversed(trunk.channels))
        hs, ws = trunk.hs[::-1], trunk.ws[::-1]
        layers: list[nn.Module] = [
            nn.ReLU(),
            nn.Unflatten(1, (chans[0], hs[0], ws[0])),
        ]
        for i, c_in in enumerate(chans):
            last = i == len(chans) - 1
            c_out = out_channels if last else chans[i + 1]
            pad = (hs[i + 1] - 2 * hs[i], ws[i + 1] - 2 * ws[i])
            layers.append(
                nn.ConvTranspose2d(
                    c_in, c_out, 4, stride=2, padding=1, output_padding=pad
                )
            )
            if not last:
                layers.append(nn.ReLU())
        self.net = nn.Sequential(*layers)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.net(h)
