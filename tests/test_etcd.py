"""Real etcd: examples/etcd/run.sh downloads, enables, builds, checks, drives and restores it."""

from __future__ import annotations

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
    assert "registered in the binary" in report
    for scenario in ("slow_raft", "crash_commit", "slow_follower"):
        assert f"scenario {scenario}: passed" in report
    assert "tree byte-identical" in report
