"""The VAE energy of eq. (5), exactly and by Monte Carlo.

    L(θ, φ) = Σ_i { E_{z~N(μ_i, diag σ_i²)} [ ‖x_i − π_α(W z) − b‖² / γ ]
                    + d log γ + ‖σ_i‖² − log|diag σ_i²| + ‖μ_i‖² }

Sum over points, no ½, no additive constants (MATH.md §1); L = −2·ELBO − nd log 2π + nκ.
The expectation is evaluated in closed form: coordinate j of point i sees
u_ij ~ N(m_ij, v_ij) with m = μ Wᵀ and v = σ² (W∘W)ᵀ, and
E(y − π_α(u))² = (y − E π_α(u))² + Var π_α(u) (MATH.md §2), evaluated with its exact
derivatives by `expected_sq_error_elementwise`.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from landscape.common import checks as V
from landscape.core.data import data_array
from landscape.core.moments import expected_sq_error_elementwise, soft_threshold
from landscape.core.params import VAEParams, as_float64_params, check_params

__all__ = [
    "energy",
    "energy_objective",
    "energy_mc",
    "energy_mc_samples",
    "expected_sq_error",
    "energy_terms",
    "check_energy_args",
    "expected_sq_error_unchecked",
]


def _log_gamma(params: VAEParams, gamma):
    if gamma is None:
        return params.log_gamma
    return jnp.log(gamma)


def _kl_terms(params: VAEParams):
    """Σ_i ‖σ_i‖² − log|diag σ_i²| + ‖μ_i‖² (twice the KL to N(0, I), plus nκ)."""
    sigma2 = jnp.exp(2.0 * params.log_sigma)
    return jnp.sum(sigma2 - 2.0 * params.log_sigma + params.mu**2)


@jax.jit
def expected_sq_error_unchecked(params: VAEParams, X, alpha):
    """Σ_i E‖x_i − π_α(W z) − b‖² under q, in closed form (before dividing by γ); no argument checks.

    Jitted, like `energy_objective`: an eager call (`energy`, its gradient, a Hessian) compiles one
    program per shape, not one per operation; inside another jitted function it is inlined."""
    sigma2 = jnp.exp(2.0 * params.log_sigma)
    m = params.mu @ params.W.T
    v = sigma2 @ (params.W**2).T
    return jnp.sum(expected_sq_error_elementwise(X - params.b, m, v, alpha))


@jax.jit
def energy_objective(params: VAEParams, X, alpha, gamma=None) -> jax.Array:
    """Eq. (5) as an objective ``f(params, *args)``: the pure, jittable core, without argument checks.

    The same function as `energy`, so it can be traced with any arguments (use `energy`
    for checked, one-off evaluations) and handed to the generic tools (`landscape.tools`).
    Pass ``args = (X, alpha, gamma)``, with ``gamma=None`` for a learned γ. An integer α or γ
    is taken as a float (`landscape.common.checks.as_real`), so that it can be differentiated.
    Jitted: called eagerly it runs as one compiled program; inside a jitted function it is inlined.
    """
    alpha, gamma = V.as_real(alpha), V.as_real(gamma)
    n, d = X.shape
    log_g = _log_gamma(params, gamma)
    return expected_sq_error_unchecked(params, X, alpha) * jnp.exp(-log_g) + n * d * log_g + _kl_terms(params)


_energy = energy_objective  # the name used inside this module and by the benchmarks


def check_energy_args(params, X, alpha, gamma):
    """Validate the public functions' arguments; returns (params, X, alpha, gamma) to compute with.

    params and X come back as float64 arrays, an integer α or γ as a float (`V.check_alpha`,
    `V.check_gamma`): callers must use the returned values. The public functions compute in
    float64 whatever the inputs' dtype: float32 cannot resolve the quantities this library
    certifies (gradients of 1e-14, barriers of 1e-9).
    """
    X = data_array(X)  # an array is checked here; a `Data` was checked when it was built
    n, d = X.shape
    alpha = V.check_alpha(alpha)
    gamma = V.check_gamma(gamma)
    params = as_float64_params(params)
    check_params(params, n, d)
    return params, X, alpha, gamma


def energy(params: VAEParams, X, alpha, *, gamma=None) -> jax.Array:
    """The exact energy L(θ, φ) of eq. (5), a scalar.

    Args:
      params: a `VAEParams` with W (d, κ), b (d,), log_gamma (), mu and log_sigma (n, κ).
      X: data, shape (n, d).
      alpha: soft-threshold level α ≥ 0 of the decoder π_α(Wz) + b (α = 0: affine).
      gamma: if given, the decoder variance γ > 0, replacing exp(params.log_gamma)
        (whose gradient is then 0).

    Returns:
      L as a float64 scalar. Jittable, vmappable and differentiable to second order;
      exact at W = 0 (MATH.md §2).
    """
    params, X, alpha, gamma = check_energy_args(params, X, alpha, gamma)
    return _energy(params, X, alpha, gamma)


def expected_sq_error(params: VAEParams, X, alpha) -> jax.Array:
    """Σ_i E_q‖x_i − π_α(Wz) − b‖², the reconstruction error of eq. (9) times nd."""
    params, X, alpha, _ = check_energy_args(params, X, alpha, None)
    return expected_sq_error_unchecked(params, X, alpha)


def energy_terms(params: VAEParams, X, alpha, *, gamma=None) -> dict:
    """The three parts of eq. (5): reconstruction / γ, nd log γ, and the KL part."""
    params, X, alpha, gamma = check_energy_args(params, X, alpha, gamma)
    n, d = X.shape
    log_g = _log_gamma(params, gamma)
    return {
        "reconstruction": expected_sq_error_unchecked(params, X, alpha) * jnp.exp(-log_g),
        "log_gamma": n * d * log_g,
        "kl": _kl_terms(params),
    }


def _energy_mc_samples(params, X, alpha, key, num_samples, gamma=None):
    n, d = X.shape
    log_g = _log_gamma(params, gamma)
    eps = jax.random.normal(key, (num_samples,) + params.mu.shape, dtype=params.mu.dtype)
    z = params.mu + jnp.exp(params.log_sigma) * eps  # (S, n, κ), reparameterised
    recon = X - soft_threshold(z @ params.W.T, alpha) - params.b
    sq = jnp.sum(recon**2, axis=(1, 2))
    return sq * jnp.exp(-log_g) + n * d * log_g + _kl_terms(params)


def energy_mc_samples(params: VAEParams, X, alpha, key, *, num_samples: int, gamma=None) -> jax.Array:
    """Per-sample reparameterised estimates of eq. (5), shape (num_samples,).

    Sample s draws z_is = μ_i + σ_i ∘ ε_is, ε ~ N(0, I), for every point and
    evaluates the bracket of eq. (5) with the expectation replaced by that one draw.
    Their mean is `energy_mc`; their standard deviation / √num_samples is its
    standard error.
    """
    params, X, alpha, gamma = check_energy_args(params, X, alpha, gamma)
    V.check_size("num_samples", num_samples, 1)
    V.check_key("key", key)
    return _energy_mc_samples(params, X, alpha, key, num_samples, gamma)


def energy_mc(params: VAEParams, X, alpha, key, *, num_samples: int, gamma=None) -> jax.Array:
    """Reparameterised Monte Carlo estimate of eq. (5), for cross-checks of `energy`.

    Unbiased for `energy`, and differentiable in the parameters (pathwise gradient).
    """
    return jnp.mean(energy_mc_samples(params, X, alpha, key, num_samples=num_samples, gamma=gamma))
