"""Proposition 2 measured on one data set: thresholds, implicit γ*, the literal form.

`analyse_prop2` is what ``python -m landscape.prop2`` runs: a γ sweep with continuation,
the thresholds γ″_j and γ′ refined by bisection, the implicit γ* of eq. (9) at the best
learned-γ minimum (Section 5.2: if γ* > γ′, collapse is forced), and Proposition 2 in
its literal form for that minimum's decoder.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from landscape.analysis.gamma import GammaThresholds, LiteralProp2, gamma_thresholds, implicit_gamma, prop2_literal
from landscape.analysis.search import search
from landscape.common import checks as V
from landscape.core.data import as_data
from landscape.core.datasets import Prop1Dataset, prop1_dataset

__all__ = ["Prop2Analysis", "analyse_prop2", "prop2_data", "default_gammas"]


@dataclass(frozen=True)
class Prop2Analysis:
    """Thresholds, implicit γ* and literal Proposition 2 for one data set and α."""

    thresholds: GammaThresholds
    implicit_gamma: float
    learned_gamma: float
    literal: LiteralProp2
    eigenvalues: np.ndarray
    config: dict
    seconds: float

    def to_dict(self) -> dict:
        return {
            "config": self.config,
            "eigenvalues_S": self.eigenvalues.tolist(),
            "thresholds": self.thresholds.to_dict(),
            "sweep": self.thresholds.sweep.to_dict()["sweep"],
            "implicit_gamma": self.implicit_gamma,
            "learned_gamma": self.learned_gamma,
            "literal": self.literal.to_dict(),
            "seconds": self.seconds,
        }

    def report(self) -> str:
        from landscape.analysis.report import format_prop2

        return format_prop2(self)


def prop2_data(data_alpha, *, n: int, d: int, kappa: int, seed: int = 0, noise: float = 0.05):
    """The data of ``python -m landscape.prop2``: a `prop1_dataset` plus N(0, noise²) noise.

    The noise is drawn from ``SeedSequence([seed, 5])``, so the CLI's data set is
    reproducible from the library. Returns ``(dataset, X)``.
    """
    noise = V.check_tolerance("noise", noise, allow_zero=True)
    seed = V.check_seed("seed", seed)
    data: Prop1Dataset = prop1_dataset(data_alpha, n=n, d=d, kappa=kappa, seed=seed)
    rng = np.random.default_rng(np.random.SeedSequence([seed, 5]))
    return data, data.X + noise * rng.normal(size=data.X.shape)


def default_gammas(X, num: int = 16) -> np.ndarray:
    """The default γ grid of `analyse_prop2`: ``num`` points log-spaced from tr S/(20 d) to 3 λ_1."""
    D = as_data(X)
    num = V.check_size("num", num, 2)
    return np.geomspace(np.sum(D.eigenvalues) / (20 * D.d), 3 * D.eigenvalues[0], num)


def analyse_prop2(X, alpha, *, kappa: int, gammas=None, restarts: int = 4, seed: int = 0) -> Prop2Analysis:
    """Run the Proposition 2 measurements (see the module docstring); ``gammas`` None: `default_gammas`."""
    t0 = time.perf_counter()
    X = as_data(X)  # validated once for every step below
    n, d = X.shape
    alpha = V.check_alpha(alpha)
    kappa = V.check_kappa(kappa)
    gammas = default_gammas(X) if gammas is None else gammas
    th = gamma_thresholds(X, alpha, kappa=kappa, gammas=gammas, restarts=restarts, seed=seed)
    learned = search(X, alpha, kappa=kappa, restarts=max(restarts, 8), seed=seed, progress=False)
    best = learned.restart(learned.best)
    gstar = implicit_gamma(best, X, alpha)
    lit = prop2_literal(X, alpha, kappa=kappa, gammas=gammas, decoder=(best.W, best.b), seed=seed)
    lam = X.eigenvalues.copy()
    config = {"alpha": float(alpha), "kappa": kappa, "n": n, "d": d, "restarts": restarts, "seed": int(seed)}
    return Prop2Analysis(th, gstar, float(best.gamma), lit, lam, config, time.perf_counter() - t0)
