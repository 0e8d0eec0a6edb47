"""Layer 3, analyses of eq. (5) built on the core and the tools: search and basins, the
Proposition 1 certificate and profiles, Proposition 2, the likelihood studies."""
