"""Certificates for stationary points of any objective: gradient, inertia, modes and a label.

"Stationary means certified": a finder that stops has found a point where its own
test passed, nothing more. `certify` reports, for a point of any objective
``f(params, *args)`` over a pytree:

- the gradient (Euclidean and max norms, against ``gtol · max(1, |f|)``);
- the Hessian inertia with the zero tolerance used, and the extreme eigenvalues;
- the gradient-flat diagnostic ‖Hg‖/‖g‖ (Frye et al. 2021): Newton-type finders stop
  where g is (nearly) in the kernel of H, with ‖g‖ small but not zero. A ratio far
  below max|λ| at a non-negligible gradient says "gradient-flat", not "critical";
- for each negative, extreme and zero-curvature eigenvector, the share of its mass
  on each parameter block (for eq. (5): W, b, γ, μ, σ);
- for a degenerate point, higher-order evidence along each zero mode: the energy on
  a slice ±t·v, whose minimum shows whether the flat direction turns downhill
  within the radius probed (a slice with the rest fixed; for the collapsed point of
  Proposition 1 the re-minimised profiles of `certify_prop1` are the stronger test);
- a label: ``strict_min`` (no negative and no zero eigenvalue), ``strict_saddle``
  (a negative eigenvalue), ``degenerate`` (PSD with zero modes: the second-order
  test is inconclusive), or ``not_stationary`` (the gradient test fails).

Two routes. Dense (the default): the dense Hessian (or the given operator, made dense)
and ``eigh``, for P up to a few thousand. At scale: the caller supplies an exact
inertia count (for eq. (5), the Haynsworth count of `landscape.schur`, passed by
`landscape.certify_stationary`), and Lanczos on the Hessian (or the given
`CurvatureOperator`) gives the extreme pairs with residuals.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from landscape.common import checks
from landscape.common.results import Result
from landscape.tools.blocks import block_shares
from landscape.tools.flat import check_call
from landscape.tools.inertia import DEFAULT_RTOL, inertia
from landscape.tools.lanczos import lanczos
from landscape.tools.operator import CurvatureOperator, check_finite_params, dense_hessian, hvp, to_dense

__all__ = ["Mode", "StationaryCertificate", "certify", "check_certify_settings", "LABELS"]

LABELS = ("strict_min", "strict_saddle", "degenerate", "not_stationary")


@dataclass(frozen=True)
class Mode(Result):
    """One eigenpair of the Hessian, with where its mass lies.

    kind: "negative", "lowest", "highest" or "zero". residual: ‖Hv − λv‖ (0 up to
    rounding for dense eigenvectors). shares: ‖v_block‖² per parameter block.
    slice_min: for a zero mode, min over t of f(x + t v) − f(x) on the probed slice
    (≥ −slice_tol: no descent found along it), else None.
    slice_descent_t: the smallest |t| on the slice where f(x + t v) − f(x) < −slice_tol
    (None: no descent). A small value is local evidence against a minimum; a value near
    the radius may only mean another basin is that close.
    """

    kind: str
    eigenvalue: float
    residual: float
    shares: dict
    slice_min: float | None = None
    slice_descent_t: float | None = None


@dataclass(frozen=True)
class StationaryCertificate(Result):
    """The evidence that a point is (or is not) a minimum. See the module docstring.

    Attributes:
      value: f at the point.
      grad_norm, grad_max: ‖∇f‖₂ and ‖∇f‖∞.
      gtol: the gradient test, ‖∇f‖₂ ≤ gtol · max(1, |f|).
      stationary: whether it passes.
      n_negative, n_zero, n_positive, tol: the inertia, |λ| ≤ tol counted as zero.
      min_eigenvalue, max_eigenvalue: the extreme eigenvalues.
      zero_gap: (largest |λ| counted as zero, smallest |λ| counted nonzero): how far the
        counts are from the tolerance. A smallest nonzero |λ| within 10 · tol is
        reported as near-degenerate (the count would change with a looser tol).
      gradient_flat_ratio: ‖Hg‖/‖g‖ (None where g = 0 exactly).
      gradient_flat: ‖g‖ > 0 with ‖Hg‖/‖g‖ ≤ flat_rtol · max|λ|: g lies (nearly) in ker H.
      modes: `Mode` entries (negative, lowest, highest and zero modes).
      slice_radius, slice_tol: the zero-mode slices' half-width and descent tolerance.
      label: one of `LABELS`.
      method: "dense", "exact+lanczos", or for eq. (5) at scale "haynsworth+lanczos".
      size: the number of parameters.
      details: method-specific diagnostics (the exact count's and Lanczos summaries).
    """

    value: float
    grad_norm: float
    grad_max: float
    gtol: float
    stationary: bool
    n_negative: int
    n_zero: int
    n_positive: int
    tol: float
    min_eigenvalue: float
    max_eigenvalue: float
    zero_gap: tuple[float, float]
    gradient_flat_ratio: float | None
    gradient_flat: bool
    modes: tuple[Mode, ...]
    slice_radius: float
    slice_tol: float
    label: str
    method: str
    size: int
    details: dict = field(default_factory=dict)

    @property
    def inertia(self) -> tuple[int, int, int]:
        return (self.n_negative, self.n_zero, self.n_positive)

    @property
    def near_degenerate(self) -> bool:
        """Some |λ| counted nonzero lies within 10 · tol."""
        return bool(self.zero_gap[1] <= 10.0 * self.tol)

    @property
    def zero_modes_descend(self) -> bool | None:
        """Whether some zero-mode slice went below −slice_tol (None if there are no slices)."""
        mins = [m.slice_min for m in self.modes if m.slice_min is not None]
        return None if not mins else bool(min(mins) < -self.slice_tol)

    _then = ("inertia", "zero_modes_descend", "near_degenerate", "modes", "details")


def _label(stationary, n_neg, n_zero):
    if not stationary:
        return "not_stationary"
    if n_neg > 0:
        return "strict_saddle"
    return "degenerate" if n_zero > 0 else "strict_min"


def _zero_mode_slice(f, params, args, v, radius, slice_tol, num=24):
    """min of f(x + t v) − f(x) over t = ±radius · geomspace(1e-4, 1), and the first |t| that descends."""
    flat, unravel = ravel_pytree(params)
    mags = radius * np.geomspace(1e-4, 1.0, num)
    ts = jnp.asarray(np.concatenate([mags, -mags]))
    rel = np.asarray(jax.vmap(lambda t: f(unravel(flat + t * v), *args))(ts) - f(params, *args))
    down = np.abs(np.asarray(ts))[rel < -slice_tol]
    return float(min(0.0, rel.min())), (float(down.min()) if down.size else None)


@partial(jax.jit, static_argnames="f")
def _hvp_at(f, params, args, v):
    return hvp(f, params, args)(v)


def check_certify_settings(gtol, rtol, tol, flat_rtol, max_modes, slice_radius, lanczos_steps, seed) -> None:
    """The settings `certify` and `certify_stationary` share: tolerances, counts and the seed."""
    checks.check_tolerance("gtol", gtol, allow_zero=True)
    checks.check_zero_tolerance(tol, rtol)
    checks.check_tolerance("flat_rtol", flat_rtol, allow_zero=True)
    checks.check_size("max_modes", max_modes, 1)
    checks.check_tolerance("slice_radius", slice_radius)
    checks.check_size("lanczos_steps", lanczos_steps, 1)
    checks.check_seed("seed", seed)


def certify(
    f,
    params,
    args: tuple = (),
    *,
    gtol: float = 1e-8,
    rtol: float = DEFAULT_RTOL,
    tol: float | None = None,
    flat_rtol: float = 1e-3,
    max_modes: int = 6,
    slice_radius: float = 0.5,
    slice_tol: float | None = None,
    operator: CurvatureOperator | None = None,
    exact_inertia=None,
    lanczos_steps: int = 150,
    seed: int = 0,
) -> StationaryCertificate:
    """Certify a point of any objective ``f(params, *args)``: dense, or at scale with an exact count.

    Dense route (``exact_inertia`` None): for P up to a few thousand parameters (use
    `certify_stationary` for eq. (5) at any size). Scale route: ``exact_inertia`` is an
    exact inertia count already made at this point, any object with ``inertia``
    ((n₋, n₀, n₊)), ``tol``, ``zero_gap`` and ``to_dict()`` (e.g. a `SchurInertia`); the
    extreme pairs come from `lanczos` (k = min(max_modes, 3), ``lanczos_steps`` steps,
    ``seed``), zero modes are counted, not listed (their eigenvectors are interior to the
    spectrum), and ``details`` holds {"inertia": …, "lanczos": …}.

    Args:
      gtol: stationary iff ‖∇f‖₂ ≤ gtol · max(1, |f|).
      rtol, tol: the zero tolerance for the inertia (default rtol · max|λ|); dense
        route only (an exact count carries its own).
      flat_rtol: ‖Hg‖/‖g‖ ≤ flat_rtol · max|λ| with g ≠ 0 flags a gradient-flat point.
      max_modes: at most this many negative and this many zero modes are reported.
      slice_radius: half-width of the zero-mode slices (unit eigenvectors).
      slice_tol: a slice below −slice_tol descends; default 1e-12 · max(1, |f|).
      operator: the curvature to certify with, in ``ravel_pytree(params)`` order (default
        the Hessian of f, `hessian_operator`); e.g. a structured or Gauss–Newton operator.
    """
    check_certify_settings(gtol, rtol, tol, flat_rtol, max_modes, slice_radius, lanczos_steps, seed)
    checks.check_optional_tolerance("slice_tol", slice_tol, allow_zero=True)
    params, args = check_call(f, params, args)
    check_finite_params(params)
    flat, _ = ravel_pytree(params)
    if operator is not None and operator.size != flat.size:
        raise ValueError(f"operator has size {operator.size}; params has {flat.size} entries.")
    value = float(f(params, *args))
    grad = jax.grad(f)(params, *args)
    g = ravel_pytree(grad)[0]
    if not (math.isfinite(value) and np.all(np.isfinite(np.asarray(g)))):
        raise ValueError(
            f"f(params) = {value!r} or its gradient is not finite: params lie outside f's float64 domain "
            "(e.g. an entry near 1e300 overflows), where nothing can be certified."
        )
    slice_tol = 1e-12 * max(1.0, abs(value)) if slice_tol is None else float(slice_tol)
    common = (gtol, flat_rtol, slice_radius, slice_tol)
    if exact_inertia is not None:
        return _at_scale(f, params, args, value, grad, exact_inertia, operator, max_modes, lanczos_steps, seed, common)
    H = dense_hessian(f, params, args) if operator is None else to_dense(operator)
    if not np.all(np.isfinite(np.asarray(H))):
        raise ValueError("the Hessian of f at params has NaN or inf entries: params lie outside f's float64 domain.")
    spec = inertia(H, tol=tol, rtol=rtol, eigenvectors=True)
    lam, V = spec.eigenvalues, spec.eigenvectors
    Hn = np.asarray(H)
    modes: list[Mode] = []

    def mode(kind, j, with_slice=False):
        v = V[:, j]
        res = float(np.linalg.norm(Hn @ v - lam[j] * v))
        smin, t_down = (
            _zero_mode_slice(f, params, args, jnp.asarray(v), slice_radius, slice_tol) if with_slice else (None, None)
        )
        return Mode(kind, float(lam[j]), res, block_shares(params, v), smin, t_down)

    neg = np.nonzero(lam < -spec.tol)[0][:max_modes]
    zero = np.nonzero(np.abs(lam) <= spec.tol)[0][:max_modes]
    modes += [mode("negative", j) for j in neg]
    if not neg.size:
        modes.append(mode("lowest", 0))
    modes += [mode("zero", j, with_slice=True) for j in zero]
    modes.append(mode("highest", lam.size - 1))
    a = np.abs(lam)
    gap = (float(a[a <= spec.tol].max(initial=0.0)), float(a[a > spec.tol].min(initial=np.inf)))
    Hg = np.asarray(Hn @ np.asarray(g))
    return _finish(
        value, g, Hg, spec.inertia, spec.tol, lam[0], lam[-1], gap, modes, *common, "dense", int(flat.size), {}
    )


def _at_scale(f, params, args, value, grad, si, operator, max_modes, lanczos_steps, seed, common):
    """The scale route of `certify`: the exact count ``si`` and Lanczos for the extreme pairs."""
    k = min(max_modes, 3)
    g = ravel_pytree(grad)[0]
    if operator is None:
        Hg = ravel_pytree(_hvp_at(f, params, tuple(args), grad))[0]
        lz = lanczos(f, params, args, k=k, num_steps=lanczos_steps, seed=seed)
    else:
        Hg = operator.matvec(g)
        lz = lanczos(operator, k=k, num_steps=lanczos_steps, seed=seed)
    modes = []
    for j, lam in enumerate(lz.lowest.eigenvalues):
        kind = "negative" if lam < -si.tol else "lowest"
        if kind == "lowest" and j > 0:
            break
        modes.append(
            Mode(kind, float(lam), float(lz.lowest.residuals[j]), block_shares(params, lz.lowest.eigenvectors[j]))
        )
    modes.append(
        Mode(
            "highest",
            lz.max_eigenvalue,
            float(lz.highest.residuals[0]),
            block_shares(params, lz.highest.eigenvectors[0]),
        )
    )
    details = {"inertia": si.to_dict(), "lanczos": lz.to_dict()}
    gap = si.zero_gap  # the exact count's own margin, where the counting happens
    P = int(g.size)
    return _finish(
        value,
        g,
        Hg,
        si.inertia,
        si.tol,
        lz.min_eigenvalue,
        lz.max_eigenvalue,
        gap,
        modes,
        *common,
        "exact+lanczos",
        P,
        details,
    )


def _finish(
    value, g, Hg, counts, tol, lam_min, lam_max, gap, modes, gtol, flat_rtol, radius, slice_tol, method, size, details
):
    g = np.asarray(g, dtype=float)
    gn = float(np.linalg.norm(g))
    stationary = gn <= gtol * max(1.0, abs(value))
    ratio = float(np.linalg.norm(Hg)) / gn if gn > 0 else None
    scale = max(abs(float(lam_min)), abs(float(lam_max)))
    flat = ratio is not None and ratio <= flat_rtol * scale
    return StationaryCertificate(
        value=value,
        grad_norm=gn,
        grad_max=float(np.max(np.abs(g))) if g.size else 0.0,
        gtol=float(gtol),
        stationary=bool(stationary),
        n_negative=int(counts[0]),
        n_zero=int(counts[1]),
        n_positive=int(counts[2]),
        tol=float(tol),
        min_eigenvalue=float(lam_min),
        max_eigenvalue=float(lam_max),
        zero_gap=tuple(gap),
        gradient_flat_ratio=ratio,
        gradient_flat=bool(flat),
        modes=tuple(modes),
        slice_radius=float(radius),
        slice_tol=float(slice_tol),
        label=_label(stationary, counts[0], counts[1]),
        method=method,
        size=size,
        details=details,
    )
