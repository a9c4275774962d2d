"""extends: suites share settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_mlperf_nv.plugin import pytest_mlperf_register
from pytest_mlperf_nv.registry import Registry
from pytest_mlperf_nv.suite.schema import load_suite

BASE = """mlperf_suite: 1
profile: quick
modes: [performance]
benchmarks:
  digits:
    gpu_batch_size: 32
    scenarios:
      Offline: {offline_expected_qps: 2000000, min_duration: 200}
      SingleStream: {single_stream_expected_latency_ns: 10000}
"""


def _registry() -> Registry:
    registry = Registry()
    pytest_mlperf_register(registry)
    return registry


def test_a_suite_extends_another_key_by_key(tmp_path: Path) -> None:
    (tmp_path / "base.yaml").write_text(BASE)
    child = tmp_path / "child.yaml"
    child.write_text("mlperf_suite: 1\nextends: base.yaml\nname: child\nbenchmarks:\n  digits:\n"
                     "    scenarios:\n      Offline: {offline_expected_qps: 3000000}\n")
    suite = load_suite(child, _registry())
    assert suite.name == "child" and suite.profile.value == "quick"
    offline = next(c for c in suite.cases if c.scenario == "Offline")
    assert offline.knob("offline_expected_qps") == 3_000_000
    assert offline.knob("min_duration") == 200  # from the base
    assert offline.knob("gpu_batch_size") == 32
    assert offline.knobs["offline_expected_qps"].source.startswith(f"suite {child}:7:")
    assert offline.knobs["min_duration"].source.startswith(f"suite {tmp_path / 'base.yaml'}:8:")
    assert {c.scenario for c in suite.cases} == {"Offline", "SingleStream"}
    assert suite.sha256 != load_suite(tmp_path / "base.yaml", _registry()).sha256


@pytest.mark.parametrize(("files", "expected"), [
    ({"child.yaml": "mlperf_suite: 1\nextends: nothere.yaml\nbenchmarks: {digits: {}}\n"},
     "child.yaml:2:10: extends: suite to extend not found: "),
    ({"child.yaml": "mlperf_suite: 1\nextends: base.yaml\n",
      "base.yaml": "mlperf_suite: 1\nextends: child.yaml\n"},
     "extends: suites extend each other in a cycle: child.yaml -> base.yaml -> child.yaml"),
    ({"child.yaml": "mlperf_suite: 1\nextends: base.yaml\n",
      "base.yaml": BASE.replace("gpu_batch_size: 32", "gpu_batch_size: -1")},
     "base.yaml:6:21: benchmarks.digits.gpu_batch_size: must be greater than 0, got -1"),
])
def test_extends_errors_name_the_right_file(tmp_path: Path, files: dict[str, str], expected: str) -> None:
    from pytest_mlperf_nv.errors import SuiteError

    for name, text in files.items():
        (tmp_path / name).write_text(text)
    with pytest.raises(SuiteError) as info:
        load_suite(tmp_path / "child.yaml", _registry())
    assert expected in str(info.value)
