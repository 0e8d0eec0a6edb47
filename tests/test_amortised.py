"""Amortised encoders for eq. (5) (issue 21).

Oracles: Lucas et al.'s linear-VAE ELBO (`landscape.linear`) and the pPCA MLE (`ppca_mle`) at α = 0;
the collapsed point's exact gradient (0) and the affine encoder's inertia derived in
`landscape.models.amortised`; the reduced energy of the free-moment model as a lower bound.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import random_data
from hypothesis import given
from hypothesis import strategies as st
from jax.flatten_util import ravel_pytree

import landscape as L
from landscape.models.amortised import AffineEncoder, AmortisedParams, MLPEncoder, affine_to_linear_vae, to_vae_params
from landscape.tools import engine
from landscape.tools.inertia import inertia
from landscape.tools.operator import dense_hessian


def _affine_point(rng, X, kappa, centred=True):
    n, d = X.shape
    W, b = rng.normal(size=(d, kappa)), rng.normal(size=d)
    A, s = rng.normal(size=(kappa, d)) * 0.5, rng.normal(size=kappa) * 0.3
    c = A @ (X.mean(0) - b) if centred else rng.normal(size=kappa)
    return AmortisedParams(jnp.asarray(W), jnp.asarray(b), jnp.asarray(rng.normal() * 0.3),
                           AffineEncoder(jnp.asarray(A), jnp.asarray(c), jnp.asarray(s)))  # fmt: skip


@given(seed=st.integers(0, 10**6), kappa=st.integers(1, 3))
def test_affine_energy_is_minus_twice_lucas_elbo(seed, kappa):
    rng = np.random.default_rng(seed)
    X = random_data(rng, 11, 4)
    p = _affine_point(rng, X, kappa)
    n, d = X.shape
    lv, s2 = affine_to_linear_vae(p, X)
    expected = -2 * float(L.linear_vae_elbo(lv, X, sigma2=s2)) - n * d * np.log(2 * np.pi) + n * kappa
    got = float(L.amortised_energy(p, jnp.asarray(X), 0.0))
    assert got == pytest.approx(expected, rel=1e-10)


def test_affine_optimum_is_the_ppca_mle():
    """Multi-start Adam + Newton on the affine model at α = 0, γ learned: the pPCA MLE (ddof 0)."""
    rng = np.random.default_rng(3)
    X = random_data(rng, 40, 4)
    n, d = X.shape
    kappa = 2
    fit = L.ppca_mle(X, kappa)
    starts = jax.vmap(lambda k: _random_start(k, X, kappa))(jax.random.split(jax.random.key(0), 4))
    out = engine.run(L.amortised_energy, starts, (jnp.asarray(X), jnp.asarray(0.0), None), restarts=4,
                     steps=3000, polish="newton", gtol=1e-13)  # fmt: skip
    best = int(np.nanargmin(out.value))
    p = jax.tree.map(lambda a: a[best], out.params)
    loglik = float(L.ppca_log_likelihood(X, fit.W, fit.b, fit.sigma2))
    assert out.value[best] == pytest.approx(-2 * loglik - n * d * np.log(2 * np.pi) + n * kappa, rel=1e-10)
    np.testing.assert_allclose(np.exp(float(p.log_gamma)), fit.sigma2, rtol=1e-8)
    W = np.asarray(p.W)
    np.testing.assert_allclose(W @ W.T, fit.W @ fit.W.T, rtol=1e-8, atol=1e-8)
    np.testing.assert_allclose(np.asarray(p.b), fit.b, rtol=1e-8, atol=1e-8)


def _random_start(key, X, kappa):
    n, d = X.shape
    k = jax.random.split(key, 4)
    return AmortisedParams(0.5 * jax.random.normal(k[0], (d, kappa)), jnp.asarray(X.mean(0)), jnp.asarray(0.0),
                           AffineEncoder(0.3 * jax.random.normal(k[1], (kappa, d)), jnp.zeros(kappa),
                                         -0.5 + 0.1 * jax.random.normal(k[2], (kappa,))))  # fmt: skip


@pytest.mark.parametrize("encoder", ["affine", "mlp"])
@pytest.mark.parametrize("alpha", [0.0, 0.5])
def test_collapsed_point_is_stationary(encoder, alpha):
    ds = L.prop1_dataset(0.5)
    p = L.amortised_collapsed_point(ds.X, 2, encoder)
    g = ravel_pytree(jax.grad(L.amortised_energy)(p, jnp.asarray(ds.X), alpha))[0]
    assert float(jnp.linalg.norm(g)) <= 1e-10
    assert float(L.amortised_energy(p, jnp.asarray(ds.X), alpha)) == pytest.approx(L.collapsed_energy(ds.X, 2),
                                                                                 rel=1e-13)  # fmt: skip


@pytest.mark.parametrize("kappa", [1, 2])
@pytest.mark.parametrize("rank", [None, 3])
def test_affine_collapsed_inertia_at_alpha0(kappa, rank):
    """κ · #{λ_l > γ̄} negative, κ · #{λ_l = 0} zero: the Hessian's inertia at the collapsed point."""
    rng = np.random.default_rng(kappa + (rank or 0))
    X = random_data(rng, 30, 5)
    if rank is not None:  # data in a 3-dimensional subspace: S has two zero eigenvalues
        X = (X - X.mean(0)) @ np.linalg.qr(rng.normal(size=(5, rank)))[0] @ rng.normal(size=(rank, 5)) + 1.0
    predicted = L.affine_collapsed_inertia(X, kappa)
    assert predicted[0] >= kappa and (predicted[1] > 0) == (rank is not None)
    p = L.amortised_collapsed_point(X, kappa, "affine")
    H = dense_hessian(L.amortised_energy, p, (jnp.asarray(X), 0.0))
    assert inertia(np.asarray(H), rtol=1e-9).inertia == predicted


def test_mlp_collapsed_point_has_flat_hidden_layers():
    """At α = 0 the MLP's hidden weights are zero modes (A = 0 hides them), and the heads' coupling to W gives
    negative modes: the collapsed point is a saddle, as for free moments when λ_1 > γ̄."""
    ds = L.prop1_dataset(0.5)
    p = L.amortised_collapsed_point(ds.X, 1, "mlp", hidden=(4,))
    H = np.asarray(dense_hessian(L.amortised_energy, p, (jnp.asarray(ds.X), 0.0)))
    n_neg, n_zero, _ = inertia(H, rtol=1e-9).inertia
    hidden = 3 * 4 + 4  # the hidden layer's kernel and bias
    assert n_zero >= hidden and n_neg >= 1


def test_amortised_excess_is_above_the_free_reduced_energy():
    """L_amortised − L_c ≥ ℓ(W) − ℓ(0): the amortised family is a subset of the free moments (the transfer of the
    sphere certificate), at points near the collapsed one."""
    ds = L.prop1_dataset(0.5)
    X = jnp.asarray(ds.X)
    rng = np.random.default_rng(0)
    for kind in ("affine", "mlp"):
        p0 = L.amortised_collapsed_point(ds.X, 1, kind)
        for _ in range(3):
            flat, unravel = ravel_pytree(p0)
            p = unravel(flat + 0.05 * jnp.asarray(rng.normal(size=flat.size)))
            excess = float(L.energy_excess(to_vae_params(p, X), ds.X, 0.5))
            reduced = L.reduced_excess(np.asarray(p.W), ds.X, 0.5).value
            assert excess >= reduced - 1e-12 * abs(reduced)
            assert reduced > 0


def test_mlp_encoder_is_a_pytree_with_its_graph():
    enc = MLPEncoder.create(3, 2, (5, 4), key=jax.random.key(1))
    leaves, tree = jax.tree.flatten(enc)
    again = jax.tree.unflatten(tree, leaves)
    mu, ls = again(jnp.ones((6, 3)))
    assert mu.shape == ls.shape == (6, 2) and mu.dtype == jnp.float64
    with pytest.raises(ValueError, match="hidden"):
        MLPEncoder.create(3, 2, ())
