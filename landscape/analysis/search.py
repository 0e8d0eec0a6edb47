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

from dataclasses import asdict, dataclass, field
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from landscape.common import checks as V
from landscape.common.status import STATUSES, best_index
from landscape.core.collapsed import collapsed_energy, trivial_energy
from landscape.core.data import as_data
from landscape.core.energy import energy_objective, expected_sq_error_unchecked
from landscape.core.energy_first_order import energy_objective_first_order
from landscape.core.params import VAEParams, as_float64_params, check_params
from landscape.core.units import Units
from landscape.tools import engine

__all__ = ["InitScales", "SearchResult", "init_params", "search", "STATUSES"]


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
    """Starting points for the restarts numbered ``indices`` (batched VAEParams); X or a `Data`.

    Restart r draws from ``fold_in(key(seed), r)`` alone, so a restart's start does not
    depend on which chunk, or how many restarts, it is run with.
    """
    data = as_data(X)
    n, d = data.shape
    kappa = V.check_kappa(kappa)
    seed = V.check_seed("seed", seed)
    indices = _check_indices(indices)
    gbar = float(data.gamma_bar)
    xbar = jnp.asarray(data.x_mean)
    base = jax.random.key(seed)
    sg = float(np.sqrt(gbar))

    return _init_batch(jnp.asarray(indices), base, xbar, gbar, n, d, kappa, init, sg)


def _check_indices(indices):
    """Restart numbers: a non-empty 1-D array of integers in [0, 2**31) (a tracer: dtype and shape only)."""
    dtype = getattr(indices, "dtype", None)
    if dtype is None:
        try:
            indices = np.asarray(indices)
        except (TypeError, ValueError) as err:
            raise ValueError(f"indices must be a 1-D array of restart numbers (integers >= 0): {err}") from None
        dtype = indices.dtype
    if dtype == np.bool_ or not np.issubdtype(dtype, np.integer) or np.ndim(indices) != 1 or np.size(indices) == 0:
        raise ValueError(
            "indices must be a non-empty 1-D array of restart numbers (integers >= 0, e.g. range(restarts)), "
            f"got dtype {dtype} and shape {np.shape(indices)}."
        )
    x = V.concrete(indices)
    if x is not None and (x.min() < 0 or x.max() >= V.SIZE_LIMIT):
        raise ValueError(f"indices must be restart numbers in [0, 2**31), got min {x.min()} and max {x.max()}.")
    return indices


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


def _diagnostics(p, X, alpha, gamma):
    """Per-endpoint extras for the engine: max |∂L/∂θ_i| and (1/nd) Σ_i E_q‖x_i − μ_x(z)‖² (eq. 9's γ*)."""
    n, d = X.shape
    gflat, _ = ravel_pytree(jax.grad(energy_objective)(p, X, alpha, gamma))
    return {"grad_max": jnp.max(jnp.abs(gflat)), "recon_error": expected_sq_error_unchecked(p, X, alpha) / (n * d)}


@dataclass(frozen=True)
class SearchResult:
    """The endpoints of a multi-start search, with per-restart diagnostics.

    Per restart (arrays of length R, restart order):
      energy: eq. (5) at the endpoint (float64), in the user's units.
      grad_norm, grad_max: ‖∇L‖₂ and max |∂L/∂θ_i| there, in the data's standardised units
        (``units``: the gradient with respect to θ_s = (W/s, (b − x̄)/s, log γ − 2 log s, μ,
        log σ), s = √γ̄), so that they, and the status, do not depend on the units of X.
      gamma: the decoder variance γ (the fixed one when ``gamma`` was given).
      recon_error: (1/nd) Σ_i E_q‖x_i − μ_x(z)‖², the implicit γ* of eq. (9).
      active: the number of active latent dimensions ((ε, δ)-collapse, `basins`).
      steps: descent steps (up to the failure, if any) plus polishing steps.
      status: "converged" (grad_norm ≤ gtol · max(1, |energy|)), "max_steps", "non_finite"
        (`STATUSES`, from `landscape.common.status`; a NumPy array of str).
      params: the final parameters, batched VAEParams of NumPy arrays.

    Also: ``config`` (every setting, the seed included), ``seed``, ``seconds`` (wall
    time), ``compile_seconds`` (the first chunk's compilation, measured separately),
    ``run_seconds`` (time inside the compiled chunks: descent, polish, diagnostics),
    ``gamma_bar`` and ``x_mean`` of the data, and ``collapsed_energy``: the energy of the
    collapsed point, at γ̄ (or at the fixed γ, L_triv(γ) of MATH.md §6); ``units``, the
    `Units` (x̄, √γ̄) the descent ran in: the search is equivariant, so rescaling X by c
    and α by c gives the same endpoints scaled, and energies shifted by 2nd log c.
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
    units: Units | None = None

    @property
    def restarts(self) -> int:
        return int(self.energy.size)

    @property
    def best(self) -> int:
        """Index of the lowest-energy restart that did not fail."""
        return best_index(self.energy, self.status)

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


GRADIENTS = ("exact", "fused")  # the descent's gradient: `search(gradient=...)`


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
    gradient: str = "fused",
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
      gtol: a restart is "converged" if its final ‖∇L‖₂ ≤ gtol · max(1, |L|), both in the
        data's standardised units (L − 2nd log √γ̄, and θ_s; see ``SearchResult``). Relative,
        because the attainable gradient scales with the curvature: at γ ~ 1e-8 γ̄ it is
        ~1e-7 in float64 however long one polishes.
      chunk_size: restarts per compiled batch (memory bound; rounded up to a multiple
        of the device count).
      precision: "float64" or "float32" for the descent phase (polishing and all
        reported numbers are float64).
      gradient: the descent's gradient. "fused" (default): the first-order path
        (`landscape.core.energy_first_order`, a ``custom_vjp`` of the custom JVP's own closed forms,
        equal to it to 1e-13), up to 1.8× faster on XLA:CPU. "exact": reverse mode through the custom
        JVP of `landscape.core.moments` (the descent of versions before issue 22). The polish, the
        endpoints and every certificate use the exact path either way.
      eps, delta: Lucas et al.'s (ε, δ)-collapse for the ``active`` counts.
      start: optional batched `VAEParams` of R starting points, replacing ``init``.
      progress: a progress bar on stderr per chunk (default: when there are ≥ 2 chunks).

    The descent runs in the data's standardised units (`landscape.core.units`: X_s =
    (X − x̄)/√γ̄, α_s = α/√γ̄): the starts, ``learning_rate`` and ``gtol`` act there, so the
    search does not depend on the units of X. ``start`` and ``gamma`` are given, and
    the results reported, in the user's units.

    Returns:
      A `SearchResult`; `landscape.basins.basin_stats` classifies its endpoints.
    """
    data = as_data(X)  # validated once, here
    n, d = data.shape
    alpha = V.check_alpha(alpha)
    kappa = V.check_kappa(kappa)
    restarts = V.check_size("restarts", restarts, 1)
    seed = V.check_seed("seed", seed)
    per_restart_gamma = gamma is not None and np.ndim(gamma) == 1
    if per_restart_gamma:
        V.check_finite("gamma", np.asarray(gamma))  # real numbers (no complex, no bool), finite
        gamma = np.asarray(gamma, dtype=float)
        if gamma.shape != (restarts,):
            raise ValueError(f"gamma as an array needs one value per restart, shape ({restarts},); got {gamma.shape}.")
        if not np.all(np.isfinite(gamma) & (gamma > 0)):
            raise ValueError("gamma values must all be finite and > 0 (decoder variances).")
    else:
        gamma = V.check_gamma(gamma)
    steps = V.check_size("steps", steps, 0)
    if polish_steps is not None:
        polish_steps = V.check_size("polish_steps", polish_steps, 0)
    chunk_size = V.check_size("chunk_size", chunk_size, 1)
    if optimizer not in engine.OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {engine.OPTIMIZERS}, got {optimizer!r}.")
    if gradient not in GRADIENTS:
        raise ValueError(f"gradient must be one of {GRADIENTS}, got {gradient!r}.")
    if precision not in engine.PRECISIONS:
        raise ValueError(f"precision must be 'float64' or 'float32', got {precision!r}.")
    V.check_tolerance("learning_rate", learning_rate)
    V.check_tolerance("gtol", gtol, allow_zero=True)
    V.check_tolerance("eps", eps)  # the (ε, δ)-collapse of the active counts, checked before the work
    V.check_tolerance("delta", delta, allow_zero=True, below=1)
    if not isinstance(init, InitScales):
        raise ValueError(f"init must be a landscape.InitScales, got {type(init).__name__}.")
    P_count = d * kappa + d + 1 + 2 * n * kappa
    method, polish_steps = engine.resolve_polish(polish, P_count, polish_steps)
    if method == "newton" and P_count > engine.NEWTON_MAX_P:
        raise ValueError(
            f"polish='newton' needs a dense {P_count}×{P_count} Hessian per restart; use polish='lbfgs' "
            f"(or 'auto') for problems with more than {engine.NEWTON_MAX_P} parameters."
        )
    if start is not None:
        start = as_float64_params(start)
        if start.W.ndim != 3 or start.W.shape[0] != restarts:
            raise ValueError(f"start must be a VAEParams batched over restarts = {restarts} (W of shape (R, d, κ)).")
        check_params(VAEParams(*(a[0] for a in start)), n, d)

    # The descent runs in the data's standardised units (landscape.core.units): starts,
    # learning rate and gtol then mean the same whatever the units of X.
    units, std = data.units, data.standardised
    g_arg = None if gamma is None else jnp.asarray(units.to_standard_gamma(np.asarray(gamma, dtype=float)))
    if start is None:  # drawn in the user's units (as init_params documents), then converted like a user start

        def make_starts(indices):
            return units.to_standard_params(init_params(data, kappa, indices, seed, init))

    else:
        make_starts = units.to_standard_params(start)
    out = engine.run(
        energy_objective,
        make_starts,
        (jnp.asarray(std.X), jnp.asarray(units.to_standard_alpha(alpha), jnp.float64), g_arg),  # strongly typed
        restarts=restarts,
        batched_args=(False, False, per_restart_gamma),
        diagnostics=_diagnostics,
        steps=steps,
        learning_rate=learning_rate,
        optimizer=optimizer,
        polish=method,
        polish_steps=polish_steps,
        gtol=gtol,
        chunk_size=chunk_size,
        precision=precision,
        progress=progress,
        label="search",
        descent_f=energy_objective_first_order if gradient == "fused" else None,  # the polish: always exact
    )
    P, failed = units.from_standard_params(VAEParams(*(np.asarray(a) for a in out.params))), out.failed

    from landscape.analysis.basins import active_dims

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
        "chunk_size": out.chunk,
        "precision": precision,
        "gradient": gradient,
        "eps": eps,
        "delta": delta,
        "devices": jax.device_count(),
    }
    return SearchResult(
        energy=units.from_standard_energy(np.asarray(out.value)),
        grad_norm=out.grad_norm,
        grad_max=np.where(failed, np.nan, out.diagnostics["grad_max"]),
        gamma=gam,
        recon_error=np.where(failed, np.nan, units.from_standard_gamma(np.asarray(out.diagnostics["recon_error"]))),
        active=active_dims(P, eps=eps, delta=delta).sum(axis=-1),
        steps=out.steps,
        status=np.asarray(out.status),
        params=VAEParams(*(np.asarray(a) for a in P)),
        config=config,
        seed=int(seed),
        seconds=out.seconds,
        compile_seconds=out.compile_seconds,
        run_seconds=out.run_seconds,
        gamma_bar=float(data.gamma_bar),
        collapsed_energy=_collapsed_energy(data, kappa, gamma),
        x_mean=data.x_mean.copy(),
        units=units,
    )


def _collapsed_energy(data, kappa, gamma):
    """The energy of q = p(z), W = 0, b = x̄: at γ̄ when γ is learned, L_triv(γ) when fixed (MATH.md §6)."""
    if gamma is None:
        return collapsed_energy(data, kappa)
    out = trivial_energy(data, kappa, gamma)
    return float(out) if np.ndim(out) == 0 else out
