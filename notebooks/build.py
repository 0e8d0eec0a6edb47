"""Write and execute the notebooks, so they are committed with their outputs.

    python notebooks/build.py            # full configuration (a few minutes on a 2-core CPU)
    LANDSCAPE_SMALL=1 python notebooks/build.py   # the small configuration the tests use

Each notebook reads the environment variable LANDSCAPE_SMALL: "1" selects a small
configuration (fewer restarts, smaller problems), for the test that executes them.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent

SETUP = """\
import os
import time

import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np

import landscape
from landscape import paths

SMALL = os.environ.get("LANDSCAPE_SMALL") == "1"  # the small configuration (tests)
print("landscape", landscape.__version__, "| small configuration:", SMALL)
"""

HESSIAN = [
    (
        "md",
        """\
# Hessian spectra at the collapsed point

The collapsed point of eq. (5) (Dai, Wang & Wipf 2020), W = 0, b = x̄, γ = γ̄, μ_i = 0, σ_i = 1
(q(z|x) = p(z)), is stationary for every α ≥ 0. Its Hessian spectrum is known exactly
(`../shared/MATH.md` §4):

* α = 0 (affine decoder): a **strict saddle** with κ·#{λ_l(S) > γ̄} negative eigenvalues;
* α > 0 (soft threshold): **PSD but degenerate**, with dκ exact zeros on W; the
  second-order test is inconclusive, and the Proposition 1 profiles settle it.

This notebook computes the spectra (dense `eigh` at small size, the exact Haynsworth
inertia and stochastic Lanczos quadrature at large size) and compares them with
the analytic values.""",
    ),
    ("code", SETUP),
    (
        "code",
        """\
data = landscape.prop1_dataset(0.1)  # n = 20, d = 3, kappa = 1: P = 47 parameters
X, kappa = data.X, data.kappa
p0 = landscape.collapsed_point(X, kappa)
spectra = {}
fig, ax = plt.subplots(figsize=(7, 4))
for alpha, color in [(0.0, "C3"), (0.1, "C0")]:
    s = landscape.spectrum(p0, X, alpha, eigenvectors=True)
    exact = landscape.collapsed_spectrum(X, kappa, alpha)
    spectra[alpha] = s
    k = np.arange(s.eigenvalues.size)
    ax.plot(k, s.eigenvalues, "o", ms=5, color=color, mfc="none", label=f"autodiff + eigh, α = {alpha:g}")
    ax.plot(k, exact, "x", ms=4, color="k", alpha=0.7)
    err = np.max(np.abs(s.eigenvalues - exact)) / np.max(np.abs(exact))
    print(f"alpha = {alpha:g}: inertia {s.inertia} at tol {s.tol:.2g}; "
          f"min eigenvalue {s.min_eigenvalue:.6g}; max |dense - analytic| / max|λ| = {err:.1e}")
ax.plot([], [], "x", color="k", label="analytic (MATH.md §4)")
ax.set_yscale("symlog", linthresh=1.0)
ax.axhline(0, color="grey", lw=0.5)
ax.set_xlabel("eigenvalue index (ascending)")
ax.set_ylabel("λ (symlog)")
ax.set_title("Collapsed-point Hessian spectrum: α = 0 against α = 0.1")
ax.legend()
plt.show()""",
    ),
    (
        "md",
        """\
## Certificates and where the eigenvectors live

`landscape.certify_stationary` labels the point and reports each extreme and zero
eigenvector's mass on the parameter blocks. The heatmap shows, for the lowest and
highest eigenvectors, the share ‖v_block‖² on W, b, γ, μ and σ.""",
    ),
    (
        "code",
        """\
for alpha in (0.0, 0.1):
    c = landscape.certify_stationary(p0, X, alpha)
    print(f"alpha = {alpha:g}: {c.label}; |grad| = {c.grad_norm:.1e}; inertia {c.inertia} at tol {c.tol:.2g}")

blocks = [("W", "W"), ("b", "b"), ("log_gamma", "γ"), ("mu", "μ"), ("log_sigma", "σ")]
fig, axes = plt.subplots(1, 2, figsize=(10, 4.5), sharey=False)
for ax, alpha in zip(axes, (0.0, 0.1), strict=True):
    s = spectra[alpha]
    idx = list(range(6)) + list(range(s.eigenvalues.size - 4, s.eigenvalues.size))
    M = np.array([[landscape.block_shares(p0, s.eigenvectors[:, j])[b] for b, _ in blocks] for j in idx])
    im = ax.imshow(M, vmin=0, vmax=1, cmap="viridis", aspect="auto")
    ax.set_xticks(range(5), [sym for _, sym in blocks])
    ax.set_yticks(range(len(idx)), [f"λ = {s.eigenvalues[j]:.4g}" for j in idx])
    ax.set_title(f"block shares, α = {alpha:g}")
fig.colorbar(im, ax=axes, label="share of ‖v‖²")
plt.show()""",
    ),
    (
        "md",
        """\
## Slices along the negative eigenvector (α = 0) and a zero mode (α = 0.1)

A slice t ↦ L(x + t v) − L(x) with all other parameters fixed. Along the α = 0
negative eigenvector it is ½λt² near 0 (the dashed line). Along a zero mode at
α = 0.1 (a pure W direction) it is flat to all orders at 0 (the soft threshold kills
small |Wz|) and then rises: no descent along the flat direction with the rest
fixed. (The Proposition 1 profiles, which re-minimise the rest, are the stronger test:
see `basins.ipynb`.)""",
    ),
    (
        "code",
        """\
ts = np.linspace(-1.0, 1.0, 201)
fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
s0 = spectra[0.0]
v = s0.eigenvectors[:, 0]
sl = paths.slice_1d(landscape.energy_objective, p0, v, ts, args=(X, 0.0))
axes[0].plot(ts, sl.rel, label="L(x + t v) − L(x)")
axes[0].plot(ts, 0.5 * s0.eigenvalues[0] * ts**2, "--", label="½ λ_min t²")
axes[0].set_title(f"α = 0, most negative eigenvector (λ = {s0.eigenvalues[0]:.4g})")
axes[0].legend()
s1 = spectra[0.1]
z = s1.eigenvectors[:, 0]
sl1 = paths.slice_1d(landscape.energy_objective, p0, z, ts, args=(X, 0.1))
axes[1].plot(ts, sl1.rel)
axes[1].set_title(f"α = 0.1, a zero mode (W share {landscape.block_shares(p0, z)['W']:.2f})")
for ax in axes:
    ax.axhline(0, color="grey", lw=0.5)
    ax.set_xlabel("t")
plt.show()
print("zero-mode slice: min", sl1.rel.min(), "| flat for |t| <=", np.max(np.abs(ts[np.abs(sl1.rel) < 1e-12])))""",
    ),
    (
        "md",
        """\
## A larger problem: SLQ density against the exact inertia

At n points, d = 20 and κ = 5 the Hessian has P = 121 + 10n rows. Stochastic Lanczos
quadrature (`landscape.spectral_density`, the estimate PyHessian plots) gives a smoothed
density and an estimated count of negative eigenvalues with a standard error; the
Haynsworth route (`landscape.schur_inertia`) gives the exact count without forming
H. At the α = 0 collapsed point both can be checked against MATH.md §4.""",
    ),
    (
        "code",
        """\
n = 300 if SMALL else 5000
rng = np.random.default_rng(0)
Xl = rng.normal(size=(n, 20)) * np.linspace(2.0, 0.3, 20) + rng.normal(size=20)
pl = landscape.collapsed_point(Xl, 5)
t0 = time.perf_counter()
exact_counts = landscape.schur_inertia(pl, Xl, 0.0)
t_schur = time.perf_counter() - t0
t0 = time.perf_counter()
sd = landscape.spectral_density(landscape.energy_objective, pl, (jnp.asarray(Xl), 0.0),
                                num_probes=4 if SMALL else 10, num_steps=60 if SMALL else 90)
t_slq = time.perf_counter() - t0
analytic = landscape.collapsed_spectrum(Xl, 5, 0.0)
est, se = sd.count_below(-exact_counts.tol)
print(f"P = {exact_counts.size:,}: exact inertia {exact_counts.inertia} ({t_schur:.1f} s); "
      f"analytic negative count {landscape.n_negative_affine(Xl, 5)}")
print(f"SLQ estimate of the negative count: {est:.1f} ± {se:.1f} ({t_slq:.1f} s)")
grid = np.linspace(analytic.min() - 5, 60, 2000)
fig, ax = plt.subplots(figsize=(8, 3.8))
ax.plot(grid, sd.density(grid, sigma=0.4), label="SLQ density (P·smoothed)")
neg = analytic[analytic < 0]
ax.vlines(neg, 0, 1, transform=ax.get_xaxis_transform(), colors="C3", lw=0.8,
          label=f"exact negative eigenvalues ({neg.size})")
ax.set_yscale("log")
ax.set_ylim(1e-2, None)
ax.set_xlabel("λ")
ax.set_title(f"α = 0 collapsed point, P = {exact_counts.size:,} (the bulk beyond λ = 60 not shown)")
ax.legend()
plt.show()""",
    ),
]

BASINS = [
    (
        "md",
        """\
# Basins and barriers of Proposition 1

Multi-start search (`landscape.search`) from random initialisations on one
Proposition 1 data set: how often does it end collapsed, and how high is the wall
around the collapsed minimum? The barrier is measured two ways: the Proposition 1
profile (W = t·U with every other parameter re-minimised, `landscape.certify_prop1`)
and the minimum-energy path to a reconstructing point (`landscape.paths.prop1_path`,
string method + climbing image, with the saddle's Hessian inertia). A converged
minimum-energy path's barrier is no higher than the profile's.""",
    ),
    ("code", SETUP),
    (
        "code",
        """\
data = landscape.prop1_dataset(0.5, seed=0)
X = data.X
alphas = [0.0, 0.5, 1.0] if SMALL else [0.0, 0.25, 0.5, 1.0, 2.0]
restarts, steps = (8, 400) if SMALL else (64, 3000)
rows = []
for a in alphas:
    res = landscape.search(X, a, kappa=data.kappa, restarts=restarts, steps=steps, seed=0)
    st = landscape.basin_stats(res)
    rows.append((a, st))
    print(f"alpha = {a:<5g}", {k: v for k, v in st.counts.items() if v})
cats = [c for c in landscape.CATEGORIES if any(st.counts[c] for _, st in rows)]
fig, ax = plt.subplots(figsize=(7, 4))
for c in cats:
    f = np.array([st.fractions[c] for _, st in rows])
    lo = np.array([st.intervals[c][0] for _, st in rows])
    hi = np.array([st.intervals[c][1] for _, st in rows])
    ax.errorbar(alphas, f, yerr=[f - lo, hi - f], marker="o", capsize=3, label=c)
ax.set_xlabel("α")
ax.set_ylabel("fraction of restarts (95% Wilson)")
ax.set_title(f"Basin fractions, {restarts} restarts per α")
ax.legend()
plt.show()""",
    ),
    (
        "code",
        """\
cert = landscape.certify_prop1(data)
prof = min((pr for pr in cert.collapsed.profiles if pr.direction.kind == "affine_descent"),
           key=lambda pr: pr.barrier_height)
t0 = time.perf_counter()
mep = paths.prop1_path(data, images=17 if SMALL else 33)
print(f"profile barrier {prof.barrier_height:.6g} at t = {prof.barrier_t:.4g} ({prof.direction.label})")
print(f"minimum-energy path barrier {mep.barrier:.6g} at s = {mep.barrier_s:.3f}; "
      f"saddle |grad| {mep.saddle_grad_norm:.1e}, inertia {mep.saddle_spectrum.inertia}; "
      f"converged: {mep.converged} ({time.perf_counter() - t0:.1f} s)")
fig, axes = plt.subplots(1, 2, figsize=(11, 4))
axes[0].plot(prof.t, prof.rel, "-o", ms=2)
axes[0].axhline(0, color="grey", lw=0.5)
axes[0].set_xlim(0, 4 * data.alpha + 0.2)
axes[0].set_ylim(-3 * prof.barrier_height, 2 * prof.barrier_height)
axes[0].set_xlabel("t  (W = t·U)")
axes[0].set_ylabel("f_U(t) − f_U(0)")
axes[0].set_title("Proposition 1 profile (rest re-minimised)")
axes[1].plot(mep.s, mep.energy - mep.energy[0], "-o", ms=3)
axes[1].axhline(0, color="grey", lw=0.5)
axes[1].plot([mep.barrier_s], [mep.barrier], "r*", ms=12, label="saddle")
axes[1].set_ylim(-3 * prof.barrier_height, 2 * prof.barrier_height)
axes[1].set_xlabel("arc length s")
axes[1].set_title("Minimum-energy path, collapsed → reconstructing")
axes[1].legend()
plt.show()""",
    ),
]


def notebook(cells):
    nb = nbformat.v4.new_notebook()
    for kind, src in cells:
        nb.cells.append(nbformat.v4.new_markdown_cell(src) if kind == "md" else nbformat.v4.new_code_cell(src))
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


NOTEBOOKS = {"hessian_spectra.ipynb": HESSIAN, "basins.ipynb": BASINS}


def build(names=None, execute=True, timeout=1200):
    for name, cells in NOTEBOOKS.items():
        if names and name not in names:
            continue
        nb = notebook(cells)
        if execute:
            NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(HERE)}}).execute()
        nbformat.write(nb, HERE / name)
        print("wrote", HERE / name)


if __name__ == "__main__":
    build(sys.argv[1:] or None, execute=os.environ.get("NO_EXECUTE") != "1")
