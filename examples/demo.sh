#!/usr/bin/env bash
# The demo: installs gofail-py, enables the failpoints of examples/kvserver, builds it against the
# real gofail runtime v0.2.0, runs examples/demo.gofail (sleep, return, retry through a label,
# panic and restart, a timed window), prints the timeline, and always restores the source.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
work="$(mktemp -d)"

python3 -m pip install --quiet --disable-pip-version-check -e "$repo"

restore() {
  gofail-py disable "$here/kvserver" || true
  rm -rf "$work"
}
trap restore EXIT

echo "== gofail-py list examples/kvserver"
gofail-py list "$here/kvserver"
echo "== gofail-py enable --go-get examples/kvserver"
gofail-py enable --go-get "$here/kvserver"
echo "== go build"
(cd "$here/kvserver" && GOFLAGS=-mod=mod go build -o "$work/kvserver" .)
echo "== gofail-py run examples/demo.gofail"
gofail-py run "$here/demo.gofail" --var kvserver="$work/kvserver" --journal "$work/journal.jsonl"
echo "== journal: $(wc -l < "$work/journal.jsonl") JSON lines, e.g.:"
head -n 2 "$work/journal.jsonl"
