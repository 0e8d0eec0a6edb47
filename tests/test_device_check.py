"""benchmarks/device_check.sh runs on CPU at CI size (issue 22): its three steps, each checked by its output;
benchmarks/gpu_check.sh is the same script."""

import os
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_device_check_cpu_smoke_runs_its_three_steps():
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    out = subprocess.run(["bash", str(ROOT / "benchmarks" / "device_check.sh"), "--cpu-smoke"], capture_output=True,
                         text=True, env=env, timeout=900, cwd=ROOT)  # fmt: skip
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    text = out.stdout
    assert "backend cpu" in text
    assert re.search(r"\b3 passed\b", text)  # the jit / vmap / sharding tests
    assert "step÷floor" in text and "fusions" in text  # the throughput table and its profile
    m = re.search(r"256 restarts × 100 steps .* ([0-9.e+]+) restarts per second", text)
    assert m and float(m.group(1)) > 0
    bad = subprocess.run(["bash", str(ROOT / "benchmarks" / "gpu_check.sh"), "--gpu"], capture_output=True, text=True)
    assert bad.returncode == 2 and "usage: bash benchmarks/device_check.sh" in bad.stderr  # the alias runs it
