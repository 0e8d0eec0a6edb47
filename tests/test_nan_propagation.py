"""NaN in, NaN out (issue 18): the unchecked cores never swallow a NaN in a `where`."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import landscape
from landscape.core.energy import energy_objective
from landscape.core.marginal import DecoderParams, log_marginal_points, marginal_energy_jit

DS = landscape.prop1_dataset(0.1, n=6, d=3, kappa=1, seed=0)
X = jnp.asarray(DS.X)
# the cores compiled whole, as the engine runs them (eager, op by op, the κ = 2 quadrature costs ~15 s of
# dispatch); under jit XLA may not fold 0·NaN away either, so the guard is tested where it matters. Every
# log_gamma is a strong float64 (as the poisoned ones are), so each κ compiles once.
points_jit = jax.jit(log_marginal_points)


def _poisoned(tree, field, value):
    a = np.array(getattr(tree, field), dtype=float)
    a.flat[0] = value
    return tree._replace(**{field: jnp.asarray(a)})


@pytest.mark.parametrize("field", ["W", "b", "log_gamma", "mu", "log_sigma"])
def test_energy_core_propagates_nan_at_the_collapsed_point(field):
    p = _poisoned(landscape.collapsed_point(DS.X, 1), field, np.nan)  # W = 0: the degenerate point
    assert np.isnan(float(energy_objective(p, X, 0.1)))


def test_energy_core_propagates_nan_alpha_and_x():
    p = landscape.collapsed_point(DS.X, 1)
    assert np.isnan(float(energy_objective(p, X, jnp.nan)))
    assert np.isnan(float(energy_objective(p, X.at[0, 0].set(jnp.nan), 0.1)))


@pytest.mark.parametrize("kappa", [1, 2])
@pytest.mark.parametrize("field", ["W", "b", "log_gamma", "alpha"])
def test_marginal_cores_propagate_nan(kappa, field):
    theta = DecoderParams(jnp.zeros((3, kappa)), jnp.asarray(DS.X.mean(0)), jnp.asarray(0.0, dtype=jnp.float64))
    alpha = 0.1
    if field == "alpha":
        alpha = jnp.nan
    else:
        theta = _poisoned(theta, field, np.nan)
    assert np.all(np.isnan(np.asarray(points_jit(theta, X, alpha))))
    assert np.isnan(float(marginal_energy_jit(theta, X, alpha)))


def test_the_guard_changes_no_finite_value():
    """0·(Σ W + α) adds an exact 0: the value at a generic point is the closed form's, to rounding."""
    theta = DecoderParams(jnp.zeros((3, 1)), jnp.asarray(DS.X.mean(0)), jnp.log(jnp.asarray(0.7, dtype=jnp.float64)))
    n, d = DS.X.shape
    y = DS.X - DS.X.mean(0)
    expected = -0.5 * (n * d * np.log(2 * np.pi * 0.7) + np.sum(y**2) / 0.7)
    assert float(jnp.sum(points_jit(theta, X, 0.1))) == pytest.approx(expected, rel=1e-13)
