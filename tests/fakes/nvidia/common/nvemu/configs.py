"""NVIDIA's config registry, small: BenchmarkConfiguration classes registered per workload setting.

Modelled on configs/configuration.py and configs/error.py of mlcommons/inference_results_v4.1 closed/NVIDIA.
A config is a class; its fields are its public, non-callable, non-None class attributes.
``ConfigRegistry.register(harness_type, accuracy_target, power_setting)`` validates a config the way the
real registry does, in the same order:

1. it inherits from BenchmarkConfiguration, through single inheritance at every level; every parent
   that sets benchmark / scenario sets the same; a parent's system uses no accelerator the config's
   system lacks (so a custom system's config may extend a known system's config only when its GPUs are
   the same ``KnownGPU`` values);
2. LWIS / Custom harness types only where they are the benchmark's default;
3. ``system`` is a KnownSystem member; no field outside the benchmark/scenario's applicable fields
   (unknown field -> ConfigFieldInvalidError naming the class and the field); every mandatory field set
   (``gpu_batch_size`` and the scenario's target) -> else ConfigFieldMissingError;
4. a second config for the same (benchmark, scenario, system, workload setting) is a KeyError.

Not emulated: the AST checks of field reassignment within one class body.
"""

from __future__ import annotations

import enum
import inspect
from dataclasses import dataclass
from typing import Any

from .constants import SCENARIOS


class HarnessType(enum.Enum):
    LWIS = "lwis"
    Custom = "custom"
    Triton = "triton"
    HeteroMIG = "hetero"
    TritonUnified = "triton_unified"


class AccuracyTarget(enum.Enum):
    k_99 = 0.99
    k_99_9 = 0.999


class PowerSetting(enum.Enum):
    MaxP = "MaxP"
    MaxQ = "MaxQ"


class Scenario(enum.Enum):
    Offline = "Offline"
    Server = "Server"
    SingleStream = "SingleStream"
    MultiStream = "MultiStream"


# NVIDIA's Benchmark enum member names -> the emulator's benchmark short names (Benchmark.value.name)
class Benchmark(enum.Enum):
    ResNet50 = "resnet50"
    Retinanet = "retinanet"
    BERT = "bert"
    UNET3D = "3d-unet"
    DLRMv2 = "dlrm-v2"
    GPTJ = "gptj"
    LLAMA2 = "llama2-70b"
    SDXL = "stable-diffusion-xl"
    Mixtral8x7B = "mixtral-8x7b"
    LLAMA2_Interactive = "llama2-70b-interactive"
    LLAMA3_1_405B = "llama3_1-405b"
    RGAT = "rgat"

    def valstr(self) -> str:
        return self.value


# --- configs/error.py ----------------------------------------------------------------------------
class ConfigError(Exception):
    pass


class ConfigInvalidTypeError(ConfigError):
    def __init__(self, config_name: str):
        super().__init__(f"<config '{config_name}'> does not inherit from BenchmarkConfiguration")


class ConfigMultipleExtendsError(ConfigError):
    def __init__(self, config_name: str):
        super().__init__(f"<config '{config_name}'> extends multiple base classes, which is disallowed.")


class ConfigInvalidHarnessTypeError(ConfigError):
    def __init__(self, config_name: str, harness_type: HarnessType):
        super().__init__(f"<config '{config_name}'> cannot use harness type {harness_type}")


class ConfigFieldError(Exception):
    pass


class ConfigFieldMissingError(ConfigFieldError):
    def __init__(self, config_name: str, field_name: str):
        super().__init__(f"<config '{config_name}'> is missing mandatory Field '{field_name}'")


class ConfigFieldInvalidError(ConfigFieldError):
    def __init__(self, config_name: str, field_name: str):
        super().__init__(f"<config '{config_name}'> contains unsupported Field '{field_name}'")


class ConfigFieldInvalidTypeError(ConfigFieldError):
    def __init__(self, config_name: str, field_name: str, expected_type: str):
        super().__init__(f"<config '{config_name}'>.{field_name} is not of type '{expected_type}'")


class ConfigFieldInheritanceError(ConfigFieldError):
    def __init__(self, config_name: str, parent_name: str, field_name: str, value: Any, parent_value: Any):
        super().__init__(f"<config '{config_name}'> has {field_name}={value}, but extends <config "
                         f"'{parent_name}'> with {field_name}={parent_value}")


ERRORS = (ConfigError, ConfigInvalidTypeError, ConfigMultipleExtendsError, ConfigInvalidHarnessTypeError,
          ConfigFieldError, ConfigFieldMissingError, ConfigFieldInvalidError, ConfigFieldInvalidTypeError,
          ConfigFieldInheritanceError)
for _error in ERRORS:  # tracebacks name them as the real code's do
    _error.__module__ = "configs.error"


# --- configs/configuration.py ---------------------------------------------------------------------
@dataclass(frozen=True)
class WorkloadSetting:
    harness_type: HarnessType
    accuracy_target: AccuracyTarget
    power_setting: PowerSetting

    def __str__(self) -> str:
        return f"WorkloadSetting({self.harness_type}, {self.accuracy_target}, {self.power_setting})"


class BenchmarkConfiguration:
    """Base of every config. Fields: public, non-callable, non-None class attributes."""

    @classmethod
    def all_fields(cls) -> tuple[str, ...]:
        return tuple(attr for attr in dir(cls)
                     if not attr.startswith("_") and not callable(getattr(cls, attr))
                     and getattr(cls, attr) is not None)

    @classmethod
    def as_dict(cls) -> dict[str, Any]:
        return {attr: getattr(cls, attr) for attr in cls.all_fields()}


SCENARIO_TARGETS = {"Offline": "offline_expected_qps", "Server": "server_target_qps",
                    "SingleStream": "single_stream_expected_latency_ns",
                    "MultiStream": "multi_stream_expected_latency_ns"}
_SCENARIO_PREFIXES = {"Offline": "offline_", "Server": "server_", "SingleStream": "single_stream_",
                      "MultiStream": "multi_stream_"}
IDENTIFIERS = ("benchmark", "scenario", "system")


def applicable_fields(scenario: str, field_names: tuple[str, ...]) -> tuple[set[str], set[str]]:
    """(mandatory, optional) field names of a config for one scenario."""
    others = tuple(p for s, p in _SCENARIO_PREFIXES.items() if s != scenario)
    optional = {name for name in field_names if not name.startswith(others)}
    mandatory = {"gpu_batch_size", SCENARIO_TARGETS[scenario]}
    return mandatory, optional - mandatory


class ConfigRegistry:
    """Configs per (benchmark, scenario, system, workload setting)."""

    _registry: dict[tuple, type] = {}
    #: field names a config may set (the RUN_ARGS tuning and harness fields), set by the emulator
    field_names: tuple[str, ...] = ()
    #: benchmark short name -> its default harness ("lwis" or "custom")
    default_harness: dict[str, str] = {}
    known_system_type: Any = None
    #: fields.applies, set by the emulator
    applies: Any = None
    #: v4.1 validates a config at registration; v5.0 does not (set by systems.set_version)
    validating = True

    @classmethod
    def register(cls, harness_type: HarnessType, accuracy_target: AccuracyTarget,
                 power_setting: PowerSetting) -> Any:
        setting = WorkloadSetting(harness_type, accuracy_target, power_setting)

        def _do_register(config: type) -> type:
            if cls.validating:
                cls.validate(config, harness_type)
            key = (config.benchmark, config.scenario, config.system, setting)
            if key in cls._registry:
                raise KeyError("Config for {} is already registered.".format("/".join(map(str, key))))
            cls._registry[key] = config
            return config
        return _do_register

    @classmethod
    def get(cls, benchmark: Benchmark, scenario: Scenario, system: Any, harness_type: HarnessType,
            accuracy_target: AccuracyTarget, power_setting: PowerSetting) -> type | None:
        return cls._registry.get((benchmark, scenario, system,
                                  WorkloadSetting(harness_type, accuracy_target, power_setting)))

    @classmethod
    def validate(cls, config: type, harness_type: HarnessType) -> None:
        name = config.__name__
        parents = inspect.getmro(config)
        if BenchmarkConfiguration not in parents:
            raise ConfigInvalidTypeError(name)
        chain = [p for p in parents if p not in (BenchmarkConfiguration, object)]
        for curr in chain:
            if len(curr.__bases__) != 1:
                raise ConfigMultipleExtendsError(curr.__name__)
        known_system = cls.known_system_type
        if hasattr(config, "system") and not isinstance(config.system, known_system):
            raise ConfigFieldInvalidTypeError(name, "system", "KnownSystem")
        for parent in chain[1:]:
            for attr in ("benchmark", "scenario"):
                if attr in vars(parent) and getattr(config, attr) != vars(parent)[attr]:
                    raise ConfigFieldInheritanceError(name, parent.__name__, attr, getattr(config, attr),
                                                      vars(parent)[attr])
            if hasattr(config, "system") and "system" in vars(parent):
                parent_gpus = set(parent.system.value.accelerator_conf.get_accelerators())
                child_gpus = set(config.system.value.accelerator_conf.get_accelerators())
                if parent_gpus - child_gpus:
                    raise ConfigFieldInheritanceError(name, parent.__name__, "system.gpu",
                                                      config.system.value.accelerator_conf.layout,
                                                      parent.system.value.accelerator_conf.layout)
        benchmark = getattr(config, "benchmark", None)
        if harness_type in (HarnessType.LWIS, HarnessType.Custom) and benchmark is not None \
                and harness_type.value != cls.default_harness.get(benchmark.value):
            raise ConfigInvalidHarnessTypeError(name, harness_type)
        for attr in IDENTIFIERS:
            if not hasattr(config, attr):
                raise ConfigFieldMissingError(name, attr)
        mandatory, optional = applicable_fields(config.scenario.value, cls.field_names)
        if cls.applies is not None:  # NVIDIA's per-benchmark and per-system rules (fields.APPLIES)
            where = (config.benchmark.value, config.scenario.value, config.system.name)
            optional = {f for f in optional if cls.applies(f, None, *where)}
        declared = set(config.all_fields()) - {"action", "harness_type"} - set(IDENTIFIERS)
        disallowed = sorted(declared - mandatory - optional)
        if disallowed:
            raise ConfigFieldInvalidError(name, disallowed[0])
        missing = sorted(mandatory - declared)
        if missing:
            raise ConfigFieldMissingError(name, missing[0])


def scenario_base_config(benchmark: Benchmark, scenario: str) -> type:
    """``<Scenario>GPUBaseConfig`` of one benchmark: benchmark and scenario set, nothing else."""
    assert scenario in SCENARIOS
    return type(f"{scenario}GPUBaseConfig", (BenchmarkConfiguration,),
                {"benchmark": benchmark, "scenario": Scenario(scenario),
                 "__module__": f"configs.{benchmark.value}.{scenario}"})
