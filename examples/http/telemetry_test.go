package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/babysitter-go/babysitter/internal/otlptest"
	"github.com/babysitter-go/babysitter/internal/testenv"
	"github.com/babysitter-go/babysitter/internal/testlog"
	"github.com/babysitter-go/babysitter/telemetry/otelenv"
	"github.com/babysitter-go/babysitter/transport/httpapi/jwtauth"
)

// TestServeExportsTelemetry runs the real serve, in memory and on
// DynamoDB Local + fauxqs, with OTEL_EXPORTER_OTLP_ENDPOINT pointing at
// an OTLP receiver: each API request is a trace — otelhttp's server span
// named after the route, the Service's span under it, the SDK's DynamoDB
// and SQS calls under that —, the decline of a cancelled job continues
// the cancellation's trace and links to it, the probes and the startup
// checks and the poller's receives make no spans, the metrics and the
// last spans are exported when the server stops, and the request's log
// line carries the request's trace ID.
func TestServeExportsTelemetry(t *testing.T) {
	for _, mode := range []string{"memory", "aws"} {
		t.Run(mode, func(t *testing.T) {
			recv, err := otlptest.Start()
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = recv.Close() })
			for k, v := range map[string]string{
				"OTEL_EXPORTER_OTLP_ENDPOINT": recv.URL,
				"OTEL_BSP_SCHEDULE_DELAY":     "50",      // ms: spans arrive while the server runs
				"OTEL_METRIC_EXPORT_INTERVAL": "3600000", // ms: metrics once, at shutdown
			} {
				t.Setenv(k, v)
			}
			for _, k := range []string{"OTEL_SDK_DISABLED", "OTEL_TRACES_EXPORTER", "OTEL_METRICS_EXPORTER", "OTEL_PROPAGATORS",
				"OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES", "OTEL_TRACES_SAMPLER", "OTEL_EXPORTER_OTLP_PROTOCOL"} {
				t.Setenv(k, "")
				os.Unsetenv(k)
			}
			args := []string{"-addr", "127.0.0.1:0"}
			if mode == "aws" {
				awsEnv(t)
				table, queue := testenv.UniqueName(t, "otel"), testenv.UniqueName(t, "otel")
				args = append(args, "-table", table, "-create-table",
					"-queue-url", os.Getenv("AWS_ENDPOINT_URL_SQS")+"/000000000000/"+queue, "-create-queue")
			}
			cfg, err := parseConfig(args, env(map[string]string{"BABYSITTER_DEV_KEY": testKey}), io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			logs := &testlog.Buffer{}
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			base, done := startServe(t, ctx, cfg, slog.New(slog.NewJSONHandler(logs, nil)))

			token, err := jwtauth.MintDevToken(testKey, "alice", []string{"parent"}, time.Hour, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			call := func(method, path, body string, want int) map[string]any {
				t.Helper()
				req, err := http.NewRequestWithContext(t.Context(), method, base+path, strings.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				if !strings.HasPrefix(path, "/v1/users/nobody") {
					req.Header.Set("Authorization", "Bearer "+token)
				}
				if body != "" {
					req.Header.Set("Content-Type", "application/json")
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				var out map[string]any
				_ = json.NewDecoder(resp.Body).Decode(&out)
				if resp.StatusCode != want {
					t.Fatalf("%s %s: %d, want %d: %v", method, path, resp.StatusCode, want, out)
				}
				return out
			}
			call("GET", "/readyz", "", http.StatusOK)
			call("POST", "/v1/users", `{"username":"alice","email":"alice@example.com","type":"PARENT","firstName":"Alice","lastName":"Smith","dateOfBirth":"1988-04-12"}`, http.StatusCreated)
			job := call("POST", "/v1/jobs", `{"jobType":"BABYSITTING","description":"One evening","numberOfKids":1,
				"startDate":"2030-06-01","endDate":"2030-06-01","startTime":"18:00","endTime":"23:00",
				"address":"1 Main Street","city":"Berlin","latitude":52.52,"longitude":13.405,"cost":{"amount":6000,"currency":"EUR"}}`, http.StatusCreated)
			jobID, _ := job["id"].(string)
			call("POST", "/v1/jobs/"+jobID+"/cancel", "", http.StatusOK)
			call("GET", "/v1/users/nobody", "", http.StatusNotFound)

			// The in-process consumer declines the cancelled job's
			// applications (none) from its message: wait for its span.
			deadline := time.Now().Add(30 * time.Second)
			for !slices.ContainsFunc(recv.Spans(), func(s otlptest.Span) bool { return s.Name == "DeclineJob" }) {
				if time.Now().After(deadline) {
					t.Fatalf("no DeclineJob span received; spans: %v", spanNames(recv.Spans()))
				}
				time.Sleep(20 * time.Millisecond)
			}
			cancel()
			if err := <-done; err != nil {
				t.Fatalf("serve returned %v", err)
			}
			if err := recv.Err(); err != nil {
				t.Fatal(err)
			}

			spans := recv.Spans()
			byID := map[string]otlptest.Span{}
			for _, s := range spans {
				byID[s.SpanID] = s
			}
			// The traces the API's requests started, as parent > child
			// edges; the SDK's calls go by service (their exact calls are
			// the store's business).
			var edges []string
			var cancelTrace string
			var decline, cancelSpan otlptest.Span
			for _, s := range spans {
				root := s
				for root.ParentSpanID != "" {
					p, ok := byID[root.ParentSpanID]
					if !ok {
						t.Fatalf("span %q: parent %s not received", s.Name, root.ParentSpanID)
					}
					root = p
				}
				if root.Kind != "SPAN_KIND_SERVER" {
					continue // the sweeper's traces
				}
				parent := ""
				if s.ParentSpanID != "" {
					parent = sdkName(byID[s.ParentSpanID].Name)
				}
				edges = append(edges, parent+" > "+sdkName(s.Name))
				switch s.Name {
				case "POST /v1/jobs/{jobId}/cancel":
					cancelTrace = s.TraceID
				case "CancelJob":
					cancelSpan = s
				case "DeclineJob":
					decline = s
				}
				if s.Resource["service.name"] != serviceName {
					t.Errorf("span %q: service.name %v", s.Name, s.Resource["service.name"])
				}
			}
			slices.Sort(edges)
			edges = slices.Compact(edges)
			want := []string{
				" > GET /v1/users/{username}",
				" > POST /v1/jobs",
				" > POST /v1/jobs/{jobId}/cancel",
				" > POST /v1/users",
				"CancelJob > DeclineJob",
				"GET /v1/users/{username} > GetUser",
				"POST /v1/jobs > CreateJob",
				"POST /v1/jobs/{jobId}/cancel > CancelJob",
				"POST /v1/users > CreateUser",
			}
			if mode == "aws" {
				want = append(want,
					"CancelJob > DynamoDB", "CancelJob > SQS.SendMessageBatch", "CreateJob > DynamoDB",
					"CreateUser > DynamoDB", "DeclineJob > DynamoDB", "GetUser > DynamoDB")
				slices.Sort(want)
			}
			if diff := cmp.Diff(want, edges); diff != "" {
				t.Errorf("span tree of the requests (-want +got):\n%s", diff)
			}
			wantLinks := []otlptest.Link{{TraceID: cancelSpan.TraceID, SpanID: cancelSpan.SpanID}}
			if diff := cmp.Diff(wantLinks, decline.Links, cmpopts.IgnoreFields(otlptest.Link{}, "Attributes")); diff != "" {
				t.Errorf("DeclineJob's links (-want +got):\n%s", diff)
			}
			for _, s := range spans {
				switch s.Name {
				case "GET /readyz", "DynamoDB.DescribeTable", "DynamoDB.CreateTable", "SQS.CreateQueue",
					"SQS.GetQueueAttributes", "SQS.ReceiveMessage", "SQS.DeleteMessageBatch":
					t.Errorf("span %q: probes, startup checks and the poller's calls are not traced", s.Name)
				}
			}

			// The metrics: one failed GetUser (the probe's read is not
			// counted), four API requests (the probe is not one).
			var requests uint64
			var notFound int64
			for _, m := range recv.Metrics() {
				switch m.Name {
				case "http.server.request.duration":
					requests += m.Count
				case "babysitter.operation.errors":
					if m.Attributes["babysitter.operation"] == "GetUser" && m.Attributes["error.type"] == "not_found" {
						notFound += m.Int
					}
				}
			}
			if requests != 4 || notFound != 1 {
				t.Errorf("metrics: %d requests, %d GetUser not_found; want 4 and 1", requests, notFound)
			}

			// The cancellation's log line names its trace.
			found := false
			for l := range strings.Lines(logs.String()) {
				var line map[string]any
				if err := json.Unmarshal([]byte(l), &line); err != nil {
					t.Fatal(err)
				}
				if line["msg"] == "request" && line["path"] == "/v1/jobs/"+jobID+"/cancel" {
					found = true
					if line["traceId"] != cancelTrace || line["requestId"] == nil {
						t.Errorf("log line %v: want traceId %s and a requestId", line, cancelTrace)
					}
				}
			}
			if !found {
				t.Errorf("no request line for the cancellation in:\n%s", logs.String())
			}
		})
	}
}

// sdkName is a span's name with the AWS SDK's DynamoDB operations as one.
func sdkName(name string) string {
	if strings.HasPrefix(name, "DynamoDB.") {
		return "DynamoDB"
	}
	return name
}

func spanNames(spans []otlptest.Span) []string {
	var names []string
	for _, s := range spans {
		names = append(names, s.Name)
	}
	return names
}

// TestPublicEndpoint: a client's traceparent does not choose the trace of
// the server's work — its server span starts a trace and links to the
// client's — unless the server trusts the header (-trust-trace-context,
// behind a proxy that sets it).
func TestPublicEndpoint(t *testing.T) {
	recv := exportSpansTo(t)
	const clientTrace, clientSpan = "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"
	for _, trust := range []bool{false, true} {
		tel, err := otelenv.New(t.Context(), otelenv.Options{ServiceName: "public-endpoint-test"})
		if err != nil {
			t.Fatal(err)
		}
		h := instrument(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }), tel, trust)
		req := httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/v1/jobs", nil)
		req.Header.Set("traceparent", "00-"+clientTrace+"-"+clientSpan+"-01")
		h.ServeHTTP(httptest.NewRecorder(), req)
		if err := tel.Shutdown(t.Context()); err != nil {
			t.Fatal(err)
		}
		spans := recv.Spans()
		if len(spans) == 0 {
			t.Fatalf("trust %v: no span received", trust)
		}
		s := spans[len(spans)-1]
		if trust {
			if s.TraceID != clientTrace || s.ParentSpanID != clientSpan || len(s.Links) != 0 {
				t.Errorf("trusted: span in trace %s with parent %q and links %v; want the client's trace and span as its parent", s.TraceID, s.ParentSpanID, s.Links)
			}
			continue
		}
		if s.TraceID == clientTrace || s.ParentSpanID != "" {
			t.Errorf("public: span in trace %s with parent %q; want a trace of its own", s.TraceID, s.ParentSpanID)
		}
		if len(s.Links) != 1 || s.Links[0].TraceID != clientTrace || s.Links[0].SpanID != clientSpan {
			t.Errorf("public: links %v; want one to the client's span", s.Links)
		}
	}
}

// exportSpansTo starts an OTLP receiver for the test and points the
// OTEL_* variables at it, spans only.
func exportSpansTo(t *testing.T) *otlptest.Receiver {
	t.Helper()
	recv, err := otlptest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = recv.Close() })
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", recv.URL)
	t.Setenv("OTEL_METRICS_EXPORTER", "none")
	return recv
}
