import json

import numpy as np

import landscape
from landscape.common.provenance import save_json, to_jsonable, versions


def test_float64_is_on():
    import jax.numpy as jnp

    assert jnp.zeros(1).dtype == jnp.float64


def test_versions_name_the_packages():
    v = versions()
    assert v["landscape"] == landscape.__version__
    assert v["jax"] and v["jaxlib"] and v["x64"] is True


def test_json_is_valid_even_with_non_finite_numbers(tmp_path):
    payload = {"a": np.float64(np.inf), "b": np.arange(3), "c": (np.nan, 1), "d": np.bool_(True)}
    path = save_json(tmp_path / "x.json", payload)
    data = json.loads(path.read_text())
    assert data["a"] == "inf" and data["b"] == [0, 1, 2] and data["c"] == ["nan", 1] and data["d"] is True
    assert "versions" in data
    assert to_jsonable(np.float32(1.5)) == 1.5
