"""The leading order of m(r) = min_{‖W‖_F = r} ℓ(W) − ℓ(0) at the collapsed point (issue 19).

ℓ(W) = min over (b, log γ, μ, log σ) of eq. (5) at fixed decoder weights W, taken locally
from the collapsed values φ₀ = (b = x̄, γ = γ̄, μ = 0, σ = 1) of MATH.md §3, so ℓ(0) = L_c.
Notation as in MATH.md §4: Y = X − x̄, S = YᵀY/n with eigenvalues λ_1 ≥ … ≥ λ_d (u_1 the
top eigenvector), γ̄ = tr S / d; w_j ∈ R^κ is row j of W (it drives output coordinate j).

α = 0 (affine). The inner Hessian H_φφ at the collapsed point is positive definite (2 for μ,
4 for log σ, 2n/γ̄ for b, nd for log γ) and, by MATH.md §4, W couples only to μ, per latent
dimension k through the block [[2n/γ̄ I_d, −2Yᵀ/γ̄], [−2Y/γ̄, 2 I_n]]. By the implicit
function theorem ℓ is C² at 0 with Hessian the Schur complement

    ∇²ℓ(0) = H_WW − H_Wφ H_φφ⁻¹ H_φW = (2n/γ̄)(I_d − S/γ̄) ⊗ I_κ,

(per singular value ς_l: 2n/γ̄ − (2ς_l/γ̄)²/2 = (2n/γ̄)(1 − λ_l/γ̄)); b, log γ, log σ do not
couple to W at second order. ℓ is even (W, μ → −W, −μ leaves eq. (5) unchanged), so

    ℓ(W) − L_c = (n/γ̄) Σ_k w_{:,k}ᵀ (I − S/γ̄) w_{:,k} + O(‖W‖⁴),
    m(r) = (n/γ̄)(1 − λ_1/γ̄) r² + C₂ r⁴ + O(r⁶),      at W = r u_1 cᵀ, ‖c‖ = 1,

negative iff λ_1 > γ̄ (a saddle). The next coefficient follows from the exact α = 0 profile:
for W = w (κ = 1) the inner minimum is explicit (σ_i² = γ/(γ + ‖w‖²), μ_i = wᵀy_i/(γ + ‖w‖²),
b = x̄), ℓ(w) = min_γ n[dγ̄/γ − wᵀSw/(γ(γ + ‖w‖²)) + 1 + log(1 + ‖w‖²/γ) + d log γ], which
depends on w only through ‖w‖ and wᵀSw (decreasing in the latter), so u_1 is the sphere
minimiser at every r, and its expansion in c = r² gives
C₂ = n(2λ_1 − γ̄)((d + 1)γ̄ − 2λ_1) / (2dγ̄⁴). κ > 1 adds only the unused prior dimensions
(a rank-one W = r u_1 cᵀ is the κ = 1 problem), so m(r) does not depend on κ at these orders.

α > 0 (soft threshold). At φ₀ (no re-minimisation) u_ij ~ N(0, ‖w_j‖²): symmetric, and π_α is
odd, so E π_α(u_ij) = 0 and the cross term −2 Σ y_ij E π_α(u_ij) vanishes identically:

    L(W, φ₀) − L_c = (n/γ̄) Σ_j g(‖w_j‖²),     g(v) = E π_α(√v ζ)² = 2[(α² + v)Φ(−t) − α√v φ(t)],

t = α/√v, ζ ~ N(0, 1). This is exact for every W, hence an exact upper bound ℓ(W) − L_c ≤
(n/γ̄) Σ_j g(‖w_j‖²). Re-minimising φ lowers it by ½ GᵀH_φφ⁻¹G + O(|G|³), with G = ∇_φ L(W, φ₀):

    ∂/∂b = 0,    ∂/∂μ_ik = −(4/γ̄) Σ_j y_ij W_jk Φ(−t_j),    ∂/∂log σ_ik = (4/γ̄) Σ_j W_jk² Φ(−t_j),
    ∂/∂log γ = −(n/γ̄) Σ_j g(‖w_j‖²),      t_j = α/‖w_j‖

(at m = 0: ∂_m E π_α = ∂_v E π_α² = 2Φ(−t), ∂_v E π_α = ∂_m E π_α² = 0). Each is of order
Φ(−t) ~ e^{−t²/2}/t, so the gain is of order e^{−t²} against a cost of order e^{−t²/2}: for equal
rows the relative gain is at most

    ε(t) = φ(t) R(t)² (2λ_1 + r²) / (γ̄ h(t)) + g(r²/d)/(2γ̄)   →   (λ_1/γ̄) t φ(t)  (t → ∞),

R = Φ(−t)/φ(t) the Mills ratio and h(t) = (1 + t²)R(t) − t = E(ζ − t)₊²/φ(t), so g(v) = 2vφ(t)h(t)
(`relative_correction`; the μ term uses ‖YW‖_F² ≤ nλ_1‖W‖_F²).

Sphere minimum. g′(v) = 2Φ(−α/√v) and g″(v) = α φ(α/√v) / v^{3/2} > 0 for every v > 0: g is
strictly convex on all of (0, ∞) (not only for v below a multiple of α²), and g(0) = 0. The
leading-order cost depends on W only through the row norms v_j = ‖w_j‖², Σ_j v_j = r², and by
Jensen Σ_j g(v_j) ≥ d g(r²/d), with equality iff every v_j = r²/d (also g(v) − v g′(v) =
2α√v[tΦ(−t) − φ(t)] < 0, so k g(r²/k) falls as k grows: spreading over more rows is always
cheaper). Hence, for every κ,

    m(r) = (nd/γ̄) g(r²/d) (1 − O(ε)),     and exactly m(r) ≤ (nd/γ̄) g(r²/d).

For κ > 1 the row directions in R^κ are free at this order (only the gain picks them), and a
rank-one W is the κ = 1 problem, so m_κ(r) ≤ m_1(r) with the same leading order.

Validity (measured in `proofs_numeric.sphere_leading_order`, n = 20, d ∈ {3, 6}, κ ∈ {1, 2}).
Two limits. (i) Perturbative: the relative error is the first-order correction ε(t), t = α√d/r;
ε ≤ 10% for t ≳ 2.6–2.9 when λ_1/γ̄ ∈ [2, 4]. Measured 1 − m(r)/prediction: 2–4% at t = 3,
0.5–0.9% at t = 3.5, 0.1% at t = 4, ≤ 3e-4 at t ≥ 4.25, always inside [0, ε]. (ii) Not
perturbative: a W with its norm on k < d rows has t_k = α√k/r, and its own gain ratio ε_k
(S_jj for k = 1, λ_1 for k ≥ 2) overtakes its cost near ε_k ≈ 1 (crossings observed at
ε_1 ∈ (0.92, 1.0) on every data set); past it that branch falls below L_c, the barrier has been
crossed and m(r) is no longer the even-spread value (at d = 3 this happens at α/r ≈ 1.6–1.7, at
d = 6 at α/r ≈ 1.5, where the spread alone would still be accurate to 1%). `validity_radius`
is the smaller of the r where ε = rtol and the r where some ε_k = ¾: r ≈ (0.53–0.65) α on the
data sets above (t ≈ 2.7–3.3 at d = 3, 4.1 at d = 6). At α = 0 the range is r² ≤ rtol |C₁/C₂|.

`g_soft` is evaluated without cancellation: h(t) = σρR with R = 1/(t + ρ), ρ = 1/(t + σ),
σ = 2/(t + τ), τ = 3/(t + 4/(t + …)) (Laplace's continued fraction of R, rearranged so that
every term is positive; 200 levels, exact to rounding for t ≥ 1.5), and the closed form with
erfc below t = 1.5 (cancellation there at most a factor 10). `log_g_soft` carries the same in
the log domain, so values below float64's range keep their exponent.
"""

from __future__ import annotations

import math

import numpy as np

from landscape.common import checks as V
from landscape.core.data import as_data

__all__ = ["g_soft", "log_g_soft", "mills_h", "leading_order_excess", "relative_correction", "validity_radius"]

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
_CF_SWITCH = 1.5  # the continued fraction below is exact to rounding for t >= 1.5 with _CF_DEPTH levels
_CF_DEPTH = 200
_ROW_GAIN_LIMIT = 0.75  # a branch on k < d rows may gain at most this fraction of its cost (crossings seen at 0.92–1)
_erfc = np.vectorize(math.erfc, otypes=[float])


def _mills(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(R(t), h(t)) for t ≥ 0: R = Φ(−t)/φ(t), h = (1 + t²)R − t = E(ζ − t)₊²/φ(t), both relatively accurate."""
    t = np.asarray(t, dtype=np.float64)
    big = t >= _CF_SWITCH
    tb = np.where(big, t, _CF_SWITCH)
    tau = np.zeros_like(tb)
    for k in range(_CF_DEPTH, 2, -1):
        tau = k / (tb + tau)
    sig = 2.0 / (tb + tau)
    rho = 1.0 / (tb + sig)
    R_big = 1.0 / (tb + rho)
    h_big = R_big * rho * sig  # (1 + t²)R − t, with the cancellation done algebraically
    ts = np.where(big, 0.0, t)
    R_small = 0.5 * _erfc(ts / math.sqrt(2.0)) * np.exp(0.5 * ts * ts + _LOG_SQRT_2PI)
    h_small = (1.0 + ts * ts) * R_small - ts
    return np.where(big, R_big, R_small), np.where(big, h_big, h_small)


def mills_h(t) -> np.ndarray:
    """h(t) = (1 + t²) Φ(−t)/φ(t) − t = ∫_0^∞ x² e^{−tx − x²/2} dx, for t ≥ 0, elementwise.

    E(ζ − t)₊² = φ(t) h(t) for ζ ~ N(0, 1); h(t) ~ 2/t³ − 12/t⁵ as t → ∞. Relatively accurate for
    every t ≥ 0 (the continued fraction of the module docstring), where the closed form loses
    a factor t⁴/2 to cancellation.
    """
    t = V.check_real_array("t", t)
    V.check_finite("t", t)
    if np.any(t < 0):
        raise ValueError("t must be >= 0.")
    return _mills(t)[1]


def _check_v(v) -> np.ndarray:
    v = np.asarray(V.check_real_array("v", v), dtype=np.float64)
    V.check_finite("v", v)
    if np.any(v < 0):
        raise ValueError("v must be >= 0 (a variance ‖w_j‖²).")
    return v


def _log_g(v: np.ndarray, alpha: float) -> np.ndarray:
    with np.errstate(divide="ignore"):
        logv = np.log(v)
    if alpha == 0.0:
        return logv  # g(v) = v
    pos = v > 0
    t = alpha / np.sqrt(np.where(pos, v, 1.0))
    _, h = _mills(t)
    out = math.log(2.0) + logv - 0.5 * t * t - _LOG_SQRT_2PI + np.log(h)
    return np.where(pos, out, -np.inf)


def log_g_soft(v, alpha) -> np.ndarray:
    """log g(v), g(v) = E π_α(√v ζ)² (see `g_soft`); −∞ at v = 0; finite however small g is."""
    alpha = float(V.check_alpha(alpha))
    return _log_g(_check_v(v), alpha)


def g_soft(v, alpha) -> np.ndarray:
    """g(v) = E π_α(√v ζ)², ζ ~ N(0, 1): the second moment of the soft threshold of a centred Gaussian.

    g(v) = 2[(α² + v) Φ(−t) − α √v φ(t)] = 2 v φ(t) h(t), t = α/√v (MATH.md §2 at m = 0), with
    h = `mills_h`; g(v) = v at α = 0 and g(0) = 0. Relatively accurate down to float64's
    smallest numbers (e.g. 1.6e-65 at α = 0.1, v = 0.01²/3, where the closed form cancels to a
    factor t⁴/2 ≈ 4.5e4); below them it underflows to 0 (use `log_g_soft`).

    Args:
      v: variances ‖w_j‖² ≥ 0, any shape.
      alpha: the threshold α ≥ 0 (a scalar).
    """
    return np.exp(log_g_soft(v, alpha))


def _check_radii(radii) -> np.ndarray:
    r = np.asarray(V.check_real_array("radii", radii), dtype=np.float64)
    V.check_finite("radii", r)
    if np.any(r < 0):
        raise ValueError("radii must be >= 0 (Frobenius norms ‖W‖_F).")
    if np.any(r > 1e150):
        raise ValueError(f"radii must be <= 1e150 (their squares must be finite float64), got {float(np.max(r))!r}.")
    return r


def _affine_coefficients(data) -> tuple[float, float]:
    """(C₁, C₂) of m(r) = C₁ r² + C₂ r⁴ + O(r⁶) at α = 0 (module docstring)."""
    n, d = data.shape
    gb, lam = float(data.gamma_bar), float(data.eigenvalues[0])
    c1 = n / gb * (1.0 - lam / gb)
    c2 = n * (2.0 * lam - gb) * ((d + 1) * gb - 2.0 * lam) / (2.0 * d * gb**4)
    return c1, c2


def leading_order_excess(X, alpha, kappa, radii) -> np.ndarray:
    """The leading-order m(r) = min_{‖W‖_F = r} ℓ(W) − L_c, in the units of X (module docstring).

    α = 0: (n/γ̄)(1 − λ_1/γ̄) r², the Schur complement of MATH.md §4 along u_1 e_kᵀ (relative
    error C₂r²/C₁). α > 0: (nd/γ̄) g(r²/d), the norm spread evenly over the d rows of W; an exact
    upper bound on m(r) for every r, accurate to the factor 1 − O(`relative_correction`) while
    r ≤ `validity_radius`. Neither depends on κ at this order (κ is validated only).

    Args:
      X: data (n, d), or a `landscape.Data`.
      alpha: threshold α ≥ 0.
      kappa: latent size κ ≥ 1.
      radii: ‖W‖_F ≥ 0, any shape.

    Returns:
      m(r) at leading order, float64, the shape of ``radii``.
    """
    data = as_data(X)
    alpha = float(V.check_alpha(alpha))
    V.check_kappa(kappa)
    r = _check_radii(radii)
    n, d = data.shape
    gb = float(data.gamma_bar)
    if alpha == 0.0:
        return _affine_coefficients(data)[0] * r * r
    return n * d / gb * np.exp(_log_g(r * r / d, alpha))


def _gain(t, lam, r2, gb, v_row, alpha, share=1.0) -> np.ndarray:
    """ε: the first-order gain of re-minimising φ relative to the cost, for k = share·d rows at t = α/‖w_j‖."""
    t = np.asarray(t, dtype=np.float64)
    pos = np.isfinite(t)
    tt = np.where(pos, t, 1.0)
    R, h = _mills(tt)
    phi = np.exp(-0.5 * tt * tt - _LOG_SQRT_2PI)
    eps = phi * R * R * (2.0 * lam + r2) / (gb * h) + share * np.exp(_log_g(np.asarray(v_row, dtype=float), alpha)) / (
        2 * gb
    )
    return np.where(pos, eps, 0.0)


def relative_correction(X, alpha, radii) -> np.ndarray:
    """The estimated relative size of the first term `leading_order_excess` neglects, at each radius.

    α = 0: |C₂ r² / C₁| (the r⁴ term of the exact profile). α > 0: ε(t) at t = α√d/r, the
    first-order gain of re-minimising (b, γ, μ, σ) over the cost, an upper bound at that order
    on 1 − m(r)/prediction while the even spread is the sphere minimiser.
    """
    data = as_data(X)
    alpha = float(V.check_alpha(alpha))
    r = _check_radii(radii)
    n, d = data.shape
    if alpha == 0.0:
        c1, c2 = _affine_coefficients(data)
        return np.abs(c2 / c1) * r * r if c1 != 0 else np.full_like(r, np.inf)
    with np.errstate(divide="ignore"):
        t = alpha * math.sqrt(d) / r
    return _gain(t, float(data.eigenvalues[0]), r * r, float(data.gamma_bar), r * r / d, alpha)


def _largest_radius(ok, lo: float, hi: float) -> float:
    """sup{r : ok(r)} for a condition that holds below a threshold in (lo, hi); bisection in log r."""
    if not ok(lo):
        return 0.0
    if ok(hi):
        return math.inf
    for _ in range(80):
        mid = math.sqrt(lo * hi)
        lo, hi = (mid, hi) if ok(mid) else (lo, mid)
    return lo


def validity_radius(X, alpha, rtol: float = 0.1) -> float:
    """The largest ‖W‖_F up to which `leading_order_excess` is expected to hold to ``rtol`` (relative).

    α = 0: √(rtol |C₁/C₂|) (∞ if C₂ = 0, 0 if λ_1 = γ̄). α > 0: the smaller of (i) the r where
    ε(α√d/r) = rtol (the spread branch's correction) and (ii) the r where a branch on k < d rows
    (t_k = α√k/r; S_jj for k = 1, λ_1 above) reaches ε_k = ¾, past which it can undercut the
    spread and fall below L_c (module docstring; crossings were seen at ε_1 ≈ 0.92–1). Calibrated
    on n = 20, d ∈ {3, 6} (`proofs_numeric.sphere_leading_order`): a rule of thumb, not a bound.
    """
    data = as_data(X)
    alpha = float(V.check_alpha(alpha))
    rtol = V.check_tolerance("rtol", rtol, below=1.0)
    n, d = data.shape
    if alpha == 0.0:
        c1, c2 = _affine_coefficients(data)
        if c1 == 0:
            return 0.0
        return math.inf if c2 == 0 else math.sqrt(rtol * abs(c1 / c2))
    gb, lam = float(data.gamma_bar), float(data.eigenvalues[0])
    s_max = float(np.max(np.diag(data.S)))

    def spread(r):
        return float(_gain(alpha * math.sqrt(d) / r, lam, r * r, gb, r * r / d, alpha)) <= rtol

    def branch(k):
        lam_k = s_max if k == 1 else lam
        return lambda r: (
            float(_gain(alpha * math.sqrt(k) / r, lam_k, r * r, gb, r * r / k, alpha, k / d)) <= _ROW_GAIN_LIMIT
        )

    lo, hi = 1e-3 * alpha, 1e3 * alpha
    return min([_largest_radius(spread, lo, hi)] + [_largest_radius(branch(k), lo, hi) for k in range(1, d)])
