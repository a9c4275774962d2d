"""Session-scoped provisioners: each artifact an item needs, made or found once.

Every provisioner is memoized per session by the artifact's key and backed by the on-disk
cache, so an artifact is made once per machine: across items, sessions and xdist workers
(the cache's per-key lock makes concurrent builders wait for the first one).
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ..datasets import DatasetContext
from ..errors import ProvisionError
from .cache import Cache, CacheError
from .download import file_sha256

NAME_FILE = "artifact_name.txt"


@dataclass(frozen=True)
class Provisioned:
    """An artifact ready for a run, and how it was obtained."""

    kind: str  # model, dataset, engine
    path: Path | None
    key: str
    #: True: taken from the cache; False: built now; None: nothing is cached for it
    cache_hit: bool | None
    build_seconds: float | None
    #: where it came from: "data dir", "built", "cache", "synthetic", "in memory", "none"
    source: str
    #: wall time this session spent providing it for this item (0 when memoized)
    seconds: float = 0.0
    #: artifacts this one was made from (an engine's calibration cache)
    inputs: tuple[Provisioned, ...] = ()


class ItemFailure(pytest.fail.Exception):  # type: ignore[name-defined]
    """A failure found while an item's fixtures provision, reported as the item's own failure (not
    a setup error): under --mlperf-strict a missing prerequisite, or a harness stage that failed."""


class MissingPrerequisite(ItemFailure):
    """Under --mlperf-strict: data, a model, code, a driver or a GPU an item needs is missing."""


def missing(session: Any, reason: str) -> None:
    """An item cannot run because something is missing: skip it, or fail it under --mlperf-strict."""
    if session.settings.get("strict"):
        raise MissingPrerequisite(f"--mlperf-strict: {reason}", pytrace=False)
    pytest.skip(reason)


#: the source of an artifact the plugin does not provision (the harness brings its own)
BY_HARNESS = "provided by the harness"


def _not_provisioned(session: Any, case: Any, kind: str) -> Provisioned | None:
    """A placeholder when the case's harness brings its own ``kind`` (its own stages make it)."""
    if kind in session.harness_for(case).provisions:
        return None
    return Provisioned(kind, None, "", None, None, BY_HARNESS)


def _reused(found: Provisioned) -> Provisioned:
    """How a memoized artifact looks to the next item: taken from the cache, in no time."""
    hit = None if found.cache_hit is None else True
    source = "cache" if found.source in ("built", "downloaded") else found.source
    return Provisioned(found.kind, found.path, found.key, hit, None, source, 0.0,
                       tuple(_reused(i) for i in found.inputs))


class _Memo:
    def __init__(self, session: Any, cache: Cache | None = None):
        self.session = session
        self._cache = cache
        self._memo: dict[str, Provisioned] = {}
        self._failed: dict[str, str] = {}

    @property
    def cache(self) -> Cache:
        return self._cache if self._cache is not None else self.session.cache

    def remembered(self, key: str) -> Provisioned | None:
        found = self._memo.get(key)
        return None if found is None else _reused(found)

    def remember(self, key: str, value: Provisioned) -> Provisioned:
        self._memo[key] = value
        return value

    def build(self, kind: str, parts: dict[str, Any], build: Any) -> tuple[Path, Any]:
        """Build (or take from the cache) an artifact whose builder returns its file name."""

        def build_into(staging: Path) -> None:
            (staging / NAME_FILE).write_text(build(staging))

        try:
            entry = self.cache.get_or_build(kind, parts, build_into,
                                            verify=bool(self.session.settings.get("cache_verify")))
        except CacheError as exc:
            # Fixture errors bypass the item's short failure text: fail without a traceback.
            pytest.fail(f"{kind}: {exc}", pytrace=False)
        return entry.path / (entry.path / NAME_FILE).read_text().strip(), entry


class ModelProvisioner(_Memo):
    """Each benchmark's model: the user's file from the data dir, or built and cached."""

    def __call__(self, case: Any) -> Provisioned:
        start = time.perf_counter()
        if (placeholder := _not_provisioned(self.session, case, "model")) is not None:
            return placeholder
        definition = case.definition
        if definition is None:
            pytest.skip(case.skip_reason or f"{case.benchmark} has no model for this harness")
        data_dir = self.session.settings.get("data_dir")
        if definition.find_model is not None:
            found = definition.find_model(data_dir)
            if found is not None:
                memo_key = f"file:{found}"
                known = self.remembered(memo_key)
                if known:
                    return known
                # Content-addressed, so an engine built from it changes when the file does.
                key = f"sha256:{file_sha256(found)}"
                return self.remember(memo_key, Provisioned("model", found, key, None, None, "data dir",
                                                           time.perf_counter() - start))
        synthetic = definition.is_synthetic(case.dataset or definition.dataset)
        if definition.model_download is not None and not synthetic:
            return self._download(definition.model_download, start)
        if definition.build_model is None or (definition.random_model and not synthetic):
            where = f"in {data_dir}" if data_dir else "(no data dir is set)"
            hint = definition.model_hint or "a model file"
            missing(self.session, f"{case.benchmark} needs {hint} {where}; "
                    "set --mlperf-data-dir, MLPERF_NV_DATA_DIR or the ini key mlperf_data_dir")
        build = definition.build_model
        parts = {"benchmark": definition.name, **definition.model_key(),
                 "build_function": f"{build.__module__}.{build.__qualname__}"}
        memo_key = repr(sorted(parts.items()))
        known = self.remembered(memo_key)
        if known:
            return known
        path, entry = self.build("model", parts, build)
        return self.remember(memo_key, Provisioned(
            "model", path, entry.key, entry.hit, entry.build_seconds, "cache" if entry.hit else "built",
            time.perf_counter() - start))


    def _download(self, spec: Any, start: float) -> Provisioned:
        from .download import download, mirror_url

        parts = {"url": spec.url, "md5": spec.md5, "sha256": spec.sha256, "filename": spec.filename}
        memo_key = repr(sorted(parts.items()))
        known = self.remembered(memo_key)
        if known:
            return known
        if memo_key in self._failed:  # one failed download per session, not one per item
            pytest.fail(self._failed[memo_key], pytrace=False)
        url = mirror_url(spec.url, self.session.settings.get("mirror"))
        # Partial downloads live outside the cache's staging dirs, which a failed build removes.
        downloads = Path(self.session.settings.get("cache_dir")) / "downloads"

        def fetch(staging: Path) -> str:
            download(url, staging / spec.filename, md5=spec.md5, sha256=spec.sha256,
                     staging_dir=downloads, stream=sys.__stderr__)
            return spec.filename

        try:
            path, entry = self.build("model", parts, fetch)
        except ProvisionError as exc:
            cause = str(exc).split("; to provide the file manually")[0]
            self._failed[memo_key] = (
                f"model download failed: {cause}. To provide the model yourself, put {spec.filename} "
                "in the data dir (--mlperf-data-dir, MLPERF_NV_DATA_DIR or ini mlperf_data_dir), or set "
                "--mlperf-mirror to a server that has it")
            pytest.fail(self._failed[memo_key], pytrace=False)
        return self.remember(memo_key, Provisioned(
            "model", path, entry.key, entry.hit, entry.build_seconds,
            "cache" if entry.hit else "downloaded", time.perf_counter() - start))


class DatasetProvisioner(_Memo):
    """Each dataset located, verified and preprocessed into the cache, before any run needs it."""

    def __call__(self, case: Any) -> Provisioned:
        start = time.perf_counter()
        if (placeholder := _not_provisioned(self.session, case, "dataset")) is not None:
            return placeholder
        definition = case.definition
        name = case.dataset or definition.dataset
        if definition.is_synthetic(name):
            return Provisioned("dataset", None, name, None, None, "synthetic")
        if name not in self.session.get_registry().prepared_datasets:
            return Provisioned("dataset", None, name, None, None, "in memory")
        memo_key = repr((name, sorted(case.dataset_options.items())))
        known = self.remembered(memo_key)
        if known:
            return known
        factory = self.session.get_registry().datasets[name].load()
        settings = self.session.settings
        context = DatasetContext(data_dir=settings.get("data_dir"), cache_dir=settings.get("cache_dir"),
                                 options=dict(case.dataset_options),
                                 verify=bool(settings.get("cache_verify")))
        try:
            dataset = factory(context)
        except ProvisionError as exc:
            missing(self.session, str(exc))
        entry = getattr(dataset, "cache_entry", None)
        if entry is None:
            return self.remember(memo_key, Provisioned("dataset", None, name, None, None, "in memory",
                                                       time.perf_counter() - start))
        return self.remember(memo_key, Provisioned(
            "dataset", entry.path, entry.key, entry.hit, entry.build_seconds,
            "cache" if entry.hit else "built", time.perf_counter() - start))


class EngineProvisioner(_Memo):
    """Each backend's compiled form of a model (an optimized ONNX Runtime model, say), built once.

    A backend class opts in with ``engine_key(options) -> dict`` and
    ``build_engine(model_path, staging_dir, options) -> file name``. A backend that needs
    int8 calibration adds ``calibration_key(options) -> dict`` and
    ``build_calibration(model_path, samples, staging_dir, options) -> file name``: the
    calibration cache is made once per (model, calibration samples, backend) and handed to
    ``build_engine`` as ``options["calibration"]``.
    """

    #: calibration samples: the first N of the benchmark's dataset
    CALIBRATION_SAMPLES = 100

    def __call__(self, case: Any, model: Provisioned) -> Provisioned:
        start = time.perf_counter()
        if (placeholder := _not_provisioned(self.session, case, "engine")) is not None:
            return placeholder
        backend_name = case.suite.backend
        backend = self.session.get_registry().backends[backend_name].load()
        builder = getattr(backend, "build_engine", None)
        if builder is None or model.path is None:
            return Provisioned("engine", None, "", None, None, "none")
        options: dict[str, Any] = dict(case.suite.backend_options)
        calibration = self.calibration(case, model, backend)
        if calibration is not None:
            options["calibration"] = str(calibration.path)
        parts = {"backend": backend_name, "model": model.key, **backend.engine_key(options),
                 "calibration": calibration.key if calibration else None,
                 "build_function": f"{backend.__module__}.{backend.__qualname__}.build_engine"}
        memo_key = repr(sorted(parts.items()))
        known = self.remembered(memo_key)
        if known:
            return known
        path, entry = self.build("engine", parts, lambda staging: builder(model.path, staging, options))
        return self.remember(memo_key, Provisioned(
            "engine", path, entry.key, entry.hit, entry.build_seconds, "cache" if entry.hit else "built",
            time.perf_counter() - start, (calibration,) if calibration else ()))

    def calibration(self, case: Any, model: Provisioned, backend: Any) -> Provisioned | None:
        builder = getattr(backend, "build_calibration", None)
        if builder is None:
            return None
        definition = case.definition
        name = case.dataset or definition.dataset
        count = self.CALIBRATION_SAMPLES
        parts = {"backend": f"{backend.__module__}.{backend.__qualname__}", "model": model.key,
                 "dataset": name, "dataset_options": sorted(case.dataset_options.items()),
                 "samples": f"first {count}", **backend.calibration_key({})}
        memo_key = repr(sorted(parts.items()))
        known = self.remembered(memo_key)
        if known:
            return known
        start = time.perf_counter()

        def build(staging: Path) -> str:
            factory = self.session.get_registry().datasets[name].load()
            settings = self.session.settings
            dataset = factory(DatasetContext(settings.get("data_dir"), settings.get("cache_dir"),
                                             dict(case.dataset_options)))
            indices = list(range(min(count, dataset.total_count)))
            dataset.load(indices)
            return builder(model.path, dataset.get(indices), staging, {})

        path, entry = self.build("calibration", parts, build)
        return self.remember(memo_key, Provisioned(
            "calibration", path, entry.key, entry.hit, entry.build_seconds,
            "cache" if entry.hit else "built", time.perf_counter() - start))
