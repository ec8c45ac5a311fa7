"""The `trigger` statement and gofail_py.etcd's triggers, without etcd: bad input refused before
anything runs (exit 2), a target that is not running or not etcd failing the step with a clear
message, hostile answers and a trickling server turned into our errors within the deadline.
The triggers against a real etcd are in tests/test_etcd_triggers.py (mark etcd)."""

from __future__ import annotations

import http.server
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from gofail_py.errors import NotEtcd, TriggerFailed, TriggerUsageError
from gofail_py.etcd import Member, trigger
from gofail_py.etcd.gateway import Gateway
from gofail_py.scenario.parser import parse_scenario
from gofail_py.scenario.statements import describe

CLI = [sys.executable, "-m", "gofail_py.cli"]
KV = "process kv: {kvserver} --listen 127.0.0.1:{port} --data {tmp}/kv\n"


def gofail_run(tmp_path: Path, text: str, *args: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "s.gofail"
    path.write_text(text)
    result = subprocess.run([*CLI, "run", str(path), *args], capture_output=True, text=True, timeout=120)
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    return result


@pytest.mark.parametrize(("line", "message"), [
    ("trigger kv explode", "2:12: unknown trigger 'explode': expected one of put, compact, defrag"),
    ("trigger kv put 0", "2:16: trigger put's N must be a whole number from 1 to 100000, not '0'"),
    ("trigger kv put ten", "2:16: trigger put's N must be a whole number"),
    ("trigger kv put 1 2", "2:16: trigger put takes `put [N]`, not '1 2'"),
    ("trigger kv defrag 3 within 2s", "2:19: trigger defrag takes `defrag` (no arguments), not '3'"),
    ("trigger kv compact within 0s", "2:27: a trigger's time must be above 0 s"),
    ("trigger kv compact within soon", "2:27: "),
    ("trigger nobody put", "2:9: no process 'nobody' declared"),
    ("trigger kv", "expected `trigger TARGET ACTION [ARG ...] [within DURATION]`"),
], ids=["action", "zero", "word", "too-many", "no-args", "within-zero", "within-word", "target", "short"])
def test_bad_trigger_input_is_refused_before_anything_runs(tmp_path: Path, line: str, message: str) -> None:
    result = gofail_run(tmp_path, f"{KV}{line}\n", "--var", "kvserver=/nonexistent")
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr and result.stdout == "", result.stderr


def test_the_statement_reads_back_from_its_description() -> None:
    lines = ["trigger kv compact 20 within 5s", "trigger kv defrag", "trigger kv member-promote within 120s"]
    steps = parse_scenario(KV + "\n".join(lines) + "\n").steps
    assert [describe(step) for step in steps] == lines
    assert parse_scenario(KV + "\n".join(describe(step) for step in steps) + "\n").steps == steps


def test_a_target_not_running_fails_the_step(tmp_path: Path) -> None:
    result = gofail_run(tmp_path, f"{KV}trigger kv put\n", "--var", "kvserver=/nonexistent")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "trigger put: process kv is not running (it was never started)" in result.stdout


@pytest.mark.slow
def test_a_target_that_is_not_etcd_fails_the_step(kvserver_binary: Path, tmp_path: Path) -> None:
    result = gofail_run(tmp_path, f"{KV}start kv\ntrigger kv compact within 10s\n", "--var", f"kvserver={kvserver_binary}")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "trigger compact on kv failed: etcd at 127.0.0.1:" in result.stdout
    assert "not as etcd's gateway does" in result.stdout or "not etcd's JSON" in result.stdout, result.stdout


class _Hostile(http.server.BaseHTTPRequestHandler):
    answers: dict[str, tuple[int, bytes]] = {}

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        kind = self.server.kind  # type: ignore[attr-defined]
        if kind == "trickle":  # one byte at a time, never the end: a read timeout alone never fires
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            for _ in range(1000):
                try:
                    self.wfile.write(b" ")
                    self.wfile.flush()
                except OSError:
                    return
                time.sleep(0.2)
            return
        status, body = {
            "html": (200, b"<html>hello</html>"),
            "list": (200, b"[1, 2, 3]"),
            "error": (500, b'{"nope": true}'),
            "status-only": (200, b'{"header": {"member_id": "1"}}'),
            "bad-header": (200, b'{"header": "x", "version": "3.6"}'),
        }[kind]
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def hostile() -> Iterator[Callable[[str], str]]:
    servers: list[http.server.ThreadingHTTPServer] = []

    def serve(kind: str) -> str:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hostile)
        server.kind = kind  # type: ignore[attr-defined]
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"127.0.0.1:{server.server_address[1]}"

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("kind", ["html", "list", "error", "status-only", "bad-header"])
def test_an_answer_that_is_not_etcd_is_a_clear_error(hostile: Callable[[str], str], kind: str) -> None:
    address = hostile(kind)
    with pytest.raises(NotEtcd, match=f"etcd at {address}"):
        with Gateway(address) as gateway:
            gateway.status(time.monotonic() + 10)
    with pytest.raises(TriggerFailed, match="trigger compact on m1 failed: etcd at"):
        trigger("compact", Member("m1", address), timeout=10)


def test_a_trickling_server_ends_at_the_deadline(hostile: Callable[[str], str]) -> None:
    address = hostile("trickle")
    began = time.monotonic()
    with pytest.raises(TriggerFailed, match="did not finish within 1 s"):
        trigger("put", Member("m1", address), timeout=1)
    assert time.monotonic() - began < 30  # the deadline ended it, not the server's 200 s of bytes


def test_nothing_answering_is_a_clear_error() -> None:
    from gofail_py.processes.supervisor import free_port

    with pytest.raises(TriggerFailed, match="nothing answers .is the member running"):
        trigger("defrag", Member("m1", f"127.0.0.1:{free_port()}"), timeout=5)


def test_the_python_api_refuses_bad_input() -> None:
    with pytest.raises(TriggerUsageError, match="unknown trigger 'explode'"):
        trigger("explode", Member("m1", "127.0.0.1:1"))
    with pytest.raises(TriggerUsageError, match="a trigger's timeout must be above 0 s"):
        trigger("put", Member("m1", "127.0.0.1:1"), timeout=0)
    with pytest.raises(TriggerUsageError, match="N must be a whole number"):
        trigger("watch", Member("m1", "127.0.0.1:1"), ["-1"])
    assert TriggerUsageError("x").exit_code == 2


def test_trigger_with_a_question_mark_records_a_failure_and_goes_on(tmp_path: Path) -> None:
    result = gofail_run(tmp_path, f"{KV}trigger? kv put\nlog went on\n", "--var", "kvserver=/nonexistent")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "process kv is not running" in result.stdout and "went on" in result.stdout
    assert describe(parse_scenario(f"{KV}trigger? kv defrag within 5s\n").steps[0]) == "trigger? kv defrag within 5s"
