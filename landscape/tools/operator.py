"""Curvature operators: a symmetric linear map H on flat vectors of size P, and what builds one.

A `CurvatureOperator` is what the curvature algorithms (`landscape.tools.lanczos`,
`landscape.tools.density`, `landscape.tools.certify`) need to know of H: ``matvec``
(v ↦ H v on flat vectors of shape (P,)), ``size`` (P) and ``dtype``. Constructors:

- `hessian_operator` (f, params, args): ∇²f(params) by forward-over-reverse, in
  ``ravel_pytree(params)`` order (``jax.linearize`` of the gradient, once per run of an
  algorithm, then one JVP per product).
- `gauss_newton_operator` (r, params, args, loss): the generalised Gauss–Newton matrix
  Jᵀ ∇²ℓ(r) J of ℓ(r(θ)) (Schraudolph 2002), J the Jacobian of r; Jᵀ J for ½‖r‖².
- `dense_operator` (H): a symmetric matrix, symmetrised as ½(H + Hᵀ).
- `linear_operator` (matvec, size, args): any symmetric matvec ``matvec(v, *args)``, e.g.
  a structured operator such as the arrowhead Hessian of eq. (5) (`landscape.schur`).

How an operator is compiled: it carries a hashable ``build`` and the arrays ``data`` it
depends on; the algorithms jit ``build(data)`` with ``build`` static and ``data`` traced,
so one compiled program serves every point and data set of a shape (for
`hessian_operator`: every call with the same ``f`` object, as for the shorthand
``lanczos(f, params, args)``). Inside that program the linearisation happens once.
``op.matvec(v)`` outside an algorithm rebuilds it on every call: for repeated products
use ``mv = op.linearise()`` inside your own ``jax.jit``.

Also here, for the dense route: `hvp` (the pytree product), `dense_hessian` and
`to_dense` (materialise any operator from P products, ``chunk_size`` at a time).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
from jax.flatten_util import ravel_pytree

from landscape.common import checks
from landscape.tools.flat import check_call

__all__ = [
    "CurvatureOperator",
    "hessian_operator",
    "gauss_newton_operator",
    "dense_operator",
    "linear_operator",
    "as_operator",
    "to_dense",
    "hvp",
    "dense_hessian",
    "check_finite_params",
]


@dataclass(frozen=True, eq=False)
class CurvatureOperator:
    """A symmetric linear operator H on flat vectors of shape (``size``,). See the module docstring.

    Attributes:
      size: P, the dimension.
      dtype: of the vectors H acts on.
      build: hashable; ``build(data)`` returns the flat matvec v ↦ H v (traceable).
      data: the arrays (a pytree) that ``build`` needs: passed traced, never closed over.
      kind: "hessian", "gauss_newton", "dense" or "matvec".
      unravel: flat vector → pytree like the params the operator was built at (None if
        there are none); eigenvectors from `lanczos` unravel with it.
    """

    size: int
    dtype: Any
    build: Callable
    data: Any = ()
    kind: str = "matvec"
    unravel: Callable | None = field(default=None, repr=False)

    def linearise(self) -> Callable:
        """The flat matvec, built once (for a Hessian: one linearisation for every product)."""
        return self.build(self.data)

    def matvec(self, v) -> jax.Array:
        """H v for a flat v of shape (P,); jittable. Rebuilds the operator on each call."""
        return self.linearise()(v)

    def __matmul__(self, v):
        return self.matvec(v)


def check_finite_params(params) -> None:
    """Raise ValueError unless ``params`` has entries and all are finite."""
    flat, _ = ravel_pytree(params)
    if flat.size == 0:
        raise ValueError("params has no entries; the curvature of a function of nothing is undefined.")
    if not bool(jnp.all(jnp.isfinite(flat))):
        raise ValueError("params contains NaN or inf; curvature is only defined at a finite point.")


def _flat_grad(f, unravel, args):
    def g(x):
        return ravel_pytree(jax.grad(f)(unravel(x), *args))[0]

    return g


# ----------------------------------------------------------------- builders (static)


@dataclass(frozen=True)
class _Hessian:
    """build for `hessian_operator`: equal (one compiled program) for the same ``f``."""

    f: Callable

    def __call__(self, data):
        params, args = data
        flat, unravel = ravel_pytree(params)
        _, lin = jax.linearize(_flat_grad(self.f, unravel, args), flat)
        return lin


@dataclass(frozen=True)
class _GaussNewton:
    residual: Callable
    loss: Callable | None

    def __call__(self, data):
        params, args = data
        flat, unravel = ravel_pytree(params)
        z, jvp = jax.linearize(lambda x: ravel_pytree(self.residual(unravel(x), *args))[0], flat)
        vjp = jax.linear_transpose(jvp, flat)
        if self.loss is None:
            return lambda v: vjp(jvp(v))[0]
        _, hess_loss = jax.linearize(jax.grad(self.loss), z)
        return lambda v: vjp(hess_loss(jvp(v)))[0]


@dataclass(frozen=True)
class _Dense:
    def __call__(self, H):
        return lambda v: H @ v


@dataclass(frozen=True)
class _Matvec:
    matvec: Callable

    def __call__(self, args):
        return lambda v: self.matvec(v, *args)


# --------------------------------------------------------------------- constructors


def hessian_operator(f, params, args: tuple = ()) -> CurvatureOperator:
    """H = ∇²f(params) of ``f(params, *args) -> scalar``, as an operator in ``ravel_pytree`` order.

    Products are forward-over-reverse (a JVP of the gradient), as in `hvp`. Pass data
    through ``args`` rather than closing over it, and the same ``f`` object each time.
    """
    params, args = check_call(f, params, args)
    check_finite_params(params)
    flat, unravel = ravel_pytree(params)
    return CurvatureOperator(
        size=int(flat.size),
        dtype=flat.dtype,
        build=_Hessian(f),
        data=(params, tuple(args)),
        kind="hessian",
        unravel=unravel,
    )


def gauss_newton_operator(residual, params, args: tuple = (), *, loss=None) -> CurvatureOperator:
    """The generalised Gauss–Newton matrix G = Jᵀ ∇²ℓ(r) J of f(θ) = ℓ(r(θ)) (Schraudolph 2002).

    ``residual(params, *args)`` returns a pytree r (flattened by ``ravel_pytree``), J is its
    Jacobian at ``params``; ``loss(r_flat) -> scalar`` is ℓ, by default ½‖r‖² (then
    G = JᵀJ). G is positive semi-definite when ℓ is convex, and equals ∇²f wherever r is
    affine in θ. Products are one JVP and one VJP of r (and a JVP of ∇ℓ).
    """
    params, args = check_call(residual, params, args, f_name="residual")
    if loss is not None and not callable(loss):
        raise ValueError(f"loss must be None (½‖r‖²) or a callable loss(r_flat) -> scalar, got {loss!r}.")
    check_finite_params(params)
    flat, unravel = ravel_pytree(params)
    return CurvatureOperator(
        size=int(flat.size),
        dtype=flat.dtype,
        build=_GaussNewton(residual, loss),
        data=(params, tuple(args)),
        kind="gauss_newton",
        unravel=unravel,
    )


def dense_operator(H) -> CurvatureOperator:
    """A square matrix as an operator: v ↦ ½(H + Hᵀ) v (symmetrised, as `landscape.inertia` does)."""
    H = jnp.asarray(checks.check_real_array("H", H))
    if H.ndim != 2 or H.shape[0] != H.shape[1] or H.shape[0] == 0:
        raise ValueError(f"H must be a non-empty square matrix, got shape {H.shape}.")
    if not bool(jnp.all(jnp.isfinite(H))):
        raise ValueError("H contains NaN or inf entries.")
    return CurvatureOperator(size=int(H.shape[0]), dtype=H.dtype, build=_Dense(), data=0.5 * (H + H.T), kind="dense")


def linear_operator(matvec, size: int, args: tuple = (), *, dtype=jnp.float64, unravel=None) -> CurvatureOperator:
    """Any symmetric operator given by ``matvec(v, *args)`` on flat vectors of shape (size,).

    ``matvec`` is static (a new function object compiles anew); ``args`` are traced, so
    pass arrays through them rather than closing over them. Symmetry is the caller's promise.
    """
    size = checks.check_size("size", size, 1)
    if not callable(matvec):
        raise ValueError(f"matvec must be a callable matvec(v, *args), got {matvec!r} ({type(matvec).__name__}).")
    return CurvatureOperator(
        size=int(size), dtype=jnp.dtype(dtype), build=_Matvec(matvec), data=tuple(args), kind="matvec", unravel=unravel
    )


def as_operator(f, params=None, args: tuple = ()) -> CurvatureOperator:
    """``f`` itself if it is a `CurvatureOperator` (then no params or args), else `hessian_operator`."""
    if isinstance(f, CurvatureOperator):
        if params is not None or tuple(args):
            raise TypeError("params and args belong to the objective; an operator already carries its point.")
        return f
    if params is None:
        raise TypeError("params is required when the first argument is an objective f(params, *args).")
    return hessian_operator(f, params, args)


# ------------------------------------------------------------------- dense route


def hvp(f, params, args: tuple = ()):
    """The Hessian-vector product v ↦ ∇²f(params) v, with v and Hv pytrees like ``params``.

    Forward-over-reverse: ``jax.linearize`` of ∇f at ``params`` is computed once and
    the returned linear function reuses it for every v (no re-linearisation per
    product). Jit the caller for speed; the function itself is pure.
    """
    params, args = check_call(f, params, args)
    _, lin = jax.linearize(lambda p: jax.grad(f)(p, *args), params)
    return lin


@partial(jax.jit, static_argnames=("build", "size", "dtype", "chunk_size"))
def _to_dense(build, data, size, dtype, chunk_size):
    lin = build(data)
    eye = jnp.eye(size, dtype=dtype)
    H = jax.lax.map(lin, eye, batch_size=chunk_size)  # row i = H e_i (H is symmetric)
    return 0.5 * (H + H.T)


def _check_chunk(chunk_size):
    return checks.check_size("chunk_size", chunk_size, 1)


def to_dense(op: CurvatureOperator, *, chunk_size: int = 256) -> jax.Array:
    """The (P, P) matrix of ``op`` from P products, ``chunk_size`` at a time, symmetrised."""
    chunk_size = _check_chunk(chunk_size)
    return _to_dense(op.build, op.data, op.size, jnp.dtype(op.dtype), chunk_size)


def dense_hessian(f, params, args: tuple = (), *, chunk_size: int = 256) -> jax.Array:
    """The dense (P, P) Hessian of ``f`` at ``params``, in ``ravel_pytree`` order.

    Built column by column from `hvp`, ``chunk_size`` products at a time, so the
    intermediate memory is that of ``chunk_size`` products however large P is. The
    result is symmetrised (½(H + Hᵀ)); for eq. (5) it equals `landscape.hessian`.
    """
    _check_chunk(chunk_size)
    return to_dense(hessian_operator(f, params, args), chunk_size=chunk_size)
