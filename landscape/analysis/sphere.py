"""The collapsed point in every direction: the reduced energy minimised on spheres (issue 19).

At α > 0 the Hessian's W-block is zero at the collapsed point (MATH.md §4), so second order
says nothing about the dκ directions of W. This module looks at all of them. With the reduced
energy ℓ(W) = min over (b, log γ, μ, log σ) of eq. (5) (`landscape.analysis.reduced_energy`,
in difference form, locally from the collapsed values),

    m(r) = min over ‖W‖_F = r of ℓ(W) − ℓ(0)

is computed on a grid of radii. m(r) > 0 on every sphere of radius r < r* means that every
path out of the collapsed point first climbs: the point is a strict local minimum in every
direction, and sup over r < r* of m(r) is a lower bound on the mountain-pass barrier (as far
as each sphere minimisation is global). The minimum-energy path and the best 1-D profile are
upper bounds (`SphereCertificate.barrier_mep`, `barrier_profile`, filled in by the caller).

**The inner solve.** ℓ(W) is the local minimum over the inner variables x = (b − x̄, log γ − log γ̄,
μ, log σ) of the excess f(W, x) (`reduced_energy`, difference form), from x = 0. Here it is
found by the preconditioned fixed-point iteration x ← x − P(W, x)⁻¹ ∇_x f, with P the inner
Hessian of the α = 0 energy in closed form: 2n/γ I for b, nd for log γ, 2(I_κ + WᵀW/γ) for each
μ_i, 4σ_ik²(1 + (WᵀW)_kk/γ) for each log σ_ik (MATH.md §4 at W ≠ 0). For α > 0 the dead zone only
lowers the true curvature, so P⁻¹H has its spectrum in (0, 1] near collapse and the iteration
contracts; it needs one gradient per step and compiles in about a second, against several for
the arrowhead Newton of `reduced_excess_core` (the same stopping rule: ‖∇_x̃ f‖ ≤ gtol √c in the
collapsed metric). It stops, unconverged, when the gradient norm stops falling; every reported
minimiser whose solve did not converge is re-evaluated with `reduced_excess_core`. Measured
against that core on Proposition 1 data (n = 20, d = 3, α ∈ {0, 0.1}): relative differences
≤ 4e-15 wherever both converge (r ≤ 1 √γ̄ for α = 0.1, r ≤ 4 √γ̄ for α = 0).

**Search on the sphere.** W = r V / ‖V‖_F with V free: an unconstrained minimisation of
asinh(ℓ(rV/‖V‖) / s(r)) from many starts, through the one multi-start engine
(`landscape.tools.engine`, Adam then L-BFGS; the radius and the scale are per-restart
arguments, so every radius runs in one call). The scale s(r) = |`leading_order_excess`| and
the asinh (≈ log 2x for x ≫ 1, ≈ x near 0, odd) make the objective O(1) though ℓ on one sphere
spans hundreds of decades (from 1e-270 to 1e-94 at r = 0.01, α = 0.1 on the default problem);
asinh is increasing, so the minimisers are ℓ's. The gradient is the envelope gradient
∂_W f(W, x*(W)) (the inner solve runs on ``stop_gradient`` inputs).

**Exhaustive at small size.** For dκ ≤ 3 (the sphere is S² or smaller) a Fibonacci grid of
``grid`` directions (default 10 000; ℓ is even in W, so each grid point stands for ±V) is
evaluated at every radius of the first pass, and its four best directions start the search
beside the random and affine ones: there "every direction" is literal, up to the grid's
spacing, and `grid_agreement` reports how far the search from the random and affine starts
alone is from the search that includes the grid's. The grid's values are the excess at the
collapsed inner values, f(W, 0) ≥ ℓ(W) (no inner solve: ~6× cheaper). They only rank the
directions; they equal ℓ to a relative O(e^{−t²/2}), t = α√d/r, where the inner gain is
negligible (`sphere_theory`), and near r* the four best are refined with the inner solve.

Everything runs on the data in its standardised units (`Data.standardised`): the excess is a
difference of energies, so it is the same number in any units, and radii map as r_s = r / √γ̄.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace
from types import SimpleNamespace

import jax
import jax.numpy as jnp
import numpy as np

from landscape.analysis.profiles import affine_descent_directions
from landscape.analysis.reduced_energy import GTOL, excess_parts, excess_reference, reduced_excess_core
from landscape.analysis.sphere_theory import leading_order_excess
from landscape.common import checks as V
from landscape.common.provenance import versions
from landscape.common.results import Result
from landscape.core.data import as_data
from landscape.core.datasets import Prop1Dataset
from landscape.tools import engine

__all__ = ["SphereCertificate", "fibonacci_sphere", "sphere_certificate", "default_radii", "sphere_excess_core"]

UNDERFLOW_T = 30.0  # below r = α√d / 30 the excess exp(−α²d / 2r²) is under 1e-195: the default grid starts there
ROUND_RTOL = 1e-8  # the alternation stops when no sphere's best ℓ (below r*) changes by more than this, relatively
MAX_ITER = 200  # fixed-point iterations of the inner solve
GRID_BLOCK = 2500  # directions per compiled grid evaluation
GRID_CHUNK = 128  # directions per compiled grid evaluation (one shape: one compilation)


def fibonacci_sphere(num: int) -> np.ndarray:
    """``num`` near-uniform unit vectors on S² (the Fibonacci lattice), shape (num, 3)."""
    num = V.check_size("num", num, 1)
    k = np.arange(num) + 0.5
    z = 1.0 - 2.0 * k / num
    phi = math.pi * (1.0 + math.sqrt(5.0)) * k
    rho = np.sqrt(1.0 - z * z)
    return np.stack([rho * np.cos(phi), rho * np.sin(phi), z], axis=1)


def _grid(dk: int, num: int) -> np.ndarray:
    """Near-uniform unit vectors of R^dk for dk ≤ 3 (dk = 1: ±1; dk = 2: a circle; dk = 3: Fibonacci)."""
    if dk == 1:
        return np.ones((1, 1))
    if dk == 2:
        t = np.pi * (np.arange(num) + 0.5) / num  # half the circle: ℓ is even
        return np.stack([np.cos(t), np.sin(t)], axis=1)
    return fibonacci_sphere(num)


def default_radii(X, alpha, num: int = 16) -> np.ndarray:
    """The default radius grid, in the units of X: log-spaced from r_lo to 4α + √λ_1 (α > 0), with
    r_lo = α√d / 30, where the excess is still a normal float64 number (~exp(−450)); for α = 0,
    from 1e-3 √γ̄ to √γ̄."""
    data = as_data(X)
    alpha = float(V.check_alpha(alpha))
    num = V.check_size("num", num, 2)
    if alpha == 0.0:
        s = math.sqrt(data.gamma_bar)
        return np.geomspace(1e-3 * s, s, num)
    lo = alpha * math.sqrt(data.d) / UNDERFLOW_T
    return np.geomspace(lo, 4.0 * alpha + math.sqrt(float(data.eigenvalues[0])), num)


def sphere_excess_core(W, X, xbar, log_gamma_bar, alpha, x0=None, gtol=GTOL, max_iter=MAX_ITER):
    """(ℓ(W) − ℓ(0), converged, x*) by the preconditioned fixed-point inner solve (module docstring).

    Jittable, vmappable, unchecked. x* = (b − x̄, log γ − log γ̄, μ, log σ) is the inner minimiser,
    found from ``x0`` (default the collapsed values, zeros). ``jax.grad`` of the value in W is the
    envelope gradient. Args as `reduced_excess_core`; ``max_iter`` bounds the iterations.
    """
    n, d = X.shape
    kappa = W.shape[1]
    sg = jax.lax.stop_gradient
    Y = X - xbar
    Wc, Yc, lgb, a = map(sg, (W, Y, log_gamma_bar, alpha))
    value_grad = jax.value_and_grad(lambda x: excess_parts(Wc, *x, Yc, lgb, a), has_aux=True)
    G = Wc.T @ Wc
    metric = (0.5 * jnp.exp(lgb) / n, 1.0 / (n * d), 0.5, 0.25)  # D⁻¹ of the collapsed inner Hessian

    def evaluate(x):
        (_, c), grad = value_grad(x)
        norm = jnp.sqrt(sum(jnp.sum(gi * gi) * mi for gi, mi in zip(grad, metric, strict=True)))
        return grad, norm, gtol * jnp.sqrt(c)

    def cond(state):
        _, _, norm, tol, previous, k = state
        return (k < max_iter) & (norm > tol) & (norm < previous)

    def body(state):
        (beta, eta, mu, rho), (gb, ge, gm, gs), norm, _, _, k = state
        inv_gamma = jnp.exp(-(lgb + eta))
        P_mu = 2.0 * (jnp.eye(kappa, dtype=W.dtype) + G * inv_gamma)
        P_rho = 4.0 * jnp.exp(2.0 * rho) * (1.0 + jnp.diag(G) * inv_gamma)
        x = (
            beta - gb / (2.0 * n * inv_gamma),
            eta - ge / (n * d),
            mu - jnp.linalg.solve(P_mu, gm.T).T,
            rho - gs / P_rho,
        )
        return x, *evaluate(x), norm, k + 1

    if x0 is None:
        zeros = jnp.zeros((n, kappa), W.dtype)
        x0 = (jnp.zeros(d, W.dtype), jnp.zeros((), W.dtype), zeros, zeros)
    x0 = tuple(map(sg, x0))
    x, _, norm, tol, _, _ = jax.lax.while_loop(cond, body, (x0, *evaluate(x0), jnp.inf, 0))
    x = tuple(map(sg, x))
    return excess_parts(W, *x, Y, log_gamma_bar, alpha)[0], norm <= tol, x


def _on_sphere(Vd, r):
    return r * Vd / jnp.linalg.norm(Vd)


def _objective(Vd, r, scale, beta, eta, mu, rho, X, xbar, lgb, alpha):
    """asinh(f(r V/‖V‖, x) / s) at a fixed inner point x: the engine's objective (V free; the radius,
    the scale and x per restart). Alternated with the inner solve (module docstring)."""
    f = excess_parts(_on_sphere(Vd, r), beta, eta, mu, rho, X - xbar, lgb, alpha)[0]
    return jnp.arcsinh(f / scale)


@jax.jit
def _inner(Ws, x0, X, xbar, lgb, alpha, max_iter):
    """`sphere_excess_core` over a batch of W (and warm starts): (values, converged, x*)."""
    return jax.vmap(lambda W, x: sphere_excess_core(W, X, xbar, lgb, alpha, x0=x, max_iter=max_iter))(Ws, x0)


@jax.jit
def _exact_values(Ws, X, xbar, lgb, alpha):
    out = jax.vmap(lambda W: reduced_excess_core(W, None, X, xbar, lgb, alpha))(Ws)
    return out.value, out.converged


def _collapsed_inner(count, n, d, kappa):
    zeros = np.zeros((count, n, kappa))
    return (np.zeros((count, d)), np.zeros(count), zeros, zeros)


@jax.jit
def _grid_block(Ws, X, xbar, lgb, alpha):
    n, kappa = X.shape[0], Ws.shape[2]
    zeros = jnp.zeros((n, kappa), Ws.dtype)
    x0 = (jnp.zeros(X.shape[1], Ws.dtype), jnp.zeros((), Ws.dtype), zeros, zeros)
    return jax.vmap(lambda W: excess_parts(W, *x0, X - xbar, lgb, alpha)[0])(Ws)


def _grid_values(Ws, Xs, xbar, lgb, alpha) -> np.ndarray:
    """The excess at the collapsed inner values, f(W, x = 0) ≥ ℓ(W), on a grid of W, in blocks of one shape."""
    out = []
    for i in range(0, len(Ws), GRID_BLOCK):
        block = Ws[i : i + GRID_BLOCK]
        pad = np.concatenate([block, np.repeat(block[:1], GRID_BLOCK - len(block), axis=0)])
        out.append(np.asarray(_grid_block(jnp.asarray(pad), Xs, xbar, lgb, alpha))[: len(block)])
    return np.concatenate(out)


def _best(val, failed, bounds):
    """Per radius (restarts bounds[i]:bounds[i+1]), the lowest finite value, for the alternation's stop."""
    v = np.where(failed | ~np.isfinite(val), np.inf, val)
    return np.array([np.min(v[lo:hi]) for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)])


def _inner_batch(Ws, x0, Xs, xbar, lgb, alpha, max_iter=MAX_ITER):
    """`_inner` in blocks of `GRID_CHUNK` (the last padded): one shape, one compilation, for the grid
    and the engine's endpoints alike. NumPy (values, converged, x*)."""
    parts = []
    for i in range(0, len(Ws), GRID_CHUNK):
        k = min(GRID_CHUNK, len(Ws) - i)

        def pad(a, i=i, k=k):
            block = a[i : i + k]
            return np.concatenate([block, np.repeat(block[:1], GRID_CHUNK - k, axis=0)])

        out = _inner(jnp.asarray(pad(Ws)), tuple(jnp.asarray(pad(a)) for a in x0), Xs, xbar, lgb, alpha, max_iter)
        parts.append(jax.tree.map(lambda a, k=k: np.asarray(a)[:k], out))
    value = np.concatenate([p[0] for p in parts])
    conv = np.concatenate([p[1] for p in parts])
    x = tuple(np.concatenate([p[2][j] for p in parts]) for j in range(4))
    return value, conv, x


@dataclass(frozen=True)
class SphereCertificate(Result):
    """m(r) = min over ‖W‖_F = r of ℓ(W) − ℓ(0) on a radius grid (module docstring).

    Attributes:
      radii: the radii r, ascending, in the units of X.
      min_excess: m(r), the best value found on each sphere (a difference of energies: the same
        in any units).
      minimisers: the best W on each sphere, shape (len(radii), d, κ), units of X.
      spread: per radius, the largest minus the smallest converged value found (the local minima's spread,
        in units of the prediction); starts: per radius, the starts used.
      row_norms: ‖w_j‖ of each minimiser, shape (len(radii), d).
      overlaps: |⟨W/‖W‖, u_l e_kᵀ⟩| of each minimiser with the affine-descent directions (u_l the
        eigenvectors of S with λ_l > γ̄), shape (len(radii), number of directions); empty if none.
      leading_order: the leading-order prediction at each radius (`leading_order_excess`).
      solved: per radius, whether the inner solve at the minimiser converged (fixed-point, else,
        below the first m ≤ 0, the arrowhead Newton of `reduced_excess_core`). Beyond r* an
        unsolved value is the excess at an inner point the solve reached: an upper bound.
      grid_best: per radius, the best value on the direction grid (dκ ≤ 3), else NaN.
      multistart_best: per radius, the best value refined from the random and affine starts alone.
      grid_agreement: max over the first pass's radii below r* (where m(r) > 0 is claimed and
        the grid was evaluated) of |multistart_best − m| / |m|, m refined from all starts
        including the grid's best four (dκ ≤ 3; NaN without a grid or below the first radius):
        how far the multi-start search alone is from the exhaustive one.
      rounds: alternations of sphere search and inner solve used (module docstring).
      r_star: the first radius with m(r) ≤ 0 (None if m > 0 on the whole grid).
      barrier_lower: sup over r < r* of m(r): a lower bound on the barrier out of the basin.
      barrier_mep, barrier_profile: the upper bounds (minimum-energy path, best 1-D profile), when
        the caller supplies them; None otherwise.
      holds: m(r) > 0, with the inner solve converged, at every radius below r* (at least one).
        At α = 0 it holds only where the collapsed point is a strict minimum (λ_1 < γ̄).
      seconds: wall time.
    """

    alpha: float
    radii: np.ndarray
    min_excess: np.ndarray
    minimisers: np.ndarray
    spread: np.ndarray
    starts: int
    row_norms: np.ndarray
    overlaps: np.ndarray
    leading_order: np.ndarray
    solved: np.ndarray
    grid_best: np.ndarray
    multistart_best: np.ndarray
    grid_agreement: float
    rounds: int
    r_star: float | None
    barrier_lower: float | None
    barrier_mep: float | None
    barrier_profile: float | None
    holds: bool
    seconds: float
    config: dict

    _arrays = ("minimisers",)

    def bracket_ok(self) -> bool | None:
        """lower ≤ MEP ≤ profile, where all three are known (None otherwise)."""
        if None in (self.barrier_lower, self.barrier_mep, self.barrier_profile):
            return None
        tol = 1e-9 * max(abs(self.barrier_profile), 1e-300)
        return self.barrier_lower <= self.barrier_mep + tol and self.barrier_mep <= self.barrier_profile + tol

    def with_upper_bounds(
        self, *, mep: float | None = None, profile: float | None = None, exit_radius: float | None = None
    ) -> SphereCertificate:
        """The same certificate with the barrier's upper bounds filled in.

        ``exit_radius``: a radius at which a point with ℓ < 0 is known (where a profile first falls
        below L_c). Then r* ≤ exit_radius whatever the radius grid shows (m(r) can dip below 0
        between two radii of the grid), and r*, barrier_lower, holds and grid_agreement are
        recomputed over the radii below it."""
        out = replace(self, barrier_mep=mep, barrier_profile=profile)
        if exit_radius is None:
            return out
        r_star, lower, holds, agreement = _summary(
            self.radii, self.min_excess, self.solved, self.multistart_best, self.grid_best, exit_radius
        )
        return replace(out, r_star=r_star, barrier_lower=lower, holds=holds, grid_agreement=agreement)


def _summary(radii, m, solved, multistart, grid_best, exit_radius=None):
    """(r*, barrier_lower, holds, grid_agreement) from the per-radius minima (the class docstring).

    r* is the first radius with m ≤ 0, or ``exit_radius`` if that is smaller; below it, m > 0 on
    every sphere (with its inner solve converged) is ``holds``, and sup m is the lower bound."""
    below = np.nonzero(m <= 0)[0]
    r_star = float(radii[below[0]]) if below.size else None
    if exit_radius is not None and (r_star is None or exit_radius < r_star):
        r_star = float(exit_radius)
    inside = radii < r_star if r_star is not None else np.ones(radii.size, dtype=bool)
    head = m[inside]
    lower = float(np.max(head)) if head.size else None
    holds = bool(head.size > 0 and np.all(head > 0) and solved[inside].all())
    gridded = inside & np.isfinite(grid_best)  # the first pass's radii, below r*: where m(r) > 0 is claimed
    agree = np.abs(multistart - m)[gridded] / np.maximum(np.abs(m[gridded]), 1e-300)
    return r_star, lower, holds, float(np.max(agree)) if agree.size else math.nan


def _minimise_spheres(r_s, scale, ctx, warm=None):
    """The search on each sphere of radius r_s (standardised units): per-radius arrays (module docstring).

    Each sphere starts from ctx.base (random and affine directions) plus four more: the grid's best
    (ctx.G, dκ ≤ 3), else ``warm[i]`` (the refinement pass: minimisers of nearby spheres), else none."""
    Xs, xbar, lgb, a_s, base, n, d, kappa = ctx.Xs, ctx.xbar, ctx.lgb, ctx.a_s, ctx.base, *ctx.shape
    G = ctx.G if warm is None else None
    exhaustive = G is not None
    grid_best = np.full(r_s.size, np.nan)
    per_radius = []
    for i, r in enumerate(r_s):
        V0 = list(base) if warm is None else list(base) + list(warm[i])
        if exhaustive:
            vals = _grid_values(r * G, Xs, xbar, lgb, a_s)
            vals = np.where(np.isfinite(vals), vals, np.inf)
            best = np.argsort(vals)[:4]
            grid_best[i] = vals[best[0]]
            V0 += [G[j] for j in best]
        per_radius.append(np.stack(V0))
    sizes = [len(v) for v in per_radius]
    R = sum(sizes)
    r_all, sc_all = np.repeat(r_s, sizes), np.repeat(scale, sizes)
    P = np.concatenate(per_radius)
    val, conv, x = _inner_batch(r_all[:, None, None] * P / np.linalg.norm(P, axis=(1, 2), keepdims=True),
                                _collapsed_inner(R, n, d, kappa), Xs, xbar, lgb, a_s)  # fmt: skip
    failed = np.zeros(R, dtype=bool)
    bounds = np.cumsum([0, *sizes])
    best, used = _best(val, failed, bounds), 0
    for _ in range(ctx.rounds):  # alternate: the sphere at fixed inner points (the engine), then the inner solve
        used += 1
        out = engine.run(
            _objective,
            jnp.asarray(P),
            (jnp.asarray(r_all), jnp.asarray(sc_all), *map(jnp.asarray, x), Xs, xbar, lgb, a_s),
            restarts=R,
            batched_args=(True,) * 6 + (False,) * 4,
            steps=ctx.steps,
            learning_rate=ctx.learning_rate * ctx.decay ** (used - 1),
            polish="none",
            progress=ctx.progress,
            label="spheres",
        )
        P = np.where(out.failed[:, None, None], P, np.asarray(out.params))
        failed |= out.failed
        W = r_all[:, None, None] * P / np.linalg.norm(P, axis=(1, 2), keepdims=True)
        new, conv, x = _inner_batch(W, x, Xs, xbar, lgb, a_s)
        before, best = best, _best(new, failed, bounds)
        claimed = np.cumsum(best <= 0) <= 1  # up to the first sphere with m ≤ 0: where m(r) > 0 is claimed
        if np.all((np.abs(best - before) <= ROUND_RTOL * np.abs(best)) | ~np.isfinite(best) | ~claimed):
            break
    val = np.where(failed | ~np.isfinite(new), np.inf, new)
    m = np.empty(r_s.size)
    minimisers = np.empty((r_s.size, d, kappa))
    spread = np.empty(r_s.size)
    solved = np.empty(r_s.size, dtype=bool)
    multistart = np.empty(r_s.size)
    for i, (lo, hi) in enumerate(zip(np.cumsum([0, *sizes[:-1]]), np.cumsum(sizes), strict=True)):
        vi = val[lo:hi]
        j = int(np.argmin(vi))
        m[i], solved[i] = vi[j], conv[lo + j]
        multistart[i] = np.min(vi[: len(base)])  # the random and affine starts only, without the grid's
        minimisers[i] = W[lo + j]
        ok = np.isfinite(vi)
        spread[i] = float(np.ptp(vi[ok]) / scale[i]) if ok.any() else math.nan
    # where the fixed-point solve stalled below the first m ≤ 0 (where m > 0 is claimed): the arrowhead
    # Newton of `reduced_excess_core`. Beyond it a value found is an upper bound on m, which is all r* needs.
    idx = np.nonzero(~solved & (np.cumsum(m <= 0) == 0))[0]
    if idx.size:
        exact, ok = _exact_values(jnp.asarray(minimisers[idx]), Xs, xbar, lgb, a_s)
        m[idx], solved[idx] = np.asarray(exact), np.asarray(ok)
    return dict(m=m, minimisers=minimisers, spread=spread, solved=solved, multistart=multistart,
                grid_best=grid_best, rounds=used, starts=sizes[0])  # fmt: skip


def sphere_certificate(
    X,
    alpha,
    *,
    kappa: int = 1,
    radii=None,
    starts: int = 16,
    seed: int = 0,
    grid: int = 10_000,
    steps: int = 60,
    learning_rate: float = 0.05,
    decay: float = 0.03,
    rounds: int = 8,
    refine: bool = True,
    progress: bool | None = False,
) -> SphereCertificate:
    """m(r) on a radius grid, each sphere searched from many starts (module docstring).

    Args:
      X: data (n, d), a `landscape.Data`, or a `Prop1Dataset` (its data).
      alpha: the soft threshold α ≥ 0.
      kappa: the latent size κ ≥ 1.
      radii: ascending radii > 0 in the units of X; default `default_radii`.
      starts: random starts per radius, plus (d − 1)κ more: the affine-descent directions and
        random ones for those there are not; and, for dκ ≤ 3, the grid's best four directions.
      seed: the random starts' seed.
      grid: directions of the exhaustive grid when dκ ≤ 3 (0: none).
      steps, learning_rate, decay, rounds: per round, the engine's Adam steps on the free V, at the
        rate learning_rate · decay^k in round k; at most ``rounds`` rounds (module docstring).
      refine: after the first pass, search as many radii again, evenly spaced between the
        neighbours of the radius with the largest m below r*, to resolve barrier_lower; these
        spheres start from the first pass's minimisers instead of the grid (their m is as good
        as the multi-start search; the exhaustive grid is the first pass's).
      progress: the engine's progress bar.
    """
    t0 = time.perf_counter()
    data = as_data(X.data if isinstance(X, Prop1Dataset) else X)
    n, d = data.shape
    alpha = float(V.check_alpha(alpha))
    kappa = V.check_kappa(kappa)
    starts = V.check_size("starts", starts, 1)
    seed = V.check_seed("seed", seed)
    grid = V.check_size("grid", grid, 0)
    steps = V.check_size("steps", steps, 0)
    decay = V.check_tolerance("decay", decay)
    if decay >= 1:
        raise ValueError(f"decay must be < 1 (the rate falls each round), got {decay}.")
    rounds = V.check_size("rounds", rounds, 1)
    V.check_tolerance("learning_rate", learning_rate)
    if radii is None:
        radii = default_radii(data, alpha)
    radii = V.check_real_array("radii", radii).astype(float)
    if radii.ndim != 1 or radii.size == 0 or not np.all(np.isfinite(radii)) or np.any(radii <= 0):
        raise ValueError(f"radii must be a non-empty 1-D array of finite numbers > 0, got {radii!r}.")
    if np.any(np.diff(radii) <= 0):
        raise ValueError("radii must be strictly increasing.")

    s = data.units.scale
    std = data.standardised
    a_s, r_s = alpha / s, radii / s
    xbar, lgb = excess_reference(std)
    Xs = jnp.asarray(std.X)
    scale_of = lambda r: np.maximum(np.abs(leading_order_excess(std, a_s, kappa, r)), 1e-300)  # noqa: E731
    dirs = [dr.U for dr in affine_descent_directions(std, kappa)]
    rng = np.random.default_rng(np.random.SeedSequence([seed, 19]))
    # random starts fill up to starts + (d − 1)κ, the most affine-descent directions there can be, so that
    # every data set of one shape has the same number of restarts (one compilation)
    extra = starts + (d - 1) * kappa - len(dirs)
    exhaustive = d * kappa <= 3 and grid > 0
    G = _grid(d * kappa, grid).reshape(-1, d, kappa) if exhaustive else None
    ctx = SimpleNamespace(
        Xs=Xs, xbar=xbar, lgb=lgb, a_s=a_s, base=[rng.normal(size=(d, kappa)) for _ in range(extra)] + dirs, G=G,
        shape=(n, d, kappa), steps=steps,
        learning_rate=learning_rate, decay=decay, rounds=rounds, progress=progress,
    )  # fmt: skip
    res = _minimise_spheres(r_s, scale_of(r_s), ctx)
    m = res["m"]
    below = np.nonzero(m <= 0)[0]
    if refine and below.size and below[0] > 0:  # resolve sup m(r) below r*: as many radii again, about the best
        k = int(np.argmax(m[: below[0]]))
        lo = r_s[k - 1] if k > 0 else r_s[0] / 2
        extra = np.linspace(lo, r_s[k + 1], r_s.size + 2)[1:-1]
        extra = extra[~np.isin(extra, r_s)]
        if (
            extra.size
        ):  # started from the minimisers of the four nearest first-pass spheres (the same count as the grid's)
            near = np.argsort(np.abs(extra[:, None] - r_s[None, :]), axis=1)[:, : 4 if exhaustive else 0]
            more = _minimise_spheres(extra, scale_of(extra), ctx, warm=res["minimisers"][near])
            order = np.argsort(np.concatenate([r_s, extra]))
            res = {
                k: max(v, more[k]) if np.isscalar(v) else np.concatenate([v, more[k]])[order] for k, v in res.items()
            }
            r_s = np.concatenate([r_s, extra])[order]
    radii = r_s * s
    m, solved, multistart, grid_best = res["m"], res["solved"], res["multistart"], res["grid_best"]
    minimisers = res["minimisers"] * s
    row_norms = np.linalg.norm(minimisers, axis=2)
    unit_dirs = np.stack([u / np.linalg.norm(u) for u in dirs]) if dirs else np.zeros((0, d, kappa))
    overlaps = np.abs(np.einsum("rdk,ldk->rl", minimisers / radii[:, None, None], unit_dirs))
    r_star, barrier_lower, holds, agreement = _summary(radii, m, solved, multistart, grid_best)
    config = dict(alpha=alpha, kappa=kappa, n=n, d=d, starts=starts, seed=seed, grid=grid, steps=steps,
                  learning_rate=learning_rate, decay=decay, rounds=rounds) | {"versions": versions()}  # fmt: skip
    return SphereCertificate(
        alpha=alpha,
        radii=radii,
        min_excess=m,
        minimisers=minimisers,
        spread=res["spread"],
        starts=res["starts"],
        row_norms=row_norms,
        overlaps=overlaps,
        leading_order=leading_order_excess(data, alpha, kappa, radii),
        solved=solved,
        grid_best=grid_best,
        multistart_best=multistart,
        grid_agreement=agreement,
        rounds=res["rounds"],
        r_star=r_star,
        barrier_lower=barrier_lower,
        barrier_mep=None,
        barrier_profile=None,
        holds=holds,
        seconds=time.perf_counter() - t0,
        config=config,
    )
