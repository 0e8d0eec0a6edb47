"""The affine (α = 0) optimum of eq. (5) is pPCA: MATH.md §6 as an oracle."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import random_data
from jax.flatten_util import ravel_pytree

import landscape
from landscape import VAEParams, newton_minimize


def L_star(lam, gamma, n, kappa):
    """L*(γ) = n Σ_j [log c_j + λ_j / c_j] + nκ, c_j = max(λ_j, γ) for j ≤ κ, else γ."""
    lam = np.sort(lam)[::-1]
    c = np.full_like(lam, gamma)
    c[:kappa] = np.maximum(lam[:kappa], gamma)
    return n * np.sum(np.log(c) + lam / c) + n * kappa


def L_min(lam, n, kappa):
    lam = np.sort(lam)[::-1]
    g = lam[kappa:].mean()
    d = lam.size
    return n * (np.sum(np.log(lam[:kappa]) + 1) + (d - kappa) * (np.log(g) + 1)) + n * kappa


def good_start(X, kappa, gamma, rng, jitter=0.05):
    """pPCA-shaped start (W = U (Λ − γ)₊^½, posterior-mean encoder), then jittered."""
    n, d = X.shape
    S = landscape.data_covariance(X)
    lam, U = np.linalg.eigh(S)
    lam, U = lam[::-1], U[:, ::-1]
    W = U[:, :kappa] * np.sqrt(np.maximum(lam[:kappa] - gamma, 0.0))
    W = W + jitter * rng.normal(size=W.shape)
    Y = X - X.mean(0)
    M = np.linalg.solve(W.T @ W + gamma * np.eye(kappa), W.T)
    mu = Y @ M.T
    s2 = gamma / (np.sum(W**2, axis=0) + gamma)
    return VAEParams(
        W=W, b=X.mean(0), log_gamma=np.asarray(np.log(gamma)), mu=mu, log_sigma=np.tile(0.5 * np.log(s2), (n, 1))
    )


@jax.jit
def _newton(p0, X, gamma):
    """Newton from p0, compiled once per shape: X and γ are arguments, not constants of the program."""
    flat, unravel = ravel_pytree(p0)
    res = newton_minimize(lambda x: landscape.energy(unravel(x), X, 0.0, gamma=gamma), flat, gtol=1e-10, max_steps=200)
    return res, unravel(res.x)


def minimise(p0, X, gamma=None):
    p0 = VAEParams(*(jnp.asarray(a, dtype=jnp.float64) for a in p0))
    return _newton(p0, jnp.asarray(X), None if gamma is None else jnp.asarray(gamma, dtype=jnp.float64))


@pytest.mark.parametrize("n,d,kappa", [(30, 4, 2), (12, 5, 3)])
def test_fixed_gamma_optimum_is_L_star(n, d, kappa):
    rng = np.random.default_rng(n + d)
    X = random_data(rng, n, d)
    lam = np.linalg.eigvalsh(landscape.data_covariance(X))
    # one γ below every λ, one between them (partial collapse), one above λ_1 (full collapse)
    for gamma in (0.5 * lam.min(), 0.5 * (lam[-1] + lam[-2]), 1.5 * lam.max()):
        res, p = minimise(good_start(X, kappa, gamma, rng), X, gamma=gamma)
        assert bool(res.converged), float(res.grad_norm)
        assert float(res.value) == pytest.approx(L_star(lam, gamma, n, kappa), rel=1e-6)
        # active latent dimensions: exactly those with λ_j > γ
        active = np.sum(np.linalg.norm(np.asarray(p.W), axis=0) > 1e-6)
        assert active == np.sum(np.sort(lam)[::-1][:kappa] > gamma)


def test_learned_gamma_optimum_is_L_min():
    rng = np.random.default_rng(4)
    n, d, kappa = 25, 5, 2
    X = random_data(rng, n, d)
    lam = np.linalg.eigvalsh(landscape.data_covariance(X))
    g_ml = np.sort(lam)[::-1][kappa:].mean()
    res, p = minimise(good_start(X, kappa, g_ml, rng), X)
    assert bool(res.converged)
    assert float(res.value) == pytest.approx(L_min(lam, n, kappa), rel=1e-6)
    assert float(p.gamma) == pytest.approx(g_ml, rel=1e-6)
    # and the collapsed point lies above it: it is not the optimum
    assert landscape.collapsed_energy(X, kappa) > float(res.value) + 1.0
