"""The built wheel carries grammars/ and templates/: installed in a fresh venv, it rewrites."""

from __future__ import annotations

import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from tests.support.goprog import REPO, TESTDATA


@pytest.mark.slow
def test_wheel_in_a_fresh_venv_enables_a_golden_case(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(tmp_path / "dist"), str(REPO)],
                   check=True, capture_output=True)
    wheel = next((tmp_path / "dist").glob("gofail_py-*.whl"))
    listing = subprocess.run([sys.executable, "-m", "zipfile", "-l", str(wheel)], capture_output=True, text=True).stdout
    assert "gofail_py/grammars/enabled_failpoint.scm" in listing and "gofail_py/templates/binding.go.j2" in listing

    venv.create(tmp_path / "venv", with_pip=True)
    python = tmp_path / "venv" / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", str(wheel)], check=True, capture_output=True)

    case = TESTDATA / "rewrite" / "labels"
    work = tmp_path / "labels"
    work.mkdir()
    shutil.copy(case / "input.go", work / "labels.go")
    subprocess.run([str(tmp_path / "venv" / "bin" / "gofail-py"), "enable", str(work)], check=True, capture_output=True,
                   cwd=tmp_path)
    assert (work / "labels.go").read_bytes() == (case / "expected.go").read_bytes()
    assert (work / "labels.fail.go").read_bytes() == (case / "expected.fail.go").read_bytes()

    # the HTML report's templates are in the wheel too: the installed command renders it
    assert "gofail_py/templates/report/report.html.j2" in listing
    journal = tmp_path / "j.jsonl"
    journal.write_text('{"event": "window", "run": "r", "process": "p", "failpoint": "f", "terms": "off", "start": 0, "end": 1, "hits": 2}\n')
    subprocess.run([str(tmp_path / "venv" / "bin" / "gofail-py"), "report", str(journal), "-o", str(tmp_path / "r.html")],
                   check=True, capture_output=True, cwd=tmp_path)
    assert "f ×2" in (tmp_path / "r.html").read_text(encoding="utf-8")
