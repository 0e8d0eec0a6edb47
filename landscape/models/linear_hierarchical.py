"""Dang et al.'s two-level linear hierarchical VAE with learnable Σ₂: exact loss, closed-form optimum, collapse.

Dang, Tran, Nguyen & Ho, *Beyond Vanilla Variational Autoencoders: Detecting Posterior Collapse in
Conditional and Hierarchical Variational Autoencoders*, ICLR 2024 (arXiv 2306.05023), §4.2 and Theorem 3
(the MHVAE with isotropic fixed Σ₁ and learnable Σ₂); their public code, ``matrix_HVAE_learnable_sigma_2.py``
and ``utils.calculate_lambda_omega_2_linear_nonlearnable_isotropic_Sigma_1_learnable_Sigma_2_beta``.

Model. Data x ∈ R^{d₀}, latents z₁ ∈ R^{d₁}, z₂ ∈ R^{d₂}, no biases:

    q(z₁ | x)  = N(W₁x, σ₁² I)                       (σ₁ fixed)
    q(z₂ | z₁) = N(W₂z₁, Σ₂),  Σ₂ = diag(s₁, …, s_{d₂})   (learned)
    p(z₂)      = N(0, η_enc² I),   p(z₁ | z₂) = N(U₂z₂, η_dec² I),   p(x | z₁) = N(U₁z₁, η_dec² I).

The β-weighted negative ELBO (β₁ on the z₁ level, β₂ on the z₂ level, as in the code) is
−E log p(x|z₁) + β₁ E[log q(z₁|x) − log p(z₁|z₂)] + β₂ E KL(q(z₂|z₁) ‖ p(z₂)), expectations over
q(z₁|x) q(z₂|z₁) and the data (`hvae_neg_elbo`). With A = E[xxᵀ] (uncentred), S₁ = W₁AW₁ᵀ + σ₁²I (the
second moment of z₁) and M = I − U₂W₂, it is exactly

    L = (1/η_dec²) (tr((I − U₁W₁) A (I − U₁W₁)ᵀ) + σ₁² ‖U₁‖²_F + β₁ [tr(M S₁ Mᵀ) + tr(U₂Σ₂U₂ᵀ)])
        + (β₂/η_enc²) (tr(W₂S₁W₂ᵀ) + tr Σ₂) − β₂ (d₂ + log det Σ₂ − d₂ log η_enc²)
        + β₁ d₁ (log(η_dec²/σ₁²) − 1),

L = 2 E[−ELBO_β] − d₀ log(2π η_dec²). The public code's loss is η_dec² (L − constant) (it multiplies by
η_dec² at the end and drops the constants), so the minimisers agree.

Statistics (`hvae_statistics`): θ₁ ≥ … ≥ θ_{d₀} are the singular values of the paper's Z = E[x x̃ᵀ]
(x̃ the whitened x), i.e. θ_i = √(eigenvalues of A), standard deviations; q_i the eigenvectors of A.

Derivation of the optimum (Theorem 3). Rotations of z₁ leave L unchanged (Σ₁ is isotropic), so take
S₁ = diag(m_i), m_i = λ_i² + σ₁² where λ_i are the singular values of V₁ = W₁ A^{1/2} (the code's
``W_1 @ P_A @ Phi_sqrt``) along q_i. Per dimension (k = η_dec²/η_enc², β' = β₂/β₁, T = β'η_dec²):

1. The decoder U₁ (gain u along q_i): (uλ − θ)² + σ₁²u² is least at u = λθ/m, leaving θ²σ₁²/m.
2. The z₂ level is a linear VAE on "data" z₁ with second moment m, noise η_dec², KL weight β', i.e. the
   scalar problem of `landscape.linear_conditional` with θ → m, β → β'. Its value β₁ h(m), minus the
   z₂-constant β₂η_dec²(1 − log η_enc²), is β₁ m when m < T (z₂ collapses: ω = 0, s = η_enc²) and
   β₂η_dec² (1 + log(m/T)) when m ≥ T, with U₂'s singular value ω = √(m − T)/η_enc, W₂'s gain
   w = ω η_enc²/m and s = T η_enc²/m.
3. So per dimension G(m) = θ²σ₁²/m + (β₁m or β₂η_dec²(1 + log(m/T))) over m ≥ σ₁². Its derivative
   changes sign once (β₁h′(m)m² increases in m), so m* = max(σ₁², root): on the collapsed branch the root
   is θσ₁/√β₁, on the active branch θ²σ₁²/(β₂η_dec²); the first applies iff θσ₁/√β₁ < T.

The three cases (Theorem 3; they are the three branches of the public code):

  case 1, σ₁² ≥ T = (β₂/β₁) η_dec² (a property of the model, for every dimension):
      λ_i = σ₁ √max(0, θ_i² − β₂η_dec²) / (√β₂ η_dec),
      ω_i = √max(σ₁² − T, θ_i²σ₁²/(β₂η_dec²) − T) / η_enc:  z₂ never collapses (ω_i > 0 when σ₁² > T),
      z₁'s dimension i collapses iff θ_i < √β₂ η_dec.
  case 2, σ₁² < T and θ_i < √β₁ T/σ₁ = β₂η_dec²/(√β₁ σ₁):
      ω_i = 0 (z₂'s dimension collapses), λ_i = √max(0, σ₁(θ_i − √β₁σ₁)/√β₁):
      z₁'s dimension i collapses too iff θ_i < √β₁ σ₁.
  case 3, σ₁² < T and θ_i ≥ β₂η_dec²/(√β₁ σ₁): both active, with the formulas of case 1.

So with σ₁² < T, every dimension with θ_i below β₂η_dec²/(√β₁σ₁) loses its z₂ (learnable Σ₂ can collapse
z₂ entirely, as in the paper's setting d₀ = 6, d₁ = d₂ = 5, σ₁ = 1, β₁ = 1, β₂ = 2 on N(0, I) data).
The optimal loss is

    η_dec² L* = Σ_{i ≤ d₁} G_i(m_i*) + Σ_{i > d₁} θ_i² + β₁ d₁ η_dec² (log(η_dec²/σ₁²) − 1).

z₁ dimensions beyond d₀ model θ = 0. When d₂ < d₁ only the d₂ largest θ get a z₂ dimension (the gain
from one is nondecreasing in θ); the others keep ω = 0 with m = max(σ₁², θσ₁/√β₁) (labelled case 0), and
z₂ dimensions beyond d₁ sit at the prior. The global optimality of this point is the theorem; the tests
compare it with multi-start optimisation. Zero modes: the rotations of z₁ move every point with an
active dimension (and rotations of z₂ where two s_j are equal), so the minimum is degenerate, never strict.

Parametrisation: Σ₂ = diag(exp(2 log_sigma2)) (the public code squares free ``sigma2_elements``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from landscape.common import checks as V
from landscape.common.results import Result
from landscape.models.linalg import f64, tr_quad

__all__ = [
    "HVAEParams",
    "HVAEStatistics",
    "HVAEOptimum",
    "HVAESpectra",
    "HVAE_CASES",
    "hvae_statistics",
    "hvae_statistics_from_moments",
    "hvae_objective",
    "hvae_loss",
    "hvae_neg_elbo",
    "hvae_optimum",
    "hvae_spectra",
    "hvae_init",
]

HVAE_CASES = {
    0: "no z2 dimension left for this z1 dimension (d2 < d1): omega = 0 by construction",
    1: "sigma1^2 >= (beta2/beta1) eta_dec^2: z2 never collapses",
    2: "sigma1^2 < (beta2/beta1) eta_dec^2 and theta < beta2 eta_dec^2/(sqrt(beta1) sigma1): z2 collapses",
    3: "sigma1^2 < (beta2/beta1) eta_dec^2 and theta >= beta2 eta_dec^2/(sqrt(beta1) sigma1): z1 and z2 active",
}


class HVAEParams(NamedTuple):
    """Parameters of the two-level linear HVAE (a pytree).

    W1: (d₁, d₀), q(z₁|x) mean; U1: (d₀, d₁), p(x|z₁) mean; W2: (d₂, d₁), q(z₂|z₁) mean; U2: (d₁, d₂),
    p(z₁|z₂) mean; log_sigma2: (d₂,), Σ₂ = diag(exp(2 log_sigma2)). σ₁ is a fixed hyperparameter.
    """

    W1: jax.Array
    U1: jax.Array
    W2: jax.Array
    U2: jax.Array
    log_sigma2: jax.Array


# ------------------------------------------------------------------ statistics


@dataclass(frozen=True)
class HVAEStatistics(Result):
    """The data statistics of Theorem 3.

    Attributes:
      A: E[xxᵀ], (d₀, d₀), uncentred.
      theta: θ₁ ≥ … ≥ θ_{d₀} ≥ 0, the singular values of Z = E[x x̃ᵀ] (= √eigenvalues of A).
      directions: the matching eigenvectors q_i of A, as columns.
      n: the number of data points, or None when built from A.
    """

    A: np.ndarray
    theta: np.ndarray
    directions: np.ndarray
    n: int | None = None

    @property
    def d0(self) -> int:
        return int(self.A.shape[0])

    def args(self, *, sigma1, beta1, beta2, eta_enc=1.0, eta_dec=1.0) -> tuple:
        """The ``args`` tuple of `hvae_objective`: (A, σ₁, β₁, β₂, η_enc, η_dec), checked."""
        _check_hyper(sigma1, beta1, beta2, eta_enc, eta_dec)
        return (self.A, float(sigma1), float(beta1), float(beta2), float(eta_enc), float(eta_dec))

    _keys = ("n", "d0", "A", "theta")


def hvae_statistics_from_moments(A, *, n: int | None = None) -> HVAEStatistics:
    """`HVAEStatistics` from A = E[xxᵀ] (symmetric PSD, (d₀, d₀))."""
    if np.ndim(A) != 2 or np.shape(A)[0] != np.shape(A)[1] or np.shape(A)[0] < 1:
        raise ValueError(f"A must be a square (d0, d0) matrix E[x xᵀ], got shape {np.shape(A)}.")
    A = V.check_moment("A", A, np.shape(A), symmetric=True)
    lam, Q = np.linalg.eigh(A)
    scale = max(float(lam[-1]), 1e-300)
    if lam[0] < -1e-10 * scale:
        raise ValueError(
            f"A must be positive semi-definite (a second moment); its smallest eigenvalue is {lam[0]:.3g}."
        )
    lam, Q = np.clip(lam[::-1], 0.0, None), Q[:, ::-1].copy()
    return HVAEStatistics(A=A, theta=np.sqrt(lam), directions=Q, n=n)


def hvae_statistics(X) -> HVAEStatistics:
    """The statistics of Theorem 3 from data X (n, d₀): A = XᵀX/n and θ_i = √λ_i(A).

    The moments are uncentred (the model has no biases), so constant data are valid; data that are all
    zero give θ = 0, where Theorem 3 predicts that every latent dimension collapses.
    """
    n, _ = V.check_data(X, name="X")
    x = np.asarray(X, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow is refused just below
        A = x.T @ x / n
    if not np.all(np.isfinite(A)):
        raise ValueError("X: the second moment X^T X / n overflows float64 (entries up to 1e154 only); rescale X.")
    return hvae_statistics_from_moments(A, n=n)


# ------------------------------------------------------------------ loss


def _check_hyper(sigma1, beta1, beta2, eta_enc, eta_dec) -> None:
    V.check_std("sigma1", sigma1, " Pass the fixed standard deviation σ₁ > 0 of q(z₁|x).")
    V.check_positive_scalar("beta1", beta1, " Pass the z₁-level KL weight β₁ > 0 (1 is the ELBO).")
    V.check_positive_scalar("beta2", beta2, " Pass the z₂-level KL weight β₂ > 0 (1 is the ELBO).")
    V.check_std(
        "eta_enc", eta_enc, " Pass the prior's standard deviation η_enc > 0 (p(z₂) = N(0, η_enc² I))."
    )
    V.check_std("eta_dec", eta_dec, " Pass the decoders' noise standard deviation η_dec > 0.")


def _check_params(params, d0: int) -> tuple[int, int]:
    """The shapes of ``params`` must match d₀; returns (d₁, d₂)."""
    if not isinstance(params, HVAEParams):
        raise ValueError(f"params must be a landscape.linear_hierarchical.HVAEParams, got {type(params).__name__}.")
    s1, s2 = np.shape(params.W1), np.shape(params.W2)
    if len(s1) != 2 or s1[1] != d0 or s1[0] < 1:
        raise ValueError(f"params.W1 must have shape (d1, d0) = (d1 >= 1, {d0}); got {s1}.")
    if len(s2) != 2 or s2[1] != s1[0] or s2[0] < 1:
        raise ValueError(f"params.W2 must have shape (d2, d1) = (d2 >= 1, {s1[0]}); got {s2}.")
    d1, d2 = s1[0], s2[0]
    for field, want in {"U1": (d0, d1), "U2": (d1, d2), "log_sigma2": (d2,)}.items():
        got = np.shape(getattr(params, field))
        if got != want:
            raise ValueError(f"params.{field} must have shape {want} for d0 = {d0}, d1 = {d1}, d2 = {d2}; got {got}.")
    for field in HVAEParams._fields:
        V.check_finite(f"params.{field}", getattr(params, field))
    return d1, d2


def hvae_objective(params: HVAEParams, A, sigma1, beta1, beta2, eta_enc, eta_dec) -> jax.Array:
    """The matrix loss L of the module docstring as an objective ``f(params, *args)``, unchecked.

    For the generic tools: ``args = stats.args(sigma1=…, beta1=…, beta2=…, eta_enc=…, eta_dec=…)``.
    Use `hvae_loss` for a checked evaluation.
    """
    A = f64(A)
    d0, d1 = params.U1.shape
    d2 = params.W2.shape[0]
    s1 = sigma1**2
    R = jnp.eye(d0) - params.U1 @ params.W1
    S1 = params.W1 @ A @ params.W1.T + s1 * jnp.eye(d1)
    M = jnp.eye(d1) - params.U2 @ params.W2
    s2 = jnp.exp(2.0 * params.log_sigma2)
    recon = tr_quad(R, A) + s1 * jnp.sum(params.U1**2)
    level1 = tr_quad(M, S1) + jnp.sum(params.U2**2 * s2)
    level2 = (tr_quad(params.W2, S1) + jnp.sum(s2)) / eta_enc**2
    level2 = level2 - d2 - 2.0 * jnp.sum(params.log_sigma2) + 2.0 * d2 * jnp.log(eta_enc)
    const1 = d1 * (2.0 * jnp.log(eta_dec) - 2.0 * jnp.log(sigma1) - 1.0)
    return (recon + beta1 * level1) / eta_dec**2 + beta2 * level2 + beta1 * const1


def hvae_loss(params: HVAEParams, stats: HVAEStatistics, *, sigma1, beta1, beta2, eta_enc=1.0, eta_dec=1.0):
    """The exact matrix loss L (module docstring), checked; = 2 E[−ELBO_β] − d₀ log(2π η_dec²).

    Args:
      params: an `HVAEParams` matching the statistics' d₀.
      stats: an `HVAEStatistics` (`hvae_statistics(X)`).
      sigma1: the fixed standard deviation σ₁ > 0 of q(z₁|x). beta1, beta2: the KL weights > 0 of the
        two levels. eta_enc: the prior's standard deviation > 0. eta_dec: the decoders' noise standard
        deviation > 0.
    """
    if not isinstance(stats, HVAEStatistics):
        raise ValueError(f"stats must be an HVAEStatistics (from hvae_statistics(X)), got {type(stats).__name__}.")
    args = stats.args(sigma1=sigma1, beta1=beta1, beta2=beta2, eta_enc=eta_enc, eta_dec=eta_dec)
    _check_params(params, stats.d0)
    return hvae_objective(HVAEParams(*(f64(a) for a in params)), *args)


def hvae_neg_elbo(params: HVAEParams, X, *, sigma1, beta1, beta2, eta_enc=1.0, eta_dec=1.0) -> jax.Array:
    """The per-sample β-weighted negative ELBO in closed form, shape (n,), natural log, all constants.

    With μ₁ = W₁x (z₁'s mean), every expectation over q(z₁|x) q(z₂|z₁) is Gaussian:

        −E log p(x|z₁)              = (‖x − U₁μ₁‖² + σ₁²‖U₁‖²)/(2η_dec²) + (d₀/2) log(2π η_dec²)
        E log q(z₁|x) − log p(z₁|z₂) = (‖Mμ₁‖² + σ₁²‖M‖² + tr U₂Σ₂U₂ᵀ)/(2η_dec²) + (d₁/2) (log(η_dec²/σ₁²) − 1)
        E KL(q(z₂|z₁) ‖ p(z₂))       = ½ ((‖W₂μ₁‖² + σ₁²‖W₂‖² + tr Σ₂)/η_enc² − d₂ − log det Σ₂ + d₂ log η_enc²)

    weighted 1, β₁, β₂. Its mean over the data is L/2 + (d₀/2) log(2π η_dec²), L = `hvae_loss`.
    """
    n, d0 = V.check_data(X, name="X")
    _check_hyper(sigma1, beta1, beta2, eta_enc, eta_dec)
    d1, d2 = _check_params(params, d0)
    p = HVAEParams(*(f64(a) for a in params))
    X = f64(X)
    s1 = float(sigma1) ** 2
    mu1 = X @ p.W1.T
    M = jnp.eye(d1) - p.U2 @ p.W2
    s2 = jnp.exp(2.0 * p.log_sigma2)
    ld = math.log(float(eta_dec) ** 2)
    rec = (jnp.sum((X - mu1 @ p.U1.T) ** 2, axis=1) + s1 * jnp.sum(p.U1**2)) / (2 * eta_dec**2)
    rec = rec + 0.5 * d0 * (math.log(2 * math.pi) + ld)
    lev1 = (jnp.sum((mu1 @ M.T) ** 2, axis=1) + s1 * jnp.sum(M**2) + jnp.sum(p.U2**2 * s2)) / (2 * eta_dec**2)
    lev1 = lev1 + 0.5 * d1 * (ld - math.log(s1) - 1.0)
    mu2 = jnp.sum((mu1 @ p.W2.T) ** 2, axis=1) + s1 * jnp.sum(p.W2**2)
    lev2 = 0.5 * ((mu2 + jnp.sum(s2)) / eta_enc**2 - d2 - 2 * jnp.sum(p.log_sigma2) + d2 * math.log(eta_enc**2))
    return rec + beta1 * lev1 + beta2 * lev2


# ------------------------------------------------------------------ closed form (Theorem 3)


@dataclass(frozen=True)
class HVAEOptimum(Result):
    """The global minimum of the HVAE loss in closed form (Theorem 3; module docstring).

    Attributes (per z₁ dimension i, in order of θ_i descending, length d₁, except sigmas2):
      theta: the θ_i modelled (0 beyond d₀).
      lambdas: singular values of V₁ = W₁A^{1/2} (the code's λ): λ_i = √(m_i − σ₁²).
      m: the second moment m_i = λ_i² + σ₁² of z₁ along dimension i.
      u: U₁'s gains u_i = λ_i θ_i/m_i (its singular values).
      omegas: singular values of U₂ (the code's ω), 0 where z₂'s dimension collapses.
      w: W₂'s gains w_i = ω_i η_enc²/m_i.
      sigmas2: Σ₂'s standard deviations, (d₂,): √(T η_enc²/m_i) where active, η_enc where collapsed.
      cases: the case of Theorem 3 for each dimension (1, 2, 3; 0 for a dimension with no z₂, see
        `HVAE_CASES`).
      z1_collapsed: λ_i = 0 (q(z₁ᵢ|x) carries nothing about x). z2_collapsed: ω_i = 0 for the z₂
        dimension paired with i (and every z₂ dimension beyond min(d₁, d₂)), (d₂,).
      threshold: T = (β₂/β₁) η_dec², the z₂ threshold on m.
      theta_z2: β₂η_dec²/(√β₁ σ₁), the θ above which z₂ is active when σ₁² < T (case 3).
      loss: L*.
      params: an `HVAEParams` at the optimum.
    """

    theta: np.ndarray
    lambdas: np.ndarray
    m: np.ndarray
    u: np.ndarray
    omegas: np.ndarray
    w: np.ndarray
    sigmas2: np.ndarray
    cases: tuple[int, ...]
    z1_collapsed: tuple[bool, ...]
    z2_collapsed: tuple[bool, ...]
    threshold: float
    theta_z2: float
    loss: float
    params: HVAEParams
    hyper: dict

    @property
    def regime(self) -> str:
        """The regime: "case 1" (σ₁² ≥ T, every dimension) or "cases 2/3" (decided per dimension by θ_i)."""
        return "case 1" if 1 in self.cases else "cases 2/3"

    _omit = ("params",)
    _then = ("regime",)


def hvae_optimum(stats: HVAEStatistics, d1: int, d2: int, *, sigma1, beta1, beta2, eta_enc=1.0, eta_dec=1.0):
    """The closed-form global minimum of the HVAE loss (Theorem 3; derivation in the module docstring).

    Args:
      stats: an `HVAEStatistics`. d1, d2: the latent sizes, ≥ 1.
      sigma1, beta1, beta2, eta_enc, eta_dec: as for `hvae_loss`.

    Returns:
      An `HVAEOptimum`, with the case of Theorem 3 that applies to each dimension.
    """
    if not isinstance(stats, HVAEStatistics):
        raise ValueError(f"stats must be an HVAEStatistics (from hvae_statistics(X)), got {type(stats).__name__}.")
    d1, d2 = V.check_size("d1", d1, 1), V.check_size("d2", d2, 1)
    _check_hyper(sigma1, beta1, beta2, eta_enc, eta_dec)
    sigma1, beta1, beta2, eta_enc, eta_dec = map(float, (sigma1, beta1, beta2, eta_enc, eta_dec))
    d0 = stats.d0
    s1, e2, ed2 = sigma1**2, eta_enc**2, eta_dec**2
    T = beta2 * ed2 / beta1
    theta_z2 = beta2 * ed2 / (math.sqrt(beta1) * sigma1)
    k = min(d0, d1)
    theta = np.zeros(d1)
    theta[:k] = stats.theta[:k]
    paired = np.arange(d1) < d2

    m = np.empty(d1)
    cases = np.empty(d1, dtype=int)
    for i in range(d1):
        th = theta[i]
        if not paired[i]:
            cases[i], m[i] = 0, max(s1, th * sigma1 / math.sqrt(beta1))
        elif s1 >= T:
            cases[i], m[i] = 1, max(s1, th**2 * s1 / (beta2 * ed2))
        elif th < theta_z2:
            cases[i], m[i] = 2, max(s1, th * sigma1 / math.sqrt(beta1))
        else:
            cases[i], m[i] = 3, th**2 * s1 / (beta2 * ed2)
    z2_active = (cases == 1) | (cases == 3)
    lam = np.sqrt(np.maximum(m - s1, 0.0))
    u = lam * theta / m
    omega = np.where(z2_active, np.sqrt(np.maximum(m - T, 0.0) / e2), 0.0)
    w = omega * e2 / m
    sig2 = np.full(d2, eta_enc)
    npair = min(d1, d2)
    sig2[:npair] = np.where(z2_active[:npair], np.sqrt(T * e2 / m[:npair]), eta_enc)

    Q = stats.directions
    W1 = np.zeros((d1, d0))
    U1 = np.zeros((d0, d1))
    pos = theta[:k] > 0
    W1[:k][pos] = (Q[:, :k][:, pos] * (lam[:k][pos] / theta[:k][pos])).T
    U1[:, :k] = Q[:, :k] * u[:k]
    W2 = np.zeros((d2, d1))
    U2 = np.zeros((d1, d2))
    idx = np.arange(npair)
    W2[idx, idx] = w[:npair]
    U2[idx, idx] = omega[:npair]
    params = HVAEParams(W1=W1, U1=U1, W2=W2, U2=U2, log_sigma2=np.log(sig2))

    G = theta**2 * s1 / m + np.where(z2_active, beta2 * ed2 * (1.0 + np.log(np.where(z2_active, m, T) / T)), beta1 * m)
    loss = (np.sum(G) + np.sum(stats.theta[k:] ** 2)) / ed2 + beta1 * d1 * (math.log(ed2 / s1) - 1.0)
    z2c = np.ones(d2, dtype=bool)
    z2c[:npair] = omega[:npair] == 0
    return HVAEOptimum(
        theta=theta,
        lambdas=lam,
        m=m,
        u=u,
        omegas=omega,
        w=w,
        sigmas2=sig2,
        cases=tuple(int(c) for c in cases),
        z1_collapsed=tuple(bool(x) for x in lam == 0),
        z2_collapsed=tuple(bool(x) for x in z2c),
        threshold=T,
        theta_z2=theta_z2,
        loss=float(loss),
        params=params,
        hyper={"sigma1": sigma1, "beta1": beta1, "beta2": beta2, "eta_enc": eta_enc, "eta_dec": eta_dec},
    )


# ------------------------------------------------------------------ measuring a point


@dataclass(frozen=True)
class HVAESpectra(Result):
    """The quantities of Theorem 3 measured at any point (for comparison with `HVAEOptimum`).

    Attributes:
      lambdas: singular values of V₁ = W₁A^{1/2}, descending. u: singular values of U₁. omegas: singular
        values of U₂, descending. w: singular values of W₂.
      order: the z₂ dimensions sorted by ‖U₂[:, j]‖ descending.
      sigmas2, kl2: per z₂ dimension, in that order: Σ₂'s standard deviation and the data-averaged
        KL(q(z₂ⱼ|z₁) ‖ p(z₂ⱼ)) = ½ ((E[μ₂ⱼ²] + s_j)/η_enc² − 1 − log(s_j/η_enc²)), nats.
    """

    lambdas: np.ndarray
    u: np.ndarray
    omegas: np.ndarray
    w: np.ndarray
    order: np.ndarray
    sigmas2: np.ndarray
    kl2: np.ndarray


def hvae_spectra(params: HVAEParams, stats: HVAEStatistics, *, sigma1, eta_enc=1.0) -> HVAESpectra:
    """Singular values, Σ₂ and per-dimension z₂ KL of an HVAE point (see `HVAESpectra`)."""
    if not isinstance(stats, HVAEStatistics):
        raise ValueError(f"stats must be an HVAEStatistics (from hvae_statistics(X)), got {type(stats).__name__}.")
    V.check_std("sigma1", sigma1, " Pass the fixed standard deviation σ₁ > 0 of q(z₁|x).")
    V.check_std("eta_enc", eta_enc, " Pass the prior's standard deviation η_enc > 0.")
    _check_params(params, stats.d0)
    p = HVAEParams(*(np.asarray(a, dtype=np.float64) for a in params))
    root_A = (stats.directions * stats.theta) @ stats.directions.T
    S1 = p.W1 @ stats.A @ p.W1.T + float(sigma1) ** 2 * np.eye(p.W1.shape[0])
    mu2 = np.einsum("ij,jk,ik->i", p.W2, S1, p.W2)
    s2 = np.exp(2.0 * p.log_sigma2)
    e2 = float(eta_enc) ** 2
    kl = 0.5 * ((mu2 + s2) / e2 - 1.0 - np.log(s2 / e2))
    order = np.argsort(-np.linalg.norm(p.U2, axis=0), kind="stable")
    sv = lambda M: np.linalg.svd(M, compute_uv=False)  # noqa: E731
    return HVAESpectra(
        lambdas=sv(p.W1 @ root_A),
        u=sv(p.U1),
        omegas=sv(p.U2),
        w=sv(p.W2),
        order=order,
        sigmas2=np.sqrt(s2)[order],
        kl2=kl[order],
    )


def hvae_init(d0: int, d1: int, d2: int, *, scale: float = 0.1, eta_enc: float = 1.0):
    """A starting-point sampler ``init(key) -> HVAEParams`` for `landscape.multistart`.

    Weights ~ N(0, scale²) (the public code uses 0.1); log σ₂ ~ log η_enc + U(−1, 0). Build it once and
    reuse it (it is a static argument of the compiled search).
    """
    d0, d1, d2 = V.check_size("d0", d0, 1), V.check_size("d1", d1, 1), V.check_size("d2", d2, 1)
    scale = V.check_positive_scalar("scale", scale, " Pass the standard deviation of the initial weights.")
    log_e = math.log(V.check_std("eta_enc", eta_enc))

    def init(key):
        k = jax.random.split(key, 5)
        return HVAEParams(
            W1=scale * jax.random.normal(k[0], (d1, d0)),
            U1=scale * jax.random.normal(k[1], (d0, d1)),
            W2=scale * jax.random.normal(k[2], (d2, d1)),
            U2=scale * jax.random.normal(k[3], (d1, d2)),
            log_sigma2=log_e + jax.random.uniform(k[4], (d2,), minval=-1.0, maxval=0.0),
        )

    return init
