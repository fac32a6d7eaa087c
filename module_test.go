package babysitter_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestImportedByAnotherModule builds a module outside this repository —
// go.mod requiring this one through a replace directive to the working
// copy — whose program imports the root package, the memory backends and
// the HTTP API (transport/httpapi and its jwtauth), and runs it: the
// tutorial's booking story over HTTP (testdata/scratchmod). It fails if a
// package a user needs is internal or main, or if the story breaks for an
// importer. It needs the go command and the module cache or the Go module
// proxy (the scratch module's go.sum is this module's, so no checksum
// database is asked).
func TestImportedByAnotherModule(t *testing.T) {
	t.Parallel()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("this test builds another module and needs the go command: %v", err)
	}
	root, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir() // outside the repository
	src, err := os.ReadFile(filepath.Join("testdata", "scratchmod", "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	sum, err := os.ReadFile("go.sum")
	if err != nil {
		t.Fatal(err)
	}
	goMod := "module example.com/scratch\n\ngo 1.26\n\n" +
		"require github.com/babysitter-go/babysitter v0.0.0\n\n" +
		"replace github.com/babysitter-go/babysitter => " + root + "\n"
	for name, b := range map[string][]byte{"go.mod": []byte(goMod), "go.sum": sum, "main.go": src} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.CommandContext(ctx, goTool, args...)
		cmd.Dir = dir
		// Only this module: no workspace, no vendoring, no flags of the
		// caller's go test.
		cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go %s in %s: %v\n%s", strings.Join(args, " "), dir, err, out)
		}
		return string(out)
	}
	run("mod", "tidy")
	if out := run("run", "."); !strings.Contains(out, "booking story: bob booked, carol declined") {
		t.Fatalf("the scratch module's story: %s", out)
	}
}
