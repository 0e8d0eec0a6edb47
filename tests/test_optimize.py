"""The saddle-free Newton minimiser on functions with known minima."""

import jax.numpy as jnp
import numpy as np
import pytest

from landscape import newton_minimize


def test_rosenbrock():
    f = lambda x: (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2  # noqa: E731
    r = newton_minimize(f, jnp.array([-1.2, 1.0]), gtol=1e-12)
    assert bool(r.converged)
    np.testing.assert_allclose(r.x, [1.0, 1.0], atol=1e-10)


def test_escapes_a_saddle_by_descending():
    """From near the saddle of x² − y² + y⁴/4 it must reach a minimum (y = ±√2), not stop."""
    f = lambda x: x[0] ** 2 - x[1] ** 2 + 0.25 * x[1] ** 4  # noqa: E731
    r = newton_minimize(f, jnp.array([0.3, 1e-3]), gtol=1e-12)
    assert bool(r.converged)
    assert abs(float(r.x[1])) == pytest.approx(np.sqrt(2), rel=1e-10)
    assert float(r.value) == pytest.approx(-1.0, rel=1e-12)


def test_reports_non_convergence_honestly():
    f = lambda x: jnp.sum(x**2) + 10.0 * jnp.sum(jnp.cos(3 * x))  # noqa: E731
    r = newton_minimize(f, jnp.array([2.0, -1.0]), gtol=1e-12, max_steps=1)
    assert int(r.steps) == 1
    assert bool(r.converged) == bool(r.grad_norm <= 1e-12)
