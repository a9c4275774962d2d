"""Fuzz targets and input generators: the suite loader, LoadGen's log parsers, run records and the
tree manifest. Each target takes one input and returns normally or raises a project error; any
other exception is a finding.

Used by tests/unit/test_fuzz.py (a bounded budget in CI, the committed corpus as regression
tests) and benchmarks/fuzz_budget.py (the long local run).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from pytest_mlperf_nv.errors import MlperfError
from pytest_mlperf_nv.harness.nvidia.settings import KEYS as NVIDIA_KEYS
from pytest_mlperf_nv.suite.cases import BENCHMARK_KEYS, EXPECT_KEYS
from pytest_mlperf_nv.suite.knobs import KNOBS, SCENARIOS
from pytest_mlperf_nv.suite.schema import SYSTEM_KEYS, TOP_KEYS

REPO = Path(__file__).resolve().parents[1]
CORPUS = Path(__file__).resolve().parent / "data" / "fuzz_corpus"
#: the longest error text a target may produce (messages never format a value whole)
MAX_MESSAGE = 60_000

# -- generators -------------------------------------------------------------------------------------

HOSTILE_TEXT = ["", ".", "..", "../x", "/etc", "a/b", "a\n", "a\x00b", "x" * 300, " a", "a ", "\t",
                "1e309", ".nan", ".inf", "-.inf", "9" * 80, "Offline", "Server", "digits", "resnet50",
                "performance", "accuracy", "compliance", "official", "quick", "nvidia", "loadgen",
                "onnxruntime", "none", "auto", "l4", "h200", "yes", "~", "null", "2024-13-45",
                "\u2028", "\ufeff", "*a", "&a", "!!int x"]
SEED_SUITES = sorted((REPO / "suites").glob("*.yaml")) + sorted((REPO / "pytest_mlperf_nv" / "suites").glob(
    "*.yaml"))
YAML_TOKENS = ["&a ", "*a", "&b ", "*b", "!!int ", "!!float ", "!!str ", "!!binary ", "!!set ", "!!omap ",
               "!!timestamp ", "!!python/object ", "[", "]", "{", "}", ": ", ":", "- ", "\t", "\n", "'",
               '"', "#", ".nan", ".inf", "1e999", "9" * 50, "<<: *a\n", "? ", "|", ">", "%YAML 1.1\n",
               "---\n", "...\n", "\x00", "\ufeff", "\x85", "\u2028", "\r", " " * 40, "a: &a [*a]\n",
               "a: &a [x, x, x, x]\nb: &b [*a, *a, *a, *a]\n", "[" * 40, "{a: " * 40, "0x", "0o", "0b",
               "1:30:00", "2001-12-14", "=", "~", "\\", "\\x00", "%", "@", "`", "[" * 400, "- " * 400,
               "9" * 5000, "1e309", '"a\\0b"', "a" * 5000, '\nmodel: "m\\0.onnx"\n',
               "\nextends: " + "e/" * 2100, '\nextends: "b\\0.yaml"\n', "\nname: \"x\\n\"\n",
               "\ntimeout: .nan\n", ": !!timestamp x"]


def _scalars() -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
                     st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=20),
                     st.sampled_from(HOSTILE_TEXT))


def _keys() -> st.SearchStrategy[Any]:
    names = sorted(set(TOP_KEYS) | set(BENCHMARK_KEYS) | set(KNOBS) | set(SCENARIOS) | set(EXPECT_KEYS)
                   | set(NVIDIA_KEYS) | set(SYSTEM_KEYS) | {"inputs", "labels", "submitter", "division"})
    return st.one_of(st.sampled_from(names), st.sampled_from(HOSTILE_TEXT), st.text(max_size=8),
                     st.integers(min_value=-5, max_value=5))


def json_values() -> st.SearchStrategy[Any]:
    """Any JSON value, with the hostile texts and numbers among its leaves."""
    leaves = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
                       st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=20),
                       st.sampled_from(HOSTILE_TEXT))
    return st.recursive(leaves, lambda inner: st.lists(inner, max_size=4)
                        | st.dictionaries(st.one_of(st.text(max_size=8), st.sampled_from(HOSTILE_TEXT)),
                                          inner, max_size=4), max_leaves=12)


def _yaml_values() -> st.SearchStrategy[Any]:
    return st.recursive(_scalars(), lambda inner: st.lists(inner, max_size=4)
                        | st.dictionaries(_keys(), inner, max_size=4), max_leaves=16)


@st.composite
def structured_suites(draw: Any) -> str:
    """A suite document of known keys with values of any type, dumped as YAML."""
    import yaml

    doc: dict[Any, Any] = {"mlperf_suite": draw(st.sampled_from([1, 1, 1, 2, "1", None, True, 1.0]))}
    for key in draw(st.lists(st.sampled_from([*TOP_KEYS[1:-1], "nvidia"]), max_size=5, unique=True)):
        doc[key] = draw(_yaml_values())
    benchmarks: dict[Any, Any] = {}
    for _ in range(draw(st.integers(0, 3))):
        body: dict[Any, Any] = {}
        for key in draw(st.lists(st.sampled_from([*BENCHMARK_KEYS, *KNOBS]), max_size=4, unique=True)):
            body[key] = draw(st.one_of(_yaml_values(), st.sampled_from(HOSTILE_TEXT)))
        if draw(st.booleans()):
            body["scenarios"] = draw(st.one_of(
                st.lists(st.sampled_from([*SCENARIOS, "Sever", 5]), max_size=4),
                st.dictionaries(st.sampled_from([*SCENARIOS, "x"]),
                                st.one_of(st.none(), st.dictionaries(st.sampled_from(list(KNOBS)), _scalars(),
                                                                     max_size=3)), max_size=3)))
        bench_id = draw(st.one_of(st.sampled_from(["digits", "resnet50", "bert-99", "mynet"]), _keys()))
        benchmarks[bench_id] = body
    if benchmarks or draw(st.booleans()):
        doc["benchmarks"] = benchmarks
    return yaml.safe_dump(doc, allow_unicode=draw(st.booleans()), default_flow_style=draw(
        st.sampled_from([None, True, False])))


@st.composite
def mutated_texts(draw: Any, seeds: list[str], tokens: list[str]) -> str:
    """A seed text with a few insertions, deletions, duplications and replacements."""
    text = draw(st.sampled_from(seeds))
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["insert", "delete", "duplicate", "replace", "truncate"]))
        at = draw(st.integers(0, max(len(text), 1)))
        if op == "insert":
            text = text[:at] + draw(st.one_of(st.sampled_from(tokens), st.text(max_size=5))) + text[at:]
        elif op == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 40)):]
        elif op == "duplicate":
            lines = text.splitlines(keepends=True)
            if lines:
                i = draw(st.integers(0, len(lines) - 1))
                lines.insert(i, lines[i] * draw(st.integers(1, 3)))
                text = "".join(lines)
        elif op == "replace" and text:
            at = min(at, len(text) - 1)
            text = text[:at] + draw(st.sampled_from(tokens)) + text[at + 1:]
        else:
            text = text[:at]
    return text


def suite_texts() -> st.SearchStrategy[str]:
    seeds = [p.read_text(encoding="utf-8") for p in SEED_SUITES] + [
        "mlperf_suite: 1\nbenchmarks:\n  digits:\n    scenarios: [Offline]\n"]
    return st.one_of(structured_suites(), mutated_texts(seeds, YAML_TOKENS), st.text(max_size=300))


def suite_names() -> st.SearchStrategy[str]:
    return st.sampled_from(["suite.yaml", "suite.yaml", "suite.yaml", "..yaml", "...yaml", "a b.yaml",
                            "x" * 200 + ".yaml", "suite\n.yaml", "-.yaml"])


def _detail_seed() -> list[str]:
    return (CORPUS / "seed_detail_log.txt").read_text(encoding="utf-8").splitlines()


@st.composite
def detail_logs(draw: Any) -> str:
    """A real LoadGen detail log with records whose values are replaced, garbage lines, truncation."""
    lines = _detail_seed()
    for _ in range(draw(st.integers(1, 5))):
        op = draw(st.sampled_from(["value", "garbage", "delete", "truncate", "key", "metadata"]))
        i = draw(st.integers(0, len(lines) - 1)) if lines else 0
        if op == "garbage":
            lines.insert(i, ":::MLLOG " + draw(st.one_of(
                st.builds(json.dumps, json_values()),
                st.sampled_from(["null", "[1, 2]", '"x"', "{", '{"key": 1}',
                                 '{"key": "x", "metadata": []}']))))
        elif op == "delete" and lines:
            del lines[i]
        elif op == "truncate" and lines:
            lines[i] = lines[i][: draw(st.integers(0, len(lines[i])))]
            lines = lines[: i + 1]
        elif lines and lines[i].startswith(":::MLLOG "):
            try:
                record = json.loads(lines[i][len(":::MLLOG "):])
            except ValueError:
                continue
            if not isinstance(record, dict):
                continue
            if op == "value":
                record["value"] = draw(json_values())
            elif op == "key":
                record["key"] = draw(json_values())
            else:
                record["metadata"] = draw(json_values())
            lines[i] = ":::MLLOG " + json.dumps(record)
    return "\n".join(lines) + "\n"


def accuracy_logs() -> st.SearchStrategy[str]:
    seed = '[\n{ "seq_id" : 0, "qsl_idx" : 48, "data" : "71000000" },\n{ "seq_id" : 1, "qsl_idx" : 8, ' \
           '"data" : "DE010000" }\n]\n'
    return st.one_of(st.builds(json.dumps, json_values()),
                     mutated_texts([seed], ["[", "]", "{", "}", ",", '"', "null", "-1", "1e999", "ZZ", "\n"]))


def records() -> st.SearchStrategy[str]:
    seed = json.loads((CORPUS / "seed_record.json").read_text())

    @st.composite
    def mutated(draw: Any) -> str:
        record = json.loads(json.dumps(seed))
        for key in draw(st.lists(st.sampled_from(sorted(record)), max_size=4)):
            record[key] = draw(json_values())
        return json.dumps(record)

    return st.one_of(mutated(), st.builds(json.dumps, json_values()), st.text(max_size=50))


def manifests() -> st.SearchStrategy[str]:
    parts = st.one_of(st.sampled_from(["..", "../x", "/etc", "open", "open/x", "open/x/results/sys", "a\x00b",
                                       "open/../..", "open/x/../../..", "open\\..\\..", "", ".", "//",
                                       "open/./x", "open//x/y"]), st.text(max_size=20), json_values())
    doc = st.dictionaries(st.text(max_size=30), st.one_of(st.lists(parts, max_size=5), json_values()),
                          max_size=4)
    return st.one_of(st.builds(json.dumps, doc), st.builds(json.dumps, json_values()), st.text(max_size=40))


# -- targets ----------------------------------------------------------------------------------------


class Workspace:
    """One temporary directory per process for the targets' files (fuzzing writes thousands)."""

    def __init__(self) -> None:
        import atexit
        import shutil

        self.root = Path(tempfile.mkdtemp(prefix="mlperf-fuzz-"))
        atexit.register(shutil.rmtree, self.root, True)
        from pytest_mlperf_nv.plugin import pytest_mlperf_register
        from pytest_mlperf_nv.registry import Registry

        self.registry = Registry()
        pytest_mlperf_register(self.registry)


_WORKSPACE: Workspace | None = None


def workspace() -> Workspace:
    global _WORKSPACE
    if _WORKSPACE is None:
        _WORKSPACE = Workspace()
    return _WORKSPACE


def _check_message(exc: BaseException) -> None:
    text = str(exc)
    assert len(text) < MAX_MESSAGE, f"a message of {len(text)} characters"


def load_suite_target(text: str, name: str = "suite.yaml") -> None:
    from pytest_mlperf_nv.suite.schema import load_suite

    ws = workspace()
    path = ws.root / "suites" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(text, encoding="utf-8", errors="surrogateescape")
    try:
        load_suite(path, ws.registry)
    except MlperfError as exc:
        _check_message(exc)
    finally:
        path.unlink(missing_ok=True)


def detail_log_target(text: str) -> None:
    from pytest_mlperf_nv.benchmarks.mlperf.seeds import round_of_detail
    from pytest_mlperf_nv.harness.logs import LogError, parse_run

    run_dir = workspace().root / "run"
    run_dir.mkdir(exist_ok=True)
    (run_dir / "mlperf_log_detail.txt").write_text(text, encoding="utf-8", errors="surrogateescape")
    try:
        result = parse_run(run_dir)
    except LogError as exc:
        _check_message(exc)
        return
    round_of_detail(result.detail)
    result.metrics()


def accuracy_log_target(text: str) -> None:
    from pytest_mlperf_nv.accuracy.log import AccuracyLogError, read_accuracy_log

    path = workspace().root / "mlperf_log_accuracy.json"
    path.write_text(text, encoding="utf-8", errors="surrogateescape")
    try:
        read_accuracy_log(path)
    except AccuracyLogError as exc:
        _check_message(exc)


def record_target(text: str) -> None:
    import contextlib
    import io

    from pytest_mlperf_nv.cli import main as cli_main
    from pytest_mlperf_nv.submission.runs import Run, read_record, run_problem

    out = workspace().root / "record"
    run_dir = out / "runs" / "s" / "digits" / "Offline" / "performance"
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "result.json").write_text(text, encoding="utf-8", errors="surrogateescape")
    # The two readers of result.json: mlperf-nv results, and the tree.
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        cli_main(["results", "--out", str(out)])
    record, problem = read_record(run_dir / "result.json")
    if record is None:
        assert problem is not None
        return
    run = Run("performance", run_dir, record)
    run.log_dir  # noqa: B018 - reads the record's log_dir
    run_problem(run, "Offline")


def manifest_target(text: str) -> None:
    from pytest_mlperf_nv.fsutil import inside
    from pytest_mlperf_nv.submission.tree_stage import MANIFEST_FILE, read_manifest

    out = workspace().root / "out"
    out.mkdir(exist_ok=True)
    (out / MANIFEST_FILE).write_text(text, encoding="utf-8", errors="surrogateescape")
    stage = out / "stage"
    for parts in read_manifest(out).values():
        for part in parts:
            inside(stage, part)  # every entry kept stays strictly inside the tree


TARGETS: dict[str, tuple[Callable[..., None], Callable[[], st.SearchStrategy[Any]]]] = {
    "suite": (load_suite_target, lambda: st.tuples(suite_texts(), suite_names())),
    "detail_log": (detail_log_target, detail_logs),
    "accuracy_log": (accuracy_log_target, accuracy_logs),
    "record": (record_target, records),
    "manifest": (manifest_target, manifests),
}


def run_target(name: str, value: Any) -> None:
    target, _ = TARGETS[name]
    if isinstance(value, tuple):
        target(*value)
    else:
        target(value)


def corpus_cases() -> list[tuple[str, Path]]:
    """(target, file) for every committed case: tests/data/fuzz_corpus/<target>/<case>."""
    found = []
    for target in sorted(TARGETS):
        directory = CORPUS / target
        if directory.is_dir():
            found += [(target, p) for p in sorted(directory.glob("*.txt"))]
    return found


def read_case(target: str, path: Path) -> Any:
    text = path.read_bytes().decode("utf-8", errors="surrogateescape")
    if target == "suite":
        meta = path.with_suffix(".name")
        name = meta.read_text().rstrip("\n") if meta.is_file() else "suite.yaml"
        return (text, name)
    return text


def save_case(target: str, value: Any, directory: Path = CORPUS) -> Path:
    """Write a found case into the corpus (content-addressed name)."""
    import hashlib

    text, name = value if isinstance(value, tuple) else (value, None)
    data = text.encode("utf-8", errors="surrogateescape")
    folder = directory / target
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (hashlib.sha256(data + (name or "").encode("utf-8", "surrogateescape")).hexdigest()[:16]
                     + ".txt")
    path.write_bytes(data)
    if name and name != "suite.yaml":
        path.with_suffix(".name").write_bytes(name.encode("utf-8", "surrogateescape") + b"\n")
    return path


__all__ = ["TARGETS", "corpus_cases", "read_case", "run_target", "save_case"]
