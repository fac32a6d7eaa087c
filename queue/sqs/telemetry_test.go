package sqs_test

import (
	"context"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/babysitter-go/babysitter"
	"github.com/babysitter-go/babysitter/internal/testenv"
	sqsqueue "github.com/babysitter-go/babysitter/queue/sqs"
	smemory "github.com/babysitter-go/babysitter/store/memory"
)

// TestTraceContextThroughSQS: a booking's decline message crosses fauxqs
// with the booking's trace context, so the consumer's span — under a
// Poller, as in a long-running service — continues the booking's trace
// and links to its span; the lag is measured from the queue's
// SentTimestamp; and a poison message failing at its last delivery is
// counted as dead-lettered exactly when SQS then moves it to the
// dead-letter queue.
func TestTraceContextThroughSQS(t *testing.T) {
	const maxReceive = 2
	ctx := t.Context()
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()); _ = mp.Shutdown(context.Background()) })

	q, dlq := newQueue(t, testenv.SQSClient(t), time.Second, maxReceive, sqsqueue.Options{WaitTime: wait})
	store := smemory.New()
	svc := babysitter.New(store, q, babysitter.Options{TracerProvider: tp, MeterProvider: mp, Logger: quiet, VerifyWithoutDocument: true})
	decliner := babysitter.NewDecliner(store, babysitter.DeclinerOptions{
		TracerProvider: tp, MeterProvider: mp, Logger: quiet, MaxReceiveCount: maxReceive,
	})

	// A parent, two verified nannies, a job, two applications, a booking.
	admin := babysitter.Actor{Username: "root", Role: babysitter.RoleAdmin}
	parent := babysitter.Actor{Username: "alice", Role: babysitter.RoleParent}
	nannies := []babysitter.Actor{{Username: "bob", Role: babysitter.RoleNanny}, {Username: "carol", Role: babysitter.RoleNanny}}
	for _, a := range append([]babysitter.Actor{parent}, nannies...) {
		typ := babysitter.UserNanny
		if a.Role == babysitter.RoleParent {
			typ = babysitter.UserParent
		}
		if _, err := svc.CreateUser(ctx, a, babysitter.NewUser{Username: a.Username, Email: a.Username + "@example.com", Type: typ,
			Profile: babysitter.Profile{FirstName: "F", LastName: "L", DateOfBirth: babysitter.Date{Year: 1990, Month: 1, Day: 2}}}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.UpdateUserStatus(ctx, admin, a.Username, babysitter.StatusChange{Status: babysitter.StatusVerified}); err != nil {
			t.Fatal(err)
		}
	}
	job, err := svc.CreateJob(ctx, parent, babysitter.JobDetails{
		JobType: babysitter.JobBabysitting, Description: "An evening", NumberOfKids: 1,
		StartDate: babysitter.Date{Year: 2030, Month: 6, Day: 1}, StartTime: 18 * 60,
		EndDate: babysitter.Date{Year: 2030, Month: 6, Day: 1}, EndTime: 23 * 60,
		Address: "1 Main Street", City: "Berlin", Latitude: 52.52, Longitude: 13.405,
		Cost: babysitter.Money{Amount: 6000, Currency: "EUR"},
	})
	if err != nil {
		t.Fatal(err)
	}
	var apps []babysitter.Application
	for _, n := range nannies {
		app, err := svc.ApplyToJob(ctx, n, job.ID, babysitter.NewApplication{})
		if err != nil {
			t.Fatal(err)
		}
		apps = append(apps, app)
	}
	sent := time.Now()
	if _, err := svc.BookNanny(ctx, parent, job.ID, apps[0].ID); err != nil {
		t.Fatal(err)
	}
	// A poison message beside it: no body the Decliner understands.
	poison := babysitter.Message{Body: []byte("{}"), Attributes: map[string]string{"type": "something.Else", "version": "1"}}
	if err := q.Send(ctx, []babysitter.Message{poison}); err != nil {
		t.Fatal(err)
	}

	// The consumer as a Poller runs it: no span in ctx. Receive until the
	// booking's message is handled and the poison one has had its last
	// delivery and moved to the dead-letter queue.
	var dead []babysitter.Message
	for deadline := time.Now().Add(30 * time.Second); len(dead) == 0; {
		if time.Now().After(deadline) {
			t.Fatal("the poison message did not reach the dead-letter queue in 30s")
		}
		msgs, err := q.Receive(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		failed := decliner.HandleBatch(ctx, msgs)
		var ok []babysitter.Message
		for _, m := range msgs {
			if !slices.Contains(failed, m.ID) {
				ok = append(ok, m)
			}
		}
		if err := q.Delete(ctx, ok); err != nil {
			t.Fatal(err)
		}
		if dead, err = dlq.Receive(ctx, 10); err != nil {
			t.Fatal(err)
		}
	}

	var book, decline tracetest.SpanStub
	for _, s := range spans.GetSpans() {
		switch s.Name {
		case "BookNanny":
			book = s
		case "DeclineJob":
			decline = s
		}
	}
	if decline.Parent.SpanID() != book.SpanContext.SpanID() || decline.SpanContext.TraceID() != book.SpanContext.TraceID() {
		t.Errorf("DeclineJob span: parent %v in trace %v; want the BookNanny span %v, in its trace", decline.Parent, decline.SpanContext.TraceID(), book.SpanContext)
	}
	if len(decline.Links) != 1 || decline.Links[0].SpanContext.SpanID() != book.SpanContext.SpanID() {
		t.Errorf("DeclineJob links %v, want one to the BookNanny span", decline.Links)
	}

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(ctx, &rm); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					got[m.Name+"{"+pointAttrs(p.Attributes)+"}"] = formatFloat(float64(p.Value))
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					got[m.Name+".count"] = formatFloat(float64(p.Count))
					// The lag is from SentTimestamp (whole milliseconds, from
					// the server's clock) to the end of the declines: at
					// least 0 and, however slow the machine, less than the
					// whole test so far.
					if lag := p.Sum; lag < 0 || lag > time.Since(sent).Seconds()+1 {
						t.Errorf("decline lag %vs, want between 0 and %vs", lag, time.Since(sent).Seconds()+1)
					}
				}
			}
		}
	}
	for key, want := range map[string]string{
		"babysitter.bookings{}": "1",
		"babysitter.declines{babysitter.decline.outcome=applied,babysitter.decline.source=queue}": "1",
		"babysitter.decline.lag.count":                               "1",
		"babysitter.decline.dead_lettered{error.type=invalid_input}": "1",
	} {
		if got[key] != want {
			t.Errorf("metric %s = %q, want %q (all: %v)", key, got[key], want, got)
		}
	}
	if len(dead) != 1 || string(dead[0].Body) != "{}" {
		t.Errorf("dead-letter queue holds %v, want the poison message", dead)
	}
}

// quiet discards the logs: the poison message is logged as an error, on
// purpose.
var quiet = slog.New(slog.DiscardHandler)

func pointAttrs(s attribute.Set) string {
	var parts []string
	for _, kv := range s.ToSlice() { // sorted by key
		parts = append(parts, string(kv.Key)+"="+kv.Value.String())
	}
	return strings.Join(parts, ",")
}

func formatFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
