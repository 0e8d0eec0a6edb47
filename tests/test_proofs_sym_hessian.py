"""proofs_numeric.sym_collapsed and sym_hessian: the collapsed point and its Hessian (MATH.md §3–4), symbolically."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import landscape
from proofs_numeric import sym_collapsed, sym_hessian
from proofs_numeric._common import TOL_SYMBOLIC, random_data, rel_error


@pytest.fixture
def X():
    return random_data(np.random.default_rng(7), 3, 2)


@pytest.mark.parametrize("alpha", [0.0, 0.3])
def test_stationarity_negative_control(X, alpha):
    assert sym_collapsed.stationarity_check(X, 1, alpha).passed
    assert not sym_collapsed.stationarity_check(X, 1, alpha, b_shift=0.5).passed


def test_symbolic_gradient_matches_library_off_the_stationary_b(X):
    S = sym_collapsed.symbolic_energy(3, 2, 1)
    grad = sym_collapsed.gradient_function(S, "affine")
    p = landscape.collapsed_point(X, 1)
    p = p._replace(b=np.asarray(p.b) + np.array([0.3, -0.7]), log_gamma=np.asarray(float(p.log_gamma) - 0.4))
    g_lib = landscape.gradient(p, X, 0.0)
    g_lib = np.concatenate([np.ravel(np.asarray(f)) for f in g_lib])
    g_sym = grad(X, np.asarray(p.b), float(p.log_gamma))
    assert np.linalg.norm(g_lib) > 1.0
    assert rel_error(g_sym, g_lib) <= TOL_SYMBOLIC


def test_symbolic_hessian_matches_library_directly(X):
    H_sym = sym_hessian.hessian_function(3, 2, 1, "affine")(X)
    H_lib = np.asarray(landscape.hessian(landscape.collapsed_point(X, 1), X, 0.0))
    assert rel_error(H_sym, H_lib) <= TOL_SYMBOLIC
    ev = np.linalg.eigvalsh(H_sym)
    assert int(np.sum(ev < -1e-8 * np.max(np.abs(ev)))) == landscape.n_negative_affine(X, 1) >= 1


@pytest.mark.parametrize("alpha", [0.0, 0.3])
def test_hessian_check_passes_with_the_right_limits(X, alpha):
    assert sym_hessian.hessian_check(X, 1, alpha).passed


def test_trap_hessian_is_caught(X):
    """Autodiff trap 1 (∂E π/∂m = 0 at 0, MATH.md §2) makes the α = 0 saddle a fake minimum."""
    check = sym_hessian.hessian_check(X, 1, 0.0, case="trap")
    assert not check.passed
    assert check.error > 0.1
    ev = np.linalg.eigvalsh(sym_hessian.hessian_function(3, 2, 1, "trap")(X))
    assert np.all(ev > 0)
    # The threshold limits at α = 0 are wrong too.
    assert not sym_hessian.hessian_check(X, 1, 0.0, case="threshold").passed


def test_block_comparison_detects_a_wrong_prediction():
    S = sym_collapsed.symbolic_energy(3, 2, 1)
    H = sym_hessian.symbolic_hessian(3, 2, 1, "affine")
    assert sum(sym_hessian.block_mismatches(H, sym_hessian.predicted_hessian(S, "affine"), S).values()) == 0
    bad = sym_hessian.block_mismatches(H, sym_hessian.predicted_hessian(S, "threshold"), S)
    assert bad["W–W"] == 2 and bad["W–mu"] == 6
    assert sum(bad.values()) == 8


def test_second_derivatives_drop_out():
    ch = sym_hessian.hessian_at_collapse(3, 2, 1)
    assert len(ch.fresh) > 0 and not ch.survivors
    with pytest.raises(ValueError, match="no origin limit"):
        m = sp.Symbol("m")
        sym_collapsed.replace_origin_moments(sym_collapsed.moment_function("M1", 2, 0)(m, 0), {})


def test_charpoly_identity_is_exact():
    lhs, rhs, diff = sym_hessian.charpoly_identity(3, 2)
    assert diff == 0
    lam = sp.Symbol("lambda")
    assert sp.degree(sp.expand(lhs), lam) == 5
    prod, tot = sym_hessian.negative_root_condition()
    n, s = sp.symbols("n s", positive=True)
    g = sp.Symbol(r"\bar\gamma", positive=True)
    assert sp.simplify(prod - 4 * (n * g - s) / g**2) == 0
