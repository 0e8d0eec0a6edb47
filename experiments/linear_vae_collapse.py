"""The linear VAE's posterior-collapse staircase and Theorem 1 of Lucas et al. (2019), by multi-start ascent.

Lucas, Tucker, Grosse & Norouzi, "Don't Blame the ELBO! A linear VAE perspective on posterior collapse"
(NeurIPS 2019): with the decoder variance σ² held fixed, the global maximum of the linear VAE's ELBO
is the pPCA maximum-likelihood solution, in which latent dimension j ≤ κ collapses (q(z_j|x) = p(z_j))
iff λ_j ≤ σ², λ_j the eigenvalues of the data covariance; and the ELBO has no local maximum other than
the global one (Theorem 1). This script checks both on two data sets:

- random: n = 200 Gaussian points in R^8 with a random covariance (spectrum spread over a decade);
- digits: the 1797 sklearn 8×8 digits scaled to [0, 1] (/16), the 3 pixels that are constant dropped
  (d = 61: a constant pixel only adds a zero eigenvalue to S and flat encoder directions).

For each, κ = 4 latents; fixed σ² on a log-spaced grid from 0.3 λ_κ to 2 λ_1 plus the geometric mean
of each pair of neighbours λ_j, λ_{j+1} (j ≤ κ), so that every step of the staircase is visited;
`landscape.multistart` (Adam, then a float64 polish: dense saddle-free Newton up to 400 parameters,
else L-BFGS) of −ELBO/n from `--restarts` random starts at each σ², and one learned-σ² run. For every
endpoint: Lucas et al.'s (ε, δ)-collapsed count (ε = δ = 0.01, `landscape.linear.collapse_count`)
against the analytic staircase #{j ≤ κ : λ_j ≤ σ²}, and what the endpoint is
(`landscape.linear.match_endpoint`): the global maximum (ELBO = the pPCA MLE log-likelihood to 1e-6
relative), an enumerated saddle (its ℓ and W Wᵀ), or other. Where σ² lies within a factor e^{2ε} of an
eigenvalue the (ε, δ) metric cannot see a barely active dimension (its mean KL is ½ log(λ_j/σ²) < ε):
such a count differs from the staircase by design, and is reported as such.

On all 61 digit pixels (553 parameters) the polish is L-BFGS, which stops at ‖∇f‖ ~ 1e-5 (status
max_steps: the spectrum of S reaches 1e-6, so the problem is ill-conditioned); ``--digits-pca 20`` runs the
digits' top 20 principal coordinates instead (the same top eigenvalues, so the same staircase; 184
parameters), where Newton certifies every endpoint (‖∇f‖ ≤ 1e-10 |f|).

Optional ``--mnist DIR``: if MNIST's train-images-idx3-ubyte (or .gz) is there (it is never downloaded),
the pPCA maximum log-likelihood of the first 1000 training images (/255), q = 200 latents, learned σ²,
in nats per example: with np.cov's 1/(n − 1) covariance as in Lucas et al.'s notebook (published:
941.6543), both as the exact ℓ of the images under that model and as −½[d log 2π + log|C| + tr(C⁻¹ S)]
with S = np.cov itself in the trace (lower by ½ d/n = 0.392), and with the MLE's 1/n covariance.

    python experiments/linear_vae_collapse.py [--restarts 8] [--steps 2000] [--num-sigma2 10]
        [--kappa 4] [--seed 0] [--digits-pca 0] [--out experiments/out] [--mnist DIR]

Saves linear_vae_collapse.json (configuration, seed, versions, every endpoint) and linear_vae_collapse.png.
Wall time of the default run on the 2-core CPU: about 100 s (140 s with --digits-pca 20).
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import math
import struct
import sys
import time
from pathlib import Path

import numpy as np

import landscape  # noqa: F401  (float64 when JAX loads; the import itself is light)
from landscape.cli.args import (
    SEED_LIMIT,
    ArgumentParser,
    check_output_folder,
    int_at_least,
    seed,
    usage_errors,
)
from landscape.common.provenance import save_json

PUBLISHED_MNIST = 941.6543  # Lucas et al.'s notebook: pPCA MLE, first 1000 MNIST train images, q = 200, np.cov
EPS = DELTA = 0.01


# --------------------------------------------------------------------------- data


def random_data(n: int, d: int, seed: int) -> np.ndarray:
    """n Gaussian points in R^d, covariance A Aᵀ with A = Q diag(geomspace(2, 0.3, d)), Q a random rotation."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 2019]))
    Q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    A = Q * np.geomspace(2.0, 0.3, d)
    return rng.normal(size=(n, d)) @ A.T + rng.normal(size=d)


def digits_data(pca: int = 0) -> np.ndarray:
    """sklearn's digits /16 (in [0, 1]), without the pixels that are constant over the data set.

    pca > 0: the coordinates on the top ``pca`` principal directions instead (plus x̄'s projection), whose
    covariance has exactly the top ``pca`` eigenvalues: the same staircase for κ ≤ pca, far fewer parameters.
    """
    from sklearn.datasets import load_digits

    X = load_digits().data / 16.0
    X = X[:, X.std(axis=0) > 0]
    if pca:
        lam, U = np.linalg.eigh(np.cov(X.T, bias=True))
        X = X @ U[:, ::-1][:, :pca]
    return X


# --------------------------------------------------------------------------- MNIST (optional, local files only)


def read_idx(path) -> np.ndarray:
    """Read an IDX file (MNIST's format; gzip-compressed if the name ends in .gz) as a uint8 array.

    Header: two zero bytes, a type byte (0x08 = unsigned byte), the number of dimensions, then each
    dimension as a big-endian uint32.
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        raw = fh.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise ValueError(f"{path} is not an IDX file (it must start with two zero bytes).")
    if raw[2] != 0x08:
        raise ValueError(f"{path}: IDX type byte 0x{raw[2]:02x} is not 0x08 (unsigned byte); only uint8 is read.")
    ndim = raw[3]
    if ndim < 1 or len(raw) < 4 + 4 * ndim:
        raise ValueError(f"{path}: IDX header truncated or with {ndim} dimensions.")
    shape = struct.unpack(">" + "I" * ndim, raw[4 : 4 + 4 * ndim])
    body = raw[4 + 4 * ndim :]
    if len(body) != math.prod(shape):
        raise ValueError(f"{path}: IDX header says shape {shape} ({math.prod(shape)} bytes), the file has {len(body)}.")
    return np.frombuffer(body, dtype=np.uint8).reshape(shape)


def find_mnist(directory) -> Path:
    d = Path(directory)
    for name in ("train-images-idx3-ubyte", "train-images.idx3-ubyte", "train-images-idx3-ubyte.gz"):
        if (d / name).is_file():
            return d / name
    raise FileNotFoundError(f"no train-images-idx3-ubyte[.gz] in {d}; this script never downloads MNIST.")


def mnist_ppca(directory, n: int = 1000, q: int = 200) -> dict:
    """pPCA MLE log-likelihood (learned σ²) of the first n MNIST training images /255, nats per example.

    ddof = 1 (np.cov's covariance, as in Lucas et al.'s notebook) and ddof = 0 (the exact MLE); each is
    Σ_i log N(x_i; x̄, W Wᵀ + σ² I) on the images for the model built from that covariance.
    """
    path = find_mnist(directory)
    imgs = read_idx(path)
    if imgs.ndim != 3 or imgs.shape[0] < n:
        raise ValueError(f"{path}: expected (N >= {n}, rows, cols) images, got shape {imgs.shape}.")
    X = imgs[:n].reshape(n, -1).astype(np.float64) / 255.0
    out = {"file": str(path), "n": n, "q": q, "d": X.shape[1], "published": PUBLISHED_MNIST}
    from landscape.models import linear as L

    for ddof in (1, 0):
        fit = L.ppca_mle(X, q, None, ddof=ddof)
        c = np.full(fit.eigenvalues.size, fit.sigma2)
        c[:q] = np.maximum(fit.eigenvalues[:q], fit.sigma2)
        out[f"ddof{ddof}"] = {
            "per_example": fit.log_likelihood_per_example,
            # −½ [d log 2π + log|C| + tr(C⁻¹ S_ddof)]: S_ddof itself in the trace, as a notebook computing
            # the Gaussian log-likelihood from np.cov would; = per_example − ½ d/n at ddof = 1 (learned σ²)
            "per_example_trace_S": float(-0.5 * np.sum(math.log(2 * math.pi) + np.log(c) + fit.eigenvalues / c)),
            "sigma2": fit.sigma2,
        }
    return out


# --------------------------------------------------------------------------- the sweep


def run_dataset(name: str, X: np.ndarray, args, t0: float) -> dict:
    n, d = X.shape
    kappa = args.kappa
    from landscape.models import linear as L
    from landscape.tools.multistart import multistart

    mom = L.data_moments(X)
    lam = L.ppca_mle(X, kappa).eigenvalues
    # log-spaced over the spectrum, plus the geometric mean of each pair of neighbours λ_j, λ_{j+1}
    # (j ≤ κ), so that every step of the staircase is visited even where eigenvalues crowd
    mids = np.sqrt(lam[:kappa] * lam[1 : kappa + 1])
    sigmas = np.unique(np.concatenate([np.geomspace(0.3 * lam[kappa - 1], 2.0 * lam[0], args.num_sigma2), mids]))
    init = L.linear_vae_init(mom, kappa)  # one object for the whole sweep: one compilation
    polish = "newton" if 2 * d * kappa + d + kappa <= 400 else "lbfgs"
    rows = []
    for i, s2 in enumerate(sigmas):
        res = multistart(
            L.linear_vae_objective,
            init,
            restarts=args.restarts,
            seed=args.seed + i,
            args=(mom, float(s2)),
            steps=args.steps,
            polish=polish,
            progress=False,
        )
        rows.append(_summarise(X, res, float(s2), lam, kappa, learned=False))
        r = rows[-1]
        print(
            f"[{name} {i + 1}/{len(sigmas)}] σ² = {s2:.4g}: predicted {r['predicted_collapsed']}, collapsed "
            f"{r['collapsed_counts']}, {r['labels']}  ({time.perf_counter() - t0:.0f} s)",
            file=sys.stderr,
        )
    init_l = L.linear_vae_init(mom, kappa, learn_sigma2=True)
    res = multistart(
        L.linear_vae_objective,
        init_l,
        restarts=args.restarts,
        seed=args.seed + 1000,
        args=(mom, None),
        steps=args.steps,
        polish=polish,
        progress=False,
    )
    learned = _summarise(X, res, None, lam, kappa, learned=True)
    print(
        f"[{name} learned σ²] σ²_ML = {learned['sigma2_ml']:.4g}: collapsed {learned['collapsed_counts']}, "
        f"{learned['labels']}  ({time.perf_counter() - t0:.0f} s)",
        file=sys.stderr,
    )
    return {
        "name": name,
        "n": n,
        "d": d,
        "kappa": kappa,
        "eigenvalues": lam,
        "polish": polish,
        "rows": rows,
        "learned": learned,
    }


def _summarise(X, res, s2, lam, kappa, *, learned: bool) -> dict:
    n = X.shape[0]
    from landscape.models import linear as L

    fit = L.ppca_mle(X, kappa, s2)
    endpoints = []
    for r in range(res.restarts):
        p = res.point(r)
        sig = float(np.exp(p.log_sigma2)) if learned else s2
        elbo = -float(res.values[r]) * n
        if not np.isfinite(elbo):
            endpoints.append({"status": res.status[r], "label": "other", "collapsed": None})
            continue
        m = L.match_endpoint(X, np.asarray(p.W), elbo, sig, learned_sigma2=learned)
        endpoints.append(
            {
                "status": res.status[r],
                "grad_norm": float(res.grad_norms[r]),
                "elbo": elbo,
                "sigma2": sig,
                "collapsed": L.collapse_count(p, X, EPS, DELTA),
                "label": m.label,
                "active": list(m.active),
                "index": m.index,
                "rel_value_error": m.rel_value_error,
                "rel_wwt_error": m.rel_wwt_error,
            }
        )
    labels = {k: sum(e["label"] == k for e in endpoints) for k in ("global_max", "saddle", "other")}
    pred = L.predicted_collapsed(lam, kappa, s2)
    # the (ε, δ) metric's blind zone: an active dimension with ½ log(λ_j/σ²) < ε has mean KL below ε
    sig = fit.sigma2
    blind = bool(np.any((lam[:kappa] > sig) & (0.5 * np.log(lam[:kappa] / sig) < 2 * EPS)))
    best = res.best
    return {
        "sigma2": s2,
        "sigma2_ml": fit.sigma2 if learned else None,
        "predicted_collapsed": pred,
        "collapsed_counts": [e["collapsed"] for e in endpoints],
        "matches_staircase": all(e["collapsed"] == pred for e in endpoints),
        "near_eigenvalue": blind,
        "labels": labels,
        "mle_log_likelihood": fit.log_likelihood,
        "best_elbo": -float(res.values[best]) * n,
        "best_rel_error": abs(-float(res.values[best]) * n - fit.log_likelihood) / abs(fit.log_likelihood),
        "status": {k: res.status.count(k) for k in set(res.status)},
        "max_grad_norm": float(np.nanmax(res.grad_norms)),
        "max_rel_wwt_error": max((e.get("rel_wwt_error", np.nan) for e in endpoints), default=np.nan),
        "endpoints": endpoints,
        "seconds": res.seconds,
    }


# --------------------------------------------------------------------------- output


def _plot(results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(results), figsize=(6.2 * len(results), 4.2), constrained_layout=True)
    axes = np.atleast_1d(axes)
    rng = np.random.default_rng(0)
    for ax, res in zip(axes, results, strict=True):
        lam, kappa = np.asarray(res["eigenvalues"]), res["kappa"]
        s = np.array([r["sigma2"] for r in res["rows"]])
        grid = np.geomspace(s.min() / 1.5, s.max() * 1.5, 400)
        ax.step(grid, [int(np.sum(lam[:kappa] <= g)) for g in grid], where="post", color="k", label="#{λ_j ≤ σ²}")
        for r in res["rows"]:
            c = np.array([x for x in r["collapsed_counts"] if x is not None], dtype=float)
            jit = r["sigma2"] * np.exp(0.04 * rng.uniform(-1, 1, size=c.size))
            ax.plot(jit, c + 0.06 * rng.uniform(-1, 1, size=c.size), "o", ms=4, alpha=0.6, color="C0")
        lr = res["learned"]
        ax.plot([lr["sigma2_ml"]], [max(lr["collapsed_counts"])], "s", color="C3", ms=8, label="learned σ² (max)")
        for j in range(kappa):
            ax.axvline(lam[j], color="0.8", lw=0.8, zorder=0)
        ax.plot([], [], "o", color="C0", label="(ε, δ)-collapsed, each restart")
        ax.set_xscale("log")
        ax.set_xlabel("fixed decoder variance σ²  (grey: λ_1..λ_κ)")
        ax.set_ylabel("collapsed latent dimensions")
        ax.set_title(f"{res['name']}: n = {res['n']}, d = {res['d']}, κ = {kappa}", fontsize=10)
        ax.legend(fontsize=8, loc="upper left")
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _table(results) -> str:
    lines = []
    for res in results:
        lines.append(f"\n{res['name']} (n = {res['n']}, d = {res['d']}, κ = {res['kappa']}, polish {res['polish']})")
        lines.append(
            f"{'sigma2':>10} {'pred':>4} {'collapsed (per restart)':>26} {'glob':>4} {'sadd':>4} {'oth':>4} "
            f"{'best ELBO rel err':>18} {'max WWᵀ err':>12} {'max ‖∇f‖':>9} {'status':>14}"
        )
        for r in [*res["rows"], res["learned"]]:
            s2 = f"{r['sigma2']:.4g}" if r["sigma2"] is not None else f"ML {r['sigma2_ml']:.3g}"
            flag = "" if r["matches_staircase"] else (" (near λ_j)" if r["near_eigenvalue"] else " MISMATCH")
            cc = ",".join(str(c) for c in r["collapsed_counts"])
            st = ",".join(f"{k[:4]} {v}" for k, v in sorted(r["status"].items()))
            lines.append(
                f"{s2:>10} {r['predicted_collapsed']:>4} {cc + flag:>26} {r['labels']['global_max']:>4} "
                f"{r['labels']['saddle']:>4} {r['labels']['other']:>4} {r['best_rel_error']:>18.2e} "
                f"{r['max_rel_wwt_error']:>12.1e} {r['max_grad_norm']:>9.1e} {st:>14}"
            )
    return "\n".join(lines)


def build_parser():
    ap = ArgumentParser(
        prog="linear_vae_collapse.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--restarts", type=int_at_least(1), default=8)
    ap.add_argument("--steps", type=int_at_least(0), default=2000, help="Adam steps per restart before the polish")
    ap.add_argument("--num-sigma2", type=int_at_least(2), default=10, help="σ² values in the log-spaced sweep")
    ap.add_argument("--kappa", type=int_at_least(1), default=4)
    ap.add_argument("--n-random", type=int, default=200, help="points of the random data set (> --d-random)")
    ap.add_argument("--d-random", type=int_at_least(2), default=8)
    ap.add_argument("--seed", type=seed, default=0)
    ap.add_argument("--out", default="experiments/out", help="output folder (created if missing)")
    ap.add_argument("--mnist", default=None, help="a folder with train-images-idx3-ubyte[.gz] (never downloaded)")
    ap.add_argument("--skip-digits", action="store_true")
    ap.add_argument(
        "--digits-pca",
        type=int_at_least(0),
        default=0,
        help="use the digits' top K principal coordinates (0: all 61 non-constant pixels, polished by L-BFGS; "
        "K <= 44 with κ = 4 is polished by dense Newton)",
    )
    return ap


def check_mnist(directory, n: int = 1000) -> None:
    """`mnist_ppca`'s file checks, from the IDX header alone: the file exists and holds >= n images."""
    path = find_mnist(directory)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        head = fh.read(16)
    if len(head) < 16 or head[:3] != b"\x00\x00\x08" or head[3] != 3:
        raise ValueError(f"{path} is not an IDX file of uint8 images (header {head[:4]!r}).")
    count = struct.unpack(">I", head[4:8])[0]
    if count < n:
        raise ValueError(f"{path}: expected >= {n} images, the header says {count}.")


def main(argv=None) -> int:
    ap = build_parser()
    args = ap.parse_args(argv)
    if args.n_random <= args.d_random:
        ap.error(f"--n-random must be > --d-random = {args.d_random} (a full-rank covariance), got {args.n_random}")
    if args.kappa >= args.d_random:
        ap.error("--kappa must be < --d-random (learned σ² needs d − κ > 0)")
    if args.digits_pca and not args.kappa < args.digits_pca <= 61:
        ap.error("--digits-pca must be 0 (all pixels) or in (kappa, 61]")
    if not args.skip_digits and not args.digits_pca and args.kappa >= 61:
        ap.error("--kappa must be < 61, the digits' non-constant pixels (or --skip-digits)")
    if args.seed + 1000 + args.num_sigma2 + args.kappa >= SEED_LIMIT:
        ap.error(f"--seed must be < 2**63 - {1000 + args.num_sigma2 + args.kappa} (the sweep uses seed + i)")
    if not args.skip_digits and importlib.util.find_spec("sklearn") is None:
        ap.error("the digits data set needs scikit-learn (pip install scikit-learn), or pass --skip-digits")
    if args.mnist is not None:
        with usage_errors(ap, OSError):
            check_mnist(args.mnist)
    out = check_output_folder(
        ap, "--out", args.out, files=["linear_vae_collapse.json"], figures=["linear_vae_collapse.png"]
    )
    t0 = time.perf_counter()

    datasets = [("random", random_data(args.n_random, args.d_random, args.seed))]
    if not args.skip_digits:
        name = "digits" if not args.digits_pca else f"digits (top {args.digits_pca} PCs)"
        datasets.append((name, digits_data(args.digits_pca)))
    results = [run_dataset(name, X, args, t0) for name, X in datasets]

    mnist = None
    if args.mnist is not None:
        mnist = mnist_ppca(args.mnist)

    seconds = time.perf_counter() - t0
    print(_table(results))
    print("\nTheorem 1 (endpoints: global max / saddle / other), and collapsed count vs #{λ_j ≤ σ²}:")
    for res in results:
        allr = [*res["rows"], res["learned"]]
        tot = {k: sum(r["labels"][k] for r in allr) for k in ("global_max", "saddle", "other")}
        mism = [r["sigma2"] for r in res["rows"] if not r["matches_staircase"]]
        near = [r["sigma2"] for r in res["rows"] if not r["matches_staircase"] and r["near_eigenvalue"]]
        print(
            f"  {res['name']:>7}: {tot['global_max']} / {tot['saddle']} / {tot['other']}; staircase matched at "
            f"{len(res['rows']) - len(mism)}/{len(res['rows'])} σ² ({len(near)} of the misses within e^(2ε) of an "
            f"eigenvalue); learned σ² collapsed {res['learned']['collapsed_counts']}; max best-ELBO rel. error "
            f"{max(r['best_rel_error'] for r in allr):.1e}"
        )
    if mnist is not None:
        m1, m0 = mnist["ddof1"], mnist["ddof0"]
        print(
            f"\nMNIST pPCA (first {mnist['n']} train images /255, q = {mnist['q']}, learned σ²), nats per example "
            f"(published: {PUBLISHED_MNIST}, np.cov normalisation):\n"
            f"  S = np.cov (1/(n−1)), ℓ of the images under that model:     {m1['per_example']:.4f}\n"
            f"  S = np.cov, −½[d log 2π + log|C| + tr(C⁻¹ S)] (S in trace):  {m1['per_example_trace_S']:.4f}\n"
            f"  S with 1/n (the exact MLE), ℓ of the images:                {m0['per_example']:.4f}"
        )
    config = vars(args) | {
        "eps": EPS,
        "delta": DELTA,
        "sigma2_grid": "geomspace(0.3 λ_κ, 2 λ_1, num_sigma2) ∪ {(λ_j λ_{j+1})^(1/2), j ≤ κ}",
        "optimizer": "adam",
        "learning_rate": 1e-2,
        "objective": "landscape.linear.linear_vae_objective (−ELBO/n, exact, from (n, x̄, S))",
        "init": "landscape.linear.linear_vae_init (scale 1)",
        "data": {
            "random": f"n = {args.n_random} N(0, A Aᵀ) points in R^{args.d_random}, A = Q diag(geomspace(2, 0.3))",
            "digits": "sklearn load_digits /16, constant pixels dropped"
            + (f", top {args.digits_pca} principal coordinates" if args.digits_pca else ""),
        },
    }
    save_json(
        out / "linear_vae_collapse.json",
        {"config": config, "seed": args.seed, "results": results, "mnist": mnist, "seconds": seconds},
    )
    _plot(results, out / "linear_vae_collapse.png")
    print(f"\nwrote {out / 'linear_vae_collapse.json'} and {out / 'linear_vae_collapse.png'}")
    print(f"total time {seconds:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
