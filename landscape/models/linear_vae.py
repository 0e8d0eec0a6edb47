"""The linear VAE of Lucas et al. (2019, §4): its exact ELBO, optimal encoder and (ε, δ)-collapse (MATH.md §6).

Decoder p(x|z) = N(W z + μ, σ² I), prior N(0, I_κ), encoder q(z|x) = N(V (x − μ), D), D diagonal
(`LinearVAEParams`). The ELBO is exact in closed form (`linear_vae_elbo`, their eq. 8 and Appendix C):

    E_q log p(x|z) = −(d/2) log 2πσ² − (1/2σ²) [ ‖x − μ − W V (x − μ)‖² + tr(W D Wᵀ) ],
    KL(q(z|x) ‖ p(z)) = ½ [ tr D + ‖V (x − μ)‖² − κ − log|D| ].

For a fixed decoder the ELBO is maximised by V = M⁻¹ Wᵀ, D = σ² diag(M)⁻¹, M = WᵀW + σ² I
(`optimal_encoder`): the mean is the exact posterior mean, and the best diagonal covariance is the
reciprocal of the diagonal of the posterior precision M/σ². There the ELBO equals log p(X) iff M is
diagonal (the columns of W orthogonal), which holds at every stationary point of pPCA
(`landscape.models.ppca_stationary`); so the ELBO's stationary points are pPCA's, with the rotation R
restricted to signed permutations, and its only local maximum is the global one (Lucas et al. 2019,
Theorem 1). Dimension j with λ_j ≤ σ² collapses, q(z_j|x) = p(z_j) (`predicted_collapsed`,
`collapse_count`: Lucas et al.'s (ε, δ)-collapse).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from landscape.common import checks as V
from landscape.core.collapsed import data_covariance
from landscape.models.linalg import f64
from landscape.models.ppca import ppca_mle, resolve_sigma2
from landscape.models.ppca_stationary import PPCAStationaryPoint

__all__ = [
    "LinearVAEParams",
    "DataMoments",
    "data_moments",
    "linear_vae_elbo",
    "linear_vae_elbo_per_example",
    "linear_vae_objective",
    "optimal_encoder",
    "linear_vae_inertia",
    "optimal_linear_vae",
    "linear_vae_optimum",
    "linear_vae_init",
    "linear_vae_kl_per_dim",
    "collapsed_dims",
    "collapse_count",
    "predicted_collapsed",
]


# --------------------------------------------------------------------------- the linear VAE


class LinearVAEParams(NamedTuple):
    """The linear VAE of Lucas et al. (2019, §4).

    Decoder p(x|z) = N(W z + μ, σ² I_d), prior N(0, I_κ), encoder q(z|x) = N(V (x − μ), diag D).

    Fields:
      W: decoder weights, shape (d, κ).
      mu: decoder mean μ (also the encoder's centring), shape (d,).
      V: encoder weights, shape (κ, d).
      log_D: log of the encoder variances, shape (κ,).
      log_sigma2: log σ², a scalar, or None when σ² is held fixed (pass ``sigma2=`` to the ELBO).
    """

    W: Any
    mu: Any
    V: Any
    log_D: Any
    log_sigma2: Any = None


class DataMoments(NamedTuple):
    """The sufficient statistics of the linear VAE's ELBO: n, x̄ (d,) and S = (1/n) Σ (x_i − x̄)(x_i − x̄)ᵀ.

    The ELBO is quadratic in the data, so (n, x̄, S) give it exactly, at a cost independent of n.
    """

    n: Any
    mean: Any
    cov: Any


def data_moments(X, *, name: str = "X") -> DataMoments:
    """(n, x̄, S with 1/n) of data X (n, d), in float64, for `linear_vae_elbo` and `linear_vae_objective`."""
    n, d = V.check_data(X, name=name)
    x = np.asarray(X, dtype=np.float64)
    return DataMoments(n=jnp.asarray(float(n)), mean=jnp.asarray(x.mean(axis=0)), cov=jnp.asarray(data_covariance(x)))


def _check_vae(params, d: int) -> int:
    """Shapes of `LinearVAEParams` against the data dimension d; returns κ."""
    if not isinstance(params, LinearVAEParams):
        raise ValueError(f"params must be a landscape.linear.LinearVAEParams, got {type(params).__name__}.")
    W_shape = np.shape(params.W)
    if len(W_shape) != 2 or W_shape[0] != d or W_shape[1] < 1:
        raise ValueError(f"params.W must have shape (d, kappa) = ({d}, kappa >= 1); got {W_shape}.")
    kappa = W_shape[1]
    for field, shape in {"mu": (d,), "V": (kappa, d), "log_D": (kappa,)}.items():
        if np.shape(getattr(params, field)) != shape:
            raise ValueError(
                f"params.{field} must have shape {shape} for d = {d} and kappa = {kappa}; "
                f"got {np.shape(getattr(params, field))}."
            )
        V.check_finite(f"params.{field}", getattr(params, field))
    V.check_finite("params.W", params.W)
    return kappa


def _data_dims(data) -> tuple[bool, int]:
    """(is_moments, d) for data X (n, d) or `DataMoments`."""
    if isinstance(data, DataMoments):
        d_shape = np.shape(data.mean)
        if len(d_shape) != 1 or np.shape(data.cov) != (d_shape[0], d_shape[0]) or np.ndim(data.n) != 0:
            raise ValueError(
                f"data (DataMoments) must have n a scalar, mean (d,) and cov (d, d); got "
                f"{np.shape(data.n)}, {d_shape}, {np.shape(data.cov)}. Build it with data_moments(X)."
            )
        nn = V.concrete(data.n)
        if nn is not None and not (np.isfinite(nn) and nn >= 2):
            raise ValueError(f"data.n must be >= 2 (the number of data points), got {nn!r}.")
        V.check_finite("data.mean", data.mean)
        V.check_finite("data.cov", data.cov)
        return True, d_shape[0]
    _, d = V.check_data(data, name="data")
    return False, d


def _elbo_moments(params: LinearVAEParams, m: DataMoments, s2):
    """Σ_i ELBO_i from (n, x̄, S): with δ = x̄ − μ and S_μ = S + δ δᵀ, the data average of ‖x − μ − W V(x − μ)‖²
    is tr S_μ − 2 tr(W V S_μ) + tr(WᵀW V S_μ Vᵀ) and that of ‖V (x − μ)‖² is tr(V S_μ Vᵀ)."""
    W, mu, Vm, log_D = (f64(a) for a in params[:4])
    n, mean, S = f64(m.n), f64(m.mean), f64(m.cov)
    d, kappa = W.shape
    delta = mean - mu
    S_mu = S + jnp.outer(delta, delta)
    VS = Vm @ S_mu  # (κ, d)
    VSV = VS @ Vm.T  # (κ, κ)
    D = jnp.exp(log_D)
    sq = jnp.trace(S_mu) - 2.0 * jnp.sum(W * VS.T) + jnp.sum((W.T @ W) * VSV)
    recon = -0.5 * d * jnp.log(2.0 * jnp.pi * s2) - (sq + jnp.sum(D * jnp.sum(W**2, axis=0))) / (2.0 * s2)
    kl = 0.5 * (jnp.sum(D) + jnp.trace(VSV) - kappa - jnp.sum(log_D))
    return n * (recon - kl)


def _elbo_points(params: LinearVAEParams, X, s2):
    """ELBO_i for each row of X, (n,)."""
    W, mu, Vm, log_D = (f64(a) for a in params[:4])
    X = f64(X)
    d, kappa = W.shape
    Y = X - mu
    m = Y @ Vm.T  # (n, κ): the encoder means
    R = Y - m @ W.T
    D = jnp.exp(log_D)
    recon = -0.5 * d * jnp.log(2.0 * jnp.pi * s2) - (jnp.sum(R**2, axis=1) + jnp.sum(D * jnp.sum(W**2, axis=0))) / (
        2.0 * s2
    )
    kl = 0.5 * (jnp.sum(D) + jnp.sum(m**2, axis=1) - kappa - jnp.sum(log_D))
    return recon - kl


def linear_vae_elbo_per_example(params: LinearVAEParams, X, sigma2=None):
    """ELBO_i = E_q log p(x_i|z) − KL(q(z|x_i) ‖ p(z)) for each row of X, shape (n,), nats (module docstring).

    Args:
      params: `LinearVAEParams`.
      X: data, shape (n, d).
      sigma2: a fixed σ² > 0 (then params.log_sigma2 must be None), or None for exp(params.log_sigma2).
    """
    _, d = V.check_data(X)
    _check_vae(params, d)
    s2 = resolve_sigma2(params.log_sigma2, sigma2, "params")
    return _elbo_points(params, X, s2)


def linear_vae_elbo(params: LinearVAEParams, data, sigma2=None):
    """The exact ELBO of the linear VAE, Σ_i over the data, nats, all constants (Lucas et al. 2019, §4).

        Σ_i { −(d/2) log 2πσ² − (1/2σ²)[‖x_i − μ − W V(x_i − μ)‖² + tr(W D Wᵀ)]
              − ½ [tr D + ‖V(x_i − μ)‖² − κ − log|D|] }

    Args:
      params: `LinearVAEParams`.
      data: X, shape (n, d) (the sum over points), or `DataMoments` (the same value from (n, x̄, S),
        at a cost independent of n).
      sigma2: a fixed σ² > 0 (then params.log_sigma2 must be None), or None for exp(params.log_sigma2).

    Returns:
      A float64 scalar. Jittable and differentiable; value checks run on concrete inputs only.
    """
    moments, d = _data_dims(data)
    _check_vae(params, d)
    s2 = resolve_sigma2(params.log_sigma2, sigma2, "params")
    if moments:
        return _elbo_moments(params, data, s2)
    return jnp.sum(_elbo_points(params, data, s2))


def linear_vae_objective(params: LinearVAEParams, data, sigma2=None):
    """−ELBO / n, to minimise with `landscape.multistart` or certify with `landscape.certify`.

    ``f(params, data, sigma2)``: data is X or `DataMoments`; σ² fixed (``sigma2`` a number,
    params.log_sigma2 None) or learned (``sigma2=None``).
    """
    moments, _ = _data_dims(data)
    n = f64(data.n) if moments else np.shape(data)[0]
    return -linear_vae_elbo(params, data, sigma2) / n


def optimal_encoder(W, sigma2):
    """The encoder (V, D) that maximises the ELBO for a fixed decoder (W, σ²) (any μ).

        V = M⁻¹ Wᵀ,    D = σ² diag(M)⁻¹,    M = WᵀW + σ² I_κ.

    The ELBO is, per point, −KL(q ‖ p(z|x)) + log p(x); the posterior is N(M⁻¹Wᵀ(x − μ), σ² M⁻¹), so the
    mean is matched exactly (V), and for diagonal D the KL's D-terms ½ Σ_k [D_k M_kk/σ² − log D_k] are
    minimised at D_k = σ²/M_kk: the reciprocal of the diagonal of the posterior precision M/σ². The ELBO
    then equals log p(X) iff M is diagonal (Lucas et al. 2019, §4).

    Args:
      W: decoder weights, shape (d, κ); sigma2: σ² > 0.

    Returns:
      (V, D): shapes (κ, d) and (κ,), float64; jittable.
    """
    if np.ndim(W) != 2 or min(np.shape(W)) < 1:
        raise ValueError(f"W must have shape (d, kappa), d and kappa >= 1; got {np.shape(W)}.")
    V.check_finite("W", W)
    V.check_sigma2(sigma2)
    W, s2 = f64(W), f64(sigma2)
    kappa = W.shape[1]
    M = W.T @ W + s2 * jnp.eye(kappa, dtype=W.dtype)
    Vm = jnp.linalg.solve(M, W.T)
    return Vm, s2 / jnp.diag(M)


def linear_vae_inertia(point: PPCAStationaryPoint) -> tuple[int, int, int]:
    """Inertia of the Hessian of −ELBO (σ² fixed) at a pPCA stationary point with the optimal encoder.

    The parameters are (W, μ, V, log D), P = 2 d κ + d + κ of them; the point is (point.W, x̄) with
    `optimal_encoder`. The answer is (index, 0, P − index), index = `PPCAStationaryPoint.index`:

    - μ decouples at μ = x̄ (it enters through δ = x̄ − μ quadratically) with a positive-definite block;
    - the encoder block is positive definite (−ELBO is a convex quadratic in V and convex in log D);
    - so by Haynsworth the rest of the inertia is that of the profile −ELBO*(W) = −ℓ(W) + gap(W),
      gap(W) = Σ_i KL(q*(z|x_i) ‖ p(z|x_i)) ≥ 0 with equality iff WᵀW is diagonal. Its Hessian G is
      PSD and vanishes on every ascent direction of ℓ (they keep the columns orthogonal: ε u_i into a zero
      column or into active column a, u_i unused), so the negative count is ℓ's; the zero modes of ℓ
      are the rotations W → W R, which make the columns non-orthogonal (distinct λ_a) and so have
      G > 0. Diagonal D breaks the rotation symmetry: no flat directions remain (Lucas et al. 2019, §4).
    """
    if not isinstance(point, PPCAStationaryPoint):
        raise ValueError(f"point must be a PPCAStationaryPoint, got {type(point).__name__}.")
    neg = point.index
    d, kappa = point.W.shape
    return neg, 0, 2 * d * kappa + d + kappa - neg


def optimal_linear_vae(W, mu, sigma2, *, learn_sigma2: bool = False) -> LinearVAEParams:
    """`LinearVAEParams` with decoder (W, μ, σ²) and the optimal encoder of `optimal_encoder`.

    log_sigma2 is log σ² if ``learn_sigma2`` else None (evaluate with ``sigma2=`` then).
    """
    Vm, D = optimal_encoder(W, sigma2)
    if np.shape(mu) != (np.shape(W)[0],):
        raise ValueError(f"mu must have shape (d,) = ({np.shape(W)[0]},); got {np.shape(mu)}.")
    V.check_finite("mu", mu)
    return LinearVAEParams(
        W=f64(W), mu=f64(mu), V=Vm, log_D=jnp.log(D), log_sigma2=jnp.log(f64(sigma2)) if learn_sigma2 else None
    )


def linear_vae_optimum(X, kappa: int, sigma2=None) -> LinearVAEParams:
    """The linear VAE's global maximum: the pPCA MLE decoder (`ppca_mle`, ddof = 0) and its optimal encoder.

    W has orthogonal columns, so the ELBO there equals the pPCA maximum log-likelihood. With σ² fixed,
    log_sigma2 is None (evaluate with ``sigma2=``); with ``sigma2=None`` it is log σ²_ML.
    """
    fit = ppca_mle(X, kappa, sigma2)
    return optimal_linear_vae(fit.W, fit.b, fit.sigma2, learn_sigma2=sigma2 is None)


def linear_vae_init(
    data, kappa: int, *, learn_sigma2: bool = False, scale: float = 1.0
) -> Callable[[jax.Array], LinearVAEParams]:
    """A random starting point for `landscape.multistart` on `linear_vae_objective`: ``init(key)``.

    In units of the data, with s² = tr(S)/d: W ~ N(0, scale² s²/κ), μ ~ x̄ + N(0, scale² s²/4),
    V ~ N(0, scale²/(d s²)) (so V(x − μ) = O(1)), log D ~ N(−0.5, 0.5²), and log σ² ~ log s² + N(0, 0.5²)
    when learned (else None).

    Args:
      data: X (n, d) or `DataMoments` (concrete).
      kappa: the latent size ≥ 1.
      learn_sigma2: give the parameters a log_sigma2 (learned σ²) or not (fixed σ²).
      scale: the spread of W, μ and V.
    """
    kappa = V.check_kappa(kappa)
    scale = V.check_tolerance("scale", scale)
    m = data if isinstance(data, DataMoments) else data_moments(data, name="data")
    _data_dims(m)
    mean, S = np.asarray(m.mean), np.asarray(m.cov)
    d = mean.size
    s2bar = float(np.trace(S)) / d
    if not s2bar > 0:
        raise ValueError("data is constant (tr S = 0); the linear VAE needs data with some spread.")
    sd = float(scale) * math.sqrt(s2bar)
    xbar = jnp.asarray(mean)

    def init(key):
        k = jax.random.split(key, 5)
        W = sd / math.sqrt(kappa) * jax.random.normal(k[0], (d, kappa))
        mu = xbar + 0.5 * sd * jax.random.normal(k[1], (d,))
        Vm = float(scale) / (math.sqrt(d) * math.sqrt(s2bar)) * jax.random.normal(k[2], (kappa, d))
        log_D = -0.5 + 0.5 * jax.random.normal(k[3], (kappa,))
        ls = math.log(s2bar) + 0.5 * jax.random.normal(k[4], ()) if learn_sigma2 else None
        return LinearVAEParams(W, mu, Vm, log_D, ls)

    return init


# --------------------------------------------------------------------------- (ε, δ)-collapse


def linear_vae_kl_per_dim(params: LinearVAEParams, X) -> np.ndarray:
    """KL(q(z_k|x_i) ‖ N(0, 1)) = ½ (D_k + m_ik² − 1 − log D_k), m = (X − μ) Vᵀ; shape (n, κ), nats."""
    n, d = V.check_data(X)
    _check_vae(params, d)
    m = (np.asarray(X, dtype=np.float64) - np.asarray(params.mu, dtype=np.float64)) @ np.asarray(
        params.V, dtype=np.float64
    ).T
    log_D = np.asarray(params.log_D, dtype=np.float64)
    return 0.5 * (np.exp(log_D) + m**2 - 1.0 - log_D)


def collapsed_dims(params: LinearVAEParams, X, eps: float = 0.01, delta: float = 0.01) -> np.ndarray:
    """Lucas et al.'s (ε, δ)-collapse, per latent dimension: bool (κ,).

    Dimension k is (ε, δ)-collapsed if P_x[KL(q(z_k|x) ‖ p(z_k)) < ε] ≥ 1 − δ, the probability being
    the fraction of the data points (Lucas et al. 2019, §5; ε = δ = 0.01 there).
    """
    eps = V.check_unit_interval("eps", eps)
    delta = V.check_unit_interval("delta", delta)
    kl = linear_vae_kl_per_dim(params, X)
    return np.mean(kl < eps, axis=0) >= 1.0 - delta


def collapse_count(params: LinearVAEParams, X, eps: float = 0.01, delta: float = 0.01) -> int:
    """The number of (ε, δ)-collapsed latent dimensions (`collapsed_dims`)."""
    return int(np.sum(collapsed_dims(params, X, eps, delta)))


def predicted_collapsed(eigenvalues_or_X, kappa: int, sigma2=None) -> int:
    """The number of collapsed latent dimensions at the global optimum: #{j ≤ κ : λ_j ≤ σ²}.

    The staircase of Lucas et al. (2019, §3–4): at fixed σ², dimension j of the pPCA MLE (and of the
    linear VAE's global maximum) is zero, q(z_j|x) = p(z_j), iff λ_j ≤ σ². With σ² learned
    (``sigma2=None``), σ²_ML = mean of λ_{κ+1..d} ≤ λ_κ, so the count is 0 unless λ_κ = … = λ_d.

    Args:
      eigenvalues_or_X: the eigenvalues of S (1-D, any order, ≥ 0), or data X (2-D; S with 1/n).
      kappa: the latent size, 1 ≤ κ ≤ d (κ < d when σ² is learned).
      sigma2: σ² > 0, or None for σ²_ML.
    """
    if np.ndim(eigenvalues_or_X) == 2:
        V.check_data(eigenvalues_or_X)
        lam = V.check_eigenvalues(np.linalg.eigvalsh(data_covariance(eigenvalues_or_X)).clip(0.0), name="X")
    else:
        lam = V.check_eigenvalues(eigenvalues_or_X, name="eigenvalues_or_X")
    kappa = V.check_kappa_le_d(kappa, lam.size)
    if sigma2 is None:
        if kappa == lam.size:
            raise ValueError("sigma2=None (learned) needs kappa < d: sigma2_ML averages the d - kappa smallest.")
        s2 = float(np.mean(lam[kappa:]))
    else:
        V.check_sigma2(sigma2)
        s2 = float(sigma2)
    return int(np.sum(lam[:kappa] <= s2))
