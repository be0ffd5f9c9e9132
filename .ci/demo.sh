#!/usr/bin/env bash
# The demo: start the local sandbox, plan and apply stacks/demo.yaml on it.
set -euo pipefail
cd "$(dirname "$0")/.."
provision=.venv/bin/provision

echo "==> starting the local sandbox (emulators on 127.0.0.1)"
$provision sandbox up
echo
echo "==> provision plan stacks/demo.yaml --env local"
$provision plan stacks/demo.yaml --env local
echo
echo "==> provision apply stacks/demo.yaml --env local --yes"
$provision apply stacks/demo.yaml --env local --yes
echo
echo "==> a second plan shows no changes"
$provision plan stacks/demo.yaml --env local --detailed-exitcode && echo "(no changes)"
cat <<MSG

Where to look:
  - the emulators and their endpoints:   .venv/bin/provision sandbox status
  - Pulumi state, one stack per stage:   .provision/state/.pulumi/stacks/demo/
  - the plan as JSON:                    .venv/bin/provision plan stacks/demo.yaml --env local --json
  - the stage graph:                     .venv/bin/provision graph stacks/demo.yaml --format mermaid
  - clean up:                            make demo-down
MSG
