"""landscape.linear (pPCA) and the two claims built on it: proofs_numeric.lucas_curvature and
proofs_numeric.elbo_equals_likelihood (Tipping & Bishop 1999; Lucas et al. 2019; MATH.md §1, §6)."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import random_data
from scipy.stats import multivariate_normal

import landscape
from landscape.models.linear import ppca_log_likelihood, ppca_posterior, ppca_stationary_point
from proofs_numeric import elbo_equals_likelihood


def test_log_likelihood_matches_scipy(rng):
    X = random_data(rng, 25, 4)
    W, b, s2 = rng.normal(size=(4, 2)), rng.normal(size=4), 0.6
    want = multivariate_normal(mean=b, cov=W @ W.T + s2 * np.eye(4)).logpdf(X).sum()
    assert float(ppca_log_likelihood(X, W, b, s2)) == pytest.approx(want, rel=1e-12)
    # jittable and differentiable in every model argument
    g = jax.jit(jax.grad(ppca_log_likelihood, argnums=(1, 2, 3)))(jnp.asarray(X), W, b, s2)
    assert all(np.all(np.isfinite(np.asarray(a))) for a in g)


def test_posterior_matches_joint_gaussian_conditioning(rng):
    """p(z|x) from the joint Gaussian of (z, x): mean Wᵀ C⁻¹ (x − b), covariance I − Wᵀ C⁻¹ W."""
    X = random_data(rng, 10, 4)
    W, b, s2 = rng.normal(size=(4, 3)), rng.normal(size=4), 0.4
    Cinv = np.linalg.inv(W @ W.T + s2 * np.eye(4))
    means, cov = ppca_posterior(X, W, b, s2)
    np.testing.assert_allclose(means, (X - b) @ Cinv @ W, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(cov, np.eye(3) - W.T @ Cinv @ W, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"W": np.zeros((3, 2))}, "W"),
        ({"b": np.zeros(3)}, "b"),
        ({"sigma2": 0.0}, "sigma2"),
        ({"sigma2": np.nan}, "sigma2"),
        ({"sigma2": np.ones(2)}, "sigma2"),
        ({"W": np.full((4, 2), np.inf)}, "W"),
        ({"X": np.zeros(4)}, "X"),
    ],
)
def test_bad_input_names_the_argument(rng, kwargs, name):
    args = {"X": random_data(rng, 10, 4), "W": np.ones((4, 2)), "b": np.zeros(4), "sigma2": 1.0} | kwargs
    with pytest.raises(ValueError, match=name):
        ppca_log_likelihood(**args)
    with pytest.raises(ValueError, match=name):
        ppca_posterior(**args)


def test_stationary_point_bad_active(rng):
    X = random_data(rng, 20, 4)
    lam = ppca_stationary_point(X, 2, 1.0, (None, None)).eigenvalues
    s2 = float(np.sqrt(lam[1] * lam[2]))
    with pytest.raises(ValueError, match="active"):
        ppca_stationary_point(X, 2, s2, (0,))
    with pytest.raises(ValueError, match="active"):
        ppca_stationary_point(X, 2, s2, (0, 0))
    with pytest.raises(ValueError, match="active"):
        ppca_stationary_point(X, 2, s2, (0, 3))  # λ_4 < σ²: no real column
    with pytest.raises(ValueError, match="sigma2"):
        ppca_stationary_point(X, 2, -1.0, (0, None))


def test_perturbed_stationary_point_has_a_gradient(rng):
    """Negative control for the gradient check: a column scaled by 1.1 is not stationary."""
    X = random_data(rng, 30, 4)
    lam = ppca_stationary_point(X, 2, 1.0, (None, None)).eigenvalues
    s2 = float(np.sqrt(lam[1] * lam[2]))
    pt = ppca_stationary_point(X, 2, s2, (0, None))
    scale = X.shape[0] * np.sqrt(lam[0]) / s2

    def gmax(W):
        return float(np.max(np.abs(jax.grad(ppca_log_likelihood, argnums=1)(X, W, pt.b, s2)))) / scale

    assert gmax(pt.W) < 1e-12
    assert gmax(pt.W * np.array([1.1, 1.0])) > 1e-3


def test_saddle_along_unused_eigenvector(rng):
    """The zero column of a stationary point, pushed along u_2 (λ_2 > σ²), raises ℓ: a saddle."""
    X = random_data(rng, 30, 4)
    lam = ppca_stationary_point(X, 2, 1.0, (None, None)).eigenvalues
    s2 = float(np.sqrt(lam[1] * lam[2]))
    pt = ppca_stationary_point(X, 2, s2, (0, None))
    eps = 1e-2
    W = pt.W.copy()
    W[:, 1] = eps * pt.eigenvectors[:, 1]
    delta = float(ppca_log_likelihood(X, W, pt.b, s2) - ppca_log_likelihood(X, pt.W, pt.b, s2))
    assert delta > 0
    assert delta == pytest.approx(30 / 2 * eps**2 * (lam[1] - s2) / s2**2, rel=1e-3)


def test_wrong_elbo_constant_exceeds_likelihood(rng):
    """Negative control: the ELBO with the n d log 2π of MATH.md §1 dropped exceeds log p(X), so the
    bound check would catch it; dropping the −nκ breaks tightness by nκ/2 instead."""
    n, d, kappa = 30, 4, 2
    X = random_data(rng, n, d)
    opt = landscape.affine_optimum(X, kappa, None)
    L = float(landscape.energy(opt, X, 0.0))
    loglik = float(ppca_log_likelihood(X, opt.W, opt.b, float(np.exp(opt.log_gamma))))
    assert -(L + n * d * math.log(2 * math.pi) - n * kappa) / 2 == pytest.approx(loglik, rel=1e-12)
    assert -(L - n * kappa) / 2 > loglik + 1.0
    assert -(L + n * d * math.log(2 * math.pi)) / 2 - loglik == pytest.approx(-n * kappa / 2, rel=1e-9)


def test_gap_is_kl_at_a_random_point(rng):
    X = random_data(rng, 15, 3)
    p = landscape.VAEParams(
        W=rng.normal(size=(3, 2)),
        b=rng.normal(size=3),
        log_gamma=np.asarray(-0.3),
        mu=rng.normal(size=(15, 2)),
        log_sigma=rng.normal(scale=0.3, size=(15, 2)),
    )
    gap = float(ppca_log_likelihood(X, p.W, p.b, float(np.exp(p.log_gamma)))) - float(elbo_equals_likelihood.elbo(p, X))
    assert gap > 0
    assert gap == pytest.approx(elbo_equals_likelihood.gaussian_kl_to_posterior(p, X), rel=1e-10)
