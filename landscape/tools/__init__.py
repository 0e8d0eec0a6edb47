"""Layer 1, generic tools over any objective ``f(params, *args)``: the multi-start engine,
Newton, curvature operators and their algorithms, certificates, slices, the string method.

Imports only `landscape.common`; never eq. (5) code (a test enforces it)."""
