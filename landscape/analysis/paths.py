"""Slices of the landscape and minimum-energy paths between two points (MATH.md §4–5).

The module path ``landscape.paths`` of landscape 0.1, kept as a façade. The tools are generic,
for any jittable scalar objective ``f(params, *args)`` over a pytree, and live in
`landscape.tools`; the eq. (5) path of Proposition 1 lives in `landscape.analysis.prop1_path`:

- directions (`FilterDirection`, `filter_normalized_direction`, `segment_direction`):
  `landscape.tools.directions`;
- slices (`Slice1D`, `Slice2D`, `slice_1d`, `slice_2d`): `landscape.tools.slices`;
- re-minimised slices (`Profile1D`, `profile_1d`): `landscape.tools.profile`;
- the string method with a climbing image and a polished, certified saddle
  (`MinimumEnergyPath`, `minimum_energy_path`): `landscape.tools.string_method`, with
  `landscape.tools.string_kernel` and `landscape.tools.saddle`;
- `prop1_path`, the pass out of the collapsed minimum of Proposition 1:
  `landscape.analysis.prop1_path`.

Eq. (5)'s `VAEParams` and `energy_objective` are registered with the tools by
`landscape.analysis.eq5_bindings`.
"""

from landscape.analysis import eq5_bindings  # noqa: F401  (registers eq. (5) with the path tools)
from landscape.analysis.prop1_path import prop1_path
from landscape.tools.directions import FilterDirection, filter_normalized_direction, segment_direction
from landscape.tools.profile import Profile1D, profile_1d
from landscape.tools.slices import Slice1D, Slice2D, slice_1d, slice_2d
from landscape.tools.string_method import MinimumEnergyPath, minimum_energy_path

__all__ = [
    "FilterDirection",
    "Slice1D",
    "Slice2D",
    "Profile1D",
    "MinimumEnergyPath",
    "filter_normalized_direction",
    "segment_direction",
    "slice_1d",
    "slice_2d",
    "profile_1d",
    "minimum_energy_path",
    "prop1_path",
]
