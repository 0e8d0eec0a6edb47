"""Eq. (5) registered with the generic path tools (`landscape.tools.flat`), MATH.md §1–2.

The tools of `landscape.tools` (slices, profiles, the string method) know nothing of eq. (5).
Importing this module (``import landscape`` does) tells them:

- how to read a `VAEParams`: `as_point` (lists and float32 become float64 arrays, and the shapes
  must fit together), and
  its default filters for `filter_normalized_direction` (Li et al. 2018): W (d, κ) by column
  (column k is latent k's decoder filter), mu and log_sigma (n, κ) by row (one filter per data
  point), b and log γ one filter each;
- the argument checks of `energy_objective`, which the tools run once per call: args must be
  (X, alpha) or (X, alpha, gamma), params a `VAEParams` whose shapes fit X, as `energy` checks.
"""

from __future__ import annotations

from landscape.core.energy import check_energy_args as check_args
from landscape.core.energy import energy_objective
from landscape.core.params import VAEParams, as_point
from landscape.tools.flat import register_objective_check, register_params_type

__all__ = ["VAE_FILTER_AXES", "check_objective_args"]

# per field of VAEParams (W, b, log_gamma, mu, log_sigma): the axis that enumerates its filters
VAE_FILTER_AXES = (1, None, None, 0, 0)


def check_objective_args(params, args: tuple) -> None:
    """ValueError unless ``energy_objective(params, *args)`` is a valid eq. (5) energy."""
    if len(args) not in (2, 3):
        raise ValueError(f"energy_objective needs args=(X, alpha) or (X, alpha, gamma), got {len(args)}.")
    if not isinstance(params, VAEParams):
        raise ValueError(f"energy_objective needs params to be a landscape.VAEParams, got {type(params).__name__}.")
    check_args(params, args[0], args[1], args[2] if len(args) == 3 else None)  # `energy`'s checks


register_params_type(VAEParams, normalize=as_point, filter_axes=VAE_FILTER_AXES)
register_objective_check(energy_objective, check_objective_args)
