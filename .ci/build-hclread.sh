#!/usr/bin/env bash
# Build hclread (tools/hclread: the fast HCL reader, Go on hashicorp/hcl) into a
# cache outside the clone keyed by its source, and reuse it when already built.
# provision/spec/hclread.py computes the same key and finds the binary there.
#
#   .ci/build-hclread.sh
#
# Result: $PROVISION_CACHE/hclread/KEY/hclread, KEY being the first 16 hex digits
# of SHA-256 over tools/hclread's go.mod, go.sum and *.go (by name). Prints the
# binary's path.
set -euo pipefail

src="$(cd "$(dirname "$0")/../tools/hclread" && pwd)"
cache="${PROVISION_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/provision}"
key="$(cd "$src" && cat go.mod go.sum $(LC_ALL=C ls *.go) | sha256sum | cut -c1-16)"
dir="$cache/hclread/$key"

log() { printf '[build-hclread] %s\n' "$*" >&2; }

if [ -x "$dir/hclread" ]; then
  echo "$dir/hclread"; exit 0
fi

command -v go >/dev/null || { log "Go is required to build hclread (HCL specs are then read with python-hcl2)"; exit 1; }

export CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-mod=readonly
mkdir -p "$dir"
log "building hclread $key"
tmp="$(mktemp "$dir/.hclread.XXXXXX")"   # concurrent builds of one key each write their own
trap 'rm -f "$tmp"' EXIT
(cd "$src" && go build -trimpath -ldflags "-s -w" -o "$tmp" .)
mv -f "$tmp" "$dir/hclread"
echo "$dir/hclread"
