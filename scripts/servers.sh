#!/usr/bin/env bash
# `make servers`: starts DynamoDB Local and fauxqs in the foreground for local
# development, prints the export lines to paste into another shell and the
# recipe that runs the HTTP example on them, and stops both on Ctrl-C.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib.sh

# print_http_recipe prints how to run examples/http on the servers (the
# README's "DynamoDB + SQS locally" recipe).
print_http_recipe() {
	cat <<'RECIPE'

# The HTTP example on these servers: paste the two export lines above into
# another shell, then
export AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local  # any values do locally
export BABYSITTER_DEV_KEY=$(openssl rand -hex 32)  # the built-in dev key is refused with DynamoDB + SQS
go run ./examples/http -table babysitter -create-table \
  -queue-url "$AWS_ENDPOINT_URL_SQS/000000000000/babysitter-declines" -create-queue
# and mint tokens in that shell too (same BABYSITTER_DEV_KEY):
#   ALICE=$(go run ./examples/http token -user alice -group parent)

RECIPE
}

check_tools
if need_servers_from_npm; then
	step "npm ci (if needed)" ensure_node_modules
fi
step "build testservers" build_testservers
log "starting servers; Ctrl-C stops them"
# testservers writes the env file once both servers answer: then the recipe
# goes below its export lines.
envfile=$(mktemp -u "${TMPDIR:-/tmp}/babysitter-servers.XXXXXX")
"$TOOLS_BIN/testservers" -env-file "$envfile" &
pid=$!
trap 'kill -TERM "$pid" 2>/dev/null || true' INT TERM
while [[ ! -f $envfile ]] && kill -0 "$pid" 2>/dev/null; do
	sleep 0.2
done
if [[ -f $envfile ]]; then
	rm -f "$envfile"
	print_http_recipe
fi
# A trapped signal ends `wait` early: wait until testservers has stopped.
status=0
while kill -0 "$pid" 2>/dev/null; do
	wait "$pid" && status=0 || status=$?
done
exit "$status"
