"""Where each file of a result goes in a round's submission tree (v6.x and v5.0 layouts).

v6.0/v6.1 (mlcommons/inference: tools/submission/submission_structure.md, checker constants.py):
    <division>/<submitter>/systems/<system>.json, src/, results/<system>/<model>/<Scenario>/
    {measurements.json, user.conf, README.md, performance/run_1/, accuracy/, TEST01/, TEST04/}
v5.0 (mlcommons/inference@5e903956: tools/submission/submission_checker.py):
    code/<model>/<impl>/, measurements/<system>/<model>/<Scenario>/{<system>_<impl>_<Scenario>.json,
    user.conf, README.md}, results/<system>/<model>/<Scenario>/{performance/run_1, accuracy},
    compliance/<system>/<model>/<Scenario>/TEST0x/
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath


@dataclass(frozen=True)
class Layout:
    round: str
    division: str
    submitter: str
    system: str
    implementation: str

    @property
    def v6(self) -> bool:
        return self.round.startswith("v6")

    @property
    def base(self) -> PurePosixPath:
        return PurePosixPath(self.division) / self.submitter

    def system_json(self) -> PurePosixPath:
        return self.base / "systems" / f"{self.system}.json"

    def code_dir(self, model: str) -> PurePosixPath:
        if self.v6:
            return self.base / "src"
        return self.base / "code" / model / self.implementation

    def result_dir(self, model: str, scenario: str) -> PurePosixPath:
        return self.base / "results" / self.system / model / scenario

    def measurements_dir(self, model: str, scenario: str) -> PurePosixPath:
        if self.v6:
            return self.result_dir(model, scenario)
        return self.base / "measurements" / self.system / model / scenario

    def measurements_json(self, model: str, scenario: str) -> PurePosixPath:
        if self.v6:
            return self.result_dir(model, scenario) / "measurements.json"
        name = f"{self.system}_{self.implementation}_{scenario}.json"
        return self.measurements_dir(model, scenario) / name

    def compliance_dir(self, model: str, scenario: str, test: str) -> PurePosixPath:
        if self.v6:
            return self.result_dir(model, scenario) / test
        return self.base / "compliance" / self.system / model / scenario / test

    def system_parts(self) -> list[PurePosixPath]:
        """Everything of this system in the tree (what a rebuild of the system replaces)."""
        parts = [self.system_json(), self.base / "results" / self.system]
        if not self.v6:
            parts += [self.base / "measurements" / self.system, self.base / "compliance" / self.system]
        return parts
