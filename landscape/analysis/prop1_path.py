"""The minimum-energy path out of the collapsed minimum of Proposition 1 (MATH.md §3–5).

`prop1_path` applies the generic string method (`landscape.tools.string_method`) to eq. (5)
at α > 0: from the collapsed point (MATH.md §4) to a reconstructing point, starting from the
Proposition 1 profile along W = t·U (`landscape.tools.profile.profile_1d`), which only bounds the
height of the pass from above; the string finds the pass itself, a certified index-1 saddle.
"""

from __future__ import annotations

import math
from dataclasses import replace

import jax
import jax.numpy as jnp
import numpy as np

from landscape.analysis import eq5_bindings  # noqa: F401  (registers eq. (5) with the path tools)
from landscape.analysis.profiles import affine_descent_directions, default_t_max, profile_grid
from landscape.common import checks as V
from landscape.core.collapsed import collapsed_point
from landscape.core.datasets import Prop1Dataset
from landscape.core.energy import energy_objective
from landscape.core.params import VAEParams, as_float64_params, check_params
from landscape.tools.flat import ravel
from landscape.tools.profile import Profile1D, profile_1d
from landscape.tools.string_method import MinimumEnergyPath, minimum_energy_path

__all__ = ["prop1_path"]


_energy_jit = jax.jit(energy_objective)


def _witness_crossing(data, X, alpha, e_c) -> float:
    """t_c with E(witness(t_c)) = L_c, by bisection in log t (E decreases along the path)."""

    def e(t):
        return float(_energy_jit(data.witness.path_params(t), X, alpha))

    hi = 1.0
    while e(hi) <= e_c and hi < 1e6:
        hi *= 2.0
    lo = hi / 2.0
    while e(lo) > e_c:
        lo /= 2.0
        if lo < 1e-8:
            raise ValueError(
                f"the witness path does not fall below the collapsed energy at alpha = {alpha}; "
                "pass end= explicitly (or end='profile')."
            )
    for _ in range(60):
        mid = math.sqrt(lo * hi)
        if e(mid) > e_c:
            hi = mid
        else:
            lo = mid
    return math.sqrt(lo * hi)


def prop1_path(
    data: Prop1Dataset,
    *,
    alpha: float | None = None,
    end="witness",
    end_t: float | None = None,
    init: str = "profile",
    images: int = 33,
    num: int = 81,
    **kwargs,
) -> MinimumEnergyPath:
    """The minimum-energy path out of the collapsed minimum of Proposition 1 (MATH.md §3–5).

    From the collapsed point (W = 0, b = x̄, γ = γ̄, μ = 0, σ = 1; `landscape.collapsed_point`)
    to a reconstructing point, on eq. (5) at ``alpha`` (default: the data set's α).

    End point (``end``):
      - ``"witness"`` (default): the witness path μ_i = z_i, σ_i = t, γ = t²
        (``data.witness.path_params(end_t)``). By default end_t = t_c / 2, where t_c is where
        the path crosses the collapsed energy L_c: the energy falls with slope 2n(d − κ) in
        log t (MATH.md §5), so the end sits ≈ 2n(d − κ)·log 2 below L_c (clearly lower), while
        γ = t_c²/4 keeps the Hessian's scale ~ 2n/γ moderate (on the default data, γ ≈ 0.07).
      - ``"profile"``: the point of the Proposition 1 profile below (W = t·U, every other
        parameter re-minimised) where it has fallen ``margin`` below L_c. Use it where the
        witness does not reconstruct (``alpha`` different from the data's α).
      - a `VAEParams`: that point.

    Initial string (``init``):
      - ``"profile"`` (default): the Proposition 1 profile f_U(t) along the affine-descent
        direction U = u_l e_kᵀ of `landscape.profiles` with the lowest profile barrier (sign
        chosen so that ⟨U, W*⟩ ≥ 0 with the witness's W*), computed by `profile_1d` on the
        `profile_grid` of `landscape.profiles` up to the first t past its maximum where it lies
        ``margin`` = 1 + 10·(profile barrier) below L_c, then the straight segment to the end;
      - ``"straight"``: the straight line. It climbs far higher (≈ 0.2 against a pass of
        ≈ 0.0017 at α = 0.1 on the default data) but relaxes as fast (325 iterations against
        125 there).

    Both find the same passes: the landscape at the pass is nearly flat in the W rows that
    sit in the dead zone |Wz| < α (MATH.md §2), so there is a family of saddles a relative
    ~1e-5 apart (inertia (1, 0, P − 1) or (1, 1, P − 2): a zero eigenvalue per dead row), and
    which one a run ends at depends on the initial string. The profile is computed in any case:
    its maximum, located to ~1e-10 in t, is ``extras["profile_barrier"]``. The profile is a path
    out of the collapsed basin, so the lowest pass is no higher; a path whose barrier comes out
    higher (by more than 1e-10·max(1, |L_c|)) ends at a higher, degenerate saddle, and is
    reported as not converged, with that reason.

    The descent past the saddle is not required to converge (``far_side=False``, see
    `minimum_energy_path`): at the data's own α the energy is unbounded below beyond the pass.

    Args:
      data: a `Prop1Dataset` (`landscape.prop1_dataset`).
      alpha: the α of eq. (5) (default ``data.alpha``).
      end, end_t, init: see above.
      images: number of images.
      num: points of the profile grid.
      **kwargs: passed to `minimum_energy_path` (ptol, gtol, max_iter, far_side, ...).

    Returns:
      A `MinimumEnergyPath` whose ``extras`` hold α, L_c, the end point's description and
      energy, the initial string, and the profile's barrier, direction and join point.
    """
    if not isinstance(data, Prop1Dataset):
        raise ValueError(f"data must be a Prop1Dataset from landscape.prop1_dataset, got {type(data).__name__}.")
    if init not in ("profile", "straight"):
        raise ValueError(f"init must be 'profile' or 'straight', got {init!r}.")
    alpha = data.alpha if alpha is None else alpha
    alpha = V.check_alpha(alpha)
    alpha = float(alpha)
    if alpha == 0:
        raise ValueError(
            "alpha must be > 0: at alpha = 0 the collapsed point is a strict saddle (MATH.md §4), with no barrier "
            "to cross; slice it along its negative-curvature eigenvectors instead."
        )
    num = V.check_size("num", num, 5)
    X = jnp.asarray(data.X)
    kappa = data.kappa
    start = collapsed_point(data.X, kappa)
    e_c = float(_energy_jit(start, X, alpha))
    args = (X, alpha)

    dirs = affine_descent_directions(data.X, kappa)
    if not dirs:
        raise ValueError("the data are isotropic: no affine-descent direction to start the string along.")
    W_star = np.asarray(data.witness.W)
    lam1 = float(np.max([dr.eigenvalue for dr in dirs]))
    t_max = default_t_max(alpha, lam1)
    free = VAEParams(W=False, b=True, log_gamma=True, mu=True, log_sigma=True)
    tol = 1e-12 * max(1.0, abs(e_c))
    best, direction_of = None, {}
    for dr in dirs:
        U = dr.U if np.sum(dr.U * W_star) >= 0 else -dr.U
        direction = jax.tree_util.tree_map(jnp.zeros_like, start)._replace(W=jnp.asarray(U))
        direction_of[id(dr)] = direction
        ts = profile_grid(alpha, t_max, num)
        prof = None
        for _ in range(4):  # extend the grid until the profile falls below L_c - margin
            prof = profile_1d(energy_objective, start, direction, ts, free=free, args=args)
            top = int(np.argmax(prof.rel[: _first_below(prof.rel, -tol) or None]))
            margin = 1.0 + 10.0 * max(float(prof.rel[top]), 0.0)
            below = np.nonzero(prof.rel[top:] < -margin)[0]
            if below.size:
                break
            ts = np.concatenate([ts, np.linspace(ts[-1], 2 * ts[-1], num + 1)[1:]])
        if not below.size:
            continue
        j = top + int(below[0])
        cand = (float(prof.rel[top]), dr, U, prof, top, j, margin)
        if best is None or cand[0] < best[0]:
            best = cand
    if best is None:
        raise ValueError(f"no affine-descent profile fell below the collapsed energy at alpha = {alpha}.")
    p_barrier, dr, U, prof, top, j, margin = best

    # the profile's maximum, located to ~1e-10 in t by zooming in on the grid's maximum
    lo, hi = max(top - 1, 0), min(top + 1, prof.t.size - 1)
    p_top, p_top_t = _profile_top(prof, lo, hi, direction_of[id(dr)], free, args, num=num)
    p_barrier_grid, p_barrier = p_barrier, max(p_barrier, p_top - e_c)
    extras = {
        "alpha": alpha,
        "dataset": data.config(),
        "collapsed_energy": e_c,
        "profile_barrier": p_barrier,
        "profile_barrier_grid": p_barrier_grid,
        "profile_barrier_t": p_top_t,
        "profile_direction": dr.label,
        "profile_join_t": float(prof.t[j]),
        "profile_margin": margin,
        "profile_max_grad_norm": float(np.max(prof.grad_norm[: j + 1])),
    }
    if isinstance(end, str) and end == "witness":
        if end_t is None:
            end_t = 0.5 * _witness_crossing(data, X, alpha, e_c)
        end_t = V.check_positive("end_t", end_t)
        end_point = data.witness.path_params(end_t)
        extras |= {"end": "witness", "end_t": end_t}
    elif isinstance(end, str) and end == "profile":
        end_point = prof.params_at(j)
        extras |= {"end": "profile", "end_t": float(prof.t[j])}
    elif isinstance(end, VAEParams):
        end_point = as_float64_params(end)
        check_params(end_point, data.n, data.d)
        extras |= {"end": "given"}
    else:
        raise ValueError(f"end must be 'witness', 'profile' or a VAEParams, got {end!r}.")
    e_end = float(_energy_jit(end_point, X, alpha))
    if not e_end < e_c:
        raise ValueError(
            f"the end point's energy {e_end:.6g} is not below the collapsed energy {e_c:.6g} at alpha = {alpha}; "
            "choose a smaller end_t, or end='profile'."
        )
    extras["end_energy"] = e_end
    if init == "profile":
        poly = list(prof.points[: j + 1])
        if extras["end"] != "profile":
            poly.append(np.asarray(ravel(end_point)))
        poly = np.stack(poly)
    else:
        poly = None
    extras["init"] = init
    kwargs.setdefault("far_side", False)
    mep = minimum_energy_path(
        energy_objective,
        start,
        end_point,
        args=args,
        images=images,
        init=poly,
        description=f"Proposition 1 path at alpha = {alpha}: collapsed point -> {extras['end']} end",
        **kwargs,
    )
    tol = 1e-10 * max(1.0, abs(e_c))
    extras["mep_below_profile"] = bool(mep.barrier <= p_barrier + tol)
    extras["profile_comparison_tol"] = tol
    reasons = mep.reasons
    if not extras["mep_below_profile"]:
        # the profile is a path out of the collapsed basin: a pass above its top is not the lowest
        reasons = (*reasons, f"barrier {mep.barrier:.10g} is above the profile barrier {p_barrier:.10g}")
    return replace(mep, extras={**mep.extras, **extras}, reasons=reasons, converged=not reasons)


def _profile_top(prof: Profile1D, lo: int, hi: int, direction, free, args, *, levels: int = 4, num: int = 81):
    """The maximum of a re-minimised profile between grid points lo and hi, by zooming in.

    Each level re-computes the profile on ``num`` points between the neighbours of the
    current maximum (continuation from the lower one), shrinking the bracket ~(num − 1)/2
    times per level. Returns (maximum energy, its t).
    """
    base, t_base, width = prof.params_at(lo), float(prof.t[lo]), float(prof.t[hi] - prof.t[lo])
    best, best_t = float(np.max(prof.energy[lo : hi + 1])), float(prof.t[lo + int(np.argmax(prof.energy[lo : hi + 1]))])
    for _ in range(levels):
        if width <= 0:
            break
        ts = np.linspace(0.0, width, num)
        p = profile_1d(energy_objective, base, direction, ts, free=free, args=args)
        j = int(np.argmax(p.energy))
        if p.energy[j] > best:
            best, best_t = float(p.energy[j]), t_base + float(ts[j])
        a, b = max(j - 1, 0), min(j + 1, num - 1)
        base, t_base, width = p.params_at(a), t_base + float(ts[a]), float(ts[b] - ts[a])
    return best, best_t


def _first_below(rel, level):
    below = np.nonzero(~np.isfinite(rel) | (rel < level))[0]
    return int(below[0]) if below.size else None
