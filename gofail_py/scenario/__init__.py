"""Scenarios: sequence failpoints across processes, from a text file or from Python."""

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
