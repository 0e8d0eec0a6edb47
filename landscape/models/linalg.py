"""Small linear-algebra helpers shared by the companion linear models (pPCA, linear VAE, CVAE, HVAE).

Public so that `ppca`, `ppca_stationary`, `linear_vae`, `cvae` and `linear_hierarchical` share one copy
instead of importing each other's private names. No model lives here.
"""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np

__all__ = ["LOG_2PI", "eig_desc", "f64", "tr_quad"]

#: log 2π, the Gaussian normaliser of MATH.md §6.
LOG_2PI = math.log(2.0 * math.pi)


def f64(a):
    """``a`` as a float64 JAX array."""
    return jnp.asarray(a, dtype=jnp.float64)


def tr_quad(M, S):
    """tr(M S Mᵀ)."""
    return jnp.sum((M @ S) * M)


def eig_desc(S) -> tuple[np.ndarray, np.ndarray]:
    """Eigenpairs of a symmetric matrix, eigenvalues descending (λ_1 ≥ … ≥ λ_d, MATH.md §4)."""
    lam, U = np.linalg.eigh(np.asarray(S, dtype=np.float64))
    return lam[::-1].copy(), U[:, ::-1].copy()
