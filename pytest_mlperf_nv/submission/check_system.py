"""The submission checker's check of a system description (``systems/<system>.json``): the fields
the official checker requires and the values it rejects or misreads (a number 0 read as empty, a
count that is not a whole number, ``"is_network": "false"``), and the fit with the directory's
division and submitter.
"""

from __future__ import annotations

from typing import Any

from ..words import did_you_mean
from . import rules
from .check_base import CheckerBase, Ctx
from .findings import ERROR

_DIVISION_NETWORK = rules.NETWORK_BY_DIVISION


class SystemChecks(CheckerBase):
    """The check of a result's system description."""

    def check_system(self, ctx: Ctx) -> str | None:
        path = ctx.sub / "systems" / f"{ctx.system}.json"
        if not path.is_file():
            self.add(ctx, ERROR, "missing-file", path, f"{self.rel(path)} is missing (the system of results/"
                     f"{ctx.system}/)", "write the system description (35 fields, see "
                                        "rules.SYSTEM_REQUIRED_FIELDS)")
            return None
        desc = self.load_json(ctx, path)
        if not desc:
            return None
        fix_field = f"set it in {self.rel(path)} (suite: submission.system.<field>)"
        for key in rules.SYSTEM_REQUIRED_FIELDS:
            if key not in desc:
                self.add(ctx, ERROR, "system-field-missing", path, f"{path.name}: field {key} is missing",
                         fix_field)
            elif key in rules.SYSTEM_NON_EMPTY_FIELDS and not desc[key]:
                # The official checker tests `not value`: a JSON 0 or false is as empty as "".
                zero = desc[key] == 0 and not isinstance(desc[key], bool) and desc[key] is not None
                self.add(ctx, ERROR, "system-field-empty", path,
                         f"{path.name}: field {key} is {desc[key]!r}; the checker requires a meaningful value"
                         + (" and reads a number 0 as empty" if zero else ""),
                         'write the count as the string "0"' if zero else fix_field)
        for key in rules.SYSTEM_INT_FIELDS:
            if key in desc and desc[key] not in ("", None):
                value = desc[key]
                if not _whole_number(value):
                    self.add(ctx, ERROR, "system-field-type", path,
                             f"{path.name}: {key} is {value!r}, not a whole number (the official checker "
                             "multiplies it and crashes)", f"write {key} as a number, e.g. 1")
        status = desc.get("status")
        if status not in (None, "") and str(status).lower() not in rules.SYSTEM_STATUSES:
            self.add(ctx, ERROR, "system-field-value", path,
                     f"{path.name}: status "
                     f"{status!r}{did_you_mean(status, rules.SYSTEM_STATUSES, ignore_case=True)}",
                     f"set status to one of {', '.join(rules.SYSTEM_STATUSES)}")
        system_type = desc.get("system_type")
        if system_type not in (None, "") and system_type not in rules.SYSTEM_TYPES:
            self.add(ctx, ERROR, "system-field-value", path,
                     f"{path.name}: system_type {system_type!r}"
                     f"{did_you_mean(system_type, rules.SYSTEM_TYPES, ignore_case=True)}",
                     "set system_type to datacenter, edge or datacenter,edge")
            system_type = None
        if rules.IS_NETWORK in desc:
            value = desc[rules.IS_NETWORK]
            if not isinstance(value, str) or value.lower() not in ("true", "false"):
                self.add(ctx, ERROR, "system-field-type", path,
                         f"{path.name}: is_network is {value!r}; the checker needs the string \"true\" or "
                         "\"false\"",
                         'leave is_network out (not a network submission), or write "is_network": "true"')
            elif value.lower() == "false":
                # system_check: `if is_network:` — any non-empty string, "false" too, switches the
                # network-mode fields on (measured: 12 "field network_* is missing" errors).
                self.add(ctx, ERROR, "system-field-value", path,
                         f'{path.name}: "is_network": "false" makes the official checker require the 12 '
                         "network-mode fields (it tests the string's truth, not its value)",
                         "leave is_network out of the description")
        network = str(desc.get(rules.IS_NETWORK, "false")).lower() == "true"
        expected = _DIVISION_NETWORK.get(ctx.division)
        if expected is not None and network != expected:
            self.add(ctx, ERROR, "system-field-value", path,
                     f"{path.name}: is_network {str(network).lower()} does not fit the {ctx.division} "
                     "division",
                     f'set "is_network": "{str(expected).lower()}"')
        for key, want in (("submitter", ctx.submitter), ("division", ctx.division)):
            have = desc.get(key)
            if have not in (None, "") and str(have).lower() != want.lower():
                self.add(ctx, ERROR, "system-field-value", path,
                         f"{path.name}: {key} is {have!r}, the directory says {want!r}",
                         f"make {key} and the directory name the same")
        return str(system_type) if system_type else None


def _whole_number(value: Any) -> bool:
    """int() of the value works the way the checker's CSV export needs (1, "1"; not "x", "1 node", True)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return float(value).is_integer()
    try:
        int(str(value).strip())
    except ValueError:
        return False
    return True


__all__ = ["SystemChecks"]
