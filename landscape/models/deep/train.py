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

Two more cures of posterior collapse (issue 21), VAE only:

- free bits (``free_bits`` λ > 0; Kingma et al. 2016, per latent dimension over the minibatch): a
  dimension's KL counts only above λ·batch nats (`landscape.deep.vae_energy`);
- aggressive inference (``inner_steps`` K > 0 for the first ``aggressive_epochs`` epochs; He et al. 2019,
  "Lagging inference networks", Algorithm 1). The encoder's leaves (the NNX state under ``encoder``)
  and the others (decoder and log γ) keep separate Adam states. Each step of the aggressive phase first
  runs K Adam steps on the encoder alone (the others' gradients zeroed), on the step's own minibatch
  with fresh reparameterisation noise per inner step (inner step i of epoch e, step j draws from
  ``fold_in(noise(e, j), i + 1)``), then one step on the decoder and log γ alone (the encoder's
  gradient zeroed; noise ``noise(e, j)``, that of a plain step). After the phase, each step is one
  gradient that updates both groups, each with its own Adam state (the encoder's moments carry over).
  The phase is a ``lax.cond`` on the step number, which is the same for every seed, so it stays a
  branch under the seeds' vmap. He et al. end the phase when the mutual information stops rising; here
  it has a fixed length. The loss recorded for an aggressive step is the decoder step's. K = 0 runs
  the plain step's code (one optimiser state).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, NamedTuple

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
      free_bits: free bits λ ≥ 0 (VAE), nats per point and latent dimension (0 = none; module docstring).
      inner_steps: aggressive inference's K ≥ 0 encoder steps before each decoder step (VAE; 0 = none).
      aggressive_epochs: the aggressive phase's length in epochs (> 0 when inner_steps > 0): the steps
        t < aggressive_epochs · steps/epoch are aggressive, the rest plain joint steps.
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
    free_bits: float = 0.0
    inner_steps: int = 0
    aggressive_epochs: float = 0.0

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
        fb = self.free_bits
        if isinstance(fb, bool) or not isinstance(fb, (int, float)) or not math.isfinite(fb) or fb < 0:
            raise ValueError(
                f"free_bits must be a finite number >= 0 (λ, nats per point and latent dimension; 0: none), got {fb!r}."
            )
        if fb > 0 and self.kind != "vae":
            raise ValueError("free_bits > 0 needs kind='vae'; the AE has no KL term.")
        k = self.inner_steps
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 0:
            raise ValueError(
                f"inner_steps must be an integer >= 0 (encoder steps per decoder step; 0: no aggressive inference), "
                f"got {k!r}."
            )
        a = self.aggressive_epochs
        if isinstance(a, bool) or not isinstance(a, (int, float)) or not math.isfinite(a) or a < 0:
            raise ValueError(
                f"aggressive_epochs must be a finite number >= 0 (the aggressive phase's length), got {a!r}."
            )
        if k > 0 and self.kind != "vae":
            raise ValueError(
                "inner_steps > 0 (aggressive inference) needs kind='vae'; the AE has no inference network."
            )
        if k > 0 and a <= 0:
            raise ValueError("inner_steps > 0 needs aggressive_epochs > 0 (the aggressive phase's length in epochs).")
        if a > 0 and k == 0:
            raise ValueError("aggressive_epochs > 0 needs inner_steps >= 1 (K encoder steps per decoder step).")
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


class _TwoGroups(NamedTuple):
    """Aggressive inference's optimisers: Adam on the encoder's leaves, and Adam on the others (decoder
    weights at the weights' learning rate, log γ at its own); each sets the other group's updates to 0
    and holds no state for it."""

    encoder: optax.GradientTransformation
    rest: optax.GradientTransformation

    def init(self, params):
        return (self.encoder.init(params), self.rest.init(params))


def _aggressive_optimizers(cfg: TrainConfig) -> _TwoGroups:
    def labels(state):
        def lab(path, _):
            if any(getattr(k, "key", None) == "log_gamma" for k in path):
                return "gamma"
            return "encoder" if path and getattr(path[0], "key", None) == "encoder" else "net"

        return jax.tree_util.tree_map_with_path(lab, state)

    zero = optax.set_to_zero()
    adam, adam_gamma = optax.adam(cfg.learning_rate), optax.adam(cfg.gamma_learning_rate)
    return _TwoGroups(
        encoder=optax.multi_transform({"encoder": adam, "net": zero, "gamma": zero}, labels),
        rest=optax.multi_transform({"encoder": zero, "net": adam, "gamma": adam_gamma}, labels),
    )


def _make_epoch(graphdef, cfg: TrainConfig, opt, n: int, steps_per_epoch: int, batch: int):
    warmup_steps = float(cfg.warmup_epochs) * steps_per_epoch
    aggressive_steps = float(cfg.aggressive_epochs) * steps_per_epoch
    K = int(cfg.inner_steps)
    fb = float(cfg.free_bits)

    def loss_fn(state, xb, key, step):
        if cfg.kind == "ae":
            return ae_loss(state, graphdef, xb)
        eps = jax.random.normal(key, (xb.shape[0], 1, cfg.latent), dtype=xb.dtype)
        beta = kl_weight(step, warmup_steps).astype(xb.dtype)
        return vae_energy(state, graphdef, xb, eps, kl_weight=beta, free_bits=fb) / xb.shape[0]

    grad_fn = jax.value_and_grad(loss_fn)

    def two_group_step(state, opt_state, xb, key, t):
        """Aggressive inference's step t (module docstring): lax.cond on t, unbatched under the seeds' vmap."""

        def aggressive(carry):
            state, (s_enc, s_rest) = carry

            def inner(c, i):
                st, se = c
                _, g = grad_fn(st, xb, jax.random.fold_in(key, i + 1), t)
                updates, se = opt.encoder.update(g, se, st)
                return (optax.apply_updates(st, updates), se), None

            (state, s_enc), _ = jax.lax.scan(inner, (state, s_enc), jnp.arange(K))
            value, g = grad_fn(state, xb, key, t)
            updates, s_rest = opt.rest.update(g, s_rest, state)
            return (optax.apply_updates(state, updates), (s_enc, s_rest)), value

        def joint(carry):
            state, (s_enc, s_rest) = carry
            value, g = grad_fn(state, xb, key, t)
            u_enc, s_enc = opt.encoder.update(g, s_enc, state)
            u_rest, s_rest = opt.rest.update(g, s_rest, state)
            state = optax.apply_updates(optax.apply_updates(state, u_enc), u_rest)
            return (state, (s_enc, s_rest)), value

        return jax.lax.cond(t < aggressive_steps, aggressive, joint, (state, opt_state))

    def epoch(state, opt_state, X, key, e):
        perm = jax.random.permutation(jax.random.fold_in(jax.random.fold_in(key, 1), e), n)
        idx = perm[: steps_per_epoch * batch].reshape(steps_per_epoch, batch)
        noise = jax.random.fold_in(jax.random.fold_in(key, 2), e)

        def step(carry, inp):
            state, opt_state = carry
            j, rows = inp
            if K > 0:
                return two_group_step(state, opt_state, X[rows], jax.random.fold_in(noise, j), e * steps_per_epoch + j)
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
    opt = _aggressive_optimizers(config) if config.inner_steps > 0 else _optimizer(config)
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
