"""The one multi-start engine: compiled once per objective and shapes, restarts isolated, front ends on it."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import landscape
from landscape.tools import engine


def _quadratic(p, A, c):
    """A fixed, module-level objective: ½ xᵀAx − cᵀx + Σ cos x (several minima)."""
    x = p["x"]
    return 0.5 * x @ A @ x - c @ x + jnp.sum(jnp.cos(x))


def test_multistart_with_new_data_and_starts_compiles_once():
    before = engine.cache_info()["misses"]
    A1, c1 = jnp.eye(3) * 2.0, jnp.ones(3)
    r1 = landscape.multistart(_quadratic, lambda k: {"x": jax.random.normal(k, (3,))}, restarts=6, args=(A1, c1),
                              steps=50, seed=0)  # fmt: skip
    A2, c2 = jnp.diag(jnp.array([1.5, 2.0, 3.0])), jnp.array([0.5, -1.0, 2.0])
    r2 = landscape.multistart(_quadratic, lambda k: {"x": 3.0 * jax.random.uniform(k, (3,))}, restarts=6,
                              args=(A2, c2), steps=50, seed=1)  # fmt: skip
    assert engine.cache_info()["misses"] - before <= 1  # the first call may find it compiled by another test
    assert r2.extras["compiled"] is False and r2.extras["compile_seconds"] == 0.0
    # the polish budget is an argument of the tail, not a constant: other budgets compile nothing, and are honoured
    starts2 = lambda k: {"x": 3.0 * jax.random.uniform(k, (3,))}  # noqa: E731
    kw = dict(restarts=6, args=(A2, c2), steps=50, seed=1)
    r3 = landscape.multistart(_quadratic, starts2, polish_steps=150, **kw)
    r4 = landscape.multistart(_quadratic, starts2, polish_steps=1, **kw)
    assert r3.extras["compiled"] is False and r4.extras["compiled"] is False
    np.testing.assert_array_equal(np.asarray(r3.params["x"]), np.asarray(r2.params["x"]))  # converged within 150
    assert np.all(np.asarray(r4.steps) <= 50 + 1) and np.any(np.asarray(r2.steps) > 50 + 1)
    # the second call really used its own data: each endpoint is stationary for (A2, c2)
    for r, (A, c) in ((r1, (A1, c1)), (r2, (A2, c2))):
        for i in range(6):
            g = jax.grad(_quadratic)(r.point(i), A, c)["x"]
            assert float(jnp.linalg.norm(g)) <= 1e-9


def test_search_and_likelihood_multistart_on_new_data_compile_once():
    # n = 12, d = 3, κ = 1, 8 restarts of 400 steps and a 200-step Newton polish: the settings of
    # `compare_basins` in tests/test_elbo_vs_likelihood.py, so that in one pytest run the first call of each
    # pair may find its programs compiled there (the second must find them in any case: new data, no compile)
    kw = dict(kappa=1, restarts=8, steps=400, polish_steps=200)
    ds1 = landscape.prop1_dataset(0.1, n=12, d=3, kappa=1, seed=0)
    ds2 = landscape.prop1_dataset(0.3, n=12, d=3, kappa=1, seed=1)
    a = landscape.search(ds1.X, 0.1, **kw, polish="newton", seed=0, progress=False)
    b = landscape.search(ds2.X, 0.3, **kw, polish="newton", seed=5, progress=False)
    assert b.compile_seconds == 0.0 and a.config == {**b.config, "alpha": 0.1, "seed": 0}
    before = engine.cache_info()["misses"]
    landscape.likelihood_multistart(ds1.X, 0.1, **kw, seed=0)
    landscape.likelihood_multistart(ds2.X, 0.3, **kw, seed=3)
    assert engine.cache_info()["misses"] - before <= 1


def test_a_poisoned_restart_fails_alone_and_reports_nan():
    """f = log(x) is NaN for x < 0: that restart is non_finite with NaN values; the others match a lone run."""

    def f(p):
        return jnp.sum((jnp.log(p) - 1.0) ** 2)

    starts = jnp.array([[2.0], [-1.0], [5.0]])
    out = engine.run(f, starts, restarts=3, steps=100, polish="newton", chunk_size=2, progress=False)
    assert out.status == ("converged", "non_finite", "converged")
    assert np.isnan(out.value[1]) and np.isnan(out.grad_norm[1])
    kw = dict(steps=100, polish="newton", chunk_size=2, progress=False)
    alone = engine.run(f, starts[jnp.array([0, 2])], restarts=2, **kw)
    np.testing.assert_allclose(out.value[[0, 2]], alone.value, rtol=0, atol=1e-14)
    np.testing.assert_allclose(out.params[np.array([0, 2]), 0], np.e, rtol=1e-8)  # ‖∇f‖ ≤ 1e-8


def test_batched_args_give_each_restart_its_own_data():
    def f(x, target):
        return jnp.sum((x - target) ** 2)

    targets = jnp.array([[1.0, 2.0], [-3.0, 0.5], [0.0, 4.0]])
    out = engine.run(f, jnp.zeros((3, 2)), (targets,), restarts=3, batched_args=(True,), steps=0, polish="newton",
                     chunk_size=2, progress=False)  # fmt: skip
    np.testing.assert_allclose(out.params, targets, atol=1e-12)
    assert out.chunk == 2 and all(s == "converged" for s in out.status)


def test_float32_descent_is_polished_in_float64():
    def f(x):
        return jnp.sum((x - 1.0 / 3.0) ** 4) + jnp.sum((x - 1.0 / 3.0) ** 2)

    out = engine.run(f, jnp.full((2, 3), 2.0), restarts=2, steps=200, precision="float32", polish="newton",
                     gtol=1e-15, progress=False)  # fmt: skip
    assert np.all(out.steps > 200)  # float32 stalls near 1e-8; the float64 polish takes it the rest of the way
    assert out.params.dtype == np.float64
    np.testing.assert_allclose(out.params, 1.0 / 3.0, rtol=0, atol=1e-15)


@pytest.mark.parametrize(
    "kw, match",
    [
        (dict(restarts=0), "restarts"),
        (dict(optimizer="sgd"), "optimizer"),
        (dict(polish="bfgs"), "polish"),
        (dict(precision="float16"), "precision"),
        (dict(learning_rate=-1.0), "learning_rate"),
        (dict(gtol=float("nan")), "gtol"),
        (dict(batched_args=(True, False)), "batched_args"),
    ],
)
def test_engine_rejects_bad_settings(kw, match):
    kw = {"restarts": 2, **kw}
    with pytest.raises(ValueError, match=match):
        engine.run(lambda x: jnp.sum(x**2), jnp.zeros((2, 2)), **kw)
