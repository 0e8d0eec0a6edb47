"""κ = 1: the exact marginal likelihood log p_θ(x) of the soft-threshold decoder, in closed form.

For the model behind eq. (5) of Dai, Wang & Wipf (2020) with one latent (`landscape.core.marginal`),
the kinks ±α/|w_j| of π_α(wz) cut the line into 2d + 1 intervals, on each of which the
integrand is Gaussian in z, and

    p(x) = Σ_intervals C · (Φ(√Λ(u − m)) − Φ(√Λ(l − m)))

(C, m, Λ as in `landscape.core.marginal`'s docstring). No quadrature: the only error is
rounding (about 1e-14 relative, γ down to 1e-6). `interior_points`, `TINY_ROW2` and `ZMAX`
serve the κ = 2 decomposition (`landscape.core.marginal_kappa2`) too.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from landscape.core.decoder import DecoderParams
from landscape.core.normal_cdf import LOG_2PI, bounds, log_ndtr_diff, safe_log, scaled_mass

__all__ = ["TINY_ROW2", "ZMAX", "interior_points", "log_marginal_k1"]

TINY_ROW2 = 1e-300  # ‖w_j‖² below this: the row's kinks lie beyond 1e150·α, where the prior has no mass
ZMAX = 1e50  # kink coordinates are clipped to ±ZMAX (prior mass beyond: exp(−5e99))


def _kinks(w, alpha):
    """α/|w_j| for rows with a kink (clipped to ZMAX), 0 for w_j = 0 (a harmless extra cut)."""
    aw = jnp.abs(w)
    real = w * w > TINY_ROW2
    near = real & (aw * ZMAX > alpha)
    k = alpha / jnp.where(near, aw, 1.0)
    return jnp.where(near, k, jnp.where(real, ZMAX, 0.0))


def interior_points(cuts, axis=-1):
    """One point inside each of the len(cuts) + 1 intervals cut by the sorted ``cuts``:
    midpoints, and beyond the ends by max(1, |end|). No gradient (they only decide
    which affine piece of π_α is in force there)."""
    cs = jax.lax.stop_gradient(jnp.moveaxis(cuts, axis, -1))
    first, last = cs[..., :1], cs[..., -1:]
    inner = 0.5 * (cs[..., :-1] + cs[..., 1:])
    out = jnp.concatenate([first - jnp.maximum(1.0, jnp.abs(first)), inner, last + jnp.maximum(1.0, jnp.abs(last))], -1)
    return jnp.moveaxis(out, -1, axis)


def log_marginal_k1(theta: DecoderParams, X, alpha):
    """log p_θ(x_i) for every row of X (n,), κ = 1, exact (unchecked; see `landscape.core.marginal`)."""
    W, b, log_gamma = theta
    n, d = X.shape
    w = W[:, 0]
    gamma = jnp.exp(log_gamma)
    k = _kinks(w, alpha)
    cuts = jnp.sort(jnp.concatenate([-k, k]))  # (2d,)
    nint = 2 * d + 1
    has_lo = np.arange(nint) > 0
    has_hi = np.arange(nint) < nint - 1
    lo = jnp.concatenate([cuts[:1], cuts])
    hi = jnp.concatenate([cuts, cuts[-1:]])
    mid = interior_points(cuts)  # decides which rows are active on each interval
    u = mid[:, None] * jax.lax.stop_gradient(w)[None, :]
    act = (jnp.abs(u) > alpha) | (alpha == 0)  # π_0 is the identity, also for w_j = 0
    a = jnp.where(act, w[None, :], 0.0)  # (nint, d): slope of π_α(w z) on the interval
    c = jnp.where(act, -alpha * jnp.sign(u), 0.0)  # (nint, d): offset
    Mv = gamma + jnp.sum(a * a, axis=-1)  # (nint,): γ·Λ
    log_det = jnp.log(Mv) - log_gamma  # log Λ
    sq = jnp.sqrt(Mv / gamma)  # √Λ

    Y = X - b
    r = Y[:, None, :] - c[None]  # (n, nint, d)
    m = jnp.einsum("nid,id->ni", r, a) / Mv
    res = r - m[..., None] * a
    E = m * m + jnp.sum(res * res, axis=-1) / gamma
    log_c = -0.5 * d * (LOG_2PI + log_gamma) - 0.5 * log_det - 0.5 * E
    A = sq * (lo - m)
    B = sq * (hi - m)
    A, B = bounds(A, B, has_lo, has_hi)
    top = jax.lax.stop_gradient(jnp.max(log_c + log_ndtr_diff(A, B), axis=-1, keepdims=True))
    return safe_log(jnp.sum(scaled_mass(A, B, log_c - top), axis=-1)) + top[..., 0]
