"""A restart's result depends on its own start alone: bitwise the same at any ``chunk_size``.

Every optimiser × polish mode runs at chunk sizes 1, 3 and 8 and must give the same bits:
values, gradient norms, parameters, step counts and statuses. Before the engine ran its
per-restart tail at one fixed width and compiled without XLA:CPU's size-dependent library
fusions, the Newton polish differed at the 1e-13 level, an L-BFGS descent ended in other
minima, and an Adam descent of eq. (5) moved by 1e-3 between chunks of 8 and 1024.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import landscape
from landscape.tools import engine

CHUNKS = (1, 3, 8)
R = 8  # chunk 3 leaves a padded last chunk


def _factorisation(p, A):
    """A small non-convex objective with many minima: ‖A − tanh(U) Vᵀ‖² + Σ cos(3U) / 10 (P = 22)."""
    r = A - jnp.tanh(p["U"]) @ p["V"].T
    return jnp.sum(r * r) + 0.1 * jnp.sum(jnp.cos(3.0 * p["U"]))


def _init(key):
    k1, k2 = jax.random.split(key)
    return {"U": 1.5 * jax.random.normal(k1, (6, 2)), "V": 1.5 * jax.random.normal(k2, (5, 2))}


A = jnp.asarray(np.random.default_rng(0).normal(size=(6, 5)))


def _assert_same(runs, values, params, extra):
    ref = runs[0]
    for other in runs[1:]:
        np.testing.assert_array_equal(values(other), values(ref))
        for x, y in zip(jax.tree.leaves(params(other)), jax.tree.leaves(params(ref)), strict=True):
            np.testing.assert_array_equal(x, y)
        for x, y in zip(extra(other), extra(ref), strict=True):
            np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("optimizer", engine.OPTIMIZERS)
@pytest.mark.parametrize("polish", ["newton", "lbfgs", "none"])
def test_multistart_is_bitwise_independent_of_chunk_size(optimizer, polish):
    kw = dict(restarts=R, seed=0, args=(A,), steps=40, optimizer=optimizer, polish=polish, polish_steps=30,
              progress=False)  # fmt: skip
    runs = [landscape.multistart(_factorisation, _init, **kw, chunk_size=c) for c in CHUNKS]
    _assert_same(runs, lambda r: r.values, lambda r: r.params, lambda r: (r.grad_norms, r.steps, r.status))
    assert len({round(float(v), 6) for v in runs[0].values}) > 1  # the restarts end in different places
    if polish == "newton":  # "auto" is Newton at P = 22: the same executable, the same bits
        auto = landscape.multistart(_factorisation, _init, **{**kw, "polish": "auto"}, chunk_size=3)
        assert auto.config["polish"] == "newton"
        np.testing.assert_array_equal(auto.values, runs[0].values)


def test_search_adam_descent_is_bitwise_independent_of_chunk_size_up_to_wide_chunks():
    """eq. (5) through `landscape.search`: at 128 restarts a chunk, XLA:CPU's library fusions changed the sums."""
    ds = landscape.prop1_dataset(0.1, n=6, d=3, kappa=1, seed=0)
    kw = dict(kappa=1, restarts=130, steps=50, seed=0, polish="none", progress=False)
    runs = [landscape.search(ds.X, 0.1, **kw, chunk_size=c) for c in (3, 130)]
    _assert_same(runs, lambda r: r.energy, lambda r: r.params, lambda r: (r.grad_norm, r.steps, r.status, r.active))


@pytest.mark.slow
@pytest.mark.parametrize("precision", ["float64", "float32"])
@pytest.mark.parametrize("optimizer", engine.OPTIMIZERS)
@pytest.mark.parametrize("polish", ["newton", "lbfgs", "none"])
def test_search_is_bitwise_independent_of_chunk_size(optimizer, polish, precision):
    """Every optimiser × polish × descent precision of `landscape.search` on a Proposition 1 data set
    (the light tests above cover the engine on a small objective and eq. (5)'s Adam descent)."""
    ds = landscape.prop1_dataset(0.1, n=8, d=3, kappa=1, seed=0)
    kw = dict(kappa=1, restarts=R, steps=150, seed=0, optimizer=optimizer, polish=polish, precision=precision,
              progress=False)  # fmt: skip
    runs = [landscape.search(ds.X, 0.1, **kw, chunk_size=c) for c in CHUNKS]
    _assert_same(runs, lambda r: r.energy, lambda r: r.params, lambda r: (r.grad_norm, r.steps, r.status, r.active))
