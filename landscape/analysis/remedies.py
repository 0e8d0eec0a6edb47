"""The usual cures of posterior collapse as objectives and schedules over eq. (5) (issue 21).

Eq. (5) is L = R/γ + nd log γ + K with R = Σ_i E_q‖x_i − π_α(Wz) − b‖² and
K = Σ_ik (μ_ik² + σ_ik² − log σ_ik²) = 2 Σ_k KL_k + nκ, KL_k = Σ_i KL(q(z_k|x_i) ‖ N(0, 1)) (MATH.md §1).
A `Remedy` changes it, at step t of the descent, to

    L_t = R/γ_t + nd log γ_t + β_t · 2 Σ_k max(λ n, KL_k) + nκ,

and each part reduces to eq. (5) exactly at its neutral setting:

- **KL weight** β_t (`kl_weight`): a constant β (β-VAE; neutral 1), times a warm-up that rises
  linearly from 0 over ``warmup`` steps (Bowman et al. 2016), or over the first ``ramp`` fraction of
  each of ``cycles`` cycles that fill the warm-up (Fu et al. 2019's cyclical schedule: ramp = 0.5).
  From step ``warmup`` on, β_t = β: after its last step a warm-up is eq. (5) (neutral: warmup 0).
- **Free bits** (Kingma et al. 2016), the variant per latent dimension over the data set: dimension
  k's KL counts only above λ n nats (λ nats per point, ``free_bits``), on eq. (5)'s scale
  2 max(λ n, KL_k). Below the threshold the KL term is constant, so its gradient in dimension k is 0.
  At λ = 0 the max is KL_k ≥ 0 itself (neutral).
- **γ** (`gamma_at`): learned (``gamma=None``, Dai et al. §5, Lucas et al. 2019), fixed, or annealed
  from ``gamma_start`` to ``gamma`` geometrically over ``anneal`` steps, then fixed.
- **Aggressive inference** (He et al. 2019): ``inner_steps`` K encoder steps before each decoder step
  for the first ``inner_until`` steps: an option of the engine's descent
  (`landscape.tools.descent.descend`), not of the objective. K = 0 (neutral) is plain Adam.
- **Initialisation** (``init``, a `landscape.InitScales`).

With γ fixed, β-VAE is eq. (5) at another γ: L_β(θ, φ; γ) = β L(θ, φ; βγ) + const, so its landscape
is eq. (5)'s at βγ (`tests/test_remedies.py` checks the identity).

The objectives take the remedy's numbers as an argument (`RemedyArgs`), so that one compiled
program serves every β, warm-up, threshold and annealing length.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from landscape.analysis.search import InitScales
from landscape.common import checks as V
from landscape.core.energy import expected_sq_error_unchecked
from landscape.core.params import VAEParams
from landscape.models.amortised import to_vae_params

__all__ = ["Remedy", "RemedyArgs", "kl_weight", "gamma_at", "kl_per_dimension", "remedy_energy",
           "amortised_remedy_energy", "PLAIN"]  # fmt: skip


@dataclass(frozen=True)
class Remedy:
    """One training recipe for eq. (5) (module docstring); validated when built.

    Attributes:
      name: a label for tables.
      beta: the KL weight after the warm-up, β > 0 (1: eq. (5)).
      warmup, cycles, ramp: the KL warm-up's length in steps (0: none), its number of cycles and the
        fraction of each cycle over which β rises (1 with one cycle: linear; Fu et al.: 4 and 0.5).
      free_bits: λ ≥ 0, nats per point and latent dimension below which KL_k is free.
      gamma: a fixed decoder variance γ > 0 in the data's units, or None to learn it.
      gamma_start, anneal: anneal γ geometrically from gamma_start to gamma over ``anneal`` steps.
      inner_steps, inner_until: aggressive inference (K encoder steps per decoder step, for the
        first ``inner_until`` steps; None: all).
      init: the starting distribution.
    """

    name: str = "plain"
    beta: float = 1.0
    warmup: int = 0
    cycles: int = 1
    ramp: float = 1.0
    free_bits: float = 0.0
    gamma: float | None = None
    gamma_start: float | None = None
    anneal: int = 0
    inner_steps: int = 0
    inner_until: int | None = None
    init: InitScales = field(default_factory=InitScales)

    def __post_init__(self):
        V.check_positive_scalar("beta", self.beta)
        V.check_size("warmup", self.warmup, 0)
        V.check_size("cycles", self.cycles, 1)
        if not (np.isfinite(self.ramp) and 0 < self.ramp <= 1):
            raise ValueError(f"ramp must be in (0, 1] (the rising fraction of a cycle), got {self.ramp!r}.")
        if not (np.isfinite(self.free_bits) and self.free_bits >= 0):
            raise ValueError(
                f"free_bits must be a finite λ >= 0 (nats per point and dimension), got {self.free_bits!r}."
            )
        if self.gamma is not None:
            V.check_gamma(self.gamma)
        V.check_size("anneal", self.anneal, 0)
        if (self.gamma_start is not None or self.anneal) and (self.gamma is None or self.gamma_start is None
                                                              or not self.anneal):  # fmt: skip
            raise ValueError("annealing γ needs gamma (its end), gamma_start (its start) and anneal > 0 steps.")
        if self.gamma_start is not None:
            V.check_gamma(self.gamma_start)
        V.check_size("inner_steps", self.inner_steps, 0)
        if self.inner_until is not None:
            V.check_size("inner_until", self.inner_until, 0)
        if not isinstance(self.init, InitScales):
            raise ValueError(f"init must be a landscape.InitScales, got {type(self.init).__name__}.")

    @property
    def neutral(self) -> bool:
        """Eq. (5) trained by plain Adam with γ learned (the initialisation aside)."""
        return (self.beta == 1 and self.warmup == 0 and self.free_bits == 0 and self.gamma is None
                and self.inner_steps == 0)  # fmt: skip

    def final_objective(self) -> str:
        """What the schedule ends at: "eq. (5)", or the objective that differs from it."""
        parts = ([f"β = {self.beta:g}"] if self.beta != 1 else []) + (
            [f"free bits λ = {self.free_bits:g}"] if self.free_bits else [])  # fmt: skip
        return "eq. (5)" if not parts else "eq. (5) with " + ", ".join(parts)

    def args(self, gamma_scale: float = 1.0) -> RemedyArgs:
        """The numbers the objectives read (`RemedyArgs`), γ divided by ``gamma_scale`` (standardised units)."""
        period = self.warmup / self.cycles if self.warmup else 1.0
        lg = 0.0 if self.gamma is None else np.log(self.gamma / gamma_scale)
        lg0 = lg if self.gamma_start is None else np.log(self.gamma_start / gamma_scale)
        f = lambda x: jnp.asarray(x, jnp.float64)  # noqa: E731
        return RemedyArgs(f(self.beta), f(self.warmup), f(period), f(self.ramp), f(self.free_bits), f(lg0),
                          f(self.anneal))  # fmt: skip

    def to_dict(self) -> dict:
        return {**asdict(self), "init": asdict(self.init)}


PLAIN = Remedy()


class RemedyArgs(NamedTuple):
    """A remedy's numbers as float64 arrays: β, warm-up length, cycle period, ramp fraction, λ, log γ_start
    (standardised units) and the annealing length."""

    beta: jax.Array
    warmup: jax.Array
    period: jax.Array
    ramp: jax.Array
    free_bits: jax.Array
    log_gamma_start: jax.Array
    anneal: jax.Array


def kl_weight(step, r: RemedyArgs):
    """β_t: β · min(1, (t mod P)/(ramp · P)) during the warm-up (t < warmup, P its cycle), β after it."""
    t = jnp.asarray(step, jnp.float64)
    rising = jnp.minimum(1.0, jnp.mod(t, r.period) / (r.ramp * r.period))
    return r.beta * jnp.where(t < r.warmup, rising, 1.0)


def gamma_at(step, log_gamma, r: RemedyArgs):
    """log γ_t: log γ_start + (log γ − log γ_start) · min(1, t/anneal) (log γ itself once annealed or if anneal = 0)."""
    t = jnp.asarray(step, jnp.float64)
    frac = jnp.where(r.anneal > 0, jnp.minimum(1.0, t / jnp.maximum(r.anneal, 1.0)), 1.0)
    return jnp.where(frac >= 1.0, log_gamma, r.log_gamma_start + (log_gamma - r.log_gamma_start) * frac)


def kl_per_dimension(mu, log_sigma):
    """KL_k = Σ_i ½(μ_ik² + σ_ik² − 2 log σ_ik − 1), shape (κ,) (jittable)."""
    return 0.5 * jnp.sum(mu**2 + jnp.exp(2.0 * log_sigma) - 2.0 * log_sigma - 1.0, axis=0)


def remedy_energy(params: VAEParams, step, X, alpha, gamma, r: RemedyArgs):
    """L_t of the module docstring, ``f(params, step, X, alpha, gamma, r)`` for `landscape.tools.engine.run`
    with ``schedule=True``; ``gamma`` None learns γ, else it is the fixed (or annealing's final) γ."""
    n, d = X.shape
    kappa = params.mu.shape[-1]
    log_g = params.log_gamma if gamma is None else gamma_at(step, jnp.log(gamma), r)
    kl = kl_per_dimension(params.mu, params.log_sigma)
    thr = r.free_bits * n
    kl = jnp.where(kl >= thr, kl, thr)  # at λ = 0 this is KL_k itself, value and derivatives
    recon = expected_sq_error_unchecked(params, X, alpha)
    return recon * jnp.exp(-log_g) + n * d * log_g + kl_weight(step, r) * 2.0 * jnp.sum(kl) + n * kappa


def amortised_remedy_energy(params, step, X, alpha, gamma, r: RemedyArgs):
    """`remedy_energy` of an amortised model (`landscape.models.amortised`): its moments are e(X)."""
    return remedy_energy(to_vae_params(params, X), step, X, alpha, gamma, r)
