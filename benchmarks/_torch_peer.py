"""A straightforward batched PyTorch implementation of eq. (5), the benchmark's peer.

What a competent researcher would write without our JAX engine: the closed-form
energy of MATH.md §1–2 in plain torch ops (``torch.special.ndtr``, ``torch.exp``,
``torch.bmm``), the restart index R as a leading batch dimension on every parameter,
autograd for the gradient and ``torch.optim.Adam`` on the summed energy. Restarts are
independent and Adam is elementwise, so one Adam on ``energies.sum()`` is R
independent Adam runs.

torch is optional: import this module only where ``available()`` is true.
"""

from __future__ import annotations

import math
import time

import numpy as np

try:
    import torch
except ImportError:  # pragma: no cover - exercised only without torch
    torch = None

__all__ = ["KEYS", "available", "run_torch_adam", "torch_energy"]

KEYS = ("W", "b", "log_gamma", "mu", "log_sigma")
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def available() -> bool:
    """Whether torch imports."""
    return torch is not None


def _tail_moments(c, s, v):
    """E f and E f² for f = (u)_+ with u ~ N(c, v), s = √v (MATH.md §2, with c = m − α)."""
    t = c / s
    Phi = torch.special.ndtr(t)
    sphi = s * (_INV_SQRT_2PI * torch.exp(-0.5 * t * t))
    Ef = c * Phi + sphi
    Ef2 = (c * c + v) * Phi + c * sphi
    return Ef, Ef2


def torch_energy(X, alpha, W, b, log_gamma, mu, log_sigma):
    """The closed-form energy L of eq. (5) for R parameter sets at once.

    Args:
      X: data, shape (n, d), shared by all restarts.
      alpha: soft-threshold level α ≥ 0.
      W: (R, d, κ); b: (R, d); log_gamma: (R,); mu, log_sigma: (R, n, κ).

    Returns:
      A tensor of shape (R,), differentiable by autograd.
    """
    n, d = X.shape
    sigma2 = torch.exp(2.0 * log_sigma)  # (R, n, κ)
    m = torch.bmm(mu, W.transpose(1, 2))  # (R, n, d)
    v = torch.bmm(sigma2, (W * W).transpose(1, 2))  # (R, n, d)
    v = v.clamp_min(1e-30)
    s = torch.sqrt(v)
    Efp, Efp2 = _tail_moments(m - alpha, s, v)
    Efm, Efm2 = _tail_moments(-m - alpha, s, v)
    Epi = Efp - Efm
    Epi2 = Efp2 + Efm2
    y = X.unsqueeze(0) - b.unsqueeze(1)  # (R, n, d)
    recon = (y * y - 2.0 * y * Epi + Epi2).sum(dim=(1, 2))
    kl = (sigma2 - 2.0 * log_sigma + mu * mu).sum(dim=(1, 2))
    return recon * torch.exp(-log_gamma) + n * d * log_gamma + kl


def run_torch_adam(X, alpha, init, *, steps, lr=1e-2, dtype="float64", threads=None, compile=False):
    """Adam on R independent restarts of eq. (5), batched.

    Args:
      X: data (n, d), array-like.
      alpha: soft-threshold level α ≥ 0.
      init: dict of NumPy arrays with keys W (R, d, κ), b (R, d), log_gamma (R,),
        mu (R, n, κ), log_sigma (R, n, κ).
      steps: number of Adam steps.
      lr: Adam learning rate.
      dtype: "float64" or "float32".
      threads: if given, ``torch.set_num_threads(threads)``.
      compile: wrap the step in ``torch.compile`` (off by default).

    Returns:
      dict with ``params`` (dict of NumPy arrays), ``energy`` (NumPy (R,), at the final
      parameters), ``seconds`` (wall time of the step loop, first step included) and
      ``first_step_seconds`` (the first step alone: warm-up, and compilation if any).
    """
    if torch is None:
        raise ImportError("torch is not installed")
    if threads is not None:
        torch.set_num_threads(threads)
    tdtype = {"float64": torch.float64, "float32": torch.float32}[str(dtype)]
    Xt = torch.as_tensor(np.asarray(X), dtype=tdtype)
    params = {k: torch.tensor(np.asarray(init[k]), dtype=tdtype, requires_grad=True) for k in KEYS}
    opt = torch.optim.Adam(list(params.values()), lr=lr)

    # torch.compile cannot trace zero_grad or backward (graph breaks), so compile
    # the energy (forward and backward, through AOTAutograd) and the optimizer step
    # separately, as the PyTorch optimizer-compile tutorial does.
    energy_fn = torch.compile(torch_energy) if compile else torch_energy
    opt_step = torch.compile(opt.step) if compile else opt.step

    def step():
        opt.zero_grad(set_to_none=True)
        loss = energy_fn(Xt, alpha, *(params[k] for k in KEYS)).sum()
        loss.backward()
        opt_step()
        return loss

    first = 0.0
    t0 = time.perf_counter()
    for i in range(steps):
        step()
        if i == 0:
            first = time.perf_counter() - t0
    seconds = time.perf_counter() - t0

    with torch.no_grad():
        energy = torch_energy(Xt, alpha, *(params[k] for k in KEYS))
    return {
        "params": {k: p.detach().numpy().copy() for k, p in params.items()},
        "energy": energy.numpy().copy(),
        "seconds": seconds,
        "first_step_seconds": first,
    }
