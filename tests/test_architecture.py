"""The layout of ARCHITECTURE.md, enforced: layers, import rules, module sizes, the public API."""

import ast
import importlib
from pathlib import Path

import pytest

import landscape

ROOT = Path(landscape.__file__).parent
# what each layer may import besides itself (ARCHITECTURE.md)
ALLOWED = {
    "common": set(),
    "core": {"common"},
    "tools": {"common"},
    "models": {"common", "core", "tools"},
    "analysis": {"common", "core", "tools", "models"},
    "cli": {"common", "core", "tools", "models", "analysis"},
}
MAX_LINES = 600

# landscape 0.1's public names (all must stay) and those added since
ADDED = ["Data", "as_data", "CurvatureOperator", "hessian_operator", "gauss_newton_operator", "dense_operator",
         "linear_operator",
         # issue 19: the collapsed point on spheres
         "SphereCertificate", "sphere_certificate", "ReducedExcess", "energy_excess", "reduced_excess",
         "leading_order_excess", "validity_radius",
         # issue 20: the landscape map
         "LandscapeMap", "MapMinimum", "TransitionState", "landscape_map", "plot_disconnectivity",
         # issue 21: remedies and amortised encoders
         "Remedy", "remedy_energy", "RemedyRun", "train_remedy", "certify_remedy_collapsed", "AffineEncoder",
         "MLPEncoder", "AmortisedParams", "amortised_energy", "amortised_collapsed_point", "affine_collapsed_inertia",
         "difference_interval"]  # fmt: skip
PUBLIC_API_0_1 = sorted([
    'BasinComparison',
    'BasinStats',
    'CATEGORIES',
    'CVAEOptimum',
    'CVAEParams',
    'CVAEStatistics',
    'CollapsedEvidence',
    'CollapsedReport',
    'DecoderParams',
    'Direction',
    'DirectionEvidence',
    'EigenEstimates',
    'ElboGap',
    'FilterDirection',
    'GammaSweep',
    'GammaThresholds',
    'HVAEOptimum',
    'HVAEParams',
    'HVAEStatistics',
    'InitScales',
    'LIBI_LABEL',
    'LanczosResult',
    'LinearVAEParams',
    'LiteralProp2',
    'LogMarginal',
    'Minimum',
    'MinimumEnergyPath',
    'MinimumReport',
    'Mode',
    'MultiStartResult',
    'NewtonResult',
    'OptimalPhi',
    'PPCAFit',
    'PPCAStationaryPoint',
    'PathReport',
    'Profile',
    'Profile1D',
    'Prop1Certificate',
    'Prop1Dataset',
    'SchurInertia',
    'SearchResult',
    'Slice1D',
    'Slice2D',
    'SlicePair',
    'SpectralDensity',
    'Spectrum',
    'StationaryCertificate',
    'Threshold',
    'TwoStageFit',
    'VAEParams',
    '__version__',
    'active_dims',
    'affine_descent_directions',
    'affine_optimum',
    'affine_optimum_energy',
    'barrier_profiles',
    'basin_stats',
    'block_inertia',
    'block_shares',
    'canonicalize',
    'categorize',
    'certify',
    'certify_minima',
    'certify_prop1',
    'certify_stationary',
    'collapse_count',
    'collapsed_dims',
    'collapsed_energy',
    'collapsed_likelihood_evidence',
    'collapsed_point',
    'collapsed_slices',
    'collapsed_spectrum',
    'collapsed_theta',
    'compare_basins',
    'coordinate_directions',
    'cvae_init',
    'cvae_loss',
    'cvae_objective',
    'cvae_optimum',
    'cvae_statistics',
    'data_covariance',
    'datasets',
    'decoder_params',
    'decoder_signal',
    'deep',
    'dense_hessian',
    'elbo_gap',
    'energy',
    'energy_mc',
    'energy_mc_samples',
    'energy_objective',
    'energy_profile',
    'energy_terms',
    'expected_sq_error',
    'filter_normalized_direction',
    'gamma_bar',
    'gamma_thresholds',
    'grad_norm',
    'gradient',
    'hessian',
    'hessian_blocks',
    'hvae_init',
    'hvae_loss',
    'hvae_objective',
    'hvae_optimum',
    'hvae_statistics',
    'hvp',
    'implicit_gamma',
    'inertia',
    'init_params',
    'kl_per_dim',
    'lanczos',
    'likelihood_multistart',
    'linear',
    'linear_conditional',
    'linear_hierarchical',
    'linear_vae_elbo',
    'linear_vae_init',
    'linear_vae_kl_per_dim',
    'linear_vae_objective',
    'log_likelihood',
    'log_marginal',
    'log_marginal_points',
    'marginal_energy',
    'minimum_energy_path',
    'multistart',
    'n_negative_affine',
    'newton_minimize',
    'optimal_encoder',
    'optimal_linear_vae',
    'optimal_phi',
    'paths',
    'ppca_hessian_inertia',
    'ppca_log_likelihood',
    'ppca_mle',
    'ppca_posterior',
    'ppca_stationary_point',
    'ppca_stationary_points',
    'predicted_collapsed',
    'profile_1d',
    'prop1_dataset',
    'prop1_path',
    'prop2_literal',
    'random_directions',
    'reconstruction_path',
    'schur_inertia',
    'search',
    'segment_direction',
    'slice_1d',
    'slice_2d',
    'soft_threshold',
    'soft_threshold_moments',
    'spectral_density',
    'spectrum',
    'sweep_gamma',
    'tail_prediction',
    'trivial_energy',
    'two_stage_fit',
    'wilson_interval',
])  # fmt: skip


def _modules():
    out = {}
    for f in sorted(ROOT.rglob("*.py")):
        parts = f.relative_to(ROOT.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = f
    return out


MODULES = _modules()


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in ALLOWED else ""  # "" : landscape/__init__ and the CLIs


def _imports(module: str):
    """(imported module, imported name or None) for every landscape import of ``module``."""
    tree = ast.parse(MODULES[module].read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "landscape":
            for a in node.names:
                full = f"{node.module}.{a.name}"
                yield (full, None) if full in MODULES else (node.module, a.name)
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] == "landscape":
                    yield a.name, None


def test_public_api_is_pinned():
    assert sorted(landscape.__all__) == sorted(PUBLIC_API_0_1 + ADDED)
    for name in landscape.__all__:
        assert getattr(landscape, name) is not None


@pytest.mark.parametrize(
    "path",
    ["search", "multistart", "marginal", "elbo_gap", "two_stage", "paths", "linear", "linear_conditional",
     "linear_hierarchical", "likelihood_collapsed", "likelihood_basins", "curvature", "moments", "energy",
     "stationary", "deep"],
)  # fmt: skip
def test_module_paths_of_0_1_still_import(path):
    mod = importlib.import_module(f"landscape.{path}")
    for name in getattr(mod, "__all__", []):
        assert hasattr(mod, name), (path, name)


def test_layers_import_only_what_they_may():
    bad = []
    for m in MODULES:
        layer = _layer(m)
        if not layer:
            continue
        for target, _ in _imports(m):
            t = _layer(target)
            if t and t != layer and t not in ALLOWED[layer]:
                bad.append(f"{m} imports {target}")
            if not t and target != "landscape" and layer != "cli":
                bad.append(f"{m} imports the top-level {target}")
    assert not bad, bad


def test_generic_tools_import_no_eq5_code():
    for m in MODULES:
        if _layer(m) == "tools":
            for target, _ in _imports(m):
                assert _layer(target) in ("tools", "common"), f"{m} imports {target}"


def test_no_private_name_crosses_a_subpackage():
    bad = [
        f"{m}: {target}.{name}"
        for m in MODULES
        for target, name in _imports(m)
        if name and name.startswith("_") and not name.startswith("__") and _layer(target) != _layer(m)
    ]
    assert not bad, bad


def test_import_graph_has_no_cycle():
    graph = {m: {t for t, _ in _imports(m) if t in MODULES and t != "landscape"} for m in MODULES}
    state: dict = {}

    def visit(u, stack):
        state[u] = 1
        stack.append(u)
        for v in graph[u]:
            assert state.get(v) != 1, "import cycle: " + " -> ".join(stack[stack.index(v) :] + [v])
            if not state.get(v):
                visit(v, stack)
        stack.pop()
        state[u] = 2

    for m in graph:
        if not state.get(m):
            visit(m, [])


def test_no_module_is_too_long():
    long = {m: n for m, f in MODULES.items() if (n := len(f.read_text().splitlines())) > MAX_LINES}
    assert not long, long


def test_one_module_holds_the_multistart_chunk_loop():
    holders = [m for m, f in MODULES.items() if "range(chunks)" in f.read_text()]
    assert holders == ["landscape.tools.engine"], holders


# --------------------------------------------------------------------------- the lazy package (issue 18, item 6)

_FRESH = r"""
import sys
{before}
import landscape
assert "numpy" not in sys.modules or {numpy_ok}, "import landscape imported NumPy"
assert "jax" not in sys.modules or {jax_ok}, "import landscape imported JAX"
{first_use}
import jax
import jax.numpy as jnp
assert jax.config.jax_enable_x64
assert jnp.zeros(1).dtype == jnp.float64, jnp.zeros(1).dtype
print("ok")
"""
_ENERGY = """
import numpy as np
X = np.random.default_rng(0).normal(size=(5, 3))
p = VAEParams(W=np.full((3, 1), 0.3), b=np.zeros(3), log_gamma=np.asarray(0.0), mu=np.zeros((5, 1)),
              log_sigma=np.zeros((5, 1)))
value = energy(p, X, 0.1)
assert value.dtype == np.float64, value.dtype
# float64 resolves a perturbation of 1e-12 relative, float32 (eps 1.2e-7) could not
assert float(energy(p._replace(W=p.W * (1 + 1e-12)), X, 0.1)) != float(value)
"""


@pytest.mark.parametrize(
    "before, first_use",
    [
        # the flat API: the first lazily loaded function computes in float64
        ("", "energy, VAEParams = landscape.energy, landscape.VAEParams" + _ENERGY),
        # a submodule first (the CLIs' and the experiments' path)
        ("", "from landscape.core.energy import energy\nfrom landscape.core.params import VAEParams" + _ENERGY),
        # JAX imported before landscape: switched on at the import of landscape
        ("import jax", "energy, VAEParams = landscape.energy, landscape.VAEParams" + _ENERGY),
    ],
    ids=["flat-api", "submodule", "jax-first"],
)
def test_import_is_light_and_float64_holds_on_every_entry_path(before, first_use):
    import subprocess
    import sys

    code = _FRESH.format(before=before, first_use=first_use, numpy_ok=bool(before), jax_ok=bool(before))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT.parent)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr[-3000:]


def test_lazy_api_keeps_names_paths_and_registrations():
    import subprocess
    import sys

    code = r"""
import sys
import landscape
assert set(landscape.__all__) <= set(dir(landscape)) and "basins" in dir(landscape)
search = landscape.search
import landscape.search                      # the 0.1 module path
from landscape.search import SearchResult    # noqa: F401
assert landscape.search is search and callable(landscape.search)   # not rebound to the module
assert sys.modules["landscape.search"] is sys.modules["landscape.analysis.search"]
assert sys.modules["landscape.search"].__spec__.name == "landscape.analysis.search"
assert landscape.basins is sys.modules["landscape.analysis.basins"]
assert landscape.paths is sys.modules["landscape.analysis.paths"]
from landscape.linear import ppca_mle
assert ppca_mle is landscape.ppca_mle
from landscape.tools.flat import objective_check
assert objective_check(landscape.energy_objective) is not None   # eq. (5) registered with the path tools
assert isinstance(landscape.__version__, str)
try:
    landscape.no_such_name
except AttributeError:
    pass
else:
    raise AssertionError("no AttributeError")
ns = {}
exec("from landscape import *", ns)
assert set(landscape.__all__) <= set(ns)
print("ok")
"""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT.parent)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr[-3000:]


def test_path_tools_know_eq5_when_imported_first():
    """`landscape.tools.slices` imported directly (no flat API): eq. (5)'s checks are registered all the same."""
    import subprocess
    import sys

    code = (
        "from landscape.tools.slices import slice_1d\n"
        "from landscape.tools.flat import objective_check\n"
        "from landscape.core.energy import energy_objective\n"
        "assert objective_check(energy_objective) is not None\nprint('ok')"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT.parent)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr[-3000:]
