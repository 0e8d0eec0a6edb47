"""Dang et al.'s linear conditional VAE: the model, its data statistics and its exact loss.

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

Parametrisation: Σ = diag(exp(2 log_sigma)), so σ > 0 without constraints and with no sign symmetry
(the public code squares free ``sigma_elements``, whose sign is a discrete gauge). Collapsed dimensions
sit at log σ = log η_enc, interior, so the minimum is a smooth critical point.

The closed-form optimum (Theorem 2) and the collapse condition are in `landscape.models.cvae_optimum`;
`landscape.linear_conditional` re-exports both.
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
    "CVAEParams",
    "CVAEStatistics",
    "cvae_init",
    "cvae_loss",
    "cvae_neg_elbo",
    "cvae_objective",
    "cvae_statistics",
    "cvae_statistics_from_moments",
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


# ------------------------------------------------------------------ data statistics


@dataclass(frozen=True)
class CVAEStatistics(Result):
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
        check_cvae_hyper(beta, eta_enc, eta_dec)
        return (self.A, self.B, self.C, float(beta), float(eta_enc), float(eta_dec))

    _keys = ("n", "d_x", "d_y", "A", "B", "C", "regression", "E", "theta")


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
    A = V.check_moment("A", A, (d_x, d_x), symmetric=True)
    B = V.check_moment("B", B, (d_y, d_y), symmetric=True)
    C = V.check_moment("C", C, (d_x, d_y), symmetric=False)
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

    The moments are uncentred: A must be non-singular (else ValueError), but Y may be constant; Y = 0
    gives θ = 0, where Theorem 2 predicts that every latent dimension collapses.
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
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow is refused just below
        moments = (x.T @ x / n, y.T @ y / n, x.T @ y / n)
    for name, M in (("X", moments[0]), ("Y", moments[1]), ("X and Y", moments[2])):
        if not np.all(np.isfinite(M)):
            raise ValueError(
                f"{name}: the second moment overflows float64 (entries up to 1e154 only); rescale the data."
            )
    return cvae_statistics_from_moments(*moments, n=n)


# ------------------------------------------------------------------ loss


def check_cvae_hyper(beta, eta_enc, eta_dec) -> None:
    """β, η_enc and η_dec must be finite scalars > 0 (`landscape.common.checks.check_positive_scalar`)."""
    V.check_positive_scalar("beta", beta, " Pass the KL weight β > 0 (β = 1 is the ELBO).")
    V.check_std(
        "eta_enc", eta_enc, " Pass the prior's standard deviation η_enc > 0 (p(z) = N(0, η_enc² I))."
    )
    V.check_std("eta_dec", eta_dec, " Pass the decoder's noise standard deviation η_dec > 0.")


def check_cvae_params(params, d_x: int, d_y: int) -> int:
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
        V.check_finite(f"params.{field}", getattr(params, field))
    return d_z


def cvae_objective(params: CVAEParams, A, B, C, beta, eta_enc, eta_dec) -> jax.Array:
    """The matrix loss L of the module docstring as an objective ``f(params, *args)``, unchecked.

    For the generic tools (`landscape.multistart`, `landscape.certify`, `landscape.curvature`):
    ``args = stats.args(beta, eta_enc, eta_dec)``. Use `cvae_loss` for a checked evaluation.
    """
    A, B, C = f64(A), f64(B), f64(C)
    d_y, d_z = params.U1.shape
    Mx = params.U1 @ params.W1 + params.U2
    My = params.U1 @ params.W2 - jnp.eye(d_y)
    s2 = jnp.exp(2.0 * params.log_sigma)
    recon = tr_quad(Mx, A) + tr_quad(My, B) + 2.0 * jnp.sum((Mx @ C) * My)
    recon = recon + jnp.sum(params.U1**2 * s2)  # tr U₁ΣU₁ᵀ
    mu2 = tr_quad(params.W1, A) + tr_quad(params.W2, B) + 2.0 * jnp.sum((params.W1 @ C) * params.W2)
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
    check_cvae_hyper(beta, eta_enc, eta_dec)
    check_cvae_params(params, stats.d_x, stats.d_y)
    params = CVAEParams(*(f64(a) for a in params))
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
    check_cvae_hyper(beta, eta_enc, eta_dec)
    d_z = check_cvae_params(params, d_x, d_y)
    p = CVAEParams(*(f64(a) for a in params))
    X, Y = f64(X), f64(Y)
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


# ------------------------------------------------------------------ starting points


def cvae_init(d_x: int, d_y: int, d_z: int, *, scale: float = 0.1, eta_enc: float = 1.0):
    """A starting-point sampler ``init(key) -> CVAEParams`` for `landscape.multistart`.

    W₁, W₂, U₁, U₂ entries ~ N(0, scale²) (the public code uses 0.1); log σ ~ log η_enc + U(−1, 0).
    Build it once and reuse it (it is a static argument of the compiled search).
    """
    d_x, d_y, d_z = V.check_size("d_x", d_x, 1), V.check_size("d_y", d_y, 1), V.check_size("d_z", d_z, 1)
    scale = V.check_positive_scalar("scale", scale, " Pass the standard deviation of the initial weights.")
    log_e = math.log(V.check_std("eta_enc", eta_enc))

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
