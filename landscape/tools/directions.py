"""Directions for slices of a landscape: filter-normalised random ones and segments (MATH.md §4).

`filter_normalized_direction` draws the random directions of Li et al. (NeurIPS 2018),
rescaled filter by filter to the norms of the parameter's filters; `segment_direction` is
``other − params``. `as_flat_direction` reads any direction argument of the path tools: a
pytree shaped like ``params``, a flat vector in ``ravel_pytree`` order, or a `FilterDirection`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from landscape.common import checks as V
from landscape.common.results import Result
from landscape.tools.flat import Spec, as_tree, params_type, ravel, same_structure

__all__ = ["FilterDirection", "filter_normalized_direction", "segment_direction", "as_flat_direction"]


@dataclass(frozen=True)
class FilterDirection(Result):
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

    _keys = ("filter_axes", "filter_norms", "fallback", "n_filters", "n_fallback", "seed", "norm")

    @property
    def norm(self):
        """‖d‖₂ of the flattened direction."""
        return float(np.linalg.norm(self.flat))


def _default_filter_axes(tree, leaves) -> tuple:
    info = params_type(tree)
    if info is not None and info.filter_axes is not None:  # e.g. VAEParams: W's columns, mu's rows
        return info.filter_axes
    return tuple(0 if np.ndim(a) >= 2 else None for a in leaves)


def _key(key_or_seed):
    if isinstance(key_or_seed, (bool, np.bool_)):
        raise ValueError(f"key_or_seed must be an integer seed >= 0 or a jax.random key, got {key_or_seed!r}.")
    if isinstance(key_or_seed, (int, np.integer)):
        seed = V.with_hint("(Or pass a jax.random key.)", V.check_seed, "key_or_seed", key_or_seed)
        return jax.random.key(seed), seed
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
    tree, spec, _ = as_tree("params", params)
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
        flat=np.asarray(ravel(direction)),
        filter_axes=tuple(None if a is None else int(a) for a in axes),
        filter_norms=tuple(norms),
        fallback=tuple(fallbacks),
        n_filters=int(sum(a.size for a in fallbacks)),
        n_fallback=int(sum(int(a.sum()) for a in fallbacks)),
        seed=seed,
    )


def segment_direction(params, other):
    """The direction ``other − params`` (a pytree), so that t = 1 of a slice lands on ``other``."""
    tree, spec, _ = as_tree("params", params)
    other_tree, other_spec, _ = as_tree("other", other)
    same_structure("other", spec, other_spec)
    return jax.tree_util.tree_map(lambda a, b: b - a, tree, other_tree)


def as_flat_direction(name: str, direction, spec: Spec, *, nonzero: bool = False) -> jax.Array:
    """A direction given as a pytree shaped like params, a flat (P,) vector, or a FilterDirection.

    Finite entries are required; with ``nonzero``, so is a direction that is not identically zero.
    """
    if isinstance(direction, FilterDirection):
        direction = direction.direction
    P = spec.size
    leaves, treedef = jax.tree_util.tree_flatten(direction)
    for leaf in leaves:  # no bool or complex direction (np.asarray(..., float64) would take them)
        V.check_real_array(name, leaf)
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
    if nonzero and not np.any(flat):
        raise ValueError(f"{name} is zero everywhere, so f does not move along it; pass a non-zero direction.")
    return jnp.asarray(flat)
