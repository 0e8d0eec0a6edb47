"""Index-1 saddles: P-RFO steps, Newton polishing on ∇f = 0 and the connectivity check (MATH.md §5).

The pieces of `landscape.tools.string_method.minimum_energy_path` that act at the top of the
pass: the partitioned rational-function step of the climbing image (Baker, J. Comput. Chem. 7,
385, 1986), plain Newton on ∇f = 0 that makes the climbing image an actual saddle (whose
Hessian inertia, `landscape.tools.inertia.inertia`, certifies it: index 1 at a mountain pass),
and the check that steepest descent from the saddle returns to the start and reaches the end.
For any jittable scalar objective ``f(params, *args)`` over a pytree (through its flat view).
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from landscape.tools.flat import flat_fn
from landscape.tools.newton import newton_minimize

__all__ = [
    "prfo_step", "newton_polish", "eigenvector_following", "descend_from_saddle", "minimize", "check_connectivity",
]  # fmt: skip


def prfo_step(g, lam, vec, v_prev, trust):
    """One partitioned rational-function step towards an index-1 saddle (Baker 1986).

    In the eigenbasis of H, the mode with the largest overlap with ``v_prev`` (mode
    following) is maximised and every other mode minimised, each by a rational-function
    (shifted Newton) step: p_j = g_j / (σ₊ − λ_j) uphill with σ₊ = (λ_j + √(λ_j² + 4g_j²))/2,
    and p_i = −g_i / (λ_i − σ₋) downhill with σ₋ the lowest eigenvalue of the augmented
    Hessian [[Λ, g], [gᵀ, 0]] of the other modes (σ₋ < min λ_i, so every such step descends,
    whatever the sign of λ_i). At a non-degenerate index-1 saddle both shifts vanish to second
    order and the step is the Newton step; where the Hessian is nearly flat or has other
    negative modes (the dead-zone W rows of eq. (5)) it still goes the right way. The step is
    cut to length ``trust``. ``lam, vec``: the Hessian's eigenvalues and eigenvectors (columns).
    Returns (step, followed eigenvector).
    """
    P = lam.shape[0]
    j = jnp.argmax(jnp.abs(vec.T @ v_prev))
    gi = vec.T @ g
    lj, gj = lam[j], gi[j]
    s_up = 0.5 * (lj + jnp.sqrt(lj**2 + 4.0 * gj**2))
    den_up = s_up - lj
    p_up = jnp.where(den_up > 0, gj / jnp.where(den_up > 0, den_up, 1.0), 0.0)
    others = jnp.arange(P) != j
    big = 10.0 * jnp.max(jnp.abs(lam)) + 1.0
    lam_r = jnp.where(others, lam, big)
    g_r = jnp.where(others, gi, 0.0)
    aug = jnp.zeros((P + 1, P + 1), lam.dtype)
    aug = aug.at[:P, :P].set(jnp.diag(lam_r)).at[:P, P].set(g_r).at[P, :P].set(g_r)
    s_dn = jnp.minimum(jnp.linalg.eigvalsh(aug)[0], 0.0)
    den_dn = lam_r - s_dn
    p_dn = jnp.where(den_dn > 0, -g_r / jnp.where(den_dn > 0, den_dn, 1.0), 0.0)
    p = vec @ jnp.where(others, p_dn, p_up)
    norm = jnp.linalg.norm(p)
    p = jnp.where(norm > trust, p * (trust / jnp.maximum(norm, 1e-300)), p)
    v = vec[:, j]
    return p, jnp.where(jnp.dot(v, v_prev) < 0, -v, v)


@partial(jax.jit, static_argnums=(0, 1))
def _value_grad_hess(f, spec, x, args):
    fx = flat_fn(f, spec, args)
    v, g = jax.value_and_grad(fx)(x)
    return v, g, jax.hessian(fx)(x)


@partial(jax.jit, static_argnums=(0, 1, 4))
def _minimize(f, spec, x0, args, max_steps, gtol):
    return newton_minimize(flat_fn(f, spec, args), x0, gtol=gtol, max_steps=max_steps)


def newton_polish(f, spec, x, args, *, steps, gtol, radius, rtol=1e-12, max_halvings=30):
    """Plain Newton on ∇f = 0 (pseudo-inverse of the dense Hessian), backtracking on ‖∇f‖.

    The Newton step p = −H⁺∇f is a descent direction for ½‖∇f‖² whatever the inertia of H,
    so halving it until ‖∇f‖ falls is safe; a step is accepted only if ‖∇f‖ falls and the
    point stays within ``radius`` of where polishing started (near the path).
    """
    x0 = x
    v, g, H = (np.asarray(a) for a in _value_grad_hess(f, spec, jnp.asarray(x), args))
    gn = float(np.linalg.norm(g))
    taken = 0
    for _ in range(steps):
        if gn <= gtol:
            break
        lam, vec = np.linalg.eigh(0.5 * (H + H.T))
        cut = rtol * float(np.max(np.abs(lam)))
        inv = np.where(np.abs(lam) > cut, 1.0 / np.where(lam == 0, 1.0, lam), 0.0)
        p = -vec @ (inv * (vec.T @ g))
        t, accepted = 1.0, False
        for _ in range(max_halvings):
            xn = x + t * p
            if np.linalg.norm(xn - x0) <= radius:
                vn, gn_vec, Hn = (np.asarray(a) for a in _value_grad_hess(f, spec, jnp.asarray(xn), args))
                gnn = float(np.linalg.norm(gn_vec))
                if np.isfinite(vn) and np.isfinite(gnn) and gnn < gn:
                    accepted = True
                    break
            t *= 0.5
        if not accepted:
            break
        x, v, g, H, gn = xn, vn, gn_vec, Hn, gnn
        taken += 1
    return x, float(v), gn, H, taken


def eigenvector_following(f, spec, x, args, v, *, step=0.05, trust=0.1, max_steps=300, gtol=1e-8, rtol=1e-10):
    """A single-ended transition-state search: from x + step·v, P-RFO steps that follow mode v uphill.

    Hybrid eigenvector-following from a minimum (Cerjan & Miller 1981; Baker 1986; Wales, *Energy
    Landscapes* §6.2.4): each step maximises along the Hessian eigenvector that overlaps most with the
    one followed so far and minimises along all the others (`prfo_step`), cut to ``trust``, until
    ‖∇f‖ ≤ 1e-4·max(1, |f|) with exactly one eigenvalue below −rtol·max|λ|; then `newton_polish`
    to ‖∇f‖ ≤ gtol, and the index is counted again at the polished point.
    Returns (x, value, ‖∇f‖, n_negative, eigenvector of the lowest eigenvalue, steps); n_negative = −1
    (and the eigenvector None) if it never reached index 1.
    """
    x = np.asarray(x, dtype=float) + step * np.asarray(v, dtype=float)
    v_prev = jnp.asarray(v)
    taken = 0
    for taken in range(1, max_steps + 1):
        val, g, H = (np.asarray(a) for a in _value_grad_hess(f, spec, jnp.asarray(x), args))
        with np.errstate(over="ignore", invalid="ignore"):  # a walk that ran off: stop, no warning
            ran_off = not (np.isfinite(val) and np.isfinite(np.linalg.norm(g)) and np.all(np.isfinite(H)))
        if ran_off:
            return x, float(val), float("nan"), -1, None, taken
        lam, vec = np.linalg.eigh(0.5 * (H + H.T))
        if _index(lam, rtol) == 1 and np.linalg.norm(g) <= 1e-4 * max(1.0, abs(float(val))):
            break
        p, v_prev = prfo_step(jnp.asarray(g), jnp.asarray(lam), jnp.asarray(vec), v_prev, trust)
        x = x + np.asarray(p)
    else:
        return x, float(val), float(np.linalg.norm(g)), -1, None, taken
    x, val, gn, H, _ = newton_polish(f, spec, x, args, steps=30, gtol=gtol, radius=trust)
    lam, vec = np.linalg.eigh(0.5 * (H + H.T))
    return x, val, gn, _index(lam, rtol), vec[:, 0], taken


def _index(lam, rtol):
    """The number of eigenvalues below −rtol·max|λ|."""
    return int(np.sum(lam < -rtol * np.max(np.abs(lam))))


def minimize(f, spec, x, args, max_steps, gtol=1e-10):
    """Saddle-free Newton (`newton_minimize`) from the flat point x: (x, value, ‖∇f‖, steps)."""
    res = _minimize(f, spec, jnp.asarray(x), args, max_steps, gtol)
    return np.asarray(res.x), float(res.value), float(res.grad_norm), int(res.steps)


def descend_from_saddle(f, spec, args, x, v, step, max_steps, gtol=1e-10) -> list[dict]:
    """Minimise from x − step·v and x + step·v (saddle-free Newton, `newton_minimize`).

    x: the saddle (flat); v: its negative-curvature eigenvector. Returns one dict per side
    (sign −1, then +1) with the end point "x" (flat NumPy), "energy", "grad_norm", "steps" and
    "converged" (‖∇f‖ ≤ gtol).
    """
    out = []
    for sign in (-1.0, 1.0):
        res = _minimize(f, spec, jnp.asarray(np.asarray(x) + sign * step * np.asarray(v)), args, max_steps, gtol)
        out.append(
            {
                "sign": sign,
                "x": np.asarray(res.x),
                "energy": float(res.value),
                "grad_norm": float(res.grad_norm),
                "steps": int(res.steps),
                "converged": bool(float(res.grad_norm) <= gtol),
            }
        )
    return out


def check_connectivity(f, spec, args, X, k, spectrum, e_start, e_end, step, max_steps) -> dict:
    v = spectrum.eigenvectors[:, 0]
    xs = X[k]
    if step is None:
        step = 0.05 * min(np.linalg.norm(xs - X[k - 1]), np.linalg.norm(xs - X[k + 1]))
    etol = 1e-6 * max(1.0, abs(e_start))
    sides, ends = [], []
    for side in descend_from_saddle(f, spec, args, xs, v, step, max_steps):
        xe = side.pop("x")
        side.pop("converged")
        ends.append(xe)
        sides.append(
            side
            | {
                "distance_to_start": float(np.linalg.norm(xe - X[0])),
                "distance_to_end": float(np.linalg.norm(xe - X[-1])),
            }
        )
    # the side that ends nearer the start (relative to the end) plays "back to the start"
    order = sorted(range(2), key=lambda i: sides[i]["distance_to_start"] - sides[i]["distance_to_end"])
    a, b = sides[order[0]], sides[order[1]]
    apart = np.linalg.norm(ends[0] - ends[1]) > 1e-3 * np.linalg.norm(X[-1] - X[0])
    # back: at the start's level or below (a start that is not stationary lies above its minimum)
    back = a["energy"] <= e_start + etol and a["distance_to_start"] < a["distance_to_end"]
    # forward: elsewhere, and below the start's level (e.g. down an unbounded valley), or at the
    # end's level or below, nearer the end than the start
    forward = apart and (
        b["energy"] < e_start - etol or (b["energy"] <= e_end + etol and b["distance_to_end"] < b["distance_to_start"])
    )
    return {
        "step": float(step),
        "energy_tol": etol,
        "sides": sides,
        "returns_to_start": bool(back),
        "reaches_end_side": bool(forward),
        "connected": bool(back and forward),
    }
