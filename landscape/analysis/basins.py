"""Where restarts end: active dimensions, categories, distinct minima, basin fractions.

Collapse is a set, not a point (MATH.md §4): at α > 0, endpoints in the collapsed
basin have W small but not zero. So endpoints are classified by the information that
passes through the latent, measured by the per-dimension KL

    KL_ik = ½ (μ_ik² + σ_ik² − log σ_ik² − 1),

with Lucas et al.'s (ε, δ)-collapse: dimension k is collapsed if KL_ik < ε for at least a
1 − δ fraction of the points (defaults ε = δ = 0.01).

Categories (in this order of precedence):
  failed          the restart went non-finite;
  reconstructing  not stationary (‖∇L‖ > gtol after polishing), γ ≤ gamma_ratio · γ̄ and
                  below the collapsed energy: γ is being driven towards 0 along a
                  perfect-reconstruction path, where eq. (5) is unbounded below (MATH.md §5),
                  so the endpoint is not a minimum. A *converged* endpoint at small γ is a
                  genuine (if degenerate) minimum and is classified and clustered as one.
                  With γ held fixed the energy is bounded and nothing is reconstructing;
  collapsed       no active dimension: q(z|x) ≈ p(z) for every point;
  partial         some active dimensions, but fewer than the best (lowest-energy) restart;
  other           everything else (as many active dimensions as the best restart).

Distinct minima: endpoints are put in a canonical form that removes the latent
symmetries (the sign and the order of latent dimensions; collapsed dimensions are
zeroed, since collapse is a set), then clustered by energy and decoder parameters.
A continuous symmetry is not removed: where λ_j(S) are equal (e.g. isotropic data at
α = 0) the optimum is a rotation-invariant set and its members are listed apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from landscape.common import checks as V
from landscape.common.results import Result
from landscape.common.status import CONVERGED, NON_FINITE
from landscape.core.params import VAEParams, vae_shapes
from landscape.core.units import Units

__all__ = [
    "CATEGORIES",
    "cluster_minima",
    "kl_per_dim",
    "active_dims",
    "categorize",
    "canonicalize",
    "inert_rows",
    "wilson_interval",
    "difference_interval",
    "Minimum",
    "BasinStats",
    "basin_stats",
]

CATEGORIES = ("collapsed", "partial", "reconstructing", "other", "failed")


def _real_array(name: str, a) -> np.ndarray:
    try:
        x = np.asarray(a)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be a real array: {err}") from None
    if not V.is_real_dtype(x.dtype):
        raise ValueError(f"{name} must hold real numbers, got dtype {x.dtype}.")
    return x


def kl_per_dim(mu, log_sigma) -> np.ndarray:
    """KL(q(z_k|x_i) ‖ N(0, 1)) = ½(μ² + σ² − log σ² − 1), elementwise (…, n, κ)."""
    mu, log_sigma = _real_array("mu", mu), _real_array("log_sigma", log_sigma)
    if mu.shape != log_sigma.shape or mu.ndim < 2 or mu.size == 0:
        raise ValueError(
            f"mu and log_sigma must be non-empty arrays of one shape (..., n, kappa), got {mu.shape} and "
            f"{log_sigma.shape}."
        )
    mu, log_sigma = mu.astype(float), log_sigma.astype(float)
    return 0.5 * (mu**2 + np.exp(2 * log_sigma) - 2 * log_sigma - 1.0)


def active_dims(params: VAEParams, *, eps: float = 0.01, delta: float = 0.01) -> np.ndarray:
    """Boolean (…, κ): dimension k is active unless KL_ik < ε for ≥ (1 − δ) of the points.

    A point whose μ or σ is NaN has no KL below ε, so its dimensions count as active; a failed
    (non-finite) restart is told apart by its status, never by this count (`categorize`).
    """
    V.check_tolerance("eps", eps)
    V.check_tolerance("delta", delta, allow_zero=True, below=1)
    if not isinstance(params, VAEParams):
        raise ValueError(f"params must be a landscape.VAEParams, got {type(params).__name__}.")
    for field, a in zip(params._fields, params, strict=True):
        _real_array(f"params.{field}", a)
    vae_shapes(params)
    kl = kl_per_dim(params.mu, params.log_sigma)
    collapsed_frac = np.mean(kl < eps, axis=-2)
    return ~(collapsed_frac >= 1.0 - delta)


def categorize(
    energy,
    gamma,
    active,
    failed,
    *,
    gamma_bar: float,
    collapsed_energy: float,
    gamma_ratio: float = 1e-6,
    converged=None,
    gamma_fixed: bool = False,
) -> np.ndarray:
    """The category of each endpoint (see the module docstring), as an array of str.

    ``converged`` (per endpoint, optional): stationary endpoints are never
    "reconstructing". ``gamma_fixed``: γ was held fixed, so nothing is reconstructing.
    """
    gamma_ratio = V.check_tolerance("gamma_ratio", gamma_ratio)
    energy, gamma, active, failed = _check_endpoints(energy, gamma, active, failed)
    V.check_positive_scalar("gamma_bar", gamma_bar)
    c = _real_array("collapsed_energy", collapsed_energy)
    if c.ndim != 0 or not np.isfinite(c):
        raise ValueError(f"collapsed_energy must be a finite number (L_c of MATH.md §3), got {collapsed_energy!r}.")
    ok = ~failed & np.isfinite(energy)
    moving = np.ones(energy.shape, bool) if converged is None else ~np.atleast_1d(np.asarray(converged, bool))
    recon = ok & moving & (gamma <= gamma_ratio * gamma_bar) & (energy < collapsed_energy) & (not gamma_fixed)
    best_active = int(active[np.argmin(np.where(ok, energy, np.inf))]) if np.any(ok) else 0
    cat = np.full(energy.shape, "other", dtype=object)
    cat[ok & (active < best_active)] = "partial"
    cat[ok & (active == 0)] = "collapsed"
    cat[recon] = "reconstructing"
    cat[~ok] = "failed"
    return cat.astype(str)


def _check_endpoints(energy, gamma, active, failed):
    """`categorize`'s per-endpoint inputs: 1-D (a scalar is one endpoint), one length, real energy and
    γ, integer counts active >= 0, a bool failed; returned as arrays."""
    energy, gamma, active = (np.atleast_1d(_real_array(k, a)) for k, a in
                             (("energy", energy), ("gamma", gamma), ("active", active)))  # fmt: skip
    failed = np.atleast_1d(np.asarray(failed))
    if failed.dtype != np.bool_:
        raise ValueError(f"failed must be a bool array (True where a restart failed), got dtype {failed.dtype}.")
    shapes = {k: a.shape for k, a in (("energy", energy), ("gamma", gamma), ("active", active), ("failed", failed))}
    if len(set(shapes.values())) != 1 or energy.ndim != 1 or energy.size == 0:
        raise ValueError(f"energy, gamma, active and failed must be non-empty 1-D arrays of one length, got {shapes}.")
    if np.any(~np.isfinite(active)) or np.any(active < 0) or np.any(active != np.round(active)):
        raise ValueError(f"active must hold counts of active dimensions (integers >= 0), got {active}.")
    live = ~failed & np.isfinite(energy)
    if np.any(live & ~(gamma > 0)) or np.any(live & ~np.isfinite(gamma)):
        raise ValueError(
            f"gamma must be finite and > 0 (a decoder variance) wherever the restart did not fail, got {gamma}."
        )
    return energy, gamma, active, failed


def canonicalize(params: VAEParams, active, *, alpha: float = 0.0, seed: int = 0) -> VAEParams:
    """Remove the latent symmetries of batched endpoints (leading axis = restart).

    For each restart: collapsed dimensions get W_{:,k} = 0, μ_{:,k} = 0, log σ_{:,k} = 0
    (collapse is a set; the point inside it is not meaningful). For α > 0 an output
    coordinate j whose pre-activations stay in the dead zone is inert: if
    max_i E π_α(u_ij)² ≤ 1e-10 γ, the row W_j moves the decoder's output by less than
    1e-5 of its noise scale √γ, so that row of W is a flat set too, and is zeroed.
    Then each active dimension's
    sign is chosen so that rᵀ W_{:,k} > 0 for a fixed random vector r (robust, unlike the
    sign of the largest entry when two entries are close); active dimensions are sorted
    by ‖W_{:,k}‖ in decreasing order and placed first.
    """
    alpha = V.check_alpha(alpha)
    seed = V.check_seed("seed", seed)
    if not isinstance(params, VAEParams):
        raise ValueError(f"params must be a landscape.VAEParams, got {type(params).__name__}.")
    for field, a in zip(params._fields, params, strict=True):
        _real_array(f"params.{field}", a)
    w_shape = np.shape(params.W)
    if len(vae_shapes(params)[0]) > 1:
        raise ValueError(f"params must be one endpoint or a batch (one leading axis); got W of shape {w_shape}.")
    act, want = np.asarray(active), w_shape[:-2] + w_shape[-1:]
    if act.dtype != np.bool_ or act.shape != want:
        raise ValueError(
            f"active must be a bool array of shape {want} (per restart and latent dimension, as active_dims "
            f"returns), got dtype {act.dtype} and shape {act.shape}."
        )
    W = np.array(params.W, dtype=float)
    mu = np.array(params.mu, dtype=float)
    ls = np.array(params.log_sigma, dtype=float)
    active = np.asarray(active, dtype=bool)
    if W.ndim == 2:
        return VAEParams(
            *(
                a[0]
                for a in canonicalize(
                    VAEParams(*(np.asarray(a)[None] for a in params)), active[None], alpha=alpha, seed=seed
                )
            )
        )
    R, d, k = W.shape
    r = np.random.default_rng(np.random.SeedSequence([seed, 31])).normal(size=d)
    if alpha > 0:
        W[inert_rows(params, alpha)] = 0.0
    W[~active[:, None, :].repeat(d, axis=1)] = 0.0
    inactive_n = ~active[:, None, :].repeat(mu.shape[1], axis=1)
    mu[inactive_n] = 0.0
    ls[inactive_n] = 0.0
    sign = np.where(np.einsum("d,rdk->rk", r, W) < 0, -1.0, 1.0)
    W *= sign[:, None, :]
    mu *= sign[:, None, :]
    norm = np.linalg.norm(W, axis=1)
    order = np.argsort(-np.where(active, norm, -1.0), axis=1, kind="stable")
    W = np.take_along_axis(W, order[:, None, :], axis=2)
    mu = np.take_along_axis(mu, order[:, None, :], axis=2)
    ls = np.take_along_axis(ls, order[:, None, :], axis=2)
    return VAEParams(W=W, b=np.asarray(params.b), log_gamma=np.asarray(params.log_gamma), mu=mu, log_sigma=ls)


def inert_rows(params: VAEParams, alpha: float) -> np.ndarray:
    """The output coordinates j whose pre-activations stay in the dead zone: max_i E π_α(u_ij)² ≤ 1e-10 γ.

    Such a row W_j moves the decoder's output by less than 1e-5 of its noise scale √γ: a flat set
    (MATH.md §2). One endpoint gives shape (d,), a batch (R, d); all False at α = 0.
    """
    W = np.asarray(params.W, dtype=float)
    if W.ndim == 2:
        return inert_rows(VAEParams(*(np.asarray(a)[None] for a in params)), alpha)[0]
    if not alpha > 0:
        return np.zeros(W.shape[:2], bool)
    from landscape.core.moments import soft_threshold_moments

    mu, ls = np.asarray(params.mu, dtype=float), np.asarray(params.log_sigma, dtype=float)
    m = np.einsum("rnk,rdk->rnd", mu, W)
    v = np.einsum("rnk,rdk->rnd", np.exp(2 * ls), W**2)
    mean, var = (np.asarray(a) for a in soft_threshold_moments(m, v, float(alpha)))
    gamma = np.exp(np.asarray(params.log_gamma, dtype=float)).reshape(W.shape[0], 1)
    return np.max(mean**2 + var, axis=1) <= 1e-10 * gamma  # (R, d)


def wilson_interval(k, n, z: float = 1.959963984540054) -> tuple[float, float]:
    """The Wilson score interval for a binomial proportion k / n (95% by default).

    k and n are counts (integers, 0 ≤ k ≤ n), z ≥ 0 the normal quantile; n = 0 gives (0, 1).
    """
    n = V.check_size("n", n, 0)
    k = V.check_size("k", k, 0)
    if k > n:
        raise ValueError(f"k must be <= n (k successes out of n trials), got k = {k}, n = {n}.")
    z = V.check_tolerance("z", z, allow_zero=True)
    if n <= 0:
        return (0.0, 1.0)
    p = k / n
    den = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return (float(max(0.0, centre - half)), float(min(1.0, centre + half)))


def difference_interval(k1, n1, k2, n2, z: float = 1.959963984540054) -> tuple[float, float]:
    """Newcombe's (1998, method 10) interval for p₁ − p₂ = k₁/n₁ − k₂/n₂, from the two Wilson intervals.

    With (l_i, u_i) the Wilson interval of p_i: (p₁ − p₂ − √((p₁ − l₁)² + (u₂ − p₂)²),
    p₁ − p₂ + √((u₁ − p₁)² + (p₂ − l₂)²)). It treats the samples as independent; for paired runs from the
    same starting points it is conservative when their outcomes are positively correlated.
    """
    (l1, u1), (l2, u2) = wilson_interval(k1, n1, z), wilson_interval(k2, n2, z)
    p1, p2 = k1 / max(n1, 1), k2 / max(n2, 1)
    d = p1 - p2
    return (float(d - np.hypot(p1 - l1, u2 - p2)), float(d + np.hypot(u1 - p1, p2 - l2)))


@dataclass(frozen=True)
class Minimum(Result):
    """One distinct endpoint cluster: its size, lowest energy, and representative."""

    index: int  # the representative restart (lowest energy in the cluster)
    count: int
    energy: float
    grad_norm: float
    category: str
    active: int
    gamma: float
    members: tuple[int, ...]

    _omit = ("members",)


@dataclass(frozen=True)
class BasinStats(Result):
    """Categories of every endpoint, basin fractions with 95% Wilson intervals, distinct minima.

    ``distinct_minima`` lists the clusters of the endpoints that are candidate minima
    (not failed, not reconstructing), lowest energy first. ``config`` holds the
    tolerances used.
    """

    categories: np.ndarray
    counts: dict
    fractions: dict
    intervals: dict
    distinct_minima: tuple[Minimum, ...]
    config: dict

    _keys = ("restarts", "counts", "fractions", "intervals", "distinct_minima", "config")
    _rename = MappingProxyType({"intervals": "wilson_95"})

    @property
    def restarts(self):
        """The number of restarts R."""
        return int(self.categories.size)


def cluster_minima(E, theta, etol, ptol):
    """Greedy clustering in order of energy: same energy (relative etol) and parameters (ptol)."""
    order = np.argsort(E, kind="stable")
    reps: list[int] = []
    members: dict[int, list[int]] = {}
    for i in order:
        for r in reps:
            same_e = abs(E[i] - E[r]) <= etol * (1.0 + abs(E[r]))
            same_p = np.linalg.norm(theta[i] - theta[r]) <= ptol * (1.0 + np.linalg.norm(theta[r]))
            if same_e and same_p:
                members[r].append(int(i))
                break
        else:
            reps.append(int(i))
            members[int(i)] = [int(i)]
    return reps, members


def basin_stats(
    result,
    *,
    eps: float | None = None,
    delta: float | None = None,
    gamma_ratio: float = 1e-6,
    energy_tol: float = 1e-6,
    param_tol: float = 1e-3,
) -> BasinStats:
    """Classify the endpoints of a `SearchResult` and cluster the distinct minima.

    Args:
      result: a `landscape.SearchResult`.
      eps, delta: (ε, δ)-collapse (default: those the search used).
      gamma_ratio: γ ≤ gamma_ratio · γ̄ below the collapsed energy counts as reconstructing.
      energy_tol, param_tol: two endpoints are one minimum if their energies agree to
        energy_tol (relative) and their canonical decoder parameters (W, b, log γ) to
        param_tol (relative), both in the data's standardised units (``result.units``).
    """
    if not all(hasattr(result, a) for a in ("config", "params", "status", "energy", "gamma_bar")):
        raise ValueError(f"result must be a landscape.SearchResult (of landscape.search), got {type(result).__name__}.")
    gamma_ratio = V.check_tolerance("gamma_ratio", gamma_ratio)
    energy_tol = V.check_tolerance("energy_tol", energy_tol, allow_zero=True)
    param_tol = V.check_tolerance("param_tol", param_tol, allow_zero=True)
    eps = result.config.get("eps", 0.01) if eps is None else eps
    delta = result.config.get("delta", 0.01) if delta is None else delta
    act = active_dims(result.params, eps=eps, delta=delta)
    n_active = act.sum(axis=-1)
    failed = result.status == NON_FINITE
    cat = categorize(
        result.energy,
        result.gamma,
        n_active,
        failed,
        gamma_bar=result.gamma_bar,
        collapsed_energy=result.collapsed_energy,
        gamma_ratio=gamma_ratio,
        converged=result.status == CONVERGED,
        gamma_fixed=result.config.get("gamma") is not None,
    )
    R = cat.size
    counts = {c: int(np.sum(cat == c)) for c in CATEGORIES}
    fractions = {c: counts[c] / R for c in CATEGORIES}
    intervals = {c: wilson_interval(counts[c], R) for c in CATEGORIES}

    cand = np.nonzero((cat != "failed") & (cat != "reconstructing"))[0]
    minima: list[Minimum] = []
    if cand.size:
        canon = canonicalize(
            VAEParams(*(np.asarray(a)[cand] for a in result.params)), act[cand], alpha=result.config["alpha"]
        )
        # Compared in the data's standardised units (landscape.core.units): b relative to
        # x̄, W and b over √γ̄, log γ − log γ̄, and the energy less 2nd log √γ̄, so that the
        # relative tolerances, and the minima found, do not depend on the units of X.
        units = getattr(result, "units", None)
        if units is None:  # a result object from before units (0.2): b relative to x̄ only
            units = Units(shift=np.asarray(result.x_mean), scale=1.0, n=1, d=0)
        std = units.to_standard_params(canon)
        theta = np.concatenate(
            [std.W.reshape(cand.size, -1), std.b.reshape(cand.size, -1), std.log_gamma.reshape(cand.size, 1)],
            axis=1,
        )
        energy_s = units.to_standard_energy(np.asarray(result.energy)[cand])
        reps, members = cluster_minima(energy_s, theta, energy_tol, param_tol)
        for r in reps:
            i = int(cand[r])
            mem = tuple(int(cand[m]) for m in members[r])
            minima.append(
                Minimum(
                    index=i,
                    count=len(mem),
                    energy=float(result.energy[i]),
                    grad_norm=float(result.grad_norm[i]),
                    category=str(cat[i]),
                    active=int(n_active[i]),
                    gamma=float(result.gamma[i]),
                    members=mem,
                )
            )
    config = {"eps": eps, "delta": delta, "gamma_ratio": gamma_ratio, "energy_tol": energy_tol, "param_tol": param_tol}
    return BasinStats(
        categories=cat,
        counts=counts,
        fractions=fractions,
        intervals=intervals,
        distinct_minima=tuple(minima),
        config=config,
    )
