package testenv

import (
	"go/build"
	"slices"
	"strings"
	"testing"
)

// TestDockerOnlyWithTag: the package's files import testcontainers-go and
// moby only under the docker build tag, so the default build of testenv,
// and of every test binary that imports it, neither compiles nor links
// them; with the tag, the Docker fallback is there.
func TestDockerOnlyWithTag(t *testing.T) {
	t.Parallel()
	docker := func(imports []string) []string {
		return slices.DeleteFunc(slices.Clone(imports), func(p string) bool {
			return !strings.HasPrefix(p, "github.com/testcontainers/") && !strings.HasPrefix(p, "github.com/moby/")
		})
	}
	for _, tc := range []struct {
		tags       []string
		wantDocker bool
	}{{nil, false}, {[]string{"docker"}, true}} {
		ctx := build.Default
		ctx.BuildTags = tc.tags
		pkg, err := ctx.ImportDir(".", 0)
		if err != nil {
			t.Fatalf("tags %v: %v", tc.tags, err)
		}
		if got := docker(pkg.Imports); (len(got) > 0) != tc.wantDocker {
			t.Errorf("tags %v: Docker imports %v, want some: %v", tc.tags, got, tc.wantDocker)
		}
	}
}
