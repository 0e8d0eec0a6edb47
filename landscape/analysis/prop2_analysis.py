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
from landscape.core.collapsed import data_covariance

__all__ = ["Prop2Analysis", "analyse_prop2"]


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


def analyse_prop2(X, alpha, *, kappa: int, gammas, restarts: int = 4, seed: int = 0) -> Prop2Analysis:
    """Run the Proposition 2 measurements (see the module docstring)."""
    t0 = time.perf_counter()
    n, d = V.check_data(X)
    V.check_alpha(alpha)
    kappa = V.check_kappa(kappa)
    th = gamma_thresholds(X, alpha, kappa=kappa, gammas=gammas, restarts=restarts, seed=seed)
    learned = search(X, alpha, kappa=kappa, restarts=max(restarts, 8), seed=seed, progress=False)
    best = learned.restart(learned.best)
    gstar = implicit_gamma(best, X, alpha)
    lit = prop2_literal(X, alpha, kappa=kappa, gammas=gammas, decoder=(best.W, best.b), seed=seed)
    lam = np.sort(np.linalg.eigvalsh(data_covariance(X)))[::-1]
    config = {"alpha": float(alpha), "kappa": kappa, "n": n, "d": d, "restarts": restarts, "seed": int(seed)}
    return Prop2Analysis(th, gstar, float(best.gamma), lit, lam, config, time.perf_counter() - t0)
