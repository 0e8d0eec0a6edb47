"""Shared argument handling of the command-line tools and the experiment scripts (issue 18, item 6).

Every tool (``python -m landscape.prop1``, ``landscape.prop2``, ``proofs_numeric``, ``experiments/*.py``,
``benchmarks/*.py``) parses with `ArgumentParser` and checks everything before any work:

- an error is one line on stderr, ``PROG: error: MESSAGE``, and exit code 2; never a traceback;
- numbers are checked as they are parsed (`finite_float`, `nonnegative_float`, `positive_float`,
  `float_in`, `int_at_least`, `seed`), and the library's rules on the arguments of a call (κ < d, a data
  set's sizes, a count) by `check_prop1_dataset` and `check_count`, with the library's own rules and
  messages (`landscape.common.checks`, imported only then: it loads NumPy but not JAX);
  a ``ValueError`` of the library itself becomes that line through `usage_errors`;
- output paths are probed by opening them for writing (`check_output_path`, `check_output_folder`).

The rule for output paths (`check_output_path`):

- a path that does not exist is created (exclusively) and removed again, so nothing is left behind; its
  folder must exist (a file's folder is never created: a missing folder is an error);
- an existing regular file is opened for appending, which changes nothing in it;
- an existing folder is an error, and so is any other special file (a device such as ``/dev/full``, which
  opens but refuses every write), except ``/dev/null`` and this process's own stdout and stderr
  (``/dev/stdout``, ``/dev/stderr``), which are accepted;
- a figure must end in a format matplotlib writes (`FIGURE_FORMATS`).

An output *folder* (``--out`` of the experiments, `check_output_folder`) is created if missing, as the
scripts always did, and each file the script will write there is probed as above; if a probe fails, the
folders just created are removed again.

This module imports neither jax nor numpy (and the ``landscape`` package imports nothing heavy), so that a
tool refuses a bad argument within a tenth of a second, before it imports JAX (issue 18, item 6); the rules
on a data set's sizes load NumPy (a few tenths of a second) and still not JAX. A tool imports the library
after `ArgumentParser.parse_args` and these checks.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import stat
import sys
import tempfile
from pathlib import Path

#: File formats of matplotlib's Agg canvas (``Figure().canvas.get_supported_filetypes()``), listed here
#: so that the check needs no matplotlib import; tests/test_bad_inputs_cli.py compares the two.
FIGURE_FORMATS = frozenset(
    {"eps", "jpeg", "jpg", "pdf", "pgf", "png", "ps", "raw", "rgba", "svg", "svgz", "tif", "tiff", "webp"}
)
#: Seeds are integers in [0, 2**63) (JAX and NumPy seed streams).
SEED_LIMIT = 2**63


class ArgumentParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line on stderr and exit code 2."""

    def error(self, message: str):
        message = " ".join(str(message).split())  # one line, whatever the message holds
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(2)


@contextlib.contextmanager
def usage_errors(parser: argparse.ArgumentParser, *errors: type[BaseException]):
    """Turn a ``ValueError`` (or ``errors``) raised by a library check into the parser's one-line error."""
    try:
        yield
    except (ValueError, *errors) as err:
        parser.error(str(err))


# --------------------------------------------------------------------------- argument types


def _number(text: str) -> float:
    try:
        x = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(x):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return x


def finite_float(text: str) -> float:
    """A finite real number."""
    return _number(text)


def nonnegative_float(text: str) -> float:
    """A finite number >= 0."""
    x = _number(text)
    if x < 0:
        raise argparse.ArgumentTypeError(f"expected a finite number >= 0, got {text!r}")
    return x


def positive_float(text: str) -> float:
    """A finite number > 0."""
    x = _number(text)
    if not x > 0:
        raise argparse.ArgumentTypeError(f"expected a finite number > 0, got {text!r}")
    return x


def float_in(lo: float, hi: float, *, lo_open: bool = False, hi_open: bool = False):
    """An argument type: a finite number in the interval [lo, hi], either end open if asked."""
    interval = f"{'(' if lo_open else '['}{lo:g}, {hi:g}{')' if hi_open else ']'}"

    def parse(text: str) -> float:
        x = _number(text)
        if (x < lo or x > hi) or (lo_open and x == lo) or (hi_open and x == hi):
            raise argparse.ArgumentTypeError(f"expected a number in {interval}, got {text!r}")
        return x

    parse.__name__ = f"number in {interval}"
    return parse


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None


def int_at_least(minimum: int):
    """An argument type: an integer >= ``minimum`` (a count, a size, a number of steps)."""

    def parse(text: str) -> int:
        k = _integer(text)
        if k < minimum:
            raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}, got {text!r}")
        return k

    parse.__name__ = f"integer >= {minimum}"
    return parse


def seed(text: str) -> int:
    """A seed: an integer in [0, 2**63)."""
    k = _integer(text)
    if not 0 <= k < SEED_LIMIT:
        raise argparse.ArgumentTypeError(f"a seed must be an integer in [0, 2**63), got {text!r}")
    return k


# --------------------------------------------------------------------------- output paths


def _same_file(st: os.stat_result, other: os.stat_result) -> bool:
    return (st.st_dev, st.st_ino) == (other.st_dev, other.st_ino)


def _is_sink(st: os.stat_result) -> bool:
    """/dev/null, or this process's stdout or stderr (what /dev/stdout and /dev/stderr open)."""
    others = []
    with contextlib.suppress(OSError):
        others.append(os.stat(os.devnull))
    for fd in (1, 2):
        with contextlib.suppress(OSError, ValueError):
            others.append(os.fstat(fd))
    return any(_same_file(st, o) for o in others)


def output_problem(path: str | os.PathLike) -> str | None:
    """Why ``path`` cannot be written, or None if it can (the rule in the module docstring)."""
    p = Path(path)
    try:
        st = os.stat(p)
    except FileNotFoundError:
        st = None
    except OSError as err:
        return err.strerror or str(err)
    if st is not None:
        if stat.S_ISDIR(st.st_mode):
            return "it is a folder"
        if not stat.S_ISREG(st.st_mode):
            if _is_sink(st):
                return None
            return "it is a device or special file, not a regular file (only /dev/null, /dev/stdout, /dev/stderr are)"
        try:
            with open(p, "ab"):  # appending nothing: the file is unchanged
                pass
        except OSError as err:
            return f"cannot open it for writing ({err.strerror or err})"
        return None
    parent = p.parent
    if not parent.is_dir():
        why = "the folder does not exist" if not parent.exists() else "it is not a folder"
        return f"cannot create a file in {parent}: {why}"
    try:
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as err:
        return f"cannot create a file in {parent} ({err.strerror or err})"
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(p)
    return None


def check_output_path(parser, flag: str, path: str | os.PathLike | None, *, figure: bool = False) -> None:
    """Fail before any work if ``path`` cannot be written (or, ``figure``, is not a figure format)."""
    if path is None:
        return
    p = Path(path)
    if figure:
        suffix = p.suffix.lstrip(".").lower()
        if suffix not in FIGURE_FORMATS:
            parser.error(
                f"{flag} {path}: unknown figure format {suffix!r}; use one of {', '.join(sorted(FIGURE_FORMATS))}"
            )
    problem = output_problem(p)
    if problem is not None:
        parser.error(f"{flag} {path}: cannot write there: {problem}")


def check_output_folder(parser, flag: str, folder: str | os.PathLike, files=(), figures=()) -> Path:
    """Create the output folder ``folder`` if missing, and probe every file the tool will write in it.

    ``files`` and ``figures`` are names (or relative paths) inside ``folder``; figures must also end in a
    format matplotlib writes. With neither, a temporary file is created in the folder and removed. On a
    failure the folders this call created are removed again.
    """
    out = Path(folder)
    missing = []
    q = out
    while not q.exists() and q != q.parent:
        missing.append(q)
        q = q.parent
    if out.exists() and not out.is_dir():
        parser.error(f"{flag} {folder}: cannot write there: it is not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        parser.error(f"{flag} {folder}: cannot create the folder ({err.strerror or err})")
    try:
        for name in files:
            check_output_path(parser, flag, out / name)
        for name in figures:
            check_output_path(parser, flag, out / name, figure=True)
        if not files and not figures:
            try:
                fd, probe = tempfile.mkstemp(dir=out, prefix=".write-probe-")
            except OSError as err:
                parser.error(f"{flag} {folder}: cannot write there: cannot create a file ({err.strerror or err})")
            os.close(fd)
            os.unlink(probe)
    except SystemExit:
        for q in missing:  # innermost first
            with contextlib.suppress(OSError):
                q.rmdir()
        raise
    return out


def check_output_prefix(parser, flag: str, prefix: str | os.PathLike, files=(), figures=()) -> Path:
    """``prefix`` names outputs ``prefix + suffix`` (``files``, ``figures``: the suffixes): probe them all."""
    p = Path(prefix)
    if p.is_dir():
        parser.error(f"{flag} {prefix}: it is a folder; give a path without suffix, e.g. {p / 'result'}")
    check_output_folder(
        parser, flag, p.parent, files=[p.name + s for s in files], figures=[p.name + s for s in figures]
    )
    return p


def check_outputs(parser, args) -> None:
    """Check --json and --plot before any work (see `check_output_path`)."""
    check_output_path(parser, "--json", args.json)
    check_output_path(parser, "--plot", args.plot, figure=True)


def write_json(path: str | None, payload: dict, module: str, argv) -> None:
    """Save ``payload`` with the command line that produced it (and the versions), if asked."""
    if not path:
        return
    from landscape.common.provenance import save_json

    command = ["python", "-m", module, *(argv if argv is not None else sys.argv[1:])]
    save_json(path, {**payload, "command": command})
    print(f"\nwrote {path}")


def write_outputs(args, payload: dict, module: str, argv, plot: str, result) -> int:
    """The end of a CLI run: --json (`write_json`), then --plot by ``landscape.cli.plotting.<plot>(result,
    path)`` (imported only then: matplotlib is slow to load). Returns the exit code 0."""
    write_json(args.json, payload, module, argv)
    if args.plot:
        from landscape.cli import plotting

        getattr(plotting, plot)(result, args.plot)
        print(f"wrote {args.plot}")
    return 0


# --------------------------------------------------------------------------- shared options


def add_dataset_args(p: argparse.ArgumentParser, *, kappa: int) -> None:
    """The options of a Proposition 1 data set, shared by prop1 and prop2."""
    p.add_argument("--alpha", type=finite_float, required=True, help="soft threshold α ≥ 0 (0: affine decoder)")
    p.add_argument("--n", type=int, default=20, help="number of data points (default 20)")
    p.add_argument("--d", type=int, default=3, help="data dimension (default 3)")
    p.add_argument("--kappa", type=int, default=kappa, help=f"latent size κ < d (default {kappa})")
    p.add_argument("--seed", type=seed, default=0, help="seed of the data set and the restarts (default 0)")


def _problem(check, *args, **kwargs) -> str | None:
    """The message of the library's ``ValueError`` for these arguments, or None where the check passes."""
    try:
        check(*args, **kwargs)
    except ValueError as err:
        return str(err)
    return None


def count_problem(name: str, value: int, minimum: int) -> str | None:
    """`landscape.common.checks.check_size` on an integer from the command line: its message, or None."""
    from landscape.common import checks

    return _problem(checks.check_size, name, value, minimum)


def prop1_dataset_problem(*, n: int, d: int, kappa: int, alpha: float | None = None) -> str | None:
    """What `prop1_dataset` would refuse in these (parsed) options, in its words, or None.

    The library's own checks (``check_alpha``, ``check_size`` and ``check_kappa(..., strict_below_d=True)``
    of `landscape.common.checks`), which import NumPy but not JAX.
    """
    from landscape.common import checks

    return (
        (None if alpha is None else _problem(checks.check_alpha, alpha))
        or count_problem("n", n, 2)
        or count_problem("d", d, 2)
        or _problem(checks.check_kappa, kappa, d, strict_below_d=True)
    )


def check_count(parser, name: str, value: int, minimum: int) -> None:
    """A count the library needs >= ``minimum`` (`count_problem`), as the parser's one-line error."""
    problem = count_problem(name, value, minimum)
    if problem:
        parser.error(problem)


def check_prop1_dataset(parser, *, n: int, d: int, kappa: int, alpha: float | None = None) -> None:
    """The sizes (and α) of a Proposition 1 data set (`prop1_dataset_problem`), as the one-line error."""
    problem = prop1_dataset_problem(n=n, d=d, kappa=kappa, alpha=alpha)
    if problem:
        parser.error(problem)


def check_dataset_args(parser, args) -> None:
    """--alpha, --n, --d and --kappa of `add_dataset_args` (see `check_prop1_dataset`)."""
    check_prop1_dataset(parser, n=args.n, d=args.d, kappa=args.kappa, alpha=args.alpha)


def add_output_args(p: argparse.ArgumentParser, *, plot: str) -> None:
    p.add_argument("--json", metavar="PATH", help="write the results, configuration, seed and versions as JSON")
    p.add_argument("--plot", metavar="PATH", help=plot)
