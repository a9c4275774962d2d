"""The emulator on NVIDIA's real front end: ``EMULATED_NVIDIA_CODE`` names a closed/NVIDIA tree.

Then ``python3 -m code.main`` of the emulated tree re-executes this file, which runs NVIDIA's own
``code.main.main`` from that tree: its system detection (on the recorded machine of
``EMULATED_HARDWARE``, through the plugin's front-end bridge, harness/nvidia/probe.py), its config
registry and custom definitions, its argument parsing and field rules. Only what needs TensorRT is
emulated: NVIDIA's action handlers are replaced by the emulator's (engine files, a LoadGen run with a
trivial SUT writing real logs into NVIDIA's log tree, metadata.json), fed with the effective
configuration NVIDIA's ``dispatch_action`` computed.

Run as a script (NVIDIA's package is named ``code`` too, so it cannot share a process with the
emulated one): ``python3 realfront.py <version> <argv...>``, working directory = the emulated tree.
"""

from __future__ import annotations

import os
import sys
import types
from pathlib import Path

COMMON = Path(__file__).resolve().parents[1]


def _profile(version: str):
    import importlib.util

    main = COMMON.parent / version / "code" / "main.py"
    spec = importlib.util.spec_from_file_location("emulated_main", main)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.PROFILE


def _plain(value):
    if isinstance(value, dict):
        return {str(getattr(k, "valstr", lambda k=k: k)()): _plain(v) for k, v in value.items()}
    valstr = getattr(value, "valstr", None)
    return valstr() if callable(valstr) else value


def _workload(profile, cli: dict, conf: dict):
    """The emulator's Workload for NVIDIA's effective config (nothing recomputed: NVIDIA's values)."""
    from nvemu.constants import BENCHMARKS
    from nvemu.emulator import Workload

    work = Workload.__new__(Workload)
    setting = conf["workload_setting"]
    work.profile, work.args, work.dropped = profile, cli, []
    work.system_id = conf["system_id"]
    work.bench = BENCHMARKS[conf["benchmark"].valstr()]
    work.scenario = conf["scenario"].valstr()
    work.harness_type = setting.harness_type.valstr()
    work.accuracy_target = setting.accuracy_target.value
    work.power_setting = setting.power_setting.valstr()
    work.shortname = conf["config_ver"]
    work.conf = {str(k): _plain(v) for k, v in conf.items() if k not in ("system", "workload_setting")}
    work.conf.setdefault("precision", work.bench.precision)
    return work


def _install_handlers(profile, cli: dict) -> None:
    from nvemu import emulator as E

    failure = E._failure()

    class Handler:
        action = ""

        def __init__(self, *args, **kwargs):
            self.audit = args[0] if self.action == "run_audit_harness" else None
            self.conf = next(a for a in args if isinstance(a, dict))

        def run(self):
            work = _workload(profile, dict(cli, audit_test=self.audit or cli.get("audit_test")), self.conf)
            if self.action in ("generate_engines", "calibrate"):
                E.do_generate_engines(work, failure, calibrate=self.action == "calibrate")
            elif self.action == "generate_conf_files":
                E.do_generate_conf_files(work, failure)
            elif self.action == "run_harness":
                E.do_run_harness(work, failure)
            elif self.action == "run_audit_harness":
                E.do_run_audit_harness(work, failure)

        @classmethod
        def reset_session(cls):
            return None

    module = types.ModuleType("code.actionhandler")
    for name, action in (("GenerateEngineHandler", "generate_engines"), ("CalibrateHandler", "calibrate"),
                         ("GenerateConfFilesHandler", "generate_conf_files"),
                         ("RunHarnessHandler", "run_harness"),
                         ("RunAuditHandler", "run_audit_harness"), ("GenerateTritonConfigHandler", "triton")):
        setattr(module, name, type(name, (Handler,), {"action": action}))

    class SubprocessActionHandlerWrapper:
        def __init__(self, handler):
            self.handler = handler

        def run(self):
            self.handler.run()

    module.SubprocessActionHandlerWrapper = SubprocessActionHandlerWrapper
    sys.modules["code.actionhandler"] = module


def main(version: str, argv: list[str]) -> int:
    tree = os.environ["EMULATED_NVIDIA_CODE"]
    # This file's own directory (nvemu/, put first by Python) holds modules named like NVIDIA's (configs).
    here = Path(__file__).resolve().parent
    sys.path[:] = [tree, str(COMMON), *(p for p in sys.path if p and Path(p).resolve() != here)]
    from pytest_mlperf_nv.harness.nvidia import probe  # the plugin's bridge: hardware buffers, nothing else

    profile = _profile(version)
    from nvemu import fields as F

    cli, _ = F.parse_main_args(argv, profile.test_run_flag, f"NVIDIA code.main ({tree})")
    import code  # noqa: F401  (NVIDIA's package)

    _install_handlers(profile, cli)
    hardware = os.environ.get("EMULATED_HARDWARE")
    if hardware:
        from pytest_mlperf_nv.harness.nvidia.frontend import hardware_fields
        from pytest_mlperf_nv.systems.snapshot import read_snapshot

        probe._fill_hardware(hardware_fields(read_snapshot(hardware)))
    import code.main as nvidia_main
    from code.common import logging
    from code.common.systems.system_list import DETECTED_SYSTEM, MATCHED_SYSTEM

    # As code/main.py's __main__ block.
    if MATCHED_SYSTEM is None:
        logging.info(f"Detected system did not match any known systems. Exiting. {DETECTED_SYSTEM}")
        return 0
    logging.info(f"Detected system ID: {MATCHED_SYSTEM}")
    sys.argv = ["code/main.py", *argv]
    nvidia_main.main(nvidia_main.parse_main_args(), DETECTED_SYSTEM)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2:]))
