"""Restart-steps per second of `landscape.search` against two baselines, in one run.

Baselines, on the same problem, the same starting points and the same Adam steps:
  (a) loop:  a Python loop over restarts, each calling the same descent jitted for a
             single restart (what `search` replaces with one vmapped computation);
  (b) torch: a straightforward batched PyTorch implementation of the same closed-form
             energy with torch.optim.Adam, the restart index as a batch dimension
             (`benchmarks/_torch_peer.py`; skipped with a message if torch is absent:
             ``pip install torch==2.13.0`` gives a CPU build).

Throughput counts descent steps only (no polishing); compile time is reported apart. The
engine descends on the fused first-order path (`search(gradient="fused")`, the default); the
"exact" column is the same search descending through the custom JVP (the path before issue 22).

The floor (issue 22): the least time XLA needs for the elementwise work of one step, i.e. one
evaluation of E(y − π_α(u))² and its three partials ∂/∂y, ∂/∂m, ∂/∂v over the same R·n·d
entries (`landscape.core.moments.expected_sq_error_partials`, the closed forms of MATH.md §2),
summed into a single output so that XLA compiles it as one fusion with nothing materialised,
timed over ``steps`` iterations of a `lax.scan` (the carry shifts y, so no iteration can be
hoisted), best of 3. "step ÷ floor" is the compiled descent chunk's time per step (the engine's
own executable, Adam included, polish excluded) over the floor's time per iteration. Also
reported: the fusions and materialised elementwise arrays in one step of the compiled chunk
(the profile of where the time goes) and XLA's FLOP count.

    python benchmarks/search_throughput.py [--quick | --smoke] [--json out.json]
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import sys
import time
from functools import partial
from pathlib import Path

from landscape.cli.args import ArgumentParser, check_output_path


def parse_args(argv=None):
    ap = ArgumentParser(
        prog="search_throughput.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--quick", action="store_true", help="a tenth of the steps")
    ap.add_argument("--smoke", action="store_true", help="the first problem only, 4 steps: that the script runs")
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
from landscape.core.energy_first_order import energy_objective_first_order  # noqa: E402
from landscape.core.moments import expected_sq_error_partials  # noqa: E402
from landscape.tools import descent  # noqa: E402
from landscape.tools import engine as E  # noqa: E402


def _load_peer():
    path = Path(__file__).with_name("_torch_peer.py")
    spec = importlib.util.spec_from_file_location("_torch_peer", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod if mod.available() else None


def engine(X, alpha, kappa, R, steps, precision, gradient="fused"):
    """`landscape.search`'s throughput, from its second call (the first compiles, and warms what it calls)."""
    kw = dict(kappa=kappa, restarts=R, steps=steps, seed=0, polish="none", precision=precision, gradient=gradient,
              progress=False)  # fmt: skip
    first = landscape.search(X, alpha, **kw)
    r = landscape.search(X, alpha, **kw)
    return R * steps / r.run_seconds, first.compile_seconds, r


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


def floor_seconds(alpha, R, n, d, steps, dtype=jnp.float64):
    """Seconds per iteration of the floor: value + three partials over R·n·d entries, one fusion, in a scan."""
    rng = np.random.default_rng(0)
    y, m = (jnp.asarray(rng.normal(size=(R, n, d)), dtype) for _ in range(2))
    v = jnp.asarray(rng.random((R, n, d)), dtype)
    a = jnp.asarray(alpha, dtype)

    def body(c, _):
        e, e_y, e_m, e_v, _ = expected_sq_error_partials(y + c, m, v, a)
        return c + jnp.asarray(1e-30, dtype) * jnp.sum(e + e_y + e_m + e_v), None

    f = jax.jit(lambda c: jax.lax.scan(body, c, None, length=steps)[0])
    c0 = jnp.asarray(0.0, dtype)
    jax.block_until_ready(f(c0))
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        jax.block_until_ready(f(c0))
        best = min(best, time.perf_counter() - t0)
    return best / steps


def _static(f, descent_f, steps):
    return dict(f=f, descent_f=descent_f, diagnostics=None, in_axes=(None, None, None), steps=steps,
                optimizer="adam", method="none", precision="float64", schedule=False, inner_steps=0,
                inner=None, inner_until=None)  # fmt: skip


def step_profile(X, alpha, kappa, R, steps):
    """The engine's compiled descent chunk (fused and exact gradients): seconds per step, fusions per step,
    elementwise arrays of shape (R, n, d) materialised per step, and XLA's FLOPs per step."""
    Xj = jnp.asarray(X)
    P0 = init_params(X, kappa, np.arange(R), 0)
    args = (Xj, jnp.asarray(alpha, jnp.float64), None)
    lr, gt = jnp.asarray(1e-2), jnp.asarray(1e-8)
    n, d = X.shape
    out = {}
    for name, descent_f in (("fused", energy_objective_first_order), ("exact", None)):
        compiled, _, _ = E.compiled_chunk(P0, args, lr, gt, _static(energy_objective, descent_f, steps))
        jax.block_until_ready(compiled(P0, args, lr, gt))
        best = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            jax.block_until_ready(compiled(P0, args, lr, gt))
            best = min(best, time.perf_counter() - t0)
        text = compiled.as_text()
        body = _while_body(text)
        fusions = len(re.findall(r"^\s*%\S+ = \S+ fusion\(", body, re.M))
        big = len(re.findall(rf"^\s*%\S+ = f64\[{R},{n},{d}\]\S* fusion\(", body, re.M))
        cost = compiled.cost_analysis()
        cost = cost[0] if isinstance(cost, (list, tuple)) else cost
        flops = float(cost.get("flops", float("nan"))) if cost else float("nan")
        out[name] = dict(step_seconds=best / steps, fusions_per_step=fusions, materialised_per_step=big,
                         flops_per_step=flops)  # fmt: skip
    return out


def _while_body(text):
    """The HLO computation that a scan's while loop runs each step (the largest while body)."""
    names = re.findall(r"while\(.*?body=(%?[\w.\-]+)", text)
    comps = {m.group(1).lstrip("%"): m.group(0) for m in re.finditer(r"^(%?[\w.\-]+) .*?\{\n(?:.*\n)*?\}", text, re.M)}
    bodies = [comps.get(nm.lstrip("%"), "") for nm in names]
    return max(bodies, key=len) if bodies else text


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
    if args.smoke:
        cases = [(20, 3, 1, 64, 4)]
    print(f"backend {jax.default_backend()}, {jax.device_count()} device(s); α = {alpha}; restart-steps per second")
    head = (
        f"{'problem':<18}{'R':>6}{'steps':>6} | {'engine f64':>10}{'engine f32':>11}{'exact f64':>10}"
        f"{'compile s':>10} | {'loop':>9}{'×':>6} | {'torch f64':>10}{'×':>6}{'torch f32':>10}{'×':>6} | "
        f"{'step÷floor':>10}"
    )
    print(head)
    print("-" * len(head))
    rows = []
    for n, d, k, R, steps in cases:
        X = landscape.prop1_dataset(alpha, n=n, d=d, kappa=k, seed=0).X
        e64, c64, _ = engine(X, alpha, k, R, steps, "float64")
        e32, _, _ = engine(X, alpha, k, R, steps, "float32")
        ex64, _, _ = engine(X, alpha, k, R, steps, "float64", gradient="exact")
        lp, _ = loop(X, alpha, k, R, steps, max_restarts=64 if n > 100 else 256)
        t64 = t32 = float("nan")
        if peer is not None:
            t64, _ = torch_peer(peer, X, alpha, k, R, steps, "float64")
            t32, _ = torch_peer(peer, X, alpha, k, R, steps, "float32")
        floor = floor_seconds(alpha, R, n, d, steps)
        prof = step_profile(X, alpha, k, R, steps)
        best = max(e64, e32)
        row = dict(
            n=n, d=d, kappa=k, R=R, steps=steps, engine_f64=e64, engine_f32=e32, exact_f64=ex64, compile_s=c64,
            loop=lp, torch_f64=t64, torch_f32=t32, ratio_loop=e64 / lp, ratio_torch_f64=e64 / t64,
            ratio_torch_f32=best / t32, ratio_fused_exact=e64 / ex64, floor_seconds=floor,
            step_seconds=prof["fused"]["step_seconds"], ratio_step_floor=prof["fused"]["step_seconds"] / floor,
            profile=prof,
        )  # fmt: skip
        rows.append(row)
        print(
            f"n={n:<4}d={d:<3}κ={k:<4}{R:>6}{steps:>6} | {e64:>10.3g}{e32:>11.3g}{ex64:>10.3g}{c64:>10.2f} | "
            f"{lp:>9.3g}{e64 / lp:>6.1f} | {t64:>10.3g}{e64 / t64:>6.1f}{t32:>10.3g}{best / t32:>6.1f} | "
            f"{row['ratio_step_floor']:>10.2f}"
        )
    print(
        "\n× columns: engine f64 ÷ loop, engine f64 ÷ torch f64 (like for like), best engine ÷ torch f32; "
        "step÷floor: the compiled descent's time per step ÷ the floor's (module docstring). "
        "The loop baseline runs at most 256 (64 for the large problem) restarts."
    )
    print("\nWhere a step's time goes (one step of the compiled descent chunk, float64):")
    for r in rows:
        f, e = r["profile"]["fused"], r["profile"]["exact"]
        el = r["R"] * r["n"] * r["d"]
        print(
            f"  n={r['n']} d={r['d']} κ={r['kappa']} R={r['R']}: floor {r['floor_seconds'] / el * 1e9:.1f} ns/entry; "
            f"fused {f['step_seconds'] / el * 1e9:.1f} ns/entry, {f['fusions_per_step']} fusions "
            f"({f['materialised_per_step']} materialise an (R, n, d) array), {f['flops_per_step']:.3g} FLOP; "
            f"exact {e['step_seconds'] / el * 1e9:.1f} ns/entry, {e['fusions_per_step']} fusions "
            f"({e['materialised_per_step']}), {e['flops_per_step']:.3g} FLOP"
        )
    if args.json:
        save_json(args.json, {"rows": rows})

if __name__ == "__main__":
    main()
