"""proofs_numeric: every claim passes in its fast configuration, and the checks can fail.

The fast run of each module compares its symbolic results with the library at random
points (1e-10), so a change to either side fails here. The tests below also show that the
machinery reports failures: a perturbed library breaks the symbolic comparison, a NaN
error fails a check, and a failing module makes the command exit non-zero.
"""

import importlib
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from proofs_numeric import MODULES
from proofs_numeric import __main__ as pn_main
from proofs_numeric._claim import Check, Claim, main

ROOT = Path(__file__).resolve().parents[1]


# prop2's fast run (~56 s) is the slow tier: tests/test_gamma.py checks the same thresholds (γ″ = λ_j at
# α = 0, literal Proposition 2's finite γ′) on the library directly, and `python -m proofs_numeric` runs it.
# sym_collapsed and sym_hessian run in worker processes, in test_jobs_run_claims_in_workers_in_module_order.
IN_WORKERS = ("sym_hessian", "sym_collapsed")
FAST = [pytest.param(m, marks=pytest.mark.slow) if m == "prop2" else m for m in MODULES if m not in IN_WORKERS]


@pytest.mark.parametrize("name", FAST)
def test_claim_passes_in_the_fast_configuration(name):
    claim = pn_main.run_one(name, fast=True)
    assert claim.name == name
    assert claim.passed, claim.text()
    assert claim.checks and claim.claim and claim.method


def test_jobs_run_claims_in_workers_in_module_order():
    # the real command, as a user runs it (python -m: the workers must unpickle the task from a module)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    cmd = [sys.executable, "-m", "proofs_numeric", "--fast", "--only", *IN_WORKERS, "--jobs", "2", "--report", "-"]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    text = out.stdout
    assert "running 2 claims in 2 worker processes" in text and "2 of 2 claims pass" in text
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    assert [r.split("`")[1] for r in rows] == list(IN_WORKERS)  # the order asked for, whatever order they end in
    assert all("**PASS**" in r for r in rows)


def test_symbolic_moments_catch_a_perturbed_library():
    from proofs_numeric import sym_moments

    def perturbed(m, v, a):
        out = sym_moments._library(m, v, a)
        return out * (1 + 1e-8)  # a relative error of 1e-8, 100× the tolerance

    err, _ = sym_moments.compare_random(5, seed=0, library=perturbed)
    assert err > 1e-9
    err_ok, _ = sym_moments.compare_random(5, seed=0)
    assert err_ok < 1e-12


def test_origin_limits_are_the_math_md_values():
    from proofs_numeric.sym_moments import origin_limits

    lim = origin_limits()
    assert {k: int(v) for k, v in lim["affine"].items()} == {
        "Epi": 0,
        "Epi2": 0,
        "Epi_m": 1,
        "Epi_v": 0,
        "Epi2_m": 0,
        "Epi2_v": 1,
    }
    assert all(v == 0 for v in lim["threshold"].values())


def test_affine_saddle_spectrum_is_the_dense_one(rng):
    import landscape
    from proofs_numeric.affine_saddle import analytic_spectrum

    X = rng.normal(size=(7, 3)) * [2.0, 1.0, 0.5]
    H = np.asarray(landscape.hessian(landscape.collapsed_point(X, 2), X, 0.0))
    np.testing.assert_allclose(analytic_spectrum(X, 2), np.linalg.eigvalsh(H), rtol=0, atol=1e-10 * np.abs(H).max())


def test_golden_section_finds_a_known_minimum():
    from proofs_numeric.eq9_gamma import golden_section

    assert golden_section(lambda x: (x - 0.3) ** 2, -2.0, 5.0, xtol=1e-12) == pytest.approx(0.3, abs=1e-9)


def test_check_and_claim_verdicts():
    assert Check("x", 0.0, 0.0).passed
    assert not Check("x", 1.0, 0.0).passed
    assert not Check("x", math.nan, 1.0).passed
    assert not Check("x", math.inf, 1.0).passed
    assert Check("x", 2e-11, 1e-10).ratio == pytest.approx(0.2)
    empty = Claim("e", "c", "m", checks=())
    assert not empty.passed  # no evidence is not a pass
    mixed = Claim("m", "c", "m", checks=(Check("a", 0.0, 1.0), Check("b", 2.0, 1.0)))
    assert not mixed.passed and mixed.worst.quantity == "b"
    assert "FAIL" in mixed.text() and "FAIL" in mixed.markdown()


def test_command_exits_non_zero_on_failure(capsys):
    def failing(fast=False):
        return Claim("f", "claim", "method", checks=(Check("q", 1.0, 0.0),))

    def passing(fast=False):
        return Claim("p", "claim", "method", checks=(Check("q", 0.0, 0.0),))

    assert main(failing, []) == 1
    assert main(passing, ["--fast"]) == 0
    assert "FAIL" in capsys.readouterr().out


def test_a_module_that_raises_is_a_failed_claim(monkeypatch):
    monkeypatch.setattr(importlib, "import_module", lambda name: (_ for _ in ()).throw(RuntimeError("boom")))
    claim = pn_main.run_one("prop1", fast=True)
    assert not claim.passed and "boom" in claim.checks[0].detail


def test_main_writes_a_report_and_exits_non_zero_if_a_claim_fails(tmp_path, monkeypatch):
    def fake_run_one(name, fast):
        ok = name != "prop2"
        return Claim(name, "claim", "method", checks=(Check("q", 0.0 if ok else 1.0, 0.0),))

    monkeypatch.setattr(pn_main, "run_one", fake_run_one)
    out = tmp_path / "REPORT.md"
    assert pn_main.main(["--fast", "--only", "prop1", "prop2", "--jobs", "1", "--report", str(out)]) == 1
    text = out.read_text()
    assert "`prop1`" in text and "`prop2`" in text and "**FAIL**" in text and "jaxlib" in text


def test_jobs_must_be_positive(capsys):
    with pytest.raises(SystemExit) as e:
        pn_main.main(["--fast", "--jobs", "0", "--report", "-"])
    assert e.value.code == 2 and "--jobs" in capsys.readouterr().err


def test_committed_report_lists_every_claim_as_passing():
    text = (ROOT / "proofs_numeric" / "REPORT.md").read_text()
    assert "--fast" not in text.splitlines()[2], "REPORT.md must come from the full configuration"
    for name in MODULES:
        assert f"| `{name}` |" in text, name
        assert f"## `{name}`: PASS" in text, name
    assert "FAIL" not in text
