"""The Python client against examples/kvserver built with our rewriter and the real runtime."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from gofail_py.client import Client
from gofail_py.client.cluster import Cluster
from gofail_py.errors import (
    EndpointTimeout,
    EndpointUnreachable,
    FailpointDisabled,
    FailpointNotFound,
    InvalidFailpointName,
    ProcessDied,
    TermSyntaxError,
    UnexpectedResponse,
    WaitTimeout,
)
from gofail_py.terms import Terms
from tests.support.goprog import KV_FAILPOINTS, free_port, start



class KV:
    """A running kvserver: its process, its gofail client, and its key-value URL."""

    def __init__(self, binary: Path, data: Path, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.proc, endpoint = start(binary, "--listen", f"127.0.0.1:{self.port}", "--data", str(data), env=env)
        self.client = Client(endpoint)

    def put(self, key: str, value: str, timeout: float = 10) -> requests.Response:
        return requests.put(f"http://127.0.0.1:{self.port}/kv/{key}", data=value, timeout=timeout)

    def get(self, key: str) -> requests.Response:
        return requests.get(f"http://127.0.0.1:{self.port}/kv/{key}", timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.client.close()


@pytest.fixture
def kv(kvserver_binary: Path, tmp_path: Path) -> Iterator[KV]:
    server = KV(kvserver_binary, tmp_path / "data")
    yield server
    server.stop()


def test_list_get_enable_disable(kv: KV) -> None:
    c = kv.client
    assert c.list() == {name: "" for name in KV_FAILPOINTS}
    c.enable("writeError", 'return("disk full")')
    assert c.get("writeError") == 'return("disk full")'
    assert c.list()["writeError"] == 'return("disk full")'
    assert c.disable("writeError") is True
    assert c.get("writeError") == ""  # off: "", as list() says it and `gofail-py get` prints it
    with pytest.raises(FailpointDisabled):
        c.count("writeError")
    assert c.disable("writeError") is False  # already off: no error, as etcd's robustness framework treats it
    with pytest.raises(FailpointDisabled):
        c.disable("writeError", strict=True)


def test_return_values_reach_the_program(kv: KV) -> None:
    with kv.client.failpoint("writeError", Terms.return_("injected disk error")):
        response = kv.put("a", "1")
        assert response.status_code == 500 and "injected disk error" in response.text
    assert kv.client.list()["writeError"] == ""
    kv.client.enable("truncateValue", "return(3)")
    assert kv.put("b", "abcdef").status_code == 204
    assert kv.get("b").text == "abc"
    kv.client.enable("readOnly", "return(true)")
    assert "read-only" in kv.put("c", "x").text


def test_sleep_delays_a_request_by_the_set_time(kv: KV) -> None:
    kv.client.enable("slowWrite", "sleep(300ms)")
    began = time.monotonic()
    assert kv.put("slow", "1").status_code == 204
    assert time.monotonic() - began >= 0.3


def test_counts_match_the_hits(kv: KV) -> None:
    kv.client.enable("beforeCommit", "off")
    for n in range(3):
        kv.put(f"k{n}", "v")
    assert kv.client.count("beforeCommit") == 3  # the runtime counts `off` too: it counts evaluations
    kv.client.enable("beforeCommit", "2*print")
    for n in range(5):
        kv.put(f"k{n}", "v")
    assert kv.client.count("beforeCommit") == 2
    kv.client.enable("flakyDisk", "1*return")
    kv.put("retry", "v")
    assert kv.client.wait_count("flakyDisk", 1, timeout=2) == 1
    with pytest.raises(WaitTimeout):
        kv.client.wait_count("flakyDisk", 5, timeout=0.2)


def test_enable_many_in_one_request_and_fallback_for_unsafe_terms(kv: KV) -> None:
    kv.client.enable_many({"slowWrite": "sleep(1)", "readOnly": "return(false)"})
    assert kv.client.list()["slowWrite"] == "sleep(1)" and kv.client.list()["readOnly"] == "return(false)"
    # `;` and `=` cannot travel in PUT /failpoints: sent one by one instead
    kv.client.enable_many({"writeError": 'return("a=b;c")', "beforeCommit": "print"})
    assert kv.client.get("writeError") == 'return("a=b;c")'
    assert sorted(kv.client.disable_all()) == ["beforeCommit", "readOnly", "slowWrite", "writeError"]


def test_unknown_names_bad_terms_and_bad_names(kv: KV) -> None:
    with pytest.raises(FailpointNotFound, match="did you mean writeError"):
        kv.client.enable("writeErorr", "panic")
    with pytest.raises(FailpointNotFound):
        kv.client.count("nope")
    with pytest.raises(FailpointNotFound, match="nope"):
        kv.client.enable_many({"nope": "panic", "slowWrite": "off"})
    with pytest.raises(TermSyntaxError):
        kv.client.enable("slowWrite", "sleep(1s -> off")
    with pytest.raises(InvalidFailpointName):
        kv.client.enable("../failpoints", "panic")
    assert kv.client.list()["slowWrite"] == ""


def test_a_refused_batch_changes_nothing(kv: KV) -> None:
    """The runtime sets a batch's entries in Go map order and stops at the first it refuses: the
    ones it met first are put back (an off one off, an armed one to its terms). Twenty batches of
    five known names and one unknown: nearly every one has entries set before the refusal."""
    c = kv.client
    c.enable("writeError", 'return("before")')
    known = [name for name in KV_FAILPOINTS if name not in ("afterCommit", "beforeCommit")]
    for attempt in range(20):
        batch = {name: "sleep(1)" for name in known} | {"nope": "off"}
        with pytest.raises(FailpointNotFound, match=r"no failpoint nope .*none of the \d+ failpoints was changed"):
            c.enable_many(batch)
        assert c.list() == {name: 'return("before")' if name == "writeError" else "" for name in KV_FAILPOINTS}, attempt
    with pytest.raises(UnexpectedResponse, match="none of the 2 failpoints was changed"):
        c.enable_many({"slowWrite": "off", "readOnly": "bogus(("}, raw=True)
    assert c.list()["slowWrite"] == ""


def test_panic_kills_the_process_and_the_client_says_so(kv: KV) -> None:
    kv.client.enable("afterCommit", "panic")
    with pytest.raises(requests.ConnectionError):
        kv.put("dies", "1")
    assert kv.proc.wait(timeout=5) == 2
    assert b"failpoint panic" in (kv.proc.stderr.read() if kv.proc.stderr else b"")
    with pytest.raises(EndpointUnreachable, match="GOFAIL_HTTP"):
        kv.client.list()
    assert kv.client.available() is False


def test_process_killed_mid_request_is_reported(kv: KV) -> None:
    """The handler is still reading a slowly streamed body when SIGKILL arrives."""

    def slow_body() -> Iterator[bytes]:
        yield b"sleep("
        kv.proc.kill()
        kv.proc.wait()
        time.sleep(0.2)
        yield b"1)"

    with pytest.raises(ProcessDied, match="gone"):
        kv.client._request("PUT", "/slowWrite", slow_body())


def test_gofail_failpoints_env_arms_at_start_up(kvserver_binary: Path, tmp_path: Path) -> None:
    server = KV(kvserver_binary, tmp_path / "d", env={"GOFAIL_FAILPOINTS": 'writeError=return("from env");slowWrite=sleep(1)'})
    try:
        assert server.client.get("writeError") == 'return("from env")'
        assert "from env" in server.put("x", "1").text
    finally:
        server.stop()


def test_slow_endpoint_times_out() -> None:
    with socket.socket() as listener:  # accepts connections, never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        client = Client(f"127.0.0.1:{listener.getsockname()[1]}", timeout=0.3)
        began = time.monotonic()
        with pytest.raises(EndpointTimeout):
            client.list()
        assert time.monotonic() - began < 5


def test_ready_and_unreachable() -> None:
    client = Client(f"http://127.0.0.1:{free_port()}/")
    with pytest.raises(EndpointUnreachable):
        client.ready(timeout=0.2)
    with pytest.raises(EndpointUnreachable) as caught:
        client.list()
    # one exception whose message says it all: no chain of requests/urllib3 exceptions below it
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    assert "GOFAIL_HTTP" in str(caught.value)


def test_cluster_reports_per_endpoint(kvserver_binary: Path, tmp_path: Path) -> None:
    servers = [KV(kvserver_binary, tmp_path / f"m{n}") for n in range(3)]
    dead = f"127.0.0.1:{free_port()}"
    try:
        cluster = Cluster([s.client for s in servers] + [dead])
        results = cluster.enable("slowWrite", "sleep(1)")
        assert [r.ok for r in results] == [True, True, True, False]
        assert isinstance(results[3].error, EndpointUnreachable)
        assert [r.value["slowWrite"] for r in cluster.list()[:3] if r.value] == ["sleep(1)"] * 3
        assert [r.value for r in cluster.disable_all()[:3]] == [["slowWrite"]] * 3
    finally:
        for server in servers:
            server.stop()


def test_proxies_are_used_only_when_asked(kv: KV, monkeypatch: pytest.MonkeyPatch) -> None:
    """trust_env=False (default): HTTP_PROXY is not read; trust_env=True: requests go through it."""
    import threading

    seen: list[str] = []
    proxy = socket.socket()
    proxy.bind(("127.0.0.1", 0))
    proxy.listen()

    def serve() -> None:  # a proxy that answers as the runtime would, and notes the request line
        while True:
            try:
                conn, _ = proxy.accept()
            except OSError:
                return
            with conn:
                head = b""
                while b"\r\n\r\n" not in head:
                    head += conn.recv(4096)
                seen.append(head.split(b"\r\n")[0].decode())
                conn.sendall(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")

    threading.Thread(target=serve, daemon=True).start()
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.getsockname()[1]}")
    try:
        Client(kv.client.endpoint).enable("slowWrite", "print")
        assert seen == [] and kv.client.get("slowWrite") == "print"
        Client(kv.client.endpoint, trust_env=True).enable("slowWrite", "off")
        assert seen == [f"PUT http://{kv.client.endpoint}/slowWrite HTTP/1.1"]
        assert kv.client.get("slowWrite") == "print"  # the proxy kept it
    finally:
        proxy.close()


def test_non_ascii_terms_travel_intact(kv: KV) -> None:
    """The body is encoded by us (UTF-8, sent with the headers): Content-Length must count bytes."""
    kv.client.enable("writeError", 'return("héllo ✓")')
    assert kv.client.get("writeError") == 'return("héllo ✓")'
    kv.client.enable_many({"writeError": 'return("añ")', "slowWrite": "sleep(1)"})
    assert kv.client.list()["writeError"] == 'return("añ")'
    assert "añ" in kv.put("x", "1").text
