"""Exact eq. (5) against the usual reparameterised Monte Carlo, in one run.

Baseline: the estimator most VAE code uses, ``landscape.energy_mc`` with S samples
(S = 1, 16, 128). Measured: jitted value-and-gradient evaluations per second for
R parameter sets at once (vmapped), on the default Proposition 1 problem
(n = 20, d = 3, κ = 1) and a larger one (n = 1000, d = 20, κ = 5), plus the MC
estimator's standard error, which the closed form does not have.

    python benchmarks/energy_throughput.py [--repeats 20]
"""

from __future__ import annotations

import argparse
import time

from landscape.cli.args import ArgumentParser, int_at_least


def parse_args(argv=None):
    ap = ArgumentParser(
        prog="energy_throughput.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--repeats", type=int_at_least(1), default=20)
    return ap.parse_args(argv)


if __name__ == "__main__":  # the arguments are checked before JAX is imported: a bad one costs ~0.1 s
    parse_args()

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import landscape  # noqa: E402
from landscape.core.energy import _energy, _energy_mc_samples  # noqa: E402


def batch_params(rng, R, n, d, kappa):
    return landscape.VAEParams(
        W=jnp.asarray(0.5 * rng.normal(size=(R, d, kappa))),
        b=jnp.asarray(rng.normal(size=(R, d))),
        log_gamma=jnp.zeros(R),
        mu=jnp.asarray(rng.normal(size=(R, n, kappa))),
        log_sigma=jnp.asarray(-0.5 + 0.1 * rng.normal(size=(R, n, kappa))),
    )


def timed(fn, *args, repeats):
    t0 = time.perf_counter()
    jax.block_until_ready(fn(*args))
    compile_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _ in range(repeats):
        out = fn(*args)
    jax.block_until_ready(out)
    return compile_s, (time.perf_counter() - t0) / repeats


def main(argv=None):
    args = parse_args(argv)
    alpha = 0.1
    print(f"backend: {jax.default_backend()}, float64: {jax.config.jax_enable_x64}")
    header = f"{'problem':<22}{'R':>6}  {'method':<14}{'compile s':>10}{'evals/s':>14}{'ratio':>9}{'std err':>11}"
    print(header)
    print("-" * len(header))
    for n, d, kappa, Rs in [(20, 3, 1, (64, 1024)), (1000, 20, 5, (16,))]:
        rng = np.random.default_rng(0)
        X = jnp.asarray(landscape.prop1_dataset(alpha, n=n, d=d, kappa=kappa, seed=0).X)
        for R in Rs:
            P = batch_params(rng, R, n, d, kappa)
            exact = jax.jit(jax.vmap(jax.value_and_grad(lambda p, X=X: _energy(p, X, alpha)), in_axes=0))
            c, t = timed(exact, P, repeats=args.repeats)
            base_rate = R / t
            print(
                f"n={n:<5}d={d:<4}κ={kappa:<6}{R:>6}  {'exact':<14}{c:>10.2f}{base_rate:>14.3g}{1.0:>9.2f}{0.0:>11.1e}"
            )
            for S in (1, 16, 128):
                key = jax.random.key(1)

                def mc(p, S=S, X=X, key=key):
                    return jnp.mean(_energy_mc_samples(p, X, alpha, key, S))

                f = jax.jit(jax.vmap(jax.value_and_grad(mc)))
                c, t = timed(f, P, repeats=args.repeats)
                p0 = jax.tree.map(lambda a: a[0], P)
                samples = np.asarray(_energy_mc_samples(p0, X, alpha, key, 4096))
                se = samples.std(ddof=1) / np.sqrt(S)
                rate = R / t
                print(
                    f"{'':<22}{R:>6}  {'MC S=' + str(S):<14}{c:>10.2f}{rate:>14.3g}{base_rate / rate:>9.2f}{se:>11.1e}"
                )
    print("\nratio = exact evals/s ÷ MC evals/s (above 1: exact is faster); std err of the MC energy at one point.")


if __name__ == "__main__":
    main()
