"""Descent on the exact likelihood from the ELBO search's starts (issue 9).

`likelihood_multistart`: minimise L_p(θ) = −2 Σ log p_θ(x_i) − nd log 2π + nκ
(`landscape.marginal.marginal_energy`, eq. (5)'s scale) over θ = (W, b, log γ) with
`landscape.multistart`'s descent and polish, from the θ part of `landscape.search`'s
initialisations.
"""

from __future__ import annotations

import math
from dataclasses import asdict

import jax.numpy as jnp
import numpy as np

from landscape.analysis.elbo_gap import check_problem
from landscape.analysis.search import InitScales, init_params
from landscape.common import checks as V
from landscape.core.marginal import DecoderParams, marginal_energy
from landscape.tools import engine
from landscape.tools.multistart import MultiStartResult

__all__ = ["likelihood_multistart"]

_DEFAULT_INIT = InitScales()


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
    `DecoderParams`) is given. The starts are data for the one multi-start engine
    (`landscape.tools.engine.run`): ``steps`` of Adam or L-BFGS, then dense saddle-free
    Newton for at most ``polish_steps`` iterations (none if 0); "converged" iff
    ‖∇L_p‖ ≤ gtol·max(1, |L_p|). The objective is `marginal_energy` with (X, α) as
    arguments, so one compilation serves every data set and α of the same shape.

    Defaults that differ from the engine's (`landscape.tools.engine.DEFAULTS`):
    chunk_size 256 (engine 1024), and the polish is always Newton (θ is small).

    Returns:
      A `landscape.MultiStartResult` over `DecoderParams`.
    """
    n, d, kappa, _ = check_problem(X, alpha, kappa)
    restarts = V.check_size("restarts", restarts, 1)
    seed = V.check_seed("seed", seed)
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
    out = engine.run(
        marginal_energy,
        start,
        (jnp.asarray(X, dtype=jnp.float64), jnp.asarray(alpha, jnp.float64)),
        restarts=restarts,
        steps=steps,
        learning_rate=learning_rate,
        optimizer=optimizer,
        polish=method,
        polish_steps=polish_steps,
        gtol=gtol,
        chunk_size=chunk_size,
        progress=progress,
        label="likelihood",
    )
    config = {
        "restarts": restarts,
        "seed": seed,
        "steps": steps,
        "learning_rate": learning_rate,
        "optimizer": optimizer,
        "polish": method,
        "polish_steps": polish_steps,
        "gtol": float(gtol),
        "chunk_size": out.chunk,
        "parameters": d * kappa + d + 1,
        "objective": "landscape.marginal.marginal_energy",
        "init": asdict(init),
        "alpha": float(alpha),
        "kappa": kappa,
        "n": n,
        "d": d,
    }
    return MultiStartResult(
        params=DecoderParams(*out.params),
        values=out.value,
        grad_norms=out.grad_norm,
        status=out.status,
        steps=out.steps,
        config=config,
        seed=seed,
        seconds=out.seconds,
        extras={"start": start},
    )
