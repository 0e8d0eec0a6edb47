"""Multi-start search for local minima of eq. (5): where does gradient descent end up?

`search` runs R restarts as one jitted, vmapped computation: a descent phase (optax
Adam by default, or L-BFGS) and an optional float64 polishing phase (saddle-free Newton
on small problems, L-BFGS on large ones) that drives each endpoint's gradient as low as
the landscape allows. Restarts are processed in chunks of ``chunk_size`` (bounded
memory), sharded over the restart axis when JAX sees several devices, and each
restart's initialisation depends only on (seed, restart index), so results do not
depend on the chunking or the device count. A restart whose gradient or parameters
go non-finite is marked ``non_finite`` with the step where it happened (its reported
values are then NaN); under vmap nothing crosses between restarts, so the others never
see it.
"""

from __future__ import annotations

import sys
import time
from dataclasses import asdict, dataclass, field
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from landscape.common import checks as V
from landscape.core.collapsed import collapsed_energy, gamma_bar
from landscape.core.energy import _energy, _expected_sq_error
from landscape.core.params import VAEParams, as_float64_params, check_params
from landscape.tools.multistart import descend
from landscape.tools.multistart import polish as polish_point

__all__ = ["InitScales", "SearchResult", "init_params", "search", "STATUSES"]

STATUSES = ("converged", "max_steps", "non_finite")
_OPTIMIZERS = ("adam", "lbfgs")
_POLISH = ("auto", "newton", "lbfgs", "none")
_NEWTON_MAX_P = 400  # dense Newton polishing up to this many parameters


@dataclass(frozen=True)
class InitScales:
    """The distribution restarts start from, in units of the data (γ̄ = per-coordinate variance).

    W_jk ~ N(0, w² γ̄ / κ)          so that W z, z ~ N(0, I), has the data's variance when w = 1;
    b = x̄ + N(0, b² γ̄)            the bias starts at the data mean (its optimum at α = 0);
    log γ ~ log γ̄ + N(0, log_gamma²) γ starts at the trivial model's variance;
    μ_ik ~ N(0, mu²)                the prior's scale;
    log σ_ik ~ N(log_sigma_mean, log_sigma²)   σ = 1 is the prior.

    The defaults (w = mu = 1, the rest at the prior or the data's moments) start every
    restart at the scale where both the decoder and the prior live: nothing is small,
    so no restart begins next to the collapsed point by construction.
    """

    w: float = 1.0
    b: float = 0.0
    log_gamma: float = 0.0
    mu: float = 1.0
    log_sigma_mean: float = 0.0
    log_sigma: float = 0.0

    def __post_init__(self):
        for name, value in asdict(self).items():
            if not np.isfinite(value) or (name != "log_sigma_mean" and value < 0):
                raise ValueError(f"InitScales.{name} must be finite and >= 0 (a scale), got {value!r}.")


def init_params(X, kappa: int, indices, seed: int, init: InitScales = InitScales()) -> VAEParams:
    """Starting points for the restarts numbered ``indices`` (batched VAEParams).

    Restart r draws from ``fold_in(key(seed), r)`` alone, so a restart's start does not
    depend on which chunk, or how many restarts, it is run with.
    """
    n, d = V.check_data(X)
    kappa = V.check_kappa(kappa)
    gbar = V.check_not_constant(X)
    xbar = jnp.asarray(np.mean(np.asarray(X, dtype=float), axis=0))
    base = jax.random.key(int(seed))
    sg = float(np.sqrt(gbar))
    gbar = float(gbar)

    return _init_batch(jnp.asarray(indices), base, xbar, gbar, n, d, kappa, init, sg)


@partial(jax.jit, static_argnames=("n", "d", "kappa", "init"))
def _init_batch(indices, base, xbar, gbar, n, d, kappa, init, sg):
    def one(r):
        k = jax.random.split(jax.random.fold_in(base, r), 5)
        return VAEParams(
            W=init.w * sg / np.sqrt(kappa) * jax.random.normal(k[0], (d, kappa)),
            b=xbar + init.b * sg * jax.random.normal(k[1], (d,)),
            log_gamma=jnp.log(gbar) + init.log_gamma * jax.random.normal(k[2], ()),
            mu=init.mu * jax.random.normal(k[3], (n, kappa)),
            log_sigma=init.log_sigma_mean + init.log_sigma * jax.random.normal(k[4], (n, kappa)),
        )

    return jax.vmap(one)(indices)


def _descend_one(p0, X, alpha, gamma, *, steps, learning_rate, optimizer):
    """Descent for one restart; returns (params, failed, fail_step) (`landscape.multistart.descend`).

    Under vmap a restart's NaN cannot reach another restart (nothing is reduced across
    restarts), so the step keeps only a scalar flag: the first step whose gradient is
    not finite. The endpoint of a failed restart is not used; it is reported as non_finite.
    """
    f = partial(_energy, X=X, alpha=alpha, gamma=gamma)
    return descend(f, p0, steps=steps, learning_rate=learning_rate, optimizer=optimizer)


def _polish_one(p0, X, alpha, gamma, *, method, steps, gtol):
    """float64 polishing of one restart (`landscape.multistart.polish`); a non-finite polish is undone."""
    return polish_point(partial(_energy, X=X, alpha=alpha, gamma=gamma), p0, method=method, steps=steps, gtol=gtol)


def _diagnostics_one(p, X, alpha, gamma):
    n, d = X.shape
    val, g = jax.value_and_grad(_energy)(p, X, alpha, gamma)
    gflat, _ = ravel_pytree(g)
    return {
        "energy": val,
        "grad_norm": jnp.linalg.norm(gflat),
        "grad_max": jnp.max(jnp.abs(gflat)),
        "recon_error": _expected_sq_error(p, X, alpha) / (n * d),
    }


@partial(
    jax.jit,
    static_argnames=("steps", "optimizer", "polish", "polish_steps", "precision"),
)
def _run_chunk(P0, X, alpha, gamma, learning_rate, gtol, *, steps, optimizer, polish, polish_steps, precision):
    low = jnp.float32 if precision == "float32" else jnp.float64
    cast = partial(jax.tree.map, lambda a: a.astype(low))
    g_low = None if gamma is None else jnp.asarray(gamma, low)
    g_ax = 0 if (gamma is not None and jnp.ndim(gamma) == 1) else None  # γ per restart (a γ sweep)
    descend = partial(_descend_one, steps=steps, learning_rate=learning_rate, optimizer=optimizer)
    P, failed, fail_step = jax.vmap(descend, in_axes=(0, None, None, g_ax))(
        cast(P0), X.astype(low), jnp.asarray(alpha, low), g_low
    )
    P = jax.tree.map(lambda a: a.astype(jnp.float64), P)
    polish_k = jnp.zeros(failed.shape, dtype=jnp.int32)
    if polish != "none":
        pol = partial(_polish_one, method=polish, steps=polish_steps, gtol=gtol)
        P_pol, polish_k = jax.vmap(pol, in_axes=(0, None, None, g_ax))(P, X, alpha, gamma)
        keep = lambda a: failed.reshape((-1,) + (1,) * (a.ndim - 1))  # noqa: E731  failed: no polish
        P = jax.tree.map(lambda a, b: jnp.where(keep(a), a, b), P, P_pol)
        polish_k = jnp.where(failed, 0, polish_k)
    diag = jax.vmap(_diagnostics_one, in_axes=(0, None, None, g_ax))(P, X, alpha, gamma)
    return P, failed, fail_step, polish_k, diag


@dataclass(frozen=True)
class SearchResult:
    """The endpoints of a multi-start search, with per-restart diagnostics.

    Per restart (arrays of length R, restart order):
      energy: eq. (5) at the endpoint (float64).
      grad_norm, grad_max: ‖∇L‖₂ and max |∂L/∂θ_i| there.
      gamma: the decoder variance γ (the fixed one when ``gamma`` was given).
      recon_error: (1/nd) Σ_i E_q‖x_i − μ_x(z)‖², the implicit γ* of eq. (9).
      active: the number of active latent dimensions ((ε, δ)-collapse, `basins`).
      steps: descent steps (up to the failure, if any) plus polishing steps.
      status: "converged" (grad_norm ≤ gtol · max(1, |energy|)), "max_steps", "non_finite".
      params: the final parameters, batched VAEParams of NumPy arrays.

    Also: ``config`` (every setting, the seed included), ``seed``, ``seconds`` (wall
    time), ``compile_seconds`` (the first chunk's compilation, measured separately),
    ``run_seconds`` (time inside the compiled chunks: descent, polish, diagnostics),
    ``gamma_bar`` and ``x_mean`` of the data, and ``collapsed_energy``: the energy of the
    collapsed point, at γ̄ (or at the fixed γ, L_triv(γ) of MATH.md §6).
    """

    energy: np.ndarray
    grad_norm: np.ndarray
    grad_max: np.ndarray
    gamma: np.ndarray
    recon_error: np.ndarray
    active: np.ndarray
    steps: np.ndarray
    status: np.ndarray
    params: VAEParams
    config: dict
    seed: int
    seconds: float
    compile_seconds: float
    run_seconds: float
    gamma_bar: float
    collapsed_energy: float
    x_mean: np.ndarray
    extras: dict = field(default_factory=dict)

    @property
    def restarts(self) -> int:
        return int(self.energy.size)

    @property
    def best(self) -> int:
        """Index of the lowest-energy restart that did not fail."""
        e = np.where(self.status == "non_finite", np.inf, self.energy)
        return int(np.argmin(e))

    def restart(self, r: int) -> VAEParams:
        """The final parameters of restart r."""
        return VAEParams(*(a[r] for a in self.params))

    def to_dict(self, params: bool = False) -> dict:
        out = {
            "restarts": self.restarts,
            "seed": self.seed,
            "config": self.config,
            "seconds": self.seconds,
            "compile_seconds": self.compile_seconds,
            "run_seconds": self.run_seconds,
            "gamma_bar": self.gamma_bar,
            "collapsed_energy": self.collapsed_energy,
            "per_restart": {
                "energy": self.energy.tolist(),
                "grad_norm": self.grad_norm.tolist(),
                "grad_max": self.grad_max.tolist(),
                "gamma": self.gamma.tolist(),
                "recon_error": self.recon_error.tolist(),
                "active": self.active.tolist(),
                "steps": self.steps.tolist(),
                "status": self.status.tolist(),
            },
        }
        if params:
            out["params"] = {k: np.asarray(v).tolist() for k, v in self.params._asdict().items()}
        return out


_COMPILED: dict = {}


def _compiled_chunk(P0, X, alpha, gamma, learning_rate, gtol, static):
    """The compiled chunk for these shapes and settings (α, γ and the rates stay traced).

    Compiled ahead of time so that compilation is timed apart from the run, and cached,
    so that a sweep over α or seeds compiles once.
    """
    key = (
        tuple((a.shape, str(a.dtype), str(getattr(a, "sharding", ""))) for a in jax.tree.leaves(P0)),
        X.shape,
        None if gamma is None else jnp.shape(gamma),
        tuple(sorted(static.items())),
    )
    if key not in _COMPILED:
        _COMPILED[key] = _run_chunk.lower(P0, X, alpha, gamma, learning_rate, gtol, **static).compile()
    return _COMPILED[key]


class _Progress:
    """A one-line progress bar on stderr (plain lines when stderr is not a terminal)."""

    def __init__(self, total: int, enabled: bool, label: str = "search"):
        self.total, self.enabled, self.label = total, enabled, label
        self.t0 = time.perf_counter()
        self.tty = sys.stderr.isatty()

    def update(self, done: int, chunk: int, chunks: int):
        if not self.enabled:
            return
        dt = time.perf_counter() - self.t0
        width = 30
        fill = int(width * done / self.total)
        eta = dt / done * (self.total - done) if done else float("nan")
        line = (
            f"{self.label}: [{'#' * fill}{'.' * (width - fill)}] chunk {chunk}/{chunks}, "
            f"{done}/{self.total} restarts, {dt:.1f} s, eta {eta:.1f} s"
        )
        sys.stderr.write(("\r" + line) if self.tty else (line + "\n"))
        if self.tty and done == self.total:
            sys.stderr.write("\n")
        sys.stderr.flush()


def _shard(P):
    """Place the restart axis across devices when there are several."""
    devices = jax.devices()
    if len(devices) == 1:
        return P
    mesh = jax.sharding.Mesh(np.array(devices), ("restarts",))
    spec = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("restarts"))
    return jax.device_put(P, spec)


def search(
    X,
    alpha,
    *,
    kappa: int,
    restarts: int,
    steps: int = 4000,
    seed: int = 0,
    gamma=None,
    optimizer: str = "adam",
    learning_rate: float = 1e-2,
    init: InitScales = InitScales(),
    polish: str = "auto",
    polish_steps: int | None = None,
    gtol: float = 1e-8,
    chunk_size: int = 1024,
    precision: str = "float64",
    eps: float = 0.01,
    delta: float = 0.01,
    start=None,
    progress: bool | None = None,
) -> SearchResult:
    """Minimise eq. (5) from ``restarts`` initialisations at once.

    Args:
      X: data (n, d). alpha: soft threshold α ≥ 0. kappa: latent size κ ≥ 1.
      restarts: number of restarts R.
      steps: descent steps per restart.
      seed: restart r starts from ``init_params(X, kappa, [r], seed, init)``.
      gamma: hold γ fixed at this value (None: learn it), or an array of R values, one
        per restart (a γ sweep in one computation, `landscape.sweep_gamma`).
      optimizer: "adam" (optax.adam(learning_rate)) or "lbfgs" (optax.lbfgs, its own
        line search; ``learning_rate`` unused).
      init: the `InitScales` of the starting distribution.
      polish: float64 polishing after descent: "newton" (dense saddle-free Newton,
        P ≤ 400 parameters), "lbfgs", "auto" (newton if P ≤ 400, else lbfgs), "none".
      polish_steps: at most this many polishing iterations (default: 500 for Newton,
        2000 for L-BFGS). Polishing stops where the gradient reaches the tolerance.
      gtol: a restart is "converged" if its final ‖∇L‖₂ ≤ gtol · max(1, |L|). Relative,
        because the attainable gradient scales with the curvature: at γ ~ 1e-8 γ̄ it is
        ~1e-7 in float64 however long one polishes.
      chunk_size: restarts per compiled batch (memory bound; rounded up to a multiple
        of the device count).
      precision: "float64" or "float32" for the descent phase (polishing and all
        reported numbers are float64).
      eps, delta: Lucas et al.'s (ε, δ)-collapse for the ``active`` counts.
      start: optional batched `VAEParams` of R starting points, replacing ``init``.
      progress: a progress bar on stderr per chunk (default: when there are ≥ 2 chunks).

    Returns:
      A `SearchResult`; `landscape.basins.basin_stats` classifies its endpoints.
    """
    n, d = V.check_data(X)
    V.check_alpha(alpha)
    kappa = V.check_kappa(kappa)
    restarts = V.check_size("restarts", restarts, 1)
    per_restart_gamma = gamma is not None and np.ndim(gamma) == 1
    if per_restart_gamma:
        gamma = np.asarray(gamma, dtype=float)
        if gamma.shape != (restarts,):
            raise ValueError(f"gamma as an array needs one value per restart, shape ({restarts},); got {gamma.shape}.")
        if not np.all(np.isfinite(gamma) & (gamma > 0)):
            raise ValueError("gamma values must all be finite and > 0 (decoder variances).")
    else:
        V.check_gamma(gamma)
    steps = V.check_size("steps", steps, 0)
    if polish_steps is not None:
        polish_steps = V.check_size("polish_steps", polish_steps, 0)
    chunk_size = V.check_size("chunk_size", chunk_size, 1)
    if optimizer not in _OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {_OPTIMIZERS}, got {optimizer!r}.")
    if polish not in _POLISH:
        raise ValueError(f"polish must be one of {_POLISH}, got {polish!r}.")
    if precision not in ("float64", "float32"):
        raise ValueError(f"precision must be 'float64' or 'float32', got {precision!r}.")
    if not (np.isfinite(learning_rate) and learning_rate > 0):
        raise ValueError(f"learning_rate must be a finite number > 0, got {learning_rate!r}.")
    if not (np.isfinite(gtol) and gtol >= 0):
        raise ValueError(f"gtol must be a finite number >= 0, got {gtol!r}.")
    if not isinstance(init, InitScales):
        raise ValueError(f"init must be a landscape.InitScales, got {type(init).__name__}.")
    gbar = gamma_bar(X)
    P_count = d * kappa + d + 1 + 2 * n * kappa
    method = polish
    if polish == "auto":
        method = "newton" if P_count <= _NEWTON_MAX_P else "lbfgs"
    if polish_steps is None:
        polish_steps = 500 if method == "newton" else 2000
    if method == "newton" and P_count > _NEWTON_MAX_P:
        raise ValueError(
            f"polish='newton' needs a dense {P_count}×{P_count} Hessian per restart; use polish='lbfgs' "
            f"(or 'auto') for problems with more than {_NEWTON_MAX_P} parameters."
        )
    if start is not None:
        start = as_float64_params(start)
        if start.W.ndim != 3 or start.W.shape[0] != restarts:
            raise ValueError(f"start must be a VAEParams batched over restarts = {restarts} (W of shape (R, d, κ)).")
        check_params(VAEParams(*(a[0] for a in start)), n, d)

    Xj = jnp.asarray(X, dtype=jnp.float64)
    ndev = jax.device_count()
    chunk = int(np.ceil(min(chunk_size, restarts) / ndev) * ndev)
    chunks = int(np.ceil(restarts / chunk))
    show = chunks >= 2 if progress is None else bool(progress)
    bar = _Progress(restarts, show)
    g_arg = None if (gamma is None or per_restart_gamma) else jnp.asarray(gamma, jnp.float64)
    # strongly typed scalars, so that the cached executable sees one signature
    a_arg = jnp.asarray(alpha, jnp.float64)
    lr_arg, gtol_arg = jnp.asarray(learning_rate, jnp.float64), jnp.asarray(gtol, jnp.float64)
    static = dict(steps=steps, optimizer=optimizer, polish=method, polish_steps=polish_steps, precision=precision)

    outs = []
    t0 = time.perf_counter()
    compile_s = run_s = 0.0
    for c in range(chunks):
        idx = np.arange(c * chunk, min((c + 1) * chunk, restarts))
        pad = np.concatenate([idx, np.full(chunk - idx.size, idx[0])])  # fixed shape: one compile
        if start is None:
            P0 = init_params(X, kappa, pad, seed, init)
        else:
            P0 = jax.tree.map(lambda a, pad=pad: jnp.asarray(a[pad]), start)
        P0 = _shard(P0)
        if per_restart_gamma:
            g_arg = jnp.asarray(gamma[pad])
        if c == 0:
            tc = time.perf_counter()
            compiled = _compiled_chunk(P0, Xj, a_arg, g_arg, lr_arg, gtol_arg, static)
            compile_s = time.perf_counter() - tc
        tr = time.perf_counter()
        out = jax.block_until_ready(compiled(P0, Xj, a_arg, g_arg, lr_arg, gtol_arg))
        run_s += time.perf_counter() - tr
        out = jax.tree.map(lambda a, k=idx.size: np.asarray(a)[:k], out)
        outs.append(out)
        bar.update(int(idx[-1]) + 1, c + 1, chunks)
    P, failed, fail_step, polish_k, diag = jax.tree.map(lambda *a: np.concatenate(a), *outs)
    seconds = time.perf_counter() - t0

    from landscape.analysis.basins import active_dims

    gtol_ok = diag["grad_norm"] <= gtol * np.maximum(1.0, np.abs(diag["energy"]))
    status = np.where(failed, "non_finite", np.where(gtol_ok, "converged", "max_steps"))
    if gamma is not None:  # the parameter log_gamma is unused: report the γ that was used
        P = P._replace(log_gamma=np.broadcast_to(np.log(np.asarray(gamma, dtype=float)), (restarts,)).copy())
    gam = np.exp(np.asarray(P.log_gamma, dtype=float))
    config = {
        "alpha": float(alpha),
        "kappa": kappa,
        "n": n,
        "d": d,
        "restarts": restarts,
        "steps": steps,
        "seed": int(seed),
        "gamma": None if gamma is None else (gamma.tolist() if per_restart_gamma else float(gamma)),
        "optimizer": optimizer,
        "learning_rate": float(learning_rate),
        "init": asdict(init) if start is None else "user start",
        "polish": method,
        "polish_steps": polish_steps,
        "gtol": float(gtol),
        "chunk_size": chunk,
        "precision": precision,
        "eps": eps,
        "delta": delta,
        "devices": ndev,
    }
    return SearchResult(
        energy=diag["energy"],
        grad_norm=diag["grad_norm"],
        grad_max=diag["grad_max"],
        gamma=gam,
        recon_error=diag["recon_error"],
        active=active_dims(P, eps=eps, delta=delta).sum(axis=-1),
        steps=np.where(failed, fail_step, steps) + polish_k,
        status=status,
        params=VAEParams(*(np.asarray(a) for a in P)),
        config=config,
        seed=int(seed),
        seconds=seconds,
        compile_seconds=compile_s,
        run_seconds=run_s,
        gamma_bar=gbar,
        collapsed_energy=_collapsed_energy(X, kappa, gbar, gamma),
        x_mean=np.mean(np.asarray(X, dtype=float), axis=0),
    )


def _collapsed_energy(X, kappa, gbar, gamma):
    """The energy of q = p(z), W = 0, b = x̄: at γ̄ when γ is learned, L_triv(γ) when fixed (MATH.md §6)."""
    if gamma is None:
        return collapsed_energy(X, kappa)
    n, d = np.shape(X)
    g = np.asarray(gamma, dtype=float)
    out = n * (d * np.log(g) + d * gbar / g) + n * kappa
    return float(out) if out.ndim == 0 else out
