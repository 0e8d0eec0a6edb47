"""experiments/depth_sweep.py on a tiny configuration: valid JSON, --resume, bad input, figures."""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load_script():
    spec = importlib.util.spec_from_file_location("depth_sweep", ROOT / "experiments" / "depth_sweep.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


ds = _load_script()

TINY = [
    "--models", "ae", "vae",
    "--seeds", "2",
    "--epochs", "2",
    "--width", "4",
    "--latent", "2",
    "--n", "48",
    "--batch-size", "16",
    "--eval-pairs", "2",
    "--dtype", "float64",
    "--no-progress",
]  # fmt: skip
LIGHT = ["--depths", "1", "--gamma-prime-seeds", "0", "--no-collapsed-check"]


def _run(tmp_path, *extra):
    return ds.main([*TINY, *extra, "--out", str(tmp_path)])


def _runs(tmp_path):
    return sorted((tmp_path / "runs").glob("depth*_seed*.json"))


def test_sweep_writes_valid_json_and_resume_skips_finished_runs(tmp_path, capsys):
    assert _run(tmp_path, *LIGHT) == 0
    files = _runs(tmp_path)
    assert [f.name for f in files] == [
        "depth01_ae_seed0.json",
        "depth01_ae_seed1.json",
        "depth01_vae_seed0.json",
        "depth01_vae_seed1.json",
    ]
    for f in files:
        r = json.loads(f.read_text())  # valid JSON
        assert r["config"]["epochs"] == 2 and r["config"]["width"] == 4 and r["config"]["n_data"] == 48
        assert {"landscape", "jax", "jaxlib"} <= set(r["versions"])
        assert r["seed"] in (0, 1) and r["depth"] == 1 and r["finite"]
        err = r["metrics"]["recon_error_for_eq7"]
        assert isinstance(err, float) and math.isfinite(err) and err > 0
        assert len(r["loss_history"]) == 2
    summary = json.loads((tmp_path / "depth_sweep.json").read_text())
    row = summary["summary"]["rows"][0]
    assert row["ae"]["recon_error_mean"] == pytest.approx(
        np.mean([json.loads(f.read_text())["metrics"]["recon_error"] for f in files[:2]])
    )
    assert "eq7_vae" in row
    for name in ("depth_sweep_recon.png", "depth_sweep_sigma.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    capsys.readouterr()

    # --resume: nothing is retrained, no file is rewritten
    mtimes = {f: f.stat().st_mtime_ns for f in files}
    old = {f: json.loads(f.read_text()) for f in files}
    assert _run(tmp_path, *LIGHT, "--resume", "--no-plots") == 0
    assert "0 runs to do, 4 skipped" in capsys.readouterr().err
    assert {f: f.stat().st_mtime_ns for f in files} == mtimes

    # a missing run is redone alone, and matches what it was when trained beside the other seed
    files[3].unlink()
    assert _run(tmp_path, *LIGHT, "--resume", "--no-plots") == 0
    assert "1 runs to do, 3 skipped" in capsys.readouterr().err
    new = json.loads(files[3].read_text())
    assert new["group_seeds"] == [1] and old[files[3]]["group_seeds"] == [0, 1]
    for key in ("expected_recon_error", "mean_recon_error", "gamma_learned"):
        assert new["metrics"][key] == pytest.approx(old[files[3]]["metrics"][key], rel=1e-9)
    assert {f: f.stat().st_mtime_ns for f in files[:3]} == {f: mtimes[f] for f in files[:3]}

    # a different configuration in the same folder is refused under --resume
    with pytest.raises(SystemExit) as exc:
        ds.main([*TINY, *LIGHT, "--out", str(tmp_path), "--resume", "--lr", "0.002"])
    assert exc.value.code == 2
    assert "different configuration" in capsys.readouterr().err


def test_sweep_trains_the_cures_and_reports_both_collapse_counts(tmp_path, capsys):
    """vae_fb and vae_agg reach TrainConfig with their options; KL and decoder-ignored counts in the summary."""
    args = ["--models", "vae_fb", "vae_agg", "--seeds", "1", "--free-bits", "0.3", "--inner-steps", "2",
            "--aggressive-frac", "0.5"]  # fmt: skip
    assert ds.main([*TINY[3:], *LIGHT, *args, "--no-plots", "--out", str(tmp_path)]) == 0
    fb = json.loads((tmp_path / "runs" / "depth01_vae_fb_seed0.json").read_text())
    agg = json.loads((tmp_path / "runs" / "depth01_vae_agg_seed0.json").read_text())
    assert fb["train_config"]["free_bits"] == 0.3 and fb["train_config"]["inner_steps"] == 0
    assert agg["train_config"]["inner_steps"] == 2 and agg["train_config"]["aggressive_epochs"] == 1.0
    assert agg["train_config"]["free_bits"] == 0.0 and fb["finite"] and agg["finite"]
    for r in (fb, agg):
        assert 0 <= r["metrics"]["decoder_ignored_dims"] <= 2 and len(r["metrics"]["decoder_effect_per_dim"]) == 2
    row = json.loads((tmp_path / "depth_sweep.json").read_text())["summary"]["rows"][0]
    assert len(row["vae_agg"]["decoder_ignored_dims"]) == 1 and "decoder_ignored_dims_mean" in row["vae_fb"]
    out = capsys.readouterr().out
    assert "Collapsed latent units" in out and "VAE + free bits" in out and "VAE + aggressive inf." in out


def test_sweep_missing_fashion_mnist_and_bad_arguments_exit_2(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        ds.main(["--paper", "--data-path", str(tmp_path / "missing"), "--out", str(tmp_path / "o")])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "train-images-idx3-ubyte" in err and "x_train" in err and len(err.strip().splitlines()) == 1
    for bad, needle in [
        (["--depths", "0"], "--depths"),
        (["--epochs", "0"], "--epochs"),
        (["--width", "0"], "--width"),
        (["--latent", "0"], "--latent"),
        (["--lr", "-1"], "--lr"),
        (["--warmup-frac", "0"], "--warmup-frac"),
        (["--free-bits", "0"], "--free-bits"),
        (["--free-bits", "nan"], "--free-bits"),
        (["--inner-steps", "0"], "--inner-steps"),
        (["--aggressive-frac", "1.5"], "--aggressive-frac"),
    ]:
        with pytest.raises(SystemExit) as exc:
            ds.main([*bad, "--out", str(tmp_path / "o")])
        assert exc.value.code == 2
        assert needle in capsys.readouterr().err


def test_paper_flag_sets_the_paper_configuration():
    ap = ds.build_parser()
    cfg = ds.resolve(ap.parse_args(["--paper"]), ap)
    assert (cfg["width"], cfg["data"], cfg["depths"]) == (512, "fashion_mnist", [1, 2, 4, 6, 8, 10])
    cfg = ds.resolve(ap.parse_args([]), ap)
    assert (cfg["width"], cfg["data"]) == (128, "digits")
    cfg = ds.resolve(ap.parse_args(["--paper", "--width", "64"]), ap)
    assert cfg["width"] == 64


@pytest.mark.slow
def test_sweep_full_pipeline_with_gamma_prime_collapsed_point_and_figures(tmp_path, capsys):
    """Two depths, all three models, γ′, the §7 check and both figures (PNG files).

    The default run covers the same claims lighter: the sweep's JSON and figures
    (test_sweep_writes_valid_json_and_resume_skips_finished_runs), γ′ and the §7 point (tests/test_deep.py).
    """
    args = [
        "--depths", "1", "2",
        "--models", "ae", "vae", "vae_warm",
        "--gamma-prime-seeds", "1",
        "--gamma-prime-points", "8",
        "--gamma-prime-pairs", "1",
        "--collapsed-points", "8",
        "--collapsed-width", "3",
    ]  # fmt: skip
    assert _run(tmp_path, *args) == 0
    out = capsys.readouterr().out
    assert "Eq. (7), AE ≤ VAE" in out and "Collapsed point of MATH.md §7" in out
    for depth in (1, 2):
        c = json.loads((tmp_path / "runs" / f"depth{depth:02d}_collapsed.json").read_text())["result"]
        assert c["grad_norm"] <= 1e-10
        assert c["energy"] == pytest.approx(c["energy_formula"], rel=1e-12)
        r = json.loads((tmp_path / "runs" / f"depth{depth:02d}_vae_seed0.json").read_text())
        assert "gamma_prime" in r and r["gamma_prime"]["gamma_star"] == pytest.approx(r["metrics"]["gamma_star"])
        assert "gamma_prime" not in json.loads((tmp_path / "runs" / f"depth{depth:02d}_vae_seed1.json").read_text())
    for name in ("depth_sweep_recon.png", "depth_sweep_sigma.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
