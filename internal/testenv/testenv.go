package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// Environment variables that point tests at running servers. They are the
// AWS SDKs' own service-specific endpoint variables, so the same setting also
// works for the AWS CLI and for code that loads the default AWS config.
const (
	EnvDynamoDBEndpoint = "AWS_ENDPOINT_URL_DYNAMODB"
	EnvSQSEndpoint      = "AWS_ENDPOINT_URL_SQS"
)

// Region is the region every client from this package uses. The local
// servers accept any region; a fixed one keeps ARNs and queue URLs stable.
const Region = "us-east-1"

// AWSConfig returns the configuration for talking to local servers: region
// us-east-1 and static dummy credentials. It is built by hand rather than by
// config.LoadDefaultConfig so that nothing from the developer's machine —
// ~/.aws files, AWS_PROFILE, SSO, EC2 instance metadata — is read, used, or
// waited on, and real credentials can never reach a test server.
func AWSConfig() aws.Config {
	return aws.Config{
		Region: Region,
		// DynamoDB Local accepts only letters and digits in the access key.
		Credentials: credentials.NewStaticCredentialsProvider("testenv", "testenv", ""),
	}
}

// DynamoDBEndpoint returns the endpoint URL of a DynamoDB-compatible server
// for t, starting one if needed (see the package documentation for the
// order). If none can be had it skips t, or fails it when CI=true. If
// AWS_ENDPOINT_URL_DYNAMODB is set but nothing listens there, t fails: a
// wrong setting must not pass for a missing server.
func DynamoDBEndpoint(t testing.TB) string {
	t.Helper()
	return dynamoDBServer.endpoint(t)
}

// SQSEndpoint is DynamoDBEndpoint for SQS, with AWS_ENDPOINT_URL_SQS and
// fauxqs.
func SQSEndpoint(t testing.TB) string {
	t.Helper()
	return sqsServer.endpoint(t)
}

// DynamoDBClient returns a DynamoDB client for DynamoDBEndpoint(t), with
// AWSConfig's region and credentials. optFns are applied after the endpoint
// is set, so a test can change retries or anything else.
func DynamoDBClient(t testing.TB, optFns ...func(*dynamodb.Options)) *dynamodb.Client {
	t.Helper()
	endpoint := DynamoDBEndpoint(t)
	setEndpoint := func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(endpoint) }
	return dynamodb.NewFromConfig(AWSConfig(), append([]func(*dynamodb.Options){setEndpoint}, optFns...)...)
}

// SQSClient returns an SQS client for SQSEndpoint(t), with AWSConfig's region
// and credentials. optFns are applied after the endpoint is set.
func SQSClient(t testing.TB, optFns ...func(*sqs.Options)) *sqs.Client {
	t.Helper()
	endpoint := SQSEndpoint(t)
	setEndpoint := func(o *sqs.Options) { o.BaseEndpoint = aws.String(endpoint) }
	return sqs.NewFromConfig(AWSConfig(), append([]func(*sqs.Options){setEndpoint}, optFns...)...)
}

// maxNameLen is SQS's 80-character limit on queue names less the 5 of
// ".fifo", so a caller can append that suffix. DynamoDB allows 255.
const maxNameLen = 75

var (
	nameSeq     atomic.Uint64
	invalidName = regexp.MustCompile(`[^A-Za-z0-9_-]+`)
)

// UniqueName returns a name that is valid both as a DynamoDB table name and
// as an SQS queue name ([A-Za-z0-9_-], at most 75 characters, leaving room
// to append ".fifo"), and unique per call: tests share one server, run in
// parallel and in several processes at once, and are re-run against servers
// that still hold the previous run's tables. It reads
// PREFIX-TESTNAME-RANDOM, with invalid characters replaced by '_' and the
// readable part cut to fit; the 12 random hex digits plus a per-process
// counter make it unique.
func UniqueName(t testing.TB, prefix string) string {
	t.Helper()
	var rnd [6]byte
	_, _ = rand.Read(rnd[:]) // crypto/rand.Read never returns an error
	suffix := hex.EncodeToString(rnd[:]) + strconv.FormatUint(nameSeq.Add(1), 36)

	var parts []string
	for _, s := range []string{prefix, t.Name()} {
		if s = strings.Trim(invalidName.ReplaceAllString(s, "_"), "_-"); s != "" {
			parts = append(parts, s)
		}
	}
	readable := strings.Join(parts, "-")
	if budget := maxNameLen - len(suffix) - 1; len(readable) > budget {
		readable = readable[:budget]
	}
	if readable == "" {
		return suffix
	}
	return readable + "-" + suffix
}

// server resolves, once per test binary, where one service's tests go.
type server struct {
	service string // for messages
	envVar  string
	howTo   string // how to make a server available, for skip/fail messages

	// startLocal starts the server from node_modules; localMissing says why
	// it cannot (nil if it can).
	localMissing func(moduleRoot string) error
	startLocal   func(ctx context.Context, moduleRoot string) (string, func() error, error)
	// startContainer starts it with testcontainers.
	startContainer func(ctx context.Context) (string, error)

	once     sync.Once
	resolved string
	err      error
	// broken means a server should have been available but failed to
	// start: the test fails even outside CI, since skipping would hide it.
	broken bool

	checked sync.Map // endpoint from the environment -> error from checking it
}

var dynamoDBServer = &server{
	service: "DynamoDB",
	envVar:  EnvDynamoDBEndpoint,
	howTo: "run `make test`; or run `npm ci` at the module root and install Java 17+ " +
		"(Debian: apt-get install openjdk-17-jre-headless); or set " + EnvDynamoDBEndpoint +
		" to a running DynamoDB Local; or start a Docker engine and build the tests with -tags docker",
	localMissing: func(root string) error {
		if _, err := dynamoDBLocalJar(root); err != nil {
			return err
		}
		if _, err := exec.LookPath("java"); err != nil {
			return errors.New("java not found on PATH")
		}
		return nil
	},
	startLocal:     StartDynamoDBLocal,
	startContainer: startDynamoDBContainer,
}

var sqsServer = &server{
	service: "SQS",
	envVar:  EnvSQSEndpoint,
	howTo: "run `make test`; or run `npm ci` at the module root (on Linux x64, or with Node.js >= 22.5 on PATH); " +
		"or set " + EnvSQSEndpoint + " to a running fauxqs; or start a Docker engine and build the tests with -tags docker",
	localMissing: func(root string) error {
		if _, err := os.Stat(filepath.Join(root, fauxqsPkg, "package.json")); err != nil {
			return fmt.Errorf("fauxqs is not installed under %s", root)
		}
		_, err := findNode(root)
		return err
	},
	startLocal:     StartFauxqs,
	startContainer: startFauxqsContainer,
}

func (s *server) endpoint(t testing.TB) string {
	t.Helper()
	if endpoint := os.Getenv(s.envVar); endpoint != "" {
		v, _ := s.checked.LoadOrStore(endpoint, &onceErr{})
		check := v.(*onceErr)
		check.once.Do(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			check.err = reachable(ctx, endpoint)
		})
		if check.err != nil {
			t.Fatalf("testenv: %s=%s is set, but no %s server answers there: %v", s.envVar, endpoint, s.service, check.err)
		}
		return endpoint
	}
	s.once.Do(s.resolve)
	switch {
	case s.err == nil:
		return s.resolved
	case s.broken:
		t.Fatalf("testenv: %s server failed to start: %v", s.service, s.err)
	default:
		unavailable(t, fmt.Sprintf("testenv: no %s server: %v.\nTo get one: %s.", s.service, s.err, s.howTo))
	}
	return ""
}

// resolve picks the local process, then Docker. The process or container it
// starts lives as long as the test binary: the local child is killed with
// it (see sysProcAttr) and testcontainers' reaper removes containers.
func (s *server) resolve() {
	ctx := context.Background()
	root, err := ModuleRoot()
	if err == nil {
		err = s.localMissing(root)
	}
	if err == nil {
		s.resolved, _, s.err = s.startLocal(ctx, root)
		s.broken = s.err != nil
		return
	}
	localErr := err

	if err := dockerHealthy(ctx); err != nil {
		s.err = fmt.Errorf("no local server (%v) and no Docker engine (%v)", localErr, err)
		return
	}
	s.resolved, s.err = s.startContainer(ctx)
	s.broken = s.err != nil
}

type onceErr struct {
	once sync.Once
	err  error
}

// unavailable skips t, or fails it when the CI environment variable says this
// is CI: there, a skipped integration test would be a green build that tested
// nothing.
func unavailable(t testing.TB, msg string) {
	t.Helper()
	if inCI() {
		t.Fatalf("%s\nCI is set, so this is a failure, not a skip.", msg)
		return
	}
	t.Skip(msg)
}

// inCI reports whether CI is set to a true value ("true", "1", ...), as CI
// systems do.
func inCI() bool {
	ci, err := strconv.ParseBool(os.Getenv("CI"))
	return err == nil && ci
}
