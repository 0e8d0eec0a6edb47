"""Probabilistic PCA: the exact likelihood, the posterior and the closed-form MLE (MATH.md §6).

pPCA (Tipping & Bishop 1999) is the generative model z ~ N(0, I_κ), x | z ~ N(W z + b, σ² I_d),
so x ~ N(b, C) with C = W Wᵀ + σ² I. The affine VAE of eq. (5) (α = 0) has the same decoder with
γ = σ², and its ELBO is a lower bound on this exact marginal likelihood, tight where q(z|x_i) is the
exact posterior p(z|x_i). With L the energy of eq. (5) (MATH.md §1, no ½, no constants),

    ELBO = −(L + n d log 2π − n κ) / 2,        at γ = σ²,

and log p(X) − ELBO = Σ_i KL(q(z|x_i) ‖ p(z|x_i)) ≥ 0 (`ppca_posterior` gives p(z|x_i)).

Maximum likelihood (`ppca_mle`). With S = U Λ Uᵀ the sample covariance (λ_1 ≥ … ≥ λ_d), the
MLE is b = x̄, W = U_κ (Λ_κ − σ² I)^{1/2} R (Tipping & Bishop 1999, eq. 7; columns with λ_j ≤ σ²
are 0 when σ² is fixed), and, when σ² is learned, σ²_ML = (1/(d − κ)) Σ_{j>κ} λ_j (their eq. 8).

Every stationary point and its Hessian inertia are in `landscape.models.ppca_stationary`; the linear
VAE built on this decoder is `landscape.models.linear_vae`. `landscape.linear` re-exports all three.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.linalg import cho_solve, solve_triangular

from landscape.common import checks as V
from landscape.common.results import Result
from landscape.core.data import Data
from landscape.models.linalg import LOG_2PI, eig_desc, f64

__all__ = [
    "PPCAFit",
    "PPCAParams",
    "ppca_init",
    "ppca_log_likelihood",
    "ppca_mle",
    "ppca_objective",
    "ppca_posterior",
]


def _check_model(X, W, b, sigma2) -> tuple[int, int, int]:
    """Validate (X, W, b, sigma2) of a pPCA model; returns (n, d, κ)."""
    n, d = V.check_data(X)
    W_shape = np.shape(W)
    if len(W_shape) != 2 or W_shape[0] != d or W_shape[1] < 1:
        raise ValueError(f"W must have shape (d, kappa) = ({d}, kappa >= 1) for X of shape ({n}, {d}); got {W_shape}.")
    if np.shape(b) != (d,):
        raise ValueError(f"b must have shape (d,) = ({d},) for X of shape ({n}, {d}); got {np.shape(b)}.")
    V.check_finite("W", W)
    V.check_finite("b", b)
    V.check_sigma2(sigma2)
    return n, d, W_shape[1]


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
    X, W, b, sigma2 = f64(X), f64(W), f64(b), f64(sigma2)
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
    X, W, b, sigma2 = f64(X), f64(W), f64(b), f64(sigma2)
    M = W.T @ W + sigma2 * jnp.eye(kappa, dtype=W.dtype)
    factor = (jnp.linalg.cholesky(M), True)
    means = cho_solve(factor, W.T @ (X - b).T).T
    cov = sigma2 * cho_solve(factor, jnp.eye(kappa, dtype=W.dtype))
    return means, 0.5 * (cov + cov.T)


# --------------------------------------------------------------------------- maximum likelihood


def _check_ddof(ddof) -> int:
    if isinstance(ddof, bool) or not isinstance(ddof, (int, np.integer)) or ddof not in (0, 1):
        raise ValueError(
            f"ddof must be 0 (S = (1/n) sum, the MLE) or 1 (np.cov's 1/(n - 1), as in Lucas et al.'s notebook), "
            f"got {ddof!r}."
        )
    return int(ddof)


@dataclass(frozen=True)
class PPCAFit(Result):
    """The closed-form pPCA maximum-likelihood solution (`ppca_mle`).

    Attributes:
      W: loadings, shape (d, κ): column j = u_j (λ_j − σ²)^{1/2} if λ_j > σ², else 0.
      b: the data mean x̄, shape (d,).
      sigma2: σ², fixed or learned (σ²_ML = mean of the d − κ smallest eigenvalues).
      learned_sigma2: whether σ² was estimated.
      log_likelihood: ℓ = Σ_i log N(x_i; x̄, W Wᵀ + σ² I) on the data, total, nats.
      log_likelihood_per_example: ℓ / n.
      eigenvalues: λ_1 ≥ … ≥ λ_d of the covariance used, S_ddof = Σ (x_i − x̄)(x_i − x̄)ᵀ / (n − ddof)
        (clipped at 0).
      eigenvectors: the matching unit eigenvectors, as columns, shape (d, d).
      n_active: #{j ≤ κ : λ_j > σ²}, the non-zero columns of W.
      ddof: 0 or 1.
      n, kappa: the number of data points and of latent dimensions.
    """

    W: np.ndarray
    b: np.ndarray
    sigma2: float
    learned_sigma2: bool
    log_likelihood: float
    log_likelihood_per_example: float
    eigenvalues: np.ndarray
    eigenvectors: np.ndarray
    n_active: int
    ddof: int
    n: int
    kappa: int

    @property
    def params(self) -> PPCAParams:
        """The fit as `PPCAParams` (log_sigma2 set only if σ² was learned)."""
        return PPCAParams(
            W=jnp.asarray(self.W),
            b=jnp.asarray(self.b),
            log_sigma2=jnp.asarray(math.log(self.sigma2)) if self.learned_sigma2 else None,
        )

    _omit = ("eigenvectors",)


def ppca_mle(X, kappa: int, sigma2=None, *, ddof: int = 0) -> PPCAFit:
    """The closed-form pPCA maximum-likelihood estimate (Tipping & Bishop 1999, eqs. 7–8).

    With S_ddof = U Λ Uᵀ (λ_1 ≥ … ≥ λ_d): b = x̄; σ² = σ²_ML = (1/(d − κ)) Σ_{j>κ} λ_j when
    ``sigma2`` is None (eq. 8), else the given σ²; column j ≤ κ of W is u_j (λ_j − σ²)^{1/2} when
    λ_j > σ² and 0 otherwise (eq. 7 with R = I; the fixed-σ² form is Lucas et al. 2019, §3).

    ``ddof = 0``: S = (1/n) Σ (x_i − x̄)(x_i − x̄)ᵀ, and the fit is the exact MLE. ``ddof = 1``: S is
    np.cov's 1/(n − 1) covariance, as in Lucas et al.'s linear-VAE notebook (pPCA on the first 1000
    MNIST images, 941.6543 nats per example); the model (W, σ²) is then the closed form above built from
    that S, which is not quite the MLE. In both cases ``log_likelihood`` is the exact
    Σ_i log N(x_i; x̄, W Wᵀ + σ² I) on the data X for the model returned, computed in closed form
    through the shared eigenvectors: with c_j = max(λ_j, σ²) (j ≤ κ) or σ² (j > κ) and λ⁰_j =
    λ_j (n − ddof)/n the eigenvalues of the 1/n covariance,

        ℓ = −(n/2) Σ_j [log 2π + log c_j + λ⁰_j / c_j].

    Args:
      X: data, shape (n, d), n ≥ 2, finite, not constant.
      kappa: the latent size, 1 ≤ κ ≤ d (κ < d when σ² is learned).
      sigma2: a fixed noise variance σ² > 0, or None to learn it.
      ddof: 0 or 1 (see above).

    Returns:
      A `PPCAFit`.
    """
    n, d = V.check_data(X)
    kappa = V.check_kappa_le_d(kappa, d)
    ddof = _check_ddof(ddof)
    V.check_not_constant(X)
    x = np.asarray(X, dtype=np.float64)
    if isinstance(X, Data) and ddof == 0:  # its S = YᵀY/n is decomposed already
        lam, U = X.eigenvalues, X.eigenvectors
    else:
        y = x - x.mean(axis=0)
        lam, U = eig_desc(y.T @ y / (n - ddof))
    lam = np.clip(lam, 0.0, None)
    if sigma2 is None:
        if kappa == d:
            raise ValueError(
                f"sigma2=None (learned) needs kappa < d: with kappa = d = {d} no eigenvalue is left over for "
                "sigma2_ML = mean of the d - kappa smallest eigenvalues (Tipping & Bishop eq. 8); C = S is then "
                "reached for every sigma2 <= lambda_d, so sigma2 is not identified. Lower kappa or fix sigma2."
            )
        s2 = float(np.mean(lam[kappa:]))
        if not s2 > 0:
            raise ValueError(
                f"X has rank <= kappa = {kappa}: sigma2_ML = 0 and the likelihood is unbounded; lower kappa or "
                "fix sigma2."
            )
    else:
        V.check_sigma2(sigma2)
        s2 = float(sigma2)
    W = np.zeros((d, kappa))
    on = lam[:kappa] > s2
    W[:, on] = U[:, :kappa][:, on] * np.sqrt(lam[:kappa][on] - s2)
    c = np.full(d, s2)
    c[:kappa] = np.maximum(lam[:kappa], s2)
    lam0 = lam * (n - ddof) / n
    ll = float(-0.5 * n * np.sum(LOG_2PI + np.log(c) + lam0 / c))
    return PPCAFit(
        W=W,
        b=x.mean(axis=0),
        sigma2=s2,
        learned_sigma2=sigma2 is None,
        log_likelihood=ll,
        log_likelihood_per_example=ll / n,
        eigenvalues=lam,
        eigenvectors=U,
        n_active=int(np.sum(on)),
        ddof=ddof,
        n=n,
        kappa=kappa,
    )


# --------------------------------------------------------------------------- pPCA as an objective


class PPCAParams(NamedTuple):
    """pPCA parameters for `ppca_objective`: W (d, κ), b (d,), and log σ² (a scalar) or None (σ² fixed)."""

    W: Any
    b: Any
    log_sigma2: Any = None


def resolve_sigma2(log_sigma2, sigma2, owner: str):
    if sigma2 is not None:
        if log_sigma2 is not None:
            raise ValueError(
                f"sigma2 was passed and {owner}.log_sigma2 is set: drop one (params._replace(log_sigma2=None) "
                "holds sigma2 fixed; sigma2=None learns it through log_sigma2)."
            )
        V.check_sigma2(sigma2)
        return f64(sigma2)
    if log_sigma2 is None:
        raise ValueError(f"sigma2 is None and {owner}.log_sigma2 is None: pass sigma2 (fixed) or set log_sigma2.")
    if np.ndim(log_sigma2) != 0:
        raise ValueError(f"{owner}.log_sigma2 must be a scalar, got shape {np.shape(log_sigma2)}.")
    V.check_finite(f"{owner}.log_sigma2", log_sigma2)
    return jnp.exp(f64(log_sigma2))


def ppca_objective(params: PPCAParams, X, sigma2=None):
    """−ℓ / n for `landscape.multistart` and `landscape.certify`: ``f(params, X, sigma2)``.

    Args:
      params: `PPCAParams`; σ² = exp(params.log_sigma2) when ``sigma2`` is None.
      X: data, shape (n, d).
      sigma2: a fixed σ² > 0 (then params.log_sigma2 must be None), or None.
    """
    if not isinstance(params, PPCAParams):
        raise ValueError(f"params must be a landscape.linear.PPCAParams, got {type(params).__name__}.")
    s2 = resolve_sigma2(params.log_sigma2, sigma2, "params")
    n, _ = V.check_data(X)
    return -ppca_log_likelihood(X, params.W, params.b, s2) / n


def ppca_init(X, kappa: int, *, learn_sigma2: bool = False, scale: float = 1.0) -> Callable[[jax.Array], PPCAParams]:
    """A random starting point for `landscape.multistart` on `ppca_objective`: ``init(key) -> PPCAParams``.

    In units of the data, with s² = tr(S)/d: W ~ N(0, scale² s²/κ), b ~ x̄ + N(0, scale² s²),
    log σ² ~ log s² + N(0, 0.5²) when learned (else None).
    """
    n, d = V.check_data(X)
    kappa = V.check_kappa(kappa)
    s2bar = V.check_not_constant(X)
    xbar = jnp.asarray(np.asarray(X, dtype=np.float64).mean(axis=0))
    sd = float(scale) * math.sqrt(s2bar)

    def init(key):
        k1, k2, k3 = jax.random.split(key, 3)
        W = sd / math.sqrt(kappa) * jax.random.normal(k1, (d, kappa))
        b = xbar + sd * jax.random.normal(k2, (d,))
        ls = math.log(s2bar) + 0.5 * jax.random.normal(k3, ()) if learn_sigma2 else None
        return PPCAParams(W, b, ls)

    return init
