"""Gaussian moments of the soft-threshold π_α, exact to second order (MATH.md §2).

For u ~ N(m, v) the expectation in eq. (5) needs only the mean and variance of
π_α(u) = sign(u)(|u| − α)_+. With s = √v, f_c(u) = (u − c)_+, a = (m − α)/s and
b = (−m − α)/s:

    E f_α(u)  = (m − α) Φ(a) + s φ(a)            (the upper tail)
    E f_α(−u) = (−m − α) Φ(b) + s φ(b)           (the lower tail, −u ~ N(−m, v))
    E π_α     = E f_α(u) − E f_α(−u)
    Var π_α   = Var f_α(u) + Var f_α(−u) + 2 E f_α(u) E f_α(−u)

The last line holds because f_α(u) f_α(−u) = 0 (disjoint supports). The variance is
assembled term by term rather than as E π² − (E π)², which would cancel
catastrophically when v ≪ m², e.g. on the reconstructing path of Proposition 1.

The derivatives are supplied through `jax.custom_jvp` in closed form,

    ∂E π/∂m = Φ(a) + Φ(b) =: P        ∂E π/∂v = (φ(a) − φ(b)) / (2s) =: Q
    ∂E π/∂α = Φ(b) − Φ(a) =: A
    ∂Var/∂m = 2 E π (1 − P)           ∂Var/∂v = P − 2 E π Q
    ∂Var/∂α = −2 (E f_α(u) + E f_α(−u)) − 2 E π A

and they are exact in the degenerate limit v → 0 (W = 0, the collapsed point):
there P → 1{m > α} + 1{m < −α} (½ at a kink), Q → 0, E π → π_α(m), Var → 0.
The one exception is the kink itself, v = 0 with |m| = α > 0, where ∂E π/∂v is
+∞ and no finite value is exact: there the JVP returns φ(0)/(2 s_min) ≈ 4e50 in
float64, with s_min = √(tiny^(1/3)) (eq. 5 reaches v = 0 only at
W = 0, hence m = 0, so this matters only for direct calls).
For α = 0 the moments are those of the identity, E π = m and Var = v, with P ≡ 1 and
Q ≡ 0, which is what keeps the affine saddle a saddle. Higher derivatives are taken
by autodiff through the coefficient formulas, which use the "double where" pattern
so that no NaN leaks out of the branch that is not selected.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

__all__ = ["soft_threshold", "soft_threshold_moments", "expected_sq_error_elementwise", "expected_sq_error_partials"]

_INV_SQRT_2PI = 0.3989422804014327
_INV_SQRT_2 = 0.7071067811865476


def _v_min(dtype):
    """Below this variance the closed forms are replaced by their v → 0 limits.

    tiny^(1/3) (about 3e-103 in float64, 2e-13 in float32) keeps every 1/s, 1/s³ of
    the derivatives finite; the error made is of order √v·φ, below 1e-51 in float64.
    """
    return jnp.finfo(dtype).tiny ** (1.0 / 3.0)


def _cdf_pair(x):
    """(Φ(x), Φ(−x)), each accurate: one erfc of −|x| gives the smaller of the two."""
    small = 0.5 * jax.lax.erfc(jnp.abs(x) * _INV_SQRT_2)  # Φ(−|x|), relatively accurate
    big = 1.0 - small
    neg = x < 0
    return jnp.where(neg, small, big), jnp.where(neg, big, small)


def _phi(x):
    return _INV_SQRT_2PI * jnp.exp(-0.5 * x * x)


def _heaviside(x):
    """1 for x > 0, ½ at 0, 0 below: the v → 0 limit of Φ(x / s)."""
    return jnp.where(x > 0, 1.0, jnp.where(x < 0, 0.0, 0.5))


def _tails(m, v, alpha):
    """Closed-form pieces shared by the values and the derivatives.

    Returns (Ef⁺, Ef⁻, Var f⁺, Var f⁻, Φ(a), Φ(b), Q) where f⁺ = f_α(u), f⁻ = f_α(−u).
    """
    pos = v > _v_min(jnp.result_type(m, v, alpha))
    s = jnp.sqrt(jnp.where(pos, v, 1.0))
    v_ = jnp.where(pos, v, 1.0)
    cu, cl = m - alpha, -m - alpha  # signed distances to the two kinks
    a, b = cu / s, cl / s
    Pa, Qa = _cdf_pair(a)  # Φ(a), 1 − Φ(a), both without cancellation
    Pb, Qb = _cdf_pair(b)
    pa, pb = _phi(a), _phi(b)

    ef_u = cu * Pa + s * pa
    ef_l = cl * Pb + s * pb
    # Var f_c = (m−c)² Φ(1−Φ) + v (Φ − φ²) + (m−c) s φ (1 − 2Φ), every term O(v) or smaller.
    var_u = cu * cu * Pa * Qa + v_ * (Pa - pa * pa) + cu * s * pa * (Qa - Pa)
    var_l = cl * cl * Pb * Qb + v_ * (Pb - pb * pb) + cl * s * pb * (Qb - Pb)
    q = (pa - pb) / (2.0 * s)

    # The v → 0 limits.
    ha, hb = _heaviside(cu), _heaviside(cl)
    ef_u = jnp.where(pos, ef_u, jnp.maximum(cu, 0.0))
    ef_l = jnp.where(pos, ef_l, jnp.maximum(cl, 0.0))
    var_u = jnp.where(pos, var_u, v * ha)
    var_l = jnp.where(pos, var_l, v * hb)
    Pa = jnp.where(pos, Pa, ha)
    Pb = jnp.where(pos, Pb, hb)
    q = jnp.where(pos, q, 0.0)
    return ef_u, ef_l, var_u, var_l, Pa, Pb, q


def _coefs(m, v, alpha):
    """The pieces the derivatives need: (E f⁺, E f⁻, Φ(a), Φ(b), Q), lean and branch-free.

    v is clamped at the floor instead of branching: below it s is tiny, so a and b are
    huge and Φ → the indicator, φ → 0, which are the exact v → 0 limits (and for α = 0,
    m = 0, a = b = 0 gives Q = (φ(0) − φ(0)) / 2s = 0 exactly). Derivatives of these
    pieces (the energy's Hessian) vanish below the floor through the clamp, as the
    limits of MATH.md §2 require.
    """
    s = jnp.sqrt(jnp.maximum(v, _v_min(jnp.result_type(m, v, alpha))))
    inv_s = 1.0 / s
    cu, cl = m - alpha, -m - alpha
    a, b = cu * inv_s, cl * inv_s
    Pa = 0.5 * jax.lax.erfc(-a * _INV_SQRT_2)
    Pb = 0.5 * jax.lax.erfc(-b * _INV_SQRT_2)
    pa, pb = _phi(a), _phi(b)
    ef_u = cu * Pa + s * pa
    ef_l = cl * Pb + s * pb
    q = 0.5 * (pa - pb) * inv_s
    return ef_u, ef_l, Pa, Pb, q


@jax.custom_jvp
def soft_threshold_moments(m, v, alpha):
    """Mean and variance of π_α(u) for u ~ N(m, v), elementwise (MATH.md §2).

    An unchecked, jittable primitive (it runs inside every energy): pass real arrays,
    v ≥ 0 and α ≥ 0; the checked entry points validate their inputs.

    Args:
      m: means of u, any shape.
      v: variances of u (≥ 0), broadcastable with ``m``; v = 0 is allowed and exact.
      alpha: the soft threshold α ≥ 0, broadcastable with ``m``.

    Returns:
      ``(mean, var)``: E π_α(u) and Var π_α(u), with exact first derivatives in
      (m, v, α) through a custom JVP, and higher derivatives by autodiff.
    """
    ef_u, ef_l, var_u, var_l, *_ = _tails(m, v, alpha)
    mean = ef_u - ef_l
    var = var_u + var_l + 2.0 * ef_u * ef_l
    affine = alpha == 0
    mean = jnp.where(affine, m, mean)
    var = jnp.where(affine, v, var)
    return mean, var


@soft_threshold_moments.defjvp
def _soft_threshold_moments_jvp(primals, tangents):
    m, v, alpha = primals
    dm, dv, dalpha = tangents
    mean, var = soft_threshold_moments(m, v, alpha)
    ef_u, ef_l, Pa, Pb, q = _coefs(m, v, alpha)
    affine = alpha == 0
    p = jnp.where(affine, 1.0, Pa + Pb)
    q = jnp.where(affine, 0.0, q)
    a_ = Pb - Pa
    dmean = p * dm + q * dv + a_ * dalpha
    dvar = 2.0 * mean * (1.0 - p) * dm + (p - 2.0 * mean * q) * dv + (-2.0 * (ef_u + ef_l) - 2.0 * mean * a_) * dalpha
    return (mean, var), (dmean, dvar)


@jax.custom_jvp
def expected_sq_error_elementwise(y, m, v, alpha):
    """E(y − π_α(u))² for u ~ N(m, v), elementwise: the summand of eq. (5).

    The value is (y − E π)² + Var π, accurate also when v ≪ m² (the reconstructing
    path). The derivatives are the closed forms

        ∂/∂y = 2(y − E π)        ∂/∂m = 2 E π − 2y P        ∂/∂v = P − 2y Q
        ∂/∂α = −2y A − 2(E f_α(u) + E f_α(−u))

    (P, Q, A as in `soft_threshold_moments`), supplied through one custom JVP so that
    value and gradient come out of a single pass, and exact at v = 0. Second
    derivatives are autodiff of these coefficients.
    """
    mean, var = soft_threshold_moments(m, v, alpha)
    r = y - mean
    return r * r + var


@expected_sq_error_elementwise.defjvp
def _expected_sq_error_elementwise_jvp(primals, tangents):
    y, m, v, alpha = primals
    dy, dm, dv, dalpha = tangents
    out = expected_sq_error_elementwise(y, m, v, alpha)
    ef_u, ef_l, Pa, Pb, q = _coefs(m, v, alpha)
    affine = alpha == 0
    p = jnp.where(affine, 1.0, Pa + Pb)
    q = jnp.where(affine, 0.0, q)
    mean = jnp.where(affine, m, ef_u - ef_l)
    d_out = (
        2.0 * (y - mean) * dy
        + (2.0 * mean - 2.0 * y * p) * dm
        + (p - 2.0 * y * q) * dv
        + (-2.0 * y * (Pb - Pa) - 2.0 * (ef_u + ef_l)) * dalpha
    )
    return out, d_out


def expected_sq_error_partials(y, m, v, alpha):
    """E(y − π_α(u))² for u ~ N(m, v) and its four first partials, elementwise, in one pass.

    Returns ``(e, e_y, e_m, e_v, e_alpha)``: the value of `expected_sq_error_elementwise` and
    the closed forms of its custom JVP (MATH.md §2),

        e_y = 2(y − E π)    e_m = 2 E π − 2y P    e_v = P − 2y Q    e_α = −2y A − 2(E f_α(u) + E f_α(−u)),

    computed from one set of shared pieces (two erfc, two exp, one sqrt per entry). This is the
    first-order path of eq. (5) (`landscape.core.energy_first_order`): the same formulas as the
    custom JVP, so the two agree to rounding (tested to 1e-13, at v = 0 and at α = 0 too), but a
    function whose outputs feed the gradient's matmuls directly. It is not meant to be
    differentiated again: Hessians and certificates use `expected_sq_error_elementwise`.
    """
    dtype = jnp.result_type(y, m, v, alpha)
    vm = _v_min(dtype)
    pos = v > vm
    s = jnp.sqrt(jnp.maximum(v, vm))
    inv_s = 1.0 / s
    cu, cl = m - alpha, -m - alpha
    a, b = cu * inv_s, cl * inv_s
    Pa, Qa = _cdf_pair(a)
    Pb, Qb = _cdf_pair(b)
    pa, pb = _phi(a), _phi(b)
    ef_u = cu * Pa + s * pa
    ef_l = cl * Pb + s * pb
    var_u = jnp.where(pos, cu * cu * Pa * Qa + v * (Pa - pa * pa) + cu * s * pa * (Qa - Pa), v * Pa)
    var_l = jnp.where(pos, cl * cl * Pb * Qb + v * (Pb - pb * pb) + cl * s * pb * (Qb - Pb), v * Pb)
    affine = alpha == 0
    mean = jnp.where(affine, m, ef_u - ef_l)
    var = jnp.where(affine, v, var_u + var_l + 2.0 * ef_u * ef_l)
    p = jnp.where(affine, 1.0, Pa + Pb)
    q = jnp.where(affine, 0.0, 0.5 * (pa - pb) * inv_s)
    r = y - mean
    e = r * r + var
    return e, 2.0 * r, 2.0 * mean - 2.0 * y * p, p - 2.0 * y * q, -2.0 * y * (Pb - Pa) - 2.0 * (ef_u + ef_l)


@jax.custom_jvp
def soft_threshold(u, alpha):
    """π_α(u) = sign(u)(|u| − α)_+, eq. (4), elementwise.

    Its derivative is 1{|u| > α}, ½ at the kinks |u| = α > 0, and 1 everywhere for
    α = 0 (the identity). The custom JVP avoids both autodiff traps of MATH.md §2:
    ``sign(u) * maximum(|u| − α, 0)`` has slope 0 at u = 0 even when α = 0, and
    ``u − clip(u, −α, α)`` has slope ¾ there.

    An unchecked, jittable primitive (it runs inside every energy): pass real arrays and
    α ≥ 0; the checked entry points (`energy`, `certify_prop1`, …) validate their inputs.
    """
    return jnp.where(u > alpha, u - alpha, jnp.where(u < -alpha, u + alpha, 0.0 * u))


@soft_threshold.defjvp
def _soft_threshold_jvp(primals, tangents):
    u, alpha = primals
    du, dalpha = tangents
    out = soft_threshold(u, alpha)
    slope = _heaviside(u - alpha) + _heaviside(-u - alpha)
    slope = jnp.where(alpha == 0, 1.0, slope)
    dalpha_coef = -jnp.sign(out)
    return out, slope * du + dalpha_coef * dalpha


# Each primitive is also compiled whole when called outside a jitted function (an eager
# evaluation, its gradient or its Hessian): one program per shape instead of one per operation,
# which XLA would otherwise compile op by op (about 40 ms each on CPU). Inside a jitted function
# the call is inlined, so compiled results are unchanged to the bit.
soft_threshold_moments = jax.jit(soft_threshold_moments)
expected_sq_error_elementwise = jax.jit(expected_sq_error_elementwise)
expected_sq_error_partials = jax.jit(expected_sq_error_partials)
soft_threshold = jax.jit(soft_threshold)
