"""The suite's ``submission:`` block: what the session's MLPerf submission tree is filed as.

    submission:
      round: v6.1                 # default: the round whose seeds the installed LoadGen carries
      division: closed            # closed | open
      submitter: ACME             # directory name and system-description field
      system_name: l4-ci          # default: the suite's name
      status: available           # available | preview | rdi
      tree: true                  # false: write no tree for this suite
      system: {cooling: air, host_storage_type: NVMe SSD, ...}   # system-description fields
      measurements: {weight_data_types: int8, ...}                # measurements.json fields
      model_mapping: {digits: resnet50}    # open division: own model -> MLPerf benchmark
"""

from __future__ import annotations

from typing import Any

from ..benchmarks.mlperf import MLPERF_BENCHMARKS
from ..errors import SuiteError
from ..submission.rules import (
    MEASUREMENTS_FIELDS,
    ROUNDS,
    SYSTEM_INT_FIELDS,
    SYSTEM_REQUIRED_FIELDS,
    SYSTEM_STATUSES,
)

DIVISIONS = ("closed", "open")  # the network division needs fields this plugin does not write
KEYS = ("round", "division", "submitter", "system_name", "status", "tree", "system", "measurements",
        "model_mapping")

#: system description fields, the fields that must be non-empty, the fields the checker multiplies
#: (int-convertible or it crashes), measurements.json fields: one source, submission/rules.py
SYSTEM_FIELDS = SYSTEM_REQUIRED_FIELDS
#: optional fields a description may carry besides the required ones
SYSTEM_OPTIONAL_FIELDS = ("is_network", "system_name_detail", "power_management", "filesystem",
                          "boot_firmware_version", "management_firmware_version", "disk_drives",
                          "disk_controllers", "other_hardware")
#: counts the suite must give as integers (the checker multiplies some; all are counts)
SYSTEM_COUNT_FIELDS = (*SYSTEM_INT_FIELDS, "host_processors_per_node", "host_processor_core_count",
                       "host_network_card_count")
MEASUREMENT_FIELDS = MEASUREMENTS_FIELDS
#: fields of the block itself that fill the description (not under system:)
_OWN = ("division", "submitter", "status", "system_name")


def parse_submission(doc: Any, root: Any, suite_name: str) -> dict[str, Any]:
    """Validate ``submission:``; returns plain values plus ``locations`` (key -> Location)."""
    _kind = doc.kind

    result: dict[str, Any] = {"system": {}, "measurements": {}, "model_mapping": {}, "locations": {},
                              "given": False}
    block = doc.mapping(root, "submission", "submission")
    if block is None:
        return result
    result["given"] = True
    doc.check_keys(block, KEYS, "submission")
    for key in ("round", "division", "status"):
        choices = {"round": ROUNDS, "division": DIVISIONS, "status": SYSTEM_STATUSES}[key]
        value = doc.choice(block, key, f"submission.{key}", choices)
        if value is not None:
            result[key] = value
            result["locations"][key] = doc.value_loc(block, key)
    for key in ("submitter", "system_name"):
        if key in block:
            result[key] = doc.safe_name(block[key], doc.value_loc(block, key), f"submission.{key}", key)
            result["locations"][key] = doc.value_loc(block, key)
    if "tree" in block:
        if not isinstance(block["tree"], bool):
            raise SuiteError(f"expected true or false, got {_kind(block['tree'])}",
                             doc.value_loc(block, "tree"), key="submission.tree")
        result["tree"] = block["tree"]
    system = doc.mapping(block, "system", "submission.system")
    if system is not None:
        allowed = [f for f in (*SYSTEM_FIELDS, *SYSTEM_OPTIONAL_FIELDS) if f not in _OWN]
        for key in system:
            if key in _OWN:
                raise SuiteError(f"set {key} as submission.{key}, not under submission.system",
                                 doc.key_loc(system, key), key=f"submission.system.{key}")
        doc.check_keys(system, allowed, "submission.system")
        for key, value in system.items():
            loc = doc.value_loc(system, key)
            if key in SYSTEM_COUNT_FIELDS:
                value = doc.number(value, loc, f"submission.system.{key}", integer=True, positive=False,
                                   minimum=0)
            elif key == "is_network":
                if not isinstance(value, bool):
                    raise SuiteError(f"expected true or false, got {_kind(value)}", loc,
                                     key="submission.system.is_network")
            elif isinstance(value, bool) or not isinstance(value, (str, int, float)):
                raise SuiteError(f"expected text or a number, got {_kind(value)}", loc,
                                 key=f"submission.system.{key}")
            result["system"][key] = value
            result["locations"][f"system.{key}"] = loc
    measurements = doc.mapping(block, "measurements", "submission.measurements")
    if measurements is not None:
        doc.check_keys(measurements, MEASUREMENT_FIELDS, "submission.measurements")
        for key, value in measurements.items():
            if isinstance(value, bool) or not isinstance(value, (str, int, float)):
                raise SuiteError(f"expected text, got {_kind(value)}", doc.value_loc(measurements, key),
                                 key=f"submission.measurements.{key}")
            result["measurements"][key] = str(value)
    mapping = doc.mapping(block, "model_mapping", "submission.model_mapping")
    if mapping is not None:
        for key, value in mapping.items():
            loc = doc.value_loc(mapping, key)
            if not isinstance(value, str) or value not in MLPERF_BENCHMARKS:
                from ..words import did_you_mean

                hint = did_you_mean(str(value), MLPERF_BENCHMARKS) if isinstance(value, str) else ""
                raise SuiteError(f"expected the MLPerf benchmark this model is entered for{hint}; one of "
                                 f"{', '.join(MLPERF_BENCHMARKS)}", loc,
                                 key=f"submission.model_mapping.{key}")
            result["model_mapping"][str(key)] = value
    return result
