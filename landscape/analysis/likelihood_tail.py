"""The likelihood's collapsed decoder θ_c and the leading-order prediction of its profiles (issue 9).

θ_c = (W = 0, b = x̄, log γ̄) is the decoder of Proposition 1's collapsed point (MATH.md §3).
Along W = tU, U of rank one, the exact likelihood L_p(θ) = −2 Σ log p_θ(x_i) − nd log 2π + nκ
(`landscape.marginal.marginal_energy`, eq. (5)'s scale) changes at leading order by

    L_p(tU, x̄, γ̄) − L_p(θ_c) = (n/γ̄) tr[(I − S/γ̄) Cov_z π_α(tUz)] + O(‖Cov‖²)

(`tail_prediction`; expand log E_z exp(y_iᵀπ/γ − ‖π‖²/(2γ)) to second order in
π = π_α(tUz), y_i = x_i − x̄: Σ_i y_i = 0 removes the first order, and E_z π = 0 for a
rank-one U, so re-minimising b and γ changes it only at O(‖Cov‖²)). Along the coordinate
directions U = e_j e_kᵀ (`coordinate_directions`) this is (n/γ̄)(1 − S_jj/γ̄) Var π_α(tz).
`landscape.likelihood_collapsed` checks it against the re-minimised profiles.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

from landscape.analysis.elbo_gap import check_problem
from landscape.analysis.profiles import Direction
from landscape.common import checks as V
from landscape.core.collapsed import collapsed_point, data_covariance
from landscape.core.decoder import DecoderParams, check_likelihood_kappa, decoder_params

__all__ = ["collapsed_theta", "tail_prediction", "coordinate_directions"]


def collapsed_theta(X, kappa: int) -> DecoderParams:
    """θ_c = (W = 0, b = x̄, log γ̄): the decoder of Proposition 1's collapsed point (MATH.md §3).

    There p_θ(x) = N(x̄, γ̄I) and L_p(θ_c) = nd(1 + log γ̄) + nκ, equal to eq. (5) at the
    collapsed point (W = 0 makes the posterior the prior, so the ELBO is tight).
    """
    check_problem(X, 0.0, kappa)
    return decoder_params(collapsed_point(X, kappa))


def _mills(x):
    """Φ̄(x)/φ(x) for x ≥ 0, accurate in the tail."""
    return math.sqrt(math.pi / 2.0) * jax.scipy.special.erfcx(x / math.sqrt(2.0))


def _tail_cov(a, alpha):
    """Cov_s[π_α(a s)] for s ~ N(0, 1), a (d,) (NumPy): the second moments (E π = 0).

    E[π_α(a_j s) π_α(a_k s)] = sign(a_j a_k)·2 ∫_{s₀}^∞ (|a_j|s − α)(|a_k|s − α) φ(s) ds with
    s₀ = α/min(|a_j|, |a_k|). With p = min, q = max, s = s₀ + r and β = q s₀ − α ≥ 0 the
    integrand is p r (β + q r), so the integral is p [β J₁ + q J₂] with
    J₁ = φ(s₀)(1 − s₀ R), J₂ = φ(s₀)((1 + s₀²) R − s₀), R = Φ̄(s₀)/φ(s₀) (Mills' ratio).
    """
    a = np.asarray(a, dtype=float)
    p = np.minimum(np.abs(a)[:, None], np.abs(a)[None, :])
    q = np.maximum(np.abs(a)[:, None], np.abs(a)[None, :])
    live = p > 0
    ps = np.where(live, p, 1.0)
    s0 = alpha / ps
    R = np.asarray(_mills(jnp.asarray(s0)))
    phi0 = np.exp(-0.5 * s0 * s0) / math.sqrt(2.0 * math.pi)
    J1 = phi0 * (1.0 - s0 * R)
    J2 = phi0 * ((1.0 + s0 * s0) * R - s0)
    beta = q * s0 - alpha
    integral = ps * (beta * J1 + q * J2)
    return np.where(live, np.sign(a)[:, None] * np.sign(a)[None, :] * 2.0 * integral, 0.0)


def tail_prediction(X, alpha, U, ts) -> np.ndarray:
    """The leading-order change of the likelihood's profile at θ_c along W = tU, U of rank one.

        L_p(tU, x̄, γ̄) − L_p(θ_c) ≈ (n/γ̄) tr[(I − S/γ̄) Cov_z π_α(tUz)]   (eq. (5) units)

    to second order in π = π_α(tUz) (module docstring): Σ_i (x_i − x̄) = 0 removes the first
    order, and for a rank-one U = ς u vᵀ, tUz = tςu s with s = vᵀz ~ N(0, 1), so E π = 0 and
    re-minimising b and γ changes the profile only at O(‖Cov‖²). The covariance is in closed
    form (`_tail_cov`). At α = 0 it is t²ς²(n/γ̄)(‖u‖² − uᵀSu/γ̄), the pPCA curvature.
    """
    n, d, _, gbar = check_problem(X, alpha)
    U = np.asarray(V.check_real_array("U", U), dtype=float)
    V.check_finite("U", U)
    if U.ndim != 2 or U.shape[0] != d or U.shape[1] not in (1, 2):
        raise ValueError(f"U must have shape (d, kappa) = ({d}, 1 or 2), got {U.shape}.")
    u_svd, sv, _ = np.linalg.svd(U, full_matrices=False)
    if sv.size > 1 and sv[1] > 1e-12 * sv[0]:
        raise ValueError("U must have rank one (U = u vᵀ) for the closed-form prediction; got a rank-two U.")
    ts = V.check_real_array("ts", ts).astype(float)
    if ts.ndim != 1 or ts.size == 0 or not np.all(np.isfinite(ts)):
        raise ValueError(f"ts must be a non-empty 1-D array of finite values, got shape {ts.shape}.")
    ut = sv[0] * u_svd[:, 0]
    M = np.eye(d) - data_covariance(X) / gbar
    out = np.empty(ts.size)
    for i, t in enumerate(ts):
        cov = _tail_cov(t * ut, float(alpha))
        out[i] = n / gbar * float(np.sum(M * cov))
    return out


def coordinate_directions(d: int, kappa: int, X=None) -> list[Direction]:
    """U = e_j e_1ᵀ for every output coordinate j (kind "coordinate", eigenvalue = S_jj if X given).

    Along these the prediction of `tail_prediction` is (n/γ̄)(1 − S_jj/γ̄) Var π_α(tz):
    the likelihood falls for every small t > 0 iff S_jj > γ̄.
    """
    d = V.check_size("d", d, 1)
    kappa = check_likelihood_kappa(kappa)
    diag = None if X is None else np.diag(data_covariance(X))
    out = []
    for j in range(d):
        U = np.zeros((d, kappa))
        U[j, 0] = 1.0
        out.append(
            Direction(U=U, label=f"e{j + 1} e1", kind="coordinate", eigenvalue=None if diag is None else float(diag[j]))
        )
    return out
