"""MLPerf accuracy evaluators computed from LoadGen's ``mlperf_log_accuracy.json``.

Each evaluator is a pure function from the log (plus dataset files) to a
frozen result dataclass, with a ``format_*`` companion that renders the lines
the official MLCommons script prints (what a submission's ``accuracy.txt``
holds).  Optional third-party packages (pycocotools, scikit-learn, nibabel)
are imported only inside the evaluator that needs them, so importing this
package is cheap and dependency-free beyond numpy.

:func:`score_accuracy` is the one entry point the plugin calls: it finds the ground truth
(official layouts or NVIDIA's scratch layout), picks the response dtype of the harness that
wrote the log, runs the evaluator and judges every metric as the submission checker reads it.
The evaluators' names are the package's as each module's ``__all__`` lists them.
"""

from . import classification, detection, log, recommendation, segmentation, squad, wer, wordpiece
from .classification import *  # noqa: F403
from .detection import *  # noqa: F403
from .dtypes import ResponseDtype, UnknownDtype, response_dtype
from .groundtruth import AccuracyDataMissing, GroundTruth, locate, locate_tokenizer
from .log import *  # noqa: F403
from .recommendation import *  # noqa: F403
from .result import AccuracyResult, MetricScore, compare_with_nvidia
from .rouge import (
    LlmAccuracyResult,
    format_llm,
    llm_accuracy,
    rouge_scores,
    sentence_splitter,
    tokenizer_decoder,
)
from .score import require_ground_truth, score_accuracy
from .segmentation import *  # noqa: F403
from .squad import *  # noqa: F403
from .wer import *  # noqa: F403
from .wordpiece import *  # noqa: F403

__all__ = [
    # one entry point for every benchmark
    "AccuracyDataMissing",
    "AccuracyResult",
    "GroundTruth",
    "MetricScore",
    "ResponseDtype",
    "UnknownDtype",
    "compare_with_nvidia",
    "locate",
    "locate_tokenizer",
    "require_ground_truth",
    "response_dtype",
    "score_accuracy",
    # gptj, llama2-70b, llama3.1-8b (rouge.py's other names are the plugin's own)
    "LlmAccuracyResult",
    "format_llm",
    "llm_accuracy",
    "rouge_scores",
    "sentence_splitter",
    "tokenizer_decoder",
]
__all__ += log.__all__
__all__ += classification.__all__  # resnet50
__all__ += detection.__all__  # retinanet
__all__ += recommendation.__all__  # dlrm-v2
__all__ += segmentation.__all__  # 3d-unet
__all__ += squad.__all__  # bert
__all__ += wordpiece.__all__  # bert
__all__ += wer.__all__  # rnnt
