"""Dang et al.'s two-level linear HVAE with learnable Σ₂ (Theorem 3): loss, closed form, cases, curvature.

Oracles: the per-sample ELBO and a Monte Carlo estimate of it for the matrix loss; `landscape.multistart`
(Adam, then dense saddle-free Newton to ‖∇L‖ ≤ 1e-12 · max(1, |L|)) for the closed-form optimum and the
case of Theorem 3 that applies; `landscape.certify` and the generators of z₁'s rotations for the zero modes.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import assume, event, given, settings
from hypothesis import strategies as st
from jax.flatten_util import ravel_pytree

import landscape  # noqa: F401  (float64)
from landscape.analysis.stationary import certify
from landscape.models import linear_hierarchical as LH
from landscape.tools.curvature import dense_hessian
from landscape.tools.multistart import multistart

THEIRS = dict(sigma1=1.0, beta1=1.0, beta2=2.0)  # their script: σ₁ = 1, β₁ = 1, β₂ = 2, η_enc = η_dec = 1
_INITS: dict = {}


_VALUE_AND_GRAD = jax.jit(jax.value_and_grad(LH.hvae_objective))


def optimise(stats, d1, d2, hyper, *, restarts=8, steps=2000, seed=0):
    """Multi-start (Adam, then ≤ 30 Newton steps); returns the result and its lowest converged endpoint.

    Near the degenerate minimum (its zero modes are z₁'s rotations) a few restarts stall at ‖∇L‖ ≈ 3e-10,
    above the 1e-12 relative test, so the best point is chosen among the converged restarts.
    """
    key = (stats.d0, d1, d2)
    if key not in _INITS:
        _INITS[key] = LH.hvae_init(*key)
    res = multistart(
        LH.hvae_objective,
        _INITS[key],
        restarts=restarts,
        seed=seed,
        args=stats.args(**hyper),
        steps=steps,
        learning_rate=1e-2,
        polish="newton",
        polish_steps=30,
        gtol=1e-12,
    )
    ok = np.flatnonzero(res.converged)
    best = int(ok[np.argmin(res.values[ok])]) if ok.size else res.best
    return res, best


def data(seed=2, n=100, d0=6, scales=None):
    """x ~ N(0, diag(scales²)), n = 100, d₀ = 6 (their script: N(0, I))."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d0))
    return X if scales is None else X * np.asarray(scales)


SETTINGS = {
    # their setting: θ_i ≈ 0.9–1.1 < β₂η_dec²/(√β₁σ₁) = 2, so z₂ collapses entirely (case 2), z₁ in part
    "theirs, case 2": (data(), THEIRS, {2}),
    # the same model on data with θ₁, θ₂ > 2: cases 3 and 2 side by side
    "cases 3 and 2": (data(scales=[3, 2.5, 1.6, 1.2, 0.8, 0.5]), THEIRS, {2, 3}),
    # β₂ = 0.5: σ₁² = 1 ≥ T = (β₂/β₁)η_dec² = 0.5, case 1: z₂ active in every dimension, z₁ not
    "case 1": (data(scales=[3, 2.5, 1.6, 1.2, 0.6, 0.5]), dict(sigma1=1.0, beta1=1.0, beta2=0.5), {1}),
}


def assert_matches(opt, pt, stats, *, atol=1e-8, loss_rtol=1e-10):
    h = opt.hyper
    sp = LH.hvae_spectra(pt, stats, sigma1=h["sigma1"], eta_enc=h["eta_enc"])
    desc = lambda a: np.sort(a)[::-1]  # noqa: E731  (u and w are not monotone in θ; with d₂ < d₁ neither is λ)
    for measured, predicted in [(sp.lambdas, opt.lambdas), (sp.omegas, opt.omegas), (sp.u, opt.u), (sp.w, opt.w)]:
        k = min(measured.size, predicted.size)  # the SVD returns min(rows, columns) values; the rest are 0
        np.testing.assert_allclose(measured[:k], desc(predicted)[:k], rtol=0, atol=atol)
        assert np.all(desc(predicted)[k:] == 0)
    np.testing.assert_allclose(sp.sigmas2, opt.sigmas2, rtol=0, atol=atol)
    loss = float(LH.hvae_objective(pt, *stats.args(**h)))
    assert abs(loss - opt.loss) <= loss_rtol * max(1.0, abs(opt.loss))
    return sp


# ------------------------------------------------------------------ the loss


@settings(max_examples=10)
@given(
    seed=st.integers(0, 10**6),
    sigma1=st.floats(0.3, 2.0),
    beta1=st.floats(0.2, 4.0),
    beta2=st.floats(0.2, 4.0),
    eta_enc=st.floats(0.3, 3.0),
    eta_dec=st.floats(0.3, 3.0),
)
def test_matrix_loss_is_twice_the_mean_negative_elbo(seed, sigma1, beta1, beta2, eta_enc, eta_dec):
    """L = 2 mean_i(−ELBO_β(x_i)) − d₀ log(2π η_dec²), the ELBO's Gaussian expectations computed per sample."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(25, 4)) + 0.2
    hyper = dict(sigma1=sigma1, beta1=beta1, beta2=beta2, eta_enc=eta_enc, eta_dec=eta_dec)
    p = LH.HVAEParams(
        W1=rng.normal(size=(3, 4)),
        U1=rng.normal(size=(4, 3)),
        W2=rng.normal(size=(2, 3)),
        U2=rng.normal(size=(3, 2)),
        log_sigma2=rng.normal(scale=0.5, size=2),
    )
    L = float(LH.hvae_loss(p, LH.hvae_statistics(X), **hyper))
    per = LH.hvae_neg_elbo(p, X, **hyper)
    assert per.shape == (25,)
    expected = 2.0 * float(per.mean()) - 4 * math.log(2 * math.pi * eta_dec**2)
    assert abs(L - expected) <= 1e-10 * max(1.0, abs(L))


def test_negative_elbo_against_monte_carlo():
    """Each level's expectation against sampling z₁ ~ q(z₁|x), z₂ ~ q(z₂|z₁) (2,000 draws per point, 5 SE)."""
    rng = np.random.default_rng(5)
    n, d0, d1, d2 = 15, 4, 3, 2
    X = rng.normal(size=(n, d0))
    p = LH.HVAEParams(
        W1=rng.normal(size=(d1, d0)),
        U1=rng.normal(size=(d0, d1)),
        W2=rng.normal(size=(d2, d1)),
        U2=rng.normal(size=(d1, d2)),
        log_sigma2=rng.normal(scale=0.3, size=d2),
    )
    hyper = dict(sigma1=0.7, beta1=1.3, beta2=0.6, eta_enc=1.2, eta_dec=0.9)
    exact = np.asarray(LH.hvae_neg_elbo(p, X, **hyper))

    k1, k2 = jax.random.split(jax.random.key(1))
    mu1 = X @ p.W1.T
    z1 = mu1 + hyper["sigma1"] * np.asarray(jax.random.normal(k1, (2000, n, d1)))
    mu2 = z1 @ p.W2.T
    s2 = np.exp(p.log_sigma2)
    z2 = mu2 + s2 * np.asarray(jax.random.normal(k2, (2000, n, d2)))
    norm = jax.scipy.stats.norm.logpdf
    log_px = norm(X, z1 @ p.U1.T, hyper["eta_dec"]).sum(-1)
    log_q1 = norm(z1, mu1, hyper["sigma1"]).sum(-1)
    log_p1 = norm(z1, z2 @ p.U2.T, hyper["eta_dec"]).sum(-1)
    log_q2 = norm(z2, mu2, s2).sum(-1)
    log_p2 = norm(z2, 0.0, hyper["eta_enc"]).sum(-1)
    samples = np.asarray(-log_px + hyper["beta1"] * (log_q1 - log_p1) + hyper["beta2"] * (log_q2 - log_p2))
    est, se = samples.mean(0), samples.std(0) / math.sqrt(samples.shape[0])
    assert np.all(np.abs(est - exact) <= 5 * se + 1e-12)


# ------------------------------------------------------------------ the closed form


@settings(max_examples=15)
@given(
    seed=st.integers(0, 10**6),
    sigma1=st.floats(0.3, 2.0),
    beta1=st.floats(0.2, 4.0),
    beta2=st.floats(0.2, 4.0),
    eta_enc=st.floats(0.3, 3.0),
    eta_dec=st.floats(0.3, 2.0),
    dims=st.sampled_from([(5, 3), (8, 4), (3, 5)]),
)
def test_closed_form_point_is_stationary_with_the_stated_loss(seed, sigma1, beta1, beta2, eta_enc, eta_dec, dims):
    """At the constructed point L equals the closed-form L* and ∇L = 0, for d₁ below or above d₀ = 6 and
    d₂ below, equal to or above d₁, in any of the three cases."""
    d1, d2 = dims
    rng = np.random.default_rng(seed)
    stats = LH.hvae_statistics(data(seed % 7, scales=rng.uniform(0.2, 3.0, size=6)))
    hyper = dict(sigma1=sigma1, beta1=beta1, beta2=beta2, eta_enc=eta_enc, eta_dec=eta_dec)
    opt = LH.hvae_optimum(stats, d1, d2, **hyper)
    L, g = _VALUE_AND_GRAD(opt.params, *stats.args(**hyper))
    L = float(L)
    assert abs(L - opt.loss) <= 1e-11 * max(1.0, abs(L))
    assert float(jnp.linalg.norm(ravel_pytree(g)[0])) <= 1e-9 * max(1.0, abs(L))


@pytest.mark.parametrize("name", list(SETTINGS))
def test_closed_form_matches_optimiser_in_each_case(name):
    """d₀ = 6, d₁ = d₂ = 5, n = 100, σ₁ = 1, η = 1 (their matrix check), in each case of Theorem 3:
    V₁'s and U₂'s singular values (λ, ω), U₁'s and W₂'s, Σ₂ and the loss, to 1e-8 (absolute) and 1e-10
    (relative); the case labels are the expected ones."""
    X, hyper, cases = SETTINGS[name]
    stats = LH.hvae_statistics(X)
    opt = LH.hvae_optimum(stats, 5, 5, **hyper)
    assert set(opt.cases) == cases
    res, best = optimise(stats, 5, 5, hyper)
    assert res.status[best] == "converged" and res.grad_norms[best] <= 1e-10
    assert_matches(opt, res.point(best), stats)
    if cases == {2}:  # learnable Σ₂ collapses z₂ entirely: U₂ = 0, Σ₂ = η_enc² I
        assert all(opt.z2_collapsed) and not all(opt.z1_collapsed)
    if cases == {1}:
        assert not any(opt.z2_collapsed) and any(opt.z1_collapsed)
    if cases == {2, 3}:
        assert opt.z2_collapsed == tuple(c == 2 for c in opt.cases)


def test_closed_form_with_fewer_z2_than_z1_dimensions():
    """d₂ < d₁ < d₀ in case 1 (σ₁² > T): only the d₂ largest θ get a z₂ dimension; the rest keep
    m = max(σ₁², θσ₁/√β₁) (case 0). The optimiser agrees (d₀ = 4, d₁ = 3, d₂ = 2)."""
    X = data(seed=4, n=60, d0=4, scales=[2.5, 1.8, 1.3, 0.4])
    hyper = dict(sigma1=1.0, beta1=1.0, beta2=0.5)
    stats = LH.hvae_statistics(X)
    opt = LH.hvae_optimum(stats, 3, 2, **hyper)
    assert opt.cases == (1, 1, 0)
    res, best = optimise(stats, 3, 2, hyper)
    assert res.status[best] == "converged" and res.grad_norms[best] <= 1e-10
    assert_matches(opt, res.point(best), stats)


def _z1_rotation_tangents(p, sigma_tol=1e-9):
    """The tangents of z₁'s rotations (W₁ → RW₁, U₁ → U₁Rᵀ, W₂ → W₂Rᵀ, U₂ → RU₂) and of z₂'s rotations
    between dimensions of equal Σ₂, flattened in ravel_pytree order."""
    d1, d2 = p.W1.shape[0], p.W2.shape[0]
    out = []
    for a in range(d1):
        for b in range(a + 1, d1):
            K = np.zeros((d1, d1))
            K[a, b], K[b, a] = 1.0, -1.0
            t = LH.HVAEParams(K @ p.W1, -p.U1 @ K, -p.W2 @ K, K @ p.U2, np.zeros(d2))
            out.append(np.asarray(ravel_pytree(t)[0]))
    s = np.asarray(p.log_sigma2)
    for a in range(d2):
        for b in range(a + 1, d2):
            if abs(s[a] - s[b]) <= sigma_tol:
                L = np.zeros((d2, d2))
                L[a, b], L[b, a] = 1.0, -1.0
                t = LH.HVAEParams(0 * p.W1, 0 * p.U1, L @ p.W2, -p.U2 @ L, np.zeros(d2))
                out.append(np.asarray(ravel_pytree(t)[0]))
    return np.array(out).T


@pytest.mark.parametrize("name", list(SETTINGS))
def test_zero_modes_of_the_minimum_are_the_rotations_of_z1(name):
    """`certify` at the closed form: ‖∇L‖ ≤ 1e-10, no negative eigenvalue, and exactly as many zero
    eigenvalues as the rotations of z₁ (and of z₂ where Σ₂ is isotropic) move the point: the rank of their
    tangents, d₁(d₁ − 1)/2 − k(k − 1)/2 with k dimensions fully collapsed (λ = ω = 0). H annihilates every
    tangent. So the minimum is degenerate, but only along its symmetry orbit."""
    X, hyper, _ = SETTINGS[name]
    stats = LH.hvae_statistics(X)
    opt = LH.hvae_optimum(stats, 5, 5, **hyper)
    args = stats.args(**hyper)
    cert = certify(LH.hvae_objective, opt.params, args)
    T = _z1_rotation_tangents(opt.params)
    rank = np.linalg.matrix_rank(T, tol=1e-8 * np.abs(T).max())
    k = sum(a and b for a, b in zip(opt.z1_collapsed, opt.z2_collapsed, strict=True))
    assert cert.grad_norm <= 1e-10
    assert cert.n_negative == 0 and cert.label == "degenerate"
    assert cert.n_zero == rank == 10 - k * (k - 1) // 2
    assert cert.zero_gap[1] > 1e3 * cert.tol  # the zero modes are well separated from the rest
    H = np.asarray(dense_hessian(LH.hvae_objective, opt.params, args))
    assert np.abs(H @ T).max() <= 1e-10 * np.abs(H).max()


@settings(max_examples=8)
@given(
    log_theta=st.lists(st.floats(-1.5, 1.5), min_size=4, max_size=4, unique=True),
    sigma1=st.floats(0.5, 1.5),
    beta1=st.floats(0.5, 2.0),
    beta2=st.floats(0.25, 3.0),
)
def test_collapse_pattern_follows_the_cases(log_theta, sigma1, beta1, beta2):
    """Theorem 3's collapse pattern, checked by the optimiser (d₀ = 4, d₁ = 3, d₂ = 2, A = Q diag(θ²) Qᵀ,
    so z₁'s third dimension has no z₂: case 0): after optimisation z₂'s dimension i has KL < 1e-8 nats iff
    the theorem says ω_i = 0 (case 2, or no z₂ dimension left), and V₁'s singular value i is < 1e-6 iff
    λ_i = 0; the loss is L*. Examples within 5% of a threshold (m_i = T, σ₁² = T, the z₁ switch, θ ties)
    are skipped: there the KL of an active dimension is too small to tell from 0."""
    theta = np.sort(np.exp(np.asarray(log_theta)))[::-1]
    assume(np.min(np.abs(np.diff(theta[:3]))) > 0.05)
    Q, _ = np.linalg.qr(np.random.default_rng(1).normal(size=(4, 4)))
    stats = LH.hvae_statistics_from_moments(Q @ np.diag(theta**2) @ Q.T)
    hyper = dict(sigma1=sigma1, beta1=beta1, beta2=beta2)
    opt = LH.hvae_optimum(stats, 3, 2, **hyper)
    T = opt.threshold
    assume(np.all(np.abs(opt.m[:2] / T - 1.0) > 0.05))
    assume(abs(sigma1**2 / T - 1.0) > 0.05)
    assume(np.all((opt.lambdas == 0) | (opt.lambdas > 0.2)))
    event(f"cases {opt.cases}, z1 collapsed {opt.z1_collapsed}")

    res, best = optimise(stats, 3, 2, hyper)
    assert res.status[best] == "converged"
    sp = LH.hvae_spectra(res.point(best), stats, sigma1=sigma1)
    np.testing.assert_array_equal(sp.kl2 < 1e-8, np.asarray(opt.z2_collapsed))
    np.testing.assert_array_equal(np.asarray(opt.z2_collapsed), np.asarray(opt.cases[:2]) == 2)
    lam = np.sort(opt.lambdas)[::-1]
    np.testing.assert_array_equal(sp.lambdas < 1e-6, lam == 0)
    assert abs(float(res.values[best]) - opt.loss) <= 1e-9 * max(1.0, abs(opt.loss))


@pytest.mark.slow
def test_closed_form_matches_optimiser_over_many_seeds():
    """The heavy version: 8 data seeds × the three settings' hyperparameters × 32 restarts × 4000 steps."""
    for seed in range(8):
        for X0, hyper, _ in SETTINGS.values():
            X = X0 * np.random.default_rng(seed).uniform(0.7, 1.3, size=6)
            stats = LH.hvae_statistics(X)
            opt = LH.hvae_optimum(stats, 5, 5, **hyper)
            res, best = optimise(stats, 5, 5, hyper, restarts=32, steps=4000, seed=seed)
            assert res.grad_norms[best] <= 1e-10
            assert_matches(opt, res.point(best), stats)


# ------------------------------------------------------------------ bad inputs


def test_bad_inputs_raise_value_errors_naming_the_argument():
    X = data()
    stats = LH.hvae_statistics(X)
    opt = LH.hvae_optimum(stats, 5, 5, **THEIRS)
    for name, bad in [
        ("sigma1", 0.0),
        ("sigma1", -1.0),
        ("beta1", 0.0),
        ("beta1", float("nan")),
        ("beta2", -2.0),
        ("beta2", True),
        ("eta_enc", 0.0),
        ("eta_dec", float("inf")),
        ("eta_dec", np.ones(3)),
    ]:
        hyper = dict(THEIRS, **{name: bad})
        with pytest.raises(ValueError, match=name):
            LH.hvae_optimum(stats, 5, 5, **hyper)
        with pytest.raises(ValueError, match=name):
            LH.hvae_loss(opt.params, stats, **hyper)
        with pytest.raises(ValueError, match=name):
            LH.hvae_neg_elbo(opt.params, X, **hyper)
    for name, dims in [("d1", (0, 5)), ("d2", (5, 0)), ("d1", (2.0, 5)), ("d2", (5, False))]:
        with pytest.raises(ValueError, match=name):
            LH.hvae_optimum(stats, *dims, **THEIRS)
    with pytest.raises(ValueError, match="params.W1"):
        LH.hvae_loss(opt.params._replace(W1=np.zeros((5, 4))), stats, **THEIRS)
    with pytest.raises(ValueError, match="params.U2"):
        LH.hvae_loss(opt.params._replace(U2=np.zeros((5, 4))), stats, **THEIRS)
    with pytest.raises(ValueError, match="params.log_sigma2"):
        LH.hvae_loss(opt.params._replace(log_sigma2=np.zeros(4)), stats, **THEIRS)
    with pytest.raises(ValueError, match="NaN"):
        LH.hvae_loss(opt.params._replace(U1=np.full((6, 5), np.nan)), stats, **THEIRS)
    with pytest.raises(ValueError, match="HVAEParams"):
        LH.hvae_loss(tuple(opt.params), stats, **THEIRS)
    with pytest.raises(ValueError, match="stats"):
        LH.hvae_optimum(X, 5, 5, **THEIRS)
    with pytest.raises(ValueError, match="X"):
        LH.hvae_statistics(X[0])
    with pytest.raises(ValueError, match="positive semi-definite"):
        LH.hvae_statistics_from_moments(-np.eye(3))
    with pytest.raises(ValueError, match="d0"):
        LH.hvae_init(0, 2, 2)


def test_result_objects_serialise():
    import json

    from landscape.common.provenance import to_jsonable

    stats = LH.hvae_statistics(data())
    opt = LH.hvae_optimum(stats, 5, 5, **THEIRS)
    d = opt.to_dict()
    assert d["regime"] == "cases 2/3" and d["cases"] == [2] * 5
    sp = LH.hvae_spectra(opt.params, stats, sigma1=1.0)
    json.dumps(to_jsonable({"opt": d, "stats": stats.to_dict(), "spectra": sp.to_dict()}))
