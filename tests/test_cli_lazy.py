"""The CLI imports only the module of the command it runs (gofail_py/cli/__init__.py)."""

from __future__ import annotations

import subprocess
import sys


def test_a_rewriter_command_imports_no_other_command_module() -> None:
    code = ("import sys\nfrom gofail_py.cli import main\ntry:\n    main(['list', '--help'])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in sys.modules if m.startswith('gofail_py.cli.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.splitlines()[-1] == "['gofail_py.cli.rewriter']"
