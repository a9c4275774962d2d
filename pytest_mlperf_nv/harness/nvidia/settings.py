"""The ``nvidia:`` block of a suite and the settings of harness nvidia (flag, ini, environment).

    nvidia: {code_dir, version, system_id, custom_system, calibrate}

``code_dir``, ``version`` and ``system_id`` are also settings (``--mlperf-nvidia-code-dir``,
...), with the plugin's one precedence: command line > environment > suite > ini > default.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...errors import SuiteError
from ...options import Setting, path_value, plain_value
from ...suite.model import Sourced

if TYPE_CHECKING:
    from ...session import MlperfSession
    from ...suite.model import Case, Suite

SECTION = "nvidia"
KEYS = ("code_dir", "version", "system_id", "custom_system", "calibrate")
#: nvidia.custom_system (custom_system.py MODES)
CUSTOM_SYSTEM_MODES = ("auto", "always", "never")


def _version(value: str) -> str:
    from .args import VERSIONS

    if value not in VERSIONS:
        raise ValueError(f"expected one of {', '.join(VERSIONS)}")
    return value


SETTINGS = (
    Setting("nvidia_code_dir", "--mlperf-nvidia-code-dir", "mlperf_nvidia_code_dir",
            "MLPERF_NV_NVIDIA_CODE_DIR", "nvidia.code_dir", lambda: None, path_value, "DIR",
            "NVIDIA's closed/NVIDIA directory of an inference_results checkout (harness nvidia)",
            is_path=True),
    Setting("nvidia_version", "--mlperf-nvidia-version", "mlperf_nvidia_version", "MLPERF_NV_NVIDIA_VERSION",
            "nvidia.version", lambda: None, _version, "VERSION",
            "round of NVIDIA's code: v4.1 or v5.0 (default: detected from the code dir)"),
    Setting("nvidia_system_id", "--mlperf-nvidia-system-id", "mlperf_nvidia_system_id",
            "MLPERF_NV_NVIDIA_SYSTEM_ID", "nvidia.system_id", lambda: None, plain_value, "ID",
            "system id NVIDIA's code runs as (default: what its own detection says)"),
)


def parse_section(doc: Any, block: Any) -> dict[str, Sourced]:
    """``nvidia: {code_dir, version, system_id, custom_system, calibrate}``: where NVIDIA's code is,
    what it runs as, and whether it runs under a generated custom-system definition."""
    found = {}
    for key in doc.check_keys(block, KEYS, SECTION):
        if key == "custom_system":
            value = doc.choice(block, key, f"{SECTION}.{key}", CUSTOM_SYSTEM_MODES)
        elif key == "calibrate":
            value = block[key]
            if not isinstance(value, bool):
                raise SuiteError(f"expected true or false, got {doc.kind(value)}", doc.value_loc(block, key),
                                 key=f"{SECTION}.calibrate")
        else:
            value = doc.string(block, key, f"{SECTION}.{key}")
        loc = doc.value_loc(block, key)
        if key == "code_dir":
            value = doc.resolved_path(block, key, f"{SECTION}.{key}")  # no NUL, within PATH_MAX
        found[key] = Sourced(value, f"suite {loc}", loc)
    return found


def block(suite: Suite) -> dict[str, Sourced]:
    """The suite's ``nvidia:`` block (empty when it has none)."""
    return suite.sections.get(SECTION, {})


def setting(session: MlperfSession, case: Case, key: str) -> Sourced:
    """A setting of harness nvidia for ``case``: command line > environment > suite > ini > default."""
    return session.settings.sourced(f"nvidia_{key}", block(case.suite).get(key))


def code_dir_of(session: MlperfSession, case: Case) -> tuple[Sourced, Path | None]:
    code = setting(session, case, "code_dir")
    return code, Path(code.value) if code.value else None
