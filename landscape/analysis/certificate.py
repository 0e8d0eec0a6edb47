"""The Proposition 1 certificate: both minima, measured (MATH.md §3–5).

Proposition 1 (Dai, Wang & Wipf 2020): for any α > 0 there are data sets on which
eq. (5) has a global minimum that reconstructs perfectly *and* a bad local minimum
with q(z|x) = p(z) and p(x) = N(x̄, γ̄ I). `certify_prop1` checks both halves on a
`Prop1Dataset`:

- the reconstructing side: along μ_i = z_i, σ_i = t, γ = γ̄ t² the energy falls without
  bound, with slope dL/d log t → 2n(d − κ);
- the collapsed side: the energy equals nd(1 + log γ̄) + nκ, the gradient vanishes,
  the Hessian has no negative eigenvalue, and in the zero-curvature W directions the
  re-minimised energy profile rises to a barrier before it can fall, in every
  probed direction, including the affine-descent ones U = u_l e_kᵀ with λ_l > γ̄.

The same point at α = 0 is computed for contrast: there it must be a strict saddle
with κ·#{λ_l > γ̄} negative eigenvalues (MATH.md §4).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace

import jax.numpy as jnp
import numpy as np

from landscape.analysis.collapsed_curvature import ExtremeSpectrum, collapsed_curvature, n_parameters
from landscape.analysis.profiles import (
    Profile,
    affine_descent_directions,
    barrier_profiles,
    profile_exit,
    random_directions,
)
from landscape.analysis.prop1_path import prop1_path
from landscape.analysis.spectrum import Spectrum, grad_norm
from landscape.analysis.sphere import UNDERFLOW_T, default_radii, sphere_certificate
from landscape.common import checks as V
from landscape.common.results import Result
from landscape.core.collapsed import (
    collapsed_energy,
    collapsed_point,
    collapsed_spectrum,
    n_negative_affine,
)
from landscape.core.datasets import Prop1Dataset
from landscape.core.energy import energy_objective
from landscape.core.moments import soft_threshold

__all__ = ["CollapsedReport", "PathReport", "Prop1Certificate", "certify_prop1", "reconstruction_path"]

# certify_prop1's largest problem. Its memory is O(n) at any size (arrowhead Newton profiles, Schur inertia,
# Lanczos: measured 0.76 GB at n = 3000 and 0.79 GB at n = 10000), but its time is about 10 ms per data point
# on one CPU core (32 s at n = 3000, 107 s at n = 10000), so P = 2nκ + dκ + d + 1 is capped at about 4 minutes.
MAX_P = 50_000


@dataclass(frozen=True)
class CollapsedReport:
    """The collapsed point of MATH.md §3 at one α, with its evidence.

    Attributes:
      alpha: the soft threshold the point is examined at.
      energy: L at the point; energy_formula: nd(1 + log γ̄) + nκ.
      grad_norm: ‖∇L‖₂ there.
      spectrum: the Hessian's inertia at its ``tol``: a dense `Spectrum` for P ≤
        `DENSE_SPECTRUM_MAX_P`, above it an `ExtremeSpectrum` (exact Schur inertia, and the
        extreme eigenvalues by Lanczos); see `landscape.analysis.collapsed_curvature`.
      predicted: the exact spectrum of MATH.md §4, ascending.
      spectrum_error: max |λ − λ_pred| / max|λ_pred|, over every eigenvalue (dense) or
        over the extreme ones (Schur + Lanczos).
      n_negative_predicted: κ·#{λ_l > γ̄} at α = 0, 0 for α > 0.
      profiles: the re-minimised energy profiles along W = t·U.
      barrier_height, barrier_t: the smallest barrier over the probed directions
        (0 if some profile falls from t = 0) and where it sits.
      barrier_shape: the shape of that profile; for "rises" the height is only a
        lower bound (the profile never fell within the grid).
      spectrum_method: "dense" or "schur+lanczos".
    """

    alpha: float
    energy: float
    energy_formula: float
    grad_norm: float
    spectrum: Spectrum | ExtremeSpectrum
    predicted: np.ndarray
    spectrum_error: float
    n_negative_predicted: int
    profiles: tuple[Profile, ...]
    barrier_height: float
    barrier_t: float
    barrier_shape: str
    spectrum_method: str = "dense"

    @property
    def evidence_grad_norm(self) -> float:
        """Worst inner-minimisation gradient over the parts of the profiles that count."""
        return max(p.evidence_grad_norm for p in self.profiles)

    def to_dict(self, arrays: bool = True) -> dict:
        s = self.spectrum
        out = {
            "alpha": self.alpha,
            "energy": self.energy,
            "energy_formula": self.energy_formula,
            "grad_norm": self.grad_norm,
            "n_negative": s.n_negative,
            "n_zero": s.n_zero,
            "n_positive": s.n_positive,
            "tol": s.tol,
            "min_eigenvalue": s.min_eigenvalue,
            "n_negative_predicted": self.n_negative_predicted,
            "spectrum_error": self.spectrum_error,
            "spectrum_method": self.spectrum_method,
            "barrier_height": self.barrier_height,
            "barrier_t": self.barrier_t,
            "barrier_shape": self.barrier_shape,
            "profiles": [p.to_dict(arrays) for p in self.profiles],
        }
        if arrays:
            if self.spectrum_method == "dense":
                out["eigenvalues"] = s.eigenvalues.tolist()
            else:  # only the extremes are computed; the inertia is exact (Schur)
                out["lowest_eigenvalues"] = s.lowest.tolist()
                out["highest_eigenvalues"] = s.highest.tolist()
            out["predicted_eigenvalues"] = self.predicted.tolist()
        return out


@dataclass(frozen=True)
class PathReport(Result):
    """Energies along the reconstructing path μ_i = z_i, σ_i = t, γ = γ̄ t².

    The path is taken in the data's standardised units (γ_s = t², `landscape.core.units`),
    so t is dimensionless and the same t means the same point whatever the units of X;
    the energies are in the user's units.

    Attributes:
      t: the path parameter, descending towards 0.
      energy: L at each t.
      slopes: dL/d log t between consecutive points.
      slope: the last (smallest-t) slope; expected_slope: 2n(d − κ).
      unbounded: energies strictly decreasing, slope within 1e-3 relative of
        2n(d − κ) > 0, and the last energy below the collapsed energy.
      witness_residual: max_ij |x_ij − π_α(W* z_i) − b*_j| / √γ̄, how far the stored X is
        from the witness's range (rounding, ~1e-16, for a generated data set; larger when
        X was rounded after a big shift, X + t with |t| ≫ √γ̄). The energy along the path
        can fall only while t ≫ this residual.
    """

    t: np.ndarray
    energy: np.ndarray
    slopes: np.ndarray
    slope: float
    expected_slope: float
    unbounded: bool
    witness_residual: float = 0.0


def reconstruction_path(data: Prop1Dataset, t=None) -> PathReport:
    """Evaluate eq. (5) along the witness's reconstructing path (MATH.md §5)."""
    if not isinstance(data, Prop1Dataset):
        raise ValueError(f"data must be a Prop1Dataset from landscape.prop1_dataset, got {type(data).__name__}.")
    # Down to 1e-8: an entry of x whose pre-activation lies within δ of the kink ±α bends
    # the slope near t ≈ δ, so the asymptotic slope shows only once t ≪ δ (δ ≈ 1e-4 occurs
    # at n = 20; the energies stay exact in float64, the residual being 0 by construction).
    t = np.logspace(0, -8, 17) if t is None else np.sort(np.asarray(t, dtype=float))[::-1]
    if t.size < 2 or not np.all(np.isfinite(t)) or np.any(t <= 0):
        raise ValueError("t must hold at least 2 finite values > 0.")
    # evaluated in the data's standardised units (γ_s = t², i.e. γ = γ̄ t²), reported in the user's
    std, units = data.standardised(), data.data.units
    X = jnp.asarray(std.data.X)
    E_s = np.array([float(energy_objective(std.witness.path_params(float(ti)), X, std.alpha)) for ti in t])
    E = units.from_standard_energy(E_s)
    slopes = np.diff(E) / np.diff(np.log(t))
    expected = 2.0 * data.n * (data.d - data.kappa)
    slope = float(slopes[-1])
    unbounded = bool(
        np.all(np.diff(E) < 0)
        and expected > 0
        and abs(slope - expected) <= 1e-3 * expected
        and E[-1] < collapsed_energy(data.data, data.kappa)
    )
    w = std.witness
    recon = np.asarray(soft_threshold(jnp.asarray(w.Z @ w.W.T), std.alpha)) + w.b
    residual = float(np.max(np.abs(std.data.X - recon)))
    return PathReport(
        t=t, energy=E, slopes=slopes, slope=slope, expected_slope=expected, unbounded=unbounded,
        witness_residual=residual,
    )  # fmt: skip


def _collapsed_report(X, kappa, alpha, directions, spectrum_rtol) -> CollapsedReport:
    point = collapsed_point(X, kappa)  # X: a validated Data
    pred = collapsed_spectrum(X, kappa, alpha)
    spec, err, method = collapsed_curvature(point, X, alpha, pred, rtol=spectrum_rtol)
    profiles = tuple(barrier_profiles(X, alpha, kappa, directions))
    k = int(np.argmin([p.barrier_height for p in profiles]))
    return CollapsedReport(
        alpha=float(alpha),
        energy=float(energy_objective(point, jnp.asarray(X.X), alpha)),
        energy_formula=collapsed_energy(X, kappa),
        grad_norm=grad_norm(point, X, alpha),
        spectrum=spec,
        predicted=pred,
        spectrum_error=err,
        spectrum_method=method,
        n_negative_predicted=n_negative_affine(X, kappa) if float(alpha) == 0 else 0,
        profiles=profiles,
        barrier_height=profiles[k].barrier_height,
        barrier_t=profiles[k].barrier_t,
        barrier_shape=profiles[k].shape,
    )


def _direction_in_user_units(direction, s):
    """U is a unit direction in either units; only its λ_l(S) label scales, by s²."""
    if direction.eigenvalue is None:
        return direction
    return replace(direction, eigenvalue=float(direction.eigenvalue) * s**2)


def _in_user_units(report: CollapsedReport, units, data, kappa, alpha) -> CollapsedReport:
    """A report computed in standardised units, with energies, α and t in the user's units.

    Energies shift by 2nd log √γ̄; t (= ‖W‖_F along a unit U) scales by √γ̄; barrier heights
    (differences) and the inner gradient norms are unchanged. The energy formula is
    evaluated afresh on the user's data, an independent check of the shift. The Hessian
    spectrum stays in standardised units (its inertia is the same in any units, by
    Sylvester's law, since the change of units is linear and invertible).
    """
    s = units.scale
    profiles = tuple(
        replace(
            p,
            direction=_direction_in_user_units(p.direction, s),
            t=p.t * s,
            energy=units.from_standard_energy(p.energy),
            barrier_t=p.barrier_t * s,
        )
        for p in report.profiles
    )
    return replace(
        report,
        alpha=float(alpha),
        energy=float(units.from_standard_energy(report.energy)),
        energy_formula=collapsed_energy(data, kappa),
        profiles=profiles,
        barrier_t=report.barrier_t * s,
    )


@dataclass(frozen=True)
class Prop1Certificate:
    """Both halves of Proposition 1 on one data set, and the verdict.

    Attributes:
      data: the `Prop1Dataset`.
      gamma_bar: γ̄; eigenvalues: λ(S), descending.
      collapsed: the collapsed point at the data set's α.
      affine: the same point at α = 0, for contrast (the same object when α = 0).
      reconstruction: the reconstructing path.
      checks: each condition of the verdict and whether it holds.
      diagnostics: further cross-checks, reported but not part of the verdict: the
        energy formula, the analytic spectra, and the α = 0 saddle's index.
      verdict: "holds" if every check holds (α > 0 is one of them), else "fails".
      config: the settings used; seconds: wall time of the certificate.
      sphere: the `SphereCertificate` at the data set's α (m(r) on spheres, issue 19) with the
        profile's barrier as its upper bound, or None (``sphere=False``).
    """

    data: Prop1Dataset
    gamma_bar: float
    eigenvalues: np.ndarray
    collapsed: CollapsedReport
    affine: CollapsedReport
    reconstruction: PathReport
    checks: dict
    diagnostics: dict
    verdict: str
    config: dict
    seconds: float
    sphere: object = None

    @property
    def holds(self) -> bool:
        return self.verdict == "holds"

    def to_dict(self, arrays: bool = True) -> dict:
        collapsed = self.collapsed.to_dict(arrays)
        if self.sphere is not None:
            collapsed["sphere"] = self.sphere.to_dict(arrays)
        return {
            **self.data.config(),
            "config": self.config,
            "gamma_bar": self.gamma_bar,
            "eigenvalues_S": self.eigenvalues.tolist(),
            "collapsed": collapsed,
            "affine": self.affine.to_dict(arrays),
            "reconstruction": self.reconstruction.to_dict(),
            "checks": self.checks,
            "diagnostics": self.diagnostics,
            "verdict": self.verdict,
            "seconds": self.seconds,
            "witness": {
                "W": self.data.witness.W.tolist(),
                "b": self.data.witness.b.tolist(),
            },
            "X": self.data.X.tolist() if arrays else None,
        }

    def report(self) -> str:
        """A readable account of the certificate (what ``python -m landscape.prop1`` prints)."""
        from landscape.analysis.report import format_prop1

        return format_prop1(self)


def certify_prop1(
    data: Prop1Dataset,
    *,
    n_random_directions: int = 2,
    grad_tol: float = 1e-10,
    spectrum_rtol: float = 1e-8,
    path_t=None,
    sphere: bool = False,
    mep: bool = False,
) -> Prop1Certificate:
    """Check both halves of Proposition 1 on a data set from `prop1_dataset`.

    Args:
      data: a `Prop1Dataset` (its witness supplies the reconstructing path).
      n_random_directions: random W directions probed besides the affine-descent ones.
      grad_tol: the collapsed point counts as stationary if ‖∇L‖₂ ≤ grad_tol · max(1, |L|)
        (relative, as in `search`: on data with a tiny γ̄ the energy and its rounding
        errors scale like 1/γ̄).
      spectrum_rtol: |λ| ≤ spectrum_rtol · max|λ| counts as a zero eigenvalue.
      path_t: t values of the reconstructing path (default 10⁰ … 10⁻⁸, half-decade steps).
      sphere: also minimise the reduced energy on spheres ‖W‖_F = r (`sphere_certificate`; off by
        default in the library, as it adds ~5–15 s at n = 20; on in ``python -m landscape.prop1``), on
        12 radii log-spaced from α√d/30 to twice the profile barrier's location t_b (α > 0;
        for α = 0 its default radii); the verdict then requires m(r) > 0 at every radius ≤ t_b
        ("sphere_positive_to_barrier").
      mep: with ``sphere`` and α > 0, also the minimum-energy path (`prop1_path`, the climbing string
        method; ~30 s at n = 20) as the middle of the barrier bracket lower ≤ MEP ≤ profile.

    Returns:
      A `Prop1Certificate`; ``verdict`` is "holds" only if α > 0, the gradient is
      ≤ grad_tol · max(1, |L|), no eigenvalue is negative, every probed profile rises to a positive
      barrier (with converged inner minimisations), and the path is unbounded below.
    """
    if not isinstance(data, Prop1Dataset):
        raise ValueError(
            f"data must be a Prop1Dataset from landscape.datasets.prop1_dataset, got {type(data).__name__}."
        )
    n_random_directions = V.check_size("n_random_directions", n_random_directions, 0)
    V.check_tolerance("grad_tol", grad_tol, allow_zero=True)
    V.check_tolerance("spectrum_rtol", spectrum_rtol, allow_zero=True, below=1)
    P = n_parameters(data.n, data.d, data.kappa)
    if P > MAX_P:
        raise ValueError(
            f"certify_prop1 refuses P > {MAX_P} parameters before allocating (n = {data.n}, d = {data.d}, "
            f"kappa = {data.kappa}: P = dκ + d + 1 + 2nκ = {P}). Its memory grows only linearly in n, but its "
            f"re-minimised profiles take about 10 ms per data point (about {P * 0.005 / 60:.0f} min here); lower n, "
            "or certify the collapsed point alone with landscape.certify_stationary (Schur inertia at any n)."
        )
    t0 = time.perf_counter()
    # Everything is computed in the data's standardised units (landscape.core.units), so the
    # tolerances, the profile grids and the inner solvers do not depend on the units of X;
    # energies, α and the profiles' t are reported in the user's units (_in_user_units).
    units, user = data.data.units, data
    data = data.standardised()
    X, kappa, alpha = data.data, data.kappa, data.alpha  # X: the standardised Data, built once here
    directions = affine_descent_directions(X, kappa) + random_directions(data.d, kappa, n_random_directions, data.seed)
    if not directions:
        raise ValueError("no direction to probe: the data are isotropic and n_random_directions = 0.")
    warm = _warm_sphere(user) if sphere else None  # compiles the sphere search while the profiles run
    collapsed = _collapsed_report(X, kappa, alpha, directions, spectrum_rtol)
    affine = collapsed if alpha == 0 else _collapsed_report(X, kappa, 0.0, directions, spectrum_rtol)
    collapsed = _in_user_units(collapsed, units, user.data, kappa, user.alpha)
    affine = collapsed if alpha == 0 else _in_user_units(affine, units, user.data, kappa, 0.0)
    data = user
    path = reconstruction_path(data, path_t)
    if warm is not None:
        warm.join()
    sph = _sphere(user, collapsed, mep) if sphere else None

    inner_ok = collapsed.evidence_grad_norm <= 1e-8 * max(1.0, abs(collapsed.energy))  # relative, as grad_tol
    checks = {
        "alpha_positive": alpha > 0,
        "stationary": collapsed.grad_norm <= grad_tol * max(1.0, abs(collapsed.energy)),
        "no_negative_curvature": collapsed.spectrum.n_negative == 0,
        "barrier_every_direction": all(p.shape in ("barrier", "rises") for p in collapsed.profiles),
        "affine_descent_directions_probed": any(p.direction.kind == "affine_descent" for p in collapsed.profiles),
        "profiles_converged": inner_ok,
        "reconstruction_unbounded": path.unbounded,
    }
    if sph is not None:
        upto = sph.radii <= collapsed.barrier_t * (1 + 1e-12)
        checks["sphere_positive_to_barrier"] = bool(
            alpha > 0 and upto.any() and np.all(sph.min_excess[upto] > 0) and sph.solved[upto].all()
        )
    diagnostics = {
        "energy_matches_formula": abs(collapsed.energy - collapsed.energy_formula)
        <= 1e-10 * max(1.0, abs(collapsed.energy_formula)),
        "spectrum_matches_analytic": collapsed.spectrum_error <= 1e-8 and affine.spectrum_error <= 1e-8,
        "affine_is_strict_saddle": affine.spectrum.n_negative > 0
        and affine.spectrum.n_negative == affine.n_negative_predicted,
    }
    verdict = "holds" if all(checks.values()) else "fails"
    config = {
        "n_random_directions": n_random_directions,
        "grad_tol": grad_tol,
        "spectrum_rtol": spectrum_rtol,
        "path_t": path.t.tolist(),
        "dataset": data.config(),
        "sphere": sphere,
        "mep": mep,
    }
    return Prop1Certificate(
        data=data,
        gamma_bar=float(data.data.gamma_bar),
        eigenvalues=data.data.eigenvalues.copy(),
        collapsed=collapsed,
        affine=affine,
        reconstruction=path,
        checks=checks,
        diagnostics=diagnostics,
        verdict=verdict,
        config=config,
        seconds=time.perf_counter() - t0,
        sphere=sph,
    )


SPHERE_RADII = 12  # radii of the sphere section of certify_prop1


def _sphere_radii(data: Prop1Dataset, t_b: float | None) -> np.ndarray:
    """SPHERE_RADII radii log-spaced from α√d/30 to 2 t_b (α > 0 with a barrier at t_b), else the defaults."""
    if data.alpha > 0 and t_b is not None:
        return np.geomspace(data.alpha * np.sqrt(data.d) / UNDERFLOW_T, 2.0 * t_b, SPHERE_RADII)
    return default_radii(data.data, data.alpha, SPHERE_RADII)


def _warm_sphere(data: Prop1Dataset) -> threading.Thread:
    """Compile the sphere search (its shapes do not depend on the radii) in a thread, beside the profiles.

    One round of the same search on placeholder radii: its programs land in JAX's and the engine's caches,
    so that `_sphere` only runs (~1.5 s at n = 20 against ~7 s cold). Its result is discarded; the numbers of
    `_sphere` are the same with or without it (the caches hold programs, not values)."""

    def work():
        try:
            r = _sphere_radii(data, 0.6 * data.alpha if data.alpha > 0 else None)
            sphere_certificate(data, data.alpha, kappa=data.kappa, radii=r, seed=data.seed, rounds=1, refine=False)
        except Exception:  # a warm-up only: _sphere reports any real error
            pass

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    return thread


def _sphere(data: Prop1Dataset, collapsed: CollapsedReport, mep: bool = False):
    """The sphere certificate of the collapsed point (user units), bracketed above by the profile's barrier."""
    alpha = data.alpha
    radii = _sphere_radii(data, collapsed.barrier_t if collapsed.barrier_shape == "barrier" else None)
    cert = sphere_certificate(data, alpha, kappa=data.kappa, radii=radii, seed=data.seed)
    if alpha == 0 or collapsed.barrier_shape != "barrier":
        return cert
    barrier_mep = None
    if mep:
        path = prop1_path(data)
        barrier_mep = float(path.barrier) if path.converged else None
    return cert.with_upper_bounds(
        mep=barrier_mep, profile=collapsed.barrier_height, exit_radius=profile_exit(collapsed.profiles)
    )
