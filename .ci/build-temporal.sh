#!/usr/bin/env bash
# Build the Temporal CLI (which carries the dev server, `temporal server start-dev`)
# from Go modules into a version-keyed cache outside the clone, and reuse it when
# already built or when a matching `temporal` is on PATH.
#
#   .ci/build-temporal.sh VERSION        e.g. 1.5.1 (newer CLIs need a sub-module the proxy refuses)
#
# Result: $PROVISION_CACHE/temporal/vVERSION/bin/temporal. Prints the bin directory on stdout.
set -euo pipefail

version="${1:?usage: build-temporal.sh VERSION}"
cache="${PROVISION_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/provision}"
bin="$cache/temporal/v$version/bin"

log() { printf '[build-temporal] %s\n' "$*" >&2; }

# `temporal --version` prints "temporal version 1.5.1 (Server ..., UI ...)".
matches() { "$1" --version 2>/dev/null | grep -q "^temporal version $version\b"; }

if [ -x "$bin/temporal" ] && matches "$bin/temporal"; then
  echo "$bin"; exit 0
fi

if onpath=$(command -v temporal 2>/dev/null) && matches "$onpath"; then
  dirname "$(readlink -f "$onpath")"; exit 0
fi

command -v go >/dev/null || { log "Go is required to build the Temporal CLI (install Go >= 1.24)"; exit 1; }

export CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-mod=mod
mkdir -p "$bin"
tmp=$(mktemp -d "$bin.tmp.XXXXXX")       # its own: two set-ups may build at once
log "building temporal v$version (about 6.5 min on 2 cores with a cold Go cache)"
ldflags="-s -w -X github.com/temporalio/cli/temporalcli.Version=$version"
GOBIN="$tmp" go install -trimpath -tags osusergo -ldflags "$ldflags" \
  "github.com/temporalio/cli/cmd/temporal@v$version"
mv -f "$tmp/temporal" "$bin/temporal"
rm -rf "$tmp"
"$bin/temporal" --version >&2
echo "$bin"
