"""landscape: the loss landscapes of VAEs and the causes of posterior collapse.

Importing ``landscape`` turns on float64 in JAX (``jax_enable_x64``): the energies,
Hessians and certificates here are meant to be exact, and float32 cannot resolve
barriers of 1e-4 on energies of order 100. Arrays you create with ``jnp`` after the
import are float64 by default.

The public API follows Dai, Wang & Wipf (ICML 2020) and ../shared/MATH.md.
"""

import jax

jax.config.update("jax_enable_x64", True)

__version__ = "0.1.0"

from landscape import datasets, linear, linear_conditional, linear_hierarchical, paths  # noqa: E402
from landscape.basins import (  # noqa: E402
    CATEGORIES,
    BasinStats,
    Minimum,
    active_dims,
    basin_stats,
    canonicalize,
    categorize,
    kl_per_dim,
    wilson_interval,
)
from landscape.certificate import (  # noqa: E402
    CollapsedReport,
    PathReport,
    Prop1Certificate,
    certify_prop1,
    reconstruction_path,
)
from landscape.collapsed import (  # noqa: E402
    collapsed_energy,
    collapsed_point,
    collapsed_spectrum,
    data_covariance,
    gamma_bar,
    n_negative_affine,
)
from landscape.curvature import (  # noqa: E402
    EigenEstimates,
    LanczosResult,
    SpectralDensity,
    block_shares,
    dense_hessian,
    hvp,
    lanczos,
    spectral_density,
)
from landscape.datasets import Prop1Dataset, prop1_dataset  # noqa: E402
from landscape.energy import (  # noqa: E402
    energy,
    energy_mc,
    energy_mc_samples,
    energy_objective,
    energy_terms,
    expected_sq_error,
)
from landscape.gamma import (  # noqa: E402
    GammaSweep,
    GammaThresholds,
    LiteralProp2,
    Threshold,
    affine_optimum,
    affine_optimum_energy,
    gamma_thresholds,
    implicit_gamma,
    prop2_literal,
    sweep_gamma,
    trivial_energy,
)
from landscape.linear import (  # noqa: E402
    LinearVAEParams,
    PPCAFit,
    PPCAStationaryPoint,
    collapse_count,
    collapsed_dims,
    linear_vae_elbo,
    linear_vae_init,
    linear_vae_kl_per_dim,
    linear_vae_objective,
    optimal_encoder,
    optimal_linear_vae,
    ppca_hessian_inertia,
    ppca_log_likelihood,
    ppca_mle,
    ppca_posterior,
    ppca_stationary_point,
    ppca_stationary_points,
    predicted_collapsed,
)
from landscape.linear_conditional import (  # noqa: E402
    CVAEOptimum,
    CVAEParams,
    CVAEStatistics,
    cvae_init,
    cvae_loss,
    cvae_objective,
    cvae_optimum,
    cvae_statistics,
)
from landscape.linear_hierarchical import (  # noqa: E402
    HVAEOptimum,
    HVAEParams,
    HVAEStatistics,
    hvae_init,
    hvae_loss,
    hvae_objective,
    hvae_optimum,
    hvae_statistics,
)
from landscape.moments import soft_threshold, soft_threshold_moments  # noqa: E402
from landscape.multistart import MultiStartResult, multistart  # noqa: E402
from landscape.optimize import NewtonResult, newton_minimize  # noqa: E402
from landscape.params import VAEParams  # noqa: E402
from landscape.paths import (  # noqa: E402
    FilterDirection,
    MinimumEnergyPath,
    Profile1D,
    Slice1D,
    Slice2D,
    filter_normalized_direction,
    minimum_energy_path,
    profile_1d,
    prop1_path,
    segment_direction,
    slice_1d,
    slice_2d,
)
from landscape.profiles import (  # noqa: E402
    Direction,
    Profile,
    affine_descent_directions,
    barrier_profiles,
    energy_profile,
    random_directions,
)
from landscape.schur import SchurInertia, block_inertia, hessian_blocks, schur_inertia  # noqa: E402
from landscape.search import InitScales, SearchResult, init_params, search  # noqa: E402
from landscape.spectrum import Spectrum, grad_norm, gradient, hessian, inertia, spectrum  # noqa: E402
from landscape.stationary import (  # noqa: E402
    Mode,
    StationaryCertificate,
    certify,
    certify_minima,
    certify_stationary,
)

__all__ = [
    "deep",
    "linear",
    "linear_conditional",
    "linear_hierarchical",
    "PPCAStationaryPoint",
    "ppca_log_likelihood",
    "ppca_posterior",
    "ppca_stationary_point",
    "ppca_stationary_points",
    "ppca_hessian_inertia",
    "ppca_mle",
    "PPCAFit",
    "LinearVAEParams",
    "linear_vae_elbo",
    "linear_vae_init",
    "linear_vae_objective",
    "linear_vae_kl_per_dim",
    "optimal_encoder",
    "optimal_linear_vae",
    "collapse_count",
    "collapsed_dims",
    "predicted_collapsed",
    "CVAEParams",
    "CVAEStatistics",
    "CVAEOptimum",
    "cvae_statistics",
    "cvae_loss",
    "cvae_objective",
    "cvae_optimum",
    "cvae_init",
    "HVAEParams",
    "HVAEStatistics",
    "HVAEOptimum",
    "hvae_statistics",
    "hvae_loss",
    "hvae_objective",
    "hvae_optimum",
    "hvae_init",
    "__version__",
    "VAEParams",
    "energy",
    "energy_mc",
    "energy_mc_samples",
    "energy_terms",
    "energy_objective",
    "expected_sq_error",
    "soft_threshold",
    "soft_threshold_moments",
    "collapsed_point",
    "collapsed_energy",
    "collapsed_spectrum",
    "data_covariance",
    "gamma_bar",
    "n_negative_affine",
    "gradient",
    "grad_norm",
    "hessian",
    "spectrum",
    "inertia",
    "Spectrum",
    "hvp",
    "dense_hessian",
    "lanczos",
    "LanczosResult",
    "EigenEstimates",
    "spectral_density",
    "SpectralDensity",
    "block_shares",
    "schur_inertia",
    "block_inertia",
    "hessian_blocks",
    "SchurInertia",
    "certify",
    "certify_stationary",
    "certify_minima",
    "StationaryCertificate",
    "Mode",
    "paths",
    "slice_1d",
    "slice_2d",
    "profile_1d",
    "Slice1D",
    "Slice2D",
    "Profile1D",
    "filter_normalized_direction",
    "segment_direction",
    "FilterDirection",
    "minimum_energy_path",
    "prop1_path",
    "MinimumEnergyPath",
    "datasets",
    "Prop1Dataset",
    "prop1_dataset",
    "certify_prop1",
    "reconstruction_path",
    "Prop1Certificate",
    "CollapsedReport",
    "PathReport",
    "Direction",
    "Profile",
    "affine_descent_directions",
    "random_directions",
    "energy_profile",
    "barrier_profiles",
    "newton_minimize",
    "NewtonResult",
    "search",
    "multistart",
    "MultiStartResult",
    "init_params",
    "InitScales",
    "SearchResult",
    "basin_stats",
    "BasinStats",
    "Minimum",
    "CATEGORIES",
    "active_dims",
    "kl_per_dim",
    "categorize",
    "canonicalize",
    "wilson_interval",
    "sweep_gamma",
    "GammaSweep",
    "trivial_energy",
    "affine_optimum_energy",
    "affine_optimum",
    "gamma_thresholds",
    "GammaThresholds",
    "Threshold",
    "implicit_gamma",
    "prop2_literal",
    "LiteralProp2",
]


def __getattr__(name):
    """``landscape.deep`` (the Flax models of Section 6) is imported on first use: it pulls in Flax."""
    if name == "deep":
        import importlib

        return importlib.import_module("landscape.deep")
    raise AttributeError(f"module 'landscape' has no attribute {name!r}")
