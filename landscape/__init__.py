"""landscape: the loss landscapes of VAEs and the causes of posterior collapse.

Importing ``landscape`` turns on float64 in JAX (``jax_enable_x64``): the energies,
Hessians and certificates here are meant to be exact, and float32 cannot resolve
barriers of 1e-4 on energies of order 100. Arrays you create with ``jnp`` after the
import are float64 by default.

The public API follows Dai, Wang & Wipf (ICML 2020) and ../shared/MATH.md.
"""

import jax

jax.config.update("jax_enable_x64", True)

from landscape.analysis import paths  # noqa: E402
from landscape.analysis.basins import (  # noqa: E402
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
from landscape.analysis.certificate import (  # noqa: E402
    CollapsedReport,
    PathReport,
    Prop1Certificate,
    certify_prop1,
    reconstruction_path,
)
from landscape.analysis.elbo_gap import ElboGap, OptimalPhi, elbo_gap, optimal_phi  # noqa: E402
from landscape.analysis.gamma import (  # noqa: E402
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
from landscape.analysis.likelihood_basins import (  # noqa: E402
    BasinComparison,
    MinimumReport,
    compare_basins,
    decoder_signal,
    likelihood_multistart,
)
from landscape.analysis.likelihood_collapsed import (  # noqa: E402
    CollapsedEvidence,
    DirectionEvidence,
    SlicePair,
    collapsed_likelihood_evidence,
    collapsed_slices,
    collapsed_theta,
    coordinate_directions,
    tail_prediction,
)
from landscape.analysis.profiles import (  # noqa: E402
    Direction,
    Profile,
    affine_descent_directions,
    barrier_profiles,
    energy_profile,
    random_directions,
)
from landscape.analysis.prop1_path import prop1_path  # noqa: E402
from landscape.analysis.schur import SchurInertia, block_inertia, hessian_blocks, schur_inertia  # noqa: E402
from landscape.analysis.search import InitScales, SearchResult, init_params, search  # noqa: E402
from landscape.analysis.spectrum import grad_norm, gradient, hessian, spectrum  # noqa: E402
from landscape.analysis.stationary import (  # noqa: E402
    Mode,
    StationaryCertificate,
    certify,
    certify_minima,
    certify_stationary,
)
from landscape.analysis.two_stage import LIBI_LABEL, TwoStageFit, two_stage_fit  # noqa: E402
from landscape.common.provenance import __version__  # noqa: E402
from landscape.core import datasets  # noqa: E402
from landscape.core.collapsed import (  # noqa: E402
    collapsed_energy,
    collapsed_point,
    collapsed_spectrum,
    data_covariance,
    gamma_bar,
    n_negative_affine,
)
from landscape.core.data import Data, as_data  # noqa: E402
from landscape.core.datasets import Prop1Dataset, prop1_dataset  # noqa: E402
from landscape.core.energy import (  # noqa: E402
    energy,
    energy_mc,
    energy_mc_samples,
    energy_objective,
    energy_terms,
    expected_sq_error,
)
from landscape.core.marginal import (  # noqa: E402
    DecoderParams,
    LogMarginal,
    decoder_params,
    log_likelihood,
    log_marginal,
    log_marginal_points,
    marginal_energy,
)
from landscape.core.moments import soft_threshold, soft_threshold_moments  # noqa: E402
from landscape.core.params import VAEParams  # noqa: E402
from landscape.models import linear, linear_conditional, linear_hierarchical  # noqa: E402
from landscape.models.linear import (  # noqa: E402
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
from landscape.models.linear_conditional import (  # noqa: E402
    CVAEOptimum,
    CVAEParams,
    CVAEStatistics,
    cvae_init,
    cvae_loss,
    cvae_objective,
    cvae_optimum,
    cvae_statistics,
)
from landscape.models.linear_hierarchical import (  # noqa: E402
    HVAEOptimum,
    HVAEParams,
    HVAEStatistics,
    hvae_init,
    hvae_loss,
    hvae_objective,
    hvae_optimum,
    hvae_statistics,
)
from landscape.tools.curvature import (  # noqa: E402
    EigenEstimates,
    LanczosResult,
    SpectralDensity,
    block_shares,
    dense_hessian,
    hvp,
    lanczos,
    spectral_density,
)
from landscape.tools.directions import FilterDirection, filter_normalized_direction, segment_direction  # noqa: E402
from landscape.tools.inertia import Spectrum, inertia  # noqa: E402
from landscape.tools.multistart import MultiStartResult, multistart  # noqa: E402
from landscape.tools.newton import NewtonResult, newton_minimize  # noqa: E402
from landscape.tools.operator import (  # noqa: E402
    CurvatureOperator,
    dense_operator,
    gauss_newton_operator,
    hessian_operator,
    linear_operator,
)
from landscape.tools.profile import Profile1D, profile_1d  # noqa: E402
from landscape.tools.slices import Slice1D, Slice2D, slice_1d, slice_2d  # noqa: E402
from landscape.tools.string_method import MinimumEnergyPath, minimum_energy_path  # noqa: E402

__all__ = [
    "Data",
    "as_data",
    "CurvatureOperator",
    "hessian_operator",
    "gauss_newton_operator",
    "dense_operator",
    "linear_operator",
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
    "DecoderParams",
    "LogMarginal",
    "decoder_params",
    "log_likelihood",
    "log_marginal",
    "log_marginal_points",
    "marginal_energy",
    "OptimalPhi",
    "ElboGap",
    "optimal_phi",
    "elbo_gap",
    "CollapsedEvidence",
    "DirectionEvidence",
    "SlicePair",
    "collapsed_theta",
    "tail_prediction",
    "coordinate_directions",
    "collapsed_likelihood_evidence",
    "collapsed_slices",
    "MinimumReport",
    "BasinComparison",
    "decoder_signal",
    "likelihood_multistart",
    "compare_basins",
    "LIBI_LABEL",
    "TwoStageFit",
    "two_stage_fit",
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


# Module paths of landscape 0.1 (documented in the README) stay importable: ``import
# landscape.search``, ``from landscape.linear import ppca_mle``. They are registered here,
# at import, so that importing one never rebinds a public function of the same name.
_MODULE_PATHS = {
    "basins": "analysis.basins",
    "certificate": "analysis.certificate",
    "collapsed": "core.collapsed",
    "curvature": "tools.curvature",
    "elbo_gap": "analysis.elbo_gap",
    "energy": "core.energy",
    "gamma": "analysis.gamma",
    "likelihood_basins": "analysis.likelihood_basins",
    "likelihood_collapsed": "analysis.likelihood_collapsed",
    "marginal": "core.marginal",
    "moments": "core.moments",
    "multistart": "tools.multistart",
    "optimize": "tools.newton",
    "params": "core.params",
    "profiles": "analysis.profiles",
    "prop2_analysis": "analysis.prop2_analysis",
    "schur": "analysis.schur",
    "search": "analysis.search",
    "spectrum": "analysis.spectrum",
    "stationary": "analysis.stationary",
    "two_stage": "analysis.two_stage",
}


def _register_module_paths():
    import importlib
    import sys

    for old, new in _MODULE_PATHS.items():
        module = importlib.import_module(f"landscape.{new}")
        sys.modules.setdefault(f"landscape.{old}", module)
        globals().setdefault(old, module)  # as in 0.1: the module, unless a public function has its name
    for old in ("datasets", "paths", "linear", "linear_conditional", "linear_hierarchical"):
        sys.modules.setdefault(f"landscape.{old}", globals()[old])
    sys.meta_path.insert(0, _DeepFinder())


class _DeepFinder:
    """``landscape.deep[.x]`` is ``landscape.models.deep[.x]``, imported on first use (it pulls in Flax)."""

    @staticmethod
    def find_spec(name, path=None, target=None):
        if name != "landscape.deep" and not name.startswith("landscape.deep."):
            return None
        import importlib.util

        target = name.replace("landscape.deep", "landscape.models.deep", 1)
        return importlib.util.spec_from_loader(name, _DeepLoader(target))


class _DeepLoader:
    def __init__(self, target):
        self.target = target

    def create_module(self, spec):
        import importlib

        return importlib.import_module(self.target)

    def exec_module(self, module):
        pass


_register_module_paths()


def __getattr__(name):
    """``landscape.deep`` (the Flax models of Section 6) is imported on first use: it pulls in Flax."""
    if name == "deep":
        import importlib

        return importlib.import_module("landscape.models.deep")
    raise AttributeError(f"module 'landscape' has no attribute {name!r}")
