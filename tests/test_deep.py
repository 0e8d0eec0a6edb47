"""landscape.deep: the Flax MLP AE / VAE, multi-seed training, the §7 collapsed point, γ′, data loading.

Tiny sizes throughout (widths 3–8, float64 where an exact comparison is made).
"""

from __future__ import annotations

import gzip
import math
import struct

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx
from jax.flatten_util import ravel_pytree

import landscape
from landscape import deep

# --------------------------------------------------------------------------- helpers


def _data(n=20, d=5, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)) * rng.uniform(0.5, 2.0, size=d) + rng.normal(size=d)


def _collapsed(depth, X, width=6, latent=2, pairs=4):
    graphdef, state = nnx.split(deep.collapsed_vae(X, depth=depth, width=width, latent=latent, seed=1))
    eps, w = deep.antithetic_normal(jax.random.PRNGKey(0), X.shape[0], pairs, latent)
    return state, (graphdef, jnp.asarray(X), eps, w)


def _flat_grad(state, args):
    return ravel_pytree(jax.grad(deep.vae_energy)(state, *args))[0]


# --------------------------------------------------------------------------- §7 collapsed point


@pytest.mark.parametrize("depth", [1, 4, 10])
def test_collapsed_point_is_stationary_at_every_depth(depth):
    """MATH.md §7: zero gradient (antithetic pairs) and L = n d (1 + log γ̄) + n κ, at depths 1, 4, 10."""
    X = _data()
    state, args = _collapsed(depth, X)
    L = float(deep.vae_energy(state, *args))
    assert L == pytest.approx(deep.collapsed_energy_deep(X, 2), rel=1e-12)
    n, d = X.shape
    gbar = np.sum((X - X.mean(0)) ** 2) / (n * d)
    assert deep.collapsed_energy_deep(X, 2) == pytest.approx(n * d * (1 + math.log(gbar)) + 2 * n, rel=1e-14)
    g = _flat_grad(state, args)
    assert float(jnp.linalg.norm(g)) <= 1e-10
    # the §7 point has a genuinely nonzero gradient a short step away (the zero is not an artefact)
    flat, unravel = ravel_pytree(state)
    near = unravel(flat + 0.05 * jax.random.normal(jax.random.PRNGKey(3), flat.shape))
    assert float(jnp.linalg.norm(_flat_grad(near, args))) > 1e-2


def test_collapsed_point_with_tanh_networks():
    """The §7 construction does not depend on the nonlinearity: tanh networks are stationary there too."""
    X = _data()
    graphdef, state = nnx.split(deep.collapsed_vae(X, depth=3, width=5, latent=2, activation="tanh"))
    eps, w = deep.antithetic_normal(jax.random.PRNGKey(0), X.shape[0], 4, 2)
    args = (graphdef, jnp.asarray(X), eps, w)
    assert float(deep.vae_energy(state, *args)) == pytest.approx(deep.collapsed_energy_deep(X, 2), rel=1e-12)
    assert float(jnp.linalg.norm(_flat_grad(state, args))) <= 1e-10
    with pytest.raises(ValueError, match="activation"):
        deep.make_model("vae", 3, depth=1, width=2, latent=1, activation="gelu")


def test_collapsed_point_negative_controls():
    """Breaking §7 (plain MC samples without pairs, or γ ≠ γ̄) gives a clearly nonzero gradient."""
    X = _data()
    state, (graphdef, Xj, _, _) = _collapsed(4, X)
    eps = jax.random.normal(jax.random.PRNGKey(0), (X.shape[0], 8, 2))
    grads = jax.grad(deep.vae_energy)(state, graphdef, Xj, eps)
    first = grads["decoder"]["trunk"]["layers"][0]["kernel"][...]
    assert float(jnp.linalg.norm(first)) > 1e-3
    eps, w = deep.antithetic_normal(jax.random.PRNGKey(0), X.shape[0], 4, 2)
    bad = jax.tree_util.tree_map_with_path(
        lambda p, a: a + math.log(1.5) if any(getattr(k, "key", None) == "log_gamma" for k in p) else a, state
    )
    assert float(jnp.linalg.norm(_flat_grad(bad, (graphdef, Xj, eps, w)))) > 1.0


def test_lanczos_gives_the_most_negative_eigenvalue_of_the_dense_hessian():
    """The energy is a pure f(state, *args): lanczos, dense_hessian and certify take it; λ_min agrees."""
    X = _data()
    state, args = _collapsed(2, X, width=5)
    H = np.asarray(landscape.dense_hessian(deep.vae_energy, state, args))
    ev = np.linalg.eigvalsh(H)
    lz = landscape.lanczos(deep.vae_energy, state, args=args, k=2)
    assert ev[0] < -1e-3  # a saddle: the escape direction couples the μ head and the first decoder layer
    assert lz.lowest.eigenvalues[0] == pytest.approx(ev[0], rel=1e-8, abs=1e-10)
    assert lz.lowest.converged[0]
    cert = landscape.certify(deep.vae_energy, state, args)
    assert cert.stationary and cert.n_negative >= 1
    assert cert.min_eigenvalue == pytest.approx(ev[0], rel=1e-8)


# --------------------------------------------------------------------------- training


def _tiny_config(**kw):
    base = {"kind": "vae", "depth": 2, "width": 6, "latent": 2, "epochs": 3, "batch_size": 8, "dtype": "float64"}
    return deep.TrainConfig(**(base | kw))


@pytest.mark.parametrize("kind,warmup", [("vae", 1.5), ("ae", 0.0)])
def test_vmapped_seeds_equal_each_seed_alone(kind, warmup):
    """Seeds trained together (vmap) give the same parameters and losses as each seed trained alone."""
    X = _data(n=30, d=6)
    cfg = _tiny_config(kind=kind, warmup_epochs=warmup)
    together = deep.train(X, cfg, seeds=(0, 1, 2))
    flat_all = [ravel_pytree(together.state_of(i))[0] for i in range(3)]
    for i, s in enumerate((0, 1, 2)):
        alone = deep.train(X, cfg, seeds=(s,), vectorize=False)
        np.testing.assert_allclose(ravel_pytree(alone.state_of(0))[0], flat_all[i], rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(alone.loss_history[0], together.loss_history[i], rtol=1e-10)
    assert float(jnp.max(jnp.abs(flat_all[0] - flat_all[1]))) > 1e-3  # the seeds do differ
    assert together.finite.all()


def test_kl_warm_start_schedule():
    assert float(deep.kl_weight(0, 0)) == 1.0
    assert [float(deep.kl_weight(k, 4.0)) for k in range(6)] == [0.25, 0.5, 0.75, 1.0, 1.0, 1.0]


def test_training_fits_digits_and_eq7_holds():
    """An AE beats predicting x̄ (γ̄) by far, and a VAE's E_q error (γ*) is no smaller than the AE's (eq. 7)."""
    X = deep.load_digits(n=300)
    gbar = float(np.mean((X - X.mean(0)) ** 2))
    ae = deep.train(X, deep.TrainConfig("ae", 1, 64, 8, epochs=40, batch_size=32), seeds=(0,))
    vae = deep.train(X, deep.TrainConfig("vae", 1, 64, 8, epochs=40, batch_size=32), seeds=(0,))
    e_ae = deep.evaluate_ae(ae.graphdef, ae.state_of(0), X)["recon_error"]
    m = deep.evaluate_vae(vae.graphdef, vae.state_of(0), X, pairs=8)
    assert e_ae < 0.5 * gbar
    assert e_ae <= m["expected_recon_error"] < 0.8 * gbar
    assert m["gamma_star"] == m["expected_recon_error"]  # eq. (9) is the right side of eq. (7)
    assert 0 <= m["collapsed_dims"] <= 8
    assert sum(m["sigma_hist"]["counts"]) == 300 * 8


def test_evaluate_vae_gamma_star_matches_brute_force_monte_carlo():
    """γ* of eq. (9) from evaluate_vae against an independent plain Monte Carlo estimate (4000 samples/point)."""
    X = _data(n=15, d=4)
    r = deep.train(X, _tiny_config(epochs=2), seeds=(0,))
    m = deep.evaluate_vae(r.graphdef, r.state_of(0), X, pairs=64, seed=5)
    model = r.model(0)
    mu, ls = model.encoder(jnp.asarray(X))
    eps = jax.random.normal(jax.random.PRNGKey(9), (X.shape[0], 4000, 2))
    z = mu[:, None] + jnp.exp(ls)[:, None] * eps
    brute = float(jnp.mean(jnp.sum((X[:, None] - model.decoder(z)) ** 2, -1))) / X.shape[1]
    assert m["gamma_star"] == pytest.approx(brute, abs=5 * m["expected_recon_error_se"] + 0.02 * brute)
    assert m["gamma_learned"] == pytest.approx(math.exp(float(model.log_gamma[...])))
    kl = 0.5 * (mu**2 + jnp.exp(2 * ls) - 2 * ls - 1)
    assert m["kl_per_dim"] == pytest.approx(np.asarray(kl.mean(0)).tolist(), rel=1e-10)


# --------------------------------------------------------------------------- Proposition 2, literal


def _affine(params, z):
    return z @ params[0].T + params[1]


def _affine_gamma_prime(X, W, b):
    """γ′ for a fixed affine decoder in closed form: per point, μ is ridge regression and σ_k² = γ/(γ + ‖w_k‖²)."""
    from scipy.optimize import brentq

    n, d = X.shape
    Y = X - b
    wn = np.sum(W**2, axis=0)
    gbar = np.mean((X - X.mean(0)) ** 2)

    def gap(g):
        mu = np.linalg.solve(W.T @ W + g * np.eye(W.shape[1]), W.T @ Y.T).T
        s2 = g / (g + wn)
        F = np.sum((Y - mu @ W.T) ** 2) + n * np.sum(wn * s2)
        K = np.sum(mu**2) + n * np.sum(s2 - np.log(s2))
        return F + g * K - n * d * gbar - g * n * W.shape[1]

    return brentq(gap, 1e-3, 1e3, xtol=1e-14, rtol=1e-14)


def test_gamma_prime_matches_the_closed_form_for_an_affine_decoder():
    """For an affine decoder the cubature rule is exact and the φ-problem convex: γ′ against a closed form."""
    X = _data(n=20, d=3, seed=4)
    opt = landscape.affine_optimum(X, 2)
    W, b = np.asarray(opt.W), np.asarray(opt.b)
    got = deep.gamma_prime(_affine, (jnp.asarray(W), jnp.asarray(b)), X, latent=2, rule="cubature", rtol=1e-10)
    assert got.converged
    assert got.gamma_prime == pytest.approx(_affine_gamma_prime(X, W, b), rel=1e-8)
    assert all(x <= got.gamma_prime * (1 + 1e-9) for x in got.iterates[1:])  # every iterate is a lower bound
    assert got.delta == pytest.approx(X.shape[0] * np.sum(W**2) + X.shape[0] * np.sum((X.mean(0) - b) ** 2), rel=1e-8)


@pytest.mark.slow
def test_gamma_prime_matches_prop2_literal_for_an_affine_decoder():
    """The same γ′ as the γ-sweep tools' landscape.prop2_literal (grid + bisection, exact Newton per γ)."""
    X = _data(n=20, d=3, seed=4)
    opt = landscape.affine_optimum(X, 2)
    W, b = np.asarray(opt.W), np.asarray(opt.b)
    ref = landscape.prop2_literal(X, 0.0, kappa=2, gammas=np.geomspace(0.05, 20.0, 12), decoder=(W, b))
    got = deep.gamma_prime(_affine, (jnp.asarray(W), jnp.asarray(b)), X, latent=2, rule="cubature", rtol=1e-9)
    assert got.gamma_prime == pytest.approx(ref.gamma_prime, rel=1e-5)
    assert got.delta == pytest.approx(ref.delta, rel=1e-8)


def test_gamma_prime_none_for_a_constant_decoder():
    """A decoder that ignores z can never beat the trivial solution: no γ′ (degenerate, Prop. 2 excluded)."""
    X = _data(n=10, d=3)

    def const(params, z):
        return jnp.zeros(z.shape[:-1] + (3,)) + params

    got = deep.gamma_prime(const, jnp.asarray(X.mean(0) + 0.1), X, latent=1, pairs=2, max_iter=3)
    assert got.gamma_prime is None
    assert got.delta > 0


# --------------------------------------------------------------------------- data


def test_load_digits():
    X = deep.load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float64
    assert X.min() == 0.0 and X.max() == 1.0
    sub = deep.load_digits(n=100, seed=3)
    assert sub.shape == (100, 64)
    np.testing.assert_array_equal(sub, deep.load_digits(n=100, seed=3))


def test_fashion_mnist_missing_files_give_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError) as err:
        deep.load_fashion_mnist(tmp_path / "nowhere")
    msg = str(err.value)
    for needle in ("train-images-idx3-ubyte", "x_train", ".npz", "Nothing is downloaded"):
        assert needle in msg
    with pytest.raises(FileNotFoundError, match="Looked for train-images-idx3-ubyte"):
        deep.load_fashion_mnist(tmp_path)  # an existing folder without the files


def _idx(images: np.ndarray) -> bytes:
    return struct.pack(">IIII", 0x00000803, *images.shape) + images.astype(np.uint8).tobytes()


def test_fashion_mnist_reads_idx_and_npz(tmp_path):
    rng = np.random.default_rng(0)
    imgs = rng.integers(0, 256, size=(5, 28, 28), dtype=np.uint8)
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(_idx(imgs)))
    X = deep.load_fashion_mnist(tmp_path)
    np.testing.assert_allclose(X, imgs.reshape(5, -1) / 255.0)
    np.savez(tmp_path / "f.npz", x_train=imgs)
    np.testing.assert_allclose(deep.load_fashion_mnist(tmp_path / "f.npz"), X)
    (tmp_path / "labels").mkdir()
    (tmp_path / "labels" / "train-images-idx3-ubyte").write_bytes(struct.pack(">II", 0x00000801, 5) + bytes(5))
    with pytest.raises(ValueError, match="magic number"):
        deep.load_fashion_mnist(tmp_path / "labels")


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "kw,name",
    [
        ({"depth": 0}, "depth"),
        ({"depth": 2.5}, "depth"),
        ({"depth": True}, "depth"),
        ({"width": 0}, "width"),
        ({"latent": 0}, "latent"),
        ({"epochs": 0}, "epochs"),
        ({"batch_size": 0}, "batch_size"),
        ({"learning_rate": 0.0}, "learning_rate"),
        ({"learning_rate": float("nan")}, "learning_rate"),
        ({"gamma_learning_rate": -1.0}, "gamma_learning_rate"),
        ({"warmup_epochs": -1.0}, "warmup_epochs"),
        ({"kind": "ae", "warmup_epochs": 2.0}, "warmup_epochs"),
        ({"kind": "gan"}, "kind"),
        ({"dtype": "float16"}, "dtype"),
    ],
)
def test_bad_config_is_rejected(kw, name):
    with pytest.raises(ValueError, match=name):
        _tiny_config(**kw)


def test_bad_data_and_seeds_are_rejected():
    X = _data()
    X[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        deep.train(X, _tiny_config(), seeds=(0,))
    with pytest.raises(ValueError, match="constant"):
        deep.train(np.ones((10, 3)), _tiny_config(), seeds=(0,))
    with pytest.raises(ValueError, match="seeds"):
        deep.train(_data(), _tiny_config(), seeds=(1, 1))
    with pytest.raises(ValueError, match="depth"):
        deep.collapsed_vae(_data(), depth=0, width=4, latent=2)
    with pytest.raises(ValueError, match="pairs"):
        deep.antithetic_normal(jax.random.PRNGKey(0), 3, 0, 2)
