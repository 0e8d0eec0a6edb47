"""landscape.analysis.sphere_theory: g(v) = E π_α(√v ζ)² and the leading order of m(r) (issue 19).

Oracles: numerical quadrature of ∫₀^∞ x² e^{−tx − x²/2} dx (numpy, independent of the continued
fraction), mpmath at 50 digits, the library's soft-threshold moments at m = 0, the exact
collapsed spectrum's 2×2 blocks (MATH.md §4) and the Schur complement of the dense Hessian.
"""

import math

import mpmath
import numpy as np
import pytest

import landscape
from landscape.analysis.sphere_theory import (
    g_soft,
    leading_order_excess,
    log_g_soft,
    mills_h,
    relative_correction,
    validity_radius,
)


def _log_g_quadrature(v, alpha):
    """log g by a fine trapezoid of h(t) = ∫₀^∞ x² e^{−tx − x²/2} dx (positive integrand, no cancellation)."""
    t = alpha / math.sqrt(v)
    top = min(40.0, 60.0 / max(t, 1e-300))  # the integrand is below e^{-60} beyond
    x = np.linspace(0.0, top, 200_001)
    f = x**2 * np.exp(-t * x - 0.5 * x * x)
    h = float(np.sum(0.5 * (f[1:] + f[:-1]) * np.diff(x)))
    return math.log(2 * v) - 0.5 * t * t - 0.5 * math.log(2 * math.pi) + math.log(h)


@pytest.mark.parametrize(
    "v, alpha",
    [(0.01**2 / 3, 0.1), (1e-4, 0.05), (0.02, 0.5), (0.3, 0.5), (1.0, 0.1), (4.0, 1.0), (1e-3, 1.0)],
)
def test_g_soft_matches_quadrature_even_for_tiny_values(v, alpha):
    ref = _log_g_quadrature(v, alpha)
    assert float(log_g_soft(v, alpha)) == pytest.approx(ref, rel=0, abs=1e-10)  # g to 1e-10, relative
    assert float(g_soft(v, alpha)) == pytest.approx(math.exp(ref), rel=1e-8)


def test_g_soft_at_the_issue_point_against_mpmath():
    mpmath.mp.dps = 50
    v, a = mpmath.mpf("0.01") ** 2 / 3, mpmath.mpf("0.1")
    s = mpmath.sqrt(v)
    ref = 2 * ((a * a + v) * mpmath.ncdf(-a / s) - a * s * mpmath.npdf(a / s))  # ≈ 7.2e-74
    got = float(g_soft(0.01**2 / 3, 0.1))
    assert 1e-75 < got < 1e-72
    assert got == pytest.approx(float(ref), rel=1e-13)


def test_log_g_soft_stays_finite_far_below_float64():
    mpmath.mp.dps = 40  # the closed form cancels by t⁴/2 = 5e11 here: mpf throughout
    v, a = mpmath.mpf(1e-6), mpmath.mpf(1)
    s = mpmath.sqrt(v)
    ref = mpmath.log(2 * ((a * a + v) * mpmath.ncdf(-a / s) - a * s * mpmath.npdf(a / s)))
    assert float(g_soft(1e-6, 1.0)) == 0.0  # underflows
    assert float(log_g_soft(1e-6, 1.0)) == pytest.approx(float(ref), rel=1e-14)


def test_g_soft_agrees_with_the_soft_threshold_moments():
    v = np.geomspace(0.02, 20.0, 25)
    alpha = 0.7
    mean, var = landscape.soft_threshold_moments(np.zeros_like(v), v, alpha)
    np.testing.assert_allclose(np.asarray(mean), 0.0, atol=1e-15)  # E π_α = 0 for a centred Gaussian
    np.testing.assert_allclose(g_soft(v, alpha), np.asarray(var), rtol=1e-11)


def test_g_soft_limits_and_convexity():
    assert float(g_soft(0.0, 0.3)) == 0.0
    np.testing.assert_allclose(g_soft([0.0, 0.5, 2.0], 0.0), [0.0, 0.5, 2.0], rtol=1e-15)  # α = 0: g(v) = v
    v = np.geomspace(1e-3, 1e3, 400)
    g = g_soft(v, 1.0)
    # convex in v on the whole range (g'' = α φ(α/√v) / v^{3/2} > 0): slopes of chords increase
    slopes = np.diff(g) / np.diff(v)
    assert np.all(np.diff(slopes) > 0)
    # g'(v) = 2 Φ(−α/√v)
    dv = 1e-6
    fd = (g_soft(2.0 + dv, 1.0) - g_soft(2.0 - dv, 1.0)) / (2 * dv)
    assert float(fd) == pytest.approx(math.erfc(1 / math.sqrt(2) / math.sqrt(2.0)), rel=1e-7)


def test_mills_h_against_mpmath_across_the_switch():
    mpmath.mp.dps = 40
    for t in (0.0, 0.3, 1.49, 1.5, 1.51, 3.0, 10.0, 37.0):
        tm = mpmath.mpf(t)
        ref = (1 + tm * tm) * mpmath.ncdf(-tm) / mpmath.npdf(tm) - tm
        assert float(mills_h(t)) == pytest.approx(float(ref), rel=2e-14)


def test_affine_prediction_is_the_schur_complement_of_the_exact_spectrum(rng):
    """α = 0: the 2×2 block of MATH.md §4 for the top singular value, Schur-reduced, is 2 × the r² coefficient."""
    X = rng.normal(size=(12, 4)) * [2.0, 1.0, 0.7, 0.4]
    data = landscape.as_data(X)
    n, gb, lam = data.n, float(data.gamma_bar), float(data.eigenvalues[0])
    sigma1 = math.sqrt(n * lam)
    block = np.array([[2 * n / gb, -2 * sigma1 / gb], [-2 * sigma1 / gb, 2.0]])
    schur = block[0, 0] - block[0, 1] ** 2 / block[1, 1]
    radii = np.array([0.0, 1e-3, 0.5])
    np.testing.assert_allclose(leading_order_excess(X, 0.0, 2, radii), 0.5 * schur * radii**2, rtol=1e-13)
    # the same from the dense Hessian: Schur complement of the inner block, Rayleigh quotient along u_1 e_1ᵀ
    H = np.asarray(landscape.hessian(landscape.collapsed_point(X, 1), X, 0.0))
    P = data.d  # W comes first in the ravel order
    red = H[:P, :P] - H[:P, P:] @ np.linalg.solve(H[P:, P:], H[P:, :P])
    u1 = data.eigenvectors[:, 0]
    assert 0.5 * u1 @ red @ u1 == pytest.approx(0.5 * schur, rel=1e-10)
    assert np.linalg.eigvalsh(red)[0] == pytest.approx(schur, rel=1e-10)


def test_soft_prediction_is_the_even_spread_and_accepts_a_data_object(rng):
    X = rng.normal(size=(10, 3))
    data = landscape.as_data(X)
    r = np.array([[0.1, 0.2], [0.3, 0.0]])
    got = leading_order_excess(data, 0.5, 1, r)
    assert got.shape == r.shape
    np.testing.assert_allclose(got, 10 * 3 / float(data.gamma_bar) * g_soft(r**2 / 3, 0.5), rtol=1e-14)
    np.testing.assert_allclose(got, leading_order_excess(X, 0.5, 3, r), rtol=0)  # no κ dependence at this order
    # the spread beats any other split of the same ‖W‖² over the rows (Jensen)
    for v in ([0.09, 0.0, 0.0], [0.05, 0.03, 0.01], [0.045, 0.045, 0.0]):
        assert 10 / float(data.gamma_bar) * np.sum(g_soft(np.array(v), 0.5)) > got[1, 0] * (1 + 1e-12)


def test_relative_correction_and_validity_radius_are_consistent(rng):
    X = rng.normal(size=(20, 3)) * [2.0, 1.0, 0.5]
    a = 0.4
    r_valid = validity_radius(X, a)
    assert 0.3 * a < r_valid < 0.8 * a
    assert relative_correction(X, a, r_valid) <= 0.1 + 1e-12
    eps = relative_correction(X, a, np.array([0.0, 0.05, 0.1, 0.2]))
    assert eps[0] == 0.0 and np.all(np.diff(eps) > 0)
    t = a * math.sqrt(3) / 0.2  # large t: ε → (λ_1/γ̄) t φ(t) (1 + 4/t²) to leading orders
    data = landscape.as_data(X)
    asym = float(data.eigenvalues[0] / data.gamma_bar) * t * math.exp(-t * t / 2) / math.sqrt(2 * math.pi)
    assert eps[3] == pytest.approx(asym * (1 + 4 / t**2), rel=0.05)
    # α = 0: √(rtol |C₁/C₂|)
    assert relative_correction(X, 0.0, validity_radius(X, 0.0)) == pytest.approx(0.1, rel=1e-12)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda X: g_soft(-1.0, 0.1), "v must be >= 0"),
        (lambda X: g_soft(np.nan, 0.1), "v contains NaN"),
        (lambda X: g_soft(1.0, -0.1), "alpha"),
        (lambda X: mills_h(-1.0), "t must be >= 0"),
        (lambda X: leading_order_excess(X, 0.1, 0, 0.1), "kappa"),
        (lambda X: leading_order_excess(X, 0.1, 1, [-0.1]), "radii must be >= 0"),
        (lambda X: leading_order_excess(X, 0.1, 1, "a"), "radii"),
        (lambda X: leading_order_excess(np.ones((4, 2)), 0.1, 1, 0.1), "X"),
        (lambda X: validity_radius(X, 0.1, rtol=2.0), "rtol"),
    ],
)
def test_bad_arguments_name_themselves(call, match, rng):
    with pytest.raises(ValueError, match=match):
        call(rng.normal(size=(6, 2)))
