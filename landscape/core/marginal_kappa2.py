"""κ = 2: the exact marginal likelihood log p_θ(x), inner integral exact, outer by graded Gauss–Legendre.

For the model behind eq. (5) of Dai, Wang & Wipf (2020) with two latents
(`landscape.core.marginal`): the plane (rotated once, z ↦ Rz with R fixed by W, so that no
kink line is near vertical; p is invariant) is cut into the vertical decomposition of the
arrangement: slabs between the z₁-coordinates of the d(2d − 1) pairwise crossings of the
lines, each cut by the 2d lines (which do not cross inside it) into 2d + 1 trapezoids on
which π_α is affine: (d(2d − 1) + 1)(2d + 1) pieces (112 for d = 3, 4011 for d = 10),
shared by all data points. On a piece, standardise its Gaussian: T = (z₁ − m₁)/s₁ with
s₁² = (Λ⁻¹)₁₁, S = √Λ₂₂ (z₂ − E[z₂|z₁]). T and S are independent N(0, 1), the piece
becomes Q = {t_a ≤ T ≤ t_b, a₀ + a₁T ≤ S ≤ b₀ + b₁T} and

    P(Q) = ∫_{t_a}^{t_b} φ(t) [Φ(b₀ + b₁t) − Φ(a₀ + a₁t)] dt,

with the inner integral in closed form. At small γ the outer integrand has narrow
features, all at known places: a tail peak at the T-coordinate p_T of the point p of Q
nearest the origin (width ~ 1/(1 + |p|)), steps where a sloped edge crosses S = 0
(width ~ 1/|a₁|, 1/|b₁|), and corner layers at the slab ends (width
~ 1/((1 + distance)(1 + |a₁| + |b₁|))). Composite Gauss–Legendre panels (``order``
nodes) are graded geometrically (``levels`` levels) from each of these scales up to
the window |T − p_T| ≤ 11, outside which Q holds less than e^(−60) of its mass (on Q,
|q|² ≥ |p|² + |q − p|², by convexity; the same inequality gives the scale
φ(t)(Φ(B) − Φ(A)) ≤ e^(−|p|²/2)/√(2π)). The design (centres, scales, window) is held
fixed under differentiation, the slab ends and kink lines are not, and masses are
kept linear in the panel widths, so first and second derivatives are those of the
integral. The default (8 levels, 8 nodes: 544 nodes per piece) agrees with a far finer
rule (40, 16) to about 1e-12 relative in stress tests over α ≤ 2, γ from 1 down to
1e-8, points on and 20 units off the decoder's range, d = 1 to 5, W with zero entries or
zero rows; and, where W has parallel rows (W = [u, 0] turned, or rows that load on one
latent axis each, which factors p into κ = 1 integrals), it agrees with the exact κ = 1
result to 2e-13 relative down to γ = 1e-8.

Where the active rows are (nearly) parallel, M has condition ‖A‖²/γ and m = M⁻¹Aᵀr by
Cramer's rule errs by ε‖A‖²/γ across the ridge; one step of iterative refinement, with the
residual formed in factored form, removes that (`_pieces`).

Cost grows like n d³: on the 2-core CPU, at the default resolution, value and gradient
take about 0.1 s for n = 20, d = 3 and 25 s for n = 200, d = 10. ``max_pieces`` integrates
only the pieces with the largest rigorous upper bounds C·Φ̄(|p|) ≥ C·P(Q)
(`landscape.core.marginal.log_marginal` adds the bound on the rest to its accuracy
estimate): fast where the posterior is concentrated (small γ), loose where it is spread
over many pieces.
"""

from __future__ import annotations

from functools import cache
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from landscape.core.decoder import DecoderParams
from landscape.core.marginal_kappa1 import TINY_ROW2, ZMAX, interior_points
from landscape.core.normal_cdf import LOG_2PI, bounds, exp_ftz, log_ndtr, logsumexp, safe_log, scaled_mass

__all__ = ["DEFAULT_LEVELS", "DEFAULT_ORDER", "n_pieces", "log_marginal_k2"]

DEFAULT_LEVELS = 8  # geometric grading levels per side of each design point (κ = 2)
DEFAULT_ORDER = 8  # Gauss–Legendre nodes per panel (κ = 2)
_WINDOW = 11.0  # half-width, in standard units, of the outer window around p_T
_POINT_BUDGET = 1 << 21  # quadrature nodes evaluated together (memory bound for κ = 2)


@cache
def _gauss_legendre(order: int):
    return np.polynomial.legendre.leggauss(order)


def _rotation(W):
    """A fixed rotation R (no gradient) after which no kink line w_jᵀz = ±α is near vertical."""
    d = W.shape[0]
    Ws = jax.lax.stop_gradient(W)
    nrm2 = jnp.sum(Ws * Ws, axis=1)
    real = nrm2 > TINY_ROW2
    om = np.pi * np.arange(4 * d) / (4 * d)
    e2 = np.stack([-np.sin(om), np.cos(om)])  # (2, K): candidate second axes
    score = jnp.abs(Ws @ e2) / jnp.sqrt(jnp.where(real, nrm2, 1.0))[:, None]
    score = jnp.min(jnp.where(real[:, None], score, jnp.inf), axis=0)
    best = jnp.argmax(score)
    co, si = jnp.cos(jnp.asarray(om))[best], jnp.sin(jnp.asarray(om))[best]
    return jnp.stack([jnp.stack([co, -si]), jnp.stack([si, co])])  # columns e1', e2'


class _Trapezoids(NamedTuple):
    """The vertical decomposition of the kink arrangement (shared by all data points)."""

    A: jax.Array  # (P, d, 2) rows of W active on the trapezoid (rotated frame)
    c: jax.Array  # (P, d) offsets: π_α(Wz) = A z + c there
    z_lo: jax.Array  # (P,) slab ends in z₁ (entries ignored where has_zlo/has_zhi is False)
    z_hi: jax.Array
    has_zlo: np.ndarray  # (P,) bool, static
    has_zhi: np.ndarray
    lo0: jax.Array  # (P,) lower kink line z₂ = lo0 + lo1 z₁ (ignored where not has_lo)
    lo1: jax.Array
    hi0: jax.Array  # (P,) upper kink line
    hi1: jax.Array
    lo_v: jax.Array  # (P, 2) the normals v of the two lines (v·z = ±α)
    hi_v: jax.Array
    lo_row: jax.Array  # (P,) the rows of W the two lines belong to
    hi_row: jax.Array
    has_lo: np.ndarray  # (P,) bool, static
    has_hi: np.ndarray


def _lines(Wr, alpha):
    """The 2d kink lines v·z = ±α as z₂ = c0 + c1 z₁ (rotated frame, so v₂ ≠ 0).

    Returns (c0, c1, v1, v2, row), each (2d,): the lines of row j are j (+α) and d + j
    (−α), with normal v = w_j and ``row`` = j. A zero row has no kink: it gets copies of a real row's lines
    (which only add gaps of zero height); if W = 0, the line z₂ = 0 with v = (0, 1).
    """
    w1, w2 = Wr[:, 0], Wr[:, 1]
    real = w1 * w1 + w2 * w2 > TINY_ROW2
    any_real = jnp.any(real)
    ref = jnp.argmax(jnp.where(real, jnp.abs(jax.lax.stop_gradient(w2)), -1.0))
    v1 = jnp.where(real, w1, jnp.where(any_real, w1[ref], 0.0))
    v2 = jnp.where(real, w2, jnp.where(any_real, w2[ref], 1.0))
    slope = -v1 / v2
    near = jnp.abs(v2) * ZMAX > alpha
    off = alpha / jnp.where(near, v2, 1.0)
    off = jnp.where(near, off, jnp.sign(v2) * ZMAX)
    off = jnp.where(real | any_real, off, 0.0)

    row = jnp.where(real, jnp.arange(Wr.shape[0]), ref)

    def both(v):
        return jnp.concatenate([v, v])

    return jnp.concatenate([off, -off]), both(slope), both(v1), both(v2), both(row)


def _trapezoids(Wr, alpha) -> _Trapezoids:
    d = Wr.shape[0]
    nl = 2 * d
    c0, c1, v1, v2, row = _lines(Wr, alpha)
    I, J = np.triu_indices(nl, 1)
    dc1 = c1[I] - c1[J]
    dc0 = c0[J] - c0[I]
    crossing = jnp.abs(dc1) > 1e-13 * (1.0 + jnp.abs(c1[I]) + jnp.abs(c1[J]))
    near = crossing & (jnp.abs(dc0) < ZMAX * jnp.abs(dc1))
    zv = dc0 / jnp.where(near, dc1, 1.0)
    zv = jnp.where(near, zv, jnp.where(crossing, jnp.sign(dc0 * dc1) * ZMAX, 0.0))
    cuts = jnp.sort(zv)  # (V,) slab ends; parallel pairs give harmless cuts at 0
    nv = cuts.shape[0]
    ns = nv + 1
    zlo = jnp.concatenate([cuts[:1], cuts])
    zhi = jnp.concatenate([cuts, cuts[-1:]])
    has_zlo = np.arange(ns) > 0
    has_zhi = np.arange(ns) < ns - 1
    zm = interior_points(cuts)  # (ns,) one z₁ inside each slab

    c0s, c1s = jax.lax.stop_gradient(c0), jax.lax.stop_gradient(c1)
    Yl = c0s[None, :] + c1s[None, :] * zm[:, None]  # (ns, nl): line heights mid-slab
    order = jnp.argsort(Yl, axis=1)
    Ys = jnp.take_along_axis(Yl, order, axis=1)
    y_mid = interior_points(Ys, axis=1)  # (ns, ng): one z₂ inside each gap at z₁ = zm
    c0o, c1o, v1o, v2o, rowo = c0[order], c1[order], v1[order], v2[order], row[order]  # (ns, nl)
    ng = nl + 1
    Wsg = jax.lax.stop_gradient(Wr)
    u = zm[:, None, None] * Wsg[None, None, :, 0] + y_mid[:, :, None] * Wsg[None, None, :, 1]  # (ns, ng, d)
    act = (jnp.abs(u) > alpha) | (alpha == 0)  # π_0 is the identity, also for w_j = 0
    A = jnp.where(act[..., None], Wr[None, None], 0.0)  # (ns, ng, d, 2)
    c = jnp.where(act, -alpha * jnp.sign(u), 0.0)

    gi = np.arange(ng)
    lo_idx = np.maximum(gi - 1, 0)
    hi_idx = np.minimum(gi, nl - 1)
    P = ns * ng
    return _Trapezoids(
        A=A.reshape(P, d, 2),
        c=c.reshape(P, d),
        z_lo=jnp.repeat(zlo, ng),
        z_hi=jnp.repeat(zhi, ng),
        has_zlo=np.repeat(has_zlo, ng),
        has_zhi=np.repeat(has_zhi, ng),
        lo0=c0o[:, lo_idx].reshape(P),
        lo1=c1o[:, lo_idx].reshape(P),
        hi0=c0o[:, hi_idx].reshape(P),
        hi1=c1o[:, hi_idx].reshape(P),
        lo_v=jnp.stack([v1o[:, lo_idx], v2o[:, lo_idx]], axis=-1).reshape(P, 2),
        hi_v=jnp.stack([v1o[:, hi_idx], v2o[:, hi_idx]], axis=-1).reshape(P, 2),
        lo_row=rowo[:, lo_idx].reshape(P),
        hi_row=rowo[:, hi_idx].reshape(P),
        has_lo=np.tile(gi > 0, ns),
        has_hi=np.tile(gi < ng - 1, ns),
    )


class _Cells(NamedTuple):
    """Per-trapezoid quantities that depend on θ but not on the data point."""

    tz: _Trapezoids
    M11: jax.Array
    M12: jax.Array
    M22: jax.Array
    det: jax.Array  # det M, M = γI + AᵀA
    log_det_lam: jax.Array  # log det Λ = log det M − 2 log γ
    s1: jax.Array  # sd of z₁ under the cell's Gaussian
    sq: jax.Array  # √Λ₂₂
    a1: jax.Array  # slopes of the lower and upper edges in (T, S)
    b1: jax.Array


def _edge_slope(v, row, A, gamma, sdet):
    """Slope in (T, S) of the kink line v·z = ±α: (c1 M₂₂ + M₁₂)/√det M with c1 = −v₁/v₂.

    Formed as (−v₁γ + Σ_k A_k2 (v₂A_k1 − v₁A_k2)) / (v₂ √det M): a line parallel to the
    cell's ridge (v = an active row) has slope −v₁γ/(v₂√det M), which the direct form
    would get as the difference of two O(1) numbers (relative error ε/γ). The line's own
    row is zeroed explicitly: v₂v₁ − v₁v₂ is not 0 when the compiler fuses it into an FMA.
    """
    v1, v2 = v[:, 0:1], v[:, 1:2]
    own = np.arange(A.shape[1])[None, :] == row[:, None]
    cross = jnp.where(own, 0.0, v2 * A[..., 0] - v1 * A[..., 1])  # (P, d)
    num = -v1[:, 0] * gamma + jnp.sum(A[..., 1] * cross, axis=-1)
    return num / (v2[:, 0] * sdet)


def _cells(W, log_gamma, alpha) -> _Cells:
    d = W.shape[0]
    gamma = jnp.exp(log_gamma)
    Wr = W @ _rotation(W)
    tz = _trapezoids(Wr, alpha)
    A = tz.A
    G11 = jnp.sum(A[..., 0] ** 2, axis=-1)
    G22 = jnp.sum(A[..., 1] ** 2, axis=-1)
    G12 = jnp.sum(A[..., 0] * A[..., 1], axis=-1)
    if d > 1:  # det AᵀA by Cauchy–Binet: a sum of squares, exact for rank-deficient A
        I, J = np.triu_indices(d, 1)
        cross = A[:, I, 0] * A[:, J, 1] - A[:, I, 1] * A[:, J, 0]
        detG = jnp.sum(cross * cross, axis=-1)
    else:
        detG = jnp.zeros_like(G11)
    M11, M22, M12 = gamma + G11, gamma + G22, G12
    det = gamma * gamma + gamma * (G11 + G22) + detG
    sdet = jnp.sqrt(det)
    return _Cells(
        tz=tz,
        M11=M11,
        M12=M12,
        M22=M22,
        det=det,
        log_det_lam=jnp.log(det) - 2.0 * log_gamma,
        s1=jnp.sqrt(gamma * M22 / det),
        sq=jnp.sqrt(M22 / gamma),
        a1=_edge_slope(tz.lo_v, tz.lo_row, A, gamma, sdet),
        b1=_edge_slope(tz.hi_v, tz.hi_row, A, gamma, sdet),
    )


class _Piece(NamedTuple):
    """One data point's view of the trapezoids: (T, S) coordinates, log C, design."""

    log_c: jax.Array
    ta: jax.Array
    tb: jax.Array
    a0: jax.Array
    b0: jax.Array
    a1: jax.Array
    b1: jax.Array
    p: jax.Array  # T-coordinate of the point of Q nearest the origin (no gradient)
    dist: jax.Array  # its distance |p| (no gradient)
    dist_lo: jax.Array  # distances of the two vertical sides t = t_a, t = t_b (no gradient)
    dist_hi: jax.Array
    empty: jax.Array


def _pieces(cl: _Cells, y, log_gamma) -> _Piece:
    """The standardised trapezoids Q for the point y = x − b."""
    tz = cl.tz
    d = y.shape[0]
    gamma = jnp.exp(log_gamma)
    A = tz.A
    r = y[None, :] - tz.c  # (P, d)
    g1 = jnp.sum(A[..., 0] * r, axis=-1)
    g2 = jnp.sum(A[..., 1] * r, axis=-1)

    def solve(h1, h2):  # M⁻¹h by Cramer's rule
        return (cl.M22 * h1 - cl.M12 * h2) / cl.det, (cl.M11 * h2 - cl.M12 * h1) / cl.det

    def residual(m1, m2):
        return r - A[..., 0] * m1[:, None] - A[..., 1] * m2[:, None]

    # m = M⁻¹g, then one step of iterative refinement with the residual in factored form,
    # g − Mm = Aᵀ(r − Am) − γm, which is small and formed without cancellation. Cramer's
    # rule alone errs by ε cond(M) = ε|A|²/γ across a ridge (one active row, or parallel
    # ones): 9e-10 relative in log p at γ = 1e-8, against 2e-13 refined (tests/test_marginal.py).
    # As a function of θ the step is the identity (m + M⁻¹(g − Mm) = M⁻¹g for any m), so
    # every derivative is that of M⁻¹g.
    m1, m2 = solve(g1, g2)
    res = residual(m1, m2)
    d1, d2 = solve(jnp.sum(A[..., 0] * res, axis=-1) - gamma * m1, jnp.sum(A[..., 1] * res, axis=-1) - gamma * m2)
    m1, m2 = m1 + d1, m2 + d2
    res = residual(m1, m2)
    E = m1 * m1 + m2 * m2 + jnp.sum(res * res, axis=-1) / gamma
    log_c = -0.5 * d * (LOG_2PI + log_gamma) - 0.5 * cl.log_det_lam - 0.5 * E

    ta = (tz.z_lo - m1) / cl.s1
    tb = (tz.z_hi - m1) / cl.s1
    a0 = cl.sq * (tz.lo0 + tz.lo1 * m1 - m2)
    b0 = cl.sq * (tz.hi0 + tz.hi1 * m1 - m2)

    # The design: nearest point of Q to the origin in (T, S) (no gradient).
    sg = jax.lax.stop_gradient
    ta_, tb_, a0_, b0_, a1_, b1_ = (sg(v) for v in (ta, tb, a0, b0, cl.a1, cl.b1))
    has_lo, has_hi = tz.has_lo, tz.has_hi
    T_lo = jnp.where(tz.has_zlo, ta_, -jnp.inf)
    T_hi = jnp.where(tz.has_zhi, tb_, jnp.inf)
    empty = tz.has_zlo & tz.has_zhi & (tb_ <= ta_)

    def edge(c0, c1):
        t = jnp.clip(-c0 * c1 / (1.0 + c1 * c1), T_lo, T_hi)
        s = c0 + c1 * t
        return t, t * t + s * s

    def side(t, has):
        tt = jnp.where(has, t, 0.0)
        low = jnp.where(has_lo, a0_ + a1_ * tt, -jnp.inf)
        high = jnp.where(has_hi, b0_ + b1_ * tt, jnp.inf)
        s = jnp.minimum(jnp.maximum(0.0, low), high)
        return tt, tt * tt + s * s

    t_up, d_up = edge(b0_, b1_)
    t_dn, d_dn = edge(a0_, a1_)
    t_l, d_l = side(ta_, tz.has_zlo)
    t_r, d_r = side(tb_, tz.has_zhi)
    ts = jnp.stack([t_up, t_dn, t_l, t_r])
    ds = jnp.stack(
        [
            jnp.where(has_hi, d_up, jnp.inf),
            jnp.where(has_lo, d_dn, jnp.inf),
            jnp.where(tz.has_zlo, d_l, jnp.inf),
            jnp.where(tz.has_zhi, d_r, jnp.inf),
        ]
    )
    k = jnp.argmin(ds, axis=0)
    t_near = jnp.take_along_axis(ts, k[None], axis=0)[0]
    d_near = jnp.sqrt(jnp.take_along_axis(ds, k[None], axis=0)[0])
    inside = (T_lo <= 0) & (T_hi >= 0) & (~has_lo | (a0_ <= 0)) & (~has_hi | (b0_ >= 0))
    p = jnp.where(inside, 0.0, t_near)
    dist = jnp.where(inside, 0.0, d_near)
    return _Piece(log_c, ta, tb, a0, b0, cl.a1, cl.b1, p, dist, jnp.sqrt(d_l), jnp.sqrt(d_r), empty)


def _select(pc: _Piece, m):
    """Index arrays (gathering) for the m pieces with the largest upper bounds."""
    bound = pc.log_c + jnp.where(pc.dist > 0, log_ndtr(-pc.dist), 0.0)
    bound = jax.lax.stop_gradient(jnp.where(pc.empty, -jnp.inf, bound))
    _, idx = jax.lax.top_k(bound, m)
    rest = bound.at[idx].set(-jnp.inf)
    return idx, logsumexp(rest)


def _piece_integrals(pc: _Piece, tz: _Trapezoids, levels: int, order: int):
    """P(Q) for each trapezoid by graded composite Gauss–Legendre in T, as (mass, top)
    with P(Q) = mass · e^top (mass ≥ 0, kept linear so that zero-width panels and slabs
    keep their derivatives)."""
    sg = jax.lax.stop_gradient
    has_lo, has_hi = tz.has_lo, tz.has_hi
    has_zlo, has_zhi = tz.has_zlo, tz.has_zhi
    p = pc.p
    # Window |T − p| ≤ _WINDOW, intersected with the slab (slab ends keep their gradient).
    w_lo, w_hi = p - _WINDOW, p + _WINDOW
    lo = jnp.where(has_zlo & (sg(pc.ta) >= w_lo), pc.ta, w_lo)
    hi = jnp.where(has_zhi & (sg(pc.tb) <= w_hi), pc.tb, w_hi)
    L = sg(hi - lo)
    a1, b1 = sg(pc.a1), sg(pc.b1)
    a0, b0 = sg(pc.a0), sg(pc.b0)
    slopes = 1.0 + jnp.where(has_lo, jnp.abs(a1), 0.0) + jnp.where(has_hi, jnp.abs(b1), 0.0)
    t_a = jnp.where(has_lo & (a1 != 0), -a0 / jnp.where(a1 != 0, a1, 1.0), p)
    t_b = jnp.where(has_hi & (b1 != 0), -b0 / jnp.where(b1 != 0, b1, 1.0), p)
    # Feature scales: the tail decay at p, the steps where the edges cross S = 0, and the
    # corner layers at the slab ends.
    centres = jnp.stack([p, t_a, t_b], axis=-1)  # (P, 3), graded on both sides
    h_c = jnp.stack([1.0 / (1.0 + pc.dist), 1.0 / (1.0 + jnp.abs(a1)), 1.0 / (1.0 + jnp.abs(b1))], axis=-1)
    h_e = jnp.stack([1.0 / ((1.0 + pc.dist_lo) * slopes), 1.0 / ((1.0 + pc.dist_hi) * slopes)], axis=-1)
    frac = np.arange(levels) / max(levels - 1, 1)

    def grading(h):  # offsets h … L, geometric
        q = jnp.maximum(L[..., None] / h, 1.0)
        return h[..., None] * q[..., None] ** frac  # (P, k, levels)

    oc = grading(h_c)
    oe = grading(h_e)
    inner = jnp.concatenate([centres[..., None] + oc, centres[..., None] - oc], axis=-1).reshape(p.shape + (-1,))
    lo_s, hi_s = sg(lo)[..., None], sg(hi)[..., None]
    cuts = jnp.concatenate([centres, inner, lo_s + oe[..., 0, :], hi_s - oe[..., 1, :]], axis=-1)
    # The panel ends: lo and hi with their derivatives, the design points between them
    # without: the sum over panels then telescopes to ∫_lo^hi whatever the ties (a slab
    # of zero width, as at α = 0, keeps the derivative of its width).
    cuts = jnp.sort(jnp.clip(cuts, lo_s, hi_s), axis=-1)
    pts = jnp.concatenate([lo[..., None], cuts, hi[..., None]], axis=-1)
    x, gw = _gauss_legendre(order)
    half = 0.5 * (pts[..., 1:] - pts[..., :-1])  # (P, panels)
    mid = 0.5 * (pts[..., 1:] + pts[..., :-1])
    t = mid[..., None] + half[..., None] * x  # (P, panels, order)
    w = half[..., None] * gw  # linear in the panel widths: a zero-width panel keeps its derivative
    Av = pc.a0[..., None, None] + pc.a1[..., None, None] * t
    Bv = pc.b0[..., None, None] + pc.b1[..., None, None] * t
    # Scale by e^top with top = −|p|²/2 − ½ log 2π ≥ log φ(t)(Φ(B) − Φ(A)) on Q (as
    # φ₂(q) ≤ φ₂(p) e^(−|q − p|²/2)), and keep the node values linear in Φ(B) − Φ(A):
    # their derivatives then never divide by it (which, near the tip of a triangle,
    # would ruin the second derivatives).
    top = -0.5 * pc.dist * pc.dist - 0.5 * LOG_2PI
    s = -0.5 * t * t - 0.5 * LOG_2PI - top[..., None, None]
    A, B = bounds(Av, Bv, has_lo[..., None, None], has_hi[..., None, None])
    mass = jnp.sum(w * scaled_mass(A, B, s), axis=(-2, -1))
    return mass, top  # P(Q) = mass · e^top


def _gather(tree, idx):
    return jax.tree.map(lambda v: v[idx], tree)


def _k2_point(cl: _Cells, y, log_gamma, levels, order, max_pieces):
    """(log p(x), log of the bound on the trapezoids left out) for one point y = x − b."""
    pc = _pieces(cl, y, log_gamma)
    tz = cl.tz
    P = pc.log_c.shape[0]
    if max_pieces is not None and max_pieces < P:
        idx, rest = _select(pc, max_pieces)
        pc = _gather(pc, idx)
        # _piece_integrals reads only the masks of tz; the rest of the piece is in pc.
        tz = tz._replace(**{k: jnp.asarray(getattr(tz, k))[idx] for k in ("has_zlo", "has_zhi", "has_lo", "has_hi")})
    else:
        rest = jnp.asarray(-jnp.inf)
    mass, top = _piece_integrals(pc, tz, levels, order)
    scale = pc.log_c + top
    big = jax.lax.stop_gradient(jnp.max(jnp.where(mass > 0, scale, -jnp.inf)))
    big = jnp.where(jnp.isfinite(big), big, 0.0)
    return safe_log(jnp.sum(mass * exp_ftz(scale - big))) + big, rest


def n_pieces(d: int) -> int:
    """The number (d(2d − 1) + 1)(2d + 1) of trapezoids of the decomposition."""
    nl = 2 * d
    return (nl * (nl - 1) // 2 + 1) * (nl + 1)


def log_marginal_k2(theta: DecoderParams, X, alpha, levels, order, max_pieces, with_rest=False):
    """log p_θ(x_i) for every row of X (n,), κ = 2, and with ``with_rest`` the log of the bound on the
    trapezoids left out by ``max_pieces`` (unchecked; see `landscape.core.marginal`)."""
    W, b, log_gamma = theta
    n, d = X.shape
    cl = _cells(W, log_gamma, alpha)
    Y = X - b
    P = n_pieces(d) if max_pieces is None else min(max_pieces, n_pieces(d))
    nodes = P * order * (8 * levels + 4)  # quadrature nodes per point
    batch = int(max(1, min(n, _POINT_BUDGET // max(nodes, 1))))

    def one(y):
        return _k2_point(cl, y, log_gamma, levels, order, max_pieces)

    if batch >= n:
        out, rest = jax.vmap(one)(Y)
    else:  # in batches, recomputed in the reverse pass: memory O(batch), not O(n)
        out, rest = jax.lax.map(jax.checkpoint(one), Y, batch_size=batch)
    return (out, rest) if with_rest else out
