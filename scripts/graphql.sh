#!/usr/bin/env bash
# `make graphql`: the Lambda example's GraphQL API on this machine, for
# clicking through it. It installs what is missing (npm ci for the AppSync
# simulator, DynamoDB Local and fauxqs; the pinned aws-lambda-rie), starts
# DynamoDB Local and fauxqs (unless AWS_ENDPOINT_URL_DYNAMODB and
# AWS_ENDPOINT_URL_SQS point at running servers), then runs
# examples/lambda/e2e/cmd/graphql-dev in the foreground: both bootstraps
# under the Lambda Runtime Interface Emulator, the AppSync simulator on
# 127.0.0.1:8900, and a pump that feeds the decline queue to the declines
# function. It prints the URL, the API key and curl lines. Ctrl-C stops
# everything. Arguments go to graphql-dev (e.g. -port 0, -quiet).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib.sh

READY_TIMEOUT=70
WORK=$(mktemp -d)
SERVERS_PID=""

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	if [[ -n $SERVERS_PID ]]; then
		kill -TERM "$SERVERS_PID" 2>/dev/null || true
		wait "$SERVERS_PID" 2>/dev/null || true
	fi
	rm -rf "$WORK"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

check_tools
command -v node >/dev/null || die "node not found on PATH; the AppSync simulator needs Node.js 20+"
step "npm ci (if needed)" ensure_node_modules
step "aws-lambda-rie" bash scripts/install-rie.sh
step "build graphql-dev" go build -o "$TOOLS_BIN/graphql-dev" ./examples/lambda/e2e/cmd/graphql-dev

if need_servers_from_npm; then
	step "build testservers" build_testservers
	log "starting DynamoDB Local and fauxqs"
	"$TOOLS_BIN/testservers" -env-file "$WORK/servers.env" >"$WORK/servers.log" 2>&1 &
	SERVERS_PID=$!
	deadline=$((SECONDS + READY_TIMEOUT))
	until [[ -f $WORK/servers.env ]]; do
		if ! kill -0 "$SERVERS_PID" 2>/dev/null || ((SECONDS >= deadline)); then
			sed 's/^/    /' "$WORK/servers.log" >&2
			die "the servers did not start (log above)"
		fi
		sleep 0.1
	done
	# shellcheck source=/dev/null
	source "$WORK/servers.env"
fi
log "DynamoDB at $AWS_ENDPOINT_URL_DYNAMODB, SQS at $AWS_ENDPOINT_URL_SQS"
# Not exec: the EXIT trap stops the servers when graphql-dev ends.
"$TOOLS_BIN/graphql-dev" "$@"
