"""The linear-Gaussian model: probabilistic PCA, the affine VAE's exact counterpart (MATH.md §6).

pPCA (Tipping & Bishop 1999) is the generative model z ~ N(0, I_κ), x | z ~ N(W z + b, σ² I_d),
so x ~ N(b, C) with C = W Wᵀ + σ² I. The affine VAE of eq. (5) (α = 0) has the same decoder with
γ = σ², and its ELBO is a lower bound on this exact marginal likelihood, tight where q(z|x_i) is the
exact posterior p(z|x_i). With L the energy of eq. (5) (MATH.md §1, no ½, no constants),

    ELBO = −(L + n d log 2π − n κ) / 2,        at γ = σ²,

and log p(X) − ELBO = Σ_i KL(q(z|x_i) ‖ p(z|x_i)) ≥ 0 (`ppca_posterior` gives p(z|x_i)).

Stationary points. With σ² fixed and S = (1/n) Σ_i (x_i − x̄)(x_i − x̄)ᵀ = U Λ Uᵀ
(λ_1 ≥ … ≥ λ_d), every stationary point of the log-likelihood has b = x̄ and, up to a rotation
W → W R, columns u_j (λ_j − σ²)^{1/2} for some distinct j with λ_j ≥ σ², the other columns 0
(Tipping & Bishop 1999, §3.2; `ppca_stationary_point`). Adding ε u_i to a zero column, u_i an
eigenvector not in use, changes the log-likelihood by

    Δℓ(ε) = −(n/2) [ log(1 + ε²/σ²) − λ_i ε² / (σ² (σ² + ε²)) ] = (n/2) ε² (λ_i − σ²)/σ⁴ + O(ε⁴),

so such a point is a saddle as soon as an unused λ_i exceeds σ² (Lucas et al. 2019, "Don't Blame
the ELBO!", the pPCA analysis; `proofs_numeric.lucas_curvature` checks it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import jax.numpy as jnp
import numpy as np
from jax.scipy.linalg import cho_solve, solve_triangular

from landscape import _validation as V
from landscape.collapsed import data_covariance

__all__ = ["PPCAStationaryPoint", "ppca_log_likelihood", "ppca_posterior", "ppca_stationary_point"]


def _check_sigma2(sigma2) -> None:
    if isinstance(sigma2, (bool, np.bool_)):
        raise ValueError(f"sigma2 must be a finite number > 0, got the boolean {sigma2!r}.")
    if np.ndim(sigma2) != 0:
        raise ValueError(f"sigma2 must be a scalar (the noise variance), got an array of shape {np.shape(sigma2)}.")
    s = V.concrete(sigma2)
    if s is None:
        return
    if not np.issubdtype(s.dtype, np.number):
        raise ValueError(f"sigma2 must be a number, got {sigma2!r} of type {s.dtype}.")
    if not np.isfinite(s) or s <= 0:
        raise ValueError(f"sigma2 must be a finite number > 0 (the noise variance, gamma in eq. 5), got {float(s)!r}.")


def _check_finite(name: str, a) -> None:
    x = V.concrete(a)
    if x is None:
        return
    if not np.issubdtype(x.dtype, np.number):
        raise ValueError(f"{name} must hold real numbers, got dtype {x.dtype}.")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} contains NaN or inf entries.")


def _check_model(X, W, b, sigma2) -> tuple[int, int, int]:
    """Validate (X, W, b, sigma2) of a pPCA model; returns (n, d, κ)."""
    n, d = V.check_data(X)
    W_shape = np.shape(W)
    if len(W_shape) != 2 or W_shape[0] != d or W_shape[1] < 1:
        raise ValueError(f"W must have shape (d, kappa) = ({d}, kappa >= 1) for X of shape ({n}, {d}); got {W_shape}.")
    if np.shape(b) != (d,):
        raise ValueError(f"b must have shape (d,) = ({d},) for X of shape ({n}, {d}); got {np.shape(b)}.")
    _check_finite("W", W)
    _check_finite("b", b)
    _check_sigma2(sigma2)
    return n, d, W_shape[1]


def _f64(a):
    return jnp.asarray(a, dtype=jnp.float64)


def ppca_log_likelihood(X, W, b, sigma2):
    """The exact pPCA log-likelihood ℓ = Σ_i log N(x_i; b, W Wᵀ + σ² I), natural log, all constants.

        ℓ = −(1/2) [ n d log 2π + n log|C| + Σ_i (x_i − b)ᵀ C⁻¹ (x_i − b) ],   C = W Wᵀ + σ² I

    (Tipping & Bishop 1999, eq. 4). Evaluated through the Cholesky factor of C (d × d).

    Args:
      X: data, shape (n, d).
      W: loadings, shape (d, κ); b: mean, shape (d,); sigma2: noise variance σ² > 0 (γ of eq. 5).

    Returns:
      ℓ, a float64 scalar. Jittable and differentiable (to any order) in X, W, b and sigma2; the
      value checks (finite, σ² > 0) run only on concrete inputs.
    """
    n, d, _ = _check_model(X, W, b, sigma2)
    X, W, b, sigma2 = _f64(X), _f64(W), _f64(b), _f64(sigma2)
    C = W @ W.T + sigma2 * jnp.eye(d, dtype=W.dtype)
    L = jnp.linalg.cholesky(C)
    Z = solve_triangular(L, (X - b).T, lower=True)  # L Z = Yᵀ, so Σ_i yᵢᵀ C⁻¹ yᵢ = ‖Z‖²
    logdet = 2.0 * jnp.sum(jnp.log(jnp.diag(L)))
    return -0.5 * (n * d * math.log(2.0 * math.pi) + n * logdet + jnp.sum(Z**2))


def ppca_posterior(X, W, b, sigma2):
    """The exact pPCA posterior p(z | x_i) = N(M⁻¹ Wᵀ (x_i − b), σ² M⁻¹), M = WᵀW + σ² I_κ.

    (Tipping & Bishop 1999, eqs. 6–7.) The covariance is the same for every point.

    Args:
      X, W, b, sigma2: as for `ppca_log_likelihood`.

    Returns:
      (means, cov): the posterior means, shape (n, κ), one row per data point, and the posterior
      covariance σ² M⁻¹, shape (κ, κ).
    """
    _, _, kappa = _check_model(X, W, b, sigma2)
    X, W, b, sigma2 = _f64(X), _f64(W), _f64(b), _f64(sigma2)
    M = W.T @ W + sigma2 * jnp.eye(kappa, dtype=W.dtype)
    factor = (jnp.linalg.cholesky(M), True)
    means = cho_solve(factor, W.T @ (X - b).T).T
    cov = sigma2 * cho_solve(factor, jnp.eye(kappa, dtype=W.dtype))
    return means, 0.5 * (cov + cov.T)


@dataclass(frozen=True)
class PPCAStationaryPoint:
    """A stationary point of the fixed-σ² pPCA log-likelihood (Tipping & Bishop 1999, §3.2).

    Attributes:
      W: loadings, shape (d, κ); column j is u_{active[j]} (λ_{active[j]} − σ²)^{1/2}, or 0 where
        active[j] is None.
      b: the data mean x̄, shape (d,).
      sigma2: the noise variance σ².
      active: for each column, the 0-based index of its eigenvector of S (descending order), or None.
      eigenvalues: λ_1 ≥ … ≥ λ_d of S = (1/n) Σ (x_i − x̄)(x_i − x̄)ᵀ, shape (d,).
      eigenvectors: the matching unit eigenvectors, as columns, shape (d, d).
    """

    W: np.ndarray
    b: np.ndarray
    sigma2: float
    active: tuple[int | None, ...]
    eigenvalues: np.ndarray
    eigenvectors: np.ndarray

    @property
    def unused(self) -> tuple[int, ...]:
        """The indices of the eigenvectors of S that no column uses."""
        used = {a for a in self.active if a is not None}
        return tuple(i for i in range(self.eigenvalues.size) if i not in used)


def ppca_stationary_point(X, kappa: int, sigma2, active) -> PPCAStationaryPoint:
    """The stationary point of the fixed-σ² pPCA log-likelihood with the given eigenvectors in use.

    Column j of W is u_{active[j]} (λ_{active[j]} − σ²)^{1/2} and column j is 0 where active[j] is
    None; b = x̄. With u, λ the eigenpairs of S = (1/n) Σ (x_i − x̄)(x_i − x̄)ᵀ in descending
    order, these (and their rotations W R) are all the stationary points (Tipping & Bishop 1999,
    §3.2; MATH.md §6). Active columns need λ_{active[j]} ≥ σ². Choosing active = (0, 1, …) with
    every λ > σ² (None where λ ≤ σ²) gives the global maximum; any point with a zero column and an
    unused λ_i > σ² is a saddle (Lucas et al. 2019).

    Args:
      X: data, shape (n, d).
      kappa: the number of columns of W, ≥ 1.
      sigma2: the fixed noise variance σ² > 0.
      active: a sequence of length kappa of distinct 0-based eigenvector indices or None.

    Returns:
      A `PPCAStationaryPoint`.
    """
    n, d = V.check_data(X)
    kappa = V.check_kappa(kappa)
    _check_sigma2(sigma2)
    active = tuple(active)
    if len(active) != kappa:
        raise ValueError(f"active must have one entry per column (kappa = {kappa}), got {len(active)} entries.")
    for a in active:
        if a is not None and (isinstance(a, bool) or not isinstance(a, (int, np.integer)) or not 0 <= a < d):
            raise ValueError(f"active entries must be None or an eigenvector index in [0, d) = [0, {d}), got {a!r}.")
    used = [int(a) for a in active if a is not None]
    if len(set(used)) != len(used):
        raise ValueError(f"active must not use an eigenvector twice, got {active}.")
    x = np.asarray(X, dtype=np.float64)
    lam, U = np.linalg.eigh(data_covariance(x))
    lam, U = lam[::-1].copy(), U[:, ::-1].copy()
    s2 = float(sigma2)
    W = np.zeros((d, kappa))
    for j, a in enumerate(active):
        if a is None:
            continue
        if lam[a] < s2:
            raise ValueError(
                f"active[{j}] = {a} has eigenvalue {lam[a]:.6g} < sigma2 = {s2:.6g}: no real column "
                "u (lambda - sigma2)^(1/2) exists; use None (a zero column) instead."
            )
        W[:, j] = U[:, a] * math.sqrt(lam[a] - s2)
    return PPCAStationaryPoint(
        W=W,
        b=x.mean(axis=0),
        sigma2=s2,
        active=tuple(None if a is None else int(a) for a in active),
        eigenvalues=lam,
        eigenvectors=U,
    )
