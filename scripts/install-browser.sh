#!/usr/bin/env bash
# Installs the distribution's Chromium, which the `browser` tests use to open the HTML report.
# Without it those tests skip (with the reason); with it they render the report headless.
set -euo pipefail
if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
    exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends chromium
