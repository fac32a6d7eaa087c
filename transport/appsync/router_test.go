package appsync

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"testing"

	"github.com/babysitter-go/babysitter"
	qmemory "github.com/babysitter-go/babysitter/queue/memory"
	smemory "github.com/babysitter-go/babysitter/store/memory"
)

type span struct {
	name string
	err  error
}

type recordingTracer struct {
	mu    sync.Mutex
	spans []span
}

func (r *recordingTracer) Start(ctx context.Context, name string) (context.Context, func(error)) {
	return ctx, func(err error) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.spans = append(r.spans, span{name, err})
	}
}

func TestTracerAndUnknownField(t *testing.T) {
	svc := babysitter.New(smemory.New(), qmemory.New(qmemory.Options{}), babysitter.Options{Logger: slog.New(slog.DiscardHandler)})
	tr := &recordingTracer{}
	r := NewRouter(svc, Options{Logger: slog.New(slog.DiscardHandler), Tracer: tr})

	ev := func(parent, field string, args string) json.RawMessage {
		return json.RawMessage(`{"arguments":` + args + `,"identity":null,"info":{"parentTypeName":"` + parent + `","fieldName":"` + field + `"},"request":{"headers":{}}}`)
	}
	if _, err := r.Handle(context.Background(), ev("Query", "getUser", `{"username":"nobody"}`)); err == nil {
		t.Fatal("want NotFound")
	}
	if _, err := r.Handle(context.Background(), ev("Query", "nope", `{}`)); err == nil {
		t.Fatal("want an error for an unrouted field")
	}
	if _, err := r.Handle(context.Background(), json.RawMessage(`{"info":`)); err == nil {
		t.Fatal("want an error for a malformed event")
	}
	if len(tr.spans) != 2 || tr.spans[0].name != "Query.getUser" || tr.spans[1].name != "Query.nope" {
		t.Fatalf("spans %+v", tr.spans)
	}
	var e *Error
	if !errors.As(tr.spans[0].err, &e) || e.Type != TypeNotFound {
		t.Fatalf("span error %v", tr.spans[0].err)
	}
	// A batch resolves every item, in order.
	items := make([]json.RawMessage, 20)
	for i := range items {
		items[i] = ev("Query", "getUser", `{"username":"nobody"}`)
	}
	batch, _ := json.Marshal(items)
	out, err := r.Handle(context.Background(), batch)
	if err != nil {
		t.Fatal(err)
	}
	if res := out.([]BatchItem); len(res) != 20 || res[19].ErrorType != TypeNotFound {
		t.Fatalf("batch %+v", out)
	}
}
