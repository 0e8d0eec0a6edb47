"""Newton's method for arrowhead problems: a few global parameters, many per-point locals.

An objective ``f(g, L, *args)`` with globals g ∈ ℝ^m and locals L ∈ ℝ^{n×q} is
*arrowhead* when row i of L (point i's locals) interacts with nothing but g and
itself, ∂²f/∂L_i∂L_j = 0 for i ≠ j, as in any sum Σ_i f_i(g, L_i) plus a term in g.
Its Hessian is then

    H = [[A,  B_1 … B_n ],
         [B_1ᵀ  D_1       ],         A: m×m,  B_i: m×q,  D_i: q×q,
         [ ⋮        ⋱     ],
         [B_nᵀ        D_n ]]

(the layout of `landscape.analysis.schur`, Haynsworth 1968). `arrowhead_blocks` reads
A, all B_i and all D_i from m + q Hessian-vector products of f (a colouring: a tangent
equal to e_k in column k of *every* row of L reads column k of every D_i at once,
because the rows do not interact), never forming H: O(n) memory.

`arrowhead_newton_minimize` is `landscape.tools.newton.newton_minimize` on this
structure, with the same stopping rule, line search and safeguards. Its step solves
M p = −∇f with the positive definite arrowhead matrix

    M = [[|S| + Σ_i B_i |D_i|⁻¹ B_iᵀ,  B], [Bᵀ, diag |D_i|]],
    S = A − Σ_i B_i |D_i|⁻¹ B_iᵀ,

where |·| replaces each eigenvalue by its absolute value, floored at 1e-12 times
max(max|λ(A)|, max_i max|λ(D_i)|) (a lower bound of ‖H‖₂, by Cauchy interlacing). Its
Schur complement is |S| > 0, so M is positive definite and p is a descent direction;
where H is positive definite (every D_i and S are), M = H and p is the exact Newton
step, as the dense saddle-free step −V|Λ|⁻¹Vᵀ∇f is there. By block elimination,

    |S| p_g = −∇_g f + Σ_i B_i |D_i|⁻¹ ∇_{L_i} f,    p_{L_i} = −|D_i|⁻¹ (∇_{L_i} f + B_iᵀ p_g),

which costs O(n(mq² + q³) + m³) per step against the dense step's O((m + nq)³).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from landscape.common import checks as V
from landscape.tools.newton import armijo_backtrack

__all__ = ["ArrowheadNewtonResult", "arrowhead_blocks", "arrowhead_newton_minimize"]

FLOOR_RTOL = 1e-12  # |λ| is floored at FLOOR_RTOL · ‖H‖ (estimated), as in `newton_minimize`


class ArrowheadNewtonResult(NamedTuple):
    """Outcome of `arrowhead_newton_minimize` (a pytree, so it vmaps).

    g, L: the final globals (m,) and locals (n, q); value: f(g, L); grad_norm: ‖∇f‖₂
    over all m + nq parameters; steps: Newton steps taken; converged: grad_norm ≤ gtol.
    """

    g: jax.Array
    L: jax.Array
    value: jax.Array
    grad_norm: jax.Array
    steps: jax.Array
    converged: jax.Array


def arrowhead_blocks(f, g, L, args: tuple = ()):
    """(∇_g f, ∇_L f, A, B, D) of an arrowhead objective at (g, L), from m + q HVPs.

    Args:
      f: scalar ``f(g, L, *args)``, twice differentiable, with ∂²f/∂L_i∂L_j = 0 for
        i ≠ j (rows of L do not interact; not checked: the D_i read off are wrong otherwise).
      g: globals, shape (m,); L: locals, shape (n, q).

    Returns:
      grad_g (m,), grad_L (n, q), A (m, m) = ∇²_g f, B (n, m, q) with B_i = ∂²f/∂g∂L_i,
      D (n, q, q) with D_i = ∂²f/∂L_i².
    """
    m, q = g.shape[0], L.shape[1]

    def grad(gg, LL):
        return jax.grad(f, argnums=(0, 1))(gg, LL, *args)

    (gg, gL), lin = jax.linearize(grad, g, L)
    eye_m = jnp.eye(m, dtype=g.dtype)
    hg, hL = jax.vmap(lambda t: lin(t, jnp.zeros_like(L)))(eye_m)  # (m, m), (m, n, q)
    tangents = jnp.broadcast_to(jnp.eye(q, dtype=L.dtype)[:, None, :], (q,) + L.shape)
    _, dL = jax.vmap(lambda t: lin(jnp.zeros_like(g), t))(tangents)  # (q, n, q): [k, i, :] = D_i[:, k]
    A = 0.5 * (hg + hg.T)
    B = jnp.transpose(hL, (1, 0, 2))
    D = jnp.transpose(dL, (1, 2, 0))
    D = 0.5 * (D + jnp.swapaxes(D, 1, 2))
    return gg, gL, A, B, D


def _direction(grad_g, grad_L, A, B, D):
    """The step p = −M⁻¹∇f of the module docstring, by block elimination."""
    lam_d, Q = jnp.linalg.eigh(D)  # (n, q), (n, q, q)
    lam_a = jnp.linalg.eigvalsh(A) if A.shape[0] else jnp.zeros(0, A.dtype)
    scale = jnp.maximum(jnp.max(jnp.abs(lam_d), initial=0.0), jnp.max(jnp.abs(lam_a), initial=0.0))
    floor = jnp.maximum(FLOOR_RTOL * scale, 1e-300)
    inv_d = 1.0 / jnp.maximum(jnp.abs(lam_d), floor)  # |D_i|⁻¹ = Q_i diag(inv_d_i) Q_iᵀ
    C = jnp.einsum("imq,iqr->imr", B, Q)  # B_i Q_i
    rL = jnp.einsum("iqr,iq->ir", Q, grad_L)  # Q_iᵀ ∇_{L_i} f
    S = A - jnp.einsum("imr,ir,ikr->mk", C, inv_d, C)
    S = 0.5 * (S + S.T)
    rhs = -grad_g + jnp.einsum("imr,ir->m", C, inv_d * rL)
    lam_s, U = jnp.linalg.eigh(S)
    p_g = U @ ((U.T @ rhs) / jnp.maximum(jnp.abs(lam_s), floor))
    w = inv_d * (rL + jnp.einsum("imr,m->ir", C, p_g))  # |Λ_i|⁻¹ Q_iᵀ (∇_{L_i} f + B_iᵀ p_g)
    p_L = -jnp.einsum("iqr,ir->iq", Q, w)
    return p_g, p_L


def arrowhead_newton_minimize(
    f, g0, L0, args: tuple = (), *, gtol: float = 1e-11, max_steps: int = 100, max_halvings: int = 40
) -> ArrowheadNewtonResult:
    """Minimise an arrowhead objective ``f(g, L, *args)`` by positive definite Newton steps.

    The same loop as `landscape.tools.newton.newton_minimize` (stop at ‖∇f‖₂ ≤ gtol,
    at ``max_steps``, or when ``max_halvings`` Armijo halvings find no acceptable step;
    the Armijo test has the same 64·eps·|f| rounding slack), with the step of the module
    docstring in place of the dense eigendecomposition. Where the Hessian is positive
    definite the steps are the dense solver's; memory is O(n(m + q)q), never O((m + nq)²).

    Args:
      f: scalar ``f(g, L, *args)`` with the arrowhead structure (see `arrowhead_blocks`).
      g0: starting globals, shape (m,); L0: starting locals, shape (n, q).
      args: extra arguments of f (arrays may be traced).
      gtol, max_steps, max_halvings: as for `newton_minimize`.
    """
    V.check_tolerance("gtol", gtol, allow_zero=True)  # under jit, traced settings pass unchecked
    V.check_size("max_steps", max_steps, 0)
    V.check_size("max_halvings", max_halvings, 0)
    if g0.ndim != 1 or L0.ndim != 2:
        raise ValueError(f"g0 must be 1-D and L0 2-D (n, q); got shapes {g0.shape} and {L0.shape}.")

    def fun(g, L):
        return f(g, L, *args)

    value_and_grad = jax.value_and_grad(fun, argnums=(0, 1))

    def norm(gg, gL):
        return jnp.sqrt(jnp.sum(gg**2) + jnp.sum(gL**2))

    def step(state):
        g, L, fx, (gg, gL), k, _ = state
        _, _, A, B, D = arrowhead_blocks(f, g, L, args)
        p_g, p_L = _direction(gg, gL, A, B, D)
        slope = gg @ p_g + jnp.sum(gL * p_L)
        t, ft, ok = armijo_backtrack(lambda t: fun(g + t * p_g, L + t * p_L), fx, slope, max_halvings)
        g_new = jnp.where(ok, g + t * p_g, g)
        L_new = jnp.where(ok, L + t * p_L, L)
        f_new, grads = value_and_grad(g_new, L_new)
        return g_new, L_new, f_new, grads, k + 1, ~ok

    def cond(state):
        _, _, _, (gg, gL), k, stuck = state
        return (k < max_steps) & (norm(gg, gL) > gtol) & ~stuck

    f0, grads0 = value_and_grad(g0, L0)
    g, L, fx, (gg, gL), k, _ = jax.lax.while_loop(cond, step, (g0, L0, f0, grads0, 0, False))
    gn = norm(gg, gL)
    return ArrowheadNewtonResult(g=g, L=L, value=fx, grad_norm=gn, steps=k, converged=gn <= gtol)
