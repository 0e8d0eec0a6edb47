"""Proposition 2 thresholds: continuous at α = 0 (MATH.md §6), two crossing branches for α > 0."""

import numpy as np
import pytest

import landscape
from landscape.analysis import gamma_branches as GB
from landscape.core.data import as_data

# α = 0 (continuous, γ'' = λ_j): tests/test_gamma.py::test_thresholds_are_the_eigenvalues_at_alpha_zero


def _gap(X, alpha, a, b, gamma):
    """E_A − E_B at γ by continuation of each branch minimum (polished: ‖∇L‖ certified)."""
    am, bm = GB.polish_at(X, alpha, 1, a, gamma), GB.polish_at(X, alpha, 1, b, gamma)
    assert am.converged and bm.converged
    return am.energy - bm.energy


@pytest.mark.slow
def test_first_order_crossing_has_equal_branch_energies_and_the_order_flips():
    """At a first-order threshold both branch minima exist, their energies agree, and the order flips."""
    X = as_data(landscape.prop1_dataset(0.5, n=20, d=3, kappa=1, seed=0).X)
    t = landscape.gamma_thresholds(X, 0.5, kappa=1)
    (th,) = t.partial
    assert th.kind == "first_order"
    assert abs(th.energy_a - th.energy_b) <= 1e-6 * abs(th.energy_b) + th.gap_slope * (th.hi - th.lo)
    assert th.gap_slope > 0
    assert th.to_dict()["branch_energies"] == [th.energy_a, th.energy_b]
    ms = GB.probe_minima(X, 0.5, 1, th.lo, restarts=16, steps=1500, seed=0)
    a = min((m for m in ms if m.converged and m.active(20e-9) >= 1), key=lambda m: m.energy)
    b = min((m for m in GB.probe_minima(X, 0.5, 1, th.hi, restarts=16, steps=1500, seed=0)
             if m.converged and m.active(20e-9) == 0), key=lambda m: m.energy)  # fmt: skip
    delta = 1e-3
    assert _gap(X, 0.5, a, b, th.gamma * (1 - delta)) < 0 < _gap(X, 0.5, a, b, th.gamma * (1 + delta))
    # the reported slope is the envelope-theorem slope: compare a central difference
    h = 1e-4 * th.gamma
    fd = (_gap(X, 0.5, a, b, th.gamma + h) - _gap(X, 0.5, a, b, th.gamma - h)) / (2 * h)
    assert th.gap_slope == pytest.approx(fd, rel=1e-3)


def test_first_order_threshold_on_a_narrow_grid():
    """The light default version of the slow test: a first-order crossing, found and bisected."""
    X = as_data(landscape.prop1_dataset(0.5, n=20, d=3, kappa=1, seed=0).X)
    t = landscape.gamma_thresholds(
        X, 0.5, kappa=1, gammas=np.geomspace(0.45, 0.75, 4), restarts=4, probe_restarts=8, steps=800, rtol=1e-5
    )
    (th,) = t.partial
    assert th.kind == "first_order"
    assert th.gamma == pytest.approx(0.5580060, rel=1e-4)  # the slow test's crossing (independently checked)
    assert abs(th.energy_a - th.energy_b) <= 1e-6 * abs(th.energy_b) + th.gap_slope * (th.hi - th.lo)
