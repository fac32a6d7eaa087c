package babysitter_test

import (
	"bytes"
	"flag"
	"go/doc"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

//go:generate go test -run TestREADMEEmbedding -update .

var update = flag.Bool("update", false, "rewrite README.md's embedding block from "+embeddingExample)

// The README's "Embedding" section shows embeddingExample from its import
// declaration to its end, verbatim, between these two lines. The example
// runs (and checks its output) in every go test, so the README's code
// compiles and does what it says.
const (
	embeddingExample = "example_embedding_test.go"
	embeddingBegin   = "<!-- example_embedding_test.go from its imports on, verbatim: TestREADMEEmbedding checks it, go generate rewrites it -->\n```go\n"
	embeddingEnd     = "```\n<!-- end of example_embedding_test.go -->\n"
)

// TestREADMEEmbedding fails when README.md's embedding block and
// example_embedding_test.go differ; go generate (go test -run
// TestREADMEEmbedding -update) copies the example into the README.
func TestREADMEEmbedding(t *testing.T) {
	src, err := os.ReadFile(embeddingExample)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(src, []byte("\nimport ("))
	if i < 0 {
		t.Fatalf("%s has no import declaration", embeddingExample)
	}
	want := string(src[i+1:])

	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(readme), embeddingBegin); n != 1 {
		t.Fatalf("README.md has the line %q and the fence after it %d times, want once", strings.TrimSuffix(embeddingBegin, "\n```go\n"), n)
	}
	before, rest, _ := strings.Cut(string(readme), embeddingBegin)
	got, after, ok := strings.Cut(rest, embeddingEnd)
	if !ok {
		t.Fatalf("README.md's embedding block does not end with %q", embeddingEnd)
	}
	if *update {
		if err := os.WriteFile("README.md", []byte(before+embeddingBegin+want+embeddingEnd+after), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("README.md's embedding block is not %s (-example +README); run go generate . to copy the example:\n%s", embeddingExample, diff)
	}
}

// TestExamplesArePrograms checks that every example of the module is a
// complete program as pkg.go.dev shows it: go/doc can make it a main
// package (it names nothing from another file, and lives in an external
// _test package), so a reader can copy and run what they see.
func TestExamplesArePrograms(t *testing.T) {
	var files []string
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "node_modules" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(path, "_test.go") {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	found := map[string]bool{}
	for _, path := range files {
		f, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		for _, ex := range doc.Examples(f) {
			pkg := filepath.ToSlash(filepath.Dir(path))
			if pkg == "." {
				pkg = "babysitter"
			}
			name := pkg + ".Example" + ex.Name
			found[name] = true
			if !strings.HasSuffix(f.Name.Name, "_test") {
				t.Errorf("%s is in package %s: put examples in an external _test package", name, f.Name.Name)
			} else if ex.Play == nil {
				t.Errorf("%s (%s) is not a complete program: it uses a declaration of another file", name, path)
			}
		}
	}
	// The ones the README and the package documentation rely on.
	for _, name := range []string{
		"babysitter.Example_embedding", "babysitter.ExampleService_BookNanny", "babysitter.ExampleDecliner_Sweep",
		"store/dynamodb.ExampleNew", "store/dynamodb.ExampleCreateTable",
		"queue/sqs.ExampleNew", "queue/sqs.ExampleCreateQueue",
	} {
		if !found[name] {
			t.Errorf("no example %s among %d test files", name, len(files))
		}
	}
}
