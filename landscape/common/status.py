"""The end status of a minimisation, one vocabulary for every multi-start front end.

A restart of the engine (`landscape.tools.engine`) ends in exactly one of:

- ``CONVERGED`` ("converged"): certified stationary, ‖∇f‖₂ ≤ gtol · max(1, |f|) at the end point;
- ``MAX_STEPS`` ("max_steps"): the step budget ran out first (not certified stationary);
- ``NON_FINITE`` ("non_finite"): the gradient, value or parameters went non-finite (the
  reported values are then NaN).

Two shapes carry them, built from these constants: `MultiStartResult.status` (and
`likelihood_multistart`) is a tuple of str, `SearchResult.status` a NumPy array of str.
Certificate labels ("minimum", "saddle", …) are not statuses.
"""

from __future__ import annotations

import numpy as np

__all__ = ["CONVERGED", "MAX_STEPS", "NON_FINITE", "STATUSES", "best_index"]

CONVERGED = "converged"
MAX_STEPS = "max_steps"
NON_FINITE = "non_finite"
STATUSES = (CONVERGED, MAX_STEPS, NON_FINITE)


def best_index(values, status) -> int:
    """Index of the lowest value among the restarts whose status is not ``NON_FINITE`` (either shape)."""
    return int(np.argmin(np.where(np.asarray(status) == NON_FINITE, np.inf, values)))
