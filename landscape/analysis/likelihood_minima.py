"""The end points and distinct minima of the exact likelihood, seen by both objectives (issue 9).

For `landscape.likelihood_basins.compare_basins`: the likelihood L_p(θ) = −2 Σ log p_θ(x_i)
− nd log 2π + nκ (`landscape.marginal.marginal_energy`, eq. (5)'s scale) has no encoder, so
its "collapsed" is a decoder property (`decoder_signal`, `signal_active`); its end points
are clustered in canonical coordinates that remove the symmetries W → WR and the inert rows
(`canonical_theta`, `inert_rows`); and each distinct minimum of either objective is reported
as a `MinimumReport`: its ELBO gap (φ optimal, `landscape.elbo_gap`) and its certificate
under L_p.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from landscape.common import checks as V
from landscape.common.results import Result
from landscape.core.moments import soft_threshold_moments

__all__ = ["decoder_signal", "signal_active", "inert_rows", "canonical_theta", "MinimumReport"]


def decoder_signal(W, alpha):
    """The variance the decoder puts through the latent, Var_z π_α(Wz) summed over outputs.

    Returns ``(total, per_latent)``: total = Σ_j Var_z[π_α(w_jᵀz)] with w_jᵀz ~ N(0, ‖w_j‖²),
    per_latent[k] = Σ_j Var[π_α(W_jk z_k)] (latent k alone), both in closed form
    (`landscape.soft_threshold_moments`); shapes (...) and (..., κ) for W of shape (..., d, κ).
    A decoder with total ≤ 1e-6 · dγ̄ passes less than a millionth of the data's variance
    through z: p_θ(x) is N(b, γI) up to that, the likelihood's "collapsed".
    """
    W = np.asarray(V.check_real_array("W", W), dtype=float)
    if W.ndim < 2 or min(W.shape[-2:]) < 1:
        raise ValueError(f"W must have shape (..., d, kappa) with d, kappa >= 1, got shape {W.shape}.")
    V.check_finite("W", W)
    alpha = V.check_alpha(alpha)
    zero = np.zeros(())
    _, var_tot = soft_threshold_moments(zero, np.sum(W * W, axis=-1), float(alpha))
    _, var_k = soft_threshold_moments(zero, W * W, float(alpha))
    return np.sum(np.asarray(var_tot), axis=-1), np.sum(np.asarray(var_k), axis=-2)


def signal_active(W, alpha, gbar, rtol):
    """Active latent count by decoder signal: latent k active if its signal > rtol·dγ̄; 0 if the total is below."""
    W = np.asarray(W, dtype=float)
    d = W.shape[-2]
    total, per = decoder_signal(W, alpha)
    thr = rtol * d * gbar
    count = np.sum(per > thr, axis=-1)
    count = np.where(total <= thr, 0, np.maximum(count, 1))
    return count.astype(int), total


def inert_rows(W, mu, log_sigma, log_gamma, alpha):
    """(R, d) bool: output j carries max_i E_q π_α(w_jᵀz)² ≤ 1e-10·γ under q_i = N(μ_i, diag σ_i²).

    The rule of `landscape.basins.canonicalize`, with q the optimal φ (`optimal_phi`) standing in
    for each posterior: such a row sits in the dead zone wherever the data's posteriors are, so
    the objective is flat along it (up to terms like exp(−1/γ)), and it is a set, not a point.
    """
    W = np.asarray(W, dtype=float)
    if alpha <= 0:
        return np.zeros(W.shape[:2], dtype=bool)
    m = np.einsum("rnk,rdk->rnd", np.asarray(mu, dtype=float), W)
    v = np.einsum("rnk,rdk->rnd", np.exp(2.0 * np.asarray(log_sigma, dtype=float)), W**2)
    mean, var = (np.asarray(a) for a in soft_threshold_moments(m, v, float(alpha)))
    gamma = np.exp(np.asarray(log_gamma, dtype=float)).reshape(-1, 1)
    return np.max(mean**2 + var, axis=1) <= 1e-10 * gamma


def canonical_theta(W, b, log_gamma, collapsed, inert, x_mean, seed=0):
    """Flattened canonical θ for clustering: no signal → W = 0; inert rows zeroed; W rotated and signed.

    p_θ is invariant under W → WR for orthogonal R (z → Rz leaves N(0, I) unchanged), so W is
    replaced by its left singular vectors times singular values (orthogonal columns, by
    decreasing norm), each column's sign fixed by a fixed random vector.
    """
    W = np.array(W, dtype=float)
    R, d, k = W.shape
    W[np.asarray(inert, bool)] = 0.0
    W[np.asarray(collapsed, bool)] = 0.0
    r = np.random.default_rng(np.random.SeedSequence([seed, 31])).normal(size=d)
    for i in range(R):
        u, sv, _ = np.linalg.svd(W[i], full_matrices=False)
        Wi = u * sv
        sign = np.where(r @ Wi < 0, -1.0, 1.0)
        W[i] = Wi * sign
    b_rel = np.asarray(b, dtype=float).reshape(R, d) - np.asarray(x_mean).reshape(1, d)
    return np.concatenate([W.reshape(R, -1), b_rel, np.asarray(log_gamma, dtype=float).reshape(R, 1)], axis=1)


@dataclass(frozen=True)
class MinimumReport(Result):
    """One distinct minimum of either objective, seen by both.

    Attributes:
      objective: "elbo" or "likelihood"; index: its representative restart; count: restarts in
        the cluster; category: its category under its own objective's classification.
      value: its own objective there (eq. (5) for the ELBO, L_p for the likelihood).
      gamma: γ there; signal: `decoder_signal` total.
      marginal_energy, log_p: L_p(θ) and Σ log p_θ (nats), log_marginal_error (nats).
      elbo_own: Σ ELBO at the end point's own φ (ELBO minima; nats), else None.
      elbo_star: Σ ELBO at φ = `optimal_phi`(θ) (nats).
      gap: log_p − elbo_star (nats, ≥ 0); gap_energy_units: 2·gap; gap_resolution: rounding
        plus the likelihood's accuracy estimate (nats).
      certificate: `landscape.certify(marginal_energy, θ)`: label and inertia under L_p (at the
        likelihood-polished point for ELBO minima).
      polished_marginal_energy, moved, drop, polished_grad_norm: ELBO minima only — L_p
        polished (dense Newton) from the ELBO minimum's θ: the distance ‖Δθ‖₂ (canonical
        coordinates), the decrease of L_p, and the final gradient.
      nearest_likelihood_minimum: the likelihood cluster (its representative restart) whose L_p
        and canonical θ match the converged polished point (relative 1e-6 and 1e-3), else None;
        landed_category: that cluster's category; distance_to_likelihood_minimum: ‖θ − θ_lik‖
        from the ELBO minimum's own canonical θ.
      near_likelihood_minimum: the L_p polish from the ELBO minimum converges onto a likelihood
        minimum found by the likelihood's own descent, other than the collapsed flat set (how
        near: ``moved`` and ``distance_to_likelihood_minimum``).
      note: for the likelihood's "collapsed" end points (and ELBO minima whose polish lands
        there): they are numerically stationary only because the gradient in the flat set
        around θ_c is ~exp(−α²/(2 max_j ‖w_j‖²)), below the tolerance; whether that set is a
        minimum is what `collapsed_likelihood_evidence` decides.
    """

    objective: str
    index: int
    count: int
    category: str
    value: float
    gamma: float
    signal: float
    marginal_energy: float
    log_p: float
    log_marginal_error: float
    elbo_own: float | None
    elbo_star: float
    gap: float
    gap_energy_units: float
    gap_resolution: float
    certificate: dict
    polished_marginal_energy: float | None = None
    moved: float | None = None
    drop: float | None = None
    polished_grad_norm: float | None = None
    nearest_likelihood_minimum: int | None = None
    landed_category: str | None = None
    distance_to_likelihood_minimum: float | None = None
    near_likelihood_minimum: bool | None = None
    note: str = ""
