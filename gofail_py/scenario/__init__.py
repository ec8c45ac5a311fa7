"""Scenarios: sequence failpoints across processes, from a text file or from Python.

From the bottom: the model's plain values (model, journal), the placeholder language
(placeholders), what a statement's parse reads (cursor), what it talks to (targets) and the state
of a run its handler uses (runtime); the statements' table (statements/: one module per family);
then the builder (the Python API), the parser (the text format) and the runner, which runs each
step by the table. It offers Scenario, parse_scenario, load_scenario and run_scenario (here).

Must not import: gofail_py.report, gofail_py.explore, gofail_py.pytest, gofail_py.cli
"""

from __future__ import annotations

from gofail_py.scenario.builder import Scenario
from gofail_py.scenario.journal import StepRecord
from gofail_py.scenario.model import Location, parse_duration
from gofail_py.scenario.parser import load_scenario, parse_scenario
from gofail_py.scenario.runner import ScenarioResult, run_scenario

__all__ = [
    "Location",
    "Scenario",
    "ScenarioResult",
    "StepRecord",
    "load_scenario",
    "parse_duration",
    "parse_scenario",
    "run_scenario",
]
