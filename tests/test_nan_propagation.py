"""NaN in, NaN out (issue 18): the unchecked cores never swallow a NaN in a `where`."""

import jax.numpy as jnp
import numpy as np
import pytest

import landscape
from landscape.core.energy import energy_objective
from landscape.core.marginal import DecoderParams, log_marginal_points, marginal_energy

DS = landscape.prop1_dataset(0.1, n=6, d=3, kappa=1, seed=0)
X = jnp.asarray(DS.X)


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
    theta = DecoderParams(jnp.zeros((3, kappa)), jnp.asarray(DS.X.mean(0)), jnp.asarray(0.0))
    alpha = 0.1
    if field == "alpha":
        alpha = jnp.nan
    else:
        theta = _poisoned(theta, field, np.nan)
    assert np.all(np.isnan(np.asarray(log_marginal_points(theta, X, alpha))))
    assert np.isnan(float(marginal_energy(theta, X, alpha)))


def test_the_guard_changes_no_finite_value():
    """0·(Σ W + α) adds an exact 0: the value at a generic point is the closed form's, to rounding."""
    theta = DecoderParams(jnp.zeros((3, 1)), jnp.asarray(DS.X.mean(0)), jnp.log(jnp.asarray(0.7)))
    n, d = DS.X.shape
    y = DS.X - DS.X.mean(0)
    expected = -0.5 * (n * d * np.log(2 * np.pi * 0.7) + np.sum(y**2) / 0.7)
    assert float(jnp.sum(log_marginal_points(theta, X, 0.1))) == pytest.approx(expected, rel=1e-13)
