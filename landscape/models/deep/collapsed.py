"""The collapsed stationary point of a deep VAE (MATH.md §7), built on the Flax `DeepVAE`.

At the point:

(a) both encoder heads (μ_z and log σ_z) have zero weights and biases, so q(z|x) = N(0, I) for every x;
(b) the first decoder layer's weights are zero, so μ_x(z) is a constant c whatever z is;
(c) the decoder's output bias makes c = x̄;
(d) γ = γ̄ = (1/nd) Σ_i ‖x_i − x̄‖².

Every other weight keeps its random initialisation. The decoder's hidden biases are chosen so that each
hidden pre-activation at the point is at least ``margin`` away from the ReLU kink (half of them positive,
so no layer is dead): the energy is then differentiable there. Eq. (5) at the point is
n d (1 + log γ̄) + n κ, and its gradient is zero: the decoder gradients are ∝ Σ_i (x_i − x̄) = 0, the
first decoder layer's ∝ E[z] = 0, the heads' are ∂L/∂μ_i = 0 plus the KL gradient at the prior, 0.

With the expectation over z as a sample average, ``E[z] = 0`` holds exactly when the samples come in
antithetic pairs (ε, −ε) (`antithetic_normal`) or from a symmetric rule (`cubature_rule`): the first
layer's gradient is then an odd function of ε summed over ±ε, zero to rounding.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from landscape.common import checks as V
from landscape.models.deep.data import check_training_data
from landscape.models.deep.models import ACTIVATIONS, DeepVAE, check_activation, check_architecture, dtype_of

__all__ = ["collapsed_vae", "collapsed_energy_deep", "antithetic_normal", "cubature_rule"]

MARGIN = 0.3


def antithetic_normal(key, n: int, pairs: int, latent: int, dtype=jnp.float64):
    """(n, 2·pairs, κ) standard normal samples in antithetic pairs (ε, −ε), and their (2·pairs,) weights 1/S."""
    if isinstance(pairs, bool) or not isinstance(pairs, (int, np.integer)) or pairs < 1:
        raise ValueError(f"pairs must be an integer >= 1 (the samples are 2·pairs antithetic draws), got {pairs!r}.")
    e = jax.random.normal(key, (n, int(pairs), latent), dtype=dtype)
    eps = jnp.concatenate([e, -e], axis=1)
    S = eps.shape[1]
    return eps, jnp.full((S,), 1.0 / S, dtype=dtype)


def cubature_rule(latent: int, dtype=jnp.float64):
    """The 2κ-point rule ±√κ e_k, weights 1/(2κ): exact for E over N(0, I_κ) of polynomials of degree ≤ 3.

    Exact for the energy of an affine decoder (degree 2 in z); symmetric, so it keeps the collapsed point's
    zero gradient exact like antithetic pairs. Returns (nodes (2κ, κ), weights (2κ,)).
    """
    e = math.sqrt(latent) * jnp.eye(latent, dtype=dtype)
    return jnp.concatenate([e, -e], axis=0), jnp.full((2 * latent,), 1.0 / (2 * latent), dtype=dtype)


def collapsed_energy_deep(X, latent: int) -> float:
    """Eq. (5) at the collapsed point: n d (1 + log γ̄) + n κ (MATH.md §3, §7)."""
    X = check_training_data(X)
    n, d = X.shape
    gbar = float(np.sum((X - X.mean(0)) ** 2) / (n * d))
    return n * d * (1.0 + math.log(gbar)) + n * latent


def collapsed_vae(
    X,
    *,
    depth: int,
    width: int,
    latent: int,
    seed: int = 0,
    margin: float = MARGIN,
    dtype="float64",
    activation: str = "relu",
) -> DeepVAE:
    """A float64 `DeepVAE` at the collapsed stationary point of MATH.md §7 for data X.

    The encoder trunk, the decoder's later hidden weights and its output weights are Flax's random
    initialisation from ``seed``; ``activation`` is "relu" (the paper's) or "tanh". Hidden biases put every
    decoder pre-activation at the point at ±(margin + 0.7·U(0, 1)), the signs a random half-and-half
    permutation.
    Use ``graphdef, state = nnx.split(model)`` and `landscape.deep.vae_energy` as the objective.
    """
    X = check_training_data(X)
    depth, width, latent = check_architecture(depth, width, latent, X.shape[1])
    seed = V.check_seed("seed", seed)
    if not (isinstance(margin, (int, float)) and math.isfinite(margin) and margin > 0):
        raise ValueError(f"margin must be a finite number > 0 (distance from the ReLU kink), got {margin!r}.")
    n, d = X.shape
    xbar = X.mean(0)
    gbar = float(np.sum((X - xbar) ** 2) / (n * d))

    dt = dtype_of(dtype)
    act = ACTIVATIONS[check_activation(activation)]
    model = DeepVAE(
        d, depth=depth, width=width, latent=latent, gamma=gbar, param_dtype=dt, activation=activation,
        rngs=nnx.Rngs(params=jax.random.fold_in(jax.random.PRNGKey(int(seed)), 0)),
    )  # fmt: skip
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), depth, width, latent, 7]))

    def targets():
        signs = rng.permutation(np.resize([1.0, -1.0], width))
        return signs * (margin + 0.7 * rng.uniform(size=width))

    for head in (model.encoder.mu, model.encoder.log_sigma):
        head.kernel[...] = jnp.zeros_like(head.kernel[...])
        head.bias[...] = jnp.zeros_like(head.bias[...])
    layers = model.decoder.trunk.layers
    layers[0].kernel[...] = jnp.zeros_like(layers[0].kernel[...])
    a = targets()
    layers[0].bias[...] = jnp.asarray(a, dtype=dt)
    h = np.asarray(act(jnp.asarray(a)))
    for layer in list(layers)[1:]:
        W = np.asarray(layer.kernel[...], dtype=np.float64)
        a = targets()
        layer.bias[...] = jnp.asarray(a - h @ W, dtype=dt)
        h = np.asarray(act(jnp.asarray(a)))
    W_out = np.asarray(model.decoder.out.kernel[...], dtype=np.float64)
    model.decoder.out.bias[...] = jnp.asarray(xbar - h @ W_out, dtype=dt)
    model.log_gamma[...] = jnp.asarray(math.log(gbar), dtype=dt)
    return model
