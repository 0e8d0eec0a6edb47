"""The best diagonal-Gaussian encoder for a fixed decoder, and the ELBO gap it leaves (issue 9).

Eq. (5) is −2·ELBO − nd log 2π + nκ. On the same scale the exact likelihood of the same
generative model (z ~ N(0, I), x | z ~ N(π_α(Wz) + b, γI)) is

    L_p(θ) = −2 Σ_i log p_θ(x_i) − nd log 2π + nκ     (`landscape.marginal.marginal_energy`)

and L(θ, φ) ≥ L_p(θ) for every φ, with equality iff every q(z | x_i) is the exact posterior.

- `optimal_phi`: min_φ L(θ, φ) with θ fixed. Eq. (5) separates over the data points, so
  each point's (μ_i, log σ_i) (2κ numbers) is minimised on its own: saddle-free Newton
  (`landscape.newton_minimize`) from several starts — the prior; the affine (pPCA) posterior;
  a grid along the latent axes; for κ = 1 the mode of the posterior restricted to each of
  the 2d + 1 intervals between the kinks ±α/|w_j| (where p(z | x) is Gaussian,
  `landscape.marginal`) — keeping the lowest. min_φ L(θ, ·) is −2·(the best
  diagonal-Gaussian ELBO) on eq. (5)'s scale.
- `elbo_gap`: log p_θ(x_i) − ELBO*_i ≥ 0 per point (nats), and in eq. (5) units (2×).

Everything is float64 and exact for κ = 1; for κ = 2 the likelihood is a graded quadrature
(`landscape.marginal.log_marginal` reports its accuracy estimate). Bad arguments raise
``ValueError`` naming the argument.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from landscape.common import checks as V
from landscape.common.provenance import to_jsonable
from landscape.core.decoder import DecoderParams, check_likelihood_kappa, check_theta
from landscape.core.marginal import log_marginal
from landscape.core.moments import expected_sq_error_elementwise
from landscape.core.params import VAEParams
from landscape.tools.newton import newton_minimize

__all__ = ["OptimalPhi", "ElboGap", "optimal_phi", "elbo_gap", "check_problem", "eq5_to_nats", "phi_batch"]

_LOG_2PI = math.log(2.0 * math.pi)
_EPS = float(np.finfo(np.float64).eps)
_GRID_1D = np.array([-3.0, -2.0, -1.0, 1.0, 2.0, 3.0])
_GRID_2D = np.stack(np.meshgrid(np.linspace(-2.0, 2.0, 5), np.linspace(-2.0, 2.0, 5), indexing="ij"), -1).reshape(-1, 2)
_BURST = 4  # Newton steps between convergence tests in `optimal_phi`


# ---------------------------------------------------------------------------------------
# Argument checks (shared by landscape.likelihood_collapsed, likelihood_basins and two_stage)


def check_problem(X, alpha, kappa=None):
    """(n, d, κ, γ̄) after checking X (2-D, finite, not constant), α ≥ 0 and κ ∈ {1, 2}."""
    n, d = V.check_data(X)
    a = V.concrete(V.check_alpha(alpha))
    if a is not None and float(a) > 1e150:
        raise ValueError(
            f"alpha must be <= 1e150 for the exact likelihood (alpha² enters its closed forms), got {alpha!r}."
        )
    gbar = V.check_not_constant(X)
    k = None if kappa is None else check_likelihood_kappa(kappa)
    return n, d, k, float(gbar)


def _as_theta(theta, d: int) -> DecoderParams:
    """θ as float64 `DecoderParams` (a `VAEParams` gives its θ part), shapes and values checked by
    `landscape.marginal`'s own check."""
    return check_theta(theta, d)[0]


def eq5_to_nats(energy, d, kappa):
    """Per-point eq. (5) value → ELBO (or log p) in nats: −(L_i + d log 2π − κ)/2."""
    return -0.5 * (np.asarray(energy, dtype=float) + d * _LOG_2PI - kappa)


# ---------------------------------------------------------------------------------------
# min over φ of eq. (5) at fixed θ


def _point_energy(x, y, W, log_gamma, alpha):
    """Point i's bracket of eq. (5) as a function of φ_i = (μ_i, log σ_i), flat (2κ,)."""
    k = W.shape[1]
    mu, ls = x[:k], x[k:]
    s2 = jnp.exp(2.0 * ls)
    m = W @ mu
    v = (W * W) @ s2
    rec = jnp.sum(expected_sq_error_elementwise(y, m, v, alpha))
    return rec * jnp.exp(-log_gamma) + y.shape[0] * log_gamma + jnp.sum(s2 - 2.0 * ls + mu * mu)


def _start_labels(d: int, kappa: int) -> tuple[str, ...]:
    labels = ["prior", "affine posterior"]
    if kappa == 1:
        labels += [f"grid z={z:g}" for z in _GRID_1D]
        labels += [f"cell {c}" for c in range(2 * d + 1)]
    else:
        labels += [f"grid z=({a:g},{b:g})" for a, b in _GRID_2D]
    return tuple(labels)


def _starts(theta, Y, alpha):
    """Starting (μ, log σ) for every point: (S, n, κ) each (see `optimal_phi`)."""
    W, _, lg = theta
    d, k = W.shape
    n = Y.shape[0]
    g = jnp.exp(lg)
    G = W.T @ W
    mu_aff = jnp.linalg.solve(G + g * jnp.eye(k), W.T @ Y.T).T  # (n, κ)
    ls0 = 0.5 * (lg - jnp.log(g + jnp.diag(G)))  # pPCA posterior sd, per axis
    mus = [jnp.zeros((n, k)), mu_aff]
    lss = [jnp.zeros((n, k)), jnp.broadcast_to(ls0, (n, k))]
    grid = _GRID_1D[:, None] if k == 1 else _GRID_2D
    for z in grid:
        mus.append(jnp.broadcast_to(jnp.asarray(z), (n, k)))
        lss.append(jnp.broadcast_to(ls0, (n, k)))
    mu_s, ls_s = jnp.stack(mus), jnp.stack(lss)
    if k == 1:  # the posterior's mode on each interval between kinks (κ = 1: piecewise Gaussian)
        w = W[:, 0]
        aw = jnp.abs(w)
        real = aw > 1e-150
        kink = jnp.where(real & (aw * 1e50 > alpha), alpha / jnp.where(real, aw, 1.0), 1e50)
        cuts = jnp.sort(jnp.concatenate([-kink, kink]))
        lo = jnp.concatenate([jnp.array([-jnp.inf]), cuts])
        hi = jnp.concatenate([cuts, jnp.array([jnp.inf])])
        mid = jnp.concatenate(
            [cuts[:1] - 1.0 - jnp.abs(cuts[:1]), 0.5 * (cuts[:-1] + cuts[1:]), cuts[-1:] + 1.0 + jnp.abs(cuts[-1:])]
        )
        u = mid[:, None] * w[None, :]
        act = jnp.abs(u) > alpha
        a = jnp.where(act, w[None, :], 0.0)  # (P, d)
        c = jnp.where(act, -alpha * jnp.sign(u), 0.0)
        M = g + jnp.sum(a * a, axis=1)  # (P,) γ × posterior precision
        m = jnp.einsum("npd,pd->pn", Y[:, None, :] - c[None], a) / M[:, None]  # (P, n)
        m = jnp.clip(m, lo[:, None], hi[:, None])
        ls_c = 0.5 * (lg - jnp.log(M))
        mu_s = jnp.concatenate([mu_s, m[..., None]])
        ls_s = jnp.concatenate([ls_s, jnp.broadcast_to(ls_c[:, None, None], m.shape + (1,))])
    return mu_s, ls_s


def _phi_done(f, x, gtol):
    """(value, ‖g‖, Newton step ‖H⁻¹g‖, H positive definite, converged) at x.

    Converged: ‖g‖ ≤ gtol·max(1, |f|), or H positive definite and the Newton step below the
    rounding of x (≤ 64·eps·(1 + ‖x‖)), which at tiny γ comes before the gradient test can.
    """
    v, g = jax.value_and_grad(f)(x)
    H = jax.hessian(f)(x)
    lam, vec = jnp.linalg.eigh(0.5 * (H + H.T))
    pd = lam[0] > 0
    step = jnp.where(pd, jnp.linalg.norm((vec.T @ g) / jnp.where(pd, lam, 1.0)), jnp.inf)
    gn = jnp.linalg.norm(g)
    conv = (gn <= gtol * jnp.maximum(1.0, jnp.abs(v))) | (step <= 64.0 * _EPS * (1.0 + jnp.linalg.norm(x)))
    return v, gn, step, pd, conv


def _phi_star_one(theta, X, alpha, gtol, steps):
    """min_φ eq. (5) at one θ: per point, Newton from every start, the lowest end point kept.

    Each (start, point) problem runs `landscape.newton_minimize` in bursts of `_BURST` steps
    until it passes the test of `_phi_done` (re-evaluated after every burst, so relative to
    the current value, not the start's), or Newton is stuck (a burst leaves φ_i unchanged to
    rounding, or its line search finds no decrease that float64 can represent: at tiny γ, or
    where L_i is a small difference of large terms, the gradient's rounding floor is above
    gtol), or ``steps`` are spent. Under vmap all problems step together, so stopping at the
    attainable precision keeps this cheap.
    """
    W, b, lg = theta
    Y = X - b
    k = W.shape[1]
    mu_s, ls_s = _starts(theta, Y, alpha)
    x0 = jnp.concatenate([mu_s, ls_s], axis=-1)  # (S, n, 2κ)

    def solve(x, y):
        f = partial(_point_energy, y=y, W=W, log_gamma=lg, alpha=alpha)

        def cond(c):
            x, j, conv, stuck = c
            return (j < steps) & ~conv & ~stuck

        def body(c):
            x, j, _, _ = c
            r = newton_minimize(f, x, gtol=gtol * jnp.maximum(1.0, jnp.abs(f(x))), max_steps=_BURST)
            ok = jnp.all(jnp.isfinite(r.x))
            moved = jnp.linalg.norm(r.x - x) > 64.0 * _EPS * (1.0 + jnp.linalg.norm(x))
            stuck = ~ok | ~moved | ((r.steps < _BURST) & ~r.converged)
            return jnp.where(ok, r.x, x), j + _BURST, ok & r.converged, stuck

        x, _, _, stuck = jax.lax.while_loop(cond, body, (x, 0, False, False))
        v, gn, step, pd, conv = _phi_done(f, x, gtol)
        return x, v, gn, step, conv | (stuck & pd)

    xs, vals, gns, steps_, dones = jax.vmap(jax.vmap(solve, in_axes=(0, 0)), in_axes=(0, None))(x0, Y)
    vals = jnp.where(jnp.isfinite(vals), vals, jnp.inf)
    # the lowest value, ties within rounding going to a converged start with the smallest gradient
    # (a stalled start can sit an ulp below the converged one)
    vmin = jnp.min(vals, axis=0)
    near = vals <= vmin + 1e-12 * jnp.maximum(1.0, jnp.abs(vmin))
    best = jnp.argmin(jnp.where(near, gns + jnp.where(dones, 0.0, 1e100), jnp.inf), axis=0)  # (n,)

    def pick(a):
        return jnp.take_along_axis(a, best.reshape((1, -1) + (1,) * (a.ndim - 2)), axis=0)[0]

    x_fin, v, gn, step, done = (pick(a) for a in (xs, vals, gns, steps_, dones))
    scale = jnp.maximum(1.0, jnp.abs(v))
    distinct = jnp.sum(jnp.isfinite(vals) & (vals - v[None] > 1e-8 * scale[None]) & _first_of_kind(vals, scale), axis=0)
    return x_fin[:, :k], x_fin[:, k:], v, gn, step, done, best, distinct + 1


def _first_of_kind(vals, scale):
    """True for the first start (in order) of each distinct value among the starts of a point."""
    S = vals.shape[0]
    close = jnp.abs(vals[:, None, :] - vals[None, :, :]) <= 1e-8 * scale[None, None, :]
    earlier = jnp.tril(jnp.ones((S, S), dtype=bool), k=-1)[:, :, None]
    return ~jnp.any(close & earlier, axis=1)


@partial(jax.jit, static_argnames=("steps",))
def _phi_star_many(thetas, X, alpha, gtol, *, steps):
    return jax.vmap(lambda th: _phi_star_one(th, X, alpha, gtol, steps))(thetas)


def _bucket(B: int) -> int:
    """Batch sizes are padded to a multiple of 8, so that few shapes are compiled."""
    return 8 * max(1, math.ceil(B / 8))


@dataclass(frozen=True)
class OptimalPhi:
    """min over φ of eq. (5) at a fixed θ, point by point (from `optimal_phi`).

    Attributes:
      params: θ with the optimal φ, a `VAEParams`.
      energy: eq. (5) there, Σ_i point_energies = −2·ELBO* − nd log 2π + nκ.
      point_energies: each point's bracket of eq. (5), shape (n,).
      grad_norms: ‖∂L/∂φ_i‖₂ per point (φ_i = (μ_i, log σ_i); L is separable, so this is
        point i's block of the full gradient).
      newton_steps: ‖H⁻¹g‖ per point, the length of the next Newton step (inf where the
        point's 2κ × 2κ Hessian is not positive definite).
      converged: per point, grad_norm ≤ gtol·max(1, |L_i|), or (where rounding bounds the
        attainable gradient: tiny γ, or L_i a small difference of large terms) a positive
        definite Hessian with a Newton step below the rounding of φ_i (≤ 64·eps·(1 + ‖φ_i‖)),
        or at which Newton's line search finds no decrease that float64 can represent.
      best_start: per point, the index (into ``start_labels``) of the start that won.
      n_local_optima: per point, the number of distinct values the starts ended at (> 1: the
        per-point problem has several local minima; the lowest is kept).
      start_labels: the starts, in order.
      config: the settings.
    """

    params: VAEParams
    energy: float
    point_energies: np.ndarray
    grad_norms: np.ndarray
    newton_steps: np.ndarray
    converged: np.ndarray
    best_start: np.ndarray
    n_local_optima: np.ndarray
    start_labels: tuple[str, ...]
    config: dict = field(default_factory=dict)

    @property
    def max_grad_norm(self) -> float:
        return float(np.max(self.grad_norms))

    @property
    def all_converged(self) -> bool:
        return bool(np.all(self.converged))

    def to_dict(self, arrays: bool = True) -> dict:
        out = {
            "energy": self.energy,
            "max_grad_norm": self.max_grad_norm,
            "all_converged": self.all_converged,
            "max_local_optima": int(np.max(self.n_local_optima)),
            "config": self.config,
        }
        if arrays:
            out |= {
                "point_energies": self.point_energies,
                "grad_norms": self.grad_norms,
                "converged": self.converged,
                "best_start": [self.start_labels[int(i)] for i in self.best_start],
                "n_local_optima": self.n_local_optima,
                "mu": np.asarray(self.params.mu),
                "log_sigma": np.asarray(self.params.log_sigma),
            }
        return to_jsonable(out)


def phi_batch(thetas: DecoderParams, X, alpha, gtol=1e-9, steps=100):
    """NumPy outputs of `_phi_star_many` for a batch of θ (leading axis), padded to `_bucket`."""
    B = int(np.shape(thetas.W)[0])
    pad = np.concatenate([np.arange(B), np.zeros(_bucket(B) - B, dtype=int)])
    out = _phi_star_many(
        jax.tree.map(lambda a: jnp.asarray(a, dtype=jnp.float64)[pad], thetas),
        jnp.asarray(X, dtype=jnp.float64),
        jnp.asarray(alpha, dtype=jnp.float64),
        jnp.asarray(gtol, dtype=jnp.float64),
        steps=steps,
    )
    return tuple(np.asarray(a)[:B] for a in out)


def optimal_phi(theta, X, alpha, *, gtol: float = 1e-9, steps: int = 100) -> OptimalPhi:
    """min over φ = {μ_i, log σ_i} of eq. (5) with θ = (W, b, log γ) held fixed.

    Eq. (5) is a sum over points, and point i's bracket depends on θ and φ_i alone, so the
    minimisation separates into n problems of 2κ parameters. Each is solved by saddle-free
    Newton (`landscape.newton_minimize`, exact 2κ × 2κ Hessians) from every start — the prior
    (μ = 0, σ = 1); the affine posterior μ = (WᵀW + γI)⁻¹Wᵀ(x − b) with the pPCA posterior
    sd per axis; a grid along the latent axes (κ = 1: ±1, ±2, ±3; κ = 2: a 5 × 5 grid on
    [−2, 2]²); and for κ = 1 the mode of the exact posterior restricted to each of the
    2d + 1 intervals between the kinks ±α/|w_j| (where it is Gaussian) — until it passes the
    convergence test below (checked every few Newton steps) or ``steps`` steps are spent; the
    lowest end point is kept. The test is ‖∇‖ ≤ gtol·max(1, |L_i|), or H positive definite
    and either a Newton step below the rounding of φ_i or no representable decrease along it:
    at tiny γ (the reconstructing path) the gradient cannot reach gtol in float64.

    Returns:
      An `OptimalPhi`: −2·ELBO*(θ) − nd log 2π + nκ = ``energy``, the per-point gradient
      norms, Newton step lengths and convergence flags, and which start won.
    """
    n, d, _, _ = check_problem(X, alpha)
    th = _as_theta(theta, d)
    gtol = V.check_positive("gtol", gtol)
    steps = V.check_size("steps", steps, 1)
    batch = jax.tree.map(lambda a: a[None], th)
    mu, ls, v, gn, step, done, best, nloc = (a[0] for a in phi_batch(batch, X, alpha, gtol, steps))
    params = VAEParams(th.W, th.b, th.log_gamma, jnp.asarray(mu), jnp.asarray(ls))
    kappa = th.W.shape[1]
    return OptimalPhi(
        params=params,
        energy=float(np.sum(v)),
        point_energies=v,
        grad_norms=gn,
        newton_steps=step,
        converged=done.astype(bool),
        best_start=best,
        n_local_optima=nloc,
        start_labels=_start_labels(d, kappa),
        config={
            "gtol": gtol,
            "steps": steps,
            "starts": len(_start_labels(d, kappa)),
        },
    )


# ---------------------------------------------------------------------------------------
# The ELBO gap


@dataclass(frozen=True)
class ElboGap:
    """log p_θ(x_i) − ELBO_i ≥ 0 with the ELBO at φ (optimal unless given), from `elbo_gap`.

    Attributes (nats unless said otherwise):
      log_p: log p_θ(x_i), shape (n,) (`landscape.marginal.log_marginal`).
      elbo: ELBO_i = −(L_i + d log 2π − κ)/2 with L_i point i's bracket of eq. (5).
      gap: log_p − elbo per point; total: their sum.
      total_energy_units: the same on eq. (5)'s scale, L(θ, φ) − L_p(θ) = 2·total.
      log_likelihood, elbo_total: Σ log p, Σ ELBO.
      marginal_energy, elbo_energy: L_p(θ) and L(θ, φ) (eq. (5) units).
      log_marginal_error: the accuracy estimate of Σ log p (exact κ = 1: rounding).
      resolution: per point, the size below which a gap is not resolved: float64 rounding of
        both sides plus the log-likelihood's accuracy estimate (nats).
      phi: the `OptimalPhi` used (None when φ was given).
      phi_optimal: whether φ was minimised here.
    """

    log_p: np.ndarray
    elbo: np.ndarray
    gap: np.ndarray
    total: float
    total_energy_units: float
    log_likelihood: float
    elbo_total: float
    marginal_energy: float
    elbo_energy: float
    log_marginal_error: float
    resolution: np.ndarray
    phi: OptimalPhi | None
    phi_optimal: bool

    @property
    def min_gap(self) -> float:
        return float(np.min(self.gap))

    @property
    def nonnegative(self) -> bool:
        """Every point's gap ≥ −resolution (ELBO ≤ log p, as it must be)."""
        return bool(np.all(self.gap >= -self.resolution))

    def to_dict(self, arrays: bool = True) -> dict:
        out = {
            "total": self.total,
            "total_energy_units": self.total_energy_units,
            "log_likelihood": self.log_likelihood,
            "elbo_total": self.elbo_total,
            "marginal_energy": self.marginal_energy,
            "elbo_energy": self.elbo_energy,
            "log_marginal_error": self.log_marginal_error,
            "min_gap": self.min_gap,
            "max_resolution": float(np.max(self.resolution)),
            "nonnegative": self.nonnegative,
            "phi_optimal": self.phi_optimal,
            "phi": None if self.phi is None else self.phi.to_dict(arrays=False),
        }
        if arrays:
            out |= {"log_p": self.log_p, "elbo": self.elbo, "gap": self.gap}
        return to_jsonable(out)


def elbo_gap(theta, X, alpha, *, phi=None, gtol: float = 1e-9) -> ElboGap:
    """The gap log p_θ(x_i) − ELBO_i(θ, φ) ≥ 0 per point, with φ = `optimal_phi`(θ) unless given.

    With φ optimal this is the price of the diagonal-Gaussian q at θ: −ELBO*(θ) − (−log p_θ),
    zero iff each exact posterior p(z | x_i) is a diagonal Gaussian (e.g. at the α = 0 pPCA
    optimum, whose W has orthogonal columns). In eq. (5) units it is
    min_φ L(θ, φ) − L_p(θ) = 2 × (nats).

    Args:
      theta: `DecoderParams` or `VAEParams` (its θ part; its φ part is used only if passed
        as ``phi``).
      X, alpha: data (n, d) and α ≥ 0.
      phi: optional `VAEParams` whose (mu, log_sigma) to use instead of the optimum.
      gtol: the tolerance of `optimal_phi`.
    """
    n, d, _, _ = check_problem(X, alpha)
    th = _as_theta(theta, d)
    kappa = th.W.shape[1]
    lm = log_marginal(th, X, alpha)
    if phi is None:
        op = optimal_phi(th, X, alpha, gtol=gtol)
        point_L = op.point_energies
    else:
        if not isinstance(phi, VAEParams):
            raise ValueError(
                f"phi must be a landscape.VAEParams (its mu and log_sigma are used), got {type(phi).__name__}."
            )
        mu = np.asarray(phi.mu, dtype=float)
        ls = np.asarray(phi.log_sigma, dtype=float)
        if mu.shape != (n, kappa) or ls.shape != (n, kappa):
            raise ValueError(
                f"phi.mu and phi.log_sigma must have shape (n, kappa) = ({n}, {kappa}); got {mu.shape}, {ls.shape}."
            )
        if not (np.all(np.isfinite(mu)) and np.all(np.isfinite(ls))):
            raise ValueError("phi contains NaN or inf; pass finite encoder moments.")
        op = None
        xs = jnp.concatenate([jnp.asarray(mu), jnp.asarray(ls)], axis=1)
        Y = jnp.asarray(X, dtype=jnp.float64) - th.b
        point_L = np.asarray(
            jax.vmap(lambda x, y: _point_energy(x, y, th.W, th.log_gamma, jnp.asarray(alpha, jnp.float64)))(xs, Y)
        )
    elbo = eq5_to_nats(point_L, d, kappa)
    log_p = lm.points
    gap = log_p - elbo
    resolution = 16 * _EPS * (np.abs(log_p) + np.abs(elbo) + d * _LOG_2PI) + lm.error_points
    Lp = -2.0 * lm.total - n * d * _LOG_2PI + n * kappa
    return ElboGap(
        log_p=log_p,
        elbo=elbo,
        gap=gap,
        total=float(np.sum(gap)),
        total_energy_units=float(2.0 * np.sum(gap)),
        log_likelihood=float(lm.total),
        elbo_total=float(np.sum(elbo)),
        marginal_energy=float(Lp),
        elbo_energy=float(np.sum(point_L)),
        log_marginal_error=float(lm.error_total),
        resolution=resolution,
        phi=op,
        phi_optimal=phi is None,
    )
