"""Descent on eq. (5) and on the exact likelihood from the same starts, and where each ends (issue 9).

- `compare_basins`: the same initialisations (`landscape.search.init_params`) descended on
  eq. (5) (`landscape.search`) and on L_p(θ) = −2 Σ log p_θ(x_i) − nd log 2π + nκ
  (`likelihood_multistart`, in `landscape.analysis.likelihood_multistart`), both sets of end
  points classified with `landscape.basins.categorize`, the distinct minima of each, and at
  every distinct minimum the ELBO gap (φ optimal, `landscape.elbo_gap`) and whether an ELBO
  minimum sits near a likelihood minimum (`MinimumReport`, in
  `landscape.analysis.likelihood_minima`).
- `decoder_signal`: how much variance the decoder passes through z; the likelihood has no
  encoder, so its "collapsed" is a decoder property.

`likelihood_multistart`, `decoder_signal` and `MinimumReport` are importable from here.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from landscape.analysis.basins import CATEGORIES, basin_stats, categorize, cluster_minima, wilson_interval
from landscape.analysis.elbo_gap import check_problem, eq5_to_nats, phi_batch
from landscape.analysis.likelihood_minima import (
    MinimumReport,
    canonical_theta,
    decoder_signal,
    inert_rows,
    signal_active,
)
from landscape.analysis.likelihood_multistart import likelihood_multistart
from landscape.analysis.search import InitScales, search
from landscape.analysis.stationary import certify
from landscape.common import checks as V
from landscape.common.provenance import to_jsonable
from landscape.common.status import CONVERGED, NON_FINITE
from landscape.core.collapsed import collapsed_energy
from landscape.core.marginal import DecoderParams, log_marginal, log_marginal_points, marginal_energy_jit
from landscape.tools.multistart import MultiStartResult

__all__ = ["MinimumReport", "BasinComparison", "decoder_signal", "likelihood_multistart", "compare_basins"]

_DEFAULT_INIT = InitScales()
_LOG_2PI = math.log(2.0 * math.pi)
_EPS = float(np.finfo(np.float64).eps)


@partial(jax.jit, static_argnames=())
def _log_p_many(thetas, X, alpha):
    return jax.vmap(lambda th: jnp.sum(log_marginal_points(th, X, alpha)))(thetas)


def _log_p_batch(thetas, X, alpha):
    return np.asarray(_log_p_many(thetas, jnp.asarray(X, dtype=jnp.float64), jnp.asarray(alpha, jnp.float64)))


def _fractions(cat):
    cat = np.asarray(cat)
    R = cat.size
    counts = {c: int(np.sum(cat == c)) for c in CATEGORIES}
    return {
        "counts": counts,
        "fractions": {c: counts[c] / R for c in CATEGORIES},
        "wilson_95": {c: list(wilson_interval(counts[c], R)) for c in CATEGORIES},
    }


@dataclass(frozen=True)
class BasinComparison:
    """Where descent ends on eq. (5) and on L_p from the same starts (from `compare_basins`).

    Attributes:
      elbo: the `landscape.SearchResult`; elbo_stats: its `landscape.BasinStats`.
      likelihood: the `landscape.MultiStartResult` over θ (`likelihood_multistart`).
      initial_theta: the starting θ of every restart (batched `DecoderParams`), shared by both.
      likelihood_categories: per restart, `landscape.basins.categorize` on L_p with the active
        count by decoder signal (`decoder_signal`; "collapsed" = total ≤ signal_rtol·dγ̄) and
        "reconstructing" = not converged, γ ≤ 1e-6 γ̄ and L_p below L_p(θ_c).
      elbo_signal_categories: the ELBO's end points classified by the same decoder-signal rule,
        for a like-for-like comparison (the ELBO's own categories use the encoder's KL).
      likelihood_signal: per restart, the decoder signal total.
      fractions: {"elbo", "likelihood", "elbo_by_signal"} → counts, fractions, 95% Wilson intervals.
      likelihood_minima: distinct likelihood minima as `landscape.basins.Minimum`-like dicts.
      minima: a `MinimumReport` per distinct minimum of either objective.
      elbo_phi_gap: per ELBO restart, Σ ELBO at φ* minus at its own φ (nats, ≥ −rounding: the
        end point's φ is optimal for its θ iff ≈ 0).
      log_p_elbo, log_p_likelihood: Σ log p_θ at every end point of each (nats).
      elbo_star_likelihood: Σ ELBO*(θ) at every likelihood end point (stage 2 of `two_stage_fit`).
      phi_converged_likelihood: whether `optimal_phi` converged at every point of each likelihood end point.
      collapsed_energy: L_p(θ_c) = L(θ_c, p(z)) = nd(1 + log γ̄) + nκ; gamma_bar.
      config, seconds.
    """

    elbo: object
    elbo_stats: object
    likelihood: MultiStartResult
    initial_theta: DecoderParams
    likelihood_categories: np.ndarray
    elbo_signal_categories: np.ndarray
    likelihood_signal: np.ndarray
    likelihood_active: np.ndarray
    fractions: dict
    likelihood_minima: tuple[dict, ...]
    minima: tuple[MinimumReport, ...]
    elbo_phi_gap: np.ndarray
    log_p_elbo: np.ndarray
    log_p_likelihood: np.ndarray
    elbo_star_likelihood: np.ndarray
    phi_converged_likelihood: np.ndarray
    collapsed_energy: float
    gamma_bar: float
    config: dict
    seconds: float

    @property
    def restarts(self) -> int:
        return int(self.likelihood_categories.size)

    def to_dict(self, per_restart: bool = True) -> dict:
        out = {
            "config": self.config,
            "seconds": self.seconds,
            "collapsed_energy": self.collapsed_energy,
            "gamma_bar": self.gamma_bar,
            "fractions": self.fractions,
            "elbo_distinct_minima": [m.to_dict() for m in self.elbo_stats.distinct_minima],
            "likelihood_distinct_minima": list(self.likelihood_minima),
            "minima": [m.to_dict() for m in self.minima],
        }
        if per_restart:
            out["per_restart"] = {
                "elbo_category": self.elbo_stats.categories,
                "elbo_signal_category": self.elbo_signal_categories,
                "likelihood_category": self.likelihood_categories,
                "elbo_energy": self.elbo.energy,
                "elbo_status": self.elbo.status,
                "elbo_gamma": self.elbo.gamma,
                "likelihood_value": self.likelihood.values,
                "likelihood_status": list(self.likelihood.status),
                "likelihood_gamma": np.exp(np.asarray(self.likelihood.params.log_gamma)),
                "likelihood_signal": self.likelihood_signal,
                "log_p_elbo": self.log_p_elbo,
                "log_p_likelihood": self.log_p_likelihood,
                "elbo_star_likelihood": self.elbo_star_likelihood,
                "elbo_phi_gap": self.elbo_phi_gap,
            }
        return to_jsonable(out)


def _minimum_report(objective, idx, count, category, value, theta, X, alpha, elbo_own, phi_out, k, signal):
    """A `MinimumReport` without the polishing fields (filled by the caller for ELBO minima)."""
    n, d = np.shape(X)
    kappa = np.shape(theta.W)[1]
    lm = log_marginal(theta, X, alpha)
    _, _, v, *_ = phi_out
    elbo_star = float(np.sum(eq5_to_nats(v[k], d, kappa)))
    gap = float(lm.total) - elbo_star
    res = 16 * _EPS * (abs(lm.total) + abs(elbo_star) + n * d * _LOG_2PI) + float(lm.error_total)
    return dict(
        objective=objective,
        index=int(idx),
        count=int(count),
        category=str(category),
        value=float(value),
        gamma=float(np.exp(np.asarray(theta.log_gamma))),
        signal=float(signal),
        marginal_energy=float(lm.energy),
        log_p=float(lm.total),
        log_marginal_error=float(lm.error_total),
        elbo_own=None if elbo_own is None else float(elbo_own),
        elbo_star=elbo_star,
        gap=gap,
        gap_energy_units=2.0 * gap,
        gap_resolution=res,
        certificate={},
    )


_FLAT_NOTE = (
    "the likelihood's flat set around theta_c (decoder output in the dead zone): stationary to float64 only; "
    "collapsed_likelihood_evidence decides whether it is a minimum"
)


def _cert_summary(theta, X, alpha):
    c = certify(marginal_energy_jit, theta, (jnp.asarray(X, dtype=jnp.float64), float(alpha)))
    return {
        "label": c.label,
        "inertia": list(c.inertia),
        "tol": c.tol,
        "grad_norm": c.grad_norm,
        "stationary": c.stationary,
        "zero_modes_descend": c.zero_modes_descend,
    }


def _take(tree, i):
    return jax.tree.map(lambda a: jnp.asarray(np.asarray(a)[i]), tree)


def compare_basins(
    X,
    alpha,
    kappa: int,
    restarts: int,
    seed: int = 0,
    *,
    steps: int = 4000,
    learning_rate: float = 1e-2,
    optimizer: str = "adam",
    polish_steps: int = 500,
    gtol: float = 1e-8,
    init: InitScales = _DEFAULT_INIT,
    signal_rtol: float = 1e-6,
    chunk_size: int = 256,
    certify_minima: bool = True,
    progress: bool | None = None,
) -> BasinComparison:
    """Descend eq. (5) and L_p from the same initialisations and compare where they end.

    The ELBO side is `landscape.search` (Adam, then dense Newton polish; `landscape.basin_stats`
    classifies by the encoder's KL). The likelihood side is `likelihood_multistart` from the θ
    part of the same starts, with the same descent settings. Likelihood end points are
    classified by `landscape.basins.categorize` with the same categories: "reconstructing"
    (not converged, γ ≤ 1e-6 γ̄, L_p below L_p(θ_c): γ driven to 0, where L_p is unbounded
    below on noiseless Proposition 1 data), "collapsed" (the decoder carries no signal:
    Σ_j Var_z[π_α(w_jᵀz)] ≤ ``signal_rtol``·dγ̄, `decoder_signal` — the likelihood has no
    encoder, and a q-based rule would measure the approximation, not the model), "partial",
    "other", "failed". The ELBO's end points are classified by the same signal rule too.

    Distinct minima of each objective are clustered after removing symmetries (for L_p, the
    rotations W → WR as well as signs). At each the ELBO gap with φ optimal is reported, and
    for each ELBO minimum L_p is polished from its θ (dense Newton) to see whether it sits near
    a likelihood minimum; both are certified under L_p (`landscape.certify`) when
    ``certify_minima``.

    Returns:
      A `BasinComparison`.
    """
    t0 = time.perf_counter()
    n, d, kappa, gbar = check_problem(X, alpha, kappa)
    restarts = V.check_size("restarts", restarts, 1)
    seed = V.check_seed("seed", seed)
    signal_rtol = V.check_positive("signal_rtol", signal_rtol)
    alpha = float(alpha)
    kw = dict(steps=steps, learning_rate=learning_rate, optimizer=optimizer, gtol=gtol, init=init, seed=seed)
    sr = search(
        X,
        alpha,
        kappa=kappa,
        restarts=restarts,
        polish="newton",
        polish_steps=polish_steps,
        chunk_size=chunk_size,
        progress=progress,
        **kw,
    )
    bs = basin_stats(sr)
    ms = likelihood_multistart(
        X,
        alpha,
        kappa=kappa,
        restarts=restarts,
        polish_steps=polish_steps,
        chunk_size=chunk_size,
        progress=progress,
        **kw,
    )
    Lc = collapsed_energy(X, kappa)
    th_l = ms.params
    failed = np.asarray(ms.status) == NON_FINITE
    active_l, signal_l = signal_active(th_l.W, alpha, gbar, signal_rtol)
    gam_l = np.exp(np.asarray(th_l.log_gamma, dtype=float))
    cat_l = categorize(
        np.where(failed, np.inf, ms.values),
        gam_l,
        active_l,
        failed,
        gamma_bar=gbar,
        collapsed_energy=Lc,
        converged=ms.converged,
    )
    active_e, signal_e = signal_active(sr.params.W, alpha, gbar, signal_rtol)
    failed_e = sr.status == NON_FINITE
    cat_e_sig = categorize(
        sr.energy,
        sr.gamma,
        active_e,
        failed_e,
        gamma_bar=gbar,
        collapsed_energy=sr.collapsed_energy,
        converged=sr.status == CONVERGED,
    )
    # φ* and log p at every end point of both
    th_e = DecoderParams(*(jnp.asarray(a) for a in (sr.params.W, sr.params.b, sr.params.log_gamma)))
    th_l_safe = jax.tree.map(lambda a, s: jnp.where(_bcast(failed, a), s, a), th_l, ms.extras["start"])
    phi_e = phi_batch(th_e, X, alpha)
    phi_l = phi_batch(th_l_safe, X, alpha)
    elbo_star_e = np.sum(eq5_to_nats(phi_e[2], d, kappa), axis=1)
    elbo_own_e = eq5_to_nats(sr.energy, n * d, n * kappa)
    elbo_star_l = np.where(failed, np.nan, np.sum(eq5_to_nats(phi_l[2], d, kappa), axis=1))
    phi_conv_l = np.all(phi_l[5], axis=1)
    log_p_e = _log_p_batch(th_e, X, alpha)
    log_p_l = np.where(failed, np.nan, _log_p_batch(th_l_safe, X, alpha))

    # distinct likelihood minima
    cand = np.nonzero((cat_l != "failed") & (cat_l != "reconstructing"))[0]
    lik_minima = []
    x_mean = np.mean(np.asarray(X, dtype=float), axis=0)
    if cand.size:
        W_c, lg_c = np.asarray(th_l.W)[cand], np.asarray(th_l.log_gamma)[cand]
        inert = inert_rows(W_c, phi_l[0][cand], phi_l[1][cand], lg_c, alpha)
        canon = canonical_theta(W_c, np.asarray(th_l.b)[cand], lg_c, active_l[cand] == 0, inert, x_mean)
        reps, members = cluster_minima(ms.values[cand], canon, 1e-6, 1e-3)
        for r in reps:
            i = int(cand[r])
            mem = [int(cand[m]) for m in members[r]]
            lik_minima.append(
                {
                    "index": i,
                    "count": len(mem),
                    "value": float(ms.values[i]),
                    "grad_norm": float(ms.grad_norms[i]),
                    "status": ms.status[i],
                    "category": str(cat_l[i]),
                    "active": int(active_l[i]),
                    "gamma": float(gam_l[i]),
                    "signal": float(signal_l[i]),
                    "members": mem,
                    "canonical_theta": canon[r],
                }
            )
    lik_canon = np.array([m["canonical_theta"] for m in lik_minima]) if lik_minima else np.zeros((0, 1))

    reports = []
    for m in lik_minima:
        i = m["index"]
        theta = _take(th_l, i)
        rep = _minimum_report(
            "likelihood", i, m["count"], m["category"], m["value"], theta, X, alpha, None, phi_l, i, signal_l[i]
        )
        if certify_minima:
            rep["certificate"] = _cert_summary(theta, X, alpha)
        if m["category"] == "collapsed":
            rep["note"] = _FLAT_NOTE
        reports.append(MinimumReport(**rep))
    # ELBO minima: L_p polished from their θ (one batched call, padded to the main run's chunk)
    e_minima = list(bs.distinct_minima)
    if e_minima:
        idx = np.array([m.index for m in e_minima])
        chunk = min(chunk_size, restarts)  # the main run's chunk: its compiled polish is reused
        padded = np.concatenate([idx, np.full(-idx.size % chunk, idx[0])])
        P0 = DecoderParams(*(np.asarray(a)[padded] for a in th_e))
        pol = likelihood_multistart(
            X,
            alpha,
            kappa=kappa,
            restarts=padded.size,
            steps=0,
            polish_steps=polish_steps,
            gtol=gtol,
            start=P0,
            chunk_size=chunk,
            progress=False,
        )
        th_pol = DecoderParams(*(np.asarray(a)[: idx.size] for a in pol.params))
        phi_pol = phi_batch(th_pol, X, alpha)
        act_pol, _ = signal_active(th_pol.W, alpha, gbar, signal_rtol)
        c0 = canonical_theta(
            np.asarray(th_e.W)[idx],
            np.asarray(th_e.b)[idx],
            np.asarray(th_e.log_gamma)[idx],
            active_e[idx] == 0,
            inert_rows(np.asarray(th_e.W)[idx], phi_e[0][idx], phi_e[1][idx], np.asarray(th_e.log_gamma)[idx], alpha),
            x_mean,
        )
        c1 = canonical_theta(
            th_pol.W,
            th_pol.b,
            th_pol.log_gamma,
            act_pol == 0,
            inert_rows(th_pol.W, phi_pol[0], phi_pol[1], th_pol.log_gamma, alpha),
            x_mean,
        )
        for j, m in enumerate(e_minima):
            i = m.index
            theta = _take(th_e, i)
            rep = _minimum_report(
                "elbo", i, m.count, m.category, m.energy, theta, X, alpha, elbo_own_e[i], phi_e, i, signal_e[i]
            )
            rep["polished_marginal_energy"] = float(pol.values[j])
            rep["moved"] = float(np.linalg.norm(c1[j] - c0[j]))
            rep["drop"] = float(rep["marginal_energy"] - pol.values[j])
            rep["polished_grad_norm"] = float(pol.grad_norms[j])
            rep["near_likelihood_minimum"] = False
            if lik_canon.shape[0] and pol.status[j] == CONVERGED:
                lv = np.array([lm["value"] for lm in lik_minima])
                dist = np.linalg.norm(lik_canon - c1[j][None], axis=1)
                same = (np.abs(lv - pol.values[j]) <= 1e-6 * (1 + np.abs(lv))) & (
                    dist <= 1e-3 * (1 + np.linalg.norm(lik_canon, axis=1))
                )
                if np.any(same):
                    k = int(np.argmin(np.where(same, dist, np.inf)))
                    rep["nearest_likelihood_minimum"] = int(lik_minima[k]["index"])
                    rep["landed_category"] = lik_minima[k]["category"]
                    rep["distance_to_likelihood_minimum"] = float(np.linalg.norm(lik_canon[k] - c0[j]))
                    rep["near_likelihood_minimum"] = lik_minima[k]["category"] != "collapsed"
                    if lik_minima[k]["category"] == "collapsed":
                        rep["note"] = _FLAT_NOTE
            if certify_minima:
                rep["certificate"] = _cert_summary(_take(th_pol, j), X, alpha)
            reports.append(MinimumReport(**rep))
    for m in lik_minima:
        m["canonical_theta"] = m["canonical_theta"].tolist()
    config = {
        "alpha": alpha,
        "kappa": kappa,
        "n": n,
        "d": d,
        "restarts": restarts,
        "seed": seed,
        "steps": steps,
        "learning_rate": float(learning_rate),
        "optimizer": optimizer,
        "polish": "newton",
        "polish_steps": polish_steps,
        "gtol": float(gtol),
        "init": asdict(init),
        "signal_rtol": signal_rtol,
        "gamma_ratio": 1e-6,
        "cluster": {"energy_tol": 1e-6, "param_tol": 1e-3},
    }
    return BasinComparison(
        elbo=sr,
        elbo_stats=bs,
        likelihood=ms,
        initial_theta=ms.extras["start"],
        likelihood_categories=cat_l,
        elbo_signal_categories=cat_e_sig,
        likelihood_signal=signal_l,
        likelihood_active=active_l,
        fractions={
            "elbo": _fractions(bs.categories),
            "likelihood": _fractions(cat_l),
            "elbo_by_signal": _fractions(cat_e_sig),
        },
        likelihood_minima=tuple(lik_minima),
        minima=tuple(reports),
        elbo_phi_gap=elbo_star_e - elbo_own_e,
        log_p_elbo=log_p_e,
        log_p_likelihood=log_p_l,
        elbo_star_likelihood=elbo_star_l,
        phi_converged_likelihood=phi_conv_l,
        collapsed_energy=Lc,
        gamma_bar=gbar,
        config=config,
        seconds=time.perf_counter() - t0,
    )


def _bcast(mask, a):
    return jnp.asarray(mask).reshape((-1,) + (1,) * (np.ndim(a) - 1))
