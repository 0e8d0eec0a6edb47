"""The reduced energy in difference form (issue 19): oracles for ψ, the excess and ℓ(W) − ℓ(0).

Every reduced-energy test runs at n = 20, d = 3, κ = 1, so the public solver compiles once.
"""

import jax
import jax.numpy as jnp
import mpmath as mp
import numpy as np
import pytest
from conftest import random_data, random_params
from hypothesis import given, settings
from hypothesis import strategies as st

import landscape
from landscape.analysis.reduced_energy import (
    energy_excess,
    excess_objective,
    excess_reference,
    expm1mx,
    reduced_excess,
    reduced_excess_and_grad_core,
    reduced_excess_core,
)
from landscape.core.moments import soft_threshold_moments

N, D = 20, 3
TINY = np.finfo(np.float64).tiny
_energy = jax.jit(landscape.energy)


def _data(seed):
    return landscape.as_data(random_data(np.random.default_rng(seed), N, D))


def _mp_psi(t):
    """e^t − 1 − t in mpmath, with enough digits that the cancellation at tiny t costs nothing."""
    digits = 40 + (int(-np.log10(abs(t))) if 0 < abs(t) < 1 else 0)
    with mp.workdps(digits):
        return float(mp.expm1(mp.mpf(t)) - mp.mpf(t))


def test_expm1mx_is_relatively_accurate_against_mpmath():
    mag = np.logspace(-300, 1, 400)
    ts = np.concatenate([mag, -mag, [0.5, -0.5, np.nextafter(0.5, 0), np.nextafter(-0.5, 0), 30.0, -700.0]])
    psi = np.asarray(jax.jit(expm1mx)(jnp.asarray(ts)))
    ref = np.array([_mp_psi(t) for t in ts])
    normal = ref >= TINY  # |t| ≳ 2.1e-154; below, ψ is subnormal (flushed to 0 by XLA on CPU)
    assert np.all(np.abs(psi[normal] - ref[normal]) <= 2e-15 * ref[normal])
    assert np.all((psi[~normal] >= 0) & (psi[~normal] < TINY))
    assert float(expm1mx(jnp.float64(0.0))) == 0.0
    # ψ' = expm1, ψ'' = exp, relatively accurate (JAX's own expm1 rule would lose e^t at t = −20)
    t = jnp.asarray([-20.0, -1e-30, 1e-30, 0.3, 5.0])
    d1 = jax.vmap(jax.grad(expm1mx))(t)
    d2 = jax.vmap(jax.grad(jax.grad(expm1mx)))(t)
    np.testing.assert_allclose(d1, np.expm1(np.asarray(t)), rtol=1e-15)
    np.testing.assert_allclose(d2, np.exp(np.asarray(t)), rtol=1e-15)


@settings(max_examples=10)
@given(seed=st.integers(0, 2**31 - 1), kappa=st.sampled_from([1, 2]), alpha=st.sampled_from([0.0, 0.3]))
def test_energy_excess_equals_energy_minus_collapsed_energy(seed, kappa, alpha):
    rng = np.random.default_rng(seed)
    X = random_data(rng, N, D)
    params = random_params(rng, N, D, kappa)
    lc = landscape.collapsed_energy(X, kappa)
    direct = float(_energy(params, X, alpha)) - lc
    assert abs(float(energy_excess(params, X, alpha)) - direct) <= 1e-12 * abs(lc)


@pytest.mark.parametrize("alpha", [0.0, 0.1, 2])
def test_energy_excess_is_exactly_zero_at_the_collapsed_point(alpha):
    data = _data(1)
    for kappa in (1, 2):
        p = landscape.collapsed_point(data, kappa)
        assert float(energy_excess(p, data, alpha)) == 0.0
        assert float(energy_excess(p, data.X, alpha)) == 0.0
    # and resolved right next to it, where energy(...) − L_c is pure rounding: μ_i = 1e-40
    mu = np.full((N, 1), 1e-40)
    p = landscape.collapsed_point(data, 1)._replace(mu=mu)
    np.testing.assert_allclose(float(energy_excess(p, data, alpha)), N * 1e-80, rtol=1e-14)


@jax.jit
def _dense_reduced(W, X, alpha):
    """min over the flattened (b, log γ, μ, log σ) of energy − L_c by the dense `newton_minimize`, from collapse."""
    n, d = X.shape
    kappa = W.shape[1]
    gamma_bar = jnp.mean((X - jnp.mean(X, axis=0)) ** 2)
    lc = n * d * (1.0 + jnp.log(gamma_bar)) + n * kappa  # MATH.md §3

    def f(x):
        b, lg = x[:d], x[d]
        mu, ls = x[d + 1 : d + 1 + n * kappa].reshape(n, kappa), x[d + 1 + n * kappa :].reshape(n, kappa)
        return landscape.energy(landscape.VAEParams(W, b, lg, mu, ls), X, alpha) - lc

    x0 = jnp.concatenate([jnp.mean(X, axis=0), jnp.log(gamma_bar)[None], jnp.zeros(n * kappa), jnp.zeros(n * kappa)])
    return landscape.newton_minimize(f, x0, gtol=1e-11)


@pytest.mark.parametrize("alpha", [0.0, 0.3])
def test_reduced_excess_matches_a_dense_minimisation(alpha):
    data = _data(2)
    W = 0.4 * np.random.default_rng(3).normal(size=(D, 1))
    res = reduced_excess(W, data, alpha)
    dense = _dense_reduced(jnp.asarray(W), jnp.asarray(data.X), alpha)
    assert res.converged and bool(dense.converged)
    assert abs(res.value) > 1e-2  # a moderate W: an O(1) excess, which the dense route resolves to ~1e-13
    assert abs(res.value - float(dense.value)) <= 1e-10 * abs(res.value)
    inner = np.concatenate([res.inner.b, [res.inner.log_gamma], res.inner.mu.ravel(), res.inner.log_sigma.ravel()])
    np.testing.assert_allclose(inner, dense.x, atol=1e-7)
    # the value is the excess at the inner point it reports
    np.testing.assert_allclose(float(energy_excess(res.inner, data, alpha)), res.value, rtol=1e-12)


def test_reduced_excess_gradient_is_the_envelope_gradient():
    data, alpha = _data(2), 0.3
    W = 0.4 * np.random.default_rng(3).normal(size=(D, 1))
    res = reduced_excess(W, data, alpha)
    h = 1e-5
    for j in range(D):
        E = np.zeros_like(W)
        E[j, 0] = h
        fd = (reduced_excess(W + E, data, alpha).value - reduced_excess(W - E, data, alpha).value) / (2 * h)
        assert abs(res.grad_W[j, 0] - fd) <= 1e-7 * np.abs(res.grad_W).max()


def test_alpha0_reduced_curvature_is_the_schur_complement():
    """ℓ(r u_1 e_1ᵀ) / r² → (n/γ̄)(1 − λ_1/γ̄), the Schur complement of the 2×2 block of MATH.md §4."""
    data = _data(4)
    gb, lam1 = float(data.gamma_bar), float(data.eigenvalues[0])
    schur = N / gb * (1.0 - lam1 / gb)
    assert schur < 0  # λ_1 > γ̄: an affine-descent direction
    r, U = 1e-4, data.eigenvectors[:, :1]
    res = reduced_excess(r * U, data, 0.0)
    assert res.converged
    assert abs(res.value / r**2 / schur - 1.0) <= 1e-4  # measured 2.9e-9 (the O(r²) correction)
    np.testing.assert_allclose(res.grad_W, 2 * r * schur * U, rtol=1e-4)
    zero = reduced_excess(np.zeros((D, 1)), data, 0.0)
    assert zero.value == 0.0 and zero.steps == 0 and zero.converged


def _mp_leading_cost(W, n, gamma_bar, alpha):
    """(n/γ̄) Σ_j E π_α(s_j ζ)², s_j = ‖w_j‖, from the closed form 2s²[(t²+1)Φ(−t) − tφ(t)], t = α/s."""
    with mp.workdps(40):
        total = mp.mpf(0)
        for s in np.linalg.norm(W, axis=1):
            s = mp.mpf(float(s))
            t = mp.mpf(alpha) / s
            total += 2 * s**2 * ((t**2 + 1) * mp.ncdf(-t) - t * mp.npdf(t))
        return float(n / mp.mpf(gamma_bar) * total)


@pytest.mark.parametrize("r, expect_exponent", [(0.01, -30), (0.02, -10)])
def test_alpha_positive_tiny_radius_is_resolved_at_leading_order(r, expect_exponent):
    ds = landscape.prop1_dataset(0.1, n=N, d=D, kappa=1, seed=0)
    data = ds.data
    W = r * data.eigenvectors[:, :1]
    res = reduced_excess(W, data, 0.1)
    assert res.converged and np.isfinite(res.value) and res.value > 0
    assert 10.0 ** (expect_exponent - 1) < res.value < 10.0 ** (expect_exponent + 1)  # 2.6e-30 and 1.8e-10
    s2 = jnp.asarray(np.sum(W**2, axis=1))
    g = soft_threshold_moments(jnp.zeros(D), s2, 0.1)[1]  # E π_α(sζ)² = Var at m = 0
    lead = N / float(data.gamma_bar) * float(jnp.sum(g))
    assert abs(res.value / lead - 1.0) <= 0.1  # measured 2e-16 (r = 0.01) and 4.6e-6 (r = 0.02)
    # the same leading-order cost from an independent closed form in mpmath (~4.5e-11: the moments' rounding)
    assert abs(res.value / _mp_leading_cost(W, N, float(data.gamma_bar), 0.1) - 1.0) <= 1e-5


def test_newton_is_not_stalled_by_the_rounding_of_the_moments():
    """A direction where the Newton decrease (~4e-28) is below the moments' rounding (ε N ~ 1.5e-27)."""
    data = landscape.prop1_dataset(0.1, n=N, d=D, kappa=1, seed=0).data
    U = np.array([[0.69601167], [-0.23449594], [0.67866001]])
    W = 0.02 * U / np.linalg.norm(U)
    res = reduced_excess(W, data, 0.1)
    assert res.converged and res.steps <= 3  # it stalled for 100 steps with a slack of 64 ε |f|
    assert res.rounding > 1e3 * res.scale
    assert abs(res.value / _mp_leading_cost(W, N, float(data.gamma_bar), 0.1) - 1.0) <= 1e-8


def test_warm_start_reaches_the_same_minimum():
    data, alpha = _data(2), 0.3
    U = np.random.default_rng(3).normal(size=(D, 1))
    near = reduced_excess(0.39 * U, data, alpha)
    cold = reduced_excess(0.4 * U, data, alpha)
    warm = reduced_excess(0.4 * U, data, alpha, inner=near.inner)
    assert warm.converged and warm.steps <= cold.steps
    assert abs(warm.value - cold.value) <= 1e-12 * abs(cold.value)


def test_bad_inputs_raise_naming_the_argument():
    data = _data(2)
    W = np.zeros((D, 1))
    p = landscape.collapsed_point(data, 1)
    cases = [
        (lambda: reduced_excess(np.zeros((D + 1, 1)), data, 0.1), "W"),
        (lambda: reduced_excess(np.zeros(D), data, 0.1), "W"),
        (lambda: reduced_excess(np.full((D, 1), np.nan), data, 0.1), "W"),
        (lambda: reduced_excess(np.zeros((D, 1), bool), data, 0.1), "W"),
        (lambda: reduced_excess(W, data, -1.0), "alpha"),
        (lambda: reduced_excess(W, np.ones((5, D)), 0.1), "X"),
        (lambda: reduced_excess(W, data, 0.1, gtol=-1.0), "gtol"),
        (lambda: reduced_excess(W, data, 0.1, max_steps=2.5), "max_steps"),
        (lambda: reduced_excess(W, data, 0.1, inner="start"), "inner"),
        (lambda: reduced_excess(W, data, 0.1, inner=p._replace(mu=np.zeros((N + 1, 1)))), "inner.mu"),
        (lambda: reduced_excess(W, data, 0.1, inner=p._replace(log_sigma=np.full((N, 1), np.inf))), "log_sigma"),
        (lambda: energy_excess(p, data, float("nan")), "alpha"),
        (lambda: energy_excess(p._replace(b=np.zeros(D + 1)), data, 0.1), "params.b"),
        (lambda: energy_excess(W, data, 0.1), "params"),
        (lambda: energy_excess(p, np.zeros((1, D)), 0.1), "X"),
    ]
    for call, name in cases:
        with pytest.raises(ValueError, match=name):
            call()


@pytest.mark.slow
def test_vmapped_cores_agree_with_the_public_function():
    data, alpha = _data(2), 0.3
    xbar, lgb = excess_reference(data)
    X = jnp.asarray(data.X)
    Ws = 0.4 * np.random.default_rng(5).normal(size=(4, D, 1))
    core = jax.jit(jax.vmap(lambda w: reduced_excess_core(w, None, X, xbar, lgb, alpha)))(jnp.asarray(Ws))
    both = jax.jit(jax.vmap(lambda w: reduced_excess_and_grad_core(w, None, X, xbar, lgb, alpha)))(jnp.asarray(Ws))
    grad = jax.jit(jax.vmap(jax.grad(lambda w: reduced_excess_core(w, None, X, xbar, lgb, alpha).value)))(Ws)
    for k, W in enumerate(Ws):
        res = reduced_excess(W, data, alpha)
        np.testing.assert_allclose(core.value[k], res.value, rtol=1e-12)
        np.testing.assert_allclose(both[0][k], res.value, rtol=1e-12)
        np.testing.assert_allclose(both[1][k], res.grad_W, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(grad[k], res.grad_W, rtol=1e-9, atol=1e-12)
        assert bool(core.converged[k]) and bool(both[4][k])
        p = jax.tree_util.tree_map(lambda a, k=k: a[k], core.inner)
        np.testing.assert_allclose(float(excess_objective(p, X, xbar, lgb, alpha)), res.value, rtol=1e-12)
