"""Dang et al.'s linear conditional VAE: the exact loss, its closed-form optimum and collapse condition.

Dang, Tran, Nguyen & Ho, *Beyond Vanilla Variational Autoencoders: Detecting Posterior Collapse in
Conditional and Hierarchical Variational Autoencoders*, ICLR 2024 (arXiv 2306.05023), §4.1 and
Theorem 2; their public code, ``matrix_CVAE.py`` and ``utils.calculate_lambda_sigma_cvae_beta``.

Model. Input x ∈ R^{d_x}, output y ∈ R^{d_y}, latent z ∈ R^{d_z}, no biases:

    q(z | x, y) = N(W₁x + W₂y, Σ),    Σ = diag(σ₁², …, σ_{d_z}²)   (learned, as in the public code)
    p(z)        = N(0, η_enc² I)
    p(y | z, x) = N(U₁z + U₂x, η_dec² I).

Loss. E is the average over the data; A = E[xxᵀ], B = E[yyᵀ], C = E[xyᵀ] (uncentred), μ = W₁x + W₂y:

    L = (1/η_dec²) (E‖U₁μ + U₂x − y‖² + tr U₁ΣU₁ᵀ)
        + β ((E‖μ‖² + tr Σ)/η_enc² − d_z − log det Σ + d_z log η_enc²)

    E‖U₁μ + U₂x − y‖² = tr(Mₓ A Mₓᵀ) + tr(M_y B M_yᵀ) + 2 tr(Mₓ C M_yᵀ),   Mₓ = U₁W₁ + U₂,  M_y = U₁W₂ − I
    E‖μ‖²             = tr(W₁AW₁ᵀ) + tr(W₂BW₂ᵀ) + 2 tr(W₁CW₂ᵀ).

L = 2 E[−ELBO_β(x, y)] − d_y log(2π η_dec²), with −ELBO_β = −E_q log p(y|z,x) + β KL(q(z|x,y) ‖ p(z))
(`cvae_neg_elbo`; β = 1 is the ELBO). The public code's matrix loss is the same function up to an additive
constant when η_enc = η_dec (their script's setting). For η_enc ≠ η_dec it weighs the KL's quadratic terms by
β c²/η_dec² with c = η_enc/η_dec, where this prior gives β/η_enc². Its closed form,
λ = √(θ − βη_dec²)/η_enc, belongs to the prior N(0, η_enc² I) used here.

Preprocessing (`cvae_statistics`). Regress y on x: Γ = Cᵀ A⁻¹, r = y − Γx, so E[r xᵀ] = 0, and

    E = E[r rᵀ] = B − Cᵀ A⁻¹ C = D (I − ZᵀZ) Dᵀ,

the paper's form, with x̃, ỹ the whitened x, y, Z = E[x̃ ỹᵀ] and D = P_B Ψ^{1/2} (B = P_B Ψ P_Bᵀ).
θ₁ ≥ … ≥ θ_{d_y} are the eigenvalues of E (its singular values; E is PSD) and q_i its eigenvectors.
θ_i is a variance: the part of y's second moment along q_i that x cannot predict linearly.

Derivation of the optimum (Theorem 2). Write μ = W₂r + Nx with N = W₁ + W₂Γ. Then
U₁μ + U₂x − y = (U₁W₂ − I) r + (U₁N + U₂ − Γ) x, and since E[r xᵀ] = 0 the loss splits:

1. The x part: E‖(U₁N + U₂ − Γ)x‖² vanishes with U₂ = Γ − U₁N, leaving only E‖Nx‖² ≥ 0 in the KL,
   which N = 0 minimises. So W₁ = −W₂Γ and U₂ = Γ at every minimum: the encoder sees only r.
2. What is left is the linear VAE of Wang & Ziyin (2022) on r, whose second moment is E. With
   k = η_dec²/η_enc²,
       η_dec² L = E‖(U₁W₂ − I) r‖² + tr U₁ΣU₁ᵀ + βk (E‖W₂r‖² + tr Σ) − β η_dec² log det Σ + const.
3. In E's eigenbasis (U₁ = Σ_i λ_i q_i e_iᵀ, W₂ = Σ_i ω_i e_i q_iᵀ, Σ = diag(s_i)) it decouples:
       f_i = θ_i (λ_i ω_i − 1)² + λ_i² s_i + βk θ_i ω_i² + βk s_i − β η_dec² log s_i.
   ∂f/∂s = 0 gives s = βη_dec²/t and ∂f/∂ω = 0 gives ω = λ/t, with t = λ² + βk ≥ βk; then
   f = βkθ/t + βη_dec² log t + const, convex in t's reciprocal, minimised at t = θ/η_enc² if that is
   ≥ βk, i.e. θ ≥ βη_dec², and at t = βk (λ = 0) otherwise.

Result, for the d_z largest θ (θ_i = 0 for latent dimensions beyond d_y):

    λ_i = √max(0, θ_i − βη_dec²) / η_enc                        (singular values of U₁)
    ω_i = η_enc √max(0, θ_i − βη_dec²) / θ_i                     (singular values of W₂)
    σ_i = √β η_enc η_dec / √θ_i  if θ_i ≥ βη_dec²,  else η_enc   (encoder standard deviations)
    L*  = Σ_{i ≤ d_z} ℓ(θ_i) + Σ_{i > d_z} θ_i/η_dec²,
          ℓ(θ) = β (1 + log(θ / (βη_dec²)))  for θ ≥ βη_dec²,   θ/η_dec²  otherwise.

Dimension i collapses (λ_i = ω_i = 0, σ_i = η_enc: q(z_i|x, y) = p(z_i) for every (x, y)) iff
θ_i < βη_dec² (at equality both branches agree; `CVAEOptimum.collapsed` counts it as collapsed). The
stronger the x–y correlation, the smaller E and the more dimensions collapse. The KL of an active
dimension at the optimum is ½ log(θ_i/(βη_dec²)). That the decoupled point is the global minimum,
not only the best point of its kind, is the theorem; the tests compare it with multi-start optimisation.

The public code's σ branch (``utils.calculate_lambda_sigma_cvae_beta``: ``if theta >= beta**(1/2) *
eta_dec``) switches at √β η_dec, the vanilla VAE's threshold, where θ is a singular value (a standard
deviation). Here θ is a variance, and the switch is at βη_dec². The two agree only where βη_dec² = 1
(`_public_code_sigma`, for the comparison test only).

Parametrisation: Σ = diag(exp(2 log_sigma)), so σ > 0 without constraints and with no sign symmetry
(the public code squares free ``sigma_elements``, whose sign is a discrete gauge). Collapsed dimensions
sit at log σ = log η_enc, interior, so the minimum is a smooth critical point.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from landscape.common import checks as V
from landscape.models.linear import _check_finite

__all__ = [
    "CVAEParams",
    "CVAEStatistics",
    "CVAEOptimum",
    "CVAESpectra",
    "cvae_statistics",
    "cvae_statistics_from_moments",
    "cvae_objective",
    "cvae_loss",
    "cvae_neg_elbo",
    "cvae_optimum",
    "cvae_spectra",
    "cvae_init",
]


class CVAEParams(NamedTuple):
    """Parameters of the linear CVAE (a pytree).

    W1: (d_z, d_x) and W2: (d_z, d_y), the encoder mean W₁x + W₂y; U1: (d_y, d_z) and U2: (d_y, d_x), the
    decoder mean U₁z + U₂x; log_sigma: (d_z,), the encoder standard deviations, Σ = diag(exp(2 log_sigma)).
    """

    W1: jax.Array
    W2: jax.Array
    U1: jax.Array
    U2: jax.Array
    log_sigma: jax.Array


# ------------------------------------------------------------------ argument checks (shared with linear_hierarchical)


def _check_positive(name: str, value, hint: str = "") -> float | None:
    """A finite scalar > 0; returns it as a float (None for a tracer)."""
    if isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be a finite number > 0, got the boolean {value!r}.{hint}")
    if np.ndim(value) != 0:
        raise ValueError(f"{name} must be a scalar, got an array of shape {np.shape(value)}.{hint}")
    x = V.concrete(value)
    if x is None:
        return None
    if not np.issubdtype(x.dtype, np.number):
        raise ValueError(f"{name} must be a number, got {value!r}.{hint}")
    if not np.isfinite(x) or x <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {float(x)!r}.{hint}")
    return float(x)


_check_finite_array = _check_finite  # one check for finite real arrays, shared with landscape.linear


def _check_moment(name: str, M, shape: tuple[int, ...], *, symmetric: bool) -> np.ndarray:
    M = np.asarray(M, dtype=np.float64)
    if M.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {M.shape}.")
    _check_finite_array(name, M)
    if symmetric and not np.allclose(M, M.T, rtol=1e-10, atol=1e-12 * max(1.0, float(np.abs(M).max()))):
        raise ValueError(f"{name} must be symmetric (a second-moment matrix); symmetrise it as (M + M.T) / 2.")
    return M


def _f64(a):
    return jnp.asarray(a, dtype=jnp.float64)


def _tr_quad(M, S):
    """tr(M S Mᵀ)."""
    return jnp.sum((M @ S) * M)


# ------------------------------------------------------------------ data statistics


@dataclass(frozen=True)
class CVAEStatistics:
    """The second moments the CVAE loss depends on, and the θ_i of Theorem 2.

    Attributes:
      A: E[xxᵀ], (d_x, d_x). B: E[yyᵀ], (d_y, d_y). C: E[xyᵀ], (d_x, d_y). All uncentred (the model has
        no biases).
      regression: Γ = Cᵀ A⁻¹, (d_y, d_x), the least-squares prediction Γx of y, and U₂ at every minimum.
      E: the residual second moment E[(y − Γx)(y − Γx)ᵀ] = B − Cᵀ A⁻¹ C = D (I − ZᵀZ) Dᵀ, (d_y, d_y).
      theta: its eigenvalues θ₁ ≥ … ≥ θ_{d_y} ≥ 0 (clipped at 0 against rounding).
      directions: the matching unit eigenvectors q_i, as columns, (d_y, d_y).
      n: the number of data points, or None when built from moments.
    """

    A: np.ndarray
    B: np.ndarray
    C: np.ndarray
    regression: np.ndarray
    E: np.ndarray
    theta: np.ndarray
    directions: np.ndarray
    n: int | None = None

    @property
    def d_x(self) -> int:
        return int(self.A.shape[0])

    @property
    def d_y(self) -> int:
        return int(self.B.shape[0])

    def args(self, beta, eta_enc=1.0, eta_dec=1.0) -> tuple:
        """The ``args`` tuple of `cvae_objective`: (A, B, C, β, η_enc, η_dec), checked."""
        _check_hyper(beta, eta_enc, eta_dec)
        return (self.A, self.B, self.C, float(beta), float(eta_enc), float(eta_dec))

    def to_dict(self) -> dict:
        return {
            "n": self.n,
            "d_x": self.d_x,
            "d_y": self.d_y,
            "A": self.A,
            "B": self.B,
            "C": self.C,
            "regression": self.regression,
            "E": self.E,
            "theta": self.theta,
        }


def cvae_statistics_from_moments(A, B, C, *, n: int | None = None) -> CVAEStatistics:
    """`CVAEStatistics` from the second moments A = E[xxᵀ] (d_x, d_x), B = E[yyᵀ] (d_y, d_y), C = E[xyᵀ] (d_x, d_y).

    A must be positive definite (the regression of y on x needs it). The residual moment is formed as
    E = B − Γ C with Γ = Cᵀ A⁻¹ (a Cholesky solve), symmetrised; θ are its eigenvalues, descending.
    """
    if np.ndim(A) != 2 or np.shape(A)[0] != np.shape(A)[1] or np.shape(A)[0] < 1:
        raise ValueError(f"A must be a square (d_x, d_x) matrix E[x xᵀ], got shape {np.shape(A)}.")
    if np.ndim(B) != 2 or np.shape(B)[0] != np.shape(B)[1] or np.shape(B)[0] < 1:
        raise ValueError(f"B must be a square (d_y, d_y) matrix E[y yᵀ], got shape {np.shape(B)}.")
    d_x, d_y = np.shape(A)[0], np.shape(B)[0]
    A = _check_moment("A", A, (d_x, d_x), symmetric=True)
    B = _check_moment("B", B, (d_y, d_y), symmetric=True)
    C = _check_moment("C", C, (d_x, d_y), symmetric=False)
    lam_A = np.linalg.eigvalsh(A)
    if not lam_A[0] > 1e-12 * max(lam_A[-1], 1e-300):
        raise ValueError(
            f"A = E[x xᵀ] is singular (smallest eigenvalue {lam_A[0]:.3g}, largest {lam_A[-1]:.3g}); the regression "
            "of y on x needs n >= d_x data points and linearly independent columns of X. Drop redundant columns."
        )
    L = np.linalg.cholesky(A)
    Gamma = np.linalg.solve(L.T, np.linalg.solve(L, C)).T  # Cᵀ A⁻¹
    E = B - Gamma @ C
    E = 0.5 * (E + E.T)
    theta, Q = np.linalg.eigh(E)
    theta, Q = np.clip(theta[::-1], 0.0, None), Q[:, ::-1].copy()
    return CVAEStatistics(A=A, B=B, C=C, regression=Gamma, E=E, theta=theta, directions=Q, n=n)


def cvae_statistics(X, Y) -> CVAEStatistics:
    """The data statistics of Theorem 2 from paired data X (n, d_x), Y (n, d_y).

    A = XᵀX/n, B = YᵀY/n, C = XᵀY/n (uncentred: the model has no biases), then E = B − CᵀA⁻¹C and its
    eigenvalues θ (see `cvae_statistics_from_moments`). Equal to the paper's D (I − ZᵀZ) Dᵀ of the
    whitened data (``data_preprocessing.calculate_ZDE_CVAE``), without its 1e-9 regulariser.
    """
    n, d_x = V.check_data(X, name="X")
    m, d_y = V.check_data(Y, name="Y")
    if m != n:
        raise ValueError(f"X and Y must have one row per pair (x_i, y_i); got {n} rows in X and {m} in Y.")
    x, y = np.asarray(X, dtype=np.float64), np.asarray(Y, dtype=np.float64)
    if n < d_x:
        raise ValueError(
            f"X has n = {n} rows but d_x = {d_x} columns: E[x xᵀ] is singular and y cannot be regressed on x; "
            f"use n >= d_x data points."
        )
    return cvae_statistics_from_moments(x.T @ x / n, y.T @ y / n, x.T @ y / n, n=n)


# ------------------------------------------------------------------ loss


def _check_hyper(beta, eta_enc, eta_dec) -> None:
    _check_positive("beta", beta, " Pass the KL weight β > 0 (β = 1 is the ELBO).")
    _check_positive("eta_enc", eta_enc, " Pass the prior's standard deviation η_enc > 0 (p(z) = N(0, η_enc² I)).")
    _check_positive("eta_dec", eta_dec, " Pass the decoder's noise standard deviation η_dec > 0.")


def _check_params(params, d_x: int, d_y: int) -> int:
    """The shapes of ``params`` must match (d_x, d_y); returns d_z."""
    if not isinstance(params, CVAEParams):
        raise ValueError(f"params must be a landscape.linear_conditional.CVAEParams, got {type(params).__name__}.")
    shape = np.shape(params.U1)
    if len(shape) != 2 or shape[0] != d_y or shape[1] < 1:
        raise ValueError(f"params.U1 must have shape (d_y, d_z) = ({d_y}, d_z >= 1); got {shape}.")
    d_z = shape[1]
    expected = {"W1": (d_z, d_x), "W2": (d_z, d_y), "U2": (d_y, d_x), "log_sigma": (d_z,)}
    for field, want in expected.items():
        got = np.shape(getattr(params, field))
        if got != want:
            raise ValueError(
                f"params.{field} must have shape {want} for d_x = {d_x}, d_y = {d_y}, d_z = {d_z}; got {got}."
            )
    for field in CVAEParams._fields:
        _check_finite_array(f"params.{field}", getattr(params, field))
    return d_z


def cvae_objective(params: CVAEParams, A, B, C, beta, eta_enc, eta_dec) -> jax.Array:
    """The matrix loss L of the module docstring as an objective ``f(params, *args)``, unchecked.

    For the generic tools (`landscape.multistart`, `landscape.certify`, `landscape.curvature`):
    ``args = stats.args(beta, eta_enc, eta_dec)``. Use `cvae_loss` for a checked evaluation.
    """
    A, B, C = _f64(A), _f64(B), _f64(C)
    d_y, d_z = params.U1.shape
    Mx = params.U1 @ params.W1 + params.U2
    My = params.U1 @ params.W2 - jnp.eye(d_y)
    s2 = jnp.exp(2.0 * params.log_sigma)
    recon = _tr_quad(Mx, A) + _tr_quad(My, B) + 2.0 * jnp.sum((Mx @ C) * My)
    recon = recon + jnp.sum(params.U1**2 * s2)  # tr U₁ΣU₁ᵀ
    mu2 = _tr_quad(params.W1, A) + _tr_quad(params.W2, B) + 2.0 * jnp.sum((params.W1 @ C) * params.W2)
    log_e2 = 2.0 * jnp.log(eta_enc)
    kl2 = (mu2 + jnp.sum(s2)) / eta_enc**2 - d_z - 2.0 * jnp.sum(params.log_sigma) + d_z * log_e2
    return recon / eta_dec**2 + beta * kl2


def cvae_loss(params: CVAEParams, stats: CVAEStatistics, beta, *, eta_enc=1.0, eta_dec=1.0) -> jax.Array:
    """The exact matrix loss L (module docstring), checked; = 2 E[−ELBO_β] − d_y log(2π η_dec²).

    Args:
      params: a `CVAEParams` matching the statistics' d_x, d_y.
      stats: a `CVAEStatistics` (`cvae_statistics(X, Y)`).
      beta: the KL weight β > 0. eta_enc: the prior's standard deviation η_enc > 0. eta_dec: the
        decoder's noise standard deviation η_dec > 0.

    Returns:
      L, a float64 scalar; differentiable in params.
    """
    if not isinstance(stats, CVAEStatistics):
        raise ValueError(f"stats must be a CVAEStatistics (from cvae_statistics(X, Y)), got {type(stats).__name__}.")
    _check_hyper(beta, eta_enc, eta_dec)
    _check_params(params, stats.d_x, stats.d_y)
    params = CVAEParams(*(_f64(a) for a in params))
    return cvae_objective(params, *stats.args(beta, eta_enc, eta_dec))


def cvae_neg_elbo(params: CVAEParams, X, Y, beta, *, eta_enc=1.0, eta_dec=1.0) -> jax.Array:
    """The per-sample negative β-ELBO in closed form, shape (n,), natural log, all constants.

        −ELBO_β(x, y) = (‖U₁μ + U₂x − y‖² + tr U₁ΣU₁ᵀ) / (2η_dec²) + (d_y/2) log(2π η_dec²)
                        + (β/2) ((‖μ‖² + tr Σ)/η_enc² − d_z − log det Σ + d_z log η_enc²),   μ = W₁x + W₂y.

    Its mean over the data is L/2 + (d_y/2) log(2π η_dec²), L = `cvae_loss`.
    """
    n, d_x = V.check_data(X, name="X")
    m, d_y = V.check_data(Y, name="Y")
    if m != n:
        raise ValueError(f"X and Y must have one row per pair (x_i, y_i); got {n} rows in X and {m} in Y.")
    _check_hyper(beta, eta_enc, eta_dec)
    d_z = _check_params(params, d_x, d_y)
    p = CVAEParams(*(_f64(a) for a in params))
    X, Y = _f64(X), _f64(Y)
    mu = X @ p.W1.T + Y @ p.W2.T
    res = mu @ p.U1.T + X @ p.U2.T - Y
    s2 = jnp.exp(2.0 * p.log_sigma)
    rec = (jnp.sum(res**2, axis=1) + jnp.sum(p.U1**2 * s2)) / (2.0 * eta_dec**2)
    rec = rec + 0.5 * d_y * math.log(2.0 * math.pi * float(eta_dec) ** 2)
    kl = 0.5 * (
        (jnp.sum(mu**2, axis=1) + jnp.sum(s2)) / eta_enc**2
        - d_z
        - 2.0 * jnp.sum(p.log_sigma)
        + d_z * 2.0 * math.log(float(eta_enc))
    )
    return rec + beta * kl


# ------------------------------------------------------------------ closed form (Theorem 2)


@dataclass(frozen=True)
class CVAEOptimum:
    """The global minimum of the linear CVAE loss in closed form (Theorem 2; module docstring).

    Attributes:
      theta: the θ_i each latent dimension models, descending, (d_z,) (0 beyond d_y).
      lambdas: singular values of U₁, λ_i = √max(0, θ_i − βη_dec²)/η_enc, matching theta.
      omegas: singular values of W₂, ω_i = η_enc √max(0, θ_i − βη_dec²)/θ_i.
      sigmas: encoder standard deviations σ_i (√β η_enc η_dec/√θ_i when active, η_enc when collapsed).
      kl: the KL of each latent dimension at the optimum, ½ log(θ_i/(βη_dec²)) or 0 (nats).
      collapsed: per dimension, θ_i ≤ βη_dec² (q(z_i|x, y) = p(z_i)).
      threshold: βη_dec².
      loss: L* (the minimum of `cvae_loss`).
      params: a `CVAEParams` at the optimum (U₁ columns λ_i q_i, W₂ rows ω_i q_iᵀ, W₁ = −W₂Γ, U₂ = Γ).
      beta, eta_enc, eta_dec: the hyperparameters.
    """

    theta: np.ndarray
    lambdas: np.ndarray
    omegas: np.ndarray
    sigmas: np.ndarray
    kl: np.ndarray
    collapsed: tuple[bool, ...]
    threshold: float
    loss: float
    params: CVAEParams
    beta: float
    eta_enc: float
    eta_dec: float

    @property
    def n_collapsed(self) -> int:
        return int(sum(self.collapsed))

    @property
    def n_active(self) -> int:
        return len(self.collapsed) - self.n_collapsed

    def to_dict(self) -> dict:
        return {
            "theta": self.theta,
            "lambdas": self.lambdas,
            "omegas": self.omegas,
            "sigmas": self.sigmas,
            "kl": self.kl,
            "collapsed": list(self.collapsed),
            "n_collapsed": self.n_collapsed,
            "threshold": self.threshold,
            "loss": self.loss,
            "beta": self.beta,
            "eta_enc": self.eta_enc,
            "eta_dec": self.eta_dec,
        }


def _theorem_values(theta, beta: float, eta_enc: float, eta_dec: float):
    """(λ, ω, σ, collapsed) of Theorem 2 for an array of θ ≥ 0."""
    tau = beta * eta_dec**2
    theta = np.asarray(theta, dtype=np.float64)
    gap = np.maximum(theta - tau, 0.0)
    collapsed = ~(theta > tau)
    lam = np.sqrt(gap) / eta_enc
    safe = np.where(collapsed, 1.0, theta)
    omega = np.where(collapsed, 0.0, eta_enc * np.sqrt(gap) / safe)
    sigma = np.where(collapsed, eta_enc, math.sqrt(beta) * eta_enc * eta_dec / np.sqrt(safe))
    return lam, omega, sigma, collapsed


def _public_code_sigma(theta, beta, eta_enc=1.0, eta_dec=1.0) -> np.ndarray:
    """The encoder standard deviations as the public code computes them (for the comparison test only).

    ``utils.calculate_lambda_sigma_cvae_beta`` in thotranhuu99/Posterior_collapse_CVAE_HVAE: σ_i =
    √β η_enc η_dec / √θ_i if θ_i ≥ √β η_dec, else η_enc. Its switch compares the variance θ_i with a
    standard deviation; Theorem 2 (and `cvae_optimum`) switches at θ_i = βη_dec². The two agree iff no
    θ_i lies between √β η_dec and βη_dec², in particular whenever βη_dec² = 1.
    """
    theta = np.asarray(theta, dtype=np.float64)
    active = theta >= math.sqrt(beta) * eta_dec
    safe = np.where(theta > 0, theta, 1.0)
    return np.where(active, math.sqrt(beta) * eta_enc * eta_dec / np.sqrt(safe), eta_enc)


def cvae_optimum(stats: CVAEStatistics, d_z: int, beta, *, eta_enc=1.0, eta_dec=1.0) -> CVAEOptimum:
    """The closed-form global minimum of the linear CVAE loss (Theorem 2; derivation in the module docstring).

    Args:
      stats: a `CVAEStatistics`.
      d_z: the latent size, ≥ 1 (latent dimensions beyond d_y model θ = 0 and always collapse).
      beta: the KL weight β > 0. eta_enc, eta_dec: the prior's and the decoder's standard deviations, > 0.

    Returns:
      A `CVAEOptimum`: singular values, variances, per-dimension collapse, L* and the point itself.
    """
    if not isinstance(stats, CVAEStatistics):
        raise ValueError(f"stats must be a CVAEStatistics (from cvae_statistics(X, Y)), got {type(stats).__name__}.")
    d_z = V.check_size("d_z", d_z, 1)
    _check_hyper(beta, eta_enc, eta_dec)
    beta, eta_enc, eta_dec = float(beta), float(eta_enc), float(eta_dec)
    d_y = stats.d_y
    k = min(d_z, d_y)
    theta = np.zeros(d_z)
    theta[:k] = stats.theta[:k]
    lam, omega, sigma, collapsed = _theorem_values(theta, beta, eta_enc, eta_dec)
    tau = beta * eta_dec**2

    Q = stats.directions
    U1 = np.zeros((d_y, d_z))
    W2 = np.zeros((d_z, d_y))
    U1[:, :k] = Q[:, :k] * lam[:k]
    W2[:k, :] = (Q[:, :k] * omega[:k]).T
    W1 = -W2 @ stats.regression
    U2 = stats.regression.copy()
    params = CVAEParams(W1=W1, W2=W2, U1=U1, U2=U2, log_sigma=np.log(sigma))

    ell = np.where(collapsed, theta / eta_dec**2, beta * (1.0 + np.log(np.where(collapsed, 1.0, theta) / tau)))
    loss = float(np.sum(ell) + np.sum(stats.theta[k:]) / eta_dec**2)
    kl = np.where(collapsed, 0.0, 0.5 * np.log(np.where(collapsed, 1.0, theta) / tau))
    return CVAEOptimum(
        theta=theta,
        lambdas=lam,
        omegas=omega,
        sigmas=sigma,
        kl=kl,
        collapsed=tuple(bool(c) for c in collapsed),
        threshold=tau,
        loss=loss,
        params=params,
        beta=beta,
        eta_enc=eta_enc,
        eta_dec=eta_dec,
    )


# ------------------------------------------------------------------ measuring a point


@dataclass(frozen=True)
class CVAESpectra:
    """What Theorem 2 predicts, measured at any point (for comparison with `CVAEOptimum`).

    Attributes:
      lambdas: singular values of U₁, descending. omegas: singular values of W₂, descending.
      order: the latent dimensions sorted by ‖U₁[:, j]‖ descending (at a minimum U₁'s columns are
        orthogonal, so these norms are the λ_i).
      column_norms, sigmas, kl: per latent dimension, in that order: ‖U₁[:, j]‖, σ_j, and the data-averaged
        KL(q(z_j|x, y) ‖ p(z_j)) = ½ ((E[μ_j²] + σ_j²)/η_enc² − 1 − log(σ_j²/η_enc²)) in nats.
    """

    lambdas: np.ndarray
    omegas: np.ndarray
    order: np.ndarray
    column_norms: np.ndarray
    sigmas: np.ndarray
    kl: np.ndarray

    def collapsed(self, kl_tol: float = 1e-8) -> np.ndarray:
        """Per dimension (in ``order``), KL < kl_tol nats: the posterior is the prior."""
        return self.kl < kl_tol

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def cvae_spectra(params: CVAEParams, stats: CVAEStatistics, *, eta_enc=1.0) -> CVAESpectra:
    """Singular values, encoder standard deviations and per-dimension KL of a CVAE point (see `CVAESpectra`)."""
    if not isinstance(stats, CVAEStatistics):
        raise ValueError(f"stats must be a CVAEStatistics (from cvae_statistics(X, Y)), got {type(stats).__name__}.")
    _check_positive("eta_enc", eta_enc, " Pass the prior's standard deviation η_enc > 0.")
    _check_params(params, stats.d_x, stats.d_y)
    p = CVAEParams(*(np.asarray(a, dtype=np.float64) for a in params))
    norms = np.linalg.norm(p.U1, axis=0)
    order = np.argsort(-norms, kind="stable")
    mu2 = (
        np.einsum("ij,jk,ik->i", p.W1, stats.A, p.W1)
        + np.einsum("ij,jk,ik->i", p.W2, stats.B, p.W2)
        + 2.0 * np.einsum("ij,jk,ik->i", p.W1, stats.C, p.W2)
    )
    s2 = np.exp(2.0 * p.log_sigma)
    e2 = float(eta_enc) ** 2
    kl = 0.5 * ((mu2 + s2) / e2 - 1.0 - np.log(s2 / e2))
    return CVAESpectra(
        lambdas=np.linalg.svd(p.U1, compute_uv=False),
        omegas=np.linalg.svd(p.W2, compute_uv=False),
        order=order,
        column_norms=norms[order],
        sigmas=np.sqrt(s2)[order],
        kl=kl[order],
    )


def cvae_init(d_x: int, d_y: int, d_z: int, *, scale: float = 0.1, eta_enc: float = 1.0):
    """A starting-point sampler ``init(key) -> CVAEParams`` for `landscape.multistart`.

    W₁, W₂, U₁, U₂ entries ~ N(0, scale²) (the public code uses 0.1); log σ ~ log η_enc + U(−1, 0).
    Build it once and reuse it (it is a static argument of the compiled search).
    """
    d_x, d_y, d_z = V.check_size("d_x", d_x, 1), V.check_size("d_y", d_y, 1), V.check_size("d_z", d_z, 1)
    scale = _check_positive("scale", scale, " Pass the standard deviation of the initial weights.")
    log_e = math.log(_check_positive("eta_enc", eta_enc))

    def init(key):
        k = jax.random.split(key, 5)
        return CVAEParams(
            W1=scale * jax.random.normal(k[0], (d_z, d_x)),
            W2=scale * jax.random.normal(k[1], (d_z, d_y)),
            U1=scale * jax.random.normal(k[2], (d_y, d_z)),
            U2=scale * jax.random.normal(k[3], (d_y, d_x)),
            log_sigma=log_e + jax.random.uniform(k[4], (d_z,), minval=-1.0, maxval=0.0),
        )

    return init
