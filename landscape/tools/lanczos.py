"""Lanczos with full reorthogonalisation and breakdown restarts, on any `CurvatureOperator`.

`lanczos` returns the k most negative and the k largest eigenvalues of a symmetric H
(Lanczos 1950; full reorthogonalisation as in Parlett, *The Symmetric Eigenvalue
Problem*, §13.1), each with its eigenvector, explicit residual ‖Hv − λv‖ and a converged
flag. An invariant subspace (repeated eigenvalues, as at the collapsed point, MATH.md
§4) restarts the recurrence with a fresh random vector, so multiplicities are found
rather than silently dropped. `lanczos_basis` is the recurrence itself, shared with
stochastic Lanczos quadrature (`landscape.tools.density`).

H is an operator (`landscape.tools.operator`), or, as a shorthand, the Hessian of an
objective ``f(params, *args) -> scalar`` at ``params``; for eq. (5) use
`landscape.energy_objective`:

    lanczos(energy_objective, params, args=(X, alpha, None), k=3)
    lanczos(hessian_operator(energy_objective, params, (X, alpha, None)), k=3)  # the same numbers
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from landscape.common import checks
from landscape.common.results import Result
from landscape.tools.operator import as_operator

__all__ = ["lanczos", "LanczosResult", "EigenEstimates", "lanczos_basis", "tridiagonal", "check_num_steps"]


def lanczos_basis(matvec, v0, num_steps, key, breakdown_rtol):
    """m = num_steps Lanczos steps with full reorthogonalisation (classical Gram–Schmidt, twice).

    Returns (Q, diag, offdiag): Q (m, P) orthonormal rows, T = tridiag(offdiag, diag,
    offdiag) its projected matrix, with offdiag[j] = 0 where the recurrence broke down
    (an invariant subspace) and restarted from a random vector orthogonal to Q.
    """
    m = num_steps
    P = v0.size
    Q = jnp.zeros((m + 1, P), dtype=v0.dtype).at[0].set(v0 / jnp.linalg.norm(v0))
    diag = jnp.zeros(m, dtype=v0.dtype)
    off = jnp.zeros(m, dtype=v0.dtype)

    def orthogonalise(Q, w):
        w = w - Q.T @ (Q @ w)
        return w - Q.T @ (Q @ w)

    def body(j, state):
        Q, diag, off, scale = state
        q = Q[j]
        w = matvec(q)
        a = q @ w
        w = orthogonalise(Q, w)
        b = jnp.linalg.norm(w)
        scale = jnp.maximum(scale, jnp.maximum(jnp.abs(a), b))

        def fresh(_):
            r = jax.random.normal(jax.random.fold_in(key, j), (P,), dtype=v0.dtype)
            r = orthogonalise(Q, r)
            return r / jnp.maximum(jnp.linalg.norm(r), jnp.finfo(v0.dtype).tiny), jnp.zeros_like(b)

        broke = b <= breakdown_rtol * scale
        q_next, b_used = jax.lax.cond(broke, fresh, lambda _: (w / jnp.where(broke, 1.0, b), b), None)
        return Q.at[j + 1].set(q_next), diag.at[j].set(a), off.at[j].set(b_used), scale

    Q, diag, off, _ = jax.lax.fori_loop(0, m, body, (Q, diag, off, jnp.zeros((), v0.dtype)))
    return Q[:m], diag, off


def tridiagonal(diag, off):
    """The dense tridiagonal T of `lanczos_basis` (off[-1], the last β, is not part of T)."""
    return jnp.diag(diag) + jnp.diag(off[:-1], 1) + jnp.diag(off[:-1], -1)


@partial(jax.jit, static_argnames=("build", "num_steps", "k"))
def _lanczos(build, data, v0, key, num_steps, k, breakdown_rtol):
    lin = build(data)
    Q, diag, off = lanczos_basis(lin, v0, num_steps, key, breakdown_rtol)
    theta, Y = jnp.linalg.eigh(tridiagonal(diag, off))
    idx = jnp.concatenate([jnp.arange(k), jnp.arange(num_steps - k, num_steps)])
    V = (Y[:, idx].T @ Q).astype(v0.dtype)  # (2k, P) Ritz vectors
    V = V / jnp.linalg.norm(V, axis=1, keepdims=True)
    HV = jax.lax.map(lin, V)
    lam = jnp.sum(V * HV, axis=1)  # Rayleigh quotients of the normalised Ritz vectors
    res = jnp.linalg.norm(HV - lam[:, None] * V, axis=1)
    return theta, lam, V, res


@dataclass(frozen=True)
class EigenEstimates(Result):
    """Eigenpair estimates at one end of the spectrum (Rayleigh quotients of Ritz vectors).

    Attributes:
      eigenvalues: shape (k,), ascending for the lowest end, descending for the highest.
      eigenvectors: shape (k, P), unit rows in ``ravel_pytree`` order.
      residuals: ‖H v − λ v‖ for each pair; |λ − λ_true| ≤ residual for some true
        eigenvalue λ_true (and ≤ residual² / gap once the gap is known).
      converged: residual ≤ tol.
      tol: the residual tolerance used.
    """

    eigenvalues: np.ndarray
    eigenvectors: np.ndarray
    residuals: np.ndarray
    converged: np.ndarray
    tol: float

    _omit = ("eigenvectors",)


@dataclass(frozen=True)
class LanczosResult(Result):
    """The k most negative and k largest eigenpairs of a symmetric operator, from `lanczos`.

    Attributes:
      lowest: `EigenEstimates`, most negative first.
      highest: `EigenEstimates`, largest first.
      ritz_values: every Ritz value of the final tridiagonal matrix, ascending.
      num_steps: Lanczos steps (the Krylov dimension; P caps it).
      size: P, the number of parameters.
      seed: of the starting vector and any restart vectors.
      unravel: maps a flat vector back to the ``params`` pytree (None for an operator
        without params; not serialised).
    """

    lowest: EigenEstimates
    highest: EigenEstimates
    ritz_values: np.ndarray
    num_steps: int
    size: int
    seed: int
    unravel: Any = None

    @property
    def min_eigenvalue(self) -> float:
        return float(self.lowest.eigenvalues[0])

    @property
    def max_eigenvalue(self) -> float:
        return float(self.highest.eigenvalues[0])

    @property
    def converged(self) -> bool:
        return bool(np.all(self.lowest.converged) and np.all(self.highest.converged))

    def vector(self, i: int, which: str = "lowest"):
        """The i-th eigenvector of ``which`` end as a pytree like ``params`` (flat without one)."""
        est = {"lowest": self.lowest, "highest": self.highest}[which]
        v = jnp.asarray(est.eigenvectors[i])
        return v if self.unravel is None else self.unravel(v)

    _omit = ("ritz_values", "unravel")
    _then = ("converged",)


def check_num_steps(num_steps, P, default):
    """The Krylov dimension: ``num_steps`` (or ``default``) capped at P; an integer >= 1."""
    m = default if num_steps is None else checks.check_size("num_steps", num_steps, 1)
    return int(min(m, P))


def lanczos(
    f,
    params=None,
    args: tuple = (),
    *,
    k: int = 3,
    num_steps: int | None = None,
    seed: int = 0,
    rtol: float = 1e-8,
    breakdown_rtol: float = 1e-10,
) -> LanczosResult:
    """The k most negative and the k largest eigenpairs of a symmetric H by Lanczos.

    H is a `CurvatureOperator` (``lanczos(op, k=...)``), or ∇²f(params) for the shorthand
    ``lanczos(f, params, args)``, which is ``lanczos(hessian_operator(f, params, args))``
    (the same numbers, bit for bit).

    Full reorthogonalisation keeps the basis orthonormal to rounding, so there are no
    ghost copies of converged eigenvalues. When the Krylov space becomes invariant
    (β_j ≤ breakdown_rtol · ‖T‖), the recurrence restarts from a random vector
    orthogonal to everything so far: repeated eigenvalues then appear with their
    multiplicity (up to ``num_steps``). With num_steps = P the result is exact to
    rounding. Each returned pair is re-evaluated with an explicit product: the value
    is the Rayleigh quotient and the residual is ‖Hv − λv‖.

    Args:
      f, params, args: an operator alone, or the objective ``f(params, *args)``, the
        point, and the tuple of extra arguments.
      k: pairs wanted at each end (2k ≤ num_steps).
      num_steps: Krylov dimension (default min(P, max(100, 4k))). Memory is
        num_steps · P floats.
      seed: for the starting vector and restart vectors.
      rtol: a pair is converged when its residual ≤ rtol · max|Ritz value|.
      breakdown_rtol: β_j below this (relative) is an invariant subspace.
    """
    k = checks.check_size("k", k, 1)
    seed = checks.check_seed("seed", seed)
    checks.check_tolerance("rtol", rtol)
    checks.check_tolerance("breakdown_rtol", breakdown_rtol, below=1)
    op = as_operator(f, params, args)
    P = op.size
    m = check_num_steps(num_steps, P, max(100, 4 * k))
    if 2 * k > m:
        raise ValueError(f"k must be an integer with 1 <= k and 2k <= num_steps (= {m}); got k = {k!r}.")
    key = jax.random.PRNGKey(seed)
    v0 = jax.random.normal(jax.random.fold_in(key, 10**6), (P,), dtype=op.dtype)
    theta, lam, V, res = _lanczos(op.build, op.data, v0, key, m, int(k), float(breakdown_rtol))
    theta, lam, V, res = (np.asarray(a) for a in (theta, lam, V, res))
    tol = float(rtol * np.max(np.abs(theta)))

    def part(sl):
        return EigenEstimates(
            eigenvalues=lam[sl], eigenvectors=V[sl], residuals=res[sl], converged=res[sl] <= tol, tol=tol
        )

    return LanczosResult(
        lowest=part(slice(0, k)),
        highest=part(slice(2 * k - 1, k - 1, -1)),
        ritz_values=theta,
        num_steps=m,
        size=P,
        seed=int(seed),
        unravel=op.unravel,
    )
