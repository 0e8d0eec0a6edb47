"""Height of the pass out of the collapsed minimum of Proposition 1, against α.

Proposition 1 makes the collapsed point (W = 0, q(z|x) = p(z)) a local minimum of eq. (5)
for every α > 0; how deep is it? On one fixed Proposition 1 data set (generated once at
``--data-alpha``; eq. (5) is then evaluated at every α of the sweep on the same X), two
measures of the barrier for each α:

- **profile**: the lowest barrier of the re-minimised profiles f_U(t) along the
  affine-descent directions U = u_l e_kᵀ (`landscape.barrier_profiles`, as
  `landscape.certify_prop1` computes them). A profile is one path out of the basin, so its
  barrier is an upper bound on the pass;
- **MEP**: the minimum-energy path from the collapsed point to a reconstructing point by the
  climbing string method, polished to an index-1 saddle (`landscape.paths.prop1_path`). Up to
  four runs per α: initial string along the profile or straight, end point on the profile
  past its barrier or on the witness's reconstructing path (where that lies below the
  collapsed energy at this α). The lowest converged barrier is reported. A converged MEP
  barrier must be no higher than the profile's: a run that comes out higher is counted as not
  converged (its saddle is a higher one), and the table says so.

Each set is fitted by barrier ≈ c·α^p (least squares in log–log), over all α and over α ≤ 0.1.

    python experiments/barriers_vs_alpha.py [--alphas 0.02 0.05 ...] [--seed 0]
        [--out experiments/out/barriers_vs_alpha]

Saves <out>.json (configuration, seed, versions, every run) and <out>.png.
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
    nonnegative_float,
    positive_float,
    seed,
    usage_errors,
)
from landscape.common.provenance import save_json

ATTEMPTS = (("profile", "profile"), ("profile", "straight"), ("witness", "profile"), ("witness", "straight"))


def fit_power_law(alphas, barriers) -> dict:
    """Least squares of log b = log c + p log α over the finite, positive barriers."""
    a, b = np.asarray(alphas, float), np.asarray(barriers, float)
    ok = np.isfinite(b) & (b > 0)
    if ok.sum() < 2:
        return {"c": float("nan"), "p": float("nan"), "points": int(ok.sum()), "max_rel_residual": float("nan")}
    p, logc = np.polyfit(np.log(a[ok]), np.log(b[ok]), 1)
    resid = np.log(b[ok]) - (logc + p * np.log(a[ok]))
    return {
        "c": float(np.exp(logc)),
        "p": float(p),
        "points": int(ok.sum()),
        "max_rel_residual": float(np.max(np.abs(np.expm1(resid)))),
    }


def run_alpha(ds, alpha, images) -> dict:
    t0 = time.perf_counter()
    X, kappa = ds.X, ds.kappa
    profiles = landscape.barrier_profiles(X, alpha, kappa, landscape.affine_descent_directions(X, kappa))
    best = min(profiles, key=lambda p: p.barrier_height)
    runs = []
    for end, init in ATTEMPTS:
        try:
            r = landscape.prop1_path(ds, alpha=alpha, end=end, init=init, images=images)
        except ValueError as err:  # the witness end is not below the collapsed energy at this α
            runs.append({"end": end, "init": init, "skipped": str(err)})
            continue
        # the lowest pass is no higher than the profile (its maximum located to ~1e-10 in t)
        limit = max(best.barrier_height, r.extras["profile_barrier"]) + r.extras["profile_comparison_tol"]
        runs.append(
            {
                "end": end,
                "init": init,
                "barrier": r.barrier,
                "converged": bool(r.converged and r.barrier <= limit),
                "below_profile": bool(r.barrier <= limit),
                "reasons": list(r.reasons),
                "inertia": list(r.inertia) if r.inertia else None,
                "saddle_grad_norm": r.saddle_grad_norm,
                "iterations": r.iterations,
                "seconds": r.seconds,
                "path": r.to_dict(arrays=True),
            }
        )
    good = [x for x in runs if x.get("converged")]
    chosen = min(good, key=lambda x: x["barrier"]) if good else None
    return {
        "alpha": float(alpha),
        "profile_barrier": best.barrier_height,
        "profile_barrier_t": best.barrier_t,
        "profile_shape": best.shape,
        "profile_direction": best.direction.label,
        "profile_max_inner_grad": best.evidence_grad_norm,
        "mep_barrier": chosen["barrier"] if chosen else float("nan"),
        "mep_over_profile": (chosen["barrier"] / best.barrier_height) if chosen else float("nan"),
        "mep_run": f"{chosen['end']} end, {chosen['init']} init" if chosen else None,
        "mep_converged": chosen is not None,
        "mep_spread": (max(x["barrier"] for x in good) - min(x["barrier"] for x in good)) if good else float("nan"),
        "mep_inertia": chosen["inertia"] if chosen else None,
        "mep_saddle_grad_norm": chosen["saddle_grad_norm"] if chosen else float("nan"),
        "runs": runs,
        "seconds": time.perf_counter() - t0,
    }


def build_parser():
    ap = ArgumentParser(
        prog="barriers_vs_alpha.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--alphas",
        type=positive_float,
        nargs="+",
        default=[0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0],
        help="α > 0 (at α = 0 the collapsed point is a saddle: no barrier)",
    )
    ap.add_argument(
        "--data-alpha", type=nonnegative_float, default=0.1, help="α the Proposition 1 data set is generated at"
    )
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--d", type=int, default=3)
    ap.add_argument("--kappa", type=int, default=1)
    ap.add_argument("--seed", type=seed, default=0)
    ap.add_argument("--images", type=int, default=33, help="images of the string (>= 3)")
    ap.add_argument("--out", default="experiments/out/barriers_vs_alpha", help="output path without suffix")
    return ap


def main(argv=None) -> int:
    ap = build_parser()
    args = ap.parse_args(argv)
    check_prop1_dataset(ap, n=args.n, d=args.d, kappa=args.kappa)
    check_count(ap, "images", args.images, 3)  # the string method's own rule
    out = check_output_prefix(ap, "--out", args.out, files=[".json"], figures=[".png"])

    t0 = time.perf_counter()
    with usage_errors(ap):
        ds = landscape.prop1_dataset(args.data_alpha, n=args.n, d=args.d, kappa=args.kappa, seed=args.seed)
    rows = []
    for i, alpha in enumerate(args.alphas):
        row = run_alpha(ds, alpha, args.images)
        rows.append(row)
        ok = sum(bool(x.get("converged")) for x in row["runs"])
        tried = sum("skipped" not in x for x in row["runs"])
        print(
            f"[{i + 1}/{len(args.alphas)}] α = {alpha:g}: profile {row['profile_barrier']:.6g}, "
            f"MEP {row['mep_barrier']:.6g} ({ok}/{tried} runs converged, {row['seconds']:.1f} s, "
            f"total {time.perf_counter() - t0:.0f} s)",
            file=sys.stderr,
        )
    alphas = [r["alpha"] for r in rows]
    fits = {
        "profile": fit_power_law(alphas, [r["profile_barrier"] for r in rows]),
        "mep": fit_power_law(alphas, [r["mep_barrier"] for r in rows]),
    }
    # the same fits restricted to α ≤ 0.1, where barrier / α² has settled (see the plot)
    small = [i for i, a in enumerate(alphas) if a <= 0.1]
    fits_small = {
        key: fit_power_law([alphas[i] for i in small], [rows[i][f"{key}_barrier"] for i in small])
        for key in ("profile", "mep")
    }
    seconds = time.perf_counter() - t0

    print(
        f"\nBarrier out of the collapsed minimum (n = {ds.n}, d = {ds.d}, κ = {ds.kappa}, data α = {ds.alpha:g}, "
        f"seed {ds.seed}; L_c = {landscape.collapsed_energy(ds.X, ds.kappa):.6f})"
    )
    print(
        f"{'alpha':>6} {'profile':>12} {'MEP':>12} {'MEP/prof':>9} {'inertia':>12} {'|grad|':>8} "
        f"{'runs ok':>8}  best run"
    )
    for r in rows:
        ok = sum(bool(x.get("converged")) for x in r["runs"])
        tried = sum("skipped" not in x for x in r["runs"])
        inert = "-" if r["mep_inertia"] is None else "(" + ",".join(map(str, r["mep_inertia"])) + ")"
        print(
            f"{r['alpha']:6.3g} {r['profile_barrier']:12.6g} {r['mep_barrier']:12.6g} "
            f"{r['mep_barrier'] / r['profile_barrier']:9.4f} {inert:>12} {r['mep_saddle_grad_norm']:8.1e} "
            f"{ok:>4}/{tried:<3}  {r['mep_run']}"
        )
        for x in r["runs"]:
            if "skipped" not in x and not x["converged"]:
                print(
                    f"       not converged: {x['end']} end, {x['init']} init: barrier {x['barrier']:.10g}; "
                    + "; ".join(x["reasons"] or ["above the profile barrier"])
                )
    for label, group in (("all α", fits), ("α ≤ 0.1", fits_small)):
        for name, fit in group.items():
            print(
                f"fit {name:>7} ({label:>7}): barrier ≈ {fit['c']:.4g} · α^{fit['p']:.4f}  "
                f"({fit['points']} points, max relative residual {fit['max_rel_residual']:.2%})"
            )
    print(f"wall time {seconds:.1f} s")

    config = vars(args) | {"dataset": ds.config(), "attempts": [list(a) for a in ATTEMPTS]}
    payload = {
        "config": config,
        "seed": args.seed,
        "rows": rows,
        "fits": fits,
        "fits_alpha_le_0.1": fits_small,
        "seconds": seconds,
    }
    json_path = save_json(out.with_suffix(".json"), payload)
    png_path = out.with_suffix(".png")
    _plot(rows, fits, ds, png_path)
    print(f"wrote {json_path} and {png_path}")
    return 0


def _plot(rows, fits, ds, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, ax1, ax2) = plt.subplots(1, 3, figsize=(15, 4.4), constrained_layout=True)
    a = np.array([r["alpha"] for r in rows])
    grid = np.geomspace(a.min(), a.max(), 100)
    styles = (("profile", "profile f_U(t) (upper bound)", "s"), ("mep", "minimum-energy path (saddle)", "o"))
    for key, label, marker in styles:
        b = np.array([r[f"{key}_barrier"] for r in rows])
        fill = "none" if key == "profile" else None
        (line,) = ax.loglog(a, b, marker, label=label, mfc=fill)
        ax1.semilogx(a, b / a**2, marker + "-", color=line.get_color(), label=label, mfc=fill)
        fit = fits[key]
        if np.isfinite(fit["c"]):
            fit_label = f"fit {fit['c']:.3g}·α^{fit['p']:.3f}"
            ax.loglog(grid, fit["c"] * grid ** fit["p"], "-", color=line.get_color(), lw=1, label=fit_label)
            ax1.semilogx(grid, fit["c"] * grid ** (fit["p"] - 2), ":", color=line.get_color(), lw=1, label=fit_label)
    ax.set_xlabel("soft threshold α")
    ax.set_ylabel("barrier above the collapsed energy L_c")
    ax.set_title(
        f"Pass out of the collapsed minimum\nProposition 1 data: n = {ds.n}, d = {ds.d}, "
        f"κ = {ds.kappa}, α_data = {ds.alpha:g}, seed {ds.seed}",
        fontsize=10,
    )
    ax.legend(fontsize=8)
    ax1.set_xlabel("soft threshold α")
    ax1.set_ylabel("barrier / α²")
    ax1.set_title("Departure from a pure α² law", fontsize=10)
    ax1.legend(fontsize=8)
    for r in rows:
        good = [x for x in r["runs"] if x.get("converged")]
        if not good:
            continue
        x = min(good, key=lambda x: x["barrier"])["path"]
        s, e = np.array(x["s"]), np.array(x["energy"])
        k = x["saddle_index"]
        ax2.plot(s[: k + 3] / s[k], (e[: k + 3] - e[0]) / r["mep_barrier"], ".-", ms=3, label=f"α = {r['alpha']:g}")
    ax2.set_xlabel("arc length / arc length at the saddle")
    ax2.set_ylabel("(L − L_c) / barrier")
    ax2.set_title("Energy along the ascent of each path (its images)", fontsize=10)
    ax2.set_xlim(0, 1.3)
    ax2.set_ylim(-1.5, 1.2)
    ax2.legend(fontsize=8)
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    raise SystemExit(main())
