#!/usr/bin/env bash
# Build the OPA CLI (the reference Rego engine) from Go modules into a
# version-keyed cache outside the clone, and reuse it when already built.
#
#   .ci/build-opa.sh VERSION        e.g. 1.22.3
#
# Result: $PROVISION_CACHE/opa/vVERSION/bin/opa. Prints the bin directory on stdout.
set -euo pipefail

version="${1:?usage: build-opa.sh VERSION}"
cache="${PROVISION_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/provision}"
bin="$cache/opa/v$version/bin"

log() { printf '[build-opa] %s\n' "$*" >&2; }

# The version is read whole before it is matched: `opa version` prints several lines, and
# `grep -q` leaving at the first one can end opa with SIGPIPE, failing the pipeline.
if [ -x "$bin/opa" ] && grep -qx "Version: $version" <<<"$("$bin/opa" version 2>/dev/null)"; then
  echo "$bin"; exit 0
fi

command -v go >/dev/null || { log "Go is required to build OPA (install Go >= 1.24)"; exit 1; }

export CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-mod=mod
mkdir -p "$bin"
log "building opa v$version (minutes on a cold Go cache)"
ldflags="-s -w -X github.com/open-policy-agent/opa/v1/version.Version=$version"
tmp=$(mktemp -d "$bin.tmp.XXXXXX")       # its own: two set-ups may build at once
GOBIN="$tmp" go install -trimpath -ldflags "$ldflags" "github.com/open-policy-agent/opa@v$version"
mv -f "$tmp/opa" "$bin/opa"
rm -rf "$tmp"
"$bin/opa" version >&2
echo "$bin"
