"""The landscape map of eq. (5): its minima, certified transition states, and disconnectivity tree.

`landscape_map(X, alpha, kappa=…)`:

1. **Minima.** `landscape.search` from ``restarts`` starts; the distinct minima of
   `landscape.basin_stats` (canonical modulo the sign and order of latent dimensions) are merged
   further where their energies agree to ``energy_tol`` (relative, standardised units) with the
   same number of active dimensions: at α > 0 a minimum is a flat set (dead-zone rows of W,
   MATH.md §2) whose members `basin_stats` lists apart. Each gets its basin fraction (restarts
   that ended there) with its Wilson interval, and a `certify_stationary` certificate.
2. **Copies.** Each minimum's copies under the signed permutations of its active latent columns
   (W, μ, log σ together; collapsed columns are a flat set and give no new copy).
3. **Transition states.** For every unordered pair of minima (a minimum with its own copies
   included), nearest copies first, the string method with a climbing image
   (`landscape.minimum_energy_path`) from one to the nearest copy of the other. Its initial
   string is the straight line bent by a random arc (sin(πs)·ξ, ‖ξ‖ = 0.3·‖b − a‖): a straight
   line between ± copies runs through the symmetric point W = 0, a higher saddle that a string
   started there never leaves. The climbing image is then refined by **eigenvector-following**
   (partitioned rational-function steps, Baker 1986, `landscape.tools.saddle.prfo_step`, inside
   the string) and polished by Newton on ∇L = 0. We chose eigenvector-following because P is small
   enough here for a dense Hessian (≤ a few hundred parameters), where it converges
   quadratically to an index-1 point and crosses the nearly flat dead-zone directions of eq. (5)
   in a few steps; Newton on ‖∇L‖² squares the condition number (curvatures from ~0 to 10⁴) and
   converges to stationary points of any index; the dimer method is for when Hessians are out of
   reach. Each saddle is certified (`certify_stationary`: ‖∇L‖, inertia; index 1 required), and
   the minima it joins are *identified*, not assumed: saddle-free Newton descents from
   TS ± ε·v (v its negative eigenvector) must end at known minima (energy to ``energy_tol``, then
   the nearest copy) or, with γ learned, in the funnel. A string whose climbing image is a saddle
   between other minima than the pair it was run for (an intermediate minimum on the path) still
   gives a transition state: between the minima its descents reach.
4. **Tree.** Union-find over the copies (`landscape.tools.disconnectivity`), every transition
   state applied to every copy. With γ learned, the reconstructing region, where L → −∞ as γ → 0
   (MATH.md §5), is one node at −∞, the **funnel**: restarts that end there (γ ≤ gamma_ratio·γ̄
   below L_c) are counted into its fraction, and a string from each minimum to the lowest such
   end point (lifted along γ ← s²γ, σ ← sσ to the energy level of the minimum, then halved in s,
   as `prop1_path` ends on the witness path) finds its entrance saddle.
"""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass

import numpy as np

from landscape.analysis.basins import basin_stats, wilson_interval
from landscape.analysis.map_saddles import (
    FUNNEL,
    MapContext,
    MapMinimum,
    MapProblem,
    TransitionState,
    latent_symmetries,
    new_minimum,
    same_ts,
)  # fmt: skip
from landscape.analysis.search import search
from landscape.common import checks as V
from landscape.common.progress import progress_bar
from landscape.common.provenance import versions
from landscape.common.results import Result
from landscape.core.data import as_data
from landscape.core.params import VAEParams
from landscape.tools.disconnectivity import DisconnectivityTree
from landscape.tools.flat import ravel

__all__ = ["MapMinimum", "TransitionState", "LandscapeMap", "landscape_map", "latent_symmetries"]


@dataclass(frozen=True)
class LandscapeMap(Result):
    """Minima, transition states and the disconnectivity tree of eq. (5) (module docstring).

    ``nodes``: the tree's leaves, (minimum index, copy) or ("funnel", 0); ``tree``: the
    `DisconnectivityTree` over them. ``exit_barrier`` / ``join_energy``: per minimum, the lowest
    transition state out of its basin minus its energy, and the energy at which it joins the
    lowest node (the global minimum, or the funnel). ``funnel``: None, or a dict with the count,
    fraction and the entrance saddles. ``pairs``: what each string run gave.
    """

    alpha: float
    kappa: int
    gamma: float | None
    minima: tuple[MapMinimum, ...]
    transition_states: tuple[TransitionState, ...]
    funnel: dict | None
    nodes: tuple
    tree: DisconnectivityTree
    exit_barrier: tuple[float, ...]
    join_energy: tuple[float, ...]
    pairs: tuple
    restarts: int
    seconds: float
    config: dict

    @property
    def collapsed(self) -> int | None:
        """The index of the collapsed minimum (no active dimension), or None."""
        return next((i for i, m in enumerate(self.minima) if m.collapsed), None)

    def report(self) -> str:
        """The tables of minima and transition states, and the tree in text form."""
        from landscape.analysis.map_report import format_map

        return format_map(self)

    @property
    def verified(self) -> bool:
        """Every transition state is certified index 1 and its connection verified."""
        return all(ts.index == 1 and ts.connected and ts.certificate.stationary for ts in self.transition_states)


def _check_args(restarts, seed, energy_tol, gamma_ratio, max_pairs, kappa):
    restarts = V.check_size("restarts", restarts, 2)
    seed = V.check_seed("seed", seed)
    energy_tol = V.check_tolerance("energy_tol", energy_tol)
    gamma_ratio = V.check_tolerance("gamma_ratio", gamma_ratio)
    max_pairs = V.check_size("max_pairs", max_pairs, 1)
    if kappa > 3:
        raise ValueError(f"kappa = {kappa}: the map enumerates 2^κ κ! latent symmetries; use kappa <= 3.")
    return restarts, seed, energy_tol, gamma_ratio, max_pairs


def landscape_map(
    X,
    alpha,
    *,
    kappa: int,
    gamma=None,
    restarts: int = 256,
    seed: int = 0,
    steps: int = 4000,
    energy_tol: float = 1e-7,
    gamma_ratio: float = 1e-6,
    max_pairs: int = 45,
    images: int = 17,
    max_iter: int = 3000,
    ptol: float = 1e-4,
    gtol: float = 1e-8,
    dense_max: int = 2000,
    progress: bool | None = None,
) -> LandscapeMap:
    """The map of eq. (5): distinct minima, certified transition states, disconnectivity tree.

    Args:
      X: data (n, d) or a `Data`. alpha: soft threshold α ≥ 0. kappa: latent size κ (≤ 3).
      gamma: hold γ fixed (the energy is then bounded below and the map complete), or None to learn
        it (the reconstructing region is then a funnel at −∞, module docstring).
      restarts, seed, steps: the `landscape.search` that finds the minima.
      energy_tol: minima whose energies agree to this (relative, standardised units), with the
        same active count, are one minimum; also the tolerance of identifying descents' ends.
      gamma_ratio: with γ learned, an end point with γ ≤ gamma_ratio·γ̄ below L_c is in the funnel.
      max_pairs: at most this many pairs of minima get a string (nearest first).
      images, max_iter, ptol, gtol: of each `minimum_energy_path` (gtol: the polished saddle's ‖∇L‖,
        standardised units).
      dense_max: certificates use a dense Hessian up to this many parameters, the exact Haynsworth
        inertia with Lanczos above (`certify_stationary`).
      progress: a bar over the string runs (default: on for more than 3 pairs).

    Returns:
      A `LandscapeMap`.
    """
    t0 = time.perf_counter()
    data = as_data(X)
    n, d = data.shape
    alpha = float(V.check_alpha(alpha))
    kappa = V.check_kappa(kappa, d)
    gamma = V.check_gamma(gamma)
    gamma = None if gamma is None else float(gamma)
    restarts, seed, energy_tol, gamma_ratio, max_pairs = _check_args(
        restarts, seed, energy_tol, gamma_ratio, max_pairs, kappa
    )
    res = search(data, alpha, kappa=kappa, restarts=restarts, steps=steps, seed=seed, gamma=gamma)
    stats = basin_stats(res, gamma_ratio=gamma_ratio)
    prob = MapProblem(data, alpha, kappa, gamma, res.config["eps"], res.config["delta"])
    units = prob.units
    gbar = float(data.gamma_bar)

    # the funnel: with γ learned, restarts that ran down the reconstructing region
    in_funnel = np.zeros(restarts, bool)
    if gamma is None:
        in_funnel = (res.gamma <= gamma_ratio * gbar) & (res.energy < res.collapsed_energy)
        in_funnel &= stats.categories != "failed"
    # minima: basin_stats' distinct minima, merged by energy and active count
    groups: list[dict] = []
    for m in stats.distinct_minima:
        if in_funnel[m.index]:
            continue
        e_s = float(units.to_standard_energy(m.energy))
        for g in groups:
            if g["active"] == m.active and abs(e_s - g["e_s"]) <= energy_tol * (1.0 + abs(g["e_s"])):
                g["members"] += m.members
                break
        else:
            groups.append({"index": m.index, "active": m.active, "e_s": e_s, "members": list(m.members)})
    groups.sort(key=lambda g: g["e_s"])
    syms = latent_symmetries(kappa)
    minima, copy_keys, copy_params = [], [], []
    for g in groups:
        p_user = VAEParams(*(np.asarray(a)[g["index"]] for a in res.params))
        m, keys, params = new_minimum(prob, syms, p_user, len(g["members"]), restarts, res.config["gtol"], dense_max)
        minima.append(m)
        copy_keys.append(keys)
        copy_params.append(params)
    if not minima and not in_funnel.any():
        raise ValueError(
            "the search found no minimum (every restart failed or ran into the funnel); "
            "try more restarts, or a fixed gamma."
        )
    funnel_end = None
    if in_funnel.any():
        j = int(np.argmin(np.where(in_funnel, res.energy, np.inf)))
        funnel_end = units.to_standard_params(VAEParams(*(np.asarray(a)[j] for a in res.params)))
    ctx = MapContext(prob, minima, copy_keys, copy_params, syms, energy_tol, gamma_ratio, funnel_end is not None)
    ctx.search_settings = (restarts, res.config["gtol"], dense_max)

    # pairs of minima, nearest copies first
    pairs = []
    for i, j in itertools.combinations_with_replacement(range(len(minima)), 2):
        a = ravel(copy_params[i][0])
        cands = [c for c in range(len(copy_params[j])) if not (i == j and c == 0)]
        if not cands:
            continue
        dist = [float(np.linalg.norm(np.asarray(ravel(copy_params[j][c])) - np.asarray(a))) for c in cands]
        if i == j:  # every copy, nearest first; those already joined to copy 0 are skipped below
            pairs += [(dd, (i, 0), (j, c)) for dd, c in zip(dist, cands, strict=True)]
        else:
            pairs.append((min(dist), (i, 0), (j, cands[int(np.argmin(dist))])))
    pairs.sort(key=lambda t: t[0])
    if funnel_end is not None:
        for i in range(len(minima)):
            pairs.append((math.inf, (i, 0), (FUNNEL, 0)))
    skipped = max(0, len(pairs) - max_pairs)
    pairs = pairs[:max_pairs]
    if progress is None:
        progress = len(pairs) > 3
    transition_states, runs = [], []
    with progress_bar(len(pairs), enabled=bool(progress), label="map strings", unit="pair") as bar:
        for dist, a, b in pairs:
            if a[0] == b[0] and ctx.joined(transition_states, a, b):
                runs.append({"from": list(a), "to": list(b), "distance": dist, "result": "skipped: already joined"})
                bar.update(1)
                continue
            ts, run = ctx.pair(a, b, funnel_end, images=images, max_iter=max_iter, ptol=ptol, gtol=gtol,
                               dense_max=dense_max, seed=seed)  # fmt: skip
            run["distance"] = dist
            runs.append(run)
            if ts is not None and not any(same_ts(ts, t2, energy_tol) for t2 in transition_states):
                transition_states.append(ts)
            bar.update(1)
    # minima that the strings left outside the set of the lowest node (the global minimum or the funnel):
    # single-ended searches out of each of them, and out of any minimum their descents discover
    searched: set[int] = set()
    while len(runs) < 4 * max_pairs:
        nodes, tree, _, _ = ctx.tree(transition_states)
        low = int(np.argmin(tree.energies))
        cut_off = {nodes[k][0] for comp in tree.components if low not in comp for k in comp}
        todo = sorted(i for i in cut_off - searched if i != FUNNEL)
        if not todo:
            break
        i = todo[0]
        searched.add(i)
        found, more = ctx.single_ended(i, gtol=gtol, dense_max=dense_max)
        runs += more
        for ts in found:
            if not any(same_ts(ts, t2, energy_tol) for t2 in transition_states):
                transition_states.append(ts)
    transition_states.sort(key=lambda t: t.energy)

    nodes, tree, exit_b, join_e = ctx.tree(transition_states)
    fun = None
    if gamma is None and funnel_end is not None:
        count = int(in_funnel.sum())
        fun = {
            "count": count,
            "fraction": count / restarts,
            "interval": wilson_interval(count, restarts),
            "lowest_end_energy": float(np.min(res.energy[in_funnel])),
            "lowest_end_gamma": float(np.min(res.gamma[in_funnel])),
            "entrance": [k for k, t in enumerate(transition_states) if FUNNEL in t.pair],
            "note": "gamma is learned: the reconstructing region descends without bound (L -> -inf as gamma -> 0, "
            "MATH.md §5); it is one node at -inf, entered through the saddles listed.",
        }
    config = {
        "alpha": alpha, "kappa": kappa, "gamma": gamma, "restarts": restarts, "seed": seed, "steps": steps,
        "energy_tol": energy_tol, "gamma_ratio": gamma_ratio, "max_pairs": max_pairs, "pairs_skipped": skipped,
        "images": images, "max_iter": max_iter, "ptol": ptol, "gtol": gtol, "dense_max": dense_max,
        "saddle_search": "string method with climbing image, eigenvector-following (P-RFO) at the top, Newton polish",
        "n": n, "d": d, "versions": versions(),
    }  # fmt: skip
    return LandscapeMap(
        alpha=alpha,
        kappa=kappa,
        gamma=gamma,
        minima=tuple(minima),
        transition_states=tuple(transition_states),
        funnel=fun,
        nodes=tuple(nodes),
        tree=tree,
        exit_barrier=tuple(exit_b),
        join_energy=tuple(join_e),
        pairs=tuple(runs),
        restarts=restarts,
        seconds=time.perf_counter() - t0,
        config=config,
    )
