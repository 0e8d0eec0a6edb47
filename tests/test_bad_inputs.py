"""Bad inputs to the public API: one table, one ValueError naming the argument per row (issue 18).

Each row of `BAD` is ``(public function, call, bad value, expected error match)``: ``call(value)``
must raise ``ValueError`` whose message matches. A new public function is one more row. The
problems are tiny (n = 6, d = 3, κ = 1) and nearly every check fires before anything compiles.

The positive tests below pin what the checks must let through: an integer α (Python or NumPy)
gives the same numbers, bit for bit, as the float α in every derivative function, and NumPy
integer seeds and the largest seed 2**63 − 1 work wherever a seed is accepted.
"""

import functools
import math

import jax
import numpy as np
import pytest

import landscape as L
from landscape import energy_objective as F

NAN, INF = math.nan, math.inf
DS = L.prop1_dataset(1.0, n=6, d=3, kappa=1, seed=0)
X = DS.X
A = 1.0  # a valid α
P0 = L.collapsed_point(X, 1)
P = P0._replace(W=np.asarray(P0.W) + 0.1, mu=np.asarray(P0.mu) + 0.1 * np.arange(6.0).reshape(6, 1))
TH = L.collapsed_theta(X, 1)
H = np.diag([2.0, 1.0, -1.0])
BLOCKS = (np.eye(2), np.zeros((3, 2, 1)), np.ones((3, 1, 1)))
GAMMAS = [0.5, 1.0, 2.0]
U = np.ones((3, 1)) / np.sqrt(3.0)
SEEDS = [-1, 2**63, 2**64, True, np.bool_(True), 1.5, np.float64(2.0), "0", None]
BAD_TOL = [NAN, INF, -1.0, True, "1e-8", 1e-8 + 0j]  # never a tolerance
BAD_RTOL = BAD_TOL + [1.0, 2.0]  # a relative zero tolerance is < 1
BAD_POS = BAD_TOL + [0.0]  # a strictly positive setting
BAD_COUNT = [-1, 1.5, True, "3", NAN]
BAD_ALPHA = [-1.0, NAN, INF, True, "0.5", 0.5 + 0j, np.ones(2)]
HUGE = 2**63  # a count or size no computation can use (the checks refuse >= 2**31)
P_SIZE = sum(np.size(a) for a in P)
ONE_END = dict(energy=1.0, gamma=1.0, active=1, failed=False, gamma_bar=1.0, collapsed_energy=0.0)
CATEGORIZE = functools.partial(L.categorize, **ONE_END)


XG = np.random.default_rng(0).normal(size=(8, 3)) * np.array([2.0, 1.0, 0.5]) + 1.0
DIRS = L.affine_descent_directions(X, 1)[:1]
FREE = jax.tree.map(lambda a: np.ones(np.shape(a), bool), P)._replace(W=np.zeros((3, 1), bool))
# VAEParams whose shapes do not fit together (one point of eq. 5 is W (d, κ), b (d,), log γ (), μ and log σ (n, κ))
BAD_SHAPES = [P._replace(W=np.zeros((0, 1))), P._replace(W=np.asarray(P.W)[..., None]), P._replace(b=np.zeros(2))]


def residual(p, X, alpha):
    return (p.W @ np.ones((1, 6))).T.ravel() - X.ravel()


START = L.VAEParams(*(np.asarray(a)[0] for a in L.init_params(X, 1, [0], 0)))


def init(key):
    return jax.tree.map(lambda a: a + 0.01 * jax.random.normal(key, np.shape(a)), START)


def tiny_search(alpha=A, seed=0):
    """A search that compiles fast (one Adam step, no polish); the same shapes every time."""
    return L.search(X, alpha, kappa=1, restarts=2, steps=1, polish="none", seed=seed, progress=False)


@functools.cache
def search_result():
    return tiny_search()


@functools.cache
def deep():
    from landscape import deep

    return deep


def tiny_config():
    return deep().TrainConfig(kind="vae", depth=1, width=4, latent=1, epochs=1, batch_size=6)


def quad(x):
    return (x**2).sum()


thresholds = functools.partial(L.gamma_thresholds, X, A, kappa=1, gammas=GAMMAS)
sweep = functools.partial(L.sweep_gamma, X, A, kappa=1, gammas=GAMMAS)
multistart = functools.partial(L.multistart, F, init, restarts=1, args=(X, A), steps=2)
search = functools.partial(L.search, X, A, kappa=1, restarts=1, steps=2)


def rows(name, call, values, match):
    return [(name, call, v, match) for v in values]


BAD = [
    # -------------------------------------------------------------- seeds: integers in [0, 2**63)
    *rows("search", lambda v: search(seed=v), SEEDS, "seed"),
    *rows("multistart", lambda v: multistart(seed=v), SEEDS, "seed"),
    *rows("likelihood_multistart", lambda v: L.likelihood_multistart(X, A, kappa=1, restarts=1, seed=v), SEEDS, "seed"),
    *rows("sweep_gamma", lambda v: sweep(restarts=1, seed=v), SEEDS, "seed"),
    *rows("gamma_thresholds", lambda v: thresholds(seed=v), SEEDS, "seed"),
    *rows("prop2_literal", lambda v: L.prop2_literal(X, A, kappa=1, gammas=GAMMAS, seed=v), SEEDS, "seed"),
    *rows("prop1_dataset", lambda v: L.prop1_dataset(A, n=6, seed=v), SEEDS, "seed"),
    *rows("init_params", lambda v: L.init_params(X, 1, [0], v), SEEDS, "seed"),
    *rows("random_directions", lambda v: L.random_directions(3, 1, 2, v), SEEDS, "seed"),
    *rows("filter_normalized_direction", lambda v: L.filter_normalized_direction(P, v), SEEDS, "key_or_seed"),
    *rows("lanczos", lambda v: L.lanczos(F, P, (X, A), k=1, num_steps=4, seed=v), SEEDS, "seed"),
    *rows("spectral_density", lambda v: L.spectral_density(F, P, (X, A), num_steps=4, seed=v), SEEDS, "seed"),
    *rows("certify", lambda v: L.certify(F, P, (X, A), seed=v), SEEDS, "seed"),
    *rows("certify_stationary", lambda v: L.certify_stationary(P, X, A, seed=v), SEEDS, "seed"),
    *rows("canonicalize", lambda v: L.canonicalize(P, np.ones(1, bool), seed=v), SEEDS, "seed"),
    *rows("compare_basins", lambda v: L.compare_basins(X, A, 1, 1, v), SEEDS, "seed"),
    *rows("two_stage_fit", lambda v: L.two_stage_fit(X, A, 1, 1, v), SEEDS, "seed"),
    *rows("collapsed_likelihood_evidence", lambda v: L.collapsed_likelihood_evidence(X, A, 1, seed=v), SEEDS, "seed"),
    *rows("deep.train", lambda v: deep().train(X, tiny_config(), seeds=(v,)), SEEDS, "seeds"),
    *rows("deep.train", lambda v: deep().train(X, tiny_config(), seeds=v), [2**63, -1, True, 1.5], "seeds"),
    *rows("deep.make_model", lambda v: deep().make_model("vae", 3, depth=1, width=4, latent=1, seed=v), SEEDS, "seed"),
    *rows("deep.collapsed_vae", lambda v: deep().collapsed_vae(X, depth=1, width=4, latent=1, seed=v), SEEDS, "seed"),
    # ------------------------------------------- "silently wrong certificates": every tolerance and count
    *rows("spectrum", lambda v: L.spectrum(P, X, A, rtol=v), BAD_RTOL, "rtol"),
    *rows("spectrum", lambda v: L.spectrum(P, X, A, tol=v), BAD_TOL, "tol"),
    *rows("inertia", lambda v: L.inertia(H, rtol=v), BAD_RTOL, "rtol"),
    *rows("inertia", lambda v: L.inertia(H, tol=v), BAD_TOL, "tol"),
    ("inertia", lambda v: L.inertia(v), H + 0j, "H must hold real"),
    *rows("certify_prop1", lambda v: L.certify_prop1(DS, spectrum_rtol=v), BAD_RTOL, "spectrum_rtol"),
    *rows("certify_prop1", lambda v: L.certify_prop1(DS, grad_tol=v), BAD_TOL, "grad_tol"),
    *rows("certify_prop1", lambda v: L.certify_prop1(DS, n_random_directions=v), BAD_COUNT, "n_random_directions"),
    *rows("certify", lambda v: L.certify(F, P, (X, A), gtol=v), BAD_TOL, "gtol"),
    *rows("certify", lambda v: L.certify(F, P, (X, A), rtol=v), BAD_RTOL, "rtol"),
    *rows("certify", lambda v: L.certify(F, P, (X, A), tol=v), BAD_TOL, "tol"),
    *rows("certify", lambda v: L.certify(F, P, (X, A), flat_rtol=v), BAD_TOL, "flat_rtol"),
    *rows("certify", lambda v: L.certify(F, P, (X, A), max_modes=v), BAD_COUNT + [0], "max_modes"),
    *rows("certify", lambda v: L.certify(F, P, (X, A), slice_radius=v), BAD_POS, "slice_radius"),
    *rows("certify", lambda v: L.certify(F, P, (X, A), slice_tol=v), BAD_TOL, "slice_tol"),
    *rows("certify", lambda v: L.certify(F, P, (X, A), lanczos_steps=v), BAD_COUNT + [0], "lanczos_steps"),
    *rows("certify_stationary", lambda v: L.certify_stationary(P, X, A, gtol=v), BAD_TOL, "gtol"),
    *rows("certify_stationary", lambda v: L.certify_stationary(P, X, A, rtol=v), BAD_RTOL, "rtol"),
    *rows("certify_stationary", lambda v: L.certify_stationary(P, X, A, tol=v), BAD_TOL, "tol"),
    *rows("certify_stationary", lambda v: L.certify_stationary(P, X, A, flat_rtol=v), BAD_TOL, "flat_rtol"),
    *rows("certify_stationary", lambda v: L.certify_stationary(P, X, A, max_modes=v), BAD_COUNT + [0], "max_modes"),
    *rows("certify_stationary", lambda v: L.certify_stationary(P, X, A, slice_radius=v), BAD_POS, "slice_radius"),
    *rows("certify_stationary", lambda v: L.certify_stationary(P, X, A, dense_max=v), BAD_COUNT, "dense_max"),
    *rows("certify_stationary", lambda v: L.certify_stationary(P, X, A, lanczos_steps=v), [0, 1.5], "lanczos_steps"),
    *rows("gamma_thresholds", lambda v: thresholds(kl_tol=v), BAD_POS, "kl_tol"),
    *rows("gamma_thresholds", lambda v: thresholds(rtol=v), BAD_RTOL, "rtol"),
    *rows("gamma_thresholds", lambda v: thresholds(restarts=v), [0, 1.5], "restarts"),
    *rows("gamma_thresholds", lambda v: thresholds(steps=v), [-1, 1.5], "steps"),
    *rows("basin_stats", lambda v: L.basin_stats(search_result(), gamma_ratio=v), BAD_POS, "gamma_ratio"),
    *rows("basin_stats", lambda v: L.basin_stats(search_result(), energy_tol=v), BAD_TOL, "energy_tol"),
    *rows("basin_stats", lambda v: L.basin_stats(search_result(), param_tol=v), BAD_TOL, "param_tol"),
    *rows("basin_stats", lambda v: L.basin_stats(search_result(), eps=v), BAD_POS, "eps"),
    *rows("basin_stats", lambda v: L.basin_stats(search_result(), delta=v), BAD_RTOL, "delta"),
    *rows("basin_stats", lambda v: L.basin_stats(v), [None, X], "SearchResult"),
    *rows("active_dims", lambda v: L.active_dims(P, eps=v), BAD_POS, "eps"),
    *rows("categorize", lambda v: L.categorize(1.0, 1.0, 1, False, gamma_bar=1.0, collapsed_energy=0.0, gamma_ratio=v), BAD_POS, "gamma_ratio"),  # noqa: E501
    *rows("newton_minimize", lambda v: L.newton_minimize(quad, np.ones(2), gtol=v), BAD_TOL, "gtol"),
    *rows("newton_minimize", lambda v: L.newton_minimize(quad, np.ones(2), max_steps=v), BAD_COUNT, "max_steps"),
    *rows("newton_minimize", lambda v: L.newton_minimize(quad, np.ones(2), max_halvings=v), BAD_COUNT, "max_halvings"),
    *rows("lanczos", lambda v: L.lanczos(F, P, (X, A), k=1, num_steps=4, breakdown_rtol=v), BAD_POS + [1.0], "breakdown_rtol"),  # noqa: E501
    *rows("lanczos", lambda v: L.lanczos(F, P, (X, A), k=1, num_steps=4, rtol=v), BAD_POS, "rtol"),
    *rows("lanczos", lambda v: L.lanczos(F, P, (X, A), k=v, num_steps=4), BAD_COUNT + [0, 3], "k must be"),
    *rows("lanczos", lambda v: L.lanczos(F, P, (X, A), k=1, num_steps=v), BAD_COUNT + [0], "num_steps"),
    *rows("spectral_density", lambda v: L.spectral_density(F, P, (X, A), num_probes=v), BAD_COUNT + [0], "num_probes"),
    *rows("spectral_density", lambda v: L.spectral_density(F, P, (X, A), num_steps=v), BAD_COUNT + [0], "num_steps"),
    *rows("spectral_density", lambda v: L.spectral_density(F, P, (X, A), breakdown_rtol=v), BAD_POS, "breakdown_rtol"),
    *rows("wilson_interval", lambda v: L.wilson_interval(1, 4, v), [-1.0, NAN, INF, True, "2"], "z"),
    *rows("wilson_interval", lambda v: L.wilson_interval(v, 4), [5, -1, 1.5, True], "k"),
    *rows("wilson_interval", lambda v: L.wilson_interval(1, v), [-1, 1.5, True, 0], "n"),
    *rows("schur_inertia", lambda v: L.schur_inertia(P, X, A, rtol=v), BAD_RTOL, "rtol"),
    *rows("schur_inertia", lambda v: L.schur_inertia(P, X, A, tol=v), BAD_TOL, "tol"),
    *rows("schur_inertia", lambda v: L.schur_inertia(P, X, A, singular_rtol=v), BAD_RTOL, "singular_rtol"),
    *rows("schur_inertia", lambda v: L.schur_inertia(P, X, A, chunk_size=v), BAD_COUNT + [0], "chunk_size"),
    *rows("schur_inertia", lambda v: L.schur_inertia(P, X, A, max_retained=v), BAD_COUNT, "max_retained"),
    *rows("block_inertia", lambda v: L.block_inertia(*BLOCKS, rtol=v), BAD_RTOL, "rtol"),
    *rows("block_inertia", lambda v: L.block_inertia(*BLOCKS, chunk_size=v), BAD_COUNT + [0], "chunk_size"),
    ("block_inertia", lambda v: L.block_inertia(v, *BLOCKS[1:]), BLOCKS[0] + 0j, "A must hold real"),
    *rows("search", lambda v: search(learning_rate=v), BAD_POS, "learning_rate"),
    *rows("search", lambda v: search(gtol=v), BAD_TOL, "gtol"),
    *rows("search", lambda v: search(eps=v), BAD_POS, "eps"),
    *rows("search", lambda v: search(delta=v), BAD_RTOL, "delta"),
    *rows("search", lambda v: search(restarts=v), BAD_COUNT + [0], "restarts"),
    *rows("search", lambda v: search(steps=v), BAD_COUNT, "steps"),
    *rows("multistart", lambda v: multistart(learning_rate=v), BAD_POS, "learning_rate"),
    *rows("multistart", lambda v: multistart(gtol=v), BAD_TOL, "gtol"),
    *rows("sweep_gamma", lambda v: sweep(restarts=v), [0, 1.5], "restarts"),
    *rows("sweep_gamma", lambda v: sweep(continuation_steps=v), [-1, 1.5], "continuation_steps"),
    *rows("sweep_gamma", lambda v: L.sweep_gamma(X, A, kappa=1, gammas=v), [[1.0 + 0j, 2.0], [2.0, 1.0], [-1.0, 1.0], [True, True]], "gammas"),  # noqa: E501
    *rows("prop1_dataset", lambda v: L.prop1_dataset(A, n=6, scale=v), BAD_POS, "scale"),
    *rows("prop2_literal", lambda v: L.prop2_literal(X, A, kappa=1, gammas=GAMMAS, restarts=v), [0, 1.5], "restarts"),
    *rows("random_directions", lambda v: L.random_directions(3, 1, v, 0), [-1, 1.5, True], "count"),
    *rows("deep.evaluate_vae", lambda v: deep().evaluate_vae(None, None, X, pairs=v), [0, 1.5], "pairs"),
    # ---------------------------------------------------- α (integers are fine), and complex input
    *rows("energy", lambda v: L.energy(P, X, v), BAD_ALPHA, "alpha"),
    *rows("gradient", lambda v: L.gradient(P, X, v), BAD_ALPHA, "alpha"),
    *rows("grad_norm", lambda v: L.grad_norm(P, X, v), BAD_ALPHA, "alpha"),
    *rows("hessian", lambda v: L.hessian(P, X, v), BAD_ALPHA, "alpha"),
    *rows("spectrum", lambda v: L.spectrum(P, X, v), BAD_ALPHA, "alpha"),
    *rows("schur_inertia", lambda v: L.schur_inertia(P, X, v), BAD_ALPHA, "alpha"),
    *rows("certify_stationary", lambda v: L.certify_stationary(P, X, v), BAD_ALPHA, "alpha"),
    *rows("search", lambda v: L.search(X, v, kappa=1, restarts=1, steps=2), BAD_ALPHA, "alpha"),
    *rows("collapsed_spectrum", lambda v: L.collapsed_spectrum(X, 1, v), BAD_ALPHA, "alpha"),
    *rows("log_marginal", lambda v: L.log_marginal(TH, X, v), BAD_ALPHA, "alpha"),
    *rows("prop1_dataset", lambda v: L.prop1_dataset(v, n=6), BAD_ALPHA, "alpha"),
    *rows("energy_profile", lambda v: L.energy_profile(X, v, P0, U, [0.0, 0.1]), BAD_ALPHA, "alpha"),
    *rows("sweep_gamma", lambda v: L.sweep_gamma(X, v, kappa=1, gammas=GAMMAS), BAD_ALPHA, "alpha"),
    *rows("canonicalize", lambda v: L.canonicalize(P, np.ones(1, bool), alpha=v), BAD_ALPHA, "alpha"),
    *rows("energy", lambda v: L.energy(P, X, A, gamma=v), [0.0, -1.0, NAN, True, 1.0 + 0j], "gamma"),
    *rows("hessian", lambda v: L.hessian(P, X, A, gamma=v), [0.0, NAN, 1.0 + 0j], "gamma"),
    *rows("search", lambda v: L.search(X, A, kappa=1, restarts=2, steps=2, gamma=v), [[1.0, 1.0 + 1j], [1.0, NAN], [True, True]], "gamma"),  # noqa: E501
    ("energy", lambda v: L.energy(P, v, A), X + 0j, "X must hold real"),
    ("spectrum", lambda v: L.spectrum(P, v, A), X + 1j, "X must hold real"),
    ("collapsed_point", lambda v: L.collapsed_point(v, 1), X + 0j, "X must hold real"),
    ("search", lambda v: L.search(v, A, kappa=1, restarts=1, steps=2), X + 0j, "X must hold real"),
    ("as_data", lambda v: L.as_data(v), X + 0j, "X must hold real"),
    ("log_marginal", lambda v: L.log_marginal(TH, v, A), X + 0j, "X must hold real"),
    *rows("energy", lambda v: L.energy(P._replace(W=v), X, A), [np.asarray(P.W) + 0j], "params.W must hold real"),
    *rows("hessian", lambda v: L.hessian(P._replace(mu=v), X, A), [np.asarray(P.mu) + 1j], "params.mu must hold real"),
    # -------------------------------------------------- a sweep of other public functions' obvious bad inputs
    *rows("collapsed_point", lambda v: L.collapsed_point(X, v), [0, -1, 1.5, True], "kappa"),
    *rows("collapsed_energy", lambda v: L.collapsed_energy(v, 1), [np.ones((6, 3)), np.ones(3)], "X"),
    *rows("gamma_bar", lambda v: L.gamma_bar(v), [np.ones((6, 3)), np.zeros((0, 3))], "X"),
    *rows("energy_mc", lambda v: L.energy_mc(P, X, A, jax.random.key(0), num_samples=v), BAD_COUNT + [0], "num_samples"),  # noqa: E501
    *rows("ppca_mle", lambda v: L.ppca_mle(X, v), [0, -1, 1.5, True, 4], "kappa"),
    *rows("affine_descent_directions", lambda v: L.affine_descent_directions(X, v), [0, 1.5], "kappa"),
    *rows("init_params", lambda v: L.init_params(X, v, [0], 0), [0, 1.5, True], "kappa"),
    *rows("trivial_energy", lambda v: L.trivial_energy(X, 1, v), [-1.0, NAN], "gamma"),
    *rows("energy_profile", lambda v: L.energy_profile(X, A, P0, U, v), [[NAN], []], "ts"),
    *rows("slice_1d", lambda v: L.slice_1d(F, P, P, v, args=(X, A)), [[NAN], []], "ts"),
    *rows("prop1_path", lambda v: L.prop1_path(v), [X, None], "Prop1Dataset"),
    *rows("certify_prop1", lambda v: L.certify_prop1(v), [X, None], "Prop1Dataset"),
    # ----------------- the probe's systematic causes (benchmarks/probe_api.py): huge counts and sizes (< 2**31)
    *rows("search", lambda v: search(restarts=v), [HUGE, 2**31], "restarts must be < 2"),
    *rows("search", lambda v: search(steps=v), [HUGE], "steps must be < 2"),
    *rows("search", lambda v: L.search(X, A, kappa=v, restarts=1, steps=2), [HUGE], "kappa must be < 2"),
    *rows("multistart", lambda v: multistart(restarts=v), [HUGE], "restarts must be < 2"),
    *rows("likelihood_multistart", lambda v: L.likelihood_multistart(X, A, kappa=1, restarts=1, polish_steps=v), [HUGE], "polish_steps"),  # noqa: E501
    *rows("newton_minimize", lambda v: L.newton_minimize(quad, np.ones(2), max_halvings=v), [HUGE], "max_halvings"),
    *rows("random_directions", lambda v: L.random_directions(3, 1, v, 0), [HUGE], "count must be < 2"),
    *rows("random_directions", lambda v: L.random_directions(v, 1, 2, 0), [HUGE], "d must be < 2"),
    *rows("prop1_dataset", lambda v: L.prop1_dataset(A, n=v, seed=0), [HUGE], "n must be < 2"),
    *rows("energy_mc", lambda v: L.energy_mc(P, X, A, jax.random.key(0), num_samples=v), [HUGE], "num_samples"),
    *rows("certify_prop1", lambda v: L.certify_prop1(DS, n_random_directions=v), [HUGE], "n_random_directions"),
    *rows("collapsed_likelihood_evidence", lambda v: L.collapsed_likelihood_evidence(X, A, 1, n_random=v), [HUGE], "n_random"),  # noqa: E501
    *rows("cvae_init", lambda v: L.cvae_init(v, 2, 1), [HUGE], "d_x must be < 2"),
    *rows("hvae_init", lambda v: L.hvae_init(3, 2, v), [HUGE], "d2 must be < 2"),
    *rows("linear_vae_init", lambda v: L.linear_vae_init(X, v), [HUGE], "kappa must be < 2"),
    *rows("collapsed_energy", lambda v: L.collapsed_energy(X, v), [HUGE], "kappa must be < 2"),
    *rows("n_negative_affine", lambda v: L.n_negative_affine(X, v), [HUGE], "kappa must be < 2"),
    *rows("trivial_energy", lambda v: L.trivial_energy(X, v, 1.0), [HUGE], "kappa must be < 2"),
    *rows("collapsed_point", lambda v: L.collapsed_point(X, v), [HUGE], "kappa must be < 2"),
    *rows("init_params", lambda v: L.init_params(X, v, [0], 0), [HUGE], "kappa must be < 2"),
    *rows("affine_optimum_energy", lambda v: L.affine_optimum_energy(X, v, 1.0), [HUGE, 0, 1.5, True, None], "kappa"),
    # ------------------------------------------ γ grids of the closed forms: numbers > 0, a scalar or 1-D
    *rows("affine_optimum_energy", lambda v: L.affine_optimum_energy(X, 1, v), [0.0, -1.0, NAN, None, True, "x", [], np.ones((2, 2))], "gamma"),  # noqa: E501
    *rows("trivial_energy", lambda v: L.trivial_energy(X, 1, v), [[], np.ones((2, 2)), True], "gamma"),
    # --------------------------------------------------------- bool and complex arrays are not parameters
    *rows("energy", lambda v: L.energy(P._replace(W=v), X, A), [np.ones((3, 1), bool)], "params.W must hold real"),
    *rows("gradient", lambda v: L.gradient(P._replace(mu=v), X, A), [np.ones((6, 1), bool)], "params.mu"),
    *rows("log_marginal", lambda v: L.log_marginal(TH._replace(W=v), X, A), [np.ones((3, 1)) + 1j, np.ones((3, 1), bool)], "theta.W must hold real"),  # noqa: E501
    *rows("decoder_params", lambda v: L.decoder_params(P._replace(b=v)), [np.ones(3) + 1j, np.ones(3, bool)], "params.b"),  # noqa: E501
    *rows("block_shares", lambda v: L.block_shares(P, v), [np.ones(P_SIZE) + 1j, np.ones(P_SIZE, bool)], "vector"),
    *rows("block_shares", lambda v: L.block_shares(v, np.ones(P_SIZE)), [P._replace(W=np.ones((3, 1), bool))], "params.W"),  # noqa: E501
    *rows("slice_1d", lambda v: L.slice_1d(F, P, v, [0.0, 1.0], args=(X, A)), [P._replace(W=np.asarray(P.W) + 1j)], "direction"),  # noqa: E501
    # ------------------------------- the generic tools' one entry check (landscape.tools.flat.check_call)
    *rows("hvp", lambda v: L.hvp(v, P, (X, A)), [None, -1, "x"], "f must be a callable"),
    *rows("hvp", lambda v: L.hvp(F, P, v), [None, -1], "args must be a tuple"),
    *rows("hvp", lambda v: L.hvp(F, v, (X, A)), [None, -1, True, "x", {"a": np.ones(2, int)}], "params"),
    *rows("dense_hessian", lambda v: L.dense_hessian(F, v, (X, A)), [P._replace(W=np.ones((3, 1), bool)), -1], "params"),  # noqa: E501
    *rows("dense_hessian", lambda v: L.dense_hessian(F, P, v), [(), (X,), (X, A, None, 1)], "args=\\(X, alpha\\)"),
    *rows("lanczos", lambda v: L.lanczos(v, P, (X, A), k=1, num_steps=4), [None, "x"], "f must be a callable"),
    *rows("spectral_density", lambda v: L.spectral_density(F, v, (X, A), num_steps=4), ["x", P._replace(W=np.ones((3, 0)))], "params"),  # noqa: E501
    *rows("certify", lambda v: L.certify(F, v, (X, A)), [-1, P._replace(mu=np.ones((6, 1)) + 1j)], "params"),
    *rows("hessian_operator", lambda v: L.hessian_operator(F, P, v), [-1, None], "args must be a tuple"),
    *rows("dense_operator", lambda v: L.dense_operator(v), [None, "x", np.eye(2, dtype=bool), np.eye(2) + 1j], "H"),
    *rows("linear_operator", lambda v: L.linear_operator(lambda u: u, v), [HUGE, INF, NAN, None, True, 2.0], "size"),
    *rows("linear_operator", lambda v: L.linear_operator(v, 2), [None, -1, "x"], "matvec must be a callable"),
    *rows("dense_hessian", lambda v: L.dense_hessian(F, P, (X, A), chunk_size=v), [HUGE, None, 1.5, "8", INF], "chunk_size"),  # noqa: E501
    *rows("slice_1d", lambda v: L.slice_1d(F, P, P, v, args=(X, A)), [[True, False], [0j, 1j], ["x"]], "ts"),
    *rows("gauss_newton_operator", lambda v: L.gauss_newton_operator(v, P, (X, A)), [None, "x"], "residual must be a callable"),  # noqa: E501
    # ------------------------------------------------------ wrongly typed objects, keys and index arrays
    *rows("energy_mc", lambda v: L.energy_mc(P, X, A, v, num_samples=2), [-1, None, True, "x", np.ones((6, 3))], "key"),
    *rows("init_params", lambda v: L.init_params(X, 1, v, 0), [-1, None, "x", [[0]], [0.5], [True], [], [-1]], "indices"),  # noqa: E501
    *rows("certify_minima", lambda v: L.certify_minima(v, None, X), [None, "x"], "result must be a landscape.SearchResult"),  # noqa: E501
    *rows("active_dims", lambda v: L.active_dims(v), [None, -1, "x"], "params must be a landscape.VAEParams"),
    *rows("canonicalize", lambda v: L.canonicalize(v, np.ones(1, bool)), [None, "x"], "params must be"),
    *rows("canonicalize", lambda v: L.canonicalize(P, v), [None, -1, "x", np.ones((2, 2), bool), np.ones(1)], "active"),
    *rows("categorize", lambda v: CATEGORIZE(active=v), [[], [-1], None, "x", np.ones((2, 2), int)], "active"),
    *rows("categorize", lambda v: CATEGORIZE(failed=v), [None, 1.5, "x"], "failed"),
    *rows("categorize", lambda v: CATEGORIZE(energy=v), [None, "x", 1.0 + 0j], "energy"),
    *rows("categorize", lambda v: CATEGORIZE(gamma_bar=v), [None, -1.0, NAN], "gamma_bar"),
    *rows("categorize", lambda v: CATEGORIZE(collapsed_energy=v), [None, NAN, "x"], "collapsed_energy"),
    *rows("kl_per_dim", lambda v: L.kl_per_dim(v, np.zeros((6, 1))), ["x", np.zeros((0, 1)), np.ones((6, 1)) + 1j], "mu"),  # noqa: E501
    *rows("barrier_profiles", lambda v: L.barrier_profiles(X, A, 1, v), ["x", -1, [None]], "directions must be a list"),
    # ------------------------------------------------- the probe's silent acceptances (issue 18, stop 27)
    *rows("inertia", lambda v: L.inertia(v), [np.eye(2, dtype=bool), "x"], "H must"),
    *rows("block_inertia", lambda v: L.block_inertia(*BLOCKS[:2], v), [np.ones((3, 1, 1), bool)], "D must hold real"),
    *rows("energy_profile", lambda v: L.energy_profile(X, A, P0, v, [0.0, 0.1]), [np.ones((3, 1), bool), U + 1j], "U"),
    *rows("energy_profile", lambda v: L.energy_profile(X, A, P0, U, v), [[True, False], [0.0, 1j]], "ts"),
    *rows("barrier_profiles", lambda v: L.barrier_profiles(X, A, 1, DIRS, t_max=v), [True, NAN, -1.0, 0.0], "t_max"),
    *rows("barrier_profiles", lambda v: L.barrier_profiles(X, A, 1, DIRS, max_extensions=v), [-1, True, 1.5], "max_extensions"),  # noqa: E501
    ("slice_1d", lambda v: L.slice_1d(F, P, v, [0.0, 1.0], args=(X, A)), jax.tree.map(np.zeros_like, P), "direction is zero"),  # noqa: E501
    ("slice_2d", lambda v: L.slice_2d(F, P, P, v, [0.0, 1.0], [0.0, 1.0], args=(X, A)), np.zeros(P_SIZE), "d2 is zero"),
    ("profile_1d", lambda v: L.profile_1d(F, P, v, [0.0, 0.1], free=FREE, args=(X, A)), P._replace(W=np.zeros((3, 1))), "fixed part"),  # noqa: E501
    *rows("gauss_newton_operator", lambda v: L.gauss_newton_operator(residual, v, (X, A)), BAD_SHAPES, "params"),
    *rows("block_shares", lambda v: L.block_shares(v, P), BAD_SHAPES, "params"),
    *rows("filter_normalized_direction", lambda v: L.filter_normalized_direction(v, 0), BAD_SHAPES, "params"),
    *rows("decoder_params", lambda v: L.decoder_params(v), BAD_SHAPES, "params"),
    *rows("active_dims", lambda v: L.active_dims(v), BAD_SHAPES, "params"),
    *rows("canonicalize", lambda v: L.canonicalize(v, np.ones(1, bool)), BAD_SHAPES, "params"),
    *rows("optimal_encoder", lambda v: L.optimal_encoder(v, 1.0), [np.zeros((0, 1)), np.zeros((3, 0))], "W must"),
    *rows("decoder_signal", lambda v: L.decoder_signal(v, A), [np.zeros((0, 1)), np.zeros((3, 0))], "W must"),
    *rows("ppca_hessian_inertia", lambda v: L.ppca_hessian_inertia([3.0, 2.0, 1.0], 0.5, v), [[], 3, "x"], "active"),
    *rows("categorize", lambda v: CATEGORIZE(gamma=v), [-1.0, 0.0, NAN], "gamma"),
    *rows("ppca_log_likelihood", lambda v: L.ppca_log_likelihood(XG, np.ones((3, 1)), np.zeros(3), v), [1e308, 1e-310], "sigma2"),  # noqa: E501
    *rows("linear_vae_init", lambda v: L.linear_vae_init(XG, 1, scale=v), [True, NAN, 0.0], "scale"),
    # ------------------------------------------------- the probe's unnamed errors (issue 18, stop 27)
    *rows("ppca_stationary_points", lambda v: L.ppca_stationary_points(XG, 1, 0.5, rtol=v), [None, 1j, np.ones(2)], "rtol"),  # noqa: E501
    *rows("ppca_hessian_inertia", lambda v: L.ppca_hessian_inertia([3.0, 2.0, 1.0], 0.5, [0], rtol=v), [None, 1j, "x"], "rtol"),  # noqa: E501
    ("ppca_hessian_inertia", lambda v: L.ppca_hessian_inertia(v, 0.5, [0]), [0.0, 0.0, 0.0], "eigenvalues"),
    *rows("linear_vae_init", lambda v: L.linear_vae_init(v, 1), [np.ones((8, 3), bool), XG[:0]], "data"),
    ("cvae_statistics", lambda v: L.cvae_statistics(v, np.ones((8, 2))), np.full((8, 2), 1e300), "X"),
    ("hvae_statistics", lambda v: L.hvae_statistics(v), np.full((8, 3), 1e300), "X"),
    *rows("tail_prediction", lambda v: L.tail_prediction(X, A, U, v), [[1j], ["x"], [], [True]], "ts"),
    *rows("collapsed_slices", lambda v: L.collapsed_slices(X, A, 1, v, [0.0]), [[1j], ["x"], [True]], "s"),
    ("collapsed_slices", lambda v: L.collapsed_slices(X, A, v, [0.0], [0.0]), None, "kappa"),
    *rows("barrier_profiles", lambda v: L.barrier_profiles(X, v, 1, DIRS), [1e308], "alpha"),
    *rows("prop1_path", lambda v: L.prop1_path(DS, alpha=v, images=5, num=9, max_iter=5), [1e308], "alpha"),
    *rows("collapsed_likelihood_evidence", lambda v: L.collapsed_likelihood_evidence(X, v, 1), [1e308], "alpha"),
    *rows("spectrum", lambda v: L.spectrum(v, X, A), [P._replace(W=np.full((3, 1), 1e300))], "params"),
    *rows("certify", lambda v: L.certify(F, v, (X, A)), [P._replace(W=np.full((3, 1), 1e300))], "params"),
    *rows("segment_direction", lambda v: L.segment_direction(P0, v), [P._replace(b=np.zeros(2))], "other"),
    *rows("energy_profile", lambda v: L.energy_profile(X, A, v, U, [0.0]), [None, P._replace(b=np.zeros(2))], "start"),
    *rows("minimum_energy_path", lambda v: L.minimum_energy_path(quad, np.zeros(2), np.ones(2), ptol=v), [1e307], "ptol"),  # noqa: E501
    *rows("minimum_energy_path", lambda v: L.minimum_energy_path(quad, v, np.ones(2)), [np.full(2, 1e300)], "start"),
    *rows("multistart", lambda v: multistart(args=v), [None, -1, (X, A, X, A)], "args"),
    *rows("gauss_newton_operator", lambda v: L.gauss_newton_operator(residual, P, v), [(), (X, A, X, A)], "args"),
    *rows("block_shares", lambda v: L.block_shares(P, v), [P._replace(W=np.asarray(P.W)[..., None])], "vector"),
]


def _resolve(name):
    obj = L
    for part in name.split("."):
        obj = deep() if (obj is L and part == "deep") else getattr(obj, part)
    return obj


@pytest.mark.parametrize(
    "name, call, bad, match", BAD, ids=[f"{row[0]}-{i}-{row[2]!r:.30}" for i, row in enumerate(BAD)]
)
def test_bad_input_raises_a_value_error_naming_the_argument(name, call, bad, match):
    with pytest.raises(ValueError, match=match):
        call(bad)


def test_every_row_names_a_public_function():
    public = set(L.__all__)
    for name in {row[0] for row in BAD}:
        assert name.split(".")[0] in public, name
        assert callable(_resolve(name)), name


# ---------------------------------------------------------------- what the checks must let through

# every derivative function: f(alpha) -> arrays; an integer α must give the float α's numbers bitwise.
# The generic tools (lanczos, certify, hvp, dense_hessian, slice_1d) reach eq. (5) through
# `energy_objective`, which takes an integer α as a float itself; the others of their kind
# (spectral_density, hessian_operator, profile_1d, minimum_energy_path) go the same way.
DERIVATIVES = {
    "gradient": lambda a: L.gradient(P, X, a),
    "grad_norm": lambda a: L.grad_norm(P, X, a),
    "hessian": lambda a: L.hessian(P, X, a),
    "spectrum": lambda a: L.spectrum(P, X, a).eigenvalues,
    "schur_inertia": lambda a: (L.schur_inertia(P, X, a).inertia, L.schur_inertia(P, X, a).tol),
    "hessian_blocks": lambda a: L.hessian_blocks(P, X, a),
    "certify_stationary": lambda a: L.certify_stationary(P, X, a).to_dict(),
    "certify": lambda a: L.certify(F, P, (X, a)).to_dict(),
    "lanczos": lambda a: L.lanczos(F, P, (X, a), k=1, num_steps=6).ritz_values,
    "hvp": lambda a: L.hvp(F, P, (X, a))(P),
    "dense_hessian": lambda a: L.dense_hessian(F, P, (X, a)),
    "slice_1d": lambda a: L.slice_1d(F, P, P, [-0.5, 0.0, 0.5], args=(X, a)).energy,
    "energy_profile": lambda a: L.energy_profile(X, a, P0, U, [0.0, 0.1]),
    "energy": lambda a: L.energy(P, X, a),
    "energy_terms": lambda a: L.energy_terms(P, X, a),
    "implicit_gamma": lambda a: L.implicit_gamma(P, X, a),
    "collapsed_spectrum": lambda a: L.collapsed_spectrum(X, 1, a),
    "search": lambda a: tiny_search(alpha=a).energy,
}


def _leaves(tree):
    leaves = jax.tree.leaves(tree)
    return [np.asarray(x) for x in leaves if not isinstance(x, str)]


SLOW = {"lanczos", "certify"}  # each integer dtype compiles anew


@pytest.mark.parametrize("name", sorted(DERIVATIVES))
def test_integer_alpha_gives_the_float_alphas_numbers_bitwise(name):
    f = DERIVATIVES[name]
    ref = _leaves(f(1.0))
    for a in (1,) if name in SLOW else (1, np.int64(1), np.int32(1)):
        got = _leaves(f(a))
        assert len(got) == len(ref)
        for g, r in zip(got, ref, strict=True):
            assert np.array_equal(g, r, equal_nan=True), (name, a)


def test_integer_alpha_zero_works_in_grad_norm():  # the reproduction of issue 18
    assert L.grad_norm(P, X, 0) == L.grad_norm(P, X, 0.0)
    assert L.spectrum(P0, X, 0).inertia == L.spectrum(P0, X, 0.0).inertia


# every public function that takes a seed: f(seed) -> arrays (equal for equal seeds)
SEEDED = {
    "prop1_dataset": lambda s: L.prop1_dataset(A, n=6, seed=s).X,
    "init_params": lambda s: L.init_params(X, 1, [0, 1], s),
    "random_directions": lambda s: [u.U for u in L.random_directions(3, 1, 2, s)],
    "filter_normalized_direction": lambda s: L.filter_normalized_direction(P, s).flat,
    "lanczos": lambda s: L.lanczos(F, P, (X, A), k=1, num_steps=6, seed=s).ritz_values,
    "spectral_density": lambda s: L.spectral_density(F, P, (X, A), num_probes=2, num_steps=4, seed=s).nodes,
    "canonicalize": lambda s: L.canonicalize(P, np.ones(1, bool), seed=s),
    "search": lambda s: tiny_search(seed=s).energy,
    "multistart": lambda s: multistart(polish="none", seed=s).values,
}


@pytest.mark.parametrize("name", sorted(SEEDED))
def test_numpy_integer_and_largest_seeds_are_accepted(name):
    f = SEEDED[name]
    for s in (np.int64(3), np.uint64(3)):
        for g, r in zip(_leaves(f(s)), _leaves(f(3)), strict=True):
            assert np.array_equal(g, r, equal_nan=True), (name, s)
    top = _leaves(f(2**63 - 1))
    assert top and all(np.all(np.isfinite(np.asarray(x, dtype=float))) for x in top)
