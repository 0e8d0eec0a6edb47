"""Dang et al.'s linear conditional VAE (ICLR 2024, §4.1 and Theorem 2), one import path.

`landscape.linear_conditional` (and `landscape.models.linear_conditional`) re-exports the public names of:

- `landscape.models.cvae`: the model, its data statistics (A, B, C, Γ, E, θ) and the exact loss L;
- `landscape.models.cvae_optimum`: the closed-form global minimum of Theorem 2, its collapse
  condition θ_i ≤ βη_dec², and the same quantities measured at any point.
"""

from __future__ import annotations

from landscape.models.cvae import (
    CVAEParams,
    CVAEStatistics,
    cvae_init,
    cvae_loss,
    cvae_neg_elbo,
    cvae_objective,
    cvae_statistics,
    cvae_statistics_from_moments,
)
from landscape.models.cvae_optimum import CVAEOptimum, CVAESpectra, cvae_optimum, cvae_spectra

__all__ = [
    "CVAEParams",
    "CVAEStatistics",
    "CVAEOptimum",
    "CVAESpectra",
    "cvae_statistics",
    "cvae_statistics_from_moments",
    "cvae_objective",
    "cvae_loss",
    "cvae_neg_elbo",
    "cvae_optimum",
    "cvae_spectra",
    "cvae_init",
]
