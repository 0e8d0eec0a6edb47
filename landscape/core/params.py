"""The parameters of eq. (5) as a pytree."""

from __future__ import annotations

from typing import NamedTuple

import jax
import numpy as np

__all__ = ["VAEParams", "as_float64_params", "check_params"]


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
        dtype = getattr(a, "dtype", None)  # a tracer has one; never np.asarray a tracer
        if dtype is None:
            try:
                dtype = np.asarray(a).dtype
            except (TypeError, ValueError) as err:
                raise ValueError(f"params.{field} must hold real numbers: {err}") from None
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
