"""Every stationary point of the fixed-σ² pPCA log-likelihood and its Hessian inertia (MATH.md §6).

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
The model and its MLE are in `landscape.models.ppca`.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from landscape.common import checks as V
from landscape.core.collapsed import data_covariance
from landscape.models.linalg import LOG_2PI, eig_desc

__all__ = [
    "GENERIC_RTOL",
    "PPCAStationaryPoint",
    "nearest_stationary_point",
    "ppca_hessian_inertia",
    "ppca_hessian_spectrum",
    "ppca_stationary_point",
    "ppca_stationary_points",
]


#: Relative tolerance (to max(λ_1, σ²)) below which λ_j = σ² or λ_i = λ_j counts as an equality: the
#: Hessian inertia formula then does not apply (a flat direction or a continuum of stationary points).
GENERIC_RTOL = 1e-8


def _check_generic(lam: np.ndarray, sigma2: float, rtol: float, *, name: str = "X") -> None:
    """λ_j ≠ σ² for every j, and no eigenvalue above σ² repeated, both to rtol · max(λ_1, σ²)."""
    rtol = V.check_tolerance("rtol", rtol, allow_zero=True, below=1)
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


def _check_active(active, kappa: int | None, d: int) -> tuple[int | None, ...]:
    """``active`` as a tuple (one entry per column: None or an eigenvector index); ``kappa`` None: any κ >= 1."""
    if isinstance(active, (str, bytes)) or not isinstance(active, (list, tuple, np.ndarray)):
        raise ValueError(
            f"active must be a list with one entry per column of W (None or an eigenvector index), got {active!r}."
        )
    active = tuple(active.tolist() if isinstance(active, np.ndarray) else active)
    if kappa is None:
        kappa = max(len(active), 1)
    if len(active) != kappa:
        raise ValueError(f"active must have one entry per column (kappa = {kappa}), got {len(active)} entries.")
    for a in active:
        if a is not None and (isinstance(a, bool) or not isinstance(a, (int, np.integer)) or not 0 <= a < d):
            raise ValueError(f"active entries must be None or an eigenvector index in [0, d) = [0, {d}), got {a!r}.")
    used = [int(a) for a in active if a is not None]
    if len(set(used)) != len(used):
        raise ValueError(f"active must not use an eigenvector twice, got {active}.")
    return tuple(None if a is None else int(a) for a in active)


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
    lam = V.check_eigenvalues(eigenvalues, sort=False)
    V.check_sigma2(sigma2)
    s2 = float(sigma2)
    n = V.check_size("n", n, 1)
    active = _check_active(active, None, lam.size)
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
    lam = V.check_eigenvalues(eigenvalues, sort=False)
    V.check_sigma2(sigma2)
    s2 = float(sigma2)
    active = _check_active(active, None, lam.size)
    _check_generic(lam, s2, rtol, name="eigenvalues")
    used = [a for a in active if a is not None]
    for a in used:
        if lam[a] < s2:
            raise ValueError(
                f"active uses eigenvector {a}, whose eigenvalue eigenvalues[{a}] = {lam[a]:.6g} is below "
                f"sigma2 = {s2:.6g}: no stationary point uses it."
            )
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
        return float(-0.5 * self.n * np.sum(LOG_2PI + np.log(c) + self.eigenvalues / c))

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
    V.check_sigma2(sigma2)
    active = _check_active(active, kappa, d)
    x = np.asarray(X, dtype=np.float64)
    lam, U = eig_desc(data_covariance(x))
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
    V.check_sigma2(sigma2)
    V.check_not_constant(X)
    max_points = V.check_size("max_points", max_points, 1)
    x = np.asarray(X, dtype=np.float64)
    lam, U = eig_desc(data_covariance(x))
    s2 = float(sigma2)
    _check_generic(lam, s2, rtol, name="X")
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
    V.check_finite("W", Wn)
    V.check_sigma2(sigma2)
    kappa = Wn.shape[1]
    x = np.asarray(X, dtype=np.float64)
    lam, U = eig_desc(data_covariance(x))
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
