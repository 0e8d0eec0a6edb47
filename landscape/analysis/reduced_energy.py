"""The reduced energy near collapse, in difference form (issue 19).

**Difference form.** With y_ij = x_ij − b_j, u_ij ~ N(m_ij, v_ij) as in MATH.md §2 and
ψ(t) = e^t − 1 − t (`expm1mx`), eq. (5) minus the collapsed energy L_c = nd(1 + log γ̄) + nκ
(MATH.md §3) is

    L − L_c = (1/γ) Σ_ij [E π_α(u_ij)² − 2 y_ij E π_α(u_ij)]
              + n d ψ(log γ̄ − log γ) + n ‖b − x̄‖² / γ + Σ_ik [μ_ik² + ψ(2 log σ_ik)].

Derivation: E‖x_i − π_α(Wz) − b‖² = Σ_j [y_ij² − 2 y_ij E π + E π²] (MATH.md §2); since
Σ_i (x_i − x̄) = 0, Σ_ij y_ij² = n d γ̄ + n ‖b − x̄‖², and n d γ̄/γ + n d log γ − n d(1 + log γ̄)
= n d ψ(log γ̄ − log γ); σ² − log σ² − 1 = ψ(2 log σ). Every term but the cross term −2 y E π
is ≥ 0 and vanishes at the collapsed point, so the excess is computed without subtracting two
O(nd) energies: at ‖W‖_F = 0.01, α = 0.1 (Proposition 1 data, n = 20, d = 3) it lies between
1e-71 and 1e-27 depending on the direction, and is resolved to the relative accuracy of the
moments of π_α (~1e-11 there, `landscape.core.moments`; see Rounding), not to 1e-16 · L_c.
Its range is float64's: where every α/‖w_j‖ ≳ 37.5, φ(α/‖w_j‖) and with it the excess
underflow, and the value is 0 (with its gradients), not a resolved positive number.

The reference point (x̄, log γ̄) is that of `landscape.core.collapsed.collapsed_point`, the
same floats (`excess_reference`), and the identity Σ_i (x_i − x̄) = 0 is taken as exact: the
rounding residual r = Σ_i (x_i − x̄) = O(n ε |x|) of the float x̄ is dropped, so the collapsed
point is the exact minimiser at W = 0 with excess exactly 0, and the excess differs from
``energy(params) − L_c`` by 2 (x̄ − b)·r / γ (plus the rounding of the two O(nd) energies).

**Reduced energy.** ℓ(W) − ℓ(0) = min over (b, log γ, μ, log σ) of the excess at fixed W,
minimised locally from the collapsed values (or a warm start) by the arrowhead Newton of
`landscape.tools.arrowhead` (globals g = (b, log γ), locals L_i = (μ_i, log σ_i)). At W = 0
the inner Hessian is D = diag(2n/γ̄ · I_d, n d, 2 · I_{nκ}, 4 · I_{nκ}) (MATH.md §4), positive
definite, so the local minimum is well defined near W = 0. The inner variables are the
displacements from the collapsed values, scaled by D^{1/2}:
x̃ = D^{1/2} (b − x̄, log γ − log γ̄, μ, log σ). In them the collapsed start is exactly 0 and
‖∇_x̃ f‖ = (∇fᵀ D⁻¹ ∇f)^{1/2} is the Newton decrement of the excess f in the collapsed metric
(the true decrement where the inner Hessian is D, an estimate within its conditioning elsewhere).

**Stopping rule (relative).** The inner solve stops when ‖∇_x̃ f‖ ≤ gtol · √c, with c the
scale of the excess, the sum of the magnitudes of its terms (the cross term taken as
|2 y E π| / γ), so c ≥ |f|, c = 0 only at the collapsed point, and c is invariant under the
units change X → sX + t. In the quadratic model f − f* ≈ ½ ‖∇_x̃ f‖², so the stop means: the
value is within gtol² c / 2 of the local minimum (a relative error gtol² / 2), and the inner
point within ~gtol √c of the minimiser in the metric D (where a displacement δ costs ½ δᵀDδ).
For α = 0 the gradient's rounding floor is ~ε √c, so any gtol ≳ 1e-14 can be met. c is evaluated at the start and
again after a first solve, which is then continued with the tolerance of the second scale, so a
warm start far from the minimiser does not loosen the rule. `arrowhead_newton_minimize`'s
``gtol`` is absolute; it is passed the traced value gtol · √c.

**Rounding.** For α > 0 and |E π| ≪ √Var the moments of π_α are sums of pieces far larger than
their result (`_piece_magnitudes`), so f is computed to ε N, N ≫ c (at ‖W‖ = 0.02 on the
Proposition 1 data N/c ~ 1e4: a relative resolution ~1e-12). A Newton step's decrease can be
below ε N, where arrowhead's Armijo slack 64 ε |f| would reject it and stall the loop. The
solver therefore minimises F = f + N, N a constant per pass: same steps, slack 64 ε |F| ≥ ε N.
`ReducedExcess.rounding` reports N.

**W-gradient.** By the envelope theorem ∇ℓ(W) = ∂_W f(W, x*(W)). The cores solve the inner
problem on ``stop_gradient`` of *all* their inputs (reverse-mode autodiff cannot go through
``lax.while_loop``) and evaluate f once more at the fixed inner minimiser with W live, so
``jax.grad`` of `reduced_excess_core`'s value in W is the envelope gradient. It is a
first derivative only: second derivatives of the value are not those of ℓ.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from landscape.common import checks as V
from landscape.common.results import Result
from landscape.core.collapsed import collapsed_point
from landscape.core.data import as_data
from landscape.core.moments import soft_threshold_moments
from landscape.core.params import VAEParams, as_float64_params, check_params
from landscape.tools.arrowhead import arrowhead_newton_minimize

__all__ = [
    "expm1mx",
    "excess_reference",
    "excess_objective",
    "excess_parts",
    "energy_excess",
    "ReducedCore",
    "ReducedExcess",
    "reduced_excess_core",
    "reduced_excess_and_grad_core",
    "reduced_excess",
]

GTOL = 1e-10  # default relative inner tolerance (module docstring): value error ≲ gtol² c / 2
MAX_STEPS = 100

_SERIES_BELOW = 0.5  # |t| below this: the Taylor series of ψ; above: expm1(t) − t (cancels ≤ 4.7×)
# 1/(k+2)!, k = 0..15: ψ(t) = t² Σ_k t^k/(k+2)!; the first omitted term is < 3e-21 ψ(t) at |t| = 0.5
_COEF = tuple(1.0 / float(np.prod(np.arange(1, k + 3, dtype=np.float64))) for k in range(16))


@jax.custom_jvp
def expm1mx(t):
    """ψ(t) = e^t − 1 − t, elementwise, to relative accuracy ~1e-16 for every t (exact 0 at 0).

    An unchecked, jittable primitive. For |t| < 0.5 a Horner sum of the Taylor series
    t² Σ_{k≥0} t^k/(k+2)!, relatively accurate down to |t| ≈ 2.1e-154, where ψ(t) reaches the
    smallest normal float64 (below it ψ(t) is subnormal, which XLA on CPU flushes to 0);
    otherwise expm1(t) − t, which cancels by at most a factor 4.7 there. Measured against
    mpmath: relative error ≤ 5.3e-16 on ±[2.2e-154, 10]. The derivatives ψ'(t) = expm1(t) and
    ψ''(t) = e^t are supplied by custom JVPs (relatively accurate at every t).
    """
    small = jnp.abs(t) < _SERIES_BELOW
    ts = jnp.where(small, t, 0.0)
    tb = jnp.where(small, 1.0, t)
    acc = jnp.full_like(ts, _COEF[-1])
    for c in _COEF[-2::-1]:
        acc = acc * ts + c
    return jnp.where(small, ts * ts * acc, jnp.expm1(tb) - tb)


@expm1mx.defjvp
def _expm1mx_jvp(primals, tangents):
    (t,), (dt,) = primals, tangents
    return expm1mx(t), _expm1(t) * dt


@jax.custom_jvp
def _expm1(t):
    """e^t − 1, whose derivative is e^t itself (JAX's rule, expm1(t) + 1, loses e^t for t ≪ 0)."""
    return jnp.expm1(t)


@_expm1.defjvp
def _expm1_jvp(primals, tangents):
    (t,), (dt,) = primals, tangents
    return jnp.expm1(t), jnp.exp(t) * dt


def _piece_magnitudes(m, v, alpha):
    """(M1, M2): magnitudes of the pieces that `soft_threshold_moments` adds up into E π and Var π.

    For α > 0 and |m| ≪ s the closed forms of MATH.md §2 cancel: E π = E f_α(u) − E f_α(−u)
    is a difference of two tails of size s φ(t)/t², and Var π a sum of terms of size
    (α² + v) Φ(−t), t = α/s, far above the result. Their rounding, ε · (M1, M2), and not ε |f|,
    is the noise in the excess. Per tail c ∈ {m − α, −m − α}, a = c/s: |c| Φ(a) + s φ(a) and
    (c² + v) Φ(a) + |c| s φ(a). For α = 0 the moments are exact (E π = m, Var π = v): |m| and v.
    Values only (no derivatives are taken of them).
    """
    s = jnp.sqrt(jnp.maximum(v, jnp.finfo(jnp.result_type(v)).tiny ** (1.0 / 3.0)))
    m1 = m2 = 0.0
    for c in (m - alpha, -m - alpha):
        a = c / s
        cdf = 0.5 * jax.lax.erfc(-a * np.sqrt(0.5))
        pdf = jnp.exp(-0.5 * a * a) / np.sqrt(2.0 * np.pi)
        m1 = m1 + jnp.abs(c) * cdf + s * pdf
        m2 = m2 + (c * c + v) * cdf + jnp.abs(c) * s * pdf
    affine = alpha == 0
    return jnp.where(affine, jnp.abs(m), m1), jnp.where(affine, v, m2)


def excess_parts(W, beta, eta, mu, rho, Y, log_gamma_bar, alpha, *, rounding=False):
    """(f, c), or (f, c, N) with ``rounding``: the excess, its scale and its rounding scale; jittable, unchecked.

    Displacement variables: beta = b − x̄, eta = log γ − log γ̄, rho = log σ; Y = X − x̄. c is f
    with the cross term −2 y E π replaced by its magnitude (the sum of the magnitudes of f's
    terms, c ≥ |f|); N ≥ c is the same sum over the pieces inside the moments of π_α
    (`_piece_magnitudes`), so that f is computed to about ε N.
    """
    n, d = Y.shape
    inv_gamma = jnp.exp(-(log_gamma_bar + eta))
    m = mu @ W.T
    v = jnp.exp(2.0 * rho) @ (W**2).T
    mean, var = soft_threshold_moments(m, v, alpha)
    y = Y - beta
    cross = 2.0 * y * mean
    sq = var + mean * mean  # E π_α(u)²
    rest = n * d * expm1mx(-eta) + n * jnp.sum(beta * beta) * inv_gamma + jnp.sum(mu * mu) + jnp.sum(expm1mx(2.0 * rho))
    f = jnp.sum(sq - cross) * inv_gamma + rest
    c = jnp.sum(sq + jnp.abs(cross)) * inv_gamma + rest
    if not rounding:
        return f, c
    m1, m2 = _piece_magnitudes(m, v, alpha)
    return f, c, jnp.maximum(jnp.sum(2.0 * jnp.abs(y) * m1 + m2 + mean * mean) * inv_gamma + rest, c)


def excess_objective(params: VAEParams, X, xbar, log_gamma_bar, alpha) -> jax.Array:
    """L(θ, φ) − L_c in difference form (module docstring): the pure, jittable core, unchecked.

    Like `landscape.core.energy.energy_objective`, it checks nothing, so it can be traced
    with any arguments and vmapped; `energy_excess` is the checked entry point.

    Args:
      params: a `VAEParams` (W (d, κ), b (d,), log_gamma (), mu and log_sigma (n, κ)).
      X: data (n, d).
      xbar, log_gamma_bar: the reference point, b and log γ of the collapsed point
        (`excess_reference`): the excess is exactly 0 at W = 0, b = xbar,
        log γ = log_gamma_bar, μ = 0, log σ = 0.
      alpha: the soft threshold α ≥ 0.
    """
    alpha = V.as_real(alpha)
    f, _ = excess_parts(
        params.W, params.b - xbar, params.log_gamma - log_gamma_bar, params.mu, params.log_sigma, X - xbar,
        log_gamma_bar, alpha,
    )  # fmt: skip
    return f


def excess_reference(X):
    """(xbar, log_gamma_bar): b and log γ of `collapsed_point` (the same floats), for the cores.

    x̄ is reduced by XLA and log γ̄ is NumPy's log, as in `collapsed_point`; they can differ from
    ``Data.x_mean`` and ``jnp.log(gamma_bar)`` in the last bit, which would make the excess at
    the library's collapsed point ~1e-31 instead of exactly 0.
    """
    ref = collapsed_point(as_data(X), 1)
    return ref.b, ref.log_gamma


def energy_excess(params: VAEParams, X, alpha) -> jax.Array:
    """L(θ, φ) − L_c of eq. (5), in difference form (module docstring), a float64 scalar.

    Exactly 0 at `collapsed_point`, and relatively accurate where the excess is tiny (no
    subtraction of two O(nd) energies). Differs from ``energy(params, X, alpha) − L_c`` by
    rounding of those energies and by 2 (x̄ − b)·Σ_i(x_i − x̄) / γ (module docstring).

    Args:
      params: a `VAEParams` matching X.
      X: data (n, d), or a `Data`.
      alpha: the soft threshold α ≥ 0.
    """
    data = as_data(X)
    alpha = V.check_alpha(alpha)
    params = as_float64_params(params)
    check_params(params, data.n, data.d)
    xbar, lgb = excess_reference(data)
    return _excess_objective_jit(params, jnp.asarray(data.X), xbar, lgb, alpha)


_excess_objective_jit = jax.jit(excess_objective)


class ReducedCore(NamedTuple):
    """What `reduced_excess_core` returns (a pytree, so it vmaps).

    value: ℓ(W) − ℓ(0), the excess at the inner minimiser; inner: that minimiser as a
    `VAEParams` (its W is the W given); grad_norm: ‖∇_x̃ f‖ there, in the metric of the
    collapsed inner Hessian (module docstring); converged: grad_norm ≤ gtol · √c.
    """

    value: jax.Array
    inner: VAEParams
    grad_norm: jax.Array
    converged: jax.Array


def _precond(n, d, log_gamma_bar):
    """D^{1/2} for (b, log γ, μ, log σ): √(2n/γ̄), √(nd), √2, 2 (the collapsed inner Hessian)."""
    return jnp.sqrt(2.0 * n * jnp.exp(-log_gamma_bar)), np.sqrt(float(n * d)), np.sqrt(2.0), 2.0


def _unscale(g, L, kappa, n, d, log_gamma_bar):
    cb, cg, cm, cs = _precond(n, d, log_gamma_bar)
    return g[:d] / cb, g[d] / cg, L[:, :kappa] / cm, L[:, kappa:] / cs


def _scaled_parts(g, L, W, Y, log_gamma_bar, alpha, **kw):
    n, d = Y.shape
    return excess_parts(W, *_unscale(g, L, W.shape[1], n, d, log_gamma_bar), Y, log_gamma_bar, alpha, **kw)


def _scaled_excess(g, L, W, Y, log_gamma_bar, alpha, shift=0.0):
    """The excess plus a constant ``shift``, as an arrowhead objective of the scaled displacements
    g = D^{1/2}(b − x̄, log γ − log γ̄), L_i = D^{1/2}(μ_i, log σ_i): point i's locals enter only its
    own terms. The shift (the rounding scale N) sets the line search's rounding slack (`_solve`)."""
    return _scaled_parts(g, L, W, Y, log_gamma_bar, alpha)[0] + shift


def _start(inner0, W, xbar, log_gamma_bar, n, d):
    """The scaled displacements (g0, L0) of a warm start (its W ignored), zeros for None."""
    kappa = W.shape[1]
    if inner0 is None:
        return jnp.zeros(d + 1, W.dtype), jnp.zeros((n, 2 * kappa), W.dtype)
    cb, cg, cm, cs = _precond(n, d, log_gamma_bar)
    g0 = jnp.concatenate([(inner0.b - xbar) * cb, jnp.reshape((inner0.log_gamma - log_gamma_bar) * cg, (1,))])
    return g0, jnp.concatenate([inner0.mu * cm, inner0.log_sigma * cs], axis=1)


def _solve(W, inner0, X, xbar, log_gamma_bar, alpha, gtol, max_steps):
    """The inner minimisation (two passes, module docstring); returns (g, L, grad_norm, steps, converged)."""
    n, d = X.shape
    Y = X - xbar
    args = (W, Y, log_gamma_bar, alpha)
    g0, L0 = _start(inner0, W, xbar, log_gamma_bar, n, d)

    def solve_pass(_, state):  # one Newton run, to the tolerance of the scale where it starts
        g, L, steps, _, _ = state
        _, c, rounding = _scaled_parts(g, L, *args, rounding=True)
        tol = gtol * jnp.sqrt(c)
        # Armijo's rounding slack is 64 ε |F|: with F = f + N it covers the rounding ~ε N of f, which
        # for α > 0 can exceed the decrease of a Newton step that ε |f| would have to resolve
        r = arrowhead_newton_minimize(_scaled_excess, g, L, args + (rounding,), gtol=tol, max_steps=max_steps - steps)
        return r.g, r.L, steps + r.steps, r.grad_norm, r.converged

    zero = jnp.zeros((), W.dtype)
    g, L, steps, gn, conv = jax.lax.fori_loop(0, 2, solve_pass, (g0, L0, 0, zero, False))
    return g, L, gn, steps, conv


def _reduced(W, inner0, X, xbar, log_gamma_bar, alpha, gtol, max_steps):
    """(ReducedCore, steps, scale c, rounding scale N), the value re-evaluated with live inputs at the inner point."""
    alpha = V.as_real(alpha)
    n, d = X.shape
    sg = jax.lax.stop_gradient
    g, L, gn, steps, conv = _solve(*map(sg, (W, inner0, X, xbar, log_gamma_bar, alpha)), gtol, max_steps)
    g, L = sg(g), sg(L)
    value, scale, rounding = _scaled_parts(g, L, W, X - xbar, log_gamma_bar, alpha, rounding=True)
    beta, eta, mu, rho = _unscale(g, L, W.shape[1], n, d, log_gamma_bar)
    inner = VAEParams(W=W, b=xbar + beta, log_gamma=log_gamma_bar + eta, mu=mu, log_sigma=rho)
    core = ReducedCore(value=value, inner=sg(inner), grad_norm=gn, converged=conv)
    return core, steps, sg(scale), sg(rounding)


def reduced_excess_core(W, inner0, X, xbar, log_gamma_bar, alpha, *, gtol=GTOL, max_steps=MAX_STEPS) -> ReducedCore:
    """ℓ(W) − ℓ(0): the excess minimised over (b, log γ, μ, log σ) at fixed W; jittable, vmappable, unchecked.

    The inner problem is solved by `arrowhead_newton_minimize` from ``inner0`` (or the collapsed
    values for ``inner0=None``), stopping at ‖∇_x̃ f‖ ≤ gtol · √c (module docstring: the value is
    then within ~gtol² c / 2 of the local minimum, c the scale of the excess). Under
    ``jax.vmap`` over W (and ``inner0``) a batch runs until its slowest member stops.

    Args:
      W: decoder weights (d, κ).
      inner0: a `VAEParams` warm start (its W is ignored), or None for the collapsed values.
      X: data (n, d).
      xbar, log_gamma_bar: the reference point (`excess_reference`). The log, not γ̄, so
        that the reference is bit for bit that of `collapsed_point`.
      alpha: the soft threshold α ≥ 0.
      gtol: relative inner tolerance (may be traced). max_steps: total inner Newton steps.

    Returns:
      A `ReducedCore` (value, inner, grad_norm, converged). ``jax.grad`` of ``.value`` in W is
      the envelope gradient ∂_W f(W, x*) (module docstring; the inner solve sees only
      ``stop_gradient`` inputs). Values are local: the branch reached from the start.
    """
    return _reduced(W, inner0, X, xbar, log_gamma_bar, alpha, gtol, max_steps)[0]


def reduced_excess_and_grad_core(W, inner0, X, xbar, log_gamma_bar, alpha, *, gtol=GTOL, max_steps=MAX_STEPS):
    """`reduced_excess_core` and its W-gradient by the envelope theorem; jittable, vmappable, unchecked.

    Returns ``(value, grad_W, inner, grad_norm, converged)`` with grad_W = ∂_W f(W, x*(W)) of
    shape (d, κ), computed by reverse mode through the last evaluation only (the inner solve runs
    on ``stop_gradient`` inputs). Exact to first order in the inner point's error, which the
    stopping rule bounds by gtol √c in the collapsed metric.
    """

    def fn(w):
        out = reduced_excess_core(w, inner0, X, xbar, log_gamma_bar, alpha, gtol=gtol, max_steps=max_steps)
        return out.value, out

    (value, out), grad_W = jax.value_and_grad(fn, has_aux=True)(W)
    return value, grad_W, out.inner, out.grad_norm, out.converged


@jax.jit
def _reduced_public(W, inner0, X, xbar, log_gamma_bar, alpha, gtol, max_steps):
    def fn(w):
        core, *rest = _reduced(w, inner0, X, xbar, log_gamma_bar, alpha, gtol, max_steps)
        return core.value, (core, *rest)

    (_, (core, steps, scale, rounding)), grad_W = jax.value_and_grad(fn, has_aux=True)(W)
    return core, steps, grad_W, scale, rounding


@dataclass(frozen=True)
class ReducedExcess(Result):
    """The reduced energy ℓ(W) − ℓ(0) at one W (`reduced_excess`).

    Attributes:
      value: ℓ(W) − ℓ(0), the excess at the inner minimiser (dimensionless: invariant under
        X → cX + t with W → cW, α → cα).
      grad_W: its W-gradient by the envelope theorem, shape (d, κ).
      inner: the inner minimiser as a `VAEParams` (W the W given).
      grad_norm: the inner gradient norm ‖∇_x̃ f‖ in the collapsed metric (module docstring).
      scale: c, the sum of the magnitudes of the excess's terms at the inner minimiser.
      rounding: N ≥ c, the same sum over the pieces inside the moments of π_α: the value is
        computed to about ε N (for α > 0 and |E π| ≪ √Var, N ≫ c; module docstring).
      steps: inner Newton steps taken. converged: grad_norm ≤ gtol · √scale.
      gtol: the relative tolerance used.
    """

    value: float
    grad_W: np.ndarray
    inner: VAEParams
    grad_norm: float
    scale: float
    rounding: float
    steps: int
    converged: bool
    gtol: float

    _omit = ("inner",)
    _arrays = ("grad_W",)


def reduced_excess(W, X, alpha, *, inner=None, gtol=GTOL, max_steps=MAX_STEPS) -> ReducedExcess:
    """ℓ(W) − ℓ(0) = min over (b, log γ, μ, log σ) of L − L_c at fixed W, locally from the collapsed values.

    Checked entry point of `reduced_excess_core` (module docstring: difference form, the
    relative stopping rule, the envelope gradient).

    Args:
      W: decoder weights, shape (d, κ), finite.
      X: data (n, d), or a `Data`.
      alpha: the soft threshold α ≥ 0.
      inner: optional warm start, a `VAEParams` for X with κ = W's columns (its W is ignored).
      gtol: relative inner tolerance, a finite number ≥ 0 (see the module docstring).
      max_steps: at most this many inner Newton steps (an integer ≥ 0).

    Returns:
      A `ReducedExcess`.
    """
    data = as_data(X)
    n, d = data.shape
    alpha = V.check_alpha(alpha)
    gtol = V.check_tolerance("gtol", gtol, allow_zero=True)
    max_steps = V.check_size("max_steps", max_steps, 0)
    W = V.check_real_array("W", W)
    if W.ndim != 2 or W.shape[0] != d or W.shape[1] < 1:
        raise ValueError(f"W must have shape (d, kappa) = ({d}, kappa >= 1) for X of shape ({n}, {d}); got {W.shape}.")
    V.check_finite("W", W)
    W = jnp.asarray(W, dtype=jnp.float64)
    if inner is not None:
        if not isinstance(inner, VAEParams):
            raise ValueError(f"inner must be a landscape.VAEParams warm start or None, got {type(inner).__name__}.")
        try:
            inner = as_float64_params(inner._replace(W=W))
            check_params(inner, n, d)
        except ValueError as err:
            raise ValueError(str(err).replace("params", "inner")) from None
        for field in ("b", "log_gamma", "mu", "log_sigma"):
            V.check_finite(f"inner.{field}", getattr(inner, field))
    xbar, lgb = excess_reference(data)
    if inner is None:  # the collapsed values, as a VAEParams so that both cases share one compilation
        zeros = jnp.zeros((n, W.shape[1]))
        inner = VAEParams(W=W, b=xbar, log_gamma=lgb, mu=zeros, log_sigma=zeros)
    core, steps, grad_W, scale, rounding = _reduced_public(
        W, inner, jnp.asarray(data.X), xbar, lgb, alpha, gtol, max_steps
    )
    return ReducedExcess(
        value=float(core.value),
        grad_W=np.asarray(grad_W),
        inner=core.inner,
        grad_norm=float(core.grad_norm),
        scale=float(scale),
        rounding=float(rounding),
        steps=int(steps),
        converged=bool(core.converged),
        gtol=gtol,
    )
