"""State of one pytest session: settings, registry, cache, session id, collected results."""

from __future__ import annotations

import datetime as _dt
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from .errors import SettingsError
from .options import Settings
from .provision.cache import Cache
from .registry import Registry
from .suite.overrides import Override, parse_override

SESSION_KEY = pytest.StashKey["MlperfSession"]()


@dataclass
class MlperfSession:
    config: pytest.Config
    settings: Settings
    session_id: str
    started: str
    registry: Registry | None = None
    suite_args: set[Path] = field(default_factory=set)
    #: one row per finished mlperf item (controller side), for the terminal summary
    rows: list[dict[str, Any]] = field(default_factory=list)
    overrides: list[Override] = field(default_factory=list)
    used_overrides: set[Override] = field(default_factory=set)
    #: node ids of the mlperf items selected in this session (after -k/-m deselection)
    selected: set[str] = field(default_factory=set)
    #: compliance items are selected: items record when they end (compliance items wait on that)
    has_compliance: bool = False
    #: what the session wrote into the submission tree (controller)
    tree_reports: list[Any] = field(default_factory=list)
    tree_error: str | None = None
    _cache: Cache | None = None
    _system: Any = None

    @classmethod
    def create(cls, config: pytest.Config) -> MlperfSession:
        workerinput = getattr(config, "workerinput", None)
        session_id = (workerinput or {}).get("mlperf_session_id") or uuid.uuid4().hex[:12]
        started = (workerinput or {}).get("mlperf_started") or _now()
        session = cls(config=config, settings=Settings(config), session_id=session_id, started=started)
        session.overrides = [parse_override(text) for text in config.getoption("mlperf_set") or []]
        for arg in config.invocation_params.args:
            arg = str(arg)
            if arg.startswith("-"):
                continue
            path = Path(arg.split("::", 1)[0])
            if path.suffix in (".yaml", ".yml"):
                session.suite_args.add((config.invocation_params.dir / path).resolve())
        return session

    def marker_dir(self) -> Path:
        """Where items of this session record that they ended (compliance items wait on them)."""
        out: Path = self.settings.get("out")
        return out / ".sessions" / self.session_id

    def get_registry(self) -> Registry:
        if self.registry is None:
            registry = Registry()
            self.config.hook.pytest_mlperf_register(registry=registry)
            self.registry = registry
        return self.registry

    @property
    def cache(self) -> Cache:
        if self._cache is None:
            self._cache = Cache(self.settings.get("cache_dir"))
        return self._cache

    def system(self) -> Any:
        """The machine's facts, read once: the snapshot file if one is set, else NVML."""
        if self._system is None:
            from .systems.detect import detect_system
            from .systems.snapshot import SnapshotError, read_snapshot

            snapshot = self.settings.get("system_snapshot")
            if snapshot is not None:
                try:
                    self._system = read_snapshot(snapshot)
                except SnapshotError as exc:
                    raise SettingsError(f"--mlperf-system-snapshot: {exc}") from None
            else:
                self._system = detect_system()
        return self._system

    @property
    def worker(self) -> str:
        """The xdist worker id of this process's session ("main" without xdist). From the session's
        own config, not the environment: an in-process session started by a worker is not one."""
        workerinput = getattr(self.config, "workerinput", None)
        return str(workerinput.get("workerid", "main")) if workerinput else "main"


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
