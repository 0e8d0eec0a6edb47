"""Slices and minimum-energy paths (landscape.paths), each against an oracle.

Oracles: exact quadratics, pointwise evaluation of eq. (5), the W → −W symmetry of eq. (5),
`landscape.energy_profile`, analytic saddles (a tilted, curved double well rotated into
R^6, whose saddle is a root of a cubic; the Müller–Brown potential, whose saddle energies
are in the literature), the Hessian spectrum, and the Proposition 1 profile barrier of
`landscape.certify_prop1`.
"""

import functools

import jax
import jax.flatten_util
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import random_params

import landscape
from landscape import paths
from landscape.core.energy import energy_objective
from landscape.tools.newton import newton_minimize

# ---------------------------------------------------------------------------------------
# Slices


def _quadratic(p, A):
    x = jnp.concatenate([jnp.ravel(p["a"]), jnp.ravel(p["b"])])
    return 0.5 * x @ A @ x


@pytest.fixture(scope="module")
def quad():
    rng = np.random.default_rng(3)
    B = rng.normal(size=(7, 7))
    A = B @ B.T + np.diag(np.arange(1.0, 8.0))
    lam, vec = np.linalg.eigh(A)
    p0 = {"a": jnp.asarray(rng.normal(size=(2, 3))), "b": jnp.asarray(rng.normal())}
    return jnp.asarray(A), lam, vec, p0


def test_slice_1d_of_a_quadratic_along_an_eigenvector(quad):
    A, lam, vec, p0 = quad
    zero = jax.tree_util.tree_map(jnp.zeros_like, p0)
    ts = np.linspace(-2.0, 3.0, 11)
    for j in (0, 6):
        sl = paths.slice_1d(_quadratic, zero, vec[:, j], ts, args=(A,))
        np.testing.assert_allclose(sl.energy, 0.5 * lam[j] * ts**2, rtol=1e-13, atol=1e-13)
        assert sl.f0 == 0.0 and sl.direction_norm == pytest.approx(1.0, rel=1e-14)
    # away from 0: f(p + t v) = f(p) + t vᵀA p + ½ λ t², with the direction given as a pytree
    x0 = np.concatenate([np.ravel(p0["a"]), [float(p0["b"])]])
    v = vec[:, 2]
    tree_v = {"a": jnp.asarray(v[:6].reshape(2, 3)), "b": jnp.asarray(v[6])}
    sl = paths.slice_1d(_quadratic, p0, tree_v, ts, args=(A,))
    expected = 0.5 * x0 @ np.asarray(A) @ x0 + ts * (v @ np.asarray(A) @ x0) + 0.5 * lam[2] * ts**2
    np.testing.assert_allclose(sl.energy, expected, rtol=1e-12)
    np.testing.assert_allclose(sl.rel, expected - expected[ts == 0][0], atol=1e-12)


def test_slice_along_a_segment_hits_the_other_point(rng):
    X = rng.normal(size=(8, 3))
    p, q = random_params(rng, 8, 3, 2), random_params(rng, 8, 3, 2)
    d = paths.segment_direction(p, q)
    sl = paths.slice_1d(energy_objective, p, d, [0.0, 0.5, 1.0], args=(X, 0.3))
    assert sl.energy[0] == pytest.approx(float(landscape.energy(p, X, 0.3)), rel=1e-13)
    assert sl.energy[2] == pytest.approx(float(landscape.energy(q, X, 0.3)), rel=1e-12)
    mid = jax.tree_util.tree_map(lambda a, b: 0.5 * (np.asarray(a) + np.asarray(b)), p, q)
    assert sl.energy[1] == pytest.approx(float(landscape.energy(landscape.VAEParams(*mid), X, 0.3)), rel=1e-12)


def test_slice_2d_equals_pointwise_evaluation(rng):
    X = rng.normal(size=(6, 3))
    p = random_params(rng, 6, 3, 1)
    d1 = paths.filter_normalized_direction(p, 0)
    d2 = paths.filter_normalized_direction(p, 1).flat  # a flat vector works as well
    s, t = np.linspace(-0.5, 0.5, 5), np.linspace(-1.0, 1.0, 4)
    sl = paths.slice_2d(energy_objective, p, d1, d2, s, t, args=(X, 0.2))
    assert sl.energy.shape == (5, 4)
    x0, unravel = jax.flatten_util.ravel_pytree(p)
    for i in (0, 2, 4):
        for j in (0, 3):
            point = unravel(x0 + s[i] * d1.flat + t[j] * d2)
            assert sl.energy[i, j] == pytest.approx(float(landscape.energy(point, X, 0.2)), rel=1e-12)
    assert sl.cosine == pytest.approx(d1.flat @ d2 / np.linalg.norm(d1.flat) / np.linalg.norm(d2), rel=1e-12)


def test_slice_along_a_hessian_eigenvector_sees_its_eigenvalue():
    """At α = 0 the collapsed point is a strict saddle (MATH.md §4): the second difference of
    the slice along the most negative eigenvector (a flat vector in ravel_pytree order) is λ_min."""
    ds = landscape.prop1_dataset(0.0)
    p = landscape.collapsed_point(ds.X, 1)
    spec = landscape.spectrum(p, ds.X, 0.0, eigenvectors=True)
    h = 1e-3
    sl = paths.slice_1d(energy_objective, p, spec.eigenvectors[:, 0], [-h, 0.0, h], args=(jnp.asarray(ds.X), 0.0))
    second = (sl.energy[0] - 2 * sl.energy[1] + sl.energy[2]) / h**2
    assert spec.min_eigenvalue < 0
    assert second == pytest.approx(spec.min_eigenvalue, rel=1e-5)


# ---------------------------------------------------------------------------------------
# Filter-normalised directions


def test_filter_normalized_norms_match_the_parameters(rng):
    p = random_params(rng, 5, 4, 3)
    fd = paths.filter_normalized_direction(p, 7)
    d = fd.direction
    np.testing.assert_allclose(np.linalg.norm(d.W, axis=0), np.linalg.norm(p.W, axis=0), rtol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(d.mu, axis=1), np.linalg.norm(p.mu, axis=1), rtol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(d.log_sigma, axis=1), np.linalg.norm(p.log_sigma, axis=1), rtol=1e-12)
    assert np.linalg.norm(d.b) == pytest.approx(np.linalg.norm(p.b), rel=1e-12)
    assert abs(float(d.log_gamma)) == pytest.approx(abs(float(p.log_gamma)), rel=1e-12)
    assert fd.n_filters == 3 + 1 + 1 + 5 + 5 and fd.n_fallback == 0
    np.testing.assert_allclose(fd.flat, jax.flatten_util.ravel_pytree(d)[0])
    # the same seed gives the same direction, another seed another one
    np.testing.assert_array_equal(paths.filter_normalized_direction(p, 7).flat, fd.flat)
    assert not np.allclose(paths.filter_normalized_direction(p, 8).flat, fd.flat)
    same = paths.filter_normalized_direction(p, jax.random.key(7))
    np.testing.assert_array_equal(same.flat, fd.flat)


def test_filter_normalized_fallback_at_the_collapsed_point():
    X = landscape.prop1_dataset(0.1, n=6).X
    p = landscape.collapsed_point(X, 2)  # W = 0, μ = 0, log σ = 0: zero filters
    fd = paths.filter_normalized_direction(p, 0)
    d = fd.direction
    np.testing.assert_allclose(np.linalg.norm(d.W, axis=0), 1.0, rtol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(d.mu, axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(d.log_sigma, axis=1), 1.0, rtol=1e-12)
    assert np.linalg.norm(d.b) == pytest.approx(np.linalg.norm(p.b), rel=1e-12)
    assert fd.fallback[0].tolist() == [True, True] and not fd.fallback[1].any()
    assert fd.n_fallback == 2 + 6 + 6 and fd.any_fallback


def test_filter_normalized_generic_pytree_rows_are_filters():
    p = {"w": jnp.asarray([[0.0, 1.0, 2.0], [0.0, 4.0, 5.0]]), "s": jnp.asarray(2.0)}
    fd = paths.filter_normalized_direction(p, 3)
    np.testing.assert_allclose(np.linalg.norm(fd.direction["w"], axis=1), np.linalg.norm(p["w"], axis=1), rtol=1e-12)
    assert abs(float(fd.direction["s"])) == pytest.approx(2.0, rel=1e-12)
    assert fd.n_fallback == 0
    cols = paths.filter_normalized_direction(p, 3, filter_axes={"s": None, "w": 1})
    expected = [1.0, np.sqrt(17.0), np.sqrt(29.0)]  # column 0 of w is zero: unit norm instead
    np.testing.assert_allclose(np.linalg.norm(cols.direction["w"], axis=0), expected, rtol=1e-12)
    assert cols.fallback[1].tolist() == [True, False, False] and cols.n_fallback == 1


# ---------------------------------------------------------------------------------------
# Re-minimised profiles


def test_profile_1d_is_the_proposition_1_profile_and_symmetric():
    ds = landscape.prop1_dataset(0.1)
    start = landscape.collapsed_point(ds.X, 1)
    U = landscape.affine_descent_directions(ds.X, 1)[0].U
    ts = np.linspace(-0.2, 0.2, 81)  # continuation runs outwards from t = 0, both ways
    ref, _ = landscape.energy_profile(ds.X, 0.1, start, U, ts[40:])
    d = jax.tree_util.tree_map(jnp.zeros_like, start)._replace(W=jnp.asarray(U))
    free = landscape.VAEParams(W=False, b=True, log_gamma=True, mu=True, log_sigma=True)
    pr = paths.profile_1d(energy_objective, start, d, ts, free=free, args=(jnp.asarray(ds.X), 0.1))
    np.testing.assert_allclose(pr.energy[40:], ref, rtol=1e-12)
    assert pr.max_grad_norm <= 1e-8 and np.all(pr.converged) and pr.n_free == 3 + 1 + 40
    np.testing.assert_allclose(np.asarray(pr.params_at(50).W), 0.05 * U, rtol=1e-12)
    # (W, μ) → (−W, −μ) leaves eq. (5) unchanged: the profile is even in t
    np.testing.assert_allclose(pr.energy, pr.energy[::-1], rtol=1e-12)
    np.testing.assert_allclose(pr.rel, pr.energy - float(landscape.energy(start, ds.X, 0.1)), atol=1e-12)


# ---------------------------------------------------------------------------------------
# Minimum-energy paths on analytic potentials


def _tilted_well(u, Q, a, tilt, curv):
    z = Q.T @ u
    x, y = z[0], z[1]
    return (x**2 - 1) ** 2 - tilt * x + 2.0 * (y - a * (x**2 - 1)) ** 2 + jnp.sum(curv * z[2:] ** 2)


def test_mep_tilted_curved_double_well_in_6d():
    """Saddle of (x² − 1)² − τx + 2(y − a(x² − 1))² + Σ c_j z_j², rotated: x_s is the middle root
    of 4x³ − 4x − τ = 0, y_s = a(x_s² − 1), z = 0; index exactly 1 (det of the (x, y) block is
    4 g''(x_s) < 0)."""
    a, tilt = 0.5, 0.2
    Q, _ = np.linalg.qr(np.random.default_rng(0).normal(size=(6, 6)))
    Q, curv = jnp.asarray(Q), jnp.asarray([1.0, 3.0, 10.0, 30.0])
    start = Q @ jnp.asarray([-1.0, 0, 0, 0, 0, 0])
    end = Q @ jnp.asarray([1.0, 0, 0, 0, 0, 0])
    r = paths.minimum_energy_path(_tilted_well, start, end, args=(Q, a, tilt, curv), images=25)
    roots = np.sort(np.roots([4.0, 0.0, -4.0, -tilt]).real)
    xs = roots[1]
    saddle = np.asarray(Q) @ np.array([xs, a * (xs**2 - 1), 0, 0, 0, 0])
    g = lambda x: (x**2 - 1) ** 2 - tilt * x  # noqa: E731
    assert r.barrier == pytest.approx(g(xs) - g(-1.0), abs=1e-8)
    np.testing.assert_allclose(r.saddle, saddle, atol=1e-8)
    assert r.inertia == (1, 0, 5)
    assert r.converged, r.reasons
    assert r.saddle_grad_norm <= 1e-8 and r.max_perp_grad <= r.tolerances["ptol"]
    assert r.connectivity["connected"]


@pytest.mark.slow
def test_mep_without_preconditioning_finds_the_same_saddles():
    """The plain-gradient string (step 1/λ_max) converges to the same saddles, more slowly."""
    Q, _ = np.linalg.qr(np.random.default_rng(0).normal(size=(6, 6)))
    args = (jnp.asarray(Q), 0.5, 0.2, jnp.asarray([1.0, 3.0, 10.0, 30.0]))
    start, end = (jnp.asarray(Q) @ jnp.asarray([x, 0, 0, 0, 0, 0]) for x in (-1.0, 1.0))
    r1 = paths.minimum_energy_path(_tilted_well, start, end, args=args, images=25)
    r2 = paths.minimum_energy_path(_tilted_well, start, end, args=args, images=25, precondition=False)
    assert r2.converged and r2.barrier == pytest.approx(r1.barrier, abs=1e-10)
    mA, mB = _muller_brown_minima()
    r3 = paths.minimum_energy_path(_muller_brown, mA, mB, images=21, precondition=False)
    assert r3.converged and r3.saddle_energy == pytest.approx(-40.66484, abs=1e-5)


_MB = (
    jnp.asarray([-200.0, -100.0, -170.0, 15.0]),
    jnp.asarray([-1.0, -1.0, -6.5, 0.7]),
    jnp.asarray([0.0, 0.0, 11.0, 0.6]),
    jnp.asarray([-10.0, -10.0, -6.5, 0.7]),
    jnp.asarray([1.0, 0.0, -0.5, -1.0]),
    jnp.asarray([0.0, 0.5, 1.5, 1.0]),
)


def _muller_brown(p):
    A, a, b, c, x0, y0 = _MB
    dx, dy = p[0] - x0, p[1] - y0
    return jnp.sum(A * jnp.exp(a * dx**2 + b * dx * dy + c * dy**2))


@functools.cache
def _muller_brown_minima():
    """Minima A and B by `newton_minimize` from the literature's coordinates, compiled once for both."""
    newton = jax.jit(lambda x0: newton_minimize(_muller_brown, x0).x)
    return newton(jnp.asarray([-0.558, 1.442])), newton(jnp.asarray([0.623, 0.028]))


def test_mep_muller_brown():
    """Müller & Brown (1979): minima A (−0.558, 1.442) −146.70, B (0.623, 0.028) −108.17,
    C (−0.050, 0.467) −80.77; the higher saddle on the A–B path is (−0.822, 0.624), −40.665."""
    mA, mB = _muller_brown_minima()
    r = paths.minimum_energy_path(_muller_brown, mA, mB, images=21)
    # the saddle, independently: Newton on ∇V = 0 from the literature's coordinates (compiled, not eager)
    x = np.array([-0.822, 0.624])
    grad, hess = jax.jit(jax.grad(_muller_brown)), jax.jit(jax.hessian(_muller_brown))
    for _ in range(20):
        x = x - np.linalg.solve(hess(x), grad(x))
    assert float(_muller_brown(x)) == pytest.approx(-40.665, abs=1e-3)
    np.testing.assert_allclose(r.saddle, x, atol=1e-8)
    assert r.barrier == pytest.approx(float(_muller_brown(x) - _muller_brown(mA)), abs=1e-8)
    assert r.inertia == (1, 0, 1) and r.converged, r.reasons
    # this saddle joins A to the intermediate minimum C, not to B: the check says so
    c = r.connectivity
    assert c["returns_to_start"] and not c["connected"]
    assert max(s["energy"] for s in c["sides"]) == pytest.approx(-80.768, abs=1e-3)


# ---------------------------------------------------------------------------------------
# Proposition 1: the pass out of the collapsed minimum


@pytest.fixture(scope="module")
def prop1():
    ds = landscape.prop1_dataset(0.1)
    return ds, paths.prop1_path(ds)


def test_prop1_path_is_a_lower_pass_than_the_profile(prop1):
    ds, r = prop1
    # the affine-descent profile barrier, as `certify_prop1` computes it (CollapsedReport.profiles)
    profiles = landscape.barrier_profiles(ds.X, 0.1, 1, landscape.affine_descent_directions(ds.X, 1))
    assert all(p.shape == "barrier" for p in profiles)
    profile_barrier = min(p.barrier_height for p in profiles)
    assert 0 < r.barrier <= profile_barrier
    assert r.energy[0] == pytest.approx(landscape.collapsed_energy(ds.X, 1), rel=1e-13)
    assert r.barrier == pytest.approx(r.saddle_energy - r.energy[0], rel=1e-9)
    assert r.saddle_spectrum.n_negative == 1 and r.saddle_grad_norm <= 1e-8
    assert r.converged, r.reasons
    assert r.extras["mep_below_profile"] and r.extras["profile_barrier"] >= profile_barrier
    # from the saddle, one side falls back to the collapsed energy, the other below it
    c = r.connectivity
    assert c["connected"]
    lo, hi = sorted(s["energy"] for s in c["sides"])
    assert hi == pytest.approx(r.energy[0], abs=1e-6) and lo < r.energy[0] - 1.0
    # the end point is on the witness path, below the collapsed energy
    assert r.energy[-1] == pytest.approx(float(landscape.energy(ds.witness.path_params(r.extras["end_t"]), ds.X, 0.1)))
    assert r.energy[-1] < r.energy[0]
    # the pytree view of the saddle is a stationary point of eq. (5)
    assert landscape.grad_norm(r.params_at(r.saddle_index), ds.X, 0.1) <= 1e-8
    d = r.to_dict()
    assert d["n_negative"] == 1 and d["converged"] and len(d["energy"]) == 33


# ---------------------------------------------------------------------------------------
# Bad input


def test_bad_input_raises_value_error(quad):
    A, _, vec, p0 = quad
    f = _tilted_well
    Q, curv = jnp.eye(3), jnp.asarray([1.0])
    args = (Q, 0.5, 0.0, curv)
    s, e = jnp.asarray([-1.0, 0.0, 0.0]), jnp.asarray([1.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="end must have"):
        paths.minimum_energy_path(f, s, jnp.zeros(4), args=args)
    with pytest.raises(ValueError, match="images must be >= 3"):
        paths.minimum_energy_path(f, s, e, args=args, images=2)
    with pytest.raises(ValueError, match="start contains 1 NaN"):
        paths.minimum_energy_path(f, s.at[1].set(jnp.nan), e, args=args)
    with pytest.raises(ValueError, match="same point"):
        paths.minimum_energy_path(f, s, s, args=args)
    with pytest.raises(ValueError, match="init must begin at start"):
        paths.minimum_energy_path(f, s, e, args=args, init=np.stack([e, e]))
    with pytest.raises(ValueError, match="f must return a scalar"):
        paths.slice_1d(lambda p: p, s, e, [0.0, 1.0])
    with pytest.raises(ValueError, match="must be finite at params"):
        paths.slice_1d(lambda p: jnp.log(p[0]), s, e, [0.0, 1.0])
    with pytest.raises(ValueError, match="flat vector of length P = 7"):
        paths.slice_1d(_quadratic, p0, np.ones(5), [0.0], args=(A,))
    with pytest.raises(ValueError, match="direction contains NaN"):
        paths.slice_1d(_quadratic, p0, np.full(7, np.nan), [0.0], args=(A,))
    with pytest.raises(ValueError, match="ts must be a non-empty"):
        paths.slice_1d(_quadratic, p0, vec[:, 0], [], args=(A,))
    with pytest.raises(ValueError, match="free marks no coordinate"):
        paths.profile_1d(_quadratic, p0, vec[:, 0], [0.0, 1.0], free={"a": False, "b": False}, args=(A,))
    with pytest.raises(ValueError, match="strictly increasing"):
        paths.profile_1d(_quadratic, p0, vec[:, 0], [1.0, 0.0], free={"a": False, "b": True}, args=(A,))
    with pytest.raises(ValueError, match="key_or_seed"):
        paths.filter_normalized_direction(p0, -1)
    with pytest.raises(ValueError, match="other must have"):
        paths.segment_direction(p0, {"a": jnp.zeros((3, 2)), "b": jnp.asarray(0.0)})
    with pytest.raises(ValueError, match="Prop1Dataset"):
        paths.prop1_path(np.zeros((3, 2)))
    # eq. (5) through energy_objective: the library's own checks, before anything compiles
    ds = landscape.prop1_dataset(0.1, n=5)
    c = landscape.collapsed_point(ds.X, 1)
    with pytest.raises(ValueError, match=r"params.W must have shape"):
        paths.slice_1d(energy_objective, c, paths.filter_normalized_direction(c, 0), [0.0], args=(ds.X[:, :2], 0.1))
    with pytest.raises(ValueError, match="alpha must be a finite number >= 0"):
        paths.minimum_energy_path(energy_objective, c, ds.witness.path_params(0.5), args=(ds.X, -0.1))
    with pytest.raises(ValueError, match="alpha must be > 0"):
        paths.prop1_path(ds, alpha=0.0)
