"""A small, exact Newton minimiser for dense problems (a few hundred parameters).

Used to re-minimise the energy over some parameters while others are held fixed
(the Proposition 1 profiles), and as a float64 polisher. Each step is a
saddle-free Newton step, p = −V |Λ|⁻¹ Vᵀ g with H = V Λ Vᵀ, followed by a
backtracking (Armijo) line search, so it descends even where H is indefinite.
Everything is `lax`, so it jits and vmaps; the result carries its own diagnostics.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from landscape.common import checks as V
from landscape.tools.flat import check_flat_call

__all__ = ["NewtonResult", "armijo_backtrack", "newton_minimize"]


class NewtonResult(NamedTuple):
    """Outcome of `newton_minimize` (a pytree, so it vmaps).

    x: the final point; value: f(x); grad_norm: ‖∇f(x)‖₂; steps: Newton steps taken;
    converged: grad_norm ≤ gtol.
    """

    x: jax.Array
    value: jax.Array
    grad_norm: jax.Array
    steps: jax.Array
    converged: jax.Array


def armijo_backtrack(phi, fx, slope, max_halvings):
    """Backtracking (Armijo) line search along a descent direction, in `lax` (jits and vmaps).

    Halves t from 1 until φ(t) ≤ f(x) + 1e-4·t·slope + 64·eps·|f(x)| (the slack allows for
    rounding: near a minimum f changes by less than its ulp), at most ``max_halvings`` times.

    Args:
      phi: t ↦ f(x + t p), a scalar function of the step length.
      fx: f(x); slope: the directional derivative ∇f(x)·p (negative for a descent direction).
      max_halvings: the most halvings.

    Returns:
      (t, φ(t), ok): the last step tried, its value, and whether it passed the test.
    """
    slack = 64.0 * jnp.finfo(fx.dtype).eps * jnp.abs(fx)

    def accept(t, ft):
        return jnp.isfinite(ft) & (ft <= fx + 1e-4 * t * slope + slack)

    def ls_cond(c):
        t, ft, j = c
        return (j < max_halvings) & ~accept(t, ft)

    def ls_body(c):
        t, _, j = c
        t = 0.5 * t
        return t, phi(t), j + 1

    t, ft, _ = jax.lax.while_loop(ls_cond, ls_body, (1.0, phi(1.0), 0))
    return t, ft, accept(t, ft)


def newton_minimize(f, x0, *, gtol: float = 1e-11, max_steps: int = 100, max_halvings: int = 40) -> NewtonResult:
    """Minimise a smooth scalar function of a flat vector by saddle-free Newton steps.

    Args:
      f: scalar function of a 1-D array, twice differentiable.
      x0: starting point, 1-D.
      gtol: stop when ‖∇f‖₂ ≤ gtol.
      max_steps: at most this many Newton steps.
      max_halvings: line-search halvings before the step is declared stuck (which
        also stops the loop; ``converged`` then tells the truth).
    """
    check_flat_call(f, x0)
    V.check_tolerance("gtol", gtol, allow_zero=True)  # under jit, traced settings pass unchecked
    V.check_size("max_steps", max_steps, 0)
    V.check_size("max_halvings", max_halvings, 0)
    value_and_grad = jax.value_and_grad(f)
    hess = jax.hessian(f)

    def step(state):
        x, fx, g, k, _ = state
        lam, vec = jnp.linalg.eigh(hess(x))
        scale = jnp.max(jnp.abs(lam))
        floor = jnp.maximum(1e-12 * scale, 1e-300)
        p = -vec @ ((vec.T @ g) / jnp.maximum(jnp.abs(lam), floor))
        slope = g @ p
        t, ft, ok = armijo_backtrack(lambda t: f(x + t * p), fx, slope, max_halvings)
        x_new = jnp.where(ok, x + t * p, x)
        f_new, g_new = value_and_grad(x_new)
        return x_new, f_new, g_new, k + 1, ~ok

    def cond(state):
        _, _, g, k, stuck = state
        return (k < max_steps) & (jnp.linalg.norm(g) > gtol) & ~stuck

    f0, g0 = value_and_grad(x0)
    x, fx, g, k, _ = jax.lax.while_loop(cond, step, (x0, f0, g0, 0, False))
    gn = jnp.linalg.norm(g)
    return NewtonResult(x=x, value=fx, grad_norm=gn, steps=k, converged=gn <= gtol)
