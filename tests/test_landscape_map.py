"""The landscape map (issue 20): oracles at α = 0 (MATH.md §6), the tree, the CLI.

At α = 0 with γ fixed the stationary points W = U_J (Λ_J − γ)^{1/2} are analytic, with energies
n[Σ_{j∈J}(log λ_j + 1) + Σ_{j∉J}(log γ + λ_j/γ)] + nκ and, by Haynsworth (the encoder block is
positive definite), the indices of `landscape.linear.ppca_hessian_inertia` with the rotations
lifted by the diagonal posterior (Lucas et al. 2019). For d = 3, λ_1 > λ_2 > λ_3 > γ:
κ = 1: J = {1} is the only minimum (two sign copies), J = {2} the index-1 saddles joining them.
κ = 2: J = {1, 2} the only minimum (eight signed permutations), J = {1, 3} index 1 (and J = {2, 3},
{1}, … index ≥ 2). The map also finds, and certifies, a saddle *off* the U_J family between copies
that differ by a column swap (the latent rotation, which the diagonal posterior makes a barrier).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import landscape as L
from landscape.tools.disconnectivity import disconnectivity_tree, tree_layout

GAMMA = 0.3


def _data(seed, n=30):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 3)) * np.sqrt([4.0, 2.0, 1.0])


def _analytic(X, kappa, J):
    n = X.shape[0]
    Y = X - X.mean(0)
    lam = np.linalg.eigvalsh(Y.T @ Y / n)[::-1]
    assert lam[-1] > GAMMA
    out = sum(np.log(lam[j]) + 1 for j in J) + sum(np.log(GAMMA) + lam[j] / GAMMA for j in range(3) if j not in J)
    return n * out + n * kappa


def _check_alpha0(X, kappa, restarts=32):
    lmap = L.landscape_map(X, 0.0, kappa=kappa, gamma=GAMMA, restarts=restarts, progress=False)
    top = tuple(range(kappa))
    # the one minimum, with all its copies
    assert len(lmap.minima) == 1
    m = lmap.minima[0]
    assert m.copies == 2**kappa * math.factorial(kappa)
    assert m.energy == pytest.approx(_analytic(X, kappa, top), rel=1e-8)
    assert m.certificate.stationary and m.certificate.n_negative == 0
    # every transition state certified index 1, connected, and the tree joins every copy
    assert lmap.transition_states and lmap.verified and lmap.tree.connected
    for ts in lmap.transition_states:
        assert ts.index == 1 and ts.certificate.n_negative == 1 and ts.grad_norm < 1e-8
        assert ts.connected and ts.pair == (0, 0)
    # the analytic index-1 saddle: J = {2} (κ = 1), J = {1, 3} (κ = 2)
    saddle = _analytic(X, kappa, (1,) if kappa == 1 else (0, 2))
    assert any(abs(ts.energy - saddle) <= 1e-8 * abs(saddle) for ts in lmap.transition_states)
    if kappa == 1:  # the two sign copies join exactly there, and nothing else
        assert len(lmap.transition_states) == 1
        assert lmap.join_energy[0] == pytest.approx(saddle, rel=1e-8)
    else:  # the rotation saddle (off the U_J family) lies below; every other is the analytic one
        others = [ts.energy for ts in lmap.transition_states if abs(ts.energy - saddle) > 1e-8 * abs(saddle)]
        assert all(m.energy < e < saddle for e in others)
    assert lmap.exit_barrier[0] == pytest.approx(min(ts.energy for ts in lmap.transition_states) - m.energy, rel=1e-12)
    return lmap


# The default tier checks the same analytic oracles (energies, copies, certified indices, the analytic saddle)
# on a smaller data set, n = 12 (λ = 3.49, 1.85, 0.52 > γ), with 8 restarts: the cost is the string runs' dense
# Hessians, whose size grows with the 2nκ posterior parameters. Eight restarts suffice because at α = 0 with γ
# fixed there is one minimum and the map generates its copies from the latent symmetries, not from restarts.
LIGHT = dict(seed=2, n=12, restarts=8)


def test_alpha0_kappa1_oracle():
    lmap = _check_alpha0(_data(LIGHT["seed"], n=LIGHT["n"]), 1, restarts=LIGHT["restarts"])
    d = lmap.to_dict()
    assert d["config"]["seed"] == 0 and "versions" in d["config"]
    assert "verified" in lmap.report()


def test_alpha0_kappa2_oracle():
    _check_alpha0(_data(LIGHT["seed"], n=LIGHT["n"]), 2, restarts=LIGHT["restarts"])


@pytest.mark.slow
@pytest.mark.parametrize("kappa", [1, 2])
@pytest.mark.parametrize("seed, n", [(1, 30), (7, 25)])
def test_alpha0_oracle_larger_data_sets(seed, n, kappa):
    """The α = 0 oracles on larger data sets with 32 restarts (the default tier: n = 12, 8 restarts)."""
    _check_alpha0(_data(seed, n=n), kappa)


def test_tree_union_find():
    # four minima: 0 (lowest), 1, 2 and 3; edges 0-1 at 5, 1-2 at 3, 2-3 at 8, 0-2 at 9 (redundant)
    E = [0.0, 1.0, 2.0, -math.inf]
    tree = disconnectivity_tree(E, [(5.0, 0, 1), (3.0, 1, 2), (8.0, 2, 3), (9.0, 0, 2)])
    assert [j.energy for j in tree.joins] == [3.0, 5.0, 8.0]
    assert tree.joins[0].left == (1,) and tree.joins[0].right == (2,)
    assert tree.barrier[:3] == (5.0, 2.0, 1.0) and tree.exit_edge[:3] == (0, 1, 1)
    assert tree.joins_lowest == (8.0, 8.0, 8.0, 8.0)  # the funnel is the lowest node
    assert tree.connected
    # the lowest node joined to nothing: it joins the rest at +inf (never), not -inf
    alone = disconnectivity_tree([0.0, 1.0, 2.0], [(3.0, 1, 2)])
    assert alone.joins_lowest == (math.inf, math.inf, math.inf) and not alone.connected
    lay = tree_layout(tree)
    assert sorted(lay["leaf_x"]) == [0.0, 1.0, 2.0, 3.0]
    # a join's x is the mean of its children's
    for _, xl, xr, xj in lay["joins"]:
        assert xj == pytest.approx(0.5 * (xl + xr))
    with pytest.raises(ValueError, match="edges"):
        disconnectivity_tree(E, [(1.0, 0, 7)])
    two = disconnectivity_tree([0.0, 1.0], [])
    assert not two.connected and two.barrier == (math.inf, math.inf)


def test_bad_arguments_are_refused():
    X = _data(1)
    with pytest.raises(ValueError, match="restarts"):
        L.landscape_map(X, 0.0, kappa=1, restarts=1)
    with pytest.raises(ValueError, match="kappa"):
        L.landscape_map(np.random.default_rng(0).normal(size=(10, 5)), 0.0, kappa=4)
    with pytest.raises(ValueError, match="gamma"):
        L.landscape_map(X, 0.0, kappa=1, gamma=-1.0)
    with pytest.raises(ValueError, match="lmap"):
        L.plot_disconnectivity(object())


@pytest.mark.slow
@pytest.mark.parametrize("alpha", [0.1, 0.5])
def test_prop1_default_data(alpha):
    ds = L.prop1_dataset(alpha)
    for gamma in (0.1, None):
        lmap = L.landscape_map(ds.X, alpha, kappa=1, gamma=gamma, restarts=256, progress=False)
        assert lmap.verified and lmap.transition_states
        for ts in lmap.transition_states:
            assert ts.index == 1 and ts.connected
        c = lmap.collapsed
        assert c is not None and np.isfinite(lmap.exit_barrier[c])
    # learned γ: the collapsed basin's exit is the minimum-energy-path barrier out of the collapsed point
    mep = L.prop1_path(ds)
    assert mep.converged
    assert lmap.exit_barrier[c] == pytest.approx(mep.barrier, rel=0.01)
    sphere = L.sphere_certificate(ds.X, alpha, kappa=1)
    assert lmap.exit_barrier[c] >= sphere.barrier_lower


def test_cli_refuses_bad_arguments(capsys):
    from landscape.map import main

    for argv in (["--alpha", "-1"], ["--alpha", "0.5", "--gamma", "0"], ["--alpha", "0.5", "--restarts", "1"],
                 ["--alpha", "0.5", "--kappa", "4", "--d", "6"]):  # fmt: skip
        with pytest.raises(SystemExit) as e:
            main(argv)
        assert e.value.code == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) >= 1 and "error" in err[-1]


@pytest.mark.slow
def test_cli_default_run(tmp_path):
    import json
    import subprocess
    import sys
    import time

    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "landscape.map", "--alpha", "0.5", "--gamma", "0.1", "--json", str(tmp_path / "m.json"),
         "--plot", str(tmp_path / "m.png")],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert time.perf_counter() - t0 < 120
    assert "Transition states" in out.stdout and "verified" in out.stdout
    d = json.loads((tmp_path / "m.json").read_text())
    assert d["config"]["gamma"] == 0.1 and d["transition_states"]
    assert (tmp_path / "m.png").stat().st_size > 10_000


def test_eigenvector_following_finds_the_pass_of_a_double_well():
    import jax.numpy as jnp

    from landscape.tools.flat import as_tree
    from landscape.tools.saddle import eigenvector_following

    def f(p):  # minima (±1, 0, 0); the pass (0, 0, 0) at height 1, index 1
        x, y, z = p[0], p[1], p[2]
        return (x**2 - 1.0) ** 2 + 2.0 * y**2 + 0.5 * (z + 0.3 * x * y) ** 2

    x0 = jnp.array([1.0, 0.0, 0.0])
    spec = as_tree("p", x0)[1]
    xs, val, gn, n_neg, v, _ = eigenvector_following(f, spec, np.asarray(x0), (), np.array([-1.0, 0, 0]), step=0.05)
    assert n_neg == 1 and gn < 1e-10
    assert np.allclose(xs, 0.0, atol=1e-9) and val == pytest.approx(1.0, abs=1e-12)
    assert abs(v[0]) == pytest.approx(1.0, abs=1e-9)
