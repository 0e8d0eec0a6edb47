"""Certificates of stationary points: labels, modes, the gradient-flat flag, and the CLI table."""

import json

import jax.numpy as jnp
import numpy as np
import pytest
from conftest import random_data, random_params

import landscape
from landscape.analysis.gamma import affine_optimum
from landscape.prop1 import main


@pytest.fixture(scope="module")
def X():
    return np.asarray(landscape.prop1_dataset(0.1).X)


def test_alpha_zero_collapsed_point_is_a_strict_saddle(X):
    p = landscape.collapsed_point(X, 1)
    c = landscape.certify_stationary(p, X, 0.0)
    assert c.label == "strict_saddle" and c.stationary
    assert c.n_negative == landscape.n_negative_affine(X, 1) == 1
    # certify_stationary works in the data's standardised units (landscape.core.units)
    std = landscape.as_data(X).standardised
    assert c.min_eigenvalue == pytest.approx(landscape.collapsed_spectrum(std, 1, 0.0)[0], rel=1e-10)
    neg = [m for m in c.modes if m.kind == "negative"]
    assert len(neg) == 1 and neg[0].shares["W"] + neg[0].shares["mu"] == pytest.approx(1.0, abs=1e-12)
    assert neg[0].residual < 1e-10
    # the gradient is rounding (b = x̄ in floating point), not aligned with a flat direction
    assert c.grad_norm < 1e-12 and not c.gradient_flat


@pytest.mark.parametrize("alpha", [0.1, 0.5])
def test_alpha_positive_collapsed_point_is_degenerate_with_flat_w_modes(X, alpha):
    n, d = X.shape
    p = landscape.collapsed_point(X, 1)
    c = landscape.certify_stationary(p, X, alpha)
    assert c.label == "degenerate"
    assert c.inertia == (0, d, 2 * n + d + 1)
    zero = [m for m in c.modes if m.kind == "zero"]
    assert len(zero) == d
    for m in zero:
        assert m.shares["W"] == pytest.approx(1.0)
        # higher-order evidence: along a pure-W zero mode the energy does not go down
        assert m.slice_min >= -c.slice_tol and m.slice_descent_t is None
    assert c.zero_modes_descend is False


def test_affine_optimum_is_a_strict_min_and_a_random_point_is_not_stationary(rng):
    Xr = random_data(rng, 25, 4)
    c = landscape.certify_stationary(affine_optimum(Xr, 2), Xr, 0.0)
    assert c.label == "strict_min" and c.grad_norm < 1e-10 and c.min_eigenvalue > c.tol
    r = landscape.certify_stationary(random_params(rng, 25, 4, 2), Xr, 0.0)
    assert r.label == "not_stationary" and not r.stationary


def test_gradient_flat_point_is_flagged():
    """f(x, y) = y + x² at 0: g = (0, 1) lies in ker H = span(e_y), so ‖Hg‖/‖g‖ = 0."""

    def f(p):
        return p["y"] + p["x"] ** 2

    c = landscape.certify(f, {"x": jnp.asarray(0.0), "y": jnp.asarray(0.0)})
    assert c.gradient_flat and c.gradient_flat_ratio == pytest.approx(0.0, abs=1e-15)
    assert c.label == "not_stationary"
    # a proper critical point of a cubic is degenerate, and its zero-mode slice descends at once
    g = landscape.certify(lambda p: p["x"] ** 3 + p["y"] ** 2, {"x": jnp.asarray(0.0), "y": jnp.asarray(0.0)})
    assert g.label == "degenerate" and g.zero_modes_descend
    assert [m.slice_descent_t for m in g.modes if m.kind == "zero"][0] < 1e-3


@pytest.mark.parametrize("alpha", [0.0, 0.1])
def test_the_scale_route_agrees_with_the_dense_route(X, alpha):
    p = landscape.collapsed_point(X, 2)
    dense = landscape.certify_stationary(p, X, alpha)
    big = landscape.certify_stationary(p, X, alpha, dense_max=10)
    assert big.method == "haynsworth+lanczos" and dense.method == "dense"
    assert big.label == dense.label and big.inertia == dense.inertia
    scale = abs(dense.max_eigenvalue)
    assert big.min_eigenvalue == pytest.approx(dense.min_eigenvalue, abs=1e-8 * scale)
    assert big.max_eigenvalue == pytest.approx(dense.max_eigenvalue, rel=1e-10)


def test_certify_minima_matches_the_search_and_the_cli_prints_it(X, tmp_path, capsys):
    res = landscape.search(X, 0.1, kappa=1, restarts=16, steps=1000, seed=1)  # the CLI's settings below
    stats = landscape.basin_stats(res)
    certs = landscape.certify_minima(res, stats, X)
    assert len(certs) == len(stats.distinct_minima) >= 1
    for m, c in zip(stats.distinct_minima, certs, strict=True):
        assert c.value == pytest.approx(m.energy, rel=1e-12)
        # both in standardised units; the certificate re-converts the reported θ to them, a
        # rounding of θ that moves ‖∇L‖ by up to (curvature · 1e-16 ‖θ‖), so compare at gtol
        gtol = 1e-8 * max(1.0, abs(res.units.to_standard_energy(m.energy)))
        assert c.grad_norm == pytest.approx(m.grad_norm, abs=gtol) and c.stationary
        assert c.label in landscape.stationary.LABELS
    js = tmp_path / "out.json"
    # 16 restarts of 1000 steps on the default data set, here and above: the search settings of
    # tests/test_search.py's Proposition 1 search and CLI test, so that one pytest run compiles them once
    assert main(["--alpha", "0.1", "--restarts", "16", "--steps", "1000", "--seed", "1", "--json", str(js)]) == 0
    out = capsys.readouterr().out
    assert "Certificates of the distinct minima" in out and "inertia (" in out
    payload = json.loads(js.read_text())
    got = payload["search"]["certificates"]
    assert len(got) == len(payload["search"]["distinct_minima"])
    assert {"label", "inertia", "tol", "grad_norm", "gradient_flat_ratio", "modes"} <= set(got[0])
