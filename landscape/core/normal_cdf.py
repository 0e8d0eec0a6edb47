"""log Φ and log(Φ(b) − Φ(a)) in float64, accurate in both tails, with NaN-free derivatives.

These are the normal probabilities of the exact marginal likelihood (`landscape.core.marginal`,
the model behind eq. (5) of Dai, Wang & Wipf 2020): p_θ(x) is a sum of Gaussian masses of
intervals (κ = 1) or of trapezoids (κ = 2, their inner integrals).

log(Φ(b) − Φ(a)) is formed from two evaluations of erfcx(x) = e^(x²) erfc(x): in a tail,
reflected so that l ≤ h ≤ 0, Φ(h) − Φ(l) = e^(−h²/2) [erfcx(−h/√2) − erfcx(−l/√2)
e^(−(h − l)(−h − l)/2)] / 2; across 0, 1 − Φ(a) − Φ(−b). Relative accuracy ε, except for
intervals narrow against the unit scale, whose share of the mass is proportionally small.
(jax.scipy's erfcx returns 0 on [26.54, 26.64] in jax 0.10.2 and its log_ndtr has relative
error 4e-9 near −20; neither is used there.) Derivatives are the closed forms
e^s φ(b) db − e^s φ(a) da of the scaled mass e^s (Φ(b) − Φ(a)) (`scaled_mass`), never
divided by Φ(b) − Φ(a). Everything is carried in the log domain (`exp_ftz`, `safe_log`,
`logsumexp`), so nothing underflows.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

__all__ = ["LOG_2PI", "log_ndtr", "log_ndtr_diff", "scaled_mass", "bounds", "safe_log", "exp_ftz", "logsumexp"]

LOG_2PI = math.log(2.0 * math.pi)
_INV_SQRT_2 = 0.7071067811865476
_LN2 = math.log(2.0)

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


def log_ndtr(x):
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


def log_ndtr_diff(a, b):
    """log(Φ(b) − Φ(a)) for a ≤ b; −∞ where the interval is empty (b ≤ a).

    With Φ(x) = erfcx(−x/√2) e^(−x²/2) / 2 for x ≤ 0, and two erfcx evaluations:

    - in a tail (both arguments on one side of 0), reflect so that l ≤ h ≤ 0:
      Φ(h) − Φ(l) = e^(−h²/2) [erfcx(−h/√2) − erfcx(−l/√2) e^(−(l² − h²)/2)] / 2,
      with l² − h² = (h − l)(−h − l) ≥ 0 formed without cancellation;
    - straddling 0: Φ(b) − Φ(a) = 1 − Φ(a) − Φ(−b), each term at most ½.

    Relative accuracy is ε·max(1, 1/((b − a)(1 + |a| + |b|))): an interval narrow
    against the unit scale loses digits, but then carries proportionally little mass.
    Infinite bounds may be passed as ∓_BIG (exact: their terms underflow to 0). Not
    differentiated directly: derivatives come from `scaled_mass`'s closed form.
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
    ee2 = e2 * exp_ftz(-q2)
    inner = jnp.where(tail, e1 - ee2, 1.0 - 0.5 * (e1 * exp_ftz(-q1) + ee2))
    hs = jnp.where(tail, hi, 0.0)
    return jnp.where(tail, -0.5 * hs * hs - _LN2, 0.0) + safe_log(inner)


@jax.custom_jvp
def scaled_mass(a, b, s):
    """e^s (Φ(b) − Φ(a)) for a ≤ b, with the closed-form derivative

        d = e^s (Φ(b) − Φ(a)) ds + e^s φ(b) db − e^s φ(a) da,

    which never divides by Φ(b) − Φ(a). Two consequences: an interval of zero width
    keeps its derivative e^s φ(a)(db − da) (the Leibniz term that cancels against its
    neighbours'; dropped, the gradient is wrong wherever two cuts coincide), and second
    derivatives stay accurate near the tip of a triangle, where Φ(b) − Φ(a) → 0 and a
    log-domain derivative would cancel catastrophically."""
    v = log_ndtr_diff(a, b)
    return jnp.where(v > -jnp.inf, exp_ftz(s + jnp.where(v > -jnp.inf, v, 0.0)), 0.0)


@scaled_mass.defjvp
def _scaled_mass_jvp(primals, tangents):
    a, b, s = primals
    da, db, ds = tangents
    out = scaled_mass(a, b, s)
    fa = exp_ftz(s - 0.5 * a * a - 0.5 * LOG_2PI)
    fb = exp_ftz(s - 0.5 * b * b - 0.5 * LOG_2PI)
    return out, out * ds + fb * db - fa * da


_BIG = 1e150  # stands for an infinite bound in log_ndtr_diff


def bounds(a, b, has_a, has_b):
    """(a, b) with −∞ / +∞ (``has_*`` False) replaced by ∓_BIG."""
    return jnp.where(has_a, a, -_BIG), jnp.where(has_b, b, _BIG)


def safe_log(x):
    ok = x > 0
    return jnp.where(ok, jnp.log(jnp.where(ok, x, 1.0)), -jnp.inf)


_EXP_FLOOR = -700.0  # exp of anything lower is flushed to 0 (below the largest subnormal)
_EXP_CEIL = 600.0  # and exponents are capped here; every exponent formed here is ≤ 0 up to rounding


def exp_ftz(x):
    """exp(x), flushed to 0 below e^−700 and capped at e^600.

    Subnormal results make the CPU's arithmetic (and so the reverse pass) several times
    slower, and are below any term that counts. The cap only matters for pieces whose
    coordinates are so far out (|T| ~ 1e50) that their exponent is lost to rounding: it
    keeps their value finite, so that their weight 0 gives 0 rather than NaN.
    """
    keep = x > _EXP_FLOOR
    return jnp.where(keep, jnp.exp(jnp.where(keep, jnp.minimum(x, _EXP_CEIL), 0.0)), 0.0)


def logsumexp(x, axis=-1):
    """log Σ exp(x) along ``axis``; −∞ (with zero gradient) when every entry is −∞.

    Terms below e^−700 of the largest are dropped (relative 1e-304)."""
    mx = jax.lax.stop_gradient(jnp.max(x, axis=axis, keepdims=True))
    mx = jnp.where(jnp.isfinite(mx), mx, 0.0)
    s = jnp.sum(exp_ftz(x - mx), axis=axis)
    return safe_log(s) + jnp.squeeze(mx, axis=axis)
