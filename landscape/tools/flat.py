"""Flat views of a pytree objective ``f(params, *args)`` for the path tools (MATH.md §4–5).

The slices, profiles and string method of `landscape.tools` work on a pytree of float arrays
through its flat vector, in the order of ``jax.flatten_util.ravel_pytree`` (the order of
`landscape.hessian` and of ``landscape.spectrum(..., eigenvectors=True).eigenvectors``). The
hashable `Spec` (tree structure and leaf shapes) lets their jitted kernels compile once per
(objective, structure) and be reused.

These tools know nothing of a particular objective. A model layer may register:

- a parameter type (`register_params_type`): how to bring its instances to float64 arrays
  (with its own checks) and the default filters of `filter_normalized_direction`;
- an objective's argument check (`register_objective_check`), run once per call before the
  objective is evaluated at the base point.

(Importing `landscape` registers `VAEParams` and `energy_objective` of eq. (5) this way.)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from landscape.common import checks

__all__ = [
    "Spec",
    "ParamsType",
    "unravel",
    "ravel",
    "as_tree",
    "same_structure",
    "check_objective",
    "check_call",
    "check_flat_call",
    "check_grid",
    "flat_fn",
    "register_params_type",
    "register_objective_check",
    "check_signature",
    "params_type",
    "objective_check",
]


# ---------------------------------------------------------------------------------------
# Registered parameter types and objective checks


class ParamsType(NamedTuple):
    """What the path tools know of a registered parameter type.

    Attributes:
      normalize: ``tree -> tree`` with float64 array leaves (it may raise ValueError), or None.
      filter_axes: per leaf, the default filter axis of `filter_normalized_direction`, or None.
    """

    normalize: Callable | None = None
    filter_axes: tuple | None = None


_PARAMS_TYPES: dict[type, ParamsType] = {}
_OBJECTIVE_CHECKS: list[tuple[Callable, Callable]] = []


def register_params_type(cls: type, *, normalize: Callable | None = None, filter_axes=None) -> None:
    """Register a pytree type: ``normalize`` is applied to its instances first, ``filter_axes``
    are their default filters (per leaf in ``tree_leaves`` order: an axis, or None for one filter)."""
    _PARAMS_TYPES[cls] = ParamsType(normalize, None if filter_axes is None else tuple(filter_axes))


def params_type(tree) -> ParamsType | None:
    """The registration of ``tree``'s type (by isinstance), or None."""
    for cls, info in _PARAMS_TYPES.items():
        if isinstance(tree, cls):
            return info
    return None


def register_objective_check(f: Callable, check: Callable) -> None:
    """Have the path tools call ``check(params, args)`` before evaluating the objective ``f``
    (identified by identity); it raises ValueError on arguments ``f`` cannot take."""
    _OBJECTIVE_CHECKS[:] = [(g, c) for g, c in _OBJECTIVE_CHECKS if g is not f]
    _OBJECTIVE_CHECKS.append((f, check))


def objective_check(f: Callable) -> Callable | None:
    """The check registered for ``f``, or None."""
    for g, check in _OBJECTIVE_CHECKS:
        if g is f:
            return check
    return None


# ---------------------------------------------------------------------------------------
# Flat view of a pytree (the order of jax.flatten_util.ravel_pytree), with a hashable spec
# so that the jitted kernels compile once per (objective, structure) and are reused.


class Spec(NamedTuple):
    treedef: Any
    shapes: tuple

    @property
    def size(self) -> int:
        return int(sum(math.prod(s) for s in self.shapes))


def unravel(spec: Spec, x):
    leaves, start = [], 0
    for shape in spec.shapes:
        size = math.prod(shape)
        leaves.append(jnp.reshape(x[start : start + size], shape))
        start += size
    return jax.tree_util.tree_unflatten(spec.treedef, leaves)


def ravel(tree) -> jax.Array:
    leaves = jax.tree_util.tree_leaves(tree)
    return jnp.concatenate([jnp.ravel(jnp.asarray(a, dtype=jnp.float64)) for a in leaves])


def as_tree(name: str, tree):
    """``tree`` with float64 leaves, its spec and flat vector; ValueError if it is not usable."""
    info = params_type(tree)
    if info is not None and info.normalize is not None:
        try:
            tree = info.normalize(tree)
        except ValueError as err:  # the type's own check speaks of "params"; say which argument it was
            if name == "params":
                raise
            raise ValueError(f"{name}: {err}") from None
    leaves, treedef = jax.tree_util.tree_flatten(tree)
    if not leaves:
        raise ValueError(f"{name} has no array leaves; pass a pytree of float arrays (e.g. a landscape.VAEParams).")
    arrays = []
    for a in leaves:
        try:
            kind = np.asarray(a).dtype.kind
        except (TypeError, ValueError):
            kind = "O"
        if kind not in ("i", "u", "f"):
            what = {"b": "bool", "c": "complex"}.get(kind, "non-numeric")
            raise ValueError(f"{name} must hold real arrays (integers or floats), got {what} entries.")
        try:
            arr = np.asarray(a, dtype=np.float64)
        except (TypeError, ValueError) as err:
            raise ValueError(f"{name} must hold real arrays: {err}") from None
        arrays.append(arr)
    bad = sum(int(np.size(a) - np.count_nonzero(np.isfinite(a))) for a in arrays)
    if bad:
        raise ValueError(f"{name} contains {bad} NaN or inf entries; every parameter must be finite.")
    spec = Spec(treedef, tuple(a.shape for a in arrays))
    tree = jax.tree_util.tree_unflatten(treedef, [jnp.asarray(a) for a in arrays])
    flat = jnp.asarray(np.concatenate([a.ravel() for a in arrays]))
    return tree, spec, flat


def same_structure(name: str, spec: Spec, other_spec: Spec, ref: str = "params"):
    if other_spec.treedef != spec.treedef or other_spec.shapes != spec.shapes:
        raise ValueError(
            f"{name} must have the pytree structure and leaf shapes of {ref}: expected leaf shapes "
            f"{list(spec.shapes)}, got {list(other_spec.shapes)}."
        )


@partial(jax.jit, static_argnums=(0, 1))
def _value_kernel(f, spec, x, args):
    return f(unravel(spec, x), *args)


def check_objective(f, spec, flat, args, *, name: str = "params") -> float:
    """f must be callable and return a finite scalar at the point ``flat`` (the argument ``name``); returns it."""
    if not callable(f):
        raise ValueError(f"f must be a callable f(params, *args) returning a scalar, got {type(f).__name__}.")
    if not isinstance(args, tuple):
        raise ValueError(f"args must be a tuple of extra arguments for f, got {type(args).__name__}.")
    check = objective_check(f)
    if check is not None:  # the objective's own checks of params and args (eq. (5): of X, alpha, gamma)
        check(unravel(spec, flat), args)
    value = _value_kernel(f, spec, flat, args)
    if np.shape(value) != ():
        raise ValueError(f"f must return a scalar, got an array of shape {np.shape(value)}.")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"f({name}) = {value}: the objective must be finite at {name}.")
    return value


def _check_callable(f_name: str, f, signature: str = "(params, *args)") -> None:
    if not callable(f):
        raise ValueError(f"{f_name} must be a callable {f_name}{signature}, got {f!r} ({type(f).__name__}).")


def _check_float_leaf(name: str, leaf, what: str = "a pytree of real float arrays") -> None:
    dtype = checks.leaf_dtype(name, leaf, f"be {what}")
    if not np.issubdtype(dtype, np.floating):
        kind = {"b": "bool", "c": "complex", "i": "integer", "u": "integer"}.get(np.dtype(dtype).kind, "non-numeric")
        raise ValueError(
            f"{name} must be {what} (the tools differentiate with respect to it), got {kind} entries "
            f"(dtype {dtype}); convert them, e.g. jnp.asarray(x, jnp.float64)."
        )


def check_call(f, params, args, *, f_name: str = "f", name: str = "params"):
    """The entry check of the generic tools over ``f(params, *args)`` (hvp, the curvature operators,
    lanczos, spectral_density, certify): ``f`` callable, ``args`` a tuple (or list), ``params`` a
    pytree of real float arrays (a registered type is normalised first), and the registered check
    of ``f``, if any. Returns ``(params, args)`` as the tools use them. Traced leaves pass on dtype.
    """
    _check_callable(f_name, f)
    if not isinstance(args, (tuple, list)):
        raise ValueError(f"args must be a tuple of the extra arguments of {f_name}, got {type(args).__name__}.")
    args = tuple(args)
    info = params_type(params)
    if info is not None and info.normalize is not None:
        params = info.normalize(params)
    leaves = jax.tree_util.tree_leaves(params)
    if not leaves:
        raise ValueError(f"{name} has no array leaves; pass a pytree of float arrays (e.g. a landscape.VAEParams).")
    for leaf in leaves:
        _check_float_leaf(name, leaf)
    check = objective_check(f)
    if check is not None:  # the objective's own checks of params and args (eq. (5): of X, alpha, gamma)
        check(params, args)
    else:
        check_signature(f, params, args, f_name=f_name)
    return params, args


def check_signature(f, params, args: tuple, *, f_name: str = "f"):
    """``f(params, *args)`` traced once (``jax.eval_shape``, nothing runs); a TypeError there (a wrong
    number of ``args``, say) becomes a ValueError naming ``args``. Returns the output's shape-dtype."""
    try:
        return jax.eval_shape(lambda p, a: f(p, *a), params, args)
    except TypeError as err:
        raise ValueError(
            f"{f_name}(params, *args) cannot be called with args of length {len(args)}: {err}. "
            f"Pass args=(...) with the extra arguments {f_name} takes after params."
        ) from None


def check_flat_call(f, x0, *, name: str = "x0"):
    """The entry check of a tool over ``f(x)`` on flat vectors (`newton_minimize`): ``f`` callable,
    ``x0`` a non-empty 1-D real float array; returns ``x0`` (a tracer passes on dtype and shape)."""
    _check_callable("f", f, "(x)")
    _check_float_leaf(name, x0, "a 1-D array of real floats")
    if np.ndim(x0) != 1 or np.size(x0) == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array (a flat point), got shape {np.shape(x0)}.")
    return x0


def check_grid(name: str, values, *, increasing: bool = False) -> np.ndarray:
    arr = checks.check_real_array(name, values).astype(np.float64)
    if arr.ndim != 1 or arr.size == 0 or not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be a non-empty 1-D array of finite values, got shape {arr.shape}.")
    if increasing and np.any(np.diff(arr) <= 0):
        raise ValueError(f"{name} must be strictly increasing (the continuation follows it in order).")
    return arr


def flat_fn(f, spec, args):
    """z ↦ f(unravel(spec, z), *args): the objective on the flat vector."""
    return lambda z: f(unravel(spec, z), *args)
