"""Dang et al.'s linear conditional VAE: the closed-form global minimum and its collapse condition.

Dang, Tran, Nguyen & Ho, *Beyond Vanilla Variational Autoencoders: Detecting Posterior Collapse in
Conditional and Hierarchical Variational Autoencoders*, ICLR 2024 (arXiv 2306.05023), §4.1 and
Theorem 2; their public code, ``matrix_CVAE.py`` and ``utils.calculate_lambda_sigma_cvae_beta``.

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

The model, the statistics θ and the loss L are in `landscape.models.cvae` (with the module
docstring's notation); `landscape.linear_conditional` re-exports both.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from landscape.common import checks as V
from landscape.common.results import Result
from landscape.models.cvae import CVAEParams, CVAEStatistics, check_cvae_hyper, check_cvae_params

__all__ = ["CVAEOptimum", "CVAESpectra", "cvae_optimum", "cvae_spectra"]


# ------------------------------------------------------------------ closed form (Theorem 2)


@dataclass(frozen=True)
class CVAEOptimum(Result):
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

    _keys = ("theta", "lambdas", "omegas", "sigmas", "kl", "collapsed", "n_collapsed", "threshold", "loss", "beta",
             "eta_enc", "eta_dec")  # fmt: skip


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
    check_cvae_hyper(beta, eta_enc, eta_dec)
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
class CVAESpectra(Result):
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


def cvae_spectra(params: CVAEParams, stats: CVAEStatistics, *, eta_enc=1.0) -> CVAESpectra:
    """Singular values, encoder standard deviations and per-dimension KL of a CVAE point (see `CVAESpectra`)."""
    if not isinstance(stats, CVAEStatistics):
        raise ValueError(f"stats must be a CVAEStatistics (from cvae_statistics(X, Y)), got {type(stats).__name__}.")
    V.check_std("eta_enc", eta_enc, " Pass the prior's standard deviation η_enc > 0.")
    check_cvae_params(params, stats.d_x, stats.d_y)
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
