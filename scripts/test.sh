#!/usr/bin/env bash
# The test command README gives: installs gofail-py with its test extras into the clone's own
# virtualenv (.venv/, never your Python), the Go gofail v0.2.0 (the reference of the differential
# tests) into $(go env GOPATH)/bin, type-checks, runs the default suite. A line per phase, with
# what pip and go are doing; the full pip log is shown when pip fails.
# Extra arguments go to pytest (e.g. `bash scripts/test.sh -m etcd` for the real-etcd run).
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"
venv="${GOFAIL_PY_VENV:-$repo/.venv}"
began=$SECONDS

phase() { echo "== $* [$((SECONDS - began)) s]"; }
# summarised PATTERN COMMAND...: shows the lines of the command's output that match PATTERN as
# they come (what it fetches, builds, installs); the end of the whole output if it fails.
summarised() {
  local pattern=$1 log status=0
  shift
  log="$(mktemp "${TMPDIR:-/tmp}/gofail-py-test.XXXXXX")"
  PYTHONUNBUFFERED=1 "$@" 2>&1 < /dev/null | tee "$log" | awk -v p="$pattern" '$0 ~ p { print "   " substr($0, 1, 150); fflush() }' || status=$?
  if [ "$status" -ne 0 ]; then
    echo "   failed (exit $status); the end of its output:" >&2
    tail -n 40 "$log" | sed 's/^/   | /' >&2
  fi
  rm -f "$log"
  return "$status"
}

command -v go >/dev/null || { echo "scripts/test.sh: the go command is needed (https://go.dev/dl/)" >&2; exit 1; }

if [ ! -x "$venv/bin/python" ]; then
  phase "python3 -m venv $venv (gofail-py and its test tools go there, not into your Python)"
  python3 -m venv "$venv"
fi
phase "pip install -e '.[test]' into $venv (gofail-py, tree-sitter, click, jinja2, requests; pytest, hypothesis, mypy, build)"
summarised '^(Collecting|Downloading|Installing|Building|Successfully|ERROR)' \
  "$venv/bin/python" -m pip install --disable-pip-version-check --progress-bar off -e '.[test]'
export PATH="$venv/bin:$PATH"

gofail_bin="$(go env GOPATH)/bin/gofail"
if [ -x "$gofail_bin" ]; then
  phase "Go gofail v0.2.0, the reference the differential tests compare with: $gofail_bin (already there)"
else
  phase "go install go.etcd.io/gofail@v0.2.0 into $gofail_bin (the reference the differential tests compare with)"
  summarised '.' env GOFLAGS= go install -v go.etcd.io/gofail@v0.2.0
fi

phase "mypy (strict) on gofail_py"
python -m mypy

if [ $# -eq 0 ]; then
  phase "pytest: the default suite (Go helpers it builds are kept in ${GOFAIL_PY_TEST_CACHE:-~/.cache/gofail-py-tests})"
else
  phase "pytest $*"
fi
python -m pytest "$@"
phase "done"
