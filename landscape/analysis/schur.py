"""Exact Hessian inertia at scale, by Haynsworth's inertia additivity.

Order the parameters of eq. (5) as θ = (W, b, log γ) (p = dκ + d + 1 of them) and
φ_i = (μ_i, log σ_i) (q = 2κ per point). Point i's encoder moments enter only its own
term of the sum, so the Hessian is an arrowhead:

    H = [[A,  B_1 … B_n ],
         [B_1ᵀ  D_1       ],
         [ ⋮        ⋱     ],
         [B_nᵀ        D_n ]]      A: p×p,  B_i: p×q,  D_i: q×q.

If D = diag(D_i) is invertible, Haynsworth (1968) gives
inertia(H) = inertia(D) + inertia(S), S = A − Σ_i B_i D_i⁻¹ B_iᵀ (the Schur complement).
Only p×p and q×q matrices are ever formed: O(n(pq² + q³)) work and O(p² + chunk·pq)
memory, where dense ``eigh`` needs O(P³) and O(P²) with P = p + nq.

A singular (or nearly singular) D_i is handled exactly, not perturbed: write
D_i = Q_i Λ_i Q_iᵀ. Rotating φ_i by the orthogonal Q_i is a congruence, so it keeps
the inertia; the directions with |Λ_ij| > singular_tol are eliminated (their block is
diagonal and invertible), and the rest stay beside θ in the retained matrix

    R = [[A − Σ C_reg Λ_reg⁻¹ C_regᵀ,  C_sing],
         [C_singᵀ,                     Λ_sing]],   C_i = B_i Q_i,

whose inertia is computed by dense ``eigh``. Then inertia(H) = inertia(Λ_reg) +
inertia(R), exactly. By default singular_tol = max(tol, 1e-6 · max_i ‖D_i‖): a direction
is eliminated only if it is well resolved relative to its own block, so the division
by Λ never amplifies rounding in a numerically singular block.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from landscape.common import checks as V
from landscape.common.results import Result
from landscape.core.energy import check_energy_args, energy_objective
from landscape.core.params import VAEParams
from landscape.tools.inertia import DEFAULT_RTOL

__all__ = ["SchurInertia", "block_inertia", "schur_inertia", "hessian_blocks"]

SINGULAR_RTOL = 1e-6
MAX_RETAINED = 4000


@dataclass(frozen=True)
class SchurInertia(Result):
    """The inertia of an arrowhead Hessian, by Haynsworth additivity, with its diagnostics.

    Attributes:
      n_negative, n_zero, n_positive: the inertia of H; |λ| ≤ tol counts as zero (in
        the retained Schur complement; eliminated directions have |λ| > singular_tol ≥ tol).
      tol: the zero tolerance.
      size: P, the order of H.
      d_inertia: (negative, retained, positive) counts over the eigenvalues of the
        D_i blocks; "retained" are those with |λ| ≤ singular_tol, kept in R.
      singular_tol: the threshold below which a D direction is retained, not eliminated.
      d_min_abs_eigenvalue: min |λ| over all D_i blocks (0 for a singular D).
      schur_eigenvalues: ascending eigenvalues of the retained Schur complement R.
      scale: max(max|λ(A)|, max|λ(D_i)|), a lower bound of ‖H‖₂ by Cauchy interlacing;
        tol = rtol·scale by default.
      seconds: wall time.
      method: "haynsworth" (D invertible) or "haynsworth+retained" (singular D
        directions kept in R).
    """

    n_negative: int
    n_zero: int
    n_positive: int
    tol: float
    size: int
    d_inertia: tuple[int, int, int]
    singular_tol: float
    d_min_abs_eigenvalue: float
    schur_eigenvalues: np.ndarray
    scale: float
    seconds: float
    method: str

    @property
    def inertia(self) -> tuple[int, int, int]:
        return (self.n_negative, self.n_zero, self.n_positive)

    @property
    def schur_min_eigenvalue(self) -> float:
        """The smallest eigenvalue of the (retained) Schur complement."""
        return float(self.schur_eigenvalues[0])

    @property
    def d_singular(self) -> bool:
        """Whether some D_i direction was too small to eliminate (said so, and kept in R)."""
        return self.d_inertia[1] > 0

    @property
    def zero_gap(self) -> tuple[float, float]:
        """(largest |λ_R| counted as zero, smallest |λ_R| counted nonzero): the margin around tol."""
        a = np.abs(self.schur_eigenvalues)
        z = a[a <= self.tol]
        nz = a[a > self.tol]
        return (float(z.max()) if z.size else 0.0, float(nz.min()) if nz.size else float("inf"))

    _keys = ("n_negative", "n_zero", "n_positive", "tol", "size", "d_inertia", "d_singular", "singular_tol",
             "d_min_abs_eigenvalue", "schur_min_eigenvalue", "schur_size", "zero_gap", "scale", "seconds",
             "method")  # fmt: skip

    @property
    def schur_size(self):
        """The size of the Schur complement."""
        return int(self.schur_eigenvalues.size)


# ------------------------------------------------------------------ the algorithm


@jax.jit
def _d_eigvals(D):
    return jnp.linalg.eigvalsh(D)


@jax.jit
def _eliminate(B, D, valid, singular_tol):
    """One chunk: Σ C_reg Λ_reg⁻¹ C_regᵀ, sign counts of Λ_reg, and the retained mask."""
    lam, Qd = jnp.linalg.eigh(D)
    C = jnp.einsum("ipq,iqr->ipr", B, Qd)
    reg = (jnp.abs(lam) > singular_tol) & valid[:, None]
    inv = jnp.where(reg, 1.0 / jnp.where(reg, lam, 1.0), 0.0)
    S = jnp.einsum("ipq,iq,irq->pr", C, inv, C)
    n_neg = jnp.sum(reg & (lam < 0))
    n_pos = jnp.sum(reg & (lam > 0))
    retained = (~reg) & valid[:, None]
    return S, n_neg, n_pos, retained, lam, C


def _chunks(n, chunk_size):
    for start in range(0, n, chunk_size):
        idx = np.arange(start, min(start + chunk_size, n))
        pad = chunk_size - idx.size
        valid = np.ones(chunk_size, bool)
        if pad:
            valid[idx.size :] = False
            idx = np.concatenate([idx, np.full(pad, idx[-1])])
        yield idx, valid


def _check_settings(tol, rtol, singular_rtol, chunk_size, max_retained) -> int:
    """The tolerances and sizes of `block_inertia` and `schur_inertia`; returns chunk_size."""
    V.check_zero_tolerance(tol, rtol)
    V.check_tolerance("singular_rtol", singular_rtol, allow_zero=True, below=1)
    V.check_size("max_retained", max_retained, 0)
    return V.check_size("chunk_size", chunk_size, 1)


def _haynsworth(A, get_blocks, n, *, tol, rtol, singular_rtol, chunk_size, max_retained):
    """One pass over the points; thresholds that grow during the pass are fixed up exactly.

    The zero tolerance and the singular threshold depend on max|λ(D_i)| over all
    points, known only at the end. Each chunk is eliminated with the thresholds known
    so far; at the end, the few points with a direction that was eliminated but falls
    below the final threshold are recomputed: their eliminated contribution is taken
    back out and they are redone with the final threshold.
    """
    t0 = time.perf_counter()
    A = np.asarray(A, dtype=np.float64)
    if not np.all(np.isfinite(A)):
        raise ValueError(
            "the Hessian's global block is not finite at these inputs (params, X, alpha or gamma "
            "overflow float64); the inertia is undefined there."
        )
    A = 0.5 * (A + A.T)
    p = A.shape[0]
    chunk_size = int(min(chunk_size, max(n, 1)))
    a_scale = float(np.max(np.abs(np.linalg.eigvalsh(A)))) if p else 0.0

    def thresholds(d_scale):
        t = rtol * max(a_scale, d_scale) if tol is None else float(tol)
        return t, max(t, singular_rtol * d_scale)

    S = np.zeros((p, p))
    n_neg = n_pos = 0
    lam_all = np.zeros((n, 0))
    used = np.zeros(n)  # the singular threshold each point was eliminated with
    d_scale = 0.0
    ret_cols, ret_diag, ret_pts = [], [], []
    for idx, valid in _chunks(n, chunk_size):
        B, D = get_blocks(idx)
        lam = np.asarray(_d_eigvals(D))
        d_scale = max(d_scale, float(np.max(np.abs(lam[valid]))))
        _, s_tol = thresholds(d_scale)
        S_c, nn, npos, retained, lam, C = _eliminate(B, D, jnp.asarray(valid), s_tol)
        lam = np.asarray(lam)
        if lam_all.shape[1] == 0:
            lam_all = np.zeros((n, lam.shape[1]))
        lam_all[idx[valid]] = lam[valid]
        used[idx[valid]] = s_tol
        S += np.asarray(S_c)
        n_neg += int(nn)
        n_pos += int(npos)
        retained = np.asarray(retained)
        if retained.any():
            i, j = np.nonzero(retained)
            ret_cols.append(np.asarray(C)[i, :, j])
            ret_diag.append(lam[i, j])
            ret_pts.append(idx[i])
    tol_final, s_final = thresholds(d_scale)
    # fix-up: points with an eliminated direction now below the final singular threshold
    absl = np.abs(lam_all)
    redo = np.nonzero(np.any((absl > used[:, None]) & (absl <= s_final), axis=1))[0]
    if redo.size:
        drop = np.isin(np.concatenate(ret_pts) if ret_pts else np.zeros(0, int), redo)
        for start in range(0, redo.size, chunk_size):
            pts = redo[start : start + chunk_size]
            B, D = get_blocks(pts)
            ones = jnp.ones(pts.size, bool)
            for s_tol in np.unique(used[pts]):
                mask = jnp.asarray(used[pts] == s_tol)
                S_o, nn, npos, _, _, _ = _eliminate(B, D, mask, s_tol)
                S -= np.asarray(S_o)
                n_neg -= int(nn)
                n_pos -= int(npos)
            S_c, nn, npos, retained, lam, C = _eliminate(B, D, ones, s_final)
            S += np.asarray(S_c)
            n_neg += int(nn)
            n_pos += int(npos)
            i, j = np.nonzero(np.asarray(retained))
            ret_cols.append(np.asarray(C)[i, :, j])
            ret_diag.append(np.asarray(lam)[i, j])
            ret_pts.append(pts[i])
        # retained directions of redone points were collected twice: keep the redone copy
        keep = np.concatenate([~drop, np.ones(sum(len(c) for c in ret_pts) - drop.size, bool)])
        ret_cols = [np.concatenate(ret_cols, axis=0)[keep]]
        ret_diag = [np.concatenate(ret_diag)[keep]]
    n_ret = int(sum(c.shape[0] for c in ret_cols))
    if n_ret > max_retained:
        raise ValueError(
            f"{n_ret} directions of the per-point blocks D_i are singular (|λ| <= {s_final:.3g}); "
            f"keeping them exactly needs a dense {p + n_ret}-square eigendecomposition, above max_retained = "
            f"{max_retained}. Raise max_retained, or use landscape.spectrum for a problem this degenerate."
        )
    R = A - 0.5 * (S + S.T)
    if n_ret:
        Cs = np.concatenate(ret_cols, axis=0).T  # (p, n_ret)
        R = np.block([[R, Cs], [Cs.T, np.diag(np.concatenate(ret_diag))]])
    r_lam = np.linalg.eigvalsh(R) if R.size else np.zeros(0)
    q = lam_all.shape[1]
    return SchurInertia(
        n_negative=n_neg + int(np.sum(r_lam < -tol_final)),
        n_zero=int(np.sum(np.abs(r_lam) <= tol_final)),
        n_positive=n_pos + int(np.sum(r_lam > tol_final)),
        tol=float(tol_final),
        size=int(p + n * q),
        d_inertia=(n_neg, n_ret, n_pos),
        singular_tol=float(s_final),
        d_min_abs_eigenvalue=float(absl.min()) if absl.size else float("nan"),
        schur_eigenvalues=r_lam,
        scale=float(max(a_scale, d_scale)),
        seconds=time.perf_counter() - t0,
        method="haynsworth+retained" if n_ret else "haynsworth",
    )


def block_inertia(
    A,
    B,
    D,
    *,
    tol: float | None = None,
    rtol: float = DEFAULT_RTOL,
    singular_rtol: float = SINGULAR_RTOL,
    chunk_size: int = 4096,
    max_retained: int = MAX_RETAINED,
) -> SchurInertia:
    """Inertia of the arrowhead matrix [[A, B_1 … B_n], [B_iᵀ, diag(D_i)]] from its blocks.

    Args:
      A: (p, p) symmetric.
      B: (n, p, q), the couplings B_i.
      D: (n, q, q) symmetric, the diagonal blocks (any may be singular or indefinite).
      tol: |λ| ≤ tol counts as zero; default rtol·max(max|λ(A)|, max|λ(D_i)|).
      singular_rtol: D directions with |λ| ≤ max(tol, singular_rtol · max_i ‖D_i‖₂) are
        kept in the retained Schur complement instead of being eliminated.
    """
    chunk_size = _check_settings(tol, rtol, singular_rtol, chunk_size, max_retained)
    A, B, D = (V.check_real_array(name, M).astype(np.float64) for name, M in (("A", A), ("B", B), ("D", D)))
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise ValueError(f"A must be a square (p, p) matrix, got shape {A.shape}.")
    p = A.shape[0]
    if D.ndim != 3 or D.shape[1] != D.shape[2]:
        raise ValueError(f"D must have shape (n, q, q), got {D.shape}.")
    n, q = D.shape[0], D.shape[1]
    if B.shape != (n, p, q):
        raise ValueError(f"B must have shape (n, p, q) = ({n}, {p}, {q}) to match A and D; got {B.shape}.")
    if n < 1:
        raise ValueError("D must hold at least one block.")
    for name, M in (("A", A), ("B", B), ("D", D)):
        if not np.all(np.isfinite(M)):
            raise ValueError(f"{name} contains NaN or inf entries.")
    D = 0.5 * (D + np.swapaxes(D, 1, 2))
    Bj, Dj = jnp.asarray(B), jnp.asarray(D)
    return _haynsworth(
        A,
        lambda idx: (Bj[idx], Dj[idx]),
        n,
        tol=tol,
        rtol=rtol,
        singular_rtol=singular_rtol,
        chunk_size=chunk_size,
        max_retained=max_retained,
    )


def assemble(A, B, D) -> np.ndarray:
    """The full arrowhead matrix from its blocks (for tests and small problems only)."""
    A, B, D = (np.asarray(x, dtype=np.float64) for x in (A, B, D))
    n, p, q = B.shape
    H = np.zeros((p + n * q, p + n * q))
    H[:p, :p] = A
    for i in range(n):
        s = slice(p + i * q, p + (i + 1) * q)
        H[:p, s] = B[i]
        H[s, :p] = B[i].T
        H[s, s] = D[i]
    return H


# --------------------------------------------------------- the blocks of eq. (5)


def _theta(params: VAEParams):
    return ravel_pytree((params.W, params.b, params.log_gamma))


@jax.jit
def _theta_hessian(params, X, alpha, gamma):
    """A = ∇²_θ L over all points, from κ + 2 Hessian-vector products (a colouring).

    In eq. (5) output coordinate j enters only through W_j (row j), b_j and γ, so the
    (W, b) part of A is block diagonal over j, with (κ+1)-square blocks, plus the
    log γ row and column. One product with W_{:,k} = 1 (all rows at once) reads column
    (j, k) of every block; one with b = 1 reads the b columns; one with log γ = 1 reads
    the last column. (Checked against the p-product Hessian in the tests.)
    """
    d, kappa = params.W.shape

    def grad_theta(W, b, lg):
        g = jax.grad(energy_objective)(VAEParams(W, b, lg, params.mu, params.log_sigma), X, alpha, gamma)
        return g.W, g.b, g.log_gamma

    _, lin = jax.linearize(grad_theta, params.W, params.b, params.log_gamma)
    zW, zb, zg = jnp.zeros_like(params.W), jnp.zeros_like(params.b), jnp.zeros_like(params.log_gamma)
    tangents_W = jnp.eye(kappa, dtype=zW.dtype)[:, None, :] * jnp.ones((1, d, 1), zW.dtype)  # (κ, d, κ)
    cols_W = jax.vmap(lambda t: lin(t, zb, zg))(tangents_W)  # W-part (κ, d, κ), b-part (κ, d), lg (κ,)
    col_b = lin(zW, jnp.ones_like(zb), zg)
    col_g = lin(zW, zb, jnp.ones_like(zg))
    # per-row blocks G[j] over (W_j1..W_jκ, b_j), and their couplings to log γ
    top = jnp.concatenate([jnp.transpose(cols_W[0], (1, 2, 0)), col_b[0][:, :, None]], axis=2)  # (d, κ, κ+1)
    bottom = jnp.concatenate([cols_W[1].T, col_b[1][:, None]], axis=1)  # (d, κ+1)
    G = jnp.concatenate([top, bottom[:, None, :]], axis=1)  # (d, κ+1, κ+1): rows (W_j·, b_j)
    p = d * kappa + d + 1
    A = jnp.zeros((p, p), dtype=zW.dtype)
    jj = jnp.arange(d)
    rows = jnp.concatenate([jj[:, None] * kappa + jnp.arange(kappa)[None, :], d * kappa + jj[:, None]], axis=1)
    A = A.at[rows[:, :, None], rows[:, None, :]].set(G)
    last = jnp.concatenate([col_g[0].reshape(-1), col_g[1], col_g[2][None]])
    A = A.at[:, -1].set(last).at[-1, :].set(last)
    return 0.5 * (A + A.T)


@jax.jit
def _point_blocks(params, X, alpha, gamma):
    """(B_i, D_i) for every row of X: ∂²ℓ_i/∂θ∂φ_i (p, 2κ) and ∂²ℓ_i/∂φ_i² (2κ, 2κ)."""
    th, unravel = _theta(params)
    kappa = params.W.shape[1]

    def ell(t, phi, x):
        W, b, lg = unravel(t)
        p_i = VAEParams(W, b, lg, phi[None, :kappa], phi[None, kappa:])
        return energy_objective(p_i, x[None], alpha, gamma)

    def blocks(phi, x):
        gt, gp = jax.jacfwd(jax.grad(ell, argnums=(0, 1)), argnums=1)(th, phi, x)
        return gt, gp

    phis = jnp.concatenate([params.mu, params.log_sigma], axis=1)
    return jax.vmap(blocks)(phis, X)


def hessian_blocks(params: VAEParams, X, alpha, *, gamma=None):
    """(A, B, D) of eq. (5)'s Hessian in the order θ = (W, b, log γ), φ_i = (μ_i, log σ_i).

    A: (p, p); B: (n, p, 2κ); D: (n, 2κ, 2κ). Memory O(n p κ): for small and moderate n
    (`schur_inertia` never holds all of B at once).
    """
    params, X, alpha, gamma = check_energy_args(params, X, alpha, gamma)
    A = _theta_hessian(params, X, alpha, gamma)
    B, D = _point_blocks(params, X, alpha, gamma)
    return A, B, D


def schur_inertia(
    params: VAEParams,
    X,
    alpha,
    *,
    gamma=None,
    tol: float | None = None,
    rtol: float = DEFAULT_RTOL,
    singular_rtol: float = SINGULAR_RTOL,
    chunk_size: int = 4096,
    max_retained: int = MAX_RETAINED,
) -> SchurInertia:
    """The exact inertia of eq. (5)'s Hessian at ``params``, for any n, without forming H.

    The θ block A comes from p Hessian-vector products of the full energy; each point's
    B_i and D_i from autodiff of its own term ℓ_i, ``chunk_size`` points at a time.
    The counts equal dense ``eigh``'s (`landscape.spectrum`) at the same tolerance.

    Args:
      params, X, alpha, gamma: as for `landscape.energy`.
      tol: |λ| ≤ tol counts as zero; by default rtol · max(max|λ(A)|, max|λ(D_i)|),
        which equals `spectrum`'s default rtol · max|λ(H)| whenever the largest
        curvature sits on a diagonal block (as at the collapsed point: n d on log γ).
      singular_rtol: see `block_inertia`.
      chunk_size: points per compiled chunk (memory ≈ chunk_size · p · 2κ floats).
    """
    params, X, alpha, gamma = check_energy_args(params, X, alpha, gamma)
    n = X.shape[0]
    chunk_size = _check_settings(tol, rtol, singular_rtol, chunk_size, max_retained)
    flat, _ = ravel_pytree(params)
    if not bool(jnp.all(jnp.isfinite(flat))):
        raise ValueError("params contains NaN or inf; the Hessian is only defined at a finite point.")
    t0 = time.perf_counter()
    A = _theta_hessian(params, X, alpha, gamma)
    theta = VAEParams(params.W, params.b, params.log_gamma, params.mu[:1], params.log_sigma[:1])

    def get_blocks(idx):
        idx = jnp.asarray(idx)
        sub = theta._replace(mu=params.mu[idx], log_sigma=params.log_sigma[idx])
        return _point_blocks(sub, X[idx], alpha, gamma)

    out = _haynsworth(
        A,
        get_blocks,
        n,
        tol=tol,
        rtol=rtol,
        singular_rtol=singular_rtol,
        chunk_size=int(chunk_size),
        max_retained=max_retained,
    )
    return SchurInertia(**{**out.__dict__, "seconds": time.perf_counter() - t0})
