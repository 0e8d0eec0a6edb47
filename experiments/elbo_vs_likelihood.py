"""Does the ELBO create Proposition 1's bad local minimum, or does the likelihood have it too? (issue 9)

On Proposition 1 data sets (x_i = π_α(W* z_i) + b*, n = 20, d = 3, κ = 1, one per α of the
sweep), the exact likelihood L_p(θ) = −2 Σ log p_θ(x_i) − nd log 2π + nκ
(`landscape.marginal`) against the energy of eq. (5) (−2·ELBO on the same scale), with
`landscape.elbo_gap`, `landscape.likelihood_collapsed`, `landscape.likelihood_basins` and
`landscape.two_stage`:

- **the collapsed decoder θ_c** (W = 0, b = x̄, γ = γ̄): ‖∇L_p‖, the Hessian inertia over
  (W, b, log γ), and the re-minimised profiles of both objectives along W = tU (the
  affine-descent direction u_1 e_1ᵀ, the coordinate directions e_j e_1ᵀ and random ones),
  t = α/10 … 4α, with the leading-order prediction (n/γ̄) tr[(I − S/γ̄) Cov π_α(tUz)];
- **basins**: the same initialisations descended on both (`compare_basins`: `landscape.search`
  on eq. (5), the multistart engine on L_p), categorised alike, with 95% Wilson intervals, the
  distinct minima of each and the ELBO gap (φ optimal) at each;
- **likelihood-first two-stage fit** (our reading of LiBI, Yacoby, Pan & Doshi-Velez, whose
  algorithm text we do not have) against joint ELBO training, restart by restart;
- **Yacoby et al.'s second observation** (is the ELBO-optimal θ's log-likelihood below the
  MLE's?) on the same Proposition 1 sets plus N(0, noise²) (so that both optima exist), and at
  α = 0 (pPCA, where both equal the closed-form maximum: the oracle);
- **2-D slices** through θ_c of L_p and of min_φ L (φ re-optimised at every grid point by
  `optimal_phi`), W = s·u_1 e_1ᵀ against log γ.

    python experiments/elbo_vs_likelihood.py [--alphas 0.05 0.1 0.2 0.5 1] [--restarts 96]
        [--steps 4000] [--polish-steps 200] [--seed 0] [--out experiments/out/elbo_vs_likelihood] [--quick]

Saves <out>.json (configuration, seed, versions, every result) and <out>_basins.png,
<out>_gaps.png, <out>_slices.png, <out>_profiles.png. ``--quick`` is a tiny configuration
(one α, 8 restarts of 400 steps) for the tests.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

import landscape  # light: the library (and JAX) load on first use, after the arguments are checked
from landscape.cli.args import (
    ArgumentParser,
    check_count,
    check_output_prefix,
    check_prop1_dataset,
    int_at_least,
    nonnegative_float,
    positive_float,
    seed,
)
from landscape.common.provenance import save_json

QUICK = {
    "alphas": [0.5],
    "n": 12,
    "restarts": 8,
    "steps": 400,
    "noisy_alphas": [0.0],
    "noisy_restarts": 8,
    "slice_alphas": [0.5],
    "slice_grid": [4, 2],
    "profile_num": 8,
    "random_directions": 1,
}


def noisy_prop1(alpha: float, n: int, d: int, kappa: int, seed: int, noise: float) -> np.ndarray:
    """A Proposition 1 data set plus N(0, noise²) on every entry (a fixed stream of the seed)."""
    ds = landscape.prop1_dataset(alpha, n=n, d=d, kappa=kappa, seed=seed)
    rng = np.random.default_rng(np.random.SeedSequence([seed, 909]))
    return ds.X + noise * rng.normal(size=ds.X.shape)


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def build_parser():
    ap = ArgumentParser(
        prog="elbo_vs_likelihood.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--alphas", type=nonnegative_float, nargs="+", default=[0.05, 0.1, 0.2, 0.5, 1.0])
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--d", type=int, default=3)
    ap.add_argument("--kappa", type=int, default=1, choices=(1, 2), help="1 or 2 (the exact likelihood: κ <= 2)")
    ap.add_argument("--seed", type=seed, default=0)
    ap.add_argument("--restarts", type=int_at_least(1), default=96)
    ap.add_argument("--steps", type=int_at_least(0), default=4000, help="Adam steps per restart (both objectives)")
    ap.add_argument(
        "--polish-steps", type=int_at_least(0), default=200, help="dense Newton polish steps (both objectives)"
    )
    ap.add_argument("--noise", type=positive_float, default=0.05, help="noise sd added for the Yacoby comparison")
    ap.add_argument("--noisy-alphas", type=nonnegative_float, nargs="*", default=[0.0, 0.1, 0.5])
    ap.add_argument("--noisy-restarts", type=int_at_least(1), default=32)
    ap.add_argument("--slice-alphas", type=nonnegative_float, nargs="*", default=[0.1, 0.5])
    ap.add_argument("--slice-grid", type=int_at_least(1), nargs=2, default=[33, 25], metavar=("NS", "NT"))
    ap.add_argument("--profile-num", type=int, default=32, help="points per profile (>= 2)")
    ap.add_argument("--random-directions", type=int_at_least(0), default=2)
    ap.add_argument("--quick", action="store_true", help="tiny configuration (for the tests)")
    ap.add_argument("--out", default="experiments/out/elbo_vs_likelihood", help="output path without suffix")
    return ap


def main(argv=None) -> int:
    ap = build_parser()
    args = ap.parse_args(argv)
    if args.quick:
        for k, v in QUICK.items():
            setattr(args, k, v)
    check_prop1_dataset(ap, n=args.n, d=args.d, kappa=args.kappa)
    check_count(ap, "num (--profile-num)", args.profile_num, 2)  # collapsed_likelihood_evidence's own rule
    suffixes = ["_basins.png", "_gaps.png", "_slices.png", "_profiles.png"]
    out = check_output_prefix(ap, "--out", args.out, files=[".json"], figures=suffixes)
    t0 = time.perf_counter()
    kw = dict(steps=args.steps, polish_steps=args.polish_steps, progress=False)

    rows = []
    for i, alpha in enumerate(args.alphas):
        ta = time.perf_counter()
        try:
            ds = landscape.prop1_dataset(alpha, n=args.n, d=args.d, kappa=args.kappa, seed=args.seed)
        except ValueError as err:
            ap.error(str(err))
        ev = landscape.collapsed_likelihood_evidence(
            ds.X, alpha, args.kappa, n_random=args.random_directions, num=args.profile_num, seed=args.seed
        )
        comp = landscape.compare_basins(ds.X, alpha, args.kappa, args.restarts, args.seed, **kw)
        fit = landscape.two_stage_fit(ds.X, alpha, args.kappa, args.restarts, args.seed, comparison=comp)
        rows.append({"alpha": alpha, "dataset": ds.config(), "evidence": ev, "comparison": comp, "two_stage": fit})
        fe, fl = comp.fractions["elbo"]["fractions"], comp.fractions["likelihood"]["fractions"]
        _log(
            f"[{i + 1}/{len(args.alphas)}] α = {alpha:g}: θ_c {ev.verdict_likelihood} (L_p), {ev.verdict_elbo} (ELBO); "
            f"collapsed ELBO {fe['collapsed']:.0%} / L_p {fl['collapsed']:.0%}, reconstructing ELBO "
            f"{fe['reconstructing']:.0%} / L_p {fl['reconstructing']:.0%} ({time.perf_counter() - ta:.1f} s, "
            f"total {time.perf_counter() - t0:.0f} s)"
        )

    noisy = []
    for i, alpha in enumerate(args.noisy_alphas):
        ta = time.perf_counter()
        X = noisy_prop1(alpha, args.n, args.d, args.kappa, args.seed, args.noise)
        fit = landscape.two_stage_fit(X, alpha, args.kappa, args.noisy_restarts, args.seed, **kw)
        noisy.append({"alpha": alpha, "noise": args.noise, "two_stage": fit})
        _log(
            f"[noisy {i + 1}/{len(args.noisy_alphas)}] α = {alpha:g}: log p(θ_MLE) = {_fmt(fit.mle_log_p)}, "
            f"log p(θ_ELBO) = {_fmt(fit.elbo_theta_log_p)}, deficit {_fmt(fit.log_p_deficit)} nats"
            + (f", pPCA max {fit.ppca_max_log_p:.10g}" if fit.ppca_max_log_p is not None else "")
            + f" ({time.perf_counter() - ta:.1f} s)"
        )

    slices = []
    ns, nt = args.slice_grid
    for alpha in args.slice_alphas:
        ta = time.perf_counter()
        ds = landscape.prop1_dataset(alpha, n=args.n, d=args.d, kappa=args.kappa, seed=args.seed)
        lam1 = float(np.linalg.eigvalsh(landscape.data_covariance(ds.X))[-1])
        s = np.linspace(-1.5, 1.5, ns) * np.sqrt(lam1)
        t = np.linspace(-1.5, 1.5, nt)
        sl = landscape.collapsed_slices(ds.X, alpha, args.kappa, s, t)
        slices.append({"alpha": alpha, "slice": sl})
        _log(
            f"[slice] α = {alpha:g}: {ns}×{nt} grid, min(ELBO* − L_p) = {sl.gap_min:.2e} "
            f"({time.perf_counter() - ta:.1f} s)"
        )
    seconds = time.perf_counter() - t0

    _print_summary(rows, noisy, seconds)
    config = vars(args) | {"method_two_stage": landscape.LIBI_LABEL}
    payload = {
        "config": config,
        "seed": args.seed,
        "rows": [
            {
                "alpha": r["alpha"],
                "dataset": r["dataset"],
                "evidence": r["evidence"].to_dict(),
                "comparison": r["comparison"].to_dict(),
                "two_stage": r["two_stage"].to_dict(),
            }
            for r in rows
        ],
        "noisy": [
            {
                "alpha": r["alpha"],
                "noise": r["noise"],
                "two_stage": r["two_stage"].to_dict(comparison=True),
            }
            for r in noisy
        ],
        "slices": [{"alpha": r["alpha"], **r["slice"].to_dict()} for r in slices],
        "slice_surface_elbo": "min over phi of eq. (5) at every grid point (optimal_phi); elbo_prior: phi at p(z)",
        "seconds": seconds,
    }
    json_path = save_json(out.with_suffix(".json"), payload)
    paths = _plot(rows, noisy, slices, out)
    print(f"wrote {json_path} and {', '.join(str(p) for p in paths)}")
    return 0


def _fmt(x):
    return "n/a" if x is None else f"{x:.6g}"


def _print_summary(rows, noisy, seconds):
    print("\nθ_c = (W = 0, b = x̄, γ = γ̄): is it a local minimum of the likelihood L_p? (Proposition 1 data)")
    print(
        f"{'alpha':>6} {'|∇L_p|':>9} {'inertia':>10} {'L_p(θ_c)-formula':>16} {'verdict L_p':>20} {'verdict ELBO':>24}"
    )
    for r in rows:
        ev = r["evidence"]
        inert = "(" + ",".join(map(str, ev.inertia)) + ")"
        print(
            f"{r['alpha']:6.3g} {ev.grad_norm:9.1e} {inert:>10} {ev.energy_error:16.1e} "
            f"{ev.verdict_likelihood:>20} {ev.verdict_elbo:>24}"
        )
        for dr in ev.directions:
            print(
                f"       {dr.label:>9} ({dr.kind}, {_fmt(dr.eigenvalue)}): L_p {dr.likelihood_shape}"
                f" [first resolved t = {_fmt(dr.first_resolved_t)}, rel/pred = {_fmt(dr.prediction_ratio)},"
                f" margin {dr.min_margin:.1e}]; ELBO {dr.elbo_shape} {dr.elbo_barrier:.3e}"
                f" at t = {dr.elbo_barrier_t:.3g}"
            )
    print("\nBasins (same starts; fractions, 95% Wilson intervals)")
    print(f"{'alpha':>6} {'objective':>14} {'collapsed':>22} {'reconstructing':>22} {'other':>22}")
    for r in rows:
        for key in ("elbo", "elbo_by_signal", "likelihood"):
            f = r["comparison"].fractions[key]
            cells = [
                f"{f['fractions'][c]:.2f} [{f['wilson_95'][c][0]:.2f},{f['wilson_95'][c][1]:.2f}]"
                for c in ("collapsed", "reconstructing", "other")
            ]
            print(f"{r['alpha']:6.3g} {key:>14} " + " ".join(f"{c:>22}" for c in cells))
    print("\nDistinct minima: L_p, ELBO gap (nats, φ optimal), L_p polished from ELBO minima")
    for r in rows:
        for m in r["comparison"].minima:
            extra = ""
            if m.objective == "elbo":
                extra = (
                    f" | L_p polish: moved {_fmt(m.moved)}, drop {_fmt(m.drop)}, lands on "
                    f"{m.landed_category or 'no L_p minimum'}; near an L_p minimum: {m.near_likelihood_minimum}"
                )
            print(
                f"{r['alpha']:6.3g} {m.objective:>10} {m.category:>14} ×{m.count:<4} L_p {m.marginal_energy:12.5f} "
                f"gap {m.gap:10.3e} (res {m.gap_resolution:.0e}) {m.certificate.get('label', '')}{extra}"
            )
    print("\nTwo-stage (likelihood first) vs joint ELBO training, Proposition 1 data (noiseless)")
    for r in rows:
        f = r["two_stage"]
        print(
            f"{r['alpha']:6.3g} reconstructing: two-stage {f.fractions['two_stage_reconstructing']['fraction']:.2f}, "
            f"joint {f.fractions['joint_reconstructing']['fraction']:.2f}; collapsed: two-stage "
            f"{f.fractions['two_stage_collapsed']['fraction']:.2f}, "
            f"joint {f.fractions['joint_collapsed']['fraction']:.2f}; "
            f"unbounded L_p {f.likelihood_unbounded}, ELBO {f.elbo_unbounded}"
        )
    print("\nYacoby et al.'s second observation: log p at the MLE θ vs at the ELBO-optimal θ (noisy data)")
    for r in noisy:
        f = r["two_stage"]
        print(
            f"{r['alpha']:6.3g} log p(θ_MLE) {_fmt(f.mle_log_p)}, log p(θ_ELBO) {_fmt(f.elbo_theta_log_p)}, "
            f"deficit {_fmt(f.log_p_deficit)} nats ({_fmt(f.log_p_deficit_per_point)} per point)"
            + (f"; pPCA closed form {f.ppca_max_log_p:.10g}" if f.ppca_max_log_p is not None else "")
        )
    print(f"wall time {seconds:.1f} s")


def _plot(rows, noisy, slices, out):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import SymLogNorm

    paths = []
    alphas = np.array([r["alpha"] for r in rows])
    # (i) basin fractions against α
    fig, ax = plt.subplots(figsize=(7, 4.4), constrained_layout=True)
    styles = {
        ("elbo", "collapsed"): ("C0", "o-", "ELBO (eq. 5): collapsed"),
        ("likelihood", "collapsed"): ("C1", "s-", "likelihood L_p: collapsed (flat set, no signal)"),
        ("elbo", "reconstructing"): ("C0", "o--", "ELBO: reconstructing (γ → 0)"),
        ("likelihood", "reconstructing"): ("C1", "s--", "likelihood: reconstructing (γ → 0)"),
    }
    for (obj, cat), (color, fmt, label) in styles.items():
        f = np.array([r["comparison"].fractions[obj]["fractions"][cat] for r in rows])
        lo = np.array([r["comparison"].fractions[obj]["wilson_95"][cat][0] for r in rows])
        hi = np.array([r["comparison"].fractions[obj]["wilson_95"][cat][1] for r in rows])
        yerr = np.maximum([f - lo, hi - f], 0.0)  # Wilson bounds can miss 0 or 1 by an ulp
        ax.errorbar(alphas, f, yerr=yerr, fmt=fmt, color=color, capsize=3, label=label, mfc="none")
    ax.set_xscale("log")
    ax.set_xlabel("soft threshold α")
    ax.set_ylabel("fraction of restarts (95% Wilson)")
    R = rows[0]["comparison"].restarts if rows else 0
    ax.set_title(f"Where descent ends from the same {R} starts (Proposition 1 data)", fontsize=10)
    ax.legend(fontsize=8)
    paths.append(out.with_name(out.name + "_basins.png"))
    fig.savefig(paths[-1], dpi=120)
    plt.close(fig)

    # (ii) the ELBO gap at every distinct minimum
    fig, ax = plt.subplots(figsize=(7, 4.4), constrained_layout=True)
    markers = {"collapsed": "v", "other": "o", "partial": "D", "reconstructing": "x"}
    floor = 1e-14
    for r in rows:
        for m in r["comparison"].minima:
            color = "C0" if m.objective == "elbo" else "C1"
            x = r["alpha"] * (0.93 if m.objective == "elbo" else 1.07)
            ax.scatter(x, max(m.gap, floor), marker=markers.get(m.category, "o"), color=color, s=20 + 4 * m.count)
    for obj, color in (("ELBO minima", "C0"), ("likelihood minima", "C1")):
        ax.scatter([], [], color=color, label=obj)
    for cat, mk in markers.items():
        ax.scatter([], [], color="gray", marker=mk, label=cat)
    ax.axhline(floor, color="gray", lw=0.5)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("soft threshold α")
    ax.set_ylabel("log p − ELBO* (nats, φ optimal; floor 1e-14 = tight)")
    ax.set_title("ELBO gap at the distinct minima of each objective (size ∝ basin)", fontsize=10)
    ax.legend(fontsize=7, ncol=2)
    paths.append(out.with_name(out.name + "_gaps.png"))
    fig.savefig(paths[-1], dpi=120)
    plt.close(fig)

    # (iii) 2-D slices through θ_c
    if slices:
        fig, axes = plt.subplots(
            len(slices), 3, figsize=(15, 3.8 * len(slices)), constrained_layout=True, squeeze=False
        )
        for row, r in zip(axes, slices, strict=True):
            sl = r["slice"]
            grid = len(sl.s) > 1 and len(sl.t) > 1
            for ax, Z, name in (
                (row[0], sl.likelihood, "likelihood L_p"),
                (row[1], sl.elbo_optimal, "min_φ L (ELBO*)"),
            ):
                rel = Z - sl.f0
                top = float(np.nanmax(np.abs(rel)))
                if grid:
                    norm = SymLogNorm(linthresh=1e-3, vmin=-top, vmax=top)
                    pcm = ax.pcolormesh(sl.s, sl.t, rel.T, norm=norm, cmap="RdBu_r", shading="nearest")
                    ax.contour(sl.s, sl.t, rel.T, levels=[0.0], colors="k", linewidths=0.8)
                    fig.colorbar(pcm, ax=ax, label="value − value at θ_c (eq. 5 units)")
                ax.set_title(f"{name}, α = {r['alpha']:g} (b = x̄)", fontsize=10)
            gap = np.maximum(sl.elbo_optimal - sl.likelihood, 1e-14)
            if grid:
                pcm = row[2].pcolormesh(
                    sl.s, sl.t, np.log10(gap).T, cmap="viridis", shading="nearest", vmin=-14, vmax=np.log10(gap.max())
                )
                fig.colorbar(pcm, ax=row[2], label="log10(ELBO* gap), eq. 5 units (floor 1e-14)")
            row[2].set_title(f"min_φ L − L_p ≥ 0, α = {r['alpha']:g}", fontsize=10)
            for ax in row:
                ax.plot([0], [0], "k*", ms=10)
                ax.set_xlabel("s (W = s·u₁e₁ᵀ)")
                ax.set_ylabel("log γ − log γ̄")
        paths.append(out.with_name(out.name + "_slices.png"))
        fig.savefig(paths[-1], dpi=120)
        plt.close(fig)

    # (iv) the profiles along u_1 near t = 0
    if rows:
        fig, axes = plt.subplots(1, len(rows), figsize=(3.6 * len(rows), 3.8), constrained_layout=True, squeeze=False)
        for ax, r in zip(axes[0], rows, strict=True):
            ev = r["evidence"]
            dr = next((x for x in ev.directions if x.kind == "affine_descent"), ev.directions[0])
            t = dr.t[1:]
            scale = r["alpha"] if r["alpha"] > 0 else 1.0
            ax.plot(t / scale, dr.likelihood_rel[1:], "-", color="C1", label="L_p profile")
            ax.plot(t / scale, dr.elbo_rel[1:], "--", color="C0", label="ELBO profile")
            if dr.prediction is not None:
                ax.plot(t / scale, dr.prediction[1:], ":", color="k", label="leading order")
            ax.plot(t / scale, dr.resolution[1:], color="gray", lw=0.6, label="resolution")
            ax.plot(t / scale, -dr.resolution[1:], color="gray", lw=0.6)
            ax.set_xscale("log")
            ax.set_yscale("symlog", linthresh=1e-12)
            ax.set_xlabel("t / α" if r["alpha"] > 0 else "t")
            ax.set_title(f"α = {r['alpha']:g}, U = {dr.label}", fontsize=10)
        axes[0][0].set_ylabel("profile − value at θ_c (eq. 5 units)")
        axes[0][0].legend(fontsize=7)
        paths.append(out.with_name(out.name + "_profiles.png"))
        fig.savefig(paths[-1], dpi=120)
        plt.close(fig)
    return paths


if __name__ == "__main__":
    raise SystemExit(main())
