"""``python -m landscape.prop2``: thresholds against λ_j(S) at α = 0, JSON keys, bad input."""

import json

import numpy as np
import pytest

from landscape.prop2 import main


def test_prop2_cli_alpha_zero_thresholds_are_the_eigenvalues(tmp_path, capsys):
    out = tmp_path / "p2.json"
    # n = 15, d = 4, κ = 2 and the default 4 restarts: the shapes and settings of
    # tests/test_gamma.py::test_thresholds_are_the_eigenvalues_at_alpha_zero, so that in one pytest run the
    # sweep's and the probes' compiled programs (the dense Newton polish) are reused here
    argv = ["--alpha", "0", "--kappa", "2", "--n", "15", "--d", "4", "--gammas", "0.001:5:10", "--json", str(out)]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "γ''_1" in text and "eigenvalues of S" in text
    data = json.loads(out.read_text())
    for key in ("sweep", "implicit_gamma", "versions"):
        assert key in data
    lam = np.array(data["eigenvalues_S"])
    partial = sorted(data["thresholds"]["partial"])
    np.testing.assert_allclose(partial, np.sort(lam[:2]), rtol=1e-5)
    assert data["thresholds"]["full"] == pytest.approx(lam[0], rel=1e-5)
    assert len(data["sweep"]) == 10 and {"gamma", "best_active", "gap"} <= set(data["sweep"][0])


@pytest.mark.parametrize(
    "argv, word",
    [
        (["--alpha", "-1"], "alpha"),
        (["--alpha", "0.1", "--gammas", "5:1:10"], "--gammas"),
        (["--alpha", "0.1", "--gammas", "-1:1:10"], "--gammas"),
        (["--alpha", "0.1", "--kappa", "0"], "kappa"),
        (["--alpha", "0.1", "--restarts", "0"], "--restarts"),
    ],
)
def test_prop2_cli_bad_arguments(argv, word, capsys):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and word in err, err
