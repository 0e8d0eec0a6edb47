"""The parameters of eq. (5) as a pytree."""

from __future__ import annotations

from typing import NamedTuple

import jax
import numpy as np

from landscape.common.checks import leaf_dtype

__all__ = ["VAEParams", "as_float64_params", "as_point", "check_params", "vae_shapes"]


class VAEParams(NamedTuple):
    """θ = (W, b, γ) and φ = {μ_i, σ_i} of eq. (5), as a pytree.

    Fields, in the order used by ``jax.flatten_util.ravel_pytree``:
      W: decoder weights W_x, shape (d, κ).
      b: decoder bias b_x, shape (d,).
      log_gamma: log of the decoder variance γ, a scalar.
      mu: encoder means μ_z^(i), one row per data point, shape (n, κ).
      log_sigma: log of the encoder standard deviations σ_z^(i), shape (n, κ).

    γ and σ are optimised on the log scale (MATH.md §1).
    """

    W: jax.Array
    b: jax.Array
    log_gamma: jax.Array
    mu: jax.Array
    log_sigma: jax.Array

    @property
    def gamma(self) -> jax.Array:
        """The decoder variance γ = exp(log_gamma)."""
        return jax.numpy.exp(self.log_gamma)

    @property
    def sigma(self) -> jax.Array:
        """The encoder standard deviations σ = exp(log_sigma)."""
        return jax.numpy.exp(self.log_sigma)


def as_float64_params(params) -> VAEParams:
    """``params`` with every field a float64 array (lists and float32 are converted)."""
    if not isinstance(params, VAEParams):
        raise ValueError(f"params must be a landscape.VAEParams, got {type(params).__name__}.")
    for field, a in zip(params._fields, params, strict=True):
        dtype = leaf_dtype(f"params.{field}", a, "hold real numbers")
        if np.issubdtype(dtype, np.complexfloating):
            raise ValueError(f"params.{field} must hold real numbers, got a complex array.")
        if dtype == np.bool_:
            raise ValueError(f"params.{field} must hold real numbers, got a bool array; pass floats (1.0 for True).")
    try:
        return VAEParams(*(jax.numpy.asarray(a, dtype=jax.numpy.float64) for a in params))
    except (TypeError, ValueError) as err:
        raise ValueError(f"params must hold real arrays (W, b, log_gamma, mu, log_sigma): {err}") from None


def check_params(params, n: int, d: int) -> int:
    """The shapes of ``params`` must match X of shape (n, d); returns κ."""
    if not isinstance(params, VAEParams):
        raise ValueError(f"params must be a landscape.VAEParams, got {type(params).__name__}.")
    W_shape = np.shape(params.W)
    if len(W_shape) != 2 or W_shape[0] != d:
        raise ValueError(
            f"params.W must have shape (d, kappa) = ({d}, kappa) for X of shape ({n}, {d}); got {W_shape}."
        )
    kappa = W_shape[1]
    if kappa < 1:
        raise ValueError(f"params.W has kappa = {kappa} latent columns; kappa must be >= 1.")
    expected = {
        "b": (d,),
        "log_gamma": (),
        "mu": (n, kappa),
        "log_sigma": (n, kappa),
    }
    for field, shape in expected.items():
        got = np.shape(getattr(params, field))
        if got != shape:
            raise ValueError(
                f"params.{field} must have shape {shape} for X of shape ({n}, {d}) and kappa = {kappa}; got {got}."
            )
    return kappa


def vae_shapes(params) -> tuple[tuple[int, ...], int, int, int]:
    """(batch, n, d, κ) of one point or a batch of points (a leading batch shape, e.g. restarts).

    The shapes must fit together: W (…, d, κ), b (…, d), log_gamma (…), mu and log_sigma
    (…, n, κ), one batch shape …, and n, d, κ ≥ 1; else ``ValueError`` naming the field.
    """
    if not isinstance(params, VAEParams):
        raise ValueError(f"params must be a landscape.VAEParams, got {type(params).__name__}.")
    W, mu = np.shape(params.W), np.shape(params.mu)
    if len(W) < 2 or len(mu) < 2:
        raise ValueError(
            f"params must hold W of shape (..., d, kappa) and mu of shape (..., n, kappa); got W {W}, mu {mu}."
        )
    batch, (d, kappa), n = W[:-2], W[-2:], mu[-2]
    if min(n, d, kappa) < 1:
        raise ValueError(f"params must have n, d, kappa >= 1; got W {W} and mu {mu}.")
    expected = {"b": (*batch, d), "log_gamma": batch, "mu": (*batch, n, kappa), "log_sigma": (*batch, n, kappa)}
    for field, shape in expected.items():
        got = np.shape(getattr(params, field))
        if got != shape:
            raise ValueError(
                f"params.{field} must have shape {shape} to fit W of shape {W} and mu of shape {mu}; got {got}."
            )
    return batch, n, d, kappa


def as_point(params) -> VAEParams:
    """One point of eq. (5) (no batch axis), as `as_float64_params`, whose shapes fit together (`vae_shapes`).

    The generic tools (`landscape.tools`) read a `VAEParams` this way.
    """
    params = as_float64_params(params)
    batch, *_ = vae_shapes(params)
    if batch:
        raise ValueError(f"params must be one point (W of shape (d, kappa)), got a batch of shape {batch}; index it.")
    return params
