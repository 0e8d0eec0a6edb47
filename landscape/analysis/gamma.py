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

from landscape.analysis.basins import active_dims
from landscape.analysis.gamma_branches import branch_candidates, locate_crossing, probe_minima
from landscape.analysis.search import InitScales, init_params, search
from landscape.common import checks as V
from landscape.common.status import NON_FINITE
from landscape.core.collapsed import trivial_energy
from landscape.core.data import as_data
from landscape.core.params import VAEParams
from landscape.models.ppca import ppca_mle

__all__ = [
    "GammaSweep",
    "GammaThresholds",
    "Threshold",
    "sweep_gamma",
    "gamma_thresholds",
    "trivial_energy",
    "affine_optimum_energy",
    "affine_optimum",
    "implicit_gamma",
    "prop2_literal",
    "LiteralProp2",
]


def affine_optimum_energy(X, kappa: int, gamma) -> np.ndarray:
    """L*(γ), the global minimum of eq. (5) at α = 0 with γ fixed (MATH.md §6)."""
    data = as_data(X)
    n, d = data.shape
    kappa = V.check_kappa(kappa)
    lam = data.eigenvalues
    g = np.atleast_1d(V.check_gammas(gamma))[:, None]
    c = np.broadcast_to(g, (g.shape[0], d)).copy()
    c[:, :kappa] = np.maximum(lam[:kappa], g)
    out = n * np.sum(np.log(c) + lam / c, axis=1) + n * kappa
    return out if np.ndim(gamma) else out[0]


def affine_optimum(X, kappa: int, gamma=None) -> VAEParams:
    """The global minimiser of eq. (5) at α = 0: pPCA with the exact posterior (MATH.md §6).

    With S = U Λ Uᵀ (λ_1 ≥ … ≥ λ_d) and γ fixed (or, if ``gamma`` is None, learned:
    γ_ML = mean(λ_{κ+1..d}), which needs λ_κ > γ_ML), column k of W is
    u_k (λ_k − γ)^{1/2} when λ_k > γ and 0 otherwise (Tipping & Bishop 1999), b = x̄,
    and the encoder is the exact posterior: σ_ik² = γ/λ_k and μ_i = diag(1/λ_k) Wᵀ(x_i − x̄)
    for an active column, μ_ik = 0 and σ_ik = 1 for a collapsed one. Its energy is
    `affine_optimum_energy` (fixed γ) or L_min of MATH.md §6 (learned γ), and its
    gradient is 0: a nontrivial stationary point of any size, in closed form.
    """
    data = as_data(X)
    n, d = data.shape
    kappa = V.check_kappa(kappa, d)
    lam = data.eigenvalues
    if gamma is None:
        if kappa >= d:
            raise ValueError(f"kappa = {kappa} must be < d = {d} for a learned gamma (gamma_ML needs d - kappa > 0).")
        g = float(np.mean(lam[kappa:]))
        if not lam[kappa - 1] > g:
            raise ValueError("lambda_kappa <= gamma_ML: the learned-gamma optimum is not unique; pass gamma.")
    else:
        gamma = V.check_gamma(gamma)
        g = float(gamma)
    active = lam[:kappa] > g
    W = ppca_mle(data, kappa, g).W  # Tipping & Bishop at σ² = γ: column k = u_k (λ_k − γ)^{1/2}, or 0
    mu = np.where(active, (data.Y @ W) / np.where(active, lam[:kappa], 1.0), 0.0)
    log_sigma = np.where(active, 0.5 * np.log(g / np.where(active, lam[:kappa], 1.0)), 0.0)
    return VAEParams(
        W=W,
        b=data.x_mean.copy(),
        log_gamma=np.asarray(np.log(g)),
        mu=mu,
        log_sigma=np.broadcast_to(log_sigma, (n, kappa)).copy(),
    )


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
    if not V.is_real_dtype(np.asarray(gammas).dtype):
        raise ValueError(f"gammas must hold real numbers (decoder variances), got dtype {np.asarray(gammas).dtype}.")
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
    X = as_data(X)  # validated once; every search below reuses it
    n, d = X.shape
    alpha = V.check_alpha(alpha)
    kappa = V.check_kappa(kappa)
    g = _check_grid(gammas)
    restarts, seed = V.check_size("restarts", restarts, 1), V.check_seed("seed", seed)
    steps = V.check_size("steps", steps, 0)
    continuation_steps = V.check_size("continuation_steps", continuation_steps, 0)
    G = g.size
    # fresh: every γ with the same R starting points, in one computation
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
    E = np.where(fresh.status == NON_FINITE, np.inf, fresh.energy).reshape(G, restarts)
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


@dataclass(frozen=True)
class Threshold:
    """One threshold γ with its final bracket and the evidence on either side.

    ``k``: the active count drops from k to k − 1 at ``gamma``. ``lo``, ``hi``: the final
    bracket (hi / lo − 1 ≤ rtol). ``energy_lo``, ``energy_hi``, ``kl_lo``, ``kl_hi``: the
    best energy and the per-dimension summed KL (descending) at the two ends (for a
    first-order one: branch A's at lo, branch B's at hi). ``kind``: "continuous"
    (bisected on the active count) or "first_order" (two coexisting branches, bisected on
    their energy difference, `landscape.analysis.gamma_branches`); then ``energy_a``,
    ``energy_b`` are the two branches' energies at ``gamma`` (A: ≥ k active, B: fewer) and
    ``gap_slope`` is d(E_A − E_B)/dγ there (> 0).
    """

    k: int
    gamma: float
    lo: float
    hi: float
    energy_lo: float
    energy_hi: float
    kl_lo: tuple
    kl_hi: tuple
    evaluations: int
    kind: str = "continuous"
    energy_a: float | None = None
    energy_b: float | None = None
    gap_slope: float | None = None

    def to_dict(self) -> dict:
        out = {
            "k": self.k,
            "gamma": self.gamma,
            "kind": self.kind,
            "bracket": [self.lo, self.hi],
            "energy": [self.energy_lo, self.energy_hi],
            "kl_sums": [list(self.kl_lo), list(self.kl_hi)],
            "evaluations": self.evaluations,
        }
        if self.kind == "first_order":
            out["branch_energies"] = [self.energy_a, self.energy_b]
            out["gap_slope"] = self.gap_slope
        return out


@dataclass(frozen=True)
class GammaThresholds:
    """γ″_κ ≤ … ≤ γ″_1 (``partial``, ascending) and γ′ (``full``), each a `Threshold`.

    γ″_k is where the best minimum's active count drops from k to k − 1; γ′ is where the
    trivial solution becomes optimal, i.e. the drop from 1 to 0 (so γ′ = γ″_1). At α = 0
    the oracle is γ″_j = λ_j(S) and γ′ = λ_1 (MATH.md §6).
    """

    partial: tuple
    full: Threshold | None
    sweep: GammaSweep
    config: dict

    def to_dict(self) -> dict:
        return {
            "partial": [t.gamma for t in self.partial],
            "full": None if self.full is None else self.full.gamma,
            "details": [t.to_dict() for t in self.partial],
            "config": self.config,
        }


def gamma_thresholds(
    X,
    alpha,
    *,
    kappa: int,
    gammas=None,
    restarts: int = 4,
    seed: int = 0,
    steps: int = 1500,
    rtol: float = 1e-6,
    kl_tol: float | None = None,
    probe_restarts: int | None = None,
    progress: bool = False,
) -> GammaThresholds:
    """Locate the partial-collapse thresholds γ″_j and the full-collapse threshold γ′.

    Each is bracketed on a sweep (`sweep_gamma` over ``gammas``, by default 25 points
    log-spaced from tr S/(20 d) to 3 λ_1), then refined by bisection in log γ to
    ``rtol`` relative. Every evaluation is a fresh multi-start at that γ, polished to
    ‖∇L‖ ≤ 1e-12 · max(1, |L|). The active count there uses a sharp order parameter,
    the summed KL of each latent dimension, Σ_i KL_ik > kl_tol (default 1e-9 n): near a
    continuous (α = 0) threshold it vanishes like n(λ_j − γ)/(2λ_j), which the
    (ε, δ)-collapse count cannot resolve within about 1%.

    Probes near a bracket use ``probe_restarts`` fresh restarts (default: ``restarts`` at
    α = 0, where fixed-γ eq. (5) is pPCA with no spurious minima, MATH.md §6; else
    max(16, 4 restarts)). Where the best ≥ k-active minimum at lo and the best < k-active
    one at hi both survive continuation across the bracket and their energies cross, the
    threshold is first order. The bracket is first bisected on the best minimum's active
    count; then, if the best ≥ k-active minimum at lo and the best < k-active one at hi
    both survive continuation across it (the first keeping its k-th KL), the crossing of
    their energies is bisected instead, the bracket moving past it where it lies outside
    (`landscape.analysis.gamma_branches.locate_crossing`). `Threshold.kind` says which.
    """

    X = as_data(X)  # validated once; the sweep and every probe reuse it
    n, d = X.shape
    alpha = V.check_alpha(alpha)
    kappa = V.check_kappa(kappa)
    restarts, seed = V.check_size("restarts", restarts, 1), V.check_seed("seed", seed)
    steps, rtol = V.check_size("steps", steps, 0), V.check_tolerance("rtol", rtol, below=1)
    kl_tol = 1e-9 * n if kl_tol is None else V.check_tolerance("kl_tol", kl_tol)
    if gammas is None:
        lam = X.eigenvalues  # descending
        gammas = np.geomspace(np.sum(lam) / (20 * d), 3 * lam[0], 25)
    g = _check_grid(gammas)
    sweep = sweep_gamma(X, alpha, kappa=kappa, gammas=g, restarts=restarts, seed=seed, steps=steps, progress=progress)
    probe_restarts = (restarts if alpha == 0 else max(16, 4 * restarts)) if probe_restarts is None else (
        V.check_size("probe_restarts", probe_restarts, 1))  # fmt: skip
    count = [0]

    def probe(gamma):
        count[0] += 1
        ms = probe_minima(X, alpha, kappa, gamma, restarts=probe_restarts, steps=steps, seed=seed)
        best = min(ms, key=lambda m: m.energy)  # the lowest endpoint (polished, finite)
        return best.active(kl_tol), best.energy, best.kl, ms

    found = []
    for k in range(kappa, 0, -1):
        below = np.nonzero(sweep.best_active < k)[0]
        if below.size == 0 or below[0] == 0:
            continue  # never (or always) fewer than k active on this grid
        i = int(below[0])
        lo, hi = float(g[i - 1]), float(g[i])
        a_lo, e_lo, kl_lo, m_lo = probe(lo)
        a_hi, e_hi, kl_hi, m_hi = probe(hi)
        # widen by a grid cell where the sharp count disagrees with the sweep's (ε, δ) count
        while a_lo < k and i - 1 > 0:
            i -= 1
            lo = float(g[i - 1])
            a_lo, e_lo, kl_lo, m_lo = probe(lo)
        while a_hi >= k and i + 1 < g.size:
            i += 1
            hi = float(g[i])
            a_hi, e_hi, kl_hi, m_hi = probe(hi)
        if a_lo < k or a_hi >= k:
            continue
        while hi / lo - 1 > rtol:
            mid = float(np.sqrt(lo * hi))
            a, e, kl, ms = probe(mid)
            if a >= k:
                lo, e_lo, kl_lo, m_lo = mid, e, kl, ms
            else:
                hi, e_hi, kl_hi, m_hi = mid, e, kl, ms
        cand = branch_candidates(m_lo, m_hi, k, kl_tol)
        cr = None if cand is None else locate_crossing(X, alpha, kappa, k, lo, hi, *cand, kl_tol=kl_tol, rtol=rtol)[0]
        if cr is None:  # continuous: the count bisection stands
            found.append(Threshold(k, float(np.sqrt(lo * hi)), lo, hi, e_lo, e_hi, kl_lo, kl_hi, count[0]))
            continue
        count[0] += cr.evaluations
        ends = (cr.a_lo.energy, cr.b_hi.energy, cr.a_lo.kl, cr.b_hi.kl, count[0])
        branches = ("first_order", cr.energy_a, cr.energy_b, cr.gap_slope)
        found.append(Threshold(k, cr.gamma, cr.lo, cr.hi, *ends, *branches))
    partial = tuple(sorted(found, key=lambda t: t.gamma))
    full = next((t for t in found if t.k == 1), None)
    config = {
        "alpha": float(alpha),
        "kappa": kappa,
        "gammas": g.tolist(),
        "restarts": restarts,
        "steps": steps,
        "seed": int(seed),
        "rtol": rtol,
        "kl_tol": kl_tol,
        "probe_restarts": probe_restarts,
    }
    return GammaThresholds(partial=partial, full=full, sweep=sweep, config=config)


def implicit_gamma(params: VAEParams, X, alpha) -> float:
    """γ* of eq. (9): (1/nd) Σ_i E_q‖x_i − μ_x(z)‖², the optimal γ for the other parameters."""
    from landscape.core.energy import expected_sq_error

    n, d = V.check_data(X)
    return float(expected_sq_error(params, X, alpha)) / (n * d)


@dataclass(frozen=True)
class LiteralProp2:
    """Proposition 2 with the decoder θ̃ = (W, b) held fixed and φ re-minimised at each γ.

    Attributes:
      gammas: the grid; energy: min over φ of L(θ̃, φ; γ); trivial_energy: L_triv(γ).
      gamma_prime: γ′(θ̃), beyond which the trivial solution costs less (bisected to
        1e-6 relative; None if no crossing on the grid).
      delta: Δ = Σ_i f_i(0, 1, θ̃) − n d γ̄, the excess reconstruction error of θ̃ with
        q = p(z) over the trivial decoder (Δ > 0 is the proof's hypothesis).
      decoder: θ̃ as (W, b).
    """

    gammas: np.ndarray
    energy: np.ndarray
    trivial_energy: np.ndarray
    gamma_prime: float | None
    delta: float
    decoder: tuple
    config: dict

    def to_dict(self) -> dict:
        return {
            "gammas": self.gammas.tolist(),
            "energy": self.energy.tolist(),
            "trivial_energy": self.trivial_energy.tolist(),
            "gamma_prime": self.gamma_prime,
            "delta": self.delta,
            "decoder": {"W": np.asarray(self.decoder[0]).tolist(), "b": np.asarray(self.decoder[1]).tolist()},
            "config": self.config,
        }


def prop2_literal(X, alpha, *, kappa: int, gammas, decoder=None, restarts: int = 8, seed: int = 0) -> LiteralProp2:
    """Proposition 2 in its literal form: fix a non-degenerate decoder, sweep γ, re-minimise φ.

    Args:
      decoder: θ̃ = (W, b); by default the best decoder a learned-γ multi-start finds
        (non-degenerate: it has active latent dimensions).
      gammas: increasing grid of γ on which L(θ̃, φ*; γ) is compared with L_triv(γ).
    Each φ-minimisation is exact Newton from two starts (the prior, and the previous γ's
    optimum), keeping the lower.
    """
    import jax
    import jax.numpy as jnp
    from jax.flatten_util import ravel_pytree

    from landscape.core.energy import energy_objective, expected_sq_error
    from landscape.tools.newton import newton_minimize

    n, d = V.check_data(X)
    alpha = V.check_alpha(alpha)
    kappa = V.check_kappa(kappa)
    g = _check_grid(gammas)
    restarts, seed = V.check_size("restarts", restarts, 1), V.check_seed("seed", seed)
    if decoder is None:
        r = search(X, alpha, kappa=kappa, restarts=restarts, seed=seed, progress=False)
        best = r.restart(r.best)
        W, b = np.asarray(best.W), np.asarray(best.b)
    else:
        W, b = (np.asarray(a, dtype=float) for a in decoder)
        if W.shape != (d, kappa) or b.shape != (d,):
            raise ValueError(f"decoder must be (W, b) with shapes ({d}, {kappa}) and ({d},).")
    Xj = jnp.asarray(X, dtype=jnp.float64)
    prior = VAEParams(jnp.asarray(W), jnp.asarray(b), jnp.asarray(0.0), jnp.zeros((n, kappa)), jnp.zeros((n, kappa)))
    phi0, unravel = ravel_pytree((prior.mu, prior.log_sigma))

    @jax.jit
    def minimise(x0, gamma):
        def f(x):
            mu, ls = unravel(x)
            return energy_objective(prior._replace(mu=mu, log_sigma=ls), Xj, alpha, gamma)

        return newton_minimize(f, x0, gtol=1e-10, max_steps=300)

    def best_at(gamma, warm):
        a, b_ = minimise(phi0, gamma), minimise(warm, gamma)
        return b_ if float(b_.value) < float(a.value) else a

    energies, warm = np.empty(g.size), phi0
    for i, gm in enumerate(g):
        res = best_at(jnp.asarray(gm), warm)
        energies[i], warm = float(res.value), res.x
    triv = trivial_energy(X, kappa, g)
    diff = energies - triv  # < 0: θ̃ beats the trivial solution
    gamma_prime = None
    cross = np.nonzero((diff[:-1] < 0) & (diff[1:] >= 0))[0]
    if cross.size:
        lo, hi = float(g[cross[0]]), float(g[cross[0] + 1])
        while hi / lo - 1 > 1e-6:
            mid = float(np.sqrt(lo * hi))
            val = float(best_at(jnp.asarray(mid), warm).value) - float(trivial_energy(X, kappa, mid))
            lo, hi = (mid, hi) if val < 0 else (lo, mid)
        gamma_prime = float(np.sqrt(lo * hi))
    f_prior = float(expected_sq_error(prior, X, alpha))
    gbar = float(np.mean((np.asarray(X) - np.asarray(X).mean(0)) ** 2))
    config = {"alpha": float(alpha), "kappa": kappa, "gammas": g.tolist(), "restarts": restarts, "seed": int(seed)}
    return LiteralProp2(g, energies, triv, gamma_prime, f_prior - n * d * gbar, (W, b), config)
