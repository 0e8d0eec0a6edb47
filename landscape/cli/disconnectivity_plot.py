"""`plot_disconnectivity`: the disconnectivity graph of a `LandscapeMap` (Becker & Karplus 1997).

The chemistry literature's conventions (Wales, *Energy Landscapes*, §4.8): energy on a vertical
axis on the left; each minimum a leaf, a vertical line from its energy up to where its basin
joins another; joins at the energies of the transition states; the leaves ordered so that no
lines cross. Here a leaf is one copy of a minimum under the latent symmetries (sign and order of
the latent dimensions), with line width proportional to its share of the basin fraction; the
collapsed minimum is marked, and the funnel of a learned γ (L → −∞) is an arrow pointing down.
"""

from __future__ import annotations

import numpy as np

from landscape.tools.disconnectivity import tree_layout

__all__ = ["plot_disconnectivity"]


def plot_disconnectivity(lmap, ax=None, *, title: str | None = None, max_width: float = 8.0, inset: bool = True):
    """Draw the disconnectivity graph of ``lmap`` (a `landscape.LandscapeMap`) on ``ax``; returns ax.

    ``inset``: where the collapsed basin's barrier is under 2% of the energy range drawn, an inset
    magnifies its leaf and the saddle out of it, with the barrier written beside it.
    """
    import matplotlib.pyplot as plt

    from landscape.analysis.landscape_map import LandscapeMap

    if not isinstance(lmap, LandscapeMap):
        raise ValueError(
            f"lmap must be a landscape.LandscapeMap (of landscape.landscape_map), got {type(lmap).__name__}."
        )
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4.5))
    tree = lmap.tree
    lay = tree_layout(tree)
    E = np.asarray(tree.energies, dtype=float)
    levels = [*E[np.isfinite(E)], *(j.energy for j in tree.joins)] or [0.0]  # only a funnel: nothing finite
    hi, lo = max(levels), min(levels)
    span = max(hi - lo, 1e-12 * max(1.0, abs(hi)))
    bottom, top_e = lo - 0.25 * span, hi + 0.12 * span
    _draw(ax, lmap, lay, E, bottom, top_e, max_width, labels=True)
    ax.set_xlim(-0.8, max(len(lmap.nodes) - 0.2, 0.8))
    ax.set_ylim(bottom - 0.12 * span, top_e)
    ax.set_xticks([])
    for side in ("top", "right", "bottom"):
        ax.spines[side].set_visible(False)
    ax.set_ylabel("energy L (eq. 5)")
    g = "learned γ" if lmap.gamma is None else f"γ = {lmap.gamma:g}"
    ax.set_title(title if title is not None else f"α = {lmap.alpha:g}, κ = {lmap.kappa}, {g}", fontsize=10)
    c = lmap.collapsed
    if inset and c is not None and np.isfinite(lmap.exit_barrier[c]) and lmap.exit_barrier[c] < 0.02 * span:
        k = lmap.nodes.index((c, 0))
        x, b, e_c = float(lay["leaf_x"][k]), lmap.exit_barrier[c], lmap.minima[c].energy
        axi = ax.inset_axes([0.58, 0.3, 0.38, 0.4])
        _draw(axi, lmap, lay, E, e_c - 2 * b, e_c + 3 * b, max_width, labels=False)
        axi.set_xlim(x - 1.3, x + 1.3)
        axi.set_ylim(e_c - 0.6 * b, e_c + 2.2 * b)
        axi.set_xticks([])
        axi.tick_params(labelsize=7)
        axi.set_title(f"collapsed basin: barrier {b:.3g}", fontsize=8)
        ax.indicate_inset_zoom(axi, edgecolor="0.5")
    return ax


def _draw(ax, lmap, lay, E, bottom, top_e, max_width, *, labels):
    from landscape.analysis.landscape_map import FUNNEL

    tree = lmap.tree
    end = {}  # the energy at which each set's line ends: the first join it takes part in
    for jn in tree.joins:
        for side in (jn.left, jn.right):
            end.setdefault(tuple(side), jn.energy)
    for k, nd in enumerate(lmap.nodes):
        x = float(lay["leaf_x"][k])
        e_top = end.get((k,), top_e)
        if nd[0] == FUNNEL:
            frac = lmap.funnel["fraction"] if lmap.funnel else 0.0
            ax.annotate("", xy=(x, bottom), xytext=(x, e_top),
                        arrowprops={"arrowstyle": "-|>", "lw": 0.6 + max_width * frac, "color": "C3"})  # fmt: skip
            if labels:
                ax.text(x, bottom, "funnel\nγ→0, L→−∞", ha="center", va="top", fontsize=8, color="C3")
            continue
        m = lmap.minima[nd[0]]
        color = "C1" if m.collapsed else "C0"
        ax.plot([x, x], [E[k], e_top], color=color, lw=0.6 + max_width * m.fraction / m.copies, solid_capstyle="butt")
        if m.collapsed:
            ax.plot([x], [E[k]], marker="o", color="C1", ms=5)
            if labels:
                ax.annotate("collapsed", (x, E[k]), textcoords="offset points", xytext=(4, -12), fontsize=8, color="C1")
        elif labels:
            ax.annotate(f"m{nd[0]}", (x, E[k]), textcoords="offset points", xytext=(0, -10), fontsize=7, ha="center")
    for k, (e, xl, xr, xj) in enumerate(lay["joins"]):  # a bar at the saddle; the merged set rises from its middle
        jn = tree.joins[k]
        ax.plot([xl, xr], [e, e], color="k", lw=0.9)
        ax.plot([xj, xj], [e, end.get(tuple(sorted(jn.left + jn.right)), top_e)], color="k", lw=0.9)
