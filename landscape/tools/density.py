"""Stochastic Lanczos quadrature (Ubaru, Chen & Saad 2017) for the eigenvalue density of an operator.

The estimate PyHessian plots, with per-probe nodes and weights kept: for a unit probe v,
vᵀ g(H) v ≈ Σ_j w_j g(θ_j), with θ_j the Ritz values of `landscape.tools.lanczos.lanczos_basis`
(full reorthogonalisation, breakdown restarts) and w_j the squared first components of
the eigenvectors of its tridiagonal matrix. H is a `CurvatureOperator` or, as a shorthand,
∇²f(params) of an objective ``f(params, *args)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from landscape.common import checks as V
from landscape.common.results import Result
from landscape.tools.lanczos import check_num_steps, lanczos_basis, tridiagonal
from landscape.tools.operator import as_operator

__all__ = ["spectral_density", "SpectralDensity"]


@partial(jax.jit, static_argnames=("build", "num_steps"))
def _slq(build, data, probes, key, num_steps, breakdown_rtol):
    lin = build(data)

    def one(c):
        i, v0 = c
        _, diag, off = lanczos_basis(lin, v0, num_steps, jax.random.fold_in(key, i), breakdown_rtol)
        theta, Y = jnp.linalg.eigh(tridiagonal(diag, off))
        return theta, Y[0] ** 2

    return jax.lax.map(one, (jnp.arange(probes.shape[0]), probes))


@dataclass(frozen=True)
class SpectralDensity(Result):
    """A stochastic Lanczos quadrature estimate of an operator's eigenvalue density.

    For probe v (unit norm), vᵀ g(H) v ≈ Σ_j weights[p, j] g(nodes[p, j]); the trace
    tr g(H) ≈ P · mean_p of that. The density is the g = δ(· − t) case, smoothed.

    Attributes:
      nodes, weights: (num_probes, num_steps) Gauss quadrature nodes and weights.
      size: P.
      num_steps, seed: as used.
    """

    nodes: np.ndarray
    weights: np.ndarray
    size: int
    num_steps: int
    seed: int

    def density(self, grid, sigma: float | None = None) -> np.ndarray:
        """P · (Gaussian-smoothed density) on ``grid``: integrates to ≈ P (counts per unit λ).

        ``sigma`` defaults to 1% of the node range.
        """
        grid = np.asarray(grid, dtype=float)
        if sigma is None:
            sigma = 0.01 * max(float(np.ptp(self.nodes)), 1e-300)
        if not (np.isfinite(sigma) and sigma > 0):
            raise ValueError(f"sigma must be a finite number > 0, got {sigma!r}.")
        z = (grid[:, None, None] - self.nodes[None]) / sigma
        g = np.exp(-0.5 * z * z) / (sigma * np.sqrt(2 * np.pi))
        return self.size * np.mean(np.sum(self.weights[None] * g, axis=2), axis=1)

    def count_below(self, t: float) -> tuple[float, float]:
        """Estimated #{λ < t} and its standard error over probes."""
        per_probe = self.size * np.sum(self.weights * (self.nodes < t), axis=1)
        se = float(np.std(per_probe, ddof=1) / np.sqrt(per_probe.size)) if per_probe.size > 1 else float("nan")
        return float(np.mean(per_probe)), se


def spectral_density(
    f,
    params=None,
    args: tuple = (),
    *,
    num_probes: int = 8,
    num_steps: int = 80,
    seed: int = 0,
    breakdown_rtol: float = 1e-10,
) -> SpectralDensity:
    """Stochastic Lanczos quadrature for the spectrum of an operator, or of ∇²f(params).

    ``spectral_density(op, ...)`` for a `CurvatureOperator`; ``spectral_density(f, params,
    args, ...)`` is the same on ``hessian_operator(f, params, args)``. Each of
    ``num_probes`` Rademacher probes (normalised) runs ``num_steps`` Lanczos steps with
    full reorthogonalisation; the eigenvalues of the tridiagonal matrix are the
    quadrature nodes and the squared first components of its eigenvectors the weights.
    Probes run one after another (memory num_steps · P).
    """
    num_probes = V.check_size("num_probes", num_probes, 1)
    seed = V.check_seed("seed", seed)
    V.check_tolerance("breakdown_rtol", breakdown_rtol, below=1)
    op = as_operator(f, params, args)
    P = op.size
    m = check_num_steps(num_steps, P, 80)
    key = jax.random.PRNGKey(seed)
    signs = jax.random.rademacher(jax.random.fold_in(key, 10**6), (int(num_probes), P), dtype=op.dtype)
    probes = signs / np.sqrt(P)
    nodes, weights = _slq(op.build, op.data, probes, key, m, float(breakdown_rtol))
    return SpectralDensity(nodes=np.asarray(nodes), weights=np.asarray(weights), size=P, num_steps=m, seed=int(seed))
