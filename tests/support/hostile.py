"""Helpers of the hostile rewriter tests: the real gofail-py command, real go, real files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

GOFAIL_PY = Path(sys.executable).with_name("gofail-py")
PROBING = "github.com/xiang90/probing@v0.0.0-20190116061207-43a291ad63a2"  # small, no deps, in the module cache
SOURCE = """package {package}

import "errors"

func Save{n}(data []byte) error {{
	// gofail: var beforeSave{n} struct{{}}
	if len(data) == 0 {{
		return errors.New("empty")
	}}
	// gofail: var saveError{n} string
	// if saveError{n} != "" {{
	//	return errors.New(saveError{n})
	// }}
	return nil
}}
"""


def go_env(**extra: str) -> dict[str, str]:
    """Offline go: modules come from the module cache only."""
    env = dict(os.environ, GOPROXY="off", GOSUMDB="off", GOFLAGS="-mod=mod", GOTOOLCHAIN="local")
    env.update(extra)
    return env


def gofail_py(cwd: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Runs the installed command; no run may ever show a Python traceback."""
    result = subprocess.run([str(GOFAIL_PY), *args], cwd=cwd, env=env or go_env(), capture_output=True, text=True, timeout=timeout)
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    return result


def module(root: Path, go_mod: str = "module example.com/m\n\ngo 1.21\n", files: int = 1, package: str = "m") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "go.mod").write_text(go_mod)
    for n in range(files):
        (root / f"f{n}.go").write_text(SOURCE.format(package=package, n=n))
    return root


def go(cwd: Path, *args: str, **env: str) -> None:
    subprocess.run(["go", *args], cwd=cwd, env=go_env(**env), check=True, capture_output=True, text=True)


def go_children(module_dir: Path) -> list[int]:
    """Processes running `go get` with their working directory in module_dir."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            cwd = os.readlink(entry / "cwd")
        except OSError:
            continue
        if b"get" in argv and Path(cwd) == module_dir.resolve():
            found.append(int(entry.name))
    return found


class SlowProxy:
    """A GOPROXY serving the local module cache that holds every answer until released."""

    def __init__(self) -> None:
        import http.server
        import threading

        cache = Path(subprocess.run(["go", "env", "GOMODCACHE"], capture_output=True, text=True, check=True).stdout.strip())
        self.asked = threading.Event()
        self.release = threading.Event()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                proxy.asked.set()
                proxy.release.wait(60)
                path = cache / "cache" / "download" / self.path.lstrip("/")
                if not path.is_file():
                    self.send_error(404)
                    return
                data = path.read_bytes()
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
