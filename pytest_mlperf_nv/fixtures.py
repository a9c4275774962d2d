"""Fixtures every mlperf item uses; any of them can be overridden in a conftest.py.

Provisioning follows one pattern: a session-scoped provisioner (``mlperf_models``,
``mlperf_datasets``, ``mlperf_engines``) makes or finds each artifact once, memoized by its
cache key, and a function-scoped fixture (``mlperf_model``, ``mlperf_dataset``,
``mlperf_engine``) hands the item the artifact for its own case.
"""

from __future__ import annotations

from typing import Any

import pytest

from .keys import CASE_KEY, SESSION_KEY
from .provision.provisioners import (
    DatasetProvisioner,
    EngineProvisioner,
    ModelProvisioner,
    Provisioned,
    missing,
)
from .session import MlperfSession
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
    """Skip (or fail under --mlperf-strict) an item whose prerequisites are missing, naming every
    one at once: the GPUs its suite needs, and what its harness needs (e.g. NVIDIA's code)."""
    problems = gpu_problems(mlperf_case, mlperf_system)
    problems += mlperf_session.harness_for(mlperf_case).missing_prerequisites(mlperf_case, mlperf_session)
    if problems:
        missing(mlperf_session, "; ".join(problems) if len(problems) == 1 else
                f"{len(problems)} prerequisites are missing: " + "; ".join(
                    f"({n}) {p}" for n, p in enumerate(problems, 1)))


def gpu_problems(case: Case, system: Any) -> list[str]:
    """Why the machine lacks the GPUs the case's suite needs (empty: it has them)."""
    gpu = str(case.suite.system.get("gpu", "none"))
    if gpu == "none":
        return []
    needed = int(case.suite.system.get("count", 1))
    where = "this machine (NVML)" if system.source == "nvml" else system.source
    if not system.has_gpus:
        return [f"suite {case.suite.path.name} needs an NVIDIA GPU (system.gpu: {gpu}) but {where} has none: "
                f"{system.gpu_error or 'no GPU found'}"]
    if system.gpu_count < needed:
        return [f"suite {case.suite.path.name} needs {needed} GPUs (system.count) but {where} has "
                f"{system.gpu_count}"]
    return []


@pytest.fixture
def mlperf_stages(mlperf_case: Case, mlperf_session: MlperfSession) -> list[Provisioned]:
    """The harness's own provisioning stages for this item (e.g. NVIDIA's make targets), run once
    each; a missing prerequisite skips the item (fails it under --mlperf-strict)."""
    return mlperf_session.harness_for(mlperf_case).provision_stages(mlperf_case, mlperf_session)


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


def mlperf_test(mlperf_case: Case, mlperf_system_check: None, mlperf_stages: list[Provisioned],
                mlperf_dataset: Provisioned, mlperf_model: Provisioned, mlperf_engine: Provisioned,
                mlperf_session: MlperfSession, request: pytest.FixtureRequest) -> None:
    """The body of every mlperf item: run the case, then assert its verdict.

    Fixtures provision in the order of the arguments: the GPU check, the harness's own stages and
    the data (cheap to find missing) come before the model (which may be a long download).
    """
    from .caserun import run_case

    artifacts = {a.kind: a for a in (*mlperf_stages, mlperf_model, mlperf_dataset, mlperf_engine)}
    provisioned = list(artifacts.values())
    provisioned += [i for a in provisioned for i in a.inputs]
    request.node.user_properties.extend(provisioning_properties(provisioned))
    if mlperf_session.settings.get("prefetch_only"):
        paths = ", ".join(f"{a.kind} {a.path}" for a in provisioned if a.path is not None)
        request.node.user_properties.append(("mlperf_provisioned", paths))
        pytest.skip(f"prefetch only: provisioned {paths or 'nothing (all in memory)'}")
    outcome = run_case(mlperf_session, mlperf_case, artifacts, nodeid=request.node.nodeid)
    if outcome.skipped:
        missing(mlperf_session, outcome.message)
    request.node.user_properties.extend(outcome.properties)
    if not outcome.passed:
        pytest.fail(outcome.message, pytrace=False)
