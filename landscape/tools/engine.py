"""The multi-start engine: many minimisations of one objective ``f(params, *args)`` at once.

Every front end that runs many starts (`landscape.search` for eq. (5), `landscape.multistart`
for any objective, `landscape.likelihood_multistart` for −log p, and through `search` the γ
sweeps and thresholds) calls `run`. This module is the only place with the chunk loop, the
padding, the sharding, the descent precision, the polish, non-finite isolation, the end
status and the progress display.

Per restart:

1. descent: ``steps`` steps of optax Adam (``learning_rate``) or L-BFGS, in float64 or in
   float32 (``precision="float32"``: params and floating args are cast down for this phase
   only), with the first non-finite gradient recorded (`descend`);
2. polish, in float64: saddle-free Newton on the flattened parameters (`newton_minimize`)
   or L-BFGS, stopping at ‖∇f‖₂ ≤ gtol · max(1, |f|) (`polish`); a polish that goes
   non-finite is undone, and a failed descent is not polished (`finish`);
3. the value, ‖∇f‖₂ and any per-point ``diagnostics(params, *args)`` at the endpoint.

Nothing is reduced across restarts, so a restart that goes non-finite is marked failed
(status "non_finite", value NaN) and the others never see it, and a restart's result is
bitwise independent of ``chunk_size``. XLA compiles a batched program differently at
different batch widths, which changes the last bits (batched linear algebra, the L-BFGS
vector products, XLA:CPU's size-dependent YNNPACK reductions), so the shapes are fixed:
the Adam descent (the hot path) runs vmapped over the whole chunk, at width ≥ `MIN_WIDTH`
and compiled without those library fusions; the rest (L-BFGS descent, polish, endpoint)
runs in one executable of width `LANES` per device, called group by group, whatever the
chunk. A restart's while loops thus stop on its own criterion (a converged restart is never
stepped again while others run), which also makes the polish faster than a vmapped one.

**Starts and data are arguments, never closed over.** ``starts`` is a batched pytree (leading
axis R) or a function ``starts(indices) -> batched pytree`` that is evaluated outside the
compiled code, chunk by chunk, for the restart numbers of the chunk. The compiled chunk is
cached on (f, the diagnostics function, the shapes and dtypes of the starts and args, the
static settings): two calls with the same ``f`` and new data or starts of the same shapes
compile once. ``f`` is hashed by identity, so **a fresh closure or ``functools.partial`` is
a new objective** and compiles again: pass data through ``args`` instead.

Defaults (`DEFAULTS`), the one set for the whole library: descent Adam, learning rate 1e-2,
float64; polish "auto" (dense Newton for P ≤ `NEWTON_MAX_P` = 400 parameters, else
L-BFGS), at most 500 Newton or 2000 L-BFGS iterations; gtol 1e-8 (relative); chunks of
1024 restarts. A front end with other defaults says so in its docstring.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from landscape.common import checks as V
from landscape.common.progress import progress_bar
from landscape.common.status import CONVERGED, MAX_STEPS, NON_FINITE
from landscape.tools.descent import descend, finish, polish

__all__ = ["DEFAULTS", "NEWTON_MAX_P", "OPTIMIZERS", "POLISH", "EngineRun", "run", "resolve_polish", "cache_info"]
__all__ += ["compiled_chunk", "end_status"]
__all__ += ["descend", "polish", "finish"]

OPTIMIZERS = ("adam", "lbfgs")
POLISH = ("auto", "newton", "lbfgs", "none")
PRECISIONS = ("float64", "float32")
NEWTON_MAX_P = 400  # "auto" polishes with dense Newton up to this many parameters
DEFAULTS = dict(
    steps=4000,
    learning_rate=1e-2,
    optimizer="adam",
    polish="auto",
    newton_steps=500,
    lbfgs_steps=2000,
    gtol=1e-8,
    chunk_size=1024,
    precision="float64",
)
_CACHE_MAX = 64
LANES = 1  # restarts per device in one call of the per-restart tail: its width, fixed
MIN_WIDTH = 2  # the vmapped descent's least width: at 1, XLA drops the batch axis and compiles another program


@dataclass(frozen=True)
class EngineRun:
    """What `run` returns: per-restart arrays (restart order) and the run's timings.

    Attributes:
      params: the endpoints, a pytree of NumPy arrays with a leading restart axis.
      value, grad_norm: f and ‖∇f‖₂ at each endpoint (NaN where the restart failed).
      failed: the restart went non-finite (in descent, or at its endpoint).
      fail_step: the first descent step with a non-finite gradient (−1 if none).
      steps: descent steps (up to a failure) plus polishing iterations.
      status: "converged" (‖∇f‖₂ ≤ gtol · max(1, |f|)), "max_steps" or "non_finite"
        (`landscape.common.status`).
      diagnostics: the ``diagnostics`` function's outputs, one array per key.
      method, polish_steps, chunk: the polish actually used, its budget, the chunk size.
      seconds: wall time; compile_seconds: compilation (0 when the cache had it);
      run_seconds: time inside the compiled chunks; compiled: whether this call compiled.
    """

    params: Any
    value: np.ndarray
    grad_norm: np.ndarray
    failed: np.ndarray
    fail_step: np.ndarray
    steps: np.ndarray
    status: tuple[str, ...]
    diagnostics: dict
    method: str
    polish_steps: int
    chunk: int
    seconds: float
    compile_seconds: float
    run_seconds: float
    compiled: bool
    extras: dict = field(default_factory=dict)


def resolve_polish(polish: str, size: int, polish_steps: int | None) -> tuple[str, int]:
    """The polish method for P = ``size`` parameters ("auto": Newton up to `NEWTON_MAX_P`) and its budget."""
    if polish not in POLISH:
        raise ValueError(f"polish must be one of {POLISH}, got {polish!r}.")
    method = ("newton" if size <= NEWTON_MAX_P else "lbfgs") if polish == "auto" else polish
    if polish_steps is None:
        polish_steps = DEFAULTS["newton_steps"] if method == "newton" else DEFAULTS["lbfgs_steps"]
    return method, V.check_size("polish_steps", polish_steps, 0)


def _cast(tree, dtype):
    def one(a):
        a = jnp.asarray(a)
        return a.astype(dtype) if jnp.issubdtype(a.dtype, jnp.floating) else a

    return jax.tree.map(one, tree)


def _finish_one(p, failed, fail_step, a, learning_rate, gtol, polish_steps, *, f, descent_f, diagnostics, steps,
                optimizer, method, precision, schedule, inner_steps, inner, inner_until):  # fmt: skip
    """One restart after the Adam descent (or from its start, for L-BFGS): the L-BFGS descent, the float64
    polish, and the endpoint's value, ‖∇f‖₂ and diagnostics."""
    if optimizer == "lbfgs":
        low = jnp.float32 if precision == "float32" else jnp.float64
        a_low = _cast(a, low)
        p, failed, fail_step = descend(_objective(descent_f or f, a_low, schedule), _cast(p, low), steps=steps,
                                       learning_rate=learning_rate, optimizer="lbfgs", schedule=schedule)  # fmt: skip
    p = jax.tree.map(lambda x: x.astype(jnp.float64), p)
    obj = lambda q: f(q, *a)  # noqa: E731
    p, val, gn, failed, k_pol = finish(obj, p, failed, method=method, steps=polish_steps, gtol=gtol)
    steps_taken = jnp.where(fail_step >= 0, fail_step, steps) + k_pol
    diag = {} if diagnostics is None else diagnostics(p, *a)
    return p, val, gn, failed, fail_step, steps_taken, diag


def _objective(f, a, schedule):
    """The descent's objective: ``f(p, *a)``, or with a schedule ``f(p, k, *a[1:])`` (``a[0]`` is the final step)."""
    if schedule:
        return lambda p, k: f(p, k, *a[1:])
    return lambda p: f(p, *a)


def _descent_chunk(P0, args, learning_rate, gtol, *, f, descent_f, in_axes, steps, precision, schedule, inner_steps,
                   inner, inner_until):  # fmt: skip
    """The Adam descent of a whole chunk, vmapped (the hot path): (p, failed, fail_step) per restart.

    Elementwise work and per-restart reductions, compiled without the library fusions
    (`_compiler_options`) and never at width 1 (`MIN_WIDTH`): then a restart's bits do not
    depend on the chunk's width (`tests/test_chunk_independence.py`). ``gtol`` is unused.
    """
    low = jnp.float32 if precision == "float32" else jnp.float64

    def one(p0, *a):
        a_low = _cast(a, low)
        return descend(_objective(descent_f or f, a_low, schedule), _cast(p0, low), steps=steps,
                       learning_rate=learning_rate,
                       optimizer="adam", schedule=schedule, inner_steps=inner_steps, inner=inner,
                       inner_until=inner_until)  # fmt: skip

    return jax.vmap(one, in_axes=(0, *in_axes))(P0, *args)


def _tail(P, failed, fail_step, args, learning_rate, gtol, polish_steps, *, in_axes, **static):
    """`_finish_one` over `lanes` restarts at a time, a width fixed whatever ``chunk_size``.

    The polish's batched linear algebra and the L-BFGS vector products round differently at
    different batch widths (XLA picks other kernels and fusions), though no restart sees
    another: run at one width, in one executable, a restart gives the same bits in any chunk.
    ``polish_steps`` is traced (it only bounds a while loop), so one program serves every budget.
    """

    def one(p, failed, fail_step, *a):
        return _finish_one(p, failed, fail_step, a, learning_rate, gtol, polish_steps, **static)

    return jax.vmap(one, in_axes=(0, 0, 0, *in_axes))(P, failed, fail_step, *args)


_SCHEDULE_STATIC = ("schedule", "inner_steps", "inner", "inner_until")
_DESCENT_STATIC = ("f", "descent_f", "in_axes", "steps", "precision", *_SCHEDULE_STATIC)
_TAIL_STATIC = ("f", "descent_f", "diagnostics", "in_axes", "steps", "optimizer", "method", "precision",
                *_SCHEDULE_STATIC)  # fmt: skip
_descent_jit = jax.jit(_descent_chunk, static_argnames=_DESCENT_STATIC)
_tail_jit = jax.jit(_tail, static_argnames=_TAIL_STATIC)
_CACHE: dict = {}
_NO_OPTIONS: set = set()
_STATS = {"hits": 0, "misses": 0}


def cache_info() -> dict:
    """Compiled-chunk cache statistics: ``{"hits", "misses", "size"}``: a hit is a `run` that found its
    programs compiled, a miss one that compiled (its descent, its per-restart tail or both), size the
    number of cached executables."""
    return {**_STATS, "size": len(_CACHE)}


def _signature(tree):
    return tuple(
        (tuple(np.shape(a)), str(jnp.asarray(a).dtype), str(getattr(a, "sharding", ""))) for a in jax.tree.leaves(tree)
    ), jax.tree.structure(tree)


def _compiled(jitted, names, example, static):
    """The executable of ``jitted`` for these example arguments and settings (cached), its compile time, and
    whether it was compiled now."""
    static = {k: static[k] for k in names}
    key = (jitted, *(_signature(x) for x in example), tuple(sorted(static.items(), key=lambda kv: kv[0])))
    if key in _CACHE:
        return _CACHE[key], 0.0, False
    t0 = time.perf_counter()
    if len(_CACHE) >= _CACHE_MAX:
        _CACHE.pop(next(iter(_CACHE)))
    lowered = jitted.lower(*example, **static)
    try:
        _CACHE[key] = lowered.compile(compiler_options=_compiler_options())
    except Exception as e:  # a jaxlib without the option has no library fusions either
        if "No such compile option" not in str(e):
            raise
        _NO_OPTIONS.add(jax.default_backend())
        _CACHE[key] = lowered.compile()
    return _CACHE[key], time.perf_counter() - t0, True


def _compiler_options() -> dict:
    """XLA:CPU without its YNNPACK library fusions, which it picks by array size: their reductions
    sum in another order, so with them a restart's bits changed at a chunk of 128 or more."""
    backend = jax.default_backend()
    return {"xla_cpu_experimental_ynn_fusion_type": ""} if backend == "cpu" and backend not in _NO_OPTIONS else {}


def compiled_chunk(P0, args, lr, gtol, static):
    """The compiled Adam descent of a chunk (called as ``exe(P0, args, lr, gtol)``) for these shapes and
    settings, from the cache or compiled now: (executable, compile seconds, compiled now). It returns
    (p, failed, fail_step) per restart; ``static`` holds `run`'s settings, of which it uses f, in_axes,
    steps and precision.
    """
    return _compiled(_descent_jit, _DESCENT_STATIC, (P0, args, lr, gtol), static)


def _shard(P):
    """Place the restart axis across devices when there are several."""
    devices = jax.devices()
    if len(devices) == 1:
        return P
    mesh = jax.sharding.Mesh(np.array(devices), ("restarts",))
    spec = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("restarts"))
    return jax.device_put(P, spec)


def end_status(val, grad_norm, failed, gtol):
    """NumPy (values, gradient norms, statuses) of a batch of end points: NaN where failed, and
    "non_finite", "converged" (‖∇f‖ ≤ gtol·max(1, |f|)) or "max_steps" per end point."""
    val = np.where(failed, np.nan, val)
    gn = np.where(failed, np.nan, grad_norm)
    ok = gn <= gtol * np.maximum(1.0, np.abs(val))
    return val, gn, tuple(np.where(failed, NON_FINITE, np.where(ok, CONVERGED, MAX_STEPS)).tolist())


def run(
    f,
    starts,
    args: tuple = (),
    *,
    restarts: int,
    batched_args: tuple | None = None,
    diagnostics=None,
    steps: int = DEFAULTS["steps"],
    learning_rate: float = DEFAULTS["learning_rate"],
    optimizer: str = DEFAULTS["optimizer"],
    polish: str = DEFAULTS["polish"],
    polish_steps: int | None = None,
    gtol: float = DEFAULTS["gtol"],
    chunk_size: int = DEFAULTS["chunk_size"],
    precision: str = DEFAULTS["precision"],
    progress: bool | None = None,
    label: str = "multistart",
    schedule: bool = False,
    inner_steps: int = 0,
    inner: tuple | None = None,
    inner_until: int | None = None,
    descent_f=None,
) -> EngineRun:
    """Minimise ``f(params, *args)`` from ``restarts`` starts, in compiled chunks.

    Args:
      f: scalar objective, smooth and jittable; hashed by identity (see the module docstring).
      starts: a pytree batched over restarts (leading axis R), or ``starts(indices)`` returning
        one for the restart numbers ``indices`` (evaluated outside the compiled chunk, so a
        restart's start depends only on its number).
      args: the objective's other arguments (data), the same for every restart unless
        ``batched_args`` marks them.
      restarts: R ≥ 1.
      batched_args: per entry of ``args``, True where it has a leading restart axis (one value
        per restart, e.g. a γ sweep); default none.
      diagnostics: optional ``diagnostics(params, *args) -> dict`` of per-point outputs,
        evaluated at every endpoint inside the compiled chunk.
      steps, learning_rate, optimizer, polish, polish_steps, gtol, chunk_size, precision:
        see `DEFAULTS` and the module docstring. ``chunk_size`` is rounded up to a multiple
        of the device count; the last chunk is padded with copies of its first restart, so
        every chunk has one shape and compiles once.
      progress: a progress bar on stderr (tqdm; default: when there are ≥ 2 chunks).
      label: the progress bar's label.
      schedule: ``f`` is a step-dependent objective ``f(params, step, *args)`` (a KL warm-up, an
        annealed γ: `landscape.remedies`). The descent calls it at step = 0, 1, …, steps − 1; the
        polish, the endpoint's value and gradient, and ``diagnostics(params, step, *args)`` use
        step = ``steps``: the objective the schedule ends at, which is the one certified.
      inner_steps, inner, inner_until: aggressive inference (`landscape.tools.descent.descend`, Adam
        only): ``inner_steps`` K Adam steps on the leaves that ``inner`` marks (one bool per leaf of a
        start, in ``jax.tree.leaves`` order) before each step on the rest, for the first
        ``inner_until`` steps (default all), then joint steps. K = 0 (the default) is plain Adam.
      descent_f: optional objective for the descent alone (Adam or L-BFGS), with the signature, the
        value and the gradient of ``f`` but a cheaper reverse-mode derivative (for eq. (5):
        `landscape.core.energy_first_order`, a ``custom_vjp``). The polish, the endpoint's value and
        gradient norm, and the diagnostics always use ``f``. Default: ``f``.
    """
    if not callable(f):
        raise ValueError(f"f must be a callable f(params, *args) -> scalar, got {type(f).__name__}.")
    if descent_f is not None and not callable(descent_f):
        raise ValueError(f"descent_f must be None or a callable like f, got {type(descent_f).__name__}.")
    restarts = V.check_size("restarts", restarts, 1)
    steps = V.check_size("steps", steps, 0)
    chunk_size = V.check_size("chunk_size", chunk_size, 1)
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {optimizer!r}.")
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be 'float64' or 'float32', got {precision!r}.")
    V.check_tolerance("learning_rate", learning_rate)
    V.check_tolerance("gtol", gtol, allow_zero=True)
    args = tuple(args)
    batched_args = (False,) * len(args) if batched_args is None else tuple(bool(b) for b in batched_args)
    if len(batched_args) != len(args):
        raise ValueError(f"batched_args needs one flag per argument ({len(args)}), got {len(batched_args)}.")
    inner_steps = V.check_size("inner_steps", inner_steps, 0)
    if inner_steps and optimizer != "adam":
        raise ValueError("inner_steps (aggressive inference) needs optimizer='adam'.")
    if inner_until is not None:
        inner_until = V.check_size("inner_until", inner_until, 0)
    inner = None if not inner_steps else tuple(bool(b) for b in inner) if inner is not None else None
    if schedule:  # the final step leads the arguments: the tail evaluates f(p, steps, *args)
        args, batched_args = (jnp.asarray(steps), *args), (False, *batched_args)
    make_starts = starts if callable(starts) else (lambda idx: jax.tree.map(lambda a: jnp.asarray(a)[idx], starts))
    probe = jax.eval_shape(make_starts, np.zeros(1, dtype=np.int64))
    size = sum(int(np.prod(a.shape[1:])) for a in jax.tree.leaves(probe))
    if size == 0:
        raise ValueError("the starting points hold no parameters.")
    method, polish_steps = resolve_polish(polish, size, polish_steps)

    lanes = jax.device_count() * LANES
    chunk = int(np.ceil(min(chunk_size, restarts) / lanes) * lanes)
    chunks = int(np.ceil(restarts / chunk))
    in_axes = tuple(0 if b else None for b in batched_args)
    static = dict(f=f, descent_f=descent_f, diagnostics=diagnostics, in_axes=in_axes, steps=steps,
                  optimizer=optimizer, method=method, precision=precision,
                  schedule=bool(schedule), inner_steps=inner_steps, inner=inner,
                  inner_until=inner_until if inner_steps else None)  # fmt: skip
    # After Adam the tail uses ``steps`` only for the count of steps taken: it is compiled with steps = 0 and the
    # count completed on the host, so one tail program serves every step count (bit-identical results).
    tail_static = static if optimizer == "lbfgs" else {**static, "steps": 0, "inner_steps": 0, "inner": None,
                                                       "inner_until": None, "descent_f": None}  # fmt: skip
    lr, gt = jnp.asarray(learning_rate, jnp.float64), jnp.asarray(gtol, jnp.float64)  # one signature: traced
    budget = jnp.asarray(polish_steps, jnp.int64)  # traced too: one tail program for every polish budget
    outs = []
    compile_s = 0.0
    compiled_now = False
    t0 = time.perf_counter()
    with progress_bar(restarts, enabled=chunks >= 2 if progress is None else bool(progress), label=label) as bar:
        for c in range(chunks):
            idx = np.arange(c * chunk, min((c + 1) * chunk, restarts))
            pad = np.concatenate([idx, np.full(max(chunk, MIN_WIDTH) - idx.size, idx[0])])
            P0 = make_starts(pad)
            a = tuple(jax.tree.map(lambda x, pad=pad: jnp.asarray(x)[pad], x) if b else x
                      for x, b in zip(args, batched_args, strict=True))  # fmt: skip
            if optimizer == "adam":  # the whole chunk at once
                P0 = _shard(P0)
                exe, secs, now = compiled_chunk(P0, a, lr, gt, static)
                compile_s, compiled_now = compile_s + secs, compiled_now or now
                out = exe(P0, a, lr, gt)
            else:  # L-BFGS descends in the tail
                out = (P0, np.zeros(pad.size, bool), np.full(pad.size, -1, np.int64))
            per_restart = [x if b else None for x, b in zip(a, batched_args, strict=True)]
            host = jax.tree.map(np.asarray, (out, per_restart))
            out = []
            for g in range(int(np.ceil(idx.size / lanes))):  # one width, whatever the chunk: the same bits
                cut = lambda x, g=g: x[g * lanes : (g + 1) * lanes]  # noqa: E731
                lane = _shard(jax.tree.map(cut, host[0]))
                a_g = tuple(jax.tree.map(cut, h) if b else x for x, h, b in zip(a, host[1], batched_args, strict=True))
                if g == 0:
                    tail, secs, now = _compiled(_tail_jit, _TAIL_STATIC, (*lane, a_g, lr, gt, budget), tail_static)
                    compile_s, compiled_now = compile_s + secs, compiled_now or now
                out.append(tail(*lane, a_g, lr, gt, budget))
            out = jax.tree.map(lambda *x: np.concatenate([np.asarray(y) for y in x]), *out)
            outs.append(jax.tree.map(lambda x, k=idx.size: x[:k], out))
            bar.update(idx.size)
    _STATS["misses" if compiled_now else "hits"] += 1
    run_s = time.perf_counter() - t0 - compile_s
    P, val, gn, failed, fail_step, steps_taken, diag = jax.tree.map(lambda *x: np.concatenate(x), *outs)
    if optimizer == "adam":  # the tail counted the polish and any failure step; add the descent's steps
        steps_taken = steps_taken + np.where(fail_step >= 0, 0, steps).astype(steps_taken.dtype)
    val, gn, status = end_status(val, gn, failed, gtol)
    return EngineRun(
        params=P,
        value=val,
        grad_norm=gn,
        failed=failed,
        fail_step=fail_step,
        steps=steps_taken,
        status=status,
        diagnostics=diag,
        method=method,
        polish_steps=polish_steps,
        chunk=chunk,
        seconds=time.perf_counter() - t0,
        compile_seconds=compile_s,
        run_seconds=run_s,
        compiled=compiled_now,
    )
