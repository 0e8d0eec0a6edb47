"""Train eq. (5) with a remedy from many starts, and where it ends: collapsed, partial or reconstructing (issue 21).

`train_remedy` runs R restarts of one `Remedy` through the one multi-start engine
(`landscape.tools.engine.run`, ``schedule=True``: the objective depends on the step), with free
moments or an amortised encoder (`landscape.models.amortised`), on the data's standardised units as
`landscape.search` does, and from the same starting points: restart r draws its decoder (and, with
free moments, its encoder) from `init_params` exactly as `search` does; an amortised encoder is drawn
from its own stream of the same (seed, r).

**Training as practitioners run it.** By default there is no polish (``polish="none"``): the endpoint
is where the descent's ``steps`` steps leave it. What is classified is that state.

**Which latent dimensions are used.** Dimension k is *used* when it passes both tests:

- it carries information: Lucas et al.'s (ε, δ)-collapse says it is active (KL_ik ≥ ε for more than
  a δ fraction of the points, `landscape.basins.active_dims`);
- the decoder reads it: zeroing column k of W raises the expected reconstruction error
  (1/nd) Σ_i E_q‖x_i − μ_x(z)‖² by at least ``eps_decoder`` · γ̄.

The second test matters under free bits, where an encoder may keep λ nats per point in a dimension
the decoder ignores; for eq. (5) an active dimension is always read. Categories: **failed** (non-finite),
**collapsed** (no used dimension: q(z|x) is ignored), **partial** (0 < used < κ), **reconstructing**
(every dimension used). Fractions have Wilson intervals (`landscape.basins.wilson_interval`).

`certify_remedy_collapsed` certifies the collapsed point on the objective the remedy ends at (eq. (5), or
eq. (5) with β or free bits: the one actually optimised), with `landscape.tools.certify.certify`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

from landscape.analysis.basins import active_dims, wilson_interval
from landscape.analysis.remedies import PLAIN, Remedy, amortised_remedy_energy, kl_per_dimension, remedy_energy
from landscape.analysis.search import init_params
from landscape.common import checks as V
from landscape.common.results import Result
from landscape.core.data import as_data
from landscape.core.energy import energy_objective, expected_sq_error_unchecked
from landscape.core.params import VAEParams
from landscape.models.amortised import (
    ENCODERS,
    AffineEncoder,
    AmortisedParams,
    MLPEncoder,
    amortised_collapsed_point,
    encoder_mask,
    to_vae_params,
)
from landscape.tools import engine
from landscape.tools.certify import StationaryCertificate, certify

__all__ = ["RUN_CATEGORIES", "RemedyRun", "train_remedy", "certify_remedy_collapsed", "remedy_starts"]

RUN_CATEGORIES = ("collapsed", "partial", "reconstructing", "failed")
_FINAL = 2**31 - 1  # a step past every schedule: the remedy's final objective


def _to_free(p, X):
    return p if isinstance(p, VAEParams) else to_vae_params(p, X)


def _diagnostics(p, step, X, alpha, gamma, r):
    """Per endpoint (standardised units): eq. (5), the reconstruction error, KL_k and the W-column ablation."""
    n, d = X.shape
    q = _to_free(p, X)
    recon = expected_sq_error_unchecked(q, X, alpha)
    kappa = q.W.shape[-1]
    keep = 1.0 - jnp.eye(kappa)
    ablated = jax.vmap(lambda m: expected_sq_error_unchecked(q._replace(W=q.W * m), X, alpha))(keep)
    return {"energy": energy_objective(q, X, alpha, None if gamma is None else gamma),
            "recon_error": recon / (n * d), "kl": kl_per_dimension(q.mu, q.log_sigma),
            "ablation": (ablated - recon) / (n * d), "mu": q.mu, "log_sigma": q.log_sigma}  # fmt: skip


def remedy_starts(data, kappa, encoder, seed, init, hidden=(16,)):
    """``starts(indices)`` in standardised units: `init_params`' draws, and an amortised encoder's own."""
    n, d = data.shape
    units = data.units

    def starts(indices):
        free = units.to_standard_params(init_params(data, kappa, indices, seed, init))
        if encoder == "free":
            return free
        keys = jax.vmap(lambda r: jax.random.fold_in(jax.random.fold_in(jax.random.key(seed), r), 1))(
            jnp.asarray(indices))  # fmt: skip
        if encoder == "affine":
            def one(k):
                k1, k2 = jax.random.split(k)
                mu = init.mu / np.sqrt(d) * jax.random.normal(k1, (kappa, d))
                log_sigma = init.log_sigma_mean + init.log_sigma * jax.random.normal(k2, (kappa,))
                return AffineEncoder(mu, jnp.zeros(kappa), log_sigma)
        else:
            def one(k):
                return MLPEncoder.create(d, kappa, hidden, key=k)
        enc = jax.vmap(one)(keys)
        return AmortisedParams(free.W, free.b, free.log_gamma, enc)

    return starts


@dataclass(frozen=True)
class RemedyRun(Result):
    """R restarts of one remedy: per restart (restart order) and the fractions.

    Attributes:
      remedy, encoder, alpha, kappa: what was run (α in the data's units).
      energy: eq. (5) at each endpoint (user units; at the fixed γ when γ is fixed).
      objective: the remedy's final objective there (user units), grad_norm its ‖∇‖ (standardised units).
      gamma: the decoder variance; recon_error: (1/nd) Σ_i E_q‖x_i − μ_x(z)‖² (user units).
      kl: KL_k per latent dimension (nats, summed over the points), shape (R, κ).
      ablation: the rise of recon_error when column k of W is zeroed, in units of γ̄, shape (R, κ).
      used: used dimensions per restart (module docstring); category: one of `RUN_CATEGORIES`.
      status: the engine's end status; fractions, intervals: per category, with 95% Wilson intervals.
      params: the endpoints as free moments (`VAEParams`, user units; an encoder's outputs e(X)).
      config, seed, seconds, compile_seconds.
    """

    remedy: Remedy
    encoder: str
    alpha: float
    kappa: int
    energy: np.ndarray
    objective: np.ndarray
    grad_norm: np.ndarray
    gamma: np.ndarray
    recon_error: np.ndarray
    kl: np.ndarray
    ablation: np.ndarray
    used: np.ndarray
    category: np.ndarray
    status: np.ndarray
    fractions: dict
    intervals: dict
    config: dict
    seed: int
    seconds: float
    compile_seconds: float
    params: VAEParams = field(repr=False, default=None)

    _omit = ("params",)
    _arrays = ()

    @property
    def restarts(self) -> int:
        return int(self.energy.size)

    def count(self, category: str) -> int:
        return int(np.sum(self.category == category))


def _check(X, alpha, kappa, restarts, remedy, encoder, steps, seed, eps_decoder):
    data = as_data(X)
    alpha = V.check_alpha(alpha)
    kappa = V.check_kappa(kappa)
    restarts = V.check_size("restarts", restarts, 1)
    steps = V.check_size("steps", steps, 0)
    seed = V.check_seed("seed", seed)
    if not isinstance(remedy, Remedy):
        raise ValueError(f"remedy must be a landscape.Remedy, got {type(remedy).__name__}.")
    if encoder not in ENCODERS:
        raise ValueError(f"encoder must be one of {ENCODERS}, got {encoder!r}.")
    V.check_tolerance("eps_decoder", eps_decoder)
    return data, alpha, kappa, restarts, steps, seed


def train_remedy(
    X,
    alpha,
    *,
    kappa: int,
    restarts: int,
    remedy: Remedy = PLAIN,
    encoder: str = "free",
    hidden=(16,),
    steps: int = 2000,
    seed: int = 0,
    learning_rate: float = 1e-2,
    polish: str = "none",
    chunk_size: int = 1024,
    eps: float = 0.01,
    delta: float = 0.01,
    eps_decoder: float = 0.01,
    progress: bool | None = None,
) -> RemedyRun:
    """Train eq. (5) with ``remedy`` from ``restarts`` starts and classify the endpoints (module docstring).

    Args:
      X: data (n, d) or a `landscape.Data`. alpha: the soft threshold. kappa: the latent size.
      remedy: the `Remedy` (default `PLAIN`: Adam on eq. (5), γ learned).
      encoder: "free" (eq. (5)'s per-point moments), "affine" or "mlp" (`landscape.models.amortised`;
        ``hidden``, the MLP's hidden widths).
      steps, learning_rate: Adam's steps and rate; the warm-up, annealing and inner steps count in these.
      polish: the engine's float64 polish of the final objective ("none": classify the trained state).
      eps, delta: the (ε, δ)-collapse test; eps_decoder: the decoder test's threshold (in units of γ̄).
    """
    data, alpha, kappa, restarts, steps, seed = _check(X, alpha, kappa, restarts, remedy, encoder, steps, seed,
                                                       eps_decoder)  # fmt: skip
    n, d = data.shape
    units, std = data.units, data.standardised
    starts = remedy_starts(data, kappa, encoder, seed, remedy.init, hidden)
    probe = starts(np.zeros(1, np.int64))
    r = remedy.args(units.scale**2)
    g = None if remedy.gamma is None else jnp.asarray(units.to_standard_gamma(remedy.gamma), jnp.float64)
    f = remedy_energy if encoder == "free" else amortised_remedy_energy
    out = engine.run(
        f, starts, (jnp.asarray(std.X), jnp.asarray(units.to_standard_alpha(alpha), jnp.float64), g, r),
        restarts=restarts, diagnostics=_diagnostics, steps=steps, learning_rate=learning_rate, polish=polish,
        chunk_size=chunk_size, progress=progress, label=f"{remedy.name}/{encoder}", schedule=True,
        inner_steps=remedy.inner_steps, inner=encoder_mask(jax.tree.map(lambda a: a[0], probe)),
        inner_until=remedy.inner_until,
    )  # fmt: skip
    diag = {k: np.asarray(v) for k, v in out.diagnostics.items()}
    failed = np.asarray(out.failed)
    free = VAEParams(*(np.asarray(out.params[i]) for i in range(3)), diag["mu"], diag["log_sigma"])
    P = units.from_standard_params(free)
    if remedy.gamma is not None:
        P = P._replace(log_gamma=np.full(restarts, np.log(remedy.gamma)))
    active = active_dims(VAEParams(*(np.asarray(a) for a in P)), eps=eps, delta=delta)
    used = np.where(failed, 0, np.sum(active & (diag["ablation"] >= eps_decoder), axis=-1))
    category = np.where(failed, "failed", np.where(used == 0, "collapsed",
                        np.where(used < kappa, "partial", "reconstructing"))).astype(str)  # fmt: skip
    fractions = {c: float(np.mean(category == c)) for c in RUN_CATEGORIES}
    intervals = {c: wilson_interval(int(np.sum(category == c)), restarts) for c in RUN_CATEGORIES}
    nan = lambda a: np.where(failed, np.nan, a)  # noqa: E731
    config = {"alpha": float(alpha), "kappa": kappa, "n": n, "d": d, "restarts": restarts, "steps": steps,
              "seed": seed, "remedy": remedy.to_dict(), "encoder": encoder,
              "hidden": list(hidden) if encoder == "mlp" else None, "learning_rate": float(learning_rate),
              "polish": polish, "eps": eps, "delta": delta, "eps_decoder": eps_decoder, "chunk_size": out.chunk,
              "devices": jax.device_count()}  # fmt: skip
    return RemedyRun(
        remedy=remedy, encoder=encoder, alpha=float(alpha), kappa=kappa,
        energy=nan(units.from_standard_energy(diag["energy"])), objective=units.from_standard_energy(out.value),
        grad_norm=out.grad_norm, gamma=np.exp(np.asarray(P.log_gamma, float)),
        recon_error=nan(units.from_standard_gamma(diag["recon_error"])), kl=diag["kl"], ablation=diag["ablation"],
        used=used, category=category, status=np.asarray(out.status), fractions=fractions, intervals=intervals,
        config=config, seed=seed, seconds=out.seconds, compile_seconds=out.compile_seconds,
        params=VAEParams(*(np.asarray(a) for a in P)),
    )  # fmt: skip


def certify_remedy_collapsed(X, alpha, *, kappa: int, remedy: Remedy = PLAIN, encoder: str = "free", hidden=(16,),
                      seed: int = 0, **certify_kwargs) -> StationaryCertificate:  # fmt: skip
    """`landscape.tools.certify.certify` of the collapsed point on the remedy's final objective.

    The point (W = 0, b = x̄, γ = γ̄ or the fixed γ, q(z|x) = p(z); an amortised encoder's output layer 0)
    in the data's standardised units, so gradient norms and eigenvalues are in those units. The final
    objective is the one the schedules end at (β_t = β, γ_t = γ); aggressive inference does not change it.
    """
    data, alpha, kappa, *_ = _check(X, alpha, kappa, 1, remedy, encoder, 0, seed, 0.01)
    units, std = data.units, data.standardised
    if encoder == "free":
        from landscape.core.collapsed import collapsed_point

        point, f = collapsed_point(std, kappa), remedy_energy
    else:
        point, f = amortised_collapsed_point(std, kappa, encoder, hidden=hidden, seed=seed), amortised_remedy_energy
    g = None if remedy.gamma is None else jnp.asarray(units.to_standard_gamma(remedy.gamma), jnp.float64)
    args = (jnp.asarray(_FINAL), jnp.asarray(std.X), jnp.asarray(units.to_standard_alpha(alpha), jnp.float64), g,
            remedy.args(units.scale**2))  # fmt: skip
    return certify(f, point, args, **certify_kwargs)
