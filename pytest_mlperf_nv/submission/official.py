"""A runner for MLCommons' official submission checker, and its output as findings.

:func:`run_official_checker` runs the checker from a checkout of mlcommons/inference (a
subprocess) and turns its log lines into findings with fix hints (:func:`parse_official_output`,
:data:`OFFICIAL_MESSAGES`).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

from .findings import ERROR, WARNING, Finding
from .rules import DIVISIONS

#: known messages of the official checker -> (kind, fix hint). First match wins; patterns are searched
#: in the message (mlcommons/inference: tools/submission/submission_checker/checks/*.py, main.py; the
#: v5.0 checker's texts are the same where both have the check)
OFFICIAL_MESSAGES: tuple[tuple[str, str, str], ...] = (
    (r"Test duration less than 600s|Test duration lesser than", "duration",
     "only a 600 s run (the official profile) passes; a short run always has this"),
    (r"Required minimum samples per query not met", "samples-per-query",
     "raise offline_expected_qps so that the Offline query has the benchmark's minimum samples"),
    (r"Required minimum Query Count not met", "samples-per-query",
     "raise min_query_count to the benchmark's"),
    (r"Early stopping condition was not met", "early-stopping", "run longer (a 600 s run at the right "
                                                                "target)"),
    (r"performance_sample_count, found", "perf-sample-count", "use the full data set for the QSL"),
    (r"accurcy run does not cover all dataset|accuracy run does not cover all dataset", "dataset-size",
     "run accuracy on the whole data set"),
    (r"(qsl|sample_index|schedule)_rng_seed is wrong", "wrong-seeds",
     "install the LoadGen wheel that carries the round's seeds (benchmarks.mlperf.seeds.install_hint) and "
     "rerun"),
    (r"has loadgen errors|contains errors", "loadgen-error",
     "remove the cause of LoadGen's error lines (see the lines after 'contains errors') and rerun"),
    (r"not hash value for accuracy\.txt", "missing-hash", "hash_and_truncate the accuracy dir"),
    (r"is not truncated", "untruncated-log", "hash_and_truncate the accuracy dir"),
    (r"accuracy not met: upper limit", "accuracy-above-limit", "check the generation length settings"),
    (r"accuracy not met", "accuracy-below-target", "the closed division needs the benchmark's accuracy "
                                                   "target"),
    (r"requires a meaningful response but is empty", "system-field-empty",
     "fill the field in systems/<system>.json (suite: submission.system); a count of 0 must be the "
     "string \"0\""),
    (r"field network_\w+ is missing|field (nic|number_nic|net_software_stack)_\w+ is missing|"
     r"field (number_connections|network_topology) is missing", "system-field-value",
     "is_network is set: leave it out of systems/<system>.json unless this is a network-division "
     "submission (\"false\" counts as set)"),
    (r"field \S+ is missing meaningful value", "measurements-field-missing",
     "fill the field in the measurements json (suite: submission.measurements)"),
    (r"measurements.*field \S+ is missing|_\w+\.json, field \S+ is missing", "measurements-field-missing",
     "add the field to the measurements json"),
    (r"field \S+ is missing", "system-field-missing", "add the field to systems/<system>.json"),
    (r"has invalid status|has invalid system type|incorrect network mode|has submitter|has division",
     "system-field-value", "fix the value in systems/<system>.json"),
    (r"system json file not found", "missing-file", "write systems/<system>.json"),
    (r"measurements json file not found", "missing-file", "write the result's measurements.json"),
    (r"src directory does not exist", "missing-file", "write <division>/<submitter>/src/"),
    (r"is missing code_dir|is missing code dir", "missing-file", "write code/<benchmark>/<implementation>/"),
    (r"is having empty", "empty-file", "write the file's content"),
    (r"does not have all required scenarios", "missing-scenario",
     "run the missing scenarios (or change the system's system_type)"),
    (r"has all unknown scenarios", "unknown-scenario", "remove the scenarios the benchmark does not have"),
    (r"Missing TEST\d+ in compliance dir|no compliance dir for", "compliance-missing",
     "run the compliance items and rebuild the tree"),
    (r"Missing (accuracy|performance|perfomance) file in compliance dir|verify_performance\.txt is missing|"
     r"has no (performance/run_1|accuracy) directory", "compliance-missing",
     "rebuild the compliance directory from the audit run"),
    (r"Compliance test .*check.* failed|TEST06 accuracy check failed|TEST0\d .*check.* failed",
     "compliance-failed",
     "rerun the compliance item; see its verify_*.txt"),
    (r"has file list mismatch", "extra-file", "the directory must hold exactly the files the checker lists"),
    (r"Latency constraint with early stopping not met|Latency constraint not met", "latency-bound",
     "keep the Server target latency within the benchmark's bound"),
    (r"use_token_latencies flag needs to be enabled|Failed extra check for TTFT and TPOT", "invalid-run",
     "LLM runs need token latencies within the limits"),
    (r"Performance log missing|is missing|missing", "missing-file", "write the missing file"),
    (r"^NoResults |Checks failed|^SUMMARY: submission has errors|^Some .* Checks failed", "checker-summary",
     "follows from the errors above"),
)

_LINE_BRACKET = re.compile(r"^\[(?P<time>.+?) (?P<file>\S+):(?P<line>\d+) "
                           r"(?P<level>DEBUG|INFO|WARNING|ERROR|CRITICAL)\] ?(?P<msg>.*)$")
_LINE_PLAIN = re.compile(r"^(?P<level>DEBUG|INFO|WARNING|ERROR|CRITICAL):(?P<logger>[^:\s]*):(?P<msg>.*)$")
#: what a traceback's last line means (measured crashes, facts §3.1)
_CRASHES = (
    (r"TypeError: 'NoneType' object is not iterable",
     "the benchmark is not in the round's required-scenario table for this system_type (the checker crashes "
     "instead of saying so): change system_type or leave the benchmark out"),
    (r"ValueError: invalid literal for int\(\)|could not convert string to float",
     "number_of_nodes / accelerators_per_node must be numbers in systems/<system>.json"),
)


class OfficialResult(NamedTuple):
    """The official checker's exit status, its output, and its lines as findings."""

    returncode: int
    output: str
    findings: list[Finding]


def _message_path(message: str, root: Path | None) -> Path:
    for token in message.split():
        token = token.strip(",;:()'\"")
        if "/" in token:
            path = Path(token)
            return path if path.is_absolute() or root is None else root / path
    return root or Path(".")


def _result_label(path: Path, root: Path | None) -> str:
    parts = path.parts
    if root is not None:
        try:
            parts = path.relative_to(root).parts
        except ValueError:
            pass
    for i, part in enumerate(parts):
        if part in DIVISIONS and len(parts) > i + 1:
            if len(parts) > i + 5 and parts[i + 2] == "results":
                return "/".join((parts[i], parts[i + 1], *parts[i + 3:i + 6]))
            return "/".join(parts[i:i + 2])
    return ""


def classify_official(message: str, level: str = "ERROR") -> tuple[str, str]:
    """(kind, fix hint) of one official checker message."""
    for pattern, kind, hint in OFFICIAL_MESSAGES:
        if re.search(pattern, message):
            return kind, hint
    if level == "WARNING":
        return "official-warning", "see the official checker's output"
    return "official-error", "see the official checker's output around this line"


def parse_official_output(text: str, *, root: Path | None = None) -> list[Finding]:
    """The official checker's WARNING/ERROR lines as findings (``[time file:line LEVEL] msg`` or
    ``LEVEL:logger:msg``), the LoadGen error texts after "contains errors:" folded into that finding,
    and a traceback as ``checker-crashed``."""
    records: list[list[str]] = []  # [level, message]
    for raw in text.splitlines():
        match = _LINE_BRACKET.match(raw) or _LINE_PLAIN.match(raw)
        if match:
            records.append([match.group("level"), match.group("msg").strip()])
        elif records and raw.strip() and not raw.startswith(("Traceback", "  ")):
            records[-1][1] += " " + raw.strip()
    findings: list[Finding] = []
    pending_errors: Finding | None = None
    for level, message in records:
        if level not in ("WARNING", "ERROR", "CRITICAL"):
            continue
        kind, hint = classify_official(message, level)
        if pending_errors is not None:
            if kind == "official-error":  # a LoadGen error text printed after "<path> contains errors:"
                pending_errors = Finding(pending_errors.severity, pending_errors.kind, pending_errors.path,
                                         f"{pending_errors.message} {message}".strip(), pending_errors.fix,
                                         pending_errors.result, "official")
                findings[-1] = pending_errors
                continue
            pending_errors = None
        path = _message_path(message, root)
        finding = Finding(ERROR if level != "WARNING" else WARNING, kind, path, message, hint,
                          _result_label(path, root), "official")
        if message.rstrip().endswith("contains errors:"):
            pending_errors = finding
        findings.append(finding)
    if "Traceback (most recent call last)" in text:
        last = [line for line in text.splitlines() if line.strip()][-1].strip()
        hint = next((h for p, h in _CRASHES if re.search(p, last)),
                    "the checker crashed on the tree: see the traceback; it usually means a value of an "
                    "unexpected type or a benchmark the round's tables lack")
        findings.append(Finding(ERROR, "checker-crashed", root or Path("."), "the official checker "
                                                                             f"crashed: {last}",
                                hint, "", "official"))
    return findings


def official_command(root: Path, checkout: Path, round: str, submitter: str, csv: Path,  # noqa: A002
                     python: str = sys.executable) -> tuple[list[str], Path]:
    """(argv, working directory) of the official checker for ``round`` in an mlcommons/inference checkout."""
    tools = Path(checkout) / "tools" / "submission"
    common = ["--input", str(root), "--version", round, "--submitter", submitter, "--csv", str(csv)]
    if round == "v5.0":
        return [python, str(tools / "submission_checker.py"), *common], tools
    return [python, "-m", "submission_checker.main", *common], tools


def run_official_checker(root: Path, checkout: Path, round: str,  # noqa: A002 - the checker's word
                         submitter: str | None = None, *, timeout: float = 1800,
                         extra_args: Iterable[str] = (), python: str = sys.executable) -> OfficialResult:
    """Run MLCommons' checker on ``root`` from a checkout of mlcommons/inference (a subprocess).

    ``root`` may be the directory holding ``closed/`` or a ``<division>/<submitter>`` directory (then
    ``submitter`` defaults to its name). v6.x: ``python -m submission_checker.main`` in
    ``tools/submission``; v5.0: ``tools/submission/submission_checker.py`` (the v5.0 checkout's).
    """
    root = Path(root).resolve()
    if root.parent.name in DIVISIONS:
        submitter = submitter or root.name
        root = root.parent.parent
    if not submitter:
        raise ValueError("submitter is required when root holds the division directories")
    tools = Path(checkout) / "tools" / "submission"
    needed = tools / ("submission_checker.py" if round == "v5.0" else "submission_checker")
    if not needed.exists():
        raise FileNotFoundError(f"{needed} is missing: {checkout} is not a checkout of mlcommons/inference "
                                f"with the {round} checker")
    with tempfile.TemporaryDirectory(prefix="mlperf-check-") as tmp:
        csv = Path(tmp) / "summary.csv"
        argv, cwd = official_command(root, Path(checkout), round, submitter, csv, python)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(tools),
                                                                         os.environ.get("PYTHONPATH", "")]))}
        try:
            proc = subprocess.run([*argv, *extra_args], cwd=cwd, env=env, capture_output=True, text=True,
                                  timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            out = exc.stdout or ""
            out = out.decode(errors="replace") if isinstance(out, bytes) else out
            finding = Finding(ERROR, "checker-crashed", root, f"the official checker ran over {timeout:g} s",
                              "run it by hand to see where it hangs", "", "official")
            return OfficialResult(-1, out, [finding])
    output = proc.stdout + proc.stderr
    findings = parse_official_output(output, root=root)
    if proc.returncode and not findings:
        findings.append(_unparsed_failure(output, proc.returncode, round, root))
    return OfficialResult(proc.returncode, output, findings)


_USAGE_ROUND = re.compile(r"argument --version: invalid choice: '([^']+)'")


def _unparsed_failure(output: str, returncode: int, round: str, root: Path) -> Finding:  # noqa: A002
    """A failing official run whose output has no checker lines: usually its command line was refused."""
    match = _USAGE_ROUND.search(output)
    if match:
        return Finding(ERROR, "checker-crashed", root,
                       f"this checkout's checker does not know round {match.group(1)}",
                       "update the checkout of mlcommons/inference, or check with --round of a round it "
                       "knows (the seeds of another round then show as wrong-seeds)", "", "official")
    last = next((line.strip() for line in reversed(output.splitlines()) if line.strip()), "no output")
    return Finding(ERROR, "checker-crashed", root,
                   f"the official checker failed (exit status {returncode}) without a finding: {last}",
                   "run it by hand from <checkout>/tools/submission to see why", "", "official")


__all__ = ["OFFICIAL_MESSAGES", "OfficialResult", "classify_official", "official_command",
           "parse_official_output", "run_official_checker"]
