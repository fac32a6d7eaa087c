package dynamodb

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// jsonTag matches a json struct tag's name.
var jsonTag = regexp.MustCompile(`json:"([^",]+)`)

// TestJSONNamesNotStored proves that the stored names do not come from
// the API's JSON names: it copies the module, renames every json (and
// dynamodbav) tag of the root package's types, and runs TestGoldenItems
// and TestDecodeStoredItems in the copy. They must pass unchanged: a
// renamed API field renames no attribute. A test added to the copy checks
// that the renaming did reach the JSON of the stored types.
func TestJSONNamesNotStored(t *testing.T) {
	t.Parallel()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("this test builds a renamed copy of the module and needs the go command: %v", err)
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root: %v", err)
	}
	dst := t.TempDir()
	renamed := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			if rel != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "node_modules") {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if !d.Type().IsRegular() || strings.HasPrefix(d.Name(), ".") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if filepath.Dir(rel) == "." && strings.HasSuffix(rel, ".go") && !strings.HasSuffix(rel, "_test.go") {
			n := len(jsonTag.FindAll(b, -1))
			b = jsonTag.ReplaceAllFunc(b, func(m []byte) []byte {
				if bytes.HasSuffix(m, []byte(`"-`)) {
					return m
				}
				return bytes.Replace(m, []byte(`json:"`), []byte(`json:"api_`), 1)
			})
			b = bytes.ReplaceAll(b, []byte(`dynamodbav:"`), []byte(`dynamodbav:"api_`))
			renamed += n
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	if renamed < 50 {
		t.Fatalf("renamed %d json tags in the root package, want all of them (dozens)", renamed)
	}
	check := `package dynamodb

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestRenamedJSON(t *testing.T) {
	for _, v := range []any{fullUser(), fullJob(), fullApplication(), fullReview()} {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), "\"api_id\"") || strings.Contains(string(b), "\"id\"") {
			t.Errorf("%T's JSON names are not renamed: %s", v, b)
		}
	}
}
`
	if err := os.WriteFile(filepath.Join(dst, "store", "dynamodb", "renamed_test.go"), []byte(check), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), goTool, "test", "-count=1", "-v",
		"-run", "^(TestRenamedJSON|TestGoldenItems|TestDecodeStoredItems)$", "./store/dynamodb/")
	cmd.Dir = dst
	cmd.Env = append(os.Environ(), "GOWORK=off")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("in the copy with renamed json tags: %v\n%s", err, out)
	}
	for _, name := range []string{"TestRenamedJSON", "TestGoldenItems", "TestDecodeStoredItems"} {
		if !bytes.Contains(out, []byte("--- PASS: "+name+" ")) {
			t.Errorf("%s did not pass in the copy:\n%s", name, out)
		}
	}
}
