"""``mlperf-nv from-cm``: turn a command line of the original CM/MLC automation into a suite.

Understood forms (the CM script "reproduce-mlperf-inference-nvidia" / "app-mlperf-inference-nvidia",
and the "run-mlperf,inference" / "generate-run-cmds" front end that calls it)::

    cm run script --tags=reproduce,mlperf,inference,nvidia,harness,_l4,_resnet50,_server --scenario=Server
    cmr "reproduce mlperf inference nvidia harness _run_harness _l4 _resnet50 _offline"
    cmr "generate-run-cmds inference _find-performance _all-scenarios" --model=resnet50 ...
    mlcr run-mlperf,inference,_find-performance,_full,_r5.0-dev --model=resnet50 --implementation=nvidia
    mlc run script --tags=... / cm docker script ... / cmx run script ...

Every variation (``_x``) and flag (``--x``) is either mapped to the suite, ignored because it only
steers CM itself (``--quiet``, ``--results_dir``...; listed in the output's header), or reported:
``from_cm`` raises ``CmTranslationError`` listing every item it cannot map, not just the first.
The suite names what the command stated; per-GPU defaults come from the GPU profile at run time.

The command is read by :mod:`.cm_parse`, mapped with the tables of :mod:`.cm_vocabulary` by
:mod:`.cm_translate`, and written as YAML by :mod:`.cm_render`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .cm_parse import CmTranslationError
from .cm_render import render
from .cm_translate import translate


def from_cm(command: str | list[str]) -> str:
    """Suite YAML text for one CM/MLC command line (a string, or its words already split).

    Raises CmTranslationError listing every variation and flag that cannot be translated.
    """
    return render(translate(command))


def cm_main(argv: list[str] | None = None) -> int:
    """``mlperf-nv from-cm "<command>" [-o suite.yaml]``. Returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="mlperf-nv from-cm",
        description="Translate a command line of the CM/MLC MLPerf automation (NVIDIA implementation) "
                    "into a pytest-mlperf-nv suite.")
    parser.add_argument("command", nargs="+",
                        help="the CM command, quoted as one argument (or its words after '--')")
    parser.add_argument("-o", "--output", help="write the suite to this file instead of stdout")
    args = parser.parse_args(argv)
    command: str | list[str] = args.command[0] if len(args.command) == 1 else args.command
    try:
        text = from_cm(command)
    except CmTranslationError as exc:
        print(f"mlperf-nv from-cm: {exc}", file=sys.stderr)
        return 2
    if args.output:
        Path(args.output).write_text(text)
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


__all__ = ["CmTranslationError", "cm_main", "from_cm"]
