"""Layer 1, the core of eq. (5): moments of π_α, parameters, the validated data object,
the energy, the collapsed point's closed forms, the Proposition 1 data sets, and the exact
marginal likelihood. Imports only `landscape.common`."""
