"""Proposition 2, numerically: a finite decoder variance γ′ makes the trivial solution optimal.

Literal form (MATH.md §6): fix a non-degenerate decoder θ̃ = (W, b) (the best learned-γ
minimum), re-minimise the encoder at each γ, and find γ′(θ̃) beyond which the trivial
solution (μ_x ≡ x̄, q = p(z)) costs less (`landscape.prop2_literal`). At α = 0 the
re-minimised energy is known in closed form, because the ELBO is tight at the exact
posterior: min_φ L(θ̃, φ; γ) = −2 log p(X; W, b, γ) − nd log 2π + nκ (pPCA likelihood,
`landscape.linear.ppca_log_likelihood`), which gives an independent γ′ by bisection.

Thresholds: with the decoder re-optimised at each fixed γ (`landscape.gamma_thresholds`),
latent dimensions collapse one by one at γ''_κ ≤ … ≤ γ''_2 below the full-collapse γ′;
at α = 0 they are γ''_j = λ_j and γ′ = λ_1 exactly.
"""

from __future__ import annotations

import math

import numpy as np

import landscape
from landscape.models.linear import ppca_log_likelihood
from proofs_numeric._claim import Check, Claim, main, timed

__all__ = ["affine_gamma_prime", "run"]


def affine_gamma_prime(X, W, b, kappa: int, lo: float, hi: float, rtol: float = 1e-9) -> float:
    """γ′(θ̃) at α = 0 from the pPCA likelihood: the root of min_φ L − L_triv, bisected in log γ on [lo, hi]."""
    n, d = X.shape

    def diff(g):
        best = -2.0 * float(ppca_log_likelihood(X, W, b, g)) - n * d * math.log(2 * math.pi) + n * kappa
        return best - float(landscape.trivial_energy(X, kappa, g))

    if not (diff(lo) < 0 <= diff(hi)):
        raise ValueError(f"no sign change of L(θ̃) − L_triv on [{lo}, {hi}]")
    while hi / lo - 1 > rtol:
        mid = math.sqrt(lo * hi)
        lo, hi = (mid, hi) if diff(mid) < 0 else (lo, mid)
    return math.sqrt(lo * hi)


def _data(seed: int, kappa: int) -> np.ndarray:
    data = landscape.prop1_dataset(0.3, n=20, d=4, kappa=kappa, seed=seed)
    return data.X + 0.05 * np.random.default_rng(seed + 100).normal(size=data.X.shape)


@timed
def run(fast: bool = False) -> Claim:
    """Proposition 2 in its literal form, and the threshold ordering, at α = 0 (with oracles) and α > 0."""
    kappa = 2
    alphas = (0.0, 0.3)
    seeds = (0,) if fast else (0, 1)
    restarts = 2 if fast else 4
    lit_err, lit_missing, beyond, below, delta_bad = 0.0, 0, 0, 0, 0
    th_err, order_bad, th_missing = 0.0, 0, 0
    details = []
    for seed in seeds:
        X = _data(seed, kappa)
        lam = np.sort(np.linalg.eigvalsh(landscape.data_covariance(X)))[::-1]
        grid = np.geomspace(lam[-1] / 4, 4 * lam[0], 12 if fast else 20)
        for alpha in alphas:
            lit = landscape.prop2_literal(X, alpha, kappa=kappa, gammas=grid, restarts=restarts, seed=seed)
            if lit.gamma_prime is None or not math.isfinite(lit.gamma_prime):
                lit_missing += 1
                continue
            gp = lit.gamma_prime
            diff = lit.energy - lit.trivial_energy
            beyond += int(np.sum(diff[grid > gp] < -1e-9 * np.abs(lit.trivial_energy[grid > gp])))
            below += int(not diff[grid < gp][-1] < 0)
            delta_bad += int(not lit.delta > 0)
            if alpha == 0.0:
                W, b = (np.asarray(a) for a in lit.decoder)
                i = int(np.searchsorted(grid, gp))
                ref = affine_gamma_prime(X, W, b, kappa, float(grid[i - 1]), float(grid[i]))
                lit_err = max(lit_err, abs(gp - ref) / ref)
            th = landscape.gamma_thresholds(X, alpha, kappa=kappa, gammas=grid, restarts=restarts, seed=seed)
            found = sorted(t.gamma for t in th.partial)
            if th.full is None or len(found) != kappa:
                th_missing += 1
                continue
            order_bad += int(not all(g < th.full.gamma * (1 - 1e-6) for g in found[:-1]))
            if alpha == 0.0:
                th_err = max(th_err, float(np.max(np.abs(np.array(found[::-1]) - lam[:kappa]) / lam[:kappa])))
            partial = ", ".join(f"{g:.5g}" for g in found)
            details.append(f"seed {seed}, α={alpha:g}: γ′(θ̃)={gp:.5g}, γ''={partial}, Δ={lit.delta:.3g}")
    checks = (
        Check("runs without a finite γ′(θ̃) on the grid (count)", lit_missing, 0),
        Check("grid γ > γ′ where θ̃ still beats the trivial solution (count)", beyond, 0),
        Check("runs where θ̃ does not win just below γ′ (count)", below, 0),
        Check("runs with Δ = Σ_i f_i(0, 1, θ̃) − nd γ̄ ≤ 0 (the proof's hypothesis fails) (count)", delta_bad, 0),
        Check("α = 0: γ′(θ̃) vs the pPCA-likelihood root (rel.)", lit_err, 1e-5),
        Check("runs where the sweep misses a threshold (count)", th_missing, 0),
        Check("runs where a partial threshold γ'' is not below γ′ (count)", order_bad, 0, "; ".join(details)),
        Check("α = 0: sweep thresholds γ''_j vs λ_j (rel.)", th_err, 1e-4),
    )
    return Claim(
        name="prop2",
        claim="For a fixed non-degenerate decoder θ̃, the re-minimised energy exceeds the trivial solution's beyond a "
        "finite γ′(θ̃) (Proposition 2); with the decoder re-optimised, latent dimensions collapse one by one at "
        "thresholds γ'' below the full-collapse γ′ (at α = 0: γ''_j = λ_j, γ′ = λ_1).",
        method="landscape.prop2_literal (encoder re-minimised by exact Newton at each γ, crossing bisected to 1e-6) "
        "and landscape.gamma_thresholds (fresh multi-starts at fixed γ, bisected to 1e-6), on noisy Proposition 1 "
        "data (n = 20, d = 4, κ = 2); at α = 0 against the pPCA-likelihood root and λ_j.",
        checks=checks,
        config={"alphas": list(alphas), "seeds": list(seeds), "restarts": restarts, "kappa": kappa},
    )


if __name__ == "__main__":
    raise SystemExit(main(run))
