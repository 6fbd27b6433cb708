#!/usr/bin/env bash
# Install the real OAI-PMH harvesters that tests/test_harvester_clients.py drives.
#
# Idempotent and quiet: each step checks whether its tool is already there and only then
# installs. A step that fails prints a warning and the script goes on, so the tests that
# need that tool skip with the reason instead of the whole CI run failing here.
#
#   Perl (Debian packages): oai_pmh from libhttp-oai-perl, catmandu from libcatmandu-oai-perl
#   Node: the npm package oai-pmh, locked in tests/harvesters/node/package-lock.json
#   Python: oai-harvest (oaiharvest) with the original pyoai client, which needs lxml 4.9.x,
#           in its own venv tests/harvesters/.venv-oaiharvest (lxml 4.9.4 has wheels for
#           CPython 3.11 and 3.12 only, so that venv is made with one of those; oaiharvest
#           imports pkg_resources, so setuptools is pinned below the release that warns).
set -u
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="$HERE/.venv-oaiharvest"
STATUS=0
PIP=()

warn() {
  echo "tests/harvesters/install.sh: WARNING: $*" >&2
  STATUS=1
}

installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

install_perl() {
  local missing=() pkg sudo=()
  for pkg in libhttp-oai-perl libcatmandu-oai-perl; do
    installed "$pkg" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if ! command -v apt-get >/dev/null; then
    warn "apt-get not found: cannot install ${missing[*]} (Perl harvester tests will skip)"
    return 0
  fi
  [ "$(id -u)" -ne 0 ] && sudo=(sudo -n)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq >/dev/null 2>&1 || warn "apt-get update failed"
  if ! "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1; then
    warn "apt-get install ${missing[*]} failed (Perl harvester tests will skip)"
  fi
}

install_node() {
  if ! command -v npm >/dev/null; then
    warn "npm not found: cannot install the oai-pmh package (its tests will skip)"
    return 0
  fi
  # npm ci only when the installed tree does not match package.json: it wipes node_modules.
  if [ -x "$HERE/node/node_modules/.bin/oai-pmh" ] \
      && (cd "$HERE/node" && npm ls --depth=0 >/dev/null 2>&1); then
    return 0
  fi
  if ! (cd "$HERE/node" && npm ci --no-audit --no-fund --loglevel=error >/dev/null 2>&1); then
    warn "npm ci in tests/harvesters/node failed (oai-pmh tests will skip)"
  fi
}

venv_python() {
  # lxml 4.9.4 has wheels for CPython 3.11 and 3.12 only; prefer the interpreter CI uses.
  local candidate
  for candidate in python python3 python3.11 python3.12; do
    if command -v "$candidate" >/dev/null \
        && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] not in ((3, 11), (3, 12)))' 2>/dev/null; then
      command -v "$candidate"
      return 0
    fi
  done
  return 1
}

make_venv() {
  # Debian's python3.x without python3.x-venv has no ensurepip: then make the venv without
  # pip and install into it with the outer pip (pip >= 22.3 has --python).
  local python="$1"
  if "$python" -m venv "$VENV" >/dev/null 2>&1; then
    PIP=("$VENV/bin/python" -m pip)
    return 0
  fi
  rm -rf "$VENV"
  "$python" -m venv --without-pip "$VENV" >/dev/null 2>&1 || return 1
  PIP=("$python" -m pip --python "$VENV/bin/python")
}

install_oaiharvest() {
  if "$VENV/bin/python" -c "import lxml, oaipmh.client, oaiharvest.harvest" >/dev/null 2>&1 \
      && [ -x "$VENV/bin/oai-harvest" ]; then
    return 0
  fi
  local python
  if ! python="$(venv_python)"; then
    warn "no Python 3.11 or 3.12 for the oai-harvest venv (lxml 4.9.4 has no wheel for others)"
    return 0
  fi
  rm -rf "$VENV"
  if ! make_venv "$python"; then
    warn "$python -m venv $VENV failed (oai-harvest tests will skip)"
    return 0
  fi
  if ! "${PIP[@]}" install -q --disable-pip-version-check --only-binary lxml \
      "lxml==4.9.4" "pyoai==2.5.0" "oaiharvest==3.0.0" "setuptools>=66.1,<67.5" >/dev/null 2>&1; then
    warn "pip install of oaiharvest 3.0.0, pyoai 2.5.0 and lxml 4.9.4 failed (oai-harvest tests will skip)"
    rm -rf "$VENV"
  fi
}

install_perl
install_node
install_oaiharvest
if [ "$STATUS" -eq 0 ]; then
  echo "tests/harvesters/install.sh: harvesters ready"
fi
exit 0
