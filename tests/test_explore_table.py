"""`explore --table`: a failpoint table's columns are placeholders of each failpoint's cells, a
failpoint of the source without a row is refused (unless --only leaves it out), and a cell not
reached shows the row's `why` in the text, the JSON and the HTML report. The pytest plugin takes
the same table. Real runs on examples/kvserver (explore suite); the refusals run in the default
suite (nothing is started)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gofail_py.errors import TableError
from gofail_py.explore.table import parse_table
from tests.support.goprog import REPO

EXPLORE = REPO / "examples" / "explore"
KVSERVER = REPO / "examples" / "kvserver"
TEMPLATE = EXPLORE / "kv_table.gofail"
TABLE = EXPLORE / "kvserver.tsv"
STALE_WHY = "the read path (Store.Range): this template only writes while it is armed; a read under it would reach it"


def cli(*args: str, cwd: Path = REPO, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, "-m", "gofail_py.cli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout)
    assert "Traceback" not in done.stdout + done.stderr, done.stderr
    return done


def test_the_example_table_has_a_row_for_every_failpoint_of_kvserver() -> None:
    from gofail_py.rewriter.workspace import list_failpoints

    table = parse_table(TABLE.read_text(), str(TABLE))
    names = [located.failpoint.name for located in list_failpoints([KVSERVER])]
    assert table.missing(names) == [] and sorted(table.rows) == sorted(names)
    assert table.columns == ("during", "why") and table.why("staleRead") == STALE_WHY


@pytest.mark.parametrize(("text", "message"), [
    ("", "<t>: empty: expected a header row starting with `failpoint`"),
    ("name\twhy\n", "<t>:1: the header's first column is 'name', not `failpoint`"),
    ("failpoint\tmy-col\n", "<t>:1: column 'my-col' is not a placeholder name"),
    ("failpoint\tport\n", "<t>:1: column 'port' is a name the template already has"),
    ("failpoint\twhy\twhy\n", "<t>:1: column 'why' is there twice"),
    ("# a comment\nfailpoint\twhy\na\tx\ta\n", "<t>:3: 3 fields, the header has 2 columns"),
    ("failpoint\twhy\na b\tx\n", "<t>:2: 'a b' is not a failpoint name"),
    ("failpoint\twhy\nx\t1\nx\t2\n", "<t>:3: failpoint x has a second row"),
    ("failpoint\twhy\nx\t\0\n", "<t>:2: a NUL byte"),
])
def test_a_table_that_is_wrong_says_where(text: str, message: str) -> None:
    with pytest.raises(TableError) as caught:
        parse_table(text, "<t>")
    assert str(caught.value).startswith(message)
    assert caught.value.exit_code == 2


def test_a_column_named_as_the_templates_own_is_data_only() -> None:
    table = parse_table("failpoint\tterms\ttrigger\nx\treturn(\"e\")\tdefrag\n", "<t>")
    assert table.placeholders == ("trigger",) and table.row("x") == {"trigger": "defrag"}
    assert table.rows["x"]["terms"] == 'return("e")'


def test_trailing_empty_fields_may_be_left_out_and_blanks_are_trimmed() -> None:
    table = parse_table("failpoint\tduring\twhy\r\n a \t 3\n\nb\n", "<t>")
    assert table.row("a") == {"during": "3", "why": ""} and table.row("b") == {"during": "", "why": ""}


@pytest.mark.parametrize(("args", "message"), [
    (["--table", "missing.tsv"], "missing.tsv: no such file"),
    (["--table", str(EXPLORE)], "is a directory"),
    # a failpoint of the source without a row: named, nothing runs
    (["--table", "{short}"], "no row for 9 failpoint(s) of the source: slowWrite, readOnly, writeError, "
     "truncateValue, forgetWrite, flakyDisk, skipSync, beforeCommit, afterCommit (add a row for each, or leave "
     "them out with --only)"),
    (["--table", str(TABLE), "--var", "during=5"], "--var during: is a column of the table"),
    (["--table", "{bad}"], ":2: 'not an identifier' is not a failpoint name"),
])
def test_bad_tables_exit_2_before_anything_runs(args: list[str], message: str, tmp_path: Path) -> None:
    short = tmp_path / "short.tsv"
    short.write_text("failpoint\tduring\twhy\nstaleRead\t1\tread path\napplyTwice\t3\t\n")
    bad = tmp_path / "bad.tsv"
    bad.write_text("failpoint\twhy\nnot an identifier\tx\n")
    args = [arg.replace("{short}", str(short)).replace("{bad}", str(bad)) for arg in args]
    done = cli("explore", str(TEMPLATE), "--source", str(KVSERVER), "--var", "kvserver=/nonexistent", *args,
               cwd=tmp_path, timeout=120)
    assert done.returncode == 2, done.stdout + done.stderr
    assert message in done.stderr
    assert not done.stdout  # no run started, no matrix


def test_a_template_using_a_column_without_a_table_asks_for_its_value(tmp_path: Path) -> None:
    done = cli("run", str(TEMPLATE), "--var", "failpoint=staleRead", "--var", "terms=panic",
               "--var", "kvserver=/nonexistent", cwd=tmp_path, timeout=60)
    assert done.returncode == 2 and "unknown placeholder {during}" in done.stderr, done.stderr


@pytest.mark.explore
def test_columns_fill_each_cell_and_why_explains_the_not_reached(kvserver_binary: Path, tmp_path: Path) -> None:
    journals, html = tmp_path / "journals", tmp_path / "explore.html"
    common = [str(TEMPLATE), "--source", str(KVSERVER), "--table", str(TABLE), "--var", f"kvserver={kvserver_binary}",
              "--terms", "return(2)", "-j", "2"]
    only = ["--only", "staleRead", "--only", "truncateValue", "--only", "slowWrite"]
    done = cli("explore", *common, *only, "--json", "--journal", str(journals), "-o", str(html))
    report = json.loads(done.stdout)
    runs = {run["failpoint"]: run for run in report["runs"]}
    assert {name: run["outcome"] for name, run in runs.items()} == \
        {"staleRead": "not-reached", "truncateValue": "failed", "slowWrite": "passed"}
    assert runs["staleRead"]["why"] == STALE_WHY and runs["staleRead"]["message"] == f"not reached: {STALE_WHY}"
    assert "why" not in runs["truncateValue"] and "why" not in runs["slowWrite"]
    # {during} came from each failpoint's row: one write under staleRead, three under the others
    for name, count in (("staleRead", "1"), ("slowWrite", "3")):
        steps = [json.loads(line) for line in (journals / f"{name}-return_2_-{_slug(name)}.jsonl").read_text().splitlines()]
        writes = [step["sent"] for step in steps if step.get("event") == "step" and step["index"] == "4"]
        assert writes and writes[0][-1] == count, writes
    page = html.read_text()
    assert f'<div class="why">{STALE_WHY}</div>' in page
    # the text matrix says why too
    text = cli("explore", *common, "--only", "staleRead")
    assert text.returncode == 0, text.stdout + text.stderr
    assert f"not reached, as the table says why:\n  staleRead × return(2): {STALE_WHY}" in text.stdout
    assert f"not reached: {STALE_WHY}" in text.stdout  # its progress line


def _slug(failpoint: str) -> str:
    from gofail_py.explore.cells import Cell

    return Cell(failpoint, "", "return(2)").slug.rsplit("-", 1)[1]


@pytest.mark.explore
def test_run_replays_one_cell_with_its_row(kvserver_binary: Path, tmp_path: Path) -> None:
    done = cli("run", str(TEMPLATE), "--table", str(TABLE), "--var", "failpoint=slowWrite", "--var", "terms=sleep(1ms)",
               "--var", f"kvserver={kvserver_binary}", cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "kvwork.py write {kv.port} {tmp}/acked 3" in done.stdout  # the row's {during}
    unknown = cli("run", str(TEMPLATE), "--table", str(TABLE), "--var", "failpoint=nowhere", "--var", "terms=panic",
                  "--var", f"kvserver={kvserver_binary}", cwd=tmp_path, timeout=60)
    assert unknown.returncode == 2 and "no row for failpoint nowhere" in unknown.stderr


@pytest.mark.explore
def test_the_pytest_plugin_takes_the_table_under_xdist(kvserver_binary: Path, tmp_path: Path) -> None:
    test_file = tmp_path / "test_table.py"
    test_file.write_text(f'''
import pytest

@pytest.mark.gofail_explore(template={str(TEMPLATE)!r}, source={str(KVSERVER)!r}, table={str(TABLE)!r},
                            terms=["return(2)"], only=["staleRead", "slowWrite"],
                            variables={{"kvserver": {str(kvserver_binary)!r}}})
def test_cell(gofail_cell):
    result = gofail_cell.run()
    print("CELL", gofail_cell.failpoint, result.outcome, repr(gofail_cell.why), repr(result.message))
    assert result.outcome == ("not-reached" if gofail_cell.why else "passed"), result.message
''')
    done = subprocess.run([sys.executable, "-m", "pytest", "-n", "2", "-p", "no:cacheprovider", "-s", str(test_file)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:]
    assert "2 passed" in done.stdout
    missing = tmp_path / "test_missing.py"
    missing.write_text(test_file.read_text().replace('only=["staleRead", "slowWrite"]', 'only=["staleRead"]')
                       .replace(str(TABLE), str(tmp_path / "one.tsv")).replace("staleRead", "readOnly"))
    (tmp_path / "one.tsv").write_text("failpoint\tduring\twhy\nstaleRead\t1\tx\n")
    refused = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", str(missing)],
                             cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert refused.returncode != 0 and "no row for 1 failpoint(s) of the source: readOnly" in refused.stdout + refused.stderr


@pytest.mark.explore
def test_the_docs_table_example_runs_as_written(kvserver_binary: Path) -> None:
    section = (REPO / "docs" / "explore.md").read_text().split("## A failpoint table", 1)[1].split("## The campaign")[0]
    command = section.split("```sh\n", 1)[1].split("```", 1)[0].replace("\\\n", " ")
    shown = section.split("```sh\n", 1)[1].split("```\n", 2)[1].split("```", 1)[0]
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    done = subprocess.run(["bash", "-c", command.replace("./kvserver", str(kvserver_binary))], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.endswith(shown), done.stdout
