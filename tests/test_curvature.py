"""Curvature operators and algorithms against dense eigh and the analytic spectra of MATH.md §4."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import random_data, random_params
from jax.flatten_util import ravel_pytree

import landscape
from landscape.core.energy import energy_objective as f
from landscape.tools import curvature as C


@pytest.fixture(scope="module")
def prop1_X():
    return np.asarray(landscape.prop1_dataset(0.1).X)


def test_dense_hessian_equals_autodiff_hessian_in_any_chunking(rng):
    X = random_data(rng, 6, 3)
    p = random_params(rng, 6, 3, 2)
    H = np.asarray(landscape.hessian(p, X, 0.3))
    for chunk in (1, 5, 1000):
        Hc = np.asarray(
            C.dense_hessian(f, landscape.VAEParams(*map(jnp.asarray, p)), (jnp.asarray(X), 0.3, None), chunk_size=chunk)
        )
        np.testing.assert_allclose(Hc, H, rtol=0, atol=1e-12 * np.abs(H).max())


def test_hvp_matches_central_differences_of_the_gradient(rng):
    X = random_data(rng, 5, 3)
    p = landscape.VAEParams(*map(jnp.asarray, random_params(rng, 5, 3, 2)))
    v = landscape.VAEParams(*(jnp.asarray(rng.normal(size=np.shape(a))) for a in p))
    Hv = ravel_pytree(C.hvp(f, p, (X, 0.2, None))(v))[0]
    flat, unravel = ravel_pytree(p)
    vf = ravel_pytree(v)[0]
    h = 1e-5

    def g(x):
        return ravel_pytree(landscape.gradient(unravel(x), X, 0.2))[0]

    fd = (g(flat + h * vf) - g(flat - h * vf)) / (2 * h)
    np.testing.assert_allclose(Hv, fd, rtol=1e-6, atol=1e-6 * float(jnp.abs(Hv).max()))


@pytest.mark.parametrize("alpha", [0.0, 0.1, 1.0])
@pytest.mark.parametrize("kappa", [1, 2])
def test_lanczos_extremes_equal_the_analytic_collapsed_spectrum(prop1_X, alpha, kappa):
    X = prop1_X
    p = landscape.collapsed_point(X, kappa)
    exact = landscape.collapsed_spectrum(X, kappa, alpha)
    dense = landscape.spectrum(p, X, alpha).eigenvalues
    k = 4
    r = C.lanczos(f, p, (jnp.asarray(X), alpha, None), k=k)
    scale = np.abs(exact).max()
    # lowest, with multiplicity (α > 0: dκ exact zeros, found by restarts after breakdown)
    np.testing.assert_allclose(r.lowest.eigenvalues, exact[:k], rtol=0, atol=1e-8 * scale)
    np.testing.assert_allclose(r.highest.eigenvalues, exact[::-1][:k], rtol=1e-8, atol=1e-8 * scale)
    np.testing.assert_allclose(dense[:k], exact[:k], rtol=0, atol=1e-8 * scale)
    assert r.converged
    assert np.all(r.lowest.residuals <= r.lowest.tol) and r.lowest.tol == pytest.approx(1e-8 * scale, rel=1e-6)
    # the eigenvectors are eigenvectors: explicit residuals are small and they are orthonormal
    V = r.lowest.eigenvectors
    np.testing.assert_allclose(V @ V.T, np.eye(k), atol=1e-8)


def test_lanczos_on_random_stationary_points_from_the_search():
    X = random_data(np.random.default_rng(5), 12, 3)
    res = landscape.search(X, 0.3, kappa=2, restarts=4, steps=600, seed=2)
    done = np.nonzero(res.status == "converged")[0]
    assert done.size >= 2
    for i in done[:3]:
        p = landscape.VAEParams(*(jnp.asarray(np.asarray(a)[i]) for a in res.params))
        dense = landscape.spectrum(p, X, 0.3).eigenvalues
        scale = np.abs(dense).max()
        r = C.lanczos(f, p, (jnp.asarray(X), 0.3, None), k=3, seed=int(i))
        np.testing.assert_allclose(r.lowest.eigenvalues, dense[:3], rtol=1e-8, atol=1e-8 * scale)
        np.testing.assert_allclose(r.highest.eigenvalues, dense[::-1][:3], rtol=1e-8, atol=1e-8 * scale)


def test_lanczos_with_fewer_steps_than_parameters_converges_at_the_ends(rng):
    """P = 467 and 120 steps: the extreme pairs converge and say so (flags from explicit residuals)."""
    n, d, kappa = 150, 4, 1
    X = random_data(rng, n, d)
    p = landscape.VAEParams(*map(jnp.asarray, random_params(rng, n, d, kappa)))
    dense = landscape.spectrum(p, X, 0.0).eigenvalues
    scale = np.abs(dense).max()
    r = C.lanczos(f, p, (jnp.asarray(X), 0.0, None), k=2, num_steps=120)
    assert r.num_steps == 120 and r.size == dense.size
    ok = r.lowest.converged
    assert ok[0] and r.highest.converged[0]
    np.testing.assert_allclose(r.lowest.eigenvalues[ok], dense[:2][ok], rtol=1e-8, atol=1e-8 * scale)
    np.testing.assert_allclose(r.max_eigenvalue, dense[-1], rtol=1e-10)
    # every residual bounds the distance to some true eigenvalue
    for lam, res in zip(r.lowest.eigenvalues, r.lowest.residuals, strict=True):
        assert np.min(np.abs(dense - lam)) <= res * (1 + 1e-6) + 1e-12 * scale


def test_slq_nodes_and_weights_are_exact_at_the_collapsed_point(prop1_X):
    """Five distinct eigenvalues, whose eigenvectors are coordinate blocks (MATH.md §4).

    A normalised Rademacher probe has v_i² = 1/P, so P · (weight on λ) is the
    multiplicity of λ exactly, for every probe: dκ on 0, nκ on 2 and on 4, d on 2n/γ̄,
    1 on nd.
    """
    X = prop1_X
    n, d = X.shape
    kappa = 2
    p = landscape.collapsed_point(X, kappa)
    sd = C.spectral_density(f, p, (jnp.asarray(X), 0.1, None), num_probes=3, num_steps=12)
    gbar = landscape.gamma_bar(X)
    expected = {0.0: d * kappa, 2.0: n * kappa, 4.0: n * kappa, 2 * n / gbar: d, float(n * d): 1}
    for nodes, w in zip(sd.nodes, sd.weights, strict=True):
        assert w.sum() == pytest.approx(1.0, abs=1e-12)
        for lam, mult in expected.items():
            near = np.abs(nodes - lam) <= 1e-8 * n * d
            assert sd.size * w[near].sum() == pytest.approx(mult, rel=1e-8)
    mean, se = sd.count_below(1.0)
    assert mean == pytest.approx(d * kappa, rel=1e-8) and se < 1e-6
    grid = np.linspace(-10, sd.nodes.max() + 10, 40001)
    assert np.trapezoid(sd.density(grid, sigma=0.5), grid) == pytest.approx(sd.size, rel=1e-3)


def test_slq_counts_agree_with_exact_inertia_within_their_error(rng):
    X = random_data(rng, 60, 4)
    p = landscape.VAEParams(*map(jnp.asarray, random_params(rng, 60, 4, 2)))
    s = landscape.spectrum(p, X, 0.2)
    sd = C.spectral_density(f, p, (jnp.asarray(X), 0.2, None), num_probes=40, num_steps=60, seed=1)
    mean, se = sd.count_below(0.0)
    assert abs(mean - s.n_negative) <= 4 * se + 1.0


def test_block_shares_sum_to_one_and_locate_the_negative_mode(prop1_X):
    X = prop1_X
    p = landscape.collapsed_point(X, 1)
    r = C.lanczos(f, p, (jnp.asarray(X), 0.0, None), k=1)
    shares = C.block_shares(p, r.lowest.eigenvectors[0])
    assert set(shares) == {"W", "b", "log_gamma", "mu", "log_sigma"}
    assert sum(shares.values()) == pytest.approx(1.0, abs=1e-12)
    # the α = 0 negative mode lives on (W_{:,1}, μ_{:,1}) only (MATH.md §4)
    assert shares["W"] + shares["mu"] == pytest.approx(1.0, abs=1e-12)
    # for the 2×2 block [[2n/γ̄, −2ς/γ̄], [−2ς/γ̄, 2]] the eigenvector of root λ has
    # W-share c²/(1 + c²) with c = −2ς/γ̄ / (2n/γ̄ − λ)
    n = X.shape[0]
    gbar = landscape.gamma_bar(X)
    sig = np.linalg.svd(X - X.mean(0), compute_uv=False)[0]
    lam = r.min_eigenvalue
    c = (-2 * sig / gbar) / (2 * n / gbar - lam)
    assert shares["W"] == pytest.approx(c * c / (1 + c * c), rel=1e-8)
    pytree = r.vector(0)
    assert isinstance(pytree, landscape.VAEParams)
    assert C.block_shares(p, pytree) == pytest.approx(shares)


def test_bad_input_raises_clear_errors(prop1_X):
    X = jnp.asarray(prop1_X)
    p = landscape.collapsed_point(X, 1)
    with pytest.raises(ValueError, match="k must be"):
        C.lanczos(f, p, (X, 0.1, None), k=30)
    with pytest.raises(ValueError, match="num_steps"):
        C.lanczos(f, p, (X, 0.1, None), num_steps=0)
    with pytest.raises(ValueError, match="NaN or inf"):
        C.lanczos(f, p._replace(log_gamma=jnp.nan), (X, 0.1, None))
    with pytest.raises(ValueError, match="num_probes"):
        C.spectral_density(f, p, (X, 0.1, None), num_probes=0)
    with pytest.raises(ValueError, match="chunk_size"):
        C.dense_hessian(f, p, (X, 0.1, None), chunk_size=0)
    with pytest.raises(ValueError, match="entries"):
        C.block_shares(p, np.ones(3))


def test_generic_objective_over_any_pytree():
    """The tools take any f(params, *args): a quadratic form over a dict pytree."""
    rng = np.random.default_rng(0)
    M = rng.normal(size=(7, 7))
    A = M + M.T

    def quad(params, A):
        x = jnp.concatenate([params["a"], params["b"].ravel()])
        return 0.5 * x @ A @ x

    params = {"a": jnp.zeros(3), "b": jnp.zeros((2, 2))}
    np.testing.assert_allclose(C.dense_hessian(quad, params, (jnp.asarray(A),)), A, atol=1e-12)
    r = C.lanczos(quad, params, (jnp.asarray(A),), k=2)
    lam = np.linalg.eigvalsh(A)
    np.testing.assert_allclose(r.lowest.eigenvalues, lam[:2], atol=1e-10)
    np.testing.assert_allclose(r.highest.eigenvalues, lam[::-1][:2], atol=1e-10)
    assert set(C.block_shares(params, r.lowest.eigenvectors[0])) == {"a", "b"}
    jax.clear_caches()
