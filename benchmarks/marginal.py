"""The exact marginal likelihood of `landscape.marginal` against Gauss–Hermite quadrature, in one run.

Baseline: what most code does for a low-dimensional latent, a tensor Gauss–Hermite rule in z
with K nodes per axis (K^κ in all),

    log p_θ(x) ≈ logsumexp_k [log w_k + log N(x | π_α(W z_k) + b, γI)] − (κ/2) log 2π,

jitted and vmapped over the data exactly like ours. Measured, on a Proposition 1 data set
(n = 20, d = 3, α = 0.1) at the generating decoder W*, b* with γ = 1e-1, 1e-3 and 1e-6 (small
γ is where the integrand is sharp, the reconstructing path of Proposition 1): the time of one
value-and-gradient of Σ log p after compilation, and the error of Σ log p against the exact
value (`landscape.log_marginal`; the tests check it against mpmath and brute-force quadrature).
For our rows the error column is `log_marginal`'s own accuracy estimate.

    python benchmarks/marginal.py [--repeats 10]
"""

from __future__ import annotations

import argparse
import math
import time

from landscape.cli.args import ArgumentParser, int_at_least


def parse_args(argv=None):
    ap = ArgumentParser(prog="marginal.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int_at_least(1), default=10)
    return ap.parse_args(argv)


if __name__ == "__main__":  # the arguments are checked before JAX is imported: a bad one costs ~0.1 s
    parse_args()

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import landscape  # noqa: E402
from landscape.core.marginal import DecoderParams, log_marginal_points  # noqa: E402


def gauss_hermite_log_p(theta, X, alpha, z, log_w):
    """Σ_i log p_θ(x_i) by the rule (z_k, w_k) for the weight exp(−‖z‖²/2), z of shape (K^κ, κ)."""
    W, b, lg = theta
    g = jnp.exp(lg)
    u = z @ W.T  # (K, d)
    mean = jnp.sign(u) * jnp.maximum(jnp.abs(u) - alpha, 0.0) + b  # π_α(W z_k) + b
    d = X.shape[1]
    r2 = jnp.sum((X[:, None, :] - mean[None]) ** 2, axis=-1)  # (n, K)
    log_n = -0.5 * r2 / g - 0.5 * d * (jnp.log(2 * math.pi) + lg)
    n, kappa = X.shape[0], W.shape[1]
    return jnp.sum(jax.nn.logsumexp(log_w[None] + log_n, axis=1)) - 0.5 * n * kappa * math.log(2 * math.pi)


def exact_log_p(theta, X, alpha):
    return jnp.sum(log_marginal_points(theta, X, alpha))


def hermite_rule(K: int, kappa: int):
    # Golub–Welsch (numpy's hermegauss overflows beyond K ≈ 300): nodes are the eigenvalues of the
    # Jacobi matrix of the probabilists' Hermite recurrence, weights √(2π) × (first eigenvector entry)².
    lam, vec = np.linalg.eigh(np.diag(np.sqrt(np.arange(1.0, K)), 1) + np.diag(np.sqrt(np.arange(1.0, K)), -1))
    w = math.sqrt(2 * math.pi) * vec[0] ** 2
    keep = w > 0
    x, lw = lam[keep], np.log(w[keep])
    if kappa == 1:
        return jnp.asarray(x[:, None]), jnp.asarray(lw)
    X1, X2 = np.meshgrid(x, x, indexing="ij")
    L1, L2 = np.meshgrid(lw, lw, indexing="ij")
    return jnp.asarray(np.stack([X1.ravel(), X2.ravel()], -1)), jnp.asarray((L1 + L2).ravel())


def timed(fn, *args, repeats):
    t0 = time.perf_counter()
    jax.block_until_ready(fn(*args))
    compile_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _ in range(repeats):
        out = fn(*args)
    jax.block_until_ready(out)
    return compile_s, (time.perf_counter() - t0) / repeats, out


def main(argv=None):
    args = parse_args(argv)
    alpha = 0.1
    ours = jax.jit(jax.value_and_grad(exact_log_p))
    gauss_hermite = jax.jit(jax.value_and_grad(gauss_hermite_log_p))
    print(f"backend {jax.default_backend()}, jax {jax.__version__}; n = 20, d = 3, alpha = {alpha}")
    print(f"{'kappa':>5} {'gamma':>7} {'method':>18} {'s per value+grad':>17} {'time ×':>8} {'|error| of Σ log p':>19}")
    for kappa, Ks in ((1, (32, 256, 2048)), (2, (16, 64, 256))):
        ds = landscape.prop1_dataset(alpha, n=20, d=3, kappa=kappa, seed=0)
        X = jnp.asarray(ds.X)
        for gamma in (1e-1, 1e-3, 1e-6):
            theta = DecoderParams(
                jnp.asarray(ds.witness.W), jnp.asarray(ds.witness.b), jnp.asarray(math.log(gamma))
            )
            lm = landscape.log_marginal(theta, ds.X, alpha)
            exact = float(lm.total)
            _, t_ours, (v, _) = timed(ours, theta, X, alpha, repeats=args.repeats)
            label = "exact (ours)" if kappa == 1 else "ours (quadrature)"
            print(f"{kappa:5d} {gamma:7.0e} {label:>18} {t_ours:17.2e} {1.0:8.2f} {float(lm.error_total):10.1e} (est.)")
            for K in Ks:
                z, lw = hermite_rule(K, kappa)
                _, t_gh, (v, _) = timed(gauss_hermite, theta, X, alpha, z, lw, repeats=args.repeats)
                print(
                    f"{kappa:5d} {gamma:7.0e} {f'Gauss-Hermite K={K}':>18} {t_gh:17.2e} {t_gh / t_ours:8.2f} "
                    f"{abs(float(v) - exact):19.1e}"
                )


if __name__ == "__main__":
    main()
