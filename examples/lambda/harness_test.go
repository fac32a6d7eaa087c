package lambda_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/babysitter-go/babysitter"
	"github.com/babysitter-go/babysitter/blob/blobtest"
	bmemory "github.com/babysitter-go/babysitter/blob/memory"
	"github.com/babysitter-go/babysitter/internal/testlog"
	nmemory "github.com/babysitter-go/babysitter/notify/memory"
	"github.com/babysitter-go/babysitter/transport/appsync"
	"github.com/babysitter-go/babysitter/transport/sqsevent"
)

// obj is a decoded JSON object: events are edited and results read as
// AppSync sees them, after a JSON round trip.
type obj = map[string]any

// harness runs the two Lambda handlers in-process, as Lambda would: JSON in,
// JSON out, a Lambda context with a request id.
type harness struct {
	t   testing.TB
	svc *babysitter.Service
	// blobs is the Service's object storage; blobClient sends its
	// presigned requests (a plain HTTP client).
	blobs      babysitter.Blobs
	blobClient *http.Client
	// notifier is the consumer's; published observes it.
	notifier  babysitter.Notifier
	published func(t *testing.T, n int) []babysitter.Notification
	router    *appsync.Router
	decline   func(context.Context, events.SQSEvent) (events.SQSEventResponse, error)
	source    babysitter.Source
	logs      *testlog.Buffer
	now       time.Time
	invokes   int
	// schema checks every result of must against its field's type.
	schema *ast.Schema
}

// evidence is the object storage and the notifier of a harness: by
// default blob/memory (its presigned requests served in process) and
// notify/memory.
type evidence struct {
	blobs      babysitter.Blobs
	publicBase string
	client     *http.Client
	notifier   babysitter.Notifier
	published  func(t *testing.T, n int) []babysitter.Notification
}

func memoryEvidence(t testing.TB, now func() time.Time) evidence {
	b, err := bmemory.New(bmemory.Options{BaseURL: "http://blobs.test/", PublicPrefixes: []string{babysitter.PublicKeyPrefix}, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	n := nmemory.New(nmemory.Options{Logger: slog.New(slog.DiscardHandler)})
	return evidence{blobs: b, publicBase: "http://blobs.test/", client: b.Client(), notifier: n,
		published: func(*testing.T, int) []babysitter.Notification { return n.Published() }}
}

func newHarness(t testing.TB, store babysitter.Store, queue babysitter.Queue, source babysitter.Source, ev ...evidence) *harness {
	logs := &testlog.Buffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	e := memoryEvidence(t, clock)
	if len(ev) > 0 {
		e = ev[0]
	}
	svc := babysitter.New(store, queue, babysitter.Options{Logger: log, Now: clock, Blobs: e.blobs, PublicBaseURL: e.publicBase})
	h := &harness{
		t:          t,
		svc:        svc,
		blobs:      e.blobs,
		blobClient: e.client,
		notifier:   e.notifier,
		published:  e.published,
		router:     appsync.NewRouter(svc, appsync.Options{Logger: log, Now: clock}),
		decline:    sqsevent.Handler(babysitter.NewDecliner(store, babysitter.DeclinerOptions{Logger: log, Now: clock, Notifier: e.notifier}).HandleBatch, log),
		source:     source,
		logs:       logs,
		now:        now,
		schema:     loadSchema(t),
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("handler logs:\n%s", logs.String())
		}
	})
	return h
}

func (h *harness) lambdaContext() context.Context {
	h.invokes++
	return lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{
		AwsRequestID:       "lambda-req-" + strconv.Itoa(h.invokes),
		InvokedFunctionArn: "arn:aws:lambda:eu-central-1:123456789012:function:babysitter-resolver",
	})
}

// result is what AppSync gets back from one invocation.
type result struct {
	Data      any
	ErrorType string
	Message   string
}

func (r result) obj(t testing.TB) obj {
	t.Helper()
	if r.ErrorType != "" {
		t.Fatalf("want data, got %s: %s", r.ErrorType, r.Message)
	}
	o, ok := r.Data.(obj)
	if !ok {
		t.Fatalf("want an object, got %#v", r.Data)
	}
	return o
}

// invoke sends one event (or a batch) through the Lambda handler.
func (h *harness) invoke(event any) result {
	h.t.Helper()
	payload, err := json.Marshal(event)
	if err != nil {
		h.t.Fatal(err)
	}
	out, err := h.router.Handle(h.lambdaContext(), payload)
	if err != nil {
		var ie messages.InvokeResponse_Error
		if !errors.As(err, &ie) {
			h.t.Fatalf("handler returned %T %v, want a messages.InvokeResponse_Error", err, err)
		}
		if ie.Type == "" || ie.Message == "" {
			h.t.Fatalf("error without type or message: %#v", ie)
		}
		return result{ErrorType: ie.Type, Message: ie.Message}
	}
	b, err := json.Marshal(out)
	if err != nil {
		h.t.Fatal(err)
	}
	var data any
	if err := json.Unmarshal(b, &data); err != nil {
		h.t.Fatal(err)
	}
	return result{Data: data}
}

// must invokes and fails the test on a GraphQL error, or on a result that
// does not have the shape of the field's type in schema.graphql.
func (h *harness) must(event any) obj {
	h.t.Helper()
	o := h.invoke(event).obj(h.t)
	if ev, ok := event.(obj); ok {
		if info, ok := ev["info"].(obj); ok {
			parent, field := str(info["parentTypeName"]), str(info["fieldName"])
			if def := h.schema.Types[parent]; def != nil && def.Fields.ForName(field) != nil {
				checkShape(h.t, h.schema, def.Fields.ForName(field).Type, o, parent+"."+field)
			}
		}
	}
	return o
}

// checkShape checks a resolver's result against a schema type: every key
// is a field of the type, every non-null field is present and not null,
// scalars and enums have their JSON kind. AppSync would drop unknown keys
// and fail on a null non-null field; this finds both before deployment.
func checkShape(t testing.TB, s *ast.Schema, typ *ast.Type, v any, path string) {
	t.Helper()
	if v == nil {
		if typ.NonNull {
			t.Errorf("%s: null for the non-null %s", path, typ)
		}
		return
	}
	if typ.Elem != nil {
		list, ok := v.([]any)
		if !ok {
			t.Errorf("%s: %T for the list %s", path, v, typ)
			return
		}
		for i, e := range list {
			checkShape(t, s, typ.Elem, e, fmt.Sprintf("%s[%d]", path, i))
		}
		return
	}
	def := s.Types[typ.NamedType]
	if def == nil {
		t.Errorf("%s: unknown type %s", path, typ.NamedType)
		return
	}
	switch def.Kind {
	case ast.Object:
		o, ok := v.(obj)
		if !ok {
			t.Errorf("%s: %T for the object %s", path, v, def.Name)
			return
		}
		for k := range o {
			if def.Fields.ForName(k) == nil {
				t.Errorf("%s: key %q is not a field of %s", path, k, def.Name)
			}
		}
		for _, f := range def.Fields {
			if val, ok := o[f.Name]; ok {
				checkShape(t, s, f.Type, val, path+"."+f.Name)
			} else if f.Type.NonNull {
				t.Errorf("%s: lacks the non-null field %s.%s", path, def.Name, f.Name)
			}
		}
	case ast.Enum:
		if sv, ok := v.(string); !ok || def.EnumValues.ForName(sv) == nil {
			t.Errorf("%s: %v is not a value of %s", path, v, def.Name)
		}
	case ast.Scalar:
		var ok bool
		switch def.Name {
		case "Int":
			f, isNum := v.(float64)
			ok = isNum && f == math.Trunc(f) && math.Abs(f) <= math.MaxInt32
		case "AWSTimestamp": // seconds, a JSON number
			f, isNum := v.(float64)
			ok = isNum && f == math.Trunc(f)
		case "Float":
			_, ok = v.(float64)
		case "Boolean":
			_, ok = v.(bool)
		default: // String, ID and AppSync's string scalars
			_, ok = v.(string)
		}
		if !ok {
			t.Errorf("%s: %v (%T) is not a %s", path, v, v, def.Name)
		}
	default:
		t.Errorf("%s: %s is a %s, not an output type", path, def.Name, def.Kind)
	}
}

// wantError invokes and checks the errorType.
func (h *harness) wantError(event any, errorType string) result {
	h.t.Helper()
	r := h.invoke(event)
	if r.ErrorType != errorType {
		h.t.Fatalf("%s: errorType %q (%s), want %q", describe(event), r.ErrorType, r.Message, errorType)
	}
	return r
}

func describe(event any) string {
	if ev, ok := event.(obj); ok {
		if info, ok := ev["info"].(obj); ok {
			return info["parentTypeName"].(string) + "." + info["fieldName"].(string)
		}
	}
	return "event"
}

// fixture loads testdata/name as generic JSON.
func fixture(t testing.TB, name string) any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return v
}

func clone(v any) any {
	b, _ := json.Marshal(v)
	var c any
	_ = json.Unmarshal(b, &c)
	return c
}

// events builds resolver events from the checked-in fixtures.
type eventKit struct {
	cognito obj // identity.groups shape
	claims  obj // claims-only shape
	apiKey  obj // identity null
}

func newEventKit(t testing.TB) eventKit {
	return eventKit{
		cognito: fixture(t, "appsync-cognito-groups.json").(obj),
		claims:  fixture(t, "appsync-cognito-claims-only.json").(obj),
		apiKey:  fixture(t, "appsync-apikey.json").(obj),
	}
}

// subOf is the sub of username's Cognito user: one user has one sub in
// every token (the account is bound to it), so the users of the fixtures
// keep the fixtures' subs.
func (k eventKit) subOf(username string) string {
	for _, ev := range []obj{k.cognito, k.claims} {
		claims := ev["identity"].(obj)["claims"].(obj)
		if claims["cognito:username"] == username {
			return claims["sub"].(string)
		}
	}
	return "sub-" + username
}

// as returns a Cognito event of user (with its groups in identity.groups
// and in the claims) for parent.field with args.
func (k eventKit) as(username string, groups []string, parent, field string, args obj) obj {
	ev := clone(k.cognito).(obj)
	id := ev["identity"].(obj)
	claims := id["claims"].(obj)
	id["sub"], claims["sub"] = k.subOf(username), k.subOf(username)
	id["username"] = username
	gs := make([]any, len(groups))
	for i, g := range groups {
		gs[i] = g
	}
	id["groups"] = gs
	claims["cognito:username"] = username
	claims["cognito:groups"] = gs
	return withField(ev, parent, field, args)
}

// asClaimsOnly is as, but with the identity a simulator sends: only claims.
func (k eventKit) asClaimsOnly(username string, groups []string, parent, field string, args obj) obj {
	ev := clone(k.claims).(obj)
	claims := ev["identity"].(obj)["claims"].(obj)
	claims["sub"] = k.subOf(username)
	claims["cognito:username"] = username
	gs := make([]any, len(groups))
	for i, g := range groups {
		gs[i] = g
	}
	claims["cognito:groups"] = gs
	return withField(ev, parent, field, args)
}

// anonymous is an API-key event.
func (k eventKit) anonymous(parent, field string, args obj) obj {
	return withField(clone(k.apiKey).(obj), parent, field, args)
}

func withField(ev obj, parent, field string, args obj) obj {
	info := ev["info"].(obj)
	info["parentTypeName"] = parent
	info["fieldName"] = field
	if args == nil {
		args = obj{}
	}
	ev["arguments"] = args
	return ev
}

// drain receives every message of the harness's source, hands them to the
// decline Lambda as a real-shaped SQS event (JSON round trip included) and
// deletes the ones not reported failed, as Lambda's event source mapping
// does. It returns the failed message IDs of all batches.
func (h *harness) drain(ctx context.Context) (handled int, failed []string) {
	h.t.Helper()
	for range 50 {
		msgs, err := h.source.Receive(ctx, 10)
		if err != nil {
			h.t.Fatalf("receive: %v", err)
		}
		if len(msgs) == 0 {
			return handled, failed
		}
		handled += len(msgs)
		resp := h.sqsInvoke(sqsEvent(msgs))
		bad := map[string]bool{}
		for _, f := range resp.BatchItemFailures {
			bad[f.ItemIdentifier] = true
			failed = append(failed, f.ItemIdentifier)
		}
		var done []babysitter.Message
		for _, m := range msgs {
			if !bad[m.ID] {
				done = append(done, m)
			}
		}
		if len(done) > 0 {
			if err := h.source.Delete(ctx, done); err != nil {
				h.t.Fatalf("delete: %v", err)
			}
		}
		if len(bad) > 0 {
			return handled, failed
		}
	}
	h.t.Fatal("queue did not drain")
	return handled, failed
}

// sqsInvoke sends an SQS event through the decline Lambda handler as JSON.
func (h *harness) sqsInvoke(ev events.SQSEvent) events.SQSEventResponse {
	h.t.Helper()
	b, err := json.Marshal(ev)
	if err != nil {
		h.t.Fatal(err)
	}
	var in events.SQSEvent
	if err := json.Unmarshal(b, &in); err != nil {
		h.t.Fatal(err)
	}
	resp, err := h.decline(h.lambdaContext(), in)
	if err != nil {
		h.t.Fatalf("decline handler: %v", err)
	}
	b, err = json.Marshal(resp)
	if err != nil {
		h.t.Fatal(err)
	}
	var out events.SQSEventResponse
	if err := json.Unmarshal(b, &out); err != nil {
		h.t.Fatal(err)
	}
	if !strings.Contains(string(b), `"batchItemFailures"`) {
		h.t.Fatalf("response %s lacks batchItemFailures", b)
	}
	return out
}

// sqsEvent builds the event Lambda's SQS poller would deliver for msgs.
func sqsEvent(msgs []babysitter.Message) events.SQSEvent {
	ev := events.SQSEvent{Records: make([]events.SQSMessage, len(msgs))}
	for i, m := range msgs {
		attrs := map[string]events.SQSMessageAttribute{}
		for k, v := range m.Attributes {
			attrs[k] = events.SQSMessageAttribute{StringValue: &v, DataType: "String",
				StringListValues: []string{}, BinaryListValues: [][]byte{}}
		}
		ev.Records[i] = events.SQSMessage{
			MessageId:     m.ID,
			ReceiptHandle: m.ReceiptHandle,
			Body:          string(m.Body),
			Attributes: map[string]string{
				"ApproximateReceiveCount":          strconv.Itoa(m.ReceiveCount),
				"SentTimestamp":                    "1761800200000",
				"SenderId":                         "AROAEXAMPLEID:babysitter-resolver",
				"ApproximateFirstReceiveTimestamp": "1761800200150",
			},
			MessageAttributes: attrs,
			EventSource:       "aws:sqs",
			EventSourceARN:    "arn:aws:sqs:eu-central-1:123456789012:babysitter-DeclineQueue",
			AWSRegion:         "eu-central-1",
		}
	}
	return ev
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func get(o obj, path ...string) any {
	var v any = o
	for _, p := range path {
		m, ok := v.(obj)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

// verify has username (in groups) upload an identity document through
// requestUpload, a presigned PUT and confirmUpload; an admin reads it
// (getDocument, then the presigned GET) and verifies the account on it.
// It returns the document's upload ID.
func (h *harness) verify(k eventKit, username string, groups []string) string {
	h.t.Helper()
	card := []byte("%PDF-1.7 identity card of " + username)
	ticket := h.must(k.as(username, groups, "Mutation", "requestUpload", obj{"username": username,
		"upload": obj{"kind": "document", "contentType": "application/pdf", "contentLength": len(card)}}))
	id := str(get(ticket, "upload", "uploadId"))
	h.send(ticket["request"].(obj), card)
	u := h.must(k.as(username, groups, "Mutation", "confirmUpload", obj{"username": username, "uploadId": id}))
	if docs, _ := u["documents"].([]any); len(docs) != 1 || get(docs[0].(obj), "uploadId") != id {
		h.t.Fatalf("confirmUpload %s: documents %v", username, u["documents"])
	}
	pr := h.must(k.as("root", adminGroups, "Query", "getDocument", obj{"username": username, "uploadId": id}))
	if got := h.send(pr, nil); string(got) != string(card) {
		h.t.Fatalf("the admin's GET of %s's document: %q", username, got)
	}
	v := h.must(k.as("root", adminGroups, "Mutation", "updateUserStatus", obj{"username": username, "status": "VERIFIED", "uploadId": id}))
	if v["status"] != "VERIFIED" || get(v, "verification", "uploadId") != id || get(v, "verification", "by") != "root" {
		h.t.Fatalf("updateUserStatus %s: %v", username, v)
	}
	return id
}

// send sends a presigned request as GraphQL returned it (its headers a
// list of name/value pairs) with a plain HTTP client, and returns the
// body of its 200.
func (h *harness) send(pr obj, body []byte) []byte {
	h.t.Helper()
	req := babysitter.PresignedRequest{Method: str(pr["method"]), URL: str(pr["url"]), Headers: map[string]string{}}
	for _, hd := range pr["headers"].([]any) {
		req.Headers[str(hd.(obj)["name"])] = str(hd.(obj)["value"])
	}
	resp, err := blobtest.Do(context.Background(), h.blobClient, req, body)
	if err != nil || resp.Status != http.StatusOK {
		h.t.Fatalf("%s %s: %d %s, %v", req.Method, req.URL, resp.Status, resp.Body, err)
	}
	return resp.Body
}
