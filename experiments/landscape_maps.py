"""Landscape maps of the default Proposition 1 problem across α, fixed and learned γ (issue 20).

For α ∈ {0, 0.05, 0.1, 0.5, 1}: the data set `landscape.prop1_dataset(α)` (n = 20, d = 3, κ = 1,
seed 0) and `landscape.landscape_map` on it at the same α, with γ fixed (``--gamma``, default 0.1)
and with γ learned. One figure of disconnectivity graphs (a row per γ setting, a column per α)
and a table: the collapsed basin's fraction of the restarts (95% Wilson interval), its depth
(its energy above the lowest finite minimum) and its lowest exit barrier (the lowest certified
transition state out of it, minus its energy). At α = 0 the collapsed point is a strict saddle
(MATH.md §4): no collapsed minimum is expected.

    python experiments/landscape_maps.py [--restarts 256] [--gamma 0.1] [--out experiments/out/landscape_maps]

Saves <out>.json (configuration, seed, versions, every map) and <out>.png.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ALPHAS = (0.0, 0.05, 0.1, 0.5, 1.0)


def row(lmap) -> dict:
    c = lmap.collapsed
    finite = [m.energy for m in lmap.minima]
    out = {"alpha": lmap.alpha, "gamma": lmap.gamma, "minima": len(lmap.minima),
           "transition_states": len(lmap.transition_states), "verified": lmap.verified,
           "funnel_fraction": None if lmap.funnel is None else lmap.funnel["fraction"],
           "seconds": lmap.seconds}  # fmt: skip
    if c is None:
        return out | {"collapsed_fraction": 0.0, "collapsed_interval": None, "depth": None, "exit_barrier": None}
    m = lmap.minima[c]
    return out | {"collapsed_fraction": m.fraction, "collapsed_interval": m.interval,
                  "depth": m.energy - min(finite), "exit_barrier": lmap.exit_barrier[c]}  # fmt: skip


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="landscape_maps.py", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("--restarts", type=int, default=256)
    p.add_argument("--gamma", type=float, default=0.1)
    p.add_argument("--out", default="experiments/out/landscape_maps")
    args = p.parse_args(argv)
    if args.restarts < 2 or not args.gamma > 0:
        p.error("--restarts must be >= 2 and --gamma > 0")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import landscape as L
    from landscape.common.provenance import save_json

    t0 = time.perf_counter()
    maps, rows = {}, []
    for gamma in (args.gamma, None):
        for alpha in ALPHAS:
            ds = L.prop1_dataset(alpha)
            lmap = L.landscape_map(ds.X, alpha, kappa=1, gamma=gamma, restarts=args.restarts, progress=False)
            maps[(alpha, gamma)] = lmap
            rows.append(row(lmap))
            r = rows[-1]
            g = "learned" if gamma is None else f"{gamma:g}"
            fmt = (lambda x: "—" if x is None else f"{x:.4g}")  # noqa: E731
            print(f"alpha {alpha:<5g} gamma {g:<8} minima {r['minima']}  TS {r['transition_states']}  "
                  f"collapsed fraction {r['collapsed_fraction']:.3f}  depth {fmt(r['depth'])}  "
                  f"exit barrier {fmt(r['exit_barrier'])}  verified {r['verified']}  ({lmap.seconds:.0f} s)",
                  flush=True)  # fmt: skip
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig, axes = plt.subplots(2, len(ALPHAS), figsize=(4.2 * len(ALPHAS), 8.4), constrained_layout=True)
    for j, alpha in enumerate(ALPHAS):
        for i, gamma in enumerate((args.gamma, None)):
            L.plot_disconnectivity(maps[(alpha, gamma)], axes[i, j])
    fig.savefig(out.with_suffix(".png"), dpi=100)
    payload = {"config": {"alphas": ALPHAS, "gamma": args.gamma, "restarts": args.restarts, "seed": 0,
                          "data": "landscape.prop1_dataset(alpha), n = 20, d = 3, kappa = 1, seed 0",
                          "command": ["python", *sys.argv]},
               "table": rows, "maps": [m.to_dict(arrays=False) for m in maps.values()],
               "seconds": time.perf_counter() - t0}  # fmt: skip
    save_json(out.with_suffix(".json"), payload)
    print(f"wrote {out.with_suffix('.json')} and {out.with_suffix('.png')} ({time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
