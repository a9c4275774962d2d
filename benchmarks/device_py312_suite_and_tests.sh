#!/usr/bin/env bash
# On the GPU host (Python 3.12, the Python of NVIDIA's v5.0 container), through the device tool
# with the runtime wheels in .whl/ and the test extras plus this project's wheel in .whl-test/
# carried: run the embedded default suite, check the submission tree it leaves, then run the
# project's own test suite on 8 xdist workers.
#   OUT=<dir> bash benchmarks/device_py312_suite_and_tests.sh
set -u -o pipefail
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site \
  .whl/*.whl .whl-test/*.whl || exit 1
# The source tree first (the code under test); /tmp/site gives the wheels and the plugin's entry point.
export PYTHONPATH=$PWD:/tmp/site PATH=/tmp/site/bin:$PATH PYTHONUNBUFFERED=1
python3 --version
nproc
(mkdir -p /tmp/run && cp -r suites /tmp/run/ && cd /tmp/run \
  && python3 -m pytest suites/cpu.yaml -q -p no:cacheprovider --mlperf-cache-dir /tmp/cache 2>&1 \
  | tee "$OUT/cpu-suite.log"; \
  python3 -m pytest_mlperf_nv.cli check-submission mlperf-results/submission > "$OUT/check-submission.txt" 2>&1; \
  echo "check-submission exit status: $?" >> "$OUT/check-submission.txt"; \
  cp mlperf-results/submission-report.json "$OUT/" 2>/dev/null)
start=$(date +%s)
python3 -m pytest tests -q -p no:cacheprovider -n 8 --deselect tests/unit/test_lint.py::test_ruff_is_clean \
  --junitxml "$OUT/junit-tests.xml" 2>&1 | tail -40 | tee "$OUT/tests.log"
echo "tests wall: $(( $(date +%s) - start )) s" | tee -a "$OUT/tests.log"
