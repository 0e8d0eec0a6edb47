"""``python -m landscape.prop1``: certify Proposition 1 on a generated data set.

Example::

    python -m landscape.prop1 --alpha 0.1 --json prop1.json --plot prop1.png
"""

from __future__ import annotations

from landscape.cli.args import (
    ArgumentParser,
    add_dataset_args,
    add_output_args,
    check_dataset_args,
    check_outputs,
    int_at_least,
    write_outputs,
)


def build_parser() -> ArgumentParser:
    p = ArgumentParser(
        prog="python -m landscape.prop1",
        description="Check both minima of Proposition 1 (Dai, Wang & Wipf 2020) on data "
        "x_i = π_α(W* z_i) + b*: the collapsed local minimum and the reconstructing path.",
    )
    add_dataset_args(p, kappa=1)
    p.add_argument(
        "--random-directions",
        type=int_at_least(0),
        default=2,
        help="random W directions probed besides the affine-descent ones (default 2)",
    )
    p.add_argument(
        "--restarts",
        type=int_at_least(0),
        default=0,
        help="also run a multi-start search with this many restarts, and certify each distinct minimum",
    )
    p.add_argument(
        "--steps", type=int_at_least(0), default=4000, help="Adam steps per restart of the search (default 4000)"
    )
    p.add_argument(
        "--no-sphere",
        action="store_true",
        help="skip the minimisation of the reduced energy on spheres ‖W‖_F = r (the 'sphere' section and its check)",
    )
    p.add_argument(
        "--mep",
        action="store_true",
        help="also the minimum-energy path (string method, ~30 s) for the barrier bracket lower ≤ MEP ≤ profile",
    )
    add_output_args(p, plot="save the profiles, spectra and sphere minima as a PNG")
    return p


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    check_dataset_args(parser, args)
    check_outputs(parser, args)

    import landscape

    try:
        data = landscape.prop1_dataset(args.alpha, n=args.n, d=args.d, kappa=args.kappa, seed=args.seed)
        cert = landscape.certify_prop1(
            data, n_random_directions=args.random_directions, sphere=not args.no_sphere, mep=args.mep
        )
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
        from landscape.analysis.report import format_certificates, format_search

        stats = landscape.basin_stats(found)
        certs = landscape.certify_minima(found, stats, data.X)
        print()
        print(format_search(found, stats))
        print()
        print(format_certificates(stats, certs))
        payload["search"] = {
            **stats.to_dict(),
            "certificates": [c.to_dict() for c in certs],
            "result": found.to_dict(),
        }
    return write_outputs(args, payload, "landscape.prop1", argv, "plot_prop1", cert)


if __name__ == "__main__":
    raise SystemExit(main())
