#!/usr/bin/env bash
# The test command README gives: installs gofail-py with its test extras into the clone's own
# virtualenv (.venv/, never your Python), the Go gofail v0.2.0 (the reference of the differential
# tests) into the tests' cache (${GOFAIL_PY_TEST_CACHE:-~/.cache/gofail-py-tests}), type-checks,
# runs the default suite. A line per phase, with
# what pip and go are doing; the full pip log is shown when pip fails.
# Extra arguments go to pytest (e.g. `bash scripts/test.sh -m etcd` for the real-etcd run).
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"
venv="${GOFAIL_PY_VENV:-$repo/.venv}"
began=$SECONDS

. "$repo/scripts/progress.sh"

command -v go >/dev/null || { echo "scripts/test.sh: the go command is needed (https://go.dev/dl/)" >&2; exit 1; }

install_into_venv "$venv" '.[test]'  # gofail-py, tree-sitter, click, jinja2, requests; pytest, hypothesis, mypy, build

install_reference

phase "mypy (strict) on gofail_py"
python -m mypy

if [ $# -eq 0 ]; then
  # one pytest worker per CPU (pytest-xdist); the suites of their own stay out unless -m names them
  set -- -n auto
  phase "pytest -n auto: the default suite (Go helpers it builds are kept in ${GOFAIL_PY_TEST_CACHE:-~/.cache/gofail-py-tests})"
else
  phase "pytest $*"
fi
python -m pytest "$@"
phase "done"
