"""Where a flat vector's mass lies over the leaves of a parameter pytree (``ravel_pytree`` order).

Used to say which parameter blocks an eigenvector (a negative, zero or extreme mode of
`landscape.tools.lanczos` or `landscape.tools.certify`) lives on; for eq. (5) the blocks
are the paper's W, b, γ, μ and σ (MATH.md §4 gives them at the collapsed point).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from landscape.common import checks
from landscape.tools.flat import as_tree

__all__ = ["block_shares"]


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
    params, _, _ = as_tree("params", params)  # real, finite leaves (a registered type normalised)
    for leaf in jax.tree_util.tree_leaves(vector):
        checks.check_real_array("vector", leaf)
    flat, unravel = ravel_pytree(params)
    if not isinstance(vector, (np.ndarray, jax.Array)) or np.ndim(vector) != 1:
        shapes = [np.shape(a) for a in jax.tree_util.tree_leaves(vector)]
        want = [np.shape(a) for a in jax.tree_util.tree_leaves(params)]
        if shapes != want:
            raise ValueError(f"vector must be flat or a pytree shaped like params (leaf shapes {want}); got {shapes}.")
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
