"""Both surfaces through the likelihood's collapsed decoder θ_c on a plane (issue 9).

`collapsed_slices`: the exact likelihood L_p(θ) = −2 Σ log p_θ(x_i) − nd log 2π + nκ
(`landscape.marginal.marginal_energy`) and eq. (5) minimised over φ (`landscape.optimal_phi`;
also at φ = the prior) on the plane W = s·U, log γ = log γ̄ + t through θ_c = (0, x̄, γ̄)
(Proposition 1's collapsed point, MATH.md §3). L(θ, φ) ≥ L_p(θ): the ELBO surface lies above.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax.numpy as jnp
import numpy as np

from landscape.analysis.elbo_gap import check_problem, phi_batch
from landscape.analysis.likelihood_tail import collapsed_theta
from landscape.common import checks as V
from landscape.common.results import Result
from landscape.core.collapsed import collapsed_point, data_covariance
from landscape.core.energy import energy_objective
from landscape.core.marginal import DecoderParams, marginal_energy
from landscape.core.params import VAEParams
from landscape.tools.slices import slice_2d

__all__ = ["SlicePair", "collapsed_slices"]


@dataclass(frozen=True)
class SlicePair(Result):
    """Both surfaces on the plane θ_c + s·D₁ + t·D₂ (from `collapsed_slices`).

    ``likelihood[i, j]`` = L_p, ``elbo_optimal[i, j]`` = min_φ L (`optimal_phi`) and
    ``elbo_prior[i, j]`` = L with φ at the prior (μ = 0, σ = 1), at (s[i], t[j]); ``f0`` =
    L_p(θ_c) = L(θ_c, p(z)). ``gap_min``: min of elbo_optimal − likelihood (≥ −rounding).
    """

    s: np.ndarray
    t: np.ndarray
    likelihood: np.ndarray
    elbo_optimal: np.ndarray
    elbo_prior: np.ndarray
    f0: float
    gap_min: float
    phi_max_grad_norm: float
    description: str

    _arrays = ("s", "t", "likelihood", "elbo_optimal", "elbo_prior")


def collapsed_slices(X, alpha, kappa: int, s, t, *, U=None) -> SlicePair:
    """L_p and min_φ L on the plane W = s·U, log γ = log γ̄ + t through θ_c (b = x̄).

    U defaults to u_1 e_1ᵀ (the top eigenvector of S). The ELBO surface is min over φ by
    `optimal_phi` at every grid point (also returned with φ at the prior, the cheaper and
    cruder picture).
    """
    n, d, kappa, gbar = check_problem(X, alpha, V.check_kappa(kappa))
    s = V.check_real_array("s", s).astype(float)
    t = V.check_real_array("t", t).astype(float)
    for name, g in (("s", s), ("t", t)):
        if g.ndim != 1 or g.size == 0 or not np.all(np.isfinite(g)):
            raise ValueError(f"{name} must be a non-empty 1-D array of finite values.")
    if U is None:
        lam, vec = np.linalg.eigh(data_covariance(X))
        U = np.zeros((d, kappa))
        U[:, 0] = vec[:, -1]
    U = np.asarray(U, dtype=float)
    if U.shape != (d, kappa):
        raise ValueError(f"U must have shape (d, kappa) = ({d}, {kappa}), got {U.shape}.")
    Xj = jnp.asarray(X, dtype=jnp.float64)
    theta_c = collapsed_theta(X, kappa)
    d1 = DecoderParams(jnp.asarray(U), jnp.zeros(d), jnp.asarray(0.0))
    d2 = DecoderParams(jnp.zeros((d, kappa)), jnp.zeros(d), jnp.asarray(1.0))
    lik = slice_2d(marginal_energy, theta_c, d1, d2, s, t, args=(Xj, float(alpha)))
    cp = collapsed_point(X, kappa)
    zero = VAEParams(
        jnp.zeros((d, kappa)), jnp.zeros(d), jnp.asarray(0.0), jnp.zeros((n, kappa)), jnp.zeros((n, kappa))
    )
    prior = slice_2d(
        energy_objective,
        cp,
        zero._replace(W=jnp.asarray(U)),
        zero._replace(log_gamma=jnp.asarray(1.0)),
        s,
        t,
        args=(Xj, float(alpha)),
    )
    S_, T_ = np.meshgrid(s, t, indexing="ij")
    thetas = DecoderParams(
        W=jnp.asarray(S_.reshape(-1, 1, 1) * U[None]),
        b=jnp.broadcast_to(theta_c.b, (S_.size, d)),
        log_gamma=jnp.asarray(np.log(gbar) + T_.reshape(-1)),
    )
    _, _, v, gn, *_ = phi_batch(thetas, X, alpha)
    elbo_opt = np.sum(v, axis=1).reshape(S_.shape)
    return SlicePair(
        s=s,
        t=t,
        likelihood=lik.energy,
        elbo_optimal=elbo_opt,
        elbo_prior=prior.energy,
        f0=lik.f0,
        gap_min=float(np.min(elbo_opt - lik.energy)),
        phi_max_grad_norm=float(np.max(gn)),
        description=f"theta_c + s*U + t*e_loggamma, U = {np.round(U.ravel(), 6).tolist()}, b = x_bar",
    )
