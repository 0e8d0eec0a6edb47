"""Deep MLP autoencoders and VAEs (Flax NNX) for the paper's Section 6, tied to the exact tools.

- `landscape.deep.models`: `DeepAE`, `DeepVAE` (ReLU MLPs of configurable depth and width), and their
  energies as pure functions of an NNX state (`vae_energy`, eq. (5); `ae_loss`).
- `landscape.deep.train`: `train`, jitted optax Adam, several seeds at once with ``jax.vmap``; optional KL
  warm-start, free bits and aggressive inference (cures of posterior collapse, issue 21).
- `landscape.deep.data`: scikit-learn's digits (shipped in the wheel) and Fashion-MNIST from local files.
- `landscape.deep.collapsed`: the collapsed stationary point of MATH.md §7 at any depth (`collapsed_vae`).
- `landscape.deep.analysis`: float64 metrics (eq. (7), γ* of eq. (9), collapsed dimensions by KL and the
  dimensions the decoder ignores, σ_z) and γ′ of Proposition 2 for a trained decoder held fixed (`gamma_prime`).
"""

from landscape.models.deep.analysis import (
    SIGMA_BINS,
    GammaPrime,
    decoder_ignored_dims,
    decoder_of,
    evaluate_ae,
    evaluate_vae,
    gamma_prime,
    kl_stats,
)
from landscape.models.deep.collapsed import antithetic_normal, collapsed_energy_deep, collapsed_vae, cubature_rule
from landscape.models.deep.data import DATASETS, check_training_data, load_dataset, load_digits, load_fashion_mnist
from landscape.models.deep.models import (
    ACTIVATIONS,
    KINDS,
    PAPER_DEPTHS,
    PAPER_WIDTH,
    Decoder,
    DeepAE,
    DeepVAE,
    Encoder,
    ae_loss,
    cast_state,
    check_architecture,
    make_model,
    vae_energy,
)
from landscape.models.deep.train import TrainConfig, TrainResult, kl_weight, train

__all__ = [
    "SIGMA_BINS",
    "GammaPrime",
    "decoder_ignored_dims",
    "decoder_of",
    "evaluate_ae",
    "evaluate_vae",
    "gamma_prime",
    "kl_stats",
    "antithetic_normal",
    "collapsed_energy_deep",
    "collapsed_vae",
    "cubature_rule",
    "DATASETS",
    "check_training_data",
    "load_dataset",
    "load_digits",
    "load_fashion_mnist",
    "ACTIVATIONS",
    "KINDS",
    "PAPER_DEPTHS",
    "PAPER_WIDTH",
    "Decoder",
    "DeepAE",
    "DeepVAE",
    "Encoder",
    "ae_loss",
    "cast_state",
    "check_architecture",
    "make_model",
    "vae_energy",
    "TrainConfig",
    "TrainResult",
    "kl_weight",
    "train",
]
