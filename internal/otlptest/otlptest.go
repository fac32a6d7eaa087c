// Package otlptest is an OTLP/HTTP receiver for tests: a local HTTP
// server that accepts what OpenTelemetry exporters send to /v1/traces and
// /v1/metrics (protobuf or JSON, gzip or not), as a collector would, and
// keeps it for the test to read. Programs under test — the Lambda
// bootstraps under the emulator, a server started by a test — are pointed
// at it with OTEL_EXPORTER_OTLP_ENDPOINT=Receiver.URL.
package otlptest

import (
	"compress/gzip"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	metricspb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	tracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// Span is a received span, its IDs in hex.
type Span struct {
	TraceID, SpanID, ParentSpanID string
	Name                          string
	// Kind is OTLP's: "SPAN_KIND_SERVER", "SPAN_KIND_CLIENT", ...
	Kind       string
	Attributes map[string]any
	Links      []Link
	// Status is OTLP's code: "STATUS_CODE_UNSET", "STATUS_CODE_OK",
	// "STATUS_CODE_ERROR".
	Status string
	Start  time.Time
	// Scope is the instrumentation scope's name.
	Scope string
	// Resource is the resource's attributes (service.name, faas.name, ...).
	Resource map[string]any
}

// Link is a span's link to another span.
type Link struct {
	TraceID, SpanID string
	Attributes      map[string]any
}

// Metric is one received data point of a sum or a gauge (histograms
// count their observations in Count).
type Metric struct {
	Name       string
	Attributes map[string]any
	Int        int64
	Double     float64
	Count      uint64
	Resource   map[string]any
}

// Receiver is a running OTLP/HTTP receiver.
type Receiver struct {
	// URL is the base URL, for OTEL_EXPORTER_OTLP_ENDPOINT.
	URL string
	srv *http.Server

	mu       sync.Mutex
	spans    []Span
	metrics  []Metric
	requests map[string]int
	errs     []error
}

// Start starts a receiver on a free loopback port. Close stops it.
func Start() (*Receiver, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &Receiver{URL: "http://" + l.Addr().String(), requests: map[string]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/traces", r.traces)
	mux.HandleFunc("POST /v1/metrics", r.metricsHandler)
	r.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = r.srv.Serve(l) }()
	return r, nil
}

// Close stops the receiver.
func (r *Receiver) Close() error { return r.srv.Close() }

// Spans returns the spans received so far, in the order they arrived.
func (r *Receiver) Spans() []Span {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.spans)
}

// Metrics returns the metric data points received so far.
func (r *Receiver) Metrics() []Metric {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.metrics)
}

// Requests returns how many export requests arrived at path
// ("/v1/traces", "/v1/metrics").
func (r *Receiver) Requests(path string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.requests[path]
}

// Err returns the errors of the requests the receiver could not decode,
// or nil.
func (r *Receiver) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.errs) == 0 {
		return nil
	}
	return fmt.Errorf("otlptest: %d bad requests, first: %w", len(r.errs), r.errs[0])
}

// decode reads an export request's body into m, as protobuf or JSON by
// its Content-Type, gunzipped when it says so.
func (r *Receiver) decode(w http.ResponseWriter, req *http.Request, m proto.Message) bool {
	r.mu.Lock()
	r.requests[req.URL.Path]++
	r.mu.Unlock()
	body := io.Reader(req.Body)
	if req.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(req.Body)
		if err != nil {
			r.fail(w, err)
			return false
		}
		defer zr.Close()
		body = zr
	}
	b, err := io.ReadAll(body)
	if err != nil {
		r.fail(w, err)
		return false
	}
	switch ct := req.Header.Get("Content-Type"); {
	case strings.HasPrefix(ct, "application/x-protobuf"):
		err = proto.Unmarshal(b, m)
	case strings.HasPrefix(ct, "application/json"):
		err = protojson.Unmarshal(b, m)
	default:
		err = fmt.Errorf("Content-Type %q", ct)
	}
	if err != nil {
		r.fail(w, err)
		return false
	}
	return true
}

func (r *Receiver) fail(w http.ResponseWriter, err error) {
	r.mu.Lock()
	r.errs = append(r.errs, err)
	r.mu.Unlock()
	http.Error(w, err.Error(), http.StatusBadRequest)
}

// respond answers an export request as a collector does: 200 with an
// empty response message of the request's encoding.
func respond(w http.ResponseWriter, req *http.Request, m proto.Message) {
	var b []byte
	if strings.HasPrefix(req.Header.Get("Content-Type"), "application/json") {
		w.Header().Set("Content-Type", "application/json")
		b, _ = protojson.Marshal(m)
	} else {
		w.Header().Set("Content-Type", "application/x-protobuf")
		b, _ = proto.Marshal(m)
	}
	_, _ = w.Write(b)
}

func (r *Receiver) traces(w http.ResponseWriter, req *http.Request) {
	var in tracepb.ExportTraceServiceRequest
	if !r.decode(w, req, &in) {
		return
	}
	var got []Span
	for _, rs := range in.GetResourceSpans() {
		res := attrs(rs.GetResource().GetAttributes())
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				sp := Span{
					TraceID:      hex.EncodeToString(s.GetTraceId()),
					SpanID:       hex.EncodeToString(s.GetSpanId()),
					ParentSpanID: hex.EncodeToString(s.GetParentSpanId()),
					Name:         s.GetName(),
					Kind:         s.GetKind().String(),
					Attributes:   attrs(s.GetAttributes()),
					Status:       s.GetStatus().GetCode().String(),
					Start:        time.Unix(0, int64(s.GetStartTimeUnixNano())),
					Scope:        ss.GetScope().GetName(),
					Resource:     res,
				}
				for _, l := range s.GetLinks() {
					sp.Links = append(sp.Links, Link{
						TraceID: hex.EncodeToString(l.GetTraceId()), SpanID: hex.EncodeToString(l.GetSpanId()),
						Attributes: attrs(l.GetAttributes()),
					})
				}
				got = append(got, sp)
			}
		}
	}
	r.mu.Lock()
	r.spans = append(r.spans, got...)
	r.mu.Unlock()
	respond(w, req, &tracepb.ExportTraceServiceResponse{})
}

func (r *Receiver) metricsHandler(w http.ResponseWriter, req *http.Request) {
	var in metricspb.ExportMetricsServiceRequest
	if !r.decode(w, req, &in) {
		return
	}
	var got []Metric
	for _, rm := range in.GetResourceMetrics() {
		res := attrs(rm.GetResource().GetAttributes())
		for _, sm := range rm.GetScopeMetrics() {
			for _, m := range sm.GetMetrics() {
				for _, p := range m.GetSum().GetDataPoints() {
					got = append(got, Metric{Name: m.GetName(), Attributes: attrs(p.GetAttributes()), Int: p.GetAsInt(), Double: p.GetAsDouble(), Resource: res})
				}
				for _, p := range m.GetGauge().GetDataPoints() {
					got = append(got, Metric{Name: m.GetName(), Attributes: attrs(p.GetAttributes()), Int: p.GetAsInt(), Double: p.GetAsDouble(), Resource: res})
				}
				for _, p := range m.GetHistogram().GetDataPoints() {
					got = append(got, Metric{Name: m.GetName(), Attributes: attrs(p.GetAttributes()), Count: p.GetCount(), Double: p.GetSum(), Resource: res})
				}
			}
		}
	}
	r.mu.Lock()
	r.metrics = append(r.metrics, got...)
	r.mu.Unlock()
	respond(w, req, &metricspb.ExportMetricsServiceResponse{})
}

// attrs turns OTLP attributes into a map of Go values: string, bool,
// int64, float64, or []any for arrays.
func attrs(kvs []*commonpb.KeyValue) map[string]any {
	m := make(map[string]any, len(kvs))
	for _, kv := range kvs {
		m[kv.GetKey()] = value(kv.GetValue())
	}
	return m
}

func value(v *commonpb.AnyValue) any {
	switch x := v.GetValue().(type) {
	case *commonpb.AnyValue_StringValue:
		return x.StringValue
	case *commonpb.AnyValue_BoolValue:
		return x.BoolValue
	case *commonpb.AnyValue_IntValue:
		return x.IntValue
	case *commonpb.AnyValue_DoubleValue:
		return x.DoubleValue
	case *commonpb.AnyValue_ArrayValue:
		var out []any
		for _, e := range x.ArrayValue.GetValues() {
			out = append(out, value(e))
		}
		return out
	}
	return nil
}
