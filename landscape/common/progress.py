"""Progress on long work: tqdm on stderr, the same bar for every long loop of the library."""

from __future__ import annotations

import sys

from tqdm import tqdm

__all__ = ["progress_bar"]


def progress_bar(total: int, *, enabled: bool, label: str, unit: str = "restart"):
    """A tqdm bar over ``total`` units on stderr; ``enabled=False`` gives a silent one (tqdm's ``disable``).

    tqdm redraws in place on a terminal and writes sparse lines elsewhere (``mininterval``).
    Use it as a context manager and call ``update(k)`` after each chunk of k units.
    """
    return tqdm(total=total, desc=label, unit=unit, disable=not enabled, file=sys.stderr, dynamic_ncols=True)
