"""The collapsed point of MATH.md §3 and its exact Hessian spectrum (§4)."""

import numpy as np
import pytest
from conftest import random_data
from hypothesis import given, settings
from hypothesis import strategies as st

import landscape
from landscape import collapsed_point, collapsed_spectrum, grad_norm, spectrum

SHAPES = [(20, 3, 1), (4, 7, 2), (9, 5, 3), (30, 4, 2), (3, 6, 1)]  # n > d and n < d


@pytest.mark.parametrize("alpha", [0.0, 0.3])
@pytest.mark.parametrize("n,d,kappa", SHAPES)
def test_gradient_vanishes_at_the_collapsed_point(alpha, n, d, kappa):
    X = random_data(np.random.default_rng(n * d), n, d)
    assert grad_norm(collapsed_point(X, kappa), X, alpha) <= 1e-10


@pytest.mark.parametrize("n,d,kappa", SHAPES)
def test_collapsed_energy_matches_formula(n, d, kappa):
    X = random_data(np.random.default_rng(3 + n), n, d)
    gbar = np.mean((X - X.mean(0)) ** 2)
    expected = n * d * (1 + np.log(gbar)) + n * kappa
    for alpha in (0.0, 0.7):
        assert float(landscape.energy(collapsed_point(X, kappa), X, alpha)) == pytest.approx(expected, rel=1e-13)
    assert landscape.collapsed_energy(X, kappa) == pytest.approx(expected, rel=1e-14)


def _assert_spectra_match(measured, predicted, rel=1e-8):
    scale = np.max(np.abs(predicted))
    err = np.abs(measured - predicted) / np.maximum(np.abs(predicted), 1e-300)
    zero = np.abs(predicted) == 0
    assert np.all(err[~zero] <= rel), np.max(err[~zero])
    assert np.all(np.abs(measured[zero]) <= rel * scale)


@pytest.mark.parametrize("alpha", [0.0, 0.05, 2.0])
@pytest.mark.parametrize("n,d,kappa", SHAPES)
@settings(max_examples=3)
@given(seed=st.integers(0, 2**31 - 1))
def test_full_spectrum_matches_math_md_section_4(n, d, kappa, alpha, seed):
    X = random_data(np.random.default_rng(seed), n, d)
    s = spectrum(collapsed_point(X, kappa), X, alpha)
    _assert_spectra_match(s.eigenvalues, collapsed_spectrum(X, kappa, alpha))


@pytest.mark.parametrize("n,d,kappa", SHAPES)
def test_inertia_at_the_collapsed_point(n, d, kappa):
    """α = 0: a strict saddle with κ·#{λ_l > γ̄} negative eigenvalues; α > 0: PSD with dκ zeros."""
    X = random_data(np.random.default_rng(n + 100 * d), n, d)
    p = collapsed_point(X, kappa)
    lam = np.linalg.eigvalsh(landscape.data_covariance(X))
    k_neg = kappa * int(np.sum(lam > landscape.gamma_bar(X)))
    assert k_neg >= kappa  # anisotropic data: at least one direction above γ̄
    s0 = spectrum(p, X, 0.0)
    assert (s0.n_negative, s0.n_zero) == (k_neg, 0)
    assert landscape.n_negative_affine(X, kappa) == k_neg
    s1 = spectrum(p, X, 0.4)
    assert s1.inertia == (0, d * kappa, s1.eigenvalues.size - d * kappa)


def test_isotropic_data_has_no_negative_curvature():
    """Data with S ∝ I (a 2² factorial design, centred): every λ_l = γ̄, so index 0."""
    X = np.array([[1.0, 1.0], [1.0, -1.0], [-1.0, 1.0], [-1.0, -1.0]])
    assert landscape.n_negative_affine(X, 1) == 0
    assert spectrum(collapsed_point(X, 1), X, 0.0).n_negative == 0
