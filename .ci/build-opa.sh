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

if [ -x "$bin/opa" ] && "$bin/opa" version 2>/dev/null | grep -qx "Version: $version"; then
  echo "$bin"; exit 0
fi

command -v go >/dev/null || { log "Go is required to build OPA (install Go >= 1.24)"; exit 1; }

export CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-mod=mod
mkdir -p "$bin"
log "building opa v$version (minutes on a cold Go cache)"
ldflags="-s -w -X github.com/open-policy-agent/opa/v1/version.Version=$version"
GOBIN="$bin.tmp" go install -trimpath -ldflags "$ldflags" "github.com/open-policy-agent/opa@v$version"
mv "$bin.tmp/opa" "$bin/opa"
rmdir "$bin.tmp"
"$bin/opa" version >&2
echo "$bin"
