"""γ sweeps: eq. (5) with the decoder variance held fixed (Proposition 2, MATH.md §6).

Proposition 2 says that the VAE acts as a thresholding operator: at a finite γ′ the
trivial solution (μ_x ≡ x̄, q = p(z)) becomes optimal, and at smaller γ″ latent
dimensions collapse one by one. `sweep_gamma` holds γ fixed on a grid and minimises
everything else:

- fresh multi-start at every γ, all (γ, restart) pairs in one vmapped computation;
- continuation in both directions, warm-started from the previous γ, increasing and
  then decreasing, which exposes hysteresis (a dimension that collapsed on the way up
  may stay collapsed on the way down).

At α = 0 the oracle is L*(γ) = n Σ_j [log c_j + λ_j/c_j] + nκ with c_j = max(λ_j, γ)
for j ≤ κ, else γ; the trivial energy is L_triv(γ) = n(d log γ + tr S/γ) + nκ.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from landscape import _validation as V
from landscape.basins import active_dims
from landscape.collapsed import data_covariance
from landscape.params import VAEParams
from landscape.search import InitScales, search

__all__ = ["GammaSweep", "sweep_gamma", "trivial_energy", "affine_optimum_energy"]


def trivial_energy(X, kappa: int, gamma) -> np.ndarray:
    """L_triv(γ) = n(d log γ + tr S / γ) + nκ: W = 0, b = x̄, q = p(z) at fixed γ (MATH.md §6)."""
    n, d = V.check_data(X)
    g = np.asarray(gamma, dtype=float)
    return n * (d * np.log(g) + np.trace(data_covariance(X)) / g) + n * kappa


def affine_optimum_energy(X, kappa: int, gamma) -> np.ndarray:
    """L*(γ), the global minimum of eq. (5) at α = 0 with γ fixed (MATH.md §6)."""
    n, d = V.check_data(X)
    lam = np.sort(np.linalg.eigvalsh(data_covariance(X)))[::-1]
    g = np.atleast_1d(np.asarray(gamma, dtype=float))[:, None]
    c = np.broadcast_to(g, (g.shape[0], d)).copy()
    c[:, :kappa] = np.maximum(lam[:kappa], g)
    out = n * np.sum(np.log(c) + lam / c, axis=1) + n * kappa
    return out if np.ndim(gamma) else out[0]


@dataclass(frozen=True)
class GammaSweep:
    """Per γ on the grid (arrays of the grid's length, γ ascending).

    Attributes:
      gammas: the grid.
      best_energy, best_active: the lowest energy over the fresh restarts at each γ, and
        the number of active dimensions of that minimum.
      trivial_energy: L_triv(γ); gap: Δ(γ) = L_triv − L_best (≤ 0 once the trivial
        solution is optimal).
      forward_energy, forward_active: continuation with γ increasing (warm starts).
      backward_energy, backward_active: continuation with γ then decreasing.
      config, seed: the settings.
    """

    gammas: np.ndarray
    best_energy: np.ndarray
    best_active: np.ndarray
    trivial_energy: np.ndarray
    gap: np.ndarray
    forward_energy: np.ndarray
    forward_active: np.ndarray
    backward_energy: np.ndarray
    backward_active: np.ndarray
    config: dict
    seed: int

    def to_dict(self) -> dict:
        keys = [
            "gamma",
            "best_energy",
            "best_active",
            "trivial_energy",
            "gap",
            "forward_energy",
            "forward_active",
            "backward_energy",
            "backward_active",
        ]
        cols = [
            self.gammas,
            self.best_energy,
            self.best_active,
            self.trivial_energy,
            self.gap,
            self.forward_energy,
            self.forward_active,
            self.backward_energy,
            self.backward_active,
        ]
        records = [dict(zip(keys, vals, strict=True)) for vals in zip(*(c.tolist() for c in cols), strict=True)]
        return {"config": self.config, "seed": self.seed, "sweep": records}


def _check_grid(gammas) -> np.ndarray:
    g = np.asarray(gammas, dtype=float)
    if g.ndim != 1 or g.size == 0:
        raise ValueError("gammas must be a non-empty 1-D grid of decoder variances.")
    if not np.all(np.isfinite(g) & (g > 0)):
        raise ValueError("gammas must all be finite and > 0 (decoder variances).")
    if np.any(np.diff(g) <= 0):
        raise ValueError("gammas must be strictly increasing; sort the grid (np.sort) and drop repeats.")
    return g


def sweep_gamma(
    X,
    alpha,
    *,
    kappa: int,
    gammas,
    restarts: int = 16,
    seed: int = 0,
    steps: int = 2000,
    continuation_steps: int = 500,
    init: InitScales | None = None,
    eps: float = 0.01,
    delta: float = 0.01,
    progress: bool | None = None,
) -> GammaSweep:
    """Minimise eq. (5) at each fixed γ of a grid, fresh and by continuation.

    Args:
      X, alpha, kappa: data, soft threshold, latent size.
      gammas: strictly increasing grid of γ > 0.
      restarts: fresh restarts per γ (all len(gammas) × restarts run as one search).
      seed: the fresh restarts' seed; restart r of every γ starts from the same point.
      steps: Adam steps of the fresh restarts; continuation_steps: per continuation step.
      init, eps, delta: as for `landscape.search` (init None: the default `InitScales`).
    """
    n, d = V.check_data(X)
    V.check_alpha(alpha)
    kappa = V.check_kappa(kappa)
    g = _check_grid(gammas)
    restarts = V.check_size("restarts", restarts, 1)
    G = g.size
    # fresh: every γ with the same R starting points, in one computation
    from landscape.search import init_params

    start = init_params(X, kappa, np.arange(restarts), seed, InitScales() if init is None else init)
    start = VAEParams(*(np.tile(np.asarray(a), (G,) + (1,) * (np.ndim(a) - 1)) for a in start))
    fresh = search(
        X,
        alpha,
        kappa=kappa,
        restarts=G * restarts,
        steps=steps,
        gamma=np.repeat(g, restarts),
        start=start,
        eps=eps,
        delta=delta,
        progress=progress,
    )
    E = np.where(fresh.status == "non_finite", np.inf, fresh.energy).reshape(G, restarts)
    act = fresh.active.reshape(G, restarts)
    best = np.argmin(E, axis=1)
    best_energy = E[np.arange(G), best]
    best_active = act[np.arange(G), best]
    triv = trivial_energy(X, kappa, g)

    # continuation: up from the best fresh minimum at the smallest γ, then back down
    def walk(order, p0):
        energies, actives = np.empty(G), np.empty(G, dtype=int)
        p = p0
        for i in order:
            r = search(
                X,
                alpha,
                kappa=kappa,
                restarts=1,
                steps=continuation_steps,
                gamma=float(g[i]),
                start=VAEParams(*(np.asarray(a)[None] for a in p)),
                eps=eps,
                delta=delta,
                progress=False,
            )
            p = r.restart(0)
            energies[i] = r.energy[0]
            actives[i] = int(active_dims(p, eps=eps, delta=delta).sum())
        return energies, actives, p

    p_best = fresh.restart(int(best[0]))
    fe, fa, p_top = walk(range(G), p_best)
    be, ba, _ = walk(range(G - 1, -1, -1), p_top)
    config = {
        "alpha": float(alpha),
        "kappa": kappa,
        "n": n,
        "d": d,
        "gammas": g.tolist(),
        "restarts": restarts,
        "steps": steps,
        "continuation_steps": continuation_steps,
        "seed": int(seed),
        "eps": eps,
        "delta": delta,
    }
    return GammaSweep(
        gammas=g,
        best_energy=best_energy,
        best_active=best_active,
        trivial_energy=triv,
        gap=triv - best_energy,
        forward_energy=fe,
        forward_active=fa,
        backward_energy=be,
        backward_active=ba,
        config=config,
        seed=int(seed),
    )
