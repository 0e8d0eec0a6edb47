"""Multi-start search and basin statistics (the multi-start issue's "done when")."""

import subprocess
import sys

import jax
import numpy as np
import pytest
from conftest import random_data

import landscape
from landscape import VAEParams, basin_stats, canonicalize, search
from landscape.analysis.basins import active_dims, categorize, wilson_interval


def L_min(X, kappa):
    lam = np.sort(np.linalg.eigvalsh(landscape.data_covariance(X)))[::-1]
    n, d = X.shape
    g = lam[kappa:].mean()
    return n * (np.sum(np.log(lam[:kappa]) + 1) + (d - kappa) * (np.log(g) + 1)) + n * kappa


@pytest.fixture(scope="module")
def affine_run():
    X = random_data(np.random.default_rng(21), 15, 4)
    return X, search(X, 0.0, kappa=2, restarts=24, steps=1500, seed=3)


def test_alpha_zero_best_restart_is_the_ppca_optimum(affine_run):
    X, r = affine_run
    lam = np.sort(np.linalg.eigvalsh(landscape.data_covariance(X)))[::-1]
    assert lam[1] > lam[2]  # λ_κ > λ_{κ+1}
    target = L_min(X, 2)
    assert r.energy[r.best] == pytest.approx(target, rel=1e-6)
    assert np.all(r.energy >= target * (1 - 1e-9) - 1e-9)  # no restart below the global minimum
    assert r.status[r.best] == "converged" and r.grad_norm[r.best] <= 1e-8 * max(1.0, abs(r.energy[r.best]))


def test_alpha_zero_no_restart_ends_collapsed(affine_run):
    X, r = affine_run
    stats = basin_stats(r)
    assert stats.counts["collapsed"] == 0
    assert stats.counts["failed"] == 0
    assert np.all(r.active >= 1)


def test_collapsed_point_and_witness_are_classified():
    ds = landscape.prop1_dataset(0.3, n=10, d=3, kappa=1, seed=0)
    X = ds.X
    pts = [landscape.collapsed_point(X, 1), ds.witness.path_params(1e-4)]
    batch = VAEParams(*(np.stack([np.asarray(a) for a in f]) for f in zip(*pts, strict=True)))
    energy = np.array([float(landscape.energy(p, X, 0.3)) for p in pts])
    cat = categorize(
        energy,
        np.exp(batch.log_gamma),
        active_dims(batch).sum(-1),
        np.zeros(2, bool),
        gamma_bar=landscape.gamma_bar(X),
        collapsed_energy=landscape.collapsed_energy(X, 1),
    )
    assert list(cat) == ["collapsed", "reconstructing"]


def test_injected_non_finite_restarts_are_isolated():
    # n = 10, d = 3 and 200 steps, as in the chunking test below: the per-restart polish compiles once for both
    X = random_data(np.random.default_rng(5), 10, 3)
    clean = search(X, 0.2, kappa=1, restarts=6, steps=200, seed=1)
    start = landscape.init_params(X, 1, np.arange(6), 1)
    bad = VAEParams(*(np.array(a) for a in start))
    bad.mu[2, 0, 0] = np.nan  # non-finite from the start
    bad.log_sigma[4, 1, 0] = 800.0  # σ² = e^1600 overflows at once
    r = search(X, 0.2, kappa=1, restarts=6, steps=200, start=bad)
    assert list(r.status[[2, 4]]) == ["non_finite", "non_finite"]
    assert list(basin_stats(r).categories[[2, 4]]) == ["failed", "failed"]
    keep = [0, 1, 3, 5]
    np.testing.assert_array_equal(r.energy[keep], clean.energy[keep])
    np.testing.assert_array_equal(r.params.W[keep], clean.params.W[keep])


def test_same_seed_identical_and_chunking_does_not_matter():
    X = random_data(np.random.default_rng(8), 10, 3)
    a = search(X, 0.4, kappa=1, restarts=10, steps=200, seed=4)
    b = search(X, 0.4, kappa=1, restarts=10, steps=200, seed=4)
    c = search(X, 0.4, kappa=1, restarts=10, steps=200, seed=4, chunk_size=3)
    d = search(X, 0.4, kappa=1, restarts=10, steps=200, seed=5)
    np.testing.assert_array_equal(a.energy, b.energy)  # same seed, same configuration: bitwise
    for f, g in zip(a.params, b.params, strict=True):
        np.testing.assert_array_equal(f, g)
    np.testing.assert_array_equal(a.status, b.status)
    # Another chunk size changes XLA's vectorisation, hence the last bits. On the flat
    # collapsed set Adam turns last-bit gradient differences into steps of size lr, so the
    # point inside the set may differ; the energies and categories may not.
    np.testing.assert_allclose(a.energy, c.energy, rtol=1e-12)
    np.testing.assert_array_equal(basin_stats(a).categories, basin_stats(c).categories)
    assert not np.array_equal(a.energy, d.energy)


def test_canonicalisation_merges_sign_flipped_and_permuted_copies():
    rng = np.random.default_rng(0)
    n, d, k = 8, 4, 3
    base = VAEParams(
        W=rng.normal(size=(d, k)),
        b=rng.normal(size=d),
        log_gamma=np.asarray(-1.0),
        mu=rng.normal(size=(n, k)),
        log_sigma=rng.normal(size=(n, k)) * 0.1 - 1,
    )
    perm, sign = np.array([2, 0, 1]), np.array([-1.0, 1.0, -1.0])
    copy = base._replace(W=base.W[:, perm] * sign, mu=base.mu[:, perm] * sign, log_sigma=base.log_sigma[:, perm])
    batch = VAEParams(*(np.stack([np.asarray(a), np.asarray(b)]) for a, b in zip(base, copy, strict=True)))
    act = np.ones((2, k), bool)
    c = canonicalize(batch, act)
    for f in c:
        np.testing.assert_allclose(f[0], f[1], atol=1e-14)
    # and a copy differing in a real way is not merged
    other = base._replace(W=base.W * 1.1)
    batch2 = VAEParams(*(np.stack([np.asarray(a), np.asarray(b)]) for a, b in zip(base, other, strict=True)))
    c2 = canonicalize(batch2, act)
    assert not np.allclose(c2.W[0], c2.W[1])


def test_energy_is_invariant_under_the_canonicalised_symmetries():
    """A wrong symmetry (e.g. flipping W but not μ) would change the energy: check it does not."""
    rng = np.random.default_rng(1)
    X = random_data(rng, 8, 4)
    p = landscape.init_params(X, 3, [0], 0)
    p = VAEParams(*(np.asarray(a)[0] for a in p))
    c = canonicalize(p, np.ones(3, bool))
    for alpha in (0.0, 0.3):
        assert float(landscape.energy(c, X, alpha)) == pytest.approx(float(landscape.energy(p, X, alpha)), rel=1e-13)


def test_wilson_interval_known_values():
    # 0 of 10: [0, 0.2775]; 5 of 10: [0.2366, 0.7634] (Wilson 1927, z = 1.96)
    lo, hi = wilson_interval(0, 10)
    assert lo == 0.0 and hi == pytest.approx(0.2775, abs=1e-4)
    lo, hi = wilson_interval(5, 10)
    assert (lo, hi) == pytest.approx((0.2366, 0.7634), abs=1e-4)


def test_lbfgs_optimizer_reaches_the_same_affine_optimum():
    X = random_data(np.random.default_rng(21), 15, 4)
    r = search(X, 0.0, kappa=2, restarts=4, steps=200, seed=3, optimizer="lbfgs", polish="lbfgs", polish_steps=500)
    assert r.energy[r.best] == pytest.approx(L_min(X, 2), rel=1e-6)


def test_float32_descent_then_float64_polish():
    X = random_data(np.random.default_rng(21), 15, 4)
    r = search(X, 0.0, kappa=2, restarts=4, steps=1000, seed=3, precision="float32")
    assert r.energy.dtype == np.float64
    assert r.energy[r.best] == pytest.approx(L_min(X, 2), rel=1e-6)


def test_bad_search_arguments():
    X = random_data(np.random.default_rng(0), 6, 3)
    for kw, word in [
        (dict(restarts=0), "restarts"),
        (dict(optimizer="sgd"), "optimizer"),
        (dict(polish="magic"), "polish"),
        (dict(learning_rate=-1.0), "learning_rate"),
        (dict(precision="float16"), "precision"),
        (dict(kappa=0), "kappa"),
        (dict(gamma=-1.0), "gamma"),
    ]:
        args = dict(kappa=1, restarts=2, steps=5) | kw
        with pytest.raises(ValueError, match=word):
            search(X, 0.1, **args)
    with pytest.raises(ValueError, match="alpha"):
        search(X, -0.1, kappa=1, restarts=2)
    with pytest.raises(ValueError, match="InitScales"):
        landscape.InitScales(w=-1.0)


def test_restarts_are_sharded_over_several_devices():
    """With two (virtual CPU) devices the same call gives the same numbers."""
    code = (
        "import numpy as np, jax, landscape;"
        "X = landscape.prop1_dataset(0.3, n=10, d=3, kappa=1, seed=0).X;"
        "r = landscape.search(X, 0.3, kappa=1, restarts=6, steps=100, seed=2, polish='none');"
        "print(jax.device_count(), repr(r.energy.tolist()))"
    )
    env = dict(__import__("os").environ, XLA_FLAGS="--xla_force_host_platform_device_count=2")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    ndev, energies = out.stdout.strip().split(" ", 1)
    assert ndev == "2"
    X = landscape.prop1_dataset(0.3, n=10, d=3, kappa=1, seed=0).X
    here = search(X, 0.3, kappa=1, restarts=6, steps=100, seed=2, polish="none")
    np.testing.assert_allclose(eval(energies), here.energy, rtol=1e-12)
    assert jax.device_count() >= 1


def test_fixed_gamma_search_reaches_L_star_and_clusters_once():
    """γ held fixed: every restart at L*(γ) (MATH.md §6), one minimum, γ reported as used."""
    X = random_data(np.random.default_rng(21), 15, 4)
    lam = np.sort(np.linalg.eigvalsh(landscape.data_covariance(X)))[::-1]
    n, d, k = 15, 4, 2
    g = 0.5 * (lam[0] + lam[1])  # between λ_1 and λ_2: one active dimension
    c = np.full(d, g)
    c[:k] = np.maximum(lam[:k], g)
    L_star = n * np.sum(np.log(c) + lam / c) + n * k
    init = landscape.InitScales(log_gamma=1.0)  # log_gamma is unused at fixed γ; make the starts differ
    r = search(X, 0.0, kappa=k, restarts=8, steps=1500, seed=0, gamma=g, init=init)
    np.testing.assert_allclose(r.energy, L_star, rtol=1e-6)
    np.testing.assert_allclose(r.gamma, g, rtol=1e-15)
    trace_S = np.trace(landscape.data_covariance(X))
    assert r.collapsed_energy == pytest.approx(n * (d * np.log(g) + trace_S / g) + n * k)  # L_triv(γ)
    stats = basin_stats(r)
    assert len(stats.distinct_minima) == 1 and stats.distinct_minima[0].count == 8
    assert stats.counts["reconstructing"] == 0
    assert set(r.active) == {1}


def test_statuses_and_categories_are_honest_on_a_proposition_1_search():
    ds = landscape.prop1_dataset(0.5, n=20, d=3, kappa=1, seed=0)
    r = search(ds.X, 0.5, kappa=1, restarts=16, steps=1000, seed=0)
    stats = basin_stats(r)
    conv = r.status == "converged"
    # the test of `search`'s status, in the data's standardised units (SearchResult.units)
    assert np.all(r.grad_norm[conv] <= 1e-8 * np.maximum(1.0, np.abs(r.units.to_standard_energy(r.energy[conv]))))
    assert not np.any(conv & (stats.categories == "reconstructing"))
    col = [m for m in stats.distinct_minima if m.category == "collapsed"]
    assert len(col) == 1  # collapse is a set: one cluster
    assert col[0].energy == pytest.approx(landscape.collapsed_energy(ds.X, 1), rel=1e-9)
    assert sum(m.count for m in stats.distinct_minima) + stats.counts["reconstructing"] + stats.counts["failed"] == 16


def test_cli_restarts_adds_the_search_to_the_json(tmp_path, capsys):
    import json

    from landscape.prop1 import main

    out = tmp_path / "s.json"
    # 16 restarts of 1000 steps on the default data set (n = 20, d = 3, κ = 1): the search of
    # test_statuses_and_categories_are_honest_on_a_proposition_1_search, compiled once for both
    assert main(["--alpha", "0.5", "--restarts", "16", "--steps", "1000", "--json", str(out)]) == 0
    assert "basin fractions" in capsys.readouterr().out
    data = json.loads(out.read_text())["search"]
    assert data["restarts"] == 16
    assert set(data["fractions"]) == set(landscape.CATEGORIES)
    assert sum(data["fractions"].values()) == pytest.approx(1.0)
    assert data["distinct_minima"] and all("energy" in m and "count" in m for m in data["distinct_minima"])
