"""Shared pieces of the command-line tools: one-line errors with exit code 2."""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path


class ArgumentParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line on stderr and exit code 2."""

    def error(self, message: str):
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(2)


def finite_float(text: str) -> float:
    try:
        x = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(x):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return x


def seed_int(text: str) -> int:
    """A seed: an integer in [0, 2**63) (as `landscape.common.checks.check_seed`)."""
    from landscape.common.checks import SEED_LIMIT

    try:
        x = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer seed, got {text!r}") from None
    if not 0 <= x < SEED_LIMIT:
        raise argparse.ArgumentTypeError(f"the seed must be an integer in [0, 2**63), got {text!r}")
    return x


def check_output_path(parser, flag: str, path: str | None, *, figure: bool = False) -> None:
    """Fail before any work if ``path`` cannot be written (or is not a figure format)."""
    if path is None:
        return
    p = Path(path)
    if figure:
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib.figure import Figure

        formats = Figure().canvas.get_supported_filetypes()
        suffix = p.suffix.lstrip(".").lower()
        if suffix not in formats:
            parser.error(f"{flag} {path}: unknown figure format {suffix!r}; use one of {', '.join(sorted(formats))}")
    parent = p.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        parser.error(f"{flag} {path}: cannot create the folder {parent} ({err.strerror})")
    if not os.access(parent, os.W_OK) or p.is_dir():
        parser.error(f"{flag} {path}: cannot write there")


def write_json(path: str | None, payload: dict, module: str, argv) -> None:
    """Save ``payload`` with the command line that produced it (and the versions), if asked."""
    if not path:
        return
    from landscape.common.provenance import save_json

    command = ["python", "-m", module, *(argv if argv is not None else sys.argv[1:])]
    save_json(path, {**payload, "command": command})
    print(f"\nwrote {path}")


def add_dataset_args(p: argparse.ArgumentParser, *, kappa: int) -> None:
    """The options of a Proposition 1 data set, shared by prop1 and prop2."""
    p.add_argument("--alpha", type=finite_float, required=True, help="soft threshold α ≥ 0 (0: affine decoder)")
    p.add_argument("--n", type=int, default=20, help="number of data points (default 20)")
    p.add_argument("--d", type=int, default=3, help="data dimension (default 3)")
    p.add_argument("--kappa", type=int, default=kappa, help=f"latent size κ < d (default {kappa})")
    p.add_argument("--seed", type=seed_int, default=0, help="seed of the data set and the restarts (default 0)")


def add_output_args(p: argparse.ArgumentParser, *, plot: str) -> None:
    p.add_argument("--json", metavar="PATH", help="write the results, configuration, seed and versions as JSON")
    p.add_argument("--plot", metavar="PATH", help=plot)


def check_at_least(parser, flag: str, value: int, minimum: int) -> None:
    if value < minimum:
        parser.error(f"{flag} must be >= {minimum}, got {value}")


def check_outputs(parser, args) -> None:
    """Check --json and --plot before any work (see `check_output_path`)."""
    check_output_path(parser, "--json", args.json)
    check_output_path(parser, "--plot", args.plot, figure=True)
