// Package fullstack holds the end-to-end tests of the booking invariants on
// real servers: a Service on the DynamoDB store (DynamoDB Local) and the SQS
// queue (fauxqs), with the decline consumer running as a Poller over the
// queue. They are the twin of store/storetest's Service-level cases, which
// run the same invariants on an in-memory queue. TestBookingTelemetry
// follows one booking's trace, metrics and log lines through the same
// stack, over HTTP.
//
// The package has no code of its own; see its tests and BenchmarkDeclineDrain:
//
//	go test -race ./internal/fullstack/
//	go test -run x -bench DeclineDrain -benchtime 1x ./internal/fullstack/
//
// The servers come from internal/testenv (environment variables, else
// child processes from node_modules, else Docker).
package fullstack
