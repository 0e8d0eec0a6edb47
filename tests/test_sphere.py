"""The sphere certificate of the collapsed point (issue 19), against its oracles.

- α = 0: m(r)/r² → (n/γ̄)(1 − λ_1/γ̄), the reduced curvature along u_1 (MATH.md §4, the Schur
  complement of `sphere_theory`), with the minimiser along u_1; a saddle (λ_1 > γ̄) fails.
- α > 0: m(r) against the leading order (nd/γ̄) g(r²/d) inside its validity radius.
- Exhaustiveness on S² (dκ = 3): the multi-start search alone and the search refined from the
  grid's best directions agree.
- Each m(r) is ℓ at its minimiser, checked against the arrowhead Newton of `reduced_excess`.
"""

from types import SimpleNamespace

import numpy as np
import pytest

import landscape
from landscape.analysis.reduced_energy import reduced_excess
from landscape.analysis.sphere import fibonacci_sphere, sphere_certificate
from landscape.analysis.sphere_theory import validity_radius


@pytest.fixture(scope="module", params=[0, 1, "gaussian"])
def affine(request):
    if request.param == "gaussian":  # not the library's construction: unequal variances, n = 20, d = 3
        rng = np.random.default_rng(7)
        ds = SimpleNamespace(data=landscape.as_data(rng.normal(size=(20, 3)) * [2.0, 1.0, 0.3]))
    else:
        ds = landscape.prop1_dataset(0.0, seed=request.param)
    return ds, sphere_certificate(ds.data, 0.0, kappa=1, radii=[1e-4, 1e-3, 1e-2, 0.3], starts=8)


@pytest.fixture(scope="module")
def soft():
    ds = landscape.prop1_dataset(0.1, seed=3)
    vr = validity_radius(ds.data, 0.1)
    radii = np.concatenate([np.geomspace(0.2 * vr, vr, 4), [0.3, 1.0]])
    return ds, vr, sphere_certificate(ds, 0.1, kappa=1, radii=radii, starts=8)


def test_affine_curvature_and_direction(affine):
    ds, cert = affine
    data = ds.data
    assert data.eigenvalues[0] > data.gamma_bar  # the data make the collapsed point a saddle
    curvature = data.n / data.gamma_bar * (1.0 - data.eigenvalues[0] / data.gamma_bar)
    assert cert.min_excess[0] / cert.radii[0] ** 2 == pytest.approx(curvature, rel=1e-4)
    assert np.all(cert.overlaps[:3, 0] >= 0.999)  # along u_1 e_1


def test_affine_saddle_fails(affine):
    _, cert = affine
    assert np.all(cert.min_excess < 0)
    assert cert.r_star == cert.radii[0] and cert.barrier_lower is None
    assert not cert.holds


def test_soft_threshold_leading_order(soft):
    _, vr, cert = soft
    inside = cert.radii <= vr * (1 + 1e-12)
    assert inside.sum() == 4
    np.testing.assert_allclose(cert.min_excess[inside], cert.leading_order[inside], rtol=0.1)
    # the two smallest radii: far inside the perturbative range
    np.testing.assert_allclose(cert.min_excess[:2], cert.leading_order[:2], rtol=1e-6)
    assert np.all(cert.min_excess[inside] <= cert.leading_order[inside] * (1 + 1e-9))  # an exact upper bound


def test_exhaustive_on_s2(soft):
    _, _, cert = soft
    assert cert.grid_agreement <= 1e-8
    gridded = np.isfinite(cert.grid_best)  # the first pass's radii (the refinement's start from its minimisers)
    assert gridded.sum() == 6
    # refined from the grid's best directions: never above the grid's best value
    assert np.all(cert.min_excess[gridded] <= cert.grid_best[gridded] * (1 + 1e-12) + 1e-300)


def test_values_are_the_reduced_energy(soft):
    ds, _, cert = soft
    assert cert.solved[cert.radii < cert.r_star].all()
    for r, W, m, solved in zip(cert.radii, cert.minimisers, cert.min_excess, cert.solved, strict=True):
        assert np.linalg.norm(W) == pytest.approx(r, rel=1e-12)
        ref = reduced_excess(W, ds.data, 0.1)
        assert ref.converged
        if solved:
            assert m == pytest.approx(ref.value, rel=1e-9)
        else:  # beyond r*, an unsolved value is an upper bound
            assert m >= ref.value


def test_certificate_holds_below_r_star(soft):
    _, _, cert = soft
    assert cert.r_star is not None and cert.holds
    head = cert.min_excess[cert.radii < cert.r_star]
    assert np.all(head > 0) and cert.barrier_lower == np.max(head)
    assert cert.min_excess[cert.radii == cert.r_star][0] <= 0


def test_fibonacci_is_near_uniform():
    P = fibonacci_sphere(10_000)
    np.testing.assert_allclose(np.linalg.norm(P, axis=1), 1.0, rtol=1e-14)
    assert np.abs(P.mean(axis=0)).max() < 1e-3  # balanced
    # covering radius: every point of a random sample is within ~2.5/√N rad of the grid
    rng = np.random.default_rng(0)
    Q = rng.normal(size=(500, 3))
    Q /= np.linalg.norm(Q, axis=1, keepdims=True)
    assert np.arccos(np.clip(Q @ P.T, -1, 1)).min(axis=1).max() < 2.5 / np.sqrt(10_000)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(radii=[0.2, 0.1]), "increasing"),
        (dict(radii=[0.0, 0.1]), "radii"),
        (dict(decay=1.5), "decay"),
        (dict(kappa=0), "kappa"),
        (dict(starts=0), "starts"),
    ],
)
def test_bad_arguments(kwargs, match):
    ds = landscape.prop1_dataset(0.1)
    with pytest.raises(ValueError, match=match):
        sphere_certificate(ds, 0.1, **kwargs)


@pytest.mark.slow
@pytest.mark.parametrize("alpha", [0.05, 0.1, 0.5, 1.0])
def test_barrier_bracket_on_the_default_data(alpha):
    """lower (sup of m below r*) ≤ MEP (string method, climbing image) ≤ best 1-D profile, on prop1's data.

    The default tier checks lower ≤ profile through ``python -m landscape.prop1`` (tests/test_cli.py)."""
    from landscape.analysis.prop1_path import prop1_path

    ds = landscape.prop1_dataset(alpha)
    cert = landscape.certify_prop1(ds, n_random_directions=0, sphere=True)
    mep = prop1_path(ds)
    assert mep.converged
    sph = cert.sphere.with_upper_bounds(mep=float(mep.barrier), profile=float(mep.extras["profile_barrier"]))
    assert sph.holds and sph.bracket_ok()
    print(f"alpha={alpha}: lower {sph.barrier_lower:.4e}  MEP {sph.barrier_mep:.4e}  profile {sph.barrier_profile:.4e}"
          f"  lower/MEP {sph.barrier_lower / sph.barrier_mep:.3f}")  # fmt: skip
