"""The parameters of eq. (5) as a pytree."""

from __future__ import annotations

from typing import NamedTuple

import jax

__all__ = ["VAEParams"]


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
