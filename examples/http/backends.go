package main

import (
	"context"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/babysitter-go/babysitter"
	memqueue "github.com/babysitter-go/babysitter/queue/memory"
	memstore "github.com/babysitter-go/babysitter/store/memory"
)

// maxReceiveCount is how often a decline message is delivered before the
// queue gives up on it and moves it to the dead-letter queue: enough to
// ride out a brief backend failure, few enough that a poison message stops
// soon. The SAM template's redrive policy uses the same number.
const maxReceiveCount = 5

// newBackends returns the store, the queue the Service sends declines to
// and the source the in-process poller consumes: in memory by default, on
// DynamoDB and SQS when a table and a queue are configured, their SDK
// clients traced on tp.
func newBackends(ctx context.Context, cfg config, log *slog.Logger, tp trace.TracerProvider) (babysitter.Store, babysitter.Queue, babysitter.Source, error) {
	if cfg.awsMode() {
		return newAWSBackends(ctx, cfg, log, tp)
	}
	store, queue := newMemoryBackends(cfg.VisibilityTimeout)
	return store, queue, queue, nil
}

// newMemoryBackends returns an empty in-memory store and an SQS-like
// in-memory decline queue with a dead-letter queue, so the in-process
// consumer sees the delivery semantics it gets from SQS in production.
func newMemoryBackends(visibility time.Duration) (*memstore.Store, *memqueue.Queue) {
	dlq := memqueue.New(memqueue.Options{})
	queue := memqueue.New(memqueue.Options{
		VisibilityTimeout: visibility,
		MaxReceiveCount:   maxReceiveCount,
		DeadLetter:        dlq,
	})
	return memstore.New(), queue
}
