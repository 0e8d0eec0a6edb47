"""Float64 measurements of trained deep models: eq. (7), γ* of eq. (9), collapse, σ_z, and γ′ of Proposition 2.

`evaluate_ae` / `evaluate_vae` re-evaluate a model (trained in any dtype) in float64 on the full data:

- the AE's reconstruction error (1/nd) Σ ‖x_i − μ_x(μ_z(x_i))‖², the left side of eq. (7);
- the VAE's expected reconstruction error (1/nd) Σ_i E_q ‖x_i − μ_x(z)‖², the right side of eq. (7), which
  is also the implicit γ* of eq. (9) (the optimal γ for the other parameters), by Monte Carlo over
  antithetic pairs with its standard error; the mean reconstruction error at z = μ_z(x); the learned γ;
- KL_ik = ½(μ_ik² + σ_ik² − log σ_ik² − 1): collapsed dimensions (mean over points of KL_ik < 0.01),
  Dang et al.'s active units (fraction of (i, k) with KL_ik ≥ 0.01), Lucas et al.'s (ε, δ) count;
- the latent dimensions the decoder ignores (`decoder_ignored_dims`): z_k = 0 in the decoder's input
  z = μ_z(x) changes (1/nd) Σ‖x − μ_x(z)‖² by less than 1% of γ̄. Under free bits an encoder can keep
  λ nats in a dimension that the decoder does not read, which the KL count alone would call active;
- a histogram of every σ_z value (the paper's Figure 2).

`gamma_prime` is Proposition 2 in its literal form for a trained deep decoder θ̃ held fixed (the deep
counterpart of `landscape.prop2_literal`): with φ = free per-point moments (μ_i, σ_i) re-minimised,

    L(θ̃, φ; γ) = F(φ)/γ + n d log γ + K(φ),   F = Σ_i E‖x_i − μ_x(z; θ̃)‖²,   K = Σ_i (‖σ_i‖² − log σ_i² + ‖μ_i‖²),

against the trivial solution's L_triv(γ) = n d log γ + n d γ̄ / γ + n κ (`landscape.trivial_energy`).
γ′ is where min_φ L(θ̃, φ; γ) first reaches L_triv(γ). Since L − L_triv = [F + γ K − n d γ̄ − γ n κ] / γ,

    γ′ = sup_φ R(φ),   R(φ) = (n d γ̄ − F(φ)) / (K(φ) − n κ),

(K ≥ n κ always, and min_φ L − L_triv is increasing in γ, so the crossing is unique), and every φ with
F(φ) < n d γ̄ gives a lower bound R(φ) ≤ γ′. It is found by Dinkelbach's iteration γ_{k+1} = R(φ_k),
φ_k = argmin_φ F + γ_k K (L-BFGS, float64; the first from the prior and from ``start``, e.g. the trained
encoder's moments, the better kept; later ones warm-started), which rises monotonically to γ′. The
expectation is an average over fixed antithetic samples (common random numbers for every γ) or the
2κ-point cubature rule, exact for affine decoders. With a nonconvex φ-problem (deep decoders) the result
is a lower bound on γ′ up to the Monte Carlo error of F, and equals it when L-BFGS finds the global
φ-minimum. Since φ is fitted to the fixed samples, F there is optimistic; ``gamma_prime_fresh`` re-evaluates
R at the final φ on 4× as many fresh samples (an unbiased F, so an honest lower bound).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from landscape.common import checks as V
from landscape.common.results import Result
from landscape.models.deep.collapsed import antithetic_normal, cubature_rule
from landscape.models.deep.data import check_training_data
from landscape.models.deep.models import cast_state
from landscape.tools.multistart import polish

__all__ = [
    "SIGMA_BINS",
    "evaluate_ae",
    "evaluate_vae",
    "GammaPrime",
    "gamma_prime",
    "kl_stats",
    "decoder_of",
    "decoder_ignored_dims",
]

#: σ_z histogram bin edges (values above 1.5 go to the overflow count).
SIGMA_BINS = np.linspace(0.0, 1.5, 61)
KL_EPS = 0.01
#: A latent dimension is ignored by the decoder when zeroing it moves the mean squared error by < this · γ̄.
IGNORED_REL = 0.01
CHUNK = 1024


def _merge64(graphdef, state):
    return nnx.merge(graphdef, cast_state(state, "float64"))


def _chunks(n, size=CHUNK):
    return [(a, min(n, a + size)) for a in range(0, n, size)]


@jax.jit
def _ae_sq(state, graphdef, X):
    model = nnx.merge(graphdef, state)
    return jnp.sum((X - model(X)) ** 2)


def evaluate_ae(graphdef, state, X) -> dict:
    """The AE's reconstruction error (1/nd) Σ ‖x − μ_x(μ_z(x))‖² in float64 (eq. (7), left)."""
    X = check_training_data(X)
    n, d = X.shape
    s64 = cast_state(state, "float64")
    sq = sum(float(_ae_sq(s64, graphdef, jnp.asarray(X[a:b]))) for a, b in _chunks(n))
    return {"recon_error": sq / (n * d)}


@jax.jit
def _vae_parts(state, graphdef, X, eps):
    model = nnx.merge(graphdef, state)
    mu, log_sigma = model.encoder(X)
    z = mu[:, None, :] + jnp.exp(log_sigma)[:, None, :] * eps
    sq = jnp.sum((X[:, None, :] - model.decoder(z)) ** 2, axis=-1)  # (n, S)
    half = sq.shape[1] // 2
    pair_means = 0.5 * (sq[:, :half] + sq[:, half:])  # antithetic pairs: (n, pairs)
    mean_sq = jnp.sum((X - model.decoder(mu)) ** 2, axis=-1)
    return jnp.sum(pair_means, axis=0), jnp.sum(mean_sq), mu, log_sigma


def kl_stats(mu, log_sigma, eps: float = KL_EPS) -> dict:
    """Collapse measures from KL_ik = ½(μ² + σ² − log σ² − 1), (n, κ) arrays."""
    mu, log_sigma = np.asarray(mu, dtype=float), np.asarray(log_sigma, dtype=float)
    kl = 0.5 * (mu**2 + np.exp(2 * log_sigma) - 2 * log_sigma - 1.0)
    kl_dim = kl.mean(axis=0)
    return {
        "kl_per_dim": kl_dim.tolist(),
        "kl_total": float(kl.sum(axis=1).mean()),
        "collapsed_dims": int(np.sum(kl_dim < eps)),
        "active_fraction": float(np.mean(kl >= eps)),
        "lucas_collapsed_dims": int(np.sum(np.mean(kl < eps, axis=0) >= 0.99)),
    }


def decoder_ignored_dims(decode, Z, X, *, rel_tol: float = IGNORED_REL) -> dict:
    """The latent dimensions that the decoder ignores at the codes ``Z``, e.g. the encoder means μ_z(X).

    With e(Z) = (1/nd) Σ_i ‖x_i − decode(z_i)‖² and Z⁽ᵏ⁾ = Z with column k set to 0, dimension k is
    *ignored* when |e(Z⁽ᵏ⁾) − e(Z)| < ``rel_tol`` · γ̄, γ̄ = (1/nd) Σ_i ‖x_i − x̄‖² (the error of predicting
    the mean): switching the coordinate off changes the reconstruction by less than 1% (default) of what
    the data's spread is. Unlike the KL count (`kl_stats`), it reads the decoder, so a dimension an
    encoder keeps informative (e.g. λ nats under free bits) but the decoder does not use counts here.

    Args:
      decode: a function of codes (…, κ) to means (…, d) that maps leading axes through (an NNX
        `Decoder` does), in float64 for the reported numbers.
      Z: (n, κ) codes, one per row of X.
      X: (n, d) data.
      rel_tol: the threshold as a fraction of γ̄ (> 0).

    Returns a dict: ``decoder_ignored_dims`` (the count), ``decoder_effect_per_dim`` ((e(Z⁽ᵏ⁾) − e(Z)) / γ̄
    for each k) and ``decoder_mse_at_codes`` (e(Z)).
    """
    X = check_training_data(X)
    n, d = X.shape
    Z = np.asarray(Z, dtype=float)
    if Z.ndim != 2 or Z.shape[0] != n:
        raise ValueError(f"Z must be (n, κ) codes with n = {n} rows (one per point of X), got shape {Z.shape}.")
    if not np.all(np.isfinite(Z)):
        raise ValueError("Z contains NaN or inf entries.")
    rel_tol = V.check_positive("rel_tol", rel_tol)
    kappa = Z.shape[1]
    keep = 1.0 - np.vstack([np.zeros((1, kappa)), np.eye(kappa)])  # row 0 keeps every coordinate
    sq = np.zeros(kappa + 1)
    for a, b in _chunks(n):
        Zs = jnp.asarray(keep[:, None, :] * Z[None, a:b, :])  # (κ + 1, m, κ)
        sq += np.asarray(jnp.sum((jnp.asarray(X[a:b]) - decode(Zs)) ** 2, axis=(1, 2)), dtype=float)
    mse = sq / (n * d)
    gbar = float(np.mean((X - X.mean(0)) ** 2))
    effect = (mse[1:] - mse[0]) / gbar
    return {
        "decoder_ignored_dims": int(np.sum(np.abs(effect) < rel_tol)),
        "decoder_effect_per_dim": effect.tolist(),
        "decoder_mse_at_codes": float(mse[0]),
    }


def evaluate_vae(graphdef, state, X, *, pairs: int = 16, seed: int = 0) -> dict:
    """Float64 metrics of a trained `DeepVAE` on X (module docstring); MC over ``pairs`` antithetic pairs."""
    X = check_training_data(X)
    n, d = X.shape
    pairs, seed = V.check_size("pairs", pairs, 1), V.check_seed("seed", seed)
    s64 = cast_state(state, "float64")
    model = nnx.merge(graphdef, s64)
    latent = model.encoder.mu.out_features
    key = jax.random.PRNGKey(int(seed))
    pair_sums = 0.0
    mean_sq = 0.0
    mus, lss = [], []
    for j, (a, b) in enumerate(_chunks(n)):
        eps, _ = antithetic_normal(jax.random.fold_in(key, j), b - a, pairs, latent)
        ps, ms, mu, ls = _vae_parts(s64, graphdef, jnp.asarray(X[a:b]), eps)
        pair_sums = pair_sums + np.asarray(ps)
        mean_sq += float(ms)
        mus.append(np.asarray(mu))
        lss.append(np.asarray(ls))
    mu, log_sigma = np.concatenate(mus), np.concatenate(lss)
    per_pair = np.asarray(pair_sums) / (n * d)  # (pairs,) each an unbiased estimate of γ*
    gamma_star = float(per_pair.mean())
    se = float(per_pair.std(ddof=1) / math.sqrt(pairs)) if pairs > 1 else float("nan")
    log_gamma = float(np.asarray(s64["log_gamma"][...]))
    gamma = math.exp(log_gamma)
    sigma = np.exp(log_sigma).ravel()
    counts, _ = np.histogram(np.minimum(sigma, SIGMA_BINS[-1]), bins=SIGMA_BINS)
    kl_form = float(np.mean(np.sum(np.exp(2 * log_sigma) - 2 * log_sigma + mu**2, axis=1)))
    return {
        "expected_recon_error": gamma_star,
        "expected_recon_error_se": se,
        "gamma_star": gamma_star,
        "mean_recon_error": mean_sq / (n * d),
        "gamma_learned": gamma,
        "energy_eq3": d * gamma_star / gamma + d * log_gamma + kl_form,
        **kl_stats(mu, log_sigma),
        **decoder_ignored_dims(model.decoder, mu, X),
        "sigma_hist": {"edges": SIGMA_BINS.tolist(), "counts": counts.tolist(), "overflow": int(np.sum(sigma > 1.5))},
        "sigma_quantiles": dict(
            zip(
                ["q05", "q25", "q50", "q75", "q95"],
                np.quantile(sigma, [0.05, 0.25, 0.5, 0.75, 0.95]).tolist(),
                strict=True,
            )
        ),
        "mc_pairs": pairs,
    }


# --------------------------------------------------------------------------- Proposition 2, literal


@dataclass(frozen=True)
class GammaPrime(Result):
    """γ′(θ̃) of Proposition 2 for a fixed deep decoder (`gamma_prime`).

    Attributes:
      gamma_prime: sup_φ R(φ), None if no φ reconstructs better than the mean (F ≥ n d γ̄ for every φ
        tried: a degenerate decoder, the trivial solution wins at every γ).
      iterates: Dinkelbach's γ_0, γ_1, … (each a lower bound on γ′ after γ_0).
      gap_at_start: [min_φ L(θ̃, φ; γ_0) − L_triv(γ_0)] · γ_0 = min_φ(F + γ_0 K) − n d γ̄ − γ_0 n κ:
        negative iff γ_0 < γ′ (the trained decoder beats the trivial solution at γ_0).
      delta: Δ = F(prior) − n d γ̄, the excess error of θ̃ with q = p(z) over the trivial decoder
        (Δ > 0 is the proposition's hypothesis).
      converged: |γ_{k+1} − γ_k| ≤ rtol · γ_k at the end.
      energies, trivial: on the optional grid ``gammas``, min_φ L(θ̃, φ; γ) and L_triv(γ).
      gamma_prime_fresh: R(φ) at the maximising φ with F re-estimated on fresh samples (rule "mc").
      n, gamma_bar: the points used and their γ̄.
    """

    gamma_prime: float | None
    iterates: list
    gap_at_start: float
    delta: float
    converged: bool
    lbfgs_iterations: list
    n: int
    gamma_bar: float
    rule: str
    samples: int
    gammas: list = field(default_factory=list)
    energies: list = field(default_factory=list)
    trivial: list = field(default_factory=list)
    seconds: float = 0.0
    gamma_prime_fresh: float | None = None


def _fk(decode, dec_params, X, eps, w, phi):
    mu, log_sigma = phi
    z = mu[:, None, :] + jnp.exp(log_sigma)[:, None, :] * eps
    F = jnp.sum((jnp.sum((X[:, None, :] - decode(dec_params, z)) ** 2, axis=-1)) @ w)
    K = jnp.sum(jnp.exp(2.0 * log_sigma) - 2.0 * log_sigma + mu**2)
    return F, K


def _minimise_phi(decode, dec_params, X, eps, w, phi0, gamma, steps, gtol):
    def obj(phi):
        F, K = _fk(decode, dec_params, X, eps, w, phi)
        return F + gamma * K

    phi, k = polish(obj, phi0, method="lbfgs", steps=steps, gtol=gtol)
    F, K = _fk(decode, dec_params, X, eps, w, phi)
    return phi, F, K, k


_minimise_jit = jax.jit(_minimise_phi, static_argnames=("decode", "steps"))


def _nnx_decode(dec_params, z):
    graphdef, state = dec_params
    return nnx.merge(graphdef, state)(z)


def gamma_prime(
    decode,
    dec_params,
    X,
    *,
    latent: int,
    start=None,
    gamma0: float | None = None,
    rule: str = "mc",
    pairs: int = 4,
    seed: int = 0,
    gammas=None,
    max_iter: int = 8,
    rtol: float = 1e-4,
    lbfgs_steps: int = 300,
    gtol: float = 1e-9,
) -> GammaPrime:
    """γ′ of Proposition 2 (literal form) for the decoder ``decode(dec_params, z)`` held fixed.

    Args:
      decode: pure function (dec_params, z (…, κ)) ↦ μ_x (…, d); for a trained `DeepVAE` use
        `decoder_of` to get (decode, dec_params).
      X: the data (n, d); the trivial solution is x̄, γ̄ of this X.
      latent: κ.
      start: optional (μ, log σ), each (n, κ): a start for φ besides the prior (e.g. the trained encoder's).
      gamma0: Dinkelbach's start (default γ̄ / 10); pass the implicit γ* to learn the sign of the gap there.
      rule: "mc" (``pairs`` antithetic pairs per point, ``seed``) or "cubature" (2κ points, exact when the
        decoder is affine).
      gammas: optional grid on which min_φ L(θ̃, φ; γ) and L_triv(γ) are also returned.
      max_iter, rtol: Dinkelbach iterations and the relative change that stops them.
      lbfgs_steps, gtol: each φ-minimisation (‖∇‖ ≤ gtol · max(1, |f|)).
    """
    t0 = time.perf_counter()
    X = check_training_data(X)
    n, d = X.shape
    if isinstance(latent, bool) or not isinstance(latent, (int, np.integer)) or latent < 1:
        raise ValueError(f"latent must be an integer >= 1 (κ), got {latent!r}.")
    seed = V.check_seed("seed", seed)
    Xj = jnp.asarray(X)
    gbar = float(np.mean((X - X.mean(0)) ** 2))
    if rule == "mc":
        eps, w = antithetic_normal(jax.random.PRNGKey(int(seed)), n, pairs, latent)
    elif rule == "cubature":
        eps, w = cubature_rule(latent)
    else:
        raise ValueError(f"rule must be 'mc' or 'cubature', got {rule!r}.")
    prior = (jnp.zeros((n, latent)), jnp.zeros((n, latent)))
    starts = [prior]
    if start is not None:
        mu0, ls0 = (jnp.asarray(a, dtype=jnp.float64) for a in start)
        if mu0.shape != (n, latent) or ls0.shape != (n, latent):
            raise ValueError(f"start must be (mu, log_sigma), each of shape ({n}, {latent}).")
        starts.append((mu0, ls0))
    F_prior, _ = _fk(decode, dec_params, Xj, eps, w, prior)
    delta = float(F_prior) - n * d * gbar
    g = float(gamma0) if gamma0 is not None else gbar / 10
    if not (math.isfinite(g) and g > 0):
        raise ValueError(f"gamma0 must be a finite number > 0, got {gamma0!r}.")

    def solve(gamma, inits):
        best = None
        for phi0 in inits:
            phi, F, K, k = _minimise_jit(decode, dec_params, Xj, eps, w, phi0, jnp.asarray(gamma), lbfgs_steps, gtol)
            val = float(F) + gamma * float(K)
            if best is None or val < best[0]:
                best = (val, phi, float(F), float(K), int(k))
        return best

    iterates, iters, gap0, warm = [g], [], None, None
    converged, gp, shrinks = False, None, 0
    while len(iters) < max_iter + shrinks:
        val, phi, F, K, k = solve(g, starts if warm is None else [warm])
        iters.append(k)
        warm = phi
        if gap0 is None:
            gap0 = val - n * d * gbar - g * n * latent
        if F >= n * d * gbar or K <= n * latent:
            # no φ found that beats the mean at this γ: look at a smaller γ (up to 1e-6 of the start)
            if gp is None and shrinks < 6:
                g, shrinks, warm = g / 10, shrinks + 1, None
                iterates.append(g)
                continue
            break
        g_new = (n * d * gbar - F) / (K - n * latent)
        iterates.append(g_new)
        if gp is None or g_new > gp:
            gp, arg_best = g_new, (phi, K)
        if abs(g_new - g) <= rtol * g:
            converged = True
            break
        g = g_new
    fresh = None
    if gp is not None and rule == "mc":
        eps2, w2 = antithetic_normal(jax.random.fold_in(jax.random.PRNGKey(int(seed)), 1), n, 4 * pairs, latent)
        F2, _ = _fk(decode, dec_params, Xj, eps2, w2, arg_best[0])
        fresh = (n * d * gbar - float(F2)) / (arg_best[1] - n * latent)
    energies, trivial = [], []
    if gammas is not None:
        warm_g = None
        for gm in np.asarray(gammas, dtype=float):
            val, phi, F, K, _ = solve(float(gm), starts + ([warm_g] if warm_g is not None else []))
            warm_g = phi
            energies.append(F / gm + n * d * math.log(gm) + K)
            trivial.append(n * d * math.log(gm) + n * d * gbar / gm + n * latent)
    return GammaPrime(
        gamma_prime=gp,
        gamma_prime_fresh=fresh,
        iterates=iterates,
        gap_at_start=float(gap0),
        delta=delta,
        converged=converged,
        lbfgs_iterations=iters,
        n=n,
        gamma_bar=gbar,
        rule=rule,
        samples=int(eps.shape[-2]),
        gammas=[] if gammas is None else [float(x) for x in np.asarray(gammas)],
        energies=energies,
        trivial=trivial,
        seconds=time.perf_counter() - t0,
    )


def decoder_of(graphdef, state):
    """(decode, dec_params) for `gamma_prime` from a `DeepVAE`'s split state, in float64."""
    model = _merge64(graphdef, state)
    dg, ds = nnx.split(model.decoder)
    return _nnx_decode, (dg, ds)
