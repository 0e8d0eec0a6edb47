"""Every command-line tool answers a bad argument or an unwritable output path with one line and exit 2,
before any work (issue 18, item 6).

One table, ``CASES``: (command, argv, a fragment of the expected message), each run through a subprocess
with ``sys.executable``: exit code 2, exactly one non-empty line on stderr, no traceback, within ``LIMIT_S``
(issue 18: 2 s), and without importing JAX (``-X importtime`` lists the imports): ``import landscape`` is
light and every tool checks its arguments before it imports the library, so a refusal takes ~0.1 s.
``VALUE_CASES`` covers the remaining options of the CLIs and the experiment scripts in-process (the same
parsers, without the start-up cost); the CLIs' copies of the library's rules (`prop1_dataset_problem`,
`count_problem`) are compared with `landscape.common.checks`; the last tests pin the rule for output paths
of `landscape.cli.args.check_output_path`.
"""

from __future__ import annotations

import importlib.util
import itertools
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from landscape.cli import args as A

ROOT = Path(__file__).resolve().parents[1]
LIMIT_S = 2.0  # issue 18's bound per refusal; measured ~0.05-0.15 s, the rest is margin for a loaded machine
HEAVY = ("jax", "flax", "sympy", "matplotlib", "torch")  # none of these is imported before a refusal
MISSING = "/nonexistent-landscape-dir/x"

PROP1 = ["-m", "landscape.prop1", "--alpha", "0.1"]
PROP2 = ["-m", "landscape.prop2", "--alpha", "0.1"]
PN = ["-m", "proofs_numeric"]


def exp(name):
    return [str(ROOT / "experiments" / f"{name}.py")]


def bench(name):
    return [str(ROOT / "benchmarks" / f"{name}.py")]


# (command + argv, fragment of the message); "{tmp}" is replaced by a fresh folder, "{dir}" by a folder
# that exists where the tool wants to write a file.
CASES = [
    # python -m landscape.prop1
    (PROP1 + ["--json", "/proc/x.json"], "cannot create a file in /proc"),
    (PROP1 + ["--plot", "/proc/a.png"], "--plot /proc/a.png"),
    (PROP1 + ["--json", "/dev/full"], "not a regular file"),
    (PROP1 + ["--json", MISSING + ".json"], "does not exist"),
    (PROP1 + ["--n", "1"], "n must be >= 2"),
    (["-m", "landscape.prop1", "--alpha", "nan"], "finite"),
    # python -m landscape.prop2
    (PROP2 + ["--json", "/dev/full"], "not a regular file"),
    (PROP2 + ["--plot", "/proc/a.png"], "--plot"),
    (PROP2 + ["--kappa", "3"], "kappa must be < d"),
    # python -m proofs_numeric
    (PN + ["--report", "/proc/x.md"], "--report"),
    (PN + ["--report", "/dev/full"], "not a regular file"),
    (PN + ["--only", "nope"], "invalid choice"),
    # experiments
    (exp("basins_vs_alpha") + ["--out", "/proc/x"], "--out /proc/x"),
    (exp("basins_vs_alpha") + ["--restarts", "0"], "--restarts"),
    (exp("basins_vs_alpha") + ["--alphas", "nan"], "--alphas"),
    (exp("phase_diagram") + ["--out", "/dev/full"], "not a folder"),
    (exp("phase_diagram") + ["--num-gammas", "0"], "--num-gammas"),
    (exp("barriers_vs_alpha") + ["--out", "/proc/x/b"], "--out"),
    (exp("barriers_vs_alpha") + ["--images", "0"], "images must be >= 3"),
    (exp("linear_vae_collapse") + ["--out", "{dir}"], "it is a folder"),
    (exp("linear_vae_collapse") + ["--mnist", "/nonexistent"], "train-images"),
    (exp("cvae_correlation") + ["--out", "{dir}"], "it is a folder"),
    (exp("cvae_correlation") + ["--rhos", "1"], "--rhos"),
    (exp("elbo_vs_likelihood") + ["--out", "/proc/x/e"], "--out"),
    (exp("elbo_vs_likelihood") + ["--kappa", "3"], "--kappa"),
    (exp("depth_sweep") + ["--out", "/proc/x"], "--out"),
    (exp("depth_sweep") + ["--warmup-frac", "nan"], "--warmup-frac"),
    # benchmarks (argument parsing only)
    (bench("curvature") + ["--json", "/dev/full"], "not a regular file"),
    (bench("curvature") + ["--budget", "-1"], "--budget"),
    (bench("energy_throughput") + ["--repeats", "0"], "--repeats"),
    (bench("lanczos_matfree") + ["--json", "/proc/x.json"], "--json"),
    (bench("marginal") + ["--repeats", "0"], "--repeats"),
    (bench("search_throughput") + ["--json", MISSING + ".json"], "does not exist"),
]


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.setdefault("JAX_PLATFORMS", "cpu")
    return env


def _run(argv):
    """(returncode, stderr lines without the import log, top-level modules imported, seconds)."""
    t0 = time.perf_counter()
    r = subprocess.run(
        [sys.executable, "-X", "importtime", *argv], capture_output=True, text=True, cwd=ROOT, env=_env(), timeout=120
    )
    seconds = time.perf_counter() - t0
    log = [x for x in r.stderr.splitlines() if x.startswith("import time:")]
    imported = {x.rsplit("|", 1)[-1].strip().split(".")[0] for x in log}
    lines = [x for x in r.stderr.splitlines() if x.strip() and not x.startswith("import time:")]
    return r.returncode, lines, imported, seconds


def _id(case):
    argv = case[0]
    tool = Path(argv[0]).stem if not argv[0].startswith("-") else argv[1]
    return f"{tool}:{' '.join(argv[-2:])}"


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_bad_argument_is_one_line_and_exit_2_before_any_work(case, tmp_path):
    argv, fragment = case
    for name in ("cvae_correlation.json", "linear_vae_collapse.json"):  # a folder where a file will go
        (tmp_path / name).mkdir()
    argv = [a.replace("{tmp}", str(tmp_path)).replace("{dir}", str(tmp_path)) for a in argv]
    before = sorted(p.name for p in tmp_path.iterdir())
    code, lines, imported, seconds = _run(argv)
    assert code == 2, (code, lines[-20:])
    assert not any("Traceback" in x for x in lines)
    assert len(lines) == 1, lines
    assert fragment in lines[0], lines[0]
    assert ": error: " in lines[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing left behind
    print(f"{_id(case)}: {seconds:.2f} s")
    assert not imported & set(HEAVY), f"imported {sorted(imported & set(HEAVY))} before refusing"
    assert seconds < LIMIT_S, f"{seconds:.2f} s"


# --------------------------------------------------------------------------- every option, in-process (fast)


def _load(name):
    if name.startswith("landscape."):
        return importlib.import_module(name)
    spec = importlib.util.spec_from_file_location(f"_bad_inputs_{name}", ROOT / "experiments" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


VALUE_CASES = [
    ("landscape.prop1", ["--alpha", "0.1", "--json", "{tmp}"], "it is a folder"),
    ("landscape.prop1", ["--alpha", "0.1", "--plot", "{tmp}/a.xyz"], "unknown figure format"),
    ("landscape.prop1", ["--alpha", "0.1", "--restarts", "-1"], "--restarts"),
    ("landscape.prop1", ["--alpha", "0.1", "--steps", "-1"], "--steps"),
    ("landscape.prop1", ["--alpha", "0.1", "--random-directions", "-1"], "--random-directions"),
    ("landscape.prop1", ["--alpha", "0.1", "--seed", str(2**63)], "2**63"),
    ("landscape.prop1", ["--alpha", "0.1", "--seed", "True"], "--seed"),
    ("landscape.prop2", ["--alpha", "0.1", "--noise", "-1"], "--noise"),
    ("landscape.prop2", ["--alpha", "0.1", "--data-alpha", "-1"], "--data-alpha"),
    ("landscape.prop2", ["--alpha", "0.1", "--gammas", "1:0.1:5"], "--gammas"),
    ("landscape.prop2", ["--alpha", "0.1", "--json", "{tmp}/no/x.json"], "does not exist"),
    ("basins_vs_alpha", ["--steps", "-1"], "--steps"),
    ("basins_vs_alpha", ["--n", "1"], "--n"),
    ("basins_vs_alpha", ["--alphas", "-1"], "--alphas"),
    ("basins_vs_alpha", ["--scales", "0"], "--scales"),
    ("basins_vs_alpha", ["--noise", "inf"], "--noise"),
    ("basins_vs_alpha", ["--seed", "-1"], "--seed"),
    ("basins_vs_alpha", ["--restarts", "1.5"], "integer"),
    ("phase_diagram", ["--alphas", "-1"], "--alphas"),
    ("phase_diagram", ["--alphas", "0.1", "0.1"], "distinct"),
    ("phase_diagram", ["--restarts", "0"], "--restarts"),
    ("phase_diagram", ["--seed", str(2**64)], "--seed"),
    ("barriers_vs_alpha", ["--alphas", "0"], "--alphas"),
    ("barriers_vs_alpha", ["--data-alpha", "-1"], "--data-alpha"),
    ("barriers_vs_alpha", ["--kappa", "3"], "kappa must be < d"),
    ("barriers_vs_alpha", ["--n", "1"], "n must be >= 2"),
    ("barriers_vs_alpha", ["--d", "1"], "d must be >= 2"),
    ("barriers_vs_alpha", ["--out", "/dev/full/b"], "--out"),
    ("linear_vae_collapse", ["--n-random", "1"], "--n-random"),
    ("linear_vae_collapse", ["--restarts", "0"], "--restarts"),
    ("linear_vae_collapse", ["--steps", "-1"], "--steps"),
    ("linear_vae_collapse", ["--num-sigma2", "1"], "--num-sigma2"),
    ("linear_vae_collapse", ["--kappa", "8"], "--kappa"),
    ("linear_vae_collapse", ["--kappa", "0"], "--kappa"),
    ("linear_vae_collapse", ["--d-random", "1"], "--d-random"),
    ("linear_vae_collapse", ["--digits-pca", "3"], "--digits-pca"),
    ("linear_vae_collapse", ["--seed", str(2**63 - 5)], "--seed"),
    ("cvae_correlation", ["--rhos", "-0.1"], "--rhos"),
    ("cvae_correlation", ["--beta", "0"], "--beta"),
    ("cvae_correlation", ["--eta-enc", "nan"], "--eta-enc"),
    ("cvae_correlation", ["--eta-dec", "-1"], "--eta-dec"),
    ("cvae_correlation", ["--n", "3", "--d", "5"], "--n"),
    ("cvae_correlation", ["--d", "0"], "--d"),
    ("cvae_correlation", ["--restarts", "0"], "--restarts"),
    ("cvae_correlation", ["--steps", "-1"], "--steps"),
    ("elbo_vs_likelihood", ["--alphas", "nan"], "--alphas"),
    ("elbo_vs_likelihood", ["--noisy-alphas", "-1"], "--noisy-alphas"),
    ("elbo_vs_likelihood", ["--slice-alphas", "-1"], "--slice-alphas"),
    ("elbo_vs_likelihood", ["--slice-grid", "0", "3"], "--slice-grid"),
    ("elbo_vs_likelihood", ["--profile-num", "1"], "--profile-num"),
    ("elbo_vs_likelihood", ["--random-directions", "-1"], "--random-directions"),
    ("elbo_vs_likelihood", ["--restarts", "0"], "--restarts"),
    ("elbo_vs_likelihood", ["--noisy-restarts", "0"], "--noisy-restarts"),
    ("elbo_vs_likelihood", ["--polish-steps", "-1"], "--polish-steps"),
    ("elbo_vs_likelihood", ["--noise", "0"], "--noise"),
    ("elbo_vs_likelihood", ["--n", "1"], "n must be >= 2"),
    ("elbo_vs_likelihood", ["--kappa", "2", "--d", "2"], "kappa must be < d"),
    ("depth_sweep", ["--data-seed", "-1"], "--data-seed"),
    ("depth_sweep", ["--seeds", "0"], "--seeds"),
    ("depth_sweep", ["--lr", "0"], "--lr"),
]


@pytest.mark.parametrize("name, argv, fragment", VALUE_CASES)
def test_every_option_is_checked(name, argv, fragment, capsys, tmp_path):
    mod = _load(name)
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    if "--out" not in argv and not name.startswith("landscape."):
        argv = [*argv, "--out", str(tmp_path / "out")]
    with pytest.raises(SystemExit) as e:
        mod.main(argv)
    assert e.value.code == 2
    err = [x for x in capsys.readouterr().err.splitlines() if x.strip()]
    assert len(err) == 1 and fragment in err[0], err
    assert not (tmp_path / "out").exists()  # refused before the output folder was made


def _message(check, *args, **kwargs):
    try:
        check(*args, **kwargs)
    except ValueError as err:
        return str(err)
    return None


def test_cli_rules_are_the_librarys():
    """The CLIs check a data set's options and counts without importing JAX: the same verdicts and
    messages as `landscape.common.checks` (what `prop1_dataset` and the library functions run)."""
    from landscape.common import checks as V

    def library(n, d, kappa, alpha):
        if alpha is not None and (m := _message(V.check_alpha, alpha)):
            return m
        return (
            _message(V.check_size, "n", n, 2)
            or _message(V.check_size, "d", d, 2)
            or _message(V.check_kappa, kappa, d, strict_below_d=True)
        )

    for n, d, kappa, alpha in itertools.product([1, 2, 5], [1, 2, 3], [0, 1, 2, 3], [None, 0.0, 0.1, -1.0, -0.0]):
        assert A.prop1_dataset_problem(n=n, d=d, kappa=kappa, alpha=alpha) == library(n, d, kappa, alpha)
    for value, minimum in itertools.product([-1, 0, 1, 2, 3], [0, 2, 3]):
        assert A.count_problem("images", value, minimum) == _message(V.check_size, "images", value, minimum)


def test_mnist_header_is_checked_before_the_sweep(tmp_path, capsys):
    mod = _load("linear_vae_collapse")
    (tmp_path / "train-images-idx3-ubyte").write_bytes(b"\x00\x00\x08\x03" + (10).to_bytes(4, "big") + bytes(8))
    with pytest.raises(SystemExit):
        mod.main(["--mnist", str(tmp_path), "--out", str(tmp_path / "out")])
    assert "expected >= 1000 images" in capsys.readouterr().err


# --------------------------------------------------------------------------- the rule for output paths


def test_output_path_rule(tmp_path):
    new = tmp_path / "new.json"
    assert A.output_problem(new) is None and not new.exists()  # probed, and removed again
    old = tmp_path / "old.json"
    old.write_text("kept")
    assert A.output_problem(old) is None and old.read_text() == "kept"  # opened for appending: unchanged
    assert "folder" in A.output_problem(tmp_path)
    assert "does not exist" in A.output_problem(tmp_path / "no" / "x.json")
    assert A.output_problem("/proc/x.json") is not None
    assert "not a regular file" in A.output_problem("/dev/full")
    assert A.output_problem(os.devnull) is None
    assert A.output_problem(old / "x.json") is not None  # a file where a folder should be


def test_output_folder_is_removed_again_when_a_probe_fails(tmp_path):
    parser = A.ArgumentParser(prog="t")
    with pytest.raises(SystemExit):
        A.check_output_folder(parser, "--out", tmp_path / "a" / "b", figures=["x.unknown"])
    assert not (tmp_path / "a").exists()
    out = A.check_output_folder(parser, "--out", tmp_path / "c", files=["r.json"], figures=["r.png"])
    assert out.is_dir() and list(out.iterdir()) == []


def test_figure_formats_are_those_matplotlib_writes():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    assert set(Figure().canvas.get_supported_filetypes()) >= A.FIGURE_FORMATS


@pytest.mark.parametrize(
    "parse, text",
    [
        (A.seed, str(2**63)),
        (A.seed, "-1"),
        (A.seed, "1.0"),
        (A.int_at_least(1), "0"),
        (A.positive_float, "0"),
        (A.nonnegative_float, "-inf"),
        (A.finite_float, "nan"),
        (A.float_in(0, 1, hi_open=True), "1"),
    ],
)
def test_argument_types_refuse(parse, text):
    import argparse

    with pytest.raises(argparse.ArgumentTypeError):
        parse(text)
