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


def descend(f, p0, *, steps: int, learning_rate, optimizer: str = "adam", schedule: bool = False,
            inner_steps: int = 0, inner: tuple | None = None, inner_until: int | None = None):  # fmt: skip
    """``steps`` steps of Adam or L-BFGS on ``f(p)`` from ``p0``; returns (p, failed, fail_step).

    ``fail_step`` is the first step whose gradient was not finite (``steps`` if only the
    endpoint is, −1 if none). Jittable and vmappable; nothing crosses between restarts.

    Two options change the objective or the update along the way (Adam only):

    - ``schedule``: ``f`` is ``f(p, k)``, an objective that depends on the step number k = 0, 1, …,
      steps − 1 (a KL warm-up, an annealed γ); the endpoint's check uses k = ``steps``.
    - ``inner_steps`` K ≥ 1 with ``inner`` (one bool per leaf of ``p0``, in ``jax.tree.leaves``
      order, True for the inner leaves): aggressive inference (He et al. 2019, Algorithm 1). Each of
      the first ``inner_until`` steps (default all) runs K Adam steps on the inner leaves alone, then
      one on the others; the remaining steps update every leaf at once. The two groups keep their own
      Adam states, and a leaf's update depends only on its own gradient and state, so those joint steps
      are plain Adam's (to rounding); K = 0 runs plain Adam's own code.
    """
    if inner_steps and optimizer != "adam":
        raise ValueError("inner_steps (aggressive inference) needs optimizer='adam'.")
    obj = f if schedule else (lambda p, k: f(p))
    if inner_steps:
        return _descend_aggressive(obj, p0, steps, learning_rate, inner_steps, inner, inner_until)
    if optimizer == "adam":
        opt = optax.adam(learning_rate)
        grad = jax.grad(obj)
    else:
        opt = optax.lbfgs()

    def step(carry, k):
        p, s, fail_step = carry
        if optimizer == "adam":
            g = grad(p, k)
            upd, s = opt.update(g, s, p)
        else:
            fk = lambda q: obj(q, k)  # noqa: E731
            val, g = optax.value_and_grad_from_state(fk)(p, state=s)
            upd, s = opt.update(g, s, p, value=val, grad=g, value_fn=fk)
        fail_step = _record_failure(fail_step, g, k)
        return (optax.apply_updates(p, upd), s, fail_step), None

    carry = (p0, opt.init(p0), jnp.asarray(-1))
    (p, _, fail_step), _ = jax.lax.scan(step, carry, jnp.arange(steps))
    return _end(obj, p, fail_step, steps)


def _record_failure(fail_step, g, k):
    g2 = sum(jnp.sum(x * x) for x in jax.tree.leaves(g))
    return jnp.where((fail_step < 0) & ~jnp.isfinite(g2), k, fail_step)


def _end(obj, p, fail_step, steps):
    failed = (fail_step >= 0) | ~_all_finite(p) | ~jnp.isfinite(obj(p, steps))
    return p, failed, jnp.where(failed & (fail_step < 0), steps, fail_step)


def _descend_aggressive(obj, p0, steps, learning_rate, K, inner, inner_until):
    """`descend` with K inner steps on the ``inner`` leaves before each outer step on the rest."""
    leaves, treedef = jax.tree.flatten(p0)
    if inner is None or len(inner) != len(leaves) or not any(inner) or all(inner):
        raise ValueError(
            f"inner must mark each of the {len(leaves)} parameter leaves True (inner: the encoder) or False, "
            f"with at least one of each; got {inner!r}."
        )
    mask = jax.tree.unflatten(treedef, [bool(b) for b in inner])
    keep = lambda g, on: jax.tree.map(lambda x, m: x if m == on else jnp.zeros_like(x), g, mask)  # noqa: E731
    opt = optax.adam(learning_rate)
    grad = jax.grad(obj)
    until = steps if inner_until is None else min(int(inner_until), steps)

    def update(p, s, g):  # Adam on one group: the other group's gradient is 0 and its moments stay 0
        upd, s = opt.update(g, s, p)
        return optax.apply_updates(p, upd), s

    def aggressive(carry, k):
        p, s_in, s_out, fail_step = carry

        def inner_step(c, _):
            p, s_in, fail_step = c
            g = grad(p, k)
            p, s_in = update(p, s_in, keep(g, True))
            return (p, s_in, _record_failure(fail_step, g, k)), None

        (p, s_in, fail_step), _ = jax.lax.scan(inner_step, (p, s_in, fail_step), None, length=K)
        g = grad(p, k)
        p, s_out = update(p, s_out, keep(g, False))
        return (p, s_in, s_out, _record_failure(fail_step, g, k)), None

    def joint(carry, k):
        p, s_in, s_out, fail_step = carry
        g = grad(p, k)
        u_in, s_in = opt.update(keep(g, True), s_in, p)
        u_out, s_out = opt.update(keep(g, False), s_out, p)
        p = optax.apply_updates(p, jax.tree.map(jnp.add, u_in, u_out))
        return (p, s_in, s_out, _record_failure(fail_step, g, k)), None

    carry = (p0, opt.init(p0), opt.init(p0), jnp.asarray(-1))
    carry, _ = jax.lax.scan(aggressive, carry, jnp.arange(until))
    carry, _ = jax.lax.scan(joint, carry, jnp.arange(until, steps))
    return _end(obj, carry[0], carry[3], steps)


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
