package appsync

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/babysitter-go/babysitter"
	qmemory "github.com/babysitter-go/babysitter/queue/memory"
	smemory "github.com/babysitter-go/babysitter/store/memory"
)

// fakeRuntimeAPI is the Lambda Runtime API as a custom runtime (our
// bootstrap) sees it: it hands out invocations on /next and records what
// the runtime posts back to /response and /error.
type fakeRuntimeAPI struct {
	mu       sync.Mutex
	pending  []string
	replies  map[string]reply
	answered chan string
}

type reply struct {
	kind string // "response" or "error"
	body string
}

func (f *fakeRuntimeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	const prefix = "/2018-06-01/runtime/invocation/"
	path := strings.TrimPrefix(r.URL.Path, prefix)
	if r.Method == http.MethodGet && path == "next" {
		f.mu.Lock()
		if len(f.pending) == 0 {
			f.mu.Unlock()
			// No more invocations: hold the runtime here for the rest of
			// the test binary, as Lambda freezes an idle environment.
			select {}
		}
		id := strconv.Itoa(len(f.replies) + 100)
		payload := f.pending[0]
		f.pending = f.pending[1:]
		f.replies[id] = reply{}
		f.mu.Unlock()
		w.Header().Set("Lambda-Runtime-Aws-Request-Id", id)
		w.Header().Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(time.Now().Add(time.Minute).UnixMilli(), 10))
		w.Header().Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:eu-central-1:123456789012:function:resolver")
		_, _ = io.WriteString(w, payload)
		return
	}
	id, kind, ok := strings.Cut(path, "/")
	if r.Method != http.MethodPost || !ok {
		http.Error(w, "unexpected "+r.Method+" "+r.URL.Path, http.StatusNotFound)
		return
	}
	body, _ := io.ReadAll(r.Body)
	rep := reply{kind: kind, body: string(body)}
	f.mu.Lock()
	f.replies[id] = rep
	f.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
	f.answered <- id
}

// The real aws-lambda-go runtime loop, against a fake Runtime API: a
// failed field is reported as a function error whose errorType is ours
// (not the Go type name), which is what AppSync turns into the GraphQL
// error's errorType; a batch is a successful response with per-item errors.
func TestLambdaWireFormat(t *testing.T) {
	store := smemory.New()
	svc := babysitter.New(store, qmemory.New(qmemory.Options{}), babysitter.Options{Logger: slog.New(slog.DiscardHandler)})
	router := NewRouter(svc, Options{Logger: slog.New(slog.DiscardHandler)})

	notFound := `{"arguments":{"username":"nobody"},"identity":null,"source":null,"request":{"headers":{"x-amzn-requestid":"r1"},"domainName":null},"prev":null,"info":{"fieldName":"getUser","parentTypeName":"Query","selectionSetList":["username"],"variables":{}},"stash":{}}`
	invalid := strings.Replace(notFound, `"nobody"`, `"NO"`, 1)
	batch := "[" + notFound + "," + invalid + "]"
	api := &fakeRuntimeAPI{pending: []string{notFound, invalid, batch}, replies: map[string]reply{}, answered: make(chan string, 3)}
	srv := httptest.NewServer(api) // not closed: the runtime stays blocked on /next
	t.Setenv("AWS_LAMBDA_RUNTIME_API", strings.TrimPrefix(srv.URL, "http://"))
	go lambda.Start(lambda.NewHandler(router.Handle))

	got := map[string]reply{}
	for range 3 {
		select {
		case id := <-api.answered:
			api.mu.Lock()
			got[id] = api.replies[id]
			api.mu.Unlock()
		case <-time.After(10 * time.Second):
			t.Fatal("the runtime did not answer")
		}
	}
	checkError := func(r reply, wantType string) {
		t.Helper()
		if r.kind != "error" {
			t.Fatalf("want a function error, got %s %s", r.kind, r.body)
		}
		var body struct {
			ErrorType    string `json:"errorType"`
			ErrorMessage string `json:"errorMessage"`
		}
		if err := json.Unmarshal([]byte(r.body), &body); err != nil {
			t.Fatalf("error body %q: %v", r.body, err)
		}
		if body.ErrorType != wantType || body.ErrorMessage == "" {
			t.Fatalf("error body %s, want errorType %s", r.body, wantType)
		}
	}
	checkError(got["100"], TypeNotFound)
	checkError(got["101"], TypeInvalidInput)
	b := got["102"]
	var items []BatchItem
	if b.kind != "response" || json.Unmarshal([]byte(b.body), &items) != nil || len(items) != 2 {
		t.Fatalf("batch: %s %s", b.kind, b.body)
	}
	if items[0].ErrorType != TypeNotFound || items[1].ErrorType != TypeInvalidInput || items[0].Data != nil {
		t.Fatalf("batch items: %+v", items)
	}
}
