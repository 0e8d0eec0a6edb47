"""The paper's Section 6 depth sweep: AE, VAE and three cures of posterior collapse at 1–10 hidden layers.

Dai, Wang & Wipf (ICML 2020), Figure 1 (top) and Figure 2, and the Section 5 chain measured end to end:
a deep AE's reconstruction error ε bounds the VAE's implicit γ* of eq. (9) from below (eq. (7):
AE ≤ VAE), and Proposition 2 says that a fixed decoder loses to the trivial, collapsed solution once
γ exceeds a finite γ′. For every depth in {1, 2, 4, 6, 8, 10} (hidden layers in the encoder and in the
decoder, ReLU) and every seed, it trains

- ``ae``: the deterministic AE x̂ = μ_x(μ_z(x)) on (1/nd) Σ‖x − x̂‖²;
- ``vae``: the Gaussian VAE of eq. (3), γ learned, one reparameterised sample per point;
- ``vae_warm``: the same VAE with a KL warm-start (KL weight rising linearly from 0 to 1 over the
  first ``--warmup-frac`` of training, default half);
- ``vae_fb``: the same VAE with free bits (Kingma et al. 2016, per latent dimension over the
  minibatch): a dimension's KL counts only above ``--free-bits`` λ nats per point (default 0.25), on
  eq. (5)'s scale 2 Σ_k max(λ·batch, KL_k), for the whole of training;
- ``vae_agg``: the same VAE with aggressive inference (He et al. 2019, Algorithm 1): for the first
  ``--aggressive-frac`` of the epochs (default 0.2) each step runs ``--inner-steps`` K Adam steps on
  the encoder (default 5; same minibatch, fresh noise) before one step on the decoder and log γ, each
  group with its own Adam state; plain joint steps after that (`landscape.deep.train`);

all seeds of a (depth, model) at once (``jax.vmap``), float32 training, every reported number
re-evaluated in float64 on the full training set: the AE's error (eq. (7), left); the VAE's expected
reconstruction error (eq. (7), right), which is γ* of eq. (9); its mean reconstruction error at z = μ_z;
the learned γ; collapsed latent dimensions (mean KL < 0.01) and Dang et al.'s active units; the latent
dimensions the decoder ignores (z_k = 0 in z = μ_z(x) moves its mean squared error by < 1% of γ̄,
`landscape.deep.decoder_ignored_dims`: under free bits an encoder can keep λ nats in a dimension the
decoder does not read); the σ_z histogram. For the VAEs of the first ``--gamma-prime-seeds`` seeds,
`landscape.deep.gamma_prime` holds the trained decoder fixed and measures Proposition 2's γ′ (φ
re-minimised per point, on ``--gamma-prime-points`` points), and the gap at γ*: negative means the
trained decoder still beats the trivial solution at its own γ*. Per depth it also builds the collapsed
stationary point of MATH.md §7 (small: ``--collapsed-points`` points, width ``--collapsed-width``) and
reports its gradient norm and the most negative Hessian eigenvalue by Lanczos (`landscape.lanczos`).

Output (``--out``, default experiments/out/depth_sweep): runs/depth{D}_{model}_seed{S}.json, one per
run, written as it finishes (configuration, seed, versions, metrics, loss history);
runs/depth{D}_collapsed.json; depth_sweep.json (the summary table); depth_sweep_recon.png
(reconstruction error against depth with ±1 sd error bars over seeds, the shape of Figure 1 top; γ*,
γ′ and γ̄; collapsed dimensions by KL and by the decoder) and depth_sweep_sigma.png (σ_z histograms by depth, Figure 2).
``--resume`` skips every run whose JSON exists with the same configuration; a progress bar runs over
the whole sweep.

What each configuration needs:

- Default (CPU): scikit-learn's 8×8 digits (1797 × 64, shipped inside scikit-learn, no download;
  ``pip install scikit-learn`` or the ``test`` extra), width 128, latent 16, 3 seeds, 100 epochs of
  Adam (learning rate 1e-3, log γ 1e-2, batch 128, 14 steps per epoch), float32 training, float64
  evaluation; free bits λ = 0.25, aggressive inference K = 5 for the first 20 epochs. Measured with
  all five models: 11 min 21 s wall on the 2-core CPU shared with other jobs (load average 0.7 at the
  start, ≈ 5 at the end), 1.6 GB peak memory; vae_agg costs about twice a plain VAE (K + 1 gradients per
  step for a fifth of training). The three models before issue 21 alone took 5 min 34 s (load ≈ 3.7);
  their ``--epochs 300`` took 11 min 46 s under that load.

      python experiments/depth_sweep.py

- ``--paper``: the paper's widths and data set for a GPU: Fashion-MNIST (60000 × 784, read from
  local files given by ``--data-path``: a folder with train-images-idx3-ubyte[.gz], or an .npz with
  x_train; nothing is downloaded), hidden width 512, latent 64, 5 seeds, 100 epochs, batch 128. The
  paper's supplement (its exact epochs, latent size, schedule) is not available; those three are our
  choices. Roughly 2.8 × 10^5 Adam steps per model over the sweep: minutes per (depth, model) on one
  modern GPU, hours on a CPU.

      python experiments/depth_sweep.py --paper --data-path ~/data/fashion-mnist

Every option can be set explicitly (``--help``); ``--paper`` only changes the defaults.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

MODELS = ("ae", "vae", "vae_warm", "vae_fb", "vae_agg")
LABELS = {
    "ae": "AE",
    "vae": "VAE",
    "vae_warm": "VAE + KL warm-start",
    "vae_fb": "VAE + free bits",
    "vae_agg": "VAE + aggressive inf.",
}
COLORS = {"ae": "C0", "vae": "C1", "vae_warm": "C2", "vae_fb": "C3", "vae_agg": "C4"}
CPU_DEFAULTS = {
    "data": "digits",
    "width": 128,
    "latent": 16,
    "seeds": 3,
    "epochs": 100,
    "batch_size": 128,
}
PAPER_DEFAULTS = {
    "data": "fashion_mnist",
    "width": 512,
    "latent": 64,
    "seeds": 5,
    "epochs": 100,
    "batch_size": 128,
}
#: Keys of the configuration that do not change any result (ignored when --resume compares configurations).
NON_RESULT_KEYS = ("out", "resume", "progress", "plots")


# --------------------------------------------------------------------------- progress


class Progress:
    """One progress bar over the whole sweep, in work units (epochs × seeds × (depth + 1))."""

    def __init__(self, total: float, enabled: bool):
        self.total, self.enabled = max(total, 1e-9), enabled
        self.done = 0.0
        self.t0 = time.perf_counter()
        self.tty = sys.stderr.isatty()
        self.label = ""
        self._last = -1.0

    def advance(self, units: float, label: str | None = None, force: bool = False):
        self.done = min(self.total, self.done + units)
        if label is not None:
            self.label = label
        if not self.enabled:
            return
        dt = time.perf_counter() - self.t0
        if not force and not self.tty and dt - self._last < 5.0 and self.done < self.total:
            return
        self._last = dt
        width = 30
        frac = self.done / self.total
        fill = int(width * frac)
        eta = dt / frac * (1 - frac) if frac > 0 else float("nan")
        line = f"sweep: [{'#' * fill}{'.' * (width - fill)}] {frac:6.1%}  {dt:6.0f} s, eta {eta:5.0f} s  {self.label}"
        sys.stderr.write(("\r" + line.ljust(110)) if self.tty else (line + "\n"))
        if self.tty and self.done >= self.total:
            sys.stderr.write("\n")
        sys.stderr.flush()


# --------------------------------------------------------------------------- arguments


def build_parser():
    from landscape.cli.args import ArgumentParser, seed

    ap = ArgumentParser(
        prog="depth_sweep.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--paper", action="store_true", help="the paper's configuration for a GPU (see above)")
    ap.add_argument("--depths", type=int, nargs="+", default=[1, 2, 4, 6, 8, 10], help="hidden layers per network")
    ap.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    ap.add_argument("--seeds", type=int, default=None, help="seeds 0..S-1 per (depth, model) (default 3; paper 5)")
    ap.add_argument("--epochs", type=int, default=None, help="default 100")
    ap.add_argument("--width", type=int, default=None, help="hidden width (default 128; paper 512)")
    ap.add_argument("--latent", type=int, default=None, help="latent size κ (default 16; paper 64)")
    ap.add_argument("--batch-size", type=int, default=None, help="default 128")
    ap.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate of the weights (default 1e-3)")
    ap.add_argument("--gamma-lr", type=float, default=1e-2, help="Adam learning rate of log γ (default 1e-2)")
    ap.add_argument("--warmup-frac", type=float, default=0.5, help="KL warm-start length / epochs (default 0.5)")
    ap.add_argument("--free-bits", type=float, default=0.25, help="vae_fb: λ, nats per point and dimension (0.25)")
    ap.add_argument("--inner-steps", type=int, default=5, help="vae_agg: encoder steps per decoder step (default 5)")
    ap.add_argument(
        "--aggressive-frac", type=float, default=0.2, help="vae_agg: aggressive phase length / epochs (default 0.2)"
    )
    ap.add_argument("--dtype", choices=("float32", "float64"), default="float32", help="training precision")
    ap.add_argument("--data", choices=("digits", "fashion_mnist"), default=None)
    ap.add_argument("--data-path", default=None, help="Fashion-MNIST: folder of IDX files or an .npz")
    ap.add_argument("--n", type=int, default=None, help="train on a random subset of n points")
    ap.add_argument("--data-seed", type=seed, default=0, help="seed of the --n subset and of the γ′ points")
    ap.add_argument("--eval-pairs", type=int, default=8, help="antithetic pairs per point for γ* (default 8)")
    ap.add_argument("--gamma-prime-seeds", type=int, default=1, help="VAE seeds whose γ′ is measured (default 1)")
    ap.add_argument("--gamma-prime-points", type=int, default=128, help="points for γ′ (default 128)")
    ap.add_argument("--gamma-prime-pairs", type=int, default=4, help="antithetic pairs per point for γ′")
    ap.add_argument("--collapsed-points", type=int, default=64, help="points for the §7 collapsed point check")
    ap.add_argument("--collapsed-width", type=int, default=16, help="width for the §7 collapsed point check")
    ap.add_argument("--no-collapsed-check", dest="collapsed_check", action="store_false", help="skip the §7 check")
    ap.add_argument("--out", default="experiments/out/depth_sweep", help="output folder")
    ap.add_argument("--resume", action="store_true", help="skip runs whose JSON exists with the same configuration")
    ap.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bar")
    ap.add_argument("--no-plots", dest="plots", action="store_false", help="skip the figures")
    return ap


def resolve(args, ap) -> dict:
    """The full configuration (defaults filled in by --paper or the CPU set), validated."""
    defaults = PAPER_DEFAULTS if args.paper else CPU_DEFAULTS
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    for flag, value, minimum in [
        ("--seeds", args.seeds, 1),
        ("--epochs", args.epochs, 1),
        ("--width", args.width, 1),
        ("--latent", args.latent, 1),
        ("--batch-size", args.batch_size, 1),
        ("--eval-pairs", args.eval_pairs, 2),
        ("--gamma-prime-seeds", args.gamma_prime_seeds, 0),
        ("--gamma-prime-points", args.gamma_prime_points, 2),
        ("--gamma-prime-pairs", args.gamma_prime_pairs, 1),
        ("--collapsed-points", args.collapsed_points, 2),
        ("--collapsed-width", args.collapsed_width, 1),
    ]:
        if value < minimum:
            ap.error(f"{flag} must be >= {minimum}, got {value}")
    if any(d < 1 for d in args.depths):
        ap.error(f"--depths must all be integers >= 1 (hidden layers; the paper uses 1 2 4 6 8 10), got {args.depths}")
    if len(set(args.depths)) != len(args.depths):
        ap.error(f"--depths must be distinct, got {args.depths}")
    for flag, value in [("--lr", args.lr), ("--gamma-lr", args.gamma_lr)]:
        if not (math.isfinite(value) and value > 0):
            ap.error(f"{flag} must be a finite number > 0, got {value}")
    if not (math.isfinite(args.warmup_frac) and 0 < args.warmup_frac <= 1):
        ap.error(f"--warmup-frac must be in (0, 1], got {args.warmup_frac}")
    if not (math.isfinite(args.free_bits) and args.free_bits > 0):
        ap.error(f"--free-bits must be a finite number > 0 (λ, nats per point and dimension), got {args.free_bits}")
    if args.inner_steps < 1:
        ap.error(f"--inner-steps must be >= 1 (encoder steps per decoder step), got {args.inner_steps}")
    if not (math.isfinite(args.aggressive_frac) and 0 < args.aggressive_frac <= 1):
        ap.error(f"--aggressive-frac must be in (0, 1], got {args.aggressive_frac}")
    if args.n is not None and args.n < 2:
        ap.error(f"--n must be >= 2, got {args.n}")
    cfg = {k: v for k, v in vars(args).items()}
    cfg["depths"] = sorted(args.depths)
    cfg["models"] = [m for m in MODELS if m in args.models]
    return cfg


def result_config(cfg: dict) -> dict:
    return {k: v for k, v in cfg.items() if k not in NON_RESULT_KEYS}


# --------------------------------------------------------------------------- runs


def run_path(out: Path, depth: int, model: str, seed: int) -> Path:
    return out / "runs" / f"depth{depth:02d}_{model}_seed{seed}.json"


def collapsed_path(out: Path, depth: int) -> Path:
    return out / "runs" / f"depth{depth:02d}_collapsed.json"


def load_if_done(path: Path, config: dict):
    """The saved run if it exists with this configuration; None if absent; SystemExit if it disagrees."""
    import json

    if not path.exists():
        return None
    try:
        saved = json.loads(path.read_text())
    except (OSError, ValueError):
        return None  # a torn write: redo it
    if saved.get("config") != json.loads(json.dumps(config)):
        diff = sorted(k for k in set(saved.get("config", {})) | set(config) if saved["config"].get(k) != config.get(k))
        sys.stderr.write(
            f"depth_sweep.py: error: {path} was written with a different configuration (differs in {diff}); "
            "use another --out, delete the file, or run without --resume to overwrite.\n"
        )
        raise SystemExit(2)
    return saved


def train_config(cfg: dict, model: str, depth: int):
    from landscape.models.deep import TrainConfig

    return TrainConfig(
        kind="ae" if model == "ae" else "vae",
        depth=depth,
        width=cfg["width"],
        latent=cfg["latent"],
        epochs=cfg["epochs"],
        batch_size=cfg["batch_size"],
        learning_rate=cfg["lr"],
        gamma_learning_rate=cfg["gamma_lr"],
        warmup_epochs=cfg["warmup_frac"] * cfg["epochs"] if model == "vae_warm" else 0.0,
        free_bits=cfg["free_bits"] if model == "vae_fb" else 0.0,
        inner_steps=cfg["inner_steps"] if model == "vae_agg" else 0,
        aggressive_epochs=cfg["aggressive_frac"] * cfg["epochs"] if model == "vae_agg" else 0.0,
        dtype=cfg["dtype"],
    )


def cost_factor(cfg: dict, model: str) -> float:
    """Gradient evaluations per step relative to a plain step, averaged over training (for the progress bar)."""
    return 1.0 + cfg["inner_steps"] * cfg["aggressive_frac"] if model == "vae_agg" else 1.0


def gamma_prime_for(result, i, X, cfg, gamma_star) -> dict:
    import jax.numpy as jnp
    from flax import nnx

    from landscape.models.deep import cast_state, decoder_of, gamma_prime

    rng = np.random.default_rng(np.random.SeedSequence([cfg["data_seed"], 11]))
    m = min(cfg["gamma_prime_points"], X.shape[0])
    Xs = X[np.sort(rng.choice(X.shape[0], size=m, replace=False))]
    model = nnx.merge(result.graphdef, cast_state(result.state_of(i), "float64"))
    mu, log_sigma = model.encoder(jnp.asarray(Xs))
    decode, params = decoder_of(result.graphdef, result.state_of(i))
    gp = gamma_prime(
        decode,
        params,
        Xs,
        latent=cfg["latent"],
        start=(mu, log_sigma),
        gamma0=gamma_star,
        pairs=cfg["gamma_prime_pairs"],
        seed=cfg["data_seed"],
        max_iter=6,
        rtol=1e-3,
        lbfgs_steps=60,
    )
    out = gp.to_dict()
    out["gamma_star"] = gamma_star
    out["ratio_gamma_star_to_prime"] = gamma_star / gp.gamma_prime if gp.gamma_prime else None
    return out


def collapsed_check(X, depth: int, cfg: dict) -> dict:
    """The §7 point at this depth (small): energy against the formula, ‖∇L‖, and λ_min by Lanczos."""
    import jax
    import jax.numpy as jnp
    from flax import nnx
    from jax.flatten_util import ravel_pytree

    import landscape
    from landscape.models.deep import antithetic_normal, collapsed_energy_deep, collapsed_vae, vae_energy

    t0 = time.perf_counter()
    rng = np.random.default_rng(np.random.SeedSequence([cfg["data_seed"], 13]))
    m = min(cfg["collapsed_points"], X.shape[0])
    Xs = X[np.sort(rng.choice(X.shape[0], size=m, replace=False))]
    width, latent = cfg["collapsed_width"], cfg["latent"]
    graphdef, state = nnx.split(collapsed_vae(Xs, depth=depth, width=width, latent=latent, seed=cfg["data_seed"]))
    eps, w = antithetic_normal(jax.random.PRNGKey(cfg["data_seed"]), m, 4, latent)
    args = (graphdef, jnp.asarray(Xs), eps, w)
    L = float(vae_energy(state, *args))
    grad = ravel_pytree(jax.grad(vae_energy)(state, *args))[0]
    lz = landscape.lanczos(vae_energy, state, args=args, k=1, num_steps=300)
    return {
        "depth": depth,
        "n": m,
        "width": width,
        "latent": latent,
        "parameters": lz.size,
        "mc_samples": int(eps.shape[1]),
        "energy": L,
        "energy_formula": collapsed_energy_deep(Xs, latent),
        "grad_norm": float(jnp.linalg.norm(grad)),
        "lambda_min": float(lz.lowest.eigenvalues[0]),
        "lambda_min_residual": float(lz.lowest.residuals[0]),
        "lambda_min_converged": bool(lz.lowest.converged[0]),
        "lambda_max": float(lz.highest.eigenvalues[0]),
        "lanczos_steps": lz.num_steps,
        "seconds": time.perf_counter() - t0,
    }


def run_group(X, cfg, model, depth, seeds, out, progress, units_per_epoch):
    """Train ``seeds`` of (depth, model) together, evaluate each in float64, save one JSON per seed."""
    from landscape.common.provenance import save_json
    from landscape.models.deep import evaluate_ae, evaluate_vae, train

    tc = train_config(cfg, model, depth)
    label = f"depth {depth}, {model}, seeds {list(seeds)}"
    res = train(X, tc, seeds=seeds, progress=lambda e: progress.advance(units_per_epoch, label))
    saved = []
    for i, seed in enumerate(res.seeds):
        if tc.kind == "ae":
            metrics = evaluate_ae(res.graphdef, res.state_of(i), X)
            metrics["recon_error_for_eq7"] = metrics["recon_error"]
        else:
            metrics = evaluate_vae(res.graphdef, res.state_of(i), X, pairs=cfg["eval_pairs"], seed=seed)
            metrics["recon_error_for_eq7"] = metrics["expected_recon_error"]
        payload = {
            "config": result_config(cfg),
            "seed": seed,
            "depth": depth,
            "model": model,
            "train_config": tc.to_dict(),
            "gamma_init": res.gamma_init,
            "finite": bool(res.finite[i]),
            "metrics": metrics,
            "loss_history": res.loss_history[i].tolist(),
            "group_train_seconds": res.seconds,
            "group_seeds": list(res.seeds),
        }
        if tc.kind == "vae" and seed < cfg["gamma_prime_seeds"] and res.finite[i]:
            progress.advance(0.0, f"depth {depth}, {model}: γ′ of seed {seed}", force=True)
            payload["gamma_prime"] = gamma_prime_for(res, i, X, cfg, metrics["gamma_star"])
        save_json(run_path(out, depth, model, seed), payload)
        saved.append(payload)
    return saved


# --------------------------------------------------------------------------- summary


def summarise(runs: dict, collapsed: dict, cfg: dict, X) -> dict:
    """Per depth and model: mean ± sd over seeds, eq. (7), γ* vs γ′, collapsed dimensions."""
    gbar = float(np.mean((X - X.mean(0)) ** 2))
    rows = []
    for depth in cfg["depths"]:
        row = {"depth": depth}
        for model in cfg["models"]:
            rs = [runs[(depth, model, s)] for s in range(cfg["seeds"])]
            err = np.array([r["metrics"]["recon_error_for_eq7"] for r in rs])
            entry = {
                "recon_error_mean": float(err.mean()),
                "recon_error_sd": float(err.std(ddof=1)) if len(err) > 1 else 0.0,
            }
            entry["recon_error"] = err.tolist()
            if model != "ae":
                for key in ("mean_recon_error", "gamma_learned", "collapsed_dims", "decoder_ignored_dims",
                            "active_fraction"):  # fmt: skip
                    v = np.array([r["metrics"][key] for r in rs], dtype=float)
                    entry[key + "_mean"] = float(v.mean())
                    entry[key + "_sd"] = float(v.std(ddof=1)) if len(v) > 1 else 0.0
                entry["collapsed_dims"] = [r["metrics"]["collapsed_dims"] for r in rs]
                entry["decoder_ignored_dims"] = [r["metrics"]["decoder_ignored_dims"] for r in rs]
                gps = [r["gamma_prime"] for r in rs if "gamma_prime" in r]
                entry["gamma_prime"] = [g["gamma_prime"] for g in gps]
                entry["gamma_prime_fresh"] = [g.get("gamma_prime_fresh") for g in gps]
                entry["gamma_star_seeds_with_prime"] = [g["gamma_star"] for g in gps]
                entry["gap_at_gamma_star"] = [g["gap_at_start"] for g in gps]
                entry["delta"] = [g["delta"] for g in gps]
            row[model] = entry
        if "ae" in cfg["models"]:
            ae = np.array(row["ae"]["recon_error"])
            for model in MODELS[1:]:
                if model in cfg["models"]:
                    v = np.array(row[model]["recon_error"])
                    row[f"eq7_{model}"] = {
                        "holds_for_means": bool(ae.mean() <= v.mean()),
                        "holds_for_all_pairs": bool(ae.max() <= v.min()),
                        "seed_pairs_holding": int(np.sum(ae <= v)),
                        "seeds": int(len(v)),
                    }
        if depth in collapsed:
            c = collapsed[depth]
            row["collapsed_point"] = {
                k: c[k] for k in ("grad_norm", "lambda_min", "lambda_min_residual", "energy", "energy_formula")
            }
        rows.append(row)
    ae_means = [r["ae"]["recon_error_mean"] for r in rows] if "ae" in cfg["models"] else []
    trend = {}
    for model in cfg["models"]:
        means = [r[model]["recon_error_mean"] for r in rows]
        best = int(np.argmin(means))
        trend[model] = {
            "best_depth": cfg["depths"][best],
            "rises_after_best": bool(best < len(means) - 1 and means[-1] > means[best]),
            "deepest_over_best": float(means[-1] / means[best]),
        }
    return {"gamma_bar": gbar, "rows": rows, "trend": trend, "ae_means": ae_means}


def print_table(summary: dict, cfg: dict):
    models = cfg["models"]
    head = f"{'depth':>5} " + " ".join(f"{LABELS[m]:>24}" for m in models)
    print(f"\nReconstruction error (1/nd) Σ E‖x − x̂‖², mean ± sd over {cfg['seeds']} seeds, {cfg['epochs']} epochs")
    print("(AE: deterministic; VAE: expected under q, the right side of eq. (7) and γ* of eq. (9))")
    print(head)
    for r in summary["rows"]:
        cells = [f"{r[m]['recon_error_mean']:.5f} ± {r[m]['recon_error_sd']:.5f}" for m in models]
        print(f"{r['depth']:>5} " + " ".join(f"{c:>24}" for c in cells))
    vaes = [m for m in models if m != "ae"]
    if "ae" in models and vaes:
        print("\nEq. (7), AE ≤ VAE: holds for the means / seed pairs holding")
        for r in summary["rows"]:
            parts = []
            for m in vaes:
                e = r[f"eq7_{m}"]
                parts.append(
                    f"{LABELS[m]}: {'yes' if e['holds_for_means'] else 'NO'} ({e['seed_pairs_holding']}/{e['seeds']})"
                )
            print(f"  depth {r['depth']:>2}: " + "; ".join(parts))
    if vaes:
        print(
            f"\nγ̄ = {summary['gamma_bar']:.5f}. Per VAE: γ* (mean), learned γ, γ′ of seed 0's decoder held fixed "
            "(re-estimated on fresh samples), "
            "gap at γ* (< 0: θ̃ beats trivial), collapsed dims of κ"
        )
        for r in summary["rows"]:
            for m in vaes:
                e = r[m]
                gp = e["gamma_prime"][0] if e["gamma_prime"] else None
                gap = e["gap_at_gamma_star"][0] if e["gap_at_gamma_star"] else None
                fr = e["gamma_prime_fresh"][0] if e["gamma_prime_fresh"] else None
                gp_s = "n/a" if gp is None else f"{gp:.4f}" + ("" if fr is None else f" ({fr:.4f})")
                ratio = "n/a" if not gp else f"{e['gamma_star_seeds_with_prime'][0] / gp:.3f}"
                gap_s = "n/a" if gap is None else f"{gap:+.3g}"
                print(
                    f"  depth {r['depth']:>2} {LABELS[m]:>21}: γ* {e['recon_error_mean']:.5f}  learned γ "
                    f"{e['gamma_learned_mean']:.5f}  γ′ {gp_s}  γ*/γ′ {ratio}  gap {gap_s}  collapsed "
                    f"{e['collapsed_dims_mean']:.1f}/{cfg['latent']}  {e['collapsed_dims']}"
                )
    if vaes:
        print(
            f"\nCollapsed latent units of κ = {cfg['latent']}, mean over seeds [per seed]: KL (mean KL < 0.01) / "
            "decoder-ignored (z_k = 0 moves the decoder's error by < 1% of γ̄)"
        )
        print(f"{'depth':>5} " + " ".join(f"{LABELS[m]:>30}" for m in vaes))
        for r in summary["rows"]:
            seeds = lambda xs: ",".join(str(x) for x in xs)  # noqa: E731
            cells = [
                f"{r[m]['collapsed_dims_mean']:.1f} / {r[m]['decoder_ignored_dims_mean']:.1f} "
                f"[{seeds(r[m]['collapsed_dims'])} / {seeds(r[m]['decoder_ignored_dims'])}]"
                for m in vaes
            ]
            print(f"{r['depth']:>5} " + " ".join(f"{c:>30}" for c in cells))
    if any("collapsed_point" in r for r in summary["rows"]):
        print("\nCollapsed point of MATH.md §7 (small size): ‖∇L‖, λ_min (Lanczos) and its residual")
        for r in summary["rows"]:
            c = r.get("collapsed_point")
            if c:
                print(
                    f"  depth {r['depth']:>2}: ‖∇L‖ = {c['grad_norm']:.2e}, λ_min = {c['lambda_min']:.4g} "
                    f"(residual {c['lambda_min_residual']:.1e}), L − formula = {c['energy'] - c['energy_formula']:.1e}"
                )
    print(
        "\nTrend: "
        + "; ".join(
            f"{LABELS[m]} best at depth {t['best_depth']}, deepest/best = {t['deepest_over_best']:.2f}"
            f"{' (rises)' if t['rises_after_best'] else ''}"
            for m, t in summary["trend"].items()
        )
    )


# --------------------------------------------------------------------------- figures


def plot_recon(summary, cfg, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    depths = np.array(cfg["depths"])
    vaes = [m for m in cfg["models"] if m != "ae"]
    ncols = 3 if vaes else 1
    fig, axes = plt.subplots(1, ncols, figsize=(5.0 * ncols, 4.0), constrained_layout=True, squeeze=False)
    ax = axes[0, 0]
    for m in cfg["models"]:
        mean = np.array([r[m]["recon_error_mean"] for r in summary["rows"]])
        sd = np.array([r[m]["recon_error_sd"] for r in summary["rows"]])
        ax.errorbar(
            depths,
            mean,
            yerr=sd,
            marker="o",
            capsize=3,
            color=COLORS[m],
            label=LABELS[m] + (" (E_q)" if m != "ae" else ""),
        )
    for m in vaes:
        mean = np.array([r[m]["mean_recon_error_mean"] for r in summary["rows"]])
        ax.plot(depths, mean, ":", marker=".", alpha=0.7, color=COLORS[m], label=f"{LABELS[m]} at z = μ_z")
    ax.axhline(summary["gamma_bar"], color="grey", lw=0.8, ls="--", label="γ̄ (predict x̄)")
    ax.set_xlabel("hidden layers (encoder and decoder)")
    ax.set_ylabel("reconstruction error (1/nd) Σ‖x − x̂‖²")
    ax.set_yscale("log")
    ax.set_xticks(depths)
    ax.set_title(
        f"Figure 1 (top): {cfg['data']}, width {cfg['width']}, κ = {cfg['latent']}\n"
        f"±1 sd over {cfg['seeds']} seeds, {cfg['epochs']} epochs",
        fontsize=9,
    )
    ax.legend(fontsize=7)
    if vaes:
        ax = axes[0, 1]
        for m in vaes:
            ax.plot(
                depths,
                [r[m]["recon_error_mean"] for r in summary["rows"]],
                "o-",
                color=COLORS[m],
                label=f"γ* {LABELS[m]}",
            )
            gp = [
                r[m]["gamma_prime"][0] if r[m]["gamma_prime"] and r[m]["gamma_prime"][0] else np.nan
                for r in summary["rows"]
            ]
            ax.plot(depths, gp, "s--", color=COLORS[m], label=f"γ′ {LABELS[m]} (seed 0)")
        if "ae" in cfg["models"]:
            ax.plot(
                depths,
                [r["ae"]["recon_error_mean"] for r in summary["rows"]],
                "^-",
                color=COLORS["ae"],
                label="AE error ε",
            )
        ax.axhline(summary["gamma_bar"], color="grey", lw=0.8, ls="--", label="γ̄")
        ax.set_yscale("log")
        ax.set_xticks(depths)
        ax.set_xlabel("hidden layers")
        ax.set_title("Section 5 chain: ε ≤ γ* (eq. 7, 9) vs γ′ (Prop. 2)", fontsize=9)
        ax.legend(fontsize=7)
        ax = axes[0, 2]
        for m in vaes:
            mean = np.array([r[m]["collapsed_dims_mean"] for r in summary["rows"]])
            sd = np.array([r[m]["collapsed_dims_sd"] for r in summary["rows"]])
            ax.errorbar(depths, mean, yerr=sd, marker="o", capsize=3, color=COLORS[m], label=f"{LABELS[m]}: KL")
            ign = np.array([r[m]["decoder_ignored_dims_mean"] for r in summary["rows"]])
            ax.plot(depths, ign, "x:", color=COLORS[m], label=f"{LABELS[m]}: decoder ignores")
        ax.set_ylim(-0.5, cfg["latent"] + 0.5)
        ax.set_xticks(depths)
        ax.set_xlabel("hidden layers")
        ax.set_ylabel(f"collapsed latent dimensions (of {cfg['latent']})")
        ax.set_title("mean KL < 0.01 per dimension; z_k = 0 moves the error < 1% of γ̄", fontsize=9)
        ax.legend(fontsize=7)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_sigma(runs, cfg, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    vaes = [m for m in cfg["models"] if m != "ae"]
    if not vaes:
        return False
    depths = cfg["depths"]
    fig, axes = plt.subplots(
        len(depths), len(vaes), figsize=(4.2 * len(vaes), 1.5 * len(depths) + 0.8), sharex=True,
        constrained_layout=True, squeeze=False,
    )  # fmt: skip
    for i, depth in enumerate(depths):
        for j, m in enumerate(vaes):
            ax = axes[i, j]
            rs = [runs[(depth, m, s)] for s in range(cfg["seeds"])]
            edges = np.array(rs[0]["metrics"]["sigma_hist"]["edges"])
            counts = np.sum([r["metrics"]["sigma_hist"]["counts"] for r in rs], axis=0)
            ax.bar(edges[:-1], counts / counts.sum(), width=np.diff(edges), align="edge", color=COLORS[m])
            cd = np.mean([r["metrics"]["collapsed_dims"] for r in rs])
            ax.set_title(f"{LABELS[m]}, depth {depth}: collapsed {cd:.1f}/{cfg['latent']}", fontsize=8)
            ax.set_yticks([])
            ax.axvline(1.0, color="k", lw=0.6, ls=":")
    for ax in axes[-1]:
        ax.set_xlabel("σ_z (all points, dimensions and seeds)")
    fig.suptitle("Figure 2: σ_z histograms by depth (mass at 1 = q(z|x) at the prior)", fontsize=10)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


# --------------------------------------------------------------------------- main


def main(argv=None) -> int:
    ap = build_parser()
    args = ap.parse_args(argv)
    cfg = resolve(args, ap)
    from landscape.cli.args import check_output_folder

    figures = ["depth_sweep_recon.png", "depth_sweep_sigma.png"] if cfg["plots"] else []
    out = check_output_folder(ap, "--out", cfg["out"], files=["depth_sweep.json"], figures=figures)
    check_output_folder(ap, "--out", out / "runs")

    import landscape  # noqa: F401  (float64 for the evaluations)
    from landscape.common.provenance import save_json
    from landscape.models.deep import load_dataset

    try:
        X = load_dataset(cfg["data"], path=cfg["data_path"], n=cfg["n"], seed=cfg["data_seed"])
        for m in cfg["models"]:
            for depth in cfg["depths"]:
                train_config(cfg, m, depth)  # validates depth, width, latent, lr, …
    except (FileNotFoundError, ImportError, ValueError) as err:
        ap.error(str(err))
    cfg["n_data"], cfg["d_data"] = (int(s) for s in X.shape)
    rc = result_config(cfg)
    seeds = list(range(cfg["seeds"]))

    # what is already done
    runs, todo = {}, []
    for depth in cfg["depths"]:
        for m in cfg["models"]:
            missing = []
            for s in seeds:
                saved = load_if_done(run_path(out, depth, m, s), rc) if cfg["resume"] else None
                if saved is None:
                    missing.append(s)
                else:
                    runs[(depth, m, s)] = saved
            if missing:
                todo.append((depth, m, missing))
    collapsed = {}
    for depth in cfg["depths"] if cfg["collapsed_check"] else []:
        saved = load_if_done(collapsed_path(out, depth), rc) if cfg["resume"] else None
        if saved is not None:
            collapsed[depth] = saved["result"]
    skipped = len(runs)
    print(
        f"depth sweep on {cfg['data']} ({cfg['n_data']} × {cfg['d_data']}): depths {cfg['depths']}, models "
        f"{cfg['models']}, {cfg['seeds']} seeds, {cfg['epochs']} epochs, width {cfg['width']}, κ = {cfg['latent']}, "
        f"batch {cfg['batch_size']}, {cfg['dtype']} training; {sum(len(t[2]) for t in todo)} runs to do, "
        f"{skipped} skipped (--resume)",
        file=sys.stderr,
    )
    units = {(d, m): cfg["epochs"] * len(s) * (d + 1) * cost_factor(cfg, m) for d, m, s in todo}
    coll_units = {
        d: 0.05 * cfg["epochs"] * (d + 1) for d in cfg["depths"] if cfg["collapsed_check"] and d not in collapsed
    }
    progress = Progress(sum(units.values()) + sum(coll_units.values()), cfg["progress"])
    t0 = time.perf_counter()
    for depth in cfg["depths"]:
        if depth in coll_units:
            progress.advance(0.0, f"depth {depth}: collapsed point (§7)", force=True)
            result = collapsed_check(X, depth, cfg)
            save_json(
                collapsed_path(out, depth), {"config": rc, "seed": cfg["data_seed"], "depth": depth, "result": result}
            )
            collapsed[depth] = result
            progress.advance(coll_units[depth])
        for d, m, missing in todo:
            if d != depth:
                continue
            per_epoch = units[(d, m)] / cfg["epochs"]
            for payload in run_group(X, cfg, m, depth, missing, out, progress, per_epoch):
                runs[(depth, m, payload["seed"])] = payload
    progress.advance(0.0, "done", force=True)
    seconds = time.perf_counter() - t0

    summary = summarise(runs, collapsed, cfg, X)
    print_table(summary, cfg)
    save_json(
        out / "depth_sweep.json",
        {
            "config": rc,
            "seed": cfg["data_seed"],
            "summary": summary,
            "seconds_this_invocation": seconds,
            "runs_skipped": skipped,
        },
    )
    written = [out / "depth_sweep.json"]
    if cfg["plots"]:
        plot_recon(summary, cfg, out / "depth_sweep_recon.png")
        written.append(out / "depth_sweep_recon.png")
        if plot_sigma(runs, cfg, out / "depth_sweep_sigma.png"):
            written.append(out / "depth_sweep_sigma.png")
    print(f"\n{seconds:.0f} s for this invocation; wrote " + ", ".join(str(p) for p in written))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
