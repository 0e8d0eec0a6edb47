"""First-order Proposition 2 thresholds: two branches of minima and the crossing of their energies.

At α = 0 each threshold γ″_j = λ_j is continuous (MATH.md §6): the j-th dimension's KL
vanishes there, and bisecting on the active count of the best minimum finds it. For α > 0
the collapsed solution is a strict local minimum (Proposition 1), so a branch of minima with
k active dimensions (branch A) can coexist with one with fewer (branch B) on an interval of
γ, and the threshold is where their energies cross: a first-order transition. Bisecting on
the count of a few restarts' best minimum then stops wherever the restarts miss one branch.

`branch_crossing` instead follows each branch by continuation in γ (warm-started polish at
fixed γ, `landscape.search(..., start=..., gamma=...)`) and bisects on the sign of
ΔE(γ) = E_A(γ) − E_B(γ). By the envelope theorem, dE/dγ = nd/γ − R/γ² on a branch, with
R = Σ_i E_q‖x_i − μ_x(z)‖² (eq. 9), so the gap's slope is dΔE/dγ = −(R_A − R_B)/γ², which is
reported with the energies at the crossing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from landscape.analysis.basins import kl_per_dim
from landscape.analysis.search import search
from landscape.common.status import NON_FINITE
from landscape.core.params import VAEParams

__all__ = [
    "Minimum",
    "Crossing",
    "probe_minima",
    "polish_at",
    "follow",
    "branch_crossing",
    "locate_crossing",
    "branch_candidates",
]


@dataclass(frozen=True)
class Minimum:
    """One minimum of eq. (5) at a fixed γ: its parameters, energy, KL sums (descending), R."""

    params: VAEParams
    energy: float
    kl: tuple
    recon: float  # Σ_i E_q‖x_i − μ_x(z)‖² (n d × the search's recon_error)
    grad_norm: float
    converged: bool

    def active(self, kl_tol: float) -> int:
        return int(sum(v > kl_tol for v in self.kl))


@dataclass(frozen=True)
class Crossing:
    """The crossing of two branches (A: ≥ k active, B: < k) in a bracket [lo, hi] (hi/lo − 1 ≤ rtol).

    energy_a, energy_b: the two branches' energies at the geometric mid of the final bracket;
    gap_slope: dΔE/dγ there, ΔE = E_A − E_B (envelope theorem, module docstring);
    a_lo, b_hi: the branch minima at the ends (A optimal at lo, B at hi); evaluations: polishes.
    """

    gamma: float
    lo: float
    hi: float
    energy_a: float
    energy_b: float
    gap_slope: float
    a_lo: Minimum
    b_hi: Minimum
    evaluations: int


def _minima(r, n, d) -> list[Minimum]:
    out = []
    for i in range(r.restarts):
        if r.status[i] == NON_FINITE:
            continue
        p = r.restart(i)
        kl = np.sort(kl_per_dim(p.mu, p.log_sigma).sum(axis=0))[::-1]
        out.append(Minimum(p, float(r.energy[i]), tuple(float(x) for x in kl), float(r.recon_error[i]) * n * d,
                           float(r.grad_norm[i]), r.status[i] == "converged"))  # fmt: skip
    return out


def probe_minima(data, alpha, kappa, gamma, *, restarts, steps, seed) -> list[Minimum]:
    """A fresh multi-start at fixed γ, polished to ‖∇L‖ ≤ 1e-12 max(1, |L|): every endpoint."""
    r = search(
        data, alpha, kappa=kappa, restarts=restarts, steps=steps, seed=seed, gamma=float(gamma),
        gtol=1e-12, polish_steps=3000, progress=False,
    )  # fmt: skip
    return _minima(r, *data.shape)


def polish_at(data, alpha, kappa, m: Minimum, gamma, *, steps: int = 0) -> Minimum:
    """Continuation: the minimum reached from ``m`` at a new fixed γ (float64 polish from ``m``)."""
    start = VAEParams(*(np.asarray(a)[None] for a in m.params))
    r = search(
        data, alpha, kappa=kappa, restarts=1, steps=steps, gamma=float(gamma), start=start,
        gtol=1e-12, polish_steps=3000, progress=False,
    )  # fmt: skip
    return _minima(r, *data.shape)[0] if r.status[0] != NON_FINITE else None


def _on_branch(m: Minimum | None, ref: Minimum, k: int, kl_tol: float, upper: bool) -> bool:
    """Did continuation stay on the branch of ``ref``? A: ≥ k active, its k-th KL at least half of ref's.

    (A continuous transition, where the k-th KL vanishes like n(λ_k − γ)/(2λ_k) at α = 0, fails
    this across any bracket that contains it; a first-order branch keeps an O(1) KL.)
    """
    if m is None or not m.converged:
        return False
    if upper:
        return m.active(kl_tol) >= k and m.kl[k - 1] > 0.5 * ref.kl[k - 1]
    return m.active(kl_tol) < k


def follow(data, alpha, kappa, m: Minimum, gammas, k, kl_tol, upper, counter) -> list[Minimum] | None:
    """Follow the branch of ``m`` through ``gammas`` (in order); None where it ends (spinodal)."""
    out, cur = [], m
    for g in gammas:
        counter[0] += 1
        nxt = polish_at(data, alpha, kappa, cur, g)
        if not _on_branch(nxt, cur, k, kl_tol, upper):
            return None
        out.append(nxt)
        cur = nxt
    return out


def branch_crossing(data, alpha, kappa, k, lo, hi, a_lo: Minimum, b_hi: Minimum, *, kl_tol, rtol, substeps=4):
    """Bisect the crossing of branch A (from ``a_lo`` at lo) and branch B (from ``b_hi`` at hi).

    Each branch is first continued across [lo, hi] in ``substeps`` geometric steps. Returns
    ``(Crossing or None, reason)``: reason "crossing"; "no_coexistence" if either branch ends
    inside (not a first-order transition in this bracket); "a_below_at_hi" / "b_below_at_lo"
    if ΔE does not change sign on it (the crossing lies beyond hi / below lo).
    """
    n, d = data.shape
    counter = [0]
    path = np.geomspace(lo, hi, substeps + 1)[1:]
    a_path = follow(data, alpha, kappa, a_lo, path, k, kl_tol, True, counter)
    b_path = follow(data, alpha, kappa, b_hi, path[::-1][1:].tolist() + [lo], k, kl_tol, False, counter)
    if a_path is None or b_path is None:
        return None, "no_coexistence"
    a_hi, b_lo = a_path[-1], b_path[-1]
    if not a_hi.energy - b_hi.energy > 0:
        return None, "a_below_at_hi"
    if not a_lo.energy - b_lo.energy < 0:
        return None, "b_below_at_lo"
    A = {lo: a_lo, hi: a_hi}
    B = {lo: b_lo, hi: b_hi}
    while hi / lo - 1 > rtol:
        mid = float(np.sqrt(lo * hi))
        counter[0] += 2
        am, bm = polish_at(data, alpha, kappa, A[lo], mid), polish_at(data, alpha, kappa, B[hi], mid)
        if not (_on_branch(am, A[lo], k, kl_tol, True) and _on_branch(bm, B[hi], k, kl_tol, False)):
            return None, "no_coexistence"
        if am.energy - bm.energy < 0:
            lo, A[mid], B[mid] = mid, am, bm
        else:
            hi, A[mid], B[mid] = mid, am, bm
    g = float(np.sqrt(lo * hi))
    counter[0] += 2
    am, bm = polish_at(data, alpha, kappa, A[lo], g), polish_at(data, alpha, kappa, B[hi], g)
    slope = -(am.recon - bm.recon) / g**2
    return Crossing(g, lo, hi, am.energy, bm.energy, float(slope), A[lo], B[hi], counter[0]), "crossing"


def locate_crossing(data, alpha, kappa, k, lo, hi, a_lo, b_hi, *, kl_tol, rtol, max_expand=12, substeps=1):
    """`branch_crossing` on [lo, hi]; where the crossing lies outside, the bracket moves past it.

    The width w = hi/lo − 1 grows ×4 per move (up to ``max_expand`` moves), both branches
    continued along; returns ``(Crossing or None, reason)`` as `branch_crossing`.
    """
    w = hi / lo - 1
    extra = 0
    for _ in range(max_expand + 1):
        cr, why = branch_crossing(
            data, alpha, kappa, k, lo, hi, a_lo, b_hi, kl_tol=kl_tol, rtol=rtol, substeps=substeps
        )
        if cr is not None:
            return replace(cr, evaluations=cr.evaluations + extra), why
        if why == "no_coexistence":
            return None, why
        w *= 4
        extra += 2
        if why == "a_below_at_hi":  # the crossing is above hi
            new_a, new_lo, new_hi = polish_at(data, alpha, kappa, a_lo, hi), hi, hi * (1 + w)
            new_b = polish_at(data, alpha, kappa, b_hi, new_hi)
        else:  # below lo
            new_b, new_lo, new_hi = polish_at(data, alpha, kappa, b_hi, lo), lo / (1 + w), lo
            new_a = polish_at(data, alpha, kappa, a_lo, new_lo)
        if not (_on_branch(new_a, a_lo, k, kl_tol, True) and _on_branch(new_b, b_hi, k, kl_tol, False)):
            return None, "no_coexistence"
        lo, hi, a_lo, b_hi = new_lo, new_hi, new_a, new_b
    return None, why


def branch_candidates(minima_lo, minima_hi, k, kl_tol):
    """Best ≥ k-active minimum at lo (A) and best < k-active minimum at hi (B), or None."""
    up = [m for m in minima_lo if m.converged and m.active(kl_tol) >= k]
    down = [m for m in minima_hi if m.converged and m.active(kl_tol) < k]
    if not up or not down:
        return None
    return min(up, key=lambda m: m.energy), min(down, key=lambda m: m.energy)
