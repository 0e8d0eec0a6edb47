"""The fused first-order path of eq. (5) (issue 22) against the exact custom-JVP path.

Oracle: `energy_objective` and its custom JVP (MATH.md §2), whose own tests compare it with quadrature,
finite differences and the closed forms. The first-order path must give the same value and gradient to
1e-13 (relative to the gradient's scale), also at W = 0, at v < 1e-12, at α = 0 and on the reconstructing
path, and the engine must use it for the descent only.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import random_data, random_params
from hypothesis import given, settings
from hypothesis import strategies as st

import landscape
from landscape.core.energy import energy_objective
from landscape.core.energy_first_order import energy_objective_first_order
from landscape.core.moments import expected_sq_error_elementwise, expected_sq_error_partials
from landscape.tools import engine

TOL = 1e-13
_grad_exact = jax.jit(jax.value_and_grad(energy_objective, argnums=(0, 1, 2)))
_grad_fused = jax.jit(jax.value_and_grad(energy_objective_first_order, argnums=(0, 1, 2)))


def _errors(p, X, alpha, gamma=None):
    """(value error, gradient error) of the fused path against the exact one, relative to max(1, |L|) and
    to max(1, the gradient's largest entry); the gradient in (params, X, α)."""
    (v0, g0), (v1, g1) = _grad_exact(p, X, alpha, gamma), _grad_fused(p, X, alpha, gamma)
    value_err = abs(float(v1) - float(v0)) / max(1.0, abs(float(v0)))
    leaves0, leaves1 = jax.tree.leaves(g0), jax.tree.leaves(g1)
    scale = max(1.0, max(float(jnp.max(jnp.abs(x))) for x in leaves0))
    grad_err = max(float(jnp.max(jnp.abs(a - b))) for a, b in zip(leaves1, leaves0, strict=True)) / scale
    return value_err, grad_err


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    kappa=st.sampled_from([1, 2, 3]),
    alpha=st.sampled_from([0.0, 0.1, 0.5, 2.0]),
    w_scale=st.sampled_from([0.0, 1e-9, 0.7, 3.0]),
    gamma=st.sampled_from([None, 0.3]),
)
def test_value_and_gradient_equal_the_exact_path(seed, kappa, alpha, w_scale, gamma):
    """W = 0 (v = 0 exactly), W = 1e-9 (v ≈ 1e-18 < 1e-12), ordinary and large W; γ learned and fixed;
    the gradient in the parameters, in X and in α."""
    rng = np.random.default_rng(seed)
    n, d = 7, 3
    X = jnp.asarray(random_data(rng, n, d))
    p = jax.tree.map(jnp.asarray, random_params(rng, n, d, kappa, w_scale=w_scale))
    value_err, grad_err = _errors(p, X, jnp.asarray(alpha), None if gamma is None else jnp.asarray(gamma))
    assert value_err <= TOL and grad_err <= TOL


def test_the_collapsed_point_and_the_reconstructing_path():
    """At the collapsed point (W = 0, μ = 0, σ = 1) the gradient is exactly the JVP path's, and on
    Proposition 1's reconstructing path (v ≪ m², γ → 0) the two agree to 1e-13 of the gradient's scale."""
    ds = landscape.prop1_dataset(0.5, n=12, d=3, kappa=1, seed=0)
    X = jnp.asarray(ds.X)
    c = jax.tree.map(jnp.asarray, landscape.collapsed_point(X, 1))
    (_, g0), (_, g1) = _grad_exact(c, X, 0.5, None), _grad_fused(c, X, 0.5, None)
    for a, b in zip(jax.tree.leaves(g1), jax.tree.leaves(g0), strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=0, atol=1e-13)
    for t in (1e-2, 1e-4, 1e-6):
        p = jax.tree.map(jnp.asarray, ds.witness.path_params(t))
        value_err, grad_err = _errors(p, X, jnp.asarray(0.5))
        assert value_err <= TOL and grad_err <= TOL, t


@given(
    y=st.floats(-3, 3),
    m=st.floats(-3, 3),
    v=st.sampled_from([0.0, 1e-300, 1e-30, 1e-13, 1e-6, 0.3, 4.0]),
    alpha=st.sampled_from([0.0, 0.05, 0.5, 2.0]),
)
def test_elementwise_partials_are_the_custom_jvp(y, m, v, alpha):
    """Each partial equals the JVP of `expected_sq_error_elementwise` along that coordinate."""
    args = tuple(jnp.asarray(x, jnp.float64) for x in (y, m, v, alpha))
    out = expected_sq_error_partials(*args)
    f = lambda *a: expected_sq_error_elementwise(*a)  # noqa: E731
    assert float(out[0]) == pytest.approx(float(f(*args)), rel=TOL, abs=TOL)
    for k in range(4):
        t = tuple(jnp.asarray(1.0 if j == k else 0.0) for j in range(4))
        ref = float(jax.jvp(f, args, t)[1])
        assert float(out[k + 1]) == pytest.approx(ref, rel=TOL, abs=TOL * max(1.0, abs(y)))


def test_the_kink_at_v_zero_matches_too():
    """v = 0 with |m| = α: the JVP's documented φ(0)/(2 s_min) for ∂/∂v, reproduced, not 0."""
    args = tuple(jnp.asarray(x, jnp.float64) for x in (0.3, 0.5, 0.0, 0.5))
    out = expected_sq_error_partials(*args)
    ref = jax.jvp(expected_sq_error_elementwise, args, tuple(jnp.asarray(float(j == 2)) for j in range(4)))[1]
    assert abs(float(ref)) > 1e40 and float(out[3]) == pytest.approx(float(ref), rel=TOL)


def _f_quadratic(p, c):
    return jnp.sum((p - c) ** 2)


def _f_no_gradient(p, c):  # the same value, no gradient: a descent with it cannot move
    return jax.lax.stop_gradient(_f_quadratic(p, c))


def test_engine_descends_with_descent_f_and_ends_with_f():
    starts = jnp.asarray(np.random.default_rng(0).normal(size=(4, 3)))
    c = jnp.arange(3.0)
    kw = dict(restarts=4, steps=50, polish="none", progress=False)
    plain = engine.run(_f_quadratic, starts, (c,), **kw)
    same = engine.run(_f_quadratic, starts, (c,), descent_f=_f_quadratic, **kw)
    np.testing.assert_array_equal(plain.params, same.params)
    frozen = engine.run(_f_quadratic, starts, (c,), descent_f=_f_no_gradient, **kw)
    np.testing.assert_array_equal(frozen.params, np.asarray(starts))  # the descent used descent_f
    np.testing.assert_allclose(frozen.grad_norm, 2 * np.linalg.norm(np.asarray(starts) - c, axis=1), rtol=1e-14)
    polished = engine.run(_f_quadratic, starts, (c,), descent_f=_f_no_gradient, restarts=4, steps=5, progress=False)
    np.testing.assert_allclose(polished.params, np.broadcast_to(c, (4, 3)), atol=1e-12)  # the polish used f
    with pytest.raises(ValueError, match="descent_f"):
        engine.run(_f_quadratic, starts, (c,), descent_f=3, **kw)


def test_search_with_the_fused_gradient_reaches_the_exact_paths_minima():
    """`search` (the fused descent by default) against `search(gradient="exact")`: the statuses and basin categories
    are the same restart by restart, and the energies of the converged ones (the minima) agree to 1e-8 (both
    polished to gtol 1e-8); the others are on the reconstructing funnel, where L → −∞ and no endpoint is a
    minimum. The same seed gives the same bits."""
    X = landscape.prop1_dataset(0.5, n=12, d=3, kappa=1, seed=0).X
    kw = dict(kappa=1, restarts=8, steps=400, seed=0, progress=False)
    fused = landscape.search(X, 0.5, gradient="fused", **kw)
    exact = landscape.search(X, 0.5, gradient="exact", **kw)
    assert landscape.search(X, 0.5, **kw).config["gradient"] == "fused"
    assert fused.config["gradient"] == "fused" and exact.config["gradient"] == "exact"
    assert list(fused.status) == list(exact.status)
    cats = landscape.basin_stats(fused).categories
    assert list(cats) == list(landscape.basin_stats(exact).categories)
    conv = np.asarray(fused.status) == "converged"
    assert conv.sum() >= 4 and set(cats[~conv]) <= {"reconstructing"}
    np.testing.assert_allclose(fused.energy[conv], exact.energy[conv], rtol=1e-8)
    again = landscape.search(X, 0.5, gradient="fused", **kw)
    np.testing.assert_array_equal(again.energy, fused.energy)
    with pytest.raises(ValueError, match="gradient"):
        landscape.search(X, 0.5, gradient="fast", **kw)


@pytest.mark.parametrize("gamma", [None, 0.1])
def test_fused_descent_is_bitwise_independent_of_chunk_size(gamma):
    """With the per-restart scale 1/γ applied to the partials before the matmuls (a scale folded into a
    batched dot rounds by batch width): the default descent keeps the engine's chunk guarantee."""
    ds = landscape.prop1_dataset(0.1, n=6, d=3, kappa=1, seed=0)
    kw = dict(kappa=1, restarts=130, steps=50, seed=0, polish="none", progress=False, gamma=gamma, gradient="fused")
    a, b = (landscape.search(ds.X, 0.1, **kw, chunk_size=c) for c in (3, 130))
    np.testing.assert_array_equal(a.energy, b.energy)
    for x, y in zip(jax.tree.leaves(a.params), jax.tree.leaves(b.params), strict=True):
        np.testing.assert_array_equal(x, y)
