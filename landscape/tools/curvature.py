"""Curvature operators, and the algorithms that use them, for any objective over a pytree.

Operators (what H is):
  `hvp`: v ↦ H v, forward-over-reverse (``jax.linearize`` of the gradient, once, then
  reused for every product).
  `dense_hessian`: the (P, P) Hessian in ``ravel_pytree`` order, built from that
  product on chunks of basis vectors, so memory stays O(chunk · P) besides the result.

Algorithms (what we learn about H):
  `lanczos`: the k most negative and k largest eigenvalues by Lanczos with full
  reorthogonalisation, each with its eigenvector, explicit residual ‖Hv − λv‖ and a
  converged flag. An invariant subspace (repeated eigenvalues, as at the collapsed
  point, MATH.md §4) restarts the recurrence with a fresh random vector, so
  multiplicities are found rather than silently dropped.
  `spectral_density`: stochastic Lanczos quadrature (Ubaru, Chen & Saad 2017), the
  estimate PyHessian plots, with per-probe nodes and weights kept.

An objective is any function ``f(params, *args) -> scalar`` that JAX can
differentiate twice; ``params`` is a pytree (a `VAEParams` for eq. (5)), and ``args``
a tuple passed as the keyword ``args=`` (as in ``scipy.optimize``). Pass the data
through ``args`` rather than closing over it, so one compiled program serves
every data set of a shape; and pass the same ``f`` object each time (it is a static
argument, compiled once per function). For eq. (5) use `landscape.energy_objective`:

    lanczos(energy_objective, params, args=(X, alpha, None), k=3)
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

__all__ = [
    "hvp",
    "dense_hessian",
    "lanczos",
    "LanczosResult",
    "EigenEstimates",
    "spectral_density",
    "SpectralDensity",
    "block_shares",
]


def _check_params_finite(params) -> None:
    flat, _ = ravel_pytree(params)
    if flat.size == 0:
        raise ValueError("params has no entries; the curvature of a function of nothing is undefined.")
    if not bool(jnp.all(jnp.isfinite(flat))):
        raise ValueError("params contains NaN or inf; curvature is only defined at a finite point.")


def _flat_grad(f, unravel, args):
    def g(x):
        return ravel_pytree(jax.grad(f)(unravel(x), *args))[0]

    return g


def hvp(f, params, args: tuple = ()):
    """The Hessian-vector product v ↦ ∇²f(params) v, with v and Hv pytrees like ``params``.

    Forward-over-reverse: ``jax.linearize`` of ∇f at ``params`` is computed once and
    the returned linear function reuses it for every v (no re-linearisation per
    product). Jit the caller for speed; the function itself is pure.
    """
    _, lin = jax.linearize(lambda p: jax.grad(f)(p, *args), params)
    return lin


@partial(jax.jit, static_argnames=("f", "chunk_size"))
def _dense_hessian(f, params, args, chunk_size):
    flat, unravel = ravel_pytree(params)
    _, lin = jax.linearize(_flat_grad(f, unravel, args), flat)
    eye = jnp.eye(flat.size, dtype=flat.dtype)
    H = jax.lax.map(lin, eye, batch_size=chunk_size)  # row i = H e_i (H is symmetric)
    return 0.5 * (H + H.T)


def dense_hessian(f, params, args: tuple = (), *, chunk_size: int = 256) -> jax.Array:
    """The dense (P, P) Hessian of ``f`` at ``params``, in ``ravel_pytree`` order.

    Built column by column from `hvp`, ``chunk_size`` products at a time, so the
    intermediate memory is that of ``chunk_size`` products however large P is. The
    result is symmetrised (½(H + Hᵀ)); for eq. (5) it equals `landscape.hessian`.
    """
    if int(chunk_size) < 1:
        raise ValueError(f"chunk_size must be an integer >= 1, got {chunk_size!r}.")
    _check_params_finite(params)
    return _dense_hessian(f, params, tuple(args), int(chunk_size))


# --------------------------------------------------------------------------- Lanczos


def _lanczos_basis(matvec, v0, num_steps, key, breakdown_rtol):
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


def _tridiag(diag, off):
    return jnp.diag(diag) + jnp.diag(off[:-1], 1) + jnp.diag(off[:-1], -1)


@partial(jax.jit, static_argnames=("f", "num_steps", "k"))
def _lanczos(f, params, args, v0, key, num_steps, k, breakdown_rtol):
    flat, unravel = ravel_pytree(params)
    _, lin = jax.linearize(_flat_grad(f, unravel, args), flat)
    Q, diag, off = _lanczos_basis(lin, v0, num_steps, key, breakdown_rtol)
    theta, Y = jnp.linalg.eigh(_tridiag(diag, off))
    idx = jnp.concatenate([jnp.arange(k), jnp.arange(num_steps - k, num_steps)])
    V = (Y[:, idx].T @ Q).astype(flat.dtype)  # (2k, P) Ritz vectors
    V = V / jnp.linalg.norm(V, axis=1, keepdims=True)
    HV = jax.lax.map(lin, V)
    lam = jnp.sum(V * HV, axis=1)  # Rayleigh quotients of the normalised Ritz vectors
    res = jnp.linalg.norm(HV - lam[:, None] * V, axis=1)
    return theta, lam, V, res


@dataclass(frozen=True)
class EigenEstimates:
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

    def to_dict(self) -> dict:
        return {
            "eigenvalues": [float(x) for x in self.eigenvalues],
            "residuals": [float(x) for x in self.residuals],
            "converged": [bool(x) for x in self.converged],
            "tol": self.tol,
        }


@dataclass(frozen=True)
class LanczosResult:
    """The k most negative and k largest eigenpairs of a Hessian, from `lanczos`.

    Attributes:
      lowest: `EigenEstimates`, most negative first.
      highest: `EigenEstimates`, largest first.
      ritz_values: every Ritz value of the final tridiagonal matrix, ascending.
      num_steps: Lanczos steps (the Krylov dimension; P caps it).
      size: P, the number of parameters.
      seed: of the starting vector and any restart vectors.
      unravel: maps a flat vector back to the ``params`` pytree (not serialised).
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
        """The i-th eigenvector of ``which`` end as a pytree like ``params``."""
        est = {"lowest": self.lowest, "highest": self.highest}[which]
        return self.unravel(jnp.asarray(est.eigenvectors[i]))

    def to_dict(self) -> dict:
        return {
            "lowest": self.lowest.to_dict(),
            "highest": self.highest.to_dict(),
            "num_steps": self.num_steps,
            "size": self.size,
            "seed": self.seed,
            "converged": self.converged,
        }


def _check_steps(num_steps, P, default):
    m = default if num_steps is None else num_steps
    if int(m) != m or m < 1:
        raise ValueError(f"num_steps must be an integer >= 1, got {num_steps!r}.")
    return int(min(m, P))


def lanczos(
    f,
    params,
    args: tuple = (),
    *,
    k: int = 3,
    num_steps: int | None = None,
    seed: int = 0,
    rtol: float = 1e-8,
    breakdown_rtol: float = 1e-10,
) -> LanczosResult:
    """The k most negative and the k largest eigenpairs of ∇²f(params) by Lanczos.

    Full reorthogonalisation keeps the basis orthonormal to rounding, so there are no
    ghost copies of converged eigenvalues. When the Krylov space becomes invariant
    (β_j ≤ breakdown_rtol · ‖T‖), the recurrence restarts from a random vector
    orthogonal to everything so far: repeated eigenvalues then appear with their
    multiplicity (up to ``num_steps``). With num_steps = P the result is exact to
    rounding. Each returned pair is re-evaluated with an explicit product: the value
    is the Rayleigh quotient and the residual is ‖Hv − λv‖.

    Args:
      f, params, args: the objective ``f(params, *args)``, the point, and the tuple of
        extra arguments.
      k: pairs wanted at each end (2k ≤ num_steps).
      num_steps: Krylov dimension (default min(P, max(100, 4k))). Memory is
        num_steps · P floats.
      seed: for the starting vector and restart vectors.
      rtol: a pair is converged when its residual ≤ rtol · max|Ritz value|.
      breakdown_rtol: β_j below this (relative) is an invariant subspace.
    """
    _check_params_finite(params)
    flat, unravel = ravel_pytree(params)
    P = int(flat.size)
    m = _check_steps(num_steps, P, max(100, 4 * int(k)))
    if int(k) != k or k < 1 or 2 * k > m:
        raise ValueError(f"k must be an integer with 1 <= k and 2k <= num_steps (= {m}); got k = {k!r}.")
    if not (np.isfinite(rtol) and rtol > 0):
        raise ValueError(f"rtol must be a finite number > 0, got {rtol!r}.")
    key = jax.random.PRNGKey(int(seed))
    v0 = jax.random.normal(jax.random.fold_in(key, 10**6), (P,), dtype=flat.dtype)
    theta, lam, V, res = _lanczos(f, params, tuple(args), v0, key, m, int(k), float(breakdown_rtol))
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
        unravel=unravel,
    )


# ------------------------------------------------------- stochastic Lanczos quadrature


@partial(jax.jit, static_argnames=("f", "num_steps"))
def _slq(f, params, args, probes, key, num_steps, breakdown_rtol):
    flat, unravel = ravel_pytree(params)
    _, lin = jax.linearize(_flat_grad(f, unravel, args), flat)

    def one(c):
        i, v0 = c
        _, diag, off = _lanczos_basis(lin, v0, num_steps, jax.random.fold_in(key, i), breakdown_rtol)
        theta, Y = jnp.linalg.eigh(_tridiag(diag, off))
        return theta, Y[0] ** 2

    return jax.lax.map(one, (jnp.arange(probes.shape[0]), probes))


@dataclass(frozen=True)
class SpectralDensity:
    """A stochastic Lanczos quadrature estimate of the Hessian's eigenvalue density.

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

    def to_dict(self) -> dict:
        return {
            "nodes": self.nodes.tolist(),
            "weights": self.weights.tolist(),
            "size": self.size,
            "num_steps": self.num_steps,
            "seed": self.seed,
        }


def spectral_density(
    f,
    params,
    args: tuple = (),
    *,
    num_probes: int = 8,
    num_steps: int = 80,
    seed: int = 0,
    breakdown_rtol: float = 1e-10,
) -> SpectralDensity:
    """Stochastic Lanczos quadrature for the spectrum of ∇²f(params).

    Each of ``num_probes`` Rademacher probes (normalised) runs ``num_steps`` Lanczos
    steps with full reorthogonalisation; the eigenvalues of the tridiagonal matrix
    are the quadrature nodes and the squared first components of its eigenvectors
    the weights. Probes run one after another (memory num_steps · P).
    """
    _check_params_finite(params)
    flat, _ = ravel_pytree(params)
    P = int(flat.size)
    m = _check_steps(num_steps, P, 80)
    if int(num_probes) != num_probes or num_probes < 1:
        raise ValueError(f"num_probes must be an integer >= 1, got {num_probes!r}.")
    key = jax.random.PRNGKey(int(seed))
    signs = jax.random.rademacher(jax.random.fold_in(key, 10**6), (int(num_probes), P), dtype=flat.dtype)
    probes = signs / np.sqrt(P)
    nodes, weights = _slq(f, params, tuple(args), probes, key, m, float(breakdown_rtol))
    return SpectralDensity(nodes=np.asarray(nodes), weights=np.asarray(weights), size=P, num_steps=m, seed=int(seed))


# ------------------------------------------------------------------ block shares


def _leaf_names(params) -> list[str]:
    paths = jax.tree_util.tree_flatten_with_path(params)[0]
    names = []
    for path, _ in paths:
        parts = []
        for p in path:
            parts.append(str(getattr(p, "name", getattr(p, "key", getattr(p, "idx", p)))))
        names.append(".".join(parts) or "params")
    return names


def block_shares(params, vector) -> dict:
    """The share ‖v_block‖² / ‖v‖² of a flat vector's mass on each leaf of ``params``.

    For a `VAEParams` the keys are W, b, log_gamma, mu, log_sigma (the paper's W, b,
    γ, μ and σ). ``vector`` is flat in ``ravel_pytree(params)`` order (as the
    eigenvectors of `spectrum` and `lanczos` are) or a pytree like ``params``.
    """
    flat, unravel = ravel_pytree(params)
    if not isinstance(vector, (np.ndarray, jax.Array)) or np.ndim(vector) != 1:
        vector = ravel_pytree(vector)[0]
    vector = np.asarray(vector, dtype=float)
    if vector.shape != flat.shape:
        raise ValueError(f"vector must have {flat.size} entries (ravel_pytree order of params); got {vector.shape}.")
    total = float(vector @ vector)
    if total == 0.0:
        raise ValueError("vector is zero; block shares are undefined.")
    leaves = jax.tree_util.tree_leaves(unravel(jnp.asarray(vector)))
    return {
        name: float(np.sum(np.asarray(x) ** 2)) / total for name, x in zip(_leaf_names(params), leaves, strict=True)
    }
