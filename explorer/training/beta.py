"""A β series: one VAE trained again and again with the KL term weighted by
β, from β = 0 (nothing holds the codes near the prior: an AE's space, with
gaps) to a β so large that no latent dimension stays active (the posterior
collapsed onto the prior), with the same seed, data and net for every β.

The series' folders are ``<base>-b<β>`` (``fashion-mnist-vae-z2-b0.3``);
each holds its snapshots (``explorer.training.snapshots``), whose last frame
is a fixed sample of held-out images encoded with the saved weights: what
the β view shows and measures, one row per β, with no encoding at all.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from explorer.latent.align import AlignmentError, align
from explorer.latent.measures import dimension_report
from explorer.model.checkpoint import CONFIG_FILE, CheckpointError, read_config
from explorer.training.snapshots import Snapshots, read_snapshots

MEMBER = re.compile(r"^(?P<base>.+)-b(?P<beta>\d+(?:\.\d+)?)$")

# Codes spread far beyond the prior: mean ‖μ‖ above this many times the
# prior's own mean ‖z‖ (nothing pulls them in: an AE's space).
SPREAD = 3.0

# the one-line readings of what β did, by code (the app holds their words)
READINGS = ("gaps", "balanced", "partial", "collapsed")


@dataclass(frozen=True)
class Member:
    """One model of a series."""

    beta: float
    name: str
    folder: Path


def find_series(root: str | Path, base: str) -> list[Member]:
    """The series ``base`` (``fashion-mnist-vae-z2``) in ``root``: the folders
    named ``<base>-b<β>`` whose config is a VAE with that β, by β."""
    root = Path(root)
    found = []
    if not root.is_dir():
        return found
    for folder in root.iterdir():
        m = MEMBER.match(folder.name)
        if not m or m["base"] != base or not (folder / CONFIG_FILE).is_file():
            continue
        try:
            config = read_config(folder)
        except CheckpointError:
            continue
        beta = float(m["beta"])
        if config.variational and math.isclose(config.beta, beta, rel_tol=1e-6):
            found.append(Member(beta, folder.name, folder))
    return sorted(found, key=lambda x: x.beta)


def prior_mean_norm(dim: int) -> float:
    """E‖z‖ for z ~ N(0, I) in ``dim`` dimensions (√2 Γ((d+1)/2) / Γ(d/2))."""
    return math.sqrt(2) * math.exp(math.lgamma((dim + 1) / 2) - math.lgamma(dim / 2))


@dataclass(frozen=True)
class BetaRow:
    """What one β did, measured on the sample's last frame (the saved
    weights).

    Attributes:
        recon, kl: nats per image on the sample (the trainer's, at the save).
        active_units: dimensions whose means vary over the images by more than
            the usual cut (``explorer.latent.measures.ACTIVE_THRESHOLD``).
        mean_sigma: the mean posterior standard deviation σ over images and
            dimensions.
        mean_norm_mu: the mean ‖μ‖ over images.
        reading: one of ``READINGS``.
    """

    beta: float
    recon: float
    kl: float
    active_units: int
    dims: int
    mean_sigma: float
    mean_norm_mu: float
    reading: str


def measure(beta: float, s: Snapshots) -> BetaRow:
    """``BetaRow`` of a series member from its snapshots' last frame."""
    mu = s.means[-1].astype(np.float64)
    logvar = s.logvars[-1].astype(np.float64)
    report = dimension_report(mu, logvar)
    active = int(report.active.sum())
    dims = mu.shape[1]
    sigma = float(np.exp(0.5 * logvar).mean())
    norm = float(np.linalg.norm(mu, axis=1).mean())
    return BetaRow(
        beta,
        float(s.recon[-1]),
        float(s.kl[-1]),
        active,
        dims,
        sigma,
        norm,
        reading(active, dims, norm),
    )


def reading(active: int, dims: int, mean_norm_mu: float) -> str:
    """What β did, in one code: ``collapsed`` (no active dimension: every
    image gets the prior), ``partial`` (some dimensions collapsed),
    ``gaps`` (codes spread far beyond the prior, σ → 0: an AE's space),
    else ``balanced``."""
    if active == 0:
        return "collapsed"
    if active < dims:
        return "partial"
    if mean_norm_mu > SPREAD * prior_mean_norm(dims):
        return "gaps"
    return "balanced"


@dataclass(frozen=True)
class Series:
    """A series read for the β view: its members with their rows, and each
    member's sample positions rotated onto the reference member's (β = 1, or
    the middle one), so that the same image moves, not the axes."""

    members: list[Member]
    rows: list[BetaRow]
    positions: list[np.ndarray]  # [N, 2] per member
    labels: np.ndarray | None
    index: np.ndarray
    reference: int


def read_series(members: list[Member]) -> Series | None:
    """Reads the members' snapshots (those with none are left out) and
    rotates each 2-D map onto the reference's about the origin: the maps'
    Procrustes alignment without its scale and shift, because a VAE's codes
    are measured against the prior centred at 0, and how far they spread is
    what β changes. None with fewer than two members of the same sample."""
    kept, snaps = [], []
    for m in members:
        s = read_snapshots(m.folder)
        if s is None or s.logvars is None or s.means.shape[2] != 2:
            continue
        if snaps and not np.array_equal(s.index, snaps[0].index):
            continue
        kept.append(m)
        snaps.append(s)
    if len(kept) < 2:
        return None
    betas = [m.beta for m in kept]
    ref = betas.index(1.0) if 1.0 in betas else len(kept) // 2
    target = snaps[ref].means[-1].astype(np.float64)
    positions = []
    for s in snaps:
        xy = s.means[-1].astype(np.float64)
        try:
            positions.append(xy @ align(target, xy).rotation)
        except AlignmentError:  # a collapsed map: its points coincide
            positions.append(xy)
    rows = [measure(m.beta, s) for m, s in zip(kept, snaps, strict=True)]
    return Series(kept, rows, positions, snaps[0].labels, snaps[0].index, ref)
