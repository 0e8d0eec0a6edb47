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
catastrophically at small γ. Where the active rows are (nearly) parallel, M has
condition ‖A‖²/γ and m = M⁻¹Aᵀr by Cramer's rule errs by ε‖A‖²/γ across the ridge; one
step of iterative refinement, with the residual formed in factored form, removes that
(`_pieces`). Everything is carried in the log domain, scaled by a known upper bound, so
nothing underflows at small γ or far from the decoder's range.

**Normal probabilities.** log(Φ(b) − Φ(a)) is formed from two evaluations of
erfcx(x) = e^(x²) erfc(x): in a tail, reflected so that l ≤ h ≤ 0,
Φ(h) − Φ(l) = e^(−h²/2) [erfcx(−h/√2) − erfcx(−l/√2) e^(−(h − l)(−h − l)/2)] / 2; across 0,
1 − Φ(a) − Φ(−b). Relative accuracy ε, except for intervals narrow against the unit
scale, whose share of the mass is proportionally small. (jax.scipy's erfcx returns 0 on
[26.54, 26.64] in jax 0.10.2 and its log_ndtr has relative error 4e-9 near −20; neither
is used there.) Derivatives are the closed forms e^s φ(b) db − e^s φ(a) da of the
scaled mass e^s (Φ(b) − Φ(a)), never divided by Φ(b) − Φ(a).

**κ = 1: exact.** The kinks ±α/|w_j| cut the line into 2d + 1 intervals and
p(x) = Σ_intervals C · (Φ(√Λ(u − m)) − Φ(√Λ(l − m))). No quadrature: the only error
is rounding (about 1e-14 relative, γ down to 1e-6).

**κ = 2: inner integral exact, outer by graded Gauss–Legendre.** The plane (rotated once,
z ↦ Rz with R fixed by W, so that no kink line is near vertical; p is invariant) is
cut into the vertical decomposition of the arrangement: slabs between the z₁-coordinates
of the d(2d − 1) pairwise crossings of the lines, each cut by the 2d lines (which do not
cross inside it) into 2d + 1 trapezoids on which π_α is affine: (d(2d − 1) + 1)(2d + 1)
pieces (112 for d = 3, 4011 for d = 10), shared by all data points. On a piece,
standardise its Gaussian: T = (z₁ − m₁)/s₁ with s₁² = (Λ⁻¹)₁₁, S = √Λ₂₂ (z₂ − E[z₂|z₁]).
T and S are independent N(0, 1), the piece becomes Q = {t_a ≤ T ≤ t_b, a₀ + a₁T ≤ S ≤ b₀ + b₁T}
and

    P(Q) = ∫_{t_a}^{t_b} φ(t) [Φ(b₀ + b₁t) − Φ(a₀ + a₁t)] dt,

with the inner integral in closed form. At small γ the outer integrand has narrow
features, all at known places: a tail peak at the T-coordinate p_T of the point p of Q
nearest the origin (width ~ 1/(1 + |p|)), steps where a sloped edge crosses S = 0
(width ~ 1/|a₁|, 1/|b₁|), and corner layers at the slab ends (width
~ 1/((1 + distance)(1 + |a₁| + |b₁|))). Composite Gauss–Legendre panels (``order``
nodes) are graded geometrically (``levels`` levels) from each of these scales up to
the window |T − p_T| ≤ 11, outside which Q holds less than e^(−60) of its mass (on Q,
|q|² ≥ |p|² + |q − p|², by convexity; the same inequality gives the scale
φ(t)(Φ(B) − Φ(A)) ≤ e^(−|p|²/2)/√(2π)). The design (centres, scales, window) is held
fixed under differentiation, the slab ends and kink lines are not, and masses are
kept linear in the panel widths, so first and second derivatives are those of the
integral. The default (8 levels, 8 nodes: 544 nodes per piece) agrees with a far finer
rule (40, 16) to about 1e-12 relative in stress tests over α ≤ 2, γ from 1 down to
1e-8, points on and 20 units off the decoder's range, d = 1 to 5, W with zero entries or
zero rows; and, where W has parallel rows (W = [u, 0] turned, or rows that load on one
latent axis each, which factors p into κ = 1 integrals), it agrees with the exact κ = 1
result to 2e-13 relative down to γ = 1e-8.

Cost (κ = 2) grows like n d³: on the 2-core CPU, at the default resolution, value and
gradient take about 0.1 s for n = 20, d = 3 and 25 s for n = 200, d = 10. ``max_pieces``
integrates only the pieces with the largest rigorous upper bounds C·Φ̄(|p|) ≥ C·P(Q)
(`log_marginal` adds the bound on the rest to its accuracy estimate): fast where the
posterior is concentrated (small γ), loose where it is spread over many pieces.

Public API: `DecoderParams`, `decoder_params`, `log_marginal_points` (the pure,
jittable core), `log_likelihood`, `marginal_energy` (an objective ``f(theta, X, alpha)``
for `landscape.multistart`, `landscape.certify`, `landscape.dense_hessian`,
`landscape.lanczos`), and `log_marginal` (checked, with an accuracy estimate).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cache, partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from landscape.common import checks as V
from landscape.core.params import VAEParams

__all__ = [
    "DecoderParams",
    "decoder_params",
    "LogMarginal",
    "log_marginal_points",
    "log_likelihood",
    "marginal_energy",
    "log_marginal",
    "DEFAULT_LEVELS",
    "DEFAULT_ORDER",
]

DEFAULT_LEVELS = 8  # geometric grading levels per side of each design point (κ = 2)
DEFAULT_ORDER = 8  # Gauss–Legendre nodes per panel (κ = 2)

_LOG_2PI = math.log(2.0 * math.pi)
_INV_SQRT_2 = 0.7071067811865476
_LN2 = math.log(2.0)
_TINY_ROW2 = 1e-300  # ‖w_j‖² below this: the row's kinks lie beyond 1e150·α, where the prior has no mass
_ZMAX = 1e50  # kink coordinates are clipped to ±_ZMAX (prior mass beyond: exp(−5e99))
_WINDOW = 11.0  # half-width, in standard units, of the outer window around p_T
_POINT_BUDGET = 1 << 21  # quadrature nodes evaluated together (memory bound for κ = 2)


class DecoderParams(NamedTuple):
    """θ = (W, b, γ) of the decoder π_α(Wz) + b with noise γI, as a pytree.

    Fields, in the order used by ``jax.flatten_util.ravel_pytree`` (the first three of
    `landscape.VAEParams`):
      W: decoder weights W_x, shape (d, κ), κ ∈ {1, 2}.
      b: decoder bias b_x, shape (d,).
      log_gamma: log of the decoder variance γ, a scalar.
    """

    W: jax.Array
    b: jax.Array
    log_gamma: jax.Array

    @property
    def gamma(self) -> jax.Array:
        """The decoder variance γ = exp(log_gamma)."""
        return jnp.exp(self.log_gamma)


def decoder_params(params: VAEParams) -> DecoderParams:
    """The θ part (W, b, log_gamma) of a `landscape.VAEParams`, as `DecoderParams`."""
    if not isinstance(params, VAEParams):
        raise ValueError(f"params must be a landscape.VAEParams, got {type(params).__name__}.")
    return DecoderParams(params.W, params.b, params.log_gamma)


# ---------------------------------------------------------------------------------------
# log Φ and log(Φ(b) − Φ(a)), accurate in both tails, with NaN-free derivatives.


_ERFCX_SWITCH = 15.0


def _erfcx(x):
    """erfcx(x) = exp(x²) erfc(x) for x ≥ 0.

    Below _ERFCX_SWITCH by jax.scipy; above, by 10 terms of the asymptotic series
    1/(x√π) Σ_k (−1)^k (2k − 1)!! / (2x²)^k, whose error there is below 1e-17.
    (jax.scipy.special.erfcx returns 0 on x ∈ [26.54, 26.64] in jax 0.10.2.)
    """
    small = x < _ERFCX_SWITCH
    lo = jax.scipy.special.erfcx(jnp.where(small, x, 0.0))
    xb = jnp.where(small, _ERFCX_SWITCH, x)
    u = 1.0 / (2.0 * xb * xb)
    series = jnp.ones_like(xb)
    for k in range(10, 0, -1):  # Horner: 1 − u(1 − 3u(1 − 5u(…)))
        series = 1.0 - (2 * k - 1) * u * series
    return jnp.where(small, lo, series / (xb * math.sqrt(math.pi)))


def _log_ndtr(x):
    """log Φ(x), relatively accurate for every x, twice differentiable without NaN.

    With e = erfcx(|x|/√2): x < 0 gives −x²/2 + log(e/2), x ≥ 0 gives log1p(−e e^(−x²/2)/2).
    (jax.scipy's log_ndtr switches to a 3-term asymptotic series at x = −20, with a
    relative error of 4e-9 in Φ there.)
    """
    e = _erfcx(jnp.abs(x) * _INV_SQRT_2)
    neg = x < 0
    xn = jnp.where(neg, x, 0.0)
    xp = jnp.where(neg, 0.0, x)
    return jnp.where(neg, -0.5 * xn * xn + jnp.log(0.5 * e), jnp.log1p(-0.5 * e * jnp.exp(-0.5 * xp * xp)))


def _log_ndtr_diff(a, b):
    """log(Φ(b) − Φ(a)) for a ≤ b; −∞ where the interval is empty (b ≤ a).

    With Φ(x) = erfcx(−x/√2) e^(−x²/2) / 2 for x ≤ 0, and two erfcx evaluations:

    - in a tail (both arguments on one side of 0), reflect so that l ≤ h ≤ 0:
      Φ(h) − Φ(l) = e^(−h²/2) [erfcx(−h/√2) − erfcx(−l/√2) e^(−(l² − h²)/2)] / 2,
      with l² − h² = (h − l)(−h − l) ≥ 0 formed without cancellation;
    - straddling 0: Φ(b) − Φ(a) = 1 − Φ(a) − Φ(−b), each term at most ½.

    Relative accuracy is ε·max(1, 1/((b − a)(1 + |a| + |b|))): an interval narrow
    against the unit scale loses digits, but then carries proportionally little mass.
    Infinite bounds may be passed as ∓_BIG (exact: their terms underflow to 0). Not
    differentiated directly: derivatives come from `_scaled_mass`'s closed form.
    """
    right = a >= 0
    tail = right | (b <= 0)
    lo = jnp.where(right, -b, a)  # in a tail: lo ≤ hi ≤ 0
    hi = jnp.where(right, -a, b)
    x1 = jnp.where(tail, -hi, -a) * _INV_SQRT_2  # ≥ 0 in both cases
    x2 = jnp.where(tail, -lo, b) * _INV_SQRT_2
    e1 = _erfcx(x1)
    e2 = _erfcx(x2)
    q1 = jnp.where(tail, 0.0, 0.5 * a * a)
    q2 = jnp.where(tail, 0.5 * (hi - lo) * (-hi - lo), 0.5 * b * b)
    ee2 = e2 * _exp_ftz(-q2)
    inner = jnp.where(tail, e1 - ee2, 1.0 - 0.5 * (e1 * _exp_ftz(-q1) + ee2))
    hs = jnp.where(tail, hi, 0.0)
    return jnp.where(tail, -0.5 * hs * hs - _LN2, 0.0) + _safe_log(inner)


@jax.custom_jvp
def _scaled_mass(a, b, s):
    """e^s (Φ(b) − Φ(a)) for a ≤ b, with the closed-form derivative

        d = e^s (Φ(b) − Φ(a)) ds + e^s φ(b) db − e^s φ(a) da,

    which never divides by Φ(b) − Φ(a). Two consequences: an interval of zero width
    keeps its derivative e^s φ(a)(db − da) (the Leibniz term that cancels against its
    neighbours'; dropped, the gradient is wrong wherever two cuts coincide), and second
    derivatives stay accurate near the tip of a triangle, where Φ(b) − Φ(a) → 0 and a
    log-domain derivative would cancel catastrophically."""
    v = _log_ndtr_diff(a, b)
    return jnp.where(v > -jnp.inf, _exp_ftz(s + jnp.where(v > -jnp.inf, v, 0.0)), 0.0)


@_scaled_mass.defjvp
def _scaled_mass_jvp(primals, tangents):
    a, b, s = primals
    da, db, ds = tangents
    out = _scaled_mass(a, b, s)
    fa = _exp_ftz(s - 0.5 * a * a - 0.5 * _LOG_2PI)
    fb = _exp_ftz(s - 0.5 * b * b - 0.5 * _LOG_2PI)
    return out, out * ds + fb * db - fa * da


_BIG = 1e150  # stands for an infinite bound in _log_ndtr_diff


def _bounds(a, b, has_a, has_b):
    """(a, b) with −∞ / +∞ (``has_*`` False) replaced by ∓_BIG."""
    return jnp.where(has_a, a, -_BIG), jnp.where(has_b, b, _BIG)


def _safe_log(x):
    ok = x > 0
    return jnp.where(ok, jnp.log(jnp.where(ok, x, 1.0)), -jnp.inf)


_EXP_FLOOR = -700.0  # exp of anything lower is flushed to 0 (below the largest subnormal)
_EXP_CEIL = 600.0  # and exponents are capped here; every exponent formed here is ≤ 0 up to rounding


def _exp_ftz(x):
    """exp(x), flushed to 0 below e^−700 and capped at e^600.

    Subnormal results make the CPU's arithmetic (and so the reverse pass) several times
    slower, and are below any term that counts. The cap only matters for pieces whose
    coordinates are so far out (|T| ~ 1e50) that their exponent is lost to rounding: it
    keeps their value finite, so that their weight 0 gives 0 rather than NaN.
    """
    keep = x > _EXP_FLOOR
    return jnp.where(keep, jnp.exp(jnp.where(keep, jnp.minimum(x, _EXP_CEIL), 0.0)), 0.0)


def _logsumexp(x, axis=-1):
    """log Σ exp(x) along ``axis``; −∞ (with zero gradient) when every entry is −∞.

    Terms below e^−700 of the largest are dropped (relative 1e-304)."""
    mx = jax.lax.stop_gradient(jnp.max(x, axis=axis, keepdims=True))
    mx = jnp.where(jnp.isfinite(mx), mx, 0.0)
    s = jnp.sum(_exp_ftz(x - mx), axis=axis)
    return _safe_log(s) + jnp.squeeze(mx, axis=axis)


# ---------------------------------------------------------------------------------------
# κ = 1: exact.


def _kinks(w, alpha):
    """α/|w_j| for rows with a kink (clipped to _ZMAX), 0 for w_j = 0 (a harmless extra cut)."""
    aw = jnp.abs(w)
    real = w * w > _TINY_ROW2
    near = real & (aw * _ZMAX > alpha)
    k = alpha / jnp.where(near, aw, 1.0)
    return jnp.where(near, k, jnp.where(real, _ZMAX, 0.0))


def _interior_points(cuts, axis=-1):
    """One point inside each of the len(cuts) + 1 intervals cut by the sorted ``cuts``:
    midpoints, and beyond the ends by max(1, |end|). No gradient (they only decide
    which affine piece of π_α is in force there)."""
    cs = jax.lax.stop_gradient(jnp.moveaxis(cuts, axis, -1))
    first, last = cs[..., :1], cs[..., -1:]
    inner = 0.5 * (cs[..., :-1] + cs[..., 1:])
    out = jnp.concatenate([first - jnp.maximum(1.0, jnp.abs(first)), inner, last + jnp.maximum(1.0, jnp.abs(last))], -1)
    return jnp.moveaxis(out, -1, axis)


def _log_marginal_k1(theta: DecoderParams, X, alpha):
    W, b, log_gamma = theta
    n, d = X.shape
    w = W[:, 0]
    gamma = jnp.exp(log_gamma)
    k = _kinks(w, alpha)
    cuts = jnp.sort(jnp.concatenate([-k, k]))  # (2d,)
    nint = 2 * d + 1
    has_lo = np.arange(nint) > 0
    has_hi = np.arange(nint) < nint - 1
    lo = jnp.concatenate([cuts[:1], cuts])
    hi = jnp.concatenate([cuts, cuts[-1:]])
    mid = _interior_points(cuts)  # decides which rows are active on each interval
    u = mid[:, None] * jax.lax.stop_gradient(w)[None, :]
    act = (jnp.abs(u) > alpha) | (alpha == 0)  # π_0 is the identity, also for w_j = 0
    a = jnp.where(act, w[None, :], 0.0)  # (nint, d): slope of π_α(w z) on the interval
    c = jnp.where(act, -alpha * jnp.sign(u), 0.0)  # (nint, d): offset
    Mv = gamma + jnp.sum(a * a, axis=-1)  # (nint,): γ·Λ
    log_det = jnp.log(Mv) - log_gamma  # log Λ
    sq = jnp.sqrt(Mv / gamma)  # √Λ

    Y = X - b
    r = Y[:, None, :] - c[None]  # (n, nint, d)
    m = jnp.einsum("nid,id->ni", r, a) / Mv
    res = r - m[..., None] * a
    E = m * m + jnp.sum(res * res, axis=-1) / gamma
    log_c = -0.5 * d * (_LOG_2PI + log_gamma) - 0.5 * log_det - 0.5 * E
    A = sq * (lo - m)
    B = sq * (hi - m)
    A, B = _bounds(A, B, has_lo, has_hi)
    top = jax.lax.stop_gradient(jnp.max(log_c + _log_ndtr_diff(A, B), axis=-1, keepdims=True))
    return _safe_log(jnp.sum(_scaled_mass(A, B, log_c - top), axis=-1)) + top[..., 0]


# ---------------------------------------------------------------------------------------
# κ = 2: vertical decomposition, inner integral exact, outer graded Gauss–Legendre.


@cache
def _gauss_legendre(order: int):
    return np.polynomial.legendre.leggauss(order)


def _rotation(W):
    """A fixed rotation R (no gradient) after which no kink line w_jᵀz = ±α is near vertical."""
    d = W.shape[0]
    Ws = jax.lax.stop_gradient(W)
    nrm2 = jnp.sum(Ws * Ws, axis=1)
    real = nrm2 > _TINY_ROW2
    om = np.pi * np.arange(4 * d) / (4 * d)
    e2 = np.stack([-np.sin(om), np.cos(om)])  # (2, K): candidate second axes
    score = jnp.abs(Ws @ e2) / jnp.sqrt(jnp.where(real, nrm2, 1.0))[:, None]
    score = jnp.min(jnp.where(real[:, None], score, jnp.inf), axis=0)
    best = jnp.argmax(score)
    co, si = jnp.cos(jnp.asarray(om))[best], jnp.sin(jnp.asarray(om))[best]
    return jnp.stack([jnp.stack([co, -si]), jnp.stack([si, co])])  # columns e1', e2'


class _Trapezoids(NamedTuple):
    """The vertical decomposition of the kink arrangement (shared by all data points)."""

    A: jax.Array  # (P, d, 2) rows of W active on the trapezoid (rotated frame)
    c: jax.Array  # (P, d) offsets: π_α(Wz) = A z + c there
    z_lo: jax.Array  # (P,) slab ends in z₁ (entries ignored where has_zlo/has_zhi is False)
    z_hi: jax.Array
    has_zlo: np.ndarray  # (P,) bool, static
    has_zhi: np.ndarray
    lo0: jax.Array  # (P,) lower kink line z₂ = lo0 + lo1 z₁ (ignored where not has_lo)
    lo1: jax.Array
    hi0: jax.Array  # (P,) upper kink line
    hi1: jax.Array
    lo_v: jax.Array  # (P, 2) the normals v of the two lines (v·z = ±α)
    hi_v: jax.Array
    lo_row: jax.Array  # (P,) the rows of W the two lines belong to
    hi_row: jax.Array
    has_lo: np.ndarray  # (P,) bool, static
    has_hi: np.ndarray


def _lines(Wr, alpha):
    """The 2d kink lines v·z = ±α as z₂ = c0 + c1 z₁ (rotated frame, so v₂ ≠ 0).

    Returns (c0, c1, v1, v2, row), each (2d,): the lines of row j are j (+α) and d + j
    (−α), with normal v = w_j and ``row`` = j. A zero row has no kink: it gets copies of a real row's lines
    (which only add gaps of zero height); if W = 0, the line z₂ = 0 with v = (0, 1).
    """
    w1, w2 = Wr[:, 0], Wr[:, 1]
    real = w1 * w1 + w2 * w2 > _TINY_ROW2
    any_real = jnp.any(real)
    ref = jnp.argmax(jnp.where(real, jnp.abs(jax.lax.stop_gradient(w2)), -1.0))
    v1 = jnp.where(real, w1, jnp.where(any_real, w1[ref], 0.0))
    v2 = jnp.where(real, w2, jnp.where(any_real, w2[ref], 1.0))
    slope = -v1 / v2
    near = jnp.abs(v2) * _ZMAX > alpha
    off = alpha / jnp.where(near, v2, 1.0)
    off = jnp.where(near, off, jnp.sign(v2) * _ZMAX)
    off = jnp.where(real | any_real, off, 0.0)

    row = jnp.where(real, jnp.arange(Wr.shape[0]), ref)

    def both(v):
        return jnp.concatenate([v, v])

    return jnp.concatenate([off, -off]), both(slope), both(v1), both(v2), both(row)


def _trapezoids(Wr, alpha) -> _Trapezoids:
    d = Wr.shape[0]
    nl = 2 * d
    c0, c1, v1, v2, row = _lines(Wr, alpha)
    I, J = np.triu_indices(nl, 1)
    dc1 = c1[I] - c1[J]
    dc0 = c0[J] - c0[I]
    crossing = jnp.abs(dc1) > 1e-13 * (1.0 + jnp.abs(c1[I]) + jnp.abs(c1[J]))
    near = crossing & (jnp.abs(dc0) < _ZMAX * jnp.abs(dc1))
    zv = dc0 / jnp.where(near, dc1, 1.0)
    zv = jnp.where(near, zv, jnp.where(crossing, jnp.sign(dc0 * dc1) * _ZMAX, 0.0))
    cuts = jnp.sort(zv)  # (V,) slab ends; parallel pairs give harmless cuts at 0
    nv = cuts.shape[0]
    ns = nv + 1
    zlo = jnp.concatenate([cuts[:1], cuts])
    zhi = jnp.concatenate([cuts, cuts[-1:]])
    has_zlo = np.arange(ns) > 0
    has_zhi = np.arange(ns) < ns - 1
    zm = _interior_points(cuts)  # (ns,) one z₁ inside each slab

    c0s, c1s = jax.lax.stop_gradient(c0), jax.lax.stop_gradient(c1)
    Yl = c0s[None, :] + c1s[None, :] * zm[:, None]  # (ns, nl): line heights mid-slab
    order = jnp.argsort(Yl, axis=1)
    Ys = jnp.take_along_axis(Yl, order, axis=1)
    y_mid = _interior_points(Ys, axis=1)  # (ns, ng): one z₂ inside each gap at z₁ = zm
    c0o, c1o, v1o, v2o, rowo = c0[order], c1[order], v1[order], v2[order], row[order]  # (ns, nl)
    ng = nl + 1
    Wsg = jax.lax.stop_gradient(Wr)
    u = zm[:, None, None] * Wsg[None, None, :, 0] + y_mid[:, :, None] * Wsg[None, None, :, 1]  # (ns, ng, d)
    act = (jnp.abs(u) > alpha) | (alpha == 0)  # π_0 is the identity, also for w_j = 0
    A = jnp.where(act[..., None], Wr[None, None], 0.0)  # (ns, ng, d, 2)
    c = jnp.where(act, -alpha * jnp.sign(u), 0.0)

    gi = np.arange(ng)
    lo_idx = np.maximum(gi - 1, 0)
    hi_idx = np.minimum(gi, nl - 1)
    P = ns * ng
    return _Trapezoids(
        A=A.reshape(P, d, 2),
        c=c.reshape(P, d),
        z_lo=jnp.repeat(zlo, ng),
        z_hi=jnp.repeat(zhi, ng),
        has_zlo=np.repeat(has_zlo, ng),
        has_zhi=np.repeat(has_zhi, ng),
        lo0=c0o[:, lo_idx].reshape(P),
        lo1=c1o[:, lo_idx].reshape(P),
        hi0=c0o[:, hi_idx].reshape(P),
        hi1=c1o[:, hi_idx].reshape(P),
        lo_v=jnp.stack([v1o[:, lo_idx], v2o[:, lo_idx]], axis=-1).reshape(P, 2),
        hi_v=jnp.stack([v1o[:, hi_idx], v2o[:, hi_idx]], axis=-1).reshape(P, 2),
        lo_row=rowo[:, lo_idx].reshape(P),
        hi_row=rowo[:, hi_idx].reshape(P),
        has_lo=np.tile(gi > 0, ns),
        has_hi=np.tile(gi < ng - 1, ns),
    )


class _Cells(NamedTuple):
    """Per-trapezoid quantities that depend on θ but not on the data point."""

    tz: _Trapezoids
    M11: jax.Array
    M12: jax.Array
    M22: jax.Array
    det: jax.Array  # det M, M = γI + AᵀA
    log_det_lam: jax.Array  # log det Λ = log det M − 2 log γ
    s1: jax.Array  # sd of z₁ under the cell's Gaussian
    sq: jax.Array  # √Λ₂₂
    a1: jax.Array  # slopes of the lower and upper edges in (T, S)
    b1: jax.Array


def _edge_slope(v, row, A, gamma, sdet):
    """Slope in (T, S) of the kink line v·z = ±α: (c1 M₂₂ + M₁₂)/√det M with c1 = −v₁/v₂.

    Formed as (−v₁γ + Σ_k A_k2 (v₂A_k1 − v₁A_k2)) / (v₂ √det M): a line parallel to the
    cell's ridge (v = an active row) has slope −v₁γ/(v₂√det M), which the direct form
    would get as the difference of two O(1) numbers (relative error ε/γ). The line's own
    row is zeroed explicitly: v₂v₁ − v₁v₂ is not 0 when the compiler fuses it into an FMA.
    """
    v1, v2 = v[:, 0:1], v[:, 1:2]
    own = np.arange(A.shape[1])[None, :] == row[:, None]
    cross = jnp.where(own, 0.0, v2 * A[..., 0] - v1 * A[..., 1])  # (P, d)
    num = -v1[:, 0] * gamma + jnp.sum(A[..., 1] * cross, axis=-1)
    return num / (v2[:, 0] * sdet)


def _cells(W, log_gamma, alpha) -> _Cells:
    d = W.shape[0]
    gamma = jnp.exp(log_gamma)
    Wr = W @ _rotation(W)
    tz = _trapezoids(Wr, alpha)
    A = tz.A
    G11 = jnp.sum(A[..., 0] ** 2, axis=-1)
    G22 = jnp.sum(A[..., 1] ** 2, axis=-1)
    G12 = jnp.sum(A[..., 0] * A[..., 1], axis=-1)
    if d > 1:  # det AᵀA by Cauchy–Binet: a sum of squares, exact for rank-deficient A
        I, J = np.triu_indices(d, 1)
        cross = A[:, I, 0] * A[:, J, 1] - A[:, I, 1] * A[:, J, 0]
        detG = jnp.sum(cross * cross, axis=-1)
    else:
        detG = jnp.zeros_like(G11)
    M11, M22, M12 = gamma + G11, gamma + G22, G12
    det = gamma * gamma + gamma * (G11 + G22) + detG
    sdet = jnp.sqrt(det)
    return _Cells(
        tz=tz,
        M11=M11,
        M12=M12,
        M22=M22,
        det=det,
        log_det_lam=jnp.log(det) - 2.0 * log_gamma,
        s1=jnp.sqrt(gamma * M22 / det),
        sq=jnp.sqrt(M22 / gamma),
        a1=_edge_slope(tz.lo_v, tz.lo_row, A, gamma, sdet),
        b1=_edge_slope(tz.hi_v, tz.hi_row, A, gamma, sdet),
    )


class _Piece(NamedTuple):
    """One data point's view of the trapezoids: (T, S) coordinates, log C, design."""

    log_c: jax.Array
    ta: jax.Array
    tb: jax.Array
    a0: jax.Array
    b0: jax.Array
    a1: jax.Array
    b1: jax.Array
    p: jax.Array  # T-coordinate of the point of Q nearest the origin (no gradient)
    dist: jax.Array  # its distance |p| (no gradient)
    dist_lo: jax.Array  # distances of the two vertical sides t = t_a, t = t_b (no gradient)
    dist_hi: jax.Array
    empty: jax.Array


def _pieces(cl: _Cells, y, log_gamma) -> _Piece:
    """The standardised trapezoids Q for the point y = x − b."""
    tz = cl.tz
    d = y.shape[0]
    gamma = jnp.exp(log_gamma)
    A = tz.A
    r = y[None, :] - tz.c  # (P, d)
    g1 = jnp.sum(A[..., 0] * r, axis=-1)
    g2 = jnp.sum(A[..., 1] * r, axis=-1)

    def solve(h1, h2):  # M⁻¹h by Cramer's rule
        return (cl.M22 * h1 - cl.M12 * h2) / cl.det, (cl.M11 * h2 - cl.M12 * h1) / cl.det

    def residual(m1, m2):
        return r - A[..., 0] * m1[:, None] - A[..., 1] * m2[:, None]

    # m = M⁻¹g, then one step of iterative refinement with the residual in factored form,
    # g − Mm = Aᵀ(r − Am) − γm, which is small and formed without cancellation. Cramer's
    # rule alone errs by ε cond(M) = ε|A|²/γ across a ridge (one active row, or parallel
    # ones): 9e-10 relative in log p at γ = 1e-8, against 2e-13 refined (tests/test_marginal.py).
    # As a function of θ the step is the identity (m + M⁻¹(g − Mm) = M⁻¹g for any m), so
    # every derivative is that of M⁻¹g.
    m1, m2 = solve(g1, g2)
    res = residual(m1, m2)
    d1, d2 = solve(jnp.sum(A[..., 0] * res, axis=-1) - gamma * m1, jnp.sum(A[..., 1] * res, axis=-1) - gamma * m2)
    m1, m2 = m1 + d1, m2 + d2
    res = residual(m1, m2)
    E = m1 * m1 + m2 * m2 + jnp.sum(res * res, axis=-1) / gamma
    log_c = -0.5 * d * (_LOG_2PI + log_gamma) - 0.5 * cl.log_det_lam - 0.5 * E

    ta = (tz.z_lo - m1) / cl.s1
    tb = (tz.z_hi - m1) / cl.s1
    a0 = cl.sq * (tz.lo0 + tz.lo1 * m1 - m2)
    b0 = cl.sq * (tz.hi0 + tz.hi1 * m1 - m2)

    # The design: nearest point of Q to the origin in (T, S) (no gradient).
    sg = jax.lax.stop_gradient
    ta_, tb_, a0_, b0_, a1_, b1_ = (sg(v) for v in (ta, tb, a0, b0, cl.a1, cl.b1))
    has_lo, has_hi = tz.has_lo, tz.has_hi
    T_lo = jnp.where(tz.has_zlo, ta_, -jnp.inf)
    T_hi = jnp.where(tz.has_zhi, tb_, jnp.inf)
    empty = tz.has_zlo & tz.has_zhi & (tb_ <= ta_)

    def edge(c0, c1):
        t = jnp.clip(-c0 * c1 / (1.0 + c1 * c1), T_lo, T_hi)
        s = c0 + c1 * t
        return t, t * t + s * s

    def side(t, has):
        tt = jnp.where(has, t, 0.0)
        low = jnp.where(has_lo, a0_ + a1_ * tt, -jnp.inf)
        high = jnp.where(has_hi, b0_ + b1_ * tt, jnp.inf)
        s = jnp.minimum(jnp.maximum(0.0, low), high)
        return tt, tt * tt + s * s

    t_up, d_up = edge(b0_, b1_)
    t_dn, d_dn = edge(a0_, a1_)
    t_l, d_l = side(ta_, tz.has_zlo)
    t_r, d_r = side(tb_, tz.has_zhi)
    ts = jnp.stack([t_up, t_dn, t_l, t_r])
    ds = jnp.stack(
        [
            jnp.where(has_hi, d_up, jnp.inf),
            jnp.where(has_lo, d_dn, jnp.inf),
            jnp.where(tz.has_zlo, d_l, jnp.inf),
            jnp.where(tz.has_zhi, d_r, jnp.inf),
        ]
    )
    k = jnp.argmin(ds, axis=0)
    t_near = jnp.take_along_axis(ts, k[None], axis=0)[0]
    d_near = jnp.sqrt(jnp.take_along_axis(ds, k[None], axis=0)[0])
    inside = (T_lo <= 0) & (T_hi >= 0) & (~has_lo | (a0_ <= 0)) & (~has_hi | (b0_ >= 0))
    p = jnp.where(inside, 0.0, t_near)
    dist = jnp.where(inside, 0.0, d_near)
    return _Piece(log_c, ta, tb, a0, b0, cl.a1, cl.b1, p, dist, jnp.sqrt(d_l), jnp.sqrt(d_r), empty)


def _select(pc: _Piece, m):
    """Index arrays (gathering) for the m pieces with the largest upper bounds."""
    bound = pc.log_c + jnp.where(pc.dist > 0, _log_ndtr(-pc.dist), 0.0)
    bound = jax.lax.stop_gradient(jnp.where(pc.empty, -jnp.inf, bound))
    _, idx = jax.lax.top_k(bound, m)
    rest = bound.at[idx].set(-jnp.inf)
    return idx, _logsumexp(rest)


def _piece_integrals(pc: _Piece, tz: _Trapezoids, levels: int, order: int):
    """P(Q) for each trapezoid by graded composite Gauss–Legendre in T, as (mass, top)
    with P(Q) = mass · e^top (mass ≥ 0, kept linear so that zero-width panels and slabs
    keep their derivatives)."""
    sg = jax.lax.stop_gradient
    has_lo, has_hi = tz.has_lo, tz.has_hi
    has_zlo, has_zhi = tz.has_zlo, tz.has_zhi
    p = pc.p
    # Window |T − p| ≤ _WINDOW, intersected with the slab (slab ends keep their gradient).
    w_lo, w_hi = p - _WINDOW, p + _WINDOW
    lo = jnp.where(has_zlo & (sg(pc.ta) >= w_lo), pc.ta, w_lo)
    hi = jnp.where(has_zhi & (sg(pc.tb) <= w_hi), pc.tb, w_hi)
    L = sg(hi - lo)
    a1, b1 = sg(pc.a1), sg(pc.b1)
    a0, b0 = sg(pc.a0), sg(pc.b0)
    slopes = 1.0 + jnp.where(has_lo, jnp.abs(a1), 0.0) + jnp.where(has_hi, jnp.abs(b1), 0.0)
    t_a = jnp.where(has_lo & (a1 != 0), -a0 / jnp.where(a1 != 0, a1, 1.0), p)
    t_b = jnp.where(has_hi & (b1 != 0), -b0 / jnp.where(b1 != 0, b1, 1.0), p)
    # Feature scales: the tail decay at p, the steps where the edges cross S = 0, and the
    # corner layers at the slab ends.
    centres = jnp.stack([p, t_a, t_b], axis=-1)  # (P, 3), graded on both sides
    h_c = jnp.stack([1.0 / (1.0 + pc.dist), 1.0 / (1.0 + jnp.abs(a1)), 1.0 / (1.0 + jnp.abs(b1))], axis=-1)
    h_e = jnp.stack([1.0 / ((1.0 + pc.dist_lo) * slopes), 1.0 / ((1.0 + pc.dist_hi) * slopes)], axis=-1)
    frac = np.arange(levels) / max(levels - 1, 1)

    def grading(h):  # offsets h … L, geometric
        q = jnp.maximum(L[..., None] / h, 1.0)
        return h[..., None] * q[..., None] ** frac  # (P, k, levels)

    oc = grading(h_c)
    oe = grading(h_e)
    inner = jnp.concatenate([centres[..., None] + oc, centres[..., None] - oc], axis=-1).reshape(p.shape + (-1,))
    lo_s, hi_s = sg(lo)[..., None], sg(hi)[..., None]
    cuts = jnp.concatenate([centres, inner, lo_s + oe[..., 0, :], hi_s - oe[..., 1, :]], axis=-1)
    # The panel ends: lo and hi with their derivatives, the design points between them
    # without: the sum over panels then telescopes to ∫_lo^hi whatever the ties (a slab
    # of zero width, as at α = 0, keeps the derivative of its width).
    cuts = jnp.sort(jnp.clip(cuts, lo_s, hi_s), axis=-1)
    pts = jnp.concatenate([lo[..., None], cuts, hi[..., None]], axis=-1)
    x, gw = _gauss_legendre(order)
    half = 0.5 * (pts[..., 1:] - pts[..., :-1])  # (P, panels)
    mid = 0.5 * (pts[..., 1:] + pts[..., :-1])
    t = mid[..., None] + half[..., None] * x  # (P, panels, order)
    w = half[..., None] * gw  # linear in the panel widths: a zero-width panel keeps its derivative
    Av = pc.a0[..., None, None] + pc.a1[..., None, None] * t
    Bv = pc.b0[..., None, None] + pc.b1[..., None, None] * t
    # Scale by e^top with top = −|p|²/2 − ½ log 2π ≥ log φ(t)(Φ(B) − Φ(A)) on Q (as
    # φ₂(q) ≤ φ₂(p) e^(−|q − p|²/2)), and keep the node values linear in Φ(B) − Φ(A):
    # their derivatives then never divide by it (which, near the tip of a triangle,
    # would ruin the second derivatives).
    top = -0.5 * pc.dist * pc.dist - 0.5 * _LOG_2PI
    s = -0.5 * t * t - 0.5 * _LOG_2PI - top[..., None, None]
    A, B = _bounds(Av, Bv, has_lo[..., None, None], has_hi[..., None, None])
    mass = jnp.sum(w * _scaled_mass(A, B, s), axis=(-2, -1))
    return mass, top  # P(Q) = mass · e^top


def _gather(tree, idx):
    return jax.tree.map(lambda v: v[idx], tree)


def _k2_point(cl: _Cells, y, log_gamma, levels, order, max_pieces):
    """(log p(x), log of the bound on the trapezoids left out) for one point y = x − b."""
    pc = _pieces(cl, y, log_gamma)
    tz = cl.tz
    P = pc.log_c.shape[0]
    if max_pieces is not None and max_pieces < P:
        idx, rest = _select(pc, max_pieces)
        pc = _gather(pc, idx)
        # _piece_integrals reads only the masks of tz; the rest of the piece is in pc.
        tz = tz._replace(**{k: jnp.asarray(getattr(tz, k))[idx] for k in ("has_zlo", "has_zhi", "has_lo", "has_hi")})
    else:
        rest = jnp.asarray(-jnp.inf)
    mass, top = _piece_integrals(pc, tz, levels, order)
    scale = pc.log_c + top
    big = jax.lax.stop_gradient(jnp.max(jnp.where(mass > 0, scale, -jnp.inf)))
    big = jnp.where(jnp.isfinite(big), big, 0.0)
    return _safe_log(jnp.sum(mass * _exp_ftz(scale - big))) + big, rest


def _n_pieces(d: int) -> int:
    nl = 2 * d
    return (nl * (nl - 1) // 2 + 1) * (nl + 1)


def _log_marginal_k2(theta: DecoderParams, X, alpha, levels, order, max_pieces, with_rest=False):
    W, b, log_gamma = theta
    n, d = X.shape
    cl = _cells(W, log_gamma, alpha)
    Y = X - b
    P = _n_pieces(d) if max_pieces is None else min(max_pieces, _n_pieces(d))
    nodes = P * order * (8 * levels + 4)  # quadrature nodes per point
    batch = int(max(1, min(n, _POINT_BUDGET // max(nodes, 1))))

    def one(y):
        return _k2_point(cl, y, log_gamma, levels, order, max_pieces)

    if batch >= n:
        out, rest = jax.vmap(one)(Y)
    else:  # in batches, recomputed in the reverse pass: memory O(batch), not O(n)
        out, rest = jax.lax.map(jax.checkpoint(one), Y, batch_size=batch)
    return (out, rest) if with_rest else out


# ---------------------------------------------------------------------------------------
# Public functions.


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
    if kappa == 1:
        return _log_marginal_k1(theta, X, alpha)
    if kappa == 2:
        return _log_marginal_k2(theta, X, alpha, levels, order, max_pieces)
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
    return -2.0 * log_likelihood(theta, X, alpha) - n * d * _LOG_2PI + n * kappa


@dataclass(frozen=True)
class LogMarginal:
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

    def to_dict(self) -> dict:
        return {
            "points": self.points.tolist(),
            "total": self.total,
            "energy": self.energy,
            "error_points": self.error_points.tolist(),
            "error_total": self.error_total,
            "method": self.method,
            "settings": dict(self.settings),
            "kappa": self.kappa,
        }


def _check_data(X):
    shape = np.shape(X)
    if len(shape) != 2:
        raise ValueError(f"X must be a 2-D array of shape (n, d), one row per data point; got shape {shape}.")
    if shape[0] == 0 or shape[1] == 0:
        raise ValueError(f"X is empty (shape {shape}); it needs n >= 1 rows and d >= 1 columns.")
    x = np.asarray(X)
    if not (np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.integer)):
        raise ValueError(f"X must hold real numbers, got dtype {x.dtype}.")
    if not np.all(np.isfinite(x)):
        bad = int(x.size - np.count_nonzero(np.isfinite(x)))
        raise ValueError(f"X contains {bad} NaN or inf entries; remove or impute them first.")
    return shape


def _check_theta(theta, d):
    if isinstance(theta, VAEParams):
        theta = decoder_params(theta)
    if not isinstance(theta, DecoderParams):
        raise ValueError(
            f"theta must be a landscape.marginal.DecoderParams (W, b, log_gamma), got {type(theta).__name__}; "
            "use decoder_params(vae_params) for the theta part of a VAEParams."
        )
    try:
        arrs = [np.asarray(v, dtype=np.float64) for v in theta]
    except (TypeError, ValueError) as err:
        raise ValueError(f"theta must hold real arrays (W, b, log_gamma): {err}") from None
    W, b, lg = arrs
    if W.ndim != 2 or W.shape[0] != d:
        raise ValueError(
            f"theta.W must have shape (d, kappa) = ({d}, kappa) for X with d = {d} columns; got {W.shape}."
        )
    kappa = W.shape[1]
    if kappa not in (1, 2):
        raise ValueError(
            f"theta.W has kappa = {kappa} latent columns; the exact likelihood is only implemented for "
            "kappa <= 2 (kappa = 1 in closed form, kappa = 2 by one-dimensional quadrature). "
            "Use landscape.energy for an ELBO bound at larger kappa."
        )
    if b.shape != (d,):
        raise ValueError(f"theta.b must have shape ({d},) for X with d = {d} columns; got {b.shape}.")
    if lg.shape != ():
        raise ValueError(f"theta.log_gamma must be a scalar, got an array of shape {lg.shape}.")
    for name, v in (("W", W), ("b", b), ("log_gamma", lg)):
        if not np.all(np.isfinite(v)):
            raise ValueError(f"theta.{name} contains NaN or inf; the likelihood is only defined at finite parameters.")
    with np.errstate(over="ignore"):
        g = float(np.exp(lg))
    if not (np.isfinite(g) and g > 0):
        raise ValueError(
            f"gamma = exp(theta.log_gamma) = exp({float(lg)!r}) = {g!r}; gamma must be finite and > 0 "
            "(it is the decoder variance): bring log_gamma into about [-700, 700]."
        )
    return DecoderParams(*(jnp.asarray(v) for v in arrs)), kappa


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
    value = _log_marginal_k1(theta, X, alpha)
    other = _log_marginal_k1(*_equivalent(theta, X), alpha)
    return value, jnp.abs(value - other) + _ROUNDING * (1.0 + jnp.abs(value))


@partial(jax.jit, static_argnames=("levels", "order", "max_pieces"))
def _checked_k2(theta, X, alpha, levels, order, max_pieces):
    value, rest = _log_marginal_k2(theta, X, alpha, levels, order, max_pieces, with_rest=True)
    other = _log_marginal_k2(*_equivalent(theta, X), alpha, *_check_resolution(levels, order), max_pieces)
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
    n, d = _check_data(X)
    V.check_alpha(alpha)
    theta, kappa = _check_theta(theta, d)
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
            "pieces": _n_pieces(d),
            "check": {"levels": c_levels, "order": c_order, "coordinates": "reversed", "latent": "turned"},
        }
    pts = np.asarray(pts, dtype=np.float64)
    err = np.asarray(err, dtype=np.float64)
    total = float(np.sum(pts))
    return LogMarginal(
        points=pts,
        total=total,
        energy=-2.0 * total - n * d * _LOG_2PI + n * kappa,
        error_points=err,
        error_total=float(np.sum(err)),
        method=method,
        settings=settings,
        kappa=kappa,
    )
