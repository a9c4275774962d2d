"""Child process that runs ONE real LoadGen test against a trivial SUT (the emulated TensorRT harness).

Run as ``python -m nvemu.lgrun <spec.json>``. Like NVIDIA's C++ harness executables it is a separate
process, so a LoadGen abort cannot take the emulator down. The SUT completes every sample immediately
with a fixed 4-byte int32 payload, or with the bytes ``EMULATED_RESPONSES`` (a JSON file mapping a QSL
index to hex data) gives that sample: what the emulated model answers, so that an accuracy log can be
scored against ground truth.

Settings order: embedded mlperf.conf (FromConfig conf_type 0) -> registered config values -> user.conf
(--user_conf_path, conf_type 2) -> command-line overrides; the last two lists come from the parent.
"""

from __future__ import annotations

import array
import json
import os
import sys
import time

import mlperf_loadgen as lg

SCENARIOS = {
    "Offline": lg.TestScenario.Offline,
    "Server": lg.TestScenario.Server,
    "SingleStream": lg.TestScenario.SingleStream,
    "MultiStream": lg.TestScenario.MultiStream,
}
MODES = {
    "PerformanceOnly": lg.TestMode.PerformanceOnly,
    "AccuracyOnly": lg.TestMode.AccuracyOnly,
    "SubmissionRun": lg.TestMode.SubmissionRun,
    "FindPeakPerformance": lg.TestMode.FindPeakPerformance,
}


def _from_config(settings: lg.TestSettings, path: str, model: str, scenario: str, mlperf_conf: bool) -> int:
    """FromConfig across wheel generations: 4.1.x takes is_mlperf_conf (bool), 5.0+ conf_type (int)."""
    doc = lg.TestSettings.FromConfig.__doc__ or ""
    if "is_mlperf_conf" in doc:
        return settings.FromConfig(path, model, scenario, mlperf_conf)
    return settings.FromConfig(path, model, scenario, 0 if mlperf_conf else 2)


def _apply(settings: lg.TestSettings, values: dict) -> None:
    for key, value in values.items():
        current = getattr(settings, key)
        if isinstance(current, bool):
            value = bool(value)
        elif isinstance(current, int):
            value = int(value)
        elif isinstance(current, float):
            value = float(value)
        setattr(settings, key, value)


def run(spec: dict) -> int:
    settings = lg.TestSettings()
    scenario = spec["scenario"]
    model = spec["model"]
    rc = _from_config(settings, spec.get("mlperf_conf_path") or "", model, scenario, True)
    if rc != 0:
        print(f"[emulator] FromConfig(mlperf.conf) returned {rc}", file=sys.stderr)
    settings.scenario = SCENARIOS[scenario]
    settings.mode = MODES[spec["mode"]]
    _apply(settings, spec.get("config_settings", {}))
    if spec.get("user_conf_path"):
        rc = _from_config(settings, spec["user_conf_path"], model, scenario, False)
        if rc != 0:
            print(f"[emulator] FromConfig({spec['user_conf_path']}) returned {rc}", file=sys.stderr)
    _apply(settings, spec.get("override_settings", {}))

    token_latencies = bool(getattr(settings, "use_token_latencies", False))
    # LLM responses are token ids; LoadGen logs an error for a response of fewer than 2 tokens.
    tokens = 2 if token_latencies else 1
    payload = array.array("i", [int(spec.get("payload", 0))] * tokens)
    ptr, _ = payload.buffer_info()
    size = payload.itemsize * tokens

    answers = {}
    if os.environ.get("EMULATED_RESPONSES"):
        with open(os.environ["EMULATED_RESPONSES"]) as fh:
            answers = {int(k): array.array("B", bytes.fromhex(v)) for k, v in json.load(fh).items()}

    def response(sample):
        data = answers.get(sample.index)
        if data is None:
            return ptr, size, tokens
        address, count = data.buffer_info()
        # LLM responses are int32 token ids in NVIDIA's harness.
        return address, count, max(count // 4, 1)

    crash = os.environ.get("NVEMU_CRASH") == "1"
    # EMULATED_SAMPLE_US: a steady device, busy that many microseconds per sample (default: instant,
    # which makes throughput depend on LoadGen's own overhead and vary run to run).
    sample_s = float(os.environ.get("EMULATED_SAMPLE_US") or 0) / 1e6

    def issue(samples):
        if crash:
            raise RuntimeError("emulated harness crash (EMULATED_FAILURE=harness_crash)")
        if sample_s:
            time.sleep(sample_s * len(samples))
        if token_latencies:
            first = [response(s) for s in samples]
            pairs = list(zip(samples, first, strict=True))
            lg.FirstTokenComplete([lg.QuerySampleResponse(s.id, a, 4) for s, (a, _, _) in pairs])
            responses = [lg.QuerySampleResponse(s.id, a, n, t) for s, (a, n, t) in pairs]
        else:
            responses = [lg.QuerySampleResponse(s.id, *response(s)[:2]) for s in samples]
        lg.QuerySamplesComplete(responses)

    def flush():
        pass

    def load(_indices):
        pass

    def unload(_indices):
        pass

    log_output = lg.LogOutputSettings()
    log_output.outdir = spec["outdir"]
    log_output.prefix = "mlperf_log_"
    log_output.copy_summary_to_stdout = True
    log_settings = lg.LogSettings()
    log_settings.log_output = log_output
    log_settings.enable_trace = False

    sut = lg.ConstructSUT(issue, flush)
    qsl = lg.ConstructQSL(int(spec["qsl_total"]), int(spec["qsl_perf"]), load, unload)
    try:
        lg.StartTestWithLogSettings(sut, qsl, settings, log_settings, spec["audit_config"])
    finally:
        lg.DestroyQSL(qsl)
        lg.DestroySUT(sut)
    return 0


if __name__ == "__main__":
    with open(sys.argv[1]) as fh:
        sys.exit(run(json.load(fh)))
