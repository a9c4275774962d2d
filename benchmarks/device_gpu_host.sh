#!/usr/bin/env bash
# On a GPU host (run through the device tool with the wheels in .whl/ carried): record the
# machine's snapshot, run the embedded default suite, and run a GPU suite whose items need
# a GPU (system.gpu), checking that real NVML detection lets them run.
#   OUT=<dir> bash benchmarks/device_gpu_host.sh
set -u -o pipefail
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
  && export PYTHONPATH=/tmp/site:$PWD || exit 1
export PYTHONUNBUFFERED=1
python3 --version
nvidia-smi -L
python3 -m pytest_mlperf_nv.cli snapshot -o "$OUT/h200-snapshot.json"
python3 -m pytest -p pytest_mlperf_nv.plugin suites/cpu.yaml -q --mlperf-cache-dir /tmp/cache \
  --junitxml "$OUT/junit-cpu.xml" 2>&1 | tee "$OUT/cpu-suite.log"
mkdir -p /tmp/gpu/suites
cat > /tmp/gpu/suites/h200.yaml <<'YAML'
mlperf_suite: 1
name: h200
system: {gpu: h200, count: 1}
benchmarks:
  digits:
    gpu_batch_size: 32
    scenarios: {Offline: {offline_expected_qps: 2000000}}
YAML
(cd /tmp/gpu && python3 -m pytest -p pytest_mlperf_nv.plugin suites/h200.yaml -q -rs --mlperf-cache-dir /tmp/cache \
  --mlperf-strict 2>&1 | tee "$OUT/gpu-suite.log")
