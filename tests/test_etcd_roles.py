"""Members by role on a real three-member etcd (etcd suite): the leader is found by asking the
members, leadership moved by etcd's own transfer or by killing the leader is seen by the next
step, `pick` keeps naming the member it picked through a panic and a restart, and the journal
names the members each step acted on. docs/etcd.md's Python example runs here too."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from gofail_py.scenario import ScenarioResult, parse_scenario, run_scenario
from tests.support.etcdbuild import EtcdBuild, etcd_build
from tests.support.goprog import REPO

pytestmark = pytest.mark.etcd

ETCDKV = REPO / "examples" / "etcd" / "etcdkv.py"
CLUSTER = "m1=http://127.0.0.1:{m1.port2},m2=http://127.0.0.1:{m2.port2},m3=http://127.0.0.1:{m3.port2}"
MEMBERS = "".join(
    f"process {name}: {{etcd}} --name {name} --data-dir {{tmp}}/{name} --listen-client-urls http://127.0.0.1:{{port}} "
    f"--advertise-client-urls http://127.0.0.1:{{port}} --listen-peer-urls http://127.0.0.1:{{port2}} "
    f"--initial-advertise-peer-urls http://127.0.0.1:{{port2}} --initial-cluster {CLUSTER} "
    f"--initial-cluster-token gofail-py --log-level error\n"
    for name in ("m1", "m2", "m3")
) + "cluster c: m1 m2 m3\nparallel:\n  start m1\n  start m2\n  start m3\n"


@pytest.fixture(scope="module")
def etcd() -> EtcdBuild:
    return etcd_build()


def run(etcd: EtcdBuild, text: str, tmp_path: Path) -> tuple[ScenarioResult, dict[str, dict[str, Any]]]:
    journal = tmp_path / "journal.jsonl"
    result = run_scenario(parse_scenario(MEMBERS + text, str(tmp_path / "roles.gofail")), journal=journal,
                          variables={"etcd": str(etcd.binary), "etcdkv": str(ETCDKV)})
    steps = [e for e in map(json.loads, journal.read_text().splitlines()) if e["event"] == "step"]
    assert result.passed, result.summary()
    return result, {step["statement"]: step for step in steps}


def member(steps: dict[str, dict[str, Any]], statement: str) -> str:
    record = steps[statement]
    assert len(record["members"]) == 1 and record["target"] == record["members"][0], record
    return str(record["members"][0])


def test_leadership_moved_by_a_transfer_is_seen_by_the_next_step(etcd: EtcdBuild, tmp_path: Path) -> None:
    _, steps = run(etcd, """
run python3 {etcdkv} ready {m1.port} --read-only
pick first c.leader
pick other c.follower
run python3 {etcdkv} role {first.port} leader
run python3 {etcdkv} make-leader {other.port} {m1.port} {m2.port} {m3.port}
pick second c.leader
run python3 {etcdkv} role {second.port} leader
run python3 {etcdkv} role {first.port} follower
set c.followers raftBeforeSave=sleep(1ms)
expect c.leader running
""", tmp_path)
    first, other, second = (member(steps, f"pick {alias} c.{role}")
                            for alias, role in (("first", "leader"), ("other", "follower"), ("second", "leader")))
    assert other != first and second == other  # the transfer moved it; the pick after it asked again
    # the follower is the first non-leader in the cluster's order: replayable
    assert other == next(name for name in ("m1", "m2", "m3") if name != first)
    followers = steps['set c.followers raftBeforeSave=sleep("1ms")']
    assert followers["members"] == [name for name in ("m1", "m2", "m3") if name != second]
    assert set(followers["sent"]) == set(followers["members"])  # each member's request under its name
    assert steps["expect c.leader running"]["members"] == [second]
    # what the `run` steps with {first.port} talked to is named too
    assert steps["run python3 {etcdkv} role {first.port} follower"]["members"] == [first]


def test_a_killed_leader_is_replaced_and_the_next_step_asks_again(etcd: EtcdBuild, tmp_path: Path) -> None:
    _, steps = run(etcd, """
run python3 {etcdkv} ready {m1.port} --read-only
pick old c.leader
kill old
set c.leader raftAfterSave=sleep(1ms)
pick new c.leader
run python3 {etcdkv} role {new.port} leader
start old
run python3 {etcdkv} ready {old.port} --read-only
run python3 {etcdkv} role {old.port} follower
expect c.all running
""", tmp_path)
    old, new = member(steps, "pick old c.leader"), member(steps, "pick new c.leader")
    assert new != old
    assert steps['set c.leader raftAfterSave=sleep("1ms")']["members"] == [new]
    assert steps["kill old"]["members"] == [old] and steps["start old"]["members"] == [old]
    assert steps["expect c.all running"]["members"] == ["m1", "m2", "m3"]


def test_a_picked_follower_panics_and_is_started_again_by_its_alias(etcd: EtcdBuild, tmp_path: Path) -> None:
    result, steps = run(etcd, """
run python3 {etcdkv} ready {m1.port} --read-only
pick leader c.leader
pick victim c.follower
set victim beforeCommit=panic
run? python3 {etcdkv} put {leader.port} k v
expect victim exit panic within 10s
start victim
run python3 {etcdkv} ready {victim.port} --read-only
expect victim running
run python3 {etcdkv} role {victim.port} follower
""", tmp_path)
    victim = member(steps, "pick victim c.follower")
    for statement in ("set victim beforeCommit=panic", "expect victim exit panic within 10s", "start victim",
                      "expect victim running"):
        assert steps[statement]["members"] == [victim], statement
    assert steps["expect victim exit panic within 10s"]["answer"]["panic"].startswith("panic: failpoint panic")
    # the crash is in the journal as the real process's, and its restart too
    crashes = [e for e in result.events if e.kind == "crash"]
    assert [(e.process, e.failpoint) for e in crashes] == [(victim, None)] or \
        [e.process for e in crashes] == [victim], crashes  # recorded under the real process's name


def test_the_python_api_of_the_docs_runs_against_the_cluster(etcd: EtcdBuild, tmp_path: Path) -> None:
    """docs/etcd.md's example, its addresses made the cluster's, run by the scenario while it runs."""
    docs = (REPO / "docs" / "etcd.md").read_text().split("## Members by role, from Python", 1)[1]
    code = re.search(r"```python\n(.*?)```", docs, re.S)
    assert code
    example = (code[1].replace('"127.0.0.1:2379"', "ADDRESS('m1')").replace('"127.0.0.1:22379"', "ADDRESS('m2')")
               .replace('"127.0.0.1:32379"', "ADDRESS('m3')"))
    script = tmp_path / "api.py"
    script.write_text("import json, sys\nports = dict(zip(('m1', 'm2', 'm3'), sys.argv[1:]))\n"
                      "ADDRESS = lambda name: f'127.0.0.1:{ports[name]}'\n" + example +
                      "print(json.dumps({'leader': leader, 'followers': followers, 'one': one, "
                      "'leads': status.leads, 'asked': cluster.resolve('leader')}))\n")
    _, steps = run(etcd, f"""
run python3 {{etcdkv}} ready {{m1.port}} --read-only
run python3 {{etcdkv}} make-leader {{m2.port}} {{m1.port}} {{m3.port}}
run {sys.executable} {script} {{m1.port}} {{m2.port}} {{m3.port}}
""", tmp_path)
    said = json.loads(steps[f"run {sys.executable} {script} {{m1.port}} {{m2.port}} {{m3.port}}"]["answer"]["stdout"])
    assert said == {"leader": "m2", "followers": ["m1", "m3"], "one": ["m3"], "leads": True, "asked": ["m2"]}
