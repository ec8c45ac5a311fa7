#!/usr/bin/env bash
# The test command README gives: installs gofail-py with its test extras and the Go gofail
# v0.2.0 (the reference for the differential tests), type-checks, runs the default suite.
# Extra arguments go to pytest (e.g. `bash scripts/test.sh -m etcd` for the real-etcd run).
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m pip install --quiet --disable-pip-version-check -e '.[test]'
export PATH="$(go env GOPATH)/bin:$PATH"
command -v gofail >/dev/null || GOFLAGS= go install go.etcd.io/gofail@v0.2.0

python3 -m mypy
if [ $# -eq 0 ]; then
  set -- -m "not etcd"
fi
python3 -m pytest "$@"
