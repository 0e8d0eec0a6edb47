"""Descent on the exact likelihood from the ELBO search's starts (issue 9).

`likelihood_multistart`: minimise L_p(θ) = −2 Σ log p_θ(x_i) − nd log 2π + nκ
(`landscape.marginal.marginal_energy`, eq. (5)'s scale) over θ = (W, b, log γ) with
`landscape.multistart`'s descent and polish, from the θ part of `landscape.search`'s
initialisations.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from landscape.analysis.elbo_gap import check_problem
from landscape.analysis.search import InitScales, _Progress, init_params
from landscape.common import checks as V
from landscape.core.marginal import DecoderParams, marginal_energy
from landscape.tools.multistart import MultiStartResult, descend, end_status, finish

__all__ = ["likelihood_multistart"]

_DEFAULT_INIT = InitScales()


@partial(jax.jit, static_argnames=("steps", "optimizer"))
def _likelihood_descend(P0, X, alpha, learning_rate, *, steps, optimizer):
    """`landscape.multistart.descend` on L_p for every restart (vmapped): (θ, failed, fail_step)."""

    def one(p0):
        obj = lambda p: marginal_energy(p, X, alpha)  # noqa: E731
        return descend(obj, p0, steps=steps, learning_rate=learning_rate, optimizer=optimizer)

    return jax.vmap(one)(P0)


@partial(jax.jit, static_argnames=("method", "polish_steps"))
def _likelihood_polish(P, failed, X, alpha, gtol, *, method, polish_steps):
    """`landscape.multistart.finish` on L_p for every restart: polish (not where the descent failed), diagnostics."""

    def one(p, bad):
        obj = lambda q: marginal_energy(q, X, alpha)  # noqa: E731
        return finish(obj, p, bad, method=method, steps=polish_steps, gtol=gtol)

    return jax.vmap(one)(P, failed)


def likelihood_multistart(
    X,
    alpha,
    *,
    kappa: int,
    restarts: int,
    seed: int = 0,
    steps: int = 4000,
    learning_rate: float = 1e-2,
    optimizer: str = "adam",
    polish_steps: int = 500,
    gtol: float = 1e-8,
    init: InitScales = _DEFAULT_INIT,
    start: DecoderParams | None = None,
    chunk_size: int = 256,
    progress: bool | None = None,
) -> MultiStartResult:
    """Minimise L_p over θ = (W, b, log γ) from the θ part of `landscape.search`'s starts.

    Restart r starts from the θ of ``init_params(X, kappa, [r], seed, init)`` — bit for bit
    the θ that `landscape.search` starts restart r from — unless ``start`` (batched
    `DecoderParams`) is given. Each restart runs `landscape.multistart`'s engine
    (`landscape.multistart.descend`: ``steps`` of Adam or L-BFGS; then
    `landscape.multistart.polish`: dense saddle-free Newton, at most ``polish_steps``
    iterations; "converged" iff ‖∇L_p‖ ≤ gtol·max(1, |L_p|)), with the settings of
    `landscape.search`'s defaults. It is not called through `landscape.multistart` itself
    because that compiles once per ``init`` callable, and an init that draws search's starts
    must hold x̄ and γ̄: one compilation (~15 s) per data set. Here the starts are data, and
    one compilation serves every data set and α of the same shape (the descent and the
    polish are compiled apart, so a polish-only call, ``steps=0``, reuses the latter).

    Returns:
      A `landscape.MultiStartResult` over `DecoderParams`.
    """
    n, d, kappa, _ = check_problem(X, alpha, kappa)
    restarts = V.check_size("restarts", restarts, 1)
    seed = V.check_size("seed", seed, 0)
    steps = V.check_size("steps", steps, 0)
    polish_steps = V.check_size("polish_steps", polish_steps, 0)
    chunk_size = V.check_size("chunk_size", chunk_size, 1)
    learning_rate = V.check_positive("learning_rate", learning_rate)
    if optimizer not in ("adam", "lbfgs"):
        raise ValueError(f"optimizer must be 'adam' or 'lbfgs', got {optimizer!r}.")
    if not (isinstance(gtol, (int, float, np.floating)) and math.isfinite(gtol) and gtol >= 0):
        raise ValueError(f"gtol must be a finite number >= 0, got {gtol!r}.")
    if not isinstance(init, InitScales):
        raise ValueError(f"init must be a landscape.InitScales, got {type(init).__name__}.")
    if start is None:
        P = init_params(X, kappa, np.arange(restarts), seed, init)
        start = DecoderParams(P.W, P.b, P.log_gamma)
    else:
        if not isinstance(start, DecoderParams) or np.shape(start.W) != (restarts, d, kappa):
            raise ValueError(
                f"start must be DecoderParams batched over restarts: W of shape ({restarts}, {d}, {kappa})."
            )
        start = DecoderParams(*(jnp.asarray(a, dtype=jnp.float64) for a in start))
    method = "newton" if polish_steps > 0 else "none"
    Xj = jnp.asarray(X, dtype=jnp.float64)
    a_arg = jnp.asarray(alpha, jnp.float64)
    lr, gt = jnp.asarray(learning_rate, jnp.float64), jnp.asarray(gtol, jnp.float64)
    chunk = min(chunk_size, restarts)
    chunks = int(np.ceil(restarts / chunk))
    bar = _Progress(restarts, chunks >= 2 if progress is None else bool(progress), label="likelihood")
    outs = []
    t0 = time.perf_counter()
    for c in range(chunks):
        idx = np.arange(c * chunk, min((c + 1) * chunk, restarts))
        pad = np.concatenate([idx, np.full(chunk - idx.size, idx[0])])
        P0 = jax.tree.map(lambda a, pad=pad: a[pad], start)
        if steps > 0:
            P1, failed, fail_step = _likelihood_descend(P0, Xj, a_arg, lr, steps=steps, optimizer=optimizer)
        else:
            P1, failed, fail_step = P0, jnp.zeros(chunk, dtype=bool), jnp.full(chunk, -1)
        P2, val, gn, failed, k_pol = _likelihood_polish(
            P1, failed, Xj, a_arg, gt, method=method, polish_steps=polish_steps
        )
        steps_taken = jnp.where(fail_step >= 0, fail_step, steps) + k_pol
        out = (P2, val, gn, failed, steps_taken)
        outs.append(jax.tree.map(lambda a, k=idx.size: np.asarray(a)[:k], jax.block_until_ready(out)))
        bar.update(int(idx[-1]) + 1, c + 1, chunks)
    P, val, gn, failed, steps_taken = jax.tree.map(lambda *a: np.concatenate(a), *outs)
    val, gn, status = end_status(val, gn, failed, gtol)
    config = {
        "restarts": restarts,
        "seed": seed,
        "steps": steps,
        "learning_rate": learning_rate,
        "optimizer": optimizer,
        "polish": method,
        "polish_steps": polish_steps,
        "gtol": float(gtol),
        "chunk_size": chunk,
        "parameters": d * kappa + d + 1,
        "objective": "landscape.marginal.marginal_energy",
        "init": asdict(init),
        "alpha": float(alpha),
        "kappa": kappa,
        "n": n,
        "d": d,
    }
    return MultiStartResult(
        params=DecoderParams(*P),
        values=val,
        grad_norms=gn,
        status=status,
        steps=steps_taken,
        config=config,
        seed=seed,
        seconds=time.perf_counter() - t0,
        extras={"start": start},
    )
