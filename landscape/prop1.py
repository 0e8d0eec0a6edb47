"""``python -m landscape.prop1``: certify Proposition 1 on a generated data set.

Example::

    python -m landscape.prop1 --alpha 0.1 --json prop1.json --plot prop1.png
"""

from __future__ import annotations

from landscape._cli import ArgumentParser, check_output_path, finite_float, write_json


def build_parser() -> ArgumentParser:
    p = ArgumentParser(
        prog="python -m landscape.prop1",
        description="Check both minima of Proposition 1 (Dai, Wang & Wipf 2020) on data "
        "x_i = π_α(W* z_i) + b*: the collapsed local minimum and the reconstructing path.",
    )
    p.add_argument("--alpha", type=finite_float, required=True, help="soft threshold α ≥ 0 (0: affine decoder)")
    p.add_argument("--n", type=int, default=20, help="number of data points (default 20)")
    p.add_argument("--d", type=int, default=3, help="data dimension (default 3)")
    p.add_argument("--kappa", type=int, default=1, help="latent size κ < d (default 1)")
    p.add_argument("--seed", type=int, default=0, help="seed of the data set (default 0)")
    p.add_argument(
        "--random-directions",
        type=int,
        default=2,
        help="random W directions probed besides the affine-descent ones (default 2)",
    )
    p.add_argument("--restarts", type=int, default=0, help="also run a multi-start search with this many restarts")
    p.add_argument("--steps", type=int, default=4000, help="Adam steps per restart of the search (default 4000)")
    p.add_argument("--json", metavar="PATH", help="write the full result, configuration and versions as JSON")
    p.add_argument("--plot", metavar="PATH", help="save the profiles and spectra as a PNG")
    return p


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.restarts < 0:
        parser.error(f"--restarts must be >= 0, got {args.restarts}")
    if args.steps < 0:
        parser.error(f"--steps must be >= 0, got {args.steps}")
    if args.random_directions < 0:
        parser.error(f"--random-directions must be >= 0, got {args.random_directions}")
    check_output_path(parser, "--json", args.json)
    check_output_path(parser, "--plot", args.plot, figure=True)

    import landscape

    try:
        data = landscape.prop1_dataset(args.alpha, n=args.n, d=args.d, kappa=args.kappa, seed=args.seed)
        cert = landscape.certify_prop1(data, n_random_directions=args.random_directions)
        found = None
        if args.restarts:
            found = landscape.search(
                data.X, data.alpha, kappa=data.kappa, restarts=args.restarts, steps=args.steps, seed=args.seed
            )
    except ValueError as err:
        parser.error(str(err))
    print(cert.report())
    payload = cert.to_dict()
    if found is not None:
        from landscape._report import format_search

        stats = landscape.basin_stats(found)
        print()
        print(format_search(found, stats))
        payload["search"] = {**stats.to_dict(), "result": found.to_dict()}
    write_json(args.json, payload, "landscape.prop1", argv)
    if args.plot:
        from landscape.plotting import plot_prop1

        plot_prop1(cert, args.plot)
        print(f"wrote {args.plot}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
