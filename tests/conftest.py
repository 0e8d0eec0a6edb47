import os
from pathlib import Path

# One on-disk XLA compilation cache for the test run, shared by the pytest-xdist workers and by the CLIs
# that tests start as subprocesses (they inherit the environment): a program that several test files
# compile is compiled once. JAX keys each entry by the program, the jax/jaxlib versions and the backend,
# and a hit loads the executable that was compiled, so results are bit-identical. Set
# JAX_COMPILATION_CACHE_DIR yourself to put it elsewhere.
os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", str(Path(__file__).resolve().parents[1] / ".pytest_cache" / "jax"))
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")

import jax
import numpy as np
import pytest
from hypothesis import HealthCheck, settings

import landscape

# in case a plugin imported jax before the environment above was set
jax.config.update("jax_compilation_cache_dir", os.environ["JAX_COMPILATION_CACHE_DIR"])
jax.config.update(
    "jax_persistent_cache_min_compile_time_secs", float(os.environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"])
)

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
