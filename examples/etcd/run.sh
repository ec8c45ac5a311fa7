#!/usr/bin/env bash
# etcd, for real: download etcd's server module from the Go module proxy, enable every failpoint
# with gofail-py (recursively), build the etcd binary against the real gofail runtime, check that
# every failpoint in the source is registered in the binary, drive one- and three-member clusters
# with the scenarios in this folder, then disable and show the tree is byte-identical again.
# Prints a short report; exits non-zero on any failure.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
version="${ETCD_VERSION:-v3.6.16}"
work="$(mktemp -d "${TMPDIR:-/tmp}/gofail-py-etcd.XXXXXX")"
export GOTOOLCHAIN=local GOFLAGS=-mod=mod
trap 'rm -rf "$work"' EXIT

began=$(date +%s.%N)
python3 -m pip install --quiet --disable-pip-version-check -e "$repo"
report=()
now() { date +%s.%N; }
elapsed() { python3 -c "print(f'{$(now) - $1:.1f} s')"; }
module_dir() { go mod download -json "$1@$version" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])'; }

echo "== 1. etcd's server module $version and its sibling modules, laid out as in etcd's repository"
t=$(now)
download="$(module_dir go.etcd.io/etcd/server/v3)"
# server/go.mod replaces these modules with ../api, ../pkg...: they must stand beside it
for pair in server:go.etcd.io/etcd/server/v3 api:go.etcd.io/etcd/api/v3 pkg:go.etcd.io/etcd/pkg/v3 \
            client/pkg:go.etcd.io/etcd/client/pkg/v3 client/v3:go.etcd.io/etcd/client/v3; do
  mkdir -p "$work/$(dirname "${pair%%:*}")"
  cp -r "$(module_dir "${pair#*:}")" "$work/${pair%%:*}"
done
chmod -R u+w "$work"
report+=("download and copy: $(elapsed "$t")")

echo "== 2. gofail-py enable --go-get ./... and go build"
cd "$work/server"
t=$(now)
gofail-py enable --go-get ./...
report+=("enable: $(elapsed "$t")")
t=$(now)
go build -o "$work/etcd" .
report+=("go build of etcd: $(elapsed "$t")")

echo "== 3. every failpoint in the source is registered in the binary"
gofail-py list --json ./... > "$work/list.json"
counts="$(python3 "$here/registered.py" "$work/etcd" "$work/list.json" "$work/registered-data")"
echo "$counts"
report+=("failpoints: $counts (names equal)")

echo "== 4. scenarios, recorded for fault coverage (--source: crashes attributed from the panic's stack)"
for scenario in slow_raft crash_commit slow_follower traffic_faults triggers; do
  t=$(now)
  gofail-py run "$here/$scenario.gofail" --var etcd="$work/etcd" --journal "$work/$scenario.jsonl" --source ./...
  steps=$(grep -c '"event": "step"' "$work/$scenario.jsonl")
  report+=("scenario $scenario: passed in $(elapsed "$t") ($steps journal steps)")
  # what the helpers measured (durations, counts), from the journal
  while IFS= read -r line; do report+=("    $line"); done < <(python3 "$here/figures.py" "$work/$scenario.jsonl")
done
# the campaign (campaign.gofail over failpoints.tsv), a sample: one failpoint per trigger x panic, each
# cell on three members under recorded traffic, with its history's verdict (the whole campaign:
# docs/etcd.md); a cell etcd fails by the model is a finding, kept in $work/campaign/
t=$(now)
status=0
gofail-py explore "$here/campaign.gofail" --source ./... --var etcd="$work/etcd" --table "$here/failpoints.tsv" \
  --terms panic -j 2 $(python3 "$here/campaign_sample.py" only "$here/failpoints.tsv") \
  --journal "$work/campaign" --json > "$work/campaign.json" || status=$?
[ "$status" -le 1 ] || { echo "explore failed with exit $status"; exit 1; }
while IFS= read -r line; do report+=("$line"); done < <(python3 "$here/campaign_sample.py" summary "$work/campaign.json")
report+=("    the sample took $(elapsed "$t")")
# the main flow of a robustness script, start then set at once, many times: the endpoint answers
# before etcd's packages have registered their failpoints, and set waits for them (issue seen 10/18)
t=$(now)
runs="${ETCD_RACE_RUNS:-10}"
for i in $(seq "$runs"); do
  gofail-py run "$here/startup_race.gofail" --var etcd="$work/etcd" -q
done
report+=("start then set at once: $runs of $runs runs passed in $(elapsed "$t")")
# one report over the runs and every failpoint of the server's source
html="${ETCD_REPORT:-${TMPDIR:-/tmp}/gofail-py-etcd-report.html}"
gofail-py report "$work"/slow_raft.jsonl "$work"/crash_commit.jsonl "$work"/slow_follower.jsonl "$work"/traffic_faults.jsonl "$work"/triggers.jsonl \
  --source ./... -o "$html" \
  | tee "$work/coverage.txt"
report+=("fault coverage: $(tail -n 1 "$work/coverage.txt")")
report+=("coverage report: $html")

echo "== 5. gofail-py disable ./... gives back the downloaded tree, go.mod and go.sum included"
t=$(now)
gofail-py disable ./...
diff -r "$download" "$work/server"
report+=("disable: $(elapsed "$t"); tree byte-identical to $download")

echo
echo "== report (etcd server $version)"
report+=("wall time: $(elapsed "$began")")
printf '  %s\n' "${report[@]}"
