#!/usr/bin/env bash
# Build fake-gcs-server (a Cloud Storage emulator that honours request
# preconditions such as ifGenerationMatch) from Go modules into a version-keyed
# cache outside the clone, and reuse it when already built. Only the tests of the
# GCS lock/journal store need it.
#
#   .ci/build-fake-gcs.sh VERSION        e.g. 1.56.1
#
# Result: $PROVISION_CACHE/fake-gcs-server/vVERSION/bin/fake-gcs-server.
# Prints the bin directory on stdout.
set -euo pipefail

version="${1:?usage: build-fake-gcs.sh VERSION}"
cache="${PROVISION_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/provision}"
bin="$cache/fake-gcs-server/v$version/bin"

log() { printf '[build-fake-gcs] %s\n' "$*" >&2; }

if [ -x "$bin/fake-gcs-server" ]; then
  echo "$bin"; exit 0
fi

command -v go >/dev/null || { log "Go is required to build fake-gcs-server"; exit 1; }

export CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-mod=mod
mkdir -p "$bin"
log "building fake-gcs-server v$version (minutes on a cold Go cache)"
tmp=$(mktemp -d "$bin.tmp.XXXXXX")       # its own: two set-ups may build at once
GOBIN="$tmp" go install -trimpath -ldflags "-s -w" \
  "github.com/fsouza/fake-gcs-server@v$version"
mv -f "$tmp/fake-gcs-server" "$bin/fake-gcs-server"
rm -rf "$tmp"
echo "$bin"
