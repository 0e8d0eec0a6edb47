"""The PyTorch benchmark peer (benchmarks/_torch_peer.py) computes the same eq. (5)."""

import importlib.util
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import landscape  # noqa: E402

_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "_torch_peer.py"
_spec = importlib.util.spec_from_file_location("_torch_peer", _PATH)
peer = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(peer)

KEYS = ("W", "b", "log_gamma", "mu", "log_sigma")


def _batch(rng, R, n, d, kappa):
    return {
        "W": 0.7 * rng.normal(size=(R, d, kappa)),
        "b": rng.normal(size=(R, d)),
        "log_gamma": rng.normal(scale=0.3, size=R),
        "mu": rng.normal(size=(R, n, kappa)),
        "log_sigma": rng.normal(scale=0.3, size=(R, n, kappa)) - 0.5,
    }


def _jax_params(P, r):
    return landscape.VAEParams(*(jnp.asarray(P[k][r]) for k in KEYS))


def _torch(P, requires_grad=False):
    return {k: torch.tensor(P[k], dtype=torch.float64, requires_grad=requires_grad) for k in KEYS}


def test_available():
    assert peer.available()


@pytest.mark.parametrize("alpha", [0.0, 0.1, 1.0])
def test_energy_matches_landscape(alpha):
    rng = np.random.default_rng(7)
    R, n, d, kappa = 3, 5, 3, 2
    X = rng.normal(size=(n, d)) * rng.uniform(0.3, 2.0, size=d)
    P = _batch(rng, R, n, d, kappa)
    got = peer.torch_energy(torch.tensor(X), alpha, **_torch(P)).numpy()
    assert got.shape == (R,)
    want = np.array([float(landscape.energy(_jax_params(P, r), X, alpha)) for r in range(R)])
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=0)


def test_gradient_matches_jax():
    rng = np.random.default_rng(11)
    n, d, kappa, alpha = 5, 3, 2, 0.1
    X = rng.normal(size=(n, d))
    P = _batch(rng, 1, n, d, kappa)
    T = _torch(P, requires_grad=True)
    peer.torch_energy(torch.tensor(X), alpha, **T).sum().backward()
    g = jax.grad(landscape.energy)(_jax_params(P, 0), X, alpha)
    for k, gk in zip(KEYS, g, strict=True):
        got = T[k].grad.numpy()[0]
        want = np.asarray(gk)
        np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-8 * np.abs(want).max())


def test_adam_decreases_and_restarts_are_independent():
    rng = np.random.default_rng(3)
    n, d, kappa, alpha = 8, 3, 1, 0.1
    X = rng.normal(size=(n, d))
    one = _batch(rng, 1, n, d, kappa)
    init = {k: np.concatenate([v, v]) for k, v in one.items()}  # R = 2, identical
    e0 = peer.torch_energy(torch.tensor(X), alpha, **_torch(init)).numpy()
    out = peer.run_torch_adam(X, alpha, init, steps=50, lr=1e-2)
    assert out["energy"].shape == (2,)
    assert np.all(out["energy"] < e0)
    np.testing.assert_array_equal(out["energy"][0], out["energy"][1])
    for k in KEYS:
        assert out["params"][k].shape == init[k].shape
        np.testing.assert_array_equal(out["params"][k][0], out["params"][k][1])
    assert out["seconds"] >= out["first_step_seconds"] > 0
