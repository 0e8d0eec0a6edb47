"""Layer 2, companion models: Lucas et al.'s pPCA and linear VAE, Dang et al.'s conditional
and hierarchical linear VAEs, and the deep Flax models (`landscape.models.deep`, imported lazily)."""
