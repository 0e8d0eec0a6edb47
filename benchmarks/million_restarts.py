"""Restarts per second of a whole `landscape.search` (descent, polish, endpoint diagnostics, basins).

The default Proposition 1 problem (`prop1_dataset(0.1)`: n = 20, d = 3, κ = 1), the library's
default settings (4000 Adam steps, the fused first-order descent, Newton polish), in chunks of
``--chunk`` restarts, 10⁶ restarts by default: the GPU figure of issue 22 (goal: under 60 s).
Prints the compile time, the time in the compiled chunks and the restarts per second, and the
basin fractions as a check that the run did the work.

    python benchmarks/million_restarts.py [--restarts R] [--steps S] [--chunk C] [--json out.json]
"""

from __future__ import annotations

import argparse

from landscape.cli.args import ArgumentParser, check_output_path


def parse_args(argv=None):
    ap = ArgumentParser(
        prog="million_restarts.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--restarts", type=int, default=1_000_000, help="restarts (default 10⁶)")
    ap.add_argument("--steps", type=int, default=4000, help="Adam steps per restart (default 4000)")
    ap.add_argument("--chunk", type=int, default=65536, help="restarts per compiled chunk (default 65536)")
    ap.add_argument("--alpha", type=float, default=0.1, help="the soft threshold (default 0.1)")
    ap.add_argument("--json", help="also save the figures as JSON")
    args = ap.parse_args(argv)
    for name in ("restarts", "steps", "chunk"):
        if getattr(args, name) < 1:
            ap.error(f"--{name} must be ≥ 1, got {getattr(args, name)}")
    check_output_path(ap, "--json", args.json)
    return args


def main(argv=None):
    args = parse_args(argv)
    import jax

    import landscape
    from landscape.common.provenance import save_json

    X = landscape.prop1_dataset(args.alpha).X
    r = landscape.search(X, args.alpha, kappa=1, restarts=args.restarts, steps=args.steps, seed=0,
                         chunk_size=args.chunk)  # fmt: skip
    b = landscape.basin_stats(r)
    per_s = args.restarts / r.seconds
    print(f"backend {jax.default_backend()}, {jax.device_count()} device(s): {args.restarts} restarts × {args.steps} "
          f"steps of the default Proposition 1 problem (α = {args.alpha}) in {r.seconds:.1f} s "
          f"(compile {r.compile_seconds:.1f} s, compiled chunks {r.run_seconds:.1f} s): "
          f"{per_s:.3g} restarts per second")  # fmt: skip
    print("basin fractions:", {k: round(float(v), 4) for k, v in b.fractions.items()})
    if args.json:
        save_json(args.json, {"restarts": args.restarts, "steps": args.steps, "chunk": args.chunk, "alpha": args.alpha,
                              "seconds": r.seconds, "compile_seconds": r.compile_seconds, "run_seconds": r.run_seconds,
                              "restarts_per_second": per_s, "fractions": dict(b.fractions)})  # fmt: skip


if __name__ == "__main__":
    main()
