package main

import (
	"context"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/babysitter-go/babysitter"
	bmemory "github.com/babysitter-go/babysitter/blob/memory"
	memqueue "github.com/babysitter-go/babysitter/queue/memory"
	memstore "github.com/babysitter-go/babysitter/store/memory"
)

// maxReceiveCount is how often a decline message is delivered before the
// queue gives up on it and moves it to the dead-letter queue: enough to
// ride out a brief backend failure, few enough that a poison message stops
// soon. The SAM template's redrive policy uses the same number.
const maxReceiveCount = 5

// backends are what the server runs on.
type backends struct {
	store  babysitter.Store
	queue  babysitter.Queue  // the Service sends declines to it
	source babysitter.Source // the in-process poller consumes it
	// blobs stores the uploads, publicBase is where its pictures are read;
	// nil for the in-memory Blobs, made once the server listens (their
	// URLs are the server's).
	blobs      babysitter.Blobs
	publicBase string
	// notifier publishes the notifications; nil for notify/memory.
	notifier babysitter.Notifier
}

// newBackends returns the backends: in memory by default, on DynamoDB and
// SQS when a table and a queue are configured (with S3 and SNS when a
// bucket and a topic are too), the store's and the sender's SDK clients
// traced on tp.
func newBackends(ctx context.Context, cfg config, log *slog.Logger, tp trace.TracerProvider) (backends, error) {
	if cfg.awsMode() {
		return newAWSBackends(ctx, cfg, log, tp)
	}
	store, queue := newMemoryBackends(cfg.VisibilityTimeout)
	return backends{store: store, queue: queue, source: queue}, nil
}

// memoryBlobs returns in-memory Blobs whose presigned URLs point at the
// server listening at addr, under /blobs/ (or at cfg.PublicBaseURL), with
// the handler to mount at the base URL's path. Pictures are readable
// without a signature, as the deployed bucket's policy makes them.
func memoryBlobs(cfg config, addr net.Addr) (*bmemory.Blobs, string, string, error) {
	base := cfg.PublicBaseURL
	if base == "" {
		host := addr.String()
		if tcp, ok := addr.(*net.TCPAddr); ok && tcp.IP.IsUnspecified() {
			host = net.JoinHostPort("localhost", strconv.Itoa(tcp.Port))
		}
		base = "http://" + host + "/blobs/"
	}
	u, err := url.Parse(base)
	if err != nil {
		return nil, "", "", err
	}
	b, err := bmemory.New(bmemory.Options{BaseURL: base, PublicPrefixes: []string{babysitter.PublicKeyPrefix}})
	return b, base, u.Path, err
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
