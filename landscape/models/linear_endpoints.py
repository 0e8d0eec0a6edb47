"""What an endpoint of ELBO or likelihood ascent is: the global maximum, a saddle, or other (MATH.md §6).

An endpoint (W, value, σ²) of the linear VAE's ELBO ascent (`landscape.models.linear_vae`) or of pPCA
likelihood ascent is matched against the pPCA stationary points (`landscape.models.ppca_stationary`)
and the pPCA maximum (`landscape.models.ppca.ppca_mle`). Lucas et al. (2019, Theorem 1) say only the
global maximum and saddles occur (`match_endpoint`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from landscape.common import checks as V
from landscape.common.results import Result
from landscape.models.ppca import ppca_mle
from landscape.models.ppca_stationary import nearest_stationary_point

__all__ = ["EndpointMatch", "match_endpoint"]


# --------------------------------------------------------------------------- endpoints of an ascent


@dataclass(frozen=True)
class EndpointMatch(Result):
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
