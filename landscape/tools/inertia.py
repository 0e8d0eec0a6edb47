"""The inertia of a symmetric matrix at a stated tolerance: the one zero tolerance of the library.

Generic: used for eq. (5)'s Hessians (`landscape.analysis.spectrum`), the Schur-complement
inertia (`landscape.analysis.schur`) and any objective's certificate (`landscape.certify`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from landscape.common import checks as V
from landscape.common.results import Result

__all__ = ["DEFAULT_RTOL", "Spectrum", "inertia"]

DEFAULT_RTOL = 1e-8  # |λ| ≤ DEFAULT_RTOL · max|λ| counts as zero unless a tolerance is given


@dataclass(frozen=True)
class Spectrum(Result):
    """Eigenvalues of a symmetric matrix and its inertia at a stated tolerance.

    Attributes:
      eigenvalues: ascending, shape (P,).
      tol: |λ| ≤ tol counts as zero.
      n_negative, n_zero, n_positive: the inertia at ``tol``.
      eigenvectors: columns matching ``eigenvalues`` (or None if not requested).
    """

    eigenvalues: np.ndarray
    tol: float
    n_negative: int
    n_zero: int
    n_positive: int
    eigenvectors: np.ndarray | None = None

    @property
    def min_eigenvalue(self) -> float:
        return float(self.eigenvalues[0])

    @property
    def max_eigenvalue(self) -> float:
        return float(self.eigenvalues[-1])

    @property
    def inertia(self) -> tuple[int, int, int]:
        """(negative, zero, positive) counts."""
        return (self.n_negative, self.n_zero, self.n_positive)

    _omit = ("eigenvectors",)
    _then = ("min_eigenvalue",)


def inertia(H, *, tol: float | None = None, rtol: float = DEFAULT_RTOL, eigenvectors: bool = False) -> Spectrum:
    """Spectrum and inertia of a symmetric matrix H by dense ``eigh``.

    Args:
      H: symmetric (P, P) matrix.
      tol: absolute zero tolerance; by default ``rtol * max|λ|``.
      rtol: relative zero tolerance used when ``tol`` is None.
      eigenvectors: keep the eigenvectors in the result.
    """
    V.check_zero_tolerance(tol, rtol)
    H = V.check_real_array("H", H).astype(np.float64)
    if H.ndim != 2 or H.shape[0] != H.shape[1]:
        raise ValueError(f"H must be a square matrix, got shape {H.shape}.")
    if not np.all(np.isfinite(H)):
        raise ValueError("H contains NaN or inf entries; the point is outside the energy's domain.")
    H = 0.5 * (H + H.T)
    if eigenvectors:
        lam, vec = np.linalg.eigh(H)
    else:
        lam, vec = np.linalg.eigvalsh(H), None
    if tol is None:
        tol = rtol * float(np.max(np.abs(lam))) if lam.size else 0.0
    return Spectrum(
        eigenvalues=lam,
        tol=float(tol),
        n_negative=int(np.sum(lam < -tol)),
        n_zero=int(np.sum(np.abs(lam) <= tol)),
        n_positive=int(np.sum(lam > tol)),
        eigenvectors=vec,
    )
