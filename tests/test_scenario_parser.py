"""The scenario text format and the Python API, without processes: parse, validate, render back."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gofail_py.errors import ScenarioSyntaxError
from gofail_py.explore.template import template_names
from gofail_py.scenario import Scenario, load_scenario, parse_duration, parse_scenario
from gofail_py.scenario import model
from gofail_py.scenario.builder import render
from gofail_py.scenario.parser import DECLARATIONS
from gofail_py.scenario.statements import keywords
from gofail_py.scenario.model import format_duration
from gofail_py.scenario.statements.blocks import Choose, Parallel, Repeat
from gofail_py.scenario.statements.commands import RunCommand, Sleep
from gofail_py.scenario.statements.expect import ExpectExit, ExpectRunning
from gofail_py.scenario.statements.failpoints import ExpectCount, SetFailpoints, UnsetFailpoints, WaitCount
from gofail_py.scenario.statements.lifecycle import Restart, Start, Stop
from gofail_py.terms import normalize_terms
from tests.support.goprog import REPO, TESTDATA

SCENARIOS = TESTDATA / "scenarios"
ERROR_CASES = sorted((SCENARIOS / "errors").glob("*.gofail"))
# templates ({failpoint}, {terms}) parse once filled: tests/test_explore_template.py
VALID = sorted((SCENARIOS / "valid").glob("*.gofail")) + [
    path for path in sorted((REPO / "examples").rglob("*.gofail")) if not template_names(path.read_text())
]


def unlocated(value: Any) -> Any:
    """A model value with every `where` reset, to compare what was said rather than where."""
    if isinstance(value, tuple):
        return tuple(unlocated(item) for item in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: unlocated(getattr(value, f.name)) for f in dataclasses.fields(value) if f.name != "where"}
        return dataclasses.replace(value, **changes, **({"where": model.Location()} if hasattr(value, "where") else {}))
    return value


def content(scenario: Scenario) -> tuple[Any, ...]:
    return (
        unlocated(tuple(scenario.processes.values())),
        unlocated(tuple(scenario.endpoints.values())),
        unlocated(tuple(scenario.clusters.values())),
        dict(scenario.aliases),
        unlocated(tuple(scenario.steps)),
    )


@pytest.mark.parametrize("path", ERROR_CASES, ids=lambda p: p.stem)
def test_each_syntax_error_has_its_message_and_place(path: Path) -> None:
    """Each file's first line says the error it must give: `# error: LINE:COL: message`."""
    expected = path.read_text().splitlines()[0].removeprefix("# error: ")
    expected = expected.replace("{keywords}", ", ".join([*DECLARATIONS, *keywords()]))
    with pytest.raises(ScenarioSyntaxError) as caught:
        load_scenario(path)
    assert str(caught.value) == f"{path}:{expected}"


def test_there_is_an_error_case_for_every_statement() -> None:
    """Every keyword of the grammar is misused in at least one error case."""
    text = "\n".join(path.read_text() for path in ERROR_CASES)
    for keyword in ("process", "env", "endpoint", "start", "stop", "set", "unset", "sleep", "run", "wait",
                    "expect", "parallel:", "repeat", "choose"):
        assert f"\n{keyword}" in text or f"\n  {keyword}" in text, keyword


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_valid_files_render_back_to_the_same_scenario(path: Path) -> None:
    parsed = load_scenario(path)
    text = render(parsed)
    again = parse_scenario(text, "rendered.gofail")
    assert content(again) == content(parsed)
    assert render(again) == text, "rendering is stable"


def test_locations_point_at_the_statement() -> None:
    scenario = load_scenario(SCENARIOS / "valid" / "nested_blocks.gofail")
    repeat = scenario.steps[1]
    assert isinstance(repeat, Repeat) and (repeat.where.line, repeat.where.column) == (10, 1)
    choose = repeat.steps[0]
    assert isinstance(choose, Choose) and (choose.where.line, choose.where.column) == (11, 3)
    assert isinstance(choose.steps[2], Repeat) and choose.steps[2].where.line == 14
    assert str(choose.where).endswith("nested_blocks.gofail:11:3")


def test_terms_are_checked_and_normalised_in_the_parser() -> None:
    scenario = parse_scenario("process a: x\nset a s=sleep(1s) r=2*return(\"x\")->panic for 1m\n")
    step = scenario.steps[0]
    assert isinstance(step, SetFailpoints)
    assert step.failpoints == (("s", 'sleep("1s")'), ("r", '2*return("x")->panic'))
    assert step.duration == 60.0


def test_comments_and_quotes() -> None:
    scenario = parse_scenario(
        "# a comment line\n"
        "process a: ./bin --flag 'value # not a comment' --x=a#b   # a comment\n"
        "run? echo \"two words\" '{a.port}'\n"
    )
    assert scenario.processes["a"].argv == ("./bin", "--flag", "value # not a comment", "--x=a#b")
    step = scenario.steps[0]
    assert isinstance(step, RunCommand) and step.allow_failure and not step.background
    assert step.argv == ("echo", "two words", "{a.port}")


def test_python_api_builds_the_same_model_as_the_text() -> None:
    built = Scenario("api")
    built.process("kv", ["{kvserver}", "--listen", "127.0.0.1:{port}"], env={"A": "1"})
    built.start("kv").set("kv", afterCommit="panic", duration=1.5)
    with built.repeat(2):
        built.command(["true"], allow_failure=True)
        with built.choose(seed=3):
            built.sleep(0.25)
            built.kill("kv")
    built.wait_count("kv", "afterCommit", ">=", 1, within=2)
    built.expect_exit("kv", panic=True, within=5)
    parsed = parse_scenario(
        "process kv: {kvserver} --listen 127.0.0.1:{port}\nenv kv A=1\nstart kv\nset kv afterCommit=panic for 1500ms\n"
        "repeat 2:\n  run? true\n  choose seed 3:\n    sleep 250ms\n    kill kv\n"
        "wait kv afterCommit count >= 1 within 2s\nexpect kv exit panic within 5s\n"
    )
    assert content(built) == content(parsed)
    assert built.to_text() == parsed.to_text()


def test_api_errors_are_the_same_exceptions() -> None:
    scenario = Scenario()
    with pytest.raises(ScenarioSyntaxError, match="no process 'kv' declared"):
        scenario.start("kv")
    scenario.process("kv", ["x"])
    with pytest.raises(ScenarioSyntaxError, match="'kv' is declared twice"):
        scenario.endpoint("kv", "127.0.0.1:1")
    with pytest.raises(ScenarioSyntaxError, match="unknown comparison '=~'"):
        scenario.expect_count("kv", "fp", "=~", 1)
    with pytest.raises(ScenarioSyntaxError, match="a block needs at least one step"):
        with scenario.parallel():
            pass
    with pytest.raises(Exception, match="bad terms|action"):
        scenario.set("kv", fp="explode")
    with pytest.raises(ScenarioSyntaxError, match="no process or endpoint 'nope' declared"):
        scenario.add(Start("nope"))
    with pytest.raises(ScenarioSyntaxError, match="out of range"):
        scenario.sleep(1e12)
    assert scenario.add(Start("kv")).steps[-1] == Start("kv")


def test_durations() -> None:
    assert parse_duration("500ms") == 0.5 and parse_duration("2s") == 2 and parse_duration("1.5m") == 90
    assert parse_duration("1h") == 3600 and parse_duration(".5s") == 0.5
    for bad in ("5", "5 s", "-1s", "1d", "ms", "24.001h", "99999999999h", "1e400s"):
        with pytest.raises(ValueError):
            parse_duration(bad)
    assert parse_duration("24h") == model.MAX_DURATION


@given(st.floats(min_value=0, max_value=model.MAX_DURATION, allow_nan=False))
def test_durations_format_and_parse_back_exactly(seconds: float) -> None:
    assert parse_duration(format_duration(seconds)) == seconds


# --- generated scenarios: whatever the API builds, the text format carries ---------------------

NAMES = st.sampled_from(["a", "b_2", "Node-3"])
FAILPOINTS = st.sampled_from(["afterCommit", "x", "raftBeforeSave"])
TERMS = st.sampled_from(["panic", "off", "1*return", "sleep(100)", 'return("disk full")', "50.0%print->2*sleep(\"1s\")",
                         "return(`raw text`)", "return(-3)", "return(true)", "sleep(1s)"]).map(normalize_terms)
DURATIONS = st.one_of(st.integers(1, 5000).map(lambda ms: ms / 1000), st.floats(0.001, 1e4, allow_nan=False))
WORDS = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=12)


def _leaf(draw: st.DrawFn, processes: list[str]) -> model.Step:
    target = draw(st.sampled_from(processes))
    kind = draw(st.integers(0, 10))
    if kind == 0:
        return Start(target)
    if kind == 1:
        return Stop(target, kill=draw(st.booleans()))
    if kind == 2:
        return Restart(target)
    if kind == 3:
        pairs = draw(st.dictionaries(FAILPOINTS, TERMS, min_size=1, max_size=3))
        return SetFailpoints(target, tuple(pairs.items()), draw(st.none() | DURATIONS))
    if kind == 4:
        return UnsetFailpoints(target, draw(st.none() | st.lists(FAILPOINTS, min_size=1, max_size=3).map(tuple)))
    if kind == 5:
        return Sleep(draw(DURATIONS))
    if kind == 6:
        argv = tuple(draw(st.lists(WORDS, min_size=1, max_size=4)))
        return RunCommand(argv, allow_failure=draw(st.booleans()), background=draw(st.booleans()))
    if kind == 7:
        return WaitCount(target, draw(FAILPOINTS), draw(st.sampled_from(model.COMPARISONS)), draw(st.integers(0, 99)),
                               draw(DURATIONS))
    if kind == 8:
        return ExpectExit(target, draw(st.booleans()), draw(DURATIONS))
    if kind == 9:
        return ExpectRunning(target)
    return ExpectCount(target, draw(FAILPOINTS), draw(st.sampled_from(model.COMPARISONS)), draw(st.integers(0, 99)))


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    names = draw(st.lists(NAMES, min_size=1, max_size=3, unique=True))
    scenario = Scenario()
    for name in names:
        scenario.processes[name] = model.ProcessDecl(
            name, tuple(draw(st.lists(WORDS, min_size=1, max_size=4))),
            tuple(draw(st.dictionaries(st.sampled_from(["A", "B_1"]), WORDS, max_size=2)).items()),
        )

    def steps(depth: int) -> tuple[model.Step, ...]:
        result: list[model.Step] = []
        for _ in range(draw(st.integers(1, 4))):
            block = draw(st.integers(0, 5)) if depth < 2 else 9
            if block == 0:
                result.append(Parallel(steps(depth + 1)))
            elif block == 1:
                result.append(Repeat(draw(st.integers(1, 20)), steps(depth + 1)))
            elif block == 2:
                result.append(Choose(steps(depth + 1), draw(st.none() | st.integers(0, 2**32))))
            else:
                result.append(_leaf(draw, names))
        return tuple(result)

    scenario.steps = list(steps(0))
    return scenario


@settings(max_examples=300, deadline=None)
@given(scenarios())
def test_generated_scenarios_render_and_parse_back(scenario: Scenario) -> None:
    text = render(scenario)
    parsed = parse_scenario(text)
    assert content(parsed) == content(scenario), text
