"""One restart's descent and float64 polish, for any objective ``f(params)`` over a pytree.

The building blocks of the multi-start engine (`landscape.tools.engine`), usable alone:
`descend` (Adam or L-BFGS with non-finite detection), `polish` (saddle-free Newton or
L-BFGS to a relative gradient tolerance) and `finish` (polish unless failed, then the
endpoint's value and gradient norm). All are jittable and vmappable; nothing is reduced
across restarts.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax
from jax.flatten_util import ravel_pytree

from landscape.tools.newton import newton_minimize

__all__ = ["descend", "polish", "finish"]


def _all_finite(tree):
    return jnp.all(jnp.stack([jnp.all(jnp.isfinite(x)) for x in jax.tree.leaves(tree)]))


def descend(f, p0, *, steps: int, learning_rate, optimizer: str = "adam"):
    """``steps`` steps of Adam or L-BFGS on ``f(p)`` from ``p0``; returns (p, failed, fail_step).

    ``fail_step`` is the first step whose gradient was not finite (``steps`` if only the
    endpoint is, −1 if none). Jittable and vmappable; nothing crosses between restarts.
    """
    if optimizer == "adam":
        opt = optax.adam(learning_rate)
        grad = jax.grad(f)
    else:
        opt = optax.lbfgs()
        value_and_grad = optax.value_and_grad_from_state(f)

    def step(carry, k):
        p, s, fail_step = carry
        if optimizer == "adam":
            g = grad(p)
            upd, s = opt.update(g, s, p)
        else:
            val, g = value_and_grad(p, state=s)
            upd, s = opt.update(g, s, p, value=val, grad=g, value_fn=f)
        g2 = sum(jnp.sum(x * x) for x in jax.tree.leaves(g))
        fail_step = jnp.where((fail_step < 0) & ~jnp.isfinite(g2), k, fail_step)
        return (optax.apply_updates(p, upd), s, fail_step), None

    carry = (p0, opt.init(p0), jnp.asarray(-1))
    (p, _, fail_step), _ = jax.lax.scan(step, carry, jnp.arange(steps))
    failed = (fail_step >= 0) | ~_all_finite(p) | ~jnp.isfinite(f(p))
    return p, failed, jnp.where(failed & (fail_step < 0), steps, fail_step)


def polish(f, p0, *, method: str, steps: int, gtol):
    """float64 polish of one point: saddle-free Newton or L-BFGS on the flattened parameters.

    Stops when ‖∇f‖₂ ≤ gtol · max(1, |f(p0)|) or after ``steps`` iterations. A polish that
    goes non-finite is undone. Returns (p, iterations).
    """
    flat, unravel = ravel_pytree(p0)

    def g(x):
        return f(unravel(x))

    gtol = gtol * jnp.maximum(1.0, jnp.abs(g(flat)))
    if method == "newton":
        res = newton_minimize(g, flat, gtol=gtol, max_steps=steps)
        x, k = res.x, res.steps
    else:
        opt = optax.lbfgs()
        vg = optax.value_and_grad_from_state(g)

        def cond(c):
            _, s, k = c
            return (k < steps) & (jnp.linalg.norm(optax.tree.get(s, "grad")) > gtol)

        def body(c):
            x, s, k = c
            val, gr = vg(x, state=s)
            upd, s = opt.update(gr, s, x, value=val, grad=gr, value_fn=g)
            return optax.apply_updates(x, upd), s, k + 1

        v0, g0 = jax.value_and_grad(g)(flat)  # prime the state, so that cond sees the true gradient
        s0 = optax.tree.set(opt.init(flat), value=v0, grad=g0)
        x, _, k = jax.lax.while_loop(cond, body, (flat, s0, 0))
    ok = jnp.isfinite(g(x)) & jnp.all(jnp.isfinite(x))
    return unravel(jnp.where(ok, x, flat)), jnp.where(ok, k, 0)


def finish(f, p, failed, *, method: str, steps: int, gtol):
    """`polish` (method "newton" or "lbfgs"; "none" skips it) unless the descent ``failed``, then the diagnostics.

    Returns (p, f(p), ‖∇f(p)‖₂, failed, polish iterations); ``failed`` also turns on where the
    value or the gradient is not finite.
    """
    k_pol = jnp.asarray(0)
    if method != "none":
        p_pol, k_pol = polish(f, p, method=method, steps=steps, gtol=gtol)
        p = jax.tree.map(lambda a, b: jnp.where(failed, a, b), p, p_pol)
        k_pol = jnp.where(failed, 0, k_pol)
    val, gr = jax.value_and_grad(f)(p)
    gn = jnp.linalg.norm(ravel_pytree(gr)[0])
    failed = failed | ~jnp.isfinite(val) | ~jnp.isfinite(gn)
    return p, val, gn, failed, k_pol
