import numpy as np
import pytest
from hypothesis import HealthCheck, settings

import landscape

# JAX compiles on first use of each shape: no per-example deadline.
settings.register_profile(
    "landscape", deadline=None, max_examples=25, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
settings.load_profile("landscape")


def random_data(rng, n, d, anisotropy=True):
    """Gaussian data with unequal column scales, so S has distinct eigenvalues."""
    scales = rng.uniform(0.3, 2.0, size=d) if anisotropy else np.ones(d)
    return rng.normal(size=(n, d)) * scales + rng.normal(size=d)


def random_params(rng, n, d, kappa, w_scale=0.7):
    return landscape.VAEParams(
        W=w_scale * rng.normal(size=(d, kappa)),
        b=rng.normal(size=d),
        log_gamma=np.asarray(rng.normal(scale=0.3)),
        mu=rng.normal(size=(n, kappa)),
        log_sigma=rng.normal(scale=0.3, size=(n, kappa)) - 0.5,
    )


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
