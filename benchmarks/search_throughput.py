"""Restart-steps per second of `landscape.search` against two baselines, in one run.

Baselines, on the same problem, the same starting points and the same Adam steps:
  (a) loop:  a Python loop over restarts, each calling the same descent jitted for a
             single restart (what `search` replaces with one vmapped computation);
  (b) torch: a straightforward batched PyTorch implementation of the same closed-form
             energy with torch.optim.Adam, the restart index as a batch dimension
             (`benchmarks/_torch_peer.py`; skipped with a message if torch is absent:
             ``pip install torch==2.13.0`` gives a CPU build).

Throughput counts descent steps only (no polishing); compile time is reported apart.
Also reported: achieved FLOP/s from XLA's cost analysis of the compiled chunk, and the
"elementwise bound": the time to evaluate E(y − π_α(u))² and its derivatives once over
the same R·n·d entries, times the number of steps, against the engine's time.

    python benchmarks/search_throughput.py [--quick] [--json out.json]
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from functools import partial
from pathlib import Path

from landscape.cli.args import ArgumentParser, check_output_path


def parse_args(argv=None):
    ap = ArgumentParser(
        prog="search_throughput.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--quick", action="store_true", help="fewer steps (a smoke test)")
    ap.add_argument("--json", help="also save the table as JSON")
    args = ap.parse_args(argv)
    check_output_path(ap, "--json", args.json)
    return args


if __name__ == "__main__":  # the arguments are checked before JAX is imported: a bad one costs ~0.1 s
    parse_args()

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import landscape  # noqa: E402
from landscape.analysis.search import init_params  # noqa: E402
from landscape.common.provenance import save_json  # noqa: E402
from landscape.core.energy import energy_objective  # noqa: E402
from landscape.core.moments import expected_sq_error_elementwise  # noqa: E402
from landscape.tools import descent  # noqa: E402
from landscape.tools import engine as E  # noqa: E402


def _load_peer():
    path = Path(__file__).with_name("_torch_peer.py")
    spec = importlib.util.spec_from_file_location("_torch_peer", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod if mod.available() else None


def engine(X, alpha, kappa, R, steps, precision):
    r = landscape.search(
        X, alpha, kappa=kappa, restarts=R, steps=steps, seed=0, polish="none", precision=precision, progress=False
    )
    return R * steps / r.run_seconds, r.compile_seconds, r


def loop(X, alpha, kappa, R, steps, max_restarts):
    """Python loop over restarts with a jitted single-restart descent (first max_restarts)."""
    Xj = jnp.asarray(X)

    def descend_one(p0, X, alpha, gamma):
        f = partial(energy_objective, X=X, alpha=alpha, gamma=gamma)
        return descent.descend(f, p0, steps=steps, learning_rate=1e-2, optimizer="adam")

    one = jax.jit(descend_one)
    P0 = init_params(X, kappa, np.arange(min(R, max_restarts)), 0)
    p = jax.tree.map(lambda a: a[0], P0)
    t0 = time.perf_counter()
    jax.block_until_ready(one(p, Xj, alpha, None))
    compile_s = time.perf_counter() - t0
    k = P0.W.shape[0]
    t0 = time.perf_counter()
    for i in range(k):
        out = one(jax.tree.map(lambda a, i=i: a[i], P0), Xj, alpha, None)
    jax.block_until_ready(out)
    return k * steps / (time.perf_counter() - t0), compile_s


def torch_peer(peer, X, alpha, kappa, R, steps, dtype):
    """PyTorch throughput, its first (warm-up) step excluded as the engine's compile is."""
    P0 = init_params(X, kappa, np.arange(R), 0)
    init = {k: np.asarray(v) for k, v in P0._asdict().items()}
    out = peer.run_torch_adam(X, alpha, init, steps=steps, lr=1e-2, dtype=dtype)
    return R * (steps - 1) / (out["seconds"] - out["first_step_seconds"]), out["first_step_seconds"]


def flops_and_bound(X, alpha, kappa, R, steps):
    """XLA's FLOP count of the descent (one vmapped Adam step × steps), and the bound's time.

    XLA's cost analysis counts a scan's body once, so the count is taken from a single
    compiled step and multiplied by the number of steps.
    """
    import optax

    Xj = jnp.asarray(X)
    P0 = init_params(X, kappa, np.arange(R), 0)
    opt = optax.adam(1e-2)

    def one_step(P, S):
        g = jax.vmap(jax.grad(lambda p: energy_objective(p, Xj, alpha)))(P)
        u, S = jax.vmap(opt.update)(g, S, P)
        return optax.apply_updates(P, u), S

    cost = jax.jit(one_step).lower(P0, jax.vmap(opt.init)(P0)).compile().cost_analysis()
    cost = cost[0] if isinstance(cost, (list, tuple)) else cost
    flops = float(cost.get("flops", float("nan"))) * steps if cost else float("nan")
    args = (Xj, jnp.asarray(alpha, jnp.float64), None)
    lr, gt = jnp.asarray(1e-2), jnp.asarray(1e-8)
    static = dict(f=energy_objective, diagnostics=None, in_axes=(None, None, None), steps=steps, optimizer="adam",
                  method="none", polish_steps=0, precision="float64")  # fmt: skip
    compiled, _, _ = E.compiled_chunk(P0, args, lr, gt, static)  # the engine's own compiled chunk
    n, d = X.shape
    rng = np.random.default_rng(0)
    y, m, v = (jnp.asarray(a) for a in (rng.normal(size=(R, n, d)), rng.normal(size=(R, n, d)), rng.random((R, n, d))))
    g = jax.jit(jax.grad(lambda y, m, v: jnp.sum(expected_sq_error_elementwise(y, m, v, alpha)), argnums=(0, 1, 2)))
    jax.block_until_ready(g(y, m, v))
    t0 = time.perf_counter()
    reps = 20
    for _ in range(reps):
        out = g(y, m, v)
    jax.block_until_ready(out)
    bound = (time.perf_counter() - t0) / reps * steps
    t0 = time.perf_counter()
    jax.block_until_ready(compiled(P0, args, lr, gt))
    run = time.perf_counter() - t0
    return flops, run, bound


def main(argv=None):
    args = parse_args(argv)
    peer = _load_peer()
    if peer is None:
        print("torch is not installed: the PyTorch column is skipped (pip install torch==2.13.0).", file=sys.stderr)
    alpha = 0.1
    # (n, d, κ, R, steps): steps shrink with the work so that each row takes seconds, not minutes
    cases = [(20, 3, 1, 64, 400), (20, 3, 1, 1024, 200), (20, 3, 1, 16384, 30), (1000, 20, 5, 64, 40)]
    if args.quick:
        cases = [(n, d, k, R, max(2, s // 10)) for n, d, k, R, s in cases]
    print(f"backend {jax.default_backend()}, {jax.device_count()} device(s); α = {alpha}; restart-steps per second")
    head = (
        f"{'problem':<18}{'R':>6}{'steps':>6} | {'engine f64':>10}{'engine f32':>11}{'compile s':>10} | "
        f"{'loop':>9}{'×':>6} | {'torch f64':>10}{'×':>6}{'torch f32':>10}{'×':>6}"
    )
    print(head)
    print("-" * len(head))
    rows = []
    for n, d, k, R, steps in cases:
        X = landscape.prop1_dataset(alpha, n=n, d=d, kappa=k, seed=0).X
        e64, c64, _ = engine(X, alpha, k, R, steps, "float64")
        e32, _, _ = engine(X, alpha, k, R, steps, "float32")
        lp, _ = loop(X, alpha, k, R, steps, max_restarts=64 if n > 100 else 256)
        t64 = t32 = float("nan")
        if peer is not None:
            t64, _ = torch_peer(peer, X, alpha, k, R, steps, "float64")
            t32, _ = torch_peer(peer, X, alpha, k, R, steps, "float32")
        best = max(e64, e32)
        row = dict(
            n=n, d=d, kappa=k, R=R, steps=steps, engine_f64=e64, engine_f32=e32, compile_s=c64, loop=lp,
            torch_f64=t64, torch_f32=t32, ratio_loop=e64 / lp, ratio_torch_f64=e64 / t64, ratio_torch_f32=best / t32,
        )  # fmt: skip
        rows.append(row)
        print(
            f"n={n:<4}d={d:<3}κ={k:<4}{R:>6}{steps:>6} | {e64:>10.3g}{e32:>11.3g}{c64:>10.2f} | "
            f"{lp:>9.3g}{e64 / lp:>6.1f} | {t64:>10.3g}{e64 / t64:>6.1f}{t32:>10.3g}{best / t32:>6.1f}"
        )
    print(
        "\n× columns: engine f64 ÷ loop, engine f64 ÷ torch f64 (like for like), "
        "best engine ÷ torch f32. The loop baseline runs at most 256 (64 for the large problem) restarts."
    )
    print("\nXLA cost analysis of one compiled chunk (engine f64) and the elementwise bound:")
    flop_rows = []
    for n, d, k, R, steps in [(20, 3, 1, 1024, 50), (1000, 20, 5, 64, 5)]:
        X = landscape.prop1_dataset(alpha, n=n, d=d, kappa=k, seed=0).X
        flops, run, bound = flops_and_bound(X, alpha, k, R, steps)
        flop_rows.append(dict(n=n, d=d, kappa=k, R=R, steps=steps, flops=flops, seconds=run, bound_seconds=bound))
        print(
            f"  n={n} d={d} κ={k} R={R}: {flops:.3g} FLOP in {run:.3f} s = {flops / run / 1e9:.2f} GFLOP/s; "
            f"elementwise bound {bound:.3f} s, so the step costs {run / bound:.2f}× the bound"
        )
    if args.json:
        save_json(args.json, {"rows": rows, "flops": flop_rows})


if __name__ == "__main__":
    main()
