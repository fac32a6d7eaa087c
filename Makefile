# `make test` is the project's one test command; CI runs it via .ci/run.
# See scripts/test.sh for what it does.
.PHONY: test servers graphql

test:
	bash scripts/test.sh

# Start DynamoDB Local and fauxqs in the foreground for local development;
# paste the printed export lines into the shell where you run `go test`.
servers:
	bash scripts/servers.sh

# The Lambda example's GraphQL API locally: the AppSync simulator, both
# bootstraps under the Lambda Runtime Interface Emulator, DynamoDB Local and
# fauxqs, in the foreground; prints the URL, API key and curl lines. See
# scripts/graphql.sh.
graphql:
	bash scripts/graphql.sh
