"""The text report of a `LandscapeMap`: minima, transition states, and the tree in text form."""

from __future__ import annotations

import math

__all__ = ["format_map"]


def _e(x: float) -> str:
    return "-inf" if x == -math.inf else ("inf" if x == math.inf else f"{x:.10g}")


def _g(x: float) -> str:
    return "inf" if x == math.inf else f"{x:.6g}"


def _name(lmap, i) -> str:
    if i == "funnel":
        return "funnel"
    m = lmap.minima[i]
    return f"m{i}" + (" (collapsed)" if m.collapsed else "")


def format_map(lmap) -> str:
    """The tables of minima and transition states, then the branch points of the tree."""
    g = "learned" if lmap.gamma is None else f"{lmap.gamma:g} (fixed)"
    out = [f"Landscape map of eq. (5): alpha = {lmap.alpha:g}, kappa = {lmap.kappa}, gamma {g}, "
           f"{lmap.restarts} restarts, {lmap.seconds:.1f} s", "", "Minima"]  # fmt: skip
    out.append(f"  {'':4} {'energy':>18} {'active':>6} {'fraction':>9} {'95% Wilson':>17} {'count':>5} {'copies':>6} "
               f"{'|grad|':>9} {'inertia':>12} {'exit barrier':>13}")  # fmt: skip
    for i, m in enumerate(lmap.minima):
        c = m.certificate
        lo, hi = m.interval
        out.append(f"  m{i:<3} {m.energy:>18.10g} {m.active:>6} {m.fraction:>9.3f} {f'[{lo:.3f}, {hi:.3f}]':>17} "
                   f"{m.count:>5} {m.copies:>6} {c.grad_norm:>9.2e} {str(c.inertia):>12} {_e(lmap.exit_barrier[i]):>13}"
                   + ("  collapsed" if m.collapsed else "")
                   + ("  (found by a descent from a saddle)" if m.discovered else ""))  # fmt: skip
    if lmap.funnel:
        f = lmap.funnel
        lo, hi = f["interval"]
        out.append(f"  funnel {'-inf':>16} {'':>6} {f['fraction']:>9.3f} {f'[{lo:.3f}, {hi:.3f}]':>17} {f['count']:>5}"
                   f"   (restarts ran down to gamma = {f['lowest_end_gamma']:.2g}, "
                   f"L = {f['lowest_end_energy']:.6g})")  # fmt: skip
        out.append("  " + f["note"])
    out += ["", "Transition states (certified: index = negative Hessian eigenvalues; connected: descents from TS ± εv)"]
    out.append(f"  {'':4} {'energy':>18} {'pair':>22} {'barrier A':>12} {'barrier B':>12} {'index':>5} {'|grad|':>9} "
               f"{'connected':>9}")  # fmt: skip
    for k, t in enumerate(lmap.transition_states):
        pair = " - ".join(_name(lmap, i).replace(" (collapsed)", "c") for i in t.pair)
        out.append(f"  t{k:<3} {t.energy:>18.10g} {pair:>22} {_g(t.barriers[0]):>12} {_g(t.barriers[1]):>12} "
                   f"{t.index:>5} {t.grad_norm:>9.2e} {'verified' if t.connected else 'NO':>9}")  # fmt: skip
    if not lmap.transition_states:
        out.append("  (none found)")
    out += ["", "Disconnectivity tree (leaves are copies under the latent symmetries: m<i>.<copy>)"]

    def label(k):
        nd = lmap.nodes[k]
        return "funnel" if nd[0] == "funnel" else f"m{nd[0]}.{nd[1]}"

    for jn in lmap.tree.joins:
        left = ", ".join(label(k) for k in jn.left)
        right = ", ".join(label(k) for k in jn.right)
        out.append(f"  at L = {jn.energy:.10g}: {{{left}}} joins {{{right}}}")
    if not lmap.tree.connected:
        comps = ["{" + ", ".join(label(k) for k in c) + "}" for c in lmap.tree.components]
        out.append(f"  not joined by the transition states found: {' | '.join(comps)}")
    skipped = lmap.config.get("pairs_skipped", 0)
    if skipped:
        out.append(f"  ({skipped} pairs of minima were not tried: raise max_pairs)")
    verdict = "every transition state certified index 1 and verified connected"
    out.append(f"\nverdict: {verdict if lmap.verified else 'NOT all transition states verified'}")
    return "\n".join(out)
