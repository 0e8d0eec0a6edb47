"""The linear-Gaussian model: probabilistic PCA and the linear VAE (MATH.md §6).

pPCA (Tipping & Bishop 1999) is the generative model z ~ N(0, I_κ), x | z ~ N(W z + b, σ² I_d),
so x ~ N(b, C) with C = W Wᵀ + σ² I. The affine VAE of eq. (5) (α = 0) has the same decoder with
γ = σ², and its ELBO is a lower bound on this exact marginal likelihood, tight where q(z|x_i) is the
exact posterior p(z|x_i). With L the energy of eq. (5) (MATH.md §1, no ½, no constants),

    ELBO = −(L + n d log 2π − n κ) / 2,        at γ = σ²,

and log p(X) − ELBO = Σ_i KL(q(z|x_i) ‖ p(z|x_i)) ≥ 0 (`ppca_posterior` gives p(z|x_i)).

Maximum likelihood (`ppca_mle`). With S = U Λ Uᵀ the sample covariance (λ_1 ≥ … ≥ λ_d), the
MLE is b = x̄, W = U_κ (Λ_κ − σ² I)^{1/2} R (Tipping & Bishop 1999, eq. 7; columns with λ_j ≤ σ²
are 0 when σ² is fixed), and, when σ² is learned, σ²_ML = (1/(d − κ)) Σ_{j>κ} λ_j (their eq. 8).

Stationary points. With σ² fixed and S = (1/n) Σ_i (x_i − x̄)(x_i − x̄)ᵀ = U Λ Uᵀ
(λ_1 ≥ … ≥ λ_d), every stationary point of the log-likelihood has b = x̄ and, up to a rotation
W → W R, columns u_j (λ_j − σ²)^{1/2} for some distinct j with λ_j ≥ σ², the other columns 0
(Tipping & Bishop 1999, §3.2; `ppca_stationary_point`, `ppca_stationary_points`). Adding ε u_i to a
zero column, u_i an eigenvector not in use, changes the log-likelihood by

    Δℓ(ε) = −(n/2) [ log(1 + ε²/σ²) − λ_i ε² / (σ² (σ² + ε²)) ] = (n/2) ε² (λ_i − σ²)/σ⁴ + O(ε⁴),

so such a point is a saddle as soon as an unused λ_i exceeds σ² (Lucas et al. 2019, "Don't Blame
the ELBO!", the pPCA analysis; `proofs_numeric.lucas_curvature` checks it). The whole Hessian of −ℓ
in W is block diagonal in the invariant 2-planes of (C, S) (`ppca_hessian_spectrum`); with A the
used eigenvectors and z the number of zero columns its inertia is (`ppca_hessian_inertia`)

    negative: z · #{i ∉ A : λ_i > σ²} + Σ_{a∈A} #{i ∉ A : λ_i > λ_a}
    zero:     z · |A| + |A| (|A| − 1) / 2              (the rotations W → W R that move W)
    positive: d κ − negative − zero.

So the only stationary point without an ascent direction is the global maximum (A = the top
min(κ, #{λ_j > σ²}) eigenvectors): pPCA has no spurious local maxima (Lucas et al. 2019, Thm 1).

The linear VAE (Lucas et al. 2019, §4). Decoder p(x|z) = N(W z + μ, σ² I), prior N(0, I_κ),
encoder q(z|x) = N(V (x − μ), D), D diagonal (`LinearVAEParams`). The ELBO is exact in closed form
(`linear_vae_elbo`, their eq. 8 and Appendix C):

    E_q log p(x|z) = −(d/2) log 2πσ² − (1/2σ²) [ ‖x − μ − W V (x − μ)‖² + tr(W D Wᵀ) ],
    KL(q(z|x) ‖ p(z)) = ½ [ tr D + ‖V (x − μ)‖² − κ − log|D| ].

For a fixed decoder the ELBO is maximised by V = M⁻¹ Wᵀ, D = σ² diag(M)⁻¹, M = WᵀW + σ² I
(`optimal_encoder`): the mean is the exact posterior mean, and the best diagonal covariance is the
reciprocal of the diagonal of the posterior precision M/σ². There the ELBO equals log p(X) iff M is
diagonal (the columns of W orthogonal), which holds at every stationary point above; so the ELBO's
stationary points are pPCA's, with the rotation R restricted to signed permutations, and its only
local maximum is the global one (Lucas et al. 2019, Theorem 1). Dimension j with λ_j ≤ σ² collapses,
q(z_j|x) = p(z_j) (`predicted_collapsed`, `collapse_count`: Lucas et al.'s (ε, δ)-collapse).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.linalg import cho_solve, solve_triangular

from landscape.common import checks as V
from landscape.core.collapsed import data_covariance

__all__ = [
    "GENERIC_RTOL",
    "DataMoments",
    "EndpointMatch",
    "LinearVAEParams",
    "PPCAFit",
    "PPCAParams",
    "PPCAStationaryPoint",
    "collapse_count",
    "collapsed_dims",
    "data_moments",
    "linear_vae_elbo",
    "linear_vae_elbo_per_example",
    "linear_vae_inertia",
    "linear_vae_init",
    "linear_vae_kl_per_dim",
    "linear_vae_objective",
    "linear_vae_optimum",
    "match_endpoint",
    "nearest_stationary_point",
    "optimal_encoder",
    "optimal_linear_vae",
    "ppca_hessian_inertia",
    "ppca_hessian_spectrum",
    "ppca_init",
    "ppca_log_likelihood",
    "ppca_mle",
    "ppca_objective",
    "ppca_posterior",
    "ppca_stationary_point",
    "ppca_stationary_points",
    "predicted_collapsed",
]

#: Relative tolerance (to max(λ_1, σ²)) below which λ_j = σ² or λ_i = λ_j counts as an equality: the
#: Hessian inertia formula then does not apply (a flat direction or a continuum of stationary points).
GENERIC_RTOL = 1e-8

_LOG_2PI = math.log(2.0 * math.pi)


def _check_sigma2(sigma2) -> None:
    if isinstance(sigma2, (bool, np.bool_)):
        raise ValueError(f"sigma2 must be a finite number > 0, got the boolean {sigma2!r}.")
    if np.ndim(sigma2) != 0:
        raise ValueError(f"sigma2 must be a scalar (the noise variance), got an array of shape {np.shape(sigma2)}.")
    s = V.concrete(sigma2)
    if s is None:
        return
    if not np.issubdtype(s.dtype, np.number):
        raise ValueError(f"sigma2 must be a number, got {sigma2!r} of type {s.dtype}.")
    if not np.isfinite(s) or s <= 0:
        raise ValueError(f"sigma2 must be a finite number > 0 (the noise variance, gamma in eq. 5), got {float(s)!r}.")


def _check_finite(name: str, a) -> None:
    x = V.concrete(a)
    if x is None:
        return
    if not np.issubdtype(x.dtype, np.number):
        raise ValueError(f"{name} must hold real numbers, got dtype {x.dtype}.")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} contains NaN or inf entries.")


def _check_model(X, W, b, sigma2) -> tuple[int, int, int]:
    """Validate (X, W, b, sigma2) of a pPCA model; returns (n, d, κ)."""
    n, d = V.check_data(X)
    W_shape = np.shape(W)
    if len(W_shape) != 2 or W_shape[0] != d or W_shape[1] < 1:
        raise ValueError(f"W must have shape (d, kappa) = ({d}, kappa >= 1) for X of shape ({n}, {d}); got {W_shape}.")
    if np.shape(b) != (d,):
        raise ValueError(f"b must have shape (d,) = ({d},) for X of shape ({n}, {d}); got {np.shape(b)}.")
    _check_finite("W", W)
    _check_finite("b", b)
    _check_sigma2(sigma2)
    return n, d, W_shape[1]


def _f64(a):
    return jnp.asarray(a, dtype=jnp.float64)


def ppca_log_likelihood(X, W, b, sigma2):
    """The exact pPCA log-likelihood ℓ = Σ_i log N(x_i; b, W Wᵀ + σ² I), natural log, all constants.

        ℓ = −(1/2) [ n d log 2π + n log|C| + Σ_i (x_i − b)ᵀ C⁻¹ (x_i − b) ],   C = W Wᵀ + σ² I

    (Tipping & Bishop 1999, eq. 4). Evaluated through the Cholesky factor of C (d × d).

    Args:
      X: data, shape (n, d).
      W: loadings, shape (d, κ); b: mean, shape (d,); sigma2: noise variance σ² > 0 (γ of eq. 5).

    Returns:
      ℓ, a float64 scalar. Jittable and differentiable (to any order) in X, W, b and sigma2; the
      value checks (finite, σ² > 0) run only on concrete inputs.
    """
    n, d, _ = _check_model(X, W, b, sigma2)
    X, W, b, sigma2 = _f64(X), _f64(W), _f64(b), _f64(sigma2)
    C = W @ W.T + sigma2 * jnp.eye(d, dtype=W.dtype)
    L = jnp.linalg.cholesky(C)
    Z = solve_triangular(L, (X - b).T, lower=True)  # L Z = Yᵀ, so Σ_i yᵢᵀ C⁻¹ yᵢ = ‖Z‖²
    logdet = 2.0 * jnp.sum(jnp.log(jnp.diag(L)))
    return -0.5 * (n * d * math.log(2.0 * math.pi) + n * logdet + jnp.sum(Z**2))


def ppca_posterior(X, W, b, sigma2):
    """The exact pPCA posterior p(z | x_i) = N(M⁻¹ Wᵀ (x_i − b), σ² M⁻¹), M = WᵀW + σ² I_κ.

    (Tipping & Bishop 1999, eqs. 6–7.) The covariance is the same for every point.

    Args:
      X, W, b, sigma2: as for `ppca_log_likelihood`.

    Returns:
      (means, cov): the posterior means, shape (n, κ), one row per data point, and the posterior
      covariance σ² M⁻¹, shape (κ, κ).
    """
    _, _, kappa = _check_model(X, W, b, sigma2)
    X, W, b, sigma2 = _f64(X), _f64(W), _f64(b), _f64(sigma2)
    M = W.T @ W + sigma2 * jnp.eye(kappa, dtype=W.dtype)
    factor = (jnp.linalg.cholesky(M), True)
    means = cho_solve(factor, W.T @ (X - b).T).T
    cov = sigma2 * cho_solve(factor, jnp.eye(kappa, dtype=W.dtype))
    return means, 0.5 * (cov + cov.T)


# --------------------------------------------------------------------------- spectra and checks


def _eig_desc(S) -> tuple[np.ndarray, np.ndarray]:
    """Eigenpairs of a symmetric matrix, eigenvalues descending."""
    lam, U = np.linalg.eigh(np.asarray(S, dtype=np.float64))
    return lam[::-1].copy(), U[:, ::-1].copy()


def _check_generic(lam: np.ndarray, sigma2: float, rtol: float, *, name: str = "X") -> None:
    """λ_j ≠ σ² for every j, and no eigenvalue above σ² repeated, both to rtol · max(λ_1, σ²)."""
    if not (np.isfinite(rtol) and rtol >= 0):
        raise ValueError(f"rtol must be a finite number >= 0, got {rtol!r}.")
    scale = max(float(lam[0]), float(sigma2))
    tol = rtol * scale
    for j in np.flatnonzero(np.abs(lam - sigma2) <= tol):
        raise ValueError(
            f"sigma2 = {sigma2:.10g} equals the eigenvalue lambda_{j + 1} = {lam[j]:.10g} of S (from {name}) to "
            f"rtol = {rtol:g}: the Hessian then has an extra flat direction and its inertia is not given by the "
            "formula; move sigma2 off the spectrum."
        )
    for i in np.flatnonzero(lam > sigma2):
        for j in range(lam.size):
            if j != i and abs(lam[i] - lam[j]) <= tol:
                a, b = sorted((int(i), j))
                raise ValueError(
                    f"{name} has a repeated eigenvalue above sigma2: lambda_{a + 1} = {lam[a]:.10g} and "
                    f"lambda_{b + 1} = {lam[b]:.10g} of S agree to rtol = {rtol:g}; the stationary points then "
                    "form a continuum and the inertia formula does not apply. Use data with a generic spectrum."
                )


def _check_eigenvalues(eigenvalues, *, name: str = "eigenvalues", sort: bool = True) -> np.ndarray:
    lam = np.asarray(eigenvalues)
    if lam.ndim != 1 or lam.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array (the eigenvalues of S), got shape {lam.shape}.")
    if not np.issubdtype(lam.dtype, np.number) or lam.dtype == np.bool_:
        raise ValueError(f"{name} must hold real numbers, got dtype {lam.dtype}.")
    lam = lam.astype(np.float64)
    if not np.all(np.isfinite(lam)):
        raise ValueError(f"{name} contains NaN or inf entries.")
    if np.any(lam < -1e-12 * max(1.0, float(np.max(np.abs(lam))))):
        raise ValueError(f"{name} must be >= 0 (a covariance spectrum), got min {float(lam.min()):.6g}.")
    if not sort and np.any(np.diff(lam) > 0):
        raise ValueError(f"{name} must be sorted in descending order (active indexes into it), got {lam}.")
    return np.sort(np.clip(lam, 0.0, None))[::-1].copy()


def _check_active(active, kappa: int, d: int) -> tuple[int | None, ...]:
    active = tuple(active)
    if len(active) != kappa:
        raise ValueError(f"active must have one entry per column (kappa = {kappa}), got {len(active)} entries.")
    for a in active:
        if a is not None and (isinstance(a, bool) or not isinstance(a, (int, np.integer)) or not 0 <= a < d):
            raise ValueError(f"active entries must be None or an eigenvector index in [0, d) = [0, {d}), got {a!r}.")
    used = [int(a) for a in active if a is not None]
    if len(set(used)) != len(used):
        raise ValueError(f"active must not use an eigenvector twice, got {active}.")
    return tuple(None if a is None else int(a) for a in active)


def _check_unit_interval(name: str, value) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a number in (0, 1), got {value!r}.")
    if not (np.isfinite(value) and 0 < value < 1):
        raise ValueError(f"{name} must be in the open interval (0, 1), got {value!r}.")
    return float(value)


def _check_kappa_le_d(kappa, d: int) -> int:
    kappa = V.check_kappa(kappa)
    if kappa > d:
        raise ValueError(f"kappa must be <= d = {d} (a latent per data dimension at most), got kappa = {kappa}.")
    return kappa


def _check_ddof(ddof) -> int:
    if isinstance(ddof, bool) or not isinstance(ddof, (int, np.integer)) or ddof not in (0, 1):
        raise ValueError(
            f"ddof must be 0 (S = (1/n) sum, the MLE) or 1 (np.cov's 1/(n - 1), as in Lucas et al.'s notebook), "
            f"got {ddof!r}."
        )
    return int(ddof)


# --------------------------------------------------------------------------- Hessian at stationary points


def ppca_hessian_spectrum(eigenvalues, sigma2, active, n: int) -> np.ndarray:
    """The eigenvalues of the Hessian of −ℓ in W (d κ of them, ascending) at a fixed-σ² stationary point.

    In the invariant 2-planes of (C, S) (derived with sympy in `proofs_numeric.lucas_curvature`):

        zero column × unused i:    n (σ² − λ_i)/σ⁴
        zero column × used a:      0                              (a rotation W → W R)
        active a × unused i:       n (λ_a − λ_i)/(σ² λ_a)
        active a, along itself:    2n (λ_a − σ²)/λ_a²
        active pair a < c:         0 (rotation) and n (λ_a + λ_c − 2σ²)/(λ_a λ_c)

    Args:
      eigenvalues: λ_1 ≥ … ≥ λ_d of S = (1/n) Σ (x_i − x̄)(x_i − x̄)ᵀ, in descending order.
      sigma2: the fixed noise variance σ² > 0.
      active: one entry per column of W: the 0-based index of its eigenvector, or None (a zero column).
      n: the number of data points (the Hessian of the total −ℓ scales with it).
    """
    lam = _check_eigenvalues(eigenvalues, sort=False)
    _check_sigma2(sigma2)
    s2 = float(sigma2)
    n = V.check_size("n", n, 1)
    active = _check_active(active, len(tuple(active)), lam.size)
    used = [a for a in active if a is not None]
    unused = [i for i in range(lam.size) if i not in used]
    z = len(active) - len(used)
    out: list[float] = []
    for _ in range(z):
        out += [n * (s2 - lam[i]) / s2**2 for i in unused] + [0.0] * len(used)
    for a in used:
        out += [n * (lam[a] - lam[i]) / (s2 * lam[a]) for i in unused]
        out.append(2 * n * (lam[a] - s2) / lam[a] ** 2)
    for a, c in itertools.combinations(used, 2):
        out += [0.0, n * (lam[a] + lam[c] - 2 * s2) / (lam[a] * lam[c])]
    return np.sort(np.asarray(out, dtype=np.float64))


def ppca_hessian_inertia(eigenvalues, sigma2, active, *, rtol: float = GENERIC_RTOL) -> tuple[int, int, int]:
    """(negative, zero, positive) eigenvalue counts of the Hessian of −ℓ in W at a fixed-σ² stationary point.

        negative = z · #{i ∉ A : λ_i > σ²} + Σ_{a∈A} #{i ∉ A : λ_i > λ_a}      (ascent directions of ℓ)
        zero     = z · |A| + |A| (|A| − 1) / 2                               (rotations W → W R)
        positive = d κ − negative − zero,

    A the used eigenvectors, z the number of zero columns (Lucas et al. 2019; Tipping & Bishop 1999,
    §3.2; derived in `proofs_numeric.lucas_curvature`). In (W, b) add d positive eigenvalues: b = x̄
    decouples (∂²ℓ/∂W∂b = 0 there) and its block is −n C⁻¹.

    Raises ValueError when σ² equals some λ_j or an eigenvalue above σ² is repeated (to ``rtol`` ·
    max(λ_1, σ²)): the formula then does not hold.
    """
    lam = _check_eigenvalues(eigenvalues, sort=False)
    _check_sigma2(sigma2)
    s2 = float(sigma2)
    active = _check_active(active, len(tuple(active)), lam.size)
    _check_generic(lam, s2, rtol, name="eigenvalues")
    used = [a for a in active if a is not None]
    for a in used:
        if lam[a] < s2:
            raise ValueError(f"active uses eigenvector {a} with lambda = {lam[a]:.6g} < sigma2 = {s2:.6g}.")
    unused = [i for i in range(lam.size) if i not in used]
    z = len(active) - len(used)
    neg = z * sum(lam[i] > s2 for i in unused) + sum(lam[i] > lam[a] for a in used for i in unused)
    zero = z * len(used) + len(used) * (len(used) - 1) // 2
    return int(neg), int(zero), int(lam.size * len(active) - neg - zero)


# --------------------------------------------------------------------------- stationary points


@dataclass(frozen=True)
class PPCAStationaryPoint:
    """A stationary point of the fixed-σ² pPCA log-likelihood (Tipping & Bishop 1999, §3.2).

    Attributes:
      W: loadings, shape (d, κ); column j is u_{active[j]} (λ_{active[j]} − σ²)^{1/2}, or 0 where
        active[j] is None.
      b: the data mean x̄, shape (d,).
      sigma2: the noise variance σ².
      active: for each column, the 0-based index of its eigenvector of S (descending order), or None.
      eigenvalues: λ_1 ≥ … ≥ λ_d of S = (1/n) Σ (x_i − x̄)(x_i − x̄)ᵀ, shape (d,).
      eigenvectors: the matching unit eigenvectors, as columns, shape (d, d).
      n: the number of data points (None if unknown; needed for `log_likelihood` and `hessian_spectrum`).

    The curvature (`inertia`, `index`, `label`) comes from the closed form of `ppca_hessian_inertia`
    and raises ValueError on a non-generic spectrum (σ² = λ_j, or a repeated eigenvalue above σ²).
    """

    W: np.ndarray
    b: np.ndarray
    sigma2: float
    active: tuple[int | None, ...]
    eigenvalues: np.ndarray
    eigenvectors: np.ndarray
    n: int | None = None

    @property
    def unused(self) -> tuple[int, ...]:
        """The indices of the eigenvectors of S that no column uses."""
        used = {a for a in self.active if a is not None}
        return tuple(i for i in range(self.eigenvalues.size) if i not in used)

    @property
    def used(self) -> tuple[int, ...]:
        """The indices of the eigenvectors in use, ascending (the set A)."""
        return tuple(sorted(a for a in self.active if a is not None))

    @property
    def n_zero_columns(self) -> int:
        """z, the number of zero columns of W."""
        return sum(a is None for a in self.active)

    @property
    def inertia(self) -> tuple[int, int, int]:
        """(negative, zero, positive) eigenvalues of the Hessian of −ℓ in W (`ppca_hessian_inertia`)."""
        return ppca_hessian_inertia(self.eigenvalues, self.sigma2, self.active)

    @property
    def inertia_Wb(self) -> tuple[int, int, int]:
        """The same in (W, b): b = x̄ decouples and adds d positive eigenvalues (−n C⁻¹ in ℓ)."""
        neg, zero, pos = self.inertia
        return neg, zero, pos + self.eigenvalues.size

    @property
    def index(self) -> int:
        """The number of ascent directions of ℓ: negative eigenvalues of the Hessian of −ℓ (in W or (W, b))."""
        return self.inertia[0]

    @property
    def is_global_max(self) -> bool:
        """Whether A is the top min(κ, #{λ_j > σ²}) eigenvectors: the global maximum (Tipping & Bishop)."""
        m = int(np.sum(self.eigenvalues > self.sigma2))
        return set(self.used) == set(range(min(len(self.active), m)))

    @property
    def label(self) -> str:
        """ "global_max", "saddle" (index > 0), or "local_max" (index 0 but not global: never, by Theorem 1)."""
        if self.is_global_max:
            return "global_max"
        return "saddle" if self.index > 0 else "local_max"

    @property
    def log_likelihood(self) -> float:
        """ℓ in nats, in closed form: −(n/2) Σ_j [log 2π + log c_j + λ_j/c_j], c_j = λ_j (j ∈ A) or σ²."""
        if self.n is None:
            raise ValueError("this PPCAStationaryPoint was built without n; construct it with ppca_stationary_point.")
        c = np.full(self.eigenvalues.size, float(self.sigma2))
        for a in self.used:
            c[a] = self.eigenvalues[a]
        return float(-0.5 * self.n * np.sum(_LOG_2PI + np.log(c) + self.eigenvalues / c))

    def hessian_spectrum(self) -> np.ndarray:
        """The d κ eigenvalues of the Hessian of −ℓ in W (`ppca_hessian_spectrum`), ascending."""
        if self.n is None:
            raise ValueError("this PPCAStationaryPoint was built without n; construct it with ppca_stationary_point.")
        return ppca_hessian_spectrum(self.eigenvalues, self.sigma2, self.active, self.n)

    def to_dict(self) -> dict:
        out = {
            "W": self.W,
            "b": self.b,
            "sigma2": self.sigma2,
            "active": list(self.active),
            "eigenvalues": self.eigenvalues,
            "n": self.n,
            "n_zero_columns": self.n_zero_columns,
            "is_global_max": self.is_global_max,
        }
        if self.n is not None:
            out["log_likelihood"] = self.log_likelihood
        try:
            out.update(inertia=list(self.inertia), inertia_Wb=list(self.inertia_Wb), label=self.label)
        except ValueError as err:  # non-generic spectrum: no closed-form inertia
            out.update(inertia=None, inertia_Wb=None, label=None, inertia_error=str(err))
        return out


def _build_point(x: np.ndarray, lam, U, s2: float, active, n: int) -> PPCAStationaryPoint:
    d = lam.size
    W = np.zeros((d, len(active)))
    for j, a in enumerate(active):
        if a is None:
            continue
        if lam[a] < s2:
            raise ValueError(
                f"active[{j}] = {a} has eigenvalue {lam[a]:.6g} < sigma2 = {s2:.6g}: no real column "
                "u (lambda - sigma2)^(1/2) exists; use None (a zero column) instead."
            )
        W[:, j] = U[:, a] * math.sqrt(lam[a] - s2)
    return PPCAStationaryPoint(
        W=W, b=x.mean(axis=0), sigma2=s2, active=tuple(active), eigenvalues=lam, eigenvectors=U, n=int(n)
    )


def ppca_stationary_point(X, kappa: int, sigma2, active) -> PPCAStationaryPoint:
    """The stationary point of the fixed-σ² pPCA log-likelihood with the given eigenvectors in use.

    Column j of W is u_{active[j]} (λ_{active[j]} − σ²)^{1/2} and column j is 0 where active[j] is
    None; b = x̄. With u, λ the eigenpairs of S = (1/n) Σ (x_i − x̄)(x_i − x̄)ᵀ in descending
    order, these (and their rotations W R) are all the stationary points (Tipping & Bishop 1999,
    §3.2; MATH.md §6). Active columns need λ_{active[j]} ≥ σ². Choosing active = (0, 1, …) with
    every λ > σ² (None where λ ≤ σ²) gives the global maximum; any point with a zero column and an
    unused λ_i > σ² is a saddle (Lucas et al. 2019). `ppca_stationary_points` lists them all.

    Args:
      X: data, shape (n, d).
      kappa: the number of columns of W, ≥ 1.
      sigma2: the fixed noise variance σ² > 0.
      active: a sequence of length kappa of distinct 0-based eigenvector indices or None.

    Returns:
      A `PPCAStationaryPoint` (with its closed-form log-likelihood, inertia and label).
    """
    n, d = V.check_data(X)
    kappa = V.check_kappa(kappa)
    _check_sigma2(sigma2)
    active = _check_active(active, kappa, d)
    x = np.asarray(X, dtype=np.float64)
    lam, U = _eig_desc(data_covariance(x))
    return _build_point(x, lam, U, float(sigma2), active, n)


def ppca_stationary_points(
    X, kappa: int, sigma2, *, rtol: float = GENERIC_RTOL, max_points: int = 100_000
) -> tuple[PPCAStationaryPoint, ...]:
    """Every stationary point of the fixed-σ² pPCA log-likelihood, up to rotation W → W R and column order.

    One point per subset A of {j : λ_j > σ²} with |A| ≤ κ: the columns u_a (λ_a − σ²)^{1/2}, a ∈ A
    ascending, then κ − |A| zero columns (Tipping & Bishop 1999, §3.2). Points with λ_a = σ² would
    coincide with a zero column and are excluded by the genericity check. Each carries its log-likelihood
    and its closed-form Hessian inertia (`PPCAStationaryPoint.inertia`, `.index`, `.label`); exactly
    one is the global maximum and none is a "local_max" (Lucas et al. 2019, Theorem 1).

    Args:
      X: data, shape (n, d), not constant.
      kappa: the number of columns of W, ≥ 1.
      sigma2: the fixed noise variance σ² > 0.
      rtol: σ² within rtol · max(λ_1, σ²) of an eigenvalue, or two eigenvalues above σ² that close,
        raise ValueError (the inertia formula needs a generic spectrum).
      max_points: refuse (ValueError) to list more than this many points (Σ_{k≤κ} C(m, k), m = #{λ_j > σ²}).

    Returns:
      A tuple of `PPCAStationaryPoint`, by |A| and then lexicographically in A; exactly one has
      ``is_global_max`` (A = {0, …, min(κ, m) − 1}).
    """
    n, d = V.check_data(X)
    kappa = V.check_kappa(kappa)
    _check_sigma2(sigma2)
    V.check_not_constant(X)
    max_points = V.check_size("max_points", max_points, 1)
    x = np.asarray(X, dtype=np.float64)
    lam, U = _eig_desc(data_covariance(x))
    s2 = float(sigma2)
    _check_generic(lam, s2, float(rtol), name="X")
    eligible = [j for j in range(d) if lam[j] > s2]
    kmax = min(kappa, len(eligible))
    count = sum(math.comb(len(eligible), k) for k in range(kmax + 1))
    if count > max_points:
        raise ValueError(
            f"there are {count} stationary points (subsets of the {len(eligible)} eigenvalues above sigma2 of size "
            f"<= kappa = {kappa}), more than max_points = {max_points}; raise max_points or sigma2, or lower kappa."
        )
    return tuple(
        _build_point(x, lam, U, s2, tuple(subset) + (None,) * (kappa - k), n)
        for k in range(kmax + 1)
        for subset in itertools.combinations(eligible, k)
    )


def nearest_stationary_point(X, W, sigma2) -> tuple[PPCAStationaryPoint, float]:
    """The fixed-σ² stationary point whose W Wᵀ is closest to that of a given W, and the distance.

    The active set is read off the spectrum: u_jᵀ W Wᵀ u_j against λ_j − σ² for every λ_j > σ²
    (more than half of it: in use), keeping the κ largest ratios. The distance is
    ‖W Wᵀ − W* W*ᵀ‖_F / λ_1, invariant to W → W R.

    Args:
      X: data, shape (n, d); W: loadings, shape (d, κ); sigma2: σ² > 0 (e.g. the endpoint's own).

    Returns:
      (the `PPCAStationaryPoint`, the relative distance).
    """
    n, d = V.check_data(X)
    Wn = V.concrete(W)
    if Wn is None or Wn.ndim != 2 or Wn.shape[0] != d:
        raise ValueError(f"W must be a concrete array of shape (d, kappa) = ({d}, kappa); got {np.shape(W)}.")
    _check_finite("W", Wn)
    _check_sigma2(sigma2)
    kappa = Wn.shape[1]
    x = np.asarray(X, dtype=np.float64)
    lam, U = _eig_desc(data_covariance(x))
    s2 = float(sigma2)
    Wn = Wn.astype(np.float64)
    G = Wn @ Wn.T
    g = np.einsum("ij,ik,kj->j", U, G, U)
    ratio = np.where(lam > s2, g / np.maximum(lam - s2, np.finfo(float).tiny), 0.0)
    cand = [int(j) for j in np.argsort(-ratio, kind="stable") if lam[j] > s2 and ratio[j] > 0.5][:kappa]
    cand.sort()
    pt = _build_point(x, lam, U, s2, tuple(cand) + (None,) * (kappa - len(cand)), n)
    dist = float(np.linalg.norm(G - pt.W @ pt.W.T) / max(float(lam[0]), np.finfo(float).tiny))
    return pt, dist


# --------------------------------------------------------------------------- maximum likelihood


@dataclass(frozen=True)
class PPCAFit:
    """The closed-form pPCA maximum-likelihood solution (`ppca_mle`).

    Attributes:
      W: loadings, shape (d, κ): column j = u_j (λ_j − σ²)^{1/2} if λ_j > σ², else 0.
      b: the data mean x̄, shape (d,).
      sigma2: σ², fixed or learned (σ²_ML = mean of the d − κ smallest eigenvalues).
      learned_sigma2: whether σ² was estimated.
      log_likelihood: ℓ = Σ_i log N(x_i; x̄, W Wᵀ + σ² I) on the data, total, nats.
      log_likelihood_per_example: ℓ / n.
      eigenvalues: λ_1 ≥ … ≥ λ_d of the covariance used, S_ddof = Σ (x_i − x̄)(x_i − x̄)ᵀ / (n − ddof)
        (clipped at 0).
      eigenvectors: the matching unit eigenvectors, as columns, shape (d, d).
      n_active: #{j ≤ κ : λ_j > σ²}, the non-zero columns of W.
      ddof: 0 or 1.
      n, kappa: the number of data points and of latent dimensions.
    """

    W: np.ndarray
    b: np.ndarray
    sigma2: float
    learned_sigma2: bool
    log_likelihood: float
    log_likelihood_per_example: float
    eigenvalues: np.ndarray
    eigenvectors: np.ndarray
    n_active: int
    ddof: int
    n: int
    kappa: int

    @property
    def params(self) -> PPCAParams:
        """The fit as `PPCAParams` (log_sigma2 set only if σ² was learned)."""
        return PPCAParams(
            W=jnp.asarray(self.W),
            b=jnp.asarray(self.b),
            log_sigma2=jnp.asarray(math.log(self.sigma2)) if self.learned_sigma2 else None,
        )

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "eigenvectors"}


def ppca_mle(X, kappa: int, sigma2=None, *, ddof: int = 0) -> PPCAFit:
    """The closed-form pPCA maximum-likelihood estimate (Tipping & Bishop 1999, eqs. 7–8).

    With S_ddof = U Λ Uᵀ (λ_1 ≥ … ≥ λ_d): b = x̄; σ² = σ²_ML = (1/(d − κ)) Σ_{j>κ} λ_j when
    ``sigma2`` is None (eq. 8), else the given σ²; column j ≤ κ of W is u_j (λ_j − σ²)^{1/2} when
    λ_j > σ² and 0 otherwise (eq. 7 with R = I; the fixed-σ² form is Lucas et al. 2019, §3).

    ``ddof = 0``: S = (1/n) Σ (x_i − x̄)(x_i − x̄)ᵀ, and the fit is the exact MLE. ``ddof = 1``: S is
    np.cov's 1/(n − 1) covariance, as in Lucas et al.'s linear-VAE notebook (pPCA on the first 1000
    MNIST images, 941.6543 nats per example); the model (W, σ²) is then the closed form above built from
    that S, which is not quite the MLE. In both cases ``log_likelihood`` is the exact
    Σ_i log N(x_i; x̄, W Wᵀ + σ² I) on the data X for the model returned, computed in closed form
    through the shared eigenvectors: with c_j = max(λ_j, σ²) (j ≤ κ) or σ² (j > κ) and λ⁰_j =
    λ_j (n − ddof)/n the eigenvalues of the 1/n covariance,

        ℓ = −(n/2) Σ_j [log 2π + log c_j + λ⁰_j / c_j].

    Args:
      X: data, shape (n, d), n ≥ 2, finite, not constant.
      kappa: the latent size, 1 ≤ κ ≤ d (κ < d when σ² is learned).
      sigma2: a fixed noise variance σ² > 0, or None to learn it.
      ddof: 0 or 1 (see above).

    Returns:
      A `PPCAFit`.
    """
    n, d = V.check_data(X)
    kappa = _check_kappa_le_d(kappa, d)
    ddof = _check_ddof(ddof)
    V.check_not_constant(X)
    x = np.asarray(X, dtype=np.float64)
    y = x - x.mean(axis=0)
    lam, U = _eig_desc(y.T @ y / (n - ddof))
    lam = np.clip(lam, 0.0, None)
    if sigma2 is None:
        if kappa == d:
            raise ValueError(
                f"sigma2=None (learned) needs kappa < d: with kappa = d = {d} no eigenvalue is left over for "
                "sigma2_ML = mean of the d - kappa smallest eigenvalues (Tipping & Bishop eq. 8); C = S is then "
                "reached for every sigma2 <= lambda_d, so sigma2 is not identified. Lower kappa or fix sigma2."
            )
        s2 = float(np.mean(lam[kappa:]))
        if not s2 > 0:
            raise ValueError(
                f"X has rank <= kappa = {kappa}: sigma2_ML = 0 and the likelihood is unbounded; lower kappa or "
                "fix sigma2."
            )
    else:
        _check_sigma2(sigma2)
        s2 = float(sigma2)
    W = np.zeros((d, kappa))
    on = lam[:kappa] > s2
    W[:, on] = U[:, :kappa][:, on] * np.sqrt(lam[:kappa][on] - s2)
    c = np.full(d, s2)
    c[:kappa] = np.maximum(lam[:kappa], s2)
    lam0 = lam * (n - ddof) / n
    ll = float(-0.5 * n * np.sum(_LOG_2PI + np.log(c) + lam0 / c))
    return PPCAFit(
        W=W,
        b=x.mean(axis=0),
        sigma2=s2,
        learned_sigma2=sigma2 is None,
        log_likelihood=ll,
        log_likelihood_per_example=ll / n,
        eigenvalues=lam,
        eigenvectors=U,
        n_active=int(np.sum(on)),
        ddof=ddof,
        n=n,
        kappa=kappa,
    )


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
        lam = _check_eigenvalues(np.linalg.eigvalsh(data_covariance(eigenvalues_or_X)).clip(0.0), name="X")
    else:
        lam = _check_eigenvalues(eigenvalues_or_X, name="eigenvalues_or_X")
    kappa = _check_kappa_le_d(kappa, lam.size)
    if sigma2 is None:
        if kappa == lam.size:
            raise ValueError("sigma2=None (learned) needs kappa < d: sigma2_ML averages the d - kappa smallest.")
        s2 = float(np.mean(lam[kappa:]))
    else:
        _check_sigma2(sigma2)
        s2 = float(sigma2)
    return int(np.sum(lam[:kappa] <= s2))


# --------------------------------------------------------------------------- pPCA as an objective


class PPCAParams(NamedTuple):
    """pPCA parameters for `ppca_objective`: W (d, κ), b (d,), and log σ² (a scalar) or None (σ² fixed)."""

    W: Any
    b: Any
    log_sigma2: Any = None


def _resolve_sigma2(log_sigma2, sigma2, owner: str):
    if sigma2 is not None:
        if log_sigma2 is not None:
            raise ValueError(
                f"sigma2 was passed and {owner}.log_sigma2 is set: drop one (params._replace(log_sigma2=None) "
                "holds sigma2 fixed; sigma2=None learns it through log_sigma2)."
            )
        _check_sigma2(sigma2)
        return _f64(sigma2)
    if log_sigma2 is None:
        raise ValueError(f"sigma2 is None and {owner}.log_sigma2 is None: pass sigma2 (fixed) or set log_sigma2.")
    if np.ndim(log_sigma2) != 0:
        raise ValueError(f"{owner}.log_sigma2 must be a scalar, got shape {np.shape(log_sigma2)}.")
    _check_finite(f"{owner}.log_sigma2", log_sigma2)
    return jnp.exp(_f64(log_sigma2))


def ppca_objective(params: PPCAParams, X, sigma2=None):
    """−ℓ / n for `landscape.multistart` and `landscape.certify`: ``f(params, X, sigma2)``.

    Args:
      params: `PPCAParams`; σ² = exp(params.log_sigma2) when ``sigma2`` is None.
      X: data, shape (n, d).
      sigma2: a fixed σ² > 0 (then params.log_sigma2 must be None), or None.
    """
    if not isinstance(params, PPCAParams):
        raise ValueError(f"params must be a landscape.linear.PPCAParams, got {type(params).__name__}.")
    s2 = _resolve_sigma2(params.log_sigma2, sigma2, "params")
    n, _ = V.check_data(X)
    return -ppca_log_likelihood(X, params.W, params.b, s2) / n


def ppca_init(X, kappa: int, *, learn_sigma2: bool = False, scale: float = 1.0) -> Callable[[jax.Array], PPCAParams]:
    """A random starting point for `landscape.multistart` on `ppca_objective`: ``init(key) -> PPCAParams``.

    In units of the data, with s² = tr(S)/d: W ~ N(0, scale² s²/κ), b ~ x̄ + N(0, scale² s²),
    log σ² ~ log s² + N(0, 0.5²) when learned (else None).
    """
    n, d = V.check_data(X)
    kappa = V.check_kappa(kappa)
    s2bar = V.check_not_constant(X)
    xbar = jnp.asarray(np.asarray(X, dtype=np.float64).mean(axis=0))
    sd = float(scale) * math.sqrt(s2bar)

    def init(key):
        k1, k2, k3 = jax.random.split(key, 3)
        W = sd / math.sqrt(kappa) * jax.random.normal(k1, (d, kappa))
        b = xbar + sd * jax.random.normal(k2, (d,))
        ls = math.log(s2bar) + 0.5 * jax.random.normal(k3, ()) if learn_sigma2 else None
        return PPCAParams(W, b, ls)

    return init


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


def data_moments(X) -> DataMoments:
    """(n, x̄, S with 1/n) of data X (n, d), in float64, for `linear_vae_elbo` and `linear_vae_objective`."""
    n, d = V.check_data(X)
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
        _check_finite(f"params.{field}", getattr(params, field))
    _check_finite("params.W", params.W)
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
        _check_finite("data.mean", data.mean)
        _check_finite("data.cov", data.cov)
        return True, d_shape[0]
    _, d = V.check_data(data, name="data")
    return False, d


def _elbo_moments(params: LinearVAEParams, m: DataMoments, s2):
    """Σ_i ELBO_i from (n, x̄, S): with δ = x̄ − μ and S_μ = S + δ δᵀ, the data average of ‖x − μ − W V(x − μ)‖²
    is tr S_μ − 2 tr(W V S_μ) + tr(WᵀW V S_μ Vᵀ) and that of ‖V (x − μ)‖² is tr(V S_μ Vᵀ)."""
    W, mu, Vm, log_D = (_f64(a) for a in params[:4])
    n, mean, S = _f64(m.n), _f64(m.mean), _f64(m.cov)
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
    W, mu, Vm, log_D = (_f64(a) for a in params[:4])
    X = _f64(X)
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
    s2 = _resolve_sigma2(params.log_sigma2, sigma2, "params")
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
    s2 = _resolve_sigma2(params.log_sigma2, sigma2, "params")
    if moments:
        return _elbo_moments(params, data, s2)
    return jnp.sum(_elbo_points(params, data, s2))


def linear_vae_objective(params: LinearVAEParams, data, sigma2=None):
    """−ELBO / n, to minimise with `landscape.multistart` or certify with `landscape.certify`.

    ``f(params, data, sigma2)``: data is X or `DataMoments`; σ² fixed (``sigma2`` a number,
    params.log_sigma2 None) or learned (``sigma2=None``).
    """
    moments, _ = _data_dims(data)
    n = _f64(data.n) if moments else np.shape(data)[0]
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
    if np.ndim(W) != 2 or np.shape(W)[1] < 1:
        raise ValueError(f"W must have shape (d, kappa), kappa >= 1; got {np.shape(W)}.")
    _check_finite("W", W)
    _check_sigma2(sigma2)
    W, s2 = _f64(W), _f64(sigma2)
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
    _check_finite("mu", mu)
    return LinearVAEParams(
        W=_f64(W), mu=_f64(mu), V=Vm, log_D=jnp.log(D), log_sigma2=jnp.log(_f64(sigma2)) if learn_sigma2 else None
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
    if not (np.isfinite(scale) and scale > 0):
        raise ValueError(f"scale must be a finite number > 0, got {scale!r}.")
    m = data if isinstance(data, DataMoments) else data_moments(data)
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
    eps = _check_unit_interval("eps", eps)
    delta = _check_unit_interval("delta", delta)
    kl = linear_vae_kl_per_dim(params, X)
    return np.mean(kl < eps, axis=0) >= 1.0 - delta


def collapse_count(params: LinearVAEParams, X, eps: float = 0.01, delta: float = 0.01) -> int:
    """The number of (ε, δ)-collapsed latent dimensions (`collapsed_dims`)."""
    return int(np.sum(collapsed_dims(params, X, eps, delta)))


# --------------------------------------------------------------------------- endpoints of an ascent


@dataclass(frozen=True)
class EndpointMatch:
    """What an endpoint of ELBO (or ℓ) ascent is, against the pPCA stationary points (`match_endpoint`).

    Attributes:
      label: "global_max" (value = the pPCA MLE log-likelihood to rtol, at the global maximum's active
        set), "saddle" (value and W Wᵀ match an enumerated saddle), or "other".
      value: the objective at the endpoint, total nats.
      global_max: the pPCA maximum log-likelihood (fixed σ², or learned).
      sigma2: the endpoint's σ².
      active: the eigenvectors in use at the nearest stationary point (A, ascending).
      point_log_likelihood: ℓ at that point.
      index: its number of ascent directions (None on a non-generic spectrum).
      rel_value_error: |value − ℓ(point)| / |ℓ(point)|.
      rel_wwt_error: ‖W Wᵀ − W* W*ᵀ‖_F / λ_1.
    """

    label: str
    value: float
    global_max: float
    sigma2: float
    active: tuple[int, ...]
    point_log_likelihood: float
    index: int | None
    rel_value_error: float
    rel_wwt_error: float

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def match_endpoint(
    X, W, value, sigma2, *, learned_sigma2: bool = False, rtol: float = 1e-6, wtol: float = 1e-4
) -> EndpointMatch:
    """Classify an endpoint (W, value, σ²) of ELBO or likelihood ascent (Lucas et al. 2019, Theorem 1).

    "global_max" if |value − ℓ*| ≤ rtol |ℓ*|, ℓ* the pPCA maximum log-likelihood (at the same fixed σ²,
    or learned), and the nearest stationary point is the global one; "saddle" if the nearest stationary
    point at the endpoint's σ² (`nearest_stationary_point`) has index > 0, |value − ℓ| ≤ rtol |ℓ| and
    ‖W Wᵀ − W* W*ᵀ‖_F ≤ wtol λ_1; else "other". Theorem 1 says only the first two occur.
    """
    n, d = V.check_data(X)
    Wn = V.concrete(W)
    if Wn is None or Wn.ndim != 2 or Wn.shape[0] != d:
        raise ValueError(f"W must be a concrete array of shape (d, kappa) = ({d}, kappa); got {np.shape(W)}.")
    kappa = Wn.shape[1]
    if not np.isfinite(float(value)):
        raise ValueError(f"value must be finite, got {value!r}.")
    pt, dist = nearest_stationary_point(X, Wn, sigma2)
    fit = ppca_mle(X, kappa, None if learned_sigma2 else sigma2)
    value = float(value)
    l_pt = pt.log_likelihood
    try:
        index = pt.index
    except ValueError:
        index = None
    rel = abs(value - l_pt) / abs(l_pt)
    if abs(value - fit.log_likelihood) <= rtol * abs(fit.log_likelihood) and pt.is_global_max:
        label = "global_max"
    elif index is not None and index > 0 and rel <= rtol and dist <= wtol:
        label = "saddle"
    else:
        label = "other"
    return EndpointMatch(
        label=label,
        value=value,
        global_max=fit.log_likelihood,
        sigma2=float(sigma2),
        active=pt.used,
        point_log_likelihood=l_pt,
        index=index,
        rel_value_error=rel,
        rel_wwt_error=dist,
    )
