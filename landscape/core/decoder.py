"""θ = (W, b, γ), the decoder's parameters of the model behind eq. (5), and their check.

The generative model of Dai, Wang & Wipf (2020), eq. (5) (MATH.md §1), is
z ~ N(0, I_κ), x | z ~ N(π_α(Wz) + b, γI_d); its marginal likelihood p_θ(x)
(`landscape.core.marginal`) depends on θ alone, not on the encoder φ of `landscape.VAEParams`.

Public: `DecoderParams`, `decoder_params` (the θ part of a `VAEParams`), `check_theta`
(the checked θ of the exact likelihood, κ ∈ {1, 2}) and `check_likelihood_kappa`.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from landscape.common import checks as V
from landscape.core.params import VAEParams

__all__ = ["DecoderParams", "decoder_params", "check_theta", "check_likelihood_kappa"]


class DecoderParams(NamedTuple):
    """θ = (W, b, γ) of the decoder π_α(Wz) + b with noise γI, as a pytree.

    Fields, in the order used by ``jax.flatten_util.ravel_pytree`` (the first three of
    `landscape.VAEParams`):
      W: decoder weights W_x, shape (d, κ), κ ∈ {1, 2}.
      b: decoder bias b_x, shape (d,).
      log_gamma: log of the decoder variance γ, a scalar.
    """

    W: jax.Array
    b: jax.Array
    log_gamma: jax.Array

    @property
    def gamma(self) -> jax.Array:
        """The decoder variance γ = exp(log_gamma)."""
        return jnp.exp(self.log_gamma)


def decoder_params(params: VAEParams) -> DecoderParams:
    """The θ part (W, b, log_gamma) of a `landscape.VAEParams`, as `DecoderParams`."""
    if not isinstance(params, VAEParams):
        raise ValueError(f"params must be a landscape.VAEParams, got {type(params).__name__}.")
    for field in ("W", "b", "log_gamma"):
        if not isinstance(getattr(params, field), jax.core.Tracer):
            V.check_real_array(f"params.{field}", getattr(params, field))
    W_shape, b_shape, g_shape = (np.shape(a) for a in (params.W, params.b, params.log_gamma))
    if len(W_shape) != 2 or min(W_shape) < 1 or b_shape != W_shape[:1] or g_shape != ():
        raise ValueError(
            "params must hold W of shape (d, kappa) with d, kappa >= 1, b of shape (d,) and a scalar log_gamma; "
            f"got W {W_shape}, b {b_shape}, log_gamma {g_shape}."
        )
    return DecoderParams(params.W, params.b, params.log_gamma)


def check_likelihood_kappa(kappa) -> int:
    """κ as an int, if it is 1 or 2: the latent sizes for which the exact likelihood exists."""
    if V.check_kappa(kappa) > 2:
        raise ValueError(
            f"kappa must be 1 or 2 (the exact likelihood of landscape.marginal exists for kappa <= 2), got {kappa!r}."
        )
    return int(kappa)


def check_theta(theta, d):
    """(θ as float64 `DecoderParams`, κ) after checking θ against d columns of X.

    A `landscape.VAEParams` gives its θ part. Raises ``ValueError`` naming the field for a
    wrong type or shape, κ ∉ {1, 2}, NaN/inf, or γ = exp(log_gamma) not finite and > 0.
    """
    if isinstance(theta, VAEParams):
        theta = decoder_params(theta)
    if not isinstance(theta, DecoderParams):
        raise ValueError(
            f"theta must be a landscape.marginal.DecoderParams (W, b, log_gamma), got {type(theta).__name__}; "
            "use decoder_params(vae_params) for the theta part of a VAEParams."
        )
    arrs = [V.check_real_array(f"theta.{f}", v).astype(np.float64) for f, v in zip(theta._fields, theta, strict=True)]
    W, b, lg = arrs
    if W.ndim != 2 or W.shape[0] != d:
        raise ValueError(
            f"theta.W must have shape (d, kappa) = ({d}, kappa) for X with d = {d} columns; got {W.shape}."
        )
    kappa = W.shape[1]
    if kappa not in (1, 2):
        raise ValueError(
            f"theta.W has kappa = {kappa} latent columns; the exact likelihood is only implemented for "
            "kappa <= 2 (kappa = 1 in closed form, kappa = 2 by one-dimensional quadrature). "
            "Use landscape.energy for an ELBO bound at larger kappa."
        )
    if b.shape != (d,):
        raise ValueError(f"theta.b must have shape ({d},) for X with d = {d} columns; got {b.shape}.")
    if lg.shape != ():
        raise ValueError(f"theta.log_gamma must be a scalar, got an array of shape {lg.shape}.")
    for name, v in (("W", W), ("b", b), ("log_gamma", lg)):
        if not np.all(np.isfinite(v)):
            raise ValueError(f"theta.{name} contains NaN or inf; the likelihood is only defined at finite parameters.")
    with np.errstate(over="ignore"):
        g = float(np.exp(lg))
    if not (np.isfinite(g) and g > 0):
        raise ValueError(
            f"gamma = exp(theta.log_gamma) = exp({float(lg)!r}) = {g!r}; gamma must be finite and > 0 "
            "(it is the decoder variance): bring log_gamma into about [-700, 700]."
        )
    return DecoderParams(*(jnp.asarray(v) for v in arrs)), kappa
