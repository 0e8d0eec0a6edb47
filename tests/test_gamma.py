"""γ sweeps (Proposition 2) against the affine oracle of MATH.md §6."""

import numpy as np
import pytest
from conftest import random_data

import landscape
from landscape import affine_optimum_energy, sweep_gamma, trivial_energy


@pytest.fixture(scope="module")
def affine_sweep():
    X = random_data(np.random.default_rng(21), 15, 4)
    lam = np.sort(np.linalg.eigvalsh(landscape.data_covariance(X)))[::-1]
    gammas = np.sort(np.concatenate([np.geomspace(0.2 * lam[-1], 3 * lam[0], 9), 0.9 * lam[:2], 1.1 * lam[:2]]))
    return X, lam, gammas, sweep_gamma(X, 0.0, kappa=2, gammas=gammas, restarts=4, steps=1500)


def test_best_energy_is_L_star_at_every_gamma(affine_sweep):
    X, lam, gammas, s = affine_sweep
    np.testing.assert_allclose(s.best_energy, affine_optimum_energy(X, 2, gammas), rtol=1e-6)


def test_active_count_is_non_increasing_and_matches_the_eigenvalues(affine_sweep):
    X, lam, gammas, s = affine_sweep
    assert np.all(np.diff(s.best_active) <= 0)
    # latent dimension j is active iff λ_j > γ. The grid straddles λ_1, λ_2 by 10%: the
    # (ε, δ)-KL count cannot resolve γ within ~1% of λ_j, where the dimension's KL → 0.
    expected_ok = np.min(np.abs(gammas[:, None] / lam[None, :2] - 1), axis=1) > 0.05
    expected = np.sum(lam[:2][None, :] > gammas[:, None], axis=1)
    np.testing.assert_array_equal(s.best_active[expected_ok], expected[expected_ok])


def test_gap_and_trivial_energy(affine_sweep):
    X, lam, gammas, s = affine_sweep
    np.testing.assert_allclose(s.trivial_energy, trivial_energy(X, 2, gammas), rtol=1e-14)
    assert np.all(s.gap[gammas < lam[0]] > 0)  # the trivial solution costs more below γ' = λ_1
    np.testing.assert_allclose(s.gap[gammas > lam[0]], 0.0, atol=1e-6)  # and is optimal above it


def test_continuation_agrees_with_fresh_minima_at_alpha_zero(affine_sweep):
    X, lam, gammas, s = affine_sweep
    np.testing.assert_allclose(s.forward_energy, s.best_energy, rtol=1e-6)
    np.testing.assert_array_equal(s.backward_active, s.best_active)  # no hysteresis for the affine decoder


@pytest.mark.parametrize(
    "grid, word", [([], "non-empty"), ([1.0, -2.0], "> 0"), ([2.0, 1.0], "increasing"), ([1.0, np.nan], "finite")]
)
def test_bad_grids(grid, word):
    X = random_data(np.random.default_rng(0), 6, 3)
    with pytest.raises(ValueError, match=word):
        sweep_gamma(X, 0.0, kappa=1, gammas=grid)
    with pytest.raises(ValueError, match="kappa"):
        sweep_gamma(X, 0.0, kappa=0, gammas=[1.0])


@pytest.mark.parametrize(
    "seed, n, d, kappa",
    [(0, 15, 4, 2), pytest.param(3, 12, 3, 1, marks=pytest.mark.slow)],
)
def test_thresholds_are_the_eigenvalues_at_alpha_zero(seed, n, d, kappa):
    """MATH.md §6: γ''_j = λ_j(S) for j ≤ κ and γ' = λ_1, each to 1e-5 relative."""
    X = np.random.default_rng(seed).normal(size=(n, d)) * np.linspace(2.0, 0.5, d)
    lam = np.sort(np.linalg.eigvalsh(landscape.data_covariance(X)))[::-1]
    assert np.all(-np.diff(lam) > 1e-3 * lam[0])  # distinct eigenvalues
    t = landscape.gamma_thresholds(X, 0.0, kappa=kappa)
    got = sorted(x.gamma for x in t.partial)
    np.testing.assert_allclose(got, np.sort(lam[:kappa]), rtol=1e-5)
    assert t.full is not None and t.full.gamma == pytest.approx(lam[0], rel=1e-5)
    for x in t.partial:  # the evidence: k active below the bracket, k − 1 above
        assert x.kind == "continuous" and x.gap_slope is None  # α = 0: no coexisting branch
        assert x.to_dict()["kind"] == "continuous" and "gap_slope" not in x.to_dict()
        assert x.hi / x.lo - 1 <= 1e-6
        assert sum(v > 1e-9 * n for v in x.kl_lo) == x.k and sum(v > 1e-9 * n for v in x.kl_hi) == x.k - 1


@pytest.mark.parametrize("alpha", [0.0, 0.5])
def test_literal_proposition_2_finds_a_finite_gamma_prime(alpha):
    """Fixed non-degenerate decoder θ̃: beyond a finite γ'(θ̃) the trivial solution costs less."""
    ds = landscape.prop1_dataset(0.5, n=20, d=3, kappa=1, seed=0)
    X = ds.X + 0.05 * np.random.default_rng(1).normal(size=ds.X.shape)
    grid = np.geomspace(1e-3, 100, 25)
    p = landscape.prop2_literal(X, alpha, kappa=1, gammas=grid)
    assert p.delta > 0  # the proof's hypothesis Δ = Σ f_i(0, 1, θ̃) − nd γ̄ > 0
    assert p.gamma_prime is not None and grid[0] < p.gamma_prime < grid[-1]
    diff = p.energy - p.trivial_energy
    assert np.all(diff[grid < 0.99 * p.gamma_prime] < 0) and np.all(diff[grid > 1.01 * p.gamma_prime] > 0)


def test_implicit_gamma_equals_gamma_at_a_learned_optimum():
    """Eq. (9): at a stationary point with γ learned, γ = (1/nd) Σ E_q‖x − μ_x(z)‖²."""
    X = random_data(np.random.default_rng(2), 12, 3)
    # compare_basins' settings in tests/test_elbo_vs_likelihood.py (n = 12, d = 3, κ = 1, 8 restarts of 400
    # steps, a 200-step Newton polish): one pytest run compiles them once
    r = landscape.search(X, 0.3, kappa=1, restarts=8, steps=400, polish="newton", polish_steps=200, seed=0)
    p = r.restart(r.best)
    assert r.status[r.best] == "converged"
    assert landscape.implicit_gamma(p, X, 0.3) == pytest.approx(float(p.gamma), rel=1e-8)
