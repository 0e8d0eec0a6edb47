"""Eq. (5) against the exact likelihood of the same model (issue 9): `landscape.elbo_gap`,
`landscape.likelihood_collapsed`, `landscape.likelihood_basins`, `landscape.two_stage` and the experiment.

Every problem here has n = 12, d = 3 (κ = 1 unless said), 8 restarts of 400 steps: the shapes
of the experiment's ``--quick`` mode, so that the compiled kernels are shared within the file.
"""

import importlib.util
import json
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import random_data
from hypothesis import given, settings
from hypothesis import strategies as st

import landscape
from landscape.analysis.likelihood_tail import _tail_cov
from landscape.core.marginal import DecoderParams, marginal_energy

ROOT = Path(__file__).resolve().parents[1]
_value_and_grad = jax.jit(jax.value_and_grad(marginal_energy))
N, D, R, STEPS, POLISH = 12, 3, 8, 400, 200  # the experiment's --quick settings


def _random_theta(rng, kappa, w_scale=0.8):
    return DecoderParams(
        W=jnp.asarray(w_scale * rng.normal(size=(D, kappa))),
        b=jnp.asarray(rng.normal(size=D)),
        log_gamma=jnp.asarray(rng.normal(scale=0.3) - 0.5),
    )


def _ppca_data(seed=0, noise=0.05):
    """A Proposition 1 data set at α = 0 (points on a line) plus noise: pPCA data."""
    ds = landscape.prop1_dataset(0.0, n=N, d=D, kappa=1, seed=seed)
    return ds.X + noise * np.random.default_rng(seed + 1).normal(size=ds.X.shape)


# --------------------------------------------------------------------------- ELBO gap and optimal φ


@settings(max_examples=6)
@given(seed=st.integers(0, 2**16), kappa=st.sampled_from([1, 2]), alpha=st.sampled_from([0.0, 0.4]))
def test_elbo_gap_is_nonnegative_and_matches_the_gaussian_posterior_at_alpha_zero(seed, kappa, alpha):
    rng = np.random.default_rng(seed)
    X = random_data(rng, N, D)
    th = _random_theta(rng, kappa)
    g = landscape.elbo_gap(th, X, alpha)
    assert g.phi.all_converged
    assert g.nonnegative and np.all(g.gap >= -g.resolution)  # ELBO ≤ log p (Jensen)
    assert g.total_energy_units == pytest.approx(2 * g.total)
    assert g.elbo_energy - g.marginal_energy == pytest.approx(g.total_energy_units, abs=1e-9)
    if alpha == 0:
        # p(z | x) = N(m, γ M⁻¹), M = WᵀW + γI; the best diagonal q matches diag(M): per point the gap is
        # ½(Σ_k log M_kk − log det M), the same for every point; zero for κ = 1.
        W, gam = np.asarray(th.W), float(np.exp(th.log_gamma))
        M = W.T @ W + gam * np.eye(kappa)
        per_point = 0.5 * (np.sum(np.log(np.diag(M))) - np.linalg.slogdet(M)[1])
        np.testing.assert_allclose(g.gap, per_point, atol=1e-9 + 10 * float(np.max(g.resolution)))


@pytest.mark.parametrize("kappa", [1, 2])
def test_elbo_gap_vanishes_at_the_affine_optimum(kappa):
    X = random_data(np.random.default_rng(3), N, D)
    P = landscape.affine_optimum(X, kappa)  # eq. (5)'s global minimum at α = 0: the exact posterior
    g = landscape.elbo_gap(P, X, 0.0)
    assert abs(g.total) <= 1e-9 * abs(g.log_likelihood)
    np.testing.assert_allclose(g.elbo_energy, float(landscape.energy(P, X, 0.0)), rtol=1e-12)
    own = landscape.elbo_gap(P, X, 0.0, phi=P)  # the closed-form posterior moments give the same value
    assert abs(own.total) <= 1e-9 * abs(own.log_likelihood)


@pytest.mark.parametrize("kappa", [1, 2])
def test_optimal_phi_is_stationary_and_below_the_prior_and_random_phi(kappa):
    rng = np.random.default_rng(7 + kappa)
    X = random_data(rng, N, D)
    th = _random_theta(rng, kappa)
    op = landscape.optimal_phi(th, X, 0.4)
    g = jax.grad(landscape.energy_objective)(op.params, jnp.asarray(X), 0.4, None)
    grad_phi = np.concatenate([np.asarray(g.mu), np.asarray(g.log_sigma)], axis=1)
    assert np.max(np.abs(grad_phi)) <= 1e-8 and op.all_converged
    np.testing.assert_allclose(np.linalg.norm(grad_phi, axis=1), op.grad_norms, atol=1e-12)
    assert op.energy == pytest.approx(float(landscape.energy(op.params, X, 0.4)), rel=1e-13)
    zeros = jnp.zeros((N, kappa))
    assert op.energy <= float(landscape.energy(op.params._replace(mu=zeros, log_sigma=zeros), X, 0.4))
    for _ in range(5):
        mu = jnp.asarray(rng.normal(size=(N, kappa)))
        ls = jnp.asarray(rng.normal(scale=0.5, size=(N, kappa)))
        assert op.energy <= float(landscape.energy(op.params._replace(mu=mu, log_sigma=ls), X, 0.4))


# --------------------------------------------------------------------------- the collapsed decoder θ_c


@pytest.mark.parametrize("alpha", [0.0, 0.1, 0.5])
def test_collapsed_theta_is_stationary_for_the_likelihood_with_the_elbo_value(alpha):
    X = landscape.prop1_dataset(0.5, n=N, d=D, kappa=1, seed=1).X
    th = landscape.collapsed_theta(X, 1)
    Xj = jnp.asarray(X)
    L, g = _value_and_grad(th, Xj, alpha)
    L = float(L)
    n, d = X.shape
    formula = n * d * (1 + np.log(landscape.gamma_bar(X))) + n * 1
    assert L == pytest.approx(formula, abs=1e-10 * max(1.0, abs(formula)))
    assert L == pytest.approx(float(landscape.energy(landscape.collapsed_point(X, 1), X, alpha)), abs=1e-10)
    assert max(float(jnp.max(jnp.abs(a))) for a in g) <= 1e-10


@pytest.fixture(scope="module")
def evidence():
    ds = landscape.prop1_dataset(0.5, n=N, d=D, kappa=1, seed=0)
    return ds.X, landscape.collapsed_likelihood_evidence(ds.X, 0.5, 1, n_random=1, num=8)


def test_collapsed_point_is_a_degenerate_saddle_of_the_likelihood_but_a_minimum_of_the_elbo(evidence):
    X, ev = evidence
    n, gbar = X.shape[0], landscape.gamma_bar(X)
    assert ev.inertia == (0, D, D + 1) and ev.label == "degenerate"
    assert np.max(np.abs(ev.hessian[:D, :])) == 0.0  # every W derivative vanishes (to all orders: exp(−α²/2t²))
    np.testing.assert_allclose(np.diag(ev.hessian)[D:], [2 * n / gbar] * D + [n * D], rtol=1e-10)  # b, log γ
    assert ev.grad_norm <= 1e-10 * max(1.0, abs(ev.energy)) and ev.energy_error <= 1e-10
    assert ev.verdict_likelihood == "not_a_local_minimum"
    assert ev.verdict_elbo == "barrier_every_direction"
    for dr in ev.directions:
        ok = dr.resolved
        assert ok.any() and dr.min_margin > 10
        # min_φ L ≥ L_p pointwise, and both equal L_c at t = 0: the ELBO profile is never below
        assert np.all(dr.elbo_rel >= dr.likelihood_rel - 2 * dr.resolution)
        # the leading-order prediction, checked where the profile is resolved and the expansion small
        first = np.nonzero(ok)[0][0]
        assert dr.prediction_ratio == pytest.approx(1.0, abs=1e-2)
        assert np.sign(dr.likelihood_rel[first]) == np.sign(dr.prediction[first])
        if dr.kind == "coordinate":  # falls for every small t iff S_jj > γ̄
            j = int(np.argmax(np.abs(dr.U[:, 0])))
            assert (dr.likelihood_shape == "falls") == (dr.eigenvalue > gbar)
            assert (j in ev.predicted_descent_coordinates) == (dr.eigenvalue > gbar)
    json.loads(json.dumps(ev.to_dict()))


def test_collapsed_point_is_a_strict_saddle_of_the_likelihood_at_alpha_zero(evidence):
    X, _ = evidence
    ev = landscape.collapsed_likelihood_evidence(X, 0.0, 1, directions=landscape.coordinate_directions(D, 1, X), num=8)
    n, gbar, S = X.shape[0], landscape.gamma_bar(X), landscape.data_covariance(X)
    # pPCA: L_p ≈ n[‖W‖²/γ̄ − tr(WᵀSW)/γ̄²] near W = 0, so H_WW = 2n(I/γ̄ − S/γ̄²) (per latent column)
    np.testing.assert_allclose(ev.hessian[:D, :D], 2 * n * (np.eye(D) / gbar - S / gbar**2), rtol=1e-9, atol=1e-9)
    assert ev.w_block_affine_error <= 1e-8 * np.max(np.abs(ev.hessian))
    n_neg = int(np.sum(np.linalg.eigvalsh(S) > gbar))
    assert ev.label == "strict_saddle" and ev.inertia[0] == n_neg >= 1
    assert ev.verdict_likelihood == "strict_saddle"


@settings(max_examples=10)
@given(w=st.floats(0.05, 3.0), c=st.floats(0.05, 3.0), alpha=st.sampled_from([0.0, 0.3, 1.0]))
def test_tail_covariance_and_decoder_signal_match_quadrature(w, c, alpha):
    s = np.linspace(-12, 12, 400001)
    phi = np.exp(-0.5 * s * s) / np.sqrt(2 * np.pi)
    pw = np.sign(w * s) * np.maximum(np.abs(w * s) - alpha, 0)
    pc = np.sign(-c * s) * np.maximum(np.abs(c * s) - alpha, 0)
    cov = _tail_cov(np.array([w, -c]), alpha)
    np.testing.assert_allclose(cov[0, 1], np.trapezoid(pw * pc * phi, s), rtol=1e-6, atol=1e-13)
    np.testing.assert_allclose(cov[0, 0], np.trapezoid(pw * pw * phi, s), rtol=1e-6, atol=1e-13)
    total, per = landscape.decoder_signal(np.array([[w], [-c]]), alpha)
    np.testing.assert_allclose(total, cov[0, 0] + cov[1, 1], rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(per, [total], rtol=1e-12)


# --------------------------------------------------------------------------- basins and the two-stage fit


@pytest.fixture(scope="module")
def prop1_comparison():
    X = landscape.prop1_dataset(0.5, n=N, d=D, kappa=1, seed=0).X
    return X, landscape.compare_basins(X, 0.5, 1, R, 0, steps=STEPS, polish_steps=POLISH)


def test_compare_basins_uses_identical_starts_and_its_fractions_sum_to_one(prop1_comparison):
    X, c = prop1_comparison
    P0 = landscape.init_params(X, 1, np.arange(R), 0)  # what landscape.search starts restart r from
    for a, b in zip(c.initial_theta, (P0.W, P0.b, P0.log_gamma), strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    for key in ("elbo", "likelihood", "elbo_by_signal"):
        f = c.fractions[key]
        assert sum(f["fractions"].values()) == pytest.approx(1.0)
        assert sum(f["counts"].values()) == R
        for cat, (lo, hi) in f["wilson_95"].items():
            assert lo <= f["fractions"][cat] <= hi
    gbar, cat = landscape.gamma_bar(X), c.likelihood_categories
    thr = 1e-6 * D * gbar
    assert np.all(c.likelihood_signal[cat == "collapsed"] <= thr)
    gam = np.exp(np.asarray(c.likelihood.params.log_gamma))
    assert np.all(gam[cat == "reconstructing"] <= 1e-6 * gbar)
    assert np.all(~c.likelihood.converged[cat == "reconstructing"])
    # an ELBO end point's own φ is optimal where it converged: φ* gives the same ELBO there
    conv = c.elbo.status == "converged"
    assert np.all(np.abs(c.elbo_phi_gap[conv]) <= 1e-6 * (1 + np.abs(c.log_p_elbo[conv])))
    for m in c.minima:
        assert m.gap >= -m.gap_resolution
        assert m.objective in ("elbo", "likelihood")
        if m.category == "collapsed":  # W in the dead zone: q = p(z) is (nearly) the posterior
            assert m.gap <= 1e-9
        if m.objective == "elbo" and m.category == "collapsed":
            # L_p cannot move from it (flat to float64), and it lands in the likelihood's flat set around θ_c,
            # which is not counted as a likelihood minimum
            assert m.moved <= 1e-8 and m.landed_category in (None, "collapsed") and not m.near_likelihood_minimum
    assert len({round(m["value"], 6) for m in c.likelihood_minima}) == len(c.likelihood_minima)


def test_two_stage_fit_on_proposition_1_data(prop1_comparison):
    X, c = prop1_comparison
    fit = landscape.two_stage_fit(X, 0.5, 1, R, 0, comparison=c)
    assert fit.method == landscape.LIBI_LABEL and "LiBI" in fit.method
    for r in range(R):  # stage 1: stationary for L_p, or on the reconstructing path (γ → 0)
        assert fit.stage1_status[r] == "converged" or fit.stage1_category[r] == "reconstructing"
    assert np.all(fit.phi_converged)
    tol = 1e-9 * (1 + np.abs(fit.two_stage_log_p))
    assert np.all(fit.two_stage_elbo <= fit.two_stage_log_p + tol)  # stage 2: ELBO ≤ log p
    assert np.all(fit.joint_elbo <= fit.joint_log_p + 1e-9 * (1 + np.abs(fit.joint_log_p)))
    d = fit.to_dict()
    assert json.loads(json.dumps(d)) == d
    assert d["method"] == landscape.LIBI_LABEL and d["config"]["method"] == landscape.LIBI_LABEL


def test_at_alpha_zero_both_objectives_reach_the_ppca_maximum():
    X = _ppca_data()
    fit = landscape.two_stage_fit(X, 0.0, 1, R, 0, steps=STEPS, polish_steps=POLISH, certify_minima=False)
    target = landscape.ppca_mle(X, 1).log_likelihood  # closed form (Tipping & Bishop)
    assert fit.ppca_max_log_p == pytest.approx(target, rel=1e-12)
    assert fit.mle_log_p == pytest.approx(target, rel=1e-8)
    assert fit.elbo_theta_log_p == pytest.approx(target, rel=1e-8)  # the ELBO is tight at the pPCA optimum
    assert abs(fit.log_p_deficit) <= 1e-8 * abs(target)
    assert fit.mle_elbo == pytest.approx(target, rel=1e-8)
    assert not fit.likelihood_unbounded and not fit.elbo_unbounded
    # every ELBO minimum is a likelihood minimum: the L_p polish from it does not move and lands on one
    elbo_minima = [m for m in fit.comparison.minima if m.objective == "elbo"]
    assert elbo_minima and all(m.near_likelihood_minimum and m.moved <= 1e-6 for m in elbo_minima)
    assert all(abs(m.gap) <= 1e-9 * abs(m.log_p) for m in fit.comparison.minima)


# --------------------------------------------------------------------------- bad input


def test_bad_input_names_the_argument():
    X = landscape.prop1_dataset(0.5, n=N, d=D, kappa=1, seed=0).X
    th = landscape.collapsed_theta(X, 1)
    cases = [
        (lambda: landscape.optimal_phi(th, X, -0.1), "alpha"),
        (lambda: landscape.elbo_gap(th, np.where(np.eye(N, D) > 0, np.nan, X), 0.1), "X"),
        (lambda: landscape.elbo_gap(th._replace(W=jnp.zeros((D + 1, 1))), X, 0.1), "theta.W"),
        (lambda: landscape.optimal_phi(th._replace(W=jnp.zeros((D, 3))), X, 0.1), "theta.W"),
        (lambda: landscape.elbo_gap(th, X[:, :2], 0.1), "theta.W"),
        (lambda: landscape.collapsed_likelihood_evidence(X, 0.1, 3), "kappa"),
        (lambda: landscape.compare_basins(X, 0.1, 1, 0), "restarts"),
        (lambda: landscape.two_stage_fit(X, -1.0, 1, 4), "alpha"),
        (lambda: landscape.two_stage_fit(X, 0.1, 0, 4), "kappa"),
        (lambda: landscape.compare_basins(X[:1], 0.1, 1, 4), "X"),
        (lambda: landscape.likelihood_multistart(X, 0.1, kappa=1, restarts=-2), "restarts"),
        (lambda: landscape.tail_prediction(X, 0.1, np.ones((D, 2)) + np.eye(D, 2), [0.1]), "rank one"),
        (lambda: landscape.elbo_gap(th, X, 0.1, phi="no"), "phi"),
    ]
    for call, name in cases:
        with pytest.raises(ValueError, match=name):
            call()


# --------------------------------------------------------------------------- the experiment


def test_experiment_quick_writes_json_with_config_and_versions(tmp_path):
    path = ROOT / "experiments" / "elbo_vs_likelihood.py"
    spec = importlib.util.spec_from_file_location("elbo_vs_likelihood_exp", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    out = tmp_path / "evl"
    assert mod.main(["--quick", "--out", str(out)]) == 0
    data = json.loads(out.with_suffix(".json").read_text())
    assert {"landscape", "jax", "jaxlib", "numpy", "python"} <= set(data["versions"])
    cfg = data["config"]
    assert cfg["quick"] is True and cfg["alphas"] == [0.5] and cfg["restarts"] == R and cfg["n"] == N
    assert cfg["method_two_stage"] == landscape.LIBI_LABEL and data["seed"] == 0
    row = data["rows"][0]
    assert row["evidence"]["verdict_likelihood"] == "not_a_local_minimum"
    assert row["two_stage"]["method"] == landscape.LIBI_LABEL
    assert data["noisy"][0]["two_stage"]["ppca_max_log_p"] is not None
    for suffix in ("_basins", "_gaps", "_slices", "_profiles"):
        assert (tmp_path / f"evl{suffix}.png").stat().st_size > 0
