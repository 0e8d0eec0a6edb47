"""Jitted optax training of the deep AE and VAE, several seeds at once with ``jax.vmap``.

The NNX model is split once into ``graphdef`` and ``state``; one seed's epoch is a pure function of
(state, optimizer state, key, epoch) that scans over minibatches, and the seeds' states are stacked on
a leading axis and ``jax.vmap``-ed through that same function (no Python loop over seeds). Nothing is
reduced across seeds, so a seed's result does not depend on which other seeds train beside it
(``vectorize=False`` runs the same function one seed at a time; the tests compare the two).

Streams of randomness, per seed s (``k = PRNGKey(s)``): initialisation ``fold_in(k, 0)`` (Flax's
default initialisers), the minibatch permutation of epoch e ``fold_in(fold_in(k, 1), e)``, the
reparameterisation noise of epoch e, step j ``fold_in(fold_in(fold_in(k, 2), e), j)``.

Losses: the AE minimises (1/nd) Σ ‖x − x̂‖² per minibatch. The VAE minimises eq. (3) per minibatch
(`landscape.deep.vae_energy` / batch size, one reparameterised sample per point), with log γ learned
(its own Adam learning rate, since γ must travel orders of magnitude) and, with ``warmup_epochs > 0``,
a KL warm-start: the KL weight β rises linearly from 0 to 1 over the first ``warmup_epochs`` epochs.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from landscape.common import checks as V
from landscape.common.results import Result
from landscape.models.deep.data import check_training_data
from landscape.models.deep.models import KINDS, ae_loss, check_architecture, dtype_of, make_model, vae_energy

__all__ = ["TrainConfig", "TrainResult", "train", "kl_weight"]


@dataclass(frozen=True)
class TrainConfig(Result):
    """Everything that defines a training run except the seed and the data.

    Attributes:
      kind: "ae" or "vae".
      depth, width, latent: hidden layers in each of encoder and decoder, their width, κ.
      epochs: passes over the data; each takes ⌊n / batch_size⌋ steps (the remainder of a fresh
        permutation is dropped).
      batch_size: minibatch size (capped at n).
      learning_rate: Adam's step size for the network weights.
      gamma_learning_rate: Adam's step size for log γ (VAE).
      warmup_epochs: KL warm-start length (VAE; 0 = none): β = min(1, step / (warmup_epochs · steps/epoch)).
      gamma_init: initial γ (VAE); None starts at γ̄ = (1/nd) Σ‖x_i − x̄‖², the collapsed point's optimum.
      dtype: "float32" (fast; the reported metrics are re-evaluated in float64) or "float64".
    """

    kind: str
    depth: int
    width: int
    latent: int
    epochs: int
    batch_size: int = 128
    learning_rate: float = 1e-3
    gamma_learning_rate: float = 1e-2
    warmup_epochs: float = 0.0
    gamma_init: float | None = None
    dtype: str = "float32"

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}.")
        check_architecture(self.depth, self.width, self.latent)
        V.with_hint("Train for at least one epoch.", V.check_size, "epochs", self.epochs, 1)
        V.check_size("batch_size", self.batch_size, 1)
        V.with_hint("Adam's step size, e.g. 1e-3.", V.check_positive, "learning_rate", self.learning_rate)
        V.with_hint(
            "Adam's step size for log γ, e.g. 1e-2.", V.check_positive, "gamma_learning_rate", self.gamma_learning_rate
        )
        w = self.warmup_epochs
        if isinstance(w, bool) or not isinstance(w, (int, float)) or not math.isfinite(w) or w < 0:
            raise ValueError(f"warmup_epochs must be a finite number >= 0 (0: no KL warm-start), got {w!r}.")
        if w > 0 and self.kind != "vae":
            raise ValueError("warmup_epochs > 0 (KL warm-start) needs kind='vae'; the AE has no KL term.")
        if self.gamma_init is not None:
            V.with_hint("Or None to start at γ̄ of the data.", V.check_positive, "gamma_init", self.gamma_init)
        dtype_of(self.dtype)


@dataclass
class TrainResult:
    """Trained models for several seeds, stacked on a leading axis.

    Attributes:
      graphdef: the NNX graph definition (``nnx.merge(graphdef, state_of(i))`` rebuilds seed i's model).
      states: the stacked states, in the training dtype.
      seeds: the seeds, in the order of the leading axis.
      loss_history: (S, epochs) mean training loss per epoch (the AE's MSE, or eq. (3) per point).
      finite: (S,) whether the seed's parameters ended finite.
      config: the `TrainConfig`.
      gamma_init: the γ the VAEs started from.
      seconds: wall time of the training (compilation included).
    """

    graphdef: Any
    states: Any
    seeds: tuple
    loss_history: np.ndarray
    finite: np.ndarray
    config: TrainConfig
    gamma_init: float | None
    seconds: float
    steps_per_epoch: int = field(default=0)

    def state_of(self, i: int):
        """Seed i's state (index into ``seeds``)."""
        return jax.tree.map(lambda a: a[i], self.states)

    def model(self, i: int):
        return nnx.merge(self.graphdef, self.state_of(i))


def kl_weight(step, warmup_steps):
    """β(step) = min(1, (step + 1) / warmup_steps); 1 throughout when warmup_steps == 0."""
    if warmup_steps <= 0:
        return jnp.ones((), dtype=jnp.float32)
    return jnp.minimum(1.0, (jnp.asarray(step) + 1.0) / warmup_steps)


def _optimizer(cfg: TrainConfig):
    if cfg.kind == "ae":
        return optax.adam(cfg.learning_rate)

    def labels(state):
        def lab(path, _):
            return "gamma" if any(getattr(k, "key", None) == "log_gamma" for k in path) else "net"

        return jax.tree_util.tree_map_with_path(lab, state)

    return optax.multi_transform(
        {"net": optax.adam(cfg.learning_rate), "gamma": optax.adam(cfg.gamma_learning_rate)}, labels
    )


def _make_epoch(graphdef, cfg: TrainConfig, opt, n: int, steps_per_epoch: int, batch: int):
    warmup_steps = float(cfg.warmup_epochs) * steps_per_epoch

    def loss_fn(state, xb, key, step):
        if cfg.kind == "ae":
            return ae_loss(state, graphdef, xb)
        eps = jax.random.normal(key, (xb.shape[0], 1, cfg.latent), dtype=xb.dtype)
        beta = kl_weight(step, warmup_steps).astype(xb.dtype)
        return vae_energy(state, graphdef, xb, eps, kl_weight=beta) / xb.shape[0]

    grad_fn = jax.value_and_grad(loss_fn)

    def epoch(state, opt_state, X, key, e):
        perm = jax.random.permutation(jax.random.fold_in(jax.random.fold_in(key, 1), e), n)
        idx = perm[: steps_per_epoch * batch].reshape(steps_per_epoch, batch)
        noise = jax.random.fold_in(jax.random.fold_in(key, 2), e)

        def step(carry, inp):
            state, opt_state = carry
            j, rows = inp
            value, g = grad_fn(state, X[rows], jax.random.fold_in(noise, j), e * steps_per_epoch + j)
            updates, opt_state = opt.update(g, opt_state, state)
            return (optax.apply_updates(state, updates), opt_state), value

        (state, opt_state), values = jax.lax.scan(step, (state, opt_state), (jnp.arange(steps_per_epoch), idx))
        return state, opt_state, jnp.mean(values)

    return epoch


def train(X, config: TrainConfig, seeds=(0,), *, vectorize: bool = True, progress=None) -> TrainResult:
    """Train ``config`` on X for every seed in ``seeds``: all seeds at once (vmap) unless ``vectorize=False``.

    Args:
      X: (n, d) training data (finite, not constant).
      config: a `TrainConfig`.
      seeds: distinct non-negative integers.
      vectorize: True vmaps the seeds through one jitted epoch; False runs the same pure epoch
        function seed by seed (the reference the tests compare with).
      progress: optional callable ``progress(epochs_done_for_all_seeds)`` called after every epoch.
    """
    if not isinstance(config, TrainConfig):
        raise ValueError(f"config must be a landscape.deep.TrainConfig, got {type(config).__name__}.")
    X64 = check_training_data(X)
    seeds = tuple(V.check_seed("seeds", s) for s in ((seeds,) if np.ndim(seeds) == 0 else seeds))
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct integers >= 0, at least one; got {seeds!r}.")
    n, d = X64.shape
    dt = dtype_of(config.dtype)
    batch = min(config.batch_size, n)
    steps_per_epoch = n // batch
    gamma0 = None
    if config.kind == "vae":
        gamma0 = config.gamma_init if config.gamma_init is not None else float(np.mean((X64 - X64.mean(0)) ** 2))
    t0 = time.perf_counter()
    graphdef, states = None, []
    for s in seeds:
        kw = {"gamma": gamma0} if config.kind == "vae" else {}
        m = make_model(
            config.kind,
            d,
            depth=config.depth,
            width=config.width,
            latent=config.latent,
            seed=s,
            dtype=config.dtype,
            **kw,
        )
        graphdef, st = nnx.split(m)
        states.append(st)
    opt = _optimizer(config)
    epoch = _make_epoch(graphdef, config, opt, n, steps_per_epoch, batch)
    Xd = jnp.asarray(X64, dtype=dt)
    keys = jnp.stack([jax.random.PRNGKey(s) for s in seeds])
    history = np.zeros((len(seeds), config.epochs))

    if vectorize:
        state = jax.tree.map(lambda *a: jnp.stack(a), *states)
        opt_state = jax.vmap(opt.init)(state)
        step = jax.jit(jax.vmap(epoch, in_axes=(0, 0, None, 0, None)))
        for e in range(config.epochs):
            state, opt_state, loss = step(state, opt_state, Xd, keys, e)
            history[:, e] = np.asarray(loss)
            if progress is not None:
                progress(e + 1)
        stacked = state
    else:
        step = jax.jit(epoch)
        states_opt = [(st, opt.init(st)) for st in states]
        for e in range(config.epochs):
            for i in range(len(seeds)):
                st, os_ = states_opt[i]
                st, os_, loss = step(st, os_, Xd, keys[i], e)
                states_opt[i] = (st, os_)
                history[i, e] = float(loss)
            if progress is not None:
                progress(e + 1)
        out = [st for st, _ in states_opt]
        stacked = jax.tree.map(lambda *a: jnp.stack(a), *out)
    stacked = jax.block_until_ready(stacked)
    finite = np.array(
        [all(bool(np.all(np.isfinite(np.asarray(a[i])))) for a in jax.tree.leaves(stacked)) for i in range(len(seeds))]
    )
    return TrainResult(
        graphdef=graphdef,
        states=stacked,
        seeds=seeds,
        loss_history=history,
        finite=finite,
        config=config,
        gamma_init=gamma0,
        seconds=time.perf_counter() - t0,
        steps_per_epoch=steps_per_epoch,
    )
