"""Text rendering of results (kept out of the command-line modules)."""

from __future__ import annotations

import numpy as np


def _fmt_counts(s) -> str:
    return f"{s.n_negative} negative, {s.n_zero} zero, {s.n_positive} positive (|λ| ≤ {s.tol:.1e} counts as zero)"


def _profile_lines(rep) -> list[str]:
    lines = []
    for p in rep.profiles:
        d = p.direction
        tag = f"{d.label:<10} ({'λ=' + format(d.eigenvalue, '.4g') if d.eigenvalue is not None else d.kind})"
        if p.shape == "falls":
            first = p.rel[1]
            what = f"falls from t = 0 (f(t₁) − f(0) = {first:.3e} at t₁ = {p.t[1]:.2e})"
        elif p.shape == "barrier":
            what = f"barrier {p.barrier_height:.4e} at t = {p.barrier_t:.4f}, then falls to {np.nanmin(p.rel):.4g}"
        elif p.shape == "rises":
            what = f"rises over the whole grid (≥ {p.barrier_height:.4e} by t = {p.t[-1]:.3g})"
        else:
            what = "flat within tolerance: inconclusive"
        lines.append(f"    {tag:<24} {what}   [inner ‖∇‖ ≤ {p.evidence_grad_norm:.1e}]")
    return lines


def _collapsed_lines(rep, title) -> list[str]:
    s = rep.spectrum
    lines = [
        f"{title} (α = {rep.alpha:g})",
        f"  energy          {rep.energy:.12g}   (formula nd(1 + log γ̄) + nκ = {rep.energy_formula:.12g})",
        f"  ‖∇L‖₂           {rep.grad_norm:.3e}   (gradient and Hessian in standardised units, X_s = (X − x̄)/√γ̄)",
        f"  Hessian inertia {_fmt_counts(s)}",
        f"  smallest λ      {s.min_eigenvalue:.6g}; largest {s.max_eigenvalue:.6g}",
        f"  vs MATH.md §4   max relative deviation {rep.spectrum_error:.1e}",
    ]
    if getattr(rep, "spectrum_method", "dense") != "dense":
        lines[3:6] = [
            f"  Hessian inertia {_fmt_counts(s)}  [exact, Schur complement; H ({s.size}×{s.size}) never formed]",
            f"  smallest λ      {s.min_eigenvalue:.6g}; largest {s.max_eigenvalue:.6g}  [Lanczos, "
            f"residuals ≤ {max(s.residuals_lowest.max(), s.residuals_highest.max()):.1e}]",
            f"  vs MATH.md §4   max relative deviation {rep.spectrum_error:.1e} "
            f"(the {s.lowest.size} lowest and {s.highest.size} highest eigenvalues)",
        ]
    if rep.alpha == 0:
        lines.append(
            f"  predicted index κ·#{{λ_l > γ̄}} = {rep.n_negative_predicted}: "
            + ("a strict saddle" if s.n_negative > 0 else "no negative curvature")
        )
    lines.append("  profiles f_U(t) − f_U(0), W = t·U, other parameters re-minimised:")
    lines += _profile_lines(rep)
    return lines


def format_sphere(sph, barrier_t=None) -> list[str]:
    """The sphere section of the Proposition 1 report: m(r) on each radius, r*, the barrier bracket."""
    lines = [
        f"Spheres ‖W‖_F = r: m(r) = min ℓ(W) − ℓ(0), ℓ re-minimised over (b, γ, μ, σ), in difference form "
        f"(α = {sph.alpha:g}; {sph.starts} starts per sphere"
        + (f", {sph.config['grid']} grid directions on S²" if np.isfinite(sph.grid_agreement) else "")
        + f"; {sph.seconds:.1f} s)",
        "  r           m(r)          leading order   row norms ‖w_j‖",
    ]
    for i, r in enumerate(sph.radii):
        mark = " ≤ t_b" if barrier_t is not None and r <= barrier_t * (1 + 1e-12) else ""
        rows = " ".join(f"{x:.2g}" for x in sph.row_norms[i])
        lines.append(f"  {r:<10.4g}  {sph.min_excess[i]:<+12.4e}  {sph.leading_order[i]:<+14.4e}  [{rows}]{mark}")
    lo, mep, prof = sph.barrier_lower, sph.barrier_mep, sph.barrier_profile

    def fmt(x):
        return "not computed" if x is None else f"{x:.4e}"

    lines += [
        f"  r* (first m ≤ 0): {'none on the grid' if sph.r_star is None else f'{sph.r_star:.4g}'};  "
        + (f"grid vs multi-start: {sph.grid_agreement:.1e} relative" if np.isfinite(sph.grid_agreement) else ""),
        f"  barrier bracket: sup_(r<r*) m(r) = {fmt(lo)} ≤ MEP {fmt(mep)} ≤ profile {fmt(prof)}"
        + ("" if sph.bracket_ok() is None else f"  ({'holds' if sph.bracket_ok() else 'VIOLATED'})"),
        f"  m(r) > 0 on every sphere below r*: {'yes' if sph.holds else 'no'}",
    ]
    return lines


def format_prop1(cert) -> str:
    data = cert.data
    lam = ", ".join(f"{x:.4g}" for x in cert.eigenvalues)
    lines = [
        "Proposition 1 certificate (Dai, Wang & Wipf 2020, eq. 5)",
        "",
        f"Data set: x_i = π_α(W* z_i) + b*, α = {data.alpha:g}, n = {data.n}, d = {data.d}, κ = {data.kappa}, "
        f"seed = {data.seed}",
        f"  γ̄ = {cert.gamma_bar:.6g};  λ(S) = [{lam}]",
        "",
    ]
    lines += _collapsed_lines(cert.collapsed, "Collapsed point W = 0, b = x̄, γ = γ̄, μ = 0, σ = 1")
    if cert.affine is not cert.collapsed:
        lines += [""] + _collapsed_lines(cert.affine, "The same point with the affine decoder, for contrast")
    if cert.sphere is not None:
        lines += [""] + format_sphere(cert.sphere, cert.collapsed.barrier_t)
    r = cert.reconstruction
    lines += [
        "",
        "Reconstructing path μ_i = z_i, σ_i = t, γ = γ̄ t² (witness decoder W*, b*)",
        "  t        " + "  ".join(f"{x:>10.0e}" for x in r.t),
        "  L        " + "  ".join(f"{x:>10.4g}" for x in r.energy),
        f"  slope dL/d log t at the smallest t: {r.slope:.6f} (2n(d − κ) = {r.expected_slope:g}) → "
        + ("unbounded below" if r.unbounded else "NOT shown unbounded"),
        *(
            [f"  X is {r.witness_residual:.1e} (in units of √γ̄) off the witness's range (rounded after a shift?)"]
            if getattr(r, "witness_residual", 0.0) > 1e-10
            else []
        ),
        "",
        "Checks:",
    ]
    for k, v in cert.checks.items():
        lines.append(f"  [{'x' if v else ' '}] {k}")
    lines.append("Cross-checks (not part of the verdict):")
    for k, v in cert.diagnostics.items():
        lines.append(f"  [{'x' if v else ' '}] {k}")
    lines += ["", f"Verdict: {cert.verdict}   ({cert.seconds:.1f} s)"]
    if cert.verdict == "fails" and data.alpha == 0:
        lines.append(
            "  α = 0 is the affine decoder: the collapsed point is a strict saddle "
            f"(index {cert.collapsed.spectrum.n_negative} = κ·#{{λ_l > γ̄}}), not a local minimum."
        )
    elif cert.verdict == "fails":
        failed = [k for k, v in cert.checks.items() if not v]
        lines.append("  failed: " + ", ".join(failed))
    return "\n".join(lines)


def format_search(result, stats) -> str:
    """The basin statistics of a search, as printed by ``python -m landscape.prop1 --restarts``."""
    c = result.config
    lines = [
        f"Multi-start search: {result.restarts} restarts, {c['optimizer']} lr {c['learning_rate']:g} "
        f"× {c['steps']} steps, polish {c['polish']}, seed {result.seed} "
        f"({result.seconds:.1f} s, compile {result.compile_seconds:.1f} s)",
        "  status: " + ", ".join(f"{k} {np.sum(result.status == k)}" for k in np.unique(result.status)),
        "  basin fractions (95% Wilson interval):",
    ]
    for k in stats.counts:
        lo, hi = stats.intervals[k]
        lines.append(f"    {k:<15} {stats.counts[k]:>6}  {stats.fractions[k]:6.1%}  [{lo:6.1%}, {hi:6.1%}]")
    lines.append("  distinct minima (canonical up to latent sign/permutation; collapsed and inert parts zeroed):")
    lines.append(f"    {'energy':>14} {'count':>6} {'category':<12} {'active':>6} {'gamma':>11} {'‖∇L‖':>9}")
    for m in stats.distinct_minima:
        lines.append(
            f"    {m.energy:>14.8g} {m.count:>6} {m.category:<12} {m.active:>6} {m.gamma:>11.4g} {m.grad_norm:>9.1e}"
        )
    lines.append(f"  collapsed-point energy for reference: {result.collapsed_energy:.8g}")
    return "\n".join(lines)


_SHARE_KEYS = (("W", "W"), ("b", "b"), ("log_gamma", "γ"), ("mu", "μ"), ("log_sigma", "σ"))


def _shares(shares: dict) -> str:
    parts = [f"{sym} {shares[k]:.2f}" for k, sym in _SHARE_KEYS if k in shares and shares[k] >= 0.005]
    return " ".join(parts) or "-"


def format_certificates(stats, certs) -> str:
    """Stationary-point certificates of the distinct minima (``prop1 --restarts``)."""
    lines = [
        "Certificates of the distinct minima (Hessian inertia: negative/zero/positive at |λ| <= tol;",
        "  ‖Hg‖/‖g‖: gradient-flat diagnostic; shares: eigenvector mass on W, b, γ, μ, σ):",
    ]
    for i, (m, c) in enumerate(zip(stats.distinct_minima, certs, strict=True), 1):
        ratio = "-" if c.gradient_flat_ratio is None else f"{c.gradient_flat_ratio:.3g}"
        lines.append(
            f"  #{i} energy {c.value:.10g} ({m.category}, {m.count} restarts): {c.label}; "
            f"‖∇L‖ {c.grad_norm:.1e} (max {c.grad_max:.1e}, test {c.gtol:g}·max(1,|L|)); "
            f"inertia ({c.n_negative}, {c.n_zero}, {c.n_positive}) at tol {c.tol:.2g}; ‖Hg‖/‖g‖ {ratio}"
            + ("  GRADIENT-FLAT" if c.gradient_flat else "")
        )
        lo, hi = c.zero_gap
        note = "  NEAR-DEGENERATE (a nonzero |λ| within 10·tol)" if c.near_degenerate else ""
        lines.append(
            f"      λ_min {c.min_eigenvalue:.6g}, λ_max {c.max_eigenvalue:.6g}; margin around tol: "
            f"zero |λ| <= {lo:.2g}, nonzero |λ| >= {hi:.2g}{note}"
        )
        for md in c.modes:
            extra = ""
            if md.slice_min is not None:
                extra = f"; slice ±{c.slice_radius:g}: min {md.slice_min:.3g}" + (
                    "" if md.slice_descent_t is None else f", descends from |t| = {md.slice_descent_t:.3g}"
                )
            lines.append(
                f"      {md.kind:<8} λ = {md.eigenvalue:>12.6g}  residual {md.residual:.1e}  "
                f"shares {_shares(md.shares)}{extra}"
            )
    return "\n".join(lines)


def format_prop2(a) -> str:
    """The table and thresholds printed by ``python -m landscape.prop2``."""
    s = a.thresholds.sweep
    c = a.config
    lines = [
        "Proposition 2: the VAE as a thresholding operator in γ (Dai, Wang & Wipf 2020)",
        f"α = {c['alpha']:g}, n = {c['n']}, d = {c['d']}, κ = {c['kappa']}, {c['restarts']} restarts per γ, "
        f"seed {c['seed']}",
        "",
        f"{'γ':>11} {'active':>6} {'fwd':>4} {'bwd':>4} {'best energy':>14} {'trivial':>14} {'gap Δ(γ)':>12}",
    ]
    for i, g in enumerate(s.gammas):
        lines.append(
            f"{g:>11.4g} {s.best_active[i]:>6} {s.forward_active[i]:>4} {s.backward_active[i]:>4} "
            f"{s.best_energy[i]:>14.8g} {s.trivial_energy[i]:>14.8g} {s.gap[i]:>12.4g}"
        )
    lines += ["", "Thresholds (bisection to 1e-6 relative; active count k → k − 1):"]
    for t in a.thresholds.partial:
        ref = ""
        if c["alpha"] == 0 and t.k <= a.eigenvalues.size:
            lam = a.eigenvalues[t.k - 1]
            ref = f"   λ_{t.k}(S) = {lam:.8g}  (relative difference {t.gamma / lam - 1:+.1e})"
        lines.append(f"  γ''_{t.k} = {t.gamma:.8g}  bracket [{t.lo:.8g}, {t.hi:.8g}]{ref}")
    full = a.thresholds.full
    lines.append(f"  γ'   = {full.gamma:.8g}  (the trivial solution is optimal above it)" if full else "  γ' not found")
    if c["alpha"] == 0:
        lines.append("  eigenvalues of S: " + ", ".join(f"{x:.6g}" for x in a.eigenvalues))
    lit = a.literal
    lines += [
        "",
        f"Implicit γ* (eq. 9) at the best learned-γ minimum: {a.implicit_gamma:.6g} (its γ: {a.learned_gamma:.6g})",
        "Literal Proposition 2 with that decoder held fixed: γ'(θ̃) = "
        + (f"{lit.gamma_prime:.6g}" if lit.gamma_prime else "not reached on the grid")
        + f";  Δ = Σ f_i(0, 1, θ̃) − nd γ̄ = {lit.delta:.6g} (> 0: the proof's hypothesis holds)"
        + f", Δ/(nd) = {lit.delta / (c['n'] * c['d']):.6g} (same units as γ)",
    ]
    if full:
        verdict = "collapse is forced (γ* > γ')" if a.implicit_gamma > full.gamma else "γ* < γ': no forced collapse"
        lines.append(f"Section 5.2 check: {verdict}")
    lines.append(f"({a.seconds:.1f} s)")
    return "\n".join(lines)
