"""A probe of the whole public API with bad and extreme inputs (issue 18's closing note).

For every callable public name of ``landscape.__all__`` (the functions; the classes are result and
parameter containers, checked where they are used), one valid call on a tiny problem (n = 6, d = 3,
κ = 1, one restart, a step or two), then the same call with each argument in turn replaced by every
value of a battery: NaN, inf, −1, 0, huge, a bool, a complex number, a float where an int goes, a
wrong shape, an empty value, a string and None (the battery is adapted to the kind of argument:
scalar, count, array, parameter tree, list, object, callable, choice, ``args`` tuple). Each call runs
in a worker process with a time limit (``--timeout``, 20 s), and is classified:

- ``clean``: a ValueError or TypeError raised by landscape's code whose message names the argument;
- ``unnamed``: a ValueError or TypeError raised by landscape's code that does not name it;
- ``raw``: any other exception, or one raised inside JAX, NumPy or another library (a raw traceback);
- ``silent``: a value came back for a bad value that `documented` does not call valid;
- ``documented``: a value came back for an extreme value that `documented` calls valid, and why;
- ``limit``: an exception in one of the `UNCHECKED` jittable cores (documented as unchecked);
- ``valid_raising``: the valid call raised;
- ``hang``: the call ran past the time limit.

Run from the repository root (a few minutes on two cores; ``nice`` it on a shared machine)::

    nice python benchmarks/probe_api.py [--only NAME ...] [--json probe.json] [--timeout 20]

It prints the counts and every outcome that is not clean. It is a benchmark-style script, not a test
(pytest does not collect ``benchmarks/``): tests/test_bad_inputs.py pins the rows that matter.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import select
import subprocess
import sys
import time
import traceback
from pathlib import Path

from landscape.cli.args import ArgumentParser, check_output_path, positive_float

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = str(ROOT / "landscape") + os.sep
LABELS = ("nan", "inf", "-1", "0", "huge", "bool", "complex", "float_for_int", "wrong_shape", "empty", "string",
          "None")  # fmt: skip

# The jittable objectives documented as unchecked (their docstrings): they take any arguments under
# `jax.jit` and check nothing; their checked twins are energy, cvae_loss, hvae_loss and log_marginal.
UNCHECKED = {
    "energy_objective", "cvae_objective", "hvae_objective", "marginal_energy", "log_marginal_points",
    "log_likelihood", "soft_threshold", "soft_threshold_moments",
}  # fmt: skip
SEEDS = {"seed", "key_or_seed"}
TOLERANCES = {"tol", "rtol", "gtol", "ptol", "delta", "flat_rtol", "slice_tol", "energy_tol", "param_tol", "grad_tol",
              "spectrum_rtol", "singular_rtol", "signal_rtol", "kl_tol", "switch_tol"}  # fmt: skip
# counts where 0 means "none of these" (the checks allow 0)
ZERO_COUNTS = {"steps", "polish_steps", "n_random", "n_random_directions", "count", "max_steps", "max_halvings",
               "continuation_steps", "max_extensions", "newton_steps", "max_retained", "climb_after", "dense_max",
               "ddof", "k", "z", "grid"}  # fmt: skip
# upper bounds and iteration caps: a huge one is capped by the problem or stops at convergence
CAPS = {"chunk_size", "max_retained", "max_points", "max_modes", "lanczos_steps", "num_steps", "dense_max",
        "max_pieces", "levels", "order", "connect_steps", "newton_steps", "polish_steps", "n", "max_iter"}  # fmt: skip
# positive real settings: any finite value > 0 is the caller's choice
SETTINGS = TOLERANCES | {"learning_rate", "scale", "step_scale", "slice_radius", "resolve_factor", "gamma_ratio", "eps",
                         "z", "t_max", "connect_step", "beta", "beta1", "beta2", "eta_enc", "sigma2"}  # fmt: skip
# arguments that are points or values of the model (a zero, a NaN or an overflow is a value like any other)
VALUES = {"params", "theta", "start", "end", "W", "b", "mu", "U", "x0", "m", "v", "u", "log_sigma", "H", "A", "B",
          "D", "vector", "other", "energy", "collapsed_energy", "data"}  # fmt: skip
# None is a documented value of these (a default computed from the data, or "learned")
NONE_OK = {"tol", "t_max", "t_min", "eps", "delta", "kl_tol", "slice_tol", "num_steps", "polish_steps", "max_pieces",
           "climb_after", "switch_tol", "connect_step", "end_t", "alpha", "sigma2", "scale", "chunk_size",
           "gammas", "probe_restarts", "radii"}  # fmt: skip


def documented(name, arg, label, value=None):
    """Why a value that came back for (function, argument, battery label) is correct, or None (a finding)."""
    if name in UNCHECKED:
        return "an unchecked jittable core (its docstring): use its checked twin for one-off calls"
    if label == "0":
        if arg in SEEDS:
            return "0 is a valid seed"
        if arg == "alpha":
            return "alpha = 0 is the affine decoder"
        if arg in TOLERANCES:
            return "a zero tolerance is an exact comparison; the check allows 0"
        if arg in ZERO_COUNTS:
            return "0 means none of these; the check allows 0"
        if arg in VALUES or arg in ("active", "failed") or (arg == "X" and name not in ANALYSES):
            return "zero is a legitimate value (W = 0 is the collapsed decoder; evaluations need no spread)"
    if label == "huge":
        if arg in CAPS:
            return "an upper bound or iteration cap: capped by the problem size, or stops at convergence"
        if arg in SETTINGS and value == "finite":
            return "a legal finite setting (1e308): the caller's choice"
        if arg == "alpha" and value == "finite":
            return "alpha = 1e308 is legal: pi_alpha is 0 on the data, every decoder collapsed"
        if arg in VALUES | {"X", "alpha", "ts", "s", "t"}:
            return "1e300 is finite: the result is its value, or inf/NaN where float64 overflows"
    if label == "None" and arg in NONE_OK:
        return "None is a documented value (a default computed from the data, or learned)"
    if label in ("nan", "inf") and arg in VALUES and value == "non-finite":
        return "NaN in, NaN out (issue 18, item 3): a non-finite point gives a non-finite result"
    if label == "bool" and arg in ("active", "failed"):
        return "a boolean mask by design"
    if name == "energy_profile" and arg == "start" and label in ("nan", "inf", "huge", "bool", "complex", "0"):
        return "the battery changes start.W, which energy_profile ignores (its docstring): W = t·U on the profile"
    if label == "0" and arg in GRIDS:
        return "a grid of zeros is a valid grid: each point is evaluated as given"
    if label == "0" and arg == "indices":
        return "restart number 0 is a valid index"
    if label == "huge" and arg in ("direction", "d1", "d2"):
        return "1e300 is a finite direction: the slice's values are f there, inf where float64 overflows"
    if label == "wrong_shape" and name == "decoder_signal" and arg == "W":
        return "W of shape (..., d, kappa): a trailing axis makes it a batch of decoders (its docstring)"
    if label == "-1" and arg == "params" and name in GENERIC:
        return "a scalar is a pytree with one leaf, and an integer is a float (issue 18, item 2)"
    if name == "active_dims" and label in ("nan", "inf"):
        return "a NaN mu has no KL below eps: counted active; failed restarts are told apart by status (docstring)"
    if name == "categorize" and arg == "energy" and label in ("nan", "inf"):
        return "a non-finite energy is a failed restart: categorised 'failed' (the module docstring)"
    if name == "categorize" and (label == "huge" or (label == "-1" and arg in ("energy", "collapsed_energy"))):
        return "a legal value: energies may be negative, and gamma = 1e308 is a (huge) variance"
    if name in GAMMA_GRIDS and arg == "gamma" and label == "huge":
        return "gamma = 1e308 is a legal variance: the closed form's value there"
    if name in GAMMA_GRIDS and arg == "gamma" and label == "wrong_shape":
        return "a 1-D array of gammas is a grid: the closed form is vectorised over gamma (its docstring)"
    if name == "leading_order_excess" and arg == "radii" and label in ("0", "empty", "wrong_shape"):
        return "radii ≥ 0 of any shape (its docstring): m = 0 at r = 0, and the result has the shape of radii"
    if name in ("cvae_statistics", "hvae_statistics") and label == "0":
        return "uncentred moments: zero data give theta = 0, every latent collapsed (Theorems 2-3; the docstring)"
    return None


# grid arguments (a grid of zeros is valid) and the generic tools over any pytree
GRIDS = {"ts", "s", "t"}
GENERIC = {"filter_normalized_direction", "block_shares", "slice_1d", "slice_2d", "profile_1d", "hvp",
           "dense_hessian", "lanczos", "spectral_density", "certify", "hessian_operator", "gauss_newton_operator",
           "segment_direction"}  # fmt: skip
# closed forms vectorised over a grid of gammas (`check_gammas`: a scalar or a 1-D array)
GAMMA_GRIDS = {"trivial_energy", "affine_optimum_energy"}


# analyses that standardise by the data's spread (constant data must be refused there, as the README says)
ANALYSES = {"search", "certify_minima", "hvae_statistics"}


def parse_args(argv=None):
    ap = ArgumentParser(prog="probe_api.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", nargs="+", metavar="NAME", help="probe only these public functions")
    ap.add_argument("--timeout", type=positive_float, default=20.0, help="seconds per call (default 20)")
    ap.add_argument("--json", metavar="PATH", help="write every outcome as JSON")
    ap.add_argument("--log", metavar="PATH", help="append the workers' stderr (the library's output) here")
    ap.add_argument("--from-json", metavar="PATH", help="report the outcomes saved by --json again (no calls)")
    ap.add_argument("--valid-only", action="store_true", help="only the valid calls (a check of the probe itself)")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    check_output_path(ap, "--json", args.json)
    check_output_path(ap, "--log", args.log)
    return args


# =========================================================================== the worker


def _fixtures():
    """The tiny valid inputs every call is built from (imported and computed in the worker only)."""
    import jax
    import numpy as np

    import landscape as L

    fx = {}
    fx["L"], fx["np"], fx["jax"] = L, np, jax
    ds = L.prop1_dataset(1.0, n=6, d=3, kappa=1, seed=0)
    X = np.asarray(ds.X)
    P0 = L.collapsed_point(X, 1)
    P = P0._replace(W=np.asarray(P0.W) + 0.1, mu=np.asarray(P0.mu) + 0.1 * np.arange(6.0).reshape(6, 1))
    start = L.VAEParams(*(np.asarray(a)[0] for a in L.init_params(X, 1, [0], 0)))

    def init(key):
        return jax.tree.map(lambda a: a + 0.01 * jax.random.normal(key, np.shape(a)), start)

    def quad(x):
        return (x**2).sum()

    def residual(p, X, alpha):
        return (p.W @ np.ones((1, 6))).T.ravel() - X.ravel()

    fx.update(DS=ds, X=X, P0=P0, P=P, init=init, quad=quad, residual=residual, F=L.energy_objective)
    fx["TH"] = L.collapsed_theta(X, 1)
    fx["FREE"] = jax.tree.map(lambda a: np.ones(np.shape(a), bool), P)._replace(W=np.zeros(np.shape(P.W), bool))
    fx["H"] = np.diag([2.0, 1.0, -1.0])
    fx["BLOCKS"] = (np.eye(2), np.zeros((3, 2, 1)), np.ones((3, 1, 1)))
    fx["GAMMAS"] = [0.5, 1.0, 2.0]
    fx["U"] = np.ones((3, 1)) / np.sqrt(3.0)
    # the linear models, on full-rank Gaussian data
    rng = np.random.default_rng(0)
    XG = rng.normal(size=(8, 3)) * np.array([2.0, 1.0, 0.5]) + 1.0
    fx["XG"] = XG
    fx["MOM"] = L.linear.data_moments(XG)
    fx["LV"] = L.linear_vae_init(XG, 1)(jax.random.key(0))
    fx["PPCA"] = L.ppca_mle(XG, 1)
    Xc, Yc = rng.normal(size=(8, 2)), rng.normal(size=(8, 2))
    fx["CSTATS"] = L.cvae_statistics(Xc, Yc)
    fx["CVP"] = L.cvae_init(2, 2, 1)(jax.random.key(0))
    fx["Xc"], fx["Yc"] = Xc, Yc
    Xh = rng.normal(size=(8, 3)) * np.array([2.0, 1.0, 0.5])
    fx["Xh"] = Xh
    fx["HSTATS"] = L.hvae_statistics(Xh)
    fx["HVP"] = L.hvae_init(3, 2, 1)(jax.random.key(0))
    fx["SEARCH"] = L.search(X, 1.0, kappa=1, restarts=2, steps=1, polish="none", seed=0, progress=False)
    fx["STATS"] = L.basin_stats(fx["SEARCH"])
    fx["DIRS"] = L.affine_descent_directions(X, 1)[:1]
    fx["KEY"] = jax.random.key(0)
    return fx


class Call:
    """A valid call: positional and keyword arguments, and the extra keywords to probe at their defaults."""

    def __init__(self, *args, **kwargs):
        self.args, self.kwargs = args, kwargs


def _calls(fx):
    """name -> Call of a valid invocation (tiny, fast)."""
    np, XG = fx["np"], fx["XG"]
    X, P, P0, A, F, TH, U = fx["X"], fx["P"], fx["P0"], 1.0, fx["F"], fx["TH"], fx["U"]
    DS, GAMMAS, LV, MOM = fx["DS"], fx["GAMMAS"], fx["LV"], fx["MOM"]
    ppca = fx["PPCA"]
    cheap = dict(steps=1, polish_steps=1)
    return {
        "as_data": Call(X),
        "hessian_operator": Call(F, P, (X, A)),
        "gauss_newton_operator": Call(fx["residual"], P, (X, A)),
        "dense_operator": Call(fx["H"]),
        "linear_operator": Call(lambda v: 2.0 * v, 3),
        "ppca_log_likelihood": Call(XG, ppca.W, ppca.b, ppca.sigma2),
        "ppca_posterior": Call(XG, ppca.W, ppca.b, ppca.sigma2),
        "ppca_stationary_point": Call(XG, 1, 0.5 * ppca.sigma2, [0]),
        "ppca_stationary_points": Call(XG, 1, 0.5 * ppca.sigma2),
        "ppca_hessian_inertia": Call(np.asarray(ppca.eigenvalues), 0.5 * ppca.sigma2, [0]),
        "ppca_mle": Call(XG, 1),
        "linear_vae_elbo": Call(LV, XG, 1.0),
        "linear_vae_init": Call(XG, 1),
        "linear_vae_objective": Call(LV, MOM, 1.0),
        "linear_vae_kl_per_dim": Call(LV, XG),
        "optimal_encoder": Call(np.asarray(ppca.W), 1.0),
        "optimal_linear_vae": Call(np.asarray(ppca.W), np.asarray(ppca.b), 1.0),
        "collapse_count": Call(LV, XG),
        "collapsed_dims": Call(LV, XG),
        "predicted_collapsed": Call(XG, 1, 1.0),
        "cvae_statistics": Call(fx["Xc"], fx["Yc"]),
        "cvae_loss": Call(fx["CVP"], fx["CSTATS"], 1.0),
        "cvae_objective": Call(fx["CVP"], *fx["CSTATS"].args(1.0, 1.0, 1.0)),
        "cvae_optimum": Call(fx["CSTATS"], 1, 1.0),
        "cvae_init": Call(2, 2, 1),
        "hvae_statistics": Call(fx["Xh"]),
        "hvae_loss": Call(fx["HVP"], fx["HSTATS"], sigma1=0.5, beta1=1.0, beta2=1.0),
        "hvae_objective": Call(fx["HVP"], *fx["HSTATS"].args(sigma1=0.5, beta1=1.0, beta2=1.0)),
        "hvae_optimum": Call(fx["HSTATS"], 2, 1, sigma1=0.5, beta1=1.0, beta2=1.0),
        "hvae_init": Call(3, 2, 1),
        "decoder_params": Call(P),
        "log_likelihood": Call(TH, X, A),
        "log_marginal": Call(TH, X, A, levels=3, order=4),
        "log_marginal_points": Call(TH, X, A, levels=3, order=4),
        "marginal_energy": Call(TH, X, A),
        "optimal_phi": Call(TH, X, A, steps=5),
        "elbo_gap": Call(TH, X, A),
        "collapsed_theta": Call(X, 1),
        "tail_prediction": Call(X, A, U, [0.5, 1.0]),
        "coordinate_directions": Call(3, 1),
        "collapsed_likelihood_evidence": Call(X, A, 1, n_random=0, num=4),
        "collapsed_slices": Call(X, A, 1, [-0.5, 0.0, 0.5], [0.0, 0.5]),
        "decoder_signal": Call(np.asarray(P.W), A),
        "likelihood_multistart": Call(X, A, kappa=1, restarts=1, progress=False, **cheap),
        "compare_basins": Call(X, A, 1, 1, certify_minima=False, progress=False, **cheap),
        "two_stage_fit": Call(X, A, 1, 1, **cheap),
        "energy": Call(P, X, A),
        "energy_mc": Call(P, X, A, fx["KEY"], num_samples=2),
        "energy_mc_samples": Call(P, X, A, fx["KEY"], num_samples=2),
        "energy_terms": Call(P, X, A),
        "energy_objective": Call(P, X, A),
        "expected_sq_error": Call(P, X, A),
        "soft_threshold": Call(np.linspace(-1, 1, 5), A),
        "soft_threshold_moments": Call(np.zeros(3), np.ones(3), A),
        "collapsed_point": Call(X, 1),
        "collapsed_energy": Call(X, 1),
        "collapsed_spectrum": Call(X, 1, A),
        "data_covariance": Call(X),
        "gamma_bar": Call(X),
        "n_negative_affine": Call(X, 1),
        "gradient": Call(P, X, A),
        "grad_norm": Call(P, X, A),
        "hessian": Call(P, X, A),
        "spectrum": Call(P, X, A),
        "inertia": Call(fx["H"]),
        "hvp": Call(F, P, (X, A)),
        "dense_hessian": Call(F, P, (X, A)),
        "lanczos": Call(F, P, (X, A), k=1, num_steps=4),
        "spectral_density": Call(F, P, (X, A), num_probes=2, num_steps=4),
        "block_shares": Call(P, P),
        "schur_inertia": Call(P, X, A),
        "block_inertia": Call(*fx["BLOCKS"]),
        "hessian_blocks": Call(P, X, A),
        "certify": Call(F, P, (X, A), lanczos_steps=10),
        "certify_stationary": Call(P, X, A),
        "certify_minima": Call(fx["SEARCH"], fx["STATS"], X),
        "slice_1d": Call(F, P, P, [-0.5, 0.0, 0.5], args=(X, A)),
        "slice_2d": Call(F, P, P, P, [-0.5, 0.5], [0.0, 0.5], args=(X, A)),
        "profile_1d": Call(F, P, P, [0.0, 0.1], free=fx["FREE"], args=(X, A), max_steps=3),
        "filter_normalized_direction": Call(P, 0),
        "segment_direction": Call(P0, P),
        "minimum_energy_path": Call(fx["quad"], np.array([-1.0, 0.0]), np.array([1.0, 0.0]), images=5, max_iter=5),
        "prop1_path": Call(DS, images=5, num=9, max_iter=5),
        "prop1_dataset": Call(A, n=6),
        "certify_prop1": Call(DS, n_random_directions=0),
        "sphere_certificate": Call(X, A, kappa=1, radii=[0.1, 0.2], starts=1, grid=16, steps=2, rounds=1, refine=False),
        "reduced_excess": Call(np.full((3, 1), 0.1), X, A),
        "energy_excess": Call(P, X, A),
        "leading_order_excess": Call(X, A, 1, [0.1, 0.2]),
        "validity_radius": Call(X, A),
        "reconstruction_path": Call(DS),
        "affine_descent_directions": Call(X, 1),
        "random_directions": Call(3, 1, 1, 0),
        "energy_profile": Call(X, A, P0, U, [0.0, 0.1]),
        "barrier_profiles": Call(X, A, 1, fx["DIRS"], num=9, max_extensions=0),
        "newton_minimize": Call(fx["quad"], np.ones(2)),
        "search": Call(X, A, kappa=1, restarts=1, steps=1, polish="none", progress=False),
        "multistart": Call(F, fx["init"], restarts=1, args=(X, A), steps=1, polish="none", progress=False),
        "init_params": Call(X, 1, [0], 0),
        "basin_stats": Call(fx["SEARCH"]),
        "active_dims": Call(P),
        "kl_per_dim": Call(np.asarray(P.mu), np.asarray(P.log_sigma)),
        "categorize": Call(
            np.array([1.0]), np.array([1.0]), np.array([1]), np.array([False]), gamma_bar=1.0, collapsed_energy=0.0
        ),  # fmt: skip
        "canonicalize": Call(P, np.ones(1, bool)),
        "wilson_interval": Call(1, 4),
        "sweep_gamma": Call(X, A, kappa=1, gammas=GAMMAS, restarts=1, steps=1, continuation_steps=1, progress=False),
        "trivial_energy": Call(X, 1, 1.0),
        "affine_optimum_energy": Call(X, 1, 1.0),
        "affine_optimum": Call(XG, 1),
        "gamma_thresholds": Call(X, A, kappa=1, gammas=GAMMAS, restarts=1, steps=1),
        "implicit_gamma": Call(P, X, A),
        "prop2_literal": Call(X, A, kappa=1, gammas=GAMMAS, restarts=1),
    }


# arguments left alone: free text, output switches and Python truthiness (any object is a valid flag)
SKIP_ARGS = {"description", "progress", "eigenvectors", "learn_sigma2", "climb", "far_side", "precondition",
             "connectivity", "certify_minima", "gamma_fixed", "name"}  # fmt: skip


def _kind(value, default_annotation=""):
    import numpy as np

    if isinstance(value, bool):
        return None
    if callable(value) and not hasattr(value, "shape") and not isinstance(value, type):
        return "callable"
    if isinstance(value, str):
        return "choice"
    if isinstance(value, (int, np.integer)):
        return "int"
    if isinstance(value, (float, np.floating)):
        return "float"
    if value is None:
        ann = str(default_annotation)
        return "int_or_none" if "int" in ann else ("float_or_none" if "float" in ann else None)
    if isinstance(value, list):
        return "seq" if all(isinstance(x, (int, float)) for x in value) else "object"
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return "tuple"
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        if "key" in str(value.dtype):
            return "object"  # a JAX PRNG key
        return "array" if np.ndim(value) > 0 else "float"
    if hasattr(value, "_fields") and all(hasattr(a, "shape") or a is None for a in value):
        return "tree"
    return "object"


def _battery(kind, valid, fx):
    """label -> a bad or extreme replacement for ``valid`` (labels that make no sense for the kind are absent)."""
    np, jax = fx["np"], fx["jax"]
    if kind in ("float", "float_or_none"):
        return {"nan": math.nan, "inf": math.inf, "-1": -1.0, "0": 0.0, "huge": 1e308, "bool": True,
                "complex": 1.0 + 1j, "wrong_shape": np.ones(3), "empty": np.zeros(0), "string": "1",
                "None": None}  # fmt: skip
    if kind in ("int", "int_or_none"):
        return {"nan": math.nan, "inf": math.inf, "-1": -1, "0": 0, "huge": 2**63, "bool": True, "complex": 1 + 1j,
                "float_for_int": 1.5, "wrong_shape": np.ones(3, int), "empty": np.zeros(0, int), "string": "1",
                "None": None}  # fmt: skip
    if kind == "array":
        a = np.asarray(valid)
        out = {}
        if a.dtype.kind in "fc":
            out["nan"] = a.copy()
            out["nan"].flat[0] = np.nan
            out["inf"] = a.copy()
            out["inf"].flat[0] = np.inf
            out["huge"] = np.full_like(a, 1e300)
            out["complex"] = a + 1j
        out.update({"-1": -1, "0": np.zeros_like(a), "bool": np.ones(a.shape, bool), "wrong_shape": a[..., None],
                    "empty": a[:0], "string": "x", "None": None})  # fmt: skip
        if a.dtype.kind in "iub":
            out["float_for_int"] = a + 0.5
        return out
    if kind == "tree":
        leaves, treedef = jax.tree.flatten(valid)
        i = next((j for j, x in enumerate(leaves) if np.ndim(x) >= 1), 0)  # the first array leaf (W, mostly)

        def first(f):
            return jax.tree.unflatten(treedef, [*leaves[:i], f(np.asarray(leaves[i])), *leaves[i + 1 :]])

        def nan(x):
            x = np.array(x, dtype=float)
            x.flat[0] = np.nan
            return x

        def inf(x):
            x = np.array(x, dtype=float)
            x.flat[0] = np.inf
            return x

        return {"nan": first(nan), "inf": first(inf), "-1": -1,
                "0": jax.tree.unflatten(treedef, [np.zeros_like(np.asarray(x)) for x in leaves]),
                "huge": first(lambda x: np.full_like(x, 1e300)), "bool": first(lambda x: np.ones(x.shape, bool)),
                "complex": first(lambda x: x + 1j), "wrong_shape": first(lambda x: x[..., None]),
                "empty": first(lambda x: x[:0] if x.ndim else np.zeros(0)), "string": "x", "None": None}  # fmt: skip
    if kind == "seq":
        v = list(valid)
        return {"nan": [math.nan, *v[1:]], "inf": [math.inf, *v[1:]], "-1": -1, "0": [0] * len(v),
                "huge": [1e308] * len(v), "bool": [True] * len(v), "complex": [v[0] + 1j, *v[1:]],
                **({"float_for_int": [x + 0.5 for x in v]} if all(isinstance(x, int) for x in v) else {}),
                "wrong_shape": [[x] for x in v], "empty": [], "string": "x", "None": None}  # fmt: skip
    if kind == "tuple":
        return {"-1": -1, "empty": (), "wrong_shape": (*valid, *valid), "string": "x", "None": None}
    if kind == "callable":
        return {"-1": -1, "string": "x", "None": None}
    if kind == "choice":
        return {"-1": -1, "bool": True, "empty": "", "string": "no-such-choice", "None": None}
    if kind == "object":
        return {"-1": -1, "bool": True, "wrong_shape": fx["X"], "string": "x", "None": None}
    return {}


def _names_argument(message: str, name: str) -> bool:
    import re

    names = {name, name.replace("_", " ")}
    if name == "key_or_seed":
        names |= {"seed", "key"}
    if name == "eigenvalues_or_X":
        names |= {"eigenvalues", "X"}
    if name in ("args",):
        names |= {"X", "alpha", "args"}
    return any(re.search(rf"(?<![A-Za-z0-9_]){re.escape(n)}(?![A-Za-z0-9_])", message) for n in names)


def _summary(out):
    """Whether the returned value holds a non-finite number (for the report)."""
    import jax
    import numpy as np

    try:
        leaves = jax.tree.leaves(jax.tree.map(np.asarray, out, is_leaf=lambda x: hasattr(x, "shape")))
    except Exception:
        return "?"
    for x in leaves:
        try:
            x = np.asarray(x)
            if x.dtype.kind in "fc" and not np.all(np.isfinite(x)):
                return "non-finite"
        except Exception:
            pass
    return "finite"


def _outcome(fn, args, kwargs, argname):
    import jax

    try:
        out = fn(*args, **kwargs)
        out = jax.block_until_ready(out) if hasattr(out, "block_until_ready") else out
    except Exception as err:  # classified, never swallowed: the report lists it
        tb = traceback.extract_tb(err.__traceback__)
        where = tb[-1].filename if tb else ""
        ours = where.startswith(PACKAGE)
        message = " ".join(str(err).split())[:300]
        kind = type(err).__name__
        if isinstance(err, (ValueError, TypeError)) and ours:
            status = "clean" if argname is None or _names_argument(str(err), argname) else "unnamed"
        else:
            status = "raw"
        short = os.path.relpath(where, ROOT) if where.startswith(str(ROOT)) else where
        frame = f"{short}:{tb[-1].lineno}" if tb else ""
        return {"status": status, "error": kind, "message": message, "frame": frame}
    return {"status": "returned", "value": _summary(out)}


def worker() -> int:
    """Read one task (JSON) per line on stdin, answer one JSON line on the original stdout."""
    import resource

    out = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # the library's own prints go to stderr
    limit = 6 << 30  # a bad size must not take the machine's memory: 6 GiB of address space, then MemoryError
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    import inspect

    import jax

    jax.config.update("jax_traceback_filtering", "off")
    fx = _fixtures()
    calls = _calls(fx)
    L = fx["L"]
    out.write(json.dumps({"ready": True}) + "\n")
    for line in sys.stdin:
        task = json.loads(line)
        if task.get("plan"):
            plan = {}
            for name in task["names"]:
                fn, call = getattr(L, name), calls.get(name)
                if call is None:
                    plan[name] = None
                    continue
                try:
                    plan[name] = {a: sorted(_battery(k, v, fx)) for a, (k, v) in _arguments(fn, call, inspect).items()}
                except Exception as err:  # a bug of the probe itself: reported, the others go on
                    plan[name] = {"__error__": repr(err)}
            out.write(json.dumps(plan) + "\n")
            continue
        name, argname, label = task["name"], task["arg"], task["label"]
        fn, call = getattr(L, name), calls[name]
        t0 = time.perf_counter()
        if argname is None:
            res = _outcome(fn, call.args, call.kwargs, None)
        else:
            kind, valid = _arguments(fn, call, inspect)[argname]
            bad = _battery(kind, valid, fx)[label]
            bound = inspect.signature(fn).bind_partial(*call.args, **call.kwargs)
            bound.arguments[argname] = bad
            res = _outcome(fn, bound.args, bound.kwargs, argname)
        res["seconds"] = round(time.perf_counter() - t0, 3)
        out.write(json.dumps(res) + "\n")
    return 0


def _arguments(fn, call, inspect):
    """argument -> (kind, valid value): those of the valid call, and the numeric keywords at their defaults."""
    sig = inspect.signature(fn)
    bound = sig.bind_partial(*call.args, **call.kwargs)
    out = {}
    for pname, p in sig.parameters.items():
        if pname in SKIP_ARGS or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        if pname in bound.arguments:
            value = bound.arguments[pname]
            kind = _kind(value, p.annotation)
        elif p.default is not p.empty:
            value = p.default
            kind = _kind(value, p.annotation)
            if kind not in ("int", "float", "int_or_none", "float_or_none", "choice"):
                continue  # defaults that are objects (init scales, operators) are probed where given
        else:
            continue
        if kind is not None:
            out[pname] = (kind, value)
    return out


# =========================================================================== the driver


class Worker:
    def __init__(self, log):
        self.log = log
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        env.setdefault("JAX_PLATFORMS", "cpu")
        self.p = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--worker"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=log, text=True, env=env, cwd=ROOT, start_new_session=True,
        )  # fmt: skip
        assert self._read(300).get("ready"), "the worker did not start"

    def _read(self, timeout):
        ready, _, _ = select.select([self.p.stdout], [], [], timeout)
        if not ready:
            return None
        line = self.p.stdout.readline()
        return json.loads(line) if line else {"status": "raw", "error": "worker died", "message": "", "frame": ""}

    def ask(self, task, timeout):
        self.p.stdin.write(json.dumps(task) + "\n")
        self.p.stdin.flush()
        return self._read(timeout)

    def kill(self):
        import signal

        try:
            os.killpg(self.p.pid, signal.SIGKILL)
        except OSError:
            pass
        self.p.wait()


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.worker:
        return worker()
    import landscape as L

    if args.from_json:
        results = json.loads(Path(args.from_json).read_text())
        for r in results:  # the rules may have changed since the run
            if r["status"] in ("silent", "documented"):
                why = documented(r["name"], r["arg"], r["label"], r.get("value"))
                r["status"], r["why"] = ("documented", why) if why else ("silent", None)
            elif r["arg"] is not None and r["name"] in UNCHECKED and r["status"] in ("raw", "unnamed", "limit"):
                r["status"], r["why"] = "limit", documented(r["name"], r["arg"], r["label"])
        report(results, 0.0)
        return 0
    names = [n for n in L.__all__ if callable(getattr(L, n)) and not isinstance(getattr(L, n), type)]
    names = [n for n in names if not args.only or n in args.only]
    t0 = time.perf_counter()
    log = open(args.log or os.devnull, "a")  # the workers' stderr
    w = Worker(log)
    plan = w.ask({"plan": True, "names": names}, 300)
    results = []
    warm = 6 * args.timeout  # a first call compiles: it may take longer
    for name in names:
        if plan[name] is None:
            results.append({"name": name, "arg": None, "label": "valid", "status": "no_spec"})
            continue
        if "__error__" in plan[name]:
            results.append({"name": name, "arg": None, "label": "valid", "status": "probe_error", **plan[name]})
            continue
        tasks = [(None, "valid")]
        if not args.valid_only:
            tasks += [(a, lab) for a, labels in plan[name].items() for lab in labels]
        for arg, label in tasks:
            # the valid call compiles, and a documented default (None) may run the full default work
            slow = arg is None or (label == "None" and arg in NONE_OK)
            res = w.ask({"name": name, "arg": arg, "label": None if arg is None else label},
                        warm if slow else args.timeout)  # fmt: skip
            if res is None:
                w.kill()
                res = {"status": "hang", "seconds": warm if slow else args.timeout}
                w = Worker(log)
                w.ask({"name": name, "arg": None, "label": None}, warm)  # compile the valid call again
            res.update(name=name, arg=arg, label=label)
            if res["status"] == "returned":
                if arg is None:
                    res["status"] = "ok"
                else:
                    why = documented(name, arg, label, res.get("value"))
                    res["status"], res["why"] = ("documented", why) if why else ("silent", None)
            elif arg is not None and name in UNCHECKED and res["status"] in ("raw", "unnamed"):
                res["status"], res["why"] = "limit", documented(name, arg, label)
            elif arg is None:
                res["status"] = "valid_raising"
            results.append(res)
        print(f"{name}: {sum(r['name'] == name for r in results)} calls, {time.perf_counter() - t0:.0f} s",
              file=sys.stderr, flush=True)  # fmt: skip
    w.kill()
    report(results, time.perf_counter() - t0)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1) + "\n")
        print(f"wrote {args.json}")
    return 0


def report(results, seconds):
    from collections import Counter

    probes = [r for r in results if r["arg"] is not None]
    counts = Counter(r["status"] for r in probes)
    valid = Counter(r["status"] for r in results if r["arg"] is None)
    print(f"\n{len(results)} calls to {len({r['name'] for r in results})} public functions in {seconds:.0f} s")
    print(f"valid calls: {dict(valid)}")
    for status in ("clean", "unnamed", "raw", "silent", "documented", "limit", "hang"):
        print(f"  {status:>10}: {counts.get(status, 0)}")
    for status in ("probe_error", "valid_raising", "no_spec", "hang", "raw", "unnamed", "silent", "documented"):
        rows = [r for r in results if r["status"] == status]
        if not rows:
            continue
        print(f"\n## {status} ({len(rows)})")
        for r in rows:
            error = r.get("__error__") or f"{r.get('error')}: {r.get('message', '')[:160]} [{r.get('frame')}]"
            what = r.get("why") or r.get("value") or error
            print(f"- {r['name']}({r['arg']}={r['label']}): {what}")


if __name__ == "__main__":
    raise SystemExit(main())
