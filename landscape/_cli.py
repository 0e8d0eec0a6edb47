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
    from landscape._provenance import save_json

    command = ["python", "-m", module, *(argv if argv is not None else sys.argv[1:])]
    save_json(path, {**payload, "command": command})
    print(f"\nwrote {path}")
