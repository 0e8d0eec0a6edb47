"""Re-minimised slices: t ↦ min over the free coordinates of f(p + t·d) (MATH.md §4).

The coordinates marked ``free`` are minimised again at every t by warm-started continuation
with `landscape.tools.newton.newton_minimize`, as the Proposition 1 profiles of
`landscape.profiles` do for W = t·U; the others move along ``p + t·d``. For any jittable scalar
objective ``f(params, *args)`` over a pytree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from landscape.common import checks as V
from landscape.common.results import Result
from landscape.tools.directions import as_flat_direction
from landscape.tools.flat import Spec, as_tree, check_grid, check_objective, unravel
from landscape.tools.newton import newton_minimize

__all__ = ["Profile1D", "profile_1d"]


@partial(jax.jit, static_argnums=(0, 1, 9))
def _profile_kernel(f, spec, x0, d, free_idx, ts, reset, first, args, max_steps, gtol):
    def body(carry, inp):
        xf, anchor = carry
        t, rs, fst = inp
        base = x0 + t * d

        def g(z):
            return f(unravel(spec, base.at[free_idx].set(z)), *args)

        start = jnp.where(rs, anchor, xf)
        res = newton_minimize(g, start, gtol=gtol, max_steps=max_steps)
        anchor = jnp.where(fst, res.x, anchor)
        point = base.at[free_idx].set(res.x)
        return (res.x, anchor), (res.value, res.grad_norm, res.steps, res.converged, point)

    xf0 = x0[free_idx]
    _, out = jax.lax.scan(body, (xf0, xf0), (ts, reset, first))
    return out


@dataclass(frozen=True)
class Profile1D(Result):
    """min over the free coordinates of f along p + t·d (the fixed coordinates move).

    Attributes:
      t: the grid (ascending); energy: the re-minimised f at each t; rel: energy − f0,
        with f0 = f(params) (so rel[t = 0] < 0 where params was not minimal in the free
        coordinates).
      grad_norm: ‖∇‖ over the free coordinates at the end of each inner minimisation (the
        evidence that it converged); steps: Newton steps it took; converged: grad_norm ≤ gtol.
      points: the full points, flat (ravel_pytree order), shape (len(t), P); `params_at`
        returns one as a pytree.
      direction_norm: ‖d‖ over the fixed coordinates (the free part of d is ignored).
      n_free: number of re-minimised coordinates; gtol: the inner tolerance.
    """

    t: np.ndarray
    energy: np.ndarray
    rel: np.ndarray
    f0: float
    grad_norm: np.ndarray
    steps: np.ndarray
    converged: np.ndarray
    points: np.ndarray
    direction_norm: float
    n_free: int
    gtol: float
    description: str = ""
    _spec: Any = field(default=None, repr=False, compare=False)

    @property
    def max_grad_norm(self) -> float:
        return float(np.max(self.grad_norm))

    def params_at(self, i: int):
        """The full point at grid index ``i`` as a pytree."""
        return unravel(self._spec, jnp.asarray(self.points[i]))

    _keys = ("f0", "direction_norm", "n_free", "gtol", "max_grad_norm", "all_converged", "description")
    _arrays = ("t", "energy", "rel", "grad_norm")

    @property
    def all_converged(self):
        """Whether every re-minimisation met gtol."""
        return bool(np.all(self.converged))


def _free_mask(free, spec: Spec) -> np.ndarray:
    leaves, treedef = jax.tree_util.tree_flatten(free)
    if treedef != spec.treedef:
        raise ValueError(
            "free must have the pytree structure of params, with a boolean (or a boolean array of the "
            "leaf's shape) per leaf, e.g. VAEParams(W=False, b=True, log_gamma=True, mu=True, log_sigma=True)."
        )
    parts = []
    for leaf, shape in zip(leaves, spec.shapes, strict=True):
        a = np.asarray(leaf)
        if a.dtype != np.bool_:
            raise ValueError(f"free must hold booleans (True = re-minimise), got dtype {a.dtype}.")
        try:
            parts.append(np.broadcast_to(a, shape).ravel())
        except ValueError:
            raise ValueError(
                f"a leaf of free has shape {a.shape}, which does not fit the parameter's {shape}."
            ) from None
    return np.concatenate(parts)


def profile_1d(
    f,
    params,
    direction,
    ts,
    *,
    free,
    args: tuple = (),
    gtol: float = 1e-11,
    max_steps: int = 100,
    description: str = "",
) -> Profile1D:
    """The re-minimised slice t ↦ min_{free} f(params + t·direction), by continuation.

    The coordinates *not* marked free move along params + t·direction; those marked free
    are minimised again at every t by `newton_minimize` (saddle-free Newton, exact dense
    Hessian), warm-started from the solution at the neighbouring t. Continuation starts at
    the grid point nearest t = 0 (from the free values in ``params``) and runs outwards in
    both directions, so it follows the branch through ``params``: for eq. (5) at the
    collapsed point with only W fixed, this is the Proposition 1 profile f_U(t) of
    `landscape.profiles` (MATH.md §4). The direction's components on free coordinates are
    ignored.

    Args:
      f, params, direction, args: as for `slice_1d`.
      ts: the grid, strictly increasing.
      free: a pytree with the structure of params: per leaf a boolean, or a boolean array
        of the leaf's shape (True = re-minimised).
      gtol, max_steps: of each inner minimisation.

    Returns:
      A `Profile1D`, with the inner gradient norms as evidence.
    """
    tree, spec, x0 = as_tree("params", params)
    d = as_flat_direction("direction", direction, spec, nonzero=True)
    ts = check_grid("ts", ts, increasing=True)
    mask = _free_mask(free, spec)
    if not mask.any():
        raise ValueError("free marks no coordinate; use slice_1d for a slice without re-minimisation.")
    if mask.all():
        raise ValueError("free marks every coordinate, so nothing moves along the direction; leave some fixed.")
    gtol = V.check_positive("gtol", gtol)
    max_steps = V.check_size("max_steps", max_steps, 1)
    f0 = check_objective(f, spec, x0, args)
    free_idx = np.nonzero(mask)[0]
    d_fixed = jnp.where(jnp.asarray(mask), 0.0, d)
    if not np.any(np.asarray(d_fixed)):
        raise ValueError(
            "direction is zero on every fixed coordinate (its free part is ignored), so nothing moves; "
            "pass a direction with a non-zero fixed part."
        )
    i0 = int(np.argmin(np.abs(ts)))
    order = np.concatenate([np.arange(i0, ts.size), np.arange(i0 - 1, -1, -1)]).astype(int)
    reset = np.zeros(ts.size, dtype=bool)
    if i0 > 0:
        reset[ts.size - i0] = True
    first = np.zeros(ts.size, dtype=bool)
    first[0] = True
    vals, gns, steps, conv, pts = _profile_kernel(
        f,
        spec,
        x0,
        d_fixed,
        jnp.asarray(free_idx),
        jnp.asarray(ts[order]),
        jnp.asarray(reset),
        jnp.asarray(first),
        args,
        max_steps,
        gtol,
    )
    inv = np.argsort(order)
    vals = np.asarray(vals)[inv]
    return Profile1D(
        t=ts,
        energy=vals,
        rel=vals - f0,
        f0=f0,
        grad_norm=np.asarray(gns)[inv],
        steps=np.asarray(steps)[inv],
        converged=np.asarray(conv)[inv],
        points=np.asarray(pts)[inv],
        direction_norm=float(jnp.linalg.norm(d_fixed)),
        n_free=int(mask.sum()),
        gtol=gtol,
        description=description,
        _spec=spec,
    )
