"""Dang et al.'s linear CVAE (Theorem 2): the loss against independent oracles, the closed form against optimisation.

Oracles: the per-sample ELBO (and a Monte Carlo estimate of it) for the matrix loss; the paper's whitened
construction D (I − ZᵀZ) Dᵀ for E; `landscape.multistart` (Adam, then dense saddle-free Newton to
‖∇L‖ ≤ 1e-12 · max(1, |L|)) for the closed-form optimum; `landscape.certify` for its curvature.
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

import landscape
from landscape.analysis.stationary import certify
from landscape.models import linear_conditional as LC
from landscape.models.cvae_optimum import _public_code_sigma, _theorem_values
from landscape.tools.multistart import multistart

_INITS: dict = {}
_VALUE_AND_GRAD = jax.jit(jax.value_and_grad(LC.cvae_objective))


def _init(d_x, d_y, d_z):
    """One init object per shape, so each shape compiles once."""
    key = (d_x, d_y, d_z)
    if key not in _INITS:
        _INITS[key] = LC.cvae_init(d_x, d_y, d_z)
    return _INITS[key]


def optimise(stats, d_z, beta, eta_enc=1.0, eta_dec=1.0, *, restarts=8, steps=2000, seed=0):
    """Multi-start (Adam, then dense Newton); returns the result, the index of its lowest converged endpoint
    (the lowest endpoint if none converged) and that endpoint."""
    res = multistart(
        LC.cvae_objective,
        _init(stats.d_x, stats.d_y, d_z),
        restarts=restarts,
        seed=seed,
        args=stats.args(beta, eta_enc, eta_dec),
        steps=steps,
        learning_rate=1e-2,
        polish="newton",
        gtol=1e-12,
    )
    ok = np.flatnonzero(res.converged)
    b = int(ok[np.argmin(res.values[ok])]) if ok.size else res.best
    return res, b, res.point(b)


def data_with_theta(rng, n, d_x, theta):
    """(X, Y) whose residual second moment E = B − CᵀA⁻¹C has exactly the eigenvalues ``theta``.

    X ~ N(0, I); R is Gaussian noise projected orthogonally to X's columns, whitened, then given the
    second moment Q diag(θ) Qᵀ (Q random orthogonal); Y = X G + R, so E = RᵀR/n.
    """
    theta = np.asarray(theta, dtype=float)
    d_y = theta.size
    X = rng.normal(size=(n, d_x))
    R = rng.normal(size=(n, d_y))
    R -= X @ np.linalg.solve(X.T @ X, X.T @ R)
    L = np.linalg.cholesky(R.T @ R / n)
    R = np.linalg.solve(L, R.T).T
    Q, _ = np.linalg.qr(rng.normal(size=(d_y, d_y)))
    R = R @ (np.sqrt(theta)[:, None] * Q.T)
    G = rng.normal(size=(d_x, d_y))
    return X, X @ G + R


def their_data(seed=2, n=100, d=5, scale=0.1):
    """The paper's matrix check: X, Y ~ N(0, 0.1²), N = 100, d_x = d_y = 5 (numpy's generator, not torch's)."""
    rng = np.random.default_rng(seed)
    return rng.normal(scale=scale, size=(n, d)), rng.normal(scale=scale, size=(n, d))


def mixed_data(seed=0, n=100, d=5):
    """Data on which β = 2, η = 1 leaves some dimensions active and some collapsed."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    Y = 0.5 * X @ rng.normal(size=(d, d)) + rng.normal(size=(n, d)) * np.array([3.0, 2.2, 1.6, 1.0, 0.6])
    return X, Y


def assert_matches(opt, pt, stats, *, atol=1e-8, loss_rtol=1e-10):
    """The optimised point against the closed form: singular values, variances, loss, KL."""
    sp = LC.cvae_spectra(pt, stats, eta_enc=opt.eta_enc)
    np.testing.assert_allclose(sp.lambdas, opt.lambdas, rtol=0, atol=atol)
    # ω_i = η_enc √(θ_i − βη_dec²)/θ_i is not monotone in θ_i: compare W₂'s singular values as sets.
    np.testing.assert_allclose(sp.omegas, np.sort(opt.omegas)[::-1], rtol=0, atol=atol)
    np.testing.assert_allclose(sp.sigmas, opt.sigmas, rtol=0, atol=atol)
    loss = float(LC.cvae_objective(pt, *stats.args(opt.beta, opt.eta_enc, opt.eta_dec)))
    assert abs(loss - opt.loss) <= loss_rtol * max(1.0, abs(opt.loss))
    np.testing.assert_array_equal(sp.collapsed(), np.asarray(opt.collapsed))
    return sp


# ------------------------------------------------------------------ the loss


def test_E_equals_the_papers_whitened_form():
    """E = B − CᵀA⁻¹C equals D (I − ZᵀZ) Dᵀ built as in the paper (whitened x̃, ỹ, Z = E[x̃ỹᵀ], D = P_B Ψ^{1/2})."""
    X, Y = mixed_data()
    n = X.shape[0]
    stats = LC.cvae_statistics(X, Y)

    def whiten(M):
        phi, P = np.linalg.eigh(M.T @ M / n)
        return M @ P / np.sqrt(phi), phi, P

    Xt, _, _ = whiten(X)
    Yt, psi, P_B = whiten(Y)
    Z = Xt.T @ Yt / n
    D = P_B * np.sqrt(psi)
    E_paper = D @ (np.eye(Y.shape[1]) - Z.T @ Z) @ D.T
    np.testing.assert_allclose(stats.E, E_paper, rtol=0, atol=1e-12 * np.abs(E_paper).max())
    np.testing.assert_allclose(stats.theta, np.sort(np.linalg.svd(E_paper, compute_uv=False))[::-1], rtol=1e-12)


@settings(max_examples=10)
@given(
    seed=st.integers(0, 10**6),
    beta=st.floats(0.1, 5.0),
    eta_enc=st.floats(0.3, 3.0),
    eta_dec=st.floats(0.3, 3.0),
    d_z=st.integers(1, 5),
)
def test_matrix_loss_is_twice_the_mean_negative_elbo(seed, beta, eta_enc, eta_dec, d_z):
    """L = 2 mean_i(−ELBO_β(x_i, y_i)) − d_y log(2π η_dec²), the ELBO computed per sample."""
    rng = np.random.default_rng(seed)
    X, Y = rng.normal(size=(30, 3)), rng.normal(size=(30, 4)) + 0.3
    stats = LC.cvae_statistics(X, Y)
    p = LC.CVAEParams(
        W1=rng.normal(size=(d_z, 3)),
        W2=rng.normal(size=(d_z, 4)),
        U1=rng.normal(size=(4, d_z)),
        U2=rng.normal(size=(4, 3)),
        log_sigma=rng.normal(scale=0.5, size=d_z),
    )
    L = float(LC.cvae_loss(p, stats, beta, eta_enc=eta_enc, eta_dec=eta_dec))
    per = LC.cvae_neg_elbo(p, X, Y, beta, eta_enc=eta_enc, eta_dec=eta_dec)
    assert per.shape == (30,)
    expected = 2.0 * float(per.mean()) - 4 * math.log(2 * math.pi * eta_dec**2)
    assert abs(L - expected) <= 1e-10 * max(1.0, abs(L))


def test_negative_elbo_against_monte_carlo():
    """The closed-form expectation over q(z|x, y) against sampling z (2,000 draws per point, within 5 SE)."""
    rng = np.random.default_rng(3)
    n, d_x, d_y, d_z = 20, 3, 4, 2
    X, Y = rng.normal(size=(n, d_x)), rng.normal(size=(n, d_y))
    p = LC.CVAEParams(
        W1=rng.normal(size=(d_z, d_x)),
        W2=rng.normal(size=(d_z, d_y)),
        U1=rng.normal(size=(d_y, d_z)),
        U2=rng.normal(size=(d_y, d_x)),
        log_sigma=rng.normal(scale=0.3, size=d_z),
    )
    beta, eta_enc, eta_dec = 1.7, 0.8, 1.3
    exact = np.asarray(LC.cvae_neg_elbo(p, X, Y, beta, eta_enc=eta_enc, eta_dec=eta_dec))

    mu = X @ p.W1.T + Y @ p.W2.T
    sig = np.exp(p.log_sigma)
    eps = np.asarray(jax.random.normal(jax.random.key(0), (2000, n, d_z)))
    z = mu + sig * eps
    norm = jax.scipy.stats.norm.logpdf
    log_lik = norm(Y, z @ p.U1.T + X @ p.U2.T, eta_dec).sum(-1)
    log_q = norm(z, mu, sig).sum(-1)
    log_p = norm(z, 0.0, eta_enc).sum(-1)
    samples = np.asarray(-log_lik + beta * (log_q - log_p))  # (draws, n)
    est, se = samples.mean(0), samples.std(0) / math.sqrt(samples.shape[0])
    assert np.all(np.abs(est - exact) <= 5 * se + 1e-12)


# ------------------------------------------------------------------ the closed form


@settings(max_examples=15)
@given(
    seed=st.integers(0, 10**6),
    beta=st.floats(0.2, 4.0),
    eta_enc=st.floats(0.3, 3.0),
    eta_dec=st.floats(0.3, 2.0),
    d_z=st.sampled_from([2, 5, 7]),  # below, at and above d_y = 5
)
def test_closed_form_point_is_stationary_with_the_stated_loss(seed, beta, eta_enc, eta_dec, d_z):
    """At the constructed point, L equals the closed-form L* and ∇L = 0 (any d_z, above or below d_y)."""
    rng = np.random.default_rng(seed)
    X, Y = mixed_data(seed)
    stats = LC.cvae_statistics(X, Y * rng.uniform(0.3, 2.0))
    opt = LC.cvae_optimum(stats, d_z, beta, eta_enc=eta_enc, eta_dec=eta_dec)
    L, g = _VALUE_AND_GRAD(opt.params, *stats.args(beta, eta_enc, eta_dec))
    L = float(L)
    assert abs(L - opt.loss) <= 1e-11 * max(1.0, abs(L))
    assert float(jnp.linalg.norm(ravel_pytree(g)[0])) <= 1e-9 * max(1.0, abs(L))
    assert opt.n_collapsed == int(np.sum(opt.theta <= beta * eta_dec**2))


def test_their_setting_all_collapse_and_optimiser_agrees():
    """Their exact matrix check (N = 100, d = 5, X, Y ~ N(0, 0.1²), β = 2, η = 1): every θ_i ≈ 0.01 < βη_dec² = 2,
    so every dimension collapses (U₁ = 0, σ = η_enc = 1); the optimiser finds exactly that."""
    X, Y = their_data()
    stats = LC.cvae_statistics(X, Y)
    opt = LC.cvae_optimum(stats, 5, 2.0)
    assert opt.n_collapsed == 5 and np.all(stats.theta < 0.02)
    res, b, pt = optimise(stats, 5, 2.0)
    assert res.status[b] == "converged" and res.grad_norms[b] <= 1e-10
    assert_matches(opt, pt, stats)


def test_their_data_with_the_threshold_between_theta3_and_theta4():
    """Their data (N = 100, d = 5, X, Y ~ N(0, 0.1²), β = 2) with η_dec chosen so that βη_dec² = √(θ₃θ₄):
    three active and two collapsed dimensions; closed form and optimiser agree to 1e-8."""
    X, Y = their_data()
    stats = LC.cvae_statistics(X, Y)
    eta_dec = math.sqrt(math.sqrt(stats.theta[2] * stats.theta[3]) / 2.0)
    opt = LC.cvae_optimum(stats, 5, 2.0, eta_dec=eta_dec)
    assert opt.collapsed == (False, False, False, True, True)
    res, b, pt = optimise(stats, 5, 2.0, eta_dec=eta_dec)
    assert res.status[b] == "converged" and res.grad_norms[b] <= 1e-10
    assert_matches(opt, pt, stats)


@pytest.mark.parametrize("eta_enc", [1.0, 0.5])
def test_mixed_data_closed_form_matches_optimiser(eta_enc):
    """N = 100, d = 5, β = 2, η_dec = 1 on data with θ ≈ (7.1, 3.9, 2.1, 0.92, 0.24): three active, two
    collapsed; also with η_enc = 0.5 (λ scales by 1/η_enc, σ by η_enc, L* does not change)."""
    X, Y = mixed_data()
    stats = LC.cvae_statistics(X, Y)
    opt = LC.cvae_optimum(stats, 5, 2.0, eta_enc=eta_enc)
    assert opt.n_collapsed == 2
    res, b, pt = optimise(stats, 5, 2.0, eta_enc=eta_enc)
    assert res.status[b] == "converged" and res.grad_norms[b] <= 1e-10
    assert_matches(opt, pt, stats)
    # Every restart that converged reached the same loss: no spurious local minimum was found.
    ok = np.asarray(res.status) == "converged"
    assert np.all(np.abs(res.values[ok] - opt.loss) <= 1e-9 * abs(opt.loss))


def test_closed_form_point_is_a_strict_minimum():
    """The Hessian at the closed form (dense, 105 parameters): ‖∇L‖ ≤ 1e-10, no negative eigenvalue, and no
    zero mode either. With diagonal Σ the only continuous symmetries rotate latent dimensions of equal σ,
    here only the collapsed ones, whose U₁ columns and W₂ rows are zero: they fix the point."""
    X, Y = mixed_data()
    stats = LC.cvae_statistics(X, Y)
    opt = LC.cvae_optimum(stats, 5, 2.0)
    cert = certify(LC.cvae_objective, opt.params, stats.args(2.0))
    assert cert.grad_norm <= 1e-10
    assert cert.label == "strict_min" and cert.inertia == (0, 0, 105)
    assert cert.min_eigenvalue > 1e3 * cert.tol


def test_an_active_dimension_switched_off_is_a_saddle_that_lanczos_sees():
    """The landscape tools on a non-eq.-(5) objective: zero the most informative latent dimension of the
    optimum (its U₁ column and W₁, W₂ rows 0, σ = η_enc). Per dimension the loss is
    θ(λω − 1)² + λ²s + βkθω² + … , whose (λ, ω) Hessian at λ = ω = 0, s = η_enc² has determinant
    4θ(βη_dec² − θ) < 0 for an active θ: the point is stationary and a strict saddle. `lanczos` must find
    the dense Hessian's most negative eigenvalue, and `certify` must call it a saddle."""
    X, Y = mixed_data()
    stats = LC.cvae_statistics(X, Y)
    opt = LC.cvae_optimum(stats, 5, 2.0)
    i = int(np.argmax(opt.kl))
    assert opt.kl[i] > 0.1
    p = jax.tree.map(jnp.asarray, opt.params)
    p = p._replace(
        W1=p.W1.at[i].set(0.0),
        W2=p.W2.at[i].set(0.0),
        U1=p.U1.at[:, i].set(0.0),
        log_sigma=p.log_sigma.at[i].set(math.log(opt.eta_enc)),
    )
    args = stats.args(2.0)
    cert = certify(LC.cvae_objective, p, args)
    assert cert.grad_norm <= 1e-10 and cert.label == "strict_saddle"
    lz = landscape.lanczos(LC.cvae_objective, p, args, k=2, num_steps=60)
    np.testing.assert_allclose(lz.min_eigenvalue, cert.min_eigenvalue, rtol=1e-8)
    np.testing.assert_allclose(lz.max_eigenvalue, cert.max_eigenvalue, rtol=1e-8)


# ------------------------------------------------------------------ the public code's σ branch


@pytest.mark.parametrize(
    ("beta", "eta_enc", "theta"),
    [
        (2.0, 1.0, [4.0, 1.8, 1.6, 0.5]),  # βη_dec² = 2 > √β η_dec = 1.414: θ = 1.8, 1.6 lie in [√β η_dec, βη_dec²)
        (0.5, 0.7, [2.0, 0.65, 0.55, 0.3]),  # βη_dec² = 0.5 < √β η_dec = 0.707: θ = 0.65, 0.55 lie between
    ],
)
def test_public_code_sigma_branch_differs_and_the_optimiser_sides_with_the_theorem(beta, eta_enc, theta):
    """Their code's σ branch disagrees with Theorem 2 when βη_dec² ≠ 1, and the optimum sides with the theorem.

    Where: ``utils.calculate_lambda_sigma_cvae_beta`` in thotranhuu99/Posterior_collapse_CVAE_HVAE computes
    λ with the theorem's threshold, ``max(0, theta - beta * eta_dec**2) ** (1/2) / eta_enc``, but chooses σ
    with ``if theta >= beta**(1/2) * eta_dec: sigma = (beta**(1/2) * eta_enc * eta_dec) / theta**(1/2)``,
    ``else: sigma = eta_enc``: the vanilla VAE's switch √β η_dec, where θ is a singular value (a standard
    deviation), applied to the CVAE's θ, an eigenvalue of E (a variance). For θ between √β η_dec and
    βη_dec² the two disagree: with βη_dec² > 1 the code gives σ = √(β/θ) η_enc η_dec > η_enc although
    λ = 0 (a posterior wider than the prior); with βη_dec² < 1 it gives σ = η_enc to a dimension that
    is active. The optimiser (to ‖∇L‖ ≤ 1e-10) finds the theorem's σ to 1e-8 and misses the code's by
    more than 0.03.
    """
    eta_dec = 1.0
    rng = np.random.default_rng(7)
    X, Y = data_with_theta(rng, 60, 3, theta)
    stats = LC.cvae_statistics(X, Y)
    np.testing.assert_allclose(stats.theta, theta, rtol=1e-12)
    opt = LC.cvae_optimum(stats, 4, beta, eta_enc=eta_enc, eta_dec=eta_dec)
    code = _public_code_sigma(stats.theta, beta, eta_enc, eta_dec)
    window = (np.minimum(math.sqrt(beta) * eta_dec, beta * eta_dec**2) <= stats.theta) & (
        stats.theta < np.maximum(math.sqrt(beta) * eta_dec, beta * eta_dec**2)
    )
    assert window.sum() == 2
    assert np.all(np.abs(code - opt.sigmas)[window] > 0.03)
    np.testing.assert_allclose(code[~window], opt.sigmas[~window], rtol=1e-14)

    res, b, pt = optimise(stats, 4, beta, eta_enc=eta_enc, eta_dec=eta_dec)
    assert res.grad_norms[b] <= 1e-10
    sp = assert_matches(opt, pt, stats)
    assert np.all(np.abs(sp.sigmas - code)[window] > 0.03)


@settings(max_examples=25)
@given(
    theta=st.lists(st.floats(1e-3, 10.0), min_size=1, max_size=6),
    eta_dec=st.floats(0.2, 3.0),
    eta_enc=st.floats(0.2, 3.0),
)
def test_public_code_sigma_branch_agrees_when_beta_eta_dec_squared_is_one(theta, eta_dec, eta_enc):
    """With βη_dec² = 1 the two switches coincide (√β η_dec = βη_dec² = 1), and so do the σ's."""
    beta = 1.0 / eta_dec**2
    theta = np.asarray(theta)
    assume(np.all(np.abs(theta - 1.0) > 1e-9))  # at the switch itself rounding may pick either side
    _, _, sigma, _ = _theorem_values(theta, beta, eta_enc, eta_dec)
    np.testing.assert_allclose(_public_code_sigma(theta, beta, eta_enc, eta_dec), sigma, rtol=1e-12)


# ------------------------------------------------------------------ the collapse condition


SWEEP_THETA = (3.0, 1.5, 0.8, 0.3)
SWEEP_DATA = data_with_theta(np.random.default_rng(0), 40, 3, SWEEP_THETA)  # the σ-branch test's shapes: one compile


@settings(max_examples=10)
@given(log_tau=st.floats(math.log(0.15), math.log(5.0)), beta=st.floats(0.25, 4.0))
def test_dimension_collapses_iff_theta_below_beta_eta_dec_squared(log_tau, beta):
    """Theorem 2's condition, checked by the optimiser: with θ = (3, 1.5, 0.8, 0.3) fixed, the threshold
    τ = βη_dec² is swept across them (β drawn, η_dec = √(τ/β)); after optimisation dimension i has
    KL < 1e-8 nats (q(z_i|x, y) = p(z_i)) iff θ_i < τ, and the loss is L*. Thresholds within 5% of a θ_i
    are skipped (there an active dimension's KL, ½ log(θ_i/τ), is too small to tell from 0)."""
    tau = math.exp(log_tau)
    theta = np.asarray(SWEEP_THETA)
    assume(np.all(np.abs(theta / tau - 1.0) > 0.05))
    eta_dec = math.sqrt(tau / beta)
    event(f"{int(np.sum(theta < tau))} of 4 collapsed")
    stats = LC.cvae_statistics(*SWEEP_DATA)
    res, b, pt = optimise(stats, 4, beta, eta_dec=eta_dec)
    assert res.status[b] == "converged"
    sp = LC.cvae_spectra(pt, stats)
    np.testing.assert_array_equal(sp.collapsed(1e-8), theta < tau)
    opt = LC.cvae_optimum(stats, 4, beta, eta_dec=eta_dec)
    np.testing.assert_array_equal(np.asarray(opt.collapsed), theta < tau)
    assert abs(float(res.values[b]) - opt.loss) <= 1e-9 * max(1.0, abs(opt.loss))


@pytest.mark.slow
def test_closed_form_matches_optimiser_over_many_seeds():
    """The heavy version of the agreement tests: 10 data seeds × 32 restarts × 4000 steps, mixed data,
    β ∈ {0.5, 2, 4}; every best restart matches Theorem 2 to 1e-8."""
    for seed in range(10):
        X, Y = mixed_data(seed)
        stats = LC.cvae_statistics(X, Y)
        for beta in (0.5, 2.0, 4.0):
            opt = LC.cvae_optimum(stats, 5, beta)
            res, b, pt = optimise(stats, 5, beta, restarts=32, steps=4000, seed=seed)
            assert res.grad_norms[b] <= 1e-10
            assert_matches(opt, pt, stats)


# ------------------------------------------------------------------ bad inputs


def test_bad_inputs_raise_value_errors_naming_the_argument():
    X, Y = mixed_data()
    stats = LC.cvae_statistics(X, Y)
    opt = LC.cvae_optimum(stats, 5, 2.0)
    for kwargs, name in [
        (dict(beta=0.0), "beta"),
        (dict(beta=-1.0), "beta"),
        (dict(beta=float("nan")), "beta"),
        (dict(beta=True), "beta"),
        (dict(beta=np.ones(2)), "beta"),
        (dict(beta=1.0, eta_enc=0.0), "eta_enc"),
        (dict(beta=1.0, eta_dec=-2.0), "eta_dec"),
        (dict(beta=1.0, eta_dec=float("inf")), "eta_dec"),
    ]:
        beta = kwargs.pop("beta")
        with pytest.raises(ValueError, match=name):
            LC.cvae_optimum(stats, 5, beta, **kwargs)
        with pytest.raises(ValueError, match=name):
            LC.cvae_loss(opt.params, stats, beta, **kwargs)
    for d_z in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="d_z"):
            LC.cvae_optimum(stats, d_z, 2.0)
    with pytest.raises(ValueError, match="one row per pair"):
        LC.cvae_statistics(X, Y[:-1])
    with pytest.raises(ValueError, match="n >= d_x"):
        LC.cvae_statistics(X[:3], Y[:3])
    with pytest.raises(ValueError, match="singular"):
        LC.cvae_statistics(np.c_[X, X[:, :1]], Y)
    with pytest.raises(ValueError, match="X"):
        LC.cvae_statistics(X[:, 0], Y)
    with pytest.raises(ValueError, match="NaN"):
        LC.cvae_statistics(np.where(X > 2, np.nan, X), Y)
    with pytest.raises(ValueError, match="params.W1"):
        LC.cvae_loss(opt.params._replace(W1=np.zeros((5, 4))), stats, 2.0)
    with pytest.raises(ValueError, match="params.log_sigma"):
        LC.cvae_loss(opt.params._replace(log_sigma=np.zeros(4)), stats, 2.0)
    with pytest.raises(ValueError, match="params.U1"):
        LC.cvae_loss(opt.params._replace(U1=np.zeros(5)), stats, 2.0)
    with pytest.raises(ValueError, match="CVAEParams"):
        LC.cvae_loss(tuple(opt.params), stats, 2.0)
    with pytest.raises(ValueError, match="stats"):
        LC.cvae_optimum((X, Y), 5, 2.0)
    with pytest.raises(ValueError, match="symmetric"):
        LC.cvae_statistics_from_moments(np.array([[1.0, 0.5], [0.0, 1.0]]), np.eye(2), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="C must have shape"):
        LC.cvae_statistics_from_moments(np.eye(2), np.eye(3), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="scale"):
        LC.cvae_init(2, 2, 2, scale=0.0)


def test_result_objects_serialise():
    import json

    from landscape.common.provenance import to_jsonable

    X, Y = mixed_data()
    stats = LC.cvae_statistics(X, Y)
    opt = LC.cvae_optimum(stats, 5, 2.0)
    d = opt.to_dict()
    assert d["n_collapsed"] == 2 and len(d["sigmas"]) == 5
    json.dumps(
        to_jsonable({"opt": d, "stats": stats.to_dict(), "spectra": LC.cvae_spectra(opt.params, stats).to_dict()})
    )
