"""Settings: one precedence (CLI > environment > suite > ini > default), errors naming the source."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_mlperf_nv.session import SESSION_KEY
from pytest_mlperf_nv.suite.model import Sourced


@pytest.mark.parametrize(("args", "env", "ini", "expected"), [
    (["--mlperf-timeout=abc"], {}, "",
     "command-line option --mlperf-timeout='abc': expected a number of seconds or 'auto'"),
    (["--mlperf-timeout=-3"], {}, "", "--mlperf-timeout='-3': expected a number of seconds greater than 0"),
    ([], {"MLPERF_NV_PROFILE": "fast"}, "",
     "environment variable MLPERF_NV_PROFILE='fast': expected one of quick, official"),
    ([], {}, "mlperf_profile = fast", "ini key mlperf_profile='fast' in *tox.ini: expected one of quick"),
    (["--mlperf-out="], {}, "", "--mlperf-out='': expected a directory path, got an empty string"),
])
def test_bad_values_are_usage_errors_naming_their_source(
        mlperf_env: Path, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch,
        args: list[str], env: dict[str, str], ini: str, expected: str) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    pytester.makeini(f"[pytest]\n{ini}\n")
    result = pytester.runpytest("-p", "no:cacheprovider", *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*ERROR: *{expected}*"])
    assert "Traceback" not in result.stderr.str() + result.stdout.str()


def _resolved(pytester: pytest.Pytester, name: str, suite: Sourced | None, *args: str) -> Sourced:
    config = pytester.parseconfigure(*args)
    try:
        return config.stash[SESSION_KEY].settings.sourced(name, suite)
    finally:
        config._ensure_unconfigure()


SUITE = Sourced("official", "suite suites/x.yaml:3:10")


def test_precedence_cli_env_suite_ini_default(mlperf_env: Path, pytester: pytest.Pytester,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    assert _resolved(pytester, "profile", None) == Sourced("quick", "default")
    pytester.makeini("[pytest]\nmlperf_profile = official\n")
    ini = _resolved(pytester, "profile", None)
    assert ini.value == "official" and ini.source.startswith("ini key mlperf_profile")
    assert _resolved(pytester, "profile", Sourced("quick", "suite")) == Sourced("quick", "suite")
    monkeypatch.setenv("MLPERF_NV_PROFILE", "quick")
    env = _resolved(pytester, "profile", SUITE)
    assert env.value == "quick" and env.source.startswith("environment variable MLPERF_NV_PROFILE")
    cli = _resolved(pytester, "profile", SUITE, "--mlperf-profile=official")
    assert cli.value == "official" and cli.source.startswith("command-line option --mlperf-profile")


def test_paths_resolve_against_their_source(mlperf_env: Path, pytester: pytest.Pytester,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    pytester.makeini("[pytest]\nmlperf_out = results-from-ini\n")
    assert _resolved(pytester, "out", None).value == mlperf_env / "results-from-ini"
    out = _resolved(pytester, "out", None, "--mlperf-out=cli-out").value
    assert out == Path.cwd() / "cli-out"
    monkeypatch.setenv("MLPERF_NV_CACHE_DIR", "/abs/cache")
    assert _resolved(pytester, "cache_dir", None).value == Path("/abs/cache")


def test_timeout_from_suite_and_cli(mlperf_env: Path, pytester: pytest.Pytester) -> None:
    suite_timeout = Sourced(30.0, "suite")
    assert _resolved(pytester, "timeout", suite_timeout) == suite_timeout
    assert _resolved(pytester, "timeout", None).value is None  # auto
    assert _resolved(pytester, "timeout", suite_timeout, "--mlperf-timeout=7").value == 7.0


def test_help_lists_every_option(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--help")
    result.stdout.fnmatch_lines([
        "MLPerf Inference benchmarks (pytest-mlperf-nv):",
        "  --mlperf-out=DIR*where run directories and reports go*",
        "  --mlperf-cache-dir=DIR*",
        "  --mlperf-data-dir=DIR*",
        "  --mlperf-profile=NAME*",
        "  --mlperf-timeout=SECONDS*",
    ])
    result.stdout.fnmatch_lines(["*mlperf_out (string):*", "*mlperf_suite_glob (string):*"])
