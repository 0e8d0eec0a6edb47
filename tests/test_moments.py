"""The Gaussian moments of π_α (MATH.md §2) against independent oracles."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import integrate, stats

from landscape import soft_threshold, soft_threshold_moments
from landscape.core.moments import expected_sq_error_elementwise


def quadrature_moments(m, v, alpha):
    """Mean and variance of π_α(u), u ~ N(m, v), by adaptive quadrature (scipy)."""
    s = np.sqrt(v)

    def pi(u):
        return np.sign(u) * max(abs(u) - alpha, 0.0)

    lo, hi = m - 14 * s, m + 14 * s
    pts = [p for p in (-alpha, alpha) if lo < p < hi]
    kw = dict(points=pts or None, epsabs=1e-15, epsrel=1e-13, limit=400)
    e1 = integrate.quad(lambda u: pi(u) * stats.norm.pdf(u, m, s), lo, hi, **kw)[0]
    e2 = integrate.quad(lambda u: (pi(u) - e1) ** 2 * stats.norm.pdf(u, m, s), lo, hi, **kw)[0]
    return e1, e2


@given(
    m=st.floats(-3, 3),
    v=st.floats(1e-4, 4.0),
    alpha=st.sampled_from([0.0, 0.05, 0.3, 1.0, 2.0]),
)
def test_moments_match_quadrature(m, v, alpha):
    mean, var = soft_threshold_moments(m, v, alpha)
    e1, e2 = quadrature_moments(m, v, alpha)
    assert float(mean) == pytest.approx(e1, rel=1e-9, abs=1e-12)
    assert float(var) == pytest.approx(e2, rel=1e-8, abs=1e-13)


def _as_vec(m, v, alpha):
    return jnp.stack(soft_threshold_moments(m, v, alpha))


# The functions of the hypothesis tests below, compiled once (x is an argument): each example is then one
# call, not an eager, op-by-op trace of the derivatives. The central differences are taken outside.
_vec = jax.jit(lambda x: _as_vec(x[0], x[1], x[2]))
_jacobians = jax.jit(lambda x: (jax.jacfwd(_vec)(x), jax.jacrev(_vec)(x)))
_moment = [lambda x, out=out: soft_threshold_moments(x[0], x[1], x[2])[out] for out in (0, 1)]
_grads = [jax.jit(jax.grad(f)) for f in _moment]
_hessians = [jax.jit(jax.hessian(f)) for f in _moment]


@given(
    m=st.floats(-2.5, 2.5),
    v=st.floats(1e-3, 3.0),
    alpha=st.floats(0.0, 1.5),
)
def test_first_derivatives_match_central_differences(m, v, alpha):
    x = jnp.array([m, v, alpha])
    J, Jr = _jacobians(x)
    h = 1e-6
    fd = jnp.stack([(_vec(x + h * e) - _vec(x - h * e)) / (2 * h) for e in jnp.eye(3)], axis=1)
    np.testing.assert_allclose(J, fd, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(J, Jr, rtol=1e-14, atol=1e-15)


@given(m=st.floats(-2.0, 2.0), v=st.floats(1e-2, 2.0), alpha=st.floats(0.01, 1.0))
def test_second_derivatives_match_differences_of_gradients(m, v, alpha):
    x = jnp.array([m, v, alpha])
    for g, hess in zip(_grads, _hessians, strict=True):
        H = hess(x)
        h = 1e-6
        fd = jnp.stack([(g(x + h * e) - g(x - h * e)) / (2 * h) for e in jnp.eye(3)], axis=1)
        np.testing.assert_allclose(H, fd, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("alpha", [0.0, 0.3])
@pytest.mark.parametrize("m", [0.0, 0.1, -0.2, 0.7, -1.3])
def test_degenerate_limit_v_to_zero(alpha, m):
    """MATH.md §2: at v = 0 the values and first derivatives are the limits."""
    x = jnp.array([m, 0.0])
    mean, var = soft_threshold_moments(m, 0.0, alpha)
    pi = np.sign(m) * max(abs(m) - alpha, 0.0)
    assert float(mean) == pytest.approx(pi, abs=1e-15)
    assert float(var) == 0.0
    J = jax.jacfwd(lambda x: _as_vec(x[0], x[1], alpha))(x)
    indicator = 1.0 if (alpha == 0 or abs(m) > alpha) else 0.0
    # ∂Eπ/∂m → indicator, ∂Eπ/∂v → 0, ∂Var/∂v → indicator (the tails' ∂Eπ²/∂v)
    assert float(J[0, 0]) == indicator
    assert float(J[0, 1]) == 0.0
    assert float(J[1, 1]) == indicator
    # and the limit is the limit: compare with a tiny positive v
    Jv = jax.jacfwd(lambda x: _as_vec(x[0], x[1], alpha))(jnp.array([m, 1e-14]))
    np.testing.assert_allclose(J, Jv, atol=1e-6)


def test_flat_to_second_order_inside_the_dead_zone():
    """For α > 0 and |m| < α every derivative at v = 0 vanishes (MATH.md §2)."""
    for out in (0, 1):
        H = jax.hessian(lambda x, out=out: soft_threshold_moments(x[0], x[1], 0.5)[out])(jnp.array([0.1, 0.0]))
        assert np.all(np.asarray(H) == 0.0)


def test_affine_case_is_exactly_the_identity():
    m = jnp.linspace(-2, 2, 9)
    v = jnp.linspace(0, 3, 9)
    mean, var = soft_threshold_moments(m, v, 0.0)
    assert np.array_equal(np.asarray(mean), np.asarray(m))
    assert np.array_equal(np.asarray(var), np.asarray(v))


def test_soft_threshold_avoids_both_autodiff_traps():
    """Slope 1 at u = 0 when α = 0 (trap 1 gives 0, trap 2 gives ¾)."""
    assert float(jax.grad(soft_threshold)(0.0, 0.0)) == 1.0
    assert float(jax.grad(soft_threshold)(0.05, 0.1)) == 0.0
    assert float(jax.grad(soft_threshold)(-0.5, 0.1)) == 1.0
    u = jnp.array([-1.0, -0.1, 0.0, 0.05, 2.0])
    np.testing.assert_allclose(soft_threshold(u, 0.1), [-0.9, 0.0, 0.0, 0.0, 1.9], atol=1e-15)


_sq_error = jax.jit(lambda x: expected_sq_error_elementwise(x[0], x[1], x[2], x[3]))
_sq_error_derivatives = jax.jit(lambda x: (jax.grad(_sq_error)(x), jax.jacfwd(_sq_error)(x)))


@given(
    y=st.floats(-3, 3),
    m=st.floats(-3, 3),
    v=st.floats(1e-4, 4.0),
    alpha=st.sampled_from([0.0, 0.05, 0.3, 1.0]),
)
def test_expected_sq_error_matches_quadrature_and_its_gradient_fd(y, m, v, alpha):
    e1, e2 = quadrature_moments(m, v, alpha)
    assert float(expected_sq_error_elementwise(y, m, v, alpha)) == pytest.approx((y - e1) ** 2 + e2, rel=1e-9,
                                                                                 abs=1e-12)  # fmt: skip
    x = jnp.array([y, m, v, alpha])
    h = 1e-6
    fd = jnp.array([(_sq_error(x + h * u) - _sq_error(x - h * u)) / (2 * h) for u in jnp.eye(4)])
    grad, fwd = _sq_error_derivatives(x)
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(fwd, grad, rtol=1e-14, atol=1e-15)
