"""Text from outside never drives the terminal (issue 21, item 5).

A hostile gofail endpoint (a real HTTP server, a Python process on 127.0.0.1 carrying GOFAIL_HTTP
as a gofail binary does, so that `ps` finds it too) answers names and terms holding an OSC title
sequence, an OSC 52 clipboard write, CSI codes, a C1 CSI and a bidi override. A "malicious
repository" holds a failpoint whose body, type and file name carry the same. Every command shows
them escaped (`\\x1b`), the JSON output stays the exact text.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.goprog import free_port

pytestmark = pytest.mark.hostile

GOFAIL_PY = Path(sys.executable).with_name("gofail-py")
TITLE = "\x1b]0;PWNED\x07"  # sets the window title
CLIPBOARD = "\x1b]52;c;cm0gLXJmIH4=\x07"  # writes `rm -rf ~` to the clipboard
CLEAR = "\x1b[2J\x1b[H"
C1 = "\x9b31m"  # CSI as one C1 character
BIDI = "\u202e"  # right-to-left override
RAW = (TITLE, CLIPBOARD, CLEAR, C1, BIDI, "\r", "\x7f", "\x00")

SERVER = r'''
import http.server, os, sys
NAMES = {"evil\x1b]0;PWNED\x07": 'return("\x1b]52;c;cm0gLXJmIH4=\x07")', "quiet": "", "rtl\u202egnp.exe": "panic\r\x7f\x00"}
class H(http.server.BaseHTTPRequestHandler):
    def answer(self, code, text):
        data = text.encode("utf-8")
        self.send_response(code)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    def do_GET(self):
        path = self.path[1:]
        if path == "":
            return self.answer(200, "".join(f"{n}={t}\n" for n, t in sorted(NAMES.items())))
        if path == "quiet":
            return self.answer(200, "\x1b[2J\x1b[H\x9b31m\x1b]0;PWNED\x07\n")
        if path.endswith("/count"):
            return self.answer(200, "3")
        return self.answer(404, "failed to GET: failpoint: failpoint does not exist\n")
    def do_PUT(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.answer(400, "fail to set failpoint: \x1b]0;PWNED\x07\x1b[2J\u202eno\n")
    def log_message(self, *args):
        pass
port = int(os.environ["GOFAIL_HTTP"].rsplit(":", 1)[1])
http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
'''


def cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([str(GOFAIL_PY), *args], capture_output=True, timeout=60, cwd=cwd, env={**os.environ, **(env or {})})
    # bytes decoded here: text=True would turn a \r into a newline before the test could see it
    result = subprocess.CompletedProcess(done.args, done.returncode, done.stdout.decode("utf-8", "surrogateescape"),
                                         done.stderr.decode("utf-8", "surrogateescape"))
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    return result


def shown_safely(text: str) -> None:
    for raw in RAW:
        assert raw not in text, f"{raw!r} reached the terminal: {text!r}"


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    address = f"127.0.0.1:{free_port()}"
    server = subprocess.Popen([sys.executable, "-c", SERVER, "\x1b]0;argv\x07"], env={**os.environ, "GOFAIL_HTTP": address},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import socket

    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(tuple(address.split(":")), 1).close()  # type: ignore[arg-type]
            break
        except OSError:
            assert time.monotonic() < deadline and server.poll() is None, "the hostile endpoint did not start"
            time.sleep(0.05)
    yield address
    server.kill()
    server.wait()


def test_ls_shows_names_and_terms_escaped(endpoint: str) -> None:
    result = cli("ls", "-e", endpoint, "--timeout", "10")
    assert result.returncode == 0, result.stderr
    shown_safely(result.stdout + result.stderr)
    assert "* evil\\x1b]0;PWNED\\x07=return(\"\\x1b]52;c;cm0gLXJmIH4=\\x07\")" in result.stdout
    assert "rtl\\u202egnp.exe=panic\\r\\x7f\\x00" in result.stdout
    assert len(result.stdout.splitlines()) == 3


def test_ls_json_keeps_the_exact_text(endpoint: str) -> None:
    result = cli("ls", "-e", endpoint, "--json", "--timeout", "10")
    shown_safely(result.stdout)
    names = {entry["name"]: entry["terms"] for entry in json.loads(result.stdout)}
    assert names["evil" + TITLE] == f'return("{CLIPBOARD}")' and names["rtl\u202egnp.exe"] == "panic\r\x7f\x00"


def test_get_shows_terms_escaped(endpoint: str) -> None:
    result = cli("get", "quiet", "-e", endpoint)
    assert result.returncode == 0, result.stderr
    shown_safely(result.stdout)
    assert result.stdout == "\\x1b[2J\\x1b[H\\x9b31m\\x1b]0;PWNED\\x07\n"
    assert json.loads(cli("get", "quiet", "-e", endpoint, "--json").stdout)["terms"] == CLEAR + C1 + TITLE


def test_an_error_quoting_the_endpoint_is_escaped(endpoint: str) -> None:
    result = cli("set", "-e", endpoint, "quiet=panic")
    assert result.returncode == 1, result.stderr
    shown_safely(result.stderr)
    assert "\\x1b]0;PWNED\\x07\\x1b[2J\\u202eno" in result.stderr and result.stderr.count("\n") == 1


def test_ps_shows_the_active_terms_escaped(endpoint: str) -> None:
    deadline = time.monotonic() + 30  # ps asks a process only once it is past its start-up (3 s)
    while True:
        result = cli("ps", "--timeout", "5")
        line = next((line for line in result.stdout.splitlines() if endpoint in line), "")
        if "ready" in line or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert "ready" in line, result.stdout + result.stderr
    shown_safely(result.stdout)
    assert "evil\\x1b]0;PWNED\\x07=return(" in line
    as_json = [p for p in json.loads(cli("ps", "--json", "--timeout", "5").stdout) if p["endpoint"] == endpoint]
    assert as_json and as_json[0]["active"]["evil" + TITLE] == f'return("{CLIPBOARD}")'


GO_FILE = """package m

func Save() error {
	// gofail: var saveError string
	// println("\x1b]0;PWNED\x07 \x1b]52;c;cm0gLXJmIH4=\x07 \u202e")
	return nil
}
"""


@pytest.fixture
def malicious_repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "go.mod").write_text("module example.com/m\n\ngo 1.21\n")
    (root / "save.go").write_text(GO_FILE)
    (root / f"name{TITLE}.go").write_text(GO_FILE.replace("saveError", "nameError"))
    return root


def test_list_shows_bodies_and_paths_escaped(malicious_repo: Path) -> None:
    result = cli("list", str(malicious_repo))
    shown_safely(result.stdout + result.stderr)
    assert '\t| println("\\x1b]0;PWNED\\x07 \\x1b]52;c;cm0gLXJmIH4=\\x07 \\u202e")' in result.stdout, result.stdout
    assert "name\\x1b]0;PWNED\\x07.go:4" in result.stdout
    data = json.loads(cli("list", "--json", str(malicious_repo)).stdout)
    assert any(TITLE in line for fp in data for line in fp["body"]), data


def test_enable_names_an_escaped_path(malicious_repo: Path) -> None:
    result = cli("enable", "--check", str(malicious_repo))
    assert result.returncode == 0
    cli("enable", str(malicious_repo))
    result = cli("enable", "--check", str(malicious_repo))
    assert result.returncode == 1
    shown_safely(result.stdout)
    assert "name\\x1b]0;PWNED\\x07.go: enabled" in result.stdout


def test_an_undecodable_file_name_is_shown_not_a_crash(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "go.mod").write_text("module example.com/m\n\ngo 1.21\n")
    (root / os.fsdecode(b"bad\xff.go")).write_text(GO_FILE)
    result = cli("list", str(root))
    assert result.returncode == 0, result.stderr
    assert "bad\\udcff.go:4" in result.stdout, result.stdout


def test_a_run_step_output_and_a_crash_message_are_escaped(tmp_path: Path) -> None:
    scenario = tmp_path / "s.gofail"
    scenario.write_text(f"process p: {sys.executable} -c 'import sys, time; sys.stderr.write(\"\\x1b]0;PWNED\\x07\\\\n\"); time.sleep(60)'\n"
                        f"run {sys.executable} -c 'print(\"\\x1b]52;c;cm0gLXJmIH4=\\x07\")'\n"
                        f"run {sys.executable} -c 'import sys; sys.stderr.write(\"\\u202e\\x1b[2J\"); sys.exit(3)'\n")
    result = cli("run", str(scenario))
    assert result.returncode == 1, result.stdout + result.stderr
    shown_safely(result.stdout + result.stderr)
    assert "\\x1b]52;c;cm0gLXJmIH4=\\x07" in result.stdout and "\\u202e\\x1b[2J" in result.stdout, result.stdout


def test_report_text_is_escaped(tmp_path: Path) -> None:
    journal = tmp_path / "j.jsonl"
    window = {"event": "window", "run": "r" + TITLE, "process": "kv" + CLEAR, "failpoint": "fp" + BIDI,
              "terms": "panic", "start": 0, "end": 1, "hits": 1}
    crash = {"event": "crash", "run": "r", "process": "p" + C1, "time": 1, "message": "boom" + CLIPBOARD, "reason": "x\r"}
    journal.write_text(json.dumps(window) + "\n" + json.dumps(crash) + "\n")
    result = cli("report", str(journal))
    assert result.returncode == 0, result.stderr
    shown_safely(result.stdout)
    assert "fp\\u202e" in result.stdout and "boom\\x1b]52;c;" in result.stdout and "p\\x9b31m" in result.stdout


def test_an_answer_whose_body_comes_after_the_connection_is_handed_over(tmp_path: Path) -> None:
    """An endpoint that closes after each answer (HTTP/1.0, or `Connection: close`) and sends the
    body in a segment of its own: the client's connection hands its socket to the answer, which
    must keep it open until the body is read (it read a closed descriptor: exit 3 at random)."""
    import socket

    from tests.support.answering import answering

    def handle(conn: socket.socket) -> None:
        conn.recv(65536)
        body = b"slowWrite=panic\n"
        conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body))
        time.sleep(0.3)  # the body in its own segment, after the client has the headers
        conn.sendall(body)

    from gofail_py.client import Client

    with answering(handle) as endpoint, Client(endpoint, timeout=10) as client:
        assert client.list() == {"slowWrite": "panic"}
        assert client.list() == {"slowWrite": "panic"}  # a fresh connection the second time
