"""Our Lanczos and stochastic Lanczos quadrature against matfree's, in one run.

Decision: we keep ours; matfree is not a dependency. It is not as exact (it has no
breakdown handling) and not faster. Measured with matfree 0.6.3, jax 0.10.2, CPU
(2 shared cores), full run 91 s (``--quick`` 50 s):

- Extremes (part 1): both exact to rounding at every point, 3 lowest and 3 highest with
  multiplicity against dense ``eigh``: largest error / max|λ| ≤ 9.1e-16 (ours) and
  ≤ 1.6e-15 (matfree), P = 321 and 1121, m = 200. Time matfree ÷ ours: 0.82–1.65x at
  P = 321 (20 ms runs, load noise), 0.96–1.01x at P = 1121, 1.17x at P = 20,121 (ours
  0.61 s with Ritz vectors and explicit residuals, matfree 0.72 s for T alone; our bare
  recurrence 0.56 s, so matfree ÷ recurrence 1.29x).
- Breakdown (part 2): from a random start both find the multiplicities (three distinct
  eigenvalues, rank 3, the collapsed point with dκ = 100 zeros), matfree only because
  rounding noise, normalised, acts as a restart. From a start whose Krylov space is
  exactly invariant after 3 steps (diag(1, 2, 3) × 10 from the ones vector: β₃ = 1e-30,
  what rounding leaves) matfree divides by that β, its basis loses orthogonality
  (‖QQᵀ − I‖ = 1.0) and its extremes are ±937 for a matrix with spectrum {1, 2, 3}
  (error 3.1e2 · max|λ|); ours detects the breakdown (β ≤ 1e-10 ‖T‖), restarts from a
  fresh orthogonal random vector and is exact (1.5e-16).
- SLQ (part 3, the same 16 probes, 40 steps): the same estimates of tr H, tr H² and
  #{λ < 0} to rounding (differences ≤ 1e-14 relative), within the probes' own standard
  error of the dense values. Time: matfree 0.92–0.99x ours per quantity, but one
  `spectral_density` run gives the nodes and weights for every function, where matfree
  runs its Lanczos once per function of H.

Compared, on the same operator (`landscape.tools.operator.hessian_operator`, built inside
each jitted program), the same starting vector and the same number of steps m:

- ours: `landscape.lanczos` (full reorthogonalisation, classical Gram–Schmidt twice, and
  a restart from a fresh random vector orthogonal to the basis when β_j ≤ 1e-10 · ‖T‖;
  returns Rayleigh quotients of the Ritz vectors, explicit residuals), and the bare
  recurrence `landscape.tools.lanczos.lanczos_basis` (the part matfree also does);
- matfree: ``matfree.decomp.tridiag_sym(m, reortho="full")`` (Arnoldi with classical
  Gram–Schmidt twice, as ours; no breakdown test: a β at rounding level is divided by,
  whatever it is), its Ritz values from ``eigh`` of T; for SLQ
  ``matfree.stochtrace.estimator_monte_carlo`` with ``matfree.funm.monte_carlo_funm_sym``
  on the same Rademacher probes as ours.

1. The eq. (5) points of `benchmarks/curvature.py` (d = 20, κ = 5, P = 121 + 10 n: the pPCA
   optimum, the collapsed point at α = 0 and α = 0.1): the largest error of the 3 lowest
   and 3 highest eigenvalues (with multiplicity) against dense ``eigh``, relative to
   max|λ|, and the wall time of each (compiled; best of 5 interleaved rounds), with ratios
   matfree ÷ ours; then the time alone at P = 20,121 (n = 2000, 100 steps).
2. Breakdown: operators whose Krylov space is small (a matrix with three distinct
   eigenvalues started from a vector the structure keeps exact, a random matrix of rank 3,
   and the collapsed point, whose Krylov space has a handful of dimensions): the extremes
   found, whether NaN appear, and the error.
3. SLQ: tr H, tr H² and #{λ < −1e-6 max|λ|} from the same probes, against dense, and time.

    python benchmarks/lanczos_matfree.py [--quick] [--json out.json]

Needs matfree (``pip install matfree==0.6.3``, the version measured); skipped with a
message otherwise.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from functools import partial

from landscape.cli.args import ArgumentParser, check_output_path


def parse_args(argv=None):
    ap = ArgumentParser(
        prog="lanczos_matfree.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--quick", action="store_true", help="the smallest size only")
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
from landscape.tools.lanczos import lanczos_basis  # noqa: E402
from landscape.tools.operator import dense_operator, hessian_operator  # noqa: E402

D, KAPPA = 20, 5
K = 3


def data(n, seed=0):
    rng = np.random.default_rng(seed)
    scales = np.linspace(2.0, 0.3, D)  # as benchmarks/curvature.py
    return rng.normal(size=(n, D)) * scales + rng.normal(size=D)


def point(kind, X):
    if kind == "ppca":
        return landscape.affine_optimum(X, KAPPA), 0.0
    return landscape.collapsed_point(X, KAPPA), {"collapsed a=0": 0.0, "collapsed a=0.1": 0.1}[kind]


def race(fns, repeat=5):
    """Best wall time of each function over ``repeat`` interleaved rounds, after one call to compile.

    Interleaving shares any load from other processes between the contenders."""
    outs = [jax.block_until_ready(fn()) for fn in fns]
    best = [np.inf] * len(fns)
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            t0 = time.perf_counter()
            jax.block_until_ready(fn())
            best[i] = min(best[i], time.perf_counter() - t0)
    return outs, best


# ------------------------------------------------------------------------ matfree


@partial(jax.jit, static_argnames=("build", "num_steps"))
def matfree_ritz(build, data, v0, num_steps):
    from matfree import decomp

    lin = build(data)
    tridiag = decomp.tridiag_sym(num_steps, reortho="full", materialize=True, custom_vjp=False)
    _, T, *_ = tridiag(lin, v0)
    return jnp.linalg.eigvalsh(T)


@partial(jax.jit, static_argnames=("build", "num_steps"))
def ours_ritz(build, data, v0, key, num_steps):
    """Our recurrence alone (no Ritz vectors or residuals): like for like with matfree_ritz."""
    _, diag, off = lanczos_basis(build(data), v0, num_steps, key, 1e-10)
    T = jnp.diag(diag) + jnp.diag(off[:-1], 1) + jnp.diag(off[:-1], -1)
    return jnp.linalg.eigvalsh(T)


@partial(jax.jit, static_argnames=("build", "num_steps", "which"))
def matfree_trace(build, data, signs, num_steps, which):
    from matfree import decomp, funm, stochtrace

    lin = build(data)
    g = {"tr": lambda x: x, "tr2": lambda x: x * x, "neg": lambda x: (x < which[1]).astype(x.dtype)}[which[0]]
    integrand = funm.monte_carlo_funm_sym(
        funm.dense_funm_sym_eigh(g), decomp.tridiag_sym(num_steps, reortho="full", custom_vjp=False)
    )
    estimate = stochtrace.estimator_monte_carlo(integrand, lambda key: signs)
    return estimate(lin, jax.random.PRNGKey(0))


def ends(values):
    values = np.sort(np.asarray(values))
    return values[:K], values[::-1][:K]


def err(lo, hi, exact):
    return float(max(np.max(np.abs(lo - exact[:K])), np.max(np.abs(hi - exact[::-1][:K]))))


def extremes(op, steps, seed=0, repeat=5):
    key = jax.random.PRNGKey(seed)
    v0 = jax.random.normal(jax.random.fold_in(key, 10**6), (op.size,), dtype=op.dtype)  # as lanczos draws it
    (r, basis, mf), (t_ours, t_basis, t_mf) = race(
        [
            lambda: landscape.lanczos(op, k=K, num_steps=steps, seed=seed),
            lambda: ours_ritz(op.build, op.data, v0, key, steps),
            lambda: matfree_ritz(op.build, op.data, v0, steps),
        ],
        repeat,
    )
    return dict(
        ours=(r.lowest.eigenvalues, r.highest.eigenvalues),
        basis=ends(basis),
        matfree=ends(mf),
        matfree_nan=bool(np.any(~np.isfinite(np.asarray(mf)))),
        t_ours=t_ours,
        t_basis=t_basis,
        t_matfree=t_mf,
    )


def part1(ns, rows):
    print(f"\n1. Extreme eigenvalues (k = {K} per end, with multiplicity) against dense eigh, d = 20, kappa = 5")
    head = (
        f"{'point':<17}{'P':>6}{'m':>5} | {'err ours':>9}{'err mf':>9} | {'ours s':>8}{'basis s':>8}"
        f"{'mf s':>8}{'mf/ours':>8}{'mf/basis':>9}"
    )
    print(head + "\n" + "-" * len(head))
    for n in ns:
        X = jnp.asarray(data(n))
        for kind in ("ppca", "collapsed a=0", "collapsed a=0.1"):
            p, alpha = point(kind, X)
            exact = np.linalg.eigvalsh(np.asarray(landscape.hessian(p, X, alpha)))
            scale = np.abs(exact).max()
            op = hessian_operator(energy_objective, p, (X, alpha, None))
            m = min(op.size, 200)
            e = extremes(op, m)
            eo, em = err(*e["ours"], exact) / scale, err(*e["matfree"], exact) / scale
            print(
                f"{kind:<17}{op.size:>6}{m:>5} | {eo:>9.1e}{em:>9.1e} | {e['t_ours']:>8.3f}{e['t_basis']:>8.3f}"
                f"{e['t_matfree']:>8.3f}{e['t_matfree'] / e['t_ours']:>7.2f}x{e['t_matfree'] / e['t_basis']:>8.2f}x"
            )
            rows.append(
                dict(
                    point=kind,
                    n=n,
                    P=op.size,
                    num_steps=m,
                    err_ours=eo,
                    err_matfree=em,
                    err_ours_recurrence=err(*e["basis"], exact) / scale,
                    matfree_nan=e["matfree_nan"],
                    seconds_ours=e["t_ours"],
                    seconds_ours_recurrence=e["t_basis"],
                    seconds_matfree=e["t_matfree"],
                    lowest_exact=exact[:K].tolist(),
                    lowest_ours=e["ours"][0].tolist(),
                    lowest_matfree=e["matfree"][0].tolist(),
                )  # fmt: skip
            )


def part1_scale(n, steps, rows):
    X = jnp.asarray(data(n))
    p, alpha = point("collapsed a=0", X)
    op = hessian_operator(energy_objective, p, (X, alpha, None))
    e = extremes(op, steps, repeat=3)
    diff = err(*e["matfree"], np.concatenate([e["ours"][0], e["ours"][1][::-1]])) / abs(e["ours"][1][0])
    print(
        f"{'collapsed a=0':<17}{op.size:>6}{steps:>5} | {'(no dense) |ours - mf| ' + f'{diff:.0e}':>18} |"
        f" {e['t_ours']:>7.3f}{e['t_basis']:>8.3f}{e['t_matfree']:>8.3f}{e['t_matfree'] / e['t_ours']:>7.2f}x"
        f"{e['t_matfree'] / e['t_basis']:>8.2f}x"
    )
    rows.append(
        dict(point="collapsed a=0", n=n, P=op.size, num_steps=steps, ours_minus_matfree=diff,
             seconds_ours=e["t_ours"], seconds_ours_recurrence=e["t_basis"], seconds_matfree=e["t_matfree"])
    )  # fmt: skip


def part2(rows):
    print(f"\n2. Breakdown: small Krylov spaces (k = {K} per end, with multiplicity)")
    rng = np.random.default_rng(1)
    U, _ = np.linalg.qr(rng.normal(size=(100, 3)))
    X = jnp.asarray(data(30))
    p = landscape.collapsed_point(X, KAPPA)
    cases = [
        ("3 distinct eigenvalues, P = 30", np.diag(np.repeat([1.0, 2.0, 3.0], 10)), 30, "ones"),
        ("rank 3, P = 100", (U * np.array([5.0, 2.0, -1.0])) @ U.T, 20, None),
        ("collapsed a=0.1, P = 421", None, 60, None),
    ]
    for name, H, m, start in cases:
        if H is None:
            op = hessian_operator(energy_objective, p, (X, 0.1, None))
            exact = np.linalg.eigvalsh(np.asarray(landscape.hessian(p, X, 0.1)))
        else:
            op = dense_operator(H)
            exact = np.linalg.eigvalsh(H)
        e = extremes(op, m)
        who_ends = [("ours", e["ours"]), ("ours, recurrence", e["basis"]), ("matfree", e["matfree"])]
        if start == "ones":  # a start that keeps the structure exact: β = 0 exactly after 3 steps
            v0 = jnp.ones(op.size)
            mf = np.asarray(matfree_ritz(op.build, op.data, v0, m))
            e["matfree_ones"], e["matfree_nan"] = ends(mf), bool(np.any(~np.isfinite(mf)))
            e["basis_ones"] = ends(ours_ritz(op.build, op.data, v0, jax.random.PRNGKey(0), m))
            who_ends += [("ours, rec., ones", e["basis_ones"]), ("matfree, ones", e["matfree_ones"])]
        scale = np.abs(exact).max()
        print(f"   {name} ({m} steps); exact lowest {np.round(exact[:K], 6).tolist()}, "
              f"highest {np.round(exact[::-1][:K], 6).tolist()}")  # fmt: skip
        for who, (lo, hi) in who_ends:
            bad = " NaN" if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))) else ""
            print(
                f"     {who:<17} lowest {np.round(lo, 6).tolist()}  highest {np.round(hi, 6).tolist()}"
                f"  rel err {err(lo, hi, exact) / scale:.1e}{bad}"
            )
        rows.append(
            dict(
                case=name,
                num_steps=m,
                start=start or "random",
                exact=[exact[:K].tolist(), exact[::-1][:K].tolist()],
                ours=[a.tolist() for a in e["ours"]],
                matfree=[a.tolist() for a in e["matfree"]],
                err_ours=err(*e["ours"], exact) / scale,
                err_matfree=err(*e["matfree"], exact) / scale,
                matfree_nan=e["matfree_nan"],
                **(
                    {
                        "matfree_ones_start": [a.tolist() for a in e["matfree_ones"]],
                        "err_matfree_ones_start": err(*e["matfree_ones"], exact) / scale,
                    }
                    if start
                    else {}
                ),
            )  # fmt: skip
        )


def part3(n, probes, steps, rows):
    print(f"\n3. SLQ, the same {probes} Rademacher probes, {steps} steps: (estimate - exact) / max(1, |exact|) (s.e.)")
    X = jnp.asarray(data(n))
    head = f"{'point':<17}{'quantity':>10}{'exact':>12}{'ours':>22}{'matfree':>14}{'ours s':>8}{'mf s':>8}"
    head += f"{'mf/ours':>8}"
    print(head + "\n" + "-" * len(head))
    for kind in ("ppca", "collapsed a=0", "collapsed a=0.1"):
        p, alpha = point(kind, X)
        lam = np.linalg.eigvalsh(np.asarray(landscape.hessian(p, X, alpha)))
        op = hessian_operator(energy_objective, p, (X, alpha, None))
        P = op.size
        t = -1e-6 * np.abs(lam).max()
        key = jax.random.PRNGKey(0)
        signs = jax.random.rademacher(jax.random.fold_in(key, 10**6), (probes, P), dtype=op.dtype)  # ours' probes
        quantities = [(q, float(t)) for q in ("tr", "tr2", "neg")]
        (sd, *mfs), (t_ours, *t_mfs) = race(
            [lambda op=op: landscape.spectral_density(op, num_probes=probes, num_steps=steps)]
            + [lambda op=op, signs=signs, w=w: matfree_trace(op.build, op.data, signs, steps, w) for w in quantities]
        )
        per = {
            "tr": P * np.sum(sd.weights * sd.nodes, axis=1),
            "tr2": P * np.sum(sd.weights * sd.nodes**2, axis=1),
            "neg": P * np.sum(sd.weights * (sd.nodes < t), axis=1),
        }
        exact = {"tr": lam.sum(), "tr2": (lam**2).sum(), "neg": float(np.sum(lam < t))}
        for q, mf, t_mf in zip(("tr", "tr2", "neg"), mfs, t_mfs, strict=True):
            ours = per[q].mean()
            se = per[q].std(ddof=1) / np.sqrt(probes)
            rel = max(abs(exact[q]), 1.0)
            print(
                f"{kind:<17}{q:>10}{exact[q]:>12.5g}{(ours - exact[q]) / rel:>+13.2e} ({se / rel:.0e})"
                f"{(float(mf) - exact[q]) / rel:>+14.2e}{t_ours:>8.3f}{t_mf:>8.3f}{t_mf / t_ours:>7.2f}x"
            )
            rows.append(
                dict(
                    point=kind,
                    P=P,
                    quantity=q,
                    exact=float(exact[q]),
                    ours=float(ours),
                    matfree=float(mf),
                    std_error=float(se),
                    seconds_ours=t_ours,
                    seconds_matfree=t_mf,
                )  # fmt: skip
            )


def main(argv=None):
    args = parse_args(argv)
    if importlib.util.find_spec("matfree") is None:
        print("matfree is not installed: nothing to compare (pip install matfree==0.6.3).", file=sys.stderr)
        return
    from importlib.metadata import version

    mf_version = version("matfree")
    print(f"backend: {jax.default_backend()}, matfree {mf_version}, float64: {jax.config.jax_enable_x64}")
    out = {"extremes": [], "breakdown": [], "slq": []}
    t0 = time.perf_counter()
    part1([20] if args.quick else [20, 100], out["extremes"])
    if not args.quick:
        part1_scale(2000, 100, out["extremes"])
    part2(out["breakdown"])
    part3(20, 16, 40, out["slq"])
    print(f"\ntotal {time.perf_counter() - t0:.0f} s")
    if args.json:
        save_json(args.json, {"config": vars(args), "results": out, "versions": {**versions(), "matfree": mf_version}})
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
