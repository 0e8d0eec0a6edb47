"""Active latent dimensions over the (α, γ) plane: Proposition 2's phase diagram.

For each α on a grid, `landscape.sweep_gamma` holds γ fixed on a log grid and minimises
eq. (5) from fresh restarts; the active-dimension count of the best minimum is drawn as
a heatmap, with the affine thresholds γ″_j = λ_j(S) overlaid at α = 0 (MATH.md §6).

Data: a Proposition 1 data set (n = 20, d = 4, κ = 2, α_data = 0.5) plus N(0, 0.05²) noise.
With ``--digits`` it also runs on scikit-learn's 8×8 digits (shipped with scikit-learn,
nothing is downloaded; install scikit-learn to use it), projected on its top 10 principal
components.

    python experiments/phase_diagram.py [--restarts 4] [--out experiments/out]

Saves phase_diagram.json (configuration, seed, versions, the grids) and phase_diagram.png.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

import landscape
from landscape.cli.args import ArgumentParser, check_output_folder, int_at_least, nonnegative_float, seed
from landscape.common.provenance import save_json


def prop1_data(seed: int) -> np.ndarray:
    ds = landscape.prop1_dataset(0.5, n=20, d=4, kappa=2, seed=seed)
    return ds.X + 0.05 * np.random.default_rng(np.random.SeedSequence([seed, 5])).normal(size=ds.X.shape)


def digits_data() -> np.ndarray | None:
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        print("scikit-learn is not installed: skipping the digits panel (pip install scikit-learn).", file=sys.stderr)
        return None
    X = load_digits().data[:300] / 16.0
    Y = X - X.mean(0)
    U, S, Vt = np.linalg.svd(Y, full_matrices=False)
    return Y @ Vt[:10].T


def phase(X, kappa, alphas, gammas, restarts, seed, label):
    grid = np.zeros((len(alphas), len(gammas)), dtype=int)
    t0 = time.perf_counter()
    for i, a in enumerate(alphas):
        s = landscape.sweep_gamma(
            X, a, kappa=kappa, gammas=gammas, restarts=restarts, seed=seed, steps=1500, continuation_steps=200
        )
        grid[i] = s.best_active
        dt = time.perf_counter() - t0
        print(f"{label}: α = {a:.2f} done ({dt:.0f} s): active {s.best_active.tolist()}", file=sys.stderr)
    return grid


def build_parser():
    ap = ArgumentParser(
        prog="phase_diagram.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--alphas", type=nonnegative_float, nargs="+", default=list(np.linspace(0.0, 1.0, 6)))
    ap.add_argument("--num-gammas", type=int_at_least(2), default=16)
    ap.add_argument("--restarts", type=int_at_least(1), default=4)
    ap.add_argument("--seed", type=seed, default=0)
    ap.add_argument("--digits", action="store_true", help="also run on scikit-learn's digits (κ = 3)")
    ap.add_argument("--out", default="experiments/out", help="output folder (created if missing)")
    return ap


def main(argv=None) -> int:
    ap = build_parser()
    args = ap.parse_args(argv)
    if len(set(args.alphas)) != len(args.alphas):
        ap.error(f"--alphas must be distinct (the rows of the heatmap), got {args.alphas}")
    out = check_output_folder(ap, "--out", args.out, files=["phase_diagram.json"], figures=["phase_diagram.png"])
    panels = [("Proposition 1 data + noise", prop1_data(args.seed), 2)]
    if args.digits:
        Xd = digits_data()
        if Xd is not None:
            panels.append(("digits (top 10 PCs)", Xd, 3))
    results = []
    for label, X, kappa in panels:
        lam = np.sort(np.linalg.eigvalsh(landscape.data_covariance(X)))[::-1]
        gammas = np.geomspace(lam[-1] / 4, 3 * lam[0], args.num_gammas)
        grid = phase(X, kappa, args.alphas, gammas, args.restarts, args.seed, label)
        results.append({"label": label, "kappa": kappa, "gammas": gammas, "eigenvalues": lam, "active": grid})
    save_json(
        out / "phase_diagram.json",
        {"config": vars(args), "seed": args.seed, "alphas": args.alphas, "panels": results},
    )
    _plot(results, args.alphas, out / "phase_diagram.png")
    print(f"wrote {out / 'phase_diagram.json'} and {out / 'phase_diagram.png'}")
    return 0


def _plot(results, alphas, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(results), figsize=(6.5 * len(results), 4.5), squeeze=False, constrained_layout=True)
    for ax, r in zip(axes[0], results, strict=True):
        g = r["gammas"]
        im = ax.pcolormesh(g, alphas, r["active"], shading="nearest", cmap="viridis", vmin=0, vmax=r["kappa"])
        ax.set_xscale("log")
        for j, lam in enumerate(r["eigenvalues"][: r["kappa"]]):
            ax.plot([lam], [alphas[0]], "rv", ms=9, label="λ_j(S): affine thresholds" if j == 0 else None)
        ax.set_xlabel("γ (held fixed)")
        ax.set_ylabel("soft threshold α")
        ax.set_title(f"{r['label']}: active dimensions of the best minimum", fontsize=10)
        ax.legend(fontsize=8, loc="upper left")
        fig.colorbar(im, ax=ax, label="active latent dimensions")
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    raise SystemExit(main())
