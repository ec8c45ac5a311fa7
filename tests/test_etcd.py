"""Real etcd: examples/etcd/run.sh downloads, enables, builds, checks, drives and restores it."""

from __future__ import annotations

import re
import subprocess

import pytest

from tests.support.goprog import REPO


@pytest.mark.etcd
def test_etcd_end_to_end() -> None:
    done = subprocess.run(["bash", str(REPO / "examples" / "etcd" / "run.sh")], capture_output=True, text=True,
                          timeout=3000)
    print(done.stdout[-4000:])
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = done.stdout.split("== report", 1)[1]
    counted = re.search(r"source: (\d+) failpoints, binary: (\d+) registered \(names equal\)", report)
    assert counted and counted[1] == counted[2] and int(counted[1]) > 0, report
    for scenario in ("slow_raft", "crash_commit", "slow_follower", "traffic_faults", "triggers"):
        assert f"scenario {scenario}: passed" in report
    # triggers.gofail (from examples/etcd/failpoints.tsv): each row's trigger made its failpoint fire
    reached = re.search(r"triggers: (\d+) of (\d+) failpoints reached", report)
    assert reached and int(reached[1]) >= 40 and reached[2] == counted[1], report
    # three members under traffic, the leader slowed, a follower crashed and restarted: the history checked
    checked = re.search(r"history \S+: linearizable \((\d+) operations, (\d+) without an answer", report)
    assert checked and int(checked[1]) > 100, report
    readable = re.search(r"(\d+) of (\d+) acknowledged puts are readable", report)
    assert readable and readable[1] == readable[2], report
    # the campaign's sample: a cell per trigger, each reached and checked; only the model may fail one (a finding)
    sample = re.search(r"campaign sample: (\d+) cells, (\d+) passed, (\d+) failed, (\d+) not-reached, (\d+) error, (\d+) broken",
                       report)
    assert sample and int(sample[1]) >= 11 and int(sample[1]) == int(sample[2]) + int(sample[3]), report
    assert "tree byte-identical" in report
    race = re.search(r"start then set at once: (\d+) of (\d+) runs passed", report)
    assert race and race[1] == race[2] and int(race[2]) >= 1, report
    coverage = re.search(r"fault coverage: (\d+) failpoints in source, (\d+) armed .*, (\d+) hit .*, (\d+) crashed", report)
    assert coverage and coverage[1] == counted[1] and int(coverage[3]) >= 3 and int(coverage[4]) >= 1, report
