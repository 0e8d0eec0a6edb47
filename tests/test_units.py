"""Scale and shift equivariance (issue 18, item 1): results do not depend on the units of X.

Eq. (5) is equivariant under X → cX + t, W → cW, b → cb + t, α → cα, γ → c²γ: the energy
shifts by 2nd log c and nothing else changes (`landscape.core.units`). The analyses work
in the data's standardised units, so the oracle is the same analysis at c = 1, t = 0:
verdicts, inertia counts, basin categories and threshold counts must be identical, and
energies must shift by exactly 2nd log c.

Float64 limits the shift one can test *as data*: X' = cX + t is rounded once, to about
1e-16 |t|, so for |t| ≫ c the stored X' is a different data set (at |t| = 1e8 c it keeps
8 digits, and at c = 1e-8, t = 1e8 none). So:
- the collapsed half of the certificate and all inertia counts are compared over the
  whole rectangle c ∈ [1e-8, 1e8], t ∈ [−1e8, 1e8] (they hold for any data);
- the full verdict (whose reconstruction half needs X exactly on the decoder's range)
  and the energies to 1e-10 are compared where X' keeps its digits, ulp(X') ≤ 1e-11 c;
- searches and thresholds are run on shifts |t| ≤ min(1e8, 1e4 c).
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import landscape as L
from landscape.core.params import VAEParams
from landscape.core.units import Units

DS = L.prop1_dataset(0.1)
N, D = DS.X.shape

scales = st.floats(-8.0, 8.0).map(lambda e: float(10.0**e))
shifts = st.floats(-1e8, 1e8, allow_nan=False)


def offset(c):
    return 2.0 * N * D * np.log(c)


def keeps_digits(c, t):
    """Whether X' = cX + t is, to 1e-11 of its spread, the image of X (not a rounded copy)."""
    return float(np.spacing(abs(t) + c * np.abs(DS.X).max())) <= 1e-11 * c


@functools.cache
def base_certificate():
    return L.certify_prop1(DS)


def inertia(report):
    s = report.spectrum
    return (s.n_negative, s.n_zero, s.n_positive)


COLLAPSED_CHECKS = (
    "alpha_positive",
    "stationary",
    "no_negative_curvature",
    "barrier_every_direction",
    "affine_descent_directions_probed",
    "profiles_converged",
)


@settings(max_examples=4, deadline=None)
@given(c=scales, t=shifts)
@example(c=1e-6, t=0.0)  # the reproductions: fails at 1e-6 and 1e6, and at a shift of 1e8
@example(c=1e6, t=0.0)
@example(c=1.0, t=1e8)
@example(c=1e-8, t=1e8)
@example(c=1e8, t=-1e8)
def test_certify_prop1_is_equivariant(c, t):
    base = base_certificate()
    cert = L.certify_prop1(DS.rescaled(c, t))
    for name in COLLAPSED_CHECKS:
        assert cert.checks[name] == base.checks[name], name
    assert inertia(cert.collapsed) == inertia(base.collapsed)
    assert inertia(cert.affine) == inertia(base.affine)
    if keeps_digits(c, t):
        # (on a rounded copy the directions themselves differ: #{λ_l > γ̄} of the copy decides them)
        assert [p.shape for p in cert.collapsed.profiles] == [p.shape for p in base.collapsed.profiles]
        assert cert.verdict == base.verdict == "holds"
        assert cert.checks == base.checks
        for a, b in ((cert.collapsed, base.collapsed), (cert.affine, base.affine)):
            assert a.energy - offset(c) == pytest.approx(b.energy, rel=1e-10, abs=1e-10)
            assert a.energy_formula - offset(c) == pytest.approx(b.energy_formula, rel=1e-10, abs=1e-10)
            np.testing.assert_allclose(a.spectrum.eigenvalues, b.spectrum.eigenvalues, rtol=1e-8, atol=1e-8)
            heights = [p.barrier_height for p in a.profiles]
            np.testing.assert_allclose(heights, [p.barrier_height for p in b.profiles], rtol=1e-6, atol=1e-12)
            np.testing.assert_allclose(a.barrier_t, c * b.barrier_t, rtol=1e-8)
        np.testing.assert_allclose(cert.reconstruction.energy - offset(c), base.reconstruction.energy, rtol=1e-10)


def test_certificate_reports_in_user_units():
    """Energies, α and t come back in the user's units, checked against direct evaluations."""
    c, t = 1e-3, 2.5
    ds = DS.rescaled(c, t)
    cert = L.certify_prop1(ds)
    assert cert.collapsed.alpha == ds.alpha
    assert cert.collapsed.energy == pytest.approx(
        float(L.energy(L.collapsed_point(ds.X, 1), ds.X, ds.alpha)), rel=1e-12
    )
    p = cert.collapsed.profiles[0]
    assert p.direction.eigenvalue == pytest.approx(ds.data.eigenvalues[0], rel=1e-10)
    # a profile point re-evaluated in user units: f_U(t) ≤ L at the collapsed b, γ, μ, σ with W = t U
    k = int(np.argmax(p.rel))
    start = L.collapsed_point(ds.X, 1)
    W = p.t[k] * p.direction.U
    assert p.energy[k] <= float(L.energy(start._replace(W=W), ds.X, ds.alpha)) + 1e-9
    assert cert.gamma_bar == pytest.approx(c * c * DS.data.gamma_bar, rel=1e-10)


@settings(max_examples=20, deadline=None)
@given(c=scales, t=shifts, seed=st.integers(0, 2**31 - 1))
def test_units_map_energy_exactly(c, t, seed):
    """L(θ; X, α) = L(θ_s; X_s, α_s) + 2nd log s for a random θ (direct evaluation, both sides)."""
    X = c * DS.X + t
    if not keeps_digits(c, t):
        X = c * DS.X  # the identity is exact arithmetic on the stored X either way; keep X informative
    data = L.as_data(X)
    units = data.units
    rng = np.random.default_rng(seed)
    p = VAEParams(
        W=np.sqrt(data.gamma_bar) * rng.normal(size=(D, 1)),
        b=data.x_mean + np.sqrt(data.gamma_bar) * rng.normal(size=D),
        log_gamma=np.log(data.gamma_bar) + rng.normal(),
        mu=rng.normal(size=(N, 1)),
        log_sigma=0.3 * rng.normal(size=(N, 1)),
    )
    alpha = c * DS.alpha
    lhs = float(L.energy(p, X, alpha))
    rhs = float(L.energy(units.to_standard_params(p), data.standardised.X, units.to_standard_alpha(alpha)))
    assert lhs == pytest.approx(units.from_standard_energy(rhs), rel=1e-9, abs=1e-9)
    back = units.from_standard_params(units.to_standard_params(p))
    for a, b in zip(back, p, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12 * (abs(t) + c))


def bounded_shift(c, u):
    """A shift |t| ≤ min(1e8, 1e4 c): X' keeps at least 12 digits of X."""
    return float(u) * min(1e8, 1e4 * c)


# 1000 steps: the setting of tests/test_search.py's searches on data of this shape (n = 20, d = 3, κ = 1), so
# that one pytest run compiles the per-restart Newton polish once for them and for these
SEARCH_STEPS = 1000
# Seed 0's restart 0 ends within rounding of a basin boundary: a 1e-15 relative perturbation of X sends it to
# another minimum with either descent gradient, so its equivariance is not testable restart by restart. Seed 2's
# 8 restarts keep their minima under 1e-13 perturbations and the rescalings below (checked when the descent
# gained its fused gradient, issue 22).
SEARCH_SEED = 2


@functools.cache
def base_search():
    r = L.search(DS.X, DS.alpha, kappa=1, restarts=8, steps=SEARCH_STEPS, seed=SEARCH_SEED)
    return r, L.basin_stats(r)


@settings(max_examples=3, deadline=None)
@given(c=scales, u=st.floats(-1.0, 1.0))
@example(c=1e-6, u=0.0)  # the issue's: 0 of 8 restarts converged at X·1e-6
@example(c=1e8, u=1.0)
def test_search_is_equivariant(c, u):
    t = bounded_shift(c, u)
    ds = DS.rescaled(c, t)
    r0, s0 = base_search()
    r = L.search(ds.X, ds.alpha, kappa=1, restarts=8, steps=SEARCH_STEPS, seed=SEARCH_SEED)
    s = L.basin_stats(r)
    assert list(s.categories) == list(s0.categories)
    assert list(r.status) == list(r0.status)
    assert list(r.active) == list(r0.active)
    assert len(s.distinct_minima) == len(s0.distinct_minima)
    conv = r0.status == "converged"
    np.testing.assert_allclose(r.energy[conv] - offset(c), r0.energy[conv], rtol=1e-10, atol=1e-9)
    np.testing.assert_allclose(r.gamma[conv] / c**2, r0.gamma[conv], rtol=1e-6)


@functools.cache
def threshold_setup():
    lam = DS.data.eigenvalues
    grid = np.geomspace(lam[-1], 3 * lam[0], 5)
    # 800 steps: the setting of tests/test_gamma_first_order.py's thresholds on data of this shape, so that one
    # pytest run compiles the sweep's and the probes' Newton polishes once for both
    kw = dict(kappa=1, restarts=1, probe_restarts=2, steps=800, rtol=1e-2)
    return grid, kw, L.gamma_thresholds(DS.X, DS.alpha, gammas=grid, **kw)


@settings(max_examples=1, deadline=None)
@given(c=scales, u=st.floats(-1.0, 1.0))
@example(c=1e-8, u=1.0)
def test_gamma_thresholds_count_is_equivariant(c, u):
    grid, kw, base = threshold_setup()
    ds = DS.rescaled(c, bounded_shift(c, u))
    th = L.gamma_thresholds(ds.X, ds.alpha, gammas=grid * c**2, **kw)
    assert len(th.partial) == len(base.partial) >= 1
    assert [x.k for x in th.partial] == [x.k for x in base.partial]
    np.testing.assert_allclose([x.gamma / c**2 for x in th.partial], [x.gamma for x in base.partial], rtol=1e-6)


def test_certify_stationary_is_equivariant():
    r0, s0 = base_search()
    c, t = 1e5, -3e5
    ds = DS.rescaled(c, t)
    p0 = r0.restart(s0.distinct_minima[0].index)
    p = Units(shift=np.zeros(D), scale=c, n=N, d=D).from_standard_params(p0)
    p = p._replace(b=p.b + t)
    a = L.certify_stationary(p0, DS.X, DS.alpha)
    b = L.certify_stationary(p, ds.X, ds.alpha)
    assert (a.label, a.n_negative, a.n_zero, a.n_positive) == (b.label, b.n_negative, b.n_zero, b.n_positive)
    assert b.value - offset(c) == pytest.approx(a.value, rel=1e-10)
    # ‖∇L‖ at a search endpoint is at the rounding of θ times the curvature (here up to
    # ~1e8 in γ), so only its test is compared: both pass gtol in standardised units
    assert a.stationary and b.stationary
    assert max(a.grad_norm, b.grad_norm) <= 1e-8 * max(
        1.0, abs(a.value - 2 * N * D * np.log(np.sqrt(DS.data.gamma_bar)))
    )


def test_rescaled_checks_its_arguments():
    with pytest.raises(ValueError, match="c must"):
        DS.rescaled(0.0)
    with pytest.raises(ValueError, match="t contains NaN"):
        DS.rescaled(1.0, np.nan)
    with pytest.raises(ValueError, match="t must be a scalar or a vector of length d"):
        DS.rescaled(1.0, np.zeros(D + 1))
