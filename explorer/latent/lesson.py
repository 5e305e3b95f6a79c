"""The lesson's live numbers (issue #27): the KL per dimension, one image's
loss and an importance-weighted bound on its log-likelihood, the emptiest spot
of a map, the aggregate posterior and the prior as densities on a linear map,
and how far images lie from the data. No UI: the lesson's steps show these.

Images are uint8 ``[C, H, W]`` arrays (as stored; divided by 255) or float
arrays and tensors in [0, 1]; latent arrays are float64 NumPy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from explorer.latent.prior import prior_samples
from explorer.latent.space import LatentSpace
from explorer.model.config import ModelConfig
from explorer.model.loss import kl_divergence, reconstruction_nll
from explorer.model.protocol import Encoding

LOG_2PI = math.log(2 * math.pi)

# --- the KL term, per dimension ---------------------------------------------------


def kl_per_dim(mu, logvar) -> np.ndarray:
    """KL(N(mu, exp(logvar)) || N(0, 1)) of each dimension, in nats.

    ½(exp(s) − (1 + s) + μ²) with s the log-variance (Kingma & Welling 2013,
    Appendix B); its sum over dimensions is ``loss.kl_divergence``.

    Args:
        mu: ``[..., D]`` means. logvar: ``[..., D]`` log-variances.

    Returns:
        ``[..., D]`` float64, >= 0, 0 only at mu = 0, logvar = 0.
    """
    mu = np.asarray(mu, dtype=np.float64)
    s = np.asarray(logvar, dtype=np.float64)
    return 0.5 * (np.exp(s) - (1.0 + s) + mu**2)


def kl_curve(s: np.ndarray, mu: float = 0.0) -> np.ndarray:
    """The KL of one dimension as a function of its log-variance ``s`` ``[G]``
    (``mu`` fixed), for plotting: its minimum is ½μ² at s = 0."""
    return kl_per_dim(np.full(np.shape(s), mu), s)


def notes_form(mu, logvar) -> np.ndarray:
    """The learners' notes' form exp(σᵢ) − (1 + σᵢ) + mᵢ², where σᵢ is the
    log-variance and the ½ is dropped: ``2 * kl_per_dim`` ``[..., D]``."""
    return 2.0 * kl_per_dim(mu, logvar)


def sample_prior(dim: int, n: int, seed: int, temperature: float = 1.0) -> np.ndarray:
    """``n`` draws of z ~ N(0, I) ``[n, dim]`` (``prior.prior_samples``)."""
    return prior_samples(dim, n, temperature, seed)


# --- one image's loss, and its log-likelihood -------------------------------------


@dataclass
class ImageLoss:
    """One image's loss terms, in nats.

    Attributes:
        recon: −E_q[log p(x|z)] (Monte Carlo over ``samples`` draws; an AE's
            at its code).
        kl: KL(q(z|x) || p(z)), closed form (0 for an AE).
        beta: the model's KL weight.
        neg_elbo: recon + kl, the negative ELBO (≥ −log p(x)).
        loss: recon + beta * kl, what training minimised.
        samples: the draws of ε behind ``recon`` (0: an AE, no sampling).
    """

    recon: float
    kl: float
    beta: float
    neg_elbo: float
    loss: float
    samples: int


@dataclass
class Bound:
    """An importance-weighted estimate of log p(x) (Burda et al. 2016).

    Attributes:
        log_px: log (1/K) Σ w_k, w_k = p(x|z_k) p(z_k) / q(z_k|x), z_k ~ q(z|x).
        log_px_se: its standard error (delta method on the mean weight).
        elbo: the ELBO from the same draws, (1/K) Σ log w_k.
        gap: log_px − elbo: an estimate of KL(q(z|x) || p(z|x)), >= 0.
        gap_se: its standard error.
        k: K, the number of draws.
    """

    log_px: float
    log_px_se: float
    elbo: float
    gap: float
    gap_se: float
    k: int


def _parts(space_or_model):
    """The model and its ``ModelConfig``, or (model, None) when the model's
    likelihood is unknown (a foreign adapter)."""
    model = space_or_model
    if isinstance(model, LatentSpace):
        model = model.model
    config = getattr(model, "config", None)
    if not isinstance(config, ModelConfig) or not hasattr(model, "decode_logits"):
        return model, None
    return model, config


def _image_batch(x, config: ModelConfig) -> torch.Tensor:
    """One image as a ``[1, C, H, W]`` float tensor in [0, 1]."""
    if isinstance(x, torch.Tensor):
        t = x if x.is_floating_point() else x.float() / 255.0
    else:
        a = np.asarray(x)
        t = torch.from_numpy(
            a.astype(np.float32) / 255.0 if a.dtype == np.uint8 else a.astype("f4")
        )
    t = t.reshape(1, *t.shape[-3:]) if t.dim() == 4 else t[None]
    if tuple(t.shape[1:]) != tuple(config.image_shape):
        raise ValueError(
            f"an image of shape {tuple(t.shape[1:])} for a model of "
            f"{tuple(config.image_shape)}"
        )
    return t


def _labels(model, y, n: int) -> torch.Tensor | None:
    if not getattr(model, "num_classes", None):
        return None
    if y is None:
        raise ValueError(f"{model.name} is conditional: give the class label y")
    return torch.as_tensor(np.broadcast_to(np.asarray(y), (n,)).copy()).long()


def _draws(enc: Encoding, k: int, seed: int, eps) -> torch.Tensor:
    """``[K, D]`` draws of ε ~ N(0, I): the given ones, else seeded."""
    if eps is not None:
        return torch.as_tensor(eps, dtype=enc.mean.dtype).reshape(-1, enc.mean.shape[1])
    g = torch.Generator().manual_seed(seed)
    return torch.randn((k, enc.mean.shape[1]), generator=g, dtype=enc.mean.dtype)


def _log_likelihood(model, config, x, z, y, chunk: int = 1024) -> torch.Tensor:
    """log p(x|z_k) ``[K]`` of one image ``x`` ``[1, C, H, W]``."""
    out = []
    for i in range(0, len(z), chunk):
        zb = z[i : i + chunk]
        yb = None if y is None else y[: len(zb)]
        logits = model.decode_logits(zb, yb)
        out.append(-reconstruction_nll(logits, x.expand_as(logits), config))
    return torch.cat(out)


@torch.inference_mode()
def image_loss(
    space_or_model,
    x,
    y=None,
    samples: int = 64,
    seed: int = 0,
    eps=None,
) -> ImageLoss | None:
    """One image's loss through the model's own loss functions
    (``loss.reconstruction_nll`` with the model's ``ModelConfig``, and
    ``loss.kl_divergence``).

    Args:
        space_or_model: a ``LatentSpace`` or a model.
        x: one image ``[C, H, W]`` (uint8, or floats in [0, 1]).
        y: its class (a conditional model only).
        samples: draws of ε for the reconstruction term's Monte Carlo mean.
        seed: seeds the draws.
        eps: ``[samples, D]`` fixed draws instead (their count wins).

    Returns:
        The terms, or None when the model's likelihood is unknown: a model the
        explorer did not train (an adapter without our ``ModelConfig``) says
        nothing of p(x|z), so it has no loss to show.
    """
    model, config = _parts(space_or_model)
    if config is None:
        return None
    xb = _image_batch(x, config)
    enc = model.encode(xb, _labels(model, y, 1))
    if enc.logvar is None:  # an AE: the code itself, no KL
        n, z, kl = 0, enc.mean, 0.0
    else:
        e = _draws(enc, samples, seed, eps)
        n = len(e)
        z = enc.mean + torch.exp(0.5 * enc.logvar) * e  # [S, D]
        kl = float(kl_divergence(enc.mean, enc.logvar)[0])
    log_lik = _log_likelihood(model, config, xb, z, _labels(model, y, len(z)))
    recon = float(-log_lik.mean())
    return ImageLoss(
        recon=recon,
        kl=kl,
        beta=float(config.beta),
        neg_elbo=recon + kl,
        loss=recon + config.beta * kl,
        samples=n,
    )


def _log_normal(z: torch.Tensor, mean, logvar) -> torch.Tensor:
    """log N(z; mean, diag exp(logvar)) ``[K]`` of rows ``z`` ``[K, D]``."""
    return -0.5 * (LOG_2PI + logvar + (z - mean).pow(2) / logvar.exp()).sum(1)


@torch.inference_mode()
def log_px_bound(
    model, x, y=None, k: int = 512, seed: int = 0, eps=None
) -> Bound | None:
    """The importance-weighted estimate of log p(x) (Burda et al. 2016):

        log p̂(x) = log (1/K) Σ_k p(x|z_k) p(z_k) / q(z_k|x),   z_k ~ q(z|x),

    with its standard error by the delta method (sd of the weights over
    √K times their mean, computed on weights scaled by the largest, so
    nothing overflows), the ELBO from the same draws ((1/K) Σ log w_k, its
    terms all sampled), and their difference, the gap, with its standard
    error (delta method on the pair: the sd of w_k / mean(w) − log w_k over
    √K).

    The gap estimates KL(q(z|x) || p(z|x)) = log p(x) − ELBO, but can only
    underestimate it: log p̂(x) is a lower bound of log p(x) in expectation
    (Jensen), tighter as K grows, while the ELBO estimate is unbiased. On a
    sample the gap is >= 0 (the log of a mean is at least the mean of the
    logs). With a Bernoulli decoder on grey-level pixels, p(x|z) is the
    training objective's likelihood, not a normalised density of grey
    levels: log p(x) is then on the loss's own scale.

    Args:
        model: a model with our ``ModelConfig``, or a ``LatentSpace``.
        x: one image ``[C, H, W]`` (uint8, or floats in [0, 1]).
        y: its class (a conditional model only).
        k: K, the number of draws from q(z|x).
        seed: seeds the draws.
        eps: ``[K, D]`` fixed draws of ε instead.

    Returns:
        The estimate, or None when the model has no likelihood we know (an
        adapter without our config) or no q(z|x) (an AE defines no p(x)).
    """
    model, config = _parts(model)
    if config is None:
        return None
    xb = _image_batch(x, config)
    enc = model.encode(xb, _labels(model, y, 1))
    if enc.logvar is None:
        return None
    e = _draws(enc, k, seed, eps)
    z = enc.mean + torch.exp(0.5 * enc.logvar) * e  # [K, D]
    log_lik = _log_likelihood(model, config, xb, z, _labels(model, y, len(z)))
    zero = torch.zeros((), dtype=z.dtype)
    log_w = (
        log_lik.double()
        + _log_normal(z, zero, zero).double()
        - _log_normal(z, enc.mean, enc.logvar).double()
    ).numpy()
    return _bound(log_w)


def _bound(log_w: np.ndarray) -> Bound:
    """The estimates from log-weights ``[K]``."""
    k = len(log_w)
    top = log_w.max()
    w = np.exp(log_w - top)  # [K], the largest is 1
    w_mean = w.mean()
    log_px = top + math.log(w_mean)
    elbo = float(log_w.mean())
    sd = math.sqrt(k / max(k - 1, 1))  # the sample sd's Bessel factor
    log_px_se = float(w.std() * sd / (math.sqrt(k) * w_mean))
    gap_se = float((w / w_mean - log_w).std() * sd / math.sqrt(k))
    return Bound(
        log_px=float(log_px),
        log_px_se=log_px_se,
        elbo=elbo,
        gap=float(log_px - elbo),
        gap_se=gap_se,
        k=k,
    )


# --- the map: its emptiest spot, and densities on it --------------------------------


def _nearest_gap(points: np.ndarray, tree) -> np.ndarray:
    return tree.query(points)[0]


def _box_grid(lo: np.ndarray, hi: np.ndarray, n: int) -> np.ndarray:
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], n), np.linspace(lo[1], hi[1], n))
    return np.stack([gx.ravel(), gy.ravel()], axis=1)


def empty_spot(
    coords: np.ndarray, grid: int = 64, keep: float = 0.98
) -> tuple[np.ndarray, float]:
    """The largest empty circle of a map: the point of the data's central box
    farthest from every data point.

    The box spans, per axis, the central ``keep`` share of the points (so a
    few outliers do not stretch it). A ``grid`` x ``grid`` search over it,
    then one finer search of the same size around the best cell.

    Args:
        coords: ``[N, 2]`` the data's map points.

    Returns:
        ``(xy [2], radius)``: the spot and its distance to the nearest point.
    """
    from scipy.spatial import cKDTree

    coords = np.asarray(coords, dtype=np.float64)
    tail = (1.0 - keep) / 2
    lo, hi = np.quantile(coords, [tail, 1.0 - tail], axis=0)
    tree = cKDTree(coords)
    points = _box_grid(lo, hi, grid)
    best = points[np.argmax(_nearest_gap(points, tree))]
    cell = (hi - lo) / (grid - 1)
    fine = _box_grid(np.maximum(best - cell, lo), np.minimum(best + cell, hi), grid)
    gaps = _nearest_gap(fine, tree)
    i = int(np.argmax(gaps))
    return fine[i], float(gaps[i])


@dataclass
class Density:
    """A density on the map, sampled on a grid.

    Attributes:
        x: ``[G]`` ascending map x of the columns.
        y: ``[G]`` ascending map y of the rows.
        values: ``[G, G]`` density per map area, ``values[i, j]`` at
            ``(x[j], y[i])`` (rows are y, as a heatmap draws them).
    """

    x: np.ndarray
    y: np.ndarray
    values: np.ndarray

    @property
    def extent(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """``((x0, x1), (y0, y1))``: pass it on to draw another on this grid."""
        return (
            (float(self.x[0]), float(self.x[-1])),
            (float(self.y[0]), float(self.y[-1])),
        )


def _affine(projection) -> tuple[np.ndarray, np.ndarray]:
    """``(P [2, D], c [2])`` with ``project(z) = z @ P.T + c``, read off the
    projection itself (a plain, aligned or PCA-kind ``MapProjection``)."""
    if not getattr(projection, "is_linear", True):
        raise ValueError("a density has an exact image on a linear map only")
    d = len(projection.components[0])
    if d < 2:
        raise ValueError("a 1-D latent lies on a line of the map: no 2-D density")
    c = projection.project(np.zeros(d))[0]
    return (projection.project(np.eye(d)) - c).T, c


def _mixture(
    means: np.ndarray, covs: np.ndarray, x: np.ndarray, y: np.ndarray
) -> np.ndarray:
    """(1/N) Σ N(means_i, covs_i) ``[N, 2]``, ``[N, 2, 2]`` on the grid ``x`` by
    ``y``: ``[G, G]``, rows y.

    Each log-density is a quadratic in the grid point (px, py): a matrix
    product of its six coefficients with the points' six monomials, then
    one exp; 3,000 components on 80 x 80 points in tens of milliseconds.
    """
    gx, gy = np.meshgrid(x, y)
    px, py = gx.ravel(), gy.ravel()  # [G*G]
    mono = np.stack([px * px, px * py, py * py, px, py, np.ones_like(px)])  # [6, G*G]
    det = covs[:, 0, 0] * covs[:, 1, 1] - covs[:, 0, 1] ** 2  # [N]
    a, b, c = covs[:, 1, 1] / det, -covs[:, 0, 1] / det, covs[:, 0, 0] / det  # inv
    mx, my = means[:, 0], means[:, 1]
    coef = np.stack(  # [N, 6]: -q/2 - log(2 pi) - log(det)/2 by monomial
        [
            -0.5 * a,
            -b,
            -0.5 * c,
            a * mx + b * my,
            c * my + b * mx,
            -0.5 * (a * mx * mx + 2 * b * mx * my + c * my * my)
            - np.log(2 * np.pi)
            - 0.5 * np.log(det),
        ],
        axis=1,
    )
    total = np.zeros(len(px))
    for i in range(0, len(means), 1024):  # [1024, G*G] at a time
        total += np.exp((coef[i : i + 1024] @ mono).astype(np.float32)).sum(0)
    return (total / len(means)).reshape(len(y), len(x))


def _box(means: np.ndarray, covs: np.ndarray, k: float = 3.0) -> np.ndarray:
    """``[2, 2]`` rows lo, hi: the mixture's mean ± k sd per axis."""
    centre = means.mean(0)
    var = means.var(0) + covs[:, [0, 1], [0, 1]].mean(0)
    return np.stack([centre - k * np.sqrt(var), centre + k * np.sqrt(var)])


def _axes(extent, grid: int) -> tuple[np.ndarray, np.ndarray]:
    (x0, x1), (y0, y1) = extent
    return np.linspace(x0, x1, grid), np.linspace(y0, y1, grid)


def aggregate_posterior(
    mu: np.ndarray,
    logvar: np.ndarray,
    projection,
    grid: int = 80,
    extent=None,
    max_points: int = 3000,
    seed: int = 0,
) -> Density:
    """The aggregate posterior (1/N) Σ N(μᵢ, diag σᵢ²) on the map.

    A linear map ``project(z) = P z + c`` sends a Gaussian to a Gaussian,
    N(P μ + c, P Σ Pᵀ), so the density on the map is exact (not a
    histogram), up to the subsample.

    Args:
        mu: ``[N, D]`` posterior means. logvar: ``[N, D]`` log-variances.
        projection: the map's linear projection.
        grid: G, points per side.
        extent: ``((x0, x1), (y0, y1))``; default: the box holding the
            prior's and the aggregate's mean ± 3 sd per axis.
        max_points: N larger than this is subsampled (seeded, no repeats).
    """
    if logvar is None:
        raise ValueError("an AE has no posterior to aggregate: it needs a VAE")
    mu = np.asarray(mu, dtype=np.float64)
    var = np.exp(np.asarray(logvar, dtype=np.float64))
    if len(mu) > max_points:
        keep = np.random.default_rng(seed).choice(len(mu), max_points, replace=False)
        mu, var = mu[keep], var[keep]
    p, c = _affine(projection)
    means = mu @ p.T + c  # [N, 2]
    covs = np.einsum("id,nd,jd->nij", p, var, p)  # [N, 2, 2]
    if extent is None:
        prior = _box(c[None], (p @ p.T)[None])
        data = _box(means, covs)
        extent = tuple(
            (min(prior[0, i], data[0, i]), max(prior[1, i], data[1, i]))
            for i in range(2)
        )
    x, y = _axes(extent, grid)
    return Density(x, y, _mixture(means, covs, x, y))


def prior_density(projection, grid: int = 80, extent=None) -> Density:
    """The prior N(0, I) on the map: N(c, P Pᵀ) under ``project(z) = P z + c``.

    Args:
        grid, extent: as ``aggregate_posterior``'s (give its ``Density.extent``
            to draw both on one grid); default extent: the prior's ±3 sd box.
    """
    p, c = _affine(projection)
    cov = (p @ p.T)[None]
    if extent is None:
        box = _box(c[None], cov)
        extent = ((box[0, 0], box[1, 0]), (box[0, 1], box[1, 1]))
    x, y = _axes(extent, grid)
    return Density(x, y, _mixture(c[None], cov, x, y))


def holes(
    agg: Density, prior: Density, top: int = 5, floor: float = 0.1, apart: int = 4
) -> np.ndarray:
    """Where the prior has mass and the data has almost none: the grid
    points with the largest prior / (aggregate + eps) among those whose prior
    is at least ``floor`` of its peak (eps: 1e-3 of the aggregate's peak,
    so an empty region ranks by its prior mass), at least ``apart`` grid
    cells from a better one (so five picks are five places, not one).

    Returns:
        ``[<= top, 2]`` map points, the emptiest first.
    """
    if not (np.array_equal(agg.x, prior.x) and np.array_equal(agg.y, prior.y)):
        raise ValueError("the two densities are on different grids")
    eps = 1e-3 * agg.values.max()
    ratio = prior.values / (agg.values + eps)
    ratio[prior.values < floor * prior.values.max()] = -np.inf
    rows, cols = np.unravel_index(np.argsort(ratio, axis=None)[::-1], ratio.shape)
    picked: list[tuple[int, int]] = []
    for r, c in zip(rows, cols, strict=True):
        if len(picked) == top or not np.isfinite(ratio[r, c]):
            break
        if all(max(abs(r - pr), abs(c - pc)) >= apart for pr, pc in picked):
            picked.append((r, c))
    return np.array([[agg.x[c], agg.y[r]] for r, c in picked]).reshape(-1, 2)


# --- does it look like data? ---------------------------------------------------------


def _flat(images) -> np.ndarray:
    a = np.asarray(images)
    scale = 1.0 / 255.0 if a.dtype == np.uint8 else 1.0
    return (a.reshape(len(a), -1).astype(np.float32)) * np.float32(scale)


def nearest_distance(images, data, chunk: int = 4096) -> np.ndarray:
    """Each image's mean squared pixel distance to its nearest data image.

    Pixels in [0, 1] (uint8 arrays are divided by 255); float32, the data
    taken ``chunk`` rows at a time, as ||a||² + ||b||² − 2 a·b.

    Args:
        images: ``[M, ...]`` e.g. samples or interpolation frames.
        data: ``[N, ...]`` images of the same size.

    Returns:
        ``[M]`` float32 distances (0: a copy of a data image).
    """
    a = _flat(images)
    a_sq = (a * a).sum(1)  # [M]
    best = np.full(len(a), np.inf, dtype=np.float32)
    data = np.asarray(data)
    for i in range(0, len(data), chunk):
        b = _flat(data[i : i + chunk])  # [n, P]
        d = a_sq[:, None] + (b * b).sum(1)[None] - 2.0 * (a @ b.T)  # [M, n]
        np.minimum(best, d.min(1), out=best)
    return np.maximum(best, 0.0) / a.shape[1]
