"""Remedies over eq. (5) (issue 21): each reduces to eq. (5) at its neutral setting, and does what it says.

Oracles: eq. (5) itself (`energy_objective`) at neutral settings and after a warm-up's last step; the
analytic free-bits gradient (no KL term below the threshold); the identity β L(θ, φ; βγ) + const for
β-VAE at fixed γ; a reference optax loop for aggressive inference; plain Adam, bit for bit, for K = 0.
"""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from conftest import random_data, random_params
from hypothesis import given
from hypothesis import strategies as st
from jax.flatten_util import ravel_pytree

import landscape as L
from landscape.analysis.remedies import amortised_remedy_energy, gamma_at, kl_per_dimension, kl_weight, remedy_energy
from landscape.core.energy import energy_objective, expected_sq_error_unchecked
from landscape.models.amortised import AffineEncoder, AmortisedParams, amortised_energy
from landscape.tools import engine
from landscape.tools.descent import descend

ALPHAS = st.sampled_from([0.0, 0.3, 1.0])


def _point(seed, n=7, d=3, kappa=2):
    rng = np.random.default_rng(seed)
    X = jnp.asarray(random_data(rng, n, d))
    p = jax.tree.map(jnp.asarray, random_params(rng, n, d, kappa))
    return X, p


def _close(a, b, rtol):
    fa, fb = ravel_pytree(a)[0], ravel_pytree(b)[0]
    assert np.allclose(np.asarray(fa), np.asarray(fb), rtol=rtol, atol=rtol * float(np.max(np.abs(fb)))), (fa, fb)


@given(seed=st.integers(0, 10**6), alpha=ALPHAS, step=st.integers(0, 10**5), learned=st.booleans())
def test_neutral_remedy_is_eq5_value_and_gradient(seed, alpha, step, learned):
    X, p = _point(seed)
    gamma = None if learned else jnp.asarray(0.7)
    r = L.Remedy().args()
    v5, g5 = jax.value_and_grad(energy_objective)(p, X, alpha, gamma)
    v, g = jax.value_and_grad(remedy_energy)(p, step, X, alpha, gamma, r)
    assert abs(float(v) - float(v5)) <= 1e-12 * abs(float(v5))
    _close(g, g5, 1e-12)


@given(seed=st.integers(0, 10**6), alpha=ALPHAS)
def test_neutral_remedy_of_an_amortised_encoder_is_its_eq5(seed, alpha):
    X, p = _point(seed)
    rng = np.random.default_rng(seed + 1)
    enc = AffineEncoder(*(jnp.asarray(rng.normal(size=s)) for s in ((2, 3), 2, 2)))
    q = AmortisedParams(p.W, p.b, p.log_gamma, enc)
    v5, g5 = jax.value_and_grad(amortised_energy)(q, X, alpha)
    v, g = jax.value_and_grad(amortised_remedy_energy)(q, 3, X, alpha, None, L.Remedy().args())
    assert abs(float(v) - float(v5)) <= 1e-12 * abs(float(v5))
    _close(g, g5, 1e-12)


@pytest.mark.parametrize("cycles, ramp", [(1, 1.0), (4, 0.5)])
def test_warmup_is_eq5_at_and_after_its_last_step(cycles, ramp):
    X, p = _point(3)
    rem = L.Remedy(warmup=400, cycles=cycles, ramp=ramp)
    r = rem.args()
    v5, g5 = jax.value_and_grad(energy_objective)(p, X, 0.3)
    for step in (400, 401, 10**6):
        v, g = jax.value_and_grad(remedy_energy)(p, step, X, 0.3, None, r)
        assert abs(float(v) - float(v5)) <= 1e-12 * abs(float(v5))
        _close(g, g5, 1e-12)
    # and not before: the KL weight is the schedule's (Bowman's linear ramp; Fu et al.'s cycles)
    period = 400 / cycles
    for t in (0, 37, 99, 150, 399):
        expected = min(1.0, (t % period) / (ramp * period))
        assert float(kl_weight(t, r)) == pytest.approx(expected, rel=1e-15, abs=1e-15)


def test_beta_vae_at_fixed_gamma_is_eq5_at_beta_gamma():
    """L_β(θ, φ; γ) − β L(θ, φ; βγ) is a constant: the same gradient up to the factor β."""
    X, p = _point(5)
    beta, gamma = 0.4, 0.9
    r = L.Remedy(beta=beta).args()
    diffs = []
    for s in range(3):
        _, q = _point(100 + s)
        vb, gb = jax.value_and_grad(remedy_energy)(q, 0, X, 0.3, jnp.asarray(gamma), r)
        v5, g5 = jax.value_and_grad(energy_objective)(q, X, 0.3, jnp.asarray(beta * gamma))
        _close(gb, jax.tree.map(lambda a: beta * a, g5), 1e-12)
        diffs.append(float(vb) - beta * float(v5))
    n, d = X.shape
    const = n * d * np.log(gamma) - beta * n * d * np.log(beta * gamma) + (1 - beta) * n * 2
    assert np.allclose(diffs, const, rtol=1e-12, atol=1e-10)


def test_free_bits_gradient_has_no_kl_below_the_threshold():
    X, p = _point(7, n=9)
    n = X.shape[0]
    # dimension 0 well below λn, dimension 1 above it
    p = p._replace(mu=p.mu.at[:, 0].mul(0.05), log_sigma=p.log_sigma.at[:, 0].set(0.02))
    kl = np.asarray(kl_per_dimension(p.mu, p.log_sigma))
    lam = 0.2
    assert kl[0] < lam * n < kl[1]
    r = L.Remedy(free_bits=lam).args()
    g = jax.grad(remedy_energy)(p, 0, X, 0.3, None, r)
    g_recon = jax.grad(lambda q: expected_sq_error_unchecked(q, X, 0.3) * jnp.exp(-q.log_gamma))(p)
    g5 = jax.grad(energy_objective)(p, X, 0.3)
    for field in ("mu", "log_sigma"):
        a, b, c = (np.asarray(getattr(x, field)) for x in (g, g_recon, g5))
        np.testing.assert_allclose(a[:, 0], b[:, 0], rtol=1e-13, atol=1e-15)  # no KL in dimension 0
        np.testing.assert_allclose(a[:, 1], c[:, 1], rtol=1e-13, atol=1e-15)  # eq. (5) in dimension 1
        assert not np.allclose(b[:, 1], c[:, 1])
    # and the value: 2 λ n for dimension 0 on eq. (5)'s scale
    v = float(remedy_energy(p, 0, X, 0.3, None, r))
    v5 = float(energy_objective(p, X, 0.3))
    assert v - v5 == pytest.approx(2 * (lam * n - kl[0]), rel=1e-10)


def test_gamma_annealing_runs_from_start_to_end():
    r = L.Remedy(gamma=0.01, gamma_start=1.0, anneal=100).args()
    lg = jnp.log(0.01)
    assert float(gamma_at(0, lg, r)) == pytest.approx(0.0, abs=1e-15)
    assert float(gamma_at(50, lg, r)) == pytest.approx(0.5 * float(lg), rel=1e-14)
    for t in (100, 10**6):
        assert float(gamma_at(t, lg, r)) == float(lg)
    assert float(gamma_at(7, lg, L.Remedy(gamma=0.01).args())) == float(lg)


def _problem():
    X, p = _point(11, n=6, d=3, kappa=1)
    return X, p, (lambda q: energy_objective(q, X, 0.3))


def test_aggressive_inference_matches_a_reference_loop():
    """K encoder steps on (μ, log σ), then one on (W, b, log γ), each group with its own Adam state."""
    X, p0, f = _problem()
    K, steps, lr = 3, 5, 1e-2
    p, failed, _ = descend(f, p0, steps=steps, learning_rate=lr, inner_steps=K, inner=(False,) * 3 + (True,) * 2)
    opt = optax.adam(lr)
    enc = lambda q: (q.mu, q.log_sigma)  # noqa: E731
    dec = lambda q: (q.W, q.b, q.log_gamma)  # noqa: E731
    s_e, s_d, q = opt.init(enc(p0)), opt.init(dec(p0)), p0
    for _ in range(steps):
        for _ in range(K):
            g = jax.grad(lambda e, q=q: f(q._replace(mu=e[0], log_sigma=e[1])))(enc(q))
            u, s_e = opt.update(g, s_e)
            e = optax.apply_updates(enc(q), u)
            q = q._replace(mu=e[0], log_sigma=e[1])
        g = jax.grad(lambda t, q=q: f(q._replace(W=t[0], b=t[1], log_gamma=t[2])))(dec(q))
        u, s_d = opt.update(g, s_d)
        t = optax.apply_updates(dec(q), u)
        q = q._replace(W=t[0], b=t[1], log_gamma=t[2])
    assert not bool(failed)
    _close(p, q, 1e-13)


def test_aggressive_joint_phase_is_plain_adam():
    """inner_until = 0 runs the two-state joint update only: a leaf's Adam update sees only its own state,
    so it is plain Adam to rounding (XLA fuses the two programs differently); K = 0 is plain Adam's code."""
    _, p0, f = _problem()
    plain, _, _ = descend(f, p0, steps=40, learning_rate=1e-2)
    joint, _, _ = descend(f, p0, steps=40, learning_rate=1e-2, inner_steps=2, inner=(False,) * 3 + (True,) * 2,
                          inner_until=0)  # fmt: skip
    moved = float(np.max(np.abs(ravel_pytree(plain)[0] - ravel_pytree(p0)[0])))
    assert moved > 1e-3  # the 40 steps did move every group, so agreement is not trivial
    diff = float(np.max(np.abs(ravel_pytree(joint)[0] - ravel_pytree(plain)[0])))
    assert diff <= 1e-13 * max(1.0, float(np.max(np.abs(ravel_pytree(plain)[0])))), diff


def test_engine_schedule_polishes_and_reports_the_final_objective():
    """Descent on the warm-up, then the polish, value and gradient of eq. (5), the objective it ends at."""
    X, p0, _ = _problem()
    r = L.Remedy(warmup=30).args()
    starts = jax.tree.map(lambda a: jnp.stack([a, a * 0.9]), p0)
    g = jnp.asarray(0.5)
    out = engine.run(remedy_energy, starts, (X, jnp.asarray(0.0), g, r), restarts=2, steps=60,
                     schedule=True, polish="newton")  # fmt: skip
    for i in range(2):
        q = jax.tree.map(lambda a, i=i: a[i], out.params)
        v, grad = jax.value_and_grad(energy_objective)(q, X, 0.0, g)
        assert out.value[i] == pytest.approx(float(v), rel=1e-13)
        assert out.grad_norm[i] == pytest.approx(float(np.linalg.norm(ravel_pytree(grad)[0])), rel=1e-6, abs=1e-14)
        assert out.status[i] == "converged"


def test_bad_remedies_are_refused():
    for kwargs, word in [({"beta": 0.0}, "beta"), ({"free_bits": -1.0}, "free_bits"), ({"ramp": 0.0}, "ramp"),
                         ({"gamma_start": 1.0}, "gamma_start"), ({"warmup": 1.5}, "warmup"),
                         ({"inner_steps": -1}, "inner_steps")]:  # fmt: skip
        with pytest.raises(ValueError, match=word):
            L.Remedy(**kwargs)
    with pytest.raises(ValueError, match="inner"):
        _, p0, f = _problem()
        descend(f, p0, steps=2, learning_rate=1e-2, inner_steps=1, inner=(True,) * 5)


REMEDIES = [
    (L.Remedy("plain"), "free"),
    (L.Remedy("warm", warmup=10, cycles=2, ramp=0.5, beta=0.7, free_bits=0.1), "free"),
    (L.Remedy("anneal", gamma=0.05, gamma_start=0.5, anneal=10), "free"),
    (L.Remedy("aggressive", inner_steps=2, inner_until=10), "free"),
    (L.Remedy("affine"), "affine"),
    (L.Remedy("mlp", free_bits=0.1), "mlp"),
]


@pytest.mark.parametrize("remedy, encoder", REMEDIES, ids=[r.name for r, _ in REMEDIES])
def test_same_seed_same_results_and_the_same_starts(remedy, encoder):
    ds = L.prop1_dataset(0.5)
    kw = dict(kappa=1, restarts=3, remedy=remedy, encoder=encoder, steps=30, seed=4, progress=False)
    a, b = L.train_remedy(ds.X, 0.5, **kw), L.train_remedy(ds.X, 0.5, **kw)
    for field in ("energy", "objective", "grad_norm", "kl", "ablation"):
        assert np.array_equal(getattr(a, field), getattr(b, field), equal_nan=True), field
    assert a.category.tolist() == b.category.tolist()
    assert sum(a.fractions.values()) == pytest.approx(1.0)
    c = L.train_remedy(ds.X, 0.5, **{**kw, "seed": 5})
    assert not np.array_equal(a.energy, c.energy)
    if encoder == "free":  # restart r starts where `search` starts restart r: 0 steps give search's start
        s = L.search(ds.X, 0.5, kappa=1, restarts=3, steps=0, seed=4, polish="none",
                     gamma=remedy.gamma, init=remedy.init, progress=False)  # fmt: skip
        t = L.train_remedy(ds.X, 0.5, **{**kw, "steps": 0, "remedy": L.Remedy(gamma=remedy.gamma)})
        np.testing.assert_allclose(t.energy, s.energy, rtol=1e-13)


def test_categories_read_the_decoder_under_free_bits():
    """A restart whose encoder keeps information the decoder ignores (W = 0) is collapsed, not active."""
    ds = L.prop1_dataset(0.5)
    run = L.train_remedy(ds.X, 0.5, kappa=1, restarts=2, steps=0, progress=False,
                         remedy=L.Remedy(init=L.InitScales(w=0.0)))  # fmt: skip
    assert np.all(run.kl > 1.0)  # μ ~ N(0, 1): lots of KL
    assert np.all(run.ablation == 0.0) and run.category.tolist() == ["collapsed", "collapsed"]
