"""The collapsed point of a deep VAE (MATH.md §7): proofs_numeric.deep_collapsed_point, fast configuration."""

from __future__ import annotations

import jax
import numpy as np
import pytest

from proofs_numeric import deep_collapsed_point as dcp


@pytest.mark.parametrize("perturb", ["gamma", "first_layer"])
def test_negative_control_fails(perturb):
    """Breaking one condition of §7 gives a clearly nonzero gradient, so the stationarity check fails."""
    unbroken = dcp.stationarity_check(depths=(2,), activations=("tanh",))
    broken = dcp.stationarity_check(depths=(2,), activations=("tanh",), perturb=perturb)
    assert unbroken.passed, unbroken
    assert not broken.passed
    assert broken.error > 1e-3


def test_no_antithetic_pairs_gives_a_nonzero_first_layer_gradient():
    X = dcp._data()
    eps, w = dcp.mc_noise(jax.random.PRNGKey(0), X.shape[0], 8, dcp.KAPPA, antithetic=False)
    m = dcp._Model(X, 2, "tanh", eps, w)
    assert m.group_norms(m.grad())["dec_first"] / abs(m.value()) > 1e-3
    eps, w = dcp.mc_noise(jax.random.PRNGKey(0), X.shape[0], 8, dcp.KAPPA, antithetic=True)
    m = dcp._Model(X, 2, "tanh", eps, w)
    assert m.group_norms(m.grad())["dec_first"] / abs(m.value()) < 1e-12


@pytest.mark.parametrize(("depth", "activation"), [(1, "relu"), (3, "tanh")])
def test_energy_at_the_point_equals_the_formula(depth, activation):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(12, 4)) * rng.uniform(0.5, 2.0, size=4) + rng.normal(size=4)
    params = dcp.collapsed_params(X, depth, activation, kappa=3, width=6)
    eps, w = dcp.mc_noise(jax.random.PRNGKey(1), 12, 4, 3)
    L = float(dcp.energy(params, X, eps, w, activation))
    n, d = X.shape
    gamma_bar = np.sum((X - X.mean(0)) ** 2) / (n * d)
    expected = n * d * (1 + np.log(gamma_bar)) + n * 3
    assert dcp.energy_formula(X, 3) == pytest.approx(expected, rel=1e-14)
    assert L == pytest.approx(expected, rel=1e-12)
    nodes, weights = dcp.gauss_hermite(5, 3)
    assert float(np.sum(weights)) == pytest.approx(1.0, rel=1e-14)
    assert float(dcp.energy(params, X, nodes, weights, activation)) == pytest.approx(expected, rel=1e-12)


def test_unknown_perturbation_is_rejected():
    with pytest.raises(ValueError, match="perturb"):
        dcp.collapsed_params(np.eye(3), 1, "tanh", perturb="nonsense")
