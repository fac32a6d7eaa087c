package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// The contract check: every request a test sends through a testEnv and
// every response it gets are validated against openapi.yaml by
// kin-openapi's openapi3filter (a validator this project did not write):
// parameters, bodies, security, status codes, headers and the problem
// bodies of errors. A request the contract refuses must be refused by the
// server too (a 4xx): the server may be stricter than the contract (the
// library's own checks), never more lenient.

// contract is openapi.yaml, loaded and routed once per test binary.
var contract = sync.OnceValues(func() (*contractDoc, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(OpenAPI())
	if err != nil {
		return nil, fmt.Errorf("load openapi.yaml: %w", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		return nil, fmt.Errorf("openapi.yaml is not a valid OpenAPI document: %w", err)
	}
	// The document's server is relative ("/"); the tests' servers listen
	// on loopback ports, so route on paths alone.
	doc.Servers = nil
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, err
	}
	return &contractDoc{doc: doc, router: router, seen: map[string]int{}}, nil
})

type contractDoc struct {
	doc    *openapi3.T
	router routers.Router
	mu     sync.Mutex
	// seen counts the validated responses per "METHOD /path STATUS",
	// the path as the document writes it.
	seen map[string]int
	// refused counts requests the contract refused (and the server too).
	refused int
}

// bearerPresent is the contract's security check: bearerAuth needs an
// Authorization: Bearer header; whether the token is good is the server's
// to say (401), not the document's.
func bearerPresent(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	if in.SecuritySchemeName != "bearerAuth" {
		return fmt.Errorf("unknown security scheme %q", in.SecuritySchemeName)
	}
	scheme, tok, ok := strings.Cut(in.RequestValidationInput.Request.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		return errors.New("no bearer token")
	}
	return nil
}

// checkContract validates one exchange: req, sent with body, answered r.
func checkContract(t testing.TB, req *http.Request, body []byte, r response) {
	t.Helper()
	c, err := contract()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	vreq := req.Clone(ctx)
	vreq.Body = io.NopCloser(bytes.NewReader(body))
	what := req.Method + " " + req.URL.RequestURI()

	route, params, err := c.router.FindRoute(vreq)
	if err != nil {
		// Not a route of the contract (an unknown path, another method):
		// the server must say so with a problem.
		if (r.status != http.StatusNotFound && r.status != http.StatusMethodNotAllowed) ||
			r.header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("contract: %s is no route of openapi.yaml (%v), but the server answered %d %s", what, err, r.status, r.body)
			return
		}
		if err := c.doc.Components.Schemas["Problem"].Value.VisitJSON(decodeAny(t, r.body)); err != nil {
			t.Errorf("contract: %s: the %d body is not a Problem: %v\n%s", what, r.status, err, r.body)
		}
		c.note(req.Method+" (no route) "+strconv.Itoa(r.status), false)
		return
	}
	in := &openapi3filter.RequestValidationInput{
		Request:    vreq,
		PathParams: params,
		Route:      route,
		Options:    &openapi3filter.Options{AuthenticationFunc: bearerPresent, MultiError: true},
	}
	reqErr := openapi3filter.ValidateRequest(ctx, in)
	if reqErr != nil && r.status < 400 {
		t.Errorf("contract: openapi.yaml refuses the request %s, but the server answered %d:\n%v", what, r.status, reqErr)
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 r.status,
		Header:                 r.header,
		Body:                   io.NopCloser(bytes.NewReader(r.body)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		t.Errorf("contract: the response %d to %s does not match openapi.yaml:\n%v\nbody: %s", r.status, what, err, r.body)
	}
	c.note(req.Method+" "+route.Path+" "+strconv.Itoa(r.status), reqErr != nil)
}

func (c *contractDoc) note(key string, refused bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seen[key]++
	if refused {
		c.refused++
	}
}

// documented lists the "METHOD /path STATUS" pairs the document names
// explicitly (not its default responses).
func (c *contractDoc) documented() []string {
	var out []string
	for path, item := range c.doc.Paths.Map() {
		for method, op := range item.Operations() {
			for status := range op.Responses.Map() {
				if status != "default" {
					out = append(out, method+" "+path+" "+status)
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

// report says how much of the contract the run exercised: the validated
// exchanges, the documented (route, status) pairs met, and those not met.
func (c *contractDoc) report() (string, []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var total int
	for _, n := range c.seen {
		total += n
	}
	doc := c.documented()
	var met, missing []string
	for _, k := range doc {
		if c.seen[k] > 0 {
			met = append(met, k)
		} else {
			missing = append(missing, k)
		}
	}
	routes := map[string]bool{}
	for k := range c.seen {
		if f := strings.Fields(k); len(f) == 3 && f[1] != "(no" {
			routes[f[0]+" "+f[1]] = true
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "contract: %d requests and responses validated against openapi.yaml (%d requests refused by the contract and the server); "+
		"%d routes, %d distinct (route, status) pairs; %d of the %d documented (route, status) pairs exercised",
		total, c.refused, len(routes), len(c.seen), len(met), len(doc))
	var others []string
	for k := range c.seen {
		if !slices.Contains(doc, k) {
			others = append(others, k)
		}
	}
	slices.Sort(others)
	fmt.Fprintf(&b, "; also validated (as default responses, or outside every route): %s", strings.Join(others, ", "))
	if len(missing) > 0 {
		fmt.Fprintf(&b, "; not exercised: %s", strings.Join(missing, ", "))
	}
	return b.String(), missing
}

// TestMain prints the contract's coverage after a run of the whole
// package, and fails the run if a response the document names was never
// seen: the document claims nothing the tests do not show. (With -run a
// part of the tests says little about it, so nothing is checked then.)
func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if f := flag.Lookup("test.run"); code == 0 && f != nil && f.Value.String() == "" {
		c, err := contract()
		if err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		report, missing := c.report()
		fmt.Println(report)
		if len(missing) > 0 {
			fmt.Println("FAIL: openapi.yaml documents responses no test produced; add a test, or drop the response")
			code = 1
		}
	}
	os.Exit(code)
}

func decodeAny(t testing.TB, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decoding %s: %v", b, err)
	}
	return v
}
