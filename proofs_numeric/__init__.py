"""Every step of Propositions 1 and 2 derived symbolically (sympy) and checked numerically.

Run everything with ``python -m proofs_numeric`` (one table, and ``REPORT.md``), or one
claim with ``python -m proofs_numeric.<name>``. Each module has ``run(fast=False)``
returning a `Claim` (`proofs_numeric._claim`). The ``sym_*`` modules derive formulas with
sympy and compare them with the library at random points; the others check a claim of
the paper numerically. See README.md in this folder for the list.
"""

import landscape  # noqa: F401  (turns on float64 in JAX before anything is traced)

__all__ = ["MODULES"]

#: The claims, in the order of the report: symbolic derivations first, then numeric checks.
MODULES = (
    "sym_moments",
    "sym_gamma",
    "sym_collapsed",
    "sym_hessian",
    "sym_affine",
    "prop1",
    "prop2",
    "affine_saddle",
    "eq9_gamma",
    "lucas_curvature",
    "elbo_equals_likelihood",
    "deep_collapsed_point",
    "sphere_leading_order",
)
