"""The symbolic half of `proofs_numeric.sphere_leading_order` (issue 19): each step of the derivation
in `landscape.analysis.sphere_theory`, redone in sympy.

- α = 0: the Hessian of the explicit affine energy at the collapsed point (symbolic centred data),
  its inner block diagonal and W coupled to μ only; the Schur complement (2n/γ̄)(I − S/γ̄) ⊗ I_κ;
  the 2×2 per singular value; the exact α = 0 profile ℓ(w) = min_γ F(γ; ‖w‖², wᵀSw), decreasing in
  wᵀSw, and its coefficients C₁, C₂.
- α > 0: E π_α(u) = 0 for u ~ N(0, v), ∂_v E π_α = ∂_m E π_α² = 0 and ∂_m E π_α = ∂_v E π_α² =
  2Φ(−α/√v) at m = 0 (MATH.md §2's closed forms; by integration in the full run); on eq. (5)
  itself (`sym_collapsed.symbolic_energy`, n = 3, d = 2) L(W, φ₀) = L_c + (n/γ̄) Σ_j g(‖w_j‖²)
  and the inner gradient there; g′ = 2Φ(−α/√v), g″ = αφ(α/√v)/v^{3/2} > 0 on all of v > 0;
  g − v g′ < 0; h(t) = ∫₀^∞ x² e^{−tx−x²/2} dx and its continued-fraction form; the gain/cost
  ratio ~ (λ_1/γ̄) t φ(t) (Watson's lemma).
"""

from __future__ import annotations

import functools

import sympy as sp

from proofs_numeric._claim import Check, Derivation
from proofs_numeric.sym_collapsed import moment_atoms, symbolic_energy, symbolic_gradient

__all__ = ["affine_schur", "affine_profile", "soft_moments_at_zero", "g_identities", "energy_at_phi0",
           "symbolic_checks"]  # fmt: skip


def _Phi(x):
    return (1 + sp.erf(x / sp.sqrt(2))) / 2


def _phi(x):
    return sp.exp(-(x**2) / 2) / sp.sqrt(2 * sp.pi)


def _zero(e) -> bool:
    """Is ``e`` identically 0? sympy's simplify, then, if it stops short, the same after rewriting Φ's erf
    as erfc and expanding: simplify's result can depend on sympy's cache (what the process computed before),
    and one identity (g by integration) was once left unsimplified after a long run. Both are symbolic."""
    e = sp.sympify(e)
    if e == 0 or sp.simplify(sp.cancel(sp.together(e))) == 0:
        return True
    return sp.simplify(sp.expand(e.rewrite(sp.erfc))) == 0


# ---------------------------------------------------------------------------------------------- α = 0, symbolic


@functools.cache
def affine_schur(n: int = 3, d: int = 2, kappa: int = 1) -> dict:
    """The α = 0 energy's Hessian at the collapsed point and the Schur complement of its inner block.

    L = e^{−η} Σ_ij [(y_ij − δb_j − Σ_k W_jk μ_ik)² + Σ_k W_jk² e^{2ρ_ik}] + ndη + Σ_ik (e^{2ρ_ik} − 2ρ_ik + μ_ik²)
    (eq. 5 with E π = m, E π² = m² + v), y centred (its last row is minus the sum of the others),
    at W = 0, δb = 0, η = log g, μ = 0, ρ = 0. Returns counts of entries that fail to simplify.
    """
    free = sp.Matrix(n - 1, d, lambda i, j: sp.Symbol(f"y_{{{i}{j}}}", real=True))
    Y = sp.Matrix.vstack(free, -sp.ones(1, n - 1) * free)
    g = sp.Symbol("g", positive=True)
    W = sp.Matrix(d, kappa, lambda j, k: sp.Symbol(f"W_{{{j}{k}}}", real=True))
    db = sp.symbols(f"b0:{d}", real=True)
    eta = sp.Symbol("eta", real=True)
    mu = sp.Matrix(n, kappa, lambda i, k: sp.Symbol(f"mu_{{{i}{k}}}", real=True))
    rho = sp.Matrix(n, kappa, lambda i, k: sp.Symbol(f"rho_{{{i}{k}}}", real=True))
    rec = sum(
        (Y[i, j] - db[j] - sum(W[j, k] * mu[i, k] for k in range(kappa))) ** 2
        + sum(W[j, k] ** 2 * sp.exp(2 * rho[i, k]) for k in range(kappa))
        for i in range(n)
        for j in range(d)
    )
    kl = sum(sp.exp(2 * rho[i, k]) - 2 * rho[i, k] + mu[i, k] ** 2 for i in range(n) for k in range(kappa))
    L = rec * sp.exp(-eta) + n * d * eta + kl
    w_par = list(W)
    inner = [*db, eta, *mu, *rho]
    point = {**{p: 0 for p in (*w_par, *db, *mu, *rho)}, eta: sp.log(g)}
    H = sp.hessian(L, w_par + inner).subs(point)
    P = len(w_par)
    Hww, Hwp, Hpp = H[:P, :P], H[:P, P:], H[P:, P:]
    off_diag = sum(1 for a in range(Hpp.rows) for c in range(Hpp.cols) if a != c and not _zero(Hpp[a, c]))
    mu_cols = [P + len(db) + 1 + q for q in range(n * kappa)]
    w_other = sum(1 for a in range(P) for c in range(P, H.cols) if c not in mu_cols and not _zero(H[a, c]))
    schur = Hww - Hwp * sp.diag(*[1 / Hpp[q, q] for q in range(Hpp.rows)]) * Hwp.T
    S = Y.T * Y / n
    predicted = sp.kronecker_product((2 * n / g) * (sp.eye(d) - S / g), sp.eye(kappa))
    mismatches = sum(1 for a in range(P) for c in range(P) if not _zero(schur[a, c] - predicted[a, c]))
    return {"off_diagonal_inner": off_diag, "w_coupled_to_b_eta_rho": w_other, "schur_mismatches": mismatches,
            "inner_diagonal": [sp.simplify(Hpp[q, q]) for q in range(Hpp.rows)], "P": P}  # fmt: skip


@functools.cache
def affine_profile() -> dict:
    """The exact α = 0, κ = 1 profile: per point min over σ², μ; then C₁, C₂ of m(r) = C₁r² + C₂r⁴.

    Per point i, with c = ‖w‖² and p_i = wᵀy_i: min_s (c s/γ + s − log s) and
    min_μ (‖y_i‖² − 2μp_i + μ²c)/γ + μ², solved by sympy. Summed with Σ‖y_i‖² = ndγ̄ and
    Σ p_i² = n q, q = wᵀSw, the profile is F(γ; c, q); at q = λ c the expansion of min_γ F in c.
    """
    gam, gb, lam, c, n, d, q, y2, p = sp.symbols("gamma gammabar lambda c n d q Y2 p", positive=True)
    s, mu = sp.Symbol("s", positive=True), sp.Symbol("mu", real=True)
    fs = c * s / gam + s - sp.log(s)
    s_star = sp.solve(sp.diff(fs, s), s)[0]
    fm = (y2 - 2 * mu * p + mu**2 * c) / gam + mu**2
    mu_star = sp.solve(sp.diff(fm, mu), mu)[0]
    per_point = sp.simplify(fs.subs(s, s_star) + fm.subs(mu, mu_star))
    # sum over points: Y2 → ndγ̄, p² → n q, constants × n
    F = n * (d * gb / gam - q / (gam * (gam + c)) + 1 + sp.log(1 + c / gam) + d * sp.log(gam))
    expected_point = y2 / gam - p**2 / (gam * (gam + c)) + 1 + sp.log(1 + c / gam)
    point_ok = _zero(sp.expand_log(per_point - expected_point, force=True))
    dFdq = sp.simplify(sp.diff(F, q))
    Fl = F.subs(q, lam * c)
    at = {gam: gb, c: 0}
    stationary = _zero(sp.diff(Fl, gam).subs(at))
    c1 = sp.factor(sp.diff(Fl, c).subs(at))
    c2 = sp.factor(
        sp.simplify(
            sp.diff(Fl, c, 2).subs(at) / 2 - sp.diff(Fl, c, gam).subs(at) ** 2 / (2 * sp.diff(Fl, gam, 2).subs(at))
        )
    )
    c2_claimed = n * (2 * lam - gb) * ((d + 1) * gb - 2 * lam) / (2 * d * gb**4)
    return {
        "per_point_ok": point_ok, "s_star": s_star, "mu_star": mu_star, "F": F, "dFdq": dFdq,
        "dFdq_negative": bool(dFdq.is_negative), "stationary_at_gbar": stationary, "C1": c1, "C2": c2,
        "C1_ok": _zero(c1 - n / gb * (1 - lam / gb)), "C2_ok": _zero(c2 - c2_claimed),
        "F_numeric": sp.lambdify((gam, gb, lam, c, n, d), Fl, "math"),
        "C2_over_C1": sp.lambdify((gb, lam, n, d), c2 / c1, "math"),
    }  # fmt: skip


# ---------------------------------------------------------------------------------------------- α > 0, symbolic


@functools.cache
def soft_moments_at_zero(integrate: bool = True) -> dict:
    """The moments of π_α at m = 0 and their first derivatives, from MATH.md §2's closed forms (and by integration)."""
    m, u = sp.Symbol("m", real=True), sp.Symbol("u", real=True)
    s, a = sp.symbols("s alpha", positive=True)

    def ef(mm):  # E f_α for mean mm, and E f_α²
        t = (mm - a) / s
        return (mm - a) * _Phi(t) + s * _phi(t), ((mm - a) ** 2 + s**2) * _Phi(t) + (mm - a) * s * _phi(t)

    (e1u, e2u), (e1l, e2l) = ef(m), ef(-m)
    Epi, Epi2 = e1u - e1l, e2u + e2l

    def dv(e):
        return sp.diff(e, s) / (2 * s)

    pdf = sp.exp(-(u**2) / (2 * s**2)) / (s * sp.sqrt(2 * sp.pi))
    two_phi = 2 * _Phi(-a / s)
    out = {}
    if integrate:
        odd = sp.integrate((u - a) * pdf, (u, a, sp.oo)) + sp.integrate((u + a) * pdf, (u, -sp.oo, -a))
        out["E π(0, v) by integration = 0"] = _zero(odd)
    return out | {
        "E π(0, v) closed form = 0": _zero(Epi.subs(m, 0)),
        "∂_v E π(0, v) = 0": _zero(dv(Epi).subs(m, 0)),
        "∂_m E π²(0, v) = 0": _zero(sp.diff(Epi2, m).subs(m, 0)),
        "∂_m E π(0, v) = 2Φ(−α/√v)": _zero(sp.diff(Epi, m).subs(m, 0) - two_phi),
        "∂_v E π²(0, v) = 2Φ(−α/√v)": _zero(dv(Epi2).subs(m, 0) - two_phi),
        "E π²(0, v) = g(v)": _zero(Epi2.subs(m, 0) - 2 * ((a**2 + s**2) * _Phi(-a / s) - a * s * _phi(a / s))),
    }


@functools.cache
def g_identities(integrate: bool = True) -> dict:
    """g(v) (by integration), g′, g″ > 0 on v > 0, g − v g′ < 0, h(t) forms, and the gain/cost asymptote."""
    u = sp.Symbol("u", real=True)
    a, v, t, x, w, lam, gb = sp.symbols("alpha v t x w lambda gammabar", positive=True)
    s = sp.sqrt(v)
    g = 2 * ((a**2 + v) * _Phi(-a / s) - a * s * _phi(a / s))
    g1, g2 = sp.diff(g, v), sp.diff(g, v, 2)
    g2_claimed = a * _phi(a / s) / v ** sp.Rational(3, 2)
    jensen = g - v * g1
    psi = _phi(t) - t * _Phi(-t)  # φ(t) − tΦ(−t): jensen = −2α√v ψ(α/√v)
    R = sp.sqrt(sp.pi / 2) * sp.exp(t**2 / 2) * sp.erfc(t / sp.sqrt(2))
    h = (1 + t**2) * R - t
    rho_, sig_ = sp.symbols("rho sigma", positive=True)
    cf = ((1 + t**2) / (t + rho_) - t).subs(rho_, 1 / (t + sig_))  # R = 1/(t + ρ), ρ = 1/(t + σ)
    cf_ok = _zero(cf - sig_ * (1 / (t + sig_)) / (t + 1 / (t + sig_)))
    # Watson's lemma: ∫₀^∞ x^j e^{−tx} e^{−x²/2} dx ~ Σ_k (−1)^k (j + 2k)! / (2^k k! t^{j+2k+1}); w = 1/t
    R_ser = sum((-1) ** k * sp.factorial(2 * k) / (2**k * sp.factorial(k)) * w ** (2 * k + 1) for k in range(4))
    h_ser = sum((-1) ** k * sp.factorial(2 * k + 2) / (2**k * sp.factorial(k)) * w ** (2 * k + 3) for k in range(4))
    ratio = sp.series(2 * R_ser**2 * w / h_ser, w, 0, 3).removeO()  # 2R²/(h t): ε / ((λ_1/γ̄) t φ(t))
    out = {}
    if integrate:
        sv = sp.Symbol("s", positive=True)  # integrate in s = √v, then substitute
        pdf_s = sp.exp(-(u**2) / (2 * sv**2)) / (sv * sp.sqrt(2 * sp.pi))
        g_int = 2 * sp.integrate((u - a) ** 2 * pdf_s, (u, a, sp.oo))
        out["g (integral) = closed form"] = _zero(g_int - g.subs(v, sv**2))
        out["h(t) = ∫₀^∞ x² e^{−tx − x²/2} dx"] = _zero(
            sp.integrate(x**2 * sp.exp(-t * x - x**2 / 2), (x, 0, sp.oo)) - h
        )
    return out | {
        "g′(v) = 2Φ(−α/√v)": _zero(g1 - 2 * _Phi(-a / s)),
        "g″(v) = α φ(α/√v) / v^{3/2}": _zero(g2 - g2_claimed),
        "g″(v) > 0 for every v > 0": bool(g2_claimed.is_positive),
        "g − v g′ = −2α√v [φ(t) − tΦ(−t)]": _zero(jensen + 2 * a * s * psi.subs(t, a / s)),
        "ψ′(t) = −Φ(−t) < 0, ψ(∞) = 0, so ψ > 0": _zero(sp.diff(psi, t) + _Phi(-t)) and sp.limit(psi, t, sp.oo) == 0,
        "(1 + t²)R − t = σρR (continued fraction)": cf_ok,
        "h ~ 2/t³ − 12/t⁵, ε/((λ_1/γ̄) t φ) → 1": sp.expand(h_ser).coeff(w, 3) == 2
        and sp.expand(h_ser).coeff(w, 5) == -12
        and ratio.coeff(w, 0) == 1,
        "ratio_series": ratio,
        "g": g,
        "g2": g2_claimed,
    }


@functools.cache
def energy_at_phi0(n: int = 3, d: int = 2) -> dict:
    """Eq. (5) (`sym_collapsed.symbolic_energy`, κ = 1) and its inner gradient at (W, φ₀), W free.

    φ₀: μ = 0, log σ = 0, b = x̄, log γ = log γ̄. Every moment atom is then at (0, v_j = W_j²);
    they are replaced by the m = 0 values of `soft_moments_at_zero` (E π = ∂_v E π = ∂_m E π² = 0,
    ∂_m E π = ∂_v E π² = P(v), E π² = g(v), P and g undefined functions).
    """
    S = symbolic_energy(n, d, 1)
    grad = symbolic_gradient(n, d, 1)
    P, G = sp.Function("P"), sp.Function("g")
    values = {("M1", 0, 0): None, ("M1", 0, 1): None, ("M2", 1, 0): None, ("M1", 1, 0): P, ("M2", 0, 1): P,
              ("M2", 0, 0): G}  # fmt: skip
    pt = {**{x: 0 for x in (*S.mu, *S.rho)}, **dict(zip(S.b, S.xbar, strict=True)), S.eta: sp.log(S.gamma_bar)}

    def reduce(e):
        e = e.subs(pt)
        rep = {}
        for atom in moment_atoms(e):
            f = values[type(atom).moment_key]
            if atom.args[0] != 0:
                raise ValueError(f"moment atom {atom} not at m = 0")
            rep[atom] = 0 if f is None else f(atom.args[1])
        return e.xreplace(rep)

    gb, Y = S.gamma_bar, S.Y
    v = [S.W[j, 0] ** 2 for j in range(d)]
    Lc = n * d * (1 + sp.log(gb)) + n
    out = {"L(W, φ₀) = L_c + (n/γ̄) Σ_j g(‖w_j‖²)": _zero(sp.expand_log(
        reduce(S.energy) - Lc - n / gb * sum(G(vj) for vj in v), force=True))}  # fmt: skip
    idx = {f: S.index(f) for f in ("b", "eta", "mu", "rho")}
    out["∂L/∂b = 0"] = all(_zero(reduce(grad[k])) for k in idx["b"])
    out["∂L/∂log γ = −(n/γ̄) Σ_j g(‖w_j‖²)"] = _zero(reduce(grad[idx["eta"][0]]) + n / gb * sum(G(vj) for vj in v))
    out["∂L/∂μ_i = −(2/γ̄) Σ_j y_ij W_j P(v_j)"] = all(
        _zero(reduce(grad[k]) + 2 / gb * sum(Y[i, j] * S.W[j, 0] * P(v[j]) for j in range(d)))
        for i, k in enumerate(idx["mu"])
    )
    out["∂L/∂log σ_i = (2/γ̄) Σ_j W_j² P(v_j)"] = all(
        _zero(reduce(grad[k]) - 2 / gb * sum(S.W[j, 0] ** 2 * P(v[j]) for j in range(d))) for k in idx["rho"]
    )
    return out


def symbolic_checks(fast: bool) -> tuple[list[Check], list[Derivation]]:
    checks = []
    sizes = [(3, 2, 1)] if fast else [(3, 2, 1), (3, 2, 2), (4, 3, 1)]
    for n, d, kappa in sizes:
        sch = affine_schur(n, d, kappa)
        checks.append(Check(
            f"α = 0, n={n}, d={d}, κ={kappa}: Schur complement of the inner block − (2n/γ̄)(I − S/γ̄)⊗I_κ, entries "
            "not simplifying to 0; W coupled to b, log γ, log σ; inner block off-diagonal (count)",
            float(sch["schur_mismatches"] + sch["w_coupled_to_b_eta_rho"] + sch["off_diagonal_inner"]), 0.0,
            f"inner diagonal {sch['inner_diagonal'][:d + 2]}…"))  # fmt: skip
    ss = sp.symbols("varsigma n g", positive=True)
    two_by_two = (
        2 * ss[1] / ss[2] - (2 * ss[0] / ss[2]) ** 2 / 2 - 2 * ss[1] / ss[2] * (1 - ss[0] ** 2 / (ss[1] * ss[2]))
    )
    prof = affine_profile()
    aff = {"2×2 Schur per singular value = (2n/γ̄)(1 − λ/γ̄)": _zero(two_by_two),
           "per point: σ² = γ/(γ + ‖w‖²), μ = wᵀy/(γ + ‖w‖²), value as stated": prof["per_point_ok"],
           "∂F/∂(wᵀSw) < 0 (u_1 minimises on every sphere)": prof["dFdq_negative"],
           "γ̄ stationary at c = 0": prof["stationary_at_gbar"],
           "C₁ = (n/γ̄)(1 − λ_1/γ̄)": prof["C1_ok"], "C₂ = n(2λ − γ̄)((d+1)γ̄ − 2λ)/(2dγ̄⁴)": prof["C2_ok"]}  # fmt: skip
    soft = soft_moments_at_zero(not fast) | {k: v for k, v in g_identities(not fast).items() if isinstance(v, bool)}
    phi0 = energy_at_phi0()
    for title, group in (("α = 0 profile", aff), ("π_α moments at m = 0, g, h", soft), ("eq. (5) at (W, φ₀)", phi0)):
        bad = [k for k, ok in group.items() if not ok]
        checks.append(Check(f"symbolic, {title}: identities that fail (count)", float(len(bad)), 0.0,
                            "; ".join(bad) if bad else "; ".join(group)))  # fmt: skip
    gi = g_identities(not fast)
    derivations = [
        Derivation(
            "α = 0 reduced Hessian (Schur complement)",
            r"\nabla^2\ell(0) = H_{WW} - H_{W\mu}H_{\mu\mu}^{-1}H_{\mu W} = \frac{2n}{\bar\gamma}"
            r"\Big(I - \frac{S}{\bar\gamma}\Big)\otimes I_\kappa,\quad m(r) = \frac{n}{\bar\gamma}"
            r"\Big(1-\frac{\lambda_1}{\bar\gamma}\Big)r^2 + C_2 r^4",
            "sympy.hessian of the explicit affine energy, centred symbolic data",
        ),  # fmt: skip
        Derivation(
            "α = 0 exact profile",
            r"F = " + sp.latex(prof["F"]) + r",\quad C_2 = " + sp.latex(prof["C2"]),
            "per-point minimisation by sympy.solve; C₂ by second-order perturbation of min_γ",
        ),
        Derivation(
            "α > 0 cost at φ₀",
            r"L(W,\phi_0) - L_c = \frac{n}{\bar\gamma}\sum_j g(\|w_j\|^2),\quad g = " + sp.latex(gi["g"]),
            "eq. (5) of sym_collapsed with the m = 0 moments; g by integration",
        ),
        Derivation(
            "convexity",
            r"g''(v) = " + sp.latex(gi["g2"]) + r" > 0\ \ \forall v > 0",
            "so Σ_j g(v_j) ≥ d g(r²/d) (Jensen), equality iff v_j = r²/d",
        ),
        Derivation(
            "gain / cost",
            r"\varepsilon(t) = \frac{2\lambda_1}{\bar\gamma}\frac{\phi(t)R(t)^2}{h(t)} = "
            r"\frac{\lambda_1}{\bar\gamma}t\phi(t)\Big("
            + sp.latex(gi["ratio_series"].subs(sp.Symbol("w", positive=True), sp.Symbol("t", positive=True) ** -1))
            + r"\Big)",
            "Watson's lemma for R and h",
        ),  # fmt: skip
    ]
    return checks, derivations
