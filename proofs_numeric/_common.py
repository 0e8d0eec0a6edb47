"""Small numeric helpers shared by the checks: errors, random data, sympy evaluation."""

from __future__ import annotations

import numpy as np

__all__ = ["rel_error", "max_rel_error", "random_data", "TOL_SYMBOLIC"]

#: Symbolic results are compared with the library at random points to this relative error.
TOL_SYMBOLIC = 1e-10


def rel_error(measured, reference, floor: float = 1.0) -> float:
    """max |measured − reference| / max(floor, max |reference|): relative, but absolute near 0."""
    a = np.asarray(measured, dtype=float)
    b = np.asarray(reference, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} and {b.shape}")
    scale = max(floor, float(np.max(np.abs(b))) if b.size else 0.0)
    err = float(np.max(np.abs(a - b))) if a.size else 0.0
    return err / scale if np.isfinite(err) else float("inf")


def max_rel_error(pairs, floor: float = 1.0) -> float:
    """The largest `rel_error` over (measured, reference) pairs, elementwise scaled."""
    return max(rel_error(a, b, max(floor, abs(float(b)))) for a, b in pairs)


def random_data(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    """Gaussian data with unequal column scales and a random mean (distinct eigenvalues of S)."""
    scales = rng.uniform(0.3, 2.0, size=d)
    return rng.normal(size=(n, d)) * scales + rng.normal(size=d)
