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

import jax.numpy as jnp
import numpy as np

from landscape.analysis import eq5_bindings  # noqa: F401  (registers eq. (5) with the path tools)
from landscape.analysis.basins import active_dims, basin_stats, inert_rows, wilson_interval
from landscape.analysis.search import search
from landscape.analysis.stationary import certify_stationary
from landscape.common import checks as V
from landscape.common.progress import progress_bar
from landscape.common.provenance import versions
from landscape.common.results import Result
from landscape.core.data import as_data
from landscape.core.energy import energy_objective
from landscape.core.params import VAEParams
from landscape.tools.disconnectivity import DisconnectivityTree, disconnectivity_tree
from landscape.tools.flat import ravel, unravel
from landscape.tools.saddle import descend_from_saddle
from landscape.tools.string_method import minimum_energy_path

__all__ = ["MapMinimum", "TransitionState", "LandscapeMap", "landscape_map", "latent_symmetries"]

FUNNEL = "funnel"


@dataclass(frozen=True)
class MapMinimum(Result):
    """A distinct minimum: energy (user units), active dimensions, basin fraction, certificate, copies."""

    energy: float
    active: int
    count: int
    fraction: float
    interval: tuple[float, float]
    gamma: float
    collapsed: bool
    copies: int
    certificate: object
    params: VAEParams

    _omit = ("params",)


@dataclass(frozen=True)
class TransitionState(Result):
    """A certified saddle between two minima (indices into ``LandscapeMap.minima``; "funnel" for −∞).

    ``barriers``: its energy minus each side's minimum (inf into the funnel). ``index``: the number
    of negative Hessian eigenvalues (1 at a transition state). ``connected``: both descents from
    TS ± ε·v ended at ``pair``. ``copies``: the copies (of each side) that it joins.
    """

    energy: float
    pair: tuple
    copies: tuple
    barriers: tuple[float, float]
    index: int
    grad_norm: float
    connected: bool
    certificate: object
    descents: tuple
    run_for: tuple
    string_converged: bool
    seconds: float
    params: VAEParams

    _omit = ("params",)


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


def latent_symmetries(kappa: int) -> list[tuple[tuple[int, ...], np.ndarray]]:
    """The signed permutations of κ latent dimensions, (perm, signs), identity first."""
    out = []
    for perm in itertools.permutations(range(kappa)):
        for signs in itertools.product((1.0, -1.0), repeat=kappa):
            out.append((perm, np.asarray(signs)))
    return out


def _act(g, p: VAEParams) -> VAEParams:
    perm, signs = g
    perm = list(perm)
    return p._replace(
        W=np.asarray(p.W)[:, perm] * signs, mu=np.asarray(p.mu)[:, perm] * signs,
        log_sigma=np.asarray(p.log_sigma)[:, perm],
    )  # fmt: skip


class _Problem:
    """The standardised problem: energy, keys of copies, matching of points to minima."""

    def __init__(self, data, alpha, kappa, gamma, eps, delta):
        self.data, self.units = data, data.units
        self.alpha, self.kappa, self.gamma = alpha, kappa, gamma
        self.eps, self.delta = eps, delta
        std = data.standardised
        self.alpha_s = float(self.units.to_standard_alpha(alpha))
        self.gamma_s = None if gamma is None else float(self.units.to_standard_gamma(gamma))
        self.args = (jnp.asarray(std.X), self.alpha_s, self.gamma_s)

    def energy_user(self, p_std: VAEParams) -> float:
        return float(self.units.from_standard_energy(float(energy_objective(p_std, *self.args))))

    def active(self, p_std: VAEParams) -> np.ndarray:
        return np.asarray(active_dims(p_std, eps=self.eps, delta=self.delta))

    def key(self, p_std: VAEParams, active) -> np.ndarray:
        """W with collapsed columns and inert (dead-zone) rows zeroed: what tells copies apart."""
        W = np.array(p_std.W, dtype=float)
        W[:, ~np.asarray(active)] = 0.0
        W[inert_rows(p_std, self.alpha_s)] = 0.0
        return W


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
    prob = _Problem(data, alpha, kappa, gamma, res.config["eps"], res.config["delta"])
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
    minima, reps, copy_keys, copy_params = [], [], [], []
    for g in groups:
        p_user = VAEParams(*(np.asarray(a)[g["index"]] for a in res.params))
        p_std = units.to_standard_params(p_user)
        act = prob.active(p_std)
        cert = certify_stationary(p_user, data, alpha, gamma=gamma, gtol=res.config["gtol"], dense_max=dense_max)
        keys, params = [], []
        for s in syms:
            q = _act(s, p_std)
            k = prob.key(q, act[list(s[0])])
            scale = 1e-6 * (1.0 + np.linalg.norm(k))
            if all(np.linalg.norm(k - k2) > scale for k2 in keys):
                keys.append(k)
                params.append(q)
        count = len(g["members"])
        minima.append(
            MapMinimum(
                energy=float(units.from_standard_energy(g["e_s"])),
                active=int(g["active"]),
                count=count,
                fraction=count / restarts,
                interval=wilson_interval(count, restarts),
                gamma=float(res.gamma[g["index"]]),
                collapsed=g["active"] == 0,
                copies=len(keys),
                certificate=cert,
                params=p_user,
            )
        )
        reps.append(p_std)
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
    ctx = _Context(prob, minima, copy_keys, copy_params, syms, energy_tol, gamma_ratio, funnel_end is not None)

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
            if ts is not None and not any(_same_ts(ts, t2, energy_tol) for t2 in transition_states):
                transition_states.append(ts)
            bar.update(1)
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


def _same_ts(a: TransitionState, b: TransitionState, tol) -> bool:
    return set(a.pair) == set(b.pair) and abs(a.energy - b.energy) <= tol * (1.0 + abs(a.energy))


class _Context:
    """Pairs → string → saddle → certificate → identified ends; and the tree over copies."""

    def __init__(self, prob, minima, copy_keys, copy_params, syms, energy_tol, gamma_ratio, has_funnel):
        self.prob, self.minima, self.keys, self.params = prob, minima, copy_keys, copy_params
        self.syms, self.energy_tol, self.gamma_ratio, self.has_funnel = syms, energy_tol, gamma_ratio, has_funnel
        self.e_s = [float(prob.units.to_standard_energy(m.energy)) for m in minima]

    def identify(self, p_std: VAEParams, converged: bool):
        """(minimum, copy) of a descent's end, ("funnel", 0), or None."""
        e = float(energy_objective(p_std, *self.prob.args))
        act = self.prob.active(p_std)
        for i, m in enumerate(self.minima):
            if act.sum() == m.active and abs(e - self.e_s[i]) <= 1e3 * self.energy_tol * (1.0 + abs(self.e_s[i])):
                k = self.prob.key(p_std, act)
                dist = [np.linalg.norm(k - k2) for k2 in self.keys[i]]
                return (i, int(np.argmin(dist)))
        if self.has_funnel:
            gamma = float(np.exp(np.asarray(p_std.log_gamma)))
            lowest = min(self.e_s)
            if e < lowest - self.energy_tol * (1.0 + abs(lowest)) or (gamma <= 1e-4 and not converged):
                return (FUNNEL, 0)
        return None

    def _end(self, b, funnel_end, e_from):
        if b[0] != FUNNEL:
            return self.params[b[0]][b[1]]
        return _lift(funnel_end, self.prob, e_from)

    def pair(self, a, b, funnel_end, *, images, max_iter, ptol, gtol, dense_max, seed):
        t0 = time.perf_counter()
        start = self.params[a[0]][a[1]]
        if b[0] == FUNNEL:  # the nearest copy of the funnel's end point
            ends = [_act(s, funnel_end) for s in self.syms]
            x0 = np.asarray(ravel(start))
            end0 = min(ends, key=lambda q: float(np.linalg.norm(np.asarray(ravel(q)) - x0)))
            end = _lift(end0, self.prob, self.e_s[a[0]])
        else:
            end = self.params[b[0]][b[1]]
        xa, xb = np.asarray(ravel(start)), np.asarray(ravel(end))
        rng = np.random.default_rng(np.random.SeedSequence([seed, 2020_20, len(str(a)), a[0], b[1]]))
        xi = rng.normal(size=xa.size)
        xi -= (xi @ (xb - xa)) / max(float((xb - xa) @ (xb - xa)), 1e-300) * (xb - xa)
        xi *= 0.3 * np.linalg.norm(xb - xa) / max(np.linalg.norm(xi), 1e-300)
        s = np.linspace(0.0, 1.0, 9)[:, None]
        init = (1 - s) * xa + s * xb + np.sin(np.pi * s) * xi
        mep = minimum_energy_path(
            energy_objective, start, end, args=self.prob.args, images=images, init=init, max_iter=max_iter,
            ptol=ptol, gtol=gtol, far_side=b[0] != FUNNEL, connectivity=False,
            description=f"landscape map: minimum {a} -> {b}",
        )  # fmt: skip
        run = {"from": list(a), "to": list(b), "string_converged": mep.converged, "reasons": list(mep.reasons),
               "iterations": mep.iterations, "saddle_energy": None, "result": "no saddle"}  # fmt: skip
        if mep.saddle is None or mep.saddle_spectrum is None or mep.saddle_spectrum.n_negative < 1:
            run["seconds"] = time.perf_counter() - t0
            return None, run
        ts_std = mep.params_at(mep.saddle_index)
        units = self.prob.units
        ts_user = units.from_standard_params(VAEParams(*(np.asarray(x) for x in ts_std)))
        if self.prob.gamma is not None:
            ts_user = ts_user._replace(log_gamma=np.asarray(math.log(self.prob.gamma)))
        cert = certify_stationary(ts_user, self.prob.data, self.prob.alpha, gamma=self.prob.gamma, gtol=gtol,
                                  dense_max=dense_max)  # fmt: skip
        v = mep.saddle_spectrum.eigenvectors[:, 0]
        xs = np.asarray(mep.saddle)
        step = 0.05 * min(np.linalg.norm(xs - mep.images[mep.saddle_index - 1]),
                          np.linalg.norm(xs - mep.images[mep.saddle_index + 1]))  # fmt: skip
        sides = descend_from_saddle(energy_objective, mep._spec, self.prob.args, xs, v, step, 100)
        found, descents = [], []
        for side in sides:
            p_end = unravel(mep._spec, jnp.asarray(side["x"]))
            who = self.identify(p_end, side["converged"])
            found.append(who)
            descents.append({k: side[k] for k in ("sign", "energy", "grad_norm", "steps", "converged")}
                            | {"reached": None if who is None else list(who)})  # fmt: skip
        e_ts = float(units.from_standard_energy(mep.saddle_energy))
        reached = [None if w is None else list(w) for w in found]
        run |= {"saddle_energy": e_ts, "index": cert.n_negative, "reached": reached}
        connected = all(w is not None for w in found) and found[0] != found[1]
        if not connected:
            run["result"] = "the descents did not reach two known minima"
            run["seconds"] = time.perf_counter() - t0
            return None, run
        found.sort(key=lambda w: (w[0] == FUNNEL, w))
        pair = tuple(w[0] for w in found)
        barriers = tuple(math.inf if w[0] == FUNNEL else e_ts - self.minima[w[0]].energy for w in found)
        run["result"] = "transition state" if cert.n_negative == 1 and cert.stationary else "saddle of higher index"
        run["seconds"] = time.perf_counter() - t0
        if run["result"] != "transition state":
            return None, run
        ts = TransitionState(
            energy=e_ts, pair=pair, copies=tuple(w[1] for w in found), barriers=barriers, index=cert.n_negative,
            grad_norm=cert.grad_norm, connected=True, certificate=cert, descents=tuple(descents),
            run_for=(tuple(a), tuple(b)), string_converged=mep.converged, seconds=run["seconds"], params=ts_user,
        )  # fmt: skip
        return ts, run

    def _image(self, h, node):
        """The copy that symmetry h maps ``node`` = (minimum, copy) to."""
        i, c = node
        if i == FUNNEL:
            return node
        q = _act(h, self.params[i][c])
        act = self.prob.active(q)
        k = self.prob.key(q, act)
        return (i, int(np.argmin([np.linalg.norm(k - k2) for k2 in self.keys[i]])))

    def joined(self, transition_states, a, b) -> bool:
        """Whether copies a and b are already in one set of the tree of ``transition_states``."""
        nodes, tree, _, _ = self.tree(transition_states)
        ka, kb = nodes.index(a), nodes.index(b)
        return any(ka in comp and kb in comp for comp in tree.components)

    def tree(self, transition_states):
        nodes = [(i, c) for i in range(len(self.minima)) for c in range(len(self.keys[i]))]
        if self.has_funnel:
            nodes.append((FUNNEL, 0))
        index = {nd: k for k, nd in enumerate(nodes)}
        energies = [-math.inf if nd[0] == FUNNEL else self.minima[nd[0]].energy for nd in nodes]
        edges, seen = [], set()
        for ts in transition_states:
            a, b = (ts.pair[0], ts.copies[0]), (ts.pair[1], ts.copies[1])
            for h in self.syms:
                e = tuple(sorted((index[self._image(h, a)], index[self._image(h, b)])))
                if e not in seen and e[0] != e[1]:
                    seen.add(e)
                    edges.append((ts.energy, e[0], e[1]))
        tree = disconnectivity_tree(energies, edges)
        exit_b, join_e = [], []
        for i in range(len(self.minima)):
            k = index[(i, 0)]
            exit_b.append(tree.barrier[k])
            join_e.append(tree.joins_lowest[k])
        return nodes, tree, exit_b, join_e


def _lift(p_std: VAEParams, prob: _Problem, e_level: float) -> VAEParams:
    """A funnel end point raised along γ ← s²γ, σ ← sσ to where it lies below ``e_level``.

    s_c solves E(s_c) = e_level (bisection in log s; the energy rises with s near perfect
    reconstruction); the point returned is at s_c/2, ≈ 2n(d − κ) log 2 lower (as `prop1_path`'s end).
    """
    def at(s):
        return p_std._replace(log_gamma=jnp.asarray(p_std.log_gamma) + 2 * math.log(s),
                              log_sigma=jnp.asarray(p_std.log_sigma) + math.log(s))  # fmt: skip

    def e(s):
        return float(energy_objective(at(s), *prob.args))

    if not e(1.0) < e_level:
        return p_std
    lo, hi = 1.0, 2.0
    while e(hi) < e_level and hi < 1e12:
        lo, hi = hi, hi * 2.0
    for _ in range(60):
        mid = math.sqrt(lo * hi)
        lo, hi = (mid, hi) if e(mid) < e_level else (lo, mid)
    return at(max(1.0, 0.5 * lo))
