"""A collapsed stationary point of a deep VAE at every depth (MATH.md §7).

The energy is eq. (5) of the paper (MATH.md §1) with an amortised MLP encoder and an MLP decoder:

    L(θ, φ) = Σ_i E_{z~q(z|x_i)} ‖x_i − μ_x(z)‖² / γ + n d log γ
              + Σ_i (‖σ_i‖² − log|diag σ_i²| + ‖μ_i‖²),      μ_i = μ_z(x_i), log σ_i = log σ_z(x_i).

The encoder is a trunk of ``depth`` hidden layers (tanh or ReLU) and two linear heads μ_z, log σ_z; the
decoder μ_x is ``depth`` hidden layers (the first one takes z) and a linear output layer; log γ is a
parameter. MATH.md §7 says that the point where

(a) both heads' weights and biases are zero, so q(z|x) = N(0, I) for every x,
(b) the first decoder layer's weights are zero, so μ_x(z) is a constant c,
(c) the output bias makes c = x̄,
(d) γ = γ̄ = (1/nd) Σ_i ‖x_i − x̄‖²,

is stationary whatever the other weights are, and that L = n d (1 + log γ̄) + n κ there (the form of §3).
Why: every decoder gradient except the first layer's is ∝ Σ_i (x_i − x̄) = 0; the first layer's weight
gradient is ∝ E[z (x_i − x̄)ᵀ] J, with J the (z-independent) Jacobian of the rest of the decoder, and
E z = 0; the heads' gradients are the reconstruction term's, ∝ ∂μ_x/∂z = 0, plus the KL gradient at the
prior, 0; the trunk only reaches L through the zero head weights; and ∂L/∂log γ = n d − Σ‖x_i − x̄‖²/γ = 0.

The expectation is a Monte Carlo average over samples ε_is (per data point, fixed key) taken in
antithetic pairs (ε, −ε). That keeps the zero exact rather than true only in expectation: at the point
the first-layer weight gradient is (1/S) Σ_s ε_is times a factor that does not depend on z, an odd
function of ε, and the pair sums cancel it to rounding. Without the pairs it is nonzero, of order
1/√S (a negative control below measures it). As an exact alternative for small κ, a tensor
Gauss–Hermite rule (symmetric nodes, so also odd-cancelling) is checked too.

The checks, at depths 1..10 with tanh and ReLU networks (decoder hidden biases chosen so that every
pre-activation at the point is at least 0.3 from the ReLU kink): the gradient of every parameter group
relative to |L|; autodiff against central finite differences along random directions (so the zero is
not an autodiff artefact), and the same finite differences at a nearby random point for the smooth tanh
networks (so they can see a gradient; with ReLU, sample pre-activations there lie within h of a kink);
the energy against the formula; negative controls that break (a)–(d) one at a time and must give a
clearly nonzero gradient; the 1/√S decay without antithetic pairs. The extreme Hessian eigenvalues at
depth 1 are reported, not checked (the point is a saddle there: the Hessian has negative eigenvalues).
"""

from __future__ import annotations

import itertools
import math

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

import landscape  # noqa: F401  (float64)
from proofs_numeric._claim import Check, Claim, main, timed
from proofs_numeric._common import random_data

__all__ = [
    "ACTIVATIONS",
    "PERTURBATIONS",
    "collapsed_params",
    "energy",
    "energy_formula",
    "gauss_hermite",
    "mc_noise",
    "stationarity_check",
    "run",
]

ACTIVATIONS = {"tanh": jnp.tanh, "relu": jax.nn.relu}

#: The four conditions of MATH.md §7, each broken by one negative control.
PERTURBATIONS = {
    "head_bias": "(a) a nonzero μ-head and log σ-head bias",
    "first_layer": "(b) a nonzero first decoder layer weight",
    "b_out": "(c) output bias with c ≠ x̄",
    "gamma": "(d) γ = 1.5 γ̄",
}

#: The groups of parameters whose gradients are reported separately.
GROUPS = ("enc_trunk", "mu_head", "logsig_head", "dec_first", "dec_hidden", "dec_out", "log_gamma")

N, D, KAPPA, WIDTH, PAIRS, SEED = 20, 5, 2, 8, 8, 0
MARGIN = 0.3  # |decoder pre-activation| at the point, away from the ReLU kink
TOL_GRAD = 1e-12
TOL_FD = 1e-6
TOL_ENERGY = 1e-12
NONZERO = 1e-3  # a negative control must have ‖∇L‖/|L| at least this


# --------------------------------------------------------------------------- model


def _mlp(layers, h, act):
    for W, b in layers:
        h = act(h @ W + b)
    return h


def energy(params, X, eps, weights, activation: str = "tanh"):
    """Eq. (5) with an MLP encoder/decoder (MATH.md §1, §7), the expectation as a weighted sum over ε.

    Args:
      params: the pytree of `collapsed_params`.
      X: data, (n, d).
      eps: standard normal samples or nodes, (n, S, κ) or (S, κ) (shared by every point).
      weights: (S,) quadrature weights summing to 1 (1/S for Monte Carlo).
    """
    act = ACTIVATIONS[activation]
    n, d = X.shape
    h = _mlp(params["enc_trunk"], X, act)
    mu = h @ params["mu_head"][0] + params["mu_head"][1]  # (n, κ)
    log_sigma = h @ params["logsig_head"][0] + params["logsig_head"][1]
    sigma = jnp.exp(log_sigma)
    z = mu[:, None, :] + sigma[:, None, :] * eps  # (n, S, κ)
    W1, b1 = params["dec_first"]
    g = _mlp(params["dec_hidden"], act(z @ W1 + b1), act)
    out = g @ params["dec_out"][0] + params["dec_out"][1]  # (n, S, d)
    sq = jnp.sum((X[:, None, :] - out) ** 2, axis=-1) @ weights  # (n,)
    log_gamma = params["log_gamma"]
    kl = jnp.sum(sigma**2 - 2.0 * log_sigma + mu**2)
    return jnp.sum(sq) * jnp.exp(-log_gamma) + n * d * log_gamma + kl


def energy_formula(X, kappa: int) -> float:
    """L at the collapsed point, n d (1 + log γ̄) + n κ (MATH.md §3)."""
    n, d = X.shape
    gamma_bar = float(np.sum((X - X.mean(0)) ** 2) / (n * d))
    return n * d * (1.0 + math.log(gamma_bar)) + n * kappa


def mc_noise(key, n: int, pairs: int, kappa: int, antithetic: bool = True):
    """(n, S, κ) standard normal samples and uniform weights; S = 2·pairs, as (ε, −ε) pairs if antithetic."""
    if antithetic:
        e = jax.random.normal(key, (n, pairs, kappa))
        eps = jnp.concatenate([e, -e], axis=1)
    else:
        eps = jax.random.normal(key, (n, 2 * pairs, kappa))
    S = eps.shape[1]
    return eps, jnp.full((S,), 1.0 / S)


def gauss_hermite(m: int, kappa: int):
    """The tensor Gauss–Hermite rule for N(0, I_κ): (m^κ, κ) nodes (symmetric about 0) and weights."""
    t, w = np.polynomial.hermite.hermgauss(m)
    nodes = np.array(list(itertools.product(np.sqrt(2.0) * t, repeat=kappa)))
    weights = np.prod(np.array(list(itertools.product(w / np.sqrt(np.pi), repeat=kappa))), axis=1)
    return jnp.asarray(nodes), jnp.asarray(weights)


def collapsed_params(
    X, depth: int, activation: str, kappa: int = KAPPA, width: int = WIDTH, seed: int = SEED, perturb: str | None = None
):
    """The point of MATH.md §7 for an MLP VAE, with random weights everywhere the construction allows.

    Encoder trunk: ``depth`` layers d → width → … → width. Heads width → κ, zero. Decoder: first layer
    κ → width with zero weights, ``depth − 1`` more hidden layers, a linear output layer width → d whose
    bias makes the constant output x̄. The decoder's hidden biases are chosen so that each pre-activation
    at the point has |a| in [MARGIN, MARGIN + 0.7], at least half of them positive (away from ReLU kinks,
    and no dead layer). ``perturb`` (a key of `PERTURBATIONS`) breaks one condition. Returns a dict of
    float64 numpy arrays (lists of (W, b) for the trunk and the decoder's later hidden layers).
    """
    X = np.asarray(X, dtype=float)
    rng = np.random.default_rng([seed, depth, len(activation)])
    n, d = X.shape
    gain = math.sqrt(2.0) if activation == "relu" else 1.0
    act = {"tanh": np.tanh, "relu": lambda a: np.maximum(a, 0.0)}[activation]

    def dense(fan_in, fan_out):
        return gain * rng.normal(size=(fan_in, fan_out)) / math.sqrt(fan_in)

    def targets():
        signs = rng.permutation(np.resize([1.0, -1.0], width))
        return signs * (MARGIN + 0.7 * rng.uniform(size=width))

    enc, fan = [], d
    for _ in range(depth):
        enc.append((dense(fan, width), 0.5 * rng.normal(size=width)))
        fan = width
    heads = {k: (np.zeros((width, kappa)), np.zeros(kappa)) for k in ("mu_head", "logsig_head")}
    b1 = targets()  # the first layer's weights are zero: its pre-activation is its bias
    h = act(b1)
    hidden = []
    for _ in range(depth - 1):
        W = dense(width, width)
        b = targets() - h @ W
        hidden.append((W, b))
        h = act(h @ W + b)
    W_out = dense(width, d) / gain
    xbar = X.mean(0)
    b_out = xbar - h @ W_out
    log_gamma = math.log(np.sum((X - xbar) ** 2) / (n * d))
    W1 = np.zeros((kappa, width))
    if perturb == "head_bias":
        heads = {k: (W, 0.3 * rng.normal(size=kappa)) for k, (W, _) in heads.items()}
    elif perturb == "first_layer":
        W1 = rng.normal(size=(kappa, width))
    elif perturb == "b_out":
        b_out = b_out + 0.3 * rng.normal(size=d)
    elif perturb == "gamma":
        log_gamma += math.log(1.5)
    elif perturb is not None:
        raise ValueError(f"perturb must be one of {sorted(PERTURBATIONS)} or None, not {perturb!r}")
    params = {
        "enc_trunk": enc,
        **heads,
        "dec_first": (W1, b1),
        "dec_hidden": hidden,
        "dec_out": (W_out, b_out),
        "log_gamma": np.asarray(log_gamma),
    }
    return params


class _Model:
    """One §7 point as a flat (host) vector, with the energy and its autodiff gradient as functions of it.

    Flattening is done in numpy on the host and the energy is not jitted: compiling a depth-10 network
    takes seconds, and each architecture is evaluated only a few dozen times, which op-by-op dispatch
    does in milliseconds once its few primitives are compiled.
    """

    def __init__(self, X, depth, activation, eps, weights, perturb=None):
        self.X = jnp.asarray(X)
        self.activation = activation
        self.params = collapsed_params(X, depth, activation, perturb=perturb)
        leaves, self.treedef = jax.tree_util.tree_flatten(self.params)
        self.shapes = [np.shape(x) for x in leaves]
        self.flat = np.concatenate([np.ravel(x) for x in leaves])
        self.eps, self.weights = eps, weights

    def unravel(self, flat):
        parts = np.split(np.asarray(flat), np.cumsum([math.prod(s) for s in self.shapes])[:-1])
        return jax.tree_util.tree_unflatten(
            self.treedef, [x.reshape(s) for x, s in zip(parts, self.shapes, strict=True)]
        )

    def _args(self, p, eps, weights):
        p = self.flat if p is None else p
        eps = self.eps if eps is None else eps
        return self.unravel(p), self.X, eps, self.weights if weights is None else weights, self.activation

    def value(self, p=None, eps=None, weights=None):
        return float(energy(*self._args(p, eps, weights)))

    def grad(self, p=None, eps=None, weights=None):
        tree = jax.grad(energy)(*self._args(p, eps, weights))
        return np.concatenate([np.ravel(np.asarray(x)) for x in jax.tree_util.tree_leaves(tree)])

    def group_norms(self, grad):
        tree = self.unravel(grad)
        return {k: math.sqrt(sum(float(np.sum(x**2)) for x in jax.tree_util.tree_leaves(tree[k]))) for k in GROUPS}


def _data(n=N, d=D, seed=SEED):
    return random_data(np.random.default_rng(seed), n, d)


def stationarity_check(
    depths, activations=("tanh", "relu"), perturb: str | None = None, pairs: int = PAIRS, X=None
) -> Check:
    """max over depths, activations and parameter groups of ‖∇_group L‖₂ / |L| at the §7 point, ≤ 1e-12.

    With ``perturb`` set (a key of `PERTURBATIONS`) the point breaks one condition and the check fails:
    that is the negative control the tests use.
    """
    X = _data() if X is None else X
    eps, w = mc_noise(jax.random.PRNGKey(SEED), X.shape[0], pairs, KAPPA)
    worst, where = -1.0, ""
    for depth, activation in itertools.product(depths, activations):
        m = _Model(X, depth, activation, eps, w, perturb)
        L = m.value()
        norms = m.group_norms(m.grad())
        k = max(norms, key=norms.get)
        if norms[k] / abs(L) > worst:
            worst, where = norms[k] / abs(L), f"depth {depth}, {activation}, group {k}"
    label = "" if perturb is None else f" [perturbed: {PERTURBATIONS[perturb]}]"
    return Check(
        f"stationarity: max over depths, activations, groups of ‖∇_group L‖/|L|{label}",
        worst,
        TOL_GRAD,
        f"worst at {where}",
    )


# --------------------------------------------------------------------------- run


@timed
def run(fast: bool = False) -> Claim:
    """MATH.md §7: the collapsed point of an MLP VAE is stationary for eq. (5) at every depth 1..10."""
    depths = (1, 2, 5, 10) if fast else tuple(range(1, 11))
    activations = ("tanh", "relu")
    n_dirs = 2 if fast else 4
    h = 1e-5
    X = _data()
    n, d = X.shape
    key = jax.random.PRNGKey(SEED)
    eps, w = mc_noise(key, n, PAIRS, KAPPA)
    gh_nodes, gh_w = gauss_hermite(7, KAPPA)
    rng = np.random.default_rng(SEED + 1)
    L_ref = energy_formula(X, KAPPA)

    grad_worst, grad_where = -1.0, ""
    fd_worst, fd_where = -1.0, ""
    fd_near_worst = -1.0
    e_worst = -1.0
    gh_worst, gh_e_worst = -1.0, -1.0
    near_scale = []
    controls = {k: (math.inf, "") for k in PERTURBATIONS}
    per_group = dict.fromkeys(GROUPS, 0.0)
    for depth, activation in itertools.product(depths, activations):
        m = _Model(X, depth, activation, eps, w)
        L = m.value()
        g = m.grad()
        norms = m.group_norms(g)
        for k, v in norms.items():
            per_group[k] = max(per_group[k], v / abs(L))
        k = max(norms, key=norms.get)
        if norms[k] / abs(L) > grad_worst:
            grad_worst, grad_where = norms[k] / abs(L), f"depth {depth}, {activation}, group {k}"
        e_worst = max(e_worst, abs(L - L_ref) / abs(L_ref))

        # a random nearby point: the scale of a gradient that is not zero
        near = m.flat + 0.1 * rng.normal(size=m.flat.shape)
        g_near = m.grad(near)
        G = float(np.linalg.norm(g_near))
        near_scale.append(G / abs(m.value(near)))
        # central differences along random unit directions, one of them in the first decoder layer's weights
        dirs = [rng.normal(size=m.flat.shape) for _ in range(n_dirs)]
        mask = m.unravel(np.zeros_like(m.flat))
        mask["dec_first"] = (np.ones_like(mask["dec_first"][0]), mask["dec_first"][1])
        dirs.append(
            np.concatenate([np.ravel(x) for x in jax.tree_util.tree_leaves(mask)]) * rng.normal(size=m.flat.shape)
        )
        for v in dirs:
            v = v / np.linalg.norm(v)
            fd = (m.value(m.flat + h * v) - m.value(m.flat - h * v)) / (2 * h)
            err = abs(fd - float(g @ v)) / G
            if err > fd_worst:
                fd_worst, fd_where = err, f"depth {depth}, {activation}: FD {fd:.2g}, AD {float(g @ v):.2g}"
            if activation == "tanh":  # smooth: at a random point ReLU kinks lie within h of the samples
                fd_n = (m.value(near + h * v) - m.value(near - h * v)) / (2 * h)
                fd_near_worst = max(fd_near_worst, abs(fd_n - float(g_near @ v)) / G)

        # the exact alternative: Gauss–Hermite nodes shared by every point
        L_gh = m.value(eps=gh_nodes, weights=gh_w)
        gh_worst = max(gh_worst, float(np.linalg.norm(m.grad(eps=gh_nodes, weights=gh_w))) / abs(L_gh))
        gh_e_worst = max(gh_e_worst, abs(L_gh - L_ref) / abs(L_ref))

        # negative controls: break (a)–(d) one at a time
        for p in PERTURBATIONS:
            mp = _Model(X, depth, activation, eps, w, perturb=p)
            r = float(np.linalg.norm(mp.grad())) / abs(mp.value())
            if r < controls[p][0]:
                controls[p] = (r, f"depth {depth}, {activation}")

    checks = [
        Check(
            "‖∇_group L‖₂/|L| at the point, worst over depths × {tanh, ReLU} × parameter groups",
            grad_worst,
            TOL_GRAD,
            f"worst at {grad_where}; per group: "
            + ", ".join(f"{k} {v:.1e}" for k, v in per_group.items())
            + f"; at a nearby random point ‖∇L‖/|L| ≥ {min(near_scale):.2g}",
        ),
        Check(
            "|central FD − autodiff| / ‖∇L(nearby point)‖ along random unit directions (h = 1e-5)",
            fd_worst,
            TOL_FD,
            f"worst at {fd_where}; {n_dirs} random directions and one in the first decoder layer's weights per network",
        ),
        Check(
            "the same |central FD − autodiff| / ‖∇L‖ at the nearby random point (tanh networks)",
            fd_near_worst,
            TOL_FD,
            f"so the finite differences can see a gradient that is there (‖∇L‖/|L| ≥ {min(near_scale):.2g})",
        ),
        Check("L at the point vs n d (1 + log γ̄) + n κ, relative", e_worst, TOL_ENERGY, f"formula {L_ref:.10g}"),
        Check(
            "Gauss–Hermite (7^κ symmetric nodes): ‖∇L‖/|L| at the point, worst",
            gh_worst,
            TOL_GRAD,
            f"and L vs the formula: relative {gh_e_worst:.1e}",
        ),
    ]
    for p, (r, where) in controls.items():
        checks.append(
            Check(
                f"negative control {PERTURBATIONS[p]}: 1e-3 ÷ min ‖∇L‖/|L| (≤ 1 iff clearly not stationary)",
                NONZERO / r if r > 0 else math.inf,
                1.0,
                f"min ‖∇L‖/|L| = {r:.3g} at {where}",
            )
        )

    checks += _antithetic_control(X, fast)
    notes = [
        "The MLPs are written in pure JAX over pytrees; Flax models come in a later issue.",
        f"n = {n}, d = {d}, κ = {KAPPA}, width {WIDTH}, {2 * PAIRS} Monte Carlo samples per data point "
        f"({PAIRS} antithetic pairs, key {SEED}); the Gauss–Hermite rule is exact for this integrand at the point.",
    ]
    notes.append(_hessian_note(X, eps, w) if not fast else "The depth-1 Hessian is reported by the full run.")
    return Claim(
        name="deep_collapsed_point",
        claim="For MLP encoders and decoders with amortised heads μ_z(x), log σ_z(x), the point with zero head "
        "weights and biases (q(z|x) = N(0, I)), zero first decoder layer weights, output bias giving the constant "
        "output x̄, and γ = γ̄ is a stationary point of the energy eq. (5) at every depth, with "
        "L = n d (1 + log γ̄) + n κ (MATH.md §7).",
        method="Pure-JAX MLPs (tanh and ReLU, width 8, depths " + ", ".join(map(str, depths)) + "); the expectation "
        "in eq. (5) as a Monte Carlo average over antithetic pairs (ε, −ε), and as tensor Gauss–Hermite; "
        "autodiff gradient per parameter group, checked against central differences; negative controls break "
        "each condition and drop the antithetic pairs.",
        checks=tuple(checks),
        notes=tuple(notes),
        config={
            "n": n,
            "d": d,
            "kappa": KAPPA,
            "width": WIDTH,
            "pairs": PAIRS,
            "depths": list(depths),
            "activations": list(activations),
            "fd_step": h,
            "seed": SEED,
        },
    )


def _antithetic_control(X, fast: bool) -> list[Check]:
    """Without antithetic pairs the first-layer weight gradient at the point is nonzero, RMS ∝ 1/√S."""
    n = X.shape[0]
    pairs = (4, 16, 64, 256)
    n_keys = 8 if fast else 32
    eps0, w0 = mc_noise(jax.random.PRNGKey(SEED), n, PAIRS, KAPPA, antithetic=False)
    m = _Model(X, 2, "tanh", eps0, w0)
    L = m.value()

    def first_layer_grad(params, e, w):
        return jnp.ravel(jax.grad(energy)(params, m.X, e, w, "tanh")["dec_first"][0])

    # one compiled gradient for every S: the largest sample set, with zero weight past the first S samples
    grads = jax.jit(jax.vmap(first_layer_grad, in_axes=(None, 0, None)))
    S_max = 2 * max(pairs)
    e = jnp.asarray(np.random.default_rng(SEED + 2).normal(size=(n_keys, n, S_max, KAPPA)))
    rms = []
    for P in pairs:
        w = jnp.asarray(np.where(np.arange(S_max) < 2 * P, 1.0 / (2 * P), 0.0))
        rms.append(math.sqrt(float(jnp.mean(jnp.sum(grads(m.params, e, w) ** 2, axis=1)))) / abs(L))
    S = 2 * np.array(pairs)
    slope = float(np.polyfit(np.log(S), np.log(rms), 1)[0])
    detail = ", ".join(f"S = {s}: {r:.2e}" for s, r in zip(S, rms, strict=True))
    return [
        Check(
            "no antithetic pairs (depth 2, tanh): 1e-3 ÷ smallest RMS ‖∇_{W1} L‖/|L| (≤ 1 iff nonzero)",
            NONZERO / min(rms),
            1.0,
            f"RMS over {n_keys} draws; {detail}",
        ),
        Check(
            "no antithetic pairs: |log-log slope of RMS ‖∇_{W1} L‖ in S + 1/2|",
            abs(slope + 0.5),
            0.1,
            f"slope {slope:.3f} (expected −1/2)",
        ),
    ]


def _hessian_note(X, eps, w) -> str:
    """The dense Hessian at depth 1 (tanh and ReLU): its extreme eigenvalues, reported, not checked."""
    parts = []
    for activation in ("tanh", "relu"):
        m = _Model(X, 1, activation, eps, w)
        flat, unravel = ravel_pytree(m.params)
        H = np.asarray(jax.jit(jax.hessian(lambda p, m=m, u=unravel: energy(u(p), m.X, eps, w, m.activation)))(flat))
        ev = np.linalg.eigvalsh((H + H.T) / 2)
        tol = 1e-9 * np.max(np.abs(ev))
        parts.append(
            f"{activation}: P = {m.flat.size}, λ_min = {ev[0]:.4g}, λ_max = {ev[-1]:.4g}, "
            f"{int(np.sum(ev < -tol))} negative, {int(np.sum(np.abs(ev) <= tol))} zero (|λ| ≤ 1e-9 λ_max)"
        )
    return "Hessian at depth 1 (dense, same antithetic samples): " + "; ".join(parts) + "."


if __name__ == "__main__":
    raise SystemExit(main(run))
