"""The Hessian check of the collapsed point at any n: dense ``eigh`` when small, Schur + Lanczos when large.

`certify_prop1` compares the Hessian of eq. (5) at the collapsed point with its exact
spectrum (MATH.md §4, `landscape.core.collapsed.collapsed_spectrum`) and counts its
negative eigenvalues. With P = dκ + d + 1 + 2nκ parameters, the dense way
(`landscape.analysis.spectrum.spectrum`) needs O(P²) memory and O(P³) work; above
`DENSE_SPECTRUM_MAX_P` it is replaced by

- the k lowest and k highest eigenvalues by Lanczos (`landscape.tools.lanczos`), O(kP)
  memory, compared with the ends of the exact spectrum;
- the exact inertia by Haynsworth additivity (`landscape.analysis.schur.schur_inertia`),
  O(n) memory, at the dense path's zero tolerance rtol · max|λ(H)|, with max|λ(H)| the
  larger of Lanczos' extreme eigenvalues in absolute value. The collapsed Hessian has only
  a handful of distinct eigenvalues (MATH.md §4), so its Krylov spaces are tiny and the
  breakdown restarts recover the multiplicities: the extremes come out to rounding.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax.numpy as jnp
import numpy as np

from landscape.analysis.schur import SchurInertia, schur_inertia
from landscape.analysis.spectrum import spectrum
from landscape.common.results import Result
from landscape.core.energy import energy_objective
from landscape.tools.lanczos import lanczos

__all__ = ["DENSE_SPECTRUM_MAX_P", "ExtremeSpectrum", "collapsed_curvature", "n_parameters"]

DENSE_SPECTRUM_MAX_P = 2000  # dense eigh up to here (≈ 1 s, 32 MiB per matrix); Schur + Lanczos above


def n_parameters(n: int, d: int, kappa: int) -> int:
    """P = dκ + d + 1 + 2nκ, the number of parameters of eq. (5)."""
    return d * kappa + d + 1 + 2 * n * kappa


@dataclass(frozen=True)
class ExtremeSpectrum(Result):
    """The Hessian's exact inertia (Schur) and its extreme eigenvalues (Lanczos), without forming H.

    Attributes:
      n_negative, n_zero, n_positive, tol: the inertia from `schur_inertia`, |λ| ≤ tol zero.
      lowest: the k smallest eigenvalues, ascending (Rayleigh quotients of Ritz vectors).
      highest: the k largest, descending.
      residuals_lowest, residuals_highest: ‖Hv − λv‖ of each pair (|λ − λ_true| ≤ residual).
      size: P.
      schur: the full `SchurInertia` (its diagnostics).
      method: "schur+lanczos".
    """

    n_negative: int
    n_zero: int
    n_positive: int
    tol: float
    lowest: np.ndarray
    highest: np.ndarray
    residuals_lowest: np.ndarray
    residuals_highest: np.ndarray
    size: int
    schur: SchurInertia
    method: str = "schur+lanczos"

    @property
    def min_eigenvalue(self) -> float:
        return float(self.lowest[0])

    @property
    def max_eigenvalue(self) -> float:
        return float(self.highest[0])

    @property
    def inertia(self) -> tuple[int, int, int]:
        return (self.n_negative, self.n_zero, self.n_positive)

    _then = ("min_eigenvalue", "max_eigenvalue")


def collapsed_curvature(point, data, alpha, predicted, *, rtol: float, dense_max_p: int | None = None):
    """(spectrum, spectrum_error, method) of eq. (5)'s Hessian at the collapsed ``point``.

    Args:
      point: the collapsed point (`collapsed_point`); data: its validated `Data`.
      predicted: the exact spectrum, ascending (`collapsed_spectrum`).
      rtol: |λ| ≤ rtol · max|λ(H)| counts as zero (max|λ(H)| by Lanczos on the large path).
      dense_max_p: dense ``eigh`` for P ≤ dense_max_p, Schur + Lanczos above (default
        `DENSE_SPECTRUM_MAX_P`, read at call time).

    Returns:
      ``spectrum``: a `Spectrum` (dense) or an `ExtremeSpectrum`; ``spectrum_error``:
      max |λ − λ_pred| / max|λ_pred| over all eigenvalues (dense) or over the k lowest and
      k highest (Schur + Lanczos); ``method``: "dense" or "schur+lanczos".
    """
    P = int(predicted.size)
    dense_max_p = DENSE_SPECTRUM_MAX_P if dense_max_p is None else dense_max_p
    scale = float(np.max(np.abs(predicted)))
    if P <= dense_max_p:
        spec = spectrum(point, data, alpha, rtol=rtol)
        return spec, float(np.max(np.abs(spec.eigenvalues - predicted)) / scale), "dense"
    d, kappa = point.W.shape
    k = max(3, d * kappa + 1)
    lz = lanczos(energy_objective, point, args=(jnp.asarray(data.X), alpha, None), k=k, num_steps=max(100, 4 * k))
    low, high = lz.lowest.eigenvalues, lz.highest.eigenvalues
    # the zero tolerance of the dense path, rtol · max|λ(H)|, with max|λ(H)| from Lanczos' extremes
    schur = schur_inertia(point, data, alpha, tol=rtol * float(max(abs(low[0]), abs(high[0]))))
    err = max(np.max(np.abs(low - predicted[:k])), np.max(np.abs(high - predicted[::-1][:k]))) / scale
    spec = ExtremeSpectrum(
        n_negative=schur.n_negative,
        n_zero=schur.n_zero,
        n_positive=schur.n_positive,
        tol=schur.tol,
        lowest=low,
        highest=high,
        residuals_lowest=lz.lowest.residuals,
        residuals_highest=lz.highest.residuals,
        size=P,
        schur=schur,
    )
    return spec, float(err), "schur+lanczos"
