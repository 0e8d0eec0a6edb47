"""The committed notebooks execute top to bottom (small configuration, LANDSCAPE_SMALL=1)."""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


@pytest.mark.parametrize("name", ["hessian_spectra.ipynb", "basins.ipynb"])
def test_notebook_executes(name, monkeypatch):
    path = NOTEBOOKS / name
    nb = nbformat.read(path, as_version=4)
    # committed with outputs, so they render where the repository is browsed
    assert any(c.get("outputs") for c in nb.cells if c.cell_type == "code"), f"{name} was committed without outputs"
    monkeypatch.setenv("LANDSCAPE_SMALL", "1")
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "small configuration: True" in text
