//go:build !docker

package testenv

import (
	"errors"
	"strings"
	"testing"
)

// TestNoDockerSaysHow: without the docker tag, the fallback fails at once
// and says how to get it, rather than probing for an engine.
func TestNoDockerSaysHow(t *testing.T) {
	t.Parallel()
	err := dockerHealthy(t.Context())
	if !errors.Is(err, errDockerNotBuilt) || !strings.Contains(err.Error(), "-tags docker") {
		t.Errorf("dockerHealthy = %v, want errDockerNotBuilt naming -tags docker", err)
	}
	for name, start := range map[string]func() (string, error){
		"DynamoDB": func() (string, error) { return startDynamoDBContainer(t.Context()) },
		"fauxqs":   func() (string, error) { return startFauxqsContainer(t.Context()) },
	} {
		if endpoint, err := start(); endpoint != "" || !errors.Is(err, errDockerNotBuilt) {
			t.Errorf("%s container = %q, %v; want errDockerNotBuilt", name, endpoint, err)
		}
	}
}
