"""Slices of the landscape and minimum-energy paths between two points (MATH.md §4–5).

Two tools, both for *any* jittable scalar objective ``f(params, *args)`` over a pytree of
float arrays (``args`` are extra traced arguments, so one compiled kernel serves, e.g.,
every α of a sweep), with thin conveniences for eq. (5) (`energy_objective`, `prop1_path`).

**Slices.** ``f(p + t·d)`` on a grid (`slice_1d`) and ``f(p + s·d₁ + t·d₂)`` on a plane
(`slice_2d`), vmapped and jitted. Directions are pytrees shaped like ``params`` or flat
vectors in ``jax.flatten_util.ravel_pytree`` order (the order of `landscape.hessian` and of
``landscape.spectrum(..., eigenvectors=True).eigenvectors``). `filter_normalized_direction`
draws the random directions of Li et al. (2018), rescaled filter by filter to the norms of
the parameter's filters; `segment_direction` is ``other − params``. `profile_1d` is the
re-minimised slice: the coordinates marked ``free`` are minimised again at every t (by
warm-started continuation with `landscape.optimize.newton_minimize`, as the Proposition 1
profiles of `landscape.profiles` do for W = t·U), the others move along ``p + t·d``.

**Minimum-energy paths.** `minimum_energy_path` runs the string method (E, Ren &
Vanden-Eijnden, Phys. Rev. B 66, 052301, 2002; J. Chem. Phys. 126, 164103, 2007) between two
fixed end points: a step down the perpendicular gradient on every interior image, then
re-parametrisation to equal arc length by linear interpolation in the flat space. Then the
highest image climbs to the top of the pass (the climbing image of Henkelman, Uberuaga &
Jónsson, J. Chem. Phys. 113, 9901, 2000, with the two sub-strings on either side of it
re-parametrised separately as in the climbing string method of Ren & Vanden-Eijnden,
J. Chem. Phys. 138, 134105, 2013), and it is polished by plain Newton steps on ∇f = 0, so
that the top of the barrier is an actual saddle whose Hessian inertia is reported (index 1
at a mountain pass). At the collapsed point of eq. (5) for α > 0 (MATH.md §4), this measures
the height of the pass out of the bad local minimum of Proposition 1, which the profiles
along W = t·U only bound from above (`prop1_path`).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from landscape.common import checks as V
from landscape.core.collapsed import collapsed_point
from landscape.core.datasets import Prop1Dataset
from landscape.core.energy import _check, _energy, energy_objective
from landscape.core.params import VAEParams, as_float64_params, check_params
from landscape.tools.inertia import DEFAULT_RTOL, Spectrum, inertia
from landscape.tools.newton import newton_minimize

__all__ = [
    "FilterDirection",
    "Slice1D",
    "Slice2D",
    "Profile1D",
    "MinimumEnergyPath",
    "filter_normalized_direction",
    "segment_direction",
    "slice_1d",
    "slice_2d",
    "profile_1d",
    "minimum_energy_path",
    "prop1_path",
]


# ---------------------------------------------------------------------------------------
# Flat view of a pytree (the order of jax.flatten_util.ravel_pytree), with a hashable spec
# so that the jitted kernels below compile once per (objective, structure) and are reused.


class _Spec(NamedTuple):
    treedef: Any
    shapes: tuple

    @property
    def size(self) -> int:
        return int(sum(math.prod(s) for s in self.shapes))


def _unravel(spec: _Spec, x):
    leaves, start = [], 0
    for shape in spec.shapes:
        size = math.prod(shape)
        leaves.append(jnp.reshape(x[start : start + size], shape))
        start += size
    return jax.tree_util.tree_unflatten(spec.treedef, leaves)


def _ravel(tree) -> jax.Array:
    leaves = jax.tree_util.tree_leaves(tree)
    return jnp.concatenate([jnp.ravel(jnp.asarray(a, dtype=jnp.float64)) for a in leaves])


def _as_tree(name: str, tree):
    """``tree`` with float64 leaves, its spec and flat vector; ValueError if it is not usable."""
    if isinstance(tree, VAEParams):
        tree = as_float64_params(tree)
    leaves, treedef = jax.tree_util.tree_flatten(tree)
    if not leaves:
        raise ValueError(f"{name} has no array leaves; pass a pytree of float arrays (e.g. a landscape.VAEParams).")
    arrays = []
    for a in leaves:
        try:
            arr = np.asarray(a, dtype=np.float64)
        except (TypeError, ValueError) as err:
            raise ValueError(f"{name} must hold real arrays: {err}") from None
        arrays.append(arr)
    bad = sum(int(np.size(a) - np.count_nonzero(np.isfinite(a))) for a in arrays)
    if bad:
        raise ValueError(f"{name} contains {bad} NaN or inf entries; every parameter must be finite.")
    spec = _Spec(treedef, tuple(a.shape for a in arrays))
    tree = jax.tree_util.tree_unflatten(treedef, [jnp.asarray(a) for a in arrays])
    flat = jnp.asarray(np.concatenate([a.ravel() for a in arrays]))
    return tree, spec, flat


def _same_structure(name: str, spec: _Spec, other_spec: _Spec, ref: str = "params"):
    if other_spec.treedef != spec.treedef or other_spec.shapes != spec.shapes:
        raise ValueError(
            f"{name} must have the pytree structure and leaf shapes of {ref}: expected leaf shapes "
            f"{list(spec.shapes)}, got {list(other_spec.shapes)}."
        )


def _as_flat_direction(name: str, direction, spec: _Spec) -> jax.Array:
    """A direction given as a pytree shaped like params, a flat (P,) vector, or a FilterDirection."""
    if isinstance(direction, FilterDirection):
        direction = direction.direction
    P = spec.size
    leaves, treedef = jax.tree_util.tree_flatten(direction)
    if treedef == spec.treedef and tuple(np.shape(a) for a in leaves) == spec.shapes:
        flat = np.concatenate([np.ravel(np.asarray(a, dtype=np.float64)) for a in leaves])
    else:
        try:
            arr = np.asarray(direction, dtype=np.float64)
        except (TypeError, ValueError):
            arr = None
        if arr is None or arr.shape not in ((P,), (P, 1)):
            got = np.shape(arr) if arr is not None else f"a pytree with leaf shapes {[np.shape(a) for a in leaves]}"
            raise ValueError(
                f"{name} must be a pytree shaped like params (leaf shapes {list(spec.shapes)}) or a flat vector "
                f"of length P = {P} in ravel_pytree order (e.g. a column of "
                f"landscape.spectrum(..., eigenvectors=True).eigenvectors); got {got}."
            )
        flat = arr.reshape(P)
    if not np.all(np.isfinite(flat)):
        raise ValueError(f"{name} contains NaN or inf entries.")
    return jnp.asarray(flat)


@partial(jax.jit, static_argnums=(0, 1))
def _value_kernel(f, spec, x, args):
    return f(_unravel(spec, x), *args)


def _check_objective(f, spec, flat, args) -> float:
    """f must be callable and return a finite scalar at the point ``flat``; returns that value."""
    if not callable(f):
        raise ValueError(f"f must be a callable f(params, *args) returning a scalar, got {type(f).__name__}.")
    if not isinstance(args, tuple):
        raise ValueError(f"args must be a tuple of extra arguments for f, got {type(args).__name__}.")
    if f is energy_objective:  # eq. (5): the library's own checks of params, X, alpha and gamma
        if len(args) not in (2, 3):
            raise ValueError(f"energy_objective needs args=(X, alpha) or (X, alpha, gamma), got {len(args)}.")
        params = _unravel(spec, flat)
        if not isinstance(params, VAEParams):
            raise ValueError(f"energy_objective needs params to be a landscape.VAEParams, got {type(params).__name__}.")
        _check(params, *args, *((None,) if len(args) == 2 else ()))
    value = _value_kernel(f, spec, flat, args)
    if np.shape(value) != ():
        raise ValueError(f"f must return a scalar, got an array of shape {np.shape(value)}.")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"f(params) = {value}: the objective must be finite at the base point.")
    return value


def _check_grid(name: str, values, *, increasing: bool = False) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1 or arr.size == 0 or not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be a non-empty 1-D array of finite values, got shape {arr.shape}.")
    if increasing and np.any(np.diff(arr) <= 0):
        raise ValueError(f"{name} must be strictly increasing (the continuation follows it in order).")
    return arr


# ---------------------------------------------------------------------------------------
# Directions


@dataclass(frozen=True)
class FilterDirection:
    """A filter-normalised random direction (Li et al. 2018) and how it was normalised.

    Attributes:
      direction: the direction, a pytree shaped like the parameters.
      flat: the same, flat, in ravel_pytree order.
      filter_axes: per leaf, the axis that enumerates its filters (None: the leaf is one filter).
      filter_norms: per leaf, the norms of the *parameter's* filters (which the direction's
        filters now have, except where they are 0).
      fallback: per leaf, a boolean per filter: True where the parameter's filter has norm 0
        (e.g. W = 0 at the collapsed point), so Li et al.'s rule would give a zero direction;
        that filter of the direction is given unit norm instead.
      n_filters, n_fallback: totals over all leaves.
      seed: the integer seed, when one was given.

    Accepted wherever a direction is (`slice_1d`, `slice_2d`, `profile_1d`).
    """

    direction: Any
    flat: np.ndarray
    filter_axes: tuple
    filter_norms: tuple
    fallback: tuple
    n_filters: int
    n_fallback: int
    seed: int | None = None

    @property
    def any_fallback(self) -> bool:
        return self.n_fallback > 0

    def to_dict(self) -> dict:
        return {
            "filter_axes": list(self.filter_axes),
            "filter_norms": [np.asarray(a).tolist() for a in self.filter_norms],
            "fallback": [np.asarray(a).tolist() for a in self.fallback],
            "n_filters": self.n_filters,
            "n_fallback": self.n_fallback,
            "seed": self.seed,
            "norm": float(np.linalg.norm(self.flat)),
        }


def _default_filter_axes(tree, leaves) -> tuple:
    if isinstance(tree, VAEParams):
        # W (d, κ): column k is latent k's decoder filter; mu, log_sigma (n, κ): one filter per
        # data point; b and log γ: one filter each.
        return (1, None, None, 0, 0)
    return tuple(0 if np.ndim(a) >= 2 else None for a in leaves)


def _key(key_or_seed):
    if isinstance(key_or_seed, (bool, np.bool_)):
        raise ValueError(f"key_or_seed must be an integer seed >= 0 or a jax.random key, got {key_or_seed!r}.")
    if isinstance(key_or_seed, (int, np.integer)):
        if key_or_seed < 0:
            raise ValueError(f"key_or_seed must be an integer seed >= 0 or a jax.random key, got {key_or_seed}.")
        return jax.random.key(int(key_or_seed)), int(key_or_seed)
    key = key_or_seed
    if isinstance(key, jax.Array) and jnp.issubdtype(key.dtype, jax.dtypes.prng_key) and key.shape == ():
        return key, None
    if isinstance(key, (jax.Array, np.ndarray)) and key.dtype == np.uint32 and key.shape == (2,):
        return jax.random.wrap_key_data(jnp.asarray(key)), None
    raise ValueError(
        f"key_or_seed must be an integer seed >= 0 or a single jax.random key, got {type(key_or_seed).__name__}."
    )


def filter_normalized_direction(params, key_or_seed, *, filter_axes=None) -> FilterDirection:
    """A random Gaussian direction rescaled filter by filter (Li et al., NeurIPS 2018).

    Draw d ~ N(0, I) with the structure of ``params``; then for each filter F (a slice of
    one leaf) rescale d_F ← d_F · ‖θ_F‖ / ‖d_F‖, so every filter of the direction has the
    norm of the parameter's filter (as PyHessian and loss-landscape do). Slices along such
    directions are comparable between networks of different scales.

    Filters, by default: for a `VAEParams`, each column W[:, k] (latent k's decoder filter),
    each row of mu and of log_sigma (one data point's code), and b and log_gamma each as one
    filter; for other pytrees, the slices along axis 0 of every leaf with ndim ≥ 2 (the
    PyTorch / loss-landscape convention, rows = output units), and vectors and scalars as
    one filter each.

    **Zero filters.** Where the parameter's filter has norm 0 (W = 0 at the collapsed point,
    MATH.md §3; μ = 0 there too) the rule gives a zero direction, and the slice could not
    leave the point along that filter. Such a filter is given **unit norm** instead, and
    flagged in the result's ``fallback`` (per filter) and ``n_fallback``.

    Args:
      params: the point, a pytree of float arrays (e.g. a `landscape.VAEParams`).
      key_or_seed: an integer seed ≥ 0 or a ``jax.random`` key.
      filter_axes: per leaf (in ``jax.tree_util.tree_leaves`` order), the axis enumerating its
        filters, or None for "the whole leaf is one filter"; a sequence, or a pytree prefix
        with ints/None (e.g. ``VAEParams(1, None, None, 0, 0)``, the default for VAEParams).

    Returns:
      A `FilterDirection` (its ``direction`` is the pytree; slices accept it directly).
    """
    tree, spec, _ = _as_tree("params", params)
    key, seed = _key(key_or_seed)
    leaves = jax.tree_util.tree_leaves(tree)
    if filter_axes is None:
        axes = _default_filter_axes(params, leaves)
    else:
        axes = tuple(jax.tree_util.tree_leaves(filter_axes, is_leaf=lambda a: a is None))
        if len(axes) != len(leaves):
            raise ValueError(
                f"filter_axes must give one axis (int or None) per leaf of params: {len(leaves)} leaves, "
                f"got {len(axes)} entries."
            )
    keys = jax.random.split(key, len(leaves))
    out, norms, fallbacks = [], [], []
    for leaf, ax, k in zip(leaves, axes, keys, strict=True):
        p = np.asarray(leaf, dtype=np.float64)
        if ax is not None and (isinstance(ax, bool) or not isinstance(ax, (int, np.integer))):
            raise ValueError(f"filter_axes entries must be ints or None, got {ax!r}.")
        if ax is not None and not -p.ndim <= ax < p.ndim:
            raise ValueError(f"filter axis {ax} is out of range for a leaf of shape {p.shape}.")
        d = np.asarray(jax.random.normal(k, p.shape, dtype=jnp.float64))
        if ax is None:
            pf, df = p.reshape(1, -1), d.reshape(1, -1)
        else:
            pf = np.moveaxis(p, ax, 0).reshape(p.shape[ax], -1)
            df = np.moveaxis(d, ax, 0).reshape(p.shape[ax], -1)
        pn = np.linalg.norm(pf, axis=1)
        dn = np.linalg.norm(df, axis=1)
        fb = pn == 0.0
        target = np.where(fb, 1.0, pn)
        scaled = df * (target / np.where(dn > 0, dn, 1.0))[:, None]
        if ax is None:
            new = scaled.reshape(p.shape)
        else:
            moved = np.moveaxis(p, ax, 0).shape
            new = np.moveaxis(scaled.reshape(moved), 0, ax)
        out.append(jnp.asarray(new))
        norms.append(pn)
        fallbacks.append(fb)
    direction = jax.tree_util.tree_unflatten(spec.treedef, out)
    return FilterDirection(
        direction=direction,
        flat=np.asarray(_ravel(direction)),
        filter_axes=tuple(None if a is None else int(a) for a in axes),
        filter_norms=tuple(norms),
        fallback=tuple(fallbacks),
        n_filters=int(sum(a.size for a in fallbacks)),
        n_fallback=int(sum(int(a.sum()) for a in fallbacks)),
        seed=seed,
    )


def segment_direction(params, other):
    """The direction ``other − params`` (a pytree), so that t = 1 of a slice lands on ``other``."""
    tree, spec, _ = _as_tree("params", params)
    other_tree, other_spec, _ = _as_tree("other", other)
    _same_structure("other", spec, other_spec)
    return jax.tree_util.tree_map(lambda a, b: b - a, tree, other_tree)


# ---------------------------------------------------------------------------------------
# Slices


@partial(jax.jit, static_argnums=(0, 1))
def _slice_1d_kernel(f, spec, x0, d, ts, args):
    return jax.vmap(lambda t: f(_unravel(spec, x0 + t * d), *args))(ts)


@partial(jax.jit, static_argnums=(0, 1))
def _slice_2d_kernel(f, spec, x0, d1, d2, s, t, args):
    def row(si):
        return jax.vmap(lambda tj: f(_unravel(spec, x0 + si * d1 + tj * d2), *args))(t)

    return jax.vmap(row)(s)


@dataclass(frozen=True)
class Slice1D:
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

    def to_dict(self, arrays: bool = True) -> dict:
        out = {
            "f0": self.f0,
            "direction_norm": self.direction_norm,
            "description": self.description,
            "min_rel": float(np.nanmin(self.rel)),
            "max_rel": float(np.nanmax(self.rel)),
        }
        if arrays:
            out |= {"t": self.t.tolist(), "energy": self.energy.tolist(), "rel": self.rel.tolist()}
        return out


@dataclass(frozen=True)
class Slice2D:
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

    def to_dict(self, arrays: bool = True) -> dict:
        out = {
            "f0": self.f0,
            "d1_norm": self.d1_norm,
            "d2_norm": self.d2_norm,
            "cosine": self.cosine,
            "description": self.description,
            "min_rel": float(np.nanmin(self.rel)),
            "max_rel": float(np.nanmax(self.rel)),
        }
        if arrays:
            out |= {"s": self.s.tolist(), "t": self.t.tolist(), "energy": self.energy.tolist()}
        return out


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
    tree, spec, x0 = _as_tree("params", params)
    d = _as_flat_direction("direction", direction, spec)
    ts = _check_grid("ts", ts)
    f0 = _check_objective(f, spec, x0, args)
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
    tree, spec, x0 = _as_tree("params", params)
    v1 = _as_flat_direction("d1", d1, spec)
    v2 = _as_flat_direction("d2", d2, spec)
    s = _check_grid("s", s)
    t = _check_grid("t", t)
    f0 = _check_objective(f, spec, x0, args)
    vals = np.asarray(_slice_2d_kernel(f, spec, x0, v1, v2, jnp.asarray(s), jnp.asarray(t), args))
    n1, n2 = float(jnp.linalg.norm(v1)), float(jnp.linalg.norm(v2))
    cos = float(jnp.dot(v1, v2) / (n1 * n2)) if n1 > 0 and n2 > 0 else math.nan
    return Slice2D(
        s=s, t=t, energy=vals, rel=vals - f0, f0=f0, d1_norm=n1, d2_norm=n2, cosine=cos, description=description
    )


# ---------------------------------------------------------------------------------------
# Re-minimised (profile) slices


@partial(jax.jit, static_argnums=(0, 1, 9))
def _profile_kernel(f, spec, x0, d, free_idx, ts, reset, first, args, max_steps, gtol):
    def body(carry, inp):
        xf, anchor = carry
        t, rs, fst = inp
        base = x0 + t * d

        def g(z):
            return f(_unravel(spec, base.at[free_idx].set(z)), *args)

        start = jnp.where(rs, anchor, xf)
        res = newton_minimize(g, start, gtol=gtol, max_steps=max_steps)
        anchor = jnp.where(fst, res.x, anchor)
        point = base.at[free_idx].set(res.x)
        return (res.x, anchor), (res.value, res.grad_norm, res.steps, res.converged, point)

    xf0 = x0[free_idx]
    _, out = jax.lax.scan(body, (xf0, xf0), (ts, reset, first))
    return out


@dataclass(frozen=True)
class Profile1D:
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
        return _unravel(self._spec, jnp.asarray(self.points[i]))

    def to_dict(self, arrays: bool = True) -> dict:
        out = {
            "f0": self.f0,
            "direction_norm": self.direction_norm,
            "n_free": self.n_free,
            "gtol": self.gtol,
            "max_grad_norm": self.max_grad_norm,
            "all_converged": bool(np.all(self.converged)),
            "description": self.description,
        }
        if arrays:
            out |= {
                "t": self.t.tolist(),
                "energy": self.energy.tolist(),
                "rel": self.rel.tolist(),
                "grad_norm": self.grad_norm.tolist(),
            }
        return out


def _free_mask(free, spec: _Spec) -> np.ndarray:
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
    tree, spec, x0 = _as_tree("params", params)
    d = _as_flat_direction("direction", direction, spec)
    ts = _check_grid("ts", ts, increasing=True)
    mask = _free_mask(free, spec)
    if not mask.any():
        raise ValueError("free marks no coordinate; use slice_1d for a slice without re-minimisation.")
    if mask.all():
        raise ValueError("free marks every coordinate, so nothing moves along the direction; leave some fixed.")
    gtol = V.check_positive("gtol", gtol)
    max_steps = V.check_size("max_steps", max_steps, 1)
    f0 = _check_objective(f, spec, x0, args)
    free_idx = np.nonzero(mask)[0]
    d_fixed = jnp.where(jnp.asarray(mask), 0.0, d)
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


# ---------------------------------------------------------------------------------------
# The string method with a climbing image


def _tangents(x, E):
    """Unit tangents by the upwind rule of Henkelman & Jónsson (J. Chem. Phys. 113, 9978, 2000).

    τ_i points to the higher neighbour (x_{i+1} − x_i if E_{i+1} > E_i > E_{i−1}, x_i − x_{i−1}
    if E_{i+1} < E_i < E_{i−1}); at a local extremum of E the two are blended with weights
    max/min |ΔE|. One-sided at the two ends. Also returns, per image, the shorter of its two
    segments. The upwind choice is what makes the perpendicular update stable: with central
    differences it is an explicit central scheme for an advection term ∝ (∇f·τ)/Δs, which
    grows kinks wherever the perpendicular curvature is small.
    """
    fwd = jnp.concatenate([x[1:] - x[:-1], x[-1:] - x[-2:-1]], axis=0)  # x_{i+1} − x_i
    bwd = jnp.concatenate([x[1:2] - x[0:1], x[1:] - x[:-1]], axis=0)  # x_i − x_{i−1}
    e_next = jnp.concatenate([E[1:], E[-1:]])
    e_prev = jnp.concatenate([E[:1], E[:-1]])
    d_next, d_prev = e_next - E, E - e_prev
    up = (d_next > 0) & (d_prev > 0)
    down = (d_next < 0) & (d_prev < 0)
    big = jnp.maximum(jnp.abs(d_next), jnp.abs(d_prev))
    small = jnp.minimum(jnp.abs(d_next), jnp.abs(d_prev))
    w_f = jnp.where(e_next > e_prev, big, small)
    w_b = jnp.where(e_next > e_prev, small, big)
    blend = w_f[:, None] * fwd + w_b[:, None] * bwd
    blend = jnp.where((w_f + w_b > 0)[:, None], blend, fwd + bwd)
    t = jnp.where(up[:, None], fwd, jnp.where(down[:, None], bwd, blend))
    M = x.shape[0]
    t = t.at[0].set(fwd[0]).at[M - 1].set(bwd[M - 1])
    ds = jnp.minimum(jnp.linalg.norm(fwd, axis=1), jnp.linalg.norm(bwd, axis=1))
    return t / jnp.maximum(jnp.linalg.norm(t, axis=1, keepdims=True), 1e-300), ds


def _arc_length(x):
    seg = jnp.linalg.norm(jnp.diff(x, axis=0), axis=1)
    return seg, jnp.concatenate([jnp.zeros(1, x.dtype), jnp.cumsum(seg)])


def _reparametrize(x, k, k_dst=None):
    """Images at equal arc length by linear interpolation along the polyline through them.

    Without a climbing image (k < 0) the M images are spread evenly over the whole length.
    With one, the two sub-strings on either side of it are re-parametrised separately:
    image k (at arc length s_k) becomes image ``k_dst`` (default k), unchanged, and images
    0..k_dst and k_dst..M − 1 are spread evenly over [0, s_k] and [s_k, L].
    """
    M = x.shape[0]
    k_dst = k if k_dst is None else k_dst
    seg, s = _arc_length(x)
    L = s[-1]
    i = jnp.arange(M, dtype=x.dtype)
    sk = s[jnp.maximum(k, 0)]
    kf = jnp.maximum(k_dst, 0).astype(x.dtype)
    lo = sk * i / jnp.maximum(kf, 1.0)
    hi = sk + (L - sk) * (i - kf) / jnp.maximum(M - 1 - kf, 1.0)
    target = jnp.where(k > 0, jnp.where(i <= kf, lo, hi), L * i / (M - 1))
    j = jnp.clip(jnp.searchsorted(s, target, side="right") - 1, 0, M - 2)
    w = jnp.clip((target - s[j]) / jnp.maximum(seg[j], 1e-300), 0.0, 1.0)
    new = x[j] + w[:, None] * (x[j + 1] - x[j])
    idx = jnp.arange(M)
    new = jnp.where(((idx == k_dst) & (k > 0))[:, None], x[jnp.maximum(k, 0)], new)
    return jnp.where(((idx == 0) | (idx == M - 1))[:, None], x, new)


def _flat_fn(f, spec, args):
    return lambda z: f(_unravel(spec, z), *args)


def _curvatures(fx, x):
    """Every image's dense Hessian, diagonalised: the scales of the string's steps.

    Returns (lam, ev, vec): ``ev`` (M, P) and ``vec`` (M, P, P) the eigenvalues (signed) and
    eigenvectors of each image's Hessian, and lam_i the largest |eigenvalue| over images
    i − 1, i, i + 1.
    """
    H = jax.vmap(jax.hessian(fx))(x)
    ev, vec = jnp.linalg.eigh(0.5 * (H + jnp.swapaxes(H, 1, 2)))
    ok = jnp.all(jnp.isfinite(ev), axis=1)
    lam = jnp.where(ok, jnp.max(jnp.abs(ev), axis=1), jnp.inf)
    floor = jnp.maximum(1e-12 * jnp.max(jnp.where(ok, lam, 0.0)), 1e-300)
    lam = jnp.maximum(lam, floor)
    nb = jnp.maximum(jnp.maximum(lam, jnp.roll(lam, 1)), jnp.roll(lam, -1))
    nb = nb.at[0].set(jnp.maximum(lam[0], lam[1])).at[-1].set(jnp.maximum(lam[-1], lam[-2]))
    return nb, jnp.where(ok[:, None], ev, jnp.inf), vec


def _string_metrics(vg, x, k, far):
    """Energies, gradients, tangents, segment lengths, and per image the convergence metric.

    The metric is ‖∇f⊥‖ = ‖∇f − (∇f·τ)τ‖ on the interior images, ‖∇f‖ on the climbing image k,
    and 0 at the two ends; with ``far`` False only the ascent counts: images up to the climbing
    image (or, before climbing, up to the highest image).
    """
    E, G = vg(x)
    tau, ds = _tangents(x, E)
    gpar = jnp.sum(G * tau, axis=1)
    perp = jnp.linalg.norm(G - gpar[:, None] * tau, axis=1)
    full = jnp.linalg.norm(G, axis=1)
    M = x.shape[0]
    idx = jnp.arange(M)
    metric = jnp.where(idx == k, full, perp)
    counted = (idx > 0) & (idx < M - 1)
    if not far:
        top = jnp.where(k > 0, k, jnp.argmax(jnp.where(counted, E, -jnp.inf)))
        counted = counted & (idx <= top)
    return E, G, tau, gpar, ds, jnp.where(counted, metric, 0.0)


def _prfo_step(g, lam, vec, v_prev, trust):
    """One partitioned rational-function step towards an index-1 saddle (Baker 1986).

    In the eigenbasis of H, the mode with the largest overlap with ``v_prev`` (mode
    following) is maximised and every other mode minimised, each by a rational-function
    (shifted Newton) step: p_j = g_j / (σ₊ − λ_j) uphill with σ₊ = (λ_j + √(λ_j² + 4g_j²))/2,
    and p_i = −g_i / (λ_i − σ₋) downhill with σ₋ the lowest eigenvalue of the augmented
    Hessian [[Λ, g], [gᵀ, 0]] of the other modes (σ₋ < min λ_i, so every such step descends,
    whatever the sign of λ_i). At a non-degenerate index-1 saddle both shifts vanish to second
    order and the step is the Newton step; where the Hessian is nearly flat or has other
    negative modes (the dead-zone W rows of eq. (5)) it still goes the right way. The step is
    cut to length ``trust``. ``lam, vec``: the Hessian's eigenvalues and eigenvectors (columns).
    Returns (step, followed eigenvector).
    """
    P = lam.shape[0]
    j = jnp.argmax(jnp.abs(vec.T @ v_prev))
    gi = vec.T @ g
    lj, gj = lam[j], gi[j]
    s_up = 0.5 * (lj + jnp.sqrt(lj**2 + 4.0 * gj**2))
    den_up = s_up - lj
    p_up = jnp.where(den_up > 0, gj / jnp.where(den_up > 0, den_up, 1.0), 0.0)
    others = jnp.arange(P) != j
    big = 10.0 * jnp.max(jnp.abs(lam)) + 1.0
    lam_r = jnp.where(others, lam, big)
    g_r = jnp.where(others, gi, 0.0)
    aug = jnp.zeros((P + 1, P + 1), lam.dtype)
    aug = aug.at[:P, :P].set(jnp.diag(lam_r)).at[:P, P].set(g_r).at[P, :P].set(g_r)
    s_dn = jnp.minimum(jnp.linalg.eigvalsh(aug)[0], 0.0)
    den_dn = lam_r - s_dn
    p_dn = jnp.where(den_dn > 0, -g_r / jnp.where(den_dn > 0, den_dn, 1.0), 0.0)
    p = vec @ jnp.where(others, p_dn, p_up)
    norm = jnp.linalg.norm(p)
    p = jnp.where(norm > trust, p * (trust / jnp.maximum(norm, 1e-300)), p)
    v = vec[:, j]
    return p, jnp.where(jnp.dot(v, v_prev) < 0, -v, v)


@partial(jax.jit, static_argnums=(0, 1, 4, 5, 6, 7, 8))
def _string_kernel(
    f, spec, x, args, max_iter, hessian_every, climb, far, precondition, climb_after, switch_tol, ptol, step_scale
):
    fx = _flat_fn(f, spec, args)
    vg = jax.vmap(jax.value_and_grad(fx))
    M = x.shape[0]
    idx = jnp.arange(M)
    interior = (idx > 0) & (idx < M - 1)
    k_mid = (M - 1) // 2

    def one(_, carry):
        x, curv, k, v = carry
        lam, ev, vec = curv
        E, G, tau, gpar, ds, _ = _string_metrics(vg, x, k, far)
        # damping μ_i = |∇f·τ|/Δs: the CFL limit of the upwind tangent (see _tangents)
        mu = jnp.abs(gpar) / jnp.maximum(ds, 1e-300) + 1e-12 * lam
        r = G - gpar[:, None] * tau
        if precondition:  # (|H_i| + μ_i I)⁻¹, projected perpendicular to the string
            c = jnp.einsum("mpq,mp->mq", vec, r) / (jnp.abs(ev) + mu[:, None])
            q = jnp.einsum("mpq,mq->mp", vec, c)
            q = q - jnp.sum(q * tau, axis=1)[:, None] * tau
        else:  # h_i = 1 / (λ_i + μ_i)
            q = r / (lam + mu)[:, None]
        q = step_scale * q
        # no image moves more than half its shorter segment in one step
        qn = jnp.linalg.norm(q, axis=1)
        q = q * jnp.minimum(1.0, 0.5 * ds / jnp.maximum(qn, 1e-300))[:, None]
        x_new = x - jnp.where(interior[:, None], q, 0.0)

        def climb_step(_):
            kk = jnp.maximum(k, 1)
            xk = x[kk]
            trust = 0.5 * jnp.minimum(jnp.linalg.norm(xk - x[kk - 1]), jnp.linalg.norm(xk - x[kk + 1]))
            p, v_new = _prfo_step(G[kk], ev[kk], vec[kk], v, trust)
            return xk + p, v_new

        xk_new, v = jax.lax.cond(k > 0, climb_step, lambda _: (x[0], v), None)
        x_new = jnp.where((idx == k)[:, None], xk_new, x_new)
        # the highest image (the climbing one, once it climbs) is kept at the middle index
        top = jnp.where(k > 0, k, jnp.argmax(jnp.where(interior, E, -jnp.inf)).astype(k.dtype))
        return _reparametrize(x_new, top, k_mid), curv, k, v

    def block(state):
        x, k, v, it, _, _, _, lam_max = state
        curv = _curvatures(fx, x)
        lam = curv[0]
        x_new, _, _, v_new = jax.lax.fori_loop(0, hessian_every, one, (x, curv, k, v))
        it = it + hessian_every
        E, _, tau, _, _, metric = _string_metrics(vg, x_new, k, far)
        m = jnp.max(metric)
        ok = jnp.all(jnp.isfinite(x_new)) & jnp.all(jnp.isfinite(E)) & jnp.isfinite(m)
        switch = climb & (k < 0) & ((m <= switch_tol) | (it >= climb_after))
        top = jnp.argmax(jnp.where(interior, E, -jnp.inf)).astype(k.dtype)
        x_new = jnp.where(switch, _reparametrize(x_new, top, k_mid), x_new)
        k_new = jnp.where(switch, jnp.asarray(k_mid, k.dtype), k)
        v_new = jnp.where(switch, tau[top], v_new)
        done = ((k >= 0) | (not climb)) & (m <= ptol) & ~switch
        x_out = jnp.where(ok, x_new, x)
        v_out = jnp.where(ok, v_new, v)
        return x_out, jnp.where(ok, k_new, k), v_out, it, m, done, ~ok, jnp.maximum(lam_max, jnp.max(lam))

    def cond(state):
        _, _, _, it, _, done, bad, _ = state
        return (it < max_iter) & ~done & ~bad

    state = (
        x,
        jnp.asarray(-1, dtype=jnp.int32),
        jnp.zeros(x.shape[1], x.dtype),
        jnp.asarray(0, dtype=jnp.int32),
        jnp.asarray(jnp.inf, dtype=x.dtype),
        jnp.asarray(False),
        jnp.asarray(False),
        jnp.asarray(0.0, dtype=x.dtype),
    )
    x, k, _, it, m, done, bad, lam_max = jax.lax.while_loop(cond, block, state)
    return x, k, it, m, done, bad, lam_max


@partial(jax.jit, static_argnums=(0, 1))
def _value_grad_hess(f, spec, x, args):
    fx = _flat_fn(f, spec, args)
    v, g = jax.value_and_grad(fx)(x)
    return v, g, jax.hessian(fx)(x)


@partial(jax.jit, static_argnums=(0, 1))
def _values_grads(f, spec, xs, args):
    return jax.vmap(jax.value_and_grad(_flat_fn(f, spec, args)))(xs)


@partial(jax.jit, static_argnums=(0, 1, 4))
def _minimize(f, spec, x0, args, max_steps, gtol):
    return newton_minimize(_flat_fn(f, spec, args), x0, gtol=gtol, max_steps=max_steps)


def _newton_polish(f, spec, x, args, *, steps, gtol, radius, rtol=1e-12, max_halvings=30):
    """Plain Newton on ∇f = 0 (pseudo-inverse of the dense Hessian), backtracking on ‖∇f‖.

    The Newton step p = −H⁺∇f is a descent direction for ½‖∇f‖² whatever the inertia of H,
    so halving it until ‖∇f‖ falls is safe; a step is accepted only if ‖∇f‖ falls and the
    point stays within ``radius`` of where polishing started (near the path).
    """
    x0 = x
    v, g, H = (np.asarray(a) for a in _value_grad_hess(f, spec, jnp.asarray(x), args))
    gn = float(np.linalg.norm(g))
    taken = 0
    for _ in range(steps):
        if gn <= gtol:
            break
        lam, vec = np.linalg.eigh(0.5 * (H + H.T))
        cut = rtol * float(np.max(np.abs(lam)))
        inv = np.where(np.abs(lam) > cut, 1.0 / np.where(lam == 0, 1.0, lam), 0.0)
        p = -vec @ (inv * (vec.T @ g))
        t, accepted = 1.0, False
        for _ in range(max_halvings):
            xn = x + t * p
            if np.linalg.norm(xn - x0) <= radius:
                vn, gn_vec, Hn = (np.asarray(a) for a in _value_grad_hess(f, spec, jnp.asarray(xn), args))
                gnn = float(np.linalg.norm(gn_vec))
                if np.isfinite(vn) and np.isfinite(gnn) and gnn < gn:
                    accepted = True
                    break
            t *= 0.5
        if not accepted:
            break
        x, v, g, H, gn = xn, vn, gn_vec, Hn, gnn
        taken += 1
    return x, float(v), gn, H, taken


@dataclass(frozen=True)
class MinimumEnergyPath:
    """A minimum-energy path between two fixed points, with its saddle and diagnostics.

    Attributes:
      images: the string, flat (ravel_pytree order), shape (M, P); `params_at` gives pytrees.
      energy: f at each image; s: normalised arc length in [0, 1] (s[0] = 0, s[-1] = 1).
      barrier: max(energy) − energy[0] (the height of the pass seen from the start);
        barrier_s: where that maximum sits, in s; barrier_from_end: max(energy) − energy[-1].
      saddle_index: the climbing image (−1 if none climbed).
      saddle_energy, saddle_grad_norm: f and ‖∇f‖ at the climbing image after polishing.
      saddle_spectrum: the `Spectrum` of the dense Hessian there (`landscape.spectrum.inertia`
        at relative tolerance ``rtol``); a converged mountain pass has n_negative = 1.
      max_perp_grad: max over the other interior images of ‖∇f − (∇f·τ)τ‖ (0 on an exact MEP);
        max_perp_grad_ascent: the same over the images between the start and the saddle.
      iterations: string iterations used; newton_steps: accepted polishing steps.
      converged: the string (only its ascent if ``far_side=False``) met ``ptol``, the saddle's
        gradient is ≤ ``gtol``, its Hessian has exactly one negative eigenvalue, the saddle is the
        highest image, and nothing went non-finite. ``tolerances`` holds ptol, gtol, rtol;
        ``reasons`` lists what failed.
      connectivity: what minimising from saddle ± step·v (v its negative eigenvector) gave,
        or None if not checked (see `minimum_energy_path`).
      config: the settings; seconds: wall time; extras: caller-specific details
        (e.g. `prop1_path` stores the data set, α, the end point and the profile it started from).
    """

    images: np.ndarray
    energy: np.ndarray
    s: np.ndarray
    barrier: float
    barrier_s: float
    barrier_from_end: float
    saddle_index: int
    saddle_energy: float
    saddle_grad_norm: float
    saddle_spectrum: Spectrum | None
    max_perp_grad: float
    max_perp_grad_ascent: float
    iterations: int
    newton_steps: int
    converged: bool
    reasons: tuple
    tolerances: dict
    connectivity: dict | None
    config: dict
    seconds: float
    extras: dict = field(default_factory=dict)
    _spec: Any = field(default=None, repr=False, compare=False)

    @property
    def saddle(self) -> np.ndarray | None:
        """The saddle (the polished climbing image), flat; None without a climbing image."""
        return self.images[self.saddle_index] if self.saddle_index > 0 else None

    @property
    def inertia(self) -> tuple[int, int, int] | None:
        return None if self.saddle_spectrum is None else self.saddle_spectrum.inertia

    def params_at(self, i: int):
        """Image ``i`` as a pytree shaped like the end points."""
        return _unravel(self._spec, jnp.asarray(self.images[i]))

    def to_dict(self, arrays: bool = True) -> dict:
        sp = self.saddle_spectrum
        out = {
            "barrier": self.barrier,
            "barrier_s": self.barrier_s,
            "barrier_from_end": self.barrier_from_end,
            "energy_start": float(self.energy[0]),
            "energy_end": float(self.energy[-1]),
            "saddle_index": self.saddle_index,
            "saddle_energy": self.saddle_energy,
            "saddle_grad_norm": self.saddle_grad_norm,
            "n_negative": None if sp is None else sp.n_negative,
            "n_zero": None if sp is None else sp.n_zero,
            "n_positive": None if sp is None else sp.n_positive,
            "inertia_tol": None if sp is None else sp.tol,
            "saddle_min_eigenvalue": None if sp is None else sp.min_eigenvalue,
            "max_perp_grad": self.max_perp_grad,
            "max_perp_grad_ascent": self.max_perp_grad_ascent,
            "iterations": self.iterations,
            "newton_steps": self.newton_steps,
            "converged": self.converged,
            "reasons": list(self.reasons),
            "tolerances": self.tolerances,
            "connectivity": self.connectivity,
            "config": self.config,
            "seconds": self.seconds,
            "extras": {k: v for k, v in self.extras.items() if arrays or np.ndim(v) == 0},
        }
        if arrays:
            out |= {
                "s": self.s.tolist(),
                "energy": self.energy.tolist(),
                "saddle": None if self.saddle is None else self.saddle.tolist(),
            }
            if sp is not None:
                out["saddle_eigenvalues"] = sp.eigenvalues.tolist()
        return out


def _initial_string(name, init, spec, x_start, x_end, images, f, args):
    if init is None:
        w = np.linspace(0.0, 1.0, images)[:, None]
        return jnp.asarray((1.0 - w) * np.asarray(x_start) + w * np.asarray(x_end))
    if isinstance(init, (list, tuple)):
        rows = []
        for j, p in enumerate(init):
            if isinstance(p, (np.ndarray, jax.Array)) and np.ndim(p) == 1:
                rows.append(_as_flat_direction(f"{name}[{j}]", p, spec))
            else:
                _, sp, flat = _as_tree(f"{name}[{j}]", p)
                _same_structure(f"{name}[{j}]", spec, sp, "start")
                rows.append(flat)
        poly = np.stack([np.asarray(r) for r in rows])
    else:
        poly = np.asarray(init, dtype=np.float64)
    if poly.ndim != 2 or poly.shape[1] != spec.size or poly.shape[0] < 2:
        raise ValueError(
            f"{name} must be a polyline from start to end: an array of shape (m >= 2, P = {spec.size}) or a "
            f"list of m >= 2 pytrees; got shape {poly.shape}."
        )
    if not np.all(np.isfinite(poly)):
        raise ValueError(f"{name} contains NaN or inf entries.")
    scale = max(1.0, float(np.linalg.norm(np.asarray(x_end) - np.asarray(x_start))))
    if np.linalg.norm(poly[0] - np.asarray(x_start)) > 1e-8 * scale:
        raise ValueError(f"{name} must begin at start (its first point is not start).")
    if np.linalg.norm(poly[-1] - np.asarray(x_end)) > 1e-8 * scale:
        raise ValueError(f"{name} must end at end (its last point is not end).")
    poly[0], poly[-1] = np.asarray(x_start), np.asarray(x_end)
    seg = np.linalg.norm(np.diff(poly, axis=0), axis=1)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    if s[-1] <= 0:
        raise ValueError(f"{name} has zero length: start and end coincide.")
    # resample at `images` points: equal arc length on either side of the highest vertex,
    # which becomes the middle image (as the string keeps it, see _string_kernel)
    E = np.asarray(_values_grads(f, spec, jnp.asarray(poly), args)[0])
    k_mid = (images - 1) // 2
    if poly.shape[0] > 2 and np.all(np.isfinite(E)) and k_mid > 0:
        top = int(np.argmax(E[1:-1])) + 1
        target = np.concatenate([np.linspace(0.0, s[top], k_mid + 1), np.linspace(s[top], s[-1], images - k_mid)[1:]])
    else:
        target = np.linspace(0.0, s[-1], images)
    out = np.stack([np.interp(target, s, poly[:, p]) for p in range(poly.shape[1])], axis=1)
    out[0], out[-1] = poly[0], poly[-1]
    return jnp.asarray(out)


def minimum_energy_path(
    f,
    start,
    end,
    *,
    args: tuple = (),
    images: int = 33,
    init=None,
    max_iter: int = 20000,
    hessian_every: int = 25,
    step_scale: float = 0.5,
    climb: bool = True,
    climb_after: int | None = None,
    switch_tol: float | None = None,
    ptol: float = 1e-5,
    gtol: float = 1e-8,
    newton_steps: int = 30,
    rtol: float = DEFAULT_RTOL,
    far_side: bool = True,
    precondition: bool = True,
    connectivity: bool = True,
    connect_step: float | None = None,
    connect_steps: int = 60,
    description: str = "",
) -> MinimumEnergyPath:
    """The minimum-energy path from ``start`` to ``end`` by the string method, and its saddle.

    Algorithm (all images vmapped; the iterations are one jitted ``lax.while_loop``):

    1. **String** (E, Ren & Vanden-Eijnden 2002, 2007): every interior image steps down the
       component of the gradient perpendicular to the string, ∇f⊥ = ∇f − (∇f·τ)τ; then the
       images are re-placed at equal arc length along the polyline through them (linear
       interpolation in the flat space), on either side of the highest image, which is kept
       at the middle index k = (M − 1)//2: half of the images describe the ascent from the
       start to the pass, half the descent to the end (the initial string is resampled the
       same way about its highest vertex). The end points never move; ``end`` need not be
       stationary. τ is the upwind tangent of Henkelman & Jónsson (2000), which keeps the
       scheme stable. (With the full gradient, the "simplified" form of 2007, the linear
       re-interpolation cuts corners at every step and the string rests visibly off the MEP:
       a perpendicular gradient of 0.1 on a curved 2-D valley with 21 images.)
    2. **Step from the curvature.** Every ``hessian_every`` iterations the dense Hessian H_i of
       every image is diagonalised. With ``precondition=True`` (default) the step is
       x_i ← x_i − step_scale · Π (|H_i| + μ_i I)⁻¹ ∇f⊥ (Π: projection off τ; |H| has the
       eigenvalues' absolute values), a damped Newton step in the directions across the
       string: eq. (5) has curvatures from ~0 (the dead-zone rows of W, MATH.md §2) to 10⁴
       (small γ), where plain gradient steps need ~10⁴ iterations (measured on `prop1_path` at
       α = 0.1: 125 iterations; without preconditioning 17 125 with step_scale = 1, and not
       converged to ptol in 20 000 with the default 0.5). With ``precondition=False`` it is the
       gradient step h_i = step_scale / (λ_i + μ_i), λ_i the largest |eigenvalue| over images
       i − 1, i, i + 1 (gradient descent is stable for h·λ < 2). In both, μ_i = |∇f·τ|_i/Δs_i
       (Δs_i the shorter adjacent segment) is the CFL limit of the upwind tangent, and no image
       moves more than Δs_i/2 in one step. Neither changes where the string comes to rest
       (∇f⊥ = 0).
    3. **Climbing image**: once the convergence metric (below) is under ``switch_tol``
       (default 100·ptol), or after ``climb_after`` iterations (default max_iter/4), image k
       climbs: it takes partitioned rational-function steps (Baker 1986; `_prfo_step`) with
       its Hessian from the last refresh, maximising along the eigenvector that follows the
       tangent and minimising along all the others, cut to half its distance to a neighbour.
       Near a non-degenerate saddle this is Newton's step; unlike −∇f + 2(∇f·τ)τ it also
       crosses the nearly flat directions of eq. (5) at the pass in a few steps. The
       sub-strings [0, k] and [k, M − 1] are re-parametrised separately (Ren &
       Vanden-Eijnden 2013). It stops when the metric — ‖∇f⊥‖ on the other interior images,
       ‖∇f‖ on image k — is ≤ ``ptol``, or at ``max_iter``.
    4. **Polish**: plain Newton steps on ∇f = 0 at image k (dense Hessian, pseudo-inverse below
       ``1e-12·max|λ|``), each accepted only if ‖∇f‖ falls (halving the step up to 30 times) and
       the point stays within the larger of its two neighbour distances; until ‖∇f‖ ≤ ``gtol``.
       The saddle's inertia is `landscape.spectrum.inertia` of its Hessian at ``rtol``.
    5. **Connectivity** (``connectivity=True``): from the saddle step ±``connect_step`` along its
       most negative eigenvector (default: 5% of the distance to its nearer neighbour) and
       minimise with `newton_minimize` (``connect_steps`` steps). The path connects if the side
       that ends nearer the start ends there at the start's energy or below (tolerance
       1e-6·max(1, |f(start)|)), and the other, elsewhere, ends below the start's energy, or at
       the end's energy or below nearer the end than the start. (A saddle between the start and
       an intermediate minimum, as on the Müller–Brown path, does not connect them.)

    **Ends on an unbounded side** (``far_side=False``). When the energy is unbounded below past
    the pass (eq. (5) at the data's own α on a Proposition 1 data set: L → −∞ as γ → 0, MATH.md
    §5), the steepest descent from the saddle never reaches a fixed ``end``: no MEP joins them,
    and the sub-string past the saddle keeps sagging into the valley. With ``far_side=False``
    only the ascent (images 1..k) enters the metric and ``converged``; the descent is
    certified instead by the connectivity check, which is then required.

    Args:
      f: jittable scalar ``f(params, *args)`` of a pytree, twice differentiable.
      start, end: the two end points (pytrees of the same structure and shapes).
      args: extra traced arguments of f.
      images: number of images M ≥ 3, end points included.
      init: the initial string, a polyline from start to end (array (m, P) or list of pytrees
        or flat vectors), resampled to M images at equal arc length; default: the straight line.
      max_iter, hessian_every, step_scale, precondition, climb, climb_after, switch_tol: see
        above.
      ptol: tolerance on the perpendicular gradients (the string) and on the climbing image's
        gradient before polishing.
      gtol: tolerance on the polished saddle's gradient norm.
      newton_steps: at most this many polishing steps.
      rtol: relative zero tolerance of the saddle's inertia.
      far_side: whether the descent from the saddle to ``end`` must converge too (see above).
      connectivity, connect_step, connect_steps: the check of step 5.
      description: stored in ``config``.

    Returns:
      A `MinimumEnergyPath`. It is never silently wrong: ``converged`` is False, with
      ``reasons``, whenever any of its conditions fails.
    """
    t0 = time.perf_counter()
    s_tree, spec, x_start = _as_tree("start", start)
    e_tree, e_spec, x_end = _as_tree("end", end)
    _same_structure("end", spec, e_spec, "start")
    images = V.check_size("images", images, 3)
    max_iter = V.check_size("max_iter", max_iter, 1)
    hessian_every = V.check_size("hessian_every", hessian_every, 1)
    newton_steps = V.check_size("newton_steps", newton_steps, 0)
    connect_steps = V.check_size("connect_steps", connect_steps, 1)
    step_scale = V.check_positive("step_scale", step_scale)
    ptol = V.check_positive("ptol", ptol)
    gtol = V.check_positive("gtol", gtol)
    rtol = V.check_positive("rtol", rtol)
    if switch_tol is None:
        switch_tol = 100.0 * ptol
    switch_tol = V.check_positive("switch_tol", switch_tol)
    if climb_after is None:
        climb_after = max_iter // 4
    climb_after = V.check_size("climb_after", climb_after, 0)
    if connect_step is not None:
        connect_step = V.check_positive("connect_step", connect_step)
    if float(jnp.linalg.norm(x_end - x_start)) == 0.0:
        raise ValueError("start and end are the same point; a path needs two distinct end points.")
    e_start = _check_objective(f, spec, x_start, args)
    e_end = _check_objective(f, spec, x_end, args)
    x = _initial_string("init", init, spec, x_start, x_end, images, f, args)
    blocks = -(-max_iter // hessian_every)
    x, k, it, metric, _, bad, lam_max = _string_kernel(
        f,
        spec,
        x,
        args,
        blocks * hessian_every,
        hessian_every,
        bool(climb),
        bool(far_side),
        bool(precondition),
        climb_after,
        switch_tol,
        ptol,
        step_scale,
    )
    X = np.array(x)
    k = int(k)
    reasons = []
    if bool(bad):
        reasons.append("the string went non-finite; the last finite string is returned")
    E, G = (np.asarray(a) for a in _values_grads(f, spec, jnp.asarray(X), args))
    if climb and k < 0:
        k = int(np.argmax(E[1:-1])) + 1
        reasons.append("the climbing phase never started (max_iter too small)")
    spectrum, taken = None, 0
    saddle_e, saddle_g = math.nan, math.nan
    if k > 0:
        radius = max(np.linalg.norm(X[k] - X[k - 1]), np.linalg.norm(X[k] - X[k + 1]))
        xk, saddle_e, saddle_g, H, taken = _newton_polish(
            f, spec, X[k], args, steps=newton_steps, gtol=gtol, radius=radius
        )
        X[k] = xk
        spectrum = inertia(H, rtol=rtol, eigenvectors=True)
        E, G = (np.asarray(a) for a in _values_grads(f, spec, jnp.asarray(X), args))
    tau = np.asarray(_tangents(jnp.asarray(X), jnp.asarray(E))[0])
    perp = np.linalg.norm(G - np.sum(G * tau, axis=1)[:, None] * tau, axis=1)
    others = [i for i in range(1, images - 1) if i != k]
    ascent = [i for i in others if i < k] if k > 0 else others
    max_perp = float(np.max(perp[others])) if others else 0.0
    max_perp_ascent = float(np.max(perp[ascent])) if ascent else 0.0
    seg = np.linalg.norm(np.diff(X, axis=0), axis=1)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    s = s / s[-1]
    top = int(np.argmax(E))
    if not np.all(np.isfinite(E)):
        reasons.append("non-finite energies on the string")
    counted = max_perp if far_side else max_perp_ascent
    if counted > ptol:
        part = "" if far_side else " on the ascent"
        reasons.append(f"max perpendicular gradient{part} {counted:.3g} > ptol = {ptol:g}")
    if climb:
        if not saddle_g <= gtol:
            reasons.append(f"saddle gradient norm {saddle_g:.3g} > gtol = {gtol:g}")
        if spectrum is None or spectrum.n_negative != 1:
            n_neg = None if spectrum is None else spectrum.n_negative
            reasons.append(f"saddle Hessian has {n_neg} negative eigenvalues, not 1")
        if top != k:
            reasons.append(f"the highest image is {top}, not the climbing image {k}")
    conn = None
    if connectivity and spectrum is not None and spectrum.n_negative >= 1:
        conn = _connectivity(f, spec, args, X, k, spectrum, e_start, e_end, connect_step, connect_steps)
    if not far_side and not (conn is not None and conn["connected"]):
        reasons.append("far_side=False needs the connectivity check to pass, and it did not (or was not run)")
    return MinimumEnergyPath(
        images=X,
        energy=E,
        s=s,
        barrier=float(E[top] - E[0]),
        barrier_s=float(s[top]),
        barrier_from_end=float(E[top] - E[-1]),
        saddle_index=k if climb else -1,
        saddle_energy=float(saddle_e),
        saddle_grad_norm=float(saddle_g),
        saddle_spectrum=spectrum,
        max_perp_grad=max_perp,
        max_perp_grad_ascent=max_perp_ascent,
        iterations=int(it),
        newton_steps=taken,
        converged=not reasons,
        reasons=tuple(reasons),
        tolerances={"ptol": ptol, "gtol": gtol, "rtol": rtol},
        connectivity=conn,
        config={
            "images": images,
            "max_iter": max_iter,
            "hessian_every": hessian_every,
            "step_scale": step_scale,
            "climb": bool(climb),
            "far_side": bool(far_side),
            "precondition": bool(precondition),
            "climb_after": climb_after,
            "switch_tol": switch_tol,
            "newton_steps": newton_steps,
            "max_curvature_seen": float(lam_max),
            "init": "straight line" if init is None else "given polyline",
            "energy_start": e_start,
            "energy_end": e_end,
            "description": description,
        },
        seconds=time.perf_counter() - t0,
        _spec=spec,
    )


def _connectivity(f, spec, args, X, k, spectrum, e_start, e_end, step, max_steps) -> dict:
    v = spectrum.eigenvectors[:, 0]
    xs = X[k]
    if step is None:
        step = 0.05 * min(np.linalg.norm(xs - X[k - 1]), np.linalg.norm(xs - X[k + 1]))
    etol = 1e-6 * max(1.0, abs(e_start))
    sides, ends = [], []
    for sign in (-1.0, 1.0):
        res = _minimize(f, spec, jnp.asarray(xs + sign * step * v), args, max_steps, 1e-10)
        xe = np.asarray(res.x)
        ends.append(xe)
        sides.append(
            {
                "sign": sign,
                "energy": float(res.value),
                "grad_norm": float(res.grad_norm),
                "steps": int(res.steps),
                "distance_to_start": float(np.linalg.norm(xe - X[0])),
                "distance_to_end": float(np.linalg.norm(xe - X[-1])),
            }
        )
    # the side that ends nearer the start (relative to the end) plays "back to the start"
    order = sorted(range(2), key=lambda i: sides[i]["distance_to_start"] - sides[i]["distance_to_end"])
    a, b = sides[order[0]], sides[order[1]]
    apart = np.linalg.norm(ends[0] - ends[1]) > 1e-3 * np.linalg.norm(X[-1] - X[0])
    # back: at the start's level or below (a start that is not stationary lies above its minimum)
    back = a["energy"] <= e_start + etol and a["distance_to_start"] < a["distance_to_end"]
    # forward: elsewhere, and below the start's level (e.g. down an unbounded valley), or at the
    # end's level or below, nearer the end than the start
    forward = apart and (
        b["energy"] < e_start - etol or (b["energy"] <= e_end + etol and b["distance_to_end"] < b["distance_to_start"])
    )
    return {
        "step": float(step),
        "energy_tol": etol,
        "sides": sides,
        "returns_to_start": bool(back),
        "reaches_end_side": bool(forward),
        "connected": bool(back and forward),
    }


# ---------------------------------------------------------------------------------------
# Eq. (5): the path out of the collapsed minimum of Proposition 1


_energy_jit = jax.jit(_energy)


def _witness_crossing(data, X, alpha, e_c) -> float:
    """t_c with E(witness(t_c)) = L_c, by bisection in log t (E decreases along the path)."""

    def e(t):
        return float(_energy_jit(data.witness.path_params(t), X, alpha))

    hi = 1.0
    while e(hi) <= e_c and hi < 1e6:
        hi *= 2.0
    lo = hi / 2.0
    while e(lo) > e_c:
        lo /= 2.0
        if lo < 1e-8:
            raise ValueError(
                f"the witness path does not fall below the collapsed energy at alpha = {alpha}; "
                "pass end= explicitly (or end='profile')."
            )
    for _ in range(60):
        mid = math.sqrt(lo * hi)
        if e(mid) > e_c:
            hi = mid
        else:
            lo = mid
    return math.sqrt(lo * hi)


def prop1_path(
    data: Prop1Dataset,
    *,
    alpha: float | None = None,
    end="witness",
    end_t: float | None = None,
    init: str = "profile",
    images: int = 33,
    num: int = 81,
    **kwargs,
) -> MinimumEnergyPath:
    """The minimum-energy path out of the collapsed minimum of Proposition 1 (MATH.md §3–5).

    From the collapsed point (W = 0, b = x̄, γ = γ̄, μ = 0, σ = 1; `landscape.collapsed_point`)
    to a reconstructing point, on eq. (5) at ``alpha`` (default: the data set's α).

    End point (``end``):
      - ``"witness"`` (default): the witness path μ_i = z_i, σ_i = t, γ = t²
        (``data.witness.path_params(end_t)``). By default end_t = t_c / 2, where t_c is where
        the path crosses the collapsed energy L_c: the energy falls with slope 2n(d − κ) in
        log t (MATH.md §5), so the end sits ≈ 2n(d − κ)·log 2 below L_c (clearly lower), while
        γ = t_c²/4 keeps the Hessian's scale ~ 2n/γ moderate (on the default data, γ ≈ 0.07).
      - ``"profile"``: the point of the Proposition 1 profile below (W = t·U, every other
        parameter re-minimised) where it has fallen ``margin`` below L_c. Use it where the
        witness does not reconstruct (``alpha`` different from the data's α).
      - a `VAEParams`: that point.

    Initial string (``init``):
      - ``"profile"`` (default): the Proposition 1 profile f_U(t) along the affine-descent
        direction U = u_l e_kᵀ of `landscape.profiles` with the lowest profile barrier (sign
        chosen so that ⟨U, W*⟩ ≥ 0 with the witness's W*), computed by `profile_1d` on the
        `profile_grid` of `landscape.profiles` up to the first t past its maximum where it lies
        ``margin`` = 1 + 10·(profile barrier) below L_c, then the straight segment to the end;
      - ``"straight"``: the straight line. It climbs far higher (≈ 0.2 against a pass of
        ≈ 0.0017 at α = 0.1 on the default data) but relaxes as fast (325 iterations against
        125 there).

    Both find the same passes: the landscape at the pass is nearly flat in the W rows that
    sit in the dead zone |Wz| < α (MATH.md §2), so there is a family of saddles a relative
    ~1e-5 apart (inertia (1, 0, P − 1) or (1, 1, P − 2): a zero eigenvalue per dead row), and
    which one a run ends at depends on the initial string. The profile is computed in any case:
    its maximum, located to ~1e-10 in t, is ``extras["profile_barrier"]``. The profile is a path
    out of the collapsed basin, so the lowest pass is no higher; a path whose barrier comes out
    higher (by more than 1e-10·max(1, |L_c|)) ends at a higher, degenerate saddle, and is
    reported as not converged, with that reason.

    The descent past the saddle is not required to converge (``far_side=False``, see
    `minimum_energy_path`): at the data's own α the energy is unbounded below beyond the pass.

    Args:
      data: a `Prop1Dataset` (`landscape.prop1_dataset`).
      alpha: the α of eq. (5) (default ``data.alpha``).
      end, end_t, init: see above.
      images: number of images.
      num: points of the profile grid.
      **kwargs: passed to `minimum_energy_path` (ptol, gtol, max_iter, far_side, ...).

    Returns:
      A `MinimumEnergyPath` whose ``extras`` hold α, L_c, the end point's description and
      energy, the initial string, and the profile's barrier, direction and join point.
    """
    from landscape.analysis.profiles import affine_descent_directions, profile_grid

    if not isinstance(data, Prop1Dataset):
        raise ValueError(f"data must be a Prop1Dataset from landscape.prop1_dataset, got {type(data).__name__}.")
    if init not in ("profile", "straight"):
        raise ValueError(f"init must be 'profile' or 'straight', got {init!r}.")
    alpha = data.alpha if alpha is None else alpha
    V.check_alpha(alpha)
    alpha = float(alpha)
    if alpha == 0:
        raise ValueError(
            "alpha must be > 0: at alpha = 0 the collapsed point is a strict saddle (MATH.md §4), with no barrier "
            "to cross; slice it along its negative-curvature eigenvectors instead."
        )
    num = V.check_size("num", num, 5)
    X = jnp.asarray(data.X)
    kappa = data.kappa
    start = collapsed_point(data.X, kappa)
    e_c = float(_energy_jit(start, X, alpha))
    args = (X, alpha)

    dirs = affine_descent_directions(data.X, kappa)
    if not dirs:
        raise ValueError("the data are isotropic: no affine-descent direction to start the string along.")
    W_star = np.asarray(data.witness.W)
    lam1 = float(np.max([dr.eigenvalue for dr in dirs]))
    t_max = 4.0 * alpha + math.sqrt(lam1)
    free = VAEParams(W=False, b=True, log_gamma=True, mu=True, log_sigma=True)
    tol = 1e-12 * max(1.0, abs(e_c))
    best, direction_of = None, {}
    for dr in dirs:
        U = dr.U if np.sum(dr.U * W_star) >= 0 else -dr.U
        direction = jax.tree_util.tree_map(jnp.zeros_like, start)._replace(W=jnp.asarray(U))
        direction_of[id(dr)] = direction
        ts = profile_grid(alpha, t_max, num)
        prof = None
        for _ in range(4):  # extend the grid until the profile falls below L_c - margin
            prof = profile_1d(energy_objective, start, direction, ts, free=free, args=args)
            top = int(np.argmax(prof.rel[: _first_below(prof.rel, -tol) or None]))
            margin = 1.0 + 10.0 * max(float(prof.rel[top]), 0.0)
            below = np.nonzero(prof.rel[top:] < -margin)[0]
            if below.size:
                break
            ts = np.concatenate([ts, np.linspace(ts[-1], 2 * ts[-1], num + 1)[1:]])
        if not below.size:
            continue
        j = top + int(below[0])
        cand = (float(prof.rel[top]), dr, U, prof, top, j, margin)
        if best is None or cand[0] < best[0]:
            best = cand
    if best is None:
        raise ValueError(f"no affine-descent profile fell below the collapsed energy at alpha = {alpha}.")
    p_barrier, dr, U, prof, top, j, margin = best

    # the profile's maximum, located to ~1e-10 in t by zooming in on the grid's maximum
    lo, hi = max(top - 1, 0), min(top + 1, prof.t.size - 1)
    p_top, p_top_t = _profile_top(prof, lo, hi, direction_of[id(dr)], free, args, num=num)
    p_barrier_grid, p_barrier = p_barrier, max(p_barrier, p_top - e_c)
    extras = {
        "alpha": alpha,
        "dataset": data.config(),
        "collapsed_energy": e_c,
        "profile_barrier": p_barrier,
        "profile_barrier_grid": p_barrier_grid,
        "profile_barrier_t": p_top_t,
        "profile_direction": dr.label,
        "profile_join_t": float(prof.t[j]),
        "profile_margin": margin,
        "profile_max_grad_norm": float(np.max(prof.grad_norm[: j + 1])),
    }
    if isinstance(end, str) and end == "witness":
        if end_t is None:
            end_t = 0.5 * _witness_crossing(data, X, alpha, e_c)
        end_t = V.check_positive("end_t", end_t)
        end_point = data.witness.path_params(end_t)
        extras |= {"end": "witness", "end_t": end_t}
    elif isinstance(end, str) and end == "profile":
        end_point = prof.params_at(j)
        extras |= {"end": "profile", "end_t": float(prof.t[j])}
    elif isinstance(end, VAEParams):
        end_point = as_float64_params(end)
        check_params(end_point, data.n, data.d)
        extras |= {"end": "given"}
    else:
        raise ValueError(f"end must be 'witness', 'profile' or a VAEParams, got {end!r}.")
    e_end = float(_energy_jit(end_point, X, alpha))
    if not e_end < e_c:
        raise ValueError(
            f"the end point's energy {e_end:.6g} is not below the collapsed energy {e_c:.6g} at alpha = {alpha}; "
            "choose a smaller end_t, or end='profile'."
        )
    extras["end_energy"] = e_end
    if init == "profile":
        poly = list(prof.points[: j + 1])
        if extras["end"] != "profile":
            poly.append(np.asarray(_ravel(end_point)))
        poly = np.stack(poly)
    else:
        poly = None
    extras["init"] = init
    kwargs.setdefault("far_side", False)
    mep = minimum_energy_path(
        energy_objective,
        start,
        end_point,
        args=args,
        images=images,
        init=poly,
        description=f"Proposition 1 path at alpha = {alpha}: collapsed point -> {extras['end']} end",
        **kwargs,
    )
    tol = 1e-10 * max(1.0, abs(e_c))
    extras["mep_below_profile"] = bool(mep.barrier <= p_barrier + tol)
    extras["profile_comparison_tol"] = tol
    reasons = mep.reasons
    if not extras["mep_below_profile"]:
        # the profile is a path out of the collapsed basin: a pass above its top is not the lowest
        reasons = (*reasons, f"barrier {mep.barrier:.10g} is above the profile barrier {p_barrier:.10g}")
    return replace(mep, extras={**mep.extras, **extras}, reasons=reasons, converged=not reasons)


def _profile_top(prof: Profile1D, lo: int, hi: int, direction, free, args, *, levels: int = 4, num: int = 81):
    """The maximum of a re-minimised profile between grid points lo and hi, by zooming in.

    Each level re-computes the profile on ``num`` points between the neighbours of the
    current maximum (continuation from the lower one), shrinking the bracket ~(num − 1)/2
    times per level. Returns (maximum energy, its t).
    """
    base, t_base, width = prof.params_at(lo), float(prof.t[lo]), float(prof.t[hi] - prof.t[lo])
    best, best_t = float(np.max(prof.energy[lo : hi + 1])), float(prof.t[lo + int(np.argmax(prof.energy[lo : hi + 1]))])
    for _ in range(levels):
        if width <= 0:
            break
        ts = np.linspace(0.0, width, num)
        p = profile_1d(energy_objective, base, direction, ts, free=free, args=args)
        j = int(np.argmax(p.energy))
        if p.energy[j] > best:
            best, best_t = float(p.energy[j]), t_base + float(ts[j])
        a, b = max(j - 1, 0), min(j + 1, num - 1)
        base, t_base, width = p.params_at(a), t_base + float(ts[a]), float(ts[b] - ts[a])
    return best, best_t


def _first_below(rel, level):
    below = np.nonzero(~np.isfinite(rel) | (rel < level))[0]
    return int(below[0]) if below.size else None
