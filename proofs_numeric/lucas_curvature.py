"""pPCA with fixed noise: the curvature along an unused eigenvector (Lucas et al. 2019).

With σ² fixed, S = U Λ Uᵀ the sample covariance (λ_1 ≥ … ≥ λ_d) and W a stationary point of
the pPCA log-likelihood ℓ (`landscape.linear.ppca_stationary_point`: columns u_a (λ_a − σ²)^{1/2}
or 0), adding ε u_i to a zero column, u_i unused, gives exactly

    Δℓ(ε) = −(N/2) [ log(1 + ε²/σ²) − λ_i ε² / (σ² (σ² + ε²)) ] = (N/2) ε² (λ_i − σ²)/σ⁴ + O(ε⁴),

because C = W Wᵀ + σ² I only changes its eigenvalue along u_i, from σ² to σ² + ε². So a stationary
point with a zero column is a saddle iff an unused λ_i exceeds σ² (Lucas et al. 2019, "Don't Blame
the ELBO!", after Tipping & Bishop 1999). The same argument in the other invariant 2-planes of
(C, S) gives the whole Hessian of −ℓ in W (sympy below): with A the used eigenvectors, z the
number of zero columns and −ℓ = (N/2) Σ_j [log c_j + λ_j / c_j] + const,

    zero column × unused i:       N (σ² − λ_i)/σ⁴
    zero column × used a:         0                              (a rotation W → W R)
    active a × unused i:          N (λ_a − λ_i)/(σ² λ_a)
    active a, along itself:       2N (λ_a − σ²)/λ_a²
    active pair a < c:            0 (rotation) and N (λ_a + λ_c − 2σ²)/(λ_a λ_c)

so the number of negative eigenvalues is z · #{i ∉ A: λ_i > σ²} + Σ_{a ∈ A} #{i ∉ A: λ_i > λ_a}.
Points with no zero column can still be saddles (an unused λ_i above a used λ_a: Tipping &
Bishop's condition); the global maximum, the top eigenvectors with λ > σ², has none.

Checked on random data, several seeds, every stationary point up to column order: the autodiff
second derivative along ε, central differences, the exact Δℓ and its series, the gradient, and the
whole dense Hessian spectrum and its negative count.
"""

from __future__ import annotations

import functools
import itertools

import jax
import jax.numpy as jnp
import numpy as np
import sympy as sp

from landscape.models.linear import ppca_log_likelihood, ppca_stationary_point
from proofs_numeric._claim import Check, Claim, Derivation, main, timed
from proofs_numeric._common import TOL_SYMBOLIC, random_data

__all__ = ["derive", "predicted_spectrum", "run"]

_N, _s2, _lam, _la, _lc, _eps = sp.symbols("N sigma2 lambda_i lambda_a lambda_c epsilon", positive=True)
_p, _q, _t = sp.symbols("p q t", real=True)


def _f(c, lam):
    """−2ℓ/N along one eigen-direction of S: log c + λ/c, c the eigenvalue of C there."""
    return sp.log(c) + lam / c


@functools.cache
def derive() -> dict:
    """Derive Δℓ(ε), its series, and the Hessian blocks of −ℓ in the invariant 2-planes.

    Returns a dict of sympy expressions in (N, σ², λ_i, λ_a, λ_c, ε):
      "delta": Δℓ(ε) along ε u_i in a zero column (C's eigenvalue along u_i: σ² → σ² + ε²);
      "delta_stated": the closed form stated in the claim; "delta_identity": their difference simplified;
      "series": the series of Δℓ in ε to O(ε⁸); "leading": its ε² coefficient;
      "ratio_series": Δℓ / ((N/2) ε² (λ_i − σ²)/σ⁴) to O(ε⁶);
      "d2": d²Δℓ/dε² at 0;
      "h_active_unused", "h_active_self", "h_active_pair": Hessian entries/eigenvalues of −ℓ.
    """
    delta = -(_N / 2) * (_f(_s2 + _eps**2, _lam) - _f(_s2, _lam))
    stated = -(_N / 2) * (sp.log(1 + _eps**2 / _s2) - _lam * _eps**2 / (_s2 * (_s2 + _eps**2)))
    identity = sp.simplify(sp.expand_log(delta - stated, force=True))
    series = sp.series(delta, _eps, 0, 8).removeO()
    leading = sp.simplify(series.coeff(_eps, 2))
    lead_term = (_N / 2) * _eps**2 * (_lam - _s2) / _s2**2
    raw = sp.expand(sp.series(stated / lead_term, _eps, 0, 6).removeO())
    ratio_series = sum(sp.factor(sp.simplify(raw.coeff(_eps, k))) * _eps**k for k in (0, 2, 4))
    d2 = sp.simplify(sp.diff(delta, _eps, 2).subs(_eps, 0))

    # active column a = s_a u_a + ε u_i, in the plane (u_a, u_i): −ℓ = (N/2)[log|C| + tr C⁻¹S] there
    def neg_ell(C, S):
        return (_N / 2) * (sp.log(C.det()) + (C.inv() * S).trace())

    w = sp.Matrix([sp.sqrt(_la - _s2), _eps])
    h_au = sp.simplify(sp.diff(neg_ell(w * w.T + _s2 * sp.eye(2), sp.diag(_la, _lam)), _eps, 2).subs(_eps, 0))
    # active column a scaled: its length t, at t = (λ_a − σ²)^{1/2}
    h_self = sp.simplify(sp.diff((_N / 2) * _f(_s2 + _t**2, _la), _t, 2).subs(_t, sp.sqrt(_la - _s2)))
    # active pair (a, c): column a = s_a u_a + p u_c, column c = s_c u_c + q u_a
    a = sp.Matrix([sp.sqrt(_la - _s2), _p])
    c = sp.Matrix([_q, sp.sqrt(_lc - _s2)])
    H = sp.hessian(neg_ell(a * a.T + c * c.T + _s2 * sp.eye(2), sp.diag(_la, _lc)), (_p, _q)).subs({_p: 0, _q: 0})
    pair = [sp.factor(sp.simplify(e)) for e in H.eigenvals()]
    return {
        "delta": delta,
        "delta_stated": stated,
        "delta_identity": identity,
        "series": series,
        "leading": leading,
        "ratio_series": ratio_series,
        "d2": d2,
        "h_active_unused": h_au,
        "h_active_self": h_self,
        "h_active_pair": pair,
    }


def predicted_spectrum(lam, sigma2: float, active, n: int) -> np.ndarray:
    """The eigenvalues of the Hessian of −ℓ in W (d κ of them, sorted) at a stationary point.

    From the blocks derived by `derive` (module docstring): λ the eigenvalues of S, ``active``
    as for `landscape.linear.ppca_stationary_point`, n the number of data points.
    """
    d = lam.size
    used = [a for a in active if a is not None]
    unused = [i for i in range(d) if i not in used]
    z = len(active) - len(used)
    out = []
    for _ in range(z):
        out += [n * (sigma2 - lam[i]) / sigma2**2 for i in unused] + [0.0] * len(used)
    for a in used:
        out += [n * (lam[a] - lam[i]) / (sigma2 * lam[a]) for i in unused]
        out.append(2 * n * (lam[a] - sigma2) / lam[a] ** 2)
    for a, c in itertools.combinations(used, 2):
        out += [0.0, n * (lam[a] + lam[c] - 2 * sigma2) / (lam[a] * lam[c])]
    return np.sort(np.asarray(out))


def _predicted_negatives(lam, sigma2: float, active) -> int:
    used = [a for a in active if a is not None]
    unused = [i for i in range(lam.size) if i not in used]
    z = len(active) - len(used)
    return z * sum(lam[i] > sigma2 for i in unused) + sum(lam[i] > lam[a] for a in used for i in unused)


@functools.cache
def _compiled():
    """Jitted ℓ, its W/b gradient, the dense W-Hessian of −ℓ, and d²ℓ/dε² along a direction."""

    def ell(W, X, b, s2):
        return ppca_log_likelihood(X, W, b, s2)

    def hess(W, X, b, s2):
        d, k = W.shape
        return jax.hessian(lambda w: -ell(w.reshape(d, k), X, b, s2))(W.reshape(-1))

    def d2(W, V, X, b, s2):
        g = lambda t: ell(W + t * V, X, b, s2)  # noqa: E731
        return jax.grad(jax.grad(g))(0.0)

    grad = jax.grad(ell, argnums=(0, 2))
    return jax.jit(ell), jax.jit(grad), jax.jit(hess), jax.jit(d2)


def _points(lam, sigma2, kappa, rng):
    """Every stationary point up to column order: each subset of the eigenvectors with λ > σ²
    of size ≤ κ, placed in random columns, the other columns zero."""
    eligible = [i for i in range(lam.size) if lam[i] > sigma2]
    for k in range(min(kappa, len(eligible)) + 1):
        for subset in itertools.combinations(eligible, k):
            cols = rng.permutation(kappa)[:k]
            active = [None] * kappa
            for col, a in zip(cols, subset, strict=True):
                active[int(col)] = a
            yield tuple(active)


def _case(X, kappa: int, m: int, rng) -> dict:
    """All measurements on one data set, with σ² between λ_m and λ_{m+1} (1-based)."""
    ell, grad, hess, d2 = _compiled()
    n, d = X.shape
    lam0 = ppca_stationary_point(X, kappa, 1.0, [None] * kappa).eigenvalues
    sigma2 = float(np.sqrt(lam0[m - 1] * lam0[m]))
    Xj = jnp.asarray(X)
    top = tuple(j if lam0[j] > sigma2 else None for j in range(kappa))
    res = {
        "d2": [],
        "fd": [],
        "exact": [],
        "ratio": [],
        "ratio_dev": [],
        "grad": [],
        "spec": [],
        "count": [],
        "lucas": 0,
        "n": 0,
    }
    res.update(sigma2=sigma2, global_neg=None, global_best=0.0)
    best_ell = -np.inf
    ells = []
    for active in list(_points(lam0, sigma2, kappa, rng)) + [top]:
        pt = ppca_stationary_point(X, kappa, sigma2, active)
        lam, U = pt.eigenvalues, pt.eigenvectors
        W, b = jnp.asarray(pt.W), jnp.asarray(pt.b)
        l0 = float(ell(W, Xj, b, sigma2))
        scale = n * np.sqrt(lam[0]) / sigma2
        gW, gb = grad(W, Xj, b, sigma2)
        res["grad"].append(max(float(jnp.max(jnp.abs(gW))), float(jnp.max(jnp.abs(gb)))) / scale)
        H = np.asarray(hess(W, Xj, b, sigma2))
        eig = np.linalg.eigvalsh(0.5 * (H + H.T))
        pred = predicted_spectrum(lam, sigma2, active, n)
        res["spec"].append(float(np.max(np.abs(eig - pred)) / np.max(np.abs(pred))))
        tol_zero = 1e-8 * np.max(np.abs(eig))
        n_neg = int(np.sum(eig < -tol_zero))
        res["count"].append(abs(n_neg - _predicted_negatives(lam, sigma2, active)))
        zero_cols = [j for j, a in enumerate(active) if a is None]
        if zero_cols:
            lucas = any(lam[i] > sigma2 for i in pt.unused)
            res["lucas"] += int((n_neg > 0) != lucas)
            res["n"] += 1
        if active == top:
            res["global_neg"] = n_neg
        else:
            ells.append(l0)
        best_ell = max(best_ell, l0)
        for j in zero_cols:
            for i in pt.unused:
                V = jnp.zeros_like(W).at[:, j].set(jnp.asarray(U[:, i]))
                pred2 = n * (lam[i] - sigma2) / sigma2**2
                res["d2"].append(abs(float(d2(W, V, Xj, b, sigma2)) - pred2) / abs(pred2))
                # central second differences at h and h/2, Richardson-extrapolated
                h = 0.01 * np.sqrt(sigma2)
                fd = [
                    (float(ell(W + t * V, Xj, b, sigma2)) - 2 * l0 + float(ell(W - t * V, Xj, b, sigma2))) / t**2
                    for t in (h, h / 2)
                ]
                res["fd"].append(abs((4 * fd[1] - fd[0]) / 3 - pred2) / abs(pred2))
                for e in np.sqrt(sigma2) * np.array([3.0, 1.0, 0.3, 0.1, 0.03, 0.01]):
                    dl = float(ell(W + e * V, Xj, b, sigma2)) - l0
                    x = e**2 / sigma2
                    terms = (n / 2) * np.array([np.log1p(x), lam[i] * x / (sigma2 + e**2)])
                    exact = terms[1] - terms[0]
                    # relative to the size of the two terms that cancel in Δℓ (both ≈ (N/2) ε²/σ² · O(1))
                    res["exact"].append(abs(dl - exact) / np.sum(np.abs(terms)))
                    if e == 0.01 * np.sqrt(sigma2):
                        lead = (n / 2) * e**2 * (lam[i] - sigma2) / sigma2**2
                        c1 = -(lam[i] - sigma2 / 2) / (lam[i] - sigma2)  # r = 1 + c1 ε²/σ² + O(ε⁴)
                        res["ratio"].append(abs((dl / lead - 1) / x - c1) / max(1.0, abs(c1)))
                        res["ratio_dev"].append(abs(dl / lead - 1))
    l_top = float(ell(jnp.asarray(ppca_stationary_point(X, kappa, sigma2, top).W), Xj, jnp.asarray(X.mean(0)), sigma2))
    res["global_best"] = max(0.0, max(ells, default=-np.inf) - l_top) / abs(l_top)
    return res


def _sym_checks() -> list[Check]:
    """The derived expressions against the claim's forms and random numbers."""
    d = derive()
    checks = [
        Check(
            "sympy: Δℓ(ε) from C's eigenvalue σ² → σ² + ε² minus the stated closed form (symbolic)",
            0.0 if d["delta_identity"] == 0 else 1.0,
            0.0,
            f"simplified difference: {d['delta_identity']}",
        ),
    ]
    want = {
        "leading": _N * (_lam - _s2) / (2 * _s2**2),
        "d2": _N * (_lam - _s2) / _s2**2,
        "h_active_unused": _N * (_la - _lam) / (_s2 * _la),
        "h_active_self": 2 * _N * (_la - _s2) / _la**2,
    }
    ratio = {
        "ratio_c0": (d["ratio_series"].coeff(_eps, 0), 1),
        "ratio_c1": (d["ratio_series"].coeff(_eps, 2), -(_lam - _s2 / 2) / ((_lam - _s2) * _s2)),
    }
    bad = [k for k, (got, v) in ratio.items() if sp.simplify(got - v) != 0]
    bad += [k for k, v in want.items() if sp.simplify(d[k] - v) != 0]
    pair_want = {0, sp.factor(_N * (_la + _lc - 2 * _s2) / (_la * _lc))}
    if {sp.factor(e) for e in d["h_active_pair"]} != pair_want:
        bad.append("h_active_pair")
    checks.append(
        Check(
            "sympy: ε² coefficient, d²ℓ/dε², ratio series 1 + c₁ε², Hessian blocks equal the stated forms (mismatches)",
            float(len(bad)),
            0.0,
            ", ".join(bad) or "leading, d2, active×unused, self, pair",
        )
    )
    # the series against the exact expression, numerically, at random points and small ε
    rng = np.random.default_rng(7)
    f_exact = sp.lambdify((_N, _s2, _lam, _eps), d["delta_stated"], "mpmath")
    f_series = sp.lambdify((_N, _s2, _lam, _eps), d["series"], "mpmath")
    import mpmath

    mpmath.mp.dps = 40
    errs = []
    for _ in range(50):
        N, s2, lam = rng.integers(5, 200), rng.uniform(0.1, 3), rng.uniform(0.01, 6)
        e = 1e-3 * np.sqrt(s2)
        ex = f_exact(mpmath.mpf(int(N)), mpmath.mpf(s2), mpmath.mpf(lam), mpmath.mpf(e))
        se = f_series(mpmath.mpf(int(N)), mpmath.mpf(s2), mpmath.mpf(lam), mpmath.mpf(e))
        errs.append(float(abs(ex - se) / abs(ex)))
    checks.append(
        Check(
            "sympy series of Δℓ to O(ε⁸) vs the exact Δℓ (40 digits), ε = 1e-3 σ, relative",
            max(errs),
            TOL_SYMBOLIC,
            "50 random (N, σ², λ_i)",
        )
    )
    return checks


@timed
def run(fast: bool = False) -> Claim:
    """Lucas et al. (2019): at a fixed-σ² pPCA stationary point with a zero column, ℓ curves by N(λ_i − σ²)/σ⁴."""
    configs = [(30, 4, 2), (40, 5, 3)] if fast else [(40, 4, 2), (60, 5, 3), (50, 6, 3), (80, 6, 2)]
    seeds = (0, 1) if fast else (0, 1, 2)
    agg = {k: [] for k in ("d2", "fd", "exact", "ratio", "ratio_dev", "grad", "spec", "count")}
    lucas_bad = lucas_n = points = 0
    global_negs, global_best = [], []
    for ci, (n, d, kappa) in enumerate(configs):
        for seed in seeds:
            rng = np.random.default_rng(1000 * ci + seed)
            X = random_data(rng, n, d)
            m = 1 + (seed + ci) % (d - 1)  # how many eigenvalues lie above σ²
            r = _case(X, kappa, m, rng)
            for k in agg:
                agg[k] += r[k]
            lucas_bad += r["lucas"]
            lucas_n += r["n"]
            points += len(r["grad"])
            global_negs.append(r["global_neg"])
            global_best.append(r["global_best"])
    n_dirs = len(agg["d2"])
    checks = [
        Check(
            "d²ℓ/dε² at 0 by autodiff vs N(λ_i − σ²)/σ⁴, relative",
            max(agg["d2"]),
            1e-10,
            f"{n_dirs} (point, zero column, unused u_i) triples",
        ),
        Check(
            "central differences of ℓ(ε) (h = 0.01σ and h/2, Richardson) vs N(λ_i − σ²)/σ⁴, relative",
            max(agg["fd"]),
            1e-6,
            f"{n_dirs} triples",
        ),
        Check(
            "ℓ(W + ε u_i e_jᵀ) − ℓ(W) vs the exact Δℓ(ε), ε/σ ∈ {3, 1, 0.3, 0.1, 0.03, 0.01}, relative to the "
            "sum of |terms| of Δℓ",
            max(agg["exact"]),
            1e-9,
            f"{len(agg['exact'])} evaluations",
        ),
        Check(
            "r(ε) = Δℓ / ((N/2) ε² (λ_i − σ²)/σ⁴) = 1 + c₁ε²/σ² + O(ε⁴), c₁ = −(λ_i − σ²/2)/(λ_i − σ²) (sympy): "
            "|(r − 1)σ²/ε² − c₁| / max(1, |c₁|) at ε = 0.01σ, O(ε²) expected",
            max(agg["ratio"]),
            1e-3,
            f"max |r − 1| at ε = 0.01σ: {max(agg['ratio_dev']):.2e}",
        ),
        Check(
            "gradient of ℓ in (W, b) at every stationary point, max |g| / (N λ_1^{1/2}/σ²)",
            max(agg["grad"]),
            1e-10,
            f"{points} stationary points",
        ),
        Check(
            "dense Hessian spectrum of −ℓ in W vs the derived blocks, max |Δ| / max |eig|",
            max(agg["spec"]),
            1e-10,
            f"{points} points",
        ),
        Check(
            "number of negative Hessian eigenvalues vs z·#{unused λ_i > σ²} + Σ_a #{unused λ_i > λ_a} (mismatches)",
            float(sum(c > 0 for c in agg["count"])),
            0.0,
            f"{points} points, eigenvalues < −1e-8 max|eig| counted",
        ),
        Check(
            "points with a zero column: saddle ⇔ some unused λ_i > σ² (Lucas et al.), mismatches",
            float(lucas_bad),
            0.0,
            f"{lucas_n} points with a zero column",
        ),
        Check(
            "global maximum (top eigenvectors with λ > σ²): negative eigenvalues",
            float(sum(global_negs)),
            0.0,
            f"{len(global_negs)} data sets",
        ),
        Check(
            "no enumerated stationary point has a larger ℓ than the global maximum, relative excess",
            max(global_best),
            1e-12,
            f"{len(global_best)} data sets",
        ),
    ]
    checks += _sym_checks()
    dv = derive()
    derivations = (
        Derivation(
            r"$\Delta\ell(\epsilon)$ along $\epsilon u_i$ in a zero column",
            r"\Delta\ell = " + sp.latex(dv["delta_stated"]) + " = " + sp.latex(dv["series"]) + r" + O(\epsilon^8)",
            "C's eigenvalue along u_i goes σ² → σ² + ε²; sympy simplifies and expands in ε",
        ),
        Derivation(r"$d^2\ell/d\epsilon^2$ at 0", sp.latex(dv["d2"]), "sympy"),
        Derivation(r"ratio to the leading term", sp.latex(dv["ratio_series"]) + r" + O(\epsilon^6)", "sympy series"),
        Derivation(
            r"$\partial^2(-\ell)$, active $a$ along unused $u_i$",
            sp.latex(dv["h_active_unused"]),
            "sympy, in the invariant plane (u_a, u_i)",
        ),
        Derivation(r"$\partial^2(-\ell)$, active $a$ along itself", sp.latex(dv["h_active_self"]), "sympy"),
        Derivation(
            r"$\partial^2(-\ell)$, active pair: eigenvalues",
            ",\\ ".join(sp.latex(e) for e in dv["h_active_pair"]),
            "sympy, in the plane (u_a, u_c)",
        ),
    )
    return Claim(
        name="lucas_curvature",
        claim="For pPCA with fixed noise σ², at a stationary point with a zero column of W, adding ε u_i "
        "(u_i an unused eigenvector of S) to that column changes the log-likelihood by (N/2) ε² (λ_i − σ²)/σ⁴ "
        "to leading order; so such a point is a saddle iff some unused λ_i > σ² (Lucas et al. 2019).",
        method="Random data, σ² between two eigenvalues; every stationary point up to column order "
        "(landscape.linear.ppca_stationary_point). Along each (zero column, unused u_i): autodiff second "
        "derivative, Richardson central differences, the exact Δℓ and its sympy series. At each point: the "
        "gradient, and the dense Hessian of −ℓ in W against the spectrum derived in the invariant 2-planes "
        "of (C, S), including the exact count of negative eigenvalues.",
        checks=tuple(checks),
        derivations=derivations,
        notes=(
            "Without a zero column a point can still be a saddle: an unused λ_i above a used λ_a gives the "
            "negative eigenvalue N(λ_a − λ_i)/(σ² λ_a) (Tipping & Bishop 1999); the count checks both kinds.",
            "Zero eigenvalues (rotations W → W R mixing a used column into a zero one, or two used columns) "
            "are predicted too: z·|A| + |A|(|A| − 1)/2 of them.",
        ),
        config={"configs (n, d, κ)": configs, "seeds": seeds, "σ²": "√(λ_m λ_{m+1}), m cycling over 1..d−1"},
    )


if __name__ == "__main__":
    raise SystemExit(main(run))
