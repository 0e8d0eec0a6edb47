#!/usr/bin/env bash
# The device check of issue 22, one short script: run it once on a machine with a GPU (or TPU)
# (pip install -e ".[test]" and an accelerator jaxlib, e.g. pip install "jax[cuda12]"), and put its figures
# in the README. benchmarks/gpu_check.sh is the same script under its older name.
#
#   bash benchmarks/device_check.sh              # on the GPU: about 5 minutes
#   bash benchmarks/device_check.sh --cpu-smoke  # anywhere: the same three steps at CI size (about a minute)
#
# 1. the tests that exercise jit, vmap and sharding (chunk independence, the engine, the fused descent,
#    restarts sharded over devices);
# 2. benchmarks/search_throughput.py --quick (--smoke on CPU);
# 3. a search of 10⁶ restarts of the default Proposition 1 problem, with its restarts per second
#    (256 restarts of 100 steps on CPU).
set -euo pipefail
cd "$(dirname "$0")/.."
smoke=0
case "${1:-}" in
  --cpu-smoke) smoke=1 ;;
  "") ;;
  *) echo "usage: bash benchmarks/device_check.sh [--cpu-smoke]" >&2; exit 2 ;;
esac
if [ "$smoke" = 1 ]; then
  export JAX_PLATFORMS=cpu
  tests=(tests/test_first_order.py::test_fused_descent_is_bitwise_independent_of_chunk_size
         tests/test_search.py::test_restarts_are_sharded_over_several_devices)
  throughput=(--smoke)
  million=(--restarts 256 --steps 100 --chunk 256)
else
  tests=(tests/test_chunk_independence.py tests/test_engine.py tests/test_first_order.py
         tests/test_search.py::test_restarts_are_sharded_over_several_devices)
  throughput=(--quick)
  million=()
fi
python -c "import jax; print('jax', jax.__version__, 'backend', jax.default_backend(), jax.devices())"
echo "== 1. jit, vmap and sharding tests"
python -m pytest -q -n0 -p no:cacheprovider "${tests[@]}"
echo "== 2. search throughput"
python benchmarks/search_throughput.py "${throughput[@]}"
echo "== 3. a search of many restarts"
python benchmarks/million_restarts.py "${million[@]}"
