"""Versions and JSON output: every saved result carries what produced it."""

from __future__ import annotations

import json
import math
import platform
from dataclasses import asdict, is_dataclass
from importlib import metadata
from pathlib import Path

import numpy as np

__all__ = ["__version__", "versions", "to_jsonable", "save_json"]

DISTRIBUTION = "vae-landscape"  # the import name stays ``landscape``; ``pip install landscape`` is another project


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


__version__ = _version(DISTRIBUTION) or "0+unknown"  # from the installed package's metadata


def versions() -> dict:
    """Versions of landscape, jax, jaxlib, numpy and Python, and the JAX backend used."""
    import jax

    return {
        "landscape": __version__,
        "jax": jax.__version__,
        "jaxlib": _version("jaxlib"),
        "numpy": np.__version__,
        "python": platform.python_version(),
        "backend": jax.default_backend(),
        "x64": bool(jax.config.jax_enable_x64),
    }


def to_jsonable(obj):
    """Convert NumPy/JAX scalars and arrays, tuples and dataclasses to JSON types.

    Non-finite floats become the strings "inf", "-inf" and "nan", so the file stays
    valid JSON (which has no such numbers).
    """
    if is_dataclass(obj) and not isinstance(obj, type):
        return to_jsonable(asdict(obj))
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if hasattr(obj, "shape") and hasattr(obj, "dtype"):
        arr = np.asarray(obj)
        return to_jsonable(arr.item() if arr.ndim == 0 else arr.tolist())
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        x = float(obj)
        if math.isfinite(x):
            return x
        return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")
    return obj


def save_json(path, payload: dict) -> Path:
    """Write ``payload`` (plus ``versions`` if absent) as indented JSON."""
    payload = dict(payload)
    payload.setdefault("versions", versions())
    path = Path(path)
    if path.parent and not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(to_jsonable(payload), indent=2) + "\n")
    return path
