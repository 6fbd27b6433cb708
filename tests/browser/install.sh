#!/bin/sh
# Install Debian's chromium for tests/test_browser.py. Idempotent: does nothing when a
# chromium binary is already on PATH, and runs `apt-get update` only when the package
# is not known to apt yet (a fresh container has empty package lists).
set -eu

if command -v chromium >/dev/null 2>&1; then
    echo "chromium already installed: $(chromium --version 2>/dev/null || echo unknown version)"
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive

if ! apt-cache show chromium >/dev/null 2>&1; then
    $SUDO apt-get update -qq
fi
# DejaVu Sans covers Latin and the Persian letters, so screenshots show real glyphs.
$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core
chromium --version
