"""Members by role without etcd: the `cluster` declaration, role words and `pick` in the builder,
what a member's status answer means (etcd's JSON, read by the pure half of gofail_py.etcd), and
real runs on examples/kvserver where nobody has to be asked (`c.all`) or where what answers is not
etcd. The parser's refusals are the testdata/scenarios/errors/{cluster,role,pick,alias}_* files;
the runs against a real three-member etcd are tests/test_etcd_roles.py (etcd suite)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from gofail_py.errors import NotEtcd, ScenarioSyntaxError
from gofail_py.etcd import EtcdCluster, agreed_leader, read_status
from gofail_py.scenario import Scenario, parse_scenario, run_scenario
from gofail_py.scenario.statements.cluster import Pick
from gofail_py.scenario.statements.failpoints import SetFailpoints
from tests.support.goprog import REPO

CLI = [sys.executable, "-m", "gofail_py.cli"]
KV = "{kvserver} --listen 127.0.0.1:{port} --data {tmp}/NAME"


def kv_members(*names: str) -> str:
    return "".join(f"process {name}: {KV.replace('NAME', name)}\n" for name in names)


def status_json(member: int, leader: int, term: int = 2) -> dict[str, object]:
    """An answer of etcd v3.6.16's gateway to POST /v3/maintenance/status, as it writes it (ids
    as decimal strings, a zero leader left out)."""
    answer: dict[str, object] = {
        "header": {"cluster_id": "15118495548433857066", "member_id": str(member), "revision": "1", "raft_term": str(term)},
        "version": "3.6.16", "dbSize": "20480", "raftIndex": "4", "raftTerm": str(term), "raftAppliedIndex": "4",
        "dbSizeInUse": "20480", "storageVersion": "3.6.0", "dbSizeQuota": "2147483648", "downgradeInfo": {}}
    if leader:
        answer["leader"] = str(leader)
    return answer


# --- the builder ----------------------------------------------------------------------------


def three() -> Scenario:
    s = Scenario("roles")
    for name in ("m1", "m2", "m3"):
        s.process(name, ["{etcd}", "--name", name])
    return s.cluster("c", "m1", "m2", "m3")


def test_the_builder_takes_role_words_and_aliases_wherever_it_takes_a_process() -> None:
    s = three()
    s.start("c.all").pick("victim", "c.follower").set("c.leader", raftAfterSave="sleep(1s)")
    s.set("victim", beforeCommit="panic").expect_exit("victim", panic=True).start("victim")
    s.wait_count("c.followers", "raftBeforeSave", ">=", 1).stop("c.any")
    assert s.clusters["c"].members == ("m1", "m2", "m3") and s.aliases == {"victim": "c.follower"}
    assert isinstance(s.steps[1], Pick) and s.steps[1].role == "c.follower"
    assert isinstance(s.steps[2], SetFailpoints) and s.steps[2].target == "c.leader"
    text = s.to_text()
    assert "cluster c: m1 m2 m3\n" in text and "pick victim c.follower\n" in text
    again = parse_scenario(text)
    assert again.to_text() == text and again.aliases == s.aliases


@pytest.mark.parametrize(("build", "message"), [
    (lambda s: s.cluster("d", "m1"), "m1 is already a member of cluster c"),
    (lambda s: s.cluster("d", "m9"), "no process 'm9' declared"),
    (lambda s: s.cluster("d"), "cluster d needs at least one member"),
    (lambda s: s.cluster("m1", "x"), "'m1' is declared twice (already a process)"),
    (lambda s: s.cluster("d", "m1", client="port7"), "client 'port7'"),
    (lambda s: s.set("c.boss", a="panic"), "unknown role 'boss' of cluster c"),
    (lambda s: s.set("x.leader", a="panic"), "no cluster 'x' declared"),
    (lambda s: s.start("m1.leader"), "'m1' is not a cluster"),
    (lambda s: s.start("c"), "'c' is a cluster: name a member or a role"),
    (lambda s: s.pick("v", "c.all"), "'c.all' is every member: pick takes one"),
    (lambda s: s.pick("v", "c.followers"), "'c.followers' is several members"),
    (lambda s: s.pick("m2", "c.leader"), "'m2' is declared twice (already a process)"),
    (lambda s: s.pick("c", "c.leader"), "'c' is declared twice (already a cluster)"),
    (lambda s: s.pick("no.dots", "c.leader"), "'no.dots' is not a valid name"),
    (lambda s: s.expect_running("victim"), "no process 'victim' declared"),
])
def test_bad_input_is_refused_when_built(build: object, message: str) -> None:
    with pytest.raises(ScenarioSyntaxError, match=message.replace(".", r"\.").replace("(", r"\(").replace(")", r"\)")):
        build(three())  # type: ignore[operator]


def test_a_wrong_type_names_the_argument() -> None:
    with pytest.raises(TypeError, match="alias must be a str"):
        three().pick(3, "c.leader")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="member must be a str"):
        three().cluster("d", None)  # type: ignore[arg-type]


def test_the_cli_refuses_a_role_before_anything_starts(tmp_path: Path) -> None:
    path = tmp_path / "s.gofail"
    path.write_text(kv_members("a", "b") + "cluster c: a b\nstart a\npick v c.all\n")
    done = subprocess.run([*CLI, "run", str(path), "--var", "kvserver=/nonexistent"], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2, done.stderr
    assert f"{path}:5:8: 'c.all' is every member: pick takes one (c.leader, c.follower, c.any)" in done.stderr
    assert "Traceback" not in done.stderr and not done.stdout  # nothing started, no timeline


# --- what the members answer ------------------------------------------------------------------


def test_a_status_answer_is_read_as_etcd_writes_it() -> None:
    status = read_status("127.0.0.1:2379", status_json(13668033151171901709, 13668033151171901709, term=5))
    assert (status.member_id, status.leader, status.raft_term, status.leads) == (13668033151171901709,) * 2 + (5, True)
    follower = read_status("a", status_json(7, 13668033151171901709))
    assert not follower.leads and follower.brief() == "member 7, leader bdae9bbc11dd390d (term 2)"
    assert read_status("a", status_json(7, 0)).leader == 0  # no leader known: the field is left out


@pytest.mark.parametrize("answer", [
    [], "x", {}, {"header": []}, {"header": {}}, {"header": {"member_id": "-1"}},
    {"header": {"member_id": "1"}, "leader": 1.5}, {"header": {"member_id": str(2**64)}},
    {"header": {"member_id": "٣"}}, {"header": {"member_id": True}},
])
def test_an_answer_that_is_not_etcds_is_not_etcd(answer: object) -> None:
    with pytest.raises(NotEtcd):
        read_status("127.0.0.1:1", answer)


def test_the_leader_is_the_one_every_answering_member_names_and_that_runs() -> None:
    ids = {"m1": 11, "m2": 22, "m3": 33}
    members = ["m1", "m2", "m3"]
    agree = {name: read_status(name, status_json(ids[name], 22)) for name in members}
    assert agreed_leader(agree, ids, members) == "m2"
    # the leader did not answer this round (slowed by a failpoint): the others still name it
    assert agreed_leader({k: v for k, v in agree.items() if k != "m2"}, ids, members) == "m2"
    # it named is not running (killed): nobody leads yet, ask again
    assert agreed_leader(agree, ids, members, running={"m1", "m3"}) is None
    split = {**agree, "m3": read_status("m3", status_json(33, 11))}
    assert agreed_leader(split, ids, members) is None  # an election under way
    assert agreed_leader({n: read_status(n, status_json(ids[n], 0)) for n in members}, ids, members) is None
    assert agreed_leader(agree, {"m1": 11}, members) is None  # an id no member is known by
    assert agreed_leader({}, ids, members) is None


def test_a_cluster_with_no_member_running_has_no_leader_at_once() -> None:
    from gofail_py.errors import NoLeader

    cluster = EtcdCluster({"m1": "127.0.0.1:1"}, "c")
    with pytest.raises(NoLeader, match="no member runs"):
        cluster.resolve("leader", running=set(), within=30)
    assert cluster.resolve("all", running=set()) == ("m1",)  # nobody is asked for `all`
    with pytest.raises(ValueError, match="unknown role"):
        cluster.resolve("boss")


# --- real runs on examples/kvserver -----------------------------------------------------------


def run(text: str, kvserver: Path, tmp_path: Path) -> tuple[object, list[dict[str, object]]]:
    journal = tmp_path / "journal.jsonl"
    result = run_scenario(parse_scenario(text, str(tmp_path / "s.gofail")), journal=journal,
                          variables={"kvserver": str(kvserver)})
    steps = [e for e in map(json.loads, journal.read_text().splitlines()) if e["event"] == "step"]
    return result, steps


@pytest.mark.slow
def test_all_acts_on_every_member_in_one_record(kvserver_binary: Path, tmp_path: Path) -> None:
    result, steps = run(kv_members("a", "b", "solo") + """cluster c: a b
start c.all
expect c.all running
set c.all slowWrite=sleep(1ms)
unset c.all slowWrite
stop c.all
""", kvserver_binary, tmp_path)
    assert result.passed, result.summary()  # type: ignore[attr-defined]
    by = {step["statement"]: step for step in steps}
    assert by["start c.all"]["members"] == ["a", "b"] and by["start c.all"]["target"] == "a"
    assert set(by["start c.all"]["answer"]) == {"a", "b"}  # each member's pid under its name
    assert by["unset c.all slowWrite"]["answer"] == {"a": {"slowWrite": "disabled"}, "b": {"slowWrite": "disabled"}}
    assert by['set c.all slowWrite=sleep("1ms")']["sent"] == {"a": {"slowWrite": 'sleep("1ms")'}, "b": {"slowWrite": 'sleep("1ms")'}}
    assert {name: isinstance(answer["exit_code"], int) for name, answer in by["stop c.all"]["answer"].items()} == \
        {"a": True, "b": True}
    # `solo` was never started by `c.all`: it is not a member
    assert not any("solo" in json.dumps(step.get("members")) for step in steps)


@pytest.mark.slow
def test_a_member_that_is_not_etcd_fails_the_step_with_a_clear_message(kvserver_binary: Path, tmp_path: Path) -> None:
    path = tmp_path / "s.gofail"
    path.write_text(kv_members("a", "b") + "cluster c: a b\nstart c.all\npick v c.leader\nstop v\n")
    journal = tmp_path / "j.jsonl"
    done = subprocess.run([*CLI, "run", str(path), "--var", f"kvserver={kvserver_binary}", "--journal", str(journal)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert "cluster c: member a is not an etcd member" in done.stdout
    assert "/v3/maintenance/status: HTTP 404" in done.stdout
    steps = [e for e in map(json.loads, journal.read_text().splitlines()) if e["event"] == "step"]
    failed = [step for step in steps if step["outcome"] != "ok"]
    assert [step["statement"] for step in failed] == ["pick v c.leader"]
    pids = [pid for step in steps if step["statement"] == "start c.all" for pid in step["answer"].values()]
    assert len(pids) == 2
    for pid in pids:  # everything the run started is stopped by its end
        assert not Path(f"/proc/{pid['pid']}").exists() or Path(f"/proc/{pid['pid']}/stat").read_text().split()[2] == "Z"


@pytest.mark.slow
def test_an_alias_whose_pick_did_not_run_fails_its_step(kvserver_binary: Path, tmp_path: Path) -> None:
    # seed 1 chooses the first branch: the pick never runs, and `start v` cannot know whom it names
    result, steps = run(kv_members("a") + """cluster c: a
choose seed 1:
  log no pick
  pick v c.any
start v
""", kvserver_binary, tmp_path)
    assert not result.passed  # type: ignore[attr-defined]
    assert result.error == "v names no process yet: no `pick v ...` has run before this step"  # type: ignore[attr-defined]
    assert steps[-1]["statement"] == "start v" and steps[-1]["outcome"] == "failed"


@pytest.mark.slow
def test_the_docs_name_every_role() -> None:
    docs = (REPO / "docs" / "scenario.md").read_text()
    from gofail_py.etcd import ROLES

    for role in ROLES:
        assert f"`c.{role}`" in docs
