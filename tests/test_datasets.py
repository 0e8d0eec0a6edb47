"""Proposition 1 data sets lie on the decoder's range, reproducibly (MATH.md §5)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import landscape
from landscape import prop1_dataset, soft_threshold


@settings(max_examples=20)
@given(
    alpha=st.floats(0.0, 3.0),
    n=st.integers(2, 40),
    d=st.integers(2, 6),
    seed=st.integers(0, 10_000),
)
def test_data_lie_on_the_soft_threshold_decoder_range(alpha, n, d, seed):
    kappa = max(1, d - 2)
    ds = prop1_dataset(alpha, n=n, d=d, kappa=kappa, seed=seed)
    w = ds.witness
    assert ds.X.shape == (n, d) and w.W.shape == (d, kappa) and w.Z.shape == (n, kappa)
    np.testing.assert_allclose(np.asarray(soft_threshold(w.Z @ w.W.T, alpha)) + w.b, ds.X, rtol=0, atol=1e-14)
    assert landscape.gamma_bar(ds.X) > 0


def test_same_seed_same_data_other_seed_other_data():
    a = prop1_dataset(0.3, n=15, d=4, kappa=2, seed=5)
    b = prop1_dataset(0.3, n=15, d=4, kappa=2, seed=5)
    c = prop1_dataset(0.3, n=15, d=4, kappa=2, seed=6)
    np.testing.assert_array_equal(a.X, b.X)
    assert not np.allclose(a.X, c.X)


def test_reconstructing_path_reconstructs():
    ds = prop1_dataset(0.5, n=10, d=3, kappa=1, seed=2)
    p = ds.witness.path_params(1e-3)
    assert float(p.gamma) == pytest.approx(1e-6)
    # expected squared error ≈ t² Σ_ij 1{|w_jᵀz_i| > α} ‖w_j‖², so divided by γ = t² it stays O(1)
    err = float(landscape.expected_sq_error(p, ds.X, 0.5)) / 1e-6
    active = np.abs(ds.witness.Z @ ds.witness.W.T) > 0.5
    expected = np.sum(active * np.sum(ds.witness.W**2, axis=1))
    assert err == pytest.approx(expected, rel=1e-4)
