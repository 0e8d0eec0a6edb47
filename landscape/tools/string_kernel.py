"""The string method's iteration, with a climbing image, as one jitted loop (MATH.md §5).

The string of E, Ren & Vanden-Eijnden (Phys. Rev. B 66, 052301, 2002; J. Chem. Phys. 126,
164103, 2007): a step down the perpendicular gradient on every interior image (upwind tangents
of Henkelman & Jónsson, J. Chem. Phys. 113, 9978, 2000), preconditioned by each image's dense
Hessian, then re-parametrisation to equal arc length by linear interpolation in the flat space.
The highest image then climbs by P-RFO steps (`landscape.tools.saddle.prfo_step`; the climbing
image of Henkelman, Uberuaga & Jónsson, J. Chem. Phys. 113, 9901, 2000), with the two
sub-strings on either side of it re-parametrised separately (the climbing string method of
Ren & Vanden-Eijnden, J. Chem. Phys. 138, 134105, 2013). The driver and its result are
`landscape.tools.string_method.minimum_energy_path`.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp

from landscape.tools.flat import flat_fn
from landscape.tools.saddle import prfo_step

__all__ = ["tangents", "reparametrize", "string_kernel", "values_grads"]


def tangents(x, E):
    """Unit tangents by the upwind rule of Henkelman & Jónsson (J. Chem. Phys. 113, 9978, 2000).

    τ_i points to the higher neighbour (x_{i+1} − x_i if E_{i+1} > E_i > E_{i−1}, x_i − x_{i−1}
    if E_{i+1} < E_i < E_{i−1}); at a local extremum of E the two are blended with weights
    max/min |ΔE|. One-sided at the two ends. Also returns, per image, the shorter of its two
    segments. The upwind choice is what makes the perpendicular update stable: with central
    differences it is an explicit central scheme for an advection term ∝ (∇f·τ)/Δs, which
    grows kinks wherever the perpendicular curvature is small.
    """
    fwd = jnp.concatenate([x[1:] - x[:-1], x[-1:] - x[-2:-1]], axis=0)  # x_{i+1} − x_i
    bwd = jnp.concatenate([x[1:2] - x[0:1], x[1:] - x[:-1]], axis=0)  # x_i − x_{i−1}
    e_next = jnp.concatenate([E[1:], E[-1:]])
    e_prev = jnp.concatenate([E[:1], E[:-1]])
    d_next, d_prev = e_next - E, E - e_prev
    up = (d_next > 0) & (d_prev > 0)
    down = (d_next < 0) & (d_prev < 0)
    big = jnp.maximum(jnp.abs(d_next), jnp.abs(d_prev))
    small = jnp.minimum(jnp.abs(d_next), jnp.abs(d_prev))
    w_f = jnp.where(e_next > e_prev, big, small)
    w_b = jnp.where(e_next > e_prev, small, big)
    blend = w_f[:, None] * fwd + w_b[:, None] * bwd
    blend = jnp.where((w_f + w_b > 0)[:, None], blend, fwd + bwd)
    t = jnp.where(up[:, None], fwd, jnp.where(down[:, None], bwd, blend))
    M = x.shape[0]
    t = t.at[0].set(fwd[0]).at[M - 1].set(bwd[M - 1])
    ds = jnp.minimum(jnp.linalg.norm(fwd, axis=1), jnp.linalg.norm(bwd, axis=1))
    return t / jnp.maximum(jnp.linalg.norm(t, axis=1, keepdims=True), 1e-300), ds


def _arc_length(x):
    seg = jnp.linalg.norm(jnp.diff(x, axis=0), axis=1)
    return seg, jnp.concatenate([jnp.zeros(1, x.dtype), jnp.cumsum(seg)])


def reparametrize(x, k, k_dst=None):
    """Images at equal arc length by linear interpolation along the polyline through them.

    Without a climbing image (k < 0) the M images are spread evenly over the whole length.
    With one, the two sub-strings on either side of it are re-parametrised separately:
    image k (at arc length s_k) becomes image ``k_dst`` (default k), unchanged, and images
    0..k_dst and k_dst..M − 1 are spread evenly over [0, s_k] and [s_k, L].
    """
    M = x.shape[0]
    k_dst = k if k_dst is None else k_dst
    seg, s = _arc_length(x)
    L = s[-1]
    i = jnp.arange(M, dtype=x.dtype)
    sk = s[jnp.maximum(k, 0)]
    kf = jnp.maximum(k_dst, 0).astype(x.dtype)
    lo = sk * i / jnp.maximum(kf, 1.0)
    hi = sk + (L - sk) * (i - kf) / jnp.maximum(M - 1 - kf, 1.0)
    target = jnp.where(k > 0, jnp.where(i <= kf, lo, hi), L * i / (M - 1))
    j = jnp.clip(jnp.searchsorted(s, target, side="right") - 1, 0, M - 2)
    w = jnp.clip((target - s[j]) / jnp.maximum(seg[j], 1e-300), 0.0, 1.0)
    new = x[j] + w[:, None] * (x[j + 1] - x[j])
    idx = jnp.arange(M)
    new = jnp.where(((idx == k_dst) & (k > 0))[:, None], x[jnp.maximum(k, 0)], new)
    return jnp.where(((idx == 0) | (idx == M - 1))[:, None], x, new)


def _curvatures(fx, x):
    """Every image's dense Hessian, diagonalised: the scales of the string's steps.

    Returns (lam, ev, vec): ``ev`` (M, P) and ``vec`` (M, P, P) the eigenvalues (signed) and
    eigenvectors of each image's Hessian, and lam_i the largest |eigenvalue| over images
    i − 1, i, i + 1.
    """
    H = jax.vmap(jax.hessian(fx))(x)
    ev, vec = jnp.linalg.eigh(0.5 * (H + jnp.swapaxes(H, 1, 2)))
    ok = jnp.all(jnp.isfinite(ev), axis=1)
    lam = jnp.where(ok, jnp.max(jnp.abs(ev), axis=1), jnp.inf)
    floor = jnp.maximum(1e-12 * jnp.max(jnp.where(ok, lam, 0.0)), 1e-300)
    lam = jnp.maximum(lam, floor)
    nb = jnp.maximum(jnp.maximum(lam, jnp.roll(lam, 1)), jnp.roll(lam, -1))
    nb = nb.at[0].set(jnp.maximum(lam[0], lam[1])).at[-1].set(jnp.maximum(lam[-1], lam[-2]))
    return nb, jnp.where(ok[:, None], ev, jnp.inf), vec


def _string_metrics(vg, x, k, far):
    """Energies, gradients, tangents, segment lengths, and per image the convergence metric.

    The metric is ‖∇f⊥‖ = ‖∇f − (∇f·τ)τ‖ on the interior images, ‖∇f‖ on the climbing image k,
    and 0 at the two ends; with ``far`` False only the ascent counts: images up to the climbing
    image (or, before climbing, up to the highest image).
    """
    E, G = vg(x)
    tau, ds = tangents(x, E)
    gpar = jnp.sum(G * tau, axis=1)
    perp = jnp.linalg.norm(G - gpar[:, None] * tau, axis=1)
    full = jnp.linalg.norm(G, axis=1)
    M = x.shape[0]
    idx = jnp.arange(M)
    metric = jnp.where(idx == k, full, perp)
    counted = (idx > 0) & (idx < M - 1)
    if not far:
        top = jnp.where(k > 0, k, jnp.argmax(jnp.where(counted, E, -jnp.inf)))
        counted = counted & (idx <= top)
    return E, G, tau, gpar, ds, jnp.where(counted, metric, 0.0)


@partial(jax.jit, static_argnums=(0, 1, 4, 5, 6, 7, 8))
def string_kernel(
    f, spec, x, args, max_iter, hessian_every, climb, far, precondition, climb_after, switch_tol, ptol, step_scale
):
    fx = flat_fn(f, spec, args)
    vg = jax.vmap(jax.value_and_grad(fx))
    M = x.shape[0]
    idx = jnp.arange(M)
    interior = (idx > 0) & (idx < M - 1)
    k_mid = (M - 1) // 2

    def one(_, carry):
        x, curv, k, v = carry
        lam, ev, vec = curv
        E, G, tau, gpar, ds, _ = _string_metrics(vg, x, k, far)
        # damping μ_i = |∇f·τ|/Δs: the CFL limit of the upwind tangent (see tangents)
        mu = jnp.abs(gpar) / jnp.maximum(ds, 1e-300) + 1e-12 * lam
        r = G - gpar[:, None] * tau
        if precondition:  # (|H_i| + μ_i I)⁻¹, projected perpendicular to the string
            c = jnp.einsum("mpq,mp->mq", vec, r) / (jnp.abs(ev) + mu[:, None])
            q = jnp.einsum("mpq,mq->mp", vec, c)
            q = q - jnp.sum(q * tau, axis=1)[:, None] * tau
        else:  # h_i = 1 / (λ_i + μ_i)
            q = r / (lam + mu)[:, None]
        q = step_scale * q
        # no image moves more than half its shorter segment in one step
        qn = jnp.linalg.norm(q, axis=1)
        q = q * jnp.minimum(1.0, 0.5 * ds / jnp.maximum(qn, 1e-300))[:, None]
        x_new = x - jnp.where(interior[:, None], q, 0.0)

        def climb_step(_):
            kk = jnp.maximum(k, 1)
            xk = x[kk]
            trust = 0.5 * jnp.minimum(jnp.linalg.norm(xk - x[kk - 1]), jnp.linalg.norm(xk - x[kk + 1]))
            p, v_new = prfo_step(G[kk], ev[kk], vec[kk], v, trust)
            return xk + p, v_new

        xk_new, v = jax.lax.cond(k > 0, climb_step, lambda _: (x[0], v), None)
        x_new = jnp.where((idx == k)[:, None], xk_new, x_new)
        # the highest image (the climbing one, once it climbs) is kept at the middle index
        top = jnp.where(k > 0, k, jnp.argmax(jnp.where(interior, E, -jnp.inf)).astype(k.dtype))
        return reparametrize(x_new, top, k_mid), curv, k, v

    def block(state):
        x, k, v, it, _, _, _, lam_max = state
        curv = _curvatures(fx, x)
        lam = curv[0]
        x_new, _, _, v_new = jax.lax.fori_loop(0, hessian_every, one, (x, curv, k, v))
        it = it + hessian_every
        E, _, tau, _, _, metric = _string_metrics(vg, x_new, k, far)
        m = jnp.max(metric)
        ok = jnp.all(jnp.isfinite(x_new)) & jnp.all(jnp.isfinite(E)) & jnp.isfinite(m)
        switch = climb & (k < 0) & ((m <= switch_tol) | (it >= climb_after))
        top = jnp.argmax(jnp.where(interior, E, -jnp.inf)).astype(k.dtype)
        x_new = jnp.where(switch, reparametrize(x_new, top, k_mid), x_new)
        k_new = jnp.where(switch, jnp.asarray(k_mid, k.dtype), k)
        v_new = jnp.where(switch, tau[top], v_new)
        done = ((k >= 0) | (not climb)) & (m <= ptol) & ~switch
        x_out = jnp.where(ok, x_new, x)
        v_out = jnp.where(ok, v_new, v)
        return x_out, jnp.where(ok, k_new, k), v_out, it, m, done, ~ok, jnp.maximum(lam_max, jnp.max(lam))

    def cond(state):
        _, _, _, it, _, done, bad, _ = state
        return (it < max_iter) & ~done & ~bad

    state = (
        x,
        jnp.asarray(-1, dtype=jnp.int32),
        jnp.zeros(x.shape[1], x.dtype),
        jnp.asarray(0, dtype=jnp.int32),
        jnp.asarray(jnp.inf, dtype=x.dtype),
        jnp.asarray(False),
        jnp.asarray(False),
        jnp.asarray(0.0, dtype=x.dtype),
    )
    x, k, _, it, m, done, bad, lam_max = jax.lax.while_loop(cond, block, state)
    return x, k, it, m, done, bad, lam_max


@partial(jax.jit, static_argnums=(0, 1))
def values_grads(f, spec, xs, args):
    return jax.vmap(jax.value_and_grad(flat_fn(f, spec, args)))(xs)
