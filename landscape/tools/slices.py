"""1-D and 2-D slices f(p + t·d), f(p + s·d₁ + t·d₂) of any objective (MATH.md §4).

For any jittable scalar objective ``f(params, *args)`` over a pytree of float arrays
(``args`` are extra traced arguments, so one compiled kernel serves, e.g., every α of a
sweep; for eq. (5): ``energy_objective`` with ``args=(X, alpha)``). The grids are vmapped and
jitted. Directions are pytrees shaped like ``params``, flat vectors in
``jax.flatten_util.ravel_pytree`` order, or `FilterDirection` s (`landscape.tools.directions`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from landscape.common.results import Result
from landscape.tools.directions import as_flat_direction
from landscape.tools.flat import as_tree, check_grid, check_objective, unravel

__all__ = ["Slice1D", "Slice2D", "slice_1d", "slice_2d"]


@partial(jax.jit, static_argnums=(0, 1))
def _slice_1d_kernel(f, spec, x0, d, ts, args):
    return jax.vmap(lambda t: f(unravel(spec, x0 + t * d), *args))(ts)


@partial(jax.jit, static_argnums=(0, 1))
def _slice_2d_kernel(f, spec, x0, d1, d2, s, t, args):
    def row(si):
        return jax.vmap(lambda tj: f(unravel(spec, x0 + si * d1 + tj * d2), *args))(t)

    return jax.vmap(row)(s)


class _RelRange(Result):
    """A slice's lowest and highest value relative to f0 (``rel``), for its `to_dict`."""

    @property
    def min_rel(self):
        """min over the grid of f − f0 (NaN ignored)."""
        return float(np.nanmin(self.rel))

    @property
    def max_rel(self):
        """max over the grid of f − f0 (NaN ignored)."""
        return float(np.nanmax(self.rel))


@dataclass(frozen=True)
class Slice1D(_RelRange):
    """f(p + t·d) on a grid of t.

    Attributes:
      t: the grid; energy: f(p + t·d); rel: energy − f0, with f0 = f(p).
      direction_norm: ‖d‖₂ (t is in units of d, so t·‖d‖ is the Euclidean distance).
      description: free text (what was sliced, along what).
    """

    t: np.ndarray
    energy: np.ndarray
    rel: np.ndarray
    f0: float
    direction_norm: float
    description: str = ""

    _keys = ("f0", "direction_norm", "description", "min_rel", "max_rel")
    _arrays = ("t", "energy", "rel")


@dataclass(frozen=True)
class Slice2D(_RelRange):
    """f(p + s·d₁ + t·d₂) on a grid: ``energy[i, j]`` is at (s[i], t[j]).

    Attributes:
      s, t: the grids; energy, rel = energy − f0 with f0 = f(p), shape (len(s), len(t)).
      d1_norm, d2_norm: the directions' norms; cosine: d₁·d₂ / (‖d₁‖‖d₂‖) (0 for
        orthogonal directions, where the plot is an isometric picture of the plane).
      description: free text.
    """

    s: np.ndarray
    t: np.ndarray
    energy: np.ndarray
    rel: np.ndarray
    f0: float
    d1_norm: float
    d2_norm: float
    cosine: float
    description: str = ""

    _keys = ("f0", "d1_norm", "d2_norm", "cosine", "description", "min_rel", "max_rel")
    _arrays = ("s", "t", "energy")


def slice_1d(f, params, direction, ts, *, args: tuple = (), description: str = "") -> Slice1D:
    """The 1-D slice t ↦ f(params + t·direction), vmapped and jitted.

    Args:
      f: a jittable scalar function ``f(params, *args)`` of a pytree (for eq. (5):
        ``energy_objective`` with ``args=(X, alpha)``).
      params: the base point (t = 0).
      direction: a pytree shaped like params, a flat vector in ravel_pytree order (e.g. a
        Hessian eigenvector from ``landscape.spectrum(..., eigenvectors=True)``), or a
        `FilterDirection`.
      ts: the grid, 1-D, finite.
      args: extra arguments of f, passed traced (one compilation for all of their values).
      description: stored in the result.

    Returns:
      A `Slice1D`. Non-finite energies (outside f's domain) are kept as they come.
    """
    tree, spec, x0 = as_tree("params", params)
    d = as_flat_direction("direction", direction, spec, nonzero=True)
    ts = check_grid("ts", ts)
    f0 = check_objective(f, spec, x0, args)
    vals = np.asarray(_slice_1d_kernel(f, spec, x0, d, jnp.asarray(ts), args))
    return Slice1D(
        t=ts,
        energy=vals,
        rel=vals - f0,
        f0=f0,
        direction_norm=float(jnp.linalg.norm(d)),
        description=description,
    )


def slice_2d(f, params, d1, d2, s, t, *, args: tuple = (), description: str = "") -> Slice2D:
    """The 2-D slice (s, t) ↦ f(params + s·d1 + t·d2) on the grid s × t, vmapped and jitted.

    Directions and arguments as for `slice_1d`. ``energy[i, j]`` is at (s[i], t[j]).
    """
    tree, spec, x0 = as_tree("params", params)
    v1 = as_flat_direction("d1", d1, spec, nonzero=True)
    v2 = as_flat_direction("d2", d2, spec, nonzero=True)
    s = check_grid("s", s)
    t = check_grid("t", t)
    f0 = check_objective(f, spec, x0, args)
    vals = np.asarray(_slice_2d_kernel(f, spec, x0, v1, v2, jnp.asarray(s), jnp.asarray(t), args))
    n1, n2 = float(jnp.linalg.norm(v1)), float(jnp.linalg.norm(v2))
    cos = float(jnp.dot(v1, v2) / (n1 * n2)) if n1 > 0 and n2 > 0 else math.nan
    return Slice2D(
        s=s, t=t, energy=vals, rel=vals - f0, f0=f0, d1_norm=n1, d2_norm=n2, cosine=cos, description=description
    )
