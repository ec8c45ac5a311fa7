"""Property tests: for generated Go files, enable parses, keeps lines, is idempotent, and reverses."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gofail_py.rewriter import syntax, workspace
from gofail_py.rewriter.rewrite import disable_source, enable_source
from tests.support.gogen import go_files
from tests.support.goprog import go_env

EXAMPLES = int(os.environ.get("GOFAIL_PY_HYPOTHESIS_EXAMPLES", "2000"))
VET_SAMPLE = int(os.environ.get("GOFAIL_PY_VET_SAMPLE", "20"))


@pytest.mark.slow
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(go_files())
def test_enable_disable_invariants(source: bytes) -> None:
    assert not syntax.parse(source).root_node.has_error, "the generator writes valid Go"
    enabled = enable_source(source).source
    headers = len(re.findall(rb"(?m)^[ \t]*// gofail: var (?:fp|jump)[0-9]+ ", source))
    assert enabled.count(b".Acquire(); __fpErr == nil {") == headers, "every real header, and no decoy, is enabled"
    assert not syntax.parse(enabled).root_node.has_error
    assert enabled.count(b"\n") == source.count(b"\n")
    assert enabled.count(b"\r\n") == source.count(b"\r\n")
    assert not enable_source(enabled).changed
    assert disable_source(enabled).source == source
    assert b"rawDecoy" not in enabled.replace(b"// gofail: var rawDecoy", b"")


@settings(max_examples=1, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture])
@given(st.lists(go_files(), min_size=VET_SAMPLE, max_size=VET_SAMPLE))
def test_a_sample_passes_gofmt_and_go_vet(tmp_path: Path, files: list[bytes]) -> None:
    """gofmt parses every enabled file and go vet type-checks them against the real runtime."""
    (tmp_path / "go.mod").write_text("module example.com/generated\n\ngo 1.21\n\nrequire go.etcd.io/gofail v0.2.0\n")
    for number, source in enumerate(files):
        package = tmp_path / f"p{number}"
        package.mkdir()
        (package / "generated.go").write_bytes(source)
        # one enable per package: the generated names repeat across packages, which would be
        # a duplicate (rightly refused) if they were enabled together for one binary
        workspace.enable([package])
    gofmt = subprocess.run([shutil.which("gofmt") or "gofmt", "-e", "-l", str(tmp_path)], capture_output=True, text=True)
    assert gofmt.returncode == 0 and gofmt.stderr == "", gofmt.stderr
    vet = subprocess.run(["go", "vet", "./..."], cwd=tmp_path, env=go_env(), capture_output=True, text=True)
    # gofail's footer after a body's `continue` is unreachable by construction; anything else is ours
    problems = [line for line in vet.stderr.splitlines()
                if line.strip() and not line.startswith("#") and "unreachable code" not in line]
    assert problems == [], vet.stderr
