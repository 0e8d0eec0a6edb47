"""Amortised encoders for eq. (5): the decoder π_α(Wz) + b with its exact expectation, the encoder a function.

Eq. (5) optimises free per-point moments (μ_i, σ_i). A real VAE amortises them: (μ_i, log σ_i) =
e(x_i) for one encoder e. Two encoders (issue 21):

- **affine** (`AffineEncoder`): μ_i = A (x_i − x̄) + c, log σ_i = s, one log σ per latent dimension.
  At α = 0 this is Lucas et al.'s (2019, §4) linear VAE, whose encoder is V (x − μ) with
  D = diag σ²: with V = A, μ = b, D = e^{2s} and c = A (x̄ − b) the energies agree,
  L = −2 ELBO − nd log 2π + nκ (`affine_to_linear_vae`, `landscape.linear` the oracle);
- **mlp** (`MLPEncoder`): a Flax NNX MLP x − x̄ → tanh hidden layers → heads μ_i and log σ_i (tanh: smooth,
  so Hessians and certificates are exact).

The energy is eq. (5) at the encoder's moments, ``energy_objective(to_vae_params(params, X), X, α, γ)``
(`amortised_energy`), so everything proved for the free-moment model about a given point holds here.

**The collapsed point** (`amortised_collapsed_point`): W = 0, b = x̄, γ = γ̄, and the encoder's output
layer zero (A = 0, c = 0, s = 0; the MLP's heads zero, its hidden layers anything), so that q(z|x) = p(z).
It is stationary for every α ≥ 0. At α = 0, for the affine encoder, its Hessian has per latent
dimension k and per eigenpair (λ_l, u_l) of S the block of (W_{:,k}, A_{k,:}) along u_l

    [[2n/γ̄, −2nλ_l/γ̄], [−2nλ_l/γ̄, 2nλ_l]],   determinant 4n²λ_l (1 − λ_l/γ̄)/γ̄,

(the cross term −2 Σ_i y_iᵀ W A y_i / γ̄ = −2n Σ_k w_kᵀ S a_k / γ̄, the KL's Σ_i (a_kᵀ y_i + c_k)², and
tr(W σ² Wᵀ) n/γ̄), and the rest decouple: c_k (2n), s_k (4n), b (2n/γ̄), log γ (nd). So it has
κ · #{l : λ_l > γ̄} negative eigenvalues, as the free-moment model (MATH.md §4), and κ · #{l : λ_l = 0}
zero ones (`affine_collapsed_inertia`). At α > 0 the W-block is zero, as for free moments.

**Its certificate is the free-moment one.** The encoder family is a subset of the free moments:
L_amortised(θ, e) = L(θ, e(X)) ≥ ℓ(W), the reduced energy (minimum over b, γ and all (μ_i, σ_i),
`landscape.analysis.reduced_energy`), and near collapse e(X) stays in the neighbourhood where that
minimum is taken. So m(r) > 0 on the spheres ‖W‖_F = r < r* (`landscape.sphere_certificate`) makes the
collapsed point a local minimum of every amortised model too (strict in W; the MLP's hidden layers,
and A on the null space of S, are flat: the collapsed set).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from landscape.common import checks as V
from landscape.core.collapsed import collapsed_point
from landscape.core.data import as_data
from landscape.core.energy import energy_objective
from landscape.core.params import VAEParams
from landscape.models.linear_vae import LinearVAEParams

__all__ = [
    "ENCODERS",
    "AffineEncoder",
    "MLPEncoder",
    "AmortisedParams",
    "encode",
    "to_vae_params",
    "amortised_energy",
    "amortised_collapsed_point",
    "affine_collapsed_inertia",
    "affine_to_linear_vae",
    "encoder_mask",
]

ENCODERS = ("free", "affine", "mlp")


class AffineEncoder(NamedTuple):
    """μ_i = A (x_i − x̄) + c, log σ_i = log_sigma (shared by the points): A (κ, d), c (κ,), log_sigma (κ,)."""

    A: Any
    c: Any
    log_sigma: Any


class _MLP(nnx.Module):
    """x − x̄ → tanh hidden layers → (μ, log σ) heads, float64."""

    def __init__(self, d: int, kappa: int, hidden: tuple[int, ...], rngs: nnx.Rngs):
        sizes = (d, *hidden)
        self.hidden = nnx.List(
            [nnx.Linear(a, b, param_dtype=jnp.float64, rngs=rngs) for a, b in zip(sizes[:-1], sizes[1:], strict=True)]
        )
        self.mu = nnx.Linear(sizes[-1], kappa, param_dtype=jnp.float64, rngs=rngs)
        self.log_sigma = nnx.Linear(sizes[-1], kappa, param_dtype=jnp.float64, rngs=rngs)

    def __call__(self, y):
        h = y
        for layer in self.hidden:
            h = jnp.tanh(layer(h))
        return self.mu(h), self.log_sigma(h)


@jax.tree_util.register_pytree_node_class
class MLPEncoder:
    """An NNX MLP encoder as a pytree: its ``state`` (the leaves) and its ``graphdef`` (static structure)."""

    def __init__(self, state, graphdef):
        self.state, self.graphdef = state, graphdef

    def tree_flatten(self):
        return (self.state,), self.graphdef

    @classmethod
    def tree_unflatten(cls, graphdef, children):
        return cls(children[0], graphdef)

    @classmethod
    def create(cls, d: int, kappa: int, hidden=(16,), *, key=None) -> MLPEncoder:
        """A fresh encoder with NNX's default initialisation from ``key`` (default ``jax.random.key(0)``)."""
        hidden = tuple(V.check_size("hidden", h, 1) for h in hidden)
        if not 1 <= len(hidden) <= 4:
            raise ValueError(f"hidden must list 1 to 4 hidden-layer widths, got {hidden!r}.")
        key = jax.random.key(0) if key is None else key
        graphdef, state = nnx.split(_MLP(d, kappa, hidden, nnx.Rngs(params=key)))
        return cls(state, graphdef)

    def __call__(self, y):
        return nnx.merge(self.graphdef, self.state)(y)

    def zero_heads(self) -> MLPEncoder:
        """The same hidden layers with both heads' kernels and biases 0: q(z|x) = N(0, I) for every x."""
        model = nnx.merge(self.graphdef, self.state)
        for head in (model.mu, model.log_sigma):
            head.kernel[...] = jnp.zeros_like(head.kernel[...])
            head.bias[...] = jnp.zeros_like(head.bias[...])
        return MLPEncoder(nnx.split(model)[1], self.graphdef)


class AmortisedParams(NamedTuple):
    """θ = (W, b, log γ) of eq. (5)'s decoder and an encoder (`AffineEncoder` or `MLPEncoder`)."""

    W: Any
    b: Any
    log_gamma: Any
    encoder: Any


def encode(encoder, X):
    """(μ, log σ), each (n, κ), of the encoder at the rows of X (centred at the mean of X)."""
    Y = X - jnp.mean(X, axis=0)
    if isinstance(encoder, AffineEncoder):
        mu = Y @ encoder.A.T + encoder.c
        return mu, jnp.broadcast_to(encoder.log_sigma, mu.shape)
    if isinstance(encoder, MLPEncoder):
        return encoder(Y)
    raise ValueError(f"encoder must be an AffineEncoder or an MLPEncoder, got {type(encoder).__name__}.")


def to_vae_params(params: AmortisedParams, X) -> VAEParams:
    """The free-moment `VAEParams` the amortised model stands for at data X: (W, b, log γ, e(X))."""
    mu, log_sigma = encode(params.encoder, X)
    return VAEParams(params.W, params.b, params.log_gamma, mu, log_sigma)


def amortised_energy(params: AmortisedParams, X, alpha, gamma=None):
    """Eq. (5) with amortised moments, as an objective ``f(params, X, alpha, gamma)`` (γ None: learned)."""
    return energy_objective(to_vae_params(params, X), X, alpha, gamma)


def amortised_collapsed_point(X, kappa: int, encoder: str = "affine", *, hidden=(16,), seed: int = 0):
    """W = 0, b = x̄, γ = γ̄ and the encoder's output layer 0 (the MLP's hidden layers from ``seed``)."""
    data = as_data(X)
    n, d = data.shape
    kappa = V.check_kappa(kappa)
    p = collapsed_point(data, kappa)
    if encoder == "affine":
        enc = AffineEncoder(jnp.zeros((kappa, d)), jnp.zeros(kappa), jnp.zeros(kappa))
    elif encoder == "mlp":
        enc = MLPEncoder.create(d, kappa, hidden, key=jax.random.key(V.check_seed("seed", seed))).zero_heads()
    else:
        raise ValueError(f"encoder must be 'affine' or 'mlp', got {encoder!r}.")
    return AmortisedParams(jnp.asarray(p.W), jnp.asarray(p.b), jnp.asarray(p.log_gamma), enc)


def affine_collapsed_inertia(X, kappa: int, *, rtol: float = 1e-10) -> tuple[int, int, int]:
    """The predicted inertia (n₋, n₀, n₊) of the affine model's Hessian at its collapsed point, α = 0.

    n₋ = κ · #{λ_l > γ̄}, n₀ = κ · #{λ_l ≤ rtol · λ_1} (A on the null space of S), out of
    P = 2dκ + d + 1 + 2κ parameters (module docstring).
    """
    data = as_data(X)
    _, d = data.shape
    kappa = V.check_kappa(kappa)
    lam, gbar = np.asarray(data.eigenvalues, float), float(data.gamma_bar)
    zero = lam <= rtol * lam.max()
    neg = (lam > gbar) & ~zero
    P = 2 * d * kappa + d + 1 + 2 * kappa
    return kappa * int(neg.sum()), kappa * int(zero.sum()), P - kappa * int(neg.sum() + zero.sum())


def affine_to_linear_vae(params: AmortisedParams, X) -> tuple[LinearVAEParams, Any]:
    """Lucas et al.'s linear-VAE parameters with the same energy at α = 0, and σ² = γ.

    Exact when c = A (x̄ − b) (the linear VAE centres its encoder at the decoder mean μ = b):
    (W, μ = b, V = A, log D = 2 s), σ² = γ. Raises if c is not A (x̄ − b).
    """
    enc = params.encoder
    if not isinstance(enc, AffineEncoder):
        raise ValueError("affine_to_linear_vae needs an AffineEncoder.")
    xbar = jnp.mean(jnp.asarray(X), axis=0)
    if not np.allclose(np.asarray(enc.c), np.asarray(enc.A @ (xbar - params.b)), rtol=1e-12, atol=1e-12):
        raise ValueError("c must equal A (x̄ − b) for the linear VAE to be the same model; set it so.")
    lv = LinearVAEParams(W=params.W, mu=params.b, V=enc.A, log_D=2.0 * enc.log_sigma)
    return lv, jnp.exp(params.log_gamma)


def encoder_mask(params: AmortisedParams | VAEParams) -> tuple[bool, ...]:
    """One bool per leaf (``jax.tree.leaves`` order), True for the encoder's (the engine's ``inner``)."""
    if isinstance(params, VAEParams):
        return (False, False, False, True, True)
    if isinstance(params, AmortisedParams):
        return (False, False, False) + (True,) * len(jax.tree.leaves(params.encoder))
    raise ValueError(f"params must be VAEParams or AmortisedParams, got {type(params).__name__}.")
