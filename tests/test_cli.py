"""``python -m landscape.prop1``: report, JSON with the required keys, and the plot."""

import json
import subprocess
import sys

import pytest

from landscape.prop1 import main

REQUIRED = [
    "alpha",
    "n",
    "d",
    "kappa",
    "seed",
    "collapsed.energy",
    "collapsed.grad_norm",
    "collapsed.n_negative",
    "collapsed.n_zero",
    "collapsed.n_positive",
    "collapsed.min_eigenvalue",
    "collapsed.barrier_height",
    "affine.n_negative",
    "affine.min_eigenvalue",
    "reconstruction.slope",
    "collapsed.sphere.radii",
    "collapsed.sphere.min_excess",
    "collapsed.sphere.r_star",
    "collapsed.sphere.barrier_lower",
    "collapsed.sphere.barrier_mep",
    "collapsed.sphere.barrier_profile",
    "verdict",
    "versions",
]


def _get(d, dotted):
    for part in dotted.split("."):
        d = d[part]
    return d


def test_prop1_cli_alpha_01_holds_and_writes_json_and_plot(tmp_path, capsys):
    js, png = tmp_path / "r.json", tmp_path / "r.png"
    assert main(["--alpha", "0.1", "--json", str(js), "--plot", str(png)]) == 0
    out = capsys.readouterr().out
    assert "Verdict: holds" in out
    data = json.loads(js.read_text())
    for key in REQUIRED:
        _get(data, key)
    assert data["verdict"] == "holds"
    assert data["alpha"] == 0.1 and data["n"] == 20 and data["d"] == 3 and data["kappa"] == 1 and data["seed"] == 0
    assert data["collapsed"]["n_negative"] == 0 and data["affine"]["n_negative"] >= 1
    assert data["collapsed"]["barrier_height"] > 0
    assert data["reconstruction"]["slope"] == pytest.approx(2 * 20 * 2, rel=1e-4)
    assert set(data["versions"]) >= {"landscape", "jax", "jaxlib"}
    assert data["config"]["dataset"]["seed"] == 0
    assert png.stat().st_size > 10_000 and png.read_bytes()[:4] == b"\x89PNG"
    # the sphere section: m(r) > 0 up to the profile's barrier, r* beyond it, lower bound ≤ the profile's barrier
    assert "Spheres ‖W‖_F = r" in out and "barrier bracket" in out
    sph = data["collapsed"]["sphere"]
    assert data["checks"]["sphere_positive_to_barrier"] and sph["holds"]
    t_b = data["collapsed"]["barrier_t"]
    m = dict(zip(sph["radii"], sph["min_excess"], strict=True))
    assert all(v > 0 for r, v in m.items() if r <= t_b) and sph["r_star"] > t_b
    assert 0 < sph["barrier_lower"] <= sph["barrier_profile"] == data["collapsed"]["barrier_height"]


def test_prop1_cli_alpha_0_fails_and_shows_the_saddle(tmp_path, capsys):
    js = tmp_path / "r.json"
    assert main(["--alpha", "0", "--json", str(js)]) == 0
    out = capsys.readouterr().out
    assert "Verdict: fails" in out and "strict saddle" in out
    data = json.loads(js.read_text())
    assert data["verdict"] == "fails"
    assert data["collapsed"]["n_negative"] == data["collapsed"]["n_negative_predicted"] == 1
    assert data["collapsed"]["min_eigenvalue"] < 0
    sph = data["collapsed"]["sphere"]  # the negative control: m(r) < 0 on every sphere
    assert all(v < 0 for v in sph["min_excess"]) and sph["r_star"] == sph["radii"][0] and not sph["holds"]
    assert not data["checks"]["sphere_positive_to_barrier"]


def test_same_seed_same_json(tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    main(["--alpha", "0.2", "--json", str(a)])  # the shapes of the test above: compiled once
    main(["--alpha", "0.2", "--json", str(b)])
    da, db = json.loads(a.read_text()), json.loads(b.read_text())
    for d in (da, db):
        d.pop("seconds")
        d["collapsed"]["sphere"].pop("seconds")
        d.pop("command")  # names the output file
    assert da == db


def test_module_entry_point_runs_as_a_subprocess():
    r = subprocess.run(
        [sys.executable, "-m", "landscape.prop1", "--alpha", "-2"], capture_output=True, text=True, timeout=120
    )
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "alpha" in r.stderr


@pytest.mark.slow
def test_default_run_wall_time_under_20_seconds():
    """The README's main command, imports and compilation included (issue budget: 20 s)."""
    import time

    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "landscape.prop1", "--alpha", "0.1"], capture_output=True, timeout=120)
    assert r.returncode == 0
    assert time.perf_counter() - t0 < 20.0


@pytest.mark.slow
def test_prop1_cli_mep_fills_the_bracket(tmp_path, capsys):
    """--mep adds the minimum-energy path: lower ≤ MEP ≤ profile (the default tier checks lower ≤ profile above)."""
    js = tmp_path / "r.json"
    assert main(["--alpha", "0.1", "--mep", "--json", str(js)]) == 0
    out = capsys.readouterr().out
    assert "(holds)" in out
    sph = json.loads(js.read_text())["collapsed"]["sphere"]
    assert 0 < sph["barrier_lower"] <= sph["barrier_mep"] <= sph["barrier_profile"]
