"""Minimum-energy paths between two fixed points by the string method, and their saddle (MATH.md §5).

`minimum_energy_path` runs the string method (E, Ren & Vanden-Eijnden, Phys. Rev. B 66,
052301, 2002; J. Chem. Phys. 126, 164103, 2007; the loop is `landscape.tools.string_kernel`)
between two fixed end points: a step down the perpendicular gradient on every interior image,
then re-parametrisation to equal arc length. Then the highest image climbs to the top of the
pass (the climbing image of Henkelman, Uberuaga & Jónsson, J. Chem. Phys. 113, 9901, 2000, with
the two sub-strings on either side of it re-parametrised separately as in Ren &
Vanden-Eijnden, J. Chem. Phys. 138, 134105, 2013), and it is polished by plain Newton steps on
∇f = 0 (`landscape.tools.saddle`), so that the top of the barrier is an actual saddle whose
Hessian inertia is reported (index 1 at a mountain pass). For any jittable scalar objective
``f(params, *args)`` over a pytree; `landscape.paths.prop1_path` applies it to eq. (5) at the
collapsed point of Proposition 1.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from landscape.common import checks as V
from landscape.tools.directions import as_flat_direction
from landscape.tools.flat import as_tree, check_objective, same_structure, unravel
from landscape.tools.inertia import DEFAULT_RTOL, Spectrum, inertia
from landscape.tools.saddle import check_connectivity, newton_polish
from landscape.tools.string_kernel import string_kernel, tangents, values_grads

__all__ = ["MinimumEnergyPath", "minimum_energy_path"]


@dataclass(frozen=True)
class MinimumEnergyPath:
    """A minimum-energy path between two fixed points, with its saddle and diagnostics.

    Attributes:
      images: the string, flat (ravel_pytree order), shape (M, P); `params_at` gives pytrees.
      energy: f at each image; s: normalised arc length in [0, 1] (s[0] = 0, s[-1] = 1).
      barrier: max(energy) − energy[0] (the height of the pass seen from the start);
        barrier_s: where that maximum sits, in s; barrier_from_end: max(energy) − energy[-1].
      saddle_index: the climbing image (−1 if none climbed).
      saddle_energy, saddle_grad_norm: f and ‖∇f‖ at the climbing image after polishing.
      saddle_spectrum: the `Spectrum` of the dense Hessian there (`landscape.spectrum.inertia`
        at relative tolerance ``rtol``); a converged mountain pass has n_negative = 1.
      max_perp_grad: max over the other interior images of ‖∇f − (∇f·τ)τ‖ (0 on an exact MEP);
        max_perp_grad_ascent: the same over the images between the start and the saddle.
      iterations: string iterations used; newton_steps: accepted polishing steps.
      converged: the string (only its ascent if ``far_side=False``) met ``ptol``, the saddle's
        gradient is ≤ ``gtol``, its Hessian has exactly one negative eigenvalue, the saddle is the
        highest image, and nothing went non-finite. ``tolerances`` holds ptol, gtol, rtol;
        ``reasons`` lists what failed.
      connectivity: what minimising from saddle ± step·v (v its negative eigenvector) gave,
        or None if not checked (see `minimum_energy_path`).
      config: the settings; seconds: wall time; extras: caller-specific details
        (e.g. `prop1_path` stores the data set, α, the end point and the profile it started from).
    """

    images: np.ndarray
    energy: np.ndarray
    s: np.ndarray
    barrier: float
    barrier_s: float
    barrier_from_end: float
    saddle_index: int
    saddle_energy: float
    saddle_grad_norm: float
    saddle_spectrum: Spectrum | None
    max_perp_grad: float
    max_perp_grad_ascent: float
    iterations: int
    newton_steps: int
    converged: bool
    reasons: tuple
    tolerances: dict
    connectivity: dict | None
    config: dict
    seconds: float
    extras: dict = field(default_factory=dict)
    _spec: Any = field(default=None, repr=False, compare=False)

    @property
    def saddle(self) -> np.ndarray | None:
        """The saddle (the polished climbing image), flat; None without a climbing image."""
        return self.images[self.saddle_index] if self.saddle_index > 0 else None

    @property
    def inertia(self) -> tuple[int, int, int] | None:
        return None if self.saddle_spectrum is None else self.saddle_spectrum.inertia

    def params_at(self, i: int):
        """Image ``i`` as a pytree shaped like the end points."""
        return unravel(self._spec, jnp.asarray(self.images[i]))

    def to_dict(self, arrays: bool = True) -> dict:
        sp = self.saddle_spectrum
        out = {
            "barrier": self.barrier,
            "barrier_s": self.barrier_s,
            "barrier_from_end": self.barrier_from_end,
            "energy_start": float(self.energy[0]),
            "energy_end": float(self.energy[-1]),
            "saddle_index": self.saddle_index,
            "saddle_energy": self.saddle_energy,
            "saddle_grad_norm": self.saddle_grad_norm,
            "n_negative": None if sp is None else sp.n_negative,
            "n_zero": None if sp is None else sp.n_zero,
            "n_positive": None if sp is None else sp.n_positive,
            "inertia_tol": None if sp is None else sp.tol,
            "saddle_min_eigenvalue": None if sp is None else sp.min_eigenvalue,
            "max_perp_grad": self.max_perp_grad,
            "max_perp_grad_ascent": self.max_perp_grad_ascent,
            "iterations": self.iterations,
            "newton_steps": self.newton_steps,
            "converged": self.converged,
            "reasons": list(self.reasons),
            "tolerances": self.tolerances,
            "connectivity": self.connectivity,
            "config": self.config,
            "seconds": self.seconds,
            "extras": {k: v for k, v in self.extras.items() if arrays or np.ndim(v) == 0},
        }
        if arrays:
            out |= {
                "s": self.s.tolist(),
                "energy": self.energy.tolist(),
                "saddle": None if self.saddle is None else self.saddle.tolist(),
            }
            if sp is not None:
                out["saddle_eigenvalues"] = sp.eigenvalues.tolist()
        return out


def _initial_string(name, init, spec, x_start, x_end, images, f, args):
    if init is None:
        w = np.linspace(0.0, 1.0, images)[:, None]
        return jnp.asarray((1.0 - w) * np.asarray(x_start) + w * np.asarray(x_end))
    if isinstance(init, (list, tuple)):
        rows = []
        for j, p in enumerate(init):
            if isinstance(p, (np.ndarray, jax.Array)) and np.ndim(p) == 1:
                rows.append(as_flat_direction(f"{name}[{j}]", p, spec))
            else:
                _, sp, flat = as_tree(f"{name}[{j}]", p)
                same_structure(f"{name}[{j}]", spec, sp, "start")
                rows.append(flat)
        poly = np.stack([np.asarray(r) for r in rows])
    else:
        poly = np.asarray(init, dtype=np.float64)
    if poly.ndim != 2 or poly.shape[1] != spec.size or poly.shape[0] < 2:
        raise ValueError(
            f"{name} must be a polyline from start to end: an array of shape (m >= 2, P = {spec.size}) or a "
            f"list of m >= 2 pytrees; got shape {poly.shape}."
        )
    if not np.all(np.isfinite(poly)):
        raise ValueError(f"{name} contains NaN or inf entries.")
    scale = max(1.0, float(np.linalg.norm(np.asarray(x_end) - np.asarray(x_start))))
    if np.linalg.norm(poly[0] - np.asarray(x_start)) > 1e-8 * scale:
        raise ValueError(f"{name} must begin at start (its first point is not start).")
    if np.linalg.norm(poly[-1] - np.asarray(x_end)) > 1e-8 * scale:
        raise ValueError(f"{name} must end at end (its last point is not end).")
    poly[0], poly[-1] = np.asarray(x_start), np.asarray(x_end)
    seg = np.linalg.norm(np.diff(poly, axis=0), axis=1)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    if s[-1] <= 0:
        raise ValueError(f"{name} has zero length: start and end coincide.")
    # resample at `images` points: equal arc length on either side of the highest vertex,
    # which becomes the middle image (as the string keeps it, see string_kernel)
    E = np.asarray(values_grads(f, spec, jnp.asarray(poly), args)[0])
    k_mid = (images - 1) // 2
    if poly.shape[0] > 2 and np.all(np.isfinite(E)) and k_mid > 0:
        top = int(np.argmax(E[1:-1])) + 1
        target = np.concatenate([np.linspace(0.0, s[top], k_mid + 1), np.linspace(s[top], s[-1], images - k_mid)[1:]])
    else:
        target = np.linspace(0.0, s[-1], images)
    out = np.stack([np.interp(target, s, poly[:, p]) for p in range(poly.shape[1])], axis=1)
    out[0], out[-1] = poly[0], poly[-1]
    return jnp.asarray(out)


def minimum_energy_path(
    f,
    start,
    end,
    *,
    args: tuple = (),
    images: int = 33,
    init=None,
    max_iter: int = 20000,
    hessian_every: int = 25,
    step_scale: float = 0.5,
    climb: bool = True,
    climb_after: int | None = None,
    switch_tol: float | None = None,
    ptol: float = 1e-5,
    gtol: float = 1e-8,
    newton_steps: int = 30,
    rtol: float = DEFAULT_RTOL,
    far_side: bool = True,
    precondition: bool = True,
    connectivity: bool = True,
    connect_step: float | None = None,
    connect_steps: int = 60,
    description: str = "",
) -> MinimumEnergyPath:
    """The minimum-energy path from ``start`` to ``end`` by the string method, and its saddle.

    Algorithm (all images vmapped; the iterations are one jitted ``lax.while_loop``):

    1. **String** (E, Ren & Vanden-Eijnden 2002, 2007): every interior image steps down the
       component of the gradient perpendicular to the string, ∇f⊥ = ∇f − (∇f·τ)τ; then the
       images are re-placed at equal arc length along the polyline through them (linear
       interpolation in the flat space), on either side of the highest image, which is kept
       at the middle index k = (M − 1)//2: half of the images describe the ascent from the
       start to the pass, half the descent to the end (the initial string is resampled the
       same way about its highest vertex). The end points never move; ``end`` need not be
       stationary. τ is the upwind tangent of Henkelman & Jónsson (2000), which keeps the
       scheme stable. (With the full gradient, the "simplified" form of 2007, the linear
       re-interpolation cuts corners at every step and the string rests visibly off the MEP:
       a perpendicular gradient of 0.1 on a curved 2-D valley with 21 images.)
    2. **Step from the curvature.** Every ``hessian_every`` iterations the dense Hessian H_i of
       every image is diagonalised. With ``precondition=True`` (default) the step is
       x_i ← x_i − step_scale · Π (|H_i| + μ_i I)⁻¹ ∇f⊥ (Π: projection off τ; |H| has the
       eigenvalues' absolute values), a damped Newton step in the directions across the
       string: eq. (5) has curvatures from ~0 (the dead-zone rows of W, MATH.md §2) to 10⁴
       (small γ), where plain gradient steps need ~10⁴ iterations (measured on `prop1_path` at
       α = 0.1: 125 iterations; without preconditioning 17 125 with step_scale = 1, and not
       converged to ptol in 20 000 with the default 0.5). With ``precondition=False`` it is the
       gradient step h_i = step_scale / (λ_i + μ_i), λ_i the largest |eigenvalue| over images
       i − 1, i, i + 1 (gradient descent is stable for h·λ < 2). In both, μ_i = |∇f·τ|_i/Δs_i
       (Δs_i the shorter adjacent segment) is the CFL limit of the upwind tangent, and no image
       moves more than Δs_i/2 in one step. Neither changes where the string comes to rest
       (∇f⊥ = 0).
    3. **Climbing image**: once the convergence metric (below) is under ``switch_tol``
       (default 100·ptol), or after ``climb_after`` iterations (default max_iter/4), image k
       climbs: it takes partitioned rational-function steps (Baker 1986; `prfo_step`) with
       its Hessian from the last refresh, maximising along the eigenvector that follows the
       tangent and minimising along all the others, cut to half its distance to a neighbour.
       Near a non-degenerate saddle this is Newton's step; unlike −∇f + 2(∇f·τ)τ it also
       crosses the nearly flat directions of eq. (5) at the pass in a few steps. The
       sub-strings [0, k] and [k, M − 1] are re-parametrised separately (Ren &
       Vanden-Eijnden 2013). It stops when the metric — ‖∇f⊥‖ on the other interior images,
       ‖∇f‖ on image k — is ≤ ``ptol``, or at ``max_iter``.
    4. **Polish**: plain Newton steps on ∇f = 0 at image k (dense Hessian, pseudo-inverse below
       ``1e-12·max|λ|``), each accepted only if ‖∇f‖ falls (halving the step up to 30 times) and
       the point stays within the larger of its two neighbour distances; until ‖∇f‖ ≤ ``gtol``.
       The saddle's inertia is `landscape.spectrum.inertia` of its Hessian at ``rtol``.
    5. **Connectivity** (``connectivity=True``): from the saddle step ±``connect_step`` along its
       most negative eigenvector (default: 5% of the distance to its nearer neighbour) and
       minimise with `newton_minimize` (``connect_steps`` steps). The path connects if the side
       that ends nearer the start ends there at the start's energy or below (tolerance
       1e-6·max(1, |f(start)|)), and the other, elsewhere, ends below the start's energy, or at
       the end's energy or below nearer the end than the start. (A saddle between the start and
       an intermediate minimum, as on the Müller–Brown path, does not connect them.)

    **Ends on an unbounded side** (``far_side=False``). When the energy is unbounded below past
    the pass (eq. (5) at the data's own α on a Proposition 1 data set: L → −∞ as γ → 0, MATH.md
    §5), the steepest descent from the saddle never reaches a fixed ``end``: no MEP joins them,
    and the sub-string past the saddle keeps sagging into the valley. With ``far_side=False``
    only the ascent (images 1..k) enters the metric and ``converged``; the descent is
    certified instead by the connectivity check, which is then required.

    Args:
      f: jittable scalar ``f(params, *args)`` of a pytree, twice differentiable.
      start, end: the two end points (pytrees of the same structure and shapes).
      args: extra traced arguments of f.
      images: number of images M ≥ 3, end points included.
      init: the initial string, a polyline from start to end (array (m, P) or list of pytrees
        or flat vectors), resampled to M images at equal arc length; default: the straight line.
      max_iter, hessian_every, step_scale, precondition, climb, climb_after, switch_tol: see
        above.
      ptol: tolerance on the perpendicular gradients (the string) and on the climbing image's
        gradient before polishing.
      gtol: tolerance on the polished saddle's gradient norm.
      newton_steps: at most this many polishing steps.
      rtol: relative zero tolerance of the saddle's inertia.
      far_side: whether the descent from the saddle to ``end`` must converge too (see above).
      connectivity, connect_step, connect_steps: the check of step 5.
      description: stored in ``config``.

    Returns:
      A `MinimumEnergyPath`. It is never silently wrong: ``converged`` is False, with
      ``reasons``, whenever any of its conditions fails.
    """
    t0 = time.perf_counter()
    s_tree, spec, x_start = as_tree("start", start)
    e_tree, e_spec, x_end = as_tree("end", end)
    same_structure("end", spec, e_spec, "start")
    images = V.check_size("images", images, 3)
    max_iter = V.check_size("max_iter", max_iter, 1)
    hessian_every = V.check_size("hessian_every", hessian_every, 1)
    newton_steps = V.check_size("newton_steps", newton_steps, 0)
    connect_steps = V.check_size("connect_steps", connect_steps, 1)
    step_scale = V.check_positive("step_scale", step_scale)
    ptol = V.check_positive("ptol", ptol)
    gtol = V.check_positive("gtol", gtol)
    rtol = V.check_positive("rtol", rtol)
    if switch_tol is None:
        if not math.isfinite(100.0 * ptol):
            raise ValueError(
                f"ptol = {ptol!r} is too large: the default switch_tol = 100·ptol overflows; pass switch_tol."
            )
        switch_tol = 100.0 * ptol
    switch_tol = V.check_positive("switch_tol", switch_tol)
    if climb_after is None:
        climb_after = max_iter // 4
    climb_after = V.check_size("climb_after", climb_after, 0)
    if connect_step is not None:
        connect_step = V.check_positive("connect_step", connect_step)
    if float(jnp.linalg.norm(x_end - x_start)) == 0.0:
        raise ValueError("start and end are the same point; a path needs two distinct end points.")
    e_start = check_objective(f, spec, x_start, args, name="start")
    e_end = check_objective(f, spec, x_end, args, name="end")
    x = _initial_string("init", init, spec, x_start, x_end, images, f, args)
    blocks = -(-max_iter // hessian_every)
    x, k, it, metric, _, bad, lam_max = string_kernel(
        f,
        spec,
        x,
        args,
        blocks * hessian_every,
        hessian_every,
        bool(climb),
        bool(far_side),
        bool(precondition),
        climb_after,
        switch_tol,
        ptol,
        step_scale,
    )
    X = np.array(x)
    k = int(k)
    reasons = []
    if bool(bad):
        reasons.append("the string went non-finite; the last finite string is returned")
    E, G = (np.asarray(a) for a in values_grads(f, spec, jnp.asarray(X), args))
    if climb and k < 0:
        k = int(np.argmax(E[1:-1])) + 1
        reasons.append("the climbing phase never started (max_iter too small)")
    spectrum, taken = None, 0
    saddle_e, saddle_g = math.nan, math.nan
    if k > 0:
        radius = max(np.linalg.norm(X[k] - X[k - 1]), np.linalg.norm(X[k] - X[k + 1]))
        xk, saddle_e, saddle_g, H, taken = newton_polish(
            f, spec, X[k], args, steps=newton_steps, gtol=gtol, radius=radius
        )
        X[k] = xk
        spectrum = inertia(H, rtol=rtol, eigenvectors=True)
        E, G = (np.asarray(a) for a in values_grads(f, spec, jnp.asarray(X), args))
    tau = np.asarray(tangents(jnp.asarray(X), jnp.asarray(E))[0])
    perp = np.linalg.norm(G - np.sum(G * tau, axis=1)[:, None] * tau, axis=1)
    others = [i for i in range(1, images - 1) if i != k]
    ascent = [i for i in others if i < k] if k > 0 else others
    max_perp = float(np.max(perp[others])) if others else 0.0
    max_perp_ascent = float(np.max(perp[ascent])) if ascent else 0.0
    seg = np.linalg.norm(np.diff(X, axis=0), axis=1)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    s = s / s[-1]
    top = int(np.argmax(E))
    if not np.all(np.isfinite(E)):
        reasons.append("non-finite energies on the string")
    counted = max_perp if far_side else max_perp_ascent
    if counted > ptol:
        part = "" if far_side else " on the ascent"
        reasons.append(f"max perpendicular gradient{part} {counted:.3g} > ptol = {ptol:g}")
    if climb:
        if not saddle_g <= gtol:
            reasons.append(f"saddle gradient norm {saddle_g:.3g} > gtol = {gtol:g}")
        if spectrum is None or spectrum.n_negative != 1:
            n_neg = None if spectrum is None else spectrum.n_negative
            reasons.append(f"saddle Hessian has {n_neg} negative eigenvalues, not 1")
        if top != k:
            reasons.append(f"the highest image is {top}, not the climbing image {k}")
    conn = None
    if connectivity and spectrum is not None and spectrum.n_negative >= 1:
        conn = check_connectivity(f, spec, args, X, k, spectrum, e_start, e_end, connect_step, connect_steps)
    if not far_side and not (conn is not None and conn["connected"]):
        reasons.append("far_side=False needs the connectivity check to pass, and it did not (or was not run)")
    return MinimumEnergyPath(
        images=X,
        energy=E,
        s=s,
        barrier=float(E[top] - E[0]),
        barrier_s=float(s[top]),
        barrier_from_end=float(E[top] - E[-1]),
        saddle_index=k if climb else -1,
        saddle_energy=float(saddle_e),
        saddle_grad_norm=float(saddle_g),
        saddle_spectrum=spectrum,
        max_perp_grad=max_perp,
        max_perp_grad_ascent=max_perp_ascent,
        iterations=int(it),
        newton_steps=taken,
        converged=not reasons,
        reasons=tuple(reasons),
        tolerances={"ptol": ptol, "gtol": gtol, "rtol": rtol},
        connectivity=conn,
        config={
            "images": images,
            "max_iter": max_iter,
            "hessian_every": hessian_every,
            "step_scale": step_scale,
            "climb": bool(climb),
            "far_side": bool(far_side),
            "precondition": bool(precondition),
            "climb_after": climb_after,
            "switch_tol": switch_tol,
            "newton_steps": newton_steps,
            "max_curvature_seen": float(lam_max),
            "init": "straight line" if init is None else "given polyline",
            "energy_start": e_start,
            "energy_end": e_end,
            "description": description,
        },
        seconds=time.perf_counter() - t0,
        _spec=spec,
    )
