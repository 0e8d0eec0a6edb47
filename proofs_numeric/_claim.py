"""What every module of `proofs_numeric` returns: a claim, its method, and measured checks.

A `Claim` is the unit of the report. It holds the statement being verified, how it was
verified, the symbolic derivations (LaTeX) if any, and a list of `Check`s, each a
measured error against a tolerance. A claim passes only if it has at least one check
and every check passes; a NaN error fails.

Each module defines ``run(fast=False) -> Claim`` and ends with
``raise SystemExit(main(run))`` so that ``python -m proofs_numeric.<name>`` prints the
claim and exits non-zero on FAIL.
"""

from __future__ import annotations

import importlib
import math
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field, replace

__all__ = ["Check", "Claim", "Derivation", "main", "run_one", "timed"]


@dataclass(frozen=True)
class Check:
    """One measured comparison.

    Attributes:
      quantity: what was compared, in words.
      error: the measured error (its kind, absolute or relative, is said in ``quantity``).
        For a count, the absolute difference from the prediction.
      tol: passes if ``error <= tol``.
      detail: the numbers behind the error (measured and predicted values).
    """

    quantity: str
    error: float
    tol: float
    detail: str = ""

    @property
    def passed(self) -> bool:
        return math.isfinite(self.error) and self.error <= self.tol

    @property
    def ratio(self) -> float:
        """error / tol (∞ for a non-finite error): how close the check came to failing."""
        if not math.isfinite(self.error):
            return math.inf
        if self.tol == 0:
            return 0.0 if self.error == 0 else math.inf
        return self.error / self.tol


@dataclass(frozen=True)
class Derivation:
    """A symbolic result, as LaTeX display math, with a sentence saying how it was obtained."""

    title: str
    latex: str
    how: str = ""


@dataclass(frozen=True)
class Claim:
    """A claim of the paper (or of MATH.md), how it was checked, and the evidence."""

    name: str
    claim: str
    method: str
    checks: tuple[Check, ...]
    derivations: tuple[Derivation, ...] = ()
    notes: tuple[str, ...] = ()
    config: dict = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(c.passed for c in self.checks)

    @property
    def worst(self) -> Check | None:
        """The check closest to (or furthest past) its tolerance."""
        return max(self.checks, key=lambda c: c.ratio, default=None)

    @property
    def verdict(self) -> str:
        return "PASS" if self.passed else "FAIL"

    def text(self) -> str:
        """The plain-text account printed by ``python -m proofs_numeric.<name>``."""
        lines = [f"[{self.name}] {self.claim}", f"  method: {self.method}"]
        for d in self.derivations:
            lines.append(f"  derived: {d.title}: {d.latex}")
        for c in self.checks:
            mark = "ok  " if c.passed else "FAIL"
            lines.append(
                f"  {mark} {c.quantity}: error {c.error:.3g} (tol {c.tol:.1g}){' ' + c.detail if c.detail else ''}"
            )
        for n in self.notes:
            lines.append(f"  note: {n}")
        w = self.worst
        worst = f"{w.error:.3g} (tol {w.tol:.1g})" if w else "no checks"
        lines.append(f"  {self.verdict}: worst error {worst}, {self.seconds:.1f} s")
        return "\n".join(lines)

    def markdown(self) -> str:
        """The section of REPORT.md for this claim."""
        out = [
            f"## `{self.name}`: {self.verdict}",
            "",
            f"**Claim.** {self.claim}",
            "",
            f"**Method.** {self.method}",
            "",
        ]
        if self.derivations:
            out.append("**Derivations.**")
            out.append("")
            for d in self.derivations:
                out.append(f"- {d.title}{' (' + d.how + ')' if d.how else ''}:")
                out.append("")
                out.append(f"  $$ {d.latex} $$")
                out.append("")
        out += ["| check | error | tol | result | numbers |", "|---|---|---|---|---|"]
        for c in self.checks:
            detail = c.detail.replace("|", "/")
            out.append(f"| {c.quantity} | {c.error:.3g} | {c.tol:.1g} | {'ok' if c.passed else 'FAIL'} | {detail} |")
        out.append("")
        for n in self.notes:
            out.append(f"- {n}")
        if self.notes:
            out.append("")
        if self.config:
            cfg = ", ".join(f"{k} = {v}" for k, v in self.config.items())
            out += [f"Configuration: {cfg}. Time: {self.seconds:.1f} s.", ""]
        return "\n".join(out)


def timed(run: Callable[..., Claim]) -> Callable[..., Claim]:
    """Decorate a ``run`` function so that its Claim carries the wall time it took."""

    def wrapper(*args, **kwargs) -> Claim:
        t0 = time.perf_counter()
        claim = run(*args, **kwargs)
        return replace(claim, seconds=time.perf_counter() - t0)

    wrapper.__name__ = run.__name__
    wrapper.__doc__ = run.__doc__
    wrapper.__module__ = run.__module__
    return wrapper


def main(run: Callable[..., Claim], argv=None) -> int:
    """Command line of one module: run it, print the claim, return 0 on PASS and 1 on FAIL."""
    from landscape.cli.args import ArgumentParser

    parser = ArgumentParser(description=(run.__doc__ or "").strip().splitlines()[0] if run.__doc__ else None)
    parser.add_argument("--fast", action="store_true", help="the small configuration that pytest runs")
    args = parser.parse_args(argv)
    claim = run(fast=args.fast)
    print(claim.text())
    return 0 if claim.passed else 1


def run_one(name: str, fast: bool) -> Claim:
    """Run one module; an exception becomes a failed Claim that carries the traceback's last line."""
    t0 = time.perf_counter()
    try:
        module = importlib.import_module(f"proofs_numeric.{name}")
        return module.run(fast=fast)
    except Exception as err:  # reported, never swallowed: the claim fails
        last = traceback.format_exception_only(type(err), err)[-1].strip()
        return Claim(
            name=name,
            claim="(the module raised before it could check its claim)",
            method="",
            checks=(Check("module raised", float("inf"), 0.0, last),),
            seconds=time.perf_counter() - t0,
        )
