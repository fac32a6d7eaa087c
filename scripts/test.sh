#!/usr/bin/env bash
# The project's one test command (`make test`; CI runs it through .ci/run).
#
#   1. checks that go and node/npm (and java unless servers are given) exist
#   2. npm ci, if node_modules is missing or stale against package-lock.json
#      (it also installs the AppSync simulator of examples/lambda/e2e and
#      the pinned @redocly/cli)
#   3. starts DynamoDB Local and fauxqs ONCE on free 127.0.0.1 ports and
#      exports AWS_ENDPOINT_URL_DYNAMODB / AWS_ENDPOINT_URL_SQS, so every test
#      package shares them (skipped for a variable that is already set)
#   3b. installs the pinned aws-lambda-rie into .tools/bin (scripts/install-rie.sh)
#       for examples/lambda/e2e
#   4. gofmt -l must print nothing
#   4a. redocly lint of the HTTP API's OpenAPI document
#       (transport/httpapi/openapi.yaml; rules in redocly.yaml)
#   4b. go mod tidy -diff must print nothing (go.mod and go.sum are tidy)
#   5. go vet ./...
#   6. staticcheck ./... (pinned, installed into .tools/bin)
#   7. go test -race -count=1 ./... (transport/httpapi's tests check every
#      request and response against the OpenAPI document; scratchmod_test.go
#      builds a module outside the repository that imports this one)
#
# The servers it started are always stopped on exit, pass or fail. Any failure
# exits non-zero. Each step prints how long it took.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib.sh

# staticcheck 2026.2.2 (module v0.8.2) is built for and supports Go 1.26.
STATICCHECK_VERSION=v0.8.2
# How long the servers may take to answer. testservers bounds each start at
# 60 s itself (testenv.StartTimeout); this is the outer bound.
READY_TIMEOUT=70

WORK=$(mktemp -d)
SERVERS_PID=""
SERVER_LOG_SHOWN=0 # lines of servers.log already printed
T_START=$(now_ms)

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	if [[ -n $SERVERS_PID ]]; then
		log "stopping test servers"
		kill -TERM "$SERVERS_PID" 2>/dev/null || true
		# testservers gives each server 10 s to stop before SIGKILL.
		local i
		for ((i = 0; i < 300; i++)); do
			kill -0 "$SERVERS_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$SERVERS_PID" 2>/dev/null || true
		wait "$SERVERS_PID" 2>/dev/null || true
		# On failure, show what the servers logged since start (e.g. that one
		# died during the tests).
		if ((rc != 0)) && [[ -s $WORK/servers.log ]]; then
			tail -n "+$((SERVER_LOG_SHOWN + 1))" "$WORK/servers.log" | sed 's/^/    /' >&2
		fi
	fi
	rm -rf "$WORK"
	local ms=$(($(now_ms) - T_START))
	if ((rc == 0)); then
		log "make test: OK in $((ms / 1000))s"
	else
		log "make test: FAILED${CURRENT_STEP:+ in step \"$CURRENT_STEP\"} (exit $rc) after $((ms / 1000))s"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

start_servers() {
	build_testservers
	local env_file=$WORK/servers.env
	"$TOOLS_BIN/testservers" -env-file "$env_file" >"$WORK/servers.log" 2>&1 &
	SERVERS_PID=$!
	local deadline=$((SECONDS + READY_TIMEOUT))
	until [[ -f $env_file ]]; do
		if ! kill -0 "$SERVERS_PID" 2>/dev/null; then
			wait "$SERVERS_PID" || true
			SERVERS_PID=""
			sed 's/^/    /' "$WORK/servers.log" >&2
			die "the test servers failed to start (log above)"
		fi
		if ((SECONDS >= deadline)); then
			sed 's/^/    /' "$WORK/servers.log" >&2
			die "the test servers did not become ready within ${READY_TIMEOUT}s (log above)"
		fi
		sleep 0.1
	done
	# shellcheck source=/dev/null
	source "$env_file"
	sed 's/^/    /' "$WORK/servers.log" >&2
	SERVER_LOG_SHOWN=$(wc -l <"$WORK/servers.log")
}

check_gofmt() {
	local unformatted
	unformatted=$(find . -name '*.go' -not -path './node_modules/*' -not -path './.tools/*' -not -path './.git/*' -print0 |
		xargs -0 -r gofmt -l)
	if [[ -n $unformatted ]]; then
		sed 's/^/    /' <<<"$unformatted" >&2
		die "these files need gofmt -w"
	fi
}

# check_tidy fails when go.mod or go.sum differ from what `go mod tidy`
# would write: a requirement marked // indirect that the code imports
# directly, a missing go.sum line. It needs the module graph, which comes
# from the module cache or GOPROXY (the Go module proxy), as for go build.
check_tidy() {
	local diff rc=0
	diff=$(go mod tidy -diff) || rc=$?
	if [[ -n $diff ]]; then
		sed 's/^/    /' <<<"$diff" >&2
		die "go.mod/go.sum are not tidy (diff above): run \`go mod tidy\` and commit the result"
	fi
	((rc == 0)) || die "go mod tidy -diff failed (exit $rc, error above); it needs the module cache or GOPROXY"
}

# lint_openapi runs the pinned Redocly CLI on the HTTP API's contract; any
# warning of its strict rule set fails. No telemetry and no update check:
# CI reaches only the package registries.
lint_openapi() {
	REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true \
		node_modules/.bin/redocly lint --format=stylish transport/httpapi/openapi.yaml
}

run_staticcheck() {
	if [[ ! -x $TOOLS_BIN/staticcheck ]] || ! "$TOOLS_BIN/staticcheck" -version | grep -qF "(${STATICCHECK_VERSION#v})"; then
		GOBIN=$TOOLS_BIN go install "honnef.co/go/tools/cmd/staticcheck@$STATICCHECK_VERSION"
	fi
	"$TOOLS_BIN/staticcheck" ./...
}

step "check tools" check_tools
step "npm ci (if needed)" ensure_node_modules
if need_servers_from_npm; then
	step "start test servers" start_servers
else
	log "using AWS_ENDPOINT_URL_DYNAMODB=$AWS_ENDPOINT_URL_DYNAMODB and AWS_ENDPOINT_URL_SQS=$AWS_ENDPOINT_URL_SQS"
fi
step "aws-lambda-rie (pinned)" bash scripts/install-rie.sh
step "gofmt -l" check_gofmt
step "redocly lint transport/httpapi/openapi.yaml" lint_openapi
step "go mod tidy -diff" check_tidy
step "go vet ./..." go vet ./...
step "staticcheck $STATICCHECK_VERSION" run_staticcheck
step "go test -race -count=1 ./..." go test -race -count=1 ./...
