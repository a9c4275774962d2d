"""Ask NVIDIA's own front end what it would do, without TensorRT, CUDA or a GPU.

Run as a script (``python3 probe.py REQUEST.json``), never imported by the plugin: NVIDIA's package is
named ``code`` (it shadows the standard library module of that name), its modules read files relative
to the working directory, and its system detection runs at import time, so every question is asked in
a fresh process. This file uses the standard library only, so that it runs on whatever Python NVIDIA's
container has.

What is replaced, and nothing else:

- the hardware probes (``lscpu``, ``/proc/meminfo``, ``nvidia-smi``, CUDA's compute capability): when the
  request carries recorded hardware, NVIDIA's ``InfoSource`` buffers are filled with it before
  ``system_list`` detects and matches the machine; without it NVIDIA's code probes the machine itself;
- ``code.actionhandler``: the action handlers build TensorRT engines and run the harness; here they
  record the effective configuration NVIDIA's ``dispatch_action`` hands them.

Everything else is NVIDIA's: ``code.main.main`` (benchmark and scenario names, workload settings, the
config lookup), the config registry and its checks, ``get_effective_values`` (which flags apply, their
types, the override order), ``apply_helper_and_legacy_fields``.

The answer is one JSON object on the last line of stdout, after the marker ``PROBE-RESULT ``.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import sys
import traceback
import types
from typing import Any

MARKER = "PROBE-RESULT "
RECORDS: list[dict] = []
WARNINGS: list[str] = []


def _jsonable(value, depth=0):
    """A JSON-friendly rendering of a config value (enums by name, dicts keyed by str)."""
    if depth > 4:
        return repr(value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, dict):
        return {str(getattr(k, "valstr", lambda k=k: k)()): _jsonable(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v, depth + 1) for v in value]
    valstr = getattr(value, "valstr", None)
    if callable(valstr):
        return valstr()
    return repr(value)


class _Recorder:
    """Stands in for every action handler: remembers what NVIDIA's code handed it."""

    action = None

    def __init__(self, *args, **kwargs):
        conf = next((a for a in args if isinstance(a, dict)), None)
        if conf is None:
            conf = kwargs.get("benchmark_conf", {})
        audit = args[0] if self.action == "run_audit_harness" and args else None
        self.record = {"action": self.action, "audit_test": audit,
                       "workload": conf.get("config_ver"),
                       "conf": {str(k): _jsonable(v) for k, v in conf.items()}}
        if self.action in ("run_harness", "run_audit_harness"):
            self.record["log_dir"] = _log_location(conf, audit)

    def run(self):
        RECORDS.append(self.record)

    @classmethod
    def reset_session(cls):
        return None


def _log_location(conf: dict, audit) -> str:
    """Where NVIDIA's harness writes this run's LoadGen logs and metadata.json: its own
    BaseBenchmarkHarness.get_full_log_dir (code/common/harness.py) on the effective config, with the
    log root RunAuditHandler uses for an audit (build/compliance_logs/<TEST>)."""
    try:
        if "tensorrt" not in sys.modules:  # code/common/harness.py imports it; nothing of it is used here
            sys.modules["tensorrt"] = types.ModuleType("tensorrt")
        BaseBenchmarkHarness = _from("code.common.harness", "BaseBenchmarkHarness")

        harness = BaseBenchmarkHarness.__new__(BaseBenchmarkHarness)
        args = dict(conf)
        if audit is not None:
            args["log_dir"] = os.path.join("build/compliance_logs", audit)
        harness.args = args
        harness.system_id = conf["system_id"]
        harness.name = conf["benchmark"].valstr()
        harness.scenario = conf["scenario"]
        harness.config_ver = conf["config_ver"]
        return harness.get_full_log_dir()
    except Exception as exc:  # noqa: BLE001
        return f"<not computed: {type(exc).__name__}: {exc}>"


def _from(module: str, name: str) -> Any:
    """``from <module> import <name>``: an attribute of the module, else its submodule."""
    parent = importlib.import_module(module)
    if hasattr(parent, name):
        return getattr(parent, name)
    return importlib.import_module(f"{module}.{name}")


def _install_handlers() -> None:
    module = types.ModuleType("code.actionhandler")
    names = {"GenerateEngineHandler": "generate_engines", "GenerateConfFilesHandler": "generate_conf_files",
             "RunHarnessHandler": "run_harness", "CalibrateHandler": "calibrate",
             "RunAuditHandler": "run_audit_harness", "GenerateTritonConfigHandler": "generate_triton_config"}
    for name, action in names.items():
        setattr(module, name, type(name, (_Recorder,), {"action": action}))

    class SubprocessActionHandlerWrapper:
        def __init__(self, handler):
            self.handler = handler

        def run(self):
            self.handler.run()

    module.__dict__.update(SubprocessActionHandlerWrapper=SubprocessActionHandlerWrapper,
                           __all__=[*names, "SubprocessActionHandlerWrapper"])
    sys.modules["code.actionhandler"] = module


def _fill_hardware(hardware: dict) -> None:
    """NVIDIA's InfoSource buffers, filled from recorded tool output (v4.1 layout)."""
    cpu = __import__("code.common.systems.cpu", fromlist=["CPU_INFO_SOURCE"])
    memory = __import__("code.common.systems.memory", fromlist=["MEM_INFO_SOURCE"])
    accelerator = __import__("code.common.systems.accelerator", fromlist=["GPU_INFO_SOURCE"])
    cpu.CPU_INFO_SOURCE.buffer = [dict(hardware["lscpu"])]
    memory.MEM_INFO_SOURCE.buffer = [dict(hardware["meminfo"])]
    accelerator.GPU_INFO_SOURCE.buffer = [dict(g) for g in hardware["gpus"]]
    accelerator.MIG_INFO_SOURCE.buffer = []
    accelerator.ACCELERATOR_INFO_SOURCE.buffer = {}
    for source in (cpu.CPU_INFO_SOURCE, memory.MEM_INFO_SOURCE, accelerator.GPU_INFO_SOURCE,
                   accelerator.MIG_INFO_SOURCE, accelerator.ACCELERATOR_INFO_SOURCE):
        source.index = 0


class _Capture(logging.Handler):
    def emit(self, record):
        if record.levelno >= logging.WARNING:
            WARNINGS.append(record.getMessage())


def _systems(system_list) -> dict:
    """KnownSystem as NVIDIA built it: members, aliases, and what the detected system matched."""
    KnownSystem = system_list.KnownSystem
    members = list(KnownSystem)
    aliases = {name: member.name for name, member in KnownSystem.__members__.items() if member.name != name}
    matched = system_list.MATCHED_SYSTEM
    return {"members": [m.name for m in members], "aliases": aliases,
            "matched": matched.name if matched is not None else None,
            "matched_id": matched.value.system_id if matched is not None else None,
            "detected": str(system_list.DETECTED_SYSTEM.pretty_string())}


def _custom_checks(system_list, names: list[str]) -> dict:
    """For each custom system: does it register as a member of its own, and which members equal it."""
    KnownSystem = system_list.KnownSystem
    out: dict[str, dict] = {}
    for name in names:
        member = KnownSystem.__members__.get(name)
        if member is None:
            out[name] = {"registered": False}
            continue
        equal = [m.name for m in KnownSystem if m.name != name and m.value == member.value]
        deprecated = [m.name for m in system_list.DeprecatedSystem if m.value == member.value]
        out[name] = {"registered": True, "own_member": member.name == name, "member": member.name,
                     "equal_to": equal, "equal_to_deprecated": deprecated,
                     "matches_detected": bool(member.value.matches(system_list.DETECTED_SYSTEM))}
    return out


def _dropped(argv: list[str], fields_mod, constants, record, system) -> list[str]:
    """Flags of ``argv`` that neither NVIDIA's main-argument parser nor the parser of the fields that
    apply to this action, benchmark, scenario, system and workload setting consume (NVIDIA's own
    Field.add_to_argparser on NVIDIA's own get_applicable_fields): the ones NVIDIA drops unread."""
    import argparse

    conf = record["conf"]
    action = constants.Action.get_match(record["action"])
    benchmark = constants.Benchmark.get_match(conf["benchmark"])
    scenario = constants.Scenario.get_match(conf["scenario"])
    setting = _workload_setting(constants, record["workload"])
    required, optional = fields_mod.get_applicable_fields(action, benchmark, scenario, system, setting)
    parser = argparse.ArgumentParser(allow_abbrev=False)
    main_names = set()
    for field in fields_mod.MainArgs:
        field.value.add_to_argparser(parser, allow_argparse_default=True)
        main_names.add(field.value.name)
    for field in required + optional:
        if field.name not in main_names:
            field.add_to_argparser(parser)
    _, unknown = parser.parse_known_args(argv)
    return unknown


def _workload_setting(constants, shortname: str):
    for harness in constants.HarnessType:
        for accuracy in constants.AccuracyTarget:
            for power in constants.PowerSetting:
                setting = constants.WorkloadSetting(harness, accuracy, power)
                if setting.shortname() == shortname:
                    return setting
    raise ValueError(f"unknown workload setting {shortname}")


def _config_name(configuration, constants, system, record) -> str | None:
    conf = record["conf"]
    setting = _workload_setting(constants, record["workload"])
    config = configuration.ConfigRegistry.get(constants.Benchmark.get_match(conf["benchmark"]),
                                              constants.Scenario.get_match(conf["scenario"]), system,
                                              **setting.as_dict())
    return None if config is None else f"{config.__module__}.{config.__qualname__}"


def _fields(fields_mod, constants, system, benchmark, scenario, accuracy) -> dict:
    """The fields NVIDIA's rules allow for a workload, per action (what a config and RUN_ARGS may set)."""
    bench = constants.Benchmark.get_match(benchmark)
    scen = constants.Scenario.get_match(scenario)
    setting = constants.WorkloadSetting(constants.G_DEFAULT_HARNESS_TYPES[bench],
                                        constants.AccuracyTarget(accuracy), constants.PowerSetting.MaxP)
    out = {}
    for action in (None, constants.Action.GenerateEngines, constants.Action.RunHarness):
        required, optional = fields_mod.get_applicable_fields(action, bench, scen, system, setting)
        out["config" if action is None else action.valstr()] = sorted(f.name for f in required + optional)
    return out


def _registered(configuration, constants, benchmark: str, scenario: str) -> dict:
    """Every config registered for a benchmark and scenario: system -> workload settings."""
    bench = constants.Benchmark.get_match(benchmark)
    scen = constants.Scenario.get_match(scenario)
    tree = configuration.ConfigRegistry._registry.get([bench, scen])
    out: dict = {}
    if tree is None:
        return out
    for system, settings in tree.items():
        out[getattr(system, "name", str(system))] = sorted(s.shortname() for s in settings)
    return out


def main(path: str) -> int:
    request = json.loads(open(path).read())
    code_dir = request["code_dir"]
    os.chdir(request["cwd"])
    sys.path.insert(0, code_dir)
    if request.get("custom_definition"):
        os.environ["MLPINF_CUSTOM_DEFINITION_PATH"] = request["custom_definition"]
    else:
        os.environ.pop("MLPINF_CUSTOM_DEFINITION_PATH", None)
    result: dict = {"python": sys.version.split()[0], "code_dir": code_dir}
    try:
        import code  # noqa: F401  (NVIDIA's package, first on sys.path)

        if not hasattr(sys.modules["code"], "__path__"):
            raise ImportError(f"'code' resolved to {sys.modules['code'].__file__}, not NVIDIA's package")
        _install_handlers()
        if request.get("hardware"):
            _fill_hardware(request["hardware"])
        # NVIDIA's modules, by name: they exist only on the probe's sys.path
        nv_logging = _from("code.common", "logging")
        nv_logging.getLogger().addHandler(_Capture())
        main_mod = importlib.import_module("code.main")
        constants = _from("code.common", "constants")
        fields_mod = _from("code.common", "fields")
        system_list = _from("code.common.systems", "system_list")
        configuration = _from("configs", "configuration")
    except Exception as exc:  # noqa: BLE001  (reported, with NVIDIA's traceback)
        result["error"] = {"type": type(exc).__name__, "message": str(exc),
                           "traceback": traceback.format_exc(limit=8)}
        print(MARKER + json.dumps(result))
        return 0
    result["systems"] = _systems(system_list)
    result["custom"] = _custom_checks(system_list, request.get("custom_systems", []))
    system = system_list.DETECTED_SYSTEM
    answers = []
    for query in request.get("queries", []):
        RECORDS.clear()
        WARNINGS.clear()
        answer: dict = {"id": query.get("id"), "argv": query["argv"]}
        sys.argv = ["code/main.py", *query["argv"]]
        try:
            if system_list.MATCHED_SYSTEM is None:
                answer["unknown_system"] = True
            else:
                main_args = main_mod.parse_main_args()
                main_mod.main(main_args, system)
        except BaseException as exc:  # noqa: BLE001  (NVIDIA raises on bad input: that is the answer)
            answer["error"] = {"type": type(exc).__name__, "message": str(exc),
                               "traceback": traceback.format_exc(limit=6)}
        answer["warnings"] = list(WARNINGS)
        answer["dispatched"] = []
        for record in RECORDS:
            entry = dict(record)
            try:
                entry["dropped"] = _dropped(query["argv"], fields_mod, constants, record, system)
                entry["config"] = _config_name(configuration, constants, system, record)
            except Exception as exc:  # noqa: BLE001
                entry["probe_error"] = f"{type(exc).__name__}: {exc}"
            answer["dispatched"].append(entry)
        answers.append(answer)
    result["answers"] = answers
    result["fields"] = []
    for ask in request.get("fields", []):
        try:
            target = system if ask.get("system") is None else system_list.KnownSystem[ask["system"]]
            result["fields"].append({**ask, "fields": _fields(fields_mod, constants, target, ask["benchmark"],
                                                               ask["scenario"], ask["accuracy"])})
        except Exception as exc:  # noqa: BLE001
            result["fields"].append({**ask, "error": f"{type(exc).__name__}: {exc}"})
    result["registered"] = []
    for ask in request.get("registered", []):
        try:
            configuration.ConfigRegistry.load_configs(constants.Benchmark.get_match(ask["benchmark"]),
                                                      constants.Scenario.get_match(ask["scenario"]))
            result["registered"].append({**ask, "systems": _registered(configuration, constants,
                                                                       ask["benchmark"], ask["scenario"])})
        except Exception as exc:  # noqa: BLE001
            result["registered"].append({**ask, "error": f"{type(exc).__name__}: {exc}",
                                         "traceback": traceback.format_exc(limit=6)})
    sys.stdout.flush()
    print(MARKER + json.dumps(result, default=repr))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
