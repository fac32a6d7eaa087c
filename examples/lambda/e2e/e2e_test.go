package e2e_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsdynamodb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/babysitter-go/babysitter"
	"github.com/babysitter-go/babysitter/blob/blobtest"
	s3blobs "github.com/babysitter-go/babysitter/blob/s3"
	"github.com/babysitter-go/babysitter/examples/lambda/e2e/internal/local"
	"github.com/babysitter-go/babysitter/internal/otlptest"
	"github.com/babysitter-go/babysitter/internal/testenv"
	"github.com/babysitter-go/babysitter/queue/sqs"
	"github.com/babysitter-go/babysitter/store/dynamodb"
)

// stack is everything the tests drive, started once per test binary and
// stopped by TestMain: one table and one queue, the resolver and the
// declines function each under its own emulator, the simulator, and the
// OTLP receiver the functions export their telemetry to.
type stack struct {
	tools  local.Tools
	dir    string // the built bootstraps
	ddb    *awsdynamodb.Client
	sqs    *awssqs.Client
	s3     *awss3.Client
	bucket string // the identity documents and pictures (fauxqs's S3)
	topic  string // the notifications (fauxqs's SNS)
	// subscriber is an SQS queue subscribed to the topic, filtering on
	// the type attribute: what an email sender would read.
	subscriber *testenv.Subscription
	store      *dynamodb.Store // reads DynamoDB directly, not through a function
	table      string
	queueURL   string
	queueARN   string
	resolver   *local.Function
	declines   *local.Function
	sim        *local.Simulator
	client     *local.GraphQL
	otlp       *otlptest.Receiver
}

var (
	setupOnce sync.Once
	shared    *stack
	setupErr  error
	stoppers  []func()
)

func TestMain(m *testing.M) {
	code := m.Run()
	for i := len(stoppers) - 1; i >= 0; i-- {
		stoppers[i]()
	}
	os.Exit(code)
}

// inCI reports whether CI is set to a true value, as testenv reads it.
func inCI() bool {
	ci, err := strconv.ParseBool(os.Getenv("CI"))
	return err == nil && ci
}

// tools finds the emulator and the simulator, or skips t (fails it when
// CI=true) with how to install them.
func tools(t *testing.T) local.Tools {
	t.Helper()
	root, err := testenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	tl, err := local.FindTools(root)
	if err != nil {
		if inCI() {
			t.Fatalf("%v\nCI is set, so this is a failure, not a skip.", err)
		}
		t.Skipf("%v", err)
	}
	return tl
}

// setup returns the shared stack, starting it on first use.
func setup(t *testing.T) *stack {
	t.Helper()
	tl := tools(t)
	// testenv skips (or, in CI, fails) t itself when it has no server.
	ddb := testenv.DynamoDBClient(t)
	sqsClient := testenv.SQSClient(t)
	setupOnce.Do(func() {
		shared, setupErr = start(tl, ddb, sqsClient, t)
	})
	if setupErr != nil {
		t.Fatalf("e2e stack: %v", setupErr)
	}
	return shared
}

func start(tl local.Tools, ddb *awsdynamodb.Client, sqsClient *awssqs.Client, t *testing.T) (*stack, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	began := time.Now()
	dir, err := os.MkdirTemp("", "babysitter-e2e-")
	if err != nil {
		return nil, err
	}
	stoppers = append(stoppers, func() { _ = os.RemoveAll(dir) })
	s := &stack{tools: tl, dir: dir, ddb: ddb, sqs: sqsClient}

	// Build while the table and queue are created.
	type built struct {
		paths map[string]string
		err   error
	}
	builds := make(chan built, 1)
	go func() {
		paths, err := tl.Build(ctx, dir, "./examples/lambda/resolver", "./examples/lambda/declines", "./examples/lambda/e2e/testdata/crasher")
		builds <- built{paths, err}
	}()

	s.s3 = testenv.S3Client(t)
	s.bucket = testenv.BucketName(t, "e2e")
	if err := s3blobs.CreateBucket(ctx, s.s3, s.bucket); err != nil {
		return nil, err
	}
	snsClient := testenv.SNSClient(t)
	topic, err := snsClient.CreateTopic(ctx, &awssns.CreateTopicInput{Name: aws.String(testenv.UniqueName(t, "e2e-notifications"))})
	if err != nil {
		return nil, err
	}
	s.topic = aws.ToString(topic.TopicArn)
	// The stack outlives the test that starts it: its cleanup is TestMain's.
	s.subscriber = testenv.Subscribe(stackTB{t}, snsClient, sqsClient, s.topic, true, `{"type": ["booked", "bookingConfirmed", "declined", "jobCancelled"]}`)

	s.table = testenv.UniqueName(t, "e2e")
	if err := dynamodb.CreateTable(ctx, ddb, s.table); err != nil {
		return nil, err
	}
	s.store = dynamodb.New(ddb, s.table)
	s.queueURL, _, err = sqs.CreateQueue(ctx, sqsClient, testenv.UniqueName(t, "e2e-declines"), 30*time.Second, 5)
	if err != nil {
		return nil, err
	}
	if s.queueARN, err = local.QueueARN(ctx, sqsClient, s.queueURL); err != nil {
		return nil, err
	}
	b := <-builds
	if b.err != nil {
		return nil, b.err
	}
	bootstraps = b.paths
	tBuilt := time.Since(began)

	// The functions export their spans and metrics to a local OTLP
	// receiver, with the template's propagators (telemetry_test.go).
	if s.otlp, err = otlptest.Start(); err != nil {
		return nil, err
	}
	stoppers = append(stoppers, func() { _ = s.otlp.Close() })
	endpoints := map[string]string{
		testenv.EnvDynamoDBEndpoint:   testenv.DynamoDBEndpoint(t),
		testenv.EnvSQSEndpoint:        testenv.SQSEndpoint(t),
		testenv.EnvS3Endpoint:         testenv.S3Endpoint(t),
		testenv.EnvSNSEndpoint:        testenv.SNSEndpoint(t),
		"TABLE_NAME":                  s.table,
		"LOG_LEVEL":                   "debug",
		"OTEL_EXPORTER_OTLP_ENDPOINT": s.otlp.URL,
		"OTEL_PROPAGATORS":            "tracecontext,baggage,xray",
	}
	// The authorization matrix writes far faster than a person: no
	// per-caller write limit (transport/appsync tests it).
	resolverEnv := map[string]string{
		"QUEUE_URL":         s.queueURL,
		"WRITES_PER_MINUTE": "0",
		"BUCKET":            s.bucket,
		// fauxqs serves the bucket at <endpoint>/<bucket>/ (path style),
		// pictures without a signature, as the bucket policy on AWS.
		"PUBLIC_BASE_URL":   testenv.S3Endpoint(t) + "/" + s.bucket + "/",
		"S3_USE_PATH_STYLE": "true",
	}
	declinesEnv := map[string]string{"TOPIC_ARN": s.topic}
	for k, v := range endpoints {
		resolverEnv[k] = v
		declinesEnv[k] = v
	}
	s.resolver, err = local.StartFunction(ctx, tl.RIE, local.FunctionConfig{
		Name: "resolver", Bootstrap: b.paths["resolver"], Env: resolverEnv, Timeout: 10 * time.Second, LogLevel: "info",
	})
	if err != nil {
		return nil, err
	}
	stoppers = append(stoppers, s.resolver.Stop)
	s.declines, err = local.StartFunction(ctx, tl.RIE, local.FunctionConfig{
		Name: "declines", Bootstrap: b.paths["declines"], Env: declinesEnv, Timeout: 30 * time.Second, LogLevel: "info",
	})
	if err != nil {
		return nil, err
	}
	stoppers = append(stoppers, s.declines.Stop)

	// The simulator invokes the resolver through its gateway: the same
	// lock as the tests' direct invocations, and an exact count.
	gateway, err := s.resolver.Gateway()
	if err != nil {
		return nil, err
	}
	s.sim, err = tl.StartSimulator(ctx, local.SimulatorConfig{Schema: filepath.Join(tl.Root, local.Schema), LambdaURL: gateway})
	if err != nil {
		return nil, err
	}
	stoppers = append(stoppers, s.sim.Stop)
	s.client = &local.GraphQL{URL: s.sim.URL, APIKey: s.sim.APIKey}
	t.Logf("e2e stack up in %v (build %v): resolver RIE pid %d, declines RIE pid %d, simulator pid %d at %s",
		time.Since(began).Round(time.Millisecond), tBuilt.Round(time.Millisecond),
		s.resolver.PID(), s.declines.PID(), s.sim.PID(), s.sim.URL)
	return s, nil
}

// bootstraps are the built binaries by name (resolver, declines, crasher).
var bootstraps map[string]string

// logsOnFailure prints the functions' and the simulator's output if t
// fails.
func (s *stack) logsOnFailure(t *testing.T) {
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		t.Logf("resolver output:\n%s", tail(s.resolver.Output(), 60))
		t.Logf("declines output:\n%s", tail(s.declines.Output(), 30))
		t.Logf("simulator output:\n%s", tail(s.sim.Output(), 30))
	})
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// obj is a decoded JSON object.
type obj = map[string]any

// caller is who sends a GraphQL request: a token, or "" for the API key.
type caller struct {
	name   string
	groups []string
	token  string
}

func apiKey() caller { return caller{name: "(api key)"} }

func user(name string, groups ...string) caller {
	return caller{name: name, groups: groups, token: local.Token(name, groups...)}
}

// gql sends a request and returns the response.
func (s *stack) gql(t *testing.T, c caller, query string, vars obj) *local.Response {
	t.Helper()
	r, err := s.client.Do(context.Background(), c.token, query, vars)
	if err != nil {
		t.Fatalf("%s: %v", c.name, err)
	}
	return r
}

// must sends a request that must succeed and returns data.<field>.
func (s *stack) must(t *testing.T, c caller, field, query string, vars obj) obj {
	t.Helper()
	r := s.gql(t, c, query, vars)
	if len(r.Errors) > 0 {
		t.Fatalf("%s %s: errors %s", c.name, field, r.Raw)
	}
	var o obj
	if err := json.Unmarshal(r.Data[field], &o); err != nil || o == nil {
		t.Fatalf("%s %s: data.%s is %s (%v)", c.name, field, field, r.Data[field], err)
	}
	return o
}

// wantError sends a request that must fail with errorType and no data for
// the field, and returns the error's message.
func (s *stack) wantError(t *testing.T, c caller, field, errorType, query string, vars obj) string {
	t.Helper()
	r := s.gql(t, c, query, vars)
	if got := r.ErrorType(); got != errorType {
		t.Fatalf("%s %s: want errorType %s, got %q: %s", c.name, field, errorType, got, r.Raw)
	}
	if d := r.Data[field]; len(d) > 0 && string(d) != "null" {
		t.Fatalf("%s %s: failed with %s but data.%s is %s", c.name, field, errorType, field, d)
	}
	for _, e := range r.Errors {
		if e.ErrorType == errorType {
			if len(e.Path) == 0 || e.Path[0] != field {
				t.Fatalf("%s %s: error path %v", c.name, field, e.Path)
			}
			return e.Message
		}
	}
	return ""
}

// get walks a decoded JSON value along keys.
func get(v any, keys ...string) any {
	for _, k := range keys {
		o, ok := v.(obj)
		if !ok {
			return nil
		}
		v = o[k]
	}
	return v
}

func str(v any) string { s, _ := v.(string); return s }

// eventually retries check, which returns "" when satisfied: reads through
// a GSI may lag a write on DynamoDB.
func eventually(t *testing.T, check func() string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		msg := check()
		if msg == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(msg)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// invokeResolver calls the resolver under its emulator directly with a
// crafted AppSync event, bypassing the simulator, and returns the
// function's error type ("" on success).
func (s *stack) invokeResolver(t *testing.T, event obj) (json.RawMessage, string) {
	t.Helper()
	payload, err := json.Marshal(event)
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.resolver.Invoke(context.Background(), payload)
	var fe *local.FunctionError
	switch {
	case err == nil:
		return res, ""
	case errors.As(err, &fe):
		return nil, fe.Type
	default:
		t.Fatalf("invoke the resolver: %v", err)
	}
	return nil, ""
}

// appsyncEvent crafts the event AppSync sends a direct resolver, with the
// identity a real AppSync sends for a Cognito user pools caller (sub,
// username, groups and the claims) or null for an API key.
func appsyncEvent(c caller, parent, field string, args obj) obj {
	var identity any
	if c.token != "" {
		claims := obj{
			"sub": "local-" + c.name, "iss": local.Issuer, "cognito:username": c.name,
			"token_use": "id", "email": c.name + "@example.com",
		}
		if len(c.groups) > 0 {
			claims["cognito:groups"] = c.groups
		}
		identity = obj{
			"sub": "local-" + c.name, "issuer": local.Issuer, "username": c.name,
			"groups": c.groups, "claims": claims, "sourceIp": []string{"127.0.0.1"},
			"defaultAuthStrategy": "ALLOW",
		}
	}
	if args == nil {
		args = obj{}
	}
	return obj{
		"arguments": args,
		"identity":  identity,
		"source":    nil,
		"request": obj{"headers": obj{
			"content-type":     "application/json",
			"x-amzn-requestid": fmt.Sprintf("e2e-direct-%d", time.Now().UnixNano()),
		}, "domainName": nil},
		"info": obj{
			"fieldName": field, "parentTypeName": parent, "variables": obj{},
			"selectionSetList": []string{"__typename"}, "selectionSetGraphQL": "{ __typename }",
		},
		"prev":  nil,
		"stash": obj{},
	}
}

const (
	requestUploadQ = `mutation RequestUpload($u: String!, $in: RequestUploadInput!) {
		requestUpload(username: $u, upload: $in) { upload { uploadId kind contentType contentLength requestedOn } request { method url headers { name value } expires } } }`
	confirmUploadQ = `mutation ConfirmUpload($u: String!, $id: ID!) { confirmUpload(username: $u, uploadId: $id) {
		username profilePicUrl documents { uploadId kind contentType contentLength uploadedOn } } }`
	getDocumentQ = `query GetDocument($u: String!, $id: ID!) { getDocument(username: $u, uploadId: $id) { method url headers { name value } expires } }`
)

// upload has c request an upload of kind to their own account, sends its
// presigned PUT to fauxqs's S3 with a plain HTTP client, and returns the
// upload's ID (not confirmed).
func (s *stack) upload(t *testing.T, c caller, kind, contentType string, body []byte) string {
	t.Helper()
	ticket := s.must(t, c, "requestUpload", requestUploadQ, obj{"u": c.name, "in": obj{"kind": kind, "contentType": contentType, "contentLength": len(body)}})
	s.send(t, ticket["request"].(obj), body)
	return str(get(ticket, "upload", "uploadId"))
}

// send sends a presigned request as GraphQL returned it and returns the
// body of its 200.
func (s *stack) send(t *testing.T, pr obj, body []byte) []byte {
	t.Helper()
	req := babysitter.PresignedRequest{Method: str(pr["method"]), URL: str(pr["url"]), Headers: map[string]string{}}
	for _, h := range pr["headers"].([]any) {
		req.Headers[str(get(h, "name"))] = str(get(h, "value"))
	}
	resp, err := blobtest.Do(context.Background(), http.DefaultClient, req, body)
	if err != nil || resp.Status != http.StatusOK {
		t.Fatalf("%s %s: %d %s, %v", req.Method, req.URL, resp.Status, resp.Body, err)
	}
	return resp.Body
}

// verify has c upload an identity document, the admin read it
// (getDocument, then the presigned GET) and verify the account on it; it
// returns the document's upload ID.
func (s *stack) verify(t *testing.T, admin, c caller) string {
	t.Helper()
	card := []byte("%PDF-1.7 identity card of " + c.name)
	id := s.upload(t, c, "document", "application/pdf", card)
	u := s.must(t, c, "confirmUpload", confirmUploadQ, obj{"u": c.name, "id": id})
	if docs := u["documents"].([]any); len(docs) != 1 || get(docs[0], "uploadId") != id {
		t.Fatalf("confirmUpload %s: %v", c.name, u)
	}
	pr := s.must(t, admin, "getDocument", getDocumentQ, obj{"u": c.name, "id": id})
	if got := s.send(t, pr, nil); string(got) != string(card) {
		t.Fatalf("the admin's GET of %s's document: %q", c.name, got)
	}
	v := s.must(t, admin, "updateUserStatus", verifyQ, obj{"u": c.name, "s": "VERIFIED", "id": id})
	if v["status"] != "VERIFIED" || get(v, "verification", "uploadId") != id {
		t.Fatalf("verify %s: %v", c.name, v)
	}
	return id
}

// notifications receives from the subscriber until n distinct
// notifications about the job arrived, and then once more, and returns
// those about the job (deliveries about other tests' jobs are dropped).
func (s *stack) notifications(t *testing.T, jobID string, n int) []babysitter.Notification {
	t.Helper()
	var got []babysitter.Notification
	ids := map[string]bool{}
	receive := func() int {
		ds := s.subscriber.Receive(t)
		for _, d := range ds {
			if x := testenv.Notification(t, d); x.JobID == jobID {
				got = append(got, x)
				ids[x.ID] = true
			}
		}
		return len(ds)
	}
	for deadline := time.Now().Add(30 * time.Second); len(ids) < n; {
		if time.Now().After(deadline) {
			t.Fatalf("received %d of %d notifications about job %s in 30s", len(ids), n, jobID)
		}
		receive()
	}
	for receive() > 0 {
	}
	return got
}

// stackTB is the test that starts the stack, but for cleanups: those run
// when TestMain stops the stack, not when that test ends.
type stackTB struct{ testing.TB }

func (stackTB) Cleanup(f func()) { stoppers = append(stoppers, f) }
