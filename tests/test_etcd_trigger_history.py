"""A trigger's writes belong to the history of the traffic running on the same etcd (etcd suite):
without them, the revisions the trigger's puts (and a lease revoke's delete) take look like the
store skipping revisions, and a correct etcd is reported not linearizable."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gofail_py.history import read_history
from gofail_py.scenario import parse_scenario, run_scenario
from tests.support.etcdbuild import EtcdBuild, etcd_build

pytestmark = pytest.mark.etcd

ONE = ("process m1: {etcd} --name m1 --data-dir {tmp}/m1 --listen-client-urls http://127.0.0.1:{port} "
       "--advertise-client-urls http://127.0.0.1:{port} --listen-peer-urls http://127.0.0.1:{port2} "
       "--initial-advertise-peer-urls http://127.0.0.1:{port2} --initial-cluster m1=http://127.0.0.1:{port2} "
       "--initial-cluster-token gofail-py --log-level error\n"
       "start m1\n")


@pytest.fixture(scope="module")
def etcd() -> EtcdBuild:
    return etcd_build()


def test_the_writes_of_triggers_are_in_the_traffic_history_and_it_checks(etcd: EtcdBuild, tmp_path: Path) -> None:
    history = tmp_path / "h.jsonl"
    text = ONE + (f"traffic etcd 127.0.0.1:{{m1.port}} clients 3 for 30s history {history}\n"
                  "sleep 1s\ntrigger m1 put 40\ntrigger m1 lease-revoke\ntrigger m1 watch 5\ntrigger m1 compact\n"
                  "sleep 1s\ncheck now\n")
    journal = tmp_path / "j.jsonl"
    result = run_scenario(parse_scenario(text, str(tmp_path / "t.gofail")), journal=journal,
                          variables={"etcd": str(etcd.binary)})
    assert result.passed, result.summary()  # `check now` found it linearizable
    steps = [e for e in map(json.loads, journal.read_text().splitlines()) if e["event"] == "step"]
    own = {step["sent"]["recorded as client"] for step in steps if step["statement"].startswith("trigger")}
    assert len(own) == 4 and min(own) >= 3  # a client number of its own each, after the traffic's
    ops = list(read_history(str(history)))
    by_trigger = [op for op in ops if op.client in own]
    puts = [op for op in by_trigger if op.op == "put"]
    assert len(puts) == 40 + 1 + 5 + 2 and all(op.output is not None for op in puts)  # put 40, the leased key, watch 5, compact's 2
    assert [op.op for op in by_trigger if op.output is None] == ["delete"]  # the revoke's delete: when, known from reads only
    # every revision the store made is some recorded write's
    revisions = sorted(op.output["revision"] for op in ops if op.op == "put" and op.output is not None)
    assert len(revisions) == len(set(revisions))


def test_a_panic_of_a_failpoint_a_restart_armed_again_is_the_scenarios(etcd: EtcdBuild, tmp_path: Path) -> None:
    # the restart trigger starts the member with its armed failpoints in GOFAIL_FAILPOINTS: a panic
    # at start-up is the armed failpoint's, reached, not a death nobody accounted for
    text = ONE + ("set m1 beforePublishing=panic\ntrigger? m1 restart within 20s\n"
                  "reach m1 beforePublishing within 20s\nrecover m1\nunset m1 beforePublishing\n")
    result = run_scenario(parse_scenario(text, str(tmp_path / "t.gofail")), journal=tmp_path / "j.jsonl",
                          variables={"etcd": str(etcd.binary)})
    assert result.passed, result.summary()



def test_a_panic_after_a_restart_that_armed_it_again_is_reached(etcd: EtcdBuild, tmp_path: Path) -> None:
    # the snapshot and restart triggers start the member with its failpoints armed again; the panic
    # that comes later (here from a defrag) is that failpoint's, not an unexpected death
    text = ONE + ("set m1 defragBeforeCopy=panic\ntrigger m1 restart\ntrigger? m1 defrag within 20s\n"
                  "reach m1 defragBeforeCopy within 20s\nrecover m1\nunset m1 defragBeforeCopy\n")
    result = run_scenario(parse_scenario(text, str(tmp_path / "t.gofail")), journal=tmp_path / "j.jsonl",
                          variables={"etcd": str(etcd.binary)})
    assert result.passed, result.summary()
