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
"""

from .classification import (
    Top1Result,
    format_imagenet,
    format_imagenet_verbose,
    read_val_map,
    read_val_map_entries,
    top1,
)
from .detection import DetectionResult, format_openimages, openimages_map
from .dtypes import ResponseDtype, UnknownDtype, response_dtype
from .groundtruth import AccuracyDataMissing, GroundTruth, locate, locate_tokenizer
from .log import AccuracyEntry, AccuracyLogError, decode, dedupe, read_accuracy_log
from .recommendation import DlrmResult, dlrm_auc, format_dlrm
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
from .segmentation import (
    CaseDice,
    KitsResult,
    format_kits,
    format_kits_summary_csv,
    kits_dice,
    read_preprocessed_files,
)
from .squad import (
    SquadFeature,
    SquadResult,
    build_squad_features,
    format_squad,
    read_squad_examples,
    squad_accuracy,
    squad_v11_scores,
)
from .wer import (
    RNNT_LABELS,
    TranscriptError,
    WerResult,
    format_wer,
    levenshtein,
    normalize_transcript,
    read_manifest,
    rnnt_wer,
    word_error_rate,
)
from .wordpiece import BasicTokenizer, WordPieceTokenizer, load_vocab

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
    # log
    "AccuracyEntry",
    "AccuracyLogError",
    "decode",
    "dedupe",
    "read_accuracy_log",
    # resnet50
    "Top1Result",
    "format_imagenet",
    "format_imagenet_verbose",
    "read_val_map",
    "read_val_map_entries",
    "top1",
    # retinanet
    "DetectionResult",
    "format_openimages",
    "openimages_map",
    # dlrm-v2
    "DlrmResult",
    "dlrm_auc",
    "format_dlrm",
    # 3d-unet
    "CaseDice",
    "KitsResult",
    "format_kits",
    "format_kits_summary_csv",
    "kits_dice",
    "read_preprocessed_files",
    # bert
    "BasicTokenizer",
    "SquadFeature",
    "SquadResult",
    "WordPieceTokenizer",
    "build_squad_features",
    "format_squad",
    "load_vocab",
    "read_squad_examples",
    "squad_accuracy",
    "squad_v11_scores",
    # rnnt
    "RNNT_LABELS",
    "TranscriptError",
    "WerResult",
    "format_wer",
    "levenshtein",
    "normalize_transcript",
    "read_manifest",
    "rnnt_wer",
    "word_error_rate",
    # gptj, llama2-70b, llama3.1-8b
    "LlmAccuracyResult",
    "format_llm",
    "llm_accuracy",
    "rouge_scores",
    "sentence_splitter",
    "tokenizer_decoder",
]
