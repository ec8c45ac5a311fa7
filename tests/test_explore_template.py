"""Template substitution: {failpoint} {terms} {failpoint_type} filled in before parsing, others kept."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from gofail_py.errors import ScenarioSyntaxError
from gofail_py.explore.campaign import classify
from gofail_py.explore.cells import Cell, make_cells
from gofail_py.explore.template import fill_template, load_cell, one_word_terms, template_names
from gofail_py.scenario import parse_scenario
from gofail_py.terms import normalize_terms
from tests.support.goprog import REPO

TEMPLATE = """\
process kv: {kvserver} --listen 127.0.0.1:{port} --data {tmp}/kv --fault {terms}
start kv
set kv {failpoint}={terms}
wait kv {failpoint} count >= 1 within 2s
run python3 {dir}/check.py {kv.port} {failpoint} {terms} "{terms} quoted" '{failpoint_type}'
unset kv {failpoint}
"""
VALUES = {"failpoint": "writeError", "terms": 'return("disk full")', "failpoint_type": "string"}


def test_set_and_wait_get_the_terms_as_one_word() -> None:
    text = fill_template(TEMPLATE, VALUES)
    assert 'set kv writeError=return("disk full")\n' in text
    assert "wait kv writeError count >= 1 within 2s" in text
    scenario = parse_scenario(text)
    assert dict(scenario.steps[1].failpoints) == {"writeError": 'return("disk full")'}  # type: ignore[attr-defined]


def test_commands_split_back_to_the_value() -> None:
    text = fill_template(TEMPLATE, VALUES)
    run = next(line for line in text.splitlines() if line.startswith("run "))
    argv = shlex.split(run[len("run "):])
    assert argv == ["python3", "{dir}/check.py", "{kv.port}", "writeError", 'return("disk full")',
                    'return("disk full") quoted', "string"]
    process = next(line for line in text.splitlines() if line.startswith("process "))
    assert shlex.split(process.partition(":")[2])[-1] == 'return("disk full")'


def test_other_placeholders_are_left_for_the_runner() -> None:
    text = fill_template(TEMPLATE, VALUES)
    for placeholder in ("{kvserver}", "{port}", "{tmp}", "{dir}", "{kv.port}"):
        assert placeholder in text


@pytest.mark.parametrize(("given", "sent"), [
    ("sleep(100ms)", 'sleep("100ms")'),
    ('sleep("100ms")', 'sleep("100ms")'),
    ("1*sleep(10) -> panic", "1*sleep(10)->panic"),
    ('return("a b")', 'return("a b")'),
])
def test_terms_become_one_checked_word(given: str, sent: str) -> None:
    assert one_word_terms(given) == sent
    text = fill_template("endpoint kv: 127.0.0.1:1\nset kv x={terms}\n", {"terms": given})
    assert dict(parse_scenario(text).steps[0].failpoints) == {"x": sent}  # type: ignore[attr-defined]


def test_missing_and_bad_values_are_errors_before_parsing() -> None:
    with pytest.raises(ScenarioSyntaxError, match="--var failpoint=... --var terms=..."):
        fill_template(TEMPLATE, {"failpoint_type": "string"})
    with pytest.raises(ScenarioSyntaxError, match="not a failpoint name"):
        fill_template(TEMPLATE, {**VALUES, "failpoint": "a-b"})
    with pytest.raises(ScenarioSyntaxError, match="bad terms"):
        fill_template(TEMPLATE, {**VALUES, "terms": "explode"})


def test_placeholders_in_comments_only_are_not_required() -> None:
    assert template_names("# uses {failpoint}\nstart kv # {terms}\n") == set()
    assert fill_template("# {failpoint}\n", {}) == "# {failpoint}\n"


def test_sampling_is_reproducible_and_keeps_matrix_order() -> None:
    failpoints = [(f"fp{i}", "struct{}") for i in range(10)]
    first = make_cells(failpoints, ["panic", "sleep(1)"], seed=7, sample=5)
    assert first == make_cells(failpoints, ["panic", "sleep(1)"], seed=7, sample=5)
    assert len(first) == 5 and first != make_cells(failpoints, ["panic", "sleep(1)"], seed=8, sample=5)
    everything = make_cells(failpoints, ["panic", "sleep(1)"])
    assert [everything.index(cell) for cell in first] == sorted(everything.index(cell) for cell in first)
    assert Cell("a", "int", 'sleep("1s")').slug.startswith("a-sleep__1s__-")
    assert Cell("a", "int", 'return("x y")').slug != Cell("a", "int", 'return("x_y")').slug
    assert Cell("a", "int", "panic").slug == "a-panic"
    assert len(make_cells(failpoints, ["panic", "panic"])) == 10


def _record(statement: str, message: str, outcome: str = "failed") -> dict[str, object]:
    return {"index": "3", "statement": statement, "outcome": outcome, "message": message}


ARMED = {"index": "2", "statement": "set kv fp=panic", "outcome": "ok", "message": "", "sent": {"fp": "panic"}}


@pytest.mark.parametrize(("code", "records", "outcome"), [
    (0, [], "passed"),
    (2, [], "error"),
    (3, [_record("start kv", "did not answer", "error")], "error"),
    (130, [], "error"),
    (1, [_record("run python3 workload.py", "command exited with 1")], "error"),  # fp never armed
    (1, [{**ARMED, "sent": {"fpx": "panic"}}, _record("run python3 check.py", "exited with 1")], "error"),
    (1, [{**ARMED, "outcome": "failed"}], "error"),
    (1, [ARMED, _record("run python3 check.py", "command exited with 1")], "failed"),
    # only a `reach` that timed out is not-reached: its record's typed outcome, not its words
    (1, [ARMED, _record("wait kv fp count >= 1 within 1s", "fp count is 0, not >= 1, after 1 s")], "failed"),
    (1, [ARMED, _record("reach kv fp within 5s", "process kv died unexpectedly (exit code 2)")], "failed"),
    (1, [ARMED, _record("reach kv fp within 5s", "not reached: fp did not fire within 5s", "not-reached"),
         _record("parallel:", "a step inside failed")], "not-reached"),
    (3, [ARMED, _record("reach kv fp within 5s", "not reached", "not-reached")], "error"),
])
def test_one_classifier_decides_outcomes(code: int, records: list[dict[str, object]], outcome: str) -> None:
    assert classify(code, records, Cell("fp", "struct{}", "panic")) == outcome


TEMPLATES = sorted(REPO.joinpath("examples").rglob("*.gofail"))


@pytest.mark.parametrize("path", [p for p in TEMPLATES if template_names(p.read_text())], ids=lambda p: p.stem)
@pytest.mark.parametrize("terms", ["panic", 'sleep("100ms")', "sleep(1s)", "0*return(2)"])
def test_bundled_templates_parse_for_every_kind_of_terms(path: Path, terms: str) -> None:
    from gofail_py.explore.table import read_table

    # a template with a failpoint table is read with its row (the table beside it, a failpoint it has)
    table_file, failpoint = WITH_TABLE.get(path.stem, (None, "raftAfterSave"))
    table = read_table(path.parent / table_file) if table_file else None
    scenario = load_cell(path, {"failpoint": failpoint, "terms": terms, "failpoint_type": "struct{}"}, table)
    armed = [step for step in scenario.steps if type(step).__name__ == "SetFailpoints"]
    assert [dict(step.failpoints) for step in armed] == [{failpoint: normalize_terms(terms)}]  # type: ignore[attr-defined]


WITH_TABLE = {"kv_table": ("kvserver.tsv", "slowWrite"), "campaign": ("failpoints.tsv", "raftAfterSave")}


def test_steps_give_a_timeline_only_to_journals_without_events() -> None:
    from gofail_py.recording.events import Crash, FailpointWindow, ProcessEvent, Step
    from gofail_py.explore.derive import derive

    steps = [Step("r", "1", "start kv", target="kv", start=0.0, end=0.1, answer={"pid": 7}),
             Step("r", "2", "set kv fp=panic", target="kv", start=0.2, end=0.2, sent={"fp": "panic"}),
             Step("r", "3", "reach kv fp within 2s", target="kv", start=0.3, end=0.4,
                  answer={"reached": "panic", "exit_code": 2, "panic": "panic: failpoint panic: {}"})]
    derived = derive(steps)
    assert [e for e in derived if isinstance(e, ProcessEvent)] == [
        ProcessEvent("r", "kv", "start", 0.1, pid=7), ProcessEvent("r", "kv", "exit", 0.3, exit_code=2)]
    assert [e for e in derived if isinstance(e, Crash)][0].failpoint == "fp"
    window = next(e for e in derived if isinstance(e, FailpointWindow))
    assert (window.start, window.end, window.hits, window.exact, window.closed_by) == (0.2, 0.3, 1, False, "crash")
    recorded = [ProcessEvent("r", "kv", "start", 0.1, pid=7), *steps]
    assert derive(recorded) == recorded  # a recorder's journal is drawn as it is
