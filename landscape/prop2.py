"""``python -m landscape.prop2``: γ sweeps and the Proposition 2 thresholds.

Example::

    python -m landscape.prop2 --alpha 0.5 --json prop2.json --plot prop2.png
"""

from __future__ import annotations

from landscape.cli.args import (
    ArgumentParser,
    add_dataset_args,
    add_output_args,
    check_dataset_args,
    check_outputs,
    finite_float,
    int_at_least,
    nonnegative_float,
    usage_errors,
    write_outputs,
)


def _grid(text: str):
    try:
        lo, hi, num = text.split(":")
        lo, hi, num = float(lo), float(hi), int(num)
    except ValueError:
        raise ValueError(f"--gammas must be LO:HI:NUM (log spacing), e.g. 1e-3:10:25; got {text!r}") from None
    if not (0 < lo < hi) or num < 2:
        raise ValueError(f"--gammas needs 0 < LO < HI and NUM >= 2; got {text!r}")
    import numpy as np

    return np.geomspace(lo, hi, num)


def build_parser() -> ArgumentParser:
    p = ArgumentParser(
        prog="python -m landscape.prop2",
        description="Hold γ fixed on a grid, minimise eq. (5) over the rest, and locate the partial (γ'') and "
        "full (γ') collapse thresholds of Proposition 2 (Dai, Wang & Wipf 2020).",
    )
    add_dataset_args(p, kappa=2)
    p.add_argument(
        "--data-alpha",
        type=finite_float,
        default=None,
        help="α of the generating decoder of the data set (default: --alpha); compare α's on the same data",
    )
    p.add_argument(
        "--noise", type=nonnegative_float, default=0.05, help="N(0, noise²) added to the data (default 0.05)"
    )
    p.add_argument("--gammas", default=None, help="LO:HI:NUM, a log-spaced grid (default: from the data)")
    p.add_argument("--restarts", type=int_at_least(1), default=4, help="fresh restarts per γ (default 4)")
    add_output_args(p, plot="save active dimensions and Δ(γ) against γ as a PNG")
    return p


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    check_dataset_args(parser, args)
    data_alpha = args.alpha if args.data_alpha is None else args.data_alpha
    if data_alpha < 0:
        parser.error(f"--data-alpha must be >= 0, got {data_alpha}")
    with usage_errors(parser):
        gammas = None if args.gammas is None else _grid(args.gammas)
    check_outputs(parser, args)

    from landscape.analysis.prop2_analysis import analyse_prop2, prop2_data

    with usage_errors(parser):
        data, X = prop2_data(data_alpha, n=args.n, d=args.d, kappa=args.kappa, seed=args.seed, noise=args.noise)
        result = analyse_prop2(X, args.alpha, kappa=args.kappa, gammas=gammas, restarts=args.restarts, seed=args.seed)
    print(result.report())
    payload = {**result.to_dict(), "data": {**data.config(), "noise": args.noise}}
    return write_outputs(args, payload, "landscape.prop2", argv, "plot_prop2", result)


if __name__ == "__main__":
    raise SystemExit(main())
