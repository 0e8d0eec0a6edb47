"""The collapsed point q(z|x) = p(z) and its exact Hessian spectrum (MATH.md §3–4).

Each function takes X or a validated `landscape.core.data.Data`; the statistics (x̄, S,
λ_l, γ̄) come from the `Data`, so passing one avoids re-validating and re-decomposing.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from landscape.common import checks as V
from landscape.core.data import as_data
from landscape.core.params import VAEParams

__all__ = [
    "gamma_bar",
    "collapsed_point",
    "collapsed_energy",
    "collapsed_spectrum",
    "n_negative_affine",
    "data_covariance",
    "trivial_energy",
]


def gamma_bar(X) -> float:
    """γ̄ = (1/nd) Σ_i ‖x_i − x̄‖² (Section 4 of the paper); raises on constant data."""
    return float(as_data(X).gamma_bar)


def data_covariance(X) -> np.ndarray:
    """S = YᵀY / n with Y = X − x̄ (note 1/n, as in MATH.md §4 and §6); raises on constant data."""
    return as_data(X).S


def collapsed_point(X, kappa: int) -> VAEParams:
    """The collapsed point of MATH.md §3: W = 0, b = x̄, γ = γ̄, μ_i = 0, σ_i = 1.

    There q(z|x) = N(0, I) = p(z) and p(x) = N(x̄, γ̄ I) (eq. 6). The gradient of
    eq. (5) is exactly 0 there for every α ≥ 0.
    """
    data = as_data(X)
    n, d = data.shape
    kappa = V.check_kappa(kappa)
    # b = x̄ reduced by XLA, as in landscape 0.1, so that certificates stay bit for bit those of 0.1
    # (`Data.x_mean`, NumPy's reduction, can differ from it in the last bit).
    return VAEParams(
        W=jnp.zeros((d, kappa)),
        b=jnp.mean(jnp.asarray(data.X), axis=0),
        log_gamma=jnp.asarray(np.log(data.gamma_bar)),
        mu=jnp.zeros((n, kappa)),
        log_sigma=jnp.zeros((n, kappa)),
    )


def collapsed_energy(X, kappa: int) -> float:
    """L_c = n d (1 + log γ̄) + n κ, the energy at the collapsed point (MATH.md §3)."""
    data = as_data(X)
    kappa = V.check_kappa(kappa)
    return float(data.n * data.d * (1.0 + np.log(data.gamma_bar)) + data.n * kappa)


def trivial_energy(X, kappa: int, gamma) -> np.ndarray:
    """L_triv(γ) = n(d log γ + tr S / γ) + nκ: W = 0, b = x̄, q = p(z) at fixed γ (MATH.md §6)."""
    data = as_data(X)
    kappa = V.check_kappa(kappa)
    g = V.check_gammas(gamma)
    return data.n * (data.d * np.log(g) + np.trace(data.S) / g) + data.n * kappa


def n_negative_affine(X, kappa: int) -> int:
    """κ · #{l : λ_l(S) > γ̄}: the index of the collapsed point at α = 0 (MATH.md §4)."""
    data = as_data(X)
    return int(V.check_kappa(kappa) * data.n_above(data.gamma_bar))


def _roots_2x2(p, q, r):
    """Eigenvalues of [[p, q], [q, r]], both accurate (small root by det / large root)."""
    tr = p + r
    disc = np.sqrt((p - r) ** 2 + 4.0 * q * q)
    big = 0.5 * (tr + disc)
    small = (p * r - q * q) / big
    return small, big


def collapsed_spectrum(X, kappa: int, alpha: float) -> np.ndarray:
    """The exact Hessian spectrum of eq. (5) at the collapsed point, ascending (MATH.md §4).

    α = 0: per latent dimension, the (W_{:,k}, μ_{:,k}) block contributes the roots
    of [[2n/γ̄, −2ς_l/γ̄], [−2ς_l/γ̄, 2]] for each singular value ς_l of Y = X − x̄,
    2n/γ̄ (d − min(n, d) times) and 2 (n − min(n, d) times). α > 0: 0 (dκ times) and
    2 (nκ times). In both cases log σ gives 4 (nκ), b gives 2n/γ̄ (d), log γ gives nd.
    """
    data = as_data(X)
    n, d = data.shape
    kappa = V.check_kappa(kappa)
    alpha = V.check_alpha(alpha)
    gbar = float(data.gamma_bar)
    if float(alpha) == 0.0:
        sv = data.singular_values  # min(n, d) values, zeros included
        small, big = _roots_2x2(2.0 * n / gbar, -2.0 * sv / gbar, 2.0)
        r = sv.size
        block = np.concatenate([small, big, np.full(d - r, 2.0 * n / gbar), np.full(n - r, 2.0)])
    else:
        block = np.concatenate([np.zeros(d), np.full(n, 2.0)])
    eig = np.concatenate([np.tile(block, kappa), np.full(n * kappa, 4.0), np.full(d, 2.0 * n / gbar), [float(n * d)]])
    return np.sort(eig)
