#!/usr/bin/env bash
# Installs the outside programs the tests drive: real harvesters (Perl, Node, a separate Python
# venv) and Chromium for the browser view. Never fails: a tool that cannot be installed makes its
# tests skip with the reason. Needs root (or sudo) for Debian's packages.
here="$(cd "$(dirname "$0")" && pwd)"
bash "$here/harvesters/install.sh" || echo "warning: harvester setup failed; those tests will skip"
sh "$here/browser/install.sh" || echo "warning: chromium setup failed; browser tests will skip"
exit 0
