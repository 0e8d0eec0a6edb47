"""Energy profiles along W = t·U with the other parameters re-minimised (MATH.md §4).

At the collapsed point for α > 0 every W direction has zero curvature, so the
second-order test is inconclusive. The profile

    f_U(t) = min_{b, γ, μ, σ} L(W = t·U, b, γ, μ, σ)

settles it along U: for α > 0 it rises to a barrier before it can fall; for α = 0 it
falls from t = 0 along the affine-descent directions U = u_l e_kᵀ with λ_l(S) > γ̄.
Each f_U(t) is computed by continuation in t (warm-started Newton, `newton_minimize`),
so it follows the branch that starts at the collapsed point, and the gradient norm of
every inner minimisation is kept as evidence that it converged.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

from landscape.common import checks as V
from landscape.core.collapsed import collapsed_point
from landscape.core.data import as_data, data_array
from landscape.core.energy import energy_objective
from landscape.core.params import VAEParams, as_float64_params, check_params
from landscape.tools.arrowhead import arrowhead_newton_minimize

__all__ = [
    "Direction",
    "Profile",
    "affine_descent_directions",
    "random_directions",
    "energy_profile",
    "barrier_profiles",
    "profile_exit",
]

SHAPES = ("barrier", "rises", "falls", "flat")


@dataclass(frozen=True)
class Direction:
    """A unit direction U (‖U‖_F = 1, shape (d, κ)) in W-space, with how it was chosen."""

    U: np.ndarray
    label: str
    kind: str  # "affine_descent" or "random"
    eigenvalue: float | None = None  # λ_l(S) for an eigen-direction


@dataclass(frozen=True)
class Profile:
    """f_U(t) − f_U(0) on a grid of t, with its shape and barrier.

    Attributes:
      direction: the `Direction` probed.
      t: grid, ascending from 0.
      energy: f_U(t).
      rel: f_U(t) − f_U(0).
      grad_norm: ‖∇‖ of the inner minimisation at each t (evidence it converged).
      shape: "falls" (below f(0) right after t = 0), "barrier" (rises, then falls
        below f(0)), "rises" (stays above f(0) over the whole grid: the height is a
        lower bound), or "flat" (no change beyond ``tol``: inconclusive).
      barrier_height: max rel before the profile first falls below 0 (0 for "falls").
      barrier_t: where that maximum is.
      tol: |rel| ≤ tol counts as no change.
    """

    direction: Direction
    t: np.ndarray
    energy: np.ndarray
    rel: np.ndarray
    grad_norm: np.ndarray
    shape: str
    barrier_height: float
    barrier_t: float
    tol: float
    extras: dict = field(default_factory=dict)

    @property
    def max_inner_grad_norm(self) -> float:
        """Worst inner-minimisation gradient over the whole grid."""
        return float(np.max(self.grad_norm))

    @property
    def evidence_grad_norm(self) -> float:
        """Worst inner gradient over the part the shape rests on: up to the first fall.

        Past the first fall the energy may be unbounded below at fixed W (then the
        inner solver diverges); that part does not enter the conclusion.
        """
        stop = _first_fall(self.rel, self.tol)
        end = self.rel.size if stop is None else stop + 1
        return float(np.max(self.grad_norm[:end]))

    def to_dict(self, arrays: bool = True) -> dict:
        out = {
            "label": self.direction.label,
            "kind": self.direction.kind,
            "eigenvalue": self.direction.eigenvalue,
            "shape": self.shape,
            "barrier_height": self.barrier_height,
            "barrier_t": self.barrier_t,
            "tol": self.tol,
            "max_inner_grad_norm": self.max_inner_grad_norm,
            "evidence_grad_norm": self.evidence_grad_norm,
        }
        if arrays:
            out["U"] = self.direction.U.tolist()
            out["t"] = self.t.tolist()
            out["rel"] = self.rel.tolist()
        return out


def affine_descent_directions(X, kappa: int) -> list[Direction]:
    """U = u_l e_kᵀ for every eigenvector u_l of S with λ_l > γ̄ and every latent k.

    These are the W-parts of the negative-curvature directions of the collapsed
    point at α = 0 (MATH.md §4): the directions in which a barrier is not a given.
    """
    kappa = V.check_kappa(kappa)
    data = as_data(X)
    lam, vec, gbar, d = data.eigenvalues, data.eigenvectors, float(data.gamma_bar), data.d
    out = []
    for l in range(d):  # λ descending
        if lam[l] <= gbar:
            continue
        for k in range(kappa):
            U = np.zeros((d, kappa))
            U[:, k] = vec[:, l]
            rank = int(np.sum(lam > lam[l])) + 1
            out.append(Direction(U=U, label=f"u{rank} e{k + 1}", kind="affine_descent", eigenvalue=float(lam[l])))
    return out


def random_directions(d: int, kappa: int, count: int, seed: int) -> list[Direction]:
    """``count`` Gaussian directions in W-space, normalised to ‖U‖_F = 1."""
    d, count = V.check_size("d", d, 1), V.check_size("count", count, 0)
    kappa, seed = V.check_kappa(kappa), V.check_seed("seed", seed)
    rng = np.random.default_rng(np.random.SeedSequence([seed, 7]))
    out = []
    for r in range(count):
        U = rng.normal(size=(d, kappa))
        out.append(Direction(U=U / np.linalg.norm(U), label=f"random {r + 1}", kind="random"))
    return out


def _inner_energy(g, L, W, X, alpha, gamma):
    """Eq. (5) at fixed W as an arrowhead objective: globals g = (b, log γ), locals L_i = (μ_i, log σ_i).

    Point i's encoder moments enter only its own term of the sum, so the rows of L do
    not interact (the structure of `landscape.analysis.schur`).
    """
    d, kappa = W.shape
    return energy_objective(VAEParams(W, g[:d], g[d], L[:, :kappa], L[:, kappa:]), X, alpha, gamma)


def _split(params: VAEParams):
    """(g, L) = ((b, log γ), (μ, log σ)) of ``params``: the variables of the inner problem."""
    g = jnp.concatenate([params.b, jnp.reshape(params.log_gamma, (1,))])
    return g, jnp.concatenate([params.mu, params.log_sigma], axis=1)


@jax.jit
def _profile_scan(X, alpha, U, ts, g0, L0, gamma):
    """Continuation along ts for one direction U; returns (energies, grad norms, (g, L) states).

    Each inner minimisation is `arrowhead_newton_minimize` over (b, log γ, μ, log σ),
    O(n) memory and work per step (the dense Newton of `newton_minimize` needs O(n²)
    memory and O(n³) work; the two agree where the inner Hessian is positive definite).
    """

    def body(x, t):
        res = arrowhead_newton_minimize(_inner_energy, *x, (t * U, X, alpha, gamma), gtol=1e-11, max_steps=100)
        return (res.g, res.L), (res.value, res.grad_norm, res.g, res.L)

    _, (vals, gns, gs, Ls) = jax.lax.scan(body, (g0, L0), ts)
    return vals, gns, gs, Ls


@jax.jit
def _profile_scan_many(X, alpha, Us, ts, g0s, L0s, gamma):
    """`_profile_scan` for each direction, one after the other (`lax.map`).

    Not `vmap`: a batched ``while_loop`` steps every direction until the slowest one has
    converged, and past a profile's fall the inner problem can take the full ``max_steps``.
    """
    return jax.lax.map(lambda a: _profile_scan(X, alpha, *a, gamma), (Us, ts, g0s, L0s))


def energy_profile(X, alpha, start: VAEParams, U, ts, *, gamma=None):
    """f_U(t) on the grid ``ts`` by continuation from ``start`` (whose W is ignored).

    Returns ``(energies, inner_grad_norms)`` as NumPy arrays.
    """
    X = data_array(X)
    n, d = X.shape
    alpha = V.check_alpha(alpha)
    gamma = V.check_gamma(gamma)
    try:
        start = as_float64_params(start)
        kappa = check_params(start, n, d)
    except ValueError as err:
        raise ValueError(f"start: {err}") from None
    U = V.check_real_array("U", U).astype(float)
    if U.shape != (d, kappa):
        raise ValueError(f"U must have the shape of W, (d, kappa) = ({d}, {kappa}); got {U.shape}.")
    ts = V.check_real_array("ts", ts).astype(float)
    if ts.ndim != 1 or ts.size == 0 or not np.all(np.isfinite(ts)):
        raise ValueError("ts must be a non-empty 1-D array of finite values.")
    g0, L0 = _split(start)
    X = jnp.asarray(X, dtype=jnp.float64)
    vals, gns, _, _ = _profile_scan(X, alpha, jnp.asarray(U), jnp.asarray(ts), g0, L0, gamma)
    return np.asarray(vals), np.asarray(gns)


def _classify(t, rel, tol):
    """Shape of a profile rel = f(t) − f(0) on an ascending grid starting at t = 0."""
    finite = np.isfinite(rel)
    if rel.size < 2:
        return "flat", 0.0, 0.0
    if rel[1] < -tol or (not finite[1]):
        return "falls", 0.0, 0.0
    below = np.nonzero(~finite | (rel < -tol))[0]
    stop = int(below[0]) if below.size else rel.size
    k = int(np.argmax(rel[:stop]))
    if rel[k] <= tol:
        return "flat", 0.0, 0.0
    return ("barrier" if below.size else "rises"), float(rel[k]), float(t[k])


def profile_grid(alpha: float, t_max: float, num: int) -> np.ndarray:
    """The t grid of `barrier_profiles`: ``num`` points from 0 to ``t_max``.

    For α > 0 the first half is uniform on [0, 2α] (the barrier sits near α/2 for unit
    directions, MATH.md §4), the rest geometric from 2α to t_max, so the barrier is
    resolved however small α is. For α = 0 (or 2α ≥ t_max) it is quadratic,
    t_k = t_max (k / (num − 1))², dense near 0 where the fall starts.
    """
    if alpha > 0 and 2.0 * alpha < t_max:
        half = num // 2
        head = np.linspace(0.0, 2.0 * alpha, half + 1)
        tail = np.geomspace(2.0 * alpha, t_max, num - half)[1:]
        return np.concatenate([head, tail])
    return t_max * (np.arange(num) / (num - 1)) ** 2


def default_t_max(alpha: float, lam1: float) -> float:
    """The profiles' default range, t_max = 4α + √λ_1 (λ_1 the top eigenvalue of S), which must be finite."""
    t_max = 4.0 * float(alpha) + float(np.sqrt(lam1))
    if not np.isfinite(t_max):
        raise ValueError(
            f"alpha = {float(alpha)!r} is too large for the profiles' default range t_max = 4·alpha + √λ_1, "
            "which overflows float64; pass a finite t_max where the function takes one, or rescale the data."
        )
    return t_max


def _first_fall(rel, tol):
    below = np.nonzero(~np.isfinite(rel) | (rel < -tol))[0]
    return int(below[0]) if below.size else None


def barrier_profiles(
    X,
    alpha,
    kappa: int,
    directions: list[Direction],
    *,
    t_max: float | None = None,
    num: int = 81,
    max_extensions: int = 3,
    gamma=None,
) -> list[Profile]:
    """Profiles f_U(t) from the collapsed point for each direction, barriers located.

    The grid is `profile_grid`: uniform on [0, 2α] and geometric beyond for α > 0,
    quadratic for α = 0; the default t_max is 4α + √λ_1(S). While an affine-descent profile
    has not yet fallen below f(0), the grid is extended to 2 t_max, 3 t_max, … (at most
    ``max_extensions`` times). Around each maximum the grid is then refined with
    another ``num`` points, so the barrier height is not limited by the spacing.
    All grids have the same length, so the inner solver compiles once.
    """
    if not isinstance(directions, (list, tuple)) or not all(isinstance(u, Direction) for u in directions):
        raise ValueError(
            "directions must be a list of Direction objects (from random_directions or affine_descent_directions), "
            f"got {type(directions).__name__}."
        )
    data = as_data(X)
    n, d = data.shape
    alpha = V.check_alpha(alpha)
    gamma = V.check_gamma(gamma)
    kappa = V.check_kappa(kappa)
    if not directions:
        raise ValueError("directions is empty; pass at least one Direction to probe.")
    num = V.check_size("num", num, 5)
    max_extensions = V.check_size("max_extensions", max_extensions, 0)
    if t_max is None:
        t_max = default_t_max(alpha, float(data.eigenvalues[0]))
    t_max = V.check_tolerance("t_max", t_max)
    start = collapsed_point(data, kappa)
    g0, L0 = _split(start)
    Xj = jnp.asarray(data.X)
    Us = jnp.asarray(np.stack([dr.U for dr in directions]))
    R = len(directions)
    tol = 1e-12 * max(1.0, abs(float(energy_objective(start, Xj, alpha, gamma))))

    def run(ts, g_start, L_start):
        out = _profile_scan_many(Xj, alpha, Us, jnp.asarray(ts), jnp.asarray(g_start), jnp.asarray(L_start), gamma)
        return tuple(np.asarray(a) for a in out)

    ts = np.tile(profile_grid(float(alpha), t_max, num), (R, 1))
    vals, gns, gs, Ls = run(ts, np.tile(np.asarray(g0), (R, 1)), np.tile(np.asarray(L0), (R, 1, 1)))
    must_fall = np.array([dr.kind == "affine_descent" for dr in directions])
    for _ in range(max_extensions):
        rel = vals - vals[:, :1]
        fallen = np.array([_first_fall(rel[r], tol) is not None for r in range(R)])
        if np.all(fallen | ~must_fall):
            break
        last = ts[0, -1]
        ext = np.tile(np.linspace(last, last + t_max, num + 1)[1:], (R, 1))
        ev, eg, egs, eLs = run(ext, gs[:, -1], Ls[:, -1])
        ts, vals = np.concatenate([ts, ext], 1), np.concatenate([vals, ev], 1)
        gns, gs, Ls = np.concatenate([gns, eg], 1), np.concatenate([gs, egs], 1), np.concatenate([Ls, eLs], 1)

    # Refine between the neighbours of each interior maximum before the first fall.
    rel = vals - vals[:, :1]
    fine = np.empty((R, num))
    lo_at = np.zeros(R, dtype=int)
    refine = np.zeros(R, dtype=bool)
    for r in range(R):
        stop = _first_fall(rel[r], tol) or rel.shape[1]
        k = int(np.argmax(rel[r, :stop]))
        refine[r] = k > 0
        lo, hi = max(k - 1, 0), min(k + 1, ts.shape[1] - 1)
        fine[r] = np.linspace(ts[r, lo], ts[r, hi], num + 2)[1:-1]
        lo_at[r] = lo
    if np.any(refine):
        rows = np.arange(R)
        fv, fg, _, _ = run(fine, gs[rows, lo_at], Ls[rows, lo_at])

    out = []
    for r, dr in enumerate(directions):
        keep = refine[r]
        t_all = np.concatenate([ts[r], fine[r]]) if keep else ts[r]
        v_all = np.concatenate([vals[r], fv[r]]) if keep else vals[r]
        g_all = np.concatenate([gns[r], fg[r]]) if keep else gns[r]
        order = np.argsort(t_all, kind="stable")
        t_all, v_all, g_all = t_all[order], v_all[order], g_all[order]
        rel_r = v_all - vals[r, 0]
        shape, height, where = _classify(t_all, rel_r, tol)
        out.append(Profile(dr, t_all, v_all, rel_r, g_all, shape, height, where, tol))
    return out


def profile_exit(profiles) -> float | None:
    """The smallest t at which a "barrier" profile is below its start: ℓ(tU) < ℓ(0) there, so r* ≤ t."""
    exits = []
    for p in profiles:
        if p.shape == "barrier":
            after = np.nonzero((p.t > p.barrier_t) & (p.rel < 0))[0]
            if after.size:
                exits.append(float(p.t[after[0]]))
    return min(exits) if exits else None
