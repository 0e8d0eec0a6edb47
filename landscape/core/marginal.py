"""The exact marginal likelihood log p_θ(x) of the soft-threshold decoder, for κ ≤ 2.

The generative model behind eq. (5) of Dai, Wang & Wipf (2020) is

    z ~ N(0, I_κ),    x | z ~ N(π_α(W z) + b, γ I_d),    π_α(u) = sign(u)(|u| − α)_+,

so that  p_θ(x) = ∫ N(x | π_α(Wz) + b, γI) N(z | 0, I) dz,  θ = (W, b, γ). Eq. (5) is
L = −2·ELBO − nd log 2π + nκ (MATH.md §1); on the same scale

    L_p(θ) = −2 Σ_i log p_θ(x_i) − n d log 2π + n κ  ≤  L(θ, φ)  for every φ,

with equality iff every q(z | x_i) = N(μ_i, diag σ_i²) is the exact posterior
(ELBO ≤ log p). At α = 0, p_θ(x) = N(x | b, WWᵀ + γI), and at the optimum of MATH.md §6
L_p = L = L_min.

**The integrand is piecewise Gaussian.** Coordinate j of π_α(Wz) is affine in z on each
side of the kink lines w_jᵀz = ±α: w_jᵀz − α sign(w_jᵀz) where |w_jᵀz| > α, else 0. On a
cell of the arrangement of these 2d lines, π_α(Wz) = Az + c (A: the active rows of W,
c_j = −α sign(w_jᵀz) on them), and with y = x − b, r = y − c, M = γI + AᵀA, m = M⁻¹Aᵀr,
Λ = M/γ (the cell's posterior precision),

    N(z | 0, I) N(x | Az + c + b, γI) = C · N(z | m, Λ⁻¹),
    log C = −(d/2) log 2πγ − ½ log det Λ − ½ E,    E = ‖m‖² + ‖r − Am‖²/γ,

so p_θ(x) = Σ_cells C · P(N(m, Λ⁻¹) ∈ cell). E is a sum of squares (the minimum of
‖z‖² + ‖r − Az‖²/γ), never the difference ‖r‖²/γ − rᵀA M⁻¹Aᵀr/γ, which cancels
catastrophically at small γ. Everything is carried in the log domain, scaled by a known
upper bound, so nothing underflows at small γ or far from the decoder's range; the normal
probabilities P(·) are relatively accurate in both tails (`landscape.core.normal_cdf`).

- **κ = 1: exact** (`landscape.core.marginal_kappa1`): the kinks ±α/|w_j| cut the line into
  2d + 1 intervals and p(x) = Σ_intervals C · (Φ(√Λ(u − m)) − Φ(√Λ(l − m))). No quadrature:
  the only error is rounding (about 1e-14 relative, γ down to 1e-6).
- **κ = 2: inner integral exact, outer by graded Gauss–Legendre**
  (`landscape.core.marginal_kappa2`): the vertical decomposition of the kink-line
  arrangement into (d(2d − 1) + 1)(2d + 1) trapezoids, with one step of iterative
  refinement where active rows are parallel. The default (``levels`` = ``order`` = 8)
  agrees with a far finer rule to about 1e-12 relative; ``max_pieces`` integrates only the
  pieces with the largest rigorous upper bounds (`log_marginal` adds the bound on the
  rest to its accuracy estimate). Cost grows like n d³.

Public API: `DecoderParams`, `decoder_params` (`landscape.core.decoder`),
`log_marginal_points` (the pure, jittable core), `log_likelihood`, `marginal_energy` (an
objective ``f(theta, X, alpha)`` for `landscape.multistart`, `landscape.certify`,
`landscape.dense_hessian`, `landscape.lanczos`; `marginal_energy_jit` is it compiled as one
function, for callers that evaluate it eagerly), and `log_marginal` (checked, with an
accuracy estimate).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from landscape.common import checks as V
from landscape.common.results import Result
from landscape.core.decoder import DecoderParams, check_theta, decoder_params
from landscape.core.marginal_kappa1 import log_marginal_k1
from landscape.core.marginal_kappa2 import DEFAULT_LEVELS, DEFAULT_ORDER, log_marginal_k2, n_pieces
from landscape.core.normal_cdf import LOG_2PI

__all__ = [
    "DecoderParams",
    "decoder_params",
    "LogMarginal",
    "log_marginal_points",
    "log_likelihood",
    "marginal_energy",
    "marginal_energy_jit",
    "log_marginal",
    "DEFAULT_LEVELS",
    "DEFAULT_ORDER",
]


def log_marginal_points(
    theta: DecoderParams,
    X,
    alpha,
    *,
    levels: int = DEFAULT_LEVELS,
    order: int = DEFAULT_ORDER,
    max_pieces: int | None = None,
) -> jax.Array:
    """log p_θ(x_i) for every row of X, shape (n,): the pure, jittable core.

    p_θ(x) = ∫ N(x | π_α(Wz) + b, γI) N(z | 0, I) dz, the marginal of the model whose
    ELBO is eq. (5) (module docstring). No argument checks: use `log_marginal` for
    concrete inputs. Differentiable to second order in θ (and in X and α); ``alpha``
    may be traced.

    Args:
      theta: `DecoderParams` with W of shape (d, κ), κ ∈ {1, 2}; b (d,); log_gamma ().
      X: data, shape (n, d).
      alpha: the soft threshold α ≥ 0 (α = 0: the affine decoder).
      levels, order: κ = 2 only (static): geometric grading levels per side of each
        quadrature design point, and Gauss–Legendre nodes per panel. κ = 1 is exact.
      max_pieces: κ = 2 only (static): integrate only this many trapezoids per point,
        those with the largest upper bounds (None: all (d(2d − 1) + 1)(2d + 1) of them).
    """
    kappa = theta.W.shape[1]
    X = jnp.asarray(X, dtype=jnp.float64)
    theta = DecoderParams(*(jnp.asarray(v, dtype=jnp.float64) for v in theta))
    alpha = jnp.asarray(alpha, dtype=jnp.float64)
    # NaN in, NaN out: the cores select by `where` on W (zero rows, kinks beyond reach), which
    # would return the W = 0 value for a NaN W or α (and −inf for a NaN b or log γ at κ = 2).
    # 0·(Σ W + Σ b + log γ + α) is exactly 0 for finite inputs (values and derivatives unchanged,
    # bit for bit) and NaN as soon as one of them is not finite.
    poison = 0.0 * (jnp.sum(theta.W) + jnp.sum(theta.b) + theta.log_gamma + alpha)
    if kappa == 1:
        return log_marginal_k1(theta, X, alpha) + poison
    if kappa == 2:
        return log_marginal_k2(theta, X, alpha, levels, order, max_pieces) + poison
    raise ValueError(f"theta.W has kappa = {kappa} columns; the exact likelihood is only implemented for kappa <= 2.")


def log_likelihood(theta: DecoderParams, X, alpha) -> jax.Array:
    """Σ_i log p_θ(x_i), a scalar (default resolution; see `log_marginal_points`)."""
    return jnp.sum(log_marginal_points(theta, X, alpha))


def marginal_energy(theta: DecoderParams, X, alpha) -> jax.Array:
    """L_p(θ) = −2 Σ_i log p_θ(x_i) − n d log 2π + n κ: the negative log-likelihood on eq. (5)'s scale.

    For every φ, `landscape.energy` (VAEParams(θ, φ), X, α) ≥ L_p(θ) (ELBO ≤ log p),
    with equality iff each q(z | x_i) is the exact posterior; at α = 0,
    L_p(θ) = min_φ L(θ, φ). An objective ``f(theta, X, alpha)``: pass ``args=(X, alpha)``
    to `landscape.multistart`, `landscape.certify`, `landscape.dense_hessian` or
    `landscape.lanczos`. Unchecked, like `landscape.energy_objective`.
    """
    n, d = jnp.shape(X)
    kappa = theta.W.shape[1]
    return -2.0 * log_likelihood(theta, X, alpha) - n * d * LOG_2PI + n * kappa


# `marginal_energy` compiled as one function: `landscape.certify` evaluates f, ∇f and its zero-mode
# slices eagerly, which op by op costs ~15 s of dispatch on a fresh process; jitted, ~5 s.
marginal_energy_jit = jax.jit(marginal_energy)


@dataclass(frozen=True)
class LogMarginal(Result):
    """log p_θ(x_i) with an accuracy estimate (from `log_marginal`).

    Attributes:
      points: log p_θ(x_i), shape (n,).
      total: Σ_i log p_θ(x_i).
      energy: L_p(θ) = −2·total − nd log 2π + nκ (the scale of eq. (5)).
      error_points: estimated absolute error of each entry of ``points``.
      error_total: estimated absolute error of ``total`` (the sum of ``error_points``).
      method: ``"exact-intervals"`` (κ = 1) or ``"trapezoids-graded-gauss-legendre"`` (κ = 2).
      settings: the resolution used and the one it was checked against.
      kappa: the latent dimension.
    """

    points: np.ndarray
    total: float
    energy: float
    error_points: np.ndarray
    error_total: float
    method: str
    settings: dict = field(default_factory=dict)
    kappa: int = 1


_ROUNDING = 4 * np.finfo(np.float64).eps  # floor of the accuracy estimate, relative to 1 + |log p|


_TURN = np.array([[0.6, -0.8], [0.8, 0.6]])  # a fixed rotation of the latent plane (κ = 2 check)


def _equivalent(theta: DecoderParams, X):
    """The same model with the d coordinates in reverse order and, for κ = 2, the latent
    plane turned by a fixed angle (W ↦ WR, z ↦ Rᵀz; the prior is isotropic): p is
    unchanged, the rounding is not (every sum over coordinates runs the other way, and
    κ = 2 sees W in another frame, which exposes any ill-conditioning in W)."""
    W = theta.W[::-1]
    if W.shape[1] == 2:
        W = W @ _TURN
    return DecoderParams(W, theta.b[::-1], theta.log_gamma), X[:, ::-1]


def _check_resolution(levels: int, order: int) -> tuple[int, int]:
    """The coarser κ = 2 resolution the accuracy estimate compares against."""
    return max(levels - 2, 2), max(order - 2, 2)


@jax.jit
def _checked_k1(theta, X, alpha):
    value = log_marginal_k1(theta, X, alpha)
    other = log_marginal_k1(*_equivalent(theta, X), alpha)
    return value, jnp.abs(value - other) + _ROUNDING * (1.0 + jnp.abs(value))


@partial(jax.jit, static_argnames=("levels", "order", "max_pieces"))
def _checked_k2(theta, X, alpha, levels, order, max_pieces):
    value, rest = log_marginal_k2(theta, X, alpha, levels, order, max_pieces, with_rest=True)
    other = log_marginal_k2(*_equivalent(theta, X), alpha, *_check_resolution(levels, order), max_pieces)
    # The trapezoids left out (max_pieces) add at most e^rest to p: log(1 + e^(rest − value)).
    return value, jnp.abs(value - other) + jnp.exp(rest - value) + _ROUNDING * (1.0 + jnp.abs(value))


def log_marginal(
    theta: DecoderParams,
    X,
    alpha,
    *,
    levels: int = DEFAULT_LEVELS,
    order: int = DEFAULT_ORDER,
    max_pieces: int | None = None,
) -> LogMarginal:
    """log p_θ(x_i) for every row of X, with its accuracy estimate: the checked front end.

    Args:
      theta: `DecoderParams` (or a `landscape.VAEParams`, whose θ part is used).
      X: data, shape (n, d).
      alpha: soft threshold α ≥ 0.
      levels, order, max_pieces: the κ = 2 resolution (see `log_marginal_points`).

    Returns:
      A `LogMarginal`. κ = 1 is exact: the error estimate is the difference from the
      same computation with the coordinates of x in reverse order (equal in exact
      arithmetic: a measure of rounding). κ = 2: the estimate is |value − value at the
      coarser resolution (levels − 2, order − 2) with the coordinates reversed and the
      latent plane turned|, which measures quadrature and rounding error together (and
      the sensitivity to rounding in W), plus, with ``max_pieces``, the
      rigorous bound log(1 + B/p) for the bound B on the trapezoids left out.

    Raises:
      ValueError: naming the argument, for NaN/inf or negative α, NaN/inf in X or θ,
        shapes that do not match (X (n, d), W (d, κ), b (d,), log_gamma scalar), κ ∉ {1, 2},
        or γ = exp(log_gamma) not finite and positive.
    """
    n, d = V.check_points(X)
    alpha = V.check_alpha(alpha)
    theta, kappa = check_theta(theta, d)
    V.check_size("levels", levels, 3)
    V.check_size("order", order, 3)
    if max_pieces is not None:
        V.check_size("max_pieces", max_pieces, 1)
    X = jnp.asarray(X, dtype=jnp.float64)
    alpha = jnp.asarray(alpha, dtype=jnp.float64)
    if kappa == 1:
        pts, err = _checked_k1(theta, X, alpha)
        method = "exact-intervals"
        settings = {"intervals": 2 * d + 1, "check": "coordinates reversed (rounding only: the formula is exact)"}
    else:
        pts, err = _checked_k2(theta, X, alpha, levels=levels, order=order, max_pieces=max_pieces)
        method = "trapezoids-graded-gauss-legendre"
        c_levels, c_order = _check_resolution(levels, order)
        settings = {
            "levels": levels,
            "order": order,
            "max_pieces": max_pieces,
            "pieces": n_pieces(d),
            "check": {"levels": c_levels, "order": c_order, "coordinates": "reversed", "latent": "turned"},
        }
    pts = np.asarray(pts, dtype=np.float64)
    err = np.asarray(err, dtype=np.float64)
    total = float(np.sum(pts))
    return LogMarginal(
        points=pts,
        total=total,
        energy=-2.0 * total - n * d * LOG_2PI + n * kappa,
        error_points=err,
        error_total=float(np.sum(err)),
        method=method,
        settings=settings,
        kappa=kappa,
    )
