"""Fixtures every mlperf item uses; any of them can be overridden in a conftest.py.

Provisioning follows one pattern: a session-scoped provisioner (``mlperf_models``,
``mlperf_datasets``, ``mlperf_engines``) makes or finds each artifact once, memoized by its
cache key, and a function-scoped fixture (``mlperf_model``, ``mlperf_dataset``,
``mlperf_engine``) hands the item the artifact for its own case.
"""

from __future__ import annotations

from typing import Any

import pytest

from .collect import CASE_KEY
from .provision.provisioners import (
    DatasetProvisioner,
    EngineProvisioner,
    ModelProvisioner,
    Provisioned,
    missing,
)
from .session import SESSION_KEY, MlperfSession
from .suite.model import Case


@pytest.fixture(scope="session")
def mlperf_session(request: pytest.FixtureRequest) -> MlperfSession:
    """The plugin's state for this session: settings, registry, cache."""
    return request.config.stash[SESSION_KEY]


@pytest.fixture(scope="session")
def mlperf_system(mlperf_session: MlperfSession) -> Any:
    """The machine's GPU/CPU facts: from --mlperf-system-snapshot, or detected through NVML."""
    return mlperf_session.system()


@pytest.fixture(scope="session")
def mlperf_models(mlperf_session: MlperfSession) -> ModelProvisioner:
    """Session-scoped model provisioner: ``mlperf_models(case) -> Provisioned``."""
    return ModelProvisioner(mlperf_session)


@pytest.fixture(scope="session")
def mlperf_datasets(mlperf_session: MlperfSession) -> DatasetProvisioner:
    """Session-scoped dataset provisioner: ``mlperf_datasets(case) -> Provisioned``."""
    return DatasetProvisioner(mlperf_session)


@pytest.fixture(scope="session")
def mlperf_engines(mlperf_session: MlperfSession) -> EngineProvisioner:
    """Session-scoped engine provisioner: ``mlperf_engines(case, model) -> Provisioned``."""
    return EngineProvisioner(mlperf_session)


@pytest.fixture
def mlperf_case(request: pytest.FixtureRequest) -> Case:
    """The case (benchmark, scenario, mode, knobs) of the running item."""
    return request.node.stash[CASE_KEY]


@pytest.fixture
def mlperf_system_check(mlperf_case: Case, mlperf_system: Any, mlperf_session: MlperfSession) -> None:
    """Skip (or fail under --mlperf-strict) an item whose suite needs GPUs the machine lacks."""
    gpu = str(mlperf_case.suite.system.get("gpu", "none"))
    if gpu == "none":
        return
    needed = int(mlperf_case.suite.system.get("count", 1))
    where = "this machine (NVML)" if mlperf_system.source == "nvml" else mlperf_system.source
    if not mlperf_system.has_gpus:
        missing(mlperf_session, f"suite {mlperf_case.suite.path.name} needs an NVIDIA GPU (system.gpu: "
                f"{gpu}) but {where} has none: {mlperf_system.gpu_error or 'no GPU found'}")
    if mlperf_system.gpu_count < needed:
        missing(mlperf_session, f"suite {mlperf_case.suite.path.name} needs {needed} GPUs (system.count) "
                f"but {where} has {mlperf_system.gpu_count}")


@pytest.fixture
def mlperf_model(mlperf_models: ModelProvisioner, mlperf_case: Case) -> Provisioned:
    """The model this item's benchmark runs, found in the data dir, or built or taken from the cache."""
    return mlperf_models(mlperf_case)


@pytest.fixture
def mlperf_dataset(mlperf_datasets: DatasetProvisioner, mlperf_case: Case) -> Provisioned:
    """The item's dataset, located and preprocessed into the cache."""
    return mlperf_datasets(mlperf_case)


@pytest.fixture
def mlperf_engine(mlperf_engines: EngineProvisioner, mlperf_case: Case, mlperf_model: Provisioned
                  ) -> Provisioned:
    """The backend's compiled model for this item, where the backend has one."""
    return mlperf_engines(mlperf_case, mlperf_model)


def provisioning_properties(artifacts: list[Provisioned]) -> list[tuple[str, Any]]:
    props: list[tuple[str, Any]] = []
    for artifact in artifacts:
        if artifact.cache_hit is not None:
            props.append((f"mlperf_{artifact.kind}_cache", "hit" if artifact.cache_hit else "miss"))
        if artifact.build_seconds is not None:
            props.append((f"mlperf_{artifact.kind}_build_s", round(artifact.build_seconds, 3)))
    props.append(("mlperf_provision_s", round(sum(a.seconds for a in artifacts), 3)))
    return props


def mlperf_test(mlperf_case: Case, mlperf_system_check: None, mlperf_dataset: Provisioned,
                mlperf_model: Provisioned, mlperf_engine: Provisioned, mlperf_session: MlperfSession,
                request: pytest.FixtureRequest) -> None:
    """The body of every mlperf item: run the case, then assert its verdict.

    Fixtures provision in the order of the arguments: the GPU check and the data (cheap to
    find missing) come before the model (which may be a long download).
    """
    from .execute import run_case

    artifacts = [mlperf_model, mlperf_dataset, mlperf_engine]
    artifacts += [i for a in artifacts for i in a.inputs]
    request.node.user_properties.extend(provisioning_properties(artifacts))
    if mlperf_session.settings.get("prefetch_only"):
        paths = ", ".join(f"{a.kind} {a.path}" for a in artifacts if a.path is not None)
        request.node.user_properties.append(("mlperf_provisioned", paths))
        pytest.skip(f"prefetch only: provisioned {paths or 'nothing (all in memory)'}")
    outcome = run_case(mlperf_session, mlperf_case, mlperf_model, mlperf_dataset, mlperf_engine,
                       nodeid=request.node.nodeid)
    if outcome.skipped:
        missing(mlperf_session, outcome.message)
    request.node.user_properties.extend(outcome.properties)
    if not outcome.passed:
        pytest.fail(outcome.message, pytrace=False)
