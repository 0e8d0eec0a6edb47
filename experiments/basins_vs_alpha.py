"""Fraction of restarts that end collapsed, against the soft threshold α.

Proposition 1 says that an arbitrarily small α creates a collapsed local minimum; this
experiment measures how much of the initialisation space drains into it. For each α
on a grid from 0 to 2 and for two initialisation scales, `landscape.search` runs R
restarts of Adam on eq. (5) and `landscape.basin_stats` classifies the endpoints; the
collapse fraction is plotted with its 95% Wilson band.

Data (the setting of the issue's prototype): n = 10 points on a line in R², plus
N(0, 0.01²) noise, κ = 1. At α = 0 the collapsed point is a strict saddle, so no restart
may end there; the script checks this and says so.

    python experiments/basins_vs_alpha.py [--restarts 256] [--steps 4000] [--out experiments/out]

Saves basins_vs_alpha.json (configuration, seed, versions, every fraction) and
basins_vs_alpha.png.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

import landscape
from landscape.cli.args import (
    ArgumentParser,
    check_output_folder,
    int_at_least,
    nonnegative_float,
    positive_float,
    seed,
)
from landscape.common.provenance import save_json


def line_data(n: int, noise: float, seed: int) -> np.ndarray:
    """n points z_i·w + c on a line in R² (|w| = 1, z ~ N(0, 1)), plus N(0, noise²)."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 2020]))
    w = np.array([0.8, 0.6])
    z = rng.normal(size=(n, 1))
    return z * w + np.array([0.5, -0.2]) + noise * rng.normal(size=(n, 2))


def build_parser():
    ap = ArgumentParser(
        prog="basins_vs_alpha.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--alphas", type=nonnegative_float, nargs="+", default=list(np.linspace(0.0, 2.0, 9)))
    ap.add_argument("--scales", type=positive_float, nargs="+", default=[1.0, 0.1], help="init scales of W and μ")
    ap.add_argument("--restarts", type=int_at_least(1), default=256)
    ap.add_argument("--steps", type=int_at_least(0), default=4000)
    ap.add_argument("--n", type=int_at_least(2), default=10)
    ap.add_argument("--noise", type=nonnegative_float, default=0.01)
    ap.add_argument("--seed", type=seed, default=0)
    ap.add_argument("--out", default="experiments/out", help="output folder (created if missing)")
    return ap


def main(argv=None) -> int:
    ap = build_parser()
    args = ap.parse_args(argv)
    out = check_output_folder(ap, "--out", args.out, files=["basins_vs_alpha.json"], figures=["basins_vs_alpha.png"])

    X = line_data(args.n, args.noise, args.seed)
    rows = []
    t0 = time.perf_counter()
    total = len(args.alphas) * len(args.scales)
    for si, scale in enumerate(args.scales):
        init = landscape.InitScales(w=scale, mu=scale)
        for ai, alpha in enumerate(args.alphas):
            r = landscape.search(X, alpha, kappa=1, restarts=args.restarts, steps=args.steps, seed=args.seed, init=init)
            s = landscape.basin_stats(r)
            lo, hi = s.intervals["collapsed"]
            rows.append(
                {
                    "alpha": float(alpha),
                    "init_scale": scale,
                    "fractions": s.fractions,
                    "counts": s.counts,
                    "collapsed_wilson_95": [lo, hi],
                    "distinct_minima": [m.to_dict() for m in s.distinct_minima],
                    "status": {k: int(np.sum(r.status == k)) for k in np.unique(r.status)},
                    "seconds": r.seconds,
                }
            )
            done = si * len(args.alphas) + ai + 1
            print(
                f"[{done}/{total}] init scale {scale:g}  α = {alpha:4.2f}: collapsed {s.fractions['collapsed']:6.1%} "
                f"[{lo:5.1%}, {hi:5.1%}]  other {s.fractions['other']:6.1%}  "
                f"partial {s.fractions['partial']:5.1%}  failed {s.counts['failed']}  "
                f"({time.perf_counter() - t0:.0f} s)",
                file=sys.stderr,
            )

    zero = [r for r in rows if r["alpha"] == 0.0]
    ok = all(r["counts"]["collapsed"] == 0 for r in zero)
    print("\nFraction of restarts ending collapsed (95% Wilson interval):")
    print(f"{'alpha':>6} " + " ".join(f"{'scale ' + format(s, 'g'):>24}" for s in args.scales))
    for alpha in args.alphas:
        cells = []
        for scale in args.scales:
            r = next(x for x in rows if x["alpha"] == float(alpha) and x["init_scale"] == scale)
            lo, hi = r["collapsed_wilson_95"]
            cells.append(f"{r['fractions']['collapsed']:6.1%} [{lo:5.1%}, {hi:5.1%}]")
        print(f"{alpha:6.2f} " + " ".join(f"{c:>24}" for c in cells))
    print(f"\nα = 0 shows no collapsed endpoint: {'yes' if ok else 'NO'}")

    config = vars(args) | {"kappa": 1, "optimizer": "adam", "learning_rate": 1e-2, "data": "line in R^2 plus noise"}
    save_json(out / "basins_vs_alpha.json", {"config": config, "seed": args.seed, "rows": rows, "alpha0_clean": ok})
    _plot(rows, args, out / "basins_vs_alpha.png")
    print(f"wrote {out / 'basins_vs_alpha.json'} and {out / 'basins_vs_alpha.png'}")
    return 0 if ok else 1


def _plot(rows, args, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4.2), constrained_layout=True)
    for scale in args.scales:
        sub = sorted((r for r in rows if r["init_scale"] == scale), key=lambda r: r["alpha"])
        a = np.array([r["alpha"] for r in sub])
        f = np.array([r["fractions"]["collapsed"] for r in sub])
        lo = np.array([r["collapsed_wilson_95"][0] for r in sub])
        hi = np.array([r["collapsed_wilson_95"][1] for r in sub])
        (line,) = ax.plot(a, f, "o-", label=f"init scale {scale:g} (W, μ)")
        ax.fill_between(a, lo, hi, color=line.get_color(), alpha=0.2)
    ax.set_xlabel("soft threshold α")
    ax.set_ylabel("fraction of restarts ending collapsed")
    ax.set_ylim(-0.02, 1.02)
    ax.set_title(
        f"Basin of the collapsed minimum (Proposition 1)\n{args.restarts} restarts × {args.steps} Adam steps, "
        f"n = {args.n} points on a line + {args.noise:g} noise",
        fontsize=10,
    )
    ax.legend()
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    raise SystemExit(main())
