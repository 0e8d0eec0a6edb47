"""The linear-Gaussian model: probabilistic PCA and the linear VAE (MATH.md §6), one import path.

`landscape.linear` (and `landscape.models.linear`) re-exports the public names of the modules that
hold them, one concept each:

- `landscape.models.ppca`: the pPCA likelihood, posterior and closed-form MLE (Tipping & Bishop 1999,
  eqs. 4–8): `ppca_log_likelihood`, `ppca_posterior`, `ppca_mle`, `PPCAFit`, `PPCAParams`,
  `ppca_objective`, `ppca_init`.
- `landscape.models.ppca_stationary`: every fixed-σ² stationary point and its Hessian inertia
  (Tipping & Bishop 1999, §3.2; Lucas et al. 2019, Theorem 1).
- `landscape.models.linear_vae`: the linear VAE's exact ELBO, optimal encoder, optimum, start points
  and (ε, δ)-collapse (Lucas et al. 2019, §4–5).
- `landscape.models.linear_endpoints`: classifying an endpoint of ELBO or likelihood ascent.
"""

from __future__ import annotations

from landscape.models.linear_endpoints import EndpointMatch, match_endpoint
from landscape.models.linear_vae import (
    DataMoments,
    LinearVAEParams,
    collapse_count,
    collapsed_dims,
    data_moments,
    linear_vae_elbo,
    linear_vae_elbo_per_example,
    linear_vae_inertia,
    linear_vae_init,
    linear_vae_kl_per_dim,
    linear_vae_objective,
    linear_vae_optimum,
    optimal_encoder,
    optimal_linear_vae,
    predicted_collapsed,
)
from landscape.models.ppca import (
    PPCAFit,
    PPCAParams,
    ppca_init,
    ppca_log_likelihood,
    ppca_mle,
    ppca_objective,
    ppca_posterior,
)
from landscape.models.ppca_stationary import (
    GENERIC_RTOL,
    PPCAStationaryPoint,
    nearest_stationary_point,
    ppca_hessian_inertia,
    ppca_hessian_spectrum,
    ppca_stationary_point,
    ppca_stationary_points,
)

__all__ = [
    "GENERIC_RTOL",
    "DataMoments",
    "EndpointMatch",
    "LinearVAEParams",
    "PPCAFit",
    "PPCAParams",
    "PPCAStationaryPoint",
    "collapse_count",
    "collapsed_dims",
    "data_moments",
    "linear_vae_elbo",
    "linear_vae_elbo_per_example",
    "linear_vae_inertia",
    "linear_vae_init",
    "linear_vae_kl_per_dim",
    "linear_vae_objective",
    "linear_vae_optimum",
    "match_endpoint",
    "nearest_stationary_point",
    "optimal_encoder",
    "optimal_linear_vae",
    "ppca_hessian_inertia",
    "ppca_hessian_spectrum",
    "ppca_init",
    "ppca_log_likelihood",
    "ppca_mle",
    "ppca_objective",
    "ppca_posterior",
    "ppca_stationary_point",
    "ppca_stationary_points",
    "predicted_collapsed",
]
