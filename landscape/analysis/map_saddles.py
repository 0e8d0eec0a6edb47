"""The machinery of `landscape_map`: its minima and copies, the saddle searches, identification, the tree.

The steps are described in `landscape.analysis.landscape_map`'s docstring. Here:

- `MapMinimum`, `TransitionState`: the frozen results (one base, `Result`, for JSON).
- `latent_symmetries`, `apply_symmetry`: the signed permutations of the latent dimensions, acting on
  (W, μ, log σ) together.
- `MapProblem`: the standardised problem (energy, active dimensions, the key that tells copies apart).
- `new_minimum`: a certified minimum and its distinct copies.
- `MapContext`: pair → string (`minimum_energy_path`) → climbing image → eigenvector-following;
  single-ended eigenvector-following out of a minimum (`eigenvector_following`); certification,
  descents from TS ± ε·v and the identification of their ends (known minimum, a newly discovered
  one, or the funnel); union-find over the copies (`disconnectivity_tree`).
- `lift`: a funnel end point raised to the energy level of a minimum.
"""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass

import jax.numpy as jnp
import numpy as np

from landscape.analysis import eq5_bindings  # noqa: F401  (registers eq. (5) with the path tools)
from landscape.analysis.basins import active_dims, inert_rows, wilson_interval
from landscape.analysis.stationary import certify_stationary
from landscape.common.results import Result
from landscape.core.energy import energy_objective
from landscape.core.params import VAEParams
from landscape.tools.disconnectivity import disconnectivity_tree
from landscape.tools.flat import as_tree, ravel, unravel
from landscape.tools.operator import dense_hessian as hessian_flat
from landscape.tools.saddle import descend_from_saddle, eigenvector_following, minimize
from landscape.tools.string_method import minimum_energy_path

__all__ = ["MapMinimum", "TransitionState", "latent_symmetries", "MapProblem", "MapContext", "new_minimum"]

FUNNEL = "funnel"


@dataclass(frozen=True)
class MapMinimum(Result):
    """A distinct minimum: energy (user units), active dimensions, basin fraction, certificate, copies.

    ``discovered``: found by a descent from a transition state rather than by the search (count 0).
    """

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
    discovered: bool = False  # found by a descent from a transition state, not by the search

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


def latent_symmetries(kappa: int) -> list[tuple[tuple[int, ...], np.ndarray]]:
    """The signed permutations of κ latent dimensions, (perm, signs), identity first."""
    out = []
    for perm in itertools.permutations(range(kappa)):
        for signs in itertools.product((1.0, -1.0), repeat=kappa):
            out.append((perm, np.asarray(signs)))
    return out


def apply_symmetry(g, p: VAEParams) -> VAEParams:
    perm, signs = g
    perm = list(perm)
    return p._replace(
        W=np.asarray(p.W)[:, perm] * signs, mu=np.asarray(p.mu)[:, perm] * signs,
        log_sigma=np.asarray(p.log_sigma)[:, perm],
    )  # fmt: skip


class MapProblem:
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


def new_minimum(prob, syms, p_user, count, restarts, gtol, dense_max, discovered=False):
    """A `MapMinimum` at p_user (certified), and its copies: keys and standardised parameters."""
    units = prob.units
    if prob.gamma is not None:
        p_user = p_user._replace(log_gamma=np.asarray(math.log(prob.gamma)))
    p_std = units.to_standard_params(p_user)
    act = prob.active(p_std)
    cert = certify_stationary(p_user, prob.data, prob.alpha, gamma=prob.gamma, gtol=gtol, dense_max=dense_max)
    keys, params = [], []
    for s in syms:
        q = apply_symmetry(s, p_std)
        k = prob.key(q, act[list(s[0])])
        if all(np.linalg.norm(k - k2) > 1e-6 * (1.0 + np.linalg.norm(k)) for k2 in keys):
            keys.append(k)
            params.append(q)
    m = MapMinimum(
        energy=prob.energy_user(p_std), active=int(act.sum()), count=count, fraction=count / restarts,
        interval=wilson_interval(count, restarts), gamma=float(np.exp(np.asarray(p_user.log_gamma))),
        collapsed=not act.any(), copies=len(keys), certificate=cert, params=p_user, discovered=discovered,
    )  # fmt: skip
    return m, keys, params


def same_ts(a: TransitionState, b: TransitionState, tol) -> bool:
    return set(a.pair) == set(b.pair) and abs(a.energy - b.energy) <= tol * (1.0 + abs(a.energy))


class MapContext:
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
            gamma = float(np.exp(np.asarray(p_std.log_gamma)))  # standardised: γ̄ = 1
            lowest = min(self.e_s)
            if e < lowest - self.energy_tol * (1.0 + abs(lowest)) or (gamma <= self.gamma_ratio and not converged):
                return (FUNNEL, 0)
        return None

    def discover(self, p_std: VAEParams):
        """Add the point as a new minimum if it is certified one; its (minimum, copy) or None."""
        restarts, gtol, dense_max = self.search_settings
        p_user = self.prob.units.from_standard_params(VAEParams(*(np.asarray(a) for a in p_std)))
        m, keys, params = new_minimum(self.prob, self.syms, p_user, 0, restarts, gtol, dense_max, discovered=True)
        if not (m.certificate.stationary and m.certificate.n_negative == 0):
            return None
        self.minima.append(m)
        self.keys.append(keys)
        self.params.append(params)
        self.e_s.append(float(self.prob.units.to_standard_energy(m.energy)))
        return (len(self.minima) - 1, 0)

    def _end(self, b, funnel_end, e_from):
        if b[0] != FUNNEL:
            return self.params[b[0]][b[1]]
        return lift(funnel_end, self.prob, e_from)

    def pair(self, a, b, funnel_end, *, images, max_iter, ptol, gtol, dense_max, seed):
        t0 = time.perf_counter()
        start = self.params[a[0]][a[1]]
        if b[0] == FUNNEL:  # the nearest copy of the funnel's end point
            ends = [apply_symmetry(s, funnel_end) for s in self.syms]
            x0 = np.asarray(ravel(start))
            end0 = min(ends, key=lambda q: float(np.linalg.norm(np.asarray(ravel(q)) - x0)))
            end = lift(end0, self.prob, self.e_s[a[0]])
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
        v = mep.saddle_spectrum.eigenvectors[:, 0]
        xs = np.asarray(mep.saddle)
        step = 0.05 * min(np.linalg.norm(xs - mep.images[mep.saddle_index - 1]),
                          np.linalg.norm(xs - mep.images[mep.saddle_index + 1]))  # fmt: skip
        return self.saddle(xs, v, mep._spec, step, run, t0, (tuple(a), tuple(b)), mep.converged, gtol, dense_max)

    def single_ended(self, i, *, gtol, dense_max, modes=2):
        """Eigenvector-following out of minimum i along its ``modes`` softest modes, both signs."""
        found, runs = [], []
        p = self.params[i][0]
        x0, spec = np.asarray(ravel(p)), as_tree("minimum", p)[1]
        H = np.asarray(hessian_flat(energy_objective, p, self.prob.args))
        lam, vec = np.linalg.eigh(0.5 * (H + H.T))
        soft = [k for k in range(lam.size) if lam[k] > 1e-6 * np.max(np.abs(lam))][:modes]
        for k in soft:
            for sign in (1.0, -1.0):
                t0 = time.perf_counter()
                xs, _, _, n_neg, v, steps = eigenvector_following(
                    energy_objective, spec, x0, self.prob.args, sign * vec[:, k], step=0.02, trust=0.1, gtol=gtol
                )
                run = {"from": [i, 0], "to": f"mode {k} ({'+' if sign > 0 else '-'})", "steps": steps,
                       "result": "no saddle", "saddle_energy": None}  # fmt: skip
                if n_neg < 1:
                    run["seconds"] = time.perf_counter() - t0
                    runs.append(run)
                    continue
                step = 0.05 * float(np.linalg.norm(xs - x0))
                ts, run = self.saddle(xs, v, spec, step, run, t0, ((i, 0), ("mode", k)), True, gtol, dense_max)
                runs.append(run)
                if ts is not None:
                    found.append(ts)
        return found, runs

    def saddle(self, xs, v, spec, step, run, t0, run_for, string_converged, gtol, dense_max):
        """Certify the saddle xs (flat, standardised), descend from xs ± step·v, identify both ends."""
        ts_std = unravel(spec, jnp.asarray(xs))
        units = self.prob.units
        ts_user = units.from_standard_params(VAEParams(*(np.asarray(x) for x in ts_std)))
        if self.prob.gamma is not None:
            ts_user = ts_user._replace(log_gamma=np.asarray(math.log(self.prob.gamma)))
        cert = certify_stationary(ts_user, self.prob.data, self.prob.alpha, gamma=self.prob.gamma, gtol=gtol,
                                  dense_max=dense_max)  # fmt: skip
        sides = descend_from_saddle(energy_objective, spec, self.prob.args, xs, v, step, 100)
        found, descents = [], []
        for side in sides:
            p_end = unravel(spec, jnp.asarray(side["x"]))
            who = self.identify(p_end, side["converged"])
            if who is None and self.has_funnel and not side["converged"]:  # still descending: go on
                x_end, side["energy"], side["grad_norm"], more = minimize(energy_objective, spec, side["x"],
                                                                          self.prob.args, 500)  # fmt: skip
                side["steps"] += more
                side["converged"] = side["grad_norm"] <= 1e-10
                who = self.identify(unravel(spec, jnp.asarray(x_end)), side["converged"])
            if who is None and side["converged"]:  # a minimum the search did not find?
                who = self.discover(p_end)
            found.append(who)
            descents.append({k: side[k] for k in ("sign", "energy", "grad_norm", "steps", "converged")}
                            | {"reached": None if who is None else list(who)})  # fmt: skip
        e_ts = float(units.from_standard_energy(float(energy_objective(ts_std, *self.prob.args))))
        reached = [None if w is None else list(w) for w in found]
        run |= {"saddle_energy": e_ts, "index": cert.n_negative, "reached": reached, "descents": descents}
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
            run_for=run_for, string_converged=string_converged, seconds=run["seconds"], params=ts_user,
        )  # fmt: skip
        return ts, run

    def _image(self, h, node):
        """The copy that symmetry h maps ``node`` = (minimum, copy) to."""
        i, c = node
        if i == FUNNEL:
            return node
        q = apply_symmetry(h, self.params[i][c])
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


def lift(p_std: VAEParams, prob: MapProblem, e_level: float) -> VAEParams:
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
