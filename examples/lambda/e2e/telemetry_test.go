package e2e_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/babysitter-go/babysitter/examples/lambda/e2e/internal/local"
	"github.com/babysitter-go/babysitter/internal/otlptest"
)

// span is a received span as the tree compares it.
type span struct {
	Name     string
	Kind     string
	Attrs    map[string]any `json:",omitempty"`
	Links    []string       `json:",omitempty"`
	Children []span         `json:",omitempty"`
}

// The attributes the tree compares (the others carry IDs and timings).
var treeAttrs = []string{"faas.trigger", "babysitter.decline.source", "graphql.operation.type", "messaging.system"}

// tree returns the span with ID id and its descendants among spans,
// children sorted by name, those keep rejects left out; links are named
// by the span they point to, when it was received.
func tree(spans []otlptest.Span, id string, keep func(otlptest.Span) bool) span {
	byID := map[string]otlptest.Span{}
	for _, s := range spans {
		byID[s.SpanID] = s
	}
	s := byID[id]
	out := span{Name: s.Name, Kind: strings.TrimPrefix(s.Kind, "SPAN_KIND_")}
	for _, k := range treeAttrs {
		if v, ok := s.Attributes[k]; ok {
			if out.Attrs == nil {
				out.Attrs = map[string]any{}
			}
			out.Attrs[k] = v
		}
	}
	for _, l := range s.Links {
		name := "(not received)"
		if t, ok := byID[l.SpanID]; ok && t.TraceID == l.TraceID {
			name = t.Name
		}
		out.Links = append(out.Links, name)
	}
	for _, c := range spans {
		if c.ParentSpanID == id && c.TraceID == s.TraceID && keep(c) {
			out.Children = append(out.Children, tree(spans, c.SpanID, keep))
		}
	}
	slices.SortFunc(out.Children, func(a, b span) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// find returns the received span the predicate picks; it fails t unless
// there is exactly one.
func find(t *testing.T, spans []otlptest.Span, what string, pick func(otlptest.Span) bool) otlptest.Span {
	t.Helper()
	var found []otlptest.Span
	for _, s := range spans {
		if pick(s) {
			found = append(found, s)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d spans %s, want 1", len(found), what)
	}
	return found[0]
}

// TestTelemetry: the functions under the emulator, given
// OTEL_EXPORTER_OTLP_ENDPOINT, export their spans before each invocation
// returns. A booking through the simulator is one trace of the resolver —
// the invocation span (lambdaotel), the field's (appsync.OTelTracer), the
// Service's BookNanny, its DynamoDB calls and SQS send (awsotel) — and
// its decline message makes the declines function's invocation span with
// a DeclineJob under it, linked to BookNanny, with its DynamoDB calls.
// The functions' metrics arrive too, and their log lines carry the
// traces' IDs.
func TestTelemetry(t *testing.T) {
	s := setup(t)
	s.logsOnFailure(t)
	ctx := context.Background()
	z := newAuthz(t, s, "otel")
	nora := user("otelnora", "nanny")
	z.account(t, nora, "NANNY", true)
	jobID := z.j0
	z.apply(t, nora, jobID)
	before := len(s.otlp.Spans())
	s.must(t, z.pat, "bookNanny", bookQ, obj{"job": jobID, "app": z.a0})

	// The booking's spans were exported before the invocation returned.
	spans := s.otlp.Spans()[before:]
	book := find(t, spans, "BookNanny of the job", func(x otlptest.Span) bool {
		return x.Name == "BookNanny" && x.Attributes["babysitter.job.id"] == jobID
	})
	invocation := find(t, spans, "resolver invocation of the booking", func(x otlptest.Span) bool {
		return x.TraceID == book.TraceID && x.ParentSpanID == ""
	})
	all := func(otlptest.Span) bool { return true }
	wantResolver := span{
		Name: "resolver", Kind: "SERVER", Attrs: map[string]any{"faas.trigger": "other"},
		Children: []span{{
			Name: "Mutation.bookNanny", Kind: "INTERNAL", Attrs: map[string]any{"graphql.operation.type": "mutation"},
			Children: []span{{
				Name: "BookNanny", Kind: "INTERNAL",
				Children: []span{
					{Name: "DynamoDB.BatchGetItem", Kind: "CLIENT"},
					{Name: "DynamoDB.TransactWriteItems", Kind: "CLIENT"},
					{Name: "SQS.SendMessageBatch", Kind: "CLIENT", Attrs: map[string]any{"messaging.system": "aws_sqs"}},
				},
			}},
		}},
	}
	if diff := cmp.Diff(wantResolver, tree(spans, invocation.SpanID, all)); diff != "" {
		t.Errorf("the resolver's trace of the booking (-want +got):\n%s", diff)
	}
	if invocation.Resource["service.name"] != "babysitter-resolver" || invocation.Resource["faas.name"] != "resolver" ||
		invocation.Scope != "github.com/babysitter-go/babysitter/telemetry/lambdaotel" {
		t.Errorf("resolver invocation span: scope %q, resource %v", invocation.Scope, invocation.Resource)
	}

	// The declines function, from the queue (messages other tests left
	// there are delivered too).
	var decline otlptest.Span
	for try := 0; decline.SpanID == "" && try < 10; try++ {
		mark := len(s.otlp.Spans())
		if _, err := local.DeliverOnce(ctx, s.sqs, s.queueURL, s.queueARN, s.declines, 2); err != nil {
			t.Fatal(err)
		}
		for _, x := range s.otlp.Spans()[mark:] {
			if x.Name == "DeclineJob" && x.Attributes["babysitter.job.id"] == jobID {
				decline = x
			}
		}
	}
	if decline.SpanID == "" {
		t.Fatal("no DeclineJob span of the job from the declines function")
	}
	spans = s.otlp.Spans()
	consumer := find(t, spans, "parent of DeclineJob", func(x otlptest.Span) bool {
		return x.SpanID == decline.ParentSpanID && x.TraceID == decline.TraceID
	})
	thisJob := func(x otlptest.Span) bool {
		return x.Name != "DeclineJob" || x.Attributes["babysitter.job.id"] == jobID
	}
	wantDeclines := span{
		Name: "declines", Kind: "CONSUMER", Attrs: map[string]any{"faas.trigger": "pubsub"},
		Children: []span{{
			Name: "DeclineJob", Kind: "CONSUMER", Attrs: map[string]any{"babysitter.decline.source": "queue"}, Links: []string{"BookNanny"},
			Children: []span{
				{Name: "DynamoDB.DeleteItem", Kind: "CLIENT"},
				{Name: "DynamoDB.Query", Kind: "CLIENT"},
				{Name: "DynamoDB.TransactWriteItems", Kind: "CLIENT"},
				// The job's notifications (booked, bookingConfirmed,
				// declined), before its outbox item goes.
				{Name: "SNS.PublishBatch", Kind: "CLIENT", Attrs: map[string]any{"messaging.system": "aws_sns"}},
			},
		}},
	}
	if diff := cmp.Diff(wantDeclines, tree(spans, consumer.SpanID, thisJob)); diff != "" {
		t.Errorf("the declines function's trace (-want +got):\n%s", diff)
	}
	if len(decline.Links) != 1 || decline.Links[0].TraceID != book.TraceID || decline.Links[0].SpanID != book.SpanID {
		t.Errorf("DeclineJob links %v, want BookNanny %s/%s", decline.Links, book.TraceID, book.SpanID)
	}
	if consumer.ParentSpanID != "" || consumer.Resource["service.name"] != "babysitter-declines" {
		t.Errorf("declines invocation span: parent %q, resource %v", consumer.ParentSpanID, consumer.Resource)
	}

	// Each function's first invocation was its cold start.
	for _, fn := range []string{"resolver", "declines"} {
		first := find(t, spans, "first invocation of "+fn, func(x otlptest.Span) bool {
			return x.Name == fn && x.ParentSpanID == "" && x.SpanID == firstInvocation(spans, fn)
		})
		if first.Attributes["faas.coldstart"] != true {
			t.Errorf("%s's first invocation: faas.coldstart %v", fn, first.Attributes["faas.coldstart"])
		}
	}

	// The metrics of each function's execution environment.
	got := map[string]bool{}
	for _, m := range s.otlp.Metrics() {
		if m.Int > 0 {
			got[m.Resource["service.name"].(string)+" "+m.Name] = true
		}
	}
	for _, want := range []string{"babysitter-resolver babysitter.bookings", "babysitter-declines babysitter.declines"} {
		if !got[want] {
			t.Errorf("no metric %s received", want)
		}
	}
	if err := s.otlp.Err(); err != nil {
		t.Error(err)
	}

	// The functions' log lines name the traces.
	for _, c := range []struct {
		fn, output, msg, traceID string
		match                    func(map[string]any) bool
	}{
		{"resolver", s.resolver.Output(), "resolved", book.TraceID, func(r map[string]any) bool {
			return r["field"] == "Mutation.bookNanny" && r["username"] == z.pat.name
		}},
		{"declines", s.declines.Output(), "batch handled", decline.TraceID, func(r map[string]any) bool {
			return r["traceId"] == decline.TraceID
		}},
	} {
		var found bool
		for line := range strings.Lines(c.output) {
			var r map[string]any
			if json.Unmarshal([]byte(line), &r) != nil || r["msg"] != c.msg || !c.match(r) {
				continue
			}
			found = true
			if r["traceId"] != c.traceID || r["requestId"] == nil {
				t.Errorf("%s log line %v: want traceId %s and a requestId", c.fn, r, c.traceID)
			}
		}
		if !found {
			t.Errorf("no %q line of the %s function in:\n%s", c.msg, c.fn, tail(c.output, 20))
		}
	}
}

// firstInvocation returns the ID of the earliest invocation span of fn.
func firstInvocation(spans []otlptest.Span, fn string) string {
	var first otlptest.Span
	for _, s := range spans {
		if s.Name == fn && s.ParentSpanID == "" && (first.SpanID == "" || s.Start.Before(first.Start)) {
			first = s
		}
	}
	return first.SpanID
}
