#!/usr/bin/env bash
# On one GPU host (Python 3.12 with a CUDA torch), from a copy of the source tree, with the runtime
# wheels (LoadGen, NVML, xdist, ...) and this project's own wheel (its pytest entry point) in .whl/:
#   1. benchmarks/torch_gpu.py: raw engine throughput, LoadGen Offline, Server search, SingleStream;
#   2. the shipped GPU suite (suites/gpu.yaml) through pytest, strict;
#   3. the GPU-only tests (tests/integration/test_torch_gpu.py) and the SUT's thread tests.
# Everything it writes lands in $OUT; each part has its share of a deadline (DEADLINE_S from the
# start), so a run cut short still leaves the results of the parts before.
#   OUT=<dir> DEADLINE_S=520 bash benchmarks/device_torch_gpu.sh
set -u -o pipefail
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
t0=$(date +%s)
left() { echo $(( t0 + ${DEADLINE_S:-520} - $(date +%s) - ${1:-0} )); }
if [ -z "${SKIP_INSTALL:-}" ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site .whl/*.whl || exit 1
  # The source tree first (the code under test); /tmp/site holds the wheels and the entry point.
  export PYTHONPATH=$PWD:/tmp/site PATH=/tmp/site/bin:$PATH
fi
export PYTHONUNBUFFERED=1
PY=${PY:-python3}
{ $PY --version; nproc; nvidia-smi -L; nvidia-smi --query-gpu=name,driver_version,clocks.max.sm,power.limit --format=csv
  $PY -c "import torch, triton; print('torch', torch.__version__, 'triton', triton.__version__, torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'no GPU')"
  $PY -c "import sklearn, PIL, onnx, onnxruntime, mlperf_loadgen, pynvml, xdist; print('imports ok')"
} 2>&1 | tee "$OUT/machine.txt"

# 1. the figures
if [ -n "${BENCHMARKS:-resnet50,bert-99}" ]; then
  timeout "$(left "${AFTER_BENCH_S:-230}")" $PY benchmarks/torch_gpu.py --benchmarks "${BENCHMARKS:-resnet50,bert-99}" \
    --seconds "${SECONDS_PER_RUN:-3}" --server-trials "${SERVER_TRIALS:-4}" --work /tmp/bench --out "$OUT" \
    ${BENCH_ARGS:---device-variant --lanes-variant} > "$OUT/bench.log" 2>&1
  echo "bench exit status $? after $(( $(date +%s) - t0 )) s" | tee -a "$OUT/bench.log"
  for f in "$OUT"/torch-gpu-*.json; do $PY benchmarks/torch_gpu.py --table "$f"; done 2>&1 | tee "$OUT/table.txt"
fi

# 2. the shipped GPU suite (its two resnet50 items that part 3 runs are left to it)
if [ -n "${SUITE:-suites/gpu.yaml}" ]; then
  # what each item's result.json says of its run and its device
  RECORD='import json, sys; r = json.load(open(sys.argv[1])); b = r["versions"]["backend"]
print(r["verdict"], r["loadgen"]["validity"], r["loadgen"]["value"], r["loadgen"]["unit"], r["reasons"])
print({k: b.get(k) for k in ("options", "weights", "compile_cache", "engine_build")})
print(b.get("devices"), r["child"].get("timings"), r["child"].get("wall_s"))'
  rm -rf /tmp/run && mkdir -p /tmp/run && cp -r suites /tmp/run/
  (cd /tmp/run && timeout "$(left "${AFTER_SUITE_S:-75}")" $PY -m pytest -p no:randomly -p no:cacheprovider \
    "${SUITE:-suites/gpu.yaml}" -rs -k "${SUITE_K:-not (resnet50 and (Offline or SingleStream))}" \
    --mlperf-cache-dir /tmp/cache --mlperf-strict --junitxml "$OUT/junit-gpu-suite.xml" > "$OUT/gpu-suite.log" 2>&1
   echo "suite exit status $? after $(( $(date +%s) - t0 )) s" >> "$OUT/gpu-suite.log"
   for f in mlperf-results/runs/*/*/*/performance/result.json; do
     [ -f "$f" ] && echo "== $f" && $PY -c "$RECORD" "$f"
   done >> "$OUT/gpu-suite.log" 2>&1)
  tail -25 "$OUT/gpu-suite.log"
fi

# 3. the GPU-only tests, and the SUT's threads on this host
TESTS=${TESTS-tests/integration/test_torch_gpu.py tests/unit/test_sample_queue.py}
if [ -n "$TESTS" ]; then
  timeout "$(left 0)" $PY -m pytest -p no:randomly -p no:cacheprovider -rs -q $TESTS > "$OUT/gpu-tests.log" 2>&1
  echo "tests exit status $? after $(( $(date +%s) - t0 )) s" >> "$OUT/gpu-tests.log"
  tail -15 "$OUT/gpu-tests.log"
fi
echo "total $(( $(date +%s) - t0 )) s"
