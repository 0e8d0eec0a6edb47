"""landscape: the loss landscapes of VAEs and the causes of posterior collapse.

Importing ``landscape`` turns on float64 in JAX (``jax_enable_x64``): the energies,
Hessians and certificates here are meant to be exact, and float32 cannot resolve
barriers of 1e-4 on energies of order 100. Arrays you create with ``jnp`` after the
import are float64 by default.

The public API follows Dai, Wang & Wipf (ICML 2020) and ../shared/MATH.md.

The import itself is light (no JAX, no NumPy), so that a command-line tool can refuse a bad
argument at once (issue 18, item 6). The flat API (``__all__``) is loaded on first use (PEP 562):
``landscape.search`` imports `landscape.analysis.search` then. Float64 is switched on when JAX
is imported (here, if it already is; otherwise by an import hook, the moment ``import jax``
completes, before any array exists), and `landscape.analysis.eq5_bindings` registers eq. (5)
with the path tools when they load (`landscape.tools.flat`), as the eager import of 0.2 did.
"""

import importlib as _importlib
import sys as _sys
import types as _types

# Where each public name is defined (``landscape.<module>``); `__all__` lists the same names.
_API = {
    "analysis.basins": ("CATEGORIES", "BasinStats", "Minimum", "active_dims", "basin_stats", "canonicalize",
                        "categorize", "difference_interval", "kl_per_dim", "wilson_interval"),
    "analysis.certificate": ("CollapsedReport", "PathReport", "Prop1Certificate", "certify_prop1",
                             "reconstruction_path"),
    "analysis.elbo_gap": ("ElboGap", "OptimalPhi", "elbo_gap", "optimal_phi"),
    "analysis.gamma": ("GammaSweep", "GammaThresholds", "LiteralProp2", "Threshold", "affine_optimum",
                       "affine_optimum_energy", "gamma_thresholds", "implicit_gamma", "prop2_literal", "sweep_gamma",
                       "trivial_energy"),
    "analysis.likelihood_basins": ("BasinComparison", "MinimumReport", "compare_basins", "decoder_signal",
                                   "likelihood_multistart"),
    "analysis.landscape_map": ("LandscapeMap", "MapMinimum", "TransitionState", "landscape_map"),
    "analysis.likelihood_collapsed": ("CollapsedEvidence", "DirectionEvidence", "SlicePair",
                                      "collapsed_likelihood_evidence", "collapsed_slices", "collapsed_theta",
                                      "coordinate_directions", "tail_prediction"),
    "analysis.profiles": ("Direction", "Profile", "affine_descent_directions", "barrier_profiles", "energy_profile",
                          "random_directions"),
    "analysis.prop1_path": ("prop1_path",),
    "analysis.reduced_energy": ("ReducedExcess", "energy_excess", "reduced_excess"),
    "analysis.remedies": ("Remedy", "remedy_energy"),
    "analysis.remedy_runs": ("RemedyRun", "certify_remedy_collapsed", "train_remedy"),
    "analysis.schur": ("SchurInertia", "block_inertia", "hessian_blocks", "schur_inertia"),
    "analysis.search": ("InitScales", "SearchResult", "init_params", "search"),
    "analysis.spectrum": ("grad_norm", "gradient", "hessian", "spectrum"),
    "analysis.sphere": ("SphereCertificate", "sphere_certificate"),
    "analysis.sphere_theory": ("leading_order_excess", "validity_radius"),
    "analysis.stationary": ("Mode", "StationaryCertificate", "certify", "certify_minima", "certify_stationary"),
    "analysis.two_stage": ("LIBI_LABEL", "TwoStageFit", "two_stage_fit"),
    "cli.disconnectivity_plot": ("plot_disconnectivity",),
    "common.provenance": ("__version__",),
    "core.collapsed": ("collapsed_energy", "collapsed_point", "collapsed_spectrum", "data_covariance", "gamma_bar",
                       "n_negative_affine"),
    "core.data": ("Data", "as_data"),
    "core.datasets": ("Prop1Dataset", "prop1_dataset"),
    "core.energy": ("energy", "energy_mc", "energy_mc_samples", "energy_objective", "energy_terms",
                    "expected_sq_error"),
    "core.marginal": ("DecoderParams", "LogMarginal", "decoder_params", "log_likelihood", "log_marginal",
                      "log_marginal_points", "marginal_energy"),
    "core.moments": ("soft_threshold", "soft_threshold_moments"),
    "core.params": ("VAEParams",),
    "models.amortised": ("AffineEncoder", "AmortisedParams", "MLPEncoder", "affine_collapsed_inertia",
                         "amortised_collapsed_point", "amortised_energy"),
    "models.linear": ("LinearVAEParams", "PPCAFit", "PPCAStationaryPoint", "collapse_count", "collapsed_dims",
                      "linear_vae_elbo", "linear_vae_init", "linear_vae_kl_per_dim", "linear_vae_objective",
                      "optimal_encoder", "optimal_linear_vae", "ppca_hessian_inertia", "ppca_log_likelihood",
                      "ppca_mle", "ppca_posterior", "ppca_stationary_point", "ppca_stationary_points",
                      "predicted_collapsed"),
    "models.linear_conditional": ("CVAEOptimum", "CVAEParams", "CVAEStatistics", "cvae_init", "cvae_loss",
                                  "cvae_objective", "cvae_optimum", "cvae_statistics"),
    "models.linear_hierarchical": ("HVAEOptimum", "HVAEParams", "HVAEStatistics", "hvae_init", "hvae_loss",
                                   "hvae_objective", "hvae_optimum", "hvae_statistics"),
    "tools.curvature": ("EigenEstimates", "LanczosResult", "SpectralDensity", "block_shares", "dense_hessian", "hvp",
                        "lanczos", "spectral_density"),
    "tools.directions": ("FilterDirection", "filter_normalized_direction", "segment_direction"),
    "tools.inertia": ("Spectrum", "inertia"),
    "tools.multistart": ("MultiStartResult", "multistart"),
    "tools.newton": ("NewtonResult", "newton_minimize"),
    "tools.operator": ("CurvatureOperator", "dense_operator", "gauss_newton_operator", "hessian_operator",
                       "linear_operator"),
    "tools.profile": ("Profile1D", "profile_1d"),
    "tools.slices": ("Slice1D", "Slice2D", "slice_1d", "slice_2d"),
    "tools.string_method": ("MinimumEnergyPath", "minimum_energy_path"),
}  # fmt: skip
_EXPORTS = {name: module for module, names in _API.items() for name in names}
# Public names that are modules (``landscape.deep`` pulls in Flax); each is also importable by that path.
_MODULES = {
    "paths": "analysis.paths",
    "datasets": "core.datasets",
    "linear": "models.linear",
    "linear_conditional": "models.linear_conditional",
    "linear_hierarchical": "models.linear_hierarchical",
    "deep": "models.deep",
}

__all__ = [
    "Data",
    "as_data",
    "SphereCertificate",
    "sphere_certificate",
    "ReducedExcess",
    "energy_excess",
    "reduced_excess",
    "leading_order_excess",
    "validity_radius",
    "LandscapeMap",
    "MapMinimum",
    "TransitionState",
    "landscape_map",
    "plot_disconnectivity",
    "Remedy",
    "remedy_energy",
    "RemedyRun",
    "train_remedy",
    "certify_remedy_collapsed",
    "AffineEncoder",
    "MLPEncoder",
    "AmortisedParams",
    "amortised_energy",
    "amortised_collapsed_point",
    "affine_collapsed_inertia",
    "difference_interval",
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
# landscape.search``, ``from landscape.linear import ppca_mle``. They are served by `_Finder`, on
# first use, and importing one never rebinds a public function of the same name (`_Package`).
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
_ALIASES = {**_MODULE_PATHS, **_MODULES}  # landscape.<old>[.x] -> landscape.<new>[.x]


def __getattr__(name):
    """A public name (or a 0.1 module path), imported on first use and then kept in the module."""
    if name in _EXPORTS:
        value = getattr(_importlib.import_module(f"landscape.{_EXPORTS[name]}"), name)
    elif name in _ALIASES:
        value = _importlib.import_module(f"landscape.{_ALIASES[name]}")
    else:
        raise AttributeError(f"module 'landscape' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__) | set(_MODULE_PATHS))


class _Package(_types.ModuleType):
    """The ``landscape`` module: importing a 0.1 path such as ``landscape.search`` makes Python set the
    module as an attribute of the package; a public function or class of that name is kept instead."""

    def __setattr__(self, name, value):
        if name in _EXPORTS and isinstance(value, _types.ModuleType):
            return
        super().__setattr__(name, value)


# --------------------------------------------------------------------------- import hooks


def _enable_x64(jax) -> None:
    jax.config.update("jax_enable_x64", True)


def _bind_eq5(flat) -> None:
    _importlib.import_module("landscape.analysis.eq5_bindings")  # registers VAEParams and energy_objective


#: Run once, right after the module of that name is imported (and before its importer goes on).
_AFTER_IMPORT = {"jax": _enable_x64, "landscape.tools.flat": _bind_eq5}


class _Finder:
    """landscape's meta path finder: the 0.1 module paths (`_ALIASES`) and the `_AFTER_IMPORT` hooks."""

    def find_spec(self, name, path=None, target=None):
        if name.startswith("landscape."):
            old, dot, rest = name[len("landscape.") :].partition(".")
            if old in _ALIASES:
                import importlib.util

                return importlib.util.spec_from_loader(name, _AliasLoader(f"landscape.{_ALIASES[old]}{dot}{rest}"))
        hook = _AFTER_IMPORT.get(name)
        if hook is None:
            return None
        for finder in _sys.meta_path:  # the spec the import system would find without us
            find = getattr(finder, "find_spec", None) if finder is not self else None
            spec = find(name, path, target) if find is not None else None
            if spec is not None:
                break
        else:
            return None
        if spec.loader is not None and hasattr(spec.loader, "exec_module"):
            spec.loader = _AfterImportLoader(spec.loader, hook)
        return spec


class _AliasLoader:
    """Loads ``landscape.<old>`` as the module ``target`` itself (one module object, two names)."""

    def __init__(self, target):
        self.target = target
        self.spec = None

    def create_module(self, spec):
        module = _importlib.import_module(self.target)
        self.spec = module.__spec__
        return module

    def exec_module(self, module):
        module.__spec__ = self.spec  # the import system set the alias's spec; the module keeps its own


class _AfterImportLoader:
    """``loader``, then ``hook(module)`` once the module has run."""

    def __init__(self, loader, hook):
        self.loader, self.hook = loader, hook

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        module.__loader__ = module.__spec__.loader = self.loader
        self.loader.exec_module(module)
        _AFTER_IMPORT.pop(module.__name__, None)
        self.hook(module)


def _install() -> None:
    _sys.modules[__name__].__class__ = _Package
    for name in list(_AFTER_IMPORT):
        if name in _sys.modules:  # imported before landscape (JAX, most likely): run the hook now
            _AFTER_IMPORT.pop(name)(_sys.modules[name])
    _sys.meta_path[:] = [f for f in _sys.meta_path if type(f).__name__ != "_Finder" or f.__module__ != __name__]
    _sys.meta_path.insert(0, _Finder())


_install()
