"""The optimal decoder variance, paper eq. (9), derived by solving ∂L/∂γ = 0.

In eq. (5) γ enters only through R/γ + n d log γ, where R = Σ_i E_q‖x_i − μ_x(z)‖²
does not depend on γ (MATH.md §1). sympy solves ∂L/∂γ = 0, checks that the root is
the global minimum over γ > 0 (the second derivative there is positive and L → +∞ at
both ends), and substitutes it back: the profiled energy is n d (1 + log(R/nd)) + K,
which at the collapsed point (R = n d γ̄, K = n κ) is MATH.md §3's L_c.

The same is then checked against the library at random parameters: with γ set to
`landscape.implicit_gamma`, the energy equals the profiled formula and its log γ
gradient vanishes (relative 1e-10).
"""

from __future__ import annotations

import numpy as np
import sympy as sp

import landscape
from proofs_numeric._claim import Check, Claim, Derivation, main, timed
from proofs_numeric._common import TOL_SYMBOLIC, random_data

__all__ = ["derive", "run"]

gamma = sp.Symbol("gamma", positive=True)
R = sp.Symbol("R", positive=True)  # Σ_i E_q‖x_i − μ_x(z)‖², independent of γ
K = sp.Symbol("K", real=True)  # the KL part of eq. (5), independent of γ
n, d = sp.symbols("n d", positive=True, integer=True)


def derive() -> dict:
    """γ* from ∂L/∂γ = 0, and the checks that it is the unique global minimiser.

    Returns a dict with "L" (L as a function of γ), "roots" (sympy.solve's solutions),
    "gamma_star", "second_derivative" (at γ*), "profiled" (nd(1 + log(R/nd)) + K) and
    "profiled_ok" (whether L(γ*) simplifies to it), "limits" (L as
    γ → 0⁺ and γ → ∞), and "collapsed" (L(γ*) with R = n d γ̄, K = n κ, minus L_c).
    """
    L = R / gamma + n * d * sp.log(gamma) + K
    roots = sp.solve(sp.Eq(sp.diff(L, gamma), 0), gamma)
    g_star = roots[0]
    second = sp.simplify(sp.diff(L, gamma, 2).subs(gamma, g_star))
    nice = n * d * (1 + sp.log(R / (n * d))) + K
    profiled_ok = sp.simplify(sp.expand_log(L.subs(gamma, g_star) - nice, force=True)) == 0
    profiled = nice
    gbar, kappa = sp.symbols("gammabar kappa", positive=True)
    collapsed = sp.simplify(
        sp.expand_log(profiled.subs({R: n * d * gbar, K: n * kappa}), force=True)
        - (n * d * (1 + sp.log(gbar)) + n * kappa)
    )
    return {
        "L": L,
        "roots": roots,
        "gamma_star": g_star,
        "second_derivative": second,
        "profiled": profiled,
        "profiled_ok": profiled_ok,
        "limits": (sp.limit(L, gamma, 0, "+"), sp.limit(L, gamma, sp.oo)),
        "collapsed": collapsed,
    }


def _random_params(rng, n_, d_, kappa):
    return landscape.VAEParams(
        W=0.7 * rng.normal(size=(d_, kappa)),
        b=rng.normal(size=d_),
        log_gamma=np.asarray(0.0),
        mu=rng.normal(size=(n_, kappa)),
        log_sigma=rng.normal(scale=0.3, size=(n_, kappa)) - 0.5,
    )


def compare_library(num_points: int, seed: int) -> tuple[float, float]:
    """At random (params, data, α): (energy error vs the profiled formula, |∂L/∂log γ| / L scale) at γ*."""
    d_ = derive()
    profiled = sp.lambdify((R, K, n, d), d_["profiled"], modules="numpy")
    rng = np.random.default_rng(seed)
    worst_e, worst_g = 0.0, 0.0
    for _ in range(num_points):
        n_, dd, kappa = int(rng.integers(5, 30)), int(rng.integers(2, 6)), int(rng.integers(1, 3))
        X = random_data(rng, n_, dd)
        alpha = float(rng.choice([0.0, rng.uniform(0.05, 1.0)]))
        p = _random_params(rng, n_, dd, kappa)
        g_star = landscape.implicit_gamma(p, X, alpha)
        p = p._replace(log_gamma=np.asarray(np.log(g_star)))
        terms = landscape.energy_terms(p, X, alpha)
        e = float(landscape.energy(p, X, alpha))
        rr = float(landscape.expected_sq_error(p, X, alpha))
        ref = float(profiled(rr, float(terms["kl"]), n_, dd))
        worst_e = max(worst_e, abs(e - ref) / max(1.0, abs(ref)))
        g = landscape.gradient(p, X, alpha)
        worst_g = max(worst_g, abs(float(g.log_gamma)) / max(1.0, abs(e)))
    return worst_e, worst_g


@timed
def run(fast: bool = False) -> Claim:
    """Eq. (9): γ* = (1/nd) Σ_i E_q‖x_i − μ_x(z)‖², derived, and the profiled energy, against the library."""
    d_ = derive()
    checks = [
        Check("sympy.solve(∂L/∂γ = 0) has exactly one root", abs(len(d_["roots"]) - 1), 0),
        Check("the root is R/(nd) (eq. 9)", 0.0 if sp.simplify(d_["gamma_star"] - R / (n * d)) == 0 else 1.0, 0),
        Check(
            "∂²L/∂γ² at γ* is n³d³/R² > 0",
            0.0 if sp.simplify(d_["second_derivative"] - n**3 * d**3 / R**2) == 0 else 1.0,
            0,
        ),
        Check("L(γ*) = nd(1 + log(R/nd)) + K", float(not d_["profiled_ok"]), 0),
        Check("L → +∞ as γ → 0⁺ and as γ → ∞ (so γ* is the global minimum)", float(d_["limits"] != (sp.oo, sp.oo)), 0),
        Check("L(γ*) at R = nd γ̄, K = nκ equals L_c = nd(1 + log γ̄) + nκ", float(d_["collapsed"] != 0), 0),
    ]
    num = 6 if fast else 8
    err_e, err_g = compare_library(num, seed=0)
    checks.append(
        Check(
            f"library energy at γ = implicit_gamma vs nd(1 + log(R/nd)) + K, {num} random points (rel.)", err_e, 1e-12
        )
    )
    checks.append(Check("library ∂L/∂log γ at γ = implicit_gamma, relative to |L|", err_g, TOL_SYMBOLIC))
    L = sp.latex
    derivations = (
        Derivation("eq. (5) as a function of γ", L(d_["L"]), "R = Σ_i E_q‖x_i − μ_x(z)‖², K the KL part"),
        Derivation(r"$\partial L/\partial\gamma = 0$", r"\gamma^* = " + L(d_["gamma_star"]), "sympy.solve"),
        Derivation(r"curvature at $\gamma^*$", r"\partial^2_\gamma L = " + L(d_["second_derivative"]), "> 0"),
        Derivation("profiled energy", r"L(\gamma^*) = " + L(d_["profiled"]), "substituted back"),
    )
    return Claim(
        name="sym_gamma",
        claim="For fixed other parameters, the energy is minimised over γ by γ* = (1/nd) Σ_i E_q‖x_i − μ_x(z)‖² "
        "(paper eq. 9), uniquely; the profiled energy is nd(1 + log γ*) + K, which at the collapsed point is L_c.",
        method="sympy solves ∂L/∂γ = 0 with R, K symbols, checks the second derivative and the limits at 0 and ∞; "
        "then, at random parameters, data and α, the library energy at γ = implicit_gamma equals the profiled formula "
        "and its log γ gradient vanishes.",
        checks=tuple(checks),
        derivations=derivations,
        config={"random_points": num, "seed": 0},
    )


if __name__ == "__main__":
    raise SystemExit(main(run))
