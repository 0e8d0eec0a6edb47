"""landscape.linear: the pPCA MLE, all stationary points and their Hessian index, the linear VAE's exact
ELBO, its optimal encoder, (ε, δ)-collapse, and Lucas et al.'s Theorem 1 by multi-start ascent
(Tipping & Bishop 1999; Lucas et al. 2019, "Don't Blame the ELBO!"; MATH.md §6).

Oracles: scipy's multivariate normal and sklearn's PCA.score (the pPCA likelihood, independently coded),
MATH.md §6's L*(γ) (`affine_optimum_energy`), eq. (5) at α = 0 (`landscape.energy`), dense autodiff
Hessians, central differences, Monte Carlo with its standard error, and `landscape.multistart`.
"""

from __future__ import annotations

import gzip
import importlib.util
import itertools
import math
import struct
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import random_data
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy.stats import multivariate_normal

import landscape
from landscape.analysis.stationary import certify
from landscape.models import linear as L
from landscape.tools.curvature import dense_hessian
from landscape.tools.multistart import multistart

ROOT = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------- data


def spectrum_data(rng, n: int, lam, *, mean_scale: float = 1.0) -> np.ndarray:
    """n points in R^d whose 1/n sample covariance has exactly the eigenvalues ``lam``, random eigenvectors."""
    lam = np.asarray(lam, dtype=float)
    d = lam.size
    Z = rng.normal(size=(n, d))
    Z -= Z.mean(axis=0)
    Lc = np.linalg.cholesky(Z.T @ Z / n)
    Z = np.linalg.solve(Lc, Z.T).T  # sample covariance exactly I
    Q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    return (Z * np.sqrt(lam)) @ Q.T + mean_scale * rng.normal(size=d)


def digits_reduced(n: int = 400, d: int = 6) -> np.ndarray:
    """The first n sklearn digits in [0, 1] (/16), projected on their top d principal directions."""
    from sklearn.datasets import load_digits

    X = load_digits().data[:n] / 16.0
    X = X[:, X.std(axis=0) > 0]
    lam, U = np.linalg.eigh(np.cov(X.T, bias=True))
    return (X - X.mean(axis=0)) @ U[:, ::-1][:, :d] + 0.5


LAM = np.array([4.0, 2.0, 1.0, 0.5, 0.25])  # designed spectrum: ratio 2 between neighbours
KAPPA = 3


def sigma2_sweep(lam, kappa):
    """σ² above λ_1, at the geometric means of neighbours, below λ_d: the staircase from κ collapsed to 0."""
    mids = [math.sqrt(lam[j] * lam[j + 1]) for j in range(lam.size - 1)]
    return [2.0 * lam[0], *mids, 0.5 * lam[-1]]


def flat_norm(tree) -> float:
    return float(jnp.sqrt(sum(jnp.sum(jnp.asarray(a) ** 2) for a in jax.tree.leaves(tree))))


def loglik_Wb(p: L.PPCAParams, X, s2):
    return L.ppca_log_likelihood(X, p.W, p.b, s2)


def neg_loglik_W(W, X, b, s2):
    return -L.ppca_log_likelihood(X, W, b, s2)


# --------------------------------------------------------------------------- the MLE in closed form


@pytest.mark.parametrize("ddof", [0, 1])
@pytest.mark.parametrize("learned", [False, True])
def test_mle_log_likelihood_is_the_likelihood_of_the_returned_model(rng, ddof, learned):
    X = random_data(rng, 30, 5)
    lam0 = L.ppca_mle(X, 2).eigenvalues
    s2 = None if learned else float(np.sqrt(lam0[0] * lam0[1]))
    fit = L.ppca_mle(X, 2, s2, ddof=ddof)
    C = fit.W @ fit.W.T + fit.sigma2 * np.eye(5)
    want = multivariate_normal(mean=X.mean(axis=0), cov=C).logpdf(X).sum()
    assert fit.log_likelihood == pytest.approx(want, rel=1e-12)
    assert fit.log_likelihood_per_example == pytest.approx(want / 30, rel=1e-12)
    assert float(L.ppca_log_likelihood(X, fit.W, fit.b, fit.sigma2)) == pytest.approx(want, rel=1e-12)
    S = np.cov(X.T, ddof=ddof)
    np.testing.assert_allclose(fit.eigenvalues, np.sort(np.linalg.eigvalsh(S))[::-1], rtol=1e-12)
    if learned:  # Tipping & Bishop eq. 8
        assert fit.sigma2 == pytest.approx(np.mean(fit.eigenvalues[2:]), rel=1e-12)
        assert fit.learned_sigma2 and fit.n_active == 2
    else:
        on = fit.eigenvalues[:2] > s2
        assert fit.n_active == int(np.sum(on)) >= 1 and np.all(fit.W[:, ~on] == 0)
        np.testing.assert_allclose(np.sum(fit.W**2, axis=0)[on], fit.eigenvalues[:2][on] - s2, rtol=1e-12)
    assert fit.to_dict()["ddof"] == ddof


def test_mle_ddof1_is_sklearn_pca_score(rng):
    """sklearn's PCA (np.cov normalisation) is pPCA with learned σ²: its score is our ddof = 1 fit's ℓ/n."""
    from sklearn.decomposition import PCA

    X = random_data(rng, 50, 6)
    pca = PCA(n_components=3, svd_solver="full").fit(X)
    fit = L.ppca_mle(X, 3, ddof=1)
    assert fit.sigma2 == pytest.approx(pca.noise_variance_, rel=1e-10)
    assert fit.log_likelihood_per_example == pytest.approx(pca.score(X), rel=1e-10)
    # ddof = 0 is the true maximum: strictly better on the same data
    assert L.ppca_mle(X, 3, ddof=0).log_likelihood > fit.log_likelihood


def test_mle_matches_math_md_closed_forms(rng):
    """ℓ* = −(L*(γ) + n d log 2π − n κ)/2 with L* of MATH.md §6 (fixed γ) and L_min (learned)."""
    n, d, kappa = 40, 5, 3
    X = random_data(rng, n, d)
    lam = L.ppca_mle(X, kappa).eigenvalues
    for g in (0.5 * lam[-1], float(np.sqrt(lam[1] * lam[2])), 2 * lam[0]):
        Lstar = float(landscape.affine_optimum_energy(X, kappa, g))
        want = -(Lstar + n * d * math.log(2 * math.pi) - n * kappa) / 2
        assert L.ppca_mle(X, kappa, g).log_likelihood == pytest.approx(want, rel=1e-12)
    g = np.mean(lam[kappa:])
    Lmin = n * (np.sum(np.log(lam[:kappa]) + 1) + (d - kappa) * (np.log(g) + 1)) + n * kappa
    want = -(Lmin + n * d * math.log(2 * math.pi) - n * kappa) / 2
    assert L.ppca_mle(X, kappa).log_likelihood == pytest.approx(want, rel=1e-12)


# --------------------------------------------------------------------------- enumeration and the index


@settings(max_examples=3, deadline=None)
@given(seed=st.integers(0, 10_000), m=st.integers(1, 4))
def test_every_stationary_point_has_zero_gradient_and_the_predicted_inertia(seed, m):
    """d = 5, κ = 3, σ² between λ_m and λ_{m+1}: both active and zero columns occur. At every enumerated
    point: ‖∇ℓ‖ ≤ 1e-10 in (W, b); the dense Hessian of −ℓ in W and in (W, b) has the predicted inertia
    (and spectrum); the ELBO with the optimal encoder is stationary with inertia (index, 0, P − index)."""
    rng = np.random.default_rng(seed)
    X = random_data(rng, 40, 5)
    lam = L.ppca_mle(X, KAPPA).eigenvalues
    s2 = float(np.sqrt(lam[m - 1] * lam[m]))
    pts = L.ppca_stationary_points(X, KAPPA, s2)
    assert len(pts) == sum(math.comb(m, k) for k in range(min(m, KAPPA) + 1))
    grad = jax.jit(jax.grad(loglik_Wb))
    mom = L.data_moments(X)
    for pt in pts:
        p = L.PPCAParams(jnp.asarray(pt.W), jnp.asarray(pt.b))
        assert flat_norm(grad(p, X, s2)) <= 1e-10
        assert pt.log_likelihood == pytest.approx(float(L.ppca_log_likelihood(X, pt.W, pt.b, s2)), rel=1e-12)
        cert = certify(L.ppca_objective, p, (X, s2))
        assert cert.inertia == pt.inertia_Wb
        HW = np.asarray(dense_hessian(neg_loglik_W, p.W, (X, p.b, s2)))
        eig = np.linalg.eigvalsh(HW)
        pred = pt.hessian_spectrum()
        np.testing.assert_allclose(eig, pred, atol=1e-9 * np.max(np.abs(pred)))
        tol = 1e-8 * np.max(np.abs(eig))
        assert (int(np.sum(eig < -tol)), int(np.sum(np.abs(eig) <= tol)), int(np.sum(eig > tol))) == pt.inertia
        assert pt.inertia[0] == pt.inertia_Wb[0] == pt.index
        # the linear VAE at the matching point: stationary, tight, and non-degenerate with the same index
        v = L.optimal_linear_vae(pt.W, pt.b, s2)
        ce = certify(L.linear_vae_objective, v, (mom, s2), gtol=1e-12)
        assert ce.stationary
        assert ce.inertia == L.linear_vae_inertia(pt)
        assert float(L.linear_vae_elbo(v, X, s2)) == pytest.approx(pt.log_likelihood, rel=1e-12)


def test_labels_theorem1_on_enumerated_points(rng):
    """Exactly one global maximum per data set, no local maximum; index 0 only there."""
    for _ in range(3):
        X = random_data(rng, 30, 6)
        lam = L.ppca_mle(X, 3).eigenvalues
        for m in range(1, 6):
            pts = L.ppca_stationary_points(X, 3, float(np.sqrt(lam[m - 1] * lam[m])))
            labels = [p.label for p in pts]
            assert labels.count("global_max") == 1 and "local_max" not in labels
            best = max(pts, key=lambda p: p.log_likelihood)
            assert best.is_global_max and best.index == 0
            assert all((p.index == 0) == p.is_global_max for p in pts)
            assert L.ppca_mle(X, 3, pts[0].sigma2).log_likelihood == pytest.approx(best.log_likelihood, rel=1e-12)


@settings(max_examples=40, deadline=None)
@given(
    lam=st.lists(st.floats(0.01, 100.0), min_size=2, max_size=7, unique=True),
    kappa=st.integers(1, 4),
    pos=st.floats(0.0, 1.0),
)
def test_inertia_formula_theorem1_on_random_spectra(lam, kappa, pos):
    """For any generic spectrum and any subset A: inertia sums to d κ, and index 0 ⇔ A is the top set."""
    lam = np.sort(np.asarray(lam))[::-1]
    assume(np.min(-np.diff(lam)) > 1e-4 * lam[0])
    s2 = float(np.exp(np.log(lam[-1] / 2) + pos * (np.log(2 * lam[0]) - np.log(lam[-1] / 2))))
    assume(np.min(np.abs(lam - s2)) > 1e-4 * lam[0])
    d = lam.size
    eligible = [j for j in range(d) if lam[j] > s2]
    top = set(range(min(kappa, len(eligible))))
    for k in range(min(kappa, len(eligible)) + 1):
        for A in itertools.combinations(eligible, k):
            active = A + (None,) * (kappa - k)
            neg, zero, posc = L.ppca_hessian_inertia(lam, s2, active)
            assert neg + zero + posc == d * kappa
            assert (neg == 0) == (set(A) == top)
            spec = L.ppca_hessian_spectrum(lam, s2, active, 7)
            tol = 1e-12 * np.max(np.abs(spec))
            assert (np.sum(spec < -tol), np.sum(np.abs(spec) <= tol), np.sum(spec > tol)) == (neg, zero, posc)


def test_nearest_stationary_point_identifies_rotated_points(rng):
    X = random_data(rng, 30, 5)
    lam = L.ppca_mle(X, 3).eigenvalues
    s2 = float(np.sqrt(lam[2] * lam[3]))
    Q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    for pt in L.ppca_stationary_points(X, 3, s2):
        found, dist = L.nearest_stationary_point(X, pt.W @ Q, s2)
        assert found.used == pt.used and dist < 1e-12
        m = L.match_endpoint(X, pt.W @ Q, pt.log_likelihood, s2)
        assert m.label == ("global_max" if pt.is_global_max else "saddle")
    m = L.match_endpoint(X, 0.5 * pt.W, pt.log_likelihood, s2)  # not a stationary point
    assert m.label == "other"


# --------------------------------------------------------------------------- the linear VAE's ELBO


def random_vae(rng, d, kappa, *, learned=False):
    return L.LinearVAEParams(
        W=rng.normal(size=(d, kappa)),
        mu=rng.normal(size=d),
        V=0.5 * rng.normal(size=(kappa, d)),
        log_D=rng.normal(scale=0.5, size=kappa),
        log_sigma2=np.asarray(rng.normal(scale=0.3)) if learned else None,
    )


def test_elbo_moments_points_and_eq5_agree(rng):
    """Three codings of the same ELBO: per point, from (n, x̄, S), and eq. (5) at α = 0 with μ_i = V(x_i − μ)."""
    from proofs_numeric.elbo_equals_likelihood import elbo as eq5_elbo

    X = random_data(rng, 25, 4)
    p = random_vae(rng, 4, 2, learned=True)
    e_pts = float(L.linear_vae_elbo(p, X))
    assert float(L.linear_vae_elbo(p, L.data_moments(X))) == pytest.approx(e_pts, rel=1e-12)
    assert float(jnp.sum(L.linear_vae_elbo_per_example(p, X))) == pytest.approx(e_pts, rel=1e-12)
    m = (X - p.mu) @ p.V.T
    q = landscape.VAEParams(
        W=p.W, b=p.mu, log_gamma=p.log_sigma2, mu=m, log_sigma=np.broadcast_to(0.5 * p.log_D, m.shape).copy()
    )
    assert float(eq5_elbo(q, X)) == pytest.approx(e_pts, rel=1e-12)
    # fixed σ² gives the learned formula at that σ²
    s2 = float(np.exp(p.log_sigma2))
    assert float(L.linear_vae_elbo(p._replace(log_sigma2=None), X, s2)) == pytest.approx(e_pts, rel=1e-12)
    assert float(L.linear_vae_objective(p, X)) == pytest.approx(-e_pts / 25, rel=1e-12)
    # jittable, with X or the moments traced
    assert float(jax.jit(L.linear_vae_elbo)(p, X, None)) == pytest.approx(e_pts, rel=1e-12)
    assert float(jax.jit(L.linear_vae_objective)(p, L.data_moments(X), None)) == pytest.approx(-e_pts / 25, rel=1e-12)


def test_elbo_matches_monte_carlo(rng):
    """The closed form against E_q[log p(x|z) + log p(z) − log q(z|x)] by sampling, within 5 standard errors."""
    n, d, kappa, S = 12, 4, 2, 20_000
    X = random_data(rng, n, d)
    p = random_vae(rng, d, kappa, learned=True)
    s2, D = float(np.exp(p.log_sigma2)), np.exp(p.log_D)
    m = (X - p.mu) @ p.V.T
    z = m[:, None, :] + np.sqrt(D) * rng.normal(size=(n, S, kappa))
    xr = z @ p.W.T + p.mu
    logp = -0.5 * (d * np.log(2 * np.pi * s2) + np.sum((X[:, None, :] - xr) ** 2, axis=-1) / s2)
    logp += -0.5 * (kappa * np.log(2 * np.pi) + np.sum(z**2, axis=-1))
    logq = -0.5 * (kappa * np.log(2 * np.pi) + np.sum(np.log(D)) + np.sum((z - m[:, None, :]) ** 2 / D, axis=-1))
    w = logp - logq
    est = float(np.sum(w.mean(axis=1)))
    se = float(np.sqrt(np.sum(w.var(axis=1, ddof=1) / S)))
    exact = float(L.linear_vae_elbo(p, X))
    assert abs(est - exact) <= 5 * se, (est, exact, se)
    assert se < 0.05 * abs(exact)  # the test has power


@settings(max_examples=5, deadline=None)
@given(seed=st.integers(0, 10_000), learned=st.booleans())
def test_elbo_gradient_matches_central_differences(seed, learned):
    rng = np.random.default_rng(seed)
    X = random_data(rng, 15, 4)
    p = random_vae(rng, 4, 2, learned=learned)
    s2 = None if learned else 0.7
    for data in (X, L.data_moments(X)):
        f = lambda q, data=data: L.linear_vae_elbo(q, data, s2)  # noqa: E731
        g = jax.grad(f)(p)
        for _ in range(3):
            v = jax.tree.map(lambda a: jnp.asarray(rng.normal(size=np.shape(a))), p)
            h = 1e-4
            fp = [f(jax.tree.map(lambda a, b, t=t: a + t * b, p, v)) for t in (h, -h, 2 * h, -2 * h)]
            fd = (8 * (fp[0] - fp[1]) - (fp[2] - fp[3])) / (12 * h)  # O(h⁴)
            ad = sum(jnp.sum(a * b) for a, b in zip(jax.tree.leaves(g), jax.tree.leaves(v), strict=True))
            assert float(fd) == pytest.approx(float(ad), rel=1e-7, abs=1e-7 * abs(float(f(p))))


def test_optimal_encoder_is_stationary_and_tight_iff_orthogonal(rng):
    n, d, kappa, s2 = 30, 5, 3, 0.4
    X = random_data(rng, n, d)
    b = X.mean(axis=0)
    ll = lambda W: float(L.ppca_log_likelihood(X, W, b, s2))  # noqa: E731
    # orthogonal columns: tight
    Q, _ = np.linalg.qr(rng.normal(size=(d, kappa)))
    W_orth = Q * np.array([2.0, 1.0, 0.5])
    W_gen = rng.normal(size=(d, kappa))
    for W, tight in ((W_orth, True), (W_gen, False)):
        p = L.optimal_linear_vae(W, b, s2)
        gV, gD = jax.grad(lambda V, lD, p=p: L.linear_vae_elbo(p._replace(V=V, log_D=lD), X, s2), argnums=(0, 1))(
            p.V, p.log_D
        )
        assert flat_norm((gV, gD)) <= 1e-10
        e = float(L.linear_vae_elbo(p, X, s2))
        # D = 1 / diag(posterior precision), V = posterior mean map (ppca_posterior as the oracle)
        means, cov = L.ppca_posterior(X, W, b, s2)
        np.testing.assert_allclose(np.exp(p.log_D), 1 / np.diag(np.linalg.inv(cov)), rtol=1e-12)
        np.testing.assert_allclose((X - b) @ np.asarray(p.V).T, means, rtol=1e-10, atol=1e-12)
        # the gap is n KL(N(0, D) ‖ N(0, σ² M⁻¹)) in closed form
        D = np.exp(np.asarray(p.log_D))
        prec = np.linalg.inv(cov)
        kl = 0.5 * (np.sum(np.diag(prec) * D) - kappa + np.linalg.slogdet(cov)[1] - np.sum(np.log(D)))
        assert ll(W) - e == pytest.approx(n * kl, rel=1e-9, abs=1e-9)
        if tight:
            assert e == pytest.approx(ll(W), rel=1e-12)
        else:
            assert ll(W) - e > 1e-3
    # and an encoder away from the optimum is worse
    p = L.optimal_linear_vae(W_gen, b, s2)
    worse = p._replace(V=p.V + 0.01, log_D=p.log_D + 0.01)
    assert float(L.linear_vae_elbo(worse, X, s2)) < float(L.linear_vae_elbo(p, X, s2))


def test_collapse_metric_and_staircase(rng):
    X = spectrum_data(rng, 60, LAM)
    for s2 in sigma2_sweep(LAM, KAPPA):
        p = L.linear_vae_optimum(X, KAPPA, s2)
        want = L.predicted_collapsed(X, KAPPA, s2)
        assert want == L.predicted_collapsed(LAM[::-1], KAPPA, s2) == int(np.sum(LAM[:KAPPA] <= s2))
        assert L.collapse_count(p, X) == want
        kl = L.linear_vae_kl_per_dim(p, X)
        assert kl.shape == (60, KAPPA)
        # at the optimum the mean KL of an active dimension is ½ log(λ_j / σ²), of a collapsed one 0
        want_kl = 0.5 * np.log(np.maximum(LAM[:KAPPA], s2) / s2)
        np.testing.assert_allclose(np.sort(kl.mean(axis=0)), np.sort(want_kl), atol=1e-10)
    assert L.predicted_collapsed(X, KAPPA, None) == 0
    assert L.collapse_count(L.linear_vae_optimum(X, KAPPA), X) == 0
    # the δ of the definition: a dimension with KL ≥ ε at 1 point in 100 is still collapsed for δ = 0.01 ...
    p = L.LinearVAEParams(np.zeros((2, 1)), np.zeros(2), np.zeros((1, 2)), np.zeros(1))
    Y = np.zeros((100, 2))
    Y[0] = 10.0
    assert L.collapse_count(p, Y) == 1  # V = 0, D = 1: q = p(z), KL = 0 at every point
    p = p._replace(V=np.array([[1.0, 0.0]]))  # KL = 50 at x_0, 0 at the other 99 points
    assert L.collapsed_dims(p, Y, delta=0.01).tolist() == [True]
    assert L.collapsed_dims(p, Y, delta=0.005).tolist() == [False]


# --------------------------------------------------------------------------- multi-start: MLE, collapse, Theorem 1


@pytest.fixture(scope="module")
def designed():
    rng = np.random.default_rng(7)
    return spectrum_data(rng, 60, LAM)


def test_ppca_multistart_reaches_the_closed_form_mle(designed):
    X = designed
    n = X.shape[0]
    s2 = float(np.sqrt(LAM[1] * LAM[2]))
    for s2_arg, learned in ((s2, False), (None, True)):
        init = L.ppca_init(X, KAPPA, learn_sigma2=learned)
        res = multistart(L.ppca_objective, init, restarts=4, args=(X, s2_arg), steps=1000, polish="newton")
        fit = L.ppca_mle(X, KAPPA, s2_arg)
        best = -res.values[res.best] * n
        assert best == pytest.approx(fit.log_likelihood, rel=1e-6)
        assert res.status[res.best] == "converged"
        W = np.asarray(res.point(res.best).W)
        np.testing.assert_allclose(W @ W.T, fit.W @ fit.W.T, atol=1e-6 * LAM[0])
        if learned:
            assert float(np.exp(res.point(res.best).log_sigma2)) == pytest.approx(fit.sigma2, rel=1e-6)


@pytest.fixture(scope="module")
def vae_sweep(designed):
    """Multi-start ascent of the linear VAE ELBO at each σ² of the sweep (one compile), and learned σ²."""
    X = designed
    mom = L.data_moments(X)
    init = L.linear_vae_init(mom, KAPPA)
    out = []
    for s2 in sigma2_sweep(LAM, KAPPA):
        res = multistart(L.linear_vae_objective, init, restarts=5, seed=1, args=(mom, s2), steps=1000)
        out.append((s2, res))
    init_l = L.linear_vae_init(mom, KAPPA, learn_sigma2=True)
    learned = multistart(L.linear_vae_objective, init_l, restarts=5, seed=2, args=(mom, None), steps=1000)
    return X, out, learned


def _classify(X, res, s2, learned=False):
    n = X.shape[0]
    out = []
    for r in range(res.restarts):
        p = res.point(r)
        sig = float(np.exp(p.log_sigma2)) if learned else s2
        out.append(L.match_endpoint(X, np.asarray(p.W), -res.values[r] * n, sig, learned_sigma2=learned))
    return out


def test_vae_multistart_collapse_matches_the_staircase(vae_sweep):
    X, sweep, learned = vae_sweep
    predicted = [L.predicted_collapsed(X, KAPPA, s2) for s2, _ in sweep]
    assert predicted == [3, 2, 1, 0, 0, 0]  # spans all collapsed to none
    for (s2, res), want in zip(sweep, predicted, strict=True):
        counts = [L.collapse_count(res.point(r), X) for r in range(res.restarts)]
        assert counts == [want] * res.restarts, (s2, counts)
    assert [L.collapse_count(learned.point(r), X) for r in range(learned.restarts)] == [0] * learned.restarts


def test_vae_multistart_theorem1_and_tightness(vae_sweep):
    """Every endpoint is the global maximum or an enumerated saddle; the best ELBO is the pPCA MLE ℓ."""
    X, sweep, learned = vae_sweep
    n = X.shape[0]
    for s2, res in sweep:
        labels = [m.label for m in _classify(X, res, s2)]
        assert set(labels) <= {"global_max", "saddle"}, labels
        assert -res.values[res.best] * n == pytest.approx(L.ppca_mle(X, KAPPA, s2).log_likelihood, rel=1e-6)
        assert all(s == "converged" for s in res.status)
    labels = [m.label for m in _classify(X, learned, None, learned=True)]
    assert set(labels) <= {"global_max", "saddle"}, labels
    assert -learned.values[learned.best] * n == pytest.approx(L.ppca_mle(X, KAPPA).log_likelihood, rel=1e-6)


def test_vae_multistart_theorem1_on_digits():
    """The sklearn digits (first 400, top 6 principal coordinates), κ = 3, two fixed σ² and learned σ²."""
    X = digits_reduced(400, 6)
    n = X.shape[0]
    lam = L.ppca_mle(X, 3).eigenvalues
    mom = L.data_moments(X)
    init = L.linear_vae_init(mom, 3)
    for s2 in (float(np.sqrt(lam[1] * lam[2])), 0.5 * lam[-1]):
        res = multistart(L.linear_vae_objective, init, restarts=4, args=(mom, s2), steps=1500)
        labels = [m.label for m in _classify(X, res, s2)]
        assert set(labels) <= {"global_max", "saddle"}, labels
        assert -res.values[res.best] * n == pytest.approx(L.ppca_mle(X, 3, s2).log_likelihood, rel=1e-6)
        assert [L.collapse_count(res.point(r), X) for r in range(4)] == [L.predicted_collapsed(X, 3, s2)] * 4


@pytest.mark.slow
def test_vae_multistart_theorem1_on_full_digits():
    """All 1797 digits, 61 non-constant pixels, κ = 4: the same claim at full size (L-BFGS polish)."""
    from sklearn.datasets import load_digits

    X = load_digits().data / 16.0
    X = X[:, X.std(axis=0) > 0]
    n = X.shape[0]
    lam = L.ppca_mle(X, 4).eigenvalues
    mom = L.data_moments(X)
    init = L.linear_vae_init(mom, 4)
    for s2 in (float(np.sqrt(lam[1] * lam[2])), float(np.sqrt(lam[4] * lam[5]))):
        res = multistart(
            L.linear_vae_objective, init, restarts=4, args=(mom, s2), steps=3000, polish="lbfgs", gtol=1e-9
        )
        labels = [m.label for m in _classify(X, res, s2)]
        assert set(labels) <= {"global_max", "saddle"}, labels
        assert -res.values[res.best] * n == pytest.approx(L.ppca_mle(X, 4, s2).log_likelihood, rel=1e-6)


# --------------------------------------------------------------------------- bad inputs


def _bad_cases():
    rng = np.random.default_rng(0)
    X = random_data(rng, 20, 4)
    lam = L.ppca_mle(X, 2).eigenvalues
    p = random_vae(rng, 4, 2)
    rep = spectrum_data(rng, 20, [2.0, 2.0, 1.0, 0.5])
    Xnan = X.copy()
    Xnan[0, 0] = np.nan
    return [
        ("kappa", lambda: L.ppca_mle(X, 0)),
        ("kappa", lambda: L.ppca_mle(X, 5)),
        ("kappa", lambda: L.ppca_mle(X, 4)),  # learned σ² needs κ < d
        ("sigma2", lambda: L.ppca_mle(X, 2, 0.0)),
        ("sigma2", lambda: L.ppca_mle(X, 2, -1.0)),
        ("sigma2", lambda: L.ppca_mle(X, 2, np.nan)),
        ("sigma2", lambda: L.ppca_mle(X, 2, True)),
        ("ddof", lambda: L.ppca_mle(X, 2, ddof=2)),
        ("X", lambda: L.ppca_mle(Xnan, 2)),
        ("X", lambda: L.ppca_mle(X[0], 2)),
        ("X", lambda: L.ppca_mle(X[:1], 2)),
        ("X", lambda: L.ppca_mle(np.ones((5, 3)), 1)),
        ("sigma2", lambda: L.ppca_stationary_points(X, 2, float(lam[1]))),
        ("repeated", lambda: L.ppca_stationary_points(rep, 2, 0.7)),
        ("max_points", lambda: L.ppca_stationary_points(X, 2, 0.5 * lam[-1], max_points=3)),
        ("sigma2", lambda: L.ppca_hessian_inertia(lam, float(lam[2]), (0, None))),
        ("active", lambda: L.ppca_hessian_inertia(lam, 0.5 * lam[-1], (0, 0))),
        ("eigenvalues", lambda: L.ppca_hessian_inertia([1.0, -1.0], 0.5, (0,))),
        ("descending", lambda: L.ppca_hessian_inertia([1.0, 2.0], 0.5, (0,))),
        ("params.V", lambda: L.linear_vae_elbo(p._replace(V=np.zeros((2, 3))), X, 1.0)),
        ("params.W", lambda: L.linear_vae_elbo(p._replace(W=np.zeros((3, 2))), X, 1.0)),
        ("params.log_D", lambda: L.linear_vae_elbo(p._replace(log_D=np.zeros(3)), X, 1.0)),
        ("params.mu", lambda: L.linear_vae_elbo(p._replace(mu=np.zeros(5)), X, 1.0)),
        ("params.W", lambda: L.linear_vae_elbo(p._replace(W=np.full((4, 2), np.inf)), X, 1.0)),
        ("log_sigma2", lambda: L.linear_vae_elbo(p, X)),  # neither fixed nor learned
        ("log_sigma2", lambda: L.linear_vae_elbo(p._replace(log_sigma2=np.asarray(0.0)), X, 1.0)),  # both
        ("sigma2", lambda: L.linear_vae_elbo(p, X, -1.0)),
        ("data", lambda: L.linear_vae_elbo(p, np.zeros(4), 1.0)),
        ("DataMoments", lambda: L.linear_vae_elbo(p, L.DataMoments(20.0, np.zeros(4), np.zeros((3, 3))), 1.0)),
        ("params", lambda: L.linear_vae_elbo(tuple(p), X, 1.0)),
        ("eps", lambda: L.collapse_count(p, X, eps=0.0)),
        ("eps", lambda: L.collapse_count(p, X, eps=1.5)),
        ("delta", lambda: L.collapse_count(p, X, delta=1.0)),
        ("delta", lambda: L.collapse_count(p, X, delta=np.nan)),
        ("kappa", lambda: L.predicted_collapsed(lam, 5, 1.0)),
        ("eigenvalues_or_X", lambda: L.predicted_collapsed([1.0, -2.0], 1, 1.0)),
        ("sigma2", lambda: L.optimal_encoder(np.ones((4, 2)), 0.0)),
        ("W", lambda: L.optimal_encoder(np.ones(4), 1.0)),
        ("scale", lambda: L.linear_vae_init(X, 2, scale=0.0)),
    ]


@pytest.mark.parametrize(("name", "call"), _bad_cases(), ids=[f"{i}-{c[0]}" for i, c in enumerate(_bad_cases())])
def test_bad_input_raises_naming_the_argument(name, call):
    with pytest.raises(ValueError, match=name):
        call()


def test_point_api_backwards_compatible(rng):
    """The old constructor (no n) and fields still work; curvature needs no n, ℓ does."""
    X = random_data(rng, 20, 4)
    pt = L.ppca_stationary_point(X, 2, 0.01, (0, None))
    old = L.PPCAStationaryPoint(pt.W, pt.b, pt.sigma2, pt.active, pt.eigenvalues, pt.eigenvectors)
    # z · #{unused λ_i > σ²} + #{unused λ_i > λ_1} = 1 · 3 + 0
    assert old.index == pt.index == 3 and old.unused == (1, 2, 3)
    with pytest.raises(ValueError, match="without n"):
        _ = old.log_likelihood
    d = pt.to_dict()
    assert d["label"] == "saddle" and d["inertia"] == list(pt.inertia)


# --------------------------------------------------------------------------- the experiment's MNIST reader


def _experiment():
    path = ROOT / "experiments" / "linear_vae_collapse.py"
    spec = importlib.util.spec_from_file_location("linear_vae_collapse", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("linear_vae_collapse", mod)
    spec.loader.exec_module(mod)
    return mod


def _write_idx(path: Path, images: np.ndarray, gz: bool):
    header = struct.pack(">HBB", 0, 0x08, 3) + struct.pack(">III", *images.shape)
    data = header + images.astype(np.uint8).tobytes()
    if gz:
        with gzip.open(path, "wb") as fh:
            fh.write(data)
    else:
        path.write_bytes(data)


@pytest.mark.parametrize("gz", [False, True])
def test_mnist_idx_reader_and_ppca_on_a_synthetic_file(tmp_path, rng, gz):
    exp = _experiment()
    imgs = rng.integers(0, 256, size=(30, 4, 5))
    name = "train-images-idx3-ubyte" + (".gz" if gz else "")
    _write_idx(tmp_path / name, imgs, gz)
    got = exp.read_idx(tmp_path / name)
    np.testing.assert_array_equal(got, imgs)
    res = exp.mnist_ppca(tmp_path, n=25, q=3)
    X = imgs[:25].reshape(25, -1) / 255.0
    assert res["ddof1"]["per_example"] == pytest.approx(L.ppca_mle(X, 3, ddof=1).log_likelihood_per_example)
    assert res["ddof0"]["per_example"] == pytest.approx(L.ppca_mle(X, 3).log_likelihood_per_example)
    fit = L.ppca_mle(X, 3, ddof=1)
    C = fit.W @ fit.W.T + fit.sigma2 * np.eye(20)
    trace_S = -0.5 * (20 * np.log(2 * np.pi) + np.linalg.slogdet(C)[1] + np.trace(np.linalg.solve(C, np.cov(X.T))))
    assert res["ddof1"]["per_example_trace_S"] == pytest.approx(trace_S, rel=1e-10)
    assert trace_S - fit.log_likelihood_per_example == pytest.approx(-0.5 * 20 / 25, rel=1e-8)
    assert res["published"] == 941.6543
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "train-images-idx3-ubyte").write_bytes(b"\x00\x00\x08\x01" + b"\x00" * 8)
    with pytest.raises(ValueError, match="IDX"):
        exp.read_idx(tmp_path / "bad" / "train-images-idx3-ubyte")


@pytest.mark.slow
def test_experiment_smoke(tmp_path):
    """The experiment end to end at toy size: JSON and PNG written, every endpoint the global maximum."""
    import json

    exp = _experiment()
    rc = exp.main(["--restarts", "2", "--steps", "300", "--num-sigma2", "2", "--skip-digits", "--out", str(tmp_path)])
    assert rc == 0
    out = json.loads((tmp_path / "linear_vae_collapse.json").read_text())
    assert (tmp_path / "linear_vae_collapse.png").stat().st_size > 0
    rows = out["results"][0]["rows"] + [out["results"][0]["learned"]]
    assert all(r["labels"]["other"] == 0 and r["matches_staircase"] for r in rows)
    assert out["seed"] == 0 and "jax" in out["versions"]
