"""Collapsed latent dimensions of the linear CVAE against the x–y correlation ρ (Dang et al. 2024, Theorem 2).

Theorem 2 says that dimension i of the linear CVAE collapses iff θ_i < βη_dec², θ_i the eigenvalues of
the residual second moment E = E[yyᵀ] − E[yxᵀ] E[xxᵀ]⁻¹ E[xyᵀ] of y after linear regression on x: the
more x predicts y, the smaller θ and the more collapse. Their setting: y ~ N(0, I_d), x = ρy + √(1 − ρ²) ε,
ε ~ N(0, I_d), so E ≈ (1 − ρ²) I. One draw of (y, ε) (seed) is reused for every ρ, so the curve moves
only with ρ.

For each ρ on the grid: θ from the data, the predicted number of collapsed dimensions #{i: θ_i < βη_dec²},
and the number found by `landscape.multistart` on `landscape.linear_conditional.cvae_objective` (Adam, then
dense saddle-free Newton to ‖∇L‖ ≤ 1e-12 · max(1, |L|)): a latent dimension of the lowest converged
endpoint counts as collapsed when its KL(q(z_j|x, y) ‖ p(z_j)), averaged over the data, is below 1e-8 nats
(an active dimension has KL = ½ log(θ_i/(βη_dec²)) at the optimum, so this resolves θ_i ≥ βη_dec²(1 + 2e-8)).
The margin min_i |θ_i/(βη_dec²) − 1| is printed beside each row.

    python experiments/cvae_correlation.py [--n 100] [--d 5] [--beta 2] [--eta-dec 0.5] [--out experiments/out]

Saves cvae_correlation.json (configuration, seed, versions, every row) and cvae_correlation.png (collapsed
dimensions against ρ, found against predicted; θ_i against ρ with the threshold). Exit code 0 when every ρ
agrees with the prediction, 1 otherwise.
"""

from __future__ import annotations

import argparse
import math
import sys
import time

import numpy as np

import landscape  # noqa: F401  (float64 when JAX loads; the import itself is light)
from landscape.cli.args import ArgumentParser, check_output_folder, float_in, int_at_least, positive_float, seed
from landscape.common.provenance import save_json

KL_TOL = 1e-8


def correlated_data(rho: float, y: np.ndarray, eps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """x = ρy + √(1 − ρ²) ε for the fixed draws y, ε (their setting); returns (X, Y)."""
    return rho * y + math.sqrt(1.0 - rho**2) * eps, y


def build_parser():
    ap = ArgumentParser(
        prog="cvae_correlation.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--rhos",
        type=float_in(0.0, 1.0, hi_open=True),
        nargs="+",
        default=None,
        help="correlations in [0, 1) (default: 34 points)",
    )
    ap.add_argument("--n", type=int_at_least(2), default=100, help="data points, >= d (their matrix check: 100)")
    ap.add_argument("--d", type=int_at_least(1), default=5, help="d_x = d_y = d_z (their matrix check: 5)")
    ap.add_argument("--beta", type=positive_float, default=2.0, help="KL weight β (their matrix check: 2)")
    ap.add_argument("--eta-enc", type=positive_float, default=1.0)
    ap.add_argument(
        "--eta-dec", type=positive_float, default=0.5, help="βη_dec² = 0.5 puts the threshold inside θ's range"
    )
    ap.add_argument("--restarts", type=int_at_least(1), default=8)
    ap.add_argument("--steps", type=int_at_least(0), default=2000)
    ap.add_argument("--seed", type=seed, default=0)
    ap.add_argument("--out", default="experiments/out", metavar="DIR", help="output folder (created if missing)")
    return ap


def main(argv=None) -> int:
    ap = build_parser()
    args = ap.parse_args(argv)
    rhos = np.round(np.linspace(0.0, 0.99, 34), 4) if args.rhos is None else np.asarray(args.rhos, dtype=float)
    if args.n < args.d:
        ap.error(f"--n must be >= --d = {args.d} (E[xxᵀ] must be invertible), got {args.n}")
    out = check_output_folder(ap, "--out", args.out, files=["cvae_correlation.json"], figures=["cvae_correlation.png"])

    from landscape.models import linear_conditional as LC
    from landscape.tools.multistart import multistart

    t0 = time.perf_counter()
    rng = np.random.default_rng(np.random.SeedSequence([args.seed, 2024]))
    y, eps = rng.normal(size=(args.n, args.d)), rng.normal(size=(args.n, args.d))
    tau = args.beta * args.eta_dec**2
    init = LC.cvae_init(args.d, args.d, args.d, eta_enc=args.eta_enc)  # one object: one compilation
    rows = []
    for k, rho in enumerate(rhos):
        stats = LC.cvae_statistics(*correlated_data(float(rho), y, eps))
        opt = LC.cvae_optimum(stats, args.d, args.beta, eta_enc=args.eta_enc, eta_dec=args.eta_dec)
        res = multistart(
            LC.cvae_objective,
            init,
            restarts=args.restarts,
            seed=args.seed,
            args=stats.args(args.beta, args.eta_enc, args.eta_dec),
            steps=args.steps,
            learning_rate=1e-2,
            polish="newton",
            gtol=1e-12,
        )
        ok = np.flatnonzero(res.converged)
        b = int(ok[np.argmin(res.values[ok])]) if ok.size else res.best
        sp = LC.cvae_spectra(res.point(b), stats, eta_enc=args.eta_enc)
        found = int(np.sum(sp.kl < KL_TOL))
        at_optimum = np.abs(res.values - opt.loss) <= 1e-9 * max(1.0, abs(opt.loss))
        row = {
            "rho": float(rho),
            "theta": stats.theta,
            "predicted_collapsed": opt.n_collapsed,
            "found_collapsed": found,
            "margin": float(np.min(np.abs(stats.theta / tau - 1.0))),
            "loss_closed_form": opt.loss,
            "loss_found": float(res.values[b]),
            "grad_norm": float(res.grad_norms[b]),
            "status": res.status[b],
            "max_abs_error_lambda": float(np.max(np.abs(sp.lambdas - opt.lambdas))),
            "max_abs_error_sigma": float(np.max(np.abs(sp.sigmas - opt.sigmas))),
            "kl_found": sp.kl,
            "kl_closed_form": opt.kl,
            "restarts_at_optimum": int(np.sum(at_optimum)),
            "restarts_converged": int(ok.size),
            "seconds": res.seconds,
        }
        rows.append(row)
        print(
            f"[{k + 1}/{rhos.size}] ρ = {rho:.3f}: collapsed {found} (predicted {opt.n_collapsed}), "
            f"|Δλ| {row['max_abs_error_lambda']:.1e}, {row['restarts_at_optimum']}/{args.restarts} restarts at L*  "
            f"({time.perf_counter() - t0:.0f} s)",
            file=sys.stderr,
        )

    # The prediction on a fine grid (θ only, no optimisation) for the plot's step curve.
    fine = np.linspace(0.0, float(max(rhos.max(), 0.99)), 400)
    fine_theta = np.array([LC.cvae_statistics(*correlated_data(r, y, eps)).theta for r in fine])
    fine_pred = np.sum(fine_theta < tau, axis=1)

    agree = all(r["found_collapsed"] == r["predicted_collapsed"] for r in rows)
    print(f"\nCollapsed dimensions of the linear CVAE against ρ (n = {args.n}, d = {args.d}, β = {args.beta:g},")
    print(
        f"η_enc = {args.eta_enc:g}, η_dec = {args.eta_dec:g}; threshold βη_dec² = {tau:g}; collapsed: KL < {KL_TOL:g}):"
    )
    print(f"{'rho':>6} {'theta_1 … theta_d':<44} {'pred':>4} {'found':>5} {'margin':>7} {'|L - L*|':>9} {'at L*':>6}")
    for r in rows:
        th = " ".join(f"{t:7.4f}" for t in r["theta"])
        dl = abs(r["loss_found"] - r["loss_closed_form"])
        print(
            f"{r['rho']:6.3f} {th:<44} {r['predicted_collapsed']:>4} {r['found_collapsed']:>5} "
            f"{r['margin']:7.3f} {dl:9.1e} {r['restarts_at_optimum']:>3}/{args.restarts}"
        )
    total = time.perf_counter() - t0
    worst_l = max(r["max_abs_error_lambda"] for r in rows)
    worst_s = max(r["max_abs_error_sigma"] for r in rows)
    print(f"\nfound = predicted at every ρ: {'yes' if agree else 'NO'}; max |Δλ| {worst_l:.1e}, max |Δσ| {worst_s:.1e}")
    print(f"total time {total:.1f} s")

    config = vars(args) | {
        "rhos": rhos.tolist(),
        "threshold": tau,
        "kl_tol": KL_TOL,
        "learning_rate": 1e-2,
        "polish": "newton",
        "gtol": 1e-12,
        "data": "y ~ N(0, I_d), x = rho y + sqrt(1 - rho^2) eps, one draw of (y, eps) for every rho",
    }
    payload = {
        "config": config,
        "seed": args.seed,
        "rows": rows,
        "fine_grid": {"rho": fine, "theta": fine_theta, "predicted_collapsed": fine_pred},
        "agree": agree,
        "max_abs_error_lambda": worst_l,
        "max_abs_error_sigma": worst_s,
        "seconds": total,
    }
    save_json(out / "cvae_correlation.json", payload)
    _plot(rows, fine, fine_theta, fine_pred, tau, args, out / "cvae_correlation.png")
    print(f"wrote {out / 'cvae_correlation.json'} and {out / 'cvae_correlation.png'}")
    return 0 if agree else 1


def _plot(rows, fine, fine_theta, fine_pred, tau, args, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rho = np.array([r["rho"] for r in rows])
    found = np.array([r["found_collapsed"] for r in rows])
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4.2), constrained_layout=True)
    ax.plot(fine, fine_pred, "-", color="0.3", lw=1.5, label=r"Theorem 2: #$\{i: \theta_i < \beta\eta_{dec}^2\}$")
    ax.plot(rho, found, "o", color="C3", ms=6, mfc="none", mew=1.5, label="multistart optimum: KL < 1e-8")
    ax.set_xlabel(r"correlation $\rho$ ($x = \rho y + \sqrt{1-\rho^2}\,\varepsilon$)")
    ax.set_ylabel("collapsed latent dimensions")
    ax.set_yticks(range(args.d + 1))
    ax.set_ylim(-0.3, args.d + 0.3)
    ax.set_title(
        f"Linear CVAE: n = {args.n}, d = {args.d}, β = {args.beta:g}, η_dec = {args.eta_dec:g}, "
        f"{args.restarts} restarts",
        fontsize=10,
    )
    ax.legend(loc="upper left", fontsize=9)
    for i in range(fine_theta.shape[1]):
        bx.plot(fine, fine_theta[:, i], lw=1.2, label=rf"$\theta_{i + 1}$")
    bx.plot(fine, 1.0 - fine**2, "k:", lw=1, label=r"$1 - \rho^2$ (population)")
    bx.axhline(tau, color="C3", lw=1.2, ls="--", label=rf"$\beta\eta_{{dec}}^2 = {tau:g}$")
    bx.set_xlabel(r"correlation $\rho$")
    bx.set_ylabel(r"eigenvalues $\theta_i$ of $E$")
    bx.set_title("θ_i below the threshold collapse", fontsize=10)
    bx.legend(fontsize=8, ncol=2)
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    raise SystemExit(main())
