"""The exact marginal likelihood log p_θ(x) of `landscape.marginal`, against real oracles.

- α = 0: p(x) = N(x | b, WWᵀ + γI), evaluated in 40-digit arithmetic (mpmath). At γ = 1e-6
  the float64 route through scipy's multivariate_normal is itself off by ~1e-9 relative
  (cond(WWᵀ + γI) ≈ 1e6), so it cannot serve as the oracle there.
- α > 0: adaptive quadrature of the raw integrand (scipy.integrate.quad, nested for κ = 2),
  with the kinks of π_α (and, for κ = 1, the integrand's peaks) as breakpoints.
- κ = 2 at small γ, where brute force is out of reach: W whose rows split into two groups,
  one per latent axis, turned by a rotation of the latent plane. The integral then
  factorises into two κ = 1 integrals (exact, and checked against brute force above).
- The collapsed point θ_c = (0, x̄, γ̄): value, gradient and Hessian in closed form.
- ELBO ≤ log p: `landscape.energy` at any φ is ≥ `marginal_energy`, with equality at the
  α = 0 optimum (`landscape.gamma.affine_optimum`), where both equal L_min of MATH.md §6.
- Derivatives: central finite differences of the value (gradients) and of the gradient
  (Hessians), including W with a zero entry and a zero row (whose kinks are at infinity).

Shapes are fixed (n = 5, d = 3) so that each jitted function compiles once.
"""

import math
import warnings

import jax
import jax.numpy as jnp
import mpmath as mp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jax.flatten_util import ravel_pytree
from scipy import integrate

import landscape
from landscape.analysis.gamma import affine_optimum
from landscape.analysis.stationary import certify
from landscape.core.energy import energy
from landscape.core.marginal import (
    DecoderParams,
    LogMarginal,
    decoder_params,
    log_likelihood,
    log_marginal,
    log_marginal_points,
    marginal_energy,
)
from landscape.core.moments import soft_threshold
from landscape.tools.curvature import dense_hessian

N, D = 5, 3
LOG_2PI = math.log(2 * math.pi)

points_jit = jax.jit(log_marginal_points)
energy_jit = jax.jit(marginal_energy)
value_and_grad_jit = jax.jit(jax.value_and_grad(log_likelihood))


def f64(x):
    """A float64 scalar that is not weakly typed, like the log_gamma that ``ravel_pytree``'s
    unravel returns: the jitted functions above then compile once per κ, not twice."""
    return jnp.asarray(x, dtype=jnp.float64)


def make_problem(seed, kappa, log_gamma, alpha=0.0, zero_entry=False):
    """θ and X (n = 5, d = 3): three points near the decoder's range, one generic, one far."""
    rng = np.random.default_rng(seed)
    W = rng.normal(size=(D, kappa))
    if zero_entry:
        W[0, 0] = 0.0
    b = rng.normal(size=D)
    Z = rng.normal(size=(N, kappa))
    X = np.asarray(soft_threshold(jnp.asarray(Z @ W.T), alpha)) + b
    X += math.exp(0.5 * log_gamma) * rng.normal(size=(N, D))
    X[3] = b + 2.0 * rng.normal(size=D)
    X[4] = b + 30.0 * rng.normal(size=D) / math.sqrt(D)
    theta = DecoderParams(jnp.asarray(W), jnp.asarray(b), f64(log_gamma))
    return theta, X


def affine_log_pdf(theta, X):
    """log N(x | b, WWᵀ + γI) in 40-digit arithmetic."""
    with mp.workdps(40):
        W = mp.matrix(np.asarray(theta.W).tolist())
        C = W * W.T + mp.exp(mp.mpf(float(theta.log_gamma))) * mp.eye(D)
        Ci, logdet = C**-1, mp.log(mp.det(C))
        out = []
        for x in X:
            y = mp.matrix((x - np.asarray(theta.b)).tolist())
            out.append(float(-0.5 * (D * mp.log(2 * mp.pi) + logdet + (y.T * Ci * y)[0])))
    return np.array(out)


def _log_integrand(theta, alpha, x):
    """z ↦ log N(z | 0, I) + log N(x | π_α(Wz) + b, γI), plain numpy."""
    W, b, g = np.asarray(theta.W), np.asarray(theta.b), math.exp(float(theta.log_gamma))
    const = -0.5 * W.shape[1] * LOG_2PI - 0.5 * D * math.log(2 * math.pi * g)

    def f(*z):
        z = np.array(z)
        u = W @ z
        r = x - b - np.sign(u) * np.maximum(np.abs(u) - alpha, 0.0)
        return const - 0.5 * float(z @ z) - 0.5 * float(r @ r) / g

    return f


def brute_force_k1(theta, alpha, x):
    """log p(x) by scipy.integrate.quad over a range that covers the prior and the α = 0
    posterior mean by 12 units. Breakpoints: the kinks ±α/|w_j|, and the local maxima of
    the integrand on a grid of step 1.2e-4 with offsets 1e-4 … 1 on either side (at small γ
    the peaks are narrower than quad's first sampling, which would otherwise miss them)."""
    W, b, g = np.asarray(theta.W), np.asarray(theta.b), math.exp(float(theta.log_gamma))
    w = W[:, 0]
    m0 = float(w @ (x - b)) / (g + float(w @ w))
    lo, hi = min(-12.0, m0 - 12.0), max(12.0, m0 + 12.0)
    z = np.linspace(lo, hi, 200_001)
    u = np.outer(z, w)
    r = x - b - np.sign(u) * np.maximum(np.abs(u) - alpha, 0.0)
    F = -0.5 * z * z - 0.5 * np.sum(r * r, axis=1) / g
    peaks = z[1:-1][(F[1:-1] >= F[:-2]) & (F[1:-1] >= F[2:])]
    f = _log_integrand(theta, alpha, x)
    shift = max(f(p) for p in peaks)
    near = {p + s * h for p in peaks for s in (-1, 1) for h in (0.0, 1e-4, 1e-3, 1e-2, 0.1, 1.0)}
    kinks = {s * alpha / v for v in np.abs(w) if v > 0 for s in (-1, 1)}
    points = sorted(t for t in near | kinks if lo < t < hi)
    with warnings.catch_warnings():
        # Far from the decoder's range f itself is rounded to ε|f| (|f| ~ 1e8 at γ = 1e-6),
        # which quad reports as roundoff; its error estimate is checked below on the scale
        # that matters, that of log p.
        warnings.simplefilter("ignore", integrate.IntegrationWarning)
        val, abserr = integrate.quad(
            lambda t: math.exp(f(t) - shift), lo, hi, points=points, epsabs=0, epsrel=1e-13, limit=1000
        )
    out = math.log(val) + shift
    assert abserr <= 1e-12 * val * max(1.0, abs(out)), "the oracle itself did not converge"
    return out


def brute_force_k2(theta, alpha, x, half_width=10.0):
    """log p(x) by nested scipy.integrate.quad: z₂ inside, with the kinks (±α − w_j1 z₁)/w_j2
    as breakpoints; z₁ outside, with the crossings of the kink lines as breakpoints."""
    f = _log_integrand(theta, alpha, x)
    W = np.asarray(theta.W)
    grid = np.linspace(-half_width, half_width, 101)
    shift = max(f(a, c) for a in grid for c in grid)
    crossings = []
    for j in range(D):
        for k in range(j + 1, D):
            M = np.array([W[j], W[k]])
            if abs(np.linalg.det(M)) > 1e-12:
                crossings += [np.linalg.solve(M, [s, t])[0] for s in (alpha, -alpha) for t in (alpha, -alpha)]
    outer_points = sorted(c for c in crossings if abs(c) < half_width) or None

    def inner(z1):
        kinks = [(s - W[j, 0] * z1) / W[j, 1] for j in range(D) if W[j, 1] != 0 for s in (alpha, -alpha)]
        kinks = sorted(k for k in kinks if abs(k) < half_width) or None
        val, _ = integrate.quad(
            lambda z2: math.exp(f(z1, z2) - shift), -half_width, half_width, points=kinks, epsabs=0, epsrel=1e-11
        )
        return val

    val, _ = integrate.quad(inner, -half_width, half_width, points=outer_points, epsabs=0, epsrel=1e-10, limit=200)
    return math.log(val) + shift


# ---------------------------------------------------------------------------------------
# The parameters.


def test_decoder_params_is_the_theta_part_of_vae_params():
    p = landscape.VAEParams(W=np.ones((D, 2)), b=np.zeros(D), log_gamma=np.asarray(-1.0), mu=0, log_sigma=0)
    theta = decoder_params(p)
    assert isinstance(theta, DecoderParams)
    assert theta._fields == ("W", "b", "log_gamma") == landscape.VAEParams._fields[:3]
    assert float(theta.gamma) == pytest.approx(math.exp(-1.0), rel=1e-15)
    flat, _ = ravel_pytree(DecoderParams(*(jnp.asarray(v) for v in theta)))
    assert flat.shape == (D * 2 + D + 1,)


# ---------------------------------------------------------------------------------------
# α = 0: the Gaussian closed form, down to γ = 1e-6.


@pytest.mark.parametrize("kappa", [1, 2])
@settings(max_examples=8)
@given(seed=st.integers(0, 2**31 - 1), log_gamma=st.floats(math.log(1e-6), 0.0))
def test_affine_marginal_matches_the_gaussian_closed_form(kappa, seed, log_gamma):
    theta, X = make_problem(seed, kappa, log_gamma)
    got = np.asarray(points_jit(theta, X, 0.0))
    want = affine_log_pdf(theta, X)
    np.testing.assert_allclose(got, want, rtol=1e-8, atol=0)


@pytest.mark.parametrize("kappa", [1, 2])
def test_affine_marginal_at_gamma_1e_minus_6_is_accurate_to_1e_minus_12(kappa):
    theta, X = make_problem(7, kappa, math.log(1e-6))
    got = np.asarray(points_jit(theta, X, 0.0))
    want = affine_log_pdf(theta, X)
    assert np.max(np.abs(got - want) / np.abs(want)) < 1e-12


# ---------------------------------------------------------------------------------------
# α > 0: brute-force quadrature of the raw integrand, and the honesty of the estimate.


@settings(max_examples=8)
@given(seed=st.integers(0, 2**31 - 1), alpha=st.floats(0.1, 1.5), log_gamma=st.floats(math.log(1e-6), 0.0))
def test_kappa1_matches_brute_force_quadrature(seed, alpha, log_gamma):
    theta, X = make_problem(seed, 1, log_gamma, alpha, zero_entry=seed % 2 == 0)
    res = log_marginal(theta, X[:4], alpha)
    want = np.array([brute_force_k1(theta, alpha, x) for x in X[:4]])
    err = np.abs(res.points - want)
    assert np.all(err <= 1e-8 * np.abs(want))
    assert np.all(err <= np.maximum(res.error_points, 1e-12 * np.maximum(1.0, np.abs(want))))


@pytest.mark.parametrize(
    ("seed", "alpha", "gamma", "zero_entry", "point"),
    [(0, 0.4, 0.1, False, 0), (3, 1.0, 0.3, True, 3)],  # a point near the decoder's range, a generic one
)
def test_kappa2_matches_nested_brute_force_quadrature(seed, alpha, gamma, zero_entry, point):
    theta, X = make_problem(seed, 2, math.log(gamma), alpha, zero_entry=zero_entry)
    res = log_marginal(theta, X, alpha)
    want = brute_force_k2(theta, alpha, X[point])
    err = abs(res.points[point] - want)
    assert err <= 1e-8 * abs(want)
    assert err <= max(res.error_points[point], 1e-12 * max(1.0, abs(want)))


@pytest.mark.parametrize("alpha", [0.5, 1.5])
def test_kappa1_at_gamma_1e_minus_6_matches_brute_force(alpha):
    theta, X = make_problem(11, 1, math.log(1e-6), alpha, zero_entry=alpha > 1)
    res = log_marginal(theta, X, alpha)
    want = np.array([brute_force_k1(theta, alpha, x) for x in X])
    err = np.abs(res.points - want)
    assert np.all(err <= 1e-11 * np.abs(want))
    assert np.all(err <= np.maximum(res.error_points, 1e-12 * np.maximum(1.0, np.abs(want))))


def test_kappa2_small_gamma_agrees_with_a_finer_quadrature():
    """At γ = 1e-6 nested brute force is out of reach: the default resolution must agree
    with a far finer one, within its own error estimate (the independent oracle at small γ
    is the factorised test below)."""
    theta, X = make_problem(11, 2, math.log(1e-6), alpha=0.5)
    res = log_marginal(theta, X, 0.5)
    fine = log_marginal(theta, X, 0.5, levels=16, order=12)
    np.testing.assert_allclose(res.points, fine.points, rtol=1e-10)
    assert np.all(np.abs(res.points - fine.points) <= np.maximum(res.error_points, 1e-12 * np.abs(fine.points)))


def _log_kappa1_factor(W0, column, rows, b, log_gamma, X, alpha):
    """log ∫ Π_{j ∈ rows} N(x_j | π_α(W0[j, column] z) + b_j, γ) N(z | 0, 1) dz: the κ = 1
    likelihood of the rows alone, with the other coordinates of x set to b (each of them
    then contributes log N(b_j | b_j, γ) = −½ log 2πγ, removed exactly)."""
    w = np.zeros((D, 1))
    w[rows, 0] = W0[rows, column]
    Xk = np.tile(b, (len(X), 1))
    Xk[:, rows] = X[:, rows]
    theta = DecoderParams(jnp.asarray(w), jnp.asarray(b), f64(log_gamma))
    return np.asarray(points_jit(theta, Xk, alpha)) + 0.5 * (D - len(rows)) * (LOG_2PI + log_gamma)


@pytest.mark.parametrize("log_gamma", [math.log(1e-6), math.log(1e-8)])
@pytest.mark.parametrize(
    ("W0", "groups"),
    [
        ([[1.3, 0.0], [0.7, 0.0], [0.0, -0.9]], ([0, 1], [2])),  # two parallel rows
        ([[1.3, 0.0], [0.0, -0.9], [0.0, 0.0]], ([0], [1])),  # a zero row
    ],
)
def test_kappa2_at_small_gamma_factorises_into_kappa1_integrals(W0, groups, log_gamma):
    """W = W0 R, where the rows in groups[k] of W0 load on latent axis k only, and R turns
    the latent plane (p is invariant: the prior is isotropic). Then
    p(x) = I_0(x) I_1(x) Π_{other j} N(x_j | b_j, γ), each I_k a κ = 1 integral, exact and
    independent of the κ = 2 quadrature. Before the refinement of m, the parallel rows
    at γ = 1e-8 erred by 9e-10 relative, 2600 times the reported error estimate."""
    alpha = 0.5
    W0 = np.asarray(W0)
    rng = np.random.default_rng(21)
    b = rng.normal(size=D)
    U = rng.normal(size=(N, 2)) @ W0.T
    X = np.sign(U) * np.maximum(np.abs(U) - alpha, 0.0) + b + math.exp(0.5 * log_gamma) * rng.normal(size=(N, D))
    X[4] = b + 2.0 * rng.normal(size=D)  # a point off the decoder's range
    other = [j for j in range(D) if j not in groups[0] + groups[1]]
    want = sum(_log_kappa1_factor(W0, k, rows, b, log_gamma, X, alpha) for k, rows in enumerate(groups))
    want += np.sum(-0.5 * (LOG_2PI + log_gamma) - 0.5 * (X[:, other] - b[other]) ** 2 / math.exp(log_gamma), axis=1)
    c, s = math.cos(0.37), math.sin(0.37)
    theta = DecoderParams(jnp.asarray(W0 @ np.array([[c, -s], [s, c]])), jnp.asarray(b), f64(log_gamma))
    res = log_marginal(theta, X, alpha)
    err = np.abs(res.points - want)
    assert np.all(err <= 1e-11 * np.abs(want))
    assert np.all(err <= np.maximum(res.error_points, 1e-12 * np.maximum(1.0, np.abs(want))))


# ---------------------------------------------------------------------------------------
# The collapsed point θ_c = (0, x̄, γ̄).


def collapsed_point(kappa):
    """X (n = 5, d = 3) with distinct column scales, θ_c = (0, x̄, γ̄), Y = X − x̄ and γ̄."""
    rng = np.random.default_rng(13)
    X = rng.normal(size=(N, D)) * np.array([2.0, 1.0, 0.5]) + rng.normal(size=D)
    xbar = X.mean(axis=0)
    Y = X - xbar
    gbar = float(np.mean(Y**2))
    theta = DecoderParams(jnp.zeros((D, kappa)), jnp.asarray(xbar), f64(math.log(gbar)))
    return X, theta, Y, gbar


def _grad_energy(X, alpha, unravel):
    """v ↦ ∇L_p at unravel(v) (L_p = −2 log-likelihood + const)."""
    return lambda v: -2.0 * ravel_pytree(value_and_grad_jit(unravel(v), X, alpha)[1])[0]


@pytest.mark.parametrize("kappa", [1, 2])
@pytest.mark.parametrize("alpha", [0.0, 0.5])
def test_collapsed_point_value_and_gradient(kappa, alpha):
    """At W = 0, p(x) = N(x | b, γI) exactly: L_p(θ_c) = nd(1 + log γ̄) + nκ, equal to
    L(θ_c, φ_c) with q = p(z) (the exact posterior there), and ∇L_p(θ_c) = 0."""
    X, theta, _, gbar = collapsed_point(kappa)
    L_c = N * D * (1.0 + math.log(gbar)) + N * kappa
    assert float(energy_jit(theta, X, alpha)) == pytest.approx(L_c, rel=1e-14)
    prior = landscape.VAEParams(*theta, mu=np.zeros((N, kappa)), log_sigma=np.zeros((N, kappa)))
    assert float(energy(prior, X, alpha)) == pytest.approx(L_c, rel=1e-14)
    flat, unravel = ravel_pytree(theta)
    assert np.max(np.abs(_grad_energy(X, alpha, unravel)(flat))) < 1e-12 * N / gbar


@pytest.mark.parametrize(
    ("kappa", "alpha"),
    [(1, 0.0), (1, 0.5), pytest.param(2, 0.0, marks=pytest.mark.slow), pytest.param(2, 0.5, marks=pytest.mark.slow)],
)
def test_collapsed_point_hessian(kappa, alpha):
    """∇²L_p(θ_c) is block diagonal, with S = YᵀY/n:

    - b: (2n/γ̄) I; log γ: nd;
    - each column of W: (2n/γ̄)(I − S/γ̄) at α = 0, from −2 Σ_i ∂²/∂w² log N(y_i | 0, wwᵀ + γ̄I)
      = −2 Σ_i (y_i y_iᵀ/γ̄² − I/γ̄) at w = 0 (the Schur complement of the μ block of
      MATH.md §4: one negative eigenvalue per λ_l > γ̄ and column), and 0 at α > 0, where
      π_α(wz) ≠ 0 only on |wz| > α, of prior mass ~ e^(−α²/2w²): every W-derivative of p
      vanishes at w = 0.

    Checked against the closed form and against central differences of the gradient."""
    X, theta, Y, gbar = collapsed_point(kappa)
    S = Y.T @ Y / N
    W_block = (2 * N / gbar) * (np.eye(D) - S / gbar) if alpha == 0 else np.zeros((D, D))
    p = D * kappa
    want = np.zeros((p + D + 1, p + D + 1))  # ravel order: W (row-major, D × κ), b, log γ
    want[:p, :p] = np.kron(W_block, np.eye(kappa))
    want[p : p + D, p : p + D] = (2 * N / gbar) * np.eye(D)
    want[-1, -1] = N * D
    H = np.asarray(dense_hessian(marginal_energy, theta, (X, alpha)))
    np.testing.assert_allclose(H, want, rtol=0, atol=1e-11 * np.max(np.abs(want)))
    flat, unravel = ravel_pytree(theta)
    grad = _grad_energy(X, alpha, unravel)
    h = 1e-5
    fd = np.stack([(grad(flat.at[k].add(h)) - grad(flat.at[k].add(-h))) / (2 * h) for k in range(flat.size)], axis=1)
    np.testing.assert_allclose(fd, want, rtol=0, atol=1e-6 * np.max(np.abs(want)))  # as in the tests below
    negative = kappa * np.sum(np.linalg.eigvalsh(S) > gbar) if alpha == 0 else 0
    assert np.sum(np.linalg.eigvalsh(H) < -1e-9 * np.max(np.abs(want))) == negative


# ---------------------------------------------------------------------------------------
# Derivatives.


def _fd_gradient(f, flat, h=1e-6):
    out = np.zeros(flat.size)
    for k in range(flat.size):
        e = np.zeros(flat.size)
        e[k] = h * max(1.0, abs(float(flat[k])))
        out[k] = (float(f(flat + e)) - float(f(flat - e))) / (2 * e[k])
    return out


@pytest.mark.parametrize("kappa", [1, 2])
@pytest.mark.parametrize(("alpha", "log_gamma"), [(0.0, 0.0), (0.0, -6.0), (0.5, -1.0), (0.5, -8.0)])
def test_gradient_matches_central_differences(kappa, alpha, log_gamma):
    theta, X = make_problem(2, kappa, log_gamma, alpha, zero_entry=True)  # W[0, 0] = 0: for κ = 1 a zero row
    if kappa == 2:
        theta = theta._replace(W=theta.W.at[1].set(0.0))  # and a zero row
    flat, unravel = ravel_pytree(theta)
    _, g = value_and_grad_jit(theta, X, alpha)
    g = ravel_pytree(g)[0]
    fd = _fd_gradient(lambda v: jnp.sum(points_jit(unravel(v), X, alpha)), flat)
    assert np.max(np.abs(np.asarray(g) - fd)) <= 1e-6 * np.max(np.abs(fd))


def test_hessian_matches_central_differences_kappa1():
    theta, X = make_problem(4, 1, -2.0, 0.5, zero_entry=True)
    H = np.asarray(dense_hessian(marginal_energy, theta, (X, 0.5)))
    flat, unravel = ravel_pytree(theta)

    def grad(v):  # of L_p = −2 log-likelihood + const
        return -2.0 * ravel_pytree(value_and_grad_jit(unravel(v), X, 0.5)[1])[0]

    h = 1e-5
    fd = np.stack([(grad(flat.at[k].add(h)) - grad(flat.at[k].add(-h))) / (2 * h) for k in range(flat.size)], axis=1)
    assert np.max(np.abs(H - fd)) <= 1e-6 * np.max(np.abs(H))


@pytest.mark.slow
def test_hessian_matches_central_differences_kappa2():
    theta, X = make_problem(4, 2, -1.0, 0.5, zero_entry=True)
    H = np.asarray(dense_hessian(marginal_energy, theta, (X, 0.5)))
    flat, unravel = ravel_pytree(theta)
    grad = jax.jit(lambda v: ravel_pytree(jax.grad(marginal_energy)(unravel(v), X, 0.5))[0])
    h = 1e-5
    fd = np.stack([(grad(flat.at[k].add(h)) - grad(flat.at[k].add(-h))) / (2 * h) for k in range(flat.size)], axis=1)
    assert np.max(np.abs(H - fd)) <= 1e-6 * np.max(np.abs(H))


# ---------------------------------------------------------------------------------------
# ELBO ≤ log p, with equality at the α = 0 optimum.


@pytest.mark.parametrize("kappa", [1, 2])
@settings(max_examples=8)
@given(
    seed=st.integers(0, 2**31 - 1),
    alpha=st.sampled_from([0.0, 0.6]),
    log_gamma=st.floats(-6.0, 1.0),
)
def test_energy_is_at_least_the_marginal_energy(kappa, seed, alpha, log_gamma):
    theta, X = make_problem(seed, kappa, log_gamma, alpha)
    rng = np.random.default_rng(seed + 1)
    params = landscape.VAEParams(
        W=theta.W,
        b=theta.b,
        log_gamma=theta.log_gamma,
        mu=rng.normal(size=(N, kappa)),
        log_sigma=rng.normal(scale=0.5, size=(N, kappa)) + 0.5 * log_gamma,
    )
    lp = float(energy_jit(theta, X, alpha))
    assert float(energy(params, X, alpha)) >= lp - 1e-9 * max(1.0, abs(lp))


@pytest.mark.parametrize("kappa", [1, 2])
def test_bound_is_tight_at_the_affine_optimum(kappa):
    rng = np.random.default_rng(8)
    X = rng.normal(size=(N, D)) * np.array([3.0, 1.0, 0.3]) + rng.normal(size=D)
    opt = affine_optimum(X, kappa)  # the exact posterior: ELBO = log p
    lp = float(energy_jit(decoder_params(opt), X, 0.0))
    assert float(energy(opt, X, 0.0)) == pytest.approx(lp, rel=1e-9)
    lam = np.sort(np.linalg.eigvalsh(landscape.data_covariance(X)))[::-1]
    g_ml = lam[kappa:].mean()
    l_min = N * (np.sum(np.log(lam[:kappa]) + 1) + (D - kappa) * (np.log(g_ml) + 1)) + N * kappa
    assert lp == pytest.approx(l_min, rel=1e-9)


def test_marginal_energy_plugs_into_certify():
    """At α = 0 the pPCA maximum-likelihood point is a strict minimum of L_p (κ = 1)."""
    rng = np.random.default_rng(9)
    X = rng.normal(size=(N, D)) * np.array([3.0, 1.0, 0.3]) + rng.normal(size=D)
    theta = decoder_params(affine_optimum(X, 1))
    cert = certify(energy_jit, theta, (X, 0.0))
    assert cert.stationary and cert.label == "strict_min"
    assert cert.value == pytest.approx(float(energy_jit(theta, X, 0.0)), rel=1e-12)


# ---------------------------------------------------------------------------------------
# jit, vmap, the checked front end.


def test_jit_equals_checked_front_end_kappa2():
    theta, X = make_problem(5, 2, -3.0, 0.4)
    assert float(energy_jit(theta, X, 0.4)) == pytest.approx(log_marginal(theta, X, 0.4).energy, rel=1e-13)


@pytest.mark.parametrize("kappa", [1, 2])
def test_vmap_over_a_batch_of_theta(kappa):
    thetas = [make_problem(s, kappa, -1.0 - s, 0.3)[0] for s in range(3)]
    _, X = make_problem(0, kappa, -1.0, 0.3)
    batch = jax.tree.map(lambda *v: jnp.stack(v), *thetas)
    got = jax.jit(jax.vmap(marginal_energy, in_axes=(0, None, None)))(batch, X, 0.3)
    want = [float(energy_jit(t, X, 0.3)) for t in thetas]
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-12)


def test_alpha_may_be_traced_and_differentiated():
    theta, X = make_problem(6, 1, -2.0, 0.3)
    f = jax.jit(lambda a: jnp.sum(log_marginal_points(theta, X, a)))
    assert float(f(0.3)) == pytest.approx(float(jnp.sum(points_jit(theta, X, 0.3))), rel=1e-13)
    g = float(jax.jit(jax.grad(lambda a: jnp.sum(log_marginal_points(theta, X, a))))(0.3))
    h = 1e-6
    assert g == pytest.approx((float(f(0.3 + h)) - float(f(0.3 - h))) / (2 * h), rel=1e-6)


def decoder_params_vae(theta):
    """A VAEParams carrying θ (log_marginal accepts it and uses its θ part)."""
    return landscape.VAEParams(theta.W, theta.b, theta.log_gamma, np.zeros((N, 2)), np.zeros((N, 2)))


def test_log_marginal_result_and_max_pieces_bound():
    theta, X = make_problem(1, 2, -4.0, 0.5)
    res = log_marginal(theta, X, 0.5)
    assert isinstance(res, LogMarginal) and res.kappa == 2
    assert res.points.shape == (N,) and res.error_points.shape == (N,)
    assert res.total == pytest.approx(res.points.sum(), rel=1e-15)
    assert res.energy == pytest.approx(-2 * res.total - N * D * LOG_2PI + N * 2, rel=1e-15)
    assert res.error_total == pytest.approx(res.error_points.sum())
    assert res.settings["levels"] == 8 and res.settings["order"] == 8
    assert np.all(res.error_points < 1e-10 * np.maximum(1.0, np.abs(res.points)))
    few = log_marginal(theta, X, 0.5, max_pieces=6)  # leaves pieces out: a bounded, reported loss
    assert np.all(few.points <= res.points + 1e-12)
    assert np.all(res.points - few.points <= few.error_points)
    assert log_marginal(decoder_params_vae(theta), X, 0.5).total == pytest.approx(res.total, rel=1e-14)
    assert log_marginal(*make_problem(1, 1, -4.0, 0.5), 0.5).method == "exact-intervals"


# ---------------------------------------------------------------------------------------
# Bad input.


def _bad_inputs():
    theta, X = make_problem(0, 1, -1.0)
    W, b, lg = (np.asarray(v) for v in theta)
    X_nan = X.copy()
    X_nan[0, 0] = np.nan
    X_inf = X.copy()
    X_inf[1, 2] = np.inf
    W_nan = W.copy()
    W_nan[0, 0] = np.nan
    return [
        ((theta, X, -0.1), "alpha"),
        ((theta, X, float("nan")), "alpha"),
        ((theta, X, float("inf")), "alpha"),
        ((theta, X, np.ones(2)), "alpha must be a scalar"),
        ((theta, X_nan, 0.1), "X contains"),
        ((theta, X_inf, 0.1), "X contains"),
        ((theta, X[0], 0.1), "X must be a 2-D"),
        ((theta, X[:, :2], 0.1), r"theta\.W must have shape"),
        ((DecoderParams(np.ones((D, 3)), b, lg), X, 0.1), r"kappa <= 2"),
        ((DecoderParams(np.ones((D, 0)), b, lg), X, 0.1), r"kappa <= 2"),
        ((DecoderParams(np.ones(D), b, lg), X, 0.1), r"theta\.W must have shape"),
        ((DecoderParams(W, b[:2], lg), X, 0.1), r"theta\.b"),
        ((DecoderParams(W, b, np.zeros(2)), X, 0.1), r"theta\.log_gamma must be a scalar"),
        ((DecoderParams(W_nan, b, lg), X, 0.1), r"theta\.W contains NaN"),
        ((DecoderParams(W, b, np.asarray(np.nan)), X, 0.1), r"theta\.log_gamma contains NaN"),
        ((DecoderParams(W, b, np.asarray(800.0)), X, 0.1), "gamma"),
        ((DecoderParams(W, b, np.asarray(-800.0)), X, 0.1), "gamma"),
        (((W, b, lg), X, 0.1), "theta must be"),
    ]


@pytest.mark.parametrize(("args", "match"), _bad_inputs())
def test_bad_input_raises_value_error_naming_the_argument(args, match):
    with pytest.raises(ValueError, match=match):
        log_marginal(*args)


@pytest.mark.parametrize(("kwargs", "match"), [({"levels": 1}, "levels"), ({"order": 0}, "order")])
def test_bad_resolution_raises(kwargs, match):
    theta, X = make_problem(0, 2, -1.0)
    with pytest.raises(ValueError, match=match):
        log_marginal(theta, X, 0.1, **kwargs)
