"""The validated data object: X and the symbols of MATH.md §4, computed once.

Every analysis of eq. (5) needs the same few statistics of the data:

    x̄ = (1/n) Σ_i x_i,          Y = X − x̄ (rows y_i),          S = YᵀY / n   (note 1/n),
    λ_1 ≥ … ≥ λ_d, u_1 … u_d     the eigenvalues of S, DESCENDING, and eigenvectors (columns),
    γ̄ = (1/nd) Σ_i ‖y_i‖² = tr S / d,

the collapsed point's decoder variance (Section 4 of the paper, MATH.md §3). `Data` holds
them, computed from one validation and one eigendecomposition. Every public function that
takes data accepts either an array X (validated there, once) or a `Data` (trusted: it was
validated when it was built), and passes the `Data` on, so nothing downstream validates or
eigendecomposes again.

Like distrax's distributions, a `Data` is validated at construction (`Data.from_array` /
`as_data`) and never again. It is a frozen pytree: the arrays are leaves, n and d are static,
so it can be passed through ``jax.jit``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import cached_property

import jax
import jax.numpy as jnp
import numpy as np

from landscape.common import checks as V
from landscape.core.units import Units

__all__ = ["Data", "as_data", "data_array"]


@dataclass(frozen=True)
class Data:
    """X (n, d) and its moments, with the names of MATH.md §4.

    Attributes:
      X: the data, float64, shape (n, d).
      x_mean: x̄, shape (d,).
      Y: X − x̄, shape (n, d).
      S: YᵀY / n, shape (d, d).
      eigenvalues: λ_l(S), descending, shape (d,).
      eigenvectors: u_l as columns, in the order of ``eigenvalues``, shape (d, d).
      gamma_bar: γ̄ = tr S / d (the trivial model's variance), a float64 scalar.
      n, d: the sizes (static).

    Build one with `Data.from_array` (or `as_data`); the plain constructor does not
    validate, it is there for pytree unflattening.
    """

    X: np.ndarray
    x_mean: np.ndarray
    Y: np.ndarray
    S: np.ndarray
    eigenvalues: np.ndarray
    eigenvectors: np.ndarray
    gamma_bar: np.ndarray
    n: int = dataclasses.field(metadata=dict(static=True), default=0)
    d: int = dataclasses.field(metadata=dict(static=True), default=0)

    @classmethod
    def from_array(cls, X, *, name: str = "X") -> Data:
        """Validate X once and compute its moments (one eigendecomposition of S).

        Raises ``ValueError`` naming the argument for X that is not 2-D, empty, has
        n < 2, NaN/inf or non-real entries, or is constant (γ̄ = 0).
        """
        n, d = V.check_data(X, name=name)
        if isinstance(X, jax.core.Tracer):
            raise ValueError(f"{name} must be a concrete array to build a Data (it is traced under jit/vmap).")
        gbar = V.check_not_constant(X, name=name)
        x = np.asarray(X, dtype=np.float64)
        x_mean = x.mean(axis=0)
        y = x - x_mean
        S = y.T @ y / n
        lam, vec = np.linalg.eigh(S)  # ascending; stored descending
        return cls(
            X=x,
            x_mean=x_mean,
            Y=y,
            S=S,
            eigenvalues=lam[::-1].copy(),
            eigenvectors=vec[:, ::-1].copy(),
            gamma_bar=np.float64(gbar),
            n=int(n),
            d=int(d),
        )

    @property
    def shape(self) -> tuple[int, int]:
        return (self.n, self.d)

    @property
    def singular_values(self) -> np.ndarray:
        """ς_l of Y, descending, min(n, d) of them: ς_l = √(n λ_l) (λ_l clipped at 0)."""
        r = min(self.n, self.d)
        return np.sqrt(self.n * np.clip(self.eigenvalues[:r], 0.0, None))

    @property
    def units(self) -> Units:
        """The data's own units: shift x̄ and scale √γ̄ (`landscape.core.units`)."""
        return Units(shift=self.x_mean, scale=float(np.sqrt(self.gamma_bar)), n=self.n, d=self.d)

    @cached_property
    def standardised(self) -> Data:
        """The same data in its standardised units, X_s = (X − x̄) / √γ̄ (built once, cached).

        Its x̄ is 0 and its γ̄ is 1 up to rounding. Analyses run on it so that their
        tolerances and step sizes do not depend on the units of X (`Units`).
        """
        units = self.units
        x = units.to_standard_data(self.X)
        x_mean = x.mean(axis=0)
        y = x - x_mean
        # S_s = S / s² exactly in exact arithmetic: its eigenvectors are S's, its eigenvalues
        # λ_l / s², so the data are neither validated nor decomposed a second time
        return Data(
            X=x,
            x_mean=x_mean,
            Y=y,
            S=y.T @ y / self.n,
            eigenvalues=self.eigenvalues / units.scale**2,
            eigenvectors=self.eigenvectors,
            gamma_bar=np.float64(np.mean(y * y)),
            n=self.n,
            d=self.d,
        )

    def n_above(self, threshold) -> int:
        """#{l : λ_l > threshold}, e.g. the active count at α = 0 for threshold γ̄ (MATH.md §4)."""
        return int(np.sum(self.eigenvalues > threshold))

    def __array__(self, dtype=None, copy=None):
        """``np.asarray(data)`` is X, so code written for arrays reads a `Data` too."""
        return self.X if dtype is None else self.X.astype(dtype)

    def __repr__(self) -> str:
        return f"Data(n={self.n}, d={self.d}, gamma_bar={float(self.gamma_bar):.6g})"


jax.tree_util.register_dataclass(Data)


def as_data(X, *, name: str = "X") -> Data:
    """``X`` if it already is a `Data`, else ``Data.from_array(X)`` (validated once here)."""
    if isinstance(X, Data):
        return X
    return Data.from_array(X, name=name)


def data_array(X, *, name: str = "X") -> jax.Array:
    """The float64 array of X or of a `Data`; X is shape- and value-checked, a `Data` is trusted.

    For functions that need only X (the energy and its derivatives), and may be called
    under ``jax.jit`` with a traced X, where a `Data` cannot be built.
    """
    if isinstance(X, Data):
        return jnp.asarray(X.X)
    V.check_data(X, name=name)
    return jnp.asarray(X, dtype=jnp.float64)
