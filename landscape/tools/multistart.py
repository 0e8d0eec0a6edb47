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

from dataclasses import dataclass, field
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from landscape.common import checks as V
from landscape.common.status import CONVERGED, best_index
from landscape.tools import engine
from landscape.tools.descent import descend, finish, polish
from landscape.tools.engine import NEWTON_MAX_P, end_status
from landscape.tools.flat import check_signature

__all__ = ["MultiStartResult", "multistart", "descend", "polish", "finish", "end_status", "NEWTON_MAX_P"]


@dataclass(frozen=True)
class MultiStartResult:
    """The endpoints of `multistart`, one entry per restart (restart order).

    Attributes:
      params: the final parameters, a pytree of NumPy arrays with a leading restart axis.
      values: f at each endpoint (NaN where the restart failed).
      grad_norms: ‖∇f‖₂ at each endpoint (NaN where it failed).
      status: per restart, "converged" (‖∇f‖₂ ≤ gtol · max(1, |f|)), "max_steps" (the
        budget ran out first: not certified stationary) or "non_finite" (`landscape.common.status`;
        a tuple of str).
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
        return best_index(self.values, self.status)

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
        return np.asarray(self.status) == CONVERGED

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


@partial(jax.jit, static_argnames=("init",))
def _starts(base, indices, *, init):
    """Restart r starts from ``init(fold_in(base, r))``, in float64, outside the compiled chunk."""
    one = lambda r: jax.tree.map(lambda a: jnp.asarray(a, jnp.float64), init(jax.random.fold_in(base, r)))  # noqa: E731
    return jax.vmap(one)(indices)


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
    """Minimise ``f(params, *args)`` from ``restarts`` starting points at once (`landscape.tools.engine`).

    Args:
      f: a scalar objective of a pytree ``params`` (and fixed ``args``), smooth, jittable.
        To maximise an ELBO, pass its negative. Hashed by identity: reuse one function and
        pass data through ``args``, and two calls with data of the same shapes compile once
        (a fresh closure or ``functools.partial`` is a new objective and compiles again).
      init: ``init(key) -> params`` for one restart; jittable. Restart r starts from
        ``init(jax.random.fold_in(jax.random.key(seed), r))``, evaluated outside the
        compiled descent, so a new ``init`` does not recompile it.
      restarts: the number of restarts R ≥ 1.
      seed: the base seed.
      args: extra arguments of f (data), the same for every restart.
      steps: descent steps per restart (≥ 0).
      learning_rate: Adam's step size (unused by L-BFGS).
      optimizer: "adam" or "lbfgs" for the descent phase.
      polish: "newton" (dense saddle-free Newton, `landscape.newton_minimize`), "lbfgs",
        "auto" (newton for up to 400 parameters, else lbfgs) or "none".
      polish_steps: at most this many polishing iterations.
      gtol: a restart is "converged" iff ‖∇f‖₂ ≤ gtol · max(1, |f|) at its endpoint.
      chunk_size: restarts per compiled batch.
      progress: a progress bar on stderr per chunk (default: when there are ≥ 2 chunks).

    Defaults that differ from the engine's (`landscape.tools.engine.DEFAULTS`), kept from
    landscape 0.1 so that results do not change: steps 2000 (engine 4000), gtol 1e-10
    (engine 1e-8), polish_steps 200 for Newton (engine 500; L-BFGS 2000 as the engine),
    chunk_size min(R, 256) (engine 1024).

    Returns:
      A `MultiStartResult`.
    """
    if not callable(f):
        raise ValueError(f"f must be a callable f(params, *args) -> scalar, got {type(f).__name__}.")
    if not callable(init):
        raise ValueError(f"init must be a callable init(key) -> params, got {type(init).__name__}.")
    restarts = V.check_size("restarts", restarts, 1)
    seed = V.check_seed("seed", seed)
    if not isinstance(args, (tuple, list)):
        raise ValueError(f"args must be a tuple of the extra arguments of f, got {type(args).__name__}.")
    args = tuple(args)
    probe = jax.eval_shape(init, jax.random.key(0))
    size = sum(int(np.prod(a.shape)) for a in jax.tree.leaves(probe))
    if size == 0:
        raise ValueError("init(key) returned no parameters.")
    value = check_signature(f, probe, args)
    if value.shape != ():
        raise ValueError(f"f(params, *args) must return a scalar, got shape {value.shape}.")
    if polish in engine.POLISH and polish_steps is None:
        method, _ = engine.resolve_polish(polish, size, None)
        polish_steps = 200 if method == "newton" else None
    chunk = min(restarts, 256) if chunk_size is None else V.check_size("chunk_size", chunk_size, 1)
    args64 = jax.tree.map(
        lambda a: jnp.asarray(a, jnp.float64) if np.issubdtype(np.asarray(a).dtype, np.floating) else a, args
    )
    base = jax.random.key(seed)
    out = engine.run(
        f,
        lambda idx: _starts(base, jnp.asarray(idx), init=init),
        args64,
        restarts=restarts,
        steps=steps,
        learning_rate=learning_rate,
        optimizer=optimizer,
        polish=polish,
        polish_steps=polish_steps,
        gtol=gtol,
        chunk_size=chunk,
        progress=progress,
        label="multistart",
    )
    config = {
        "restarts": restarts,
        "seed": int(seed),
        "steps": steps,
        "learning_rate": float(learning_rate),
        "optimizer": optimizer,
        "polish": out.method,
        "polish_steps": out.polish_steps,
        "gtol": float(gtol),
        "chunk_size": out.chunk,
        "parameters": size,
        "objective": getattr(f, "__qualname__", repr(f)),
        "init": getattr(init, "__qualname__", repr(init)),
    }
    return MultiStartResult(
        params=out.params,
        values=out.value,
        grad_norms=out.grad_norm,
        status=out.status,
        steps=out.steps,
        config=config,
        seed=int(seed),
        seconds=out.seconds,
        extras={"compiled": out.compiled, "compile_seconds": out.compile_seconds},
    )
