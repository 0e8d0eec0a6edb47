"""Exact inertia by Haynsworth additivity against dense eigh (the curvature issue's "done when")."""

import numpy as np
import pytest
from conftest import random_data, random_params
from hypothesis import given
from hypothesis import strategies as st

import landscape
from landscape import schur
from landscape.analysis.gamma import affine_optimum


def dense_counts(H, tol):
    lam = np.linalg.eigvalsh(0.5 * (H + H.T))
    return (int(np.sum(lam < -tol)), int(np.sum(np.abs(lam) <= tol)), int(np.sum(lam > tol)))


def arrowhead(seed, n, p, q, n_singular, n_null):
    """Random arrowhead blocks; ``n_singular`` D_i get an exact zero eigenvalue, and
    ``n_null`` of those also have B_i u = 0 on it, which makes an exact zero mode of H."""
    rng = np.random.default_rng(seed)
    M = rng.normal(size=(p, p))
    A = M + M.T
    B = rng.normal(size=(n, p, q))
    D = np.empty((n, q, q))
    for i in range(n):
        Q, _ = np.linalg.qr(rng.normal(size=(q, q)))
        lam = rng.choice([-3.0, -1.0, 0.5, 2.0, 5.0], size=q) * rng.uniform(0.5, 1.5, size=q)
        if i < n_singular:
            lam[0] = 0.0
            if i < n_null:
                B[i] -= np.outer(B[i] @ Q[:, 0], Q[:, 0])
        D[i] = Q @ np.diag(lam) @ Q.T
    return A, B, D


@given(
    seed=st.integers(0, 10_000),
    n=st.integers(1, 7),
    p=st.integers(1, 5),
    q=st.integers(1, 4),
    n_singular=st.integers(0, 7),
    n_null=st.integers(0, 3),
    chunk=st.integers(1, 8),
)
def test_block_inertia_equals_dense_inertia_exactly(seed, n, p, q, n_singular, n_null, chunk):
    n_singular = min(n_singular, n)
    n_null = min(n_null, n_singular)
    A, B, D = arrowhead(seed, n, p, q, n_singular, n_null)
    H = schur.assemble(A, B, D)
    lam = np.linalg.eigvalsh(H)
    tol = 1e-9 * np.abs(lam).max()
    r = schur.block_inertia(A, B, D, tol=tol, chunk_size=chunk)
    assert r.inertia == dense_counts(H, tol)
    assert r.size == H.shape[0]
    assert r.n_zero >= n_null  # the engineered null vectors are found
    assert r.d_singular == (n_singular > 0)
    assert r.method == ("haynsworth+retained" if n_singular else "haynsworth")


def test_at_least_twenty_cases_with_singular_blocks_in_a_fixed_sweep():
    """The count the issue asks for, independent of hypothesis: 24 cases, 16 with singular D."""
    cases = singular = 0
    for seed in range(24):
        n, p, q = 2 + seed % 5, 1 + seed % 4, 1 + seed % 3
        n_sing = seed % 3
        A, B, D = arrowhead(seed, n, p, q, n_sing, n_sing // 2)
        H = schur.assemble(A, B, D)
        tol = 1e-9 * np.abs(np.linalg.eigvalsh(H)).max()
        assert schur.block_inertia(A, B, D, tol=tol, chunk_size=2).inertia == dense_counts(H, tol)
        cases += 1
        singular += n_sing > 0
    assert cases >= 20 and singular >= 10


def test_thresholds_that_grow_during_the_pass_are_fixed_up_exactly():
    """D_1 has an eigenvalue of 1e-5, eliminated in the first chunk (‖D_1‖ = 1), but below the
    final singular threshold 1e-6 · 1e3 set by D_2: it must be retained in the end."""
    rng = np.random.default_rng(0)
    p, q = 3, 2
    A = np.diag([1.0, -2.0, 3.0])
    B = rng.normal(size=(3, p, q))
    D = np.stack([np.diag([1e-5, 1.0]), np.diag([1e3, -2.0]), np.diag([0.0, 4.0])])
    H = schur.assemble(A, B, D)
    tol = 1e-12
    r = schur.block_inertia(A, B, D, tol=tol, chunk_size=1)
    assert r.singular_tol == pytest.approx(1e-3)
    assert r.d_inertia[1] == 2  # 1e-5 and the exact 0, both retained
    assert r.inertia == dense_counts(H, tol)
    assert r.schur_eigenvalues.size == p + 2


@pytest.mark.parametrize("alpha", [0.0, 0.3])
@pytest.mark.parametrize("gamma", [None, 0.8])
def test_eq5_hessian_blocks_assemble_to_the_dense_hessian(rng, alpha, gamma):
    n, d, kappa = 6, 3, 2
    X = random_data(rng, n, d)
    params = random_params(rng, n, d, kappa)
    A, B, D = schur.hessian_blocks(params, X, alpha, gamma=gamma)
    H = np.asarray(landscape.hessian(params, X, alpha, gamma=gamma))
    # ravel order: θ, then mu (n, κ) row-major, then log_sigma (n, κ); the blocks use φ_i = (μ_i, log σ_i)
    p = d * kappa + d + 1
    perm = [*range(p)]
    for i in range(n):
        perm += [p + i * kappa + k for k in range(kappa)] + [p + n * kappa + i * kappa + k for k in range(kappa)]
    np.testing.assert_allclose(schur.assemble(A, B, D), H[np.ix_(perm, perm)], rtol=0, atol=1e-12 * np.abs(H).max())


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("alpha", [0.0, 0.4])
def test_schur_inertia_equals_dense_spectrum_at_random_points(seed, alpha):
    rng = np.random.default_rng(seed)
    n, d, kappa = 9, 3, 1 + seed % 2
    X = random_data(rng, n, d)
    params = random_params(rng, n, d, kappa, w_scale=1.5)
    dense = landscape.spectrum(params, X, alpha)
    r = schur.schur_inertia(params, X, alpha, tol=dense.tol, chunk_size=4)
    assert r.inertia == dense.inertia
    assert r.size == dense.eigenvalues.size


@pytest.mark.parametrize("kappa", [1, 2])
def test_collapsed_points_give_the_analytic_inertia(kappa):
    X = np.asarray(landscape.prop1_dataset(0.2, n=30, d=4, kappa=1, seed=3).X)
    n, d = X.shape
    p0 = landscape.collapsed_point(X, kappa)
    r0 = schur.schur_inertia(p0, X, 0.0)
    assert r0.n_negative == landscape.n_negative_affine(X, kappa) and r0.n_zero == 0
    assert r0.inertia == landscape.spectrum(p0, X, 0.0, tol=r0.tol).inertia
    r1 = schur.schur_inertia(p0, X, 0.2)
    assert r1.inertia == (0, d * kappa, d * kappa + d + 1 + 2 * n * kappa - d * kappa)
    assert r1.inertia == landscape.spectrum(p0, X, 0.2, tol=r1.tol).inertia
    assert r1.schur_min_eigenvalue == 0.0 and not r1.d_singular
    # the default tolerance equals spectrum's there: the largest eigenvalue, n d, is on log γ
    assert r1.tol == pytest.approx(landscape.spectrum(p0, X, 0.2).tol, rel=1e-12)


def test_affine_optimum_is_a_strict_minimum_by_both_routes(rng):
    X = random_data(rng, 30, 4)  # the shape of test_collapsed_points_give_the_analytic_inertia[2]: compiled once
    p = affine_optimum(X, 2)
    assert landscape.grad_norm(p, X, 0.0) < 1e-10
    dense = landscape.spectrum(p, X, 0.0)
    r = schur.schur_inertia(p, X, 0.0, tol=dense.tol)
    assert r.inertia == dense.inertia == (0, 0, dense.eigenvalues.size)
    assert r.schur_min_eigenvalue > 0


def test_bad_input_raises():
    A, B, D = arrowhead(0, 3, 2, 2, 0, 0)
    with pytest.raises(ValueError, match="B must have shape"):
        schur.block_inertia(A, B[:, :1], D)
    with pytest.raises(ValueError, match="square"):
        schur.block_inertia(A[:1], B, D)
    with pytest.raises(ValueError, match="NaN"):
        schur.block_inertia(A, B, D * np.nan)
    with pytest.raises(ValueError, match="tol"):
        schur.block_inertia(A, B, D, tol=-1.0)
    X = random_data(np.random.default_rng(0), 5, 3)
    p = landscape.collapsed_point(X, 1)
    with pytest.raises(ValueError, match="NaN or inf"):
        schur.schur_inertia(p._replace(W=p.W * np.nan), X, 0.1)
    with pytest.raises(ValueError, match="alpha"):
        schur.schur_inertia(p, X, -0.1)
    with pytest.raises(ValueError, match="max_retained"):
        schur.block_inertia(A, B, np.zeros_like(D), max_retained=2, tol=1e-12)
