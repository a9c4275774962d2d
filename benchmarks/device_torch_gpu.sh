#!/usr/bin/env bash
# On one GPU host, through the device tool, with the runtime wheels in .whl/ carried: the torch
# backend's figures (benchmarks/torch_gpu.py) and the shipped GPU suite through pytest.
#   OUT=<dir> BENCHMARKS=resnet50,bert-99 SECONDS_PER_RUN=5 SUITE_K=resnet50 bash benchmarks/device_torch_gpu.sh
set -u -o pipefail
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=$PWD:/tmp/site PATH=/tmp/site/bin:$PATH PYTHONUNBUFFERED=1
python3 --version; nproc; nvidia-smi -L
python3 -c "import torch, triton; print('torch', torch.__version__, 'triton', triton.__version__, torch.cuda.get_device_name(0))"
if [ -n "${BENCHMARKS:-resnet50,bert-99}" ]; then
  timeout "${BENCH_TIMEOUT:-400}" python3 benchmarks/torch_gpu.py --benchmarks "${BENCHMARKS:-resnet50,bert-99}" \
    --seconds "${SECONDS_PER_RUN:-5}" --server-trials "${SERVER_TRIALS:-5}" --work /tmp/bench --out "$OUT" \
    ${BENCH_ARGS:-} 2>&1 | tee "$OUT/bench.log"
fi
if [ -n "${SUITE:-suites/gpu.yaml}" ]; then
  mkdir -p /tmp/run && cp -r suites /tmp/run/ && cd /tmp/run && \
  timeout "${SUITE_TIMEOUT:-300}" python3 -m pytest -p pytest_mlperf_nv.plugin -p no:randomly -p no:cacheprovider \
    "${SUITE:-suites/gpu.yaml}" -q -rs -k "${SUITE_K:-}" --mlperf-cache-dir /tmp/cache --mlperf-strict \
    --junitxml "$OUT/junit-gpu-suite.xml" 2>&1 | tee "$OUT/gpu-suite.log"
  for f in mlperf-results/runs/*/*/*/performance/result.json; do
    echo "== $f"; python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print(json.dumps({k: r[k] for k in ('verdict','reasons','loadgen','child')}, default=str)[:1500]); print(json.dumps(r['versions']['backend'], default=str)[:1500])" "$f"
  done 2>&1 | tee "$OUT/gpu-suite-results.log"
fi
