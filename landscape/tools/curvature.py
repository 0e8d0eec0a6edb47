"""Curvature operators and the algorithms that use them, for any objective over a pytree (a façade).

The 0.1 path ``landscape.curvature`` (``from landscape import curvature as C``); the code
lives in one module per concept:

- `landscape.tools.operator`: what H is. `CurvatureOperator` (matvec, size, dtype) and
  its constructors `hessian_operator`, `gauss_newton_operator`, `dense_operator`,
  `linear_operator`; the pytree product `hvp`, `dense_hessian` and `to_dense`.
- `landscape.tools.lanczos`: `lanczos`, the extreme eigenpairs by Lanczos with full
  reorthogonalisation and breakdown restarts (`LanczosResult`, `EigenEstimates`).
- `landscape.tools.density`: `spectral_density`, stochastic Lanczos quadrature (Ubaru,
  Chen & Saad 2017; `SpectralDensity`).
- `landscape.tools.blocks`: `block_shares`, a vector's mass on each parameter block.

An objective is any function ``f(params, *args) -> scalar`` that JAX can
differentiate twice; ``params`` is a pytree (a `VAEParams` for eq. (5)), and ``args``
a tuple passed as the keyword ``args=`` (as in ``scipy.optimize``). Pass the data
through ``args`` rather than closing over it, so one compiled program serves
every data set of a shape; and pass the same ``f`` object each time (it is a static
argument, compiled once per function). For eq. (5) use `landscape.energy_objective`:

    lanczos(energy_objective, params, args=(X, alpha, None), k=3)
"""

from landscape.tools.blocks import block_shares
from landscape.tools.density import SpectralDensity, spectral_density
from landscape.tools.lanczos import EigenEstimates, LanczosResult, lanczos
from landscape.tools.operator import (
    CurvatureOperator,
    dense_hessian,
    dense_operator,
    gauss_newton_operator,
    hessian_operator,
    hvp,
    linear_operator,
    to_dense,
)

__all__ = [
    "hvp",
    "dense_hessian",
    "lanczos",
    "LanczosResult",
    "EigenEstimates",
    "spectral_density",
    "SpectralDensity",
    "block_shares",
    "CurvatureOperator",
    "hessian_operator",
    "gauss_newton_operator",
    "dense_operator",
    "linear_operator",
    "to_dense",
]
