"""`landscape.multistart`: the generic engine, on objectives whose critical points are known."""

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import landscape
from landscape.tools.multistart import multistart


class Pair(NamedTuple):
    a: jax.Array
    B: jax.Array


def double_well(p, shift):
    """Σ (a_i² − 1)² + ‖B − shift‖²: minima a ∈ {±1}^k, B = shift, value 0; a = 0 is a maximum in a."""
    return jnp.sum((p.a**2 - 1.0) ** 2) + jnp.sum((p.B - shift) ** 2)


def init_pair(key):
    k1, k2 = jax.random.split(key)
    return Pair(a=jax.random.normal(k1, (3,)), B=jax.random.normal(k2, (2, 2)))


SHIFT = jnp.array([[1.0, -2.0], [0.5, 3.0]])


def test_every_restart_ends_at_a_known_minimum_and_is_certified():
    res = multistart(double_well, init_pair, restarts=16, seed=0, args=(SHIFT,), steps=300, learning_rate=0.05)
    assert res.status == ("converged",) * 16
    assert np.all(res.grad_norms <= 1e-10)
    assert np.all(np.abs(res.values) <= 1e-18)
    a = np.asarray(res.params.a)
    np.testing.assert_allclose(np.abs(a), 1.0, atol=1e-10)
    np.testing.assert_allclose(res.params.B, np.broadcast_to(SHIFT, (16, 2, 2)), atol=1e-10)
    # the minima differ by the signs of a: several basins are visited
    assert len({tuple(np.sign(r)) for r in a}) > 1
    cert = landscape.certify(double_well, res.point(res.best), (SHIFT,))
    assert cert.label == "strict_min" and cert.inertia == (0, 0, 7)
    np.testing.assert_allclose(cert.min_eigenvalue, 2.0, rtol=1e-10)  # ∂²/∂B² = 2
    assert res.distinct_values(rtol=1e-8)[0][1] == 16


def test_same_seed_same_result_and_chunking_does_not_matter():
    kw = dict(restarts=6, seed=3, args=(SHIFT,), steps=50, learning_rate=0.05, polish="none")
    a = multistart(double_well, init_pair, **kw)
    b = multistart(double_well, init_pair, **kw, chunk_size=4)
    np.testing.assert_array_equal(a.params.a, b.params.a)
    np.testing.assert_array_equal(a.values, b.values)
    c = multistart(double_well, init_pair, **{**kw, "seed": 4})
    assert not np.array_equal(a.params.a, c.params.a)


def test_a_stalled_descent_is_not_called_converged():
    res = multistart(double_well, init_pair, restarts=4, args=(SHIFT,), steps=2, polish="none")
    assert set(res.status) == {"max_steps"}
    assert not res.converged.any()
    assert res.best_converged is None and res.best in range(4)


def blows_up(p):
    """Finite at a > 0 (minimum at a = 1), NaN for a < 0: restarts started at a < 0 fail."""
    return jnp.sum((jnp.sqrt(p) - 1.0) ** 2)


def test_a_non_finite_restart_is_isolated():
    res = multistart(
        blows_up, lambda k: jnp.array([0.5 + jax.random.normal(k)]), restarts=12, steps=200, learning_rate=0.05
    )
    status = np.asarray(res.status)
    starts = np.array([0.5 + float(jax.random.normal(jax.random.fold_in(jax.random.key(0), r))) for r in range(12)])
    assert (status == "non_finite").any() and (status == "converged").any()
    np.testing.assert_array_equal(status == "non_finite", starts < 0)
    ok = status == "converged"
    np.testing.assert_allclose(np.asarray(res.params)[ok], 1.0, atol=1e-10)
    assert np.all(np.isnan(res.values[~ok]))
    assert res.best in np.nonzero(ok)[0]
    assert res.best_converged == res.best


def test_lbfgs_descent_and_polish_reach_the_minimum():
    res = multistart(double_well, init_pair, restarts=4, args=(SHIFT,), steps=30, optimizer="lbfgs", polish="lbfgs")
    assert res.status == ("converged",) * 4
    np.testing.assert_allclose(res.params.B, np.broadcast_to(SHIFT, (4, 2, 2)), atol=1e-9)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(restarts=0), "restarts"),
        (dict(restarts=2, steps=-1), "steps"),
        (dict(restarts=2, optimizer="sgd"), "optimizer"),
        (dict(restarts=2, polish="bfgs"), "polish"),
        (dict(restarts=2, learning_rate=0.0), "learning_rate"),
        (dict(restarts=2, gtol=float("nan")), "gtol"),
    ],
)
def test_bad_settings_are_rejected(kwargs, match):
    with pytest.raises(ValueError, match=match):
        multistart(double_well, init_pair, args=(SHIFT,), **kwargs)


def test_a_non_scalar_objective_is_rejected():
    with pytest.raises(ValueError, match="scalar"):
        multistart(lambda p: p.a, init_pair, restarts=2)
