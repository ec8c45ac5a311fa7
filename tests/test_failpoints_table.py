"""examples/etcd/failpoints.tsv against etcd's source: a row for every failpoint of etcd v3.6.16's
server module (downloaded with `go mod download`, listed with `gofail-py list --json`), none for a
failpoint it no longer has; every row readable (a known trigger, roles, a why where no trigger);
examples/etcd/triggers.gofail generated from it. The triggers firing them: tests/test_etcd_triggers.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from gofail_py.errors import TableError
from gofail_py.etcd.table import COLUMNS, compare, parse_table, read_table
from tests.support.etcd_triggers import scenario
from tests.support.goprog import REPO

TABLE = REPO / "examples" / "etcd" / "failpoints.tsv"
VERSION = "v3.6.16"


def server_inventory() -> dict[str, str]:
    env = {**os.environ, "GOFLAGS": "-mod=mod", "GOTOOLCHAIN": "local"}
    done = subprocess.run(["go", "mod", "download", "-json", f"go.etcd.io/etcd/server/v3@{VERSION}"],
                          capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    module = json.loads(done.stdout)["Dir"]
    listed = subprocess.run([sys.executable, "-m", "gofail_py.cli", "list", "--json", "./..."], cwd=module,
                            capture_output=True, text=True, timeout=300)
    assert listed.returncode == 0, listed.stderr
    return {item["name"]: item["file"] for item in json.loads(listed.stdout)}


def test_the_table_has_a_row_for_every_failpoint_of_the_source_and_no_other() -> None:
    source = server_inventory()
    rows = read_table(TABLE)
    assert len(source) == 43 and compare(rows, source) == []
    # and the comparison sees a row too many, a row missing, a file moved
    assert compare(rows[1:], source) == [f"{rows[0].failpoint} ({rows[0].file}) is in the source but has no row"]
    gone = dict(source)
    del gone[rows[-1].failpoint]
    assert compare(rows, gone) == [f"{rows[-1].failpoint} has a row but is not in the source any more"]
    assert compare(rows, {**source, rows[0].failpoint: "elsewhere.go"}) == [
        f"{rows[0].failpoint} is in elsewhere.go, not {rows[0].file} as its row says"]


def test_every_row_is_reached_by_a_trigger_or_says_why() -> None:
    rows = read_table(TABLE)
    assert all(row.trigger or row.why for row in rows)
    assert sum(1 for row in rows if row.trigger) >= 40


def test_the_example_scenario_is_generated_from_the_table() -> None:
    expected = scenario(read_table(TABLE))
    assert (REPO / "examples" / "etcd" / "triggers.gofail").read_text() == expected, (
        "regenerate: python -c 'from gofail_py.etcd.table import read_table; from tests.support.etcd_triggers "
        "import scenario; print(scenario(read_table(\"examples/etcd/failpoints.tsv\")), end=\"\")' "
        "> examples/etcd/triggers.gofail")


HEAD = "\t".join(COLUMNS)


@pytest.mark.parametrize(("text", "message"), [
    ("", "the first line must name the columns"),
    ("failpoint\tfile\n", "the first line must name the columns"),
    (f"{HEAD}\nx\ty.go\tput\n", ":2: 3 cells, not 8"),
    (f"{HEAD}\nx-y\ty.go\tput\tany\tany\t\t\t\n", "'x-y' is not a failpoint name"),
    (f"{HEAD}\nx\ty.go\texplode\tany\tany\t\t\t\n", ":2: unknown trigger 'explode'"),
    (f"{HEAD}\nx\ty.go\tput 0\tany\tany\t\t\t\n", "N must be a whole number"),
    (f"{HEAD}\nx\ty.go\tput\tboss\tany\t\t\t\n", "target must be one of leader, follower, any"),
    (f"{HEAD}\nx\ty.go\t\tany\tany\t\t\t\n", "x has no trigger and no why"),
    (f"{HEAD}\nx\ty.go\tput\tany\tany\t\t\t\nx\ty.go\tput\tany\tany\t\t\t\n", ":3: x has a row already"),
], ids=["empty", "columns", "cells", "name", "action", "args", "role", "why", "twice"])
def test_a_bad_table_is_refused_with_its_line(text: str, message: str) -> None:
    with pytest.raises(TableError, match=message.replace("(", r"\(").replace(")", r"\)")) as caught:
        parse_table(text, "t.tsv")
    assert caught.value.exit_code == 2
