"""Is Proposition 1's collapsed decoder θ_c = (0, x̄, γ̄) a local minimum of the exact likelihood? (issue 9)

Proposition 1's collapsed point (W = 0, b = x̄, γ = γ̄, q = p(z)) is a local minimum of eq. (5)
for α > 0. Here the same θ_c is examined on L_p(θ) = −2 Σ log p_θ(x_i) − nd log 2π + nκ
(`landscape.marginal.marginal_energy`, eq. (5)'s scale, so L(θ, φ) ≥ L_p(θ)).

- `collapsed_likelihood_evidence`: at θ_c, ∇L_p, the dense-Hessian inertia, and, because
  every W direction has zero curvature for α > 0, re-minimised profiles
  f_U(t) = min_{b, log γ} L_p(W = tU, b, log γ) beside the ELBO's
  min_{b, γ, μ, σ} L(W = tU, ·) along the same U, each checked against the leading-order
  prediction `tail_prediction`:

      L_p(tU, x̄, γ̄) − L_p(θ_c) = (n/γ̄) tr[(I − S/γ̄) Cov_z π_α(tUz)] + O(‖Cov‖²).

  (Expand log E_z exp(y_iᵀπ/γ − ‖π‖²/(2γ)) to second order in π = π_α(tUz), y_i = x_i − x̄;
  Σ_i y_i = 0 removes the first order, and E_z π = 0 for a rank-one U, so re-minimising b
  and γ changes it only at O(‖Cov‖²).) Along U = e_j e_kᵀ this is
  (n/γ̄)(1 − S_jj/γ̄) Var π_α(tz): negative for every t > 0 when S_jj > γ̄, which some j has
  unless diag S is constant (tr S = dγ̄). Cov π ~ exp(−α²/(2t²‖u‖_∞²)) for small t, so the
  fall is flat to all orders: θ_c is then a degenerate saddle of L_p, not a local minimum.
  Along a general U = u e_kᵀ the coordinates with the largest |u_j| dominate as t → 0 (their
  tails are exponentially heavier), so the sign near t = 0 is that of γ̄ − S_jj for
  j = argmax |u_j| — not that of γ̄ − λ_1(S), even along u = u_1.
- `collapsed_slices` (`landscape.analysis.likelihood_slices`): both surfaces (L_p, and min_φ L
  by `landscape.optimal_phi`) on a plane through θ_c.

`collapsed_theta`, `tail_prediction` and `coordinate_directions` live in
`landscape.analysis.likelihood_tail`; all are importable from here.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from functools import partial

import jax.numpy as jnp
import numpy as np

from landscape.analysis.elbo_gap import check_problem
from landscape.analysis.likelihood_slices import SlicePair, collapsed_slices
from landscape.analysis.likelihood_tail import collapsed_theta, coordinate_directions, tail_prediction
from landscape.analysis.profiles import Direction, affine_descent_directions, energy_profile, random_directions
from landscape.analysis.stationary import certify
from landscape.common import checks as V
from landscape.common.results import Result
from landscape.core.collapsed import collapsed_energy, collapsed_point, data_covariance
from landscape.core.marginal import DecoderParams, log_marginal, marginal_energy, marginal_energy_jit
from landscape.tools.curvature import dense_hessian
from landscape.tools.profile import profile_1d

__all__ = [
    "DirectionEvidence",
    "CollapsedEvidence",
    "SlicePair",
    "collapsed_theta",
    "tail_prediction",
    "coordinate_directions",
    "collapsed_likelihood_evidence",
    "collapsed_slices",
]

_LOG_2PI = math.log(2.0 * math.pi)
_EPS = float(np.finfo(np.float64).eps)


# ---------------------------------------------------------------------------------------
# The collapsed point θ_c of L_p: curvature and profiles


SHAPES = ("falls", "barrier", "rises", "flat")


def _shape(t, rel, resolved):
    """Shape of a profile from its resolved points: (falls / barrier / rises / flat, height, where, index).

    The height is the maximum of ``rel`` before the first resolved fall below 0; ``index`` is
    where it is on the grid (None for "falls" and "flat").
    """
    idx = np.nonzero(resolved & (t > 0))[0]
    if idx.size == 0:
        return "flat", 0.0, 0.0, None
    if rel[idx[0]] < 0:
        return "falls", 0.0, 0.0, None
    neg = idx[rel[idx] < 0]
    stop = int(neg[0]) if neg.size else rel.size
    k = int(np.argmax(np.where(np.arange(rel.size) < stop, rel, -np.inf)))
    return ("barrier" if neg.size else "rises"), float(rel[k]), float(t[k]), k


_REFINE_RTOL = 1e-7  # stop when both neighbours of the maximum are within this (relative) of it
_REFINE_PASSES = 10


def _refine_peak(t, rel, resolved, states, num, evaluate):
    """`_shape`, with the grid refined around the maximum until its neighbours agree with it.

    As `landscape.barrier_profiles`: ``num`` points between the neighbours of the maximum
    before the first fall, ``evaluate(t_lo, states[lo], points) -> (rel, resolved, states,
    max inner gradient)`` continuing from the lower neighbour. Repeated on the merged grid
    (each pass narrows the bracket (num + 1)/2-fold) until max − min(neighbours) ≤
    `_REFINE_RTOL` × max, which bounds the height's error by a quarter of that at a smooth
    maximum, or for at most `_REFINE_PASSES` passes. A maximum at the grid's end (a profile
    that rises throughout) is not refined. Returns (shape, height, where, max inner gradient).
    """
    shape, height, where, k = _shape(t, rel, resolved)
    inner = 0.0
    for _ in range(_REFINE_PASSES):
        if k is None or k == t.size - 1:
            break
        lo, hi = max(k - 1, 0), k + 1
        if height - min(rel[lo], rel[hi]) <= _REFINE_RTOL * abs(height) or t[hi] - t[lo] <= 1e-9 * t[hi]:
            break
        points = np.linspace(t[lo], t[hi], num + 2)[1:-1]
        rel_f, resolved_f, states_f, inner_f = evaluate(t[lo], states[lo], points)
        inner = max(inner, inner_f)
        order = np.argsort(np.concatenate([t, points]), kind="stable")
        t = np.concatenate([t, points])[order]
        rel = np.concatenate([rel, rel_f])[order]
        resolved = np.concatenate([resolved, resolved_f])[order]
        merged = list(states) + list(states_f)
        states = [merged[i] for i in order]
        shape, height, where, k = _shape(t, rel, resolved)
    return shape, height, where, inner


@dataclass(frozen=True)
class DirectionEvidence(Result):
    """Both objectives' profiles along one W direction U from θ_c, and the prediction.

    Attributes:
      label, kind ("affine_descent", "coordinate", "random"), U, eigenvalue (λ_l(S) for an
        eigen-direction, S_jj for a coordinate one).
      t: the grid, t[0] = 0.
      likelihood_rel: f_U(t) − L_p(θ_c), f_U = min_{b, log γ} L_p (`landscape.paths.profile_1d`).
      elbo_rel: g_U(t) − L(θ_c, p(z)), g_U = min_{b, γ, μ, σ} eq. (5) (`landscape.energy_profile`).
      prediction: `tail_prediction` (None for a rank-two U).
      resolution: per t, float64 rounding of both L_p values plus twice their accuracy
        estimates (`log_marginal`, eq. (5) units); a point is resolved where |rel| exceeds
        ``resolve_factor`` × this.
      log_marginal_error: per t, the accuracy estimate of L_p at the profile's point.
      resolved, elbo_resolved: boolean masks.
      likelihood_shape, elbo_shape: "falls" (below the value at θ_c at the first resolved t:
        no barrier), "barrier" (rises, then falls), "rises" (above over the whole grid) or
        "flat" (nothing resolved), with the barrier heights and locations: the maximum before
        the first resolved fall, on ``t`` refined around it (``num`` more points between its
        neighbours per pass, as `landscape.barrier_profiles`, repeated until both neighbours
        are within 1e-7 relative of it; the refinement points are not kept in ``t``).
      falls_everywhere: the likelihood profile is below L_p(θ_c) at every resolved t.
      min_margin: min over the resolved points of |rel| / resolution (how far the reported
        differences are above rounding and the accuracy estimate).
      prediction_ratio: likelihood_rel / prediction at the smallest resolved t (→ 1 as t → 0).
      inner_grad_likelihood, inner_grad_elbo: worst inner-minimisation gradient norms (``t``
        and the refinement points).
    """

    label: str
    kind: str
    U: np.ndarray
    eigenvalue: float | None
    t: np.ndarray
    likelihood_rel: np.ndarray
    elbo_rel: np.ndarray
    prediction: np.ndarray | None
    resolution: np.ndarray
    log_marginal_error: np.ndarray
    resolved: np.ndarray
    elbo_resolved: np.ndarray
    likelihood_shape: str
    likelihood_barrier: float
    likelihood_barrier_t: float
    elbo_shape: str
    elbo_barrier: float
    elbo_barrier_t: float
    falls_everywhere: bool
    min_margin: float
    prediction_ratio: float | None
    inner_grad_likelihood: float
    inner_grad_elbo: float

    @property
    def first_resolved_t(self) -> float | None:
        idx = np.nonzero(self.resolved & (self.t > 0))[0]
        return float(self.t[idx[0]]) if idx.size else None

    _keys = ("label", "kind", "eigenvalue", "likelihood_shape", "likelihood_barrier", "likelihood_barrier_t",
             "elbo_shape", "elbo_barrier", "elbo_barrier_t", "falls_everywhere", "first_resolved_t", "min_margin",
             "prediction_ratio", "inner_grad_likelihood", "inner_grad_elbo")  # fmt: skip
    _arrays = ("U", "t", "likelihood_rel", "elbo_rel", "prediction", "resolution", "log_marginal_error", "resolved")


@dataclass(frozen=True)
class CollapsedEvidence(Result):
    """Is θ_c a local minimum of the likelihood? (from `collapsed_likelihood_evidence`)

    Attributes:
      alpha, kappa, n, d, gamma_bar.
      energy: L_p(θ_c) (`log_marginal`); energy_formula: nd(1 + log γ̄) + nκ; energy_error:
        their difference; log_marginal_error: the accuracy estimate (eq. (5) units).
      grad_norm: ‖∇L_p(θ_c)‖₂.
      certificate: `landscape.certify(marginal_energy, θ_c, (X, α))` as a dict (inertia over
        θ = (W, b, log γ) with its tolerance, label, zero-mode slices).
      inertia, tol, label: from the certificate.
      hessian: the dense Hessian of L_p over θ = (W, b, log γ) at θ_c (ravel_pytree order).
      w_block_max_abs: max |∂²L_p/∂W²| at θ_c (0 for α > 0: flat to all orders).
      w_block_affine_error: at α = 0, max |H_WW − 2n(I/γ̄ − S/γ̄²)| (the pPCA Hessian), else None.
      diag_S, lambda_S: S_jj and the eigenvalues of S (descending).
      predicted_descent_coordinates: j with S_jj > γ̄: the coordinate directions along which
        the leading-order prediction falls for every small t > 0.
      directions: one `DirectionEvidence` per probed U.
      verdict_likelihood: "strict_saddle" (a negative Hessian eigenvalue), "not_a_local_minimum"
        (some profile falls below L_p(θ_c) at every resolved t and agrees in sign with the
        prediction), "no_descent_found" (every probed profile rises or stays flat).
      verdict_elbo: "barrier_every_direction", "falls_along_some_direction" or "unresolved".
      seconds, config.
    """

    alpha: float
    kappa: int
    n: int
    d: int
    gamma_bar: float
    energy: float
    energy_formula: float
    energy_error: float
    log_marginal_error: float
    grad_norm: float
    certificate: dict
    inertia: tuple[int, int, int]
    tol: float
    label: str
    hessian: np.ndarray
    w_block_max_abs: float
    w_block_affine_error: float | None
    diag_S: np.ndarray
    lambda_S: np.ndarray
    predicted_descent_coordinates: tuple[int, ...]
    directions: tuple[DirectionEvidence, ...]
    verdict_likelihood: str
    verdict_elbo: str
    seconds: float
    config: dict

    def direction(self, label: str) -> DirectionEvidence:
        for dr in self.directions:
            if dr.label == label:
                return dr
        raise KeyError(label)

    _then = ("directions",)


def _profile_grid(alpha, gbar, num, t_min, t_max):
    scale = float(alpha) if alpha > 0 else 0.1 * math.sqrt(gbar)
    lo = scale / 10.0 if t_min is None else V.check_positive("t_min", t_min)
    hi = 4.0 * scale if t_max is None else V.check_positive("t_max", t_max)
    if not np.isfinite(hi):
        raise ValueError(
            f"alpha = {float(alpha)!r} is too large for the default t_max = 4·alpha (it overflows); pass t_max."
        )
    if not hi > lo:
        raise ValueError(f"t_max ({hi!r}) must be larger than t_min ({lo!r}).")
    return np.concatenate([[0.0], np.geomspace(lo, hi, num)])


def _lp_terms(theta, X, alpha):
    """(L_p, Σ|L_p,i| for rounding, accuracy estimate) in eq. (5) units, via the checked front end."""
    lm = log_marginal(theta, X, alpha)
    n, d = np.shape(X)
    k = np.shape(theta.W)[1]
    per = -2.0 * lm.points - d * _LOG_2PI + k
    return float(np.sum(per)), float(np.sum(np.abs(per))), 2.0 * float(lm.error_total)


def _lp_resolution(pr, indices, X, alpha, L0_scale, L0_err):
    """Per profile point: (float64 rounding of both L_p values plus both accuracy estimates, the estimate)."""
    res, err = [], []
    for i in indices:
        _, scale_i, err_i = _lp_terms(pr.params_at(i), X, alpha)
        err.append(err_i)
        res.append(64 * _EPS * (scale_i + L0_scale) + err_i + L0_err)
    return np.asarray(res), np.asarray(err)


_FREE = DecoderParams(W=False, b=True, log_gamma=True)


def _likelihood_points(X, Xj, alpha, along, base, resolve_factor, t_lo, state, points):
    """f_U − L_p(θ_c) at ``points``, continued from the profile point ``state`` at t_lo (for `_refine_peak`).

    The grid (0 and the points, relative to t_lo) has ts's length, so `profile_1d` compiles once.
    """
    L0, L0_scale, L0_err = base
    prof, i = state
    grid = np.concatenate([[0.0], points - t_lo])
    pf = profile_1d(marginal_energy, prof.params_at(i), along, grid, free=_FREE, args=(Xj, alpha))
    rel = pf.energy[1:] - L0
    res, _ = _lp_resolution(pf, range(1, grid.size), X, alpha, L0_scale, L0_err)
    return rel, np.abs(rel) > resolve_factor * res, [(pf, j) for j in range(1, grid.size)], pf.max_grad_norm


def _elbo_profile(X, alpha, start, U, grid, length):
    """`energy_profile` on ``grid`` padded to ``length`` with its last point, so it compiles once per length."""
    padded = np.concatenate([grid, np.full(length - grid.size, grid[-1])])
    vals, gns = energy_profile(X, alpha, start, U, padded)
    return vals[: grid.size], gns[: grid.size]


def _elbo_points(X, alpha, start, U, ts, e0, L0_scale, resolve_factor, t_lo, state, points):
    """g_U − g_U(0) at ``points``, continued from t = 0 through ts and the points (for `_refine_peak`)."""
    grid = np.concatenate([ts, points])
    order = np.argsort(grid, kind="stable")
    vals, gns = _elbo_profile(X, alpha, start, U, grid[order], grid.size)
    vals = vals[np.argsort(order)][ts.size :]
    rel = vals - e0
    res = 64 * _EPS * (np.abs(vals) + abs(e0) + L0_scale)
    return rel, np.abs(rel) > resolve_factor * res, [None] * points.size, float(np.max(gns))


def collapsed_likelihood_evidence(
    X,
    alpha,
    kappa: int,
    *,
    directions: list[Direction] | None = None,
    n_random: int = 2,
    num: int = 32,
    t_min: float | None = None,
    t_max: float | None = None,
    seed: int = 0,
    resolve_factor: float = 10.0,
) -> CollapsedEvidence:
    """Is Proposition 1's collapsed decoder θ_c a local minimum of the exact likelihood?

    (a) L_p(θ_c) against nd(1 + log γ̄) + nκ, ‖∇L_p(θ_c)‖ and the dense-Hessian inertia over
    θ = (W, b, log γ) (`landscape.certify`); at α = 0 the W block is checked against the pPCA
    Hessian 2n(I/γ̄ − S/γ̄²) (per latent column), for α > 0 it is 0. (b) Because the W
    directions are flat for α > 0, the higher-order evidence: along each U (the affine-descent
    directions u_l e_kᵀ with λ_l(S) > γ̄, the coordinate directions e_j e_1ᵀ, and ``n_random``
    random unit ones, unless ``directions`` is given) the likelihood's profile
    f_U(t) = min_{b, log γ} L_p(tU, b, log γ) and the ELBO's g_U(t) = min_{b, γ, μ, σ} L(tU, ·)
    on the grid t = 0 ∪ geomspace(t_min, t_max, num) (default α/10 … 4α; at α = 0,
    0.01√γ̄ … 0.4√γ̄), with the leading-order prediction of `tail_prediction`. Differences
    from the value at θ_c are only trusted where they exceed ``resolve_factor`` times float64
    rounding plus `log_marginal`'s accuracy estimate (both reported). Each barrier (the
    maximum before the first fall) is refined as in `landscape.barrier_profiles`: ``num``
    more points between the neighbours of the maximum, continued from the lower one, repeated
    until both neighbours are within 1e-7 relative of it (at most 10 passes), so the height is
    not limited by the grid's spacing (at a quadratic maximum the error is then at most a quarter of that).

    Returns:
      A `CollapsedEvidence` with both verdicts.
    """
    t0 = time.perf_counter()
    n, d, kappa, gbar = check_problem(X, alpha, kappa)
    num = V.check_size("num", num, 2)
    n_random = V.check_size("n_random", n_random, 0)
    seed = V.check_seed("seed", seed)
    resolve_factor = V.check_positive("resolve_factor", resolve_factor)
    alpha = float(alpha)
    Xj = jnp.asarray(X, dtype=jnp.float64)
    theta_c = collapsed_theta(X, kappa)
    L0, L0_scale, L0_err = _lp_terms(theta_c, X, alpha)
    formula = collapsed_energy(X, kappa)
    cert = certify(marginal_energy_jit, theta_c, (Xj, alpha))
    H = np.asarray(dense_hessian(marginal_energy_jit, theta_c, (Xj, alpha)))
    nw = d * kappa
    Hw = H[:nw, :nw]
    S = data_covariance(X)
    w_err = None
    if alpha == 0:
        block = 2.0 * n * (np.eye(d) / gbar - S / gbar**2)
        expected = np.kron(block, np.eye(kappa))  # W raveled row-major: index j·κ + k
        w_err = float(np.max(np.abs(Hw - expected)))
    lam = np.sort(np.linalg.eigvalsh(S))[::-1]
    diagS = np.diag(S).copy()

    if directions is None:
        directions = (
            affine_descent_directions(X, kappa)
            + coordinate_directions(d, kappa, X)
            + random_directions(d, kappa, n_random, seed)
        )
    if not directions:
        raise ValueError("directions is empty: pass at least one landscape.profiles.Direction (or n_random > 0).")
    ts = _profile_grid(alpha, gbar, num, t_min, t_max)
    start = collapsed_point(X, kappa)
    evidence = []
    for dr in directions:
        U = np.asarray(dr.U, dtype=float)
        if U.shape != (d, kappa):
            raise ValueError(
                f"direction {dr.label!r} has U of shape {U.shape}; it must be (d, kappa) = ({d}, {kappa})."
            )
        along = DecoderParams(jnp.asarray(U), jnp.zeros(d), jnp.asarray(0.0))
        pr = profile_1d(marginal_energy, theta_c, along, ts, free=_FREE, args=(Xj, alpha))
        e_vals, e_gn = _elbo_profile(X, alpha, start, U, ts, 2 * ts.size - 1)  # the length refinement uses
        lik_rel = pr.energy - L0
        elbo_rel = e_vals - e_vals[0]
        res, err = _lp_resolution(pr, range(ts.size), X, alpha, L0_scale, L0_err)
        resolved = np.abs(lik_rel) > resolve_factor * res
        resolved[0] = False
        elbo_res = 64 * _EPS * (np.abs(e_vals) + np.abs(e_vals[0]) + L0_scale)
        elbo_resolved = np.abs(elbo_rel) > resolve_factor * elbo_res
        elbo_resolved[0] = False
        rank1 = np.linalg.matrix_rank(U, tol=1e-12 * np.linalg.norm(U)) == 1
        pred = tail_prediction(X, alpha, U, ts) if rank1 else None
        # Refine around each maximum (`_refine_peak`), so the heights are not limited by the spacing.
        lik = partial(_likelihood_points, X, Xj, alpha, along, (L0, L0_scale, L0_err), resolve_factor)
        elbo = partial(_elbo_points, X, alpha, start, U, ts, float(e_vals[0]), L0_scale, resolve_factor)
        states = [(pr, i) for i in range(ts.size)]
        shape, height, where, inner_lik = _refine_peak(ts, lik_rel, resolved, states, num, lik)
        eshape, eheight, ewhere, inner_elbo = _refine_peak(ts, elbo_rel, elbo_resolved, [None] * ts.size, num, elbo)
        inner_lik = max(pr.max_grad_norm, inner_lik)
        inner_elbo = max(float(np.max(e_gn)), inner_elbo)
        idx = np.nonzero(resolved)[0]
        falls_all = bool(idx.size and np.all(lik_rel[idx] < 0))
        margin = float(np.min(np.abs(lik_rel[idx]) / res[idx])) if idx.size else float("nan")
        ratio = None
        if pred is not None and idx.size and pred[idx[0]] != 0:
            ratio = float(lik_rel[idx[0]] / pred[idx[0]])
        evidence.append(
            DirectionEvidence(
                label=dr.label,
                kind=dr.kind,
                U=U,
                eigenvalue=dr.eigenvalue,
                t=ts,
                likelihood_rel=lik_rel,
                elbo_rel=elbo_rel,
                prediction=pred,
                resolution=res,
                log_marginal_error=err,
                resolved=resolved,
                elbo_resolved=elbo_resolved,
                likelihood_shape=shape,
                likelihood_barrier=height,
                likelihood_barrier_t=where,
                elbo_shape=eshape,
                elbo_barrier=eheight,
                elbo_barrier_t=ewhere,
                falls_everywhere=falls_all,
                min_margin=margin,
                prediction_ratio=ratio,
                inner_grad_likelihood=inner_lik,
                inner_grad_elbo=inner_elbo,
            )
        )
    if cert.n_negative > 0:
        verdict = "strict_saddle"
    elif any(
        e.falls_everywhere and (e.prediction is None or e.prediction[np.nonzero(e.resolved)[0][0]] < 0)
        for e in evidence
    ):
        verdict = "not_a_local_minimum"
    else:
        verdict = "no_descent_found"
    eshapes = [e.elbo_shape for e in evidence]
    if all(s in ("barrier", "rises") for s in eshapes):
        everdict = "barrier_every_direction"
    elif any(s == "falls" for s in eshapes):
        everdict = "falls_along_some_direction"
    else:
        everdict = "unresolved"
    return CollapsedEvidence(
        alpha=alpha,
        kappa=kappa,
        n=n,
        d=d,
        gamma_bar=gbar,
        energy=L0,
        energy_formula=formula,
        energy_error=abs(L0 - formula),
        log_marginal_error=L0_err,
        grad_norm=cert.grad_norm,
        certificate=cert.to_dict(),
        inertia=cert.inertia,
        tol=cert.tol,
        label=cert.label,
        hessian=H,
        w_block_max_abs=float(np.max(np.abs(Hw))),
        w_block_affine_error=w_err,
        diag_S=diagS,
        lambda_S=lam,
        predicted_descent_coordinates=tuple(int(j) for j in np.nonzero(diagS > gbar)[0]),
        directions=tuple(evidence),
        verdict_likelihood=verdict,
        verdict_elbo=everdict,
        seconds=time.perf_counter() - t0,
        config={
            "num": num,
            "t_min": float(ts[1]),
            "t_max": float(ts[-1]),
            "n_random": n_random,
            "seed": seed,
            "resolve_factor": resolve_factor,
            "directions": [dr.label for dr in directions],
        },
    )
