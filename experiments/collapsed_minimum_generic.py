"""Is the collapsed point a local minimum for every data set? The sphere certificate on generic data (issue 19).

Proposition 1 (Dai, Wang & Wipf 2020) constructs data sets for which the collapsed point
(W = 0, q(z|x) = p(z)) is a local minimum of eq. (5) at every α > 0. This script asks the
question for data sets the library did not construct. On each it runs
`landscape.sphere_certificate`: m(r) = min over ‖W‖_F = r of the reduced energy ℓ(W) − ℓ(0)
(ℓ re-minimised over b, γ, μ, σ, in difference form), on 6 radii from α√d/10 (where m ~ e^-50) to
1.5 t_exit (t_exit: where the lowest barrier profile first falls below L_c; else 4α), refined
about the largest m below r*. The certificate holds when m(r) > 0 on every sphere below r*
(the first radius with m ≤ 0, or t_exit if smaller: m(r) can dip below 0 between two radii of the
grid). Its barrier bracket: sup_(r<r*) m(r) (a lower bound on the
pass out of the basin) and the lowest re-minimised affine-descent profile (an upper bound,
`landscape.barrier_profiles`).

Families (each data set standardised to γ̄ = tr S/d = 1, so α is in units of √γ̄):

- ``gaussian``: N(0, diag(v)), v log-uniform over two decades (unequal variances);
- ``student_t``: Student t with 3 degrees of freedom, scaled per coordinate as above;
- ``curve``: points on a random smooth closed curve in R^d plus 5% Gaussian noise;
- ``digits``: scikit-learn's 8×8 digits (in its wheel), n random images, projected to d by PCA;
- ``prop1``: `landscape.prop1_dataset` at the same α (the paper's construction, as a control).

Shapes (n, d, κ) ∈ {(20, 3, 1), (40, 3, 1), (20, 4, 2), (30, 6, 1)}; α ∈ {0.01, 0.05, 0.1, 0.5, 1};
``--seeds`` data sets per family, shape and α (default 2: 200 data sets). At α = 0 the collapsed
point is a strict saddle whenever λ_1 > γ̄ (MATH.md §4): every such data set must fail, which
the script checks on one data set per family, shape and seed (the negative control).

    python experiments/collapsed_minimum_generic.py [--seeds 2] [--out experiments/out/collapsed_minimum_generic]

Saves <out>.json (configuration, seed, versions, every data set's result, every failure with
its X) and <out>.png.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
from barriers_vs_alpha import fit_power_law  # experiments/ is the script's directory (on sys.path)

import landscape  # light: the library (and JAX) load on first use, after the arguments are checked
from landscape.cli.args import ArgumentParser, check_count, check_output_prefix, seed
from landscape.common.provenance import save_json

FAMILIES = ("gaussian", "student_t", "curve", "digits", "prop1")
SHAPES = ((20, 3, 1), (40, 3, 1), (20, 4, 2), (30, 6, 1))
ALPHAS = (0.01, 0.05, 0.1, 0.5, 1.0)
RADII = 6


def make_data(family: str, n: int, d: int, kappa: int, alpha: float, seed_: int) -> np.ndarray:
    """One data set (n, d) of the family, standardised to γ̄ = 1 (module docstring)."""
    rng = np.random.default_rng(np.random.SeedSequence([seed_, n, d, kappa, FAMILIES.index(family), 1919]))
    if family == "gaussian":
        X = rng.normal(size=(n, d)) * np.sqrt(np.exp(rng.uniform(np.log(0.1), np.log(10.0), d)))
    elif family == "student_t":
        X = rng.standard_t(3.0, size=(n, d)) * np.sqrt(np.exp(rng.uniform(np.log(0.1), np.log(10.0), d)))
    elif family == "curve":
        t = rng.uniform(0.0, 2.0 * np.pi, n)
        freqs = np.arange(1, 4)
        A, B = rng.normal(size=(2, freqs.size, d)) / freqs[:, None]
        X = np.cos(np.outer(t, freqs)) @ A + np.sin(np.outer(t, freqs)) @ B
        X += 0.05 * np.std(X, axis=0) * rng.normal(size=(n, d))
    elif family == "digits":
        from sklearn.datasets import load_digits

        D = load_digits().data / 16.0
        D = D[rng.choice(len(D), size=n, replace=False)]
        D = D - D.mean(axis=0)
        _, _, Vt = np.linalg.svd(D, full_matrices=False)
        X = D @ Vt[:d].T
    else:
        X = landscape.prop1_dataset(alpha, n=n, d=d, kappa=kappa, seed=seed_).X
    X = X - X.mean(axis=0)
    return X / np.sqrt(np.mean(X**2))  # γ̄ = tr S / d = 1


def certify(X, alpha, kappa, seed_, profile=True) -> dict:
    """The sphere certificate of one data set, bracketed above by the lowest "barrier" profile.

    The profiles come first: where one falls below L_c at t, r* ≤ t (`profile_exit`), and the radii
    run to 1.5 t (else to 4α)."""
    from landscape.analysis.profiles import profile_exit

    t0 = time.perf_counter()
    d = X.shape[1]
    upper = exit_t = None
    if profile and alpha > 0:
        # one direction per call: the same shapes for every data set (one compilation)
        dirs = landscape.affine_descent_directions(X, kappa)
        profs = [landscape.barrier_profiles(X, alpha, kappa, [dr])[0] for dr in dirs]
        barriers = [p.barrier_height for p in profs if p.shape == "barrier"]
        upper = min(barriers) if barriers else None
        exit_t = profile_exit(profs)
    if alpha > 0:
        top = 1.5 * exit_t if exit_t is not None else 4.0 * alpha
        radii = np.geomspace(alpha * np.sqrt(d) / 10.0, top, RADII)
    else:
        radii = np.geomspace(1e-3, 1.0, RADII)
    sph = landscape.sphere_certificate(X, alpha, kappa=kappa, radii=radii, starts=8, seed=seed_)
    sph = sph.with_upper_bounds(profile=upper, exit_radius=exit_t)
    data = landscape.as_data(X)
    return {
        "holds": sph.holds,
        "r_star": sph.r_star,
        "profile_exit": exit_t,
        "barrier_lower": sph.barrier_lower,
        "barrier_profile": upper,
        "bracket_ok": None if upper is None or sph.barrier_lower is None else bool(sph.barrier_lower <= upper),
        "min_excess_first": float(sph.min_excess[0]),
        "all_negative": bool(np.all(sph.min_excess < 0)),
        "negative_at_smallest": bool(sph.min_excess[0] < 0),
        "lambda1_over_gamma_bar": float(data.eigenvalues[0] / data.gamma_bar),
        "grid_agreement": sph.grid_agreement,
        "radii": sph.radii.tolist(),
        "min_excess": sph.min_excess.tolist(),
        "seconds": time.perf_counter() - t0,
    }


def build_parser():
    ap = ArgumentParser(
        prog="collapsed_minimum_generic.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--seeds", type=int, default=2, help="data sets per family, shape and α (default 2: 200 in all)")
    ap.add_argument("--seed", type=seed, default=0, help="first seed")
    ap.add_argument("--no-profile", action="store_true", help="skip the profile upper bounds")
    ap.add_argument("--out", default="experiments/out/collapsed_minimum_generic", help="output path without suffix")
    return ap


def main(argv=None) -> int:
    ap = build_parser()
    args = ap.parse_args(argv)
    check_count(ap, "seeds", args.seeds, 1)
    out = check_output_prefix(ap, "--out", args.out, files=[".json"], figures=[".png"])
    t0 = time.perf_counter()
    rows, controls = [], []
    jobs = [(f, s, a, args.seed + k) for s in SHAPES for f in FAMILIES for k in range(args.seeds) for a in ALPHAS]
    for i, (family, (n, d, kappa), alpha, sd) in enumerate(jobs):
        X = make_data(family, n, d, kappa, alpha, sd)
        row = {"family": family, "n": n, "d": d, "kappa": kappa, "alpha": alpha, "seed": sd}
        row |= certify(X, alpha, kappa, sd, profile=not args.no_profile)
        if not row["holds"]:
            row["X"] = X.tolist()
        rows.append(row)
        if alpha == ALPHAS[0]:  # the α = 0 negative control on the same data set
            ctl = {"family": family, "n": n, "d": d, "kappa": kappa, "alpha": 0.0, "seed": sd}
            ctl |= certify(X, 0.0, kappa, sd, profile=False)
            ctl["saddle_expected"] = ctl["lambda1_over_gamma_bar"] > 1.0
            # a saddle: m(r) < 0 already on the smallest sphere (m ≈ (n/γ̄)(1 − λ_1/γ̄) r²), so it fails
            ctl["as_expected"] = (not ctl["holds"] and ctl["negative_at_smallest"]) if ctl["saddle_expected"] else True
            controls.append(ctl)
        print(
            f"[{i + 1}/{len(jobs)}] {family:9} n={n} d={d} κ={kappa} α={alpha:<5g} seed {sd}: "
            f"{'holds' if row['holds'] else 'FAILS'}  r*={row['r_star']}  lower={row['barrier_lower']}  "
            f"profile={row['barrier_profile']}  ({row['seconds']:.1f} s, total {time.perf_counter() - t0:.0f} s)",
            file=sys.stderr,
        )
    summary = summarise(rows, controls)
    seconds = time.perf_counter() - t0
    print_summary(summary, rows, controls, seconds)
    payload = {
        "config": vars(args) | {"families": FAMILIES, "shapes": SHAPES, "alphas": ALPHAS, "radii": RADII},
        "seed": args.seed,
        "summary": summary,
        "rows": rows,
        "controls": controls,
        "seconds": seconds,
    }
    json_path = save_json(out.with_suffix(".json"), payload)
    png_path = out.with_suffix(".png")
    _plot(rows, summary, png_path)
    print(f"wrote {json_path} and {png_path}")
    return 0


def summarise(rows, controls) -> dict:
    k, total = sum(r["holds"] for r in rows), len(rows)
    by_alpha = {}
    for a in ALPHAS:
        sub = [r for r in rows if r["alpha"] == a]
        h = sum(r["holds"] for r in sub)
        by_alpha[str(a)] = {"holds": h, "total": len(sub), "wilson": landscape.wilson_interval(h, len(sub))}
    alphas = [r["alpha"] for r in rows]
    lower = [r["barrier_lower"] if r["barrier_lower"] is not None else np.nan for r in rows]
    upper = [r["barrier_profile"] if r["barrier_profile"] is not None else np.nan for r in rows]
    ratio = np.array(lower, float) / np.array(upper, float)
    saddles = [c for c in controls if c["saddle_expected"]]
    agreement = np.array([r["grid_agreement"] for r in rows], float)
    return {
        "holds": k,
        "total": total,
        "fraction": k / total,
        "wilson": landscape.wilson_interval(k, total),
        "by_alpha": by_alpha,
        "bracket_violations": sum(r["bracket_ok"] is False for r in rows),
        "fit_lower": fit_power_law(alphas, lower),
        "fit_profile": fit_power_law(alphas, upper),
        "lower_over_profile_median": float(np.nanmedian(ratio)) if np.isfinite(ratio).any() else float("nan"),
        "lower_over_profile_range": [float(np.nanmin(ratio)), float(np.nanmax(ratio))] if np.isfinite(ratio).any()
        else None,
        "controls": len(controls),
        "control_saddles": len(saddles),
        "control_saddles_failing": sum(c["as_expected"] for c in saddles),
        "control_saddles_negative_on_every_sphere": sum(c["all_negative"] for c in saddles),
        "controls_as_expected": sum(c["as_expected"] for c in controls),
        "grid_agreement_max": float(np.nanmax(agreement)),
        "grid_agreement_above_1e-8": int(np.sum(agreement > 1e-8)),
        "grid_agreement_datasets": int(np.sum(np.isfinite(agreement))),
    }  # fmt: skip


def print_summary(s, rows, controls, seconds) -> None:
    lo, hi = s["wilson"]
    print(f"\nThe collapsed point's sphere certificate on {s['total']} data sets the library did not construct")
    print(f"  holds on {s['holds']}/{s['total']} = {s['fraction']:.1%} (95% Wilson interval [{lo:.1%}, {hi:.1%}])")
    for a, b in s["by_alpha"].items():
        print(f"    α = {a:<5}: {b['holds']}/{b['total']}  [{b['wilson'][0]:.1%}, {b['wilson'][1]:.1%}]")
    for key in ("fit_lower", "fit_profile"):
        f = s[key]
        print(f"  {key}: barrier ≈ {f['c']:.4g} · α^{f['p']:.3f}  ({f['points']} data sets)")
    print(f"  lower / profile: median {s['lower_over_profile_median']:.3f}, range {s['lower_over_profile_range']}")
    print(f"  bracket violations (lower > profile): {s['bracket_violations']}")
    print(
        f"  α = 0 control: {s['control_saddles']}/{s['controls']} data sets have λ_1 > γ̄; "
        f"{s['control_saddles_failing']} of them fail (m < 0 on the smallest sphere), "
        f"{s['control_saddles_negative_on_every_sphere']} with m(r) < 0 on every sphere up to √γ̄"
    )
    print(
        f"  S² grid vs multi-start (random and affine starts alone, {s['grid_agreement_datasets']} data sets with "
        f"dκ = 3): at most {s['grid_agreement_max']:.1e} relative; above 1e-8 on {s['grid_agreement_above_1e-8']}"
    )
    fails = [r for r in rows if not r["holds"]] + [c for c in controls if not c["as_expected"]]
    print(f"  failures ({len(fails)}):" + ("" if fails else " none"))
    for r in fails:
        print(f"    {r['family']} n={r['n']} d={r['d']} κ={r['kappa']} α={r['alpha']} seed {r['seed']}: "
              f"m(r) = {np.array2string(np.array(r['min_excess']), precision=3)}")  # fmt: skip
    print(f"wall time {seconds:.1f} s")


def _plot(rows, s, path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax0, ax1, ax2) = plt.subplots(1, 3, figsize=(15, 4.4), constrained_layout=True)
    a = np.array(ALPHAS)
    frac = np.array([s["by_alpha"][str(x)]["holds"] / s["by_alpha"][str(x)]["total"] for x in ALPHAS])
    lo = np.array([s["by_alpha"][str(x)]["wilson"][0] for x in ALPHAS])
    hi = np.array([s["by_alpha"][str(x)]["wilson"][1] for x in ALPHAS])
    ax0.errorbar(a, frac, yerr=[frac - lo, hi - frac], fmt="o", capsize=4)
    ax0.set_xscale("log")
    ax0.set_ylim(-0.05, 1.05)
    ax0.set_xlabel("soft threshold α (units of √γ̄)")
    ax0.set_ylabel("fraction certified (95% Wilson interval)")
    ax0.set_title(f"m(r) > 0 on every sphere below r*: {s['holds']}/{s['total']}")
    for fam, marker in zip(FAMILIES, "os^Dv", strict=True):
        sub = [r for r in rows if r["family"] == fam and r["barrier_lower"] is not None]
        ax1.loglog([r["alpha"] for r in sub], [r["barrier_lower"] for r in sub], marker, mfc="none", label=fam)
        sub = [r for r in sub if r["barrier_profile"] is not None]
        ax2.loglog([r["alpha"] for r in sub], [r["barrier_lower"] / r["barrier_profile"] for r in sub], marker,
                   mfc="none", label=fam)  # fmt: skip
    grid = np.geomspace(a.min(), a.max(), 50)
    for key, style in (("fit_lower", "k-"), ("fit_profile", "k--")):
        f = s[key]
        if np.isfinite(f["c"]):
            ax1.loglog(grid, f["c"] * grid ** f["p"], style, lw=1, label=f"{key[4:]}: {f['c']:.3g}·α^{f['p']:.2f}")
    ax1.set_xlabel("α")
    ax1.set_ylabel("sup_(r<r*) m(r): lower bound on the barrier")
    ax1.set_title("barrier lower bound against α")
    ax1.legend(fontsize=7)
    ax2.set_xlabel("α")
    ax2.set_ylabel("lower bound / profile barrier")
    ax2.set_title("how tight the bracket is")
    ax2.legend(fontsize=7)
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    raise SystemExit(main())
