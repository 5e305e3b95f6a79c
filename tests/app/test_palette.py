"""The class colours stay apart for colour-blind readers.

Each vision is simulated with the matrices of Machado, Oliveira & Fernandes,
"A Physiologically-based Model for Simulation of Color Vision Deficiency"
(IEEE TVCG 15(6), 2009) at severity 1 (dichromacy: protanopia, deuteranopia,
tritanopia), as ``colorspacious`` implements them, and the colours compared
in CAM02-UCS (Luo, Cui & Li 2006), where a distance of about 1 is a just
noticeable difference between two large patches side by side.

The bound, 10: the classes are told apart on small scatter points, not large
patches, and the difference needed grows steeply as marks shrink (Szafir,
"Modeling Color Difference for Visualization Design", IEEE TVCG 24(1), 2018),
so the test asks for ten such steps, for normal vision too. The palette
before (Tableau 10) fails it by far: its red and green are 0.8 apart for a
deuteranope. A colour must also stand 12 from the white background, so that
a lone point is seen: the palette's faintest case is its light cyan for a
protanope, 14 from white, all of it lightness (J' 87 against 100).
"""

from __future__ import annotations

from itertools import combinations

import colorspacious
import numpy as np
import pytest

from explorer.app.components.latent_map import COLORS

PAIR_MIN = 10.0  # CAM02-UCS ΔE' between any two class colours
WHITE_MIN = 12.0  # CAM02-UCS ΔE' between a class colour and the white background
VISIONS = (None, "protanomaly", "deuteranomaly", "tritanomaly")


def rgb(colours) -> np.ndarray:
    return np.array([[int(h[i : i + 2], 16) / 255 for i in (1, 3, 5)] for h in colours])


def seen(colours: np.ndarray, vision: str | None) -> np.ndarray:
    """The colours in CAM02-UCS as seen with ``vision`` (None: normal)."""
    if vision is not None:
        cvd = {"name": "sRGB1+CVD", "cvd_type": vision, "severity": 100}
        colours = np.clip(colorspacious.cspace_convert(colours, cvd, "sRGB1"), 0, 1)
    return colorspacious.cspace_convert(colours, "sRGB1", "CAM02-UCS")


def closest_pair(colours) -> tuple[float, str, str]:
    out = []
    for vision in VISIONS:
        j = seen(rgb(colours), vision)
        for a, b in combinations(range(len(colours)), 2):
            out.append((float(np.linalg.norm(j[a] - j[b])), colours[a], colours[b]))
    return min(out)


def test_ten_classes_have_ten_colours():
    assert len(COLORS) == len(set(COLORS)) == 10


@pytest.mark.parametrize("vision", VISIONS, ids=lambda v: v or "normal")
def test_every_pair_of_class_colours_stays_apart(vision):
    j = seen(rgb(COLORS), vision)
    close = [
        (COLORS[a], COLORS[b], round(float(np.linalg.norm(j[a] - j[b])), 1))
        for a, b in combinations(range(len(COLORS)), 2)
        if np.linalg.norm(j[a] - j[b]) < PAIR_MIN
    ]
    assert not close, f"too close for {vision or 'normal'} vision: {close}"


@pytest.mark.parametrize("vision", VISIONS, ids=lambda v: v or "normal")
def test_every_class_colour_stands_out_from_white(vision):
    j = seen(np.vstack([rgb(COLORS), np.ones((1, 3))]), vision)
    gap = np.linalg.norm(j[:-1] - j[-1], axis=1)
    faint = [
        (c, round(float(g), 1))
        for c, g in zip(COLORS, gap, strict=True)
        if g < WHITE_MIN
    ]
    assert not faint, f"faint on white for {vision or 'normal'} vision: {faint}"


def test_the_check_fails_on_the_old_palette():
    # Tableau 10, the palette before: the check above must be able to fail.
    tableau = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f")
    tableau += ("#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac")
    assert closest_pair(tableau)[0] < PAIR_MIN
    assert closest_pair(COLORS)[0] >= PAIR_MIN
