"""The official MLCommons accuracy scripts beside the plugin, on the same miniature data sets.

Needs a checkout of mlcommons/inference in ``MLPERF_NV_INFERENCE_CHECKOUT`` (or
``MLPERF_NV_OFFICIAL_CHECKER``, the submission checker tests' variable); each case also needs the
packages its script imports. The script runs as a subprocess in a scratch directory with the
data set and log the plugin scores, and its stdout must be the plugin's ``accuracy.txt``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_mlperf_nv.accuracy import score_accuracy

from ._minidata import make, make_rnnt

_VAR = "MLPERF_NV_INFERENCE_CHECKOUT"
CHECKOUT = os.environ.get(_VAR) or os.environ.get("MLPERF_NV_OFFICIAL_CHECKER")
pytestmark = pytest.mark.skipif(
    not CHECKOUT, reason=f"set {_VAR} to a checkout of mlcommons/inference to run its accuracy scripts")

SCRIPTS = {
    "resnet50": "vision/classification_and_detection/tools/accuracy-imagenet.py",
    "retinanet": "vision/classification_and_detection/tools/accuracy-openimages.py",
    "dlrm-v2-99": "recommendation/dlrm_v2/pytorch/tools/accuracy-dlrm.py",
    "rnnt": "retired_benchmarks/speech_recognition/rnnt/accuracy_eval.py",
}
IMPORTS = {"retinanet": ("pycocotools",), "dlrm-v2-99": ("sklearn",), "rnnt": ("inflect", "unidecode")}


def official(benchmark: str, args: list[str], cwd: Path) -> str:
    for module in IMPORTS.get(benchmark, ()):
        pytest.importorskip(module, reason=f"the official {benchmark} script imports {module}")
    script = Path(CHECKOUT or "") / SCRIPTS[benchmark]
    if not script.is_file():
        pytest.skip(f"{script} is not in the checkout")
    done = subprocess.run([sys.executable, str(script), *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def _args(benchmark: str, mini, root: Path) -> list[str]:
    data = mini.kwargs["data_dir"]
    log = str(mini.log)
    if benchmark == "resnet50":
        return ["--mlperf-accuracy-file", log, "--imagenet-val-file", str(data / "imagenet/val_map.txt"),
                "--dtype", "int32"]
    if benchmark == "retinanet":
        return ["--mlperf-accuracy-file", log, "--openimages-dir", str(data / "openimages"),
                "--output-file", str(root / "openimages-results.json")]
    if benchmark == "dlrm-v2-99":
        return ["--mlperf-accuracy-file", log, "--day-23-file", str(data / "criteo/day23/raw_data"),
                "--aggregation-trace-file", str(data / "criteo/day23/sample_partition.txt"),
                "--dtype", "float32"]
    return ["--log_dir", str(mini.log.parent), "--dataset_dir", str(data / "LibriSpeech"),
            "--manifest", str(data / "LibriSpeech/dev-clean-wav.json"), "--output_dtype", "int64"]


def _timings_out(text: str) -> list[str]:
    # pycocotools prints its own timings ("Done (t=0.01s)"): everything else must be equal.
    return [line for line in text.splitlines() if "(t=" not in line]


@pytest.mark.parametrize("right", [True, False], ids=["right", "wrong"])
@pytest.mark.parametrize("benchmark", list(SCRIPTS))
def test_official_script_prints_our_accuracy_txt(benchmark: str, right: bool, tmp_path: Path) -> None:
    mini = make(benchmark, tmp_path, "official", right=right)
    ours = score_accuracy(benchmark, mini.log, **mini.kwargs)
    theirs = official(benchmark, _args(benchmark, mini, tmp_path), tmp_path)
    assert _timings_out(ours.accuracy_txt) == _timings_out(theirs)


def test_official_rnnt_drops_what_the_plugin_refuses(tmp_path: Path) -> None:
    """A transcript with a number: the official script spells it out; the plugin refuses, saying why."""
    from pytest_mlperf_nv.accuracy import TranscriptError

    texts = ["room one oh one is closed", "call me at 8 tomorrow", "the end"]
    mini = make_rnnt(tmp_path, transcripts=texts)
    with pytest.raises(TranscriptError, match=r"utterance 1 .*digits \(8\).*inflect"):
        score_accuracy("rnnt", mini.log, **mini.kwargs)
    printed = official("rnnt", _args("rnnt", mini, tmp_path), tmp_path)
    assert printed.startswith("Word Error Rate: ")  # the official script scores it its own way


def test_librispeech_dev_clean_manifest_is_scored_in_full() -> None:
    """The reference's own dev-clean manifest: no transcript is refused, 2513 utterances are kept."""
    from pytest_mlperf_nv.accuracy import read_manifest
    from pytest_mlperf_nv.benchmarks import mlperf

    manifest = Path(CHECKOUT or "") / "retired_benchmarks/speech_recognition/rnnt/dev-clean-wav.json"
    if not manifest.is_file():
        pytest.skip(f"{manifest} is not in the checkout")
    refs = read_manifest(manifest)
    assert len(refs) == mlperf.get("rnnt").dataset.accuracy_sample_count == 2513
