"""Eq. (5) in closed form against Monte Carlo, finite differences and the affine formula."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import random_data, random_params
from jax.flatten_util import ravel_pytree

import landscape
from landscape import VAEParams, energy, energy_mc_samples


@pytest.mark.parametrize("alpha", [0.0, 0.1, 1.0])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_closed_form_equals_monte_carlo_within_4_standard_errors(alpha, seed):
    rng = np.random.default_rng(seed)
    n, d, kappa = 6, 4, 2
    X = random_data(rng, n, d)
    p = random_params(rng, n, d, kappa, w_scale=1.0)
    exact = float(energy(p, X, alpha))
    samples = np.asarray(energy_mc_samples(p, X, alpha, jax.random.key(seed), num_samples=40_000))
    se = samples.std(ddof=1) / np.sqrt(samples.size)
    assert se > 0
    assert abs(samples.mean() - exact) < 4 * se, (samples.mean(), exact, se)
    # and the estimator is not trivially wide: its error bar is a small fraction of L
    assert se < 1e-2 * abs(exact) + 0.05


@pytest.mark.parametrize("alpha", [0.0, 0.1, 1.0])
def test_monte_carlo_gradient_agrees_with_exact_gradient(alpha):
    """The reparameterised estimator's gradient is unbiased for the exact one."""
    rng = np.random.default_rng(7)
    n, d, kappa = 5, 3, 2
    X = random_data(rng, n, d)
    p = random_params(rng, n, d, kappa)
    g_exact, _ = ravel_pytree(jax.grad(energy)(p, X, alpha))
    keys = jax.random.split(jax.random.key(3), 64)
    per_key = jax.vmap(lambda k: ravel_pytree(jax.grad(landscape.energy_mc)(p, X, alpha, k, num_samples=500))[0])
    G = np.asarray(per_key(keys))
    se = G.std(axis=0, ddof=1) / np.sqrt(G.shape[0])
    # Entries whose pre-activations almost never leave the dead zone |u| < α get an
    # all-zero MC gradient (se = 0) against an exact tail term far below 1e-3; hence the floor.
    err = np.abs(G.mean(axis=0) - np.asarray(g_exact))
    assert np.all(err < 5.0 * se + 1e-3), (err, se)


def _central_fd_grad(f, x, h):
    e = np.eye(x.size)
    return np.array([(f(x + h * e[i]) - f(x - h * e[i])) / (2 * h) for i in range(x.size)])


@pytest.mark.parametrize("alpha", [0.0, 0.1, 1.0])
@pytest.mark.parametrize("tiny_v", [False, True])
def test_gradient_equals_central_finite_differences(alpha, tiny_v):
    rng = np.random.default_rng(11 if tiny_v else 5)
    n, d, kappa = 5, 4, 2
    X = random_data(rng, n, d)
    p = random_params(rng, n, d, kappa)
    if tiny_v:
        # a row of W of size 1e-7 makes v_ij = Σ_k W_jk² σ_ik² < 1e-12 for every i
        W = np.array(p.W)
        W[1] = 1e-7 * np.array([1.0, -0.6])
        p = p._replace(W=W)
        sigma2 = np.exp(2 * np.asarray(p.log_sigma))
        v = sigma2 @ (np.asarray(p.W) ** 2).T
        assert np.min(v) < 1e-12
    flat, unravel = ravel_pytree(p)
    f = jax.jit(lambda x: energy(unravel(x), X, alpha))
    g = np.asarray(jax.grad(f)(flat))
    fd = _central_fd_grad(lambda x: float(f(x)), np.asarray(flat), 1e-6)
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=2e-6 * max(1.0, np.max(np.abs(fd))))


def test_affine_energy_equals_independent_formula(rng):
    """At α = 0 the expectation is Σ‖y_i − W μ_i‖² + Σ_ij v_ij, written out by hand."""
    n, d, kappa = 7, 3, 2
    X = random_data(rng, n, d)
    p = random_params(rng, n, d, kappa)
    W, b, lg, mu, ls = (np.asarray(a) for a in p)
    s2 = np.exp(2 * ls)
    recon = np.sum((X - b - mu @ W.T) ** 2) + np.sum(s2 @ (W**2).T)
    expect = recon / np.exp(lg) + n * d * lg + np.sum(s2 - 2 * ls + mu**2)
    assert float(energy(p, X, 0.0)) == pytest.approx(expect, rel=1e-13)


def test_fixed_gamma_replaces_log_gamma(rng):
    n, d, kappa = 6, 3, 1
    X = random_data(rng, n, d)
    p = random_params(rng, n, d, kappa)
    g = 0.37
    a = float(energy(p, X, 0.2, gamma=g))
    b = float(energy(p._replace(log_gamma=jnp.log(g)), X, 0.2))
    assert a == pytest.approx(b, rel=1e-14)
    grad = jax.grad(lambda q: energy(q, X, 0.2, gamma=g))(p)
    assert float(grad.log_gamma) == 0.0


def test_energy_terms_add_up_and_elbo_relation(rng):
    n, d, kappa = 6, 3, 2
    X = random_data(rng, n, d)
    p = random_params(rng, n, d, kappa)
    t = landscape.energy_terms(p, X, 0.3)
    assert float(sum(t.values())) == pytest.approx(float(energy(p, X, 0.3)), rel=1e-14)


def test_jit_and_vmap_agree_with_plain_calls(rng):
    n, d, kappa = 6, 3, 2
    X = random_data(rng, n, d)
    p = random_params(rng, n, d, kappa)
    alphas = jnp.array([0.0, 0.1, 0.5, 1.0])
    vm = jax.vmap(lambda a: landscape.energy(p, X, a))(alphas)
    jt = jax.jit(landscape.energy)(p, X, 0.5)
    plain = [float(energy(p, X, float(a))) for a in alphas]
    np.testing.assert_allclose(vm, plain, rtol=1e-14)
    assert float(jt) == pytest.approx(plain[2], rel=1e-14)
    # vmap over a batch of parameter sets (restarts)
    batch = jax.tree.map(lambda *xs: jnp.stack(xs), p, p._replace(W=2 * p.W))
    vb = jax.vmap(lambda q: landscape.energy(q, X, 0.1))(batch)
    assert float(vb[1]) == pytest.approx(float(energy(p._replace(W=2 * p.W), X, 0.1)), rel=1e-14)


def test_params_pytree_order_is_the_documented_one():
    p = VAEParams(
        W=np.zeros((3, 2)), b=np.ones(3), log_gamma=np.asarray(2.0), mu=np.zeros((4, 2)), log_sigma=np.zeros((4, 2))
    )
    flat, _ = ravel_pytree(p)
    assert flat.size == 3 * 2 + 3 + 1 + 2 * 4 * 2
    np.testing.assert_array_equal(flat[6:9], 1.0)
    assert float(flat[9]) == 2.0


@pytest.mark.parametrize("alpha", [0.1, 0.5])
def test_gradient_fd_on_the_reconstructing_path(alpha):
    """Small σ and γ with m of order 1 beside the kinks: the regime of Proposition 1's path."""
    ds = landscape.prop1_dataset(alpha, n=6, d=3, kappa=1, seed=4)
    p = ds.witness.path_params(0.05)
    rng = np.random.default_rng(0)
    p = p._replace(mu=p.mu + 0.01 * rng.normal(size=p.mu.shape))
    flat, unravel = ravel_pytree(p)
    f = jax.jit(lambda x: energy(unravel(x), ds.X, alpha))
    g = np.asarray(jax.grad(f)(flat))
    fd = _central_fd_grad(lambda x: float(f(x)), np.asarray(flat), 1e-7)
    np.testing.assert_allclose(g, fd, rtol=1e-5, atol=1e-5 * np.max(np.abs(fd)))


def test_float32_inputs_are_computed_in_float64(rng):
    n, d, kappa = 5, 3, 1
    X = random_data(rng, n, d).astype(np.float32)
    p = random_params(rng, n, d, kappa)
    p32 = jax.tree.map(lambda a: np.asarray(a, np.float32), p)
    p64 = jax.tree.map(lambda a: np.asarray(a, np.float64), p32)
    assert landscape.energy(p32, X, 0.2).dtype == jnp.float64
    assert landscape.hessian(p32, X, 0.2).dtype == jnp.float64
    assert float(energy(p32, X, 0.2)) == float(energy(p64, X.astype(np.float64), 0.2))
