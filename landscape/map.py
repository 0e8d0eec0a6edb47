"""``python -m landscape.map``: the landscape map of eq. (5) on a Proposition 1 data set.

Its minima, certified transition states and disconnectivity graph (`landscape.landscape_map`).

Example::

    python -m landscape.map --alpha 0.5 --gamma 0.1 --json map.json --plot map.png
"""

from __future__ import annotations

from landscape.cli.args import (
    ArgumentParser,
    add_dataset_args,
    add_output_args,
    check_dataset_args,
    check_outputs,
    int_at_least,
    positive_float,
    usage_errors,
    write_outputs,
)


def build_parser() -> ArgumentParser:
    p = ArgumentParser(
        prog="python -m landscape.map",
        description="Map the energy landscape of eq. (5) (Dai, Wang & Wipf 2020) on a Proposition 1 data set: the "
        "distinct minima with their basin fractions, the transition states between them (string method, "
        "eigenvector-following, certified index 1, connections verified), and the disconnectivity graph.",
    )
    add_dataset_args(p, kappa=1)
    p.add_argument("--gamma", type=positive_float, default=None, help="hold γ fixed (default: learn it; the "
                   "reconstructing region is then a funnel at −∞)")  # fmt: skip
    p.add_argument("--restarts", type=int_at_least(2), default=256, help="restarts of the search (default 256)")
    p.add_argument("--max-pairs", type=int_at_least(1), default=45, help="at most this many string runs (default 45)")
    add_output_args(p, plot="save the disconnectivity graph as a PNG")
    return p


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    check_dataset_args(parser, args)
    if args.kappa > 3:
        parser.error(f"--kappa must be <= 3 for a map (2^κ κ! latent symmetries), got {args.kappa}")
    check_outputs(parser, args)

    from landscape.analysis.landscape_map import landscape_map
    from landscape.core.datasets import prop1_dataset

    with usage_errors(parser):
        ds = prop1_dataset(args.alpha, n=args.n, d=args.d, kappa=args.kappa, seed=args.seed)
        result = landscape_map(ds.X, args.alpha, kappa=args.kappa, gamma=args.gamma, restarts=args.restarts,
                               seed=args.seed, max_pairs=args.max_pairs)  # fmt: skip
    print(result.report())
    payload = {**result.to_dict(), "data": ds.config()}
    return write_outputs(args, payload, "landscape.map", argv, "plot_map", result)


if __name__ == "__main__":
    raise SystemExit(main())
