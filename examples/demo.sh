#!/usr/bin/env bash
# The demo: installs gofail-py into the clone's .venv/ (never into your Python), enables the
# failpoints of examples/kvserver, builds it against the real gofail runtime v0.2.0, runs
# examples/demo.gofail (sleep, return, retry through a label, panic and restart, a timed window,
# counts), prints the timeline, and always restores the source.
# Build outputs and the journal go to a temporary directory; the tree is left as it was found.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
module="$here/kvserver"
work="$(mktemp -d "${TMPDIR:-/tmp}/gofail-py-demo.XXXXXX")"
venv="${GOFAIL_PY_VENV:-$repo/.venv}"
began=$SECONDS
. "$repo/scripts/progress.sh"

command -v go >/dev/null || { echo "demo: the go command is needed (https://go.dev/dl/)" >&2; exit 1; }

# A fingerprint of the example's files, to show at the end that disable restored them.
fingerprint() { (cd "$module" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 cksum); }
before="$(fingerprint)"

trap 'rm -rf "$work"' EXIT
install_into_venv "$venv" "$repo"  # gofail-py, and the python3 the scenario's `run` steps call

restore() {
  status=$?
  trap - EXIT INT TERM
  phase "gofail-py disable examples/kvserver"
  gofail-py disable "$module" || status=1
  rm -rf "$work"
  if [ "$(fingerprint)" != "$before" ]; then
    echo "demo: examples/kvserver differs from how the demo found it" >&2
    status=1
  else
    phase "examples/kvserver is byte for byte as before"
  fi
  exit "$status"
}
trap restore EXIT
trap 'exit 130' INT TERM

phase "gofail-py list examples/kvserver"
gofail-py list "$module"
phase "gofail-py enable examples/kvserver"
gofail-py enable "$module"
phase "go build -v (into $work, against go.etcd.io/gofail/runtime v0.2.0 as go.mod requires; the first build fetches and compiles it)"
(cd "$module" && summarised '.' env -u GOFLAGS go build -v -o "$work/kvserver" .)
phase "gofail-py run examples/demo.gofail --journal $work/journal.jsonl"
gofail-py run "$here/demo.gofail" --var kvserver="$work/kvserver" --journal "$work/journal.jsonl"
phase "the journal: $(wc -l < "$work/journal.jsonl") JSON lines, one per step; the first:"
head -n 1 "$work/journal.jsonl"
