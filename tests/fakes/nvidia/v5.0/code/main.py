"""Emulated ``python3 -m code.main`` of mlcommons/inference_results_v5.0 closed/NVIDIA.

v5.0 specifics (all in PROFILE): --test_run, --gpu_batch_size=component:bs, BERT retired from the round,
llama2-70b-interactive, llama3.1-405b (llama3_1-405b) and rgat added, TensorRT 10.8, code written against
LoadGen 5.0.x.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "common"))

from nvemu.emulator import Profile, main  # noqa: E402

PROFILE = Profile(
    version="v5.0",
    test_run_flag="test_run",
    integer_batch_size=False,
    benchmarks=("resnet50", "retinanet", "3d-unet", "dlrm-v2", "gptj", "llama2-70b", "llama2-70b-interactive",
                "stable-diffusion-xl", "mixtral-8x7b", "llama3_1-405b", "rgat"),
    tensorrt_version="10.8.0.43",
    loadgen_series="5.0",
)

if __name__ == "__main__":
    sys.exit(main(PROFILE))
