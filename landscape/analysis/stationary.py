"""Certificates for stationary points of eq. (5), at any size.

The generic certificate (`certify`, `Mode`, `StationaryCertificate`, `LABELS`, for any
objective ``f(params, *args)``) lives in `landscape.tools.certify` and is re-exported
here. This module is its eq. (5) front end:

`certify_stationary`: dense ``eigh`` up to ``dense_max`` parameters, and above that the
exact Haynsworth inertia (`landscape.schur`, the arrowhead structure of eq. (5)) passed
to `certify` as its exact count, with Lanczos for the extreme pairs.
`certify_minima`: `certify_stationary` at each distinct minimum of a `landscape.search`.
"""

from __future__ import annotations

from dataclasses import replace

import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from landscape.common import checks as V
from landscape.core.data import Data, as_data
from landscape.core.energy import check_energy_args, energy_objective
from landscape.tools.certify import LABELS, Mode, StationaryCertificate, certify, check_certify_settings
from landscape.tools.inertia import DEFAULT_RTOL

__all__ = ["Mode", "StationaryCertificate", "certify", "certify_stationary", "certify_minima", "LABELS"]


def certify_stationary(
    params,
    X,
    alpha,
    *,
    gamma=None,
    gtol: float = 1e-8,
    rtol: float = DEFAULT_RTOL,
    tol: float | None = None,
    flat_rtol: float = 1e-3,
    max_modes: int = 6,
    slice_radius: float = 0.5,
    dense_max: int = 2000,
    lanczos_steps: int = 150,
    seed: int = 0,
) -> StationaryCertificate:
    """Certify a point of eq. (5): `certify` up to ``dense_max`` parameters, else at scale.

    At scale the inertia is the exact Haynsworth count (`landscape.schur.schur_inertia`),
    the extreme eigenpairs come from `landscape.curvature.lanczos` (with residuals), and
    zero modes are counted, not listed (their eigenvectors are interior to the
    spectrum); ``method`` is "haynsworth+lanczos" and ``details`` {"schur": …,
    "lanczos": …}. See `certify` for the other arguments.

    Units: the point is certified in the data's standardised units (`landscape.core.units`:
    X_s = (X − x̄)/√γ̄, θ_s, α/√γ̄, γ/γ̄), so ``gtol``, ``rtol``, ``tol``, ``slice_radius`` and
    the reported gradient norms, eigenvalues and modes are in those units, and the
    certificate does not depend on the units of X (the inertia is the same in any units,
    by Sylvester's law). ``value`` is reported in the user's units.
    """
    data_in = X
    params, X, alpha, gamma = check_energy_args(params, X, alpha, gamma)
    check_certify_settings(gtol, rtol, tol, flat_rtol, max_modes, slice_radius, lanczos_steps, seed)
    V.check_size("dense_max", dense_max, 0)
    data = as_data(data_in if isinstance(data_in, Data) else np.asarray(X))
    units = data.units
    params = units.to_standard_params(params)
    X, alpha, gamma = jnp.asarray(data.standardised.X), alpha / units.scale, units.to_standard_gamma(gamma)
    cert = _certify_standardised(params, X, alpha, gamma, gtol, rtol, tol, flat_rtol, max_modes, slice_radius,
                                 dense_max, lanczos_steps, seed)  # fmt: skip
    return replace(cert, value=float(units.from_standard_energy(cert.value)))


def _certify_standardised(params, X, alpha, gamma, gtol, rtol, tol, flat_rtol, max_modes, slice_radius,
                          dense_max, lanczos_steps, seed):  # fmt: skip
    flat, _ = ravel_pytree(params)
    args = (X, alpha, gamma)
    common = dict(gtol=gtol, flat_rtol=flat_rtol, max_modes=max_modes, slice_radius=slice_radius)
    if flat.size <= dense_max:
        return certify(energy_objective, params, args, rtol=rtol, tol=tol, **common)
    from landscape.analysis.schur import schur_inertia

    si = schur_inertia(params, X, alpha, gamma=gamma, tol=tol, rtol=rtol)
    c = certify(energy_objective, params, args, exact_inertia=si, lanczos_steps=lanczos_steps, seed=seed, **common)
    details = {"schur": c.details["inertia"], "lanczos": c.details["lanczos"]}
    return replace(c, method="haynsworth+lanczos", details=details)


def certify_minima(result, stats, X, **kwargs) -> list[StationaryCertificate]:
    """`certify_stationary` at the representative of each distinct minimum of a search.

    Args:
      result: a `landscape.SearchResult`; stats: its `landscape.basin_stats`.
      X: the data the search ran on.
      kwargs: passed to `certify_stationary` (gtol defaults to the search's own).
    """
    from landscape.analysis.basins import BasinStats
    from landscape.analysis.search import SearchResult
    from landscape.core.params import VAEParams

    if not isinstance(result, SearchResult):
        raise ValueError(f"result must be a landscape.SearchResult (of landscape.search), got {type(result).__name__}.")
    if not isinstance(stats, BasinStats):
        raise ValueError(f"stats must be the landscape.BasinStats of result (basin_stats), got {type(stats).__name__}.")
    kwargs.setdefault("gtol", result.config.get("gtol", 1e-8))
    fixed = result.config.get("gamma")
    out = []
    for m in stats.distinct_minima:
        p = VAEParams(*(np.asarray(a)[m.index] for a in result.params))
        gamma = None if fixed is None else float(np.broadcast_to(np.asarray(fixed), (result.restarts,))[m.index])
        out.append(certify_stationary(p, X, result.config["alpha"], gamma=gamma, **kwargs))
    return out
