"""Argument checks shared by the library and the command-line tools.

Each check raises ``ValueError`` naming the argument and saying how to fix it. Value
checks (finiteness, signs) run only on concrete inputs: under ``jax.jit`` or
``jax.vmap`` the values are tracers and only the static shapes can be checked.
"""

from __future__ import annotations

import math
import sys

import numpy as np

# JAX is imported only where a check needs it (`check_key`), so that the command-line tools can use
# these rules before they import JAX (`landscape.cli.args`): a value cannot be a tracer until JAX is loaded.


def is_tracer(x) -> bool:
    """Whether ``x`` is a JAX tracer (a value under ``jit``/``vmap``); False whenever JAX is not loaded."""
    jax = sys.modules.get("jax")
    return jax is not None and isinstance(x, jax.core.Tracer)


def concrete(x):
    """``np.asarray(x)`` for a concrete value, or ``None`` for a tracer."""
    if is_tracer(x):
        return None
    return np.asarray(x)


def is_real_dtype(dtype) -> bool:
    """An integer or floating dtype (not bool, not complex, not object)."""
    return dtype != np.bool_ and (np.issubdtype(dtype, np.integer) or np.issubdtype(dtype, np.floating))


def as_real(x):
    """A number as the float computations need: an integer becomes a float, anything else is unchanged.

    A Python or NumPy integer becomes a Python float (weakly typed under ``jit``, like a float
    literal, so it never promotes a float32 computation); an integer array or tracer becomes
    ``x + 0.0``. Floats are returned as given, so valid float inputs give the same numbers.
    Integers must become floats before autodiff: JAX gives an integer argument a ``float0``
    tangent, which the closed-form derivatives of eq. (5) (`landscape.core.moments`) cannot use.
    """
    if isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_)):
        return float(x)
    dtype = getattr(x, "dtype", None)
    if dtype is not None and dtype != np.bool_ and np.issubdtype(dtype, np.integer):
        return x + 0.0
    return x


def leaf_dtype(name: str, leaf, what: str):
    """The dtype of an array-like pytree leaf, without converting a tracer (which has one).

    Raises ``ValueError`` "{name} must {what}: ..." where NumPy cannot make an array of it.
    """
    dtype = getattr(leaf, "dtype", None)
    if dtype is None:
        try:
            dtype = np.asarray(leaf).dtype
        except (TypeError, ValueError) as err:
            raise ValueError(f"{name} must {what}: {err}") from None
    return dtype


def _check_number(name, x, hint):
    if isinstance(x, (bool, np.bool_)) or x.dtype == np.bool_:
        raise ValueError(f"{name} must be a number, got the boolean {x!r}; {hint}")
    if np.issubdtype(x.dtype, np.complexfloating):
        raise ValueError(f"{name} must be a real number, got the complex {x!r}; {hint}")
    if not is_real_dtype(x.dtype):
        raise ValueError(f"{name} must be a number, got {x!r} of type {x.dtype}; {hint}")


def check_alpha(alpha):
    """α ≥ 0, finite, a real scalar; returns it, an integer as a float (`as_real`)."""
    if isinstance(alpha, (bool, np.bool_)):
        raise ValueError(f"alpha must be a finite number >= 0, got the boolean {alpha!r}.")
    a = concrete(alpha)
    if a is None:
        return as_real(alpha)
    _check_number("alpha", a, "pass a float >= 0 (0 is the affine decoder).")
    if a.ndim != 0:
        raise ValueError(f"alpha must be a scalar, got an array of shape {a.shape}.")
    if not np.isfinite(a) or a < 0:
        raise ValueError(f"alpha must be a finite number >= 0 (alpha = 0 is the affine decoder), got {float(a)!r}.")
    return as_real(alpha)


def check_gamma(gamma):
    """γ > 0, finite, a real scalar, or None (learned); returns it, an integer as a float (`as_real`)."""
    if gamma is None:
        return None
    if isinstance(gamma, (bool, np.bool_)):
        raise ValueError(f"gamma must be a finite number > 0, got the boolean {gamma!r}.")
    g = concrete(gamma)
    if g is None:
        return as_real(gamma)
    _check_number("gamma", g, "pass a float > 0, or gamma=None to learn it.")
    if g.ndim != 0:
        raise ValueError(f"gamma must be a scalar, got an array of shape {g.shape}.")
    if not np.isfinite(g) or g <= 0:
        raise ValueError(
            f"gamma must be a finite number > 0 (it is the decoder variance), got {float(g)!r}; "
            "pass gamma=None to learn it through log_gamma."
        )
    return as_real(gamma)


SIZE_LIMIT = 2**31  # counts and sizes are < 2**31: larger ones cannot be allocated, iterated or passed to jit


def _check_below_limit(name: str, value: int) -> None:
    if value >= SIZE_LIMIT:
        raise ValueError(
            f"{name} must be < 2**31 = {SIZE_LIMIT} (a count or size this large cannot be allocated or "
            f"iterated), got {value}."
        )


def check_kappa(kappa, d: int | None = None, *, strict_below_d: bool = False) -> int:
    """κ, the latent size: an integer in [1, 2**31) (and < d with ``strict_below_d``); returns it as int."""
    if isinstance(kappa, bool) or not isinstance(kappa, (int, np.integer)):
        raise ValueError(f"kappa must be an integer >= 1 (the latent size), got {kappa!r}.")
    if kappa < 1:
        raise ValueError(f"kappa must be >= 1 (the latent size), got {kappa}.")
    _check_below_limit("kappa", int(kappa))
    if strict_below_d and d is not None and kappa >= d:
        raise ValueError(
            f"kappa must be < d for a Proposition 1 data set (data on a kappa-dimensional "
            f"decoder range inside R^d), got kappa = {kappa} with d = {d}; lower kappa or raise d."
        )
    return int(kappa)


def check_size(name: str, value, minimum: int) -> int:
    """A count: a Python or NumPy integer in [``minimum``, 2**31); returns it as int (a tracer passes unchecked)."""
    if is_tracer(value):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}.")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}.")
    _check_below_limit(name, int(value))
    return int(value)


SEED_LIMIT = 2**63  # seeds are integers in [0, 2**63): JAX's and NumPy's keys take them without overflow


def check_seed(name: str, value) -> int:
    """A seed: a Python or NumPy integer in [0, 2**63); returns it as int (no bool, no float)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer seed in [0, 2**63), got {value!r} ({type(value).__name__}).")
    if not 0 <= int(value) < SEED_LIMIT:
        raise ValueError(f"{name} must be an integer seed in [0, 2**63), got {int(value)}.")
    return int(value)


def _real_scalar(name: str, value, what: str) -> float:
    """A Python or NumPy real number, or a real 0-d array, as a float (no bool, no complex)."""
    scalar = isinstance(value, (int, float, np.integer, np.floating))
    array = hasattr(value, "dtype") and np.ndim(value) == 0 and is_real_dtype(value.dtype)
    if isinstance(value, (bool, np.bool_)) or not (scalar or array):
        raise ValueError(f"{name} must be {what}, got {value!r} ({type(value).__name__}).")
    return float(value)


def check_key(name: str, key):
    """A JAX PRNG key: a typed scalar key (``jax.random.key(seed)``) or a raw uint32 key of shape (2,)
    (``jax.random.PRNGKey(seed)``); returns it. A tracer is checked on dtype and shape only."""
    import jax

    dtype, shape = getattr(key, "dtype", None), getattr(key, "shape", None)
    if dtype is not None and not isinstance(key, (bool, np.bool_)):
        if jax.dtypes.issubdtype(dtype, jax.dtypes.prng_key) and shape == ():
            return key
        if dtype == np.uint32 and shape == (2,):
            return key
    raise ValueError(
        f"{name} must be a JAX PRNG key, e.g. jax.random.key(0) (a typed scalar key) or jax.random.PRNGKey(0), "
        f"got {type(key).__name__}" + ("" if dtype is None else f" of dtype {dtype} and shape {shape}") + "."
    )


def check_gammas(gamma, *, name: str = "gamma") -> np.ndarray:
    """Decoder variances γ at which a closed form is evaluated: a real scalar or a non-empty 1-D array,
    every entry finite and > 0; returns it as a float array (0-d for a scalar)."""
    if isinstance(gamma, (bool, np.bool_)):
        raise ValueError(f"{name} must hold finite numbers > 0 (decoder variances), got the boolean {gamma!r}.")
    try:
        g = np.asarray(gamma)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must hold finite numbers > 0 (decoder variances): {err}") from None
    if g.ndim > 1 or g.size == 0:
        raise ValueError(f"{name} must be a number or a non-empty 1-D array of them, got shape {g.shape}.")
    if not is_real_dtype(g.dtype) or not np.all(np.isfinite(g) & (g > 0)):
        raise ValueError(f"{name} must hold finite numbers > 0 (decoder variances), got {gamma!r}.")
    return g.astype(np.float64)


def check_tolerance(name: str, value, *, allow_zero: bool = False, below: float | None = None):
    """A tolerance: a finite real number > 0 (``allow_zero``: >= 0), and < ``below`` if given; returns a float.

    A tracer (under ``jit``) is returned unchecked.
    """
    if is_tracer(value):
        return value
    low = ">= 0" if allow_zero else "> 0"
    what = f"a finite number {low}" + ("" if below is None else f" and < {below:g}")
    x = _real_scalar(name, value, what)
    if not math.isfinite(x) or x < 0 or (x == 0 and not allow_zero) or (below is not None and x >= below):
        raise ValueError(f"{name} must be {what}, got {value!r}.")
    return x


def check_optional_tolerance(name: str, value, **kwargs) -> float | None:
    """`check_tolerance`, or None (a default that is computed later)."""
    return None if value is None else check_tolerance(name, value, **kwargs)


def check_zero_tolerance(tol, rtol) -> None:
    """An inertia's zero tolerance: ``tol`` None or a finite number >= 0, ``rtol`` a finite number in [0, 1)."""
    check_optional_tolerance("tol", tol, allow_zero=True)
    check_tolerance("rtol", rtol, allow_zero=True, below=1)


def check_positive(name: str, value) -> float:
    """A finite real number > 0 (a tolerance, a learning rate, a grid end); returns it as float."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}.")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}.")
    return float(value)


def check_data(X, *, name: str = "X"):
    """X must be 2-D (n, d) with n >= 2, d >= 1, and finite; returns (n, d)."""
    shape = np.shape(X)
    if len(shape) != 2:
        raise ValueError(f"{name} must be a 2-D array of shape (n, d), one row per data point; got shape {shape}.")
    n, d = shape
    x = concrete(X)
    if x is not None and not is_real_dtype(x.dtype):
        raise ValueError(f"{name} must hold real numbers, got dtype {x.dtype}.")
    if n == 0 or d == 0:
        raise ValueError(f"{name} is empty (shape {shape}); it needs n >= 2 rows and d >= 1 columns.")
    if n < 2:
        raise ValueError(f"{name} needs at least n = 2 data points, got n = {n}.")
    if x is not None and not np.all(np.isfinite(x)):
        bad = int(np.size(x) - np.count_nonzero(np.isfinite(x)))
        raise ValueError(f"{name} contains {bad} NaN or inf entries; remove or impute them first.")
    return n, d


def check_not_constant(X, *, name: str = "X") -> float:
    """γ̄ = (1/nd) Σ‖x_i − x̄‖² must be > 0; returns it (for concrete X)."""
    x = concrete(X)
    if x is None:
        return math.nan
    gbar = float(np.mean((x - x.mean(axis=0)) ** 2))
    # Equal rows are constant data even when rounding in the mean leaves γ̄ ≈ 1e-32 > 0.
    if not gbar > 0 or not np.any(np.ptp(x, axis=0) > 0):
        raise ValueError(
            f"{name} is constant (every row equals the mean, so gamma_bar = 0); the collapsed "
            "point and eq. (5) need data with some spread."
        )
    return gbar


def check_points(X, *, name: str = "X"):
    """`check_data` for quantities defined point by point (a likelihood log p(x_i)), where one
    data point (n = 1) is enough; returns (n, d)."""
    shape = np.shape(X)
    if len(shape) == 2 and 0 in shape:
        raise ValueError(f"{name} is empty (shape {shape}); it needs n >= 1 rows and d >= 1 columns.")
    if len(shape) == 2 and shape[0] == 1:
        x = concrete(X)
        if x is not None:  # check_data's dtype and finiteness checks, on the row beside a zero row
            check_data(np.concatenate([x, np.zeros_like(x)]), name=name)
        return shape
    return check_data(X, name=name)


# ------------------------------------------------------------------ checks shared by the companion models


def with_hint(hint: str, check, *args, **kwargs):
    """``check(*args, **kwargs)``, with ``hint`` (how to fix it) appended to the ValueError it raises."""
    try:
        return check(*args, **kwargs)
    except ValueError as err:
        if not hint:
            raise
        raise ValueError(f"{err} {hint}") from None


def check_real_array(name: str, a):
    """``a`` as an array of real numbers (integers or floats; no bool, complex, string or object), else
    ValueError naming ``name``; returns ``np.asarray(a)``, or a tracer as given (its dtype checked)."""
    if is_tracer(a):
        x = a
    else:
        try:
            x = np.asarray(a)
        except (TypeError, ValueError) as err:
            raise ValueError(f"{name} must be an array of real numbers: {err}") from None
    if not is_real_dtype(x.dtype):
        what = {"b": "bool", "c": "complex"}.get(np.dtype(x.dtype).kind, f"dtype {x.dtype}")
        raise ValueError(f"{name} must hold real numbers (integers or floats), got {what} entries.")
    return x


def check_finite(name: str, a) -> None:
    """A real (numeric) array without NaN or inf; checked only for a concrete value."""
    x = concrete(a)
    if x is None:
        return
    if not is_real_dtype(x.dtype):
        raise ValueError(f"{name} must hold real numbers, got dtype {x.dtype}.")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} contains NaN or inf entries.")


def check_positive_scalar(name: str, value, hint: str = "") -> float | None:
    """A finite scalar > 0, a Python number or a 0-d array; returns it as a float (None for a tracer).

    ``hint`` is appended verbatim to the error (start it with a space).
    """
    if isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be a finite number > 0, got the boolean {value!r}.{hint}")
    if np.ndim(value) != 0:
        raise ValueError(f"{name} must be a scalar, got an array of shape {np.shape(value)}.{hint}")
    x = concrete(value)
    if x is None:
        return None
    if not is_real_dtype(x.dtype):
        raise ValueError(f"{name} must be a real number, got {value!r}.{hint}")
    if not np.isfinite(x) or x <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {float(x)!r}.{hint}")
    return float(x)


def check_std(name: str, value, hint: str = "") -> float | None:
    """A standard deviation: `check_positive_scalar`, and in [1e-150, 1e150], so that its square
    and the inverse square that the losses use are finite float64 numbers (not an overflow)."""
    x = check_positive_scalar(name, value, hint)
    if x is not None and not 1e-150 <= x <= 1e150:
        raise ValueError(
            f"{name} must lie in [1e-150, 1e150] (its square must be a finite float64), got {x!r}.{hint}"
        )
    return x


def check_sigma2(sigma2) -> float | None:
    """The pPCA noise variance σ² (γ of eq. 5 at α = 0): a finite scalar in [1e-300, 1e300]
    (`check_positive_scalar`; beyond, WWᵀ + σ²I and its inverse are not finite float64 numbers)."""
    hint = " It is the noise variance σ² (gamma in eq. 5)."
    x = check_positive_scalar("sigma2", sigma2, hint)
    if x is not None and not 1e-300 <= x <= 1e300:
        raise ValueError(f"sigma2 must lie in [1e-300, 1e300] (a variance float64 can invert), got {x!r}.{hint}")
    return x


def check_unit_interval(name: str, value) -> float:
    """A number in the open interval (0, 1); returns it as float."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a number in (0, 1), got {value!r}.")
    if not (np.isfinite(value) and 0 < value < 1):
        raise ValueError(f"{name} must be in the open interval (0, 1), got {value!r}.")
    return float(value)


def check_kappa_le_d(kappa, d: int) -> int:
    """`check_kappa`, and κ ≤ d (a latent per data dimension at most)."""
    kappa = check_kappa(kappa)
    if kappa > d:
        raise ValueError(f"kappa must be <= d = {d} (a latent per data dimension at most), got kappa = {kappa}.")
    return kappa


def check_eigenvalues(eigenvalues, *, name: str = "eigenvalues", sort: bool = True) -> np.ndarray:
    """A covariance spectrum: non-empty, 1-D, finite, ≥ 0 (to rounding); returned descending, clipped at 0.

    With ``sort=False`` it must already be descending (indices into it then keep their meaning).
    """
    lam = np.asarray(eigenvalues)
    if lam.ndim != 1 or lam.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array (the eigenvalues of S), got shape {lam.shape}.")
    if not is_real_dtype(lam.dtype):
        raise ValueError(f"{name} must hold real numbers, got dtype {lam.dtype}.")
    lam = lam.astype(np.float64)
    if not np.all(np.isfinite(lam)):
        raise ValueError(f"{name} contains NaN or inf entries.")
    if np.any(lam < -1e-12 * max(1.0, float(np.max(np.abs(lam))))):
        raise ValueError(f"{name} must be >= 0 (a covariance spectrum), got min {float(lam.min()):.6g}.")
    if not sort and np.any(np.diff(lam) > 0):
        raise ValueError(f"{name} must be sorted in descending order (active indexes into it), got {lam}.")
    return np.sort(np.clip(lam, 0.0, None))[::-1].copy()


def check_moment(name: str, M, shape: tuple[int, ...], *, symmetric: bool) -> np.ndarray:
    """A second-moment matrix of the given shape, finite (and symmetric if asked); returned as float64."""
    M = np.asarray(M, dtype=np.float64)
    if M.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {M.shape}.")
    check_finite(name, M)
    if symmetric and not np.allclose(M, M.T, rtol=1e-10, atol=1e-12 * max(1.0, float(np.abs(M).max()))):
        raise ValueError(f"{name} must be symmetric (a second-moment matrix); symmetrise it as (M + M.T) / 2.")
    return M
