"""Standardised units: eq. (5) is equivariant under an affine change of the data's units.

For c > 0 and a shift t ∈ ℝ^d, the map

    X → c X + t,   W → c W,   b → c b + t,   α → c α,   γ → c² γ   (μ, σ unchanged)

leaves every term of eq. (5) unchanged except n d log γ, so it shifts the energy by the
constant 2 n d log c: π_{cα}(c u) = c π_α(u) (the soft threshold is positively
homogeneous), so the residual x_i − π_α(W z) − b scales by c and its square over γ is
invariant, and the KL terms do not involve the data at all.

Every analysis therefore works in *standardised units*: the data's own shift x̄ and scale
s = √γ̄ (γ̄ = tr S / d, the collapsed point's variance, MATH.md §3),

    X_s = (X − x̄) / s,   W_s = W / s,   b_s = (b − x̄) / s,   α_s = α / s,   γ_s = γ / s²,

where the collapsed point is W = 0, b = 0, γ = 1, and reports in the user's units with

    L(θ; X, α) = L(θ_s; X_s, α_s) + 2 n d log s        (`Units.energy_offset`).

Tolerances on gradients and Hessian eigenvalues are then stated in standardised units, so
a certificate, a search or a threshold count is the same whatever the units of X; only
rounding (about 1e-16 relative on X_s) distinguishes two rescalings. `Units` holds (x̄, s)
and converts parameters, α, γ and energies both ways.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from landscape.core.params import VAEParams

__all__ = ["Units"]


@dataclass(frozen=True)
class Units:
    """The affine units x = shift + scale · x_s of a data set (shift x̄, scale √γ̄).

    Attributes:
      shift: x̄, shape (d,).
      scale: s = √γ̄ > 0.
      n, d: the data's sizes (for the energy offset 2 n d log s).

    All conversions act on NumPy or JAX arrays, batched or not (W's last two axes are
    (d, κ), b's last axis is d).
    """

    shift: np.ndarray
    scale: float
    n: int
    d: int

    @property
    def log_scale(self) -> float:
        return float(np.log(self.scale))

    @property
    def energy_offset(self) -> float:
        """2 n d log s: L in the user's units minus L in standardised units."""
        return 2.0 * self.n * self.d * self.log_scale

    def to_standard_data(self, X) -> np.ndarray:
        """X_s = (X − x̄) / s."""
        return (np.asarray(X, dtype=np.float64) - self.shift) / self.scale

    def to_standard_alpha(self, alpha):
        """α_s = α / s."""
        return alpha / self.scale

    def to_standard_gamma(self, gamma):
        """γ_s = γ / s² (None stays None: γ is learned)."""
        return None if gamma is None else gamma / self.scale**2

    def from_standard_gamma(self, gamma_s):
        """γ = s² γ_s."""
        return gamma_s * self.scale**2

    def to_standard_params(self, params: VAEParams) -> VAEParams:
        """θ → θ_s: W / s, (b − x̄) / s, log γ − 2 log s; μ and log σ unchanged."""
        return VAEParams(
            W=params.W / self.scale,
            b=(params.b - self.shift) / self.scale,
            log_gamma=params.log_gamma - 2.0 * self.log_scale,
            mu=params.mu,
            log_sigma=params.log_sigma,
        )

    def from_standard_params(self, params: VAEParams) -> VAEParams:
        """θ_s → θ: s W_s, x̄ + s b_s, log γ_s + 2 log s; μ and log σ unchanged."""
        return VAEParams(
            W=params.W * self.scale,
            b=self.shift + params.b * self.scale,
            log_gamma=params.log_gamma + 2.0 * self.log_scale,
            mu=params.mu,
            log_sigma=params.log_sigma,
        )

    def to_standard_energy(self, energy):
        """L_s = L − 2 n d log s."""
        return energy - self.energy_offset

    def from_standard_energy(self, energy_s):
        """L = L_s + 2 n d log s."""
        return energy_s + self.energy_offset

    def to_dict(self) -> dict:
        return {"shift": np.asarray(self.shift).tolist(), "scale": float(self.scale)}
