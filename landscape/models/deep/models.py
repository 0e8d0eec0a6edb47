"""Flax NNX MLP autoencoders and Gaussian VAEs of the paper's Section 6, and their energies as pure functions.

Architecture (Section 6: fully connected, ReLU, hidden layers of 512 for Fashion-MNIST):

- encoder: ``depth`` hidden layers d → width → … → width (ReLU), then linear heads: μ_z (both models)
  and log σ_z (the VAE only);
- decoder: ``depth`` hidden layers κ → width → … → width (ReLU), then a linear output layer μ_x;
- the VAE has a learned scalar log γ (decoder variance, Σ_x = γ I).

The AE is the composition of the VAE's encoder mean and decoder mean networks (Section 5.1), trained on
(1/nd) Σ_i ‖x_i − x̂_i‖². The VAE is trained on eq. (3).

Energies are pure functions of an NNX state pytree (``graphdef, state = nnx.split(model)``), so the
curvature tools take them directly: ``landscape.lanczos(vae_energy, state, args=(graphdef, X, eps, w))``.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from landscape.common import checks as V

__all__ = [
    "PAPER_DEPTHS",
    "PAPER_WIDTH",
    "ACTIVATIONS",
    "KINDS",
    "Encoder",
    "Decoder",
    "DeepAE",
    "DeepVAE",
    "make_model",
    "check_architecture",
    "cast_state",
    "vae_energy",
    "ae_loss",
    "recon_sq_errors",
]

#: The depths (hidden layers in the encoder and in the decoder) of the paper's Figure 1, top.
PAPER_DEPTHS = (1, 2, 4, 6, 8, 10)
#: The paper's hidden width.
PAPER_WIDTH = 512
KINDS = ("ae", "vae")
MAX_DEPTH = 64

_DTYPES = {"float32": jnp.float32, "float64": jnp.float64}
#: Hidden-layer nonlinearities (the paper's networks are ReLU; tanh is smooth everywhere, for exact checks).
ACTIVATIONS = {"relu": jax.nn.relu, "tanh": jnp.tanh}


def check_activation(activation) -> str:
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}.")
    return activation


def _int(name: str, value, minimum: int, hint: str) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}; {hint}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}; {hint}")
    return int(value)


def check_architecture(depth, width, latent, d=None) -> tuple[int, int, int]:
    """Validate (depth, width, latent); ValueError naming the argument and the fix."""
    depth = _int(
        "depth",
        depth,
        1,
        f"it is the number of hidden layers in the encoder and in the decoder (the paper uses {PAPER_DEPTHS}).",
    )
    if depth > MAX_DEPTH:
        raise ValueError(f"depth must be <= {MAX_DEPTH} hidden layers, got {depth}; the paper goes up to 10.")
    width = _int("width", width, 1, f"it is the size of each hidden layer (the paper uses {PAPER_WIDTH}).")
    latent = _int("latent", latent, 1, "it is the latent size κ (dimension of z).")
    if d is not None:
        _int("d", d, 1, "it is the data dimension (columns of X).")
    return depth, width, latent


def dtype_of(name) -> jnp.dtype:
    if name in _DTYPES.values():
        return name
    if name not in _DTYPES:
        raise ValueError(f"dtype must be 'float32' or 'float64', got {name!r}.")
    return _DTYPES[name]


class _MLP(nnx.Module):
    """``depth`` Linear + activation layers: in_features → width → … → width."""

    def __init__(self, in_features: int, width: int, depth: int, *, param_dtype, rngs: nnx.Rngs, activation="relu"):
        sizes = [in_features] + [width] * depth
        self.activation = check_activation(activation)
        self.layers = nnx.List(
            [nnx.Linear(a, b, param_dtype=param_dtype, rngs=rngs) for a, b in zip(sizes[:-1], sizes[1:], strict=True)]
        )

    def __call__(self, h):
        act = ACTIVATIONS[self.activation]
        for layer in self.layers:
            h = act(layer(h))
        return h


class Encoder(nnx.Module):
    """x ↦ μ_z(x) (and log σ_z(x) when ``stochastic``): an MLP trunk and linear heads."""

    def __init__(
        self, d: int, width: int, depth: int, latent: int, *, stochastic: bool, param_dtype, rngs, activation="relu"
    ):
        self.trunk = _MLP(d, width, depth, param_dtype=param_dtype, rngs=rngs, activation=activation)
        self.mu = nnx.Linear(width, latent, param_dtype=param_dtype, rngs=rngs)
        self.log_sigma = nnx.Linear(width, latent, param_dtype=param_dtype, rngs=rngs) if stochastic else None

    def __call__(self, x):
        h = self.trunk(x)
        if self.log_sigma is None:
            return self.mu(h)
        return self.mu(h), self.log_sigma(h)


class Decoder(nnx.Module):
    """z ↦ μ_x(z): an MLP trunk (its first layer takes z) and a linear output layer."""

    def __init__(self, d: int, width: int, depth: int, latent: int, *, param_dtype, rngs, activation="relu"):
        self.trunk = _MLP(latent, width, depth, param_dtype=param_dtype, rngs=rngs, activation=activation)
        self.out = nnx.Linear(width, d, param_dtype=param_dtype, rngs=rngs)

    def __call__(self, z):
        return self.out(self.trunk(z))


class DeepAE(nnx.Module):
    """Deterministic autoencoder x̂ = μ_x(μ_z(x)) (the paper's eq. (7), left side)."""

    kind = "ae"

    def __init__(
        self,
        d: int,
        *,
        depth: int,
        width: int,
        latent: int,
        param_dtype=jnp.float32,
        activation: str = "relu",
        rngs: nnx.Rngs,
    ):
        depth, width, latent = check_architecture(depth, width, latent, d)
        kw = {"param_dtype": param_dtype, "rngs": rngs, "activation": check_activation(activation)}
        self.encoder = Encoder(d, width, depth, latent, stochastic=False, **kw)
        self.decoder = Decoder(d, width, depth, latent, **kw)

    def __call__(self, x):
        return self.decoder(self.encoder(x))


class DeepVAE(nnx.Module):
    """Gaussian VAE of eq. (3): q(z|x) = N(μ_z(x), diag σ_z(x)²), p(x|z) = N(μ_x(z), γ I), γ learned."""

    kind = "vae"

    def __init__(
        self,
        d: int,
        *,
        depth: int,
        width: int,
        latent: int,
        gamma: float = 1.0,
        param_dtype=jnp.float32,
        activation: str = "relu",
        rngs: nnx.Rngs,
    ):
        depth, width, latent = check_architecture(depth, width, latent, d)
        if not (math.isfinite(gamma) and gamma > 0):
            raise ValueError(f"gamma (the initial decoder variance) must be a finite number > 0, got {gamma!r}.")
        kw = {"param_dtype": param_dtype, "rngs": rngs, "activation": check_activation(activation)}
        self.encoder = Encoder(d, width, depth, latent, stochastic=True, **kw)
        self.decoder = Decoder(d, width, depth, latent, **kw)
        self.log_gamma = nnx.Param(jnp.asarray(math.log(gamma), dtype=param_dtype))

    def __call__(self, x):
        """The mean reconstruction μ_x(μ_z(x))."""
        mu, _ = self.encoder(x)
        return self.decoder(mu)


def make_model(
    kind: str,
    d: int,
    *,
    depth: int,
    width: int,
    latent: int,
    seed: int = 0,
    dtype="float32",
    gamma: float = 1.0,
    activation: str = "relu",
):
    """A `DeepAE` (kind "ae") or `DeepVAE` (kind "vae") with Flax's default initialisation from ``seed``.

    Flax's defaults: LeCun-normal kernels (variance 1/fan_in), zero biases.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}.")
    rngs = nnx.Rngs(params=jax.random.fold_in(jax.random.PRNGKey(V.check_seed("seed", seed)), 0))
    kw = {"depth": depth, "width": width, "latent": latent, "param_dtype": dtype_of(dtype), "rngs": rngs}
    kw["activation"] = activation
    return DeepAE(d, **kw) if kind == "ae" else DeepVAE(d, gamma=gamma, **kw)


def cast_state(state, dtype):
    """Every array of an NNX state (or any pytree) cast to ``dtype``."""
    dt = dtype_of(dtype)
    return jax.tree.map(lambda a: jnp.asarray(a, dtype=dt), state)


def recon_sq_errors(model, X, eps):
    """‖x_i − μ_x(μ_i + σ_i ε_is)‖² for every point and sample: shape (n, S); eps is (n, S, κ) or (S, κ)."""
    mu, log_sigma = model.encoder(X)
    z = mu[:, None, :] + jnp.exp(log_sigma)[:, None, :] * eps
    out = model.decoder(z)
    return jnp.sum((X[:, None, :] - out) ** 2, axis=-1)


def vae_energy(state, graphdef, X, eps, weights=None, kl_weight=1.0, free_bits=0.0):
    """Eq. (5) with the MLP encoder and decoder (MATH.md §1, §7), summed over points.

        L = Σ_i Σ_s w_s ‖x_i − μ_x(μ_i + σ_i ε_is)‖² / γ + n d log γ + β Σ_i (‖σ_i‖² − log|diag σ_i²| + ‖μ_i‖²)

    With free bits λ > 0 (Kingma et al. 2016, the variant per latent dimension over the points of X, e.g.
    a minibatch) the KL part becomes, on eq. (5)'s scale,

        β (2 Σ_k max(λ n, KL_k) + n κ),   KL_k = ½ Σ_i (μ_ik² + σ_ik² − 2 log σ_ik − 1),

    which at λ = 0 is the KL part above: dimension k's KL is free below λ n nats, and its gradient there
    is exactly 0. λ = 0 evaluates the expression above itself, so eq. (5)'s numbers do not change.

    Args:
      state, graphdef: ``nnx.split`` of a `DeepVAE`; ``state`` is the variable (differentiated) argument.
      X: (n, d) data.
      eps: (n, S, κ) or (S, κ) standard normal samples (or quadrature nodes).
      weights: (S,) sample weights summing to 1 (default 1/S: Monte Carlo).
      kl_weight: β on the KL term (1 is eq. (5); a KL warm-start schedules it from 0 to 1).
      free_bits: λ ≥ 0, nats per point and latent dimension below which a dimension's KL is free (0: eq. (5)).
    Eq. (3) is this divided by n. A pure function ``f(state, *args)``: `landscape.lanczos`, `landscape.certify`
    and `landscape.dense_hessian` take it with ``args=(graphdef, X, eps, weights)``.
    """
    model = nnx.merge(graphdef, state)
    n, d = X.shape
    S = eps.shape[-2]
    w = jnp.full((S,), 1.0 / S, dtype=X.dtype) if weights is None else weights
    mu, log_sigma = model.encoder(X)
    z = mu[:, None, :] + jnp.exp(log_sigma)[:, None, :] * eps
    sq = jnp.sum((X[:, None, :] - model.decoder(z)) ** 2, axis=-1) @ w
    log_gamma = model.log_gamma[...]
    if isinstance(free_bits, (int, float)) and free_bits == 0:
        kl = jnp.sum(jnp.exp(2.0 * log_sigma) - 2.0 * log_sigma + mu**2)
    else:
        kl_k = 0.5 * jnp.sum(mu**2 + jnp.exp(2.0 * log_sigma) - 2.0 * log_sigma - 1.0, axis=0)
        thr = jnp.asarray(free_bits, dtype=kl_k.dtype) * n
        kl = 2.0 * jnp.sum(jnp.where(kl_k >= thr, kl_k, thr)) + n * mu.shape[-1]
    return jnp.sum(sq) * jnp.exp(-log_gamma) + n * d * log_gamma + kl_weight * kl


def ae_loss(state, graphdef, X):
    """(1/nd) Σ_i ‖x_i − μ_x(μ_z(x_i))‖², the deterministic AE loss (the left side of eq. (7))."""
    model = nnx.merge(graphdef, state)
    return jnp.mean((X - model(X)) ** 2)
