#!/usr/bin/env bash
# The demo: installs gofail-py, enables the failpoints of examples/kvserver, builds it against the
# real gofail runtime v0.2.0, runs examples/demo.gofail (sleep, return, retry through a label,
# panic and restart, a timed window, counts), prints the timeline, and always restores the source.
# Build outputs and the journal go to a temporary directory; the tree is left as it was found.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
module="$here/kvserver"
work="$(mktemp -d "${TMPDIR:-/tmp}/gofail-py-demo.XXXXXX")"
python="${PYTHON:-python3}"

command -v go >/dev/null || { echo "demo: the go command is needed (https://go.dev/dl/)" >&2; exit 1; }

# A fingerprint of the example's files, to show at the end that disable restored them.
fingerprint() { (cd "$module" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 cksum); }
before="$(fingerprint)"

echo "== pip install gofail-py"
# Into the current environment when pip may write there; otherwise (an externally managed
# Python, no pip) into a virtualenv kept outside the tree, reusing what the system already has.
if ! "$python" -m pip install --quiet --disable-pip-version-check -e "$repo" 2>"$work/pip.log"; then
  venv="${XDG_CACHE_HOME:-$HOME/.cache}/gofail-py/demo-venv"
  echo "   (the current environment refused: $(tail -n 1 "$work/pip.log")); using a virtualenv in $venv"
  "$python" -m venv --system-site-packages "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e "$repo"
  export PATH="$venv/bin:$PATH"  # gofail-py, and the python3 the scenario's `run` steps call
fi

restore() {
  status=$?
  trap - EXIT INT TERM
  echo "== gofail-py disable examples/kvserver"
  gofail-py disable "$module" || status=1
  rm -rf "$work"
  if [ "$(fingerprint)" != "$before" ]; then
    echo "demo: examples/kvserver differs from how the demo found it" >&2
    status=1
  else
    echo "== examples/kvserver is byte for byte as before"
  fi
  exit "$status"
}
trap restore EXIT
trap 'exit 130' INT TERM

echo "== gofail-py list examples/kvserver"
gofail-py list "$module"
echo "== gofail-py enable examples/kvserver"
gofail-py enable "$module"
echo "== go build (into $work, against go.etcd.io/gofail/runtime v0.2.0 as go.mod requires)"
(cd "$module" && env -u GOFLAGS go build -o "$work/kvserver" .)
echo "== gofail-py run examples/demo.gofail --journal $work/journal.jsonl"
gofail-py run "$here/demo.gofail" --var kvserver="$work/kvserver" --journal "$work/journal.jsonl"
echo "== the journal: $(wc -l < "$work/journal.jsonl") JSON lines, one per step; the first:"
head -n 1 "$work/journal.jsonl"
