"""The Proposition 1 certificate: both halves, at α > 0 and at α = 0."""

import numpy as np
import pytest

import landscape
from landscape import certify_prop1, prop1_dataset


@pytest.fixture(scope="module")
def cert_01():
    return certify_prop1(prop1_dataset(0.1))


@pytest.fixture(scope="module")
def cert_0():
    return certify_prop1(prop1_dataset(0.0))


def test_alpha_positive_holds(cert_01):
    c = cert_01
    assert c.verdict == "holds", c.checks
    assert all(c.checks.values()) and all(c.diagnostics.values())
    col = c.collapsed
    assert col.grad_norm <= 1e-10
    assert col.spectrum.n_negative == 0 and col.spectrum.n_zero == c.data.d * c.data.kappa
    assert col.energy == pytest.approx(col.energy_formula, rel=1e-12)
    # the affine-descent direction rises to a barrier, then falls below f(0)
    key = [p for p in col.profiles if p.direction.kind == "affine_descent"]
    assert key and all(p.shape == "barrier" for p in key)
    for p in key:
        assert p.barrier_height > 100 * p.tol
        assert 0 < p.barrier_t < 1.0
        assert np.min(p.rel) < -p.barrier_height


def test_barrier_is_a_maximum_of_the_profile(cert_01):
    """The reported barrier is the profile's value at its maximum: check on a fresh grid."""
    X = cert_01.data.X
    p = next(p for p in cert_01.collapsed.profiles if p.direction.kind == "affine_descent")
    start = landscape.collapsed_point(X, 1)
    ts = np.linspace(0.0, 2 * p.barrier_t, 41)
    vals, gns = landscape.energy_profile(X, 0.1, start, p.direction.U, ts)
    assert np.max(gns) < 1e-8
    assert np.max(vals - vals[0]) <= p.barrier_height * (1 + 1e-3)
    assert np.max(vals - vals[0]) >= p.barrier_height * 0.95


def test_affine_contrast_is_a_strict_saddle(cert_01):
    a = cert_01.affine
    assert a.alpha == 0.0
    assert a.spectrum.n_negative == a.n_negative_predicted >= 1
    assert a.spectrum.min_eigenvalue < 0
    key = [p for p in a.profiles if p.direction.kind == "affine_descent"]
    assert all(p.shape == "falls" for p in key)


def test_alpha_zero_fails_with_the_saddle_shown(cert_0):
    c = cert_0
    assert c.verdict == "fails"
    assert not c.checks["alpha_positive"] and not c.checks["no_negative_curvature"]
    assert c.collapsed.spectrum.n_negative == landscape.n_negative_affine(c.data.X, 1) == 1
    assert c.affine is c.collapsed
    assert "strict saddle" in c.report()


def test_reconstructing_path_slope(cert_01):
    r = cert_01.reconstruction
    n, d, k = cert_01.data.n, cert_01.data.d, cert_01.data.kappa
    assert r.expected_slope == 2 * n * (d - k)
    assert r.slope == pytest.approx(r.expected_slope, rel=1e-4)
    assert np.all(np.diff(r.energy) < 0)
    assert r.unbounded


@pytest.mark.parametrize("alpha", [0.3, 1.0])
def test_holds_for_other_alpha_and_barrier_grows(alpha, cert_01):
    c = certify_prop1(prop1_dataset(alpha, n=12, d=3, kappa=1, seed=1), n_random_directions=0)
    assert c.verdict == "holds", c.checks
    assert c.collapsed.barrier_height > 0


def test_larger_kappa_probes_every_affine_descent_direction():
    ds = prop1_dataset(0.4, n=12, d=4, kappa=2, seed=3)
    c = certify_prop1(ds, n_random_directions=1)
    lam = np.linalg.eigvalsh(landscape.data_covariance(ds.X))
    n_desc = int(np.sum(lam > landscape.gamma_bar(ds.X)))
    key = [p for p in c.collapsed.profiles if p.direction.kind == "affine_descent"]
    assert len(key) == 2 * n_desc
    assert c.affine.spectrum.n_negative == 2 * n_desc
    assert c.verdict == "holds", c.checks


@pytest.mark.parametrize("alpha", [1e-4, 1e-3])
def test_small_alpha_barrier_is_resolved(alpha):
    """The grid scales with α, so an arbitrarily small soft threshold still shows its barrier."""
    c = certify_prop1(prop1_dataset(alpha), n_random_directions=0)
    assert c.verdict == "holds", c.checks
    p = c.collapsed.profiles[0]
    assert p.shape == "barrier"
    assert 0.2 * alpha < p.barrier_t < 2 * alpha
    assert p.evidence_grad_norm < 1e-9


def test_certify_prop1_refuses_a_dense_hessian_too_large_before_allocating():
    """P = dκ + d + 1 + 2nκ > MAX_P: a clear error at once, never an XLA abort (issue 18)."""
    import time

    from landscape.analysis.certificate import MAX_P

    n = (MAX_P - 7) // 2 + 1  # d = 3, κ = 1: P = 2n + 7 just above the limit
    ds = landscape.prop1_dataset(0.1, n=n, d=3, kappa=1, seed=0)
    t0 = time.perf_counter()
    with pytest.raises(ValueError, match=rf"refuses P > {MAX_P} parameters before allocating"):
        landscape.certify_prop1(ds)
    assert time.perf_counter() - t0 < 1.0
