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

__all__ = ["CONVERGED", "MAX_STEPS", "NON_FINITE", "STATUSES"]

CONVERGED = "converged"
MAX_STEPS = "max_steps"
NON_FINITE = "non_finite"
STATUSES = (CONVERGED, MAX_STEPS, NON_FINITE)
