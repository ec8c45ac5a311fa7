"""Traffic against the real examples/kvserver (built with its failpoints enabled): the history it
records, what it records for operations without an answer, stopping, and the seeded bugs caught
by the checker; a client of one's own with the register model; every bad input an error of its own."""

from __future__ import annotations

import json
import math
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gofail_py.check import check
from gofail_py.client import Client
from gofail_py.errors import EndpointUnreachable, RecorderError, TrafficError
from gofail_py.history import read_history
from gofail_py.traffic import Custom, Etcd, Kvserver, Traffic, TrafficConfig, parse_mix, run_traffic
from tests.support.goprog import free_port, start

pytestmark = pytest.mark.slow  # real processes and seconds of traffic


class KV:
    def __init__(self, binary: Path, data: Path) -> None:
        self.binary, self.data, self.port = binary, data, free_port()
        self.launch()

    def launch(self) -> None:
        self.proc, endpoint = start(self.binary, "--listen", f"127.0.0.1:{self.port}", "--data", str(self.data),
                                    stdout=subprocess.DEVNULL)
        self.client = Client(endpoint)

    @property
    def target(self) -> Kvserver:
        return Kvserver(f"127.0.0.1:{self.port}")

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()


@pytest.fixture
def kv(kvserver_binary: Path, tmp_path: Path) -> Iterator[KV]:
    server = KV(kvserver_binary, tmp_path / "data")
    yield server
    server.kill()


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()[1:]]


def test_a_quiet_run_is_linearizable_and_every_operation_is_in_the_history(kv: KV, tmp_path: Path) -> None:
    history = tmp_path / "h.jsonl"
    stats = run_traffic(kv.target, history, TrafficConfig(clients=3, duration=1.0, keys=3, seed=1))
    ops = list(read_history(history))
    assert stats.operations == len(ops) > 20 and stats.answered == len(ops) and stats.indeterminate == 0
    assert {op.op for op in ops} == {"put", "get", "delete", "txn"}
    assert {op.client for op in ops} == {0, 1, 2}
    values = [op.input["value"] for op in ops if op.op == "put"]
    assert len(values) == len(set(values))  # a unique value per write
    assert any(op.input.get("prefix") for op in ops if op.op == "get")  # list
    assert any(op.input["compare"] for op in ops if op.op == "txn")  # compare-and-set
    assert check(history).verdict == "linearizable"


def test_one_hot_key_and_a_rate_limit(kv: KV, tmp_path: Path) -> None:
    history = tmp_path / "h.jsonl"
    stats = run_traffic(kv.target, history, TrafficConfig(clients=4, duration=1.0, keys=1, rate=40,
                                                          mix={"put": 1, "get": 1, "cas": 1}))
    ops = list(read_history(history))
    assert {op.input.get("key") for op in ops if op.op != "txn"} == {"key0"}
    # 40 a second for 1 s, and the clients' first slots: an upper bound that load cannot break
    assert 1 <= stats.operations <= 40 + 4
    assert check(history).verdict == "linearizable"


def test_no_answer_within_the_deadline_is_indeterminate_and_the_client_goes_on_as_another(kv: KV, tmp_path: Path) -> None:
    history = tmp_path / "h.jsonl"
    kv.client.enable("slowWrite", 'sleep("300ms")')
    stats = run_traffic(kv.target, history, TrafficConfig(clients=2, duration=1.0, op_timeout=0.1, mix={"put": 1}))
    ops = list(read_history(history))
    lost = [op for op in ops if op.indeterminate]
    assert lost and stats.indeterminate == len(lost) and all(op.error == "timeout after 0.1s" for op in lost)
    assert len({op.client for op in lost}) == len(lost)  # after each, its thread calls under a new id
    assert all(op.output is None for op in lost)
    assert check(history).verdict == "linearizable"  # the slow writes took effect late: allowed


def test_a_crash_under_traffic_leaves_open_operations_and_a_restart_goes_on(kv: KV, tmp_path: Path) -> None:
    history = tmp_path / "h.jsonl"
    traffic = Traffic(kv.target, history, TrafficConfig(clients=3, duration=30, op_timeout=1.0)).start()
    time.sleep(0.3)
    kv.client.enable("afterCommit", "panic")  # the next write is durable, then the process dies
    kv.proc.wait(timeout=10)
    kv.launch()
    time.sleep(0.5)
    stats = traffic.stop()  # asked to stop long before its 30 s
    ops = list(read_history(history))
    assert stats.elapsed < 25 and len(ops) == stats.operations
    assert any(op.indeterminate and ("closed the connection" in (op.error or "") or "connection lost" in (op.error or "")) for op in ops)
    crashed_at = min(op.call for op in ops if op.indeterminate)
    assert any(op.call > crashed_at and not op.indeterminate for op in ops)  # traffic went on after the restart
    assert check(history).verdict == "linearizable"


@pytest.mark.parametrize(("failpoint", "terms"), [("staleRead", "return(3)"), ("forgetWrite", "return"),
                                                   ("applyTwice", "return")])
def test_a_seeded_bug_is_not_linearizable(kv: KV, tmp_path: Path, failpoint: str, terms: str) -> None:
    history = tmp_path / "h.jsonl"
    traffic = Traffic(kv.target, history, TrafficConfig(clients=3, duration=30, keys=2)).start()
    kv.client.enable(failpoint, f"5*{terms}")  # five times, then off: the traffic goes on without it
    kv.client.wait_count(failpoint, 5, timeout=20)
    time.sleep(0.2)
    traffic.stop()
    result = check(history)
    assert result.verdict == "not linearizable", result.to_json()
    assert result.violation is not None and result.violation.unplaced


def test_skip_sync_then_a_restart_takes_the_revision_back(kv: KV, tmp_path: Path) -> None:
    history = tmp_path / "h.jsonl"
    traffic = Traffic(kv.target, history, TrafficConfig(clients=2, duration=30, keys=2)).start()
    kv.client.enable("skipSync", "return")
    kv.client.wait_count("skipSync", 3, timeout=20)
    kv.kill()  # the acknowledged writes were never in the log
    kv.launch()
    time.sleep(0.5)
    traffic.stop()
    assert check(history).verdict == "not linearizable"


def test_a_register_of_ones_own_through_custom_functions(tmp_path: Path) -> None:
    lock = threading.Lock()
    state: dict[str, Any] = {"value": None}

    def read(input: dict[str, Any], timeout: float) -> dict[str, Any]:
        with lock:
            return {"value": state["value"]}

    def write(input: dict[str, Any], timeout: float) -> dict[str, Any]:
        with lock:
            state["value"] = input["value"]
        return {}

    def cas(input: dict[str, Any], timeout: float) -> dict[str, Any]:
        with lock:
            ok = state["value"] == input["expect"]
            if ok:
                state["value"] = input["value"]
        return {"ok": ok}

    good = Custom({"read": read, "write": write, "cas": cas}, model="register")
    stats = run_traffic(good, tmp_path / "good.jsonl", TrafficConfig(clients=3, duration=0.5))
    assert stats.operations > 50 and check(tmp_path / "good.jsonl").verdict == "linearizable"

    first: list[Any] = []

    def stale_read(input: dict[str, Any], timeout: float) -> dict[str, Any]:
        with lock:  # answers the first value it ever saw: stale once anything else was written
            first.append(state["value"])
            return {"value": first[min(len(first) - 1, 5)]}

    bad = Custom({"read": stale_read, "write": write, "cas": cas}, model="register")
    state["value"] = None
    run_traffic(bad, tmp_path / "bad.jsonl", TrafficConfig(clients=3, duration=0.5))
    assert check(tmp_path / "bad.jsonl").verdict == "not linearizable"

    def dropping(input: dict[str, Any], timeout: float) -> dict[str, Any]:
        raise ConnectionResetError("gone")

    lossy = Custom({"read": read, "write": dropping, "cas": cas}, model="register")
    stats = run_traffic(lossy, tmp_path / "lossy.jsonl", TrafficConfig(clients=2, duration=0.3, mix={"write": 1}))
    lost = list(read_history(tmp_path / "lossy.jsonl"))
    assert lost and all(op.indeterminate and op.error == "gone" for op in lost) and stats.answered == 0


def test_a_client_whose_answers_do_not_fit_the_model_is_an_error(tmp_path: Path) -> None:
    wrong = Custom({"read": lambda i, t: {"val": 1}, "write": lambda i, t: {}, "cas": lambda i, t: {"ok": True}},
                   model="register")
    with pytest.raises(TrafficError, match="does not match the client's answers") as caught:
        run_traffic(wrong, tmp_path / "h.jsonl", TrafficConfig(clients=2, duration=5, mix={"read": 1}))
    assert caught.value.exit_code == 2
    assert (tmp_path / "h.jsonl").exists()  # what was recorded is kept, closed


@pytest.mark.parametrize(("make", "message"), [
    (lambda t: Traffic("kvserver", t), "unknown traffic target"),  # type: ignore[arg-type]
    (lambda t: Traffic(Kvserver("127.0.0.1:1"), t, TrafficConfig(mix={"put": 1, "scan": 2})), "unknown operation 'scan'"),
    (lambda t: Traffic(Kvserver("127.0.0.1:1"), t, TrafficConfig(duration=0)), "duration must be a finite number"),
    (lambda t: Traffic(Kvserver("127.0.0.1:1"), t, TrafficConfig(duration=math.inf)), "duration must be a finite"),
    (lambda t: Traffic(Kvserver("127.0.0.1:1"), t, TrafficConfig(duration=math.nan)), "duration must be a finite"),
    (lambda t: Traffic(Kvserver("127.0.0.1:1"), t, model="register"), "the model 'register' does not match the traffic"),
    (lambda t: Traffic(Kvserver("nohost:x"), t), "kvserver address"),
    (lambda t: Traffic(Etcd([]), t), "at least one member"),
    (lambda t: Traffic(Custom({"read": print}, model="register"), t), "has no function for cas, write"),
    (lambda t: Traffic(Custom({"put": print}, model="mystery"), t), "unknown model"),
    (lambda t: Traffic(Kvserver("127.0.0.1:1"), t, TrafficConfig(clients=0)), "clients must be"),
    (lambda t: Traffic(Kvserver("127.0.0.1:1"), t, TrafficConfig(op_timeout=-1)), "op_timeout must be"),
    (lambda t: parse_mix("put=4,get"), "expected NAME=WEIGHT"),
    (lambda t: parse_mix("put=0"), "every weight of the operation mix is 0"),
])
def test_bad_input_is_refused_before_anything_runs(tmp_path: Path, make: Any, message: str) -> None:
    with pytest.raises(Exception, match=message) as caught:
        make(tmp_path / "h.jsonl")
    assert getattr(caught.value, "exit_code", None) == 2
    assert list(tmp_path.iterdir()) == []


def test_an_unwritable_history_and_a_store_that_is_not_empty(kv: KV, tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    with pytest.raises(RecorderError, match="cannot record to") as caught:
        Traffic(kv.target, tmp_path / "a-file" / "h.jsonl", TrafficConfig(duration=1)).start()
    assert caught.value.exit_code == 2
    precious = tmp_path / "main.go"
    precious.write_text("package main\n")
    for path in (precious, tmp_path):
        with pytest.raises(TrafficError, match="not a history|not a regular file") as refused:
            Traffic(kv.target, path, TrafficConfig(duration=1)).start()
        assert refused.value.exit_code == 2
    assert precious.read_text() == "package main\n"
    run_traffic(kv.target, tmp_path / "first.jsonl", TrafficConfig(clients=1, duration=0.2))
    with pytest.raises(TrafficError, match=r"is not empty \(revision \d+\)"):
        Traffic(kv.target, tmp_path / "second.jsonl", TrafficConfig(duration=1)).start()
    assert not (tmp_path / "second.jsonl").exists()


def test_a_target_that_never_answers(tmp_path: Path) -> None:
    began = time.monotonic()
    with pytest.raises(EndpointUnreachable, match="did not answer before the traffic could start"):
        Traffic(Kvserver(f"127.0.0.1:{free_port()}"), tmp_path / "h.jsonl", TrafficConfig(duration=1)).start()
    assert time.monotonic() - began < 30 and list(tmp_path.iterdir()) == []


INNER = '''
import json
from gofail_py.pytest.check import assert_linearizable

def write(path, read_revision):
    lines = [{"gofail_py_history": 1, "model": "kv"},
             {"id": 0, "client": 0, "op": "put", "input": {"key": "k", "value": "a"}, "call": 1, "return": 2,
              "output": {"revision": 2}},
             {"id": 1, "client": 1, "op": "get", "input": {"key": "k"}, "call": 3, "return": 4,
              "output": {"revision": read_revision, "kvs": [] if read_revision == 1 else
                         [{"key": "k", "value": "a", "create_revision": 2, "mod_revision": 2, "version": 1}]}}]
    path.write_text("".join(json.dumps(line) + "\\n" for line in lines))
    return path

def test_fresh(tmp_path):
    assert assert_linearizable(write(tmp_path / "h.jsonl", 2)).operations == 2

def test_stale(tmp_path):
    assert_linearizable(write(tmp_path / "h.jsonl", 1))
'''


def test_the_pytest_helper_fails_a_test_with_the_checkers_explanation(tmp_path: Path) -> None:
    (tmp_path / "test_inner.py").write_text(INNER)
    import sys

    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_inner.py"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert "1 failed, 1 passed" in done.stdout, done.stdout
    assert "not linearizable" in done.stdout and "could not be placed next:" in done.stdout
    assert "it saw revision 1, but was called after" in done.stdout
    assert "gofail_py/check" not in done.stdout  # the explanation, not a traceback into the checker


def test_a_trusted_recorder_checks_nothing_and_the_reader_still_does(tmp_path: Path) -> None:
    """Recorder(trusted=True) is for callers that build every shape themselves (the etcd target):
    it writes what it is given; reading the history still checks every line."""
    from gofail_py.errors import HistoryError
    from gofail_py.history import Recorder

    with Recorder(tmp_path / "checked.jsonl") as checked:
        with pytest.raises(RecorderError, match="expected put's output"):
            checked.returned(checked.call(0, "put", {"key": "k", "value": "v"}), {"rev": 2})
    with Recorder(tmp_path / "trusted.jsonl", trusted=True) as trusted:
        trusted.returned(trusted.call(0, "put", {"key": "k", "value": "v"}), {"rev": 2})
    with pytest.raises(HistoryError, match=r"trusted.jsonl:2: .*expected put's output"):
        list(read_history(tmp_path / "trusted.jsonl"))


@pytest.mark.parametrize("prefix", ["k\udc80", "k\0"])
def test_a_key_prefix_utf8_cannot_hold_is_refused(prefix: str) -> None:
    """The etcd traffic's recorder is trusted (it writes the workload's keys as they are, at its
    writes): a key prefix that is not text UTF-8 can hold (a lone surrogate) is a config error, not
    a history of keys nobody could send."""
    with pytest.raises(TrafficError, match="key_prefix"):
        TrafficConfig(key_prefix=prefix).check()
