"""Multi-start minimisation of any objective over a pytree.

`landscape.search` is the eq. (5) front end, with its data-scaled initialisation, γ
handling and basin diagnostics. `multistart` is the same engine for any smooth
``f(params, *args)``: the linear VAE of Lucas et al. (`landscape.linear`), Dang et al.'s
conditional and hierarchical VAEs (`landscape.linear_conditional`,
`landscape.linear_hierarchical`), or a user's own loss. Its endpoints are certified with
`landscape.certify` like any other point.

Each restart runs a descent phase (optax Adam, or L-BFGS) and a float64 polish
(saddle-free Newton on the flattened parameters, or L-BFGS) that stops on the gradient,
``‖∇f‖₂ ≤ gtol · max(1, |f|)``, never on a small step. Restarts are vmapped in chunks; a
restart whose gradient or value goes non-finite is marked ``non_finite`` and, since nothing
is reduced across restarts, the others never see it. Restart r starts from
``init(fold_in(key(seed), r))``, so results do not depend on the chunking.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.flatten_util import ravel_pytree

from landscape.common import checks as V
from landscape.tools.newton import newton_minimize

__all__ = ["MultiStartResult", "multistart", "descend", "polish"]

_OPTIMIZERS = ("adam", "lbfgs")
_POLISH = ("auto", "newton", "lbfgs", "none")
NEWTON_MAX_P = 400  # "auto" polishes with dense Newton up to this many parameters


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


def end_status(val, grad_norm, failed, gtol):
    """NumPy (values, gradient norms, statuses) of a batch of end points: NaN where failed, and
    "non_finite", "converged" (‖∇f‖ ≤ gtol·max(1, |f|)) or "max_steps" per end point."""
    val = np.where(failed, np.nan, val)
    gn = np.where(failed, np.nan, grad_norm)
    ok = gn <= gtol * np.maximum(1.0, np.abs(val))
    return val, gn, tuple(np.where(failed, "non_finite", np.where(ok, "converged", "max_steps")).tolist())


@partial(jax.jit, static_argnames=("f", "init", "steps", "optimizer", "method", "polish_steps"))
def _run_chunk(keys, args, learning_rate, gtol, *, f, init, steps, optimizer, method, polish_steps):
    def one(key):
        p0 = jax.tree.map(lambda a: jnp.asarray(a, jnp.float64), init(key))
        obj = lambda p: f(p, *args)  # noqa: E731
        p, failed, fail_step = descend(obj, p0, steps=steps, learning_rate=learning_rate, optimizer=optimizer)
        p, val, gn, failed, k_pol = finish(obj, p, failed, method=method, steps=polish_steps, gtol=gtol)
        steps_taken = jnp.where(fail_step >= 0, fail_step, steps) + k_pol
        return p, val, gn, failed, steps_taken

    return jax.vmap(one)(keys)


@dataclass(frozen=True)
class MultiStartResult:
    """The endpoints of `multistart`, one entry per restart (restart order).

    Attributes:
      params: the final parameters, a pytree of NumPy arrays with a leading restart axis.
      values: f at each endpoint (NaN where the restart failed).
      grad_norms: ‖∇f‖₂ at each endpoint (NaN where it failed).
      status: per restart, "converged" (‖∇f‖₂ ≤ gtol · max(1, |f|)), "max_steps" (the
        budget ran out first: not certified stationary) or "non_finite".
      steps: descent steps (up to a failure) plus polishing iterations.
      config: every setting, the seed included. seed: the seed. seconds: wall time.
    """

    params: Any
    values: np.ndarray
    grad_norms: np.ndarray
    status: tuple[str, ...]
    steps: np.ndarray
    config: dict
    seed: int
    seconds: float
    extras: dict = field(default_factory=dict)

    @property
    def restarts(self) -> int:
        return int(self.values.size)

    @property
    def best(self) -> int:
        """Index of the restart with the lowest finite value."""
        v = np.where(np.asarray(self.status) == "non_finite", np.inf, self.values)
        return int(np.argmin(v))

    @property
    def best_converged(self) -> int | None:
        """Index of the lowest-valued restart certified stationary ("converged"), None if there is none.

        Prefer it to `best` where a lower but unconverged endpoint may only be slow
        (a degenerate minimum) or still descending.
        """
        v = np.where(self.converged, self.values, np.inf)
        return int(np.argmin(v)) if np.isfinite(v).any() else None

    @property
    def converged(self) -> np.ndarray:
        return np.asarray(self.status) == "converged"

    def point(self, r: int):
        """The final parameters of restart r (a pytree like ``init``'s)."""
        return jax.tree.map(lambda a: a[r], self.params)

    def distinct_values(self, rtol: float = 1e-8) -> list[tuple[float, int]]:
        """The distinct endpoint values (finite ones, merged within rtol · max(1, |f|)), lowest first, with counts."""
        v = np.sort(self.values[np.isfinite(self.values)])
        groups: list[list[float]] = []
        for x in v:
            if groups and abs(x - groups[-1][0]) <= rtol * max(1.0, abs(x)):
                groups[-1].append(x)
            else:
                groups.append([x])
        return [(float(g[0]), len(g)) for g in groups]

    def to_dict(self, params: bool = False) -> dict:
        out = {
            "restarts": self.restarts,
            "seed": self.seed,
            "config": self.config,
            "seconds": self.seconds,
            "per_restart": {
                "value": self.values.tolist(),
                "grad_norm": self.grad_norms.tolist(),
                "status": list(self.status),
                "steps": self.steps.tolist(),
            },
            "distinct_values": self.distinct_values(),
        }
        if params:
            out["params"] = jax.tree.map(lambda a: np.asarray(a).tolist(), self.params)
        return out


def multistart(
    f,
    init,
    *,
    restarts: int,
    seed: int = 0,
    args: tuple = (),
    steps: int = 2000,
    learning_rate: float = 1e-2,
    optimizer: str = "adam",
    polish: str = "auto",
    polish_steps: int | None = None,
    gtol: float = 1e-10,
    chunk_size: int | None = None,
    progress: bool | None = None,
) -> MultiStartResult:
    """Minimise ``f(params, *args)`` from ``restarts`` starting points at once.

    Args:
      f: a scalar objective of a pytree ``params`` (and fixed ``args``), smooth, jittable.
        To maximise an ELBO, pass its negative.
      init: ``init(key) -> params`` for one restart; jittable (it is vmapped over keys).
        Restart r uses ``init(jax.random.fold_in(jax.random.key(seed), r))``.
      restarts: the number of restarts R ≥ 1.
      seed: the base seed.
      args: extra arguments of f (data), the same for every restart.
      steps: descent steps per restart (≥ 0).
      learning_rate: Adam's step size (unused by L-BFGS).
      optimizer: "adam" or "lbfgs" for the descent phase.
      polish: "newton" (dense saddle-free Newton, `landscape.newton_minimize`), "lbfgs",
        "auto" (newton for up to 400 parameters, else lbfgs) or "none".
      polish_steps: at most this many polishing iterations (default 200 Newton, 2000 L-BFGS).
      gtol: a restart is "converged" iff ‖∇f‖₂ ≤ gtol · max(1, |f|) at its endpoint.
      chunk_size: restarts per compiled batch (default: all at once, at most 256).
      progress: print one line per chunk on stderr (default: when there are ≥ 2 chunks).

    Returns:
      A `MultiStartResult`. The compiled computation is cached on (f, init, shapes, the
      static settings): reuse the same f and init objects in a sweep to compile once.
    """
    from landscape.analysis.search import _Progress

    if not callable(f):
        raise ValueError(f"f must be a callable f(params, *args) -> scalar, got {type(f).__name__}.")
    if not callable(init):
        raise ValueError(f"init must be a callable init(key) -> params, got {type(init).__name__}.")
    restarts = V.check_size("restarts", restarts, 1)
    steps = V.check_size("steps", steps, 0)
    if optimizer not in _OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {_OPTIMIZERS}, got {optimizer!r}.")
    if polish not in _POLISH:
        raise ValueError(f"polish must be one of {_POLISH}, got {polish!r}.")
    if not (np.isfinite(learning_rate) and learning_rate > 0):
        raise ValueError(f"learning_rate must be a finite number > 0, got {learning_rate!r}.")
    if not (np.isfinite(gtol) and gtol >= 0):
        raise ValueError(f"gtol must be a finite number >= 0, got {gtol!r}.")
    args = tuple(args)
    probe = jax.eval_shape(init, jax.random.key(0))
    size = sum(int(np.prod(a.shape)) for a in jax.tree.leaves(probe))
    if size == 0:
        raise ValueError("init(key) returned no parameters.")
    value = jax.eval_shape(lambda p: f(p, *args), probe)
    if value.shape != ():
        raise ValueError(f"f(params, *args) must return a scalar, got shape {value.shape}.")
    method = ("newton" if size <= NEWTON_MAX_P else "lbfgs") if polish == "auto" else polish
    if polish_steps is None:
        polish_steps = 200 if method == "newton" else 2000
    polish_steps = V.check_size("polish_steps", polish_steps, 0)
    chunk = min(restarts, 256) if chunk_size is None else V.check_size("chunk_size", chunk_size, 1)
    chunk = min(chunk, restarts)
    chunks = int(np.ceil(restarts / chunk))
    bar = _Progress(restarts, chunks >= 2 if progress is None else bool(progress), label="multistart")

    base = jax.random.key(int(seed))
    static = dict(f=f, init=init, steps=steps, optimizer=optimizer, method=method, polish_steps=polish_steps)
    args64 = jax.tree.map(
        lambda a: jnp.asarray(a, jnp.float64) if np.issubdtype(np.asarray(a).dtype, np.floating) else a, args
    )
    lr, gt = jnp.asarray(learning_rate, jnp.float64), jnp.asarray(gtol, jnp.float64)
    outs = []
    t0 = time.perf_counter()
    for c in range(chunks):
        idx = np.arange(c * chunk, min((c + 1) * chunk, restarts))
        pad = np.concatenate([idx, np.full(chunk - idx.size, idx[0])])  # one shape, one compile
        keys = jax.vmap(lambda r: jax.random.fold_in(base, r))(jnp.asarray(pad))
        out = jax.block_until_ready(_run_chunk(keys, args64, lr, gt, **static))
        outs.append(jax.tree.map(lambda a, k=idx.size: np.asarray(a)[:k], out))
        bar.update(int(idx[-1]) + 1, c + 1, chunks)
    P, val, gn, failed, steps_taken = jax.tree.map(lambda *a: np.concatenate(a), *outs)
    seconds = time.perf_counter() - t0
    val, gn, status = end_status(val, gn, failed, gtol)
    config = {
        "restarts": restarts,
        "seed": int(seed),
        "steps": steps,
        "learning_rate": float(learning_rate),
        "optimizer": optimizer,
        "polish": method,
        "polish_steps": polish_steps,
        "gtol": float(gtol),
        "chunk_size": chunk,
        "parameters": size,
        "objective": getattr(f, "__qualname__", repr(f)),
        "init": getattr(init, "__qualname__", repr(init)),
    }
    return MultiStartResult(
        params=P,
        values=val,
        grad_norms=gn,
        status=status,
        steps=steps_taken,
        config=config,
        seed=int(seed),
        seconds=seconds,
    )
