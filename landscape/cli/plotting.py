"""Figures (matplotlib, headless). Imported lazily by the command-line tools."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_prop1(cert, path) -> Path:
    """Barrier profiles at α and at 0, and the two Hessian spectra, in one PNG.

    Top row: f_U(t) − f_U(0) for each probed direction U, at the data set's α (left)
    and at α = 0 (right). Bottom row: the Hessian eigenvalues at the collapsed
    point (symlog scale), measured (dots) against MATH.md §4 (circles).
    """
    plt = _plt()
    single = cert.affine is cert.collapsed  # α = 0: nothing to contrast with
    ncols = 1 if single else 2
    nrows = 2 if cert.sphere is None else 3
    fig, axes = plt.subplots(nrows, ncols, figsize=(5.5 * ncols, 4 * nrows), constrained_layout=True, squeeze=False)
    reps = [(cert.collapsed, axes[0, 0], axes[1, 0])]
    if not single:
        reps.append((cert.affine, axes[0, 1], axes[1, 1]))
    # One window for both profile panels, set by the affine-descent barrier at α (the
    # direction that matters), so the α > 0 barrier and the α = 0 fall show side by side.
    key = [p for p in cert.collapsed.profiles if p.direction.kind == "affine_descent" and p.shape == "barrier"]
    if key:
        best = min(key, key=lambda p: p.barrier_height)
        xlim, h = 3.0 * best.barrier_t, best.barrier_height
        ylim = (-3.0 * h, 3.0 * h)
    else:
        first = cert.collapsed.profiles[0]
        xlim = first.t[min(20, first.t.size - 1)]
        inside = first.rel[(first.t <= xlim) & np.isfinite(first.rel)]
        span = max(np.max(np.abs(inside)), 1e-12)
        ylim = (-1.2 * span, 1.2 * span)
    for rep, ax_p, ax_s in reps:
        for p in rep.profiles:
            ok = np.isfinite(p.rel)
            style = "-" if p.direction.kind == "affine_descent" else "--"
            ax_p.plot(p.t[ok], p.rel[ok], style, label=f"{p.direction.label} ({p.shape})")
            if p.shape == "barrier" and p.barrier_t <= xlim:
                ax_p.plot([p.barrier_t], [p.barrier_height], "k^", ms=6)
        ax_p.set_xlim(0, xlim)
        ax_p.set_ylim(*ylim)
        ax_p.axhline(0, color="grey", lw=0.8)
        ax_p.set_xlabel("t  (W = t·U, ‖U‖_F = 1)")
        ax_p.set_ylabel("f_U(t) − f_U(0)")
        ax_p.set_title(f"re-minimised profiles, α = {rep.alpha:g}")
        ax_p.legend(fontsize=8)

        lam = rep.spectrum.eigenvalues
        idx = np.arange(lam.size)
        ax_s.plot(idx, rep.predicted, "o", mfc="none", ms=7, label="MATH.md §4")
        ax_s.plot(idx, lam, ".", color="C3", label="dense Hessian")
        ax_s.set_yscale("symlog", linthresh=1e-3)
        ax_s.axhline(0, color="grey", lw=0.8)
        s = rep.spectrum
        ax_s.set_title(
            f"Hessian at the collapsed point, α = {rep.alpha:g}: ({s.n_negative}, {s.n_zero}, {s.n_positive})"
        )
        ax_s.set_xlabel("index (ascending)")
        ax_s.set_ylabel("eigenvalue")
        ax_s.legend(fontsize=8)
    if cert.sphere is not None:
        _sphere_panels(cert.sphere, cert.collapsed.barrier_t if cert.data.alpha > 0 else None, axes[2])
    d = cert.data
    fig.suptitle(
        f"Proposition 1 certificate: α = {d.alpha:g}, n = {d.n}, d = {d.d}, κ = {d.kappa}, seed = {d.seed} "
        f"— verdict: {cert.verdict}"
    )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def _sphere_panels(sph, barrier_t, axes) -> None:
    """m(r) on a log–log axis beside the leading order; and the minimisers' row norms (the branch)."""
    r, m = sph.radii, sph.min_excess
    ax = axes[0]
    pos = m > 0
    ax.loglog(r[pos], m[pos], "o", color="C0", label="m(r) > 0 (sphere minimum)")
    if (~pos).any():
        ax.loglog(r[~pos], -m[~pos], "v", color="C3", label="−m(r) where m(r) ≤ 0")
    lead = np.abs(sph.leading_order)
    ax.loglog(r, lead, "-", color="grey", lw=1, label="|leading order|")
    if sph.r_star is not None:
        ax.axvline(sph.r_star, color="C3", ls=":", lw=1, label=f"r* = {sph.r_star:.3g}")
    if barrier_t is not None:
        ax.axvline(barrier_t, color="k", ls="--", lw=0.8, label=f"profile barrier t = {barrier_t:.3g}")
    finite = np.concatenate([np.abs(m[np.isfinite(m) & (m != 0)]), lead[lead > 0]])
    if finite.size:
        ax.set_ylim(max(finite.min() / 10, 1e-300), finite.max() * 10)
    ax.set_xlabel("r = ‖W‖_F")
    ax.set_ylabel("m(r) = min over the sphere of ℓ(W) − ℓ(0)")
    ax.set_title(f"spheres around the collapsed point, α = {sph.alpha:g}: {'holds' if sph.holds else 'fails'}")
    ax.legend(fontsize=7)
    if len(axes) > 1:
        ax = axes[1]
        for j in range(sph.row_norms.shape[1]):
            ax.plot(r, sph.row_norms[:, j] / r, ".-", label=f"‖w_{j + 1}‖ / r")
        ax.set_xscale("log")
        ax.set_xlabel("r = ‖W‖_F")
        ax.set_ylabel("row norm of the minimiser / r")
        ax.set_title("the sphere minimiser's rows: even spread, or one row")
        ax.legend(fontsize=7)


def plot_prop2(a, path) -> Path:
    """Active dimensions (fresh, forward, backward) and Δ(γ) against γ, thresholds marked."""
    plt = _plt()
    s = a.thresholds.sweep
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(7, 7), sharex=True, constrained_layout=True)
    ax1.step(s.gammas, s.best_active, where="mid", label="best of fresh restarts", lw=2)
    ax1.plot(s.gammas, s.forward_active + 0.05, "^--", label="continuation, γ increasing")
    ax1.plot(s.gammas, s.backward_active - 0.05, "v--", label="continuation, γ decreasing")
    ax1.set_ylabel("active latent dimensions")
    ax1.set_xscale("log")
    ax2.plot(s.gammas, s.gap, "o-", label="Δ(γ) = L_triv − L_best")
    ax2.axhline(0, color="grey", lw=0.8)
    ax2.set_yscale("symlog", linthresh=1e-3)
    ax2.set_xlabel("γ (held fixed)")
    ax2.set_ylabel("Δ(γ)")
    for ax in (ax1, ax2):
        for t in a.thresholds.partial:
            ax.axvline(t.gamma, color="C3", ls=":", lw=1)
        if a.config["alpha"] == 0:
            for lam in a.eigenvalues[: a.config["kappa"]]:
                ax.axvline(lam, color="k", ls="-", lw=0.5, alpha=0.5)
        ax.axvline(a.implicit_gamma, color="C2", lw=1)
    ax1.plot([], [], color="C3", ls=":", label="measured γ''_j (γ' = γ''_1)")
    ax1.plot([], [], color="C2", label="implicit γ* (eq. 9)")
    if a.config["alpha"] == 0:
        ax1.plot([], [], color="k", lw=0.5, label="λ_j(S)")
    ax1.legend(fontsize=8)
    ax2.legend(fontsize=8)
    c = a.config
    fig.suptitle(f"Proposition 2 thresholds: α = {c['alpha']:g}, n = {c['n']}, d = {c['d']}, κ = {c['kappa']}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def plot_map(lmap, path) -> Path:
    """The disconnectivity graph of a `LandscapeMap` (`landscape.plot_disconnectivity`)."""
    plt = _plt()
    from landscape.cli.disconnectivity_plot import plot_disconnectivity

    fig, ax = plt.subplots(figsize=(6.5, 4.8), constrained_layout=True)
    plot_disconnectivity(lmap, ax)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
