package main

import (
	"go/parser"
	gotoken "go/token"
	"slices"
	"strings"
	"testing"
)

// TestRoutesDocumented keeps the package documentation's route list and
// the route table in step: the same method and path pairs (the list shows
// query parameters, which the table does not route on), and "no token
// needed" exactly on the routes that take an optional token.
func TestRoutesDocumented(t *testing.T) {
	f, err := parser.ParseFile(gotoken.NewFileSet(), "main.go", nil, parser.ParseComments|parser.PackageClauseOnly)
	if err != nil {
		t.Fatal(err)
	}
	doc := f.Doc.Text()
	_, section, ok := strings.Cut(doc, "# Routes\n")
	if !ok {
		t.Fatal("the package documentation has no # Routes section")
	}
	documented := map[string]bool{} // "METHOD /path" → no token needed
	for line := range strings.Lines(strings.TrimLeft(section, "\n")) {
		if !strings.HasPrefix(line, "\t") {
			break
		}
		fields := strings.Fields(line)
		if len(fields) < 2 {
			t.Fatalf("route line %q", line)
		}
		path, _, _ := strings.Cut(fields[1], "?")
		documented[fields[0]+" "+path] = documented[fields[0]+" "+path] || strings.Contains(line, "no token needed")
	}

	s := &server{}
	routed := map[string]bool{}
	for _, r := range s.apiRoutes() {
		if _, dup := routed[r.pattern]; dup {
			t.Errorf("%s is routed twice", r.pattern)
		}
		routed[r.pattern] = r.required == tokenOptional
	}
	for pattern := range s.healthRoutes() {
		routed[pattern] = false
	}

	var missing, extra []string
	for p, optional := range routed {
		doc, ok := documented[p]
		switch {
		case !ok:
			missing = append(missing, p)
		case doc != optional:
			t.Errorf("%s: the documentation says no token needed = %v, the route table %v", p, doc, optional)
		}
	}
	for p := range documented {
		if _, ok := routed[p]; !ok {
			extra = append(extra, p)
		}
	}
	slices.Sort(missing)
	slices.Sort(extra)
	if len(missing) > 0 {
		t.Errorf("routes missing from the package documentation: %v", missing)
	}
	if len(extra) > 0 {
		t.Errorf("documented routes that are not routed: %v", extra)
	}
}
