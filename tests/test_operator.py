"""Curvature operators (`landscape.tools.operator`) in lanczos, spectral_density and certify."""

from types import SimpleNamespace

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import random_data, random_params

import landscape
from landscape.core.energy import energy_objective as f
from landscape.tools import curvature as C
from landscape.tools import lanczos as L
from landscape.tools.certify import certify
from landscape.tools.operator import (
    as_operator,
    dense_operator,
    gauss_newton_operator,
    hessian_operator,
    linear_operator,
    to_dense,
)


def known_matrix(eigenvalues, seed=0):
    lam = np.asarray(eigenvalues, dtype=float)
    Q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(lam.size, lam.size)))
    return (Q * lam) @ Q.T, np.sort(lam)


def test_dense_operator_gives_the_known_extremes():
    H, lam = known_matrix(np.linspace(-3.0, 7.0, 40) ** 3)
    op = dense_operator(H)
    assert (op.size, op.dtype, op.kind) == (40, jnp.float64, "dense")
    np.testing.assert_allclose(jax.jit(op.matvec)(jnp.ones(40)), H @ np.ones(40), rtol=1e-13, atol=1e-12)
    r = C.lanczos(op, k=3)
    scale = np.abs(lam).max()
    np.testing.assert_allclose(r.lowest.eigenvalues, lam[:3], rtol=0, atol=1e-10 * scale)
    np.testing.assert_allclose(r.highest.eigenvalues, lam[::-1][:3], rtol=0, atol=1e-10 * scale)
    assert r.converged and r.size == 40 and r.unravel is None
    np.testing.assert_allclose(np.abs(r.vector(0) @ r.lowest.eigenvectors[0]), 1.0, rtol=1e-12)
    np.testing.assert_allclose(to_dense(op), 0.5 * (H + H.T), rtol=0, atol=1e-13 * scale)


def test_a_small_krylov_space_restarts_and_keeps_multiplicities():
    """Three distinct eigenvalues: the Krylov space of any start is 3-dimensional, so the
    recurrence breaks down at step 3 and must restart to see the repeated ones."""
    H, lam = known_matrix([-2.0] * 3 + [1.0] * 20 + [5.0] * 2, seed=1)
    r = C.lanczos(dense_operator(H), k=3, num_steps=25)
    np.testing.assert_allclose(r.lowest.eigenvalues, [-2.0] * 3, rtol=0, atol=1e-10)
    np.testing.assert_allclose(r.highest.eigenvalues, [5.0, 5.0, 1.0], rtol=0, atol=1e-10)
    V = r.lowest.eigenvectors
    np.testing.assert_allclose(V @ V.T, np.eye(3), atol=1e-10)


def test_the_shorthand_is_the_hessian_operator_bit_for_bit(rng):
    X = jnp.asarray(random_data(rng, 20, 3))
    p = landscape.VAEParams(*map(jnp.asarray, random_params(rng, 20, 3, 2)))
    args = (X, 0.3, None)
    a = C.lanczos(f, p, args, k=3, num_steps=40, seed=4)
    b = C.lanczos(hessian_operator(f, p, args), k=3, num_steps=40, seed=4)
    for x, y in [
        (a.ritz_values, b.ritz_values),
        (a.lowest.eigenvalues, b.lowest.eigenvalues),
        (a.lowest.eigenvectors, b.lowest.eigenvectors),
        (a.highest.residuals, b.highest.residuals),
    ]:
        assert np.array_equal(x, y)
    assert isinstance(b.vector(0), landscape.VAEParams)
    sa = C.spectral_density(f, p, args, num_probes=3, num_steps=20)
    sb = C.spectral_density(hessian_operator(f, p, args), num_probes=3, num_steps=20)
    assert np.array_equal(sa.nodes, sb.nodes) and np.array_equal(sa.weights, sb.weights)
    assert np.array_equal(C.dense_hessian(f, p, args), to_dense(hessian_operator(f, p, args)))


def test_one_compiled_program_serves_new_points_and_data_of_a_shape(rng):
    X1, X2 = (jnp.asarray(random_data(rng, 10, 3)) for _ in range(2))
    p1, p2 = (landscape.VAEParams(*map(jnp.asarray, random_params(rng, 10, 3, 1))) for _ in range(2))
    C.lanczos(hessian_operator(f, p1, (X1, 0.1, None)), k=2, num_steps=17)
    before = L._lanczos._cache_size()
    C.lanczos(hessian_operator(f, p2, (X2, 0.2, None)), k=2, num_steps=17)
    C.lanczos(f, p1, (X2, 0.3, None), k=2, num_steps=17)
    assert L._lanczos._cache_size() == before


def test_spectral_density_of_an_operator_has_the_dense_moments():
    # diagonal H: a normalised Rademacher probe has v_i² = 1/P, so vᵀHʲv = tr(Hʲ)/P for every
    # probe, and Gauss quadrature with m nodes is exact for degree ≤ 2m − 1
    lam = np.linspace(-1.0, 2.0, 30) ** 3
    sd = C.spectral_density(dense_operator(np.diag(lam)), num_probes=4, num_steps=6)
    for j in range(12):
        np.testing.assert_allclose(np.sum(sd.weights * sd.nodes**j, axis=1), np.mean(lam**j), rtol=1e-10, atol=1e-12)
    # a rotated H: the probe average estimates tr(Hʲ)/P without bias, within its error
    H, lam = known_matrix(lam, seed=2)
    sd = C.spectral_density(dense_operator(H), num_probes=200, num_steps=6, seed=3)
    for j in (1, 2, 3):
        per_probe = np.sum(sd.weights * sd.nodes**j, axis=1)
        se = per_probe.std(ddof=1) / np.sqrt(per_probe.size)
        assert abs(per_probe.mean() - np.mean(lam**j)) <= 4 * se + 1e-12
    # with num_steps = P the nodes are the eigenvalues, and counts are unbiased too
    mean, se = C.spectral_density(dense_operator(H), num_probes=50, num_steps=30).count_below(0.0)
    assert abs(mean - np.sum(lam < 0)) <= 4 * se + 1e-9


def test_gauss_newton_operator_of_an_affine_residual_is_the_hessian():
    rng = np.random.default_rng(0)
    A = jnp.asarray(rng.normal(size=(9, 5)))
    y = jnp.asarray(rng.normal(size=9))
    M = rng.normal(size=(9, 9))
    M = jnp.asarray(M @ M.T + np.eye(9))

    def residual(params, A, y):
        return A @ jnp.concatenate([params["u"], params["v"]]) - y

    def objective(params, A, y):
        r = residual(params, A, y)
        return 0.5 * r @ M @ r

    params = {"u": jnp.asarray(rng.normal(size=2)), "v": jnp.asarray(rng.normal(size=3))}
    gn = gauss_newton_operator(residual, params, (A, y))
    np.testing.assert_allclose(to_dense(gn), A.T @ A, rtol=1e-12, atol=1e-12)
    gl = gauss_newton_operator(residual, params, (A, y), loss=lambda r: 0.5 * r @ M @ r)
    np.testing.assert_allclose(to_dense(gl), C.dense_hessian(objective, params, (A, y)), rtol=1e-12, atol=1e-10)
    np.testing.assert_allclose(C.lanczos(gl, k=2).lowest.eigenvalues, np.linalg.eigvalsh(A.T @ M @ A)[:2], rtol=1e-10)


def test_linear_operator_passes_its_args_traced():
    H, lam = known_matrix([-1.0, 0.5, 2.0, 3.0, 4.0, 8.0])
    op = linear_operator(lambda v, H: H @ v, 6, (jnp.asarray(H),))
    np.testing.assert_allclose(C.lanczos(op, k=1, num_steps=6).min_eigenvalue, -1.0, atol=1e-12)


def test_certify_with_an_operator_and_with_an_exact_count(rng):
    X = np.asarray(landscape.prop1_dataset(0.1).X)
    p = landscape.collapsed_point(X, 2)
    args = (jnp.asarray(X), 0.0, None)
    ref = certify(f, p, args)
    with_op = certify(f, p, args, operator=hessian_operator(f, p, args))
    assert with_op.inertia == ref.inertia and with_op.label == ref.label == "strict_saddle"
    assert with_op.min_eigenvalue == ref.min_eigenvalue and with_op.tol == ref.tol
    si = landscape.schur_inertia(p, X, 0.0)
    big = certify(f, p, args, exact_inertia=si)
    big_op = certify(f, p, args, exact_inertia=si, operator=dense_operator(C.dense_hessian(f, p, args)))
    for c in (big, big_op):
        assert c.method == "exact+lanczos" and set(c.details) == {"inertia", "lanczos"}
        assert c.inertia == ref.inertia and c.label == ref.label
        assert c.min_eigenvalue == pytest.approx(ref.min_eigenvalue, abs=1e-8 * abs(ref.max_eigenvalue))
        assert c.max_eigenvalue == pytest.approx(ref.max_eigenvalue, rel=1e-10)
    eq5 = landscape.certify_stationary(p, X, 0.0, dense_max=10)
    assert eq5.method == "haynsworth+lanczos" and set(eq5.details) == {"schur", "lanczos"}
    assert eq5.inertia == big.inertia
    # certify_stationary works in the data's standardised units: the same generic route there
    data = landscape.as_data(X)
    ps, Xs = data.units.to_standard_params(p), data.standardised.X
    big_s = certify(f, ps, (jnp.asarray(Xs), 0.0, None), exact_inertia=landscape.schur_inertia(ps, Xs, 0.0))
    assert eq5.min_eigenvalue == big_s.min_eigenvalue and eq5.inertia == big_s.inertia
    # any object with inertia, tol, zero_gap and to_dict is an exact count
    count = SimpleNamespace(inertia=ref.inertia, tol=ref.tol, zero_gap=ref.zero_gap, to_dict=lambda: {})
    assert certify(f, p, args, exact_inertia=count).label == ref.label
    with pytest.raises(ValueError, match="size"):
        certify(f, p, args, operator=dense_operator(np.eye(3)))


def test_operator_arguments_are_checked():
    op = dense_operator(np.eye(4))
    with pytest.raises(TypeError, match="operator already carries"):
        C.lanczos(op, {"x": jnp.zeros(4)})
    with pytest.raises(TypeError, match="params is required"):
        C.spectral_density(f)
    with pytest.raises(ValueError, match="square"):
        dense_operator(np.ones((2, 3)))
    with pytest.raises(ValueError, match="NaN or inf"):
        dense_operator(np.full((2, 2), np.nan))
    with pytest.raises(ValueError, match="size"):
        linear_operator(lambda v: v, 0)
    with pytest.raises(ValueError, match="chunk_size"):
        to_dense(op, chunk_size=0)
    assert as_operator(op) is op
    jax.clear_caches()
