"""The README's commands are the ones CI runs (a drift between them would hide failures)."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _commands(text):
    return [line.strip() for line in text.splitlines() if line.strip().startswith(("pip install", "python -m pip"))]


def test_ci_runs_exactly_the_readme_test_command():
    readme = _commands((ROOT / "README.md").read_text())
    assert readme[0] == "pip install -e . && python -m landscape.prop1 --alpha 0.1"
    test_cmd = readme[1]
    ci = (ROOT / ".ci" / "run").read_text()
    assert ("python -m " + test_cmd) in ci, (test_cmd, ci)


def test_readme_opens_with_the_two_commands():
    head = (ROOT / "README.md").read_text().splitlines()[:10]
    assert sum(line.strip().startswith("pip install") for line in head) == 2
