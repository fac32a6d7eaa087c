//go:build !docker

package testenv

import (
	"context"
	"errors"
)

// errDockerNotBuilt is the Docker fallback's answer in the default build,
// which leaves testcontainers-go out (see docker.go, built with -tags
// docker).
var errDockerNotBuilt = errors.New("the Docker fallback is not built in: run the tests with -tags docker to start servers with testcontainers-go")

func dockerHealthy(context.Context) error { return errDockerNotBuilt }

func startDynamoDBContainer(context.Context) (string, error) { return "", errDockerNotBuilt }

func startFauxqsContainer(context.Context) (string, error) { return "", errDockerNotBuilt }
