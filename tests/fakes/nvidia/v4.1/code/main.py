"""Emulated ``python3 -m code.main`` of mlcommons/inference_results_v4.1 closed/NVIDIA.

v4.1 specifics (all in PROFILE): --test_run, --gpu_batch_size=component:bs, RNNT gone from the Benchmark
enum, TensorRT 10.2, code written against LoadGen 4.1.x.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "common"))

from nvemu.emulator import Profile, main  # noqa: E402

PROFILE = Profile(
    version="v4.1",
    test_run_flag="test_run",
    integer_batch_size=False,
    benchmarks=("resnet50", "retinanet", "bert", "3d-unet", "dlrm-v2", "gptj", "llama2-70b",
                "stable-diffusion-xl", "mixtral-8x7b"),
    tensorrt_version="10.2.0.19",
    loadgen_series="4.1",
)

if __name__ == "__main__":
    sys.exit(main(PROFILE))
