"""Dense Hessians of eq. (5) and their inertia (`landscape.tools.inertia`)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from landscape.core.energy import check_energy_args, energy_objective
from landscape.core.params import VAEParams
from landscape.tools.inertia import DEFAULT_RTOL, Spectrum, inertia

__all__ = ["Spectrum", "gradient", "grad_norm", "hessian", "spectrum", "inertia"]

@jax.jit
def _hessian(params, X, alpha, gamma):
    flat, unravel = ravel_pytree(params)
    return jax.hessian(lambda p: energy_objective(unravel(p), X, alpha, gamma))(flat)


@jax.jit
def _grad(params, X, alpha, gamma):
    return jax.grad(energy_objective)(params, X, alpha, gamma)


def gradient(params: VAEParams, X, alpha, *, gamma=None) -> VAEParams:
    """∇L of eq. (5) as a `VAEParams` pytree."""
    params, X, alpha, gamma = check_energy_args(params, X, alpha, gamma)
    return _grad(params, X, alpha, gamma)


def grad_norm(params: VAEParams, X, alpha, *, gamma=None) -> float:
    """The Euclidean norm of ∇L over all parameters."""
    flat, _ = ravel_pytree(gradient(params, X, alpha, gamma=gamma))
    return float(jnp.linalg.norm(flat))


def hessian(params: VAEParams, X, alpha, *, gamma=None) -> jax.Array:
    """The dense (P, P) Hessian of eq. (5), in the order of ``ravel_pytree(params)``.

    Exact (forward-over-reverse autodiff through the closed-form moments), including
    at W = 0. P = dκ + d + 1 + 2nκ; use it for P up to a few thousand.
    """
    params, X, alpha, gamma = check_energy_args(params, X, alpha, gamma)
    return _hessian(params, X, alpha, gamma)


def spectrum(
    params: VAEParams,
    X,
    alpha,
    *,
    gamma=None,
    tol: float | None = None,
    rtol: float = DEFAULT_RTOL,
    eigenvectors: bool = False,
) -> Spectrum:
    """The full Hessian spectrum of eq. (5) at ``params``, with its inertia.

    Args:
      params, X, alpha, gamma: as for `energy`.
      tol: absolute tolerance below which |λ| counts as zero; by default
        ``rtol * max|λ|`` (recorded in the result).
      rtol: relative tolerance used when ``tol`` is None (default 1e-8).
      eigenvectors: also return the eigenvectors (columns, ravel_pytree order).
    """
    H = hessian(params, X, alpha, gamma=gamma)
    if not np.all(np.isfinite(np.asarray(H))):
        raise ValueError(
            "the Hessian at params has NaN or inf entries: params (or X, alpha) lie outside the float64 domain "
            "of eq. (5) (e.g. an entry near 1e300 overflows); the spectrum is undefined there."
        )
    return inertia(H, tol=tol, rtol=rtol, eigenvectors=eigenvectors)
