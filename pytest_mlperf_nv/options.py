"""Every plugin setting, its flag, ini key, environment variable and suite key.

One precedence for all: command line > environment > suite > ini file > default. Global
settings resolve once at configure time; per-suite ones (profile, timeout) resolve once per
suite with the same function. A bad value is a pytest.UsageError naming where it came from.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from .errors import SettingsError
from .suite.knobs import PROFILES, TIMEOUT_MAX_S
from .suite.model import Sourced


def path_value(value: str) -> Path:
    if not value.strip():
        raise ValueError("expected a directory path, got an empty string")
    return Path(os.path.expanduser(value))


def _profile(value: str) -> str:
    if value not in PROFILES:
        raise ValueError(f"expected one of {', '.join(PROFILES)}")
    return value


def _timeout(value: str) -> float | None:
    if str(value).strip().lower() == "auto":
        return None
    try:
        seconds = float(value)
    except ValueError:
        raise ValueError("expected a number of seconds or 'auto'") from None
    if not seconds > 0:  # also NaN
        raise ValueError("expected a number of seconds greater than 0, or 'auto'")
    if seconds > TIMEOUT_MAX_S:  # also infinity: a timeout that never ends is no timeout
        raise ValueError(f"expected at most {TIMEOUT_MAX_S:.0f} seconds (a year), or 'auto'")
    return seconds


def _bool(value: str) -> bool:
    lowered = str(value).strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise ValueError("expected true or false (1/0, yes/no)")


def _file(value: str) -> Path:
    if not value.strip():
        raise ValueError("expected a file path, got an empty string")
    return Path(os.path.expanduser(value))


def _url(value: str) -> str:
    if not value.startswith(("http://", "https://", "file://")):
        raise ValueError("expected an http://, https:// or file:// URL")
    return value.rstrip("/")


def _harness(value: str) -> str:
    # Which harnesses exist is known once plugins have registered them: collection checks the name.
    if not re.match(r"^[A-Za-z][A-Za-z0-9_-]*$", value):
        raise ValueError("expected the name of a harness, e.g. loadgen or nvidia")
    return value


def plain_value(value: str) -> str:
    if not value.strip():
        raise ValueError("expected a value, got an empty string")
    return value


def _globs(value: str) -> tuple[str, ...]:
    return tuple(value.split())


def _shard(value: str) -> tuple[int, int]:
    from .report.shard import parse_shard

    return parse_shard(value)


def _baseline_name(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("expected a baseline name (or a baseline .json file to compare with)")
    return value


def _thresholds(value: str) -> tuple:
    from .report.baseline import BaselineError, parse_threshold

    try:
        return tuple(parse_threshold(t) for t in value.split(",") if t.strip())
    except BaselineError as exc:
        raise ValueError(str(exc)) from None


def _junit_properties(value: str) -> str:
    if value not in ("all", "suite", "none"):
        raise ValueError("expected all (test case and suite properties), suite (suite properties only, for "
                         "consumers that check JUnit's schema) or none")
    return value


def _progress(value: str) -> float | None:
    """auto -> 30 s between plain lines; off -> None; a number of seconds."""
    lowered = str(value).strip().lower()
    if lowered == "auto":
        return 30.0
    if lowered == "off":
        return None
    try:
        seconds = float(lowered)
    except ValueError:
        raise ValueError("expected auto, off, or the seconds between progress lines when the output is not "
                         "a terminal") from None
    if not seconds > 0:
        raise ValueError("expected a number of seconds greater than 0 (or off)")
    return seconds


def _interval(value: str) -> float | None:
    try:
        seconds = float(value)
    except ValueError:
        raise ValueError("expected a number of seconds (0 turns GPU telemetry off)") from None
    if seconds < 0:
        raise ValueError("expected a number of seconds, 0 or more (0 turns GPU telemetry off)")
    return seconds or None


def _wait(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise ValueError("expected a number of seconds (0: do not wait)") from None
    if not 0 <= seconds <= TIMEOUT_MAX_S:  # also NaN and infinity
        raise ValueError(f"expected a number of seconds from 0 to {TIMEOUT_MAX_S:.0f}")
    return seconds


def _default_cache() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "pytest-mlperf-nv")


@dataclass(frozen=True)
class Setting:
    name: str
    flag: str | None
    ini: str
    env: str | None
    suite_key: str | None
    default: Callable[[], str | None]
    parse: Callable[[str], Any]
    metavar: str
    help: str
    #: values from the command line and environment are relative to the invocation directory;
    #: ini values to the ini file's directory
    is_path: bool = False
    #: the flag takes no value (on when given)
    flag_is_switch: bool = False
    #: the flag may be given several times; the values are joined with "," (as the environment and
    #: ini values are written)
    flag_is_list: bool = False


SETTINGS: tuple[Setting, ...] = (
    Setting("out", "--mlperf-out", "mlperf_out", "MLPERF_NV_OUT", None, lambda: "mlperf-results",
            path_value, "DIR", "where run directories and reports go (default: mlperf-results/)",
            is_path=True),
    Setting("cache_dir", "--mlperf-cache-dir", "mlperf_cache_dir", "MLPERF_NV_CACHE_DIR", None,
            _default_cache, path_value, "DIR",
            "cache of provisioned models, datasets and engines (default: ~/.cache/pytest-mlperf-nv)",
            is_path=True),
    Setting("data_dir", "--mlperf-data-dir", "mlperf_data_dir", "MLPERF_NV_DATA_DIR", None,
            lambda: None, path_value, "DIR", "where datasets and models you provide live (default: none)",
            is_path=True),
    Setting("profile", "--mlperf-profile", "mlperf_profile", "MLPERF_NV_PROFILE", "profile",
            lambda: "quick", _profile, "NAME",
            "run profile: quick (short, not submittable) or official (LoadGen's mlperf.conf) "
            "(default: quick)"),
    Setting("timeout", "--mlperf-timeout", "mlperf_timeout", "MLPERF_NV_TIMEOUT", "timeout",
            lambda: "auto", _timeout, "SECONDS",
            "kill a LoadGen run after this many seconds (default: auto, from the run's expected "
            "length plus a margin)"),
    Setting("share_device", "--mlperf-share-device", "mlperf_share_device", "MLPERF_NV_SHARE_DEVICE", None,
            lambda: "false", _bool, "",
            "let performance and compliance runs share a device under xdist (default: they take turns "
            "per device; accuracy runs never wait)", flag_is_switch=True),
    Setting("out_wait", "--mlperf-out-wait", "mlperf_out_wait", "MLPERF_NV_OUT_WAIT", None, lambda: "0",
            _wait, "SECONDS",
            "when another session holds the output dir, wait up to SECONDS for it to end (default: 0, "
            "a usage error at once)"),
    Setting("cache_verify", "--mlperf-cache-verify", "mlperf_cache_verify", "MLPERF_NV_CACHE_VERIFY", None,
            lambda: "false", _bool, "", "check every cached file's sha256, not just size and time stamp",
            flag_is_switch=True),
    Setting("cache_clear", "--mlperf-cache-clear", "mlperf_cache_clear", None, None,
            lambda: "false", _bool, "", "empty the cache before the session", flag_is_switch=True),
    Setting("prefetch_only", "--mlperf-prefetch-only", "mlperf_prefetch_only", "MLPERF_NV_PREFETCH_ONLY",
            None, lambda: "false", _bool, "",
            "provision (download, preprocess, build) what the selected items need; run no benchmark",
            flag_is_switch=True),
    Setting("strict", "--mlperf-strict", "mlperf_strict", "MLPERF_NV_STRICT", None, lambda: "false",
            _bool, "", "fail, instead of skip, items whose data, model, code, driver or GPU is missing",
            flag_is_switch=True),
    Setting("system_snapshot", "--mlperf-system-snapshot", "mlperf_system_snapshot",
            "MLPERF_NV_SYSTEM_SNAPSHOT", None, lambda: None, _file, "FILE",
            "read the system's GPU/CPU facts from this JSON snapshot (mlperf-nv snapshot) instead of NVML",
            is_path=True),
    Setting("mirror", "--mlperf-mirror", "mlperf_mirror", "MLPERF_NV_MIRROR", None, lambda: None, _url,
            "URL", "download models and data from this mirror (same file names) instead of the "
            "official URLs"),
    Setting("harness", "--mlperf-harness", "mlperf_harness", "MLPERF_NV_HARNESS", "harness", lambda: None,
            _harness, "NAME", "run suites on this harness instead of the one they name (loadgen | nvidia)"),
    Setting("baseline_dir", "--mlperf-baseline-dir", "mlperf_baseline_dir", "MLPERF_NV_BASELINE_DIR", None,
            lambda: None, path_value, "DIR", "where baselines are kept, one directory per machine (default: "
            "<out>/baselines)", is_path=True),
    Setting("save_baseline", "--mlperf-save-baseline", "mlperf_save_baseline", "MLPERF_NV_SAVE_BASELINE",
            None, lambda: None, _baseline_name, "NAME",
            "save this session's results as baseline NAME for this machine (updating its items)"),
    Setting("compare", "--mlperf-compare", "mlperf_compare", "MLPERF_NV_COMPARE", None, lambda: None,
            _baseline_name, "NAME",
            "compare results with baseline NAME of this machine (or a baseline .json file); deltas in "
            "the reports"),
    Setting("compare_fail", "--mlperf-compare-fail", "mlperf_compare_fail", "MLPERF_NV_COMPARE_FAIL", None,
            lambda: "", _thresholds, "FIGURE:AMOUNT",
            "with --mlperf-compare: fail items whose FIGURE regressed by more than AMOUNT, e.g. "
            "metric:5%% or accuracy:0.1 (repeatable; figures: metric, accuracy, p50, p90, p99, p99.9, mean, "
            "samples_per_joule, power)", flag_is_list=True),
    Setting("shard", "--mlperf-shard", "mlperf_shard", "MLPERF_NV_SHARD", None, lambda: None, _shard, "I/N",
            "run the I-th of N shards of the selection (items sharing an engine stay together); writes "
            "<out>/shard-manifest.json for mlperf-nv merge"),
    Setting("junit_properties", "--mlperf-junit-properties", "mlperf_junit_properties",
            "MLPERF_NV_JUNIT_PROPERTIES", None, lambda: "all", _junit_properties, "WHICH",
            "JUnit properties to write: all, suite (only suite-level ones: strict JUnit schema consumers) or "
            "none (default: all)"),
    Setting("progress", "--mlperf-progress", "mlperf_progress", "MLPERF_NV_PROGRESS", None, lambda: "auto",
            _progress, "auto|off|SECONDS",
            "live progress of a running item: a redrawn line on a terminal, else a line every SECONDS "
            "(auto: 30); off: none. -q turns it off too"),
    Setting("telemetry_interval", "--mlperf-telemetry-interval", "mlperf_telemetry_interval",
            "MLPERF_NV_TELEMETRY_INTERVAL", None, lambda: "1", _interval, "SECONDS",
            "seconds between GPU telemetry samples (NVML) during a run; 0: none (default: 1)"),
    Setting("doctor", "--mlperf-doctor", "mlperf_doctor", "MLPERF_NV_DOCTOR", None, lambda: "false", _bool,
            "", "check NVIDIA's code, this machine and the named suites at session start (mlperf-nv doctor); "
            "stop on a problem", flag_is_switch=True),
    Setting("suite_glob", None, "mlperf_suite_glob", None, None, lambda: "suites/*.yaml", _globs,
            "GLOB", "YAML files that are suites, relative to the rootdir (default: suites/*.yaml)"),
)
BY_NAME = {s.name: s for s in SETTINGS}


def add_options(parser: pytest.Parser, extra: Iterable[Setting] = ()) -> None:
    """The ``--mlperf-*`` flags and ``mlperf_*`` ini keys; ``extra``: settings of built-in harnesses."""
    group = parser.getgroup("mlperf", "MLPerf Inference benchmarks (pytest-mlperf-nv)")
    for setting in (*SETTINGS, *extra):
        if setting.flag and setting.flag_is_switch:
            group.addoption(setting.flag, dest=f"mlperf_{setting.name}", default=None,
                            action="store_const", const="true", help=setting.help)
        elif setting.flag and setting.flag_is_list:
            group.addoption(setting.flag, dest=f"mlperf_{setting.name}", default=None, action="append",
                            metavar=setting.metavar, help=setting.help)
        elif setting.flag:
            group.addoption(setting.flag, dest=f"mlperf_{setting.name}", default=None,
                            metavar=setting.metavar, help=setting.help)
        parser.addini(setting.ini, help=setting.help.replace("%%", "%"), default=None)  # no %-format here
    group.addoption("--mlperf-set", dest="mlperf_set", action="append", default=[],
                    metavar="ID[.Scenario].knob=VALUE",
                    help="override a suite knob for this session (repeatable), e.g. "
                         "resnet50.Server.server_target_qps=12500; ID may be '*'")
    group.addoption("--mlperf-explain", dest="mlperf_explain", action="store_true",
                    help="print every selected item's resolved settings with their sources and the "
                         "user.conf it would use; run nothing")


def _raw(config: pytest.Config, setting: Setting) -> tuple[str, str, Path] | None:
    """The winning raw value, without the suite: (value, source, base dir for relative paths)."""
    invocation = config.invocation_params.dir
    if setting.flag:
        value = config.getoption(f"mlperf_{setting.name}")
        if isinstance(value, list):
            value = ",".join(value)
        if value is not None:
            return value, f"command-line option {setting.flag}={value!r}", invocation
    if setting.env and setting.env in os.environ:
        value = os.environ[setting.env]
        return value, f"environment variable {setting.env}={value!r}", invocation
    return None


def _ini(config: pytest.Config, setting: Setting) -> tuple[str, str, Path] | None:
    value = config.getini(setting.ini)
    if value not in (None, "", []):
        inipath = config.inipath
        where = f"ini key {setting.ini}={value!r}" + (f" in {inipath}" if inipath else "")
        return str(value), where, inipath.parent if inipath else config.rootpath
    return None


def _parse(setting: Setting, raw: tuple[str, str, Path]) -> Sourced:
    value, source, base = raw
    try:
        parsed = setting.parse(value)
    except ValueError as exc:
        raise SettingsError(f"{source}: {exc}") from None
    if setting.is_path and isinstance(parsed, Path) and not parsed.is_absolute():
        parsed = base / parsed
    return Sourced(parsed, source)


class Settings:
    """Resolved settings of one session."""

    def __init__(self, config: pytest.Config, extra: Iterable[Setting] = ()):
        self._config = config
        self._settings = (*SETTINGS, *extra)
        self._global: dict[str, Sourced] = {}
        self._fallback: dict[str, Sourced] = {}
        for setting in self._settings:
            raw = _raw(config, setting)
            ini = _ini(config, setting)
            default = setting.default()
            # Parse every given value now, so a bad flag fails before any collection.
            above = _parse(setting, raw) if raw else None
            below = _parse(setting, ini) if ini else None
            if below is None and default is not None:
                below = _parse(setting, (default, "default", config.rootpath))
            if below is None:
                below = Sourced(None, "default")
            self._global[setting.name] = above if above is not None else below
            if setting.suite_key:
                self._fallback[setting.name] = below
                if above is not None:
                    self._fallback[setting.name + "!"] = above

    def get(self, name: str) -> Any:
        return self._global[name].value

    def sourced(self, name: str, suite_value: Sourced | None = None) -> Sourced:
        """A setting for one suite: CLI/environment beat the suite, the suite beats ini/default."""
        if name + "!" in self._fallback:
            return self._fallback[name + "!"]
        if suite_value is not None:
            return suite_value
        return self._fallback.get(name, self._global[name])

    def table(self) -> list[tuple[str, Sourced]]:
        return [(s.name, self._global[s.name]) for s in self._settings]
