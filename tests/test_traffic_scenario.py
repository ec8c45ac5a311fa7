"""The `traffic` and `check` statements through `gofail-py run`: bad input refused before anything
runs (exit 2), the traffic stopped and its history closed however the scenario ends, the text
format read back from its description."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gofail_py.history import read_history
from gofail_py.scenario.parser import parse_scenario
from gofail_py.scenario.statements import describe
from tests.support.procs import communicate_or_dump, default_sigint

CLI = [sys.executable, "-m", "gofail_py.cli"]
KV = "process kv: {kvserver} --listen 127.0.0.1:{port} --data {tmp}/kv\nstart kv\n"


def gofail_run(tmp_path: Path, text: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "s.gofail"
    path.write_text(text)
    result = subprocess.run([*CLI, "run", str(path), *args], capture_output=True, text=True, timeout=timeout)
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    return result


@pytest.mark.parametrize(("line", "message"), [
    ("traffic redis 127.0.0.1:1", "3:9: unknown traffic target 'redis': expected kvserver or etcd"),
    ("traffic kvserver 127.0.0.1:1 mix put=1,scan=2", "unknown operation 'scan' in the mix"),
    ("traffic kvserver 127.0.0.1:1 for 0s", "duration must be a finite number of seconds above 0"),
    ("traffic kvserver 127.0.0.1:1 for inf", "3:34: "),
    ("traffic kvserver 127.0.0.1:1 model register", "the model 'register' does not match the traffic"),
    ("traffic kvserver 127.0.0.1:1 clients 0", "3:38: traffic's clients '0' is out of range: from 1 to 1000"),
    ("traffic kvserver 127.0.0.1:1 speed 3", "3:30: unknown traffic option 'speed'"),
    ("traffic kvserver 127.0.0.1:1 keys", "3:30: expected a value after 'keys'"),
    ("traffic kvserver", "expected `traffic kvserver|etcd ADDRESS"),
    ("check model nosuch", "unknown model 'nosuch'"),
], ids=["target", "operation", "zero", "inf", "model", "clients", "option", "value", "address", "check-model"])
def test_bad_traffic_input_is_refused_before_anything_runs(tmp_path: Path, line: str, message: str) -> None:
    result = gofail_run(tmp_path, f"{KV}{line}\n", "--var", "kvserver=/nonexistent")
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr and result.stdout == "", result.stderr


@pytest.mark.slow
def test_an_unwritable_history_fails_the_step_with_exit_2(kvserver_binary: Path, tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    result = gofail_run(tmp_path, f"{KV}traffic kvserver 127.0.0.1:{{kv.port}} history {tmp_path}/a-file/h.jsonl\n",
                        "--var", f"kvserver={kvserver_binary}")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "cannot record to" in result.stdout


@pytest.mark.slow
def test_a_check_with_no_traffic_before_it(kvserver_binary: Path, tmp_path: Path) -> None:
    result = gofail_run(tmp_path, f"{KV}check\n", "--var", f"kvserver={kvserver_binary}")
    assert result.returncode == 2 and "no traffic ran before it" in result.stdout


@pytest.mark.slow
def test_a_failing_step_ends_the_traffic_and_its_history_is_complete(kvserver_binary: Path, tmp_path: Path) -> None:
    journal = tmp_path / "j.jsonl"
    began = time.monotonic()
    result = gofail_run(tmp_path, f"{KV}traffic kvserver 127.0.0.1:{{kv.port}} clients 2 for 60s\nsleep 500ms\n"
                        "run false\n", "--var", f"kvserver={kvserver_binary}", "--journal", str(journal))
    assert result.returncode == 1 and time.monotonic() - began < 50
    history = tmp_path / "j.traffic-2.jsonl"
    ops = list(read_history(history))  # complete: every line an operation, renamed into place
    events = [json.loads(line) for line in journal.read_text().splitlines()]
    [ended] = [e for e in events if e.get("event") == "step" and e["index"] == "traffic"]
    assert ended["answer"]["operations"] == len(ops) > 0 and ended["outcome"] == "ok"
    cleanup = [e["statement"] for e in events if e.get("event") == "step" and e["index"] in ("traffic", "cleanup")]
    assert cleanup[0].endswith("(ended)") and cleanup[-1] == "stop kv"  # traffic stopped before the process


@pytest.mark.slow
def test_ctrl_c_stops_the_traffic_and_flushes_its_history(kvserver_binary: Path, tmp_path: Path) -> None:
    path = tmp_path / "s.gofail"
    history = tmp_path / "h.jsonl"
    path.write_text(f"{KV}traffic kvserver 127.0.0.1:{{kv.port}} clients 2 for 60s history {history}\nsleep 60s\n")
    # -X faulthandler: a run that outlives Ctrl-C by 30 s shows where its threads are (it did once, under load)
    proc = subprocess.Popen([sys.executable, "-X", "faulthandler", *CLI[1:], "run", str(path),
                             "--var", f"kvserver={kvserver_binary}"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=default_sigint)
    deadline = time.monotonic() + 30
    while not list(tmp_path.glob(".h.jsonl.*.recording")) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    out, err = communicate_or_dump(proc, 30, "the run, after Ctrl-C,")
    assert proc.returncode == 130, out + err
    assert len(list(read_history(history))) > 0 and not list(tmp_path.glob(".h.jsonl.*"))


@pytest.mark.parametrize("line", [
    "traffic kvserver 127.0.0.1:{kv.port}",
    "traffic kvserver 127.0.0.1:{kv.port} clients 8 for 120s keys 1 rate 50 timeout 250ms mix put=1,get=2 seed 3 "
    "history {tmp}/my-history.jsonl model kv",
    "traffic etcd 127.0.0.1:1,127.0.0.1:2 clients 6",
    "check",
    "check {tmp}/a.jsonl b.jsonl model kv timeout 5s",
    "check now",
])
def test_the_description_reads_back_as_the_same_statement(line: str) -> None:
    step = parse_scenario(f"process kv: x\n{line}\n").steps[0]
    assert describe(step) == line
    assert parse_scenario(f"process kv: x\n{describe(step)}\n").steps[0] == step


@pytest.mark.slow
def test_a_check_steps_timeout_is_one_deadline_for_all_its_histories(tmp_path: Path) -> None:
    """`check a a ... explode timeout 3s`: the deadline is the step's, not each history's (ten
    linearizable histories each checked before it, then one whose search explodes: one timeout
    in all, not ten checks plus a whole timeout for the last)."""
    from benchmarks.history_gen import Spec, write
    from tests.support.histories import explosive_kv

    write(Spec(20_000, keys=4), tmp_path / "a.jsonl")
    (tmp_path / "explode.jsonl").write_text("".join(json.dumps(op.to_dict()) + "\n" for op in explosive_kv()))
    journal = tmp_path / "j.jsonl"
    result = gofail_run(tmp_path, "check" + " {dir}/a.jsonl" * 10 + " {dir}/explode.jsonl timeout 3s\n",
                        "--journal", str(journal))
    assert result.returncode == 3, result.stdout + result.stderr
    [step] = [json.loads(line) for line in journal.read_text().splitlines()
              if json.loads(line).get("event") == "step" and json.loads(line)["index"] == "1"]
    checked = step["answer"]
    assert checked[-1]["verdict"] == "unknown"
    assert sum(history["elapsed"] for history in checked) < 4.5, checked
