"""Fault coverage against the real runtime: examples/kvserver, the recorder, `gofail-py report`."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from gofail_py.client import Client
from gofail_py.errors import FailpointDisabled
from gofail_py.recording.events import Crash, FailpointWindow, ProcessEvent, read_journal
from gofail_py.recording import Recorder, RecordingClient, hits_at_panic, recording
from tests.support.answering import answering
from tests.support.goprog import KV_FAILPOINTS, REPO, free_port, marker_line, start

KVSERVER_SRC = REPO / "examples" / "kvserver"


class KV:
    """A running kvserver recorded by a Recorder as process ``name``."""

    def __init__(self, binary: Path, data: Path, recorder: Recorder, name: str = "kv") -> None:
        self.binary, self.data, self.recorder, self.name = binary, data, recorder, name
        self.launch()

    def launch(self) -> None:
        self.port = free_port()
        self.proc, endpoint = start(self.binary, "--listen", f"127.0.0.1:{self.port}", "--data", str(self.data))
        self.truth = Client(endpoint)  # reads the runtime's own count, bypassing the recorder
        self.client = RecordingClient(Client(endpoint), self.recorder, self.name)
        self.recorder.process_started(self.name, self.proc.pid, endpoint)

    def put(self, key: str, value: str = "v") -> int:
        try:
            return requests.put(f"http://127.0.0.1:{self.port}/kv/{key}", data=value, timeout=10).status_code
        except requests.ConnectionError:
            return 0  # the process died answering (a panic)

    def stop(self) -> None:
        self.recorder.before_stop(self.name, self.client.client)
        self.proc.terminate()
        self.recorder.process_stopped(self.name, self.proc.pid, self.proc.wait())

    def died(self) -> Crash | None:
        code = self.proc.wait(timeout=10)
        stderr = self.proc.stderr.read().decode() if self.proc.stderr else ""
        return self.recorder.process_exited(self.name, self.proc.pid, code, stderr)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def report(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gofail_py.cli", "report", *args], capture_output=True, text=True, timeout=60)


def report_json(*args: str) -> dict:  # type: ignore[type-arg]
    result = report("--json", *args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def by_name(data: dict) -> dict:  # type: ignore[type-arg]
    return {fp["name"]: fp for fp in data["failpoints"]}


def windows(journal: Path) -> list[FailpointWindow]:
    return [e for e in read_journal(journal) if isinstance(e, FailpointWindow)]


def test_hits_before_a_reset_an_unset_and_a_stop_equal_the_runtime_count(kvserver_binary: Path, tmp_path: Path) -> None:
    journal = tmp_path / "run.jsonl"
    recorder = Recorder(journal, name="counts")
    kv = KV(kvserver_binary, tmp_path / "data", recorder)
    try:
        kv.client.enable("truncateValue", "return(100)")
        for i in range(3):
            assert kv.put(f"a{i}") == 204
        assert kv.truth.count("truncateValue") == 3
        kv.client.enable("truncateValue", "return(50)")  # the PUT resets the runtime's count
        assert kv.truth.count("truncateValue") == 0
        for i in range(2):
            assert kv.put(f"b{i}") == 204
        assert kv.truth.count("truncateValue") == 2
        kv.client.disable("truncateValue")  # the DELETE loses it
        kv.client.enable("writeError", 'return("disk full")')
        assert kv.put("c") == 500
        assert kv.truth.count("writeError") == 1
        kv.stop()
    finally:
        kv.kill()
    recorder.close()
    got = [(w.failpoint, w.terms, w.hits, w.exact, w.closed_by) for w in windows(journal)]
    assert got == [
        ("truncateValue", "return(100)", 3, True, "reset"),
        ("truncateValue", "return(50)", 2, True, "unset"),
        ("writeError", 'return("disk full")', 1, True, "stop"),
    ]
    fps = by_name(report_json(str(journal)))
    assert (fps["truncateValue"]["armed"], fps["truncateValue"]["hits"]) == (2, 5)
    assert (fps["writeError"]["armed"], fps["writeError"]["hits"], fps["writeError"]["processes"]) == (1, 1, ["kv"])


def test_a_panic_that_killed_the_process_is_attributed_from_its_stack(kvserver_binary: Path, tmp_path: Path) -> None:
    journal = tmp_path / "run.jsonl"
    recorder = Recorder(journal, name="panic", source=[KVSERVER_SRC])
    kv = KV(kvserver_binary, tmp_path / "data", recorder)
    try:
        kv.client.enable("slowWrite", "off")  # armed in the same process, not the culprit
        kv.client.enable("afterCommit", "2*off->panic")
        assert kv.put("a") == 204 and kv.put("b") == 204
        assert kv.truth.count("afterCommit") == 2
        assert kv.client.count("slowWrite") == 2  # read through the recorder: kept as a lower bound
        assert kv.put("c") == 0  # the third hit panics
        crash = kv.died()
        assert crash is not None and crash.failpoint == "afterCommit" and crash.reason == "stack"
        assert crash.file is not None and crash.file.endswith("store.go") and crash.line == marker_line("afterCommit")
        kv.launch()  # a restart, on the same data
        assert kv.put("d") == 204
        kv.stop()
    finally:
        kv.kill()
    recorder.close()
    events = list(read_journal(journal))
    assert [e.action for e in events if isinstance(e, ProcessEvent)] == ["start", "exit", "restart", "stop"]
    got = {w.failpoint: (w.hits, w.exact, w.closed_by) for w in windows(journal)}
    assert got["afterCommit"] == (3, True, "crash")  # 2 offs and the panic: fixed by the terms
    assert got["slowWrite"] == (2, False, "crash")  # its third hit died unread: 2 is a lower bound
    fps = by_name(report_json(str(journal), "--source", str(KVSERVER_SRC)))
    assert (fps["afterCommit"]["hits"], fps["afterCommit"]["crashes"]) == (3, 1)
    assert fps["slowWrite"]["crashes"] == 0 and fps["slowWrite"]["hits_exact"] is False


def test_without_an_inventory_the_report_attributes_the_crash_from_source(kvserver_binary: Path, tmp_path: Path) -> None:
    journal = tmp_path / "run.jsonl"
    recorder = Recorder(journal, name="no-inventory")
    kv = KV(kvserver_binary, tmp_path / "data", recorder)
    try:
        kv.client.enable_many({"beforeCommit": "panic", "afterCommit": "panic"})
        assert kv.put("a") == 0
        crash = kv.died()
    finally:
        kv.kill()
    recorder.close()
    # two failpoints armed with panic and no inventory: the recorder cannot tell which
    assert crash is not None and crash.failpoint is None and "pass --source" in crash.reason
    assert crash.line == marker_line("beforeCommit")  # but it kept the frame
    data = report_json(str(journal))
    assert data["unattributed_crashes"] and by_name(data)["beforeCommit"]["crashes"] == 0
    fps = by_name(report_json(str(journal), "--source", str(KVSERVER_SRC)))
    assert fps["beforeCommit"]["crashes"] == 1 and fps["afterCommit"]["crashes"] == 0
    assert fps["beforeCommit"]["hits"] == 1 and fps["afterCommit"]["hits"] == 0


def test_merged_journals_add_up_and_source_finds_the_never_armed(kvserver_binary: Path, tmp_path: Path) -> None:
    journals = []
    for run in range(2):
        journal = tmp_path / f"run{run}.jsonl"
        port = free_port()
        proc, endpoint = start(kvserver_binary, "--listen", f"127.0.0.1:{port}", "--data", str(tmp_path / f"d{run}"))
        try:
            with recording(Client(endpoint), journal, process=f"kv{run}", name=f"run{run}") as client:
                client.enable("writeError", 'return("x")')
                for i in range(run + 2):
                    requests.put(f"http://127.0.0.1:{port}/kv/k{i}", data="v", timeout=10)
                assert client.count("writeError") == run + 2
        finally:
            proc.kill()
            proc.wait()
        journals.append(str(journal))
    assert [w.closed_by for j in journals for w in windows(Path(j))] == ["end", "end"]
    data = report_json(*journals, "--source", str(KVSERVER_SRC))
    assert data["coverage"] == {"in_source": 11, "armed": 1, "hit": 1, "crashed": 0,
                                "armed_percent": pytest.approx(100 / 11), "hit_percent": pytest.approx(100 / 11)}
    fps = by_name(data)
    assert fps["writeError"]["hits"] == 5 and fps["writeError"]["armed"] == 2
    assert fps["writeError"]["processes"] == ["kv0", "kv1"] and data["runs"] == 2
    assert sorted(name for name, fp in fps.items() if fp["armed"] == 0) == sorted(set(KV_FAILPOINTS) - {"writeError"})
    assert all(fp["in_source"] and fp["locations"] for fp in fps.values())
    text = report(*journals, "--source", str(KVSERVER_SRC))
    assert text.returncode == 0
    assert text.stdout.splitlines()[-1] == "11 failpoints in source, 1 armed (9%), 1 hit (9%), 0 crashed a process"
    assert f"store.go:{marker_line('writeError')}" in text.stdout
    assert report(*journals, "--source", str(KVSERVER_SRC), "--fail-under", "9").returncode == 0
    under = report(*journals, "--source", str(KVSERVER_SRC), "--fail-under", "50")
    assert under.returncode == 1 and "9.1% of the failpoints hit" in under.stderr
    no_source = report(*journals)
    assert no_source.returncode == 0 and "never-armed failpoints unknown" in no_source.stdout
    assert report_json(*journals)["coverage"]["in_source"] is None


def test_bad_input_is_refused_with_exit_2_and_no_traceback(tmp_path: Path) -> None:
    good = tmp_path / "good.jsonl"
    good.write_text('{"event": "run", "run": "r"}\n')
    refused = report(str(good), "--fail-under", "10")
    assert refused.returncode == 2 and "--fail-under needs --source" in refused.stderr
    missing = report(str(tmp_path / "nope.jsonl"))
    assert missing.returncode == 2 and "cannot read journal" in missing.stderr
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"event": "run", "run": "r"}\nnot json\n')
    broken = report(str(bad))
    assert broken.returncode == 2 and f"{bad}:2: not a journal event" in broken.stderr
    results = [refused, missing, broken]
    for name, line, complaint in [
        ("missing-field", '{"event": "window", "run": "r"}', "window event"),
        ("wrong-type", '{"event": "window", "run": "r", "process": "p", "failpoint": "f", "terms": "off", "start": "x", "end": 1}', 'start is "x", not float'),
        ("bool-hits", '{"event": "window", "run": "r", "process": "p", "failpoint": "f", "terms": "off", "start": 0, "end": 1, "hits": true}', "hits is true, not int"),
        ("unknown-kind", '{"event": "teleport", "run": "r"}', "unknown event 'teleport'"),
        ("array", "[1]", "not a JSON object"),
    ]:
        path = tmp_path / f"{name}.jsonl"
        path.write_text(line + "\n")
        result = report(str(path), "-o", str(tmp_path / "r.html"))
        assert result.returncode == 2 and f"{path}:1: not a journal event" in result.stderr and complaint in result.stderr, result.stderr
        results.append(result)
    unwritable = report(str(good), "-o", str(tmp_path / "no" / "such" / "dir" / "r.html"))
    assert unwritable.returncode == 2 and "cannot write the report" in unwritable.stderr
    for result in results + [unwritable]:
        assert "Traceback" not in result.stderr


def test_todays_scenario_journal_is_read_as_steps(kvserver_binary: Path, tmp_path: Path) -> None:
    from gofail_py.scenario import parse_scenario, run_scenario

    text = (f"process kv: {kvserver_binary} --listen 127.0.0.1:{{port}} --data {tmp_path}/kv\n"
            "start kv\nset kv writeError=return(\"x\")\nexpect kv writeError count == 1\n")
    journal = tmp_path / "journal.jsonl"
    result = run_scenario(parse_scenario(text, str(tmp_path / "t.gofail")), journal=journal)
    assert not result.passed
    data = report("--json", str(journal))
    assert data.returncode == 0, data.stderr
    html = tmp_path / "r.html"
    assert report(str(journal), "-o", str(html)).returncode == 0
    assert "expect kv writeError count == 1" in html.read_text() and "step failed" in html.read_text()


def test_hits_at_panic_follow_the_terms() -> None:
    assert hits_at_panic("panic") == 1
    assert hits_at_panic("2*off->panic") == 3
    assert hits_at_panic('1*return("x")->3*off->panic("boom")') == 5
    assert hits_at_panic("50.0%panic") is None
    assert hits_at_panic("off->panic") is None
    assert hits_at_panic("return(1)") is None


def test_a_window_disabled_behind_the_recorders_back_is_a_lower_bound(kvserver_binary: Path, tmp_path: Path) -> None:
    journal = tmp_path / "shared.jsonl"
    first = Recorder(journal, name="first")
    kv = KV(kvserver_binary, tmp_path / "data", first)
    try:
        kv.client.enable("writeError", 'return("x")')
        assert kv.put("a") == 500
        assert kv.client.count("writeError") == 1
        assert kv.put("b") == 500
        kv.truth.disable("writeError")  # someone else: the runtime forgets the count
        assert kv.client.disable("writeError") is False  # as Client.disable: it had no terms
        with pytest.raises(FailpointDisabled):
            kv.client.disable("writeError", strict=True)
        first.close()
        second = Recorder(journal, name="second")  # a second run appended to the same journal
        again = RecordingClient(kv.truth, second, "kv")
        again.enable("writeError", 'return("y")')
        assert kv.put("c") == 500
        again.disable("writeError")
        second.close()
    finally:
        kv.kill()
    got = [(w.run.split("@")[0], w.hits, w.exact) for w in windows(journal)]
    assert got == [("first", 1, False), ("second", 1, True)]
    data = report_json(str(journal))
    assert data["runs"] == 2 and by_name(data)["writeError"]["hits"] == 2 and by_name(data)["writeError"]["hits_exact"] is False
    assert ["writeError", "-", "2", ">=2", "0", "kv"] in [line.split() for line in report(str(journal)).stdout.splitlines()]


def test_attribution_by_path_tail_and_its_refusals() -> None:
    from gofail_py.recording.panics import Panic, attribute, parse_panic
    from gofail_py.rewriter.workspace import list_failpoints

    inventory = list_failpoints([KVSERVER_SRC])
    line = marker_line("beforeCommit")
    trimmed = "panic: failpoint panic: {}\n\ngoroutine 18 [running]:\n" \
        "go.etcd.io/gofail/runtime.(*Failpoint).Acquire(0x1?)\n\tgo.etcd.io/gofail@v0.2.0/runtime/failpoint.go:45 +0x6e\n" \
        f"main.(*store).commit(0x1, {{0x2, 0x2}})\n\texample.com/kvserver/store.go:{line} +0x515\n"
    panic = parse_panic(trimmed)
    assert panic == Panic("failpoint panic: {}", True, "example.com/kvserver/store.go", line)
    assert attribute(panic, inventory) == ("beforeCommit", "stack")
    assert attribute(Panic("x", True, "other.go", line), inventory)[0] is None
    assert attribute(Panic("x", True, "store.go", line + 1), inventory)[0] is None
    clash = next(fp for fp in inventory if fp.failpoint.line == line)
    other = clash._replace(path=Path("/elsewhere/store.go"), failpoint=clash.failpoint._replace(name="otherCommit"))
    assert attribute(Panic("x", True, "/build/store.go", line), [clash, other]) == (
        None, f"store.go:{line} matches several failpoints: beforeCommit, otherCommit")
    assert attribute(Panic("x", True, "/build/kvserver/store.go", line), [clash, other])[0] == "beforeCommit"  # longer tail wins
    assert attribute(panic, [])[0] is None and "pass --source" in attribute(panic, [])[1]
    assert parse_panic("panic: boom\n\ngoroutine 1 [running]:\nmain.main()\n\t/x/main.go:3 +0x1\n") == Panic("boom", False)
    assert parse_panic("all fine\n") is None


def _wait_stopped(pid: int) -> None:
    """Until every thread of pid is stopped (state T), at most 10 s."""
    import time

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        states = []
        for task in Path(f"/proc/{pid}/task").iterdir():
            try:
                states.append((task / "stat").read_text().rsplit(")", 1)[1].split()[0])
            except (OSError, IndexError):
                continue
        if states and all(state in "Tt" for state in states):
            return
        time.sleep(0.01)
    raise AssertionError(f"process {pid} did not stop")


def test_before_stop_asks_a_silent_process_once_not_once_per_window(kvserver_binary: Path, tmp_path: Path) -> None:
    """A stopped (SIGSTOP) process cannot answer: its windows close as lower bounds after one
    timeout, not one timeout per open window."""
    import os
    import signal
    import time

    journal = tmp_path / "run.jsonl"
    recorder = Recorder(journal, name="silent")
    kv = KV(kvserver_binary, tmp_path / "data", recorder)
    names = ["slowWrite", "readOnly", "writeError", "truncateValue"]
    try:
        for name in names:
            kv.client.enable(name, "return(1)" if name != "slowWrite" else "sleep(1)")
        os.kill(kv.proc.pid, signal.SIGSTOP)
        _wait_stopped(kv.proc.pid)  # a signal is delivered later: a thread still running may answer once
        began = time.monotonic()
        recorder.before_stop("kv", Client(kv.client.client.endpoint, timeout=1.0))
        took = time.monotonic() - began
    finally:
        kv.kill()
    recorder.close()
    assert took < 2.5, f"{took:.1f} s: one timeout per window ({len(names)} windows, 1 s each)"
    got = sorted((w.failpoint, w.exact, w.closed_by) for w in windows(journal))
    assert got == sorted((name, False, "stop") for name in names)


def _relay_slowly(upstream: str, delay: float) -> Callable[[socket.socket], None]:
    """A handler for tests.support.answering: relays HTTP/1.1 requests with a Content-Length (or
    none) to ``upstream`` and holds each PUT's answer back for ``delay`` seconds."""

    def read_message(stream: Any) -> bytes:
        head = b""
        while not head.endswith(b"\r\n\r\n"):
            line = stream.readline()
            if not line:
                raise OSError("closed")
            head += line
        length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                       if line.lower().startswith(b"content-length:")), 0)
        return head + stream.read(length)

    def handle(conn: socket.socket) -> None:
        conn.settimeout(2)  # a kept-alive connection left idle ends the relay: the server can stop
        host, port = upstream.rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=10) as up:
            mine, theirs = conn.makefile("rb"), up.makefile("rb")
            while True:
                request = read_message(mine)
                up.sendall(request)
                answer = read_message(theirs)
                if request.startswith(b"PUT "):
                    time.sleep(delay)
                conn.sendall(answer)

    return handle


def test_a_window_opens_when_its_put_is_sent_not_when_the_answer_came(kvserver_binary: Path, tmp_path: Path) -> None:
    """The runtime arms a failpoint when the PUT reaches it, before its answer is back: a hit in
    between is inside the window drawn (a stale read so served was once drawn before its window)."""
    journal = tmp_path / "run.jsonl"
    recorder = Recorder(journal, name="slow-answer")
    kv = KV(kvserver_binary, tmp_path / "data", recorder)
    try:
        with answering(_relay_slowly(kv.client.client.endpoint, 1.0)) as slow:
            client = RecordingClient(Client(slow, timeout=10), recorder, "kv")
            setting = threading.Thread(target=client.enable, args=("truncateValue", "return(100)"))
            setting.start()
            deadline = time.monotonic() + 5
            while kv.truth.list().get("truncateValue") != "return(100)" and time.monotonic() < deadline:
                time.sleep(0.01)  # armed in the runtime; its answer is held for a second more
            assert kv.put("a") == 204
            hit_at = recorder.now()
            assert kv.truth.count("truncateValue") == 1
            setting.join(10)
            assert not setting.is_alive()
        kv.client.disable("truncateValue")  # the same recorder and process, straight to the runtime
    finally:
        kv.kill()
    recorder.close()
    [window] = windows(journal)
    assert window.hits == 1 and window.start <= hit_at, (window, hit_at)
