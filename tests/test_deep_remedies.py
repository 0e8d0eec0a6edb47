"""landscape.deep's cures of posterior collapse (issue 21): free bits, aggressive inference, and the
decoder-based count of ignored latent dimensions. Tiny networks in float64."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx
from jax.flatten_util import ravel_pytree

import landscape  # noqa: F401  (float64)
from landscape import deep


def _data(n=12, d=4, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)) * rng.uniform(0.5, 2.0, size=d) + rng.normal(size=d)


def _tiny_vae(X, latent=2, seed=0):
    model = deep.make_model("vae", X.shape[1], depth=1, width=5, latent=latent, seed=seed, dtype="float64")
    graphdef, state = nnx.split(model)
    eps = jax.random.normal(jax.random.PRNGKey(7), (X.shape[0], 3, latent))
    return model, graphdef, state, eps


def _eq5_reference(state, graphdef, X, eps, kl_weight=1.0):
    """vae_energy's eq. (5) before free bits, written out (one MC sample weight 1/S)."""
    model = nnx.merge(graphdef, state)
    n, d = X.shape
    mu, log_sigma = model.encoder(X)
    z = mu[:, None, :] + jnp.exp(log_sigma)[:, None, :] * eps
    sq = jnp.sum((X[:, None, :] - model.decoder(z)) ** 2, axis=-1) @ jnp.full((eps.shape[-2],), 1.0 / eps.shape[-2])
    log_gamma = model.log_gamma[...]
    kl = jnp.sum(jnp.exp(2.0 * log_sigma) - 2.0 * log_sigma + mu**2)
    return jnp.sum(sq) * jnp.exp(-log_gamma) + n * d * log_gamma + kl_weight * kl


# --------------------------------------------------------------------------- free bits


def test_free_bits_zero_is_eq5_exactly_value_and_gradient():
    X = jnp.asarray(_data())
    _, graphdef, state, eps = _tiny_vae(np.asarray(X))
    for beta in (1.0, 0.3):
        ref = _eq5_reference(state, graphdef, X, eps, beta)
        got = deep.vae_energy(state, graphdef, X, eps, kl_weight=beta, free_bits=0.0)
        assert float(got) == float(ref)  # bitwise: λ = 0 is the old expression itself
        g_ref = ravel_pytree(jax.grad(_eq5_reference)(state, graphdef, X, eps, beta))[0]
        g_got = ravel_pytree(jax.grad(deep.vae_energy)(state, graphdef, X, eps, None, beta, 0.0))[0]
        np.testing.assert_array_equal(np.asarray(g_got), np.asarray(g_ref))
        # the thresholded form at λ = 0 (a traced λ takes it) is the same number: 2 Σ_k KL_k + nκ = Σ(σ² − log σ² + μ²)
        traced = deep.vae_energy(state, graphdef, X, eps, kl_weight=beta, free_bits=jnp.asarray(0.0))
        assert float(traced) == pytest.approx(float(ref), rel=1e-13)


def test_free_bits_gradient_has_no_kl_part_below_the_threshold():
    """With KL_k < λ n in dimension k, the gradient w.r.t. the μ / log σ heads' column k is the
    reconstruction part's alone; above it, the difference is the analytic KL gradient 2β(μ, σ² − 1)
    chained through the heads."""
    Xn = _data(n=12, d=4)
    X = jnp.asarray(Xn)
    model, graphdef, state, eps = _tiny_vae(Xn)
    n = X.shape[0]
    mu, ls = model.encoder(X)
    kl_k = np.asarray(0.5 * jnp.sum(mu**2 + jnp.exp(2 * ls) - 2 * ls - 1, axis=0))
    lo, hi = np.argsort(kl_k)
    assert kl_k[hi] > 1.2 * kl_k[lo]
    lam = 0.5 * (kl_k[lo] + kl_k[hi]) / n  # between the two dimensions' KL per point
    beta = 0.7
    g_fb = jax.grad(deep.vae_energy)(state, graphdef, X, eps, None, beta, lam)
    g_rec = jax.grad(deep.vae_energy)(state, graphdef, X, eps, None, 0.0)  # reconstruction and γ parts alone
    h = model.encoder.trunk(X)  # the heads' input
    dmu = 2 * beta * mu  # ∂/∂μ_ik of 2β KL_k
    dls = 2 * beta * (jnp.exp(2 * ls) - 1)  # ∂/∂log σ_ik of 2β KL_k
    for head, dkl in (("mu", dmu), ("log_sigma", dls)):
        for leaf, chain in (("kernel", lambda v: h.T @ v), ("bias", lambda v: jnp.sum(v, axis=0))):
            a = np.asarray(g_fb["encoder"][head][leaf][...])
            b = np.asarray(g_rec["encoder"][head][leaf][...])
            np.testing.assert_allclose(a[..., lo], b[..., lo], rtol=1e-12, atol=1e-12)
            np.testing.assert_allclose(a[..., hi] - b[..., hi], np.asarray(chain(dkl))[..., hi], rtol=1e-10, atol=1e-12)
            assert np.max(np.abs(np.asarray(chain(dkl))[..., lo])) > 1e-3  # without free bits it would not vanish
    # the energy: the free dimension counts λ n, the other its KL
    got = deep.vae_energy(state, graphdef, X, eps, kl_weight=beta, free_bits=lam)
    rec = deep.vae_energy(state, graphdef, X, eps, kl_weight=0.0)
    assert float(got - rec) == pytest.approx(beta * (2 * (lam * n + kl_k[hi]) + n * 2), rel=1e-12)


# --------------------------------------------------------------------------- aggressive inference


def _reference_training(X, cfg, seed):
    """Aggressive inference (He et al. 2019, Algorithm 1) as a Python loop of optax updates: one plain
    Adam per group (encoder, decoder, log γ) fed the gradient with every other leaf set to 0."""
    n, d = X.shape
    gbar = float(np.mean((X - X.mean(0)) ** 2))
    model = deep.make_model(
        "vae", d, depth=cfg.depth, width=cfg.width, latent=cfg.latent, seed=seed, dtype="float64", gamma=gbar
    )
    graphdef, p = nnx.split(model)

    def group(path, _):
        names = [getattr(k, "key", None) for k in path]
        return "gamma" if "log_gamma" in names else "encoder" if names[0] == "encoder" else "decoder"

    groups = jax.tree_util.tree_map_with_path(group, p)
    only = lambda g, name: jax.tree.map(lambda x, lab: x if lab == name else jnp.zeros_like(x), g, groups)  # noqa: E731
    opts = {"encoder": optax.adam(cfg.learning_rate), "decoder": optax.adam(cfg.learning_rate),
            "gamma": optax.adam(cfg.gamma_learning_rate)}  # fmt: skip
    states = {k: o.init(p) for k, o in opts.items()}

    def loss(p, xb, key):
        eps = jax.random.normal(key, (xb.shape[0], 1, cfg.latent), dtype=xb.dtype)
        return deep.vae_energy(p, graphdef, xb, eps, free_bits=cfg.free_bits) / xb.shape[0]

    vg = jax.jit(jax.value_and_grad(loss))  # the gradient compiled; the loop and the optax updates in Python

    def update(p, g, names):
        for name in names:
            u, states[name] = opts[name].update(only(g, name), states[name], p)
            p = optax.apply_updates(p, u)
        return p

    batch = min(cfg.batch_size, n)
    spe = n // batch
    k0 = jax.random.PRNGKey(seed)
    history = []
    for e in range(cfg.epochs):
        perm = np.asarray(jax.random.permutation(jax.random.fold_in(jax.random.fold_in(k0, 1), e), n))
        noise = jax.random.fold_in(jax.random.fold_in(k0, 2), e)
        values = []
        for j in range(spe):
            xb = jnp.asarray(X[perm[j * batch : (j + 1) * batch]])
            key = jax.random.fold_in(noise, j)
            if e * spe + j < cfg.aggressive_epochs * spe:
                for i in range(cfg.inner_steps):
                    _, g = vg(p, xb, jax.random.fold_in(key, i + 1))
                    p = update(p, g, ["encoder"])
                value, g = vg(p, xb, key)
                p = update(p, g, ["decoder", "gamma"])
            else:
                value, g = vg(p, xb, key)
                p = update(p, g, ["encoder", "decoder", "gamma"])
            values.append(float(value))
        history.append(np.mean(values))
    return p, np.array(history)


def _cfg(**kw):
    base = {"kind": "vae", "depth": 1, "width": 4, "latent": 2, "epochs": 2, "batch_size": 4, "dtype": "float64"}
    return deep.TrainConfig(**(base | kw))


@pytest.mark.parametrize(
    "kw",
    [
        {"inner_steps": 2, "aggressive_epochs": 1.0},  # 3 aggressive steps, then 3 joint ones
        {"inner_steps": 3, "aggressive_epochs": 0.5, "free_bits": 0.2},  # the phase ends mid-epoch (t < 1.5)
        {},  # K = 0: the plain path, against the same loop
    ],
)
def test_aggressive_inference_matches_a_python_loop_of_optax_updates(kw):
    X = _data(n=12, d=4)
    cfg = _cfg(**kw)
    got = deep.train(X, cfg, seeds=(3,))
    p_ref, h_ref = _reference_training(X, cfg, 3)
    np.testing.assert_allclose(
        np.asarray(ravel_pytree(got.state_of(0))[0]), np.asarray(ravel_pytree(p_ref)[0]), rtol=1e-12, atol=1e-12
    )
    np.testing.assert_allclose(got.loss_history[0], h_ref, rtol=1e-12)


def test_aggressive_inference_differs_from_plain_adam_and_the_phase_matters():
    X = _data(n=12, d=4)
    plain = ravel_pytree(deep.train(X, _cfg(), seeds=(0,)).states)[0]
    agg = ravel_pytree(deep.train(X, _cfg(inner_steps=2, aggressive_epochs=1.0), seeds=(0,)).states)[0]
    agg2 = ravel_pytree(deep.train(X, _cfg(inner_steps=2, aggressive_epochs=2.0), seeds=(0,)).states)[0]
    assert float(jnp.max(jnp.abs(plain - agg))) > 1e-4
    assert float(jnp.max(jnp.abs(agg - agg2))) > 1e-6


def test_remedies_vmapped_seeds_equal_each_seed_alone_and_repeat_exactly():
    X = _data(n=16, d=4)
    cfg = _cfg(epochs=2, inner_steps=2, aggressive_epochs=1.5, free_bits=0.1, warmup_epochs=1.0)
    together = deep.train(X, cfg, seeds=(0, 1))
    for i, s in enumerate((0, 1)):
        alone = deep.train(X, cfg, seeds=(s,), vectorize=False)
        np.testing.assert_allclose(
            ravel_pytree(alone.state_of(0))[0], ravel_pytree(together.state_of(i))[0], rtol=1e-10, atol=1e-12
        )
        np.testing.assert_allclose(alone.loss_history[0], together.loss_history[i], rtol=1e-10)
    again = deep.train(X, cfg, seeds=(0, 1))
    flat = lambda r: np.asarray(ravel_pytree(r.states)[0])  # noqa: E731
    np.testing.assert_array_equal(flat(again), flat(together))
    np.testing.assert_array_equal(again.loss_history, together.loss_history)
    assert together.finite.all()


@pytest.mark.parametrize(
    "kw,name",
    [
        ({"free_bits": -0.1}, "free_bits"),
        ({"free_bits": float("nan")}, "free_bits"),
        ({"free_bits": float("inf")}, "free_bits"),
        ({"free_bits": True}, "free_bits"),
        ({"kind": "ae", "free_bits": 0.5}, "free_bits"),
        ({"inner_steps": -1, "aggressive_epochs": 1.0}, "inner_steps"),
        ({"inner_steps": 1.5, "aggressive_epochs": 1.0}, "inner_steps"),
        ({"inner_steps": True, "aggressive_epochs": 1.0}, "inner_steps"),
        ({"inner_steps": 2}, "aggressive_epochs"),
        ({"inner_steps": 2, "aggressive_epochs": float("nan")}, "aggressive_epochs"),
        ({"inner_steps": 2, "aggressive_epochs": -1.0}, "aggressive_epochs"),
        ({"aggressive_epochs": 1.0}, "inner_steps"),
        ({"kind": "ae", "inner_steps": 2, "aggressive_epochs": 1.0}, "inner_steps"),
    ],
)
def test_bad_remedy_config_is_rejected(kw, name):
    with pytest.raises(ValueError, match=name):
        _cfg(**kw)


# --------------------------------------------------------------------------- decoder-ignored dimensions


def test_decoder_ignored_dims_against_an_affine_decoder():
    """decode(z) = W z + b with column 1 of W zero ignores z_1 exactly; the effect of zeroing z_0 is
    (1/(nd γ̄)) Σ_i (‖r_i + w_0 z_i0‖² − ‖r_i‖²), r_i = x_i − decode(z_i)."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(30, 3))
    Z = rng.normal(size=(30, 3))
    W = np.array([[1.0, 0.0, 1e-4], [0.5, 0.0, -1e-4], [-2.0, 0.0, 0.0]])
    b = np.array([0.1, 0.0, -0.2])
    out = deep.decoder_ignored_dims(lambda z: z @ jnp.asarray(W).T + jnp.asarray(b), Z, X)
    gbar = np.mean((X - X.mean(0)) ** 2)
    r = X - (Z @ W.T + b)
    oracle0 = (np.sum((r + np.outer(Z[:, 0], W[:, 0])) ** 2) - np.sum(r**2)) / (X.size * gbar)
    assert out["decoder_effect_per_dim"][0] == pytest.approx(oracle0, rel=1e-12)
    assert out["decoder_effect_per_dim"][1] == 0.0
    assert abs(out["decoder_effect_per_dim"][2]) < 1e-3  # used, but far below 1% of γ̄
    assert out["decoder_ignored_dims"] == 2
    assert out["decoder_mse_at_codes"] == pytest.approx(np.mean(r**2), rel=1e-12)
    assert deep.decoder_ignored_dims(lambda z: z @ jnp.asarray(W).T, Z, X, rel_tol=1e-9)["decoder_ignored_dims"] == 1
    with pytest.raises(ValueError, match="Z"):
        deep.decoder_ignored_dims(lambda z: z, Z[:5], X)
    with pytest.raises(ValueError, match="rel_tol"):
        deep.decoder_ignored_dims(lambda z: z, Z, X, rel_tol=0.0)


def test_decoder_ignored_dims_of_a_deep_vae_whose_first_decoder_layer_drops_a_coordinate():
    """evaluate_vae counts a latent the decoder cannot read (its row of the first kernel is 0) as ignored,
    while the KL count can call it active."""
    X = _data(n=20, d=4)
    model = deep.make_model("vae", 4, depth=2, width=6, latent=2, seed=0, dtype="float64")
    layer = model.decoder.trunk.layers[0]
    layer.kernel[...] = layer.kernel[...].at[1].set(0.0)
    layer.kernel[...] = layer.kernel[...].at[0].multiply(20.0)
    graphdef, state = nnx.split(model)
    m = deep.evaluate_vae(graphdef, state, X, pairs=2)
    assert m["decoder_effect_per_dim"][1] == 0.0
    assert abs(m["decoder_effect_per_dim"][0]) >= 0.01
    assert m["decoder_ignored_dims"] == 1
    assert m["decoder_mse_at_codes"] == pytest.approx(m["mean_recon_error"], rel=1e-12)
