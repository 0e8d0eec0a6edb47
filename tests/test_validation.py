"""Every bad input of the foundation issue raises ValueError naming the argument."""

import numpy as np
import pytest
from conftest import random_data, random_params

import landscape
from landscape import collapsed_point, energy, prop1_dataset
from landscape.prop1 import main as prop1_main

rng = np.random.default_rng(0)
X = random_data(rng, 6, 3)
P = random_params(rng, 6, 3, 2)


@pytest.mark.parametrize("alpha", [-0.1, -1e-12, float("nan"), float("inf")])
def test_bad_alpha(alpha):
    with pytest.raises(ValueError, match="alpha"):
        energy(P, X, alpha)
    with pytest.raises(ValueError, match="alpha"):
        prop1_dataset(alpha)
    with pytest.raises(ValueError, match="alpha"):
        landscape.spectrum(P, X, alpha)


@pytest.mark.parametrize("gamma", [0.0, -1.0, float("nan"), float("inf")])
def test_bad_gamma(gamma):
    with pytest.raises(ValueError, match="gamma"):
        energy(P, X, 0.1, gamma=gamma)
    with pytest.raises(ValueError, match="gamma"):
        landscape.hessian(P, X, 0.1, gamma=gamma)


@pytest.mark.parametrize(
    "bad, what",
    [
        (np.ones(5), "2-D"),
        (np.ones((2, 3, 1)), "2-D"),
        (np.zeros((0, 3)), "empty"),
        (np.zeros((3, 0)), "empty"),
        (np.array([[1.0, np.nan, 0.0]] * 6), "NaN"),
        (np.array([[1.0, 2.0, np.inf]] * 6), "NaN or inf"),
        (np.ones((1, 3)), "n = 2"),
    ],
)
def test_bad_data(bad, what):
    with pytest.raises(ValueError, match="X") as e:
        collapsed_point(bad, 1)
    assert what in str(e.value)
    params = random_params(np.random.default_rng(1), max(bad.shape[0], 1), 3, 1) if bad.ndim == 2 else P
    with pytest.raises(ValueError, match="X"):
        energy(params, bad, 0.1)


def test_constant_data():
    with pytest.raises(ValueError, match="constant"):
        collapsed_point(np.ones((5, 3)), 1)
    with pytest.raises(ValueError, match="constant"):
        landscape.gamma_bar(np.tile([1.0, 2.0], (4, 1)))


@pytest.mark.parametrize("kappa", [0, -1, 1.5, True])
def test_bad_kappa(kappa):
    with pytest.raises(ValueError, match="kappa"):
        collapsed_point(X, kappa)
    with pytest.raises(ValueError, match="kappa"):
        prop1_dataset(0.1, kappa=kappa)


@pytest.mark.parametrize("kappa,d", [(3, 3), (4, 3)])
def test_kappa_not_below_d_for_prop1(kappa, d):
    with pytest.raises(ValueError, match="kappa must be < d"):
        prop1_dataset(0.1, d=d, kappa=kappa)


def test_too_few_points():
    with pytest.raises(ValueError, match="n must be >= 2"):
        prop1_dataset(0.1, n=1)


@pytest.mark.parametrize(
    "field, value",
    [
        ("W", np.zeros((4, 2))),
        ("b", np.zeros(2)),
        ("log_gamma", np.zeros(1)),
        ("mu", np.zeros((5, 2))),
        ("log_sigma", np.zeros((6, 3))),
    ],
)
def test_mismatched_parameter_shapes(field, value):
    with pytest.raises(ValueError, match=f"params.{field}"):
        energy(P._replace(**{field: value}), X, 0.1)


def test_params_must_be_vaeparams():
    with pytest.raises(ValueError, match="VAEParams"):
        energy(tuple(P), X, 0.1)


@pytest.mark.parametrize(
    "argv, word",
    [
        (["--alpha", "-1"], "alpha"),
        (["--alpha", "nan"], "alpha"),
        (["--alpha", "0.1", "--n", "1"], "n must be"),
        (["--alpha", "0.1", "--kappa", "0"], "kappa"),
        (["--alpha", "0.1", "--kappa", "3"], "kappa must be < d"),
        (["--alpha", "0.1", "--d", "2", "--kappa", "2"], "kappa must be < d"),
        (["--alpha", "abc"], "alpha"),
        ([], "alpha"),
    ],
)
def test_cli_rejects_bad_arguments_with_one_line_and_exit_2(argv, word, capsys):
    with pytest.raises(SystemExit) as e:
        prop1_main(argv)
    assert e.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert word in err


@pytest.mark.parametrize("alpha", ["0.1", True, [0.1, 0.2]])
def test_alpha_must_be_a_scalar_number(alpha):
    with pytest.raises(ValueError, match="alpha"):
        energy(P, X, alpha)


def test_gamma_must_not_be_a_boolean():
    with pytest.raises(ValueError, match="gamma"):
        energy(P, X, 0.1, gamma=True)


def test_params_as_lists_are_accepted_and_bad_fields_rejected():
    lists = landscape.VAEParams(*(np.asarray(a).tolist() for a in P))
    assert float(energy(lists, X, 0.1)) == pytest.approx(float(energy(P, X, 0.1)), rel=1e-15)
    with pytest.raises(ValueError, match="params"):
        energy(P._replace(W="abc"), X, 0.1)


def test_energy_profile_checks_its_direction_and_grid():
    start = collapsed_point(X, 2)
    with pytest.raises(ValueError, match="U must have the shape of W"):
        landscape.energy_profile(X, 0.1, start, np.zeros((2, 2)), [0.0, 0.1])
    with pytest.raises(ValueError, match="ts"):
        landscape.energy_profile(X, 0.1, start, np.zeros((3, 2)), [0.0, np.nan])


@pytest.mark.parametrize(
    "argv, word",
    [
        (["--alpha", "0.1", "--plot", "out.xyz"], "unknown figure format"),
        (["--alpha", "0.1", "--json", "/proc/nope/r.json"], "cannot create"),
        (["--alpha", "0.1", "--random-directions", "-1"], "--random-directions"),
        (["--alpha", "inf"], "finite"),
    ],
)
def test_cli_checks_outputs_before_any_work(argv, word, capsys):
    with pytest.raises(SystemExit) as e:
        prop1_main(argv)
    assert e.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and word in err, err
