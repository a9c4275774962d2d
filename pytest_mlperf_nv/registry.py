"""Harnesses, backends, datasets and benchmarks, registered through the ``pytest_mlperf_register`` hook.

A LoadGen run happens in a child process, which cannot see objects that live only in the
pytest process (a backend defined in a conftest.py, say). So every registered object is
kept as an :class:`ImportRef` the child can import again, by module name or by file.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .benchmarks.base import BenchmarkDef

if TYPE_CHECKING:
    from .harness.api import Harness
    from .options import Setting

#: the harness of a suite that names none
DEFAULT_HARNESS = "loadgen"
#: the plugin's own harnesses: (module, class) of each, registered by the plugin's hook
BUILTIN_HARNESSES = (("pytest_mlperf_nv.harness.loadgen.harness", "LoadgenHarness"),
                     ("pytest_mlperf_nv.harness.nvidia.harness", "NvidiaHarness"))


@dataclass(frozen=True)
class ImportRef:
    """Where to import an object from: ``module`` + ``qualname``, or ``file`` if need be."""

    module: str
    qualname: str
    file: str | None = None
    #: the object itself, in the process that registered it (never serialized)
    obj: Any = field(default=None, compare=False, repr=False)

    @classmethod
    def of(cls, obj: Any) -> ImportRef:
        module = obj.__module__
        qualname = obj.__qualname__
        if "<locals>" in qualname:
            raise TypeError(f"{qualname} must be defined at module level to run in a child process")
        try:
            file = inspect.getfile(obj)
        except TypeError:
            file = None
        return cls(module, qualname, file, obj)

    def to_dict(self) -> dict[str, Any]:
        return {"module": self.module, "qualname": self.qualname, "file": self.file}

    def load(self) -> Any:
        """The object: as registered in this process, or imported again (in the child process)."""
        if self.obj is not None:
            return self.obj
        module = None
        # conftest modules are not importable by name outside the pytest process.
        if self.module != "conftest" and not self.module.endswith(".conftest"):
            try:
                module = importlib.import_module(self.module)
            except ImportError:
                if not self.file:
                    raise
        if module is None:
            if not self.file:
                raise ImportError(f"cannot import {self.module}")
            name = "_mlperf_plugin_" + hashlib.sha256(self.file.encode()).hexdigest()[:16]
            spec = importlib.util.spec_from_file_location(name, self.file)
            if spec is None or spec.loader is None:
                raise ImportError(f"cannot import {self.file}")
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            sys.path.insert(0, str(Path(self.file).parent))
            spec.loader.exec_module(module)
        obj: Any = module
        for part in self.qualname.split("."):
            obj = getattr(obj, part)
        return obj


def builtin_harnesses() -> list[Harness]:
    """A fresh instance of each of the plugin's own harnesses (a registry holds its own)."""
    found = []
    for module, name in BUILTIN_HARNESSES:
        found.append(getattr(importlib.import_module(module), name)())
    return found


def register_builtins(registry: Registry) -> None:
    """The plugin's own harnesses, backends, datasets and benchmarks."""
    from .benchmarks import custom, digits, imagenet, resnet50
    from .harness.loadgen.backends import OnnxRuntimeBackend

    for harness in builtin_harnesses():
        registry.add_harness(harness)
    registry.add_backend("onnxruntime", OnnxRuntimeBackend)
    registry.add_dataset(custom.ARRAYS_DATASET, custom.arrays_dataset)
    registry.add_dataset("digits", digits.digits_dataset)
    registry.add_benchmark(digits.definition())
    registry.add_dataset("imagenet", imagenet.imagenet_dataset, prepare=True)
    registry.add_dataset("synthetic-imagenet", imagenet.synthetic_imagenet_dataset)
    registry.add_benchmark(resnet50.definition())


def builtin_settings() -> list[Setting]:
    """Settings (flags, ini keys, environment variables) of the plugin's own harnesses."""
    from .harness.nvidia.settings import SETTINGS

    return list(SETTINGS)


class Registry:
    """What the plugin and its users registered: harnesses, backends, datasets, benchmarks."""

    def __init__(self) -> None:
        #: harness name -> the harness (an object of a Harness subclass, living in this process)
        self.harnesses: dict[str, Harness] = {}
        self.backends: dict[str, ImportRef] = {}
        self.datasets: dict[str, ImportRef] = {}
        #: datasets that are prepared (located, preprocessed into the cache) before any run
        self.prepared_datasets: set[str] = set()
        self.benchmarks: dict[str, BenchmarkDef] = {}

    def add_harness(self, harness: Harness) -> None:
        """Register a harness (an instance of a :class:`~pytest_mlperf_nv.harness.api.Harness`
        subclass); suites name it by ``harness.name``. It runs in the pytest process."""
        if not getattr(harness, "name", ""):
            raise ValueError(f"{type(harness).__name__} has no name: set the class attribute 'name'")
        self.harnesses[harness.name] = harness

    def add_backend(self, name: str, factory: Any) -> None:
        """Register a backend class: ``factory(model_path, options) -> backend``."""
        self.backends[name] = ImportRef.of(factory)

    def add_dataset(self, name: str, factory: Any, *, prepare: bool = False) -> None:
        """Register a dataset factory: ``factory(context) -> Dataset``.

        ``prepare=True``: the factory finds and preprocesses data into the cache, so the
        plugin calls it once while provisioning (``--mlperf-prefetch-only`` included), not
        only in the runs. In-memory datasets leave it off.
        """
        self.datasets[name] = ImportRef.of(factory)
        if prepare:
            self.prepared_datasets.add(name)

    def add_benchmark(self, benchmark: BenchmarkDef) -> None:
        """Register a benchmark definition."""
        self.benchmarks[benchmark.name] = benchmark
