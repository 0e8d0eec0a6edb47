"""Curvature at scale: exact Schur (Haynsworth) inertia and Lanczos against dense ``eigh``, in one run.

Baseline: the dense route every Hessian tool falls back on, the full Hessian
(`landscape.hessian`, autodiff) and LAPACK ``eigh`` (numpy). Measured, at stationary
points of eq. (5) with d = 20, κ = 5 (P = 121 + 10 n):

1. Schur inertia against dense inertia where both run: wall time, ratio, and whether
   the counts agree exactly (same tolerance).
2. Lanczos (k = 3 at each end, full reorthogonalisation) against dense: the largest
   error of the extreme eigenvalues relative to max|λ|, and time.
3. The P ≥ 10⁶ case (n = 100,000): Schur inertia at the pPCA optimum (α = 0), and at
   the collapsed point for α = 0 (a saddle with κ·#{λ_l > γ̄} negative eigenvalues) and
   α = 0.1 (dκ exact zeros), checked against those analytic counts.
4. The largest P each method handles in ``--budget`` seconds (60 by default), by
   doubling n until a run exceeds the budget.

Points: the pPCA optimum `landscape.affine_optimum` (a strict minimum, closed form,
any size) and the collapsed point (MATH.md §3–4).

    python benchmarks/curvature.py [--budget 60] [--quick] [--json out.json]
"""

from __future__ import annotations

import argparse
import time

from landscape.cli.args import ArgumentParser, check_output_path, positive_float


def parse_args(argv=None):
    ap = ArgumentParser(prog="curvature.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--budget", type=positive_float, default=60.0, help="seconds per run for part 4 (default 60)")
    ap.add_argument("--quick", action="store_true", help="small sizes only (a smoke run; skips parts 3 and 4)")
    ap.add_argument("--json", default=None, help="save the tables as JSON")
    args = ap.parse_args(argv)
    check_output_path(ap, "--json", args.json)
    return args


if __name__ == "__main__":  # the arguments are checked before JAX is imported: a bad one costs ~0.1 s
    parse_args()

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import landscape  # noqa: E402
from landscape.common.provenance import save_json, versions  # noqa: E402
from landscape.core.energy import energy_objective  # noqa: E402

D, KAPPA = 20, 5


def data(n, seed=0):
    rng = np.random.default_rng(seed)
    scales = np.linspace(2.0, 0.3, D)  # distinct eigenvalues, so the pPCA optimum is isolated
    return rng.normal(size=(n, D)) * scales + rng.normal(size=D)


def point(kind, X):
    if kind == "ppca":
        return landscape.affine_optimum(X, KAPPA), 0.0
    return landscape.collapsed_point(X, KAPPA), {"collapsed a=0": 0.0, "collapsed a=0.1": 0.1}[kind]


def si_P(p):
    return sum(int(np.size(a)) for a in p)


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    jax.block_until_ready(out)
    return out, time.perf_counter() - t0


def dense(p, X, alpha):
    def run():
        H = landscape.hessian(p, X, alpha)
        return landscape.inertia(H)

    return timed(run)


def compare(ns, rows):
    print("\n1-2. Schur and Lanczos against dense eigh (same tolerance), d = 20, kappa = 5")
    head = (
        f"{'point':<17}{'n':>6}{'P':>8}{'dense s':>9}{'schur s':>9}{'speed-up':>9}{'counts':>8}"
        f"{'inertia':>20}{'lanczos s':>10}{'max rel err':>12}"
    )
    print(head)
    print("-" * len(head))
    for kind in ("ppca", "collapsed a=0", "collapsed a=0.1"):
        for n in ns:
            X = jnp.asarray(data(n))
            p, alpha = point(kind, X)
            landscape.schur_inertia(p, X, alpha)  # compile
            landscape.lanczos(energy_objective, p, (X, alpha, None), k=3, num_steps=min(si_P(p), 200))
            sd, t_dense = dense(p, X, alpha)
            sd, t_dense = dense(p, X, alpha)  # second call: without compilation
            si, t_schur = timed(lambda p=p, X=X, alpha=alpha, sd=sd: landscape.schur_inertia(p, X, alpha, tol=sd.tol))
            lz, t_lz = timed(
                lambda p=p, X=X, alpha=alpha: landscape.lanczos(
                    energy_objective, p, (X, alpha, None), k=3, num_steps=min(si_P(p), 200)
                )
            )
            scale = np.abs(sd.eigenvalues).max()
            err = max(
                np.max(np.abs(lz.lowest.eigenvalues - sd.eigenvalues[:3])),
                np.max(np.abs(lz.highest.eigenvalues - sd.eigenvalues[::-1][:3])),
            )
            agree = si.inertia == sd.inertia
            conv = "yes" if lz.converged else "no"
            print(
                f"{kind:<17}{n:>6}{si.size:>8}{t_dense:>9.2f}{t_schur:>9.2f}{t_dense / t_schur:>8.1f}x"
                f"{'equal' if agree else 'DIFFER':>8}{str(si.inertia):>20}{t_lz:>10.2f}{err / scale:>12.1e}{conv:>6}"
            )
            rows.append(
                dict(
                    point=kind,
                    n=n,
                    P=si.size,
                    dense_seconds=t_dense,
                    schur_seconds=t_schur,
                    speedup=t_dense / t_schur,
                    counts_equal=agree,
                    inertia=si.inertia,
                    dense_inertia=sd.inertia,
                    lanczos_seconds=t_lz,
                    lanczos_max_rel_err=float(err / scale),
                    lanczos_converged=lz.converged,
                )
            )


def million(n, rows):
    print(f"\n3. Exact inertia at P = {121 + 10 * n:,} (n = {n:,}, d = 20, kappa = 5), Schur route only")
    X = jnp.asarray(data(n))
    head = f"{'point':<17}{'P':>11}{'seconds':>9}{'inertia':>26}{'expected':>26}{'S min eig':>12}{'grad':>9}"
    print(head)
    print("-" * len(head))
    for kind in ("ppca", "collapsed a=0", "collapsed a=0.1"):
        p, alpha = point(kind, X)
        g = landscape.grad_norm(p, X, alpha)
        si = landscape.schur_inertia(p, X, alpha)
        P = si.size
        if kind == "ppca":
            expected = (0, 0, P)
        elif alpha == 0:
            k = landscape.n_negative_affine(np.asarray(X), KAPPA)
            expected = (k, 0, P - k)
        else:
            expected = (0, D * KAPPA, P - D * KAPPA)
        ok = "" if si.inertia == expected else "  MISMATCH"
        print(
            f"{kind:<17}{P:>11,}{si.seconds:>9.1f}{str(si.inertia):>26}{str(expected):>26}"
            f"{si.schur_min_eigenvalue:>12.4g}{g:>9.1e}{ok}"
        )
        rows.append(
            dict(
                point=kind,
                n=n,
                P=P,
                seconds=si.seconds,
                inertia=si.inertia,
                expected=expected,
                schur_min_eigenvalue=si.schur_min_eigenvalue,
                grad_norm=g,
                tol=si.tol,
            )
        )
    p, alpha = point("collapsed a=0", X)
    lz, t = timed(lambda: landscape.lanczos(energy_objective, p, (X, alpha, None), k=3, num_steps=60))
    exact = landscape.collapsed_spectrum(np.asarray(X), KAPPA, 0.0)
    print(
        f"   Lanczos (60 steps, k = 3) at the alpha = 0 collapsed point, P = {lz.size:,}: {t:.1f} s; "
        f"lowest {lz.lowest.eigenvalues[0]:.6g} (residual {lz.lowest.residuals[0]:.1e}), "
        f"highest {lz.highest.eigenvalues[0]:.6g} (residual {lz.highest.residuals[0]:.1e}); "
        f"analytic (MATH.md §4): {exact[0]:.6g} and {exact[-1]:.6g}"
    )
    rows.append(
        dict(
            point="lanczos collapsed a=0",
            n=n,
            P=lz.size,
            seconds=t,
            lowest=lz.lowest.to_dict(),
            highest=lz.highest.to_dict(),
            exact=[float(exact[0]), float(exact[-1])],
        )
    )


def largest(budget, n0_dense, n0_schur, n0_lanczos, rows):
    print(f"\n4. Largest P handled within {budget:g} s (pPCA optimum, doubling n until a run exceeds the budget)")

    def run_dense(n):
        X = jnp.asarray(data(n))
        p, a = point("ppca", X)
        return dense(p, X, a)[1]

    def run_schur(n):
        X = jnp.asarray(data(n))
        p, a = point("ppca", X)
        return landscape.schur_inertia(p, X, a).seconds

    def run_lanczos(n):
        X = jnp.asarray(data(n))
        p, a = point("ppca", X)
        return timed(lambda: landscape.lanczos(energy_objective, p, (X, a, None), k=3, num_steps=60))[1]

    for name, fn, n in (
        ("dense eigh", run_dense, n0_dense),
        ("schur", run_schur, n0_schur),
        ("lanczos 60 steps", run_lanczos, n0_lanczos),
    ):
        best = None
        while True:
            t = fn(n)
            P = 121 + 10 * n
            print(f"   {name:<17} P = {P:>11,}: {t:7.1f} s")
            if t > budget:
                break
            best = (P, t)
            n *= 2
        print(f"   -> {name}: largest P within {budget:g} s: {best[0]:,} ({best[1]:.1f} s)" if best else "   -> none")
        rows.append(
            dict(
                method=name,
                largest_P=None if best is None else best[0],
                seconds=None if best is None else best[1],
                budget=budget,
            )
        )


def main(argv=None):
    args = parse_args(argv)
    print(f"backend: {jax.default_backend()}, devices: {jax.devices()}, float64: {jax.config.jax_enable_x64}")
    out = {"compare": [], "million": [], "largest": []}
    compare([20, 60] if args.quick else [50, 200, 400], out["compare"])
    if not args.quick:
        million(100_000, out["million"])
        largest(args.budget, 200, 100_000, 100_000, out["largest"])
    if args.json:
        save_json(args.json, {"config": vars(args), "results": out, "versions": versions()})
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
