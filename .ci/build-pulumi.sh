#!/usr/bin/env bash
# Build the Pulumi CLI from Go modules (no release download needed) into a
# version-keyed cache outside the clone, and reuse it when already built.
#
#   .ci/build-pulumi.sh VERSION        e.g. 3.260.0 (must match the pinned pulumi SDK)
#
# Result: $PROVISION_CACHE/pulumi/vVERSION/bin/{pulumi,pulumi-resource-pulumi-python,...}
# Prints the bin directory on stdout.
set -euo pipefail

version="${1:?usage: build-pulumi.sh VERSION}"
cache="${PROVISION_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/provision}"
root="$cache/pulumi/v$version"
bin="$root/bin"

log() { printf '[build-pulumi] %s\n' "$*" >&2; }

if [ -x "$bin/pulumi" ] && [ -x "$bin/pulumi-resource-pulumi-python" ] \
   && "$bin/pulumi" version 2>/dev/null | grep -qx "v$version"; then
  echo "$bin"; exit 0
fi

# A matching pulumi already on PATH (with the dynamic-provider script beside it) will do.
if onpath=$(command -v pulumi 2>/dev/null); then
  dir=$(dirname "$(readlink -f "$onpath")")
  if [ -x "$dir/pulumi-resource-pulumi-python" ] \
     && "$dir/pulumi" version 2>/dev/null | grep -qx "v$version"; then
    echo "$dir"; exit 0
  fi
fi

command -v go >/dev/null || { log "Go is required to build the Pulumi CLI (install Go >= 1.26)"; exit 1; }

export CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-mod=mod
work="$root/src"
rm -rf "$work"; mkdir -p "$work" "$bin"
cd "$work"

log "resolving github.com/pulumi/pulumi/pkg/v3@v$version"
cat > go.mod <<MOD
module provision.local/pulumibuild

go 1.26
MOD
# pkg/v3's own go.mod carries replace directives that `go install pkg@v` refuses;
# a wrapper module requires pkg and sdk at the same version and copies the
# non-local replaces.
go mod download -json "github.com/pulumi/pulumi/pkg/v3@v$version" > pkg.json
pkgmod=$(python3 -c 'import json,sys; print(json.load(open("pkg.json"))["GoMod"])')
cat > tools.go <<'GO'
//go:build tools

package tools

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
GO
{
  echo
  echo "require ("
  echo "  github.com/pulumi/pulumi/pkg/v3 v$version"
  echo "  github.com/pulumi/pulumi/sdk/v3 v$version"
  echo ")"
  grep -E '^replace .*=> [^.]' "$pkgmod" | grep -v '=> \.\.\?/' || true
} >> go.mod
log "go mod tidy"
go mod tidy >&2

log "building pulumi v$version (several minutes on a cold cache)"
ldflags="-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$version"
go build -trimpath -tags osusergo,grpcnotrace -ldflags "$ldflags" -o "$bin/pulumi.tmp" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
mv "$bin/pulumi.tmp" "$bin/pulumi"

# The dynamic-provider plugin and the exec shim are scripts inside sdk/v3.
sdkdir=$(go list -m -f '{{.Dir}}' "github.com/pulumi/pulumi/sdk/v3")
install -m 0755 "$sdkdir/python/dist/pulumi-resource-pulumi-python" "$bin/"
install -m 0755 "$sdkdir/python/cmd/pulumi-language-python-exec" "$bin/"

"$bin/pulumi" version >&2
rm -rf "$work"
echo "$bin"
