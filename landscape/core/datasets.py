"""Data sets that meet the hypotheses of Proposition 1 (MATH.md §5).

Proposition 1 needs data that the soft-threshold decoder reconstructs perfectly, so that
eq. (5) is unbounded below along a reconstructing path. Data on the decoder's own
range does this:

    x_i = π_α(W* z_i) + b*,   z_i ~ N(0, I_κ),   κ < d.

The generating parameters (W*, b*, z) are kept as the *witness*: with μ_i = z_i,
σ_i = t and γ = t², the energy tends to −∞ as t → 0 with slope 2n(d − κ) in log t.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import jax.numpy as jnp
import numpy as np

from landscape.common import checks as V
from landscape.core.data import Data
from landscape.core.moments import soft_threshold
from landscape.core.params import VAEParams

__all__ = ["Prop1Witness", "Prop1Dataset", "prop1_dataset"]

_MAX_ATTEMPTS = 100


@dataclass(frozen=True)
class Prop1Witness:
    """The decoder and codes that generated a Proposition 1 data set.

    Attributes:
      W: W*, shape (d, κ).
      b: b*, shape (d,).
      Z: the codes z_i, shape (n, κ).
    """

    W: np.ndarray
    b: np.ndarray
    Z: np.ndarray

    def path_params(self, t: float) -> VAEParams:
        """The point on the reconstructing path: W*, b*, μ_i = z_i, σ_i = t, γ = t²."""
        if not np.isfinite(t) or t <= 0:
            raise ValueError(f"t must be a finite number > 0 on the reconstructing path, got {t!r}.")
        return VAEParams(
            W=jnp.asarray(self.W),
            b=jnp.asarray(self.b),
            log_gamma=jnp.asarray(2.0 * np.log(t)),
            mu=jnp.asarray(self.Z),
            log_sigma=jnp.full(self.Z.shape, np.log(t)),
        )


@dataclass(frozen=True)
class Prop1Dataset:
    """A data set on the range of the soft-threshold decoder, with its witness.

    Attributes:
      X: the data, shape (n, d).
      witness: the generating `Prop1Witness` (W*, b*, Z).
      alpha: the soft threshold α used to generate it.
      kappa: the latent size κ (< d).
      seed: the seed it was generated from.
      scale: W* was drawn as scale · N(0, 1/κ) entries.
    """

    X: np.ndarray
    witness: Prop1Witness
    alpha: float
    kappa: int
    seed: int
    scale: float

    @cached_property
    def data(self) -> Data:
        """X as a validated `Data` (x̄, Y, S, λ_l descending, u_l, γ̄), built on first use."""
        return Data.from_array(self.X)

    @property
    def n(self) -> int:
        return int(self.X.shape[0])

    @property
    def d(self) -> int:
        return int(self.X.shape[1])

    transform: tuple | None = None  # (c, t) when made by `rescaled`: X = c · X_drawn + t

    def config(self) -> dict:
        out = {
            "alpha": self.alpha,
            "n": self.n,
            "d": self.d,
            "kappa": self.kappa,
            "seed": self.seed,
            "scale": self.scale,
        }
        if self.transform is not None:
            c, t = self.transform
            out["rescaled"] = {"c": float(c), "t": np.asarray(t, dtype=float).tolist()}
        return out

    def rescaled(self, c, t=0.0) -> Prop1Dataset:
        """The same data set in other units: X → c X + t, with α → c α, W* → c W*, b* → c b* + t.

        Again a Proposition 1 data set, since π_{cα}(c u) = c π_α(u) for c > 0, and eq. (5)
        on it is eq. (5) on this one with L shifted by 2 n d log c (`landscape.core.units`).
        ``t`` is a scalar or a (d,) vector. The new X is rounded to float64 once: for
        |t| ≫ c · spread(X) it keeps fewer digits of the data (at |t| = 1e8 c about 8).
        """
        c = V.check_tolerance("c", c)
        V.check_finite("t", np.asarray(t))
        if np.ndim(t) not in (0, 1) or np.size(t) not in (1, self.d):
            raise ValueError(f"t must be a scalar or a vector of length d = {self.d}, got shape {np.shape(t)}.")
        t = np.broadcast_to(np.asarray(t, dtype=float), (self.d,)).copy()
        c0, t0 = self.transform if self.transform is not None else (1.0, np.zeros(self.d))
        w = self.witness
        return Prop1Dataset(
            X=c * self.X + t,
            witness=Prop1Witness(W=c * w.W, b=c * w.b + t, Z=w.Z),
            alpha=c * self.alpha,
            kappa=self.kappa,
            seed=self.seed,
            scale=self.scale,
            transform=(c * c0, c * np.asarray(t0) + t),
        )

    def standardised(self) -> Prop1Dataset:
        """This data set in its standardised units (x̄ → 0, γ̄ → 1; `Data.standardised`).

        The witness is mapped with it (W*/s, (b* − x̄)/s, Z), and α → α/s, s = √γ̄.
        """
        units, std = self.data.units, self.data.standardised
        w = self.witness
        out = Prop1Dataset(
            X=std.X,
            witness=Prop1Witness(W=w.W / units.scale, b=(w.b - units.shift) / units.scale, Z=w.Z),
            alpha=units.to_standard_alpha(self.alpha),
            kappa=self.kappa,
            seed=self.seed,
            scale=self.scale,
            transform=None,
        )
        out.__dict__["data"] = std  # the cached `data`: the standardised Data already built
        return out


def prop1_dataset(
    alpha: float,
    *,
    n: int = 20,
    d: int = 3,
    kappa: int = 1,
    seed: int = 0,
    scale: float | None = None,
) -> Prop1Dataset:
    """Draw a Proposition 1 data set x_i = π_α(W* z_i) + b* (MATH.md §5).

    Args:
      alpha: soft threshold α ≥ 0 of the generating decoder.
      n: number of points (≥ 2).
      d: data dimension (> kappa).
      kappa: latent size κ (1 ≤ κ < d).
      seed: seed of a NumPy generator; the same seed gives the same data on every
        machine and backend.
      scale: W* entries are scale · N(0, 1/κ), so each pre-activation w_jᵀz has
        standard deviation ≈ scale. The default, 1 + α, keeps the fraction of
        entries that π_α zeroes below P(|N(0, 1)| < 1) ≈ 68% for every α.

    Returns:
      A `Prop1Dataset`. A draw that comes out constant (γ̄ = 0; every pre-activation
      in the dead zone, which tiny n makes possible) is redrawn from the same seed's
      next stream; ``ValueError`` if 100 draws in a row are constant.
    """
    alpha = V.check_alpha(alpha)
    n = V.check_size("n", n, 2)
    d = V.check_size("d", d, 2)
    kappa = V.check_kappa(kappa, d, strict_below_d=True)
    seed = V.check_seed("seed", seed)
    alpha = float(alpha)
    scale = 1.0 + alpha if scale is None else V.check_tolerance("scale", scale)
    # A draw whose every pre-activation falls in the dead zone |u| ≤ α is constant
    # (possible for tiny n); such a draw is replaced by the next one of the same seed.
    for attempt in range(_MAX_ATTEMPTS):
        rng = np.random.default_rng(np.random.SeedSequence([int(seed), 2020_1, attempt]))
        W = scale * rng.normal(size=(d, kappa)) / np.sqrt(kappa)
        b = rng.normal(size=d)
        Z = rng.normal(size=(n, kappa))
        X = np.asarray(soft_threshold(jnp.asarray(Z @ W.T), alpha)) + b
        if np.any(np.ptp(X, axis=0) > 0):  # not every row equal
            break
    V.check_not_constant(X, name=f"every drawn data set (alpha={alpha}, scale={scale}, seed={seed})")
    return Prop1Dataset(
        X=X, witness=Prop1Witness(W=W, b=b, Z=Z), alpha=alpha, kappa=kappa, seed=int(seed), scale=float(scale)
    )
