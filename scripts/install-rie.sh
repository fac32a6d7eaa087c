#!/usr/bin/env bash
# Installs the pinned AWS Lambda Runtime Interface Emulator (aws-lambda-rie)
# into .tools/bin, unless that exact version is there already. The e2e suite
# in examples/lambda/e2e runs the Lambda bootstraps under it; `make test` and
# `make graphql` call this script.
#
# The emulator is a Go program (github.com/aws/aws-lambda-runtime-interface-
# emulator, ./cmd/aws-lambda-rie). It publishes no module versions, so it is
# pinned by pseudo-version (a commit) plus the module's go.sum hash, which the
# installed binary must carry. It is installed with `go install` as a tool
# binary, not added to go.mod. It runs on Linux only.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib.sh

RIE_MODULE=github.com/aws/aws-lambda-runtime-interface-emulator
RIE_VERSION=v0.0.0-20261030222936-bef5c4ba774d
RIE_SUM=h1:E8QcgpwFecNMTAHHnt11/CS9JLe5QqT/DI/WRg0cvMA=
RIE=$TOOLS_BIN/aws-lambda-rie

# installed_version prints "VERSION SUM" of the binary's main module.
installed_version() {
	go version -m "$RIE" 2>/dev/null | awk -v m="$RIE_MODULE" '$1 == "mod" && $2 == m { print $3, $4 }'
}

if [[ $(uname -s) != Linux ]]; then
	log "aws-lambda-rie runs on Linux only; not installing it (the e2e suite will skip)"
	exit 0
fi
if [[ -x $RIE && $(installed_version) == "$RIE_VERSION $RIE_SUM" ]]; then
	log "aws-lambda-rie $RIE_VERSION is installed"
	exit 0
fi
log "installing aws-lambda-rie $RIE_VERSION into $TOOLS_BIN"
GOBIN=$TOOLS_BIN go install "$RIE_MODULE/cmd/aws-lambda-rie@$RIE_VERSION"
got=$(installed_version)
[[ $got == "$RIE_VERSION $RIE_SUM" ]] ||
	die "the installed aws-lambda-rie is \"$got\", want \"$RIE_VERSION $RIE_SUM\""
