"""The networks an autoencoder is built from (``explorer.model.nets``), on
their own: layer widths, the convolutions' image sides, and a conv head that
gives back exactly the image shape its trunk took."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from explorer.model.nets import MIN_SIDE, ConvHead, ConvTrunk, conv_sides, mlp


def test_mlp_widths_with_relu_between_and_none_after_the_last():
    net = mlp([6, 5, 4, 3])
    kinds = [type(m) for m in net]
    assert kinds == [nn.Linear, nn.ReLU, nn.Linear, nn.ReLU, nn.Linear]
    assert [(m.in_features, m.out_features) for m in net[::2]] == [
        (6, 5),
        (5, 4),
        (4, 3),
    ]
    assert isinstance(mlp([6, 3])[-1], nn.Linear) and len(mlp([6, 3])) == 1
    # a linear last layer: negative outputs survive (logits, log-variances)
    torch.manual_seed(0)
    assert (mlp([4, 8, 2])(torch.randn(64, 4)) < 0).any()


@pytest.mark.parametrize(
    "side, layers, expected",
    [
        (64, 4, [64, 32, 16, 8, 4]),
        (28, 4, [28, 14, 7, 3]),  # 3 // 2 would fall below MIN_SIDE
        (7, 4, [7, 3]),
        (5, 4, [5]),  # no halving keeps MIN_SIDE
        (64, 2, [64, 32, 16]),
    ],
)
def test_conv_sides_halve_until_the_minimum_side(side, layers, expected):
    sides = conv_sides(side, layers)
    assert sides == expected and min(sides[1:] or [MIN_SIDE]) >= MIN_SIDE


@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 64, 64), (3, 20, 36), (1, 9, 9)])
def test_conv_head_gives_back_the_trunks_image_shape(shape):
    torch.manual_seed(0)
    channels = (8, 8, 16, 16)
    trunk = ConvTrunk(shape, channels)
    head = ConvHead(trunk, shape[0])
    x = torch.rand(2, *shape)
    h = trunk(x)
    # as many layers as both sides allow, each halving (rounding down)
    n = len(trunk.channels)
    assert trunk.hs[0] == shape[1] and trunk.ws[0] == shape[2]
    assert len(trunk.hs) == len(trunk.ws) == n + 1 and n <= len(channels)
    assert h.shape == (2, trunk.features)
    assert trunk.features == trunk.channels[-1] * trunk.hs[-1] * trunk.ws[-1]
    assert head(h).shape == x.shape


def test_conv_trunk_stops_at_the_shorter_side():
    trunk = ConvTrunk((1, 64, 12), (4, 4, 4, 4))
    # 12 -> 6 -> 3: two halvings; the 64 side stops with it
    assert trunk.ws == [12, 6, 3] and trunk.hs == [64, 32, 16]
    assert trunk.channels == (4, 4)
    assert trunk(torch.rand(1, 1, 64, 12)).shape == (1, 4 * 16 * 3)
