"""Fixtures every mlperf item uses; any of them can be overridden in a conftest.py.

Provisioning follows one pattern: a session-scoped provisioner (``mlperf_models``) makes or
finds each artifact once, memoized by its cache key, and a function-scoped fixture
(``mlperf_model``) hands the item the artifact for its own case.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from .collect import CASE_KEY
from .errors import ProvisionError
from .provision.cache import CacheError
from .session import SESSION_KEY, MlperfSession
from .suite.model import Case

MODEL_NAME_FILE = "model_name.txt"


@dataclass(frozen=True)
class ProvisionedModel:
    """A model file ready for a backend, and how it was obtained."""

    path: Path
    key: str
    cache_hit: bool
    build_seconds: float | None
    #: "data dir" (a file the user provided), "built" or "cache"
    source: str = "built"


class ModelProvisioner:
    """Builds or finds each benchmark's model once per session (and once across sessions)."""

    def __init__(self, session: MlperfSession):
        self.session = session
        self._memo: dict[str, ProvisionedModel] = {}

    def __call__(self, case: Case) -> ProvisionedModel:
        definition = case.definition
        if definition is None:
            pytest.skip(case.skip_reason or f"{case.benchmark} has no model for this harness")
        data_dir = self.session.settings.get("data_dir")
        if definition.find_model is not None:
            found = definition.find_model(data_dir)
            if found is not None:
                return ProvisionedModel(found, f"file:{found}", True, None, "data dir")
        build = definition.build_model
        synthetic = definition.is_synthetic(case.dataset or definition.dataset)
        if build is None or (definition.random_model and not synthetic):
            where = f"in {data_dir}" if data_dir else "(no data dir is set)"
            pytest.skip(f"{case.benchmark} needs {definition.model_hint or 'a model file'} {where}; "
                        "set --mlperf-data-dir, MLPERF_NV_DATA_DIR or the ini key mlperf_data_dir")
        parts = {"benchmark": definition.name, **definition.model_key(),
                 "build_function": f"{build.__module__}.{build.__qualname__}"}
        memo_key = repr(sorted(parts.items()))
        if memo_key in self._memo:
            found = self._memo[memo_key]
            return ProvisionedModel(found.path, found.key, True, None, "cache")

        def build_into(staging: Path) -> None:
            # The builder names its file; keep the name with the entry.
            (staging / MODEL_NAME_FILE).write_text(build(staging))

        try:
            # A corrupt entry is rebuilt with a CacheWarning, which pytest reports.
            entry = self.session.cache.get_or_build("model", parts, build_into)
        except CacheError as exc:
            raise ProvisionError(f"model for {case.benchmark}: {exc}") from None
        model_file = entry.path / (entry.path / MODEL_NAME_FILE).read_text().strip()
        model = ProvisionedModel(model_file, entry.key, entry.hit, entry.build_seconds,
                                 "cache" if entry.hit else "built")
        self._memo[memo_key] = model
        return model


@pytest.fixture(scope="session")
def mlperf_session(request: pytest.FixtureRequest) -> MlperfSession:
    """The plugin's state for this session: settings, registry, cache."""
    return request.config.stash[SESSION_KEY]


@pytest.fixture(scope="session")
def mlperf_models(mlperf_session: MlperfSession) -> ModelProvisioner:
    """Session-scoped model provisioner: ``mlperf_models(case) -> ProvisionedModel``."""
    return ModelProvisioner(mlperf_session)


@pytest.fixture
def mlperf_case(request: pytest.FixtureRequest) -> Case:
    """The case (benchmark, scenario, mode, knobs) of the running item."""
    return request.node.stash[CASE_KEY]


@pytest.fixture
def mlperf_model(mlperf_models: ModelProvisioner, mlperf_case: Case) -> ProvisionedModel:
    """The model this item's benchmark runs, built or taken from the cache."""
    return mlperf_models(mlperf_case)


def mlperf_test(mlperf_case: Case, mlperf_model: ProvisionedModel, mlperf_session: MlperfSession,
                request: pytest.FixtureRequest) -> None:
    """The body of every mlperf item: run the case, then assert its verdict."""
    from .execute import run_case

    outcome = run_case(mlperf_session, mlperf_case, mlperf_model)
    if outcome.skipped:
        pytest.skip(outcome.message)
    request.node.user_properties.extend(outcome.properties)
    if not outcome.passed:
        pytest.fail(outcome.message, pytrace=False)
