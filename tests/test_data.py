"""The validated data object: MATH.md §4's symbols, computed once, and never again downstream."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import landscape
from landscape.common import checks
from landscape.core.data import Data, as_data


@settings(max_examples=25, deadline=None)
@given(n=st.integers(2, 12), d=st.integers(1, 5), seed=st.integers(0, 2**31 - 1))
def test_data_matches_the_definitions(n, d, seed):
    X = np.random.default_rng(seed).normal(size=(n, d)) * 3.0 + 1.5
    D = Data.from_array(X)
    xbar = X.sum(axis=0) / n
    Y = X - xbar
    S = sum(np.outer(y, y) for y in Y) / n  # note 1/n
    np.testing.assert_allclose(D.x_mean, xbar, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(D.Y, Y, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(D.S, S, rtol=1e-12, atol=1e-12)
    assert float(D.gamma_bar) == pytest.approx(np.trace(S) / d, rel=1e-12)
    assert np.all(np.diff(D.eigenvalues) <= 0)  # descending
    tol = 1e-10 * max(1, D.eigenvalues[0])
    np.testing.assert_allclose(D.S @ D.eigenvectors, D.eigenvectors * D.eigenvalues, atol=tol)
    np.testing.assert_allclose(D.eigenvectors.T @ D.eigenvectors, np.eye(d), atol=1e-12)
    sv = np.linalg.svd(Y, compute_uv=False)
    np.testing.assert_allclose(D.singular_values, sv, rtol=1e-7, atol=1e-7 * max(1.0, sv[0]))
    assert (D.n, D.d) == (n, d)


def test_as_data_builds_once_and_rejects_bad_x():
    X = np.arange(12.0).reshape(6, 2) ** 1.5
    D = as_data(X)
    assert as_data(D) is D
    with pytest.raises(ValueError, match="X is constant"):
        as_data(np.ones((4, 3)))
    with pytest.raises(ValueError, match="2-D"):
        as_data(np.ones(4))
    with pytest.raises(ValueError, match="NaN or inf"):
        as_data(np.array([[1.0, np.nan], [2.0, 3.0]]))


def test_data_is_a_pytree_through_jit():
    D = as_data(np.random.default_rng(0).normal(size=(5, 3)))
    out = jax.jit(lambda D: jnp.sum(D.Y**2) / (D.n * D.d))(D)
    assert float(out) == pytest.approx(float(D.gamma_bar), rel=1e-13)
    leaves, treedef = jax.tree.flatten(D)
    assert len(leaves) == 7 and jax.tree.unflatten(treedef, leaves).n == 5


def test_public_functions_give_the_same_numbers_for_x_and_data():
    ds = landscape.prop1_dataset(0.1, n=12, d=3, kappa=1, seed=1)
    X, D = ds.X, as_data(ds.X)
    assert landscape.gamma_bar(X) == landscape.gamma_bar(D)
    assert landscape.collapsed_energy(X, 1) == landscape.collapsed_energy(D, 1)
    p = landscape.collapsed_point(X, 1)
    assert all(np.array_equal(a, b) for a, b in zip(p, landscape.collapsed_point(D, 1), strict=True))
    assert float(landscape.energy(p, X, 0.1)) == float(landscape.energy(p, D, 0.1))
    np.testing.assert_array_equal(landscape.spectrum(p, X, 0.1).eigenvalues, landscape.spectrum(p, D, 0.1).eigenvalues)
    np.testing.assert_array_equal(landscape.collapsed_spectrum(X, 1, 0.0), landscape.collapsed_spectrum(D, 1, 0.0))
    a = landscape.search(X, 0.1, kappa=1, restarts=3, steps=50, seed=2, progress=False)
    b = landscape.search(D, 0.1, kappa=1, restarts=3, steps=50, seed=2, progress=False)
    np.testing.assert_array_equal(a.energy, b.energy)


def test_certify_prop1_validates_and_decomposes_once(monkeypatch):
    """One validation of X and one eigendecomposition of S (or SVD of Y) per certificate."""
    ds = landscape.prop1_dataset(0.1, n=20, d=3, kappa=1, seed=0)
    n, d = ds.X.shape
    counts = {"check_data": 0, "check_not_constant": 0, "decompositions": 0}

    def counting(name, fn):
        def wrapped(*a, **k):
            counts[name] += 1
            return fn(*a, **k)

        return wrapped

    monkeypatch.setattr(checks, "check_data", counting("check_data", checks.check_data))
    monkeypatch.setattr(checks, "check_not_constant", counting("check_not_constant", checks.check_not_constant))
    for mod, fname in [(np.linalg, "eigh"), (np.linalg, "eigvalsh"), (np.linalg, "svd"), (jnp.linalg, "eigh"),
                       (jnp.linalg, "eigvalsh"), (jnp.linalg, "svd")]:  # fmt: skip
        fn = getattr(mod, fname)

        def wrapped(a, *args, _fn=fn, **kw):
            if np.shape(a) in ((d, d), (n, d)):  # S or Y; the (P, P) Hessians are not counted
                counts["decompositions"] += 1
            return _fn(a, *args, **kw)

        monkeypatch.setattr(mod, fname, wrapped)
    cert = landscape.certify_prop1(ds)
    assert cert.verdict == "holds"
    assert counts == {"check_data": 1, "check_not_constant": 1, "decompositions": 1}


def test_sweep_gamma_builds_the_data_object_once(monkeypatch):
    """2G + 1 searches, one `Data`: every search, start and closed form reuses it."""
    from landscape.core import data as data_mod

    # n = 15, d = 4, κ = 2, 4 restarts of 1500 steps: the sweep of tests/test_gamma.py, so that one pytest run
    # compiles it once
    ds = landscape.prop1_dataset(0.0, n=15, d=4, kappa=2, seed=0)
    built = []
    original = data_mod.Data.from_array.__func__

    def counting(cls, X, **kw):
        built.append(np.shape(X))
        return original(cls, X, **kw)

    monkeypatch.setattr(data_mod.Data, "from_array", classmethod(counting))
    checks_before = []
    monkeypatch.setattr(checks, "check_not_constant", lambda X, **kw: checks_before.append(1) or 1.0)
    sw = landscape.sweep_gamma(ds.X, 0.0, kappa=2, gammas=[0.05, 0.2, 1.0], restarts=4, steps=1500, progress=False)
    assert sw.gammas.size == 3
    assert built == [(15, 4)]
    assert len(checks_before) == 1  # the one validation, inside Data.from_array
