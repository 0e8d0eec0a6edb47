"""The leading order of m(r) = min_{‖W‖_F = r} ℓ(W) − L_c (issue 19), derived and checked.

ℓ(W) is eq. (5) minimised over (b, log γ, μ, log σ) at fixed decoder weights W, from the
collapsed values (MATH.md §3). The derivation is in `landscape.analysis.sphere_theory`; each
step is redone in sympy (`proofs_numeric._sphere_symbolic`), and the prediction
`leading_order_excess` is compared with a brute force: the energy minimised over the flattened
inner parameters at W = r·U for many unit U (every even-spread sign pattern, every single row,
u_1, random directions), at radii where ℓ − L_c is resolved (≥ 1e-9 |L_c|). The inner solver is
a preconditioned gradient descent (one fast compilation); the full run checks it against
`landscape.newton_minimize` and adds a joint Newton over W on the sphere, κ = 2 and d = 6.
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

import landscape
from landscape.analysis.sphere_theory import g_soft, leading_order_excess, relative_correction, validity_radius
from landscape.core.energy import energy_objective
from proofs_numeric._claim import Check, Claim, main, timed
from proofs_numeric._common import random_data
from proofs_numeric._sphere_symbolic import affine_profile, symbolic_checks
from proofs_numeric.eq9_gamma import golden_section

__all__ = ["candidates", "inner_excess", "run"]

RESOLVED = 1e-9  # ℓ − L_c must be at least this fraction of |L_c| to be compared
GD_STEPS = 80  # preconditioned gradient steps of the inner solver (contraction O(r²) per step near φ₀)
GTOL = 1e-9  # an inner minimisation counts when its final ‖∇‖ is below this
BATCH = 32  # directions are solved in batches of this size (padded), so each (n, d, κ) compiles once


# ---------------------------------------------------------------------------------------------- brute force


def _unpack(n: int, d: int, kappa: int):
    nk = n * kappa

    def unpack(W, x):
        return landscape.VAEParams(
            W, x[:d], x[d], x[d + 1 : d + 1 + nk].reshape(n, kappa), x[d + 1 + nk :].reshape(n, kappa)
        )

    return unpack


@functools.cache
def _inner_solver(n: int, d: int, kappa: int, method: str):
    """jit(vmap) of W ↦ (min over the flattened (b, log γ, μ, log σ) of eq. (5) from φ₀, ‖∇‖), X and α traced.

    "gd": GD_STEPS steps x ← x − D⁻¹∇L with D the inner Hessian at the collapsed point (MATH.md §4:
    2n/γ̄ for b, nd for log γ, 2 for μ, 4 for log σ), a gradient-only solver that compiles in a
    few seconds (the dense Hessian of eq. (5) takes longer to compile than the fast run may last);
    "newton": `landscape.newton_minimize` (full mode, as a cross-check).
    """
    unpack = _unpack(n, d, kappa)

    def ell(W, x0, X, alpha, dinv):
        f = lambda x: energy_objective(unpack(W, x), X, alpha)  # noqa: E731
        if method == "newton":
            res = landscape.newton_minimize(f, x0, gtol=1e-12, max_steps=60)
            return res.value, res.grad_norm
        g = jax.grad(f)
        x = jax.lax.fori_loop(0, GD_STEPS, lambda _, x: x - dinv * g(x), x0)
        return f(x), jnp.linalg.norm(g(x))

    return jax.jit(jax.vmap(ell, in_axes=(0, None, None, None, None)))


def inner_excess(X, alpha: float, kappa: int, Ws: np.ndarray, method: str = "gd") -> tuple[np.ndarray, np.ndarray]:
    """ℓ(W) − L_c for each W in ``Ws`` (shape (M, d, κ)), minimised from φ₀; and each final ‖∇‖."""
    X = np.asarray(X, dtype=float)
    n, d = X.shape
    gb = float(np.mean((X - X.mean(axis=0)) ** 2))
    p0 = landscape.collapsed_point(X, kappa)
    x0 = jnp.concatenate([p0.b, p0.log_gamma[None], p0.mu.ravel(), p0.log_sigma.ravel()])
    diag = np.concatenate([np.full(d, 2 * n / gb), [n * d], np.full(n * kappa, 2.0), np.full(n * kappa, 4.0)])
    M = len(Ws)
    pad = -M % BATCH  # one batch shape per (n, d, κ): one compilation
    Ws = np.concatenate([Ws, np.repeat(Ws[:1], pad, axis=0)])
    val, gn = _inner_solver(n, d, kappa, method)(jnp.asarray(Ws), x0, jnp.asarray(X), float(alpha), 1.0 / diag)
    return np.asarray(val)[:M] - landscape.collapsed_energy(X, kappa), np.asarray(gn)[:M]


def candidates(data, kappa: int, rng, num_random: int) -> tuple[np.ndarray, list[str]]:
    """Unit-norm directions U (M, d, κ): even-spread sign patterns, single rows, u_1, random; with labels."""
    d = data.d
    out, labels = [], []
    col = np.ones(kappa) / math.sqrt(kappa)
    for bits in range(2 ** (d - 1)):
        signs = np.array([1.0] + [(-1.0) ** ((bits >> j) & 1) for j in range(d - 1)])
        out.append(np.outer(signs / math.sqrt(d), col))
        labels.append("spread")
    for j in range(d):
        out.append(np.outer(np.eye(d)[j], col))
        labels.append("row")
    out.append(np.outer(data.eigenvectors[:, 0], np.eye(kappa)[0]))
    labels.append("u1")
    U = rng.normal(size=(num_random, d, kappa))
    out += list(U / np.linalg.norm(U, axis=(1, 2), keepdims=True))
    labels += ["random"] * num_random
    return np.array(out), labels


def _affine_evidence(X, kappa, rng, num_random) -> dict:
    """α = 0: m(r)/r² at r = 1e-3 and the quadratic form per direction; the exact profile at larger r."""
    data = landscape.as_data(X)
    n, d = data.shape
    gb, lam = float(data.gamma_bar), float(data.eigenvalues[0])
    U, _ = candidates(data, kappa, rng, num_random)
    c1 = float(leading_order_excess(data, 0.0, kappa, 1.0))
    r = 1e-3 * math.sqrt(gb)
    exc, gn = inner_excess(X, 0.0, kappa, r * U)
    quad = np.array([n / gb * sum(u[:, k] @ (u[:, k] - data.S @ u[:, k] / gb) for k in range(kappa)) for u in U])
    prof = affine_profile()
    Lc = landscape.collapsed_energy(X, kappa)
    radii = np.array([1e-3, 0.03, 0.1, 0.3]) * math.sqrt(gb)
    bf, _ = inner_excess(X, 0.0, kappa, radii[:, None, None] * np.outer(data.eigenvectors[:, 0], np.eye(kappa)[0]))
    exact = []
    for rr in radii:
        f = lambda lg, rr=rr: prof["F_numeric"](math.exp(lg), gb, lam, rr * rr, n, d)  # noqa: E731
        lg = golden_section(f, math.log(gb) - 3, math.log(gb) + 3, xtol=1e-12)
        exact.append(f(lg) + n * (kappa - 1) - Lc)
    dev = bf[1] / (c1 * radii[1] ** 2) - 1
    return {
        "ratio": float(np.min(exc)) / r**2, "C1": c1, "gn": float(np.max(gn)),
        "quad_err": float(np.max(np.abs(exc / r**2 - quad))) / (n / gb),
        "below": int(np.sum(exc < exact[0] - 1e-11 * max(1.0, abs(Lc)))),
        "profile_err": float(np.max(np.abs(bf - np.array(exact)))) / max(1.0, abs(Lc)),
        "dev": dev, "dev_pred": prof["C2_over_C1"](gb, lam, n, d) * radii[1] ** 2,
    }  # fmt: skip


def _soft_evidence(X, alpha, kappa, t_grid, rng, num_random, newton: bool = False) -> list[dict]:
    """α > 0: brute-force min over directions against (nd/γ̄) g(r²/d), at r = α√d/t."""
    data = landscape.as_data(X)
    n, d = data.shape
    gb = float(data.gamma_bar)
    Lc = landscape.collapsed_energy(X, kappa)
    U, labels = candidates(data, kappa, rng, num_random)
    r_valid = validity_radius(data, alpha)
    rows = []
    for t in t_grid:
        r = alpha * math.sqrt(d) / t
        exc, gn = inner_excess(X, alpha, kappa, r * U)
        ok = gn <= GTOL  # a fixed-step descent that has not converged measures nothing: left out, and counted
        diff = 0.0
        if newton:  # full mode: Newton on the same directions, its value where the descent did not converge
            exc_n, gn_n = inner_excess(X, alpha, kappa, r * U, method="newton")
            diff = float(np.max(np.abs(exc_n - exc)[ok], initial=0.0)) / max(1.0, abs(Lc))
            use = ~ok & (gn_n <= GTOL)
            exc, ok = np.where(use, exc_n, exc), ok | use
        pred = float(leading_order_excess(data, alpha, kappa, r))
        bound = n / gb * np.sum(g_soft(r * r * np.sum(U**2, axis=2), alpha), axis=1)
        k = int(np.argmin(np.where(ok, exc, np.inf)))
        rows.append({
            "t": t, "r": r, "pred": pred, "m": float(exc[k]), "ratio": float(exc[k]) / pred, "argmin": labels[k],
            "eps": float(relative_correction(data, alpha, r)), "in_range": r <= r_valid,
            "resolved": pred >= RESOLVED * abs(Lc), "gn": float(np.max(gn)), "newton_diff": diff,
            "unconverged": int(np.sum(~ok)),
            "bound_violations": int(np.sum(ok & (exc > bound + 1e-11 * max(1.0, abs(Lc))))),
        })  # fmt: skip
    return rows


@functools.cache
def _joint_solver(n: int, d: int, kappa: int):
    """jit(vmap) of a Newton minimisation over (V, inner) of eq. (5) at W = r V/‖V‖, + ½(‖V‖² − 1)²."""

    unpack = _unpack(n, d, kappa)

    def solve(U, x0, X, alpha, r):
        P = d * kappa

        def f(z):
            V = z[:P].reshape(d, kappa)
            return (
                energy_objective(unpack(r * V / jnp.linalg.norm(V), z[P:]), X, alpha) + 0.5 * (jnp.sum(V**2) - 1) ** 2
            )

        inner = landscape.newton_minimize(lambda x: f(jnp.concatenate([U.ravel(), x])), x0, gtol=1e-12, max_steps=60)
        res = landscape.newton_minimize(f, jnp.concatenate([U.ravel(), inner.x]), gtol=1e-10, max_steps=120)
        V = res.x[:P].reshape(d, kappa)
        return res.value, res.grad_norm, V / jnp.linalg.norm(V)

    return jax.jit(jax.vmap(solve, in_axes=(0, None, None, None, None)))


def _sphere_minimum(X, alpha, kappa, r, U) -> tuple[float, np.ndarray, float]:
    """min over ‖W‖_F = r of ℓ(W) − L_c by joint Newton from each U; the minimiser's d‖w_j‖²/r² and ‖∇‖."""
    X = np.asarray(X, dtype=float)
    n, d = X.shape
    p0 = landscape.collapsed_point(X, kappa)
    x0 = jnp.concatenate([p0.b, p0.log_gamma[None], p0.mu.ravel(), p0.log_sigma.ravel()])
    val, gn, V = _joint_solver(n, d, kappa)(jnp.asarray(U), x0, jnp.asarray(X), float(alpha), float(r))
    val = np.asarray(val) - landscape.collapsed_energy(X, kappa)
    k = int(np.argmin(val))
    return float(val[k]), d * np.sum(np.asarray(V[k]) ** 2, axis=1), float(np.asarray(gn)[k])


def _g_soft_check() -> Check:
    """g_soft against 40-digit mpmath of the closed form, down to 1e-74 (and past float64 in log form)."""
    import mpmath

    from landscape.analysis.sphere_theory import log_g_soft

    mpmath.mp.dps = 40
    pts = [(0.01**2 / 3, 0.1), (1e-4, 0.05), (0.05, 0.5), (0.3, 0.5), (4.0, 1.0), (1e-6, 1.0)]
    err = 0.0
    for v, a in pts:
        vm, am = mpmath.mpf(v), mpmath.mpf(a)
        sm = mpmath.sqrt(vm)
        ref = 2 * ((am**2 + vm) * mpmath.erfc(am / sm / mpmath.sqrt(2)) / 2 - am * sm * mpmath.npdf(am / sm))
        err = max(err, abs(float(log_g_soft(v, a)) - float(mpmath.log(ref))) / max(1.0, abs(float(mpmath.log(ref)))))
        if ref > mpmath.mpf(1e-300):
            err = max(err, abs(float(g_soft(v, a) / ref) - 1))
    return Check("g_soft and log_g_soft vs mpmath (40 digits), 6 points down to g = 7e-74 and log g = −5e5 (rel.)",
                 err, 1e-12, f"g(0.01²/3; α = 0.1) = {float(g_soft(0.01**2 / 3, 0.1)):.6g}")  # fmt: skip


def _datasets(fast: bool, rng) -> tuple[list, list]:
    """(α = 0 (name, X, κ) cases, α > 0 (name, X, α, κ) cases); Gaussian data get α in units of √γ̄."""

    def pX(a, seed=0):
        return np.asarray(landscape.prop1_dataset(a, n=20, d=3, kappa=1, seed=seed).X)

    def sd(X):
        return math.sqrt(float(np.mean((X - X.mean(axis=0)) ** 2)))

    G1, G2 = random_data(rng, 20, 3), random_data(rng, 20, 3)
    affine = [("prop1 α=0", pX(0.0), 1), ("gauss", G1, 1)]
    soft = [("prop1 α=0.5", pX(0.5), 0.5, 1), ("gauss α=0.5√γ̄", G1, 0.5 * sd(G1), 1)]
    if fast:
        return affine, soft
    G6 = random_data(rng, 20, 6)
    affine += [("gauss2", G2, 1), ("gauss2, κ=2", G2, 2)]
    soft += [
        ("prop1 α=0.1", pX(0.1), 0.1, 1),
        ("prop1 α=1", pX(1.0), 1.0, 1),
        ("prop1 α=0.5 seed 1", pX(0.5, 1), 0.5, 1),
        ("gauss2 α=0.1√γ̄", G2, 0.1 * sd(G2), 1),
        ("gauss d=6 α=0.5√γ̄", G6, 0.5 * sd(G6), 1),
        ("prop1 α=0.5, κ=2", pX(0.5), 0.5, 2),
        ("gauss α=0.5√γ̄, κ=2", G1, 0.5 * sd(G1), 2),
    ]
    return affine, soft


def _affine_checks(aff) -> list[Check]:
    e_ = [e for _, e in aff]
    return [
        Check(
            "α = 0, r = 1e-3√γ̄: min over directions of (ℓ − L_c)/r² vs (n/γ̄)(1 − λ_1/γ̄) (rel.)",
            max(abs(e["ratio"] / e["C1"] - 1) for e in e_),
            1e-5,
            "; ".join(f"{nm}: m/r² = {e['ratio']:.8g} vs {e['C1']:.8g}" for nm, e in aff),
        ),
        Check(
            "α = 0, r = 1e-3√γ̄: (ℓ − L_c)/r² vs the Schur quadratic form, every direction (rel. to n/γ̄)",
            max(e["quad_err"] for e in e_),
            1e-5,
            f"{len(aff)} data sets, {BATCH} directions each; max ‖∇‖ {max(e['gn'] for e in e_):.1e}",
        ),
        Check(
            "α = 0, r = 1e-3√γ̄: directions below the exact sphere minimum min_γ F at u_1 (count)",
            float(sum(e["below"] for e in e_)),
            0.0,
        ),
        Check(
            "α = 0, r ∈ {1e-3, 0.03, 0.1, 0.3}√γ̄ along u_1: brute force vs the exact profile min_γ F "
            "(rel. to max(1, |L_c|))",
            max(e["profile_err"] for e in e_),
            1e-10,
        ),
        Check(
            "α = 0, r = 0.03√γ̄: m/(C₁r²) − 1 vs C₂r²/C₁ (rel.)",
            max(abs(e["dev"] - e["dev_pred"]) / abs(e["dev_pred"]) for e in e_),
            0.1,
            "; ".join(f"{nm}: {e['dev']:.4g} vs {e['dev_pred']:.4g}" for nm, e in aff),
        ),
    ]


def _soft_checks(cases) -> list[Check]:
    used = [(k, r) for k, rows in cases.items() for r in rows if r["resolved"] and r["in_range"]]
    detail = " | ".join(
        f"{k[0]}: "
        + ", ".join(f"t={r['t']}: {r['ratio']:.4f}" + ("" if r["in_range"] else "*") for r in rows if r["resolved"])
        for k, rows in cases.items()
    )
    deficit_bad = [f"{k[0]} t={r['t']}" for k, r in used if not -1e-7 <= 1 - r["ratio"] <= r["eps"] + 1e-7]
    few = [k[0] for k, rows in cases.items() if sum(r["resolved"] and r["in_range"] for r in rows) < 2]
    return [
        Check(
            "α > 0, resolved radii r ≤ validity_radius: |m_bf(r) / ((nd/γ̄) g(r²/d)) − 1| (worst)",
            max(abs(r["ratio"] - 1) for _, r in used),
            0.1,
            detail + " (t = α√d/r; *: beyond validity_radius)",
        ),
        Check(
            "α > 0, in range: 1 − m_bf/prediction outside [0, ε(t)] (ε = relative_correction; count)",
            float(len(deficit_bad)),
            0.0,
            ", ".join(deficit_bad),
        ),
        Check(
            "α > 0: solved directions with ℓ(W) − L_c above the exact bound (n/γ̄) Σ_j g(‖w_j‖²), all radii (count)",
            float(sum(r["bound_violations"] for rows in cases.values() for r in rows)),
            0.0,
        ),
        Check(
            "α > 0, in range: radii whose best direction is not an even spread over the rows (count)",
            float(sum(r["argmin"] != "spread" for _, r in used)),
            0.0,
        ),
        Check(
            "α > 0, in range: largest final ‖∇‖ of the inner minimisations",
            max(r["gn"] for _, r in used),
            GTOL,
            f"beyond the range {sum(r['unconverged'] for rows in cases.values() for r in rows)} directions were not "
            "solved to ‖∇‖ ≤ 1e-9 (left out)",
        ),
        Check(
            "α > 0: data sets with fewer than 2 resolved radii inside validity_radius (count)",
            float(len(few)),
            0.0,
            ", ".join(few),
        ),  # fmt: skip
    ]


def _full_checks(soft, cases) -> list[Check]:
    """Full mode: Newton cross-check, the joint minimum on the sphere, κ = 2 against κ = 1."""
    sphere_bad, sphere_err, rows_dev, kappa_err, kappa_rel = 0, 0.0, 0.0, 0.0, 0.0
    for name, X, a, kappa in soft[:2]:
        U, _ = candidates(landscape.as_data(X), kappa, np.random.default_rng(1), 4)
        for row in cases[(name, kappa)]:
            if row["resolved"] and row["in_range"]:
                val, rows_norm, _ = _sphere_minimum(X, a, kappa, row["r"], U)
                sphere_err = max(sphere_err, abs(val / row["pred"] - 1))
                rows_dev = max(rows_dev, float(np.max(np.abs(rows_norm - 1))))
                sphere_bad += int(val > row["m"] + 1e-11 * max(1.0, abs(landscape.collapsed_energy(X, kappa))))
    for (name, kappa), rows in cases.items():
        if kappa == 2:
            base = cases[(name.replace(", κ=2", ""), 1)]
            pairs = [(r1, r2) for r1, r2 in zip(base, rows, strict=True) if r1["in_range"] and r1["resolved"]]
            kappa_err = max([kappa_err] + [abs(r2["m"] - r1["m"]) / r1["pred"] - r1["eps"] for r1, r2 in pairs])
            kappa_rel = max([kappa_rel] + [abs(r2["m"] - r1["m"]) / r1["pred"] for r1, r2 in pairs])
    newton = max(r["newton_diff"] for rows in cases.values() for r in rows if r["in_range"])
    return [
        Check("α > 0, in range: preconditioned gradient vs landscape.newton_minimize, same W (rel. to max(1, |L_c|))",
              newton, 1e-11),
        Check("α > 0, in range: joint Newton over (W on the sphere, inner) vs the prediction (rel.)", sphere_err, 0.1),
        Check("α > 0, in range: the joint minimiser's row norms d‖w_j‖²/r² − 1 (max abs)", rows_dev, 0.05),
        Check("α > 0: joint minima above the best candidate direction (count)", float(sphere_bad), 0.0),
        Check("α > 0, κ = 2 vs κ = 1 (same data): |Δm|/prediction − ε (≤ 0: the same leading order)",
              kappa_err, 1e-9, f"max |Δm|/prediction = {kappa_rel:.2g}"),
    ]  # fmt: skip


@timed
def run(fast: bool = False) -> Claim:
    """m(r) at leading order (issue 19): the α = 0 Schur complement and the α > 0 even-spread g, against brute force."""
    rng = np.random.default_rng(0)
    num_random = BATCH - 8 if fast else 2 * BATCH - 8  # + 2^(d−1) + d + 1 = 8 structured directions at d = 3
    t_grid = (3.0, 3.5, 4.0, 4.5) if fast else (2.5, 2.75, 3.0, 3.25, 3.5, 4.0, 4.25, 4.5, 5.0)
    checks, derivations = symbolic_checks(fast)
    checks.append(_g_soft_check())
    affine, soft = _datasets(fast, rng)
    aff = [(name, _affine_evidence(X, kappa, rng, num_random)) for name, X, kappa in affine]
    checks += _affine_checks(aff)
    cases = {
        (name, kappa): _soft_evidence(X, a, kappa, t_grid, rng, num_random, newton=not fast and i < 2)
        for i, (name, X, a, kappa) in enumerate(soft)
    }
    checks += _soft_checks(cases)
    if not fast:
        checks += _full_checks(soft, cases)
    beyond = " | ".join(
        f"{k[0]}: "
        + ", ".join(
            f"t={r['t']}: {r['ratio']:.3g} ({r['argmin']}"
            + (f"; {r['unconverged']} unsolved" if r["unconverged"] else "")
            + ")"
            for r in rows
            if not r["in_range"]
        )
        for k, rows in cases.items()
    )
    notes = (
        "g is convex on all of v > 0 (g″ = αφ(α/√v)/v^{3/2} > 0): the issue's 'convex for v below some multiple of "
        "α²' is no restriction, Jensen applies on every sphere, and the even spread over the d rows is the unique "
        "minimiser of the leading-order cost at every r, for every κ.",
        "Beyond validity_radius (ratio m_bf/prediction, t = α√d/r, best direction): " + beyond + ". Where the best "
        "direction is a single row, that branch has fallen below L_c (the barrier is crossed) and the even-spread "
        "prediction no longer describes m(r).",
        "The inner minimisation is 80 steps of x ← x − D⁻¹∇L, D the collapsed inner Hessian (MATH.md §4); the full "
        "run checks it against landscape.newton_minimize.",
    )
    return Claim(
        name="sphere_leading_order",
        claim="m(r) = min_{‖W‖_F = r} ℓ(W) − L_c: at α = 0, m(r)/r² → (n/γ̄)(1 − λ_1/γ̄) (the Schur complement of "
        "MATH.md §4's 2×2 blocks; negative iff λ_1 > γ̄), with the r⁴ coefficient C₂ of the exact profile; at α > 0, "
        "m(r) = (nd/γ̄) g(r²/d)(1 − O(ε)), g(v) = E π_α(√v ζ)² strictly convex on all of v > 0, an exact upper bound "
        "for every r, with relative error ≤ ε(α√d/r) ~ (λ_1/γ̄) tφ(t), valid while r ≤ validity_radius "
        "(≈ 0.53–0.65 α on these data); independent of κ at this order.",
        method="sympy: explicit affine Hessian and Schur complement, the α = 0 profile and its expansion, the m = 0 "
        "moments, eq. (5) at (W, φ₀) with undefined moment functions, g′, g″, Jensen, Watson's lemma; numerics: "
        "the energy minimised over (b, log γ, μ, log σ) at W = r·U for sign patterns, single rows, u_1 and random U "
        "on Proposition 1 and Gaussian data, at resolved radii (≥ 1e-9 |L_c|); full mode also Newton, a joint "
        "Newton on the sphere, κ = 2 and d = 6.",
        checks=tuple(checks),
        derivations=tuple(derivations),
        notes=notes,
        config={"t = α√d/r": list(t_grid), "directions per radius": BATCH if fast else 2 * BATCH, "n": 20},
    )


if __name__ == "__main__":
    raise SystemExit(main(run))
