# Sourced by scripts/test.sh and examples/demo.sh: a line per phase, what pip and go are doing,
# and the clone's own virtualenv. Needs $began (SECONDS at the start).

phase() { echo "== $* [$((SECONDS - began)) s]"; }

# summarised PATTERN COMMAND...: shows the lines of the command's output that match PATTERN as
# they come (what it fetches, builds, installs); the end of the whole output if it fails.
summarised() {
  local pattern=$1 log status=0
  shift
  log="$(mktemp "${TMPDIR:-/tmp}/gofail-py-log.XXXXXX")"
  PYTHONUNBUFFERED=1 "$@" 2>&1 < /dev/null | tee "$log" \
    | awk -v p="$pattern" '$0 ~ p { print "   " substr($0, 1, 150); fflush() }' || status=$?
  if [ "$status" -ne 0 ]; then
    echo "   failed (exit $status); the end of its output:" >&2
    tail -n 40 "$log" | sed 's/^/   | /' >&2
  fi
  rm -f "$log"
  return "$status"
}

# install_into_venv VENV EXTRAS: gofail-py (editable, with EXTRAS) into VENV, made if missing,
# never into the Python you run; puts VENV/bin first on PATH.
install_into_venv() {
  local venv=$1 spec=$2
  if [ ! -x "$venv/bin/python" ]; then
    phase "python3 -m venv $venv (gofail-py goes there, not into your Python)"
    "${PYTHON:-python3}" -m venv "$venv"
  fi
  phase "pip install -e '$spec' into $venv"
  summarised '^(Collecting|Downloading|Installing|Building|Successfully|ERROR)' \
    "$venv/bin/python" -m pip install --disable-pip-version-check --progress-bar off -e "$spec"
  export PATH="$venv/bin:$PATH"
}

# install_reference: the Go gofail v0.2.0, the reference of the differential tests, into the tests'
# cache (go install with GOBIN set to a folder there), where the tests look for it: never into your
# GOBIN or $(go env GOPATH)/bin, where it would replace a gofail of yours. Run from the clone's root
# with the virtualenv's python first on PATH.
install_reference() {
  phase "Go gofail v0.2.0, the reference the differential tests compare with (go install into the test cache)"
  local bin
  bin="$(python -c 'from tests.support.gotools import gofail_binary; print(gofail_binary())')"
  echo "   $bin"
}
