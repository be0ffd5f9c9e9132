#!/usr/bin/env bash
# Install the Azurite storage emulator (npm) into a version-keyed cache outside
# the clone, and reuse it when already installed. The local sandbox
# (provision/sandbox) runs its blob service from there.
#
#   .ci/install-azurite.sh            installs the pinned version below
#
# Result: $PROVISION_CACHE/npm/azurite-VERSION/node_modules/.bin/azurite-blob
# Prints the bin directory on stdout.
set -euo pipefail

# Keep in step with AZURITE_VERSION in provision/sandbox/tools.py.
version="3.37.0"
cache="${PROVISION_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/provision}"
prefix="$cache/npm/azurite-$version"
bin="$prefix/node_modules/.bin"

log() { printf '[install-azurite] %s\n' "$*" >&2; }

installed() {
  [ -x "$bin/azurite-blob" ] \
    && [ "$(node -p "require('$prefix/node_modules/azurite/package.json').version" 2>/dev/null)" = "$version" ]
}

if installed; then echo "$bin"; exit 0; fi

# Parallel runs (CI jobs, test sessions) install once: the others wait, then reuse.
mkdir -p "$prefix"
if command -v flock >/dev/null; then
  exec 9>"$prefix.lock"
  flock 9
fi

if installed; then echo "$bin"; exit 0; fi

command -v npm >/dev/null || { log "npm is required to install Azurite (install Node.js >= 18)"; exit 1; }

log "installing azurite@$version into $prefix"
npm install --prefix "$prefix" --no-audit --no-fund --loglevel=error "azurite@$version" >&2

[ -x "$bin/azurite-blob" ] || { log "azurite-blob not found in $bin after install"; exit 1; }
echo "$bin"
