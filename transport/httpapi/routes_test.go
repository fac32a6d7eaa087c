package httpapi

import (
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestOpenAPIMatchesRoutes keeps openapi.yaml and the route table in
// step: the same method and path pairs, security optional exactly on the
// routes that take an optional token, and the same query parameters.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	c, err := contract()
	if err != nil {
		t.Fatal(err)
	}
	type routeDoc struct {
		optionalToken bool
		query         []string
	}
	documented := map[string]routeDoc{}
	for path, item := range c.doc.Paths.Map() {
		for method, op := range item.Operations() {
			d := routeDoc{}
			security := c.doc.Security
			if op.Security != nil {
				security = *op.Security
			}
			for _, req := range security {
				if len(req) == 0 {
					d.optionalToken = true
				}
			}
			if len(security) == 0 {
				d.optionalToken = true // public: no token asked
			}
			for _, p := range append(item.Parameters, op.Parameters...) {
				if p.Value.In == "query" {
					d.query = append(d.query, p.Value.Name)
				}
			}
			slices.Sort(d.query)
			documented[method+" "+path] = d
		}
	}
	routed := map[string]routeDoc{}
	h := &Handler{}
	for _, r := range h.apiRoutes() {
		if _, dup := routed[r.pattern]; dup {
			t.Errorf("%s is routed twice", r.pattern)
		}
		q := slices.Clone(r.query)
		slices.Sort(q)
		routed[r.pattern] = routeDoc{optionalToken: r.required == tokenOptional, query: q}
	}
	for pattern := range h.publicRoutes() {
		q := []string(nil)
		if pattern == "GET /healthz" {
			q = []string{"ready"}
		}
		routed[pattern] = routeDoc{optionalToken: true, query: q}
	}
	if diff := cmp.Diff(documented, routed, cmp.AllowUnexported(routeDoc{})); diff != "" {
		t.Errorf("openapi.yaml (-) and the route table (+) differ:\n%s", diff)
	}
	if len(documented) != 27 {
		t.Errorf("%d documented routes, want the 24 API routes, two probes and the document: %v", len(documented), slices.Sorted(maps.Keys(documented)))
	}
}

// TestOpenAPIServed: the document is served as it is in the repository.
func TestOpenAPIServed(t *testing.T) {
	rec := httptest.NewRecorder()
	New(nil, nil, Options{}).ServeHTTP(rec, httptest.NewRequest("GET", "/openapi.yaml", nil))
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/yaml" || rec.Body.String() != string(OpenAPI()) {
		t.Fatalf("GET /openapi.yaml: %d %q, %d bytes", rec.Code, rec.Header().Get("Content-Type"), rec.Body.Len())
	}
	if !strings.HasPrefix(rec.Body.String(), "openapi: 3.1.") {
		t.Errorf("not an OpenAPI 3.1 document: %.40q", rec.Body.String())
	}
}
