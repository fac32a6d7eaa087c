package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/babysitter-go/babysitter/transport/httpapi"
	"github.com/babysitter-go/babysitter/transport/httpapi/jwtauth"
)

// defaultDevKey is the documented HS256 key of local development. It is
// public by design — anyone can mint tokens with it, admin ones included —
// so the server accepts it only where nobody else can reach it: on a
// loopback address with the in-memory backends (config.validate).
const defaultDevKey = "babysitter-local-development-key-not-for-production"

// config is everything the server and the token command are configured
// with. Every flag has an environment variable fallback so the same binary
// runs from a shell, a container or a systemd unit without a wrapper script.
type config struct {
	Addr string

	// AWS mode: DynamoDB table and SQS queue. Empty Table and QueueURL mean
	// the in-memory backends. Endpoints come from the SDK's own
	// AWS_ENDPOINT_URL_DYNAMODB / AWS_ENDPOINT_URL_SQS.
	Table       string
	QueueURL    string
	Region      string
	CreateTable bool
	CreateQueue bool

	// Identity documents, pictures and notifications: in AWS mode the S3
	// Bucket and the SNS TopicARN when given, else (and in memory mode)
	// blob/memory served under /blobs/ and notify/memory, which logs each
	// notification. PublicBaseURL is where the pictures are read (the
	// bucket's URL by default; with the in-memory blobs, their URL under
	// /blobs/ of the server).
	Bucket        string
	CreateBucket  bool
	PublicBaseURL string
	TopicARN      string
	CreateTopic   bool

	// Auth: HS256 with DevKey, unless both Cognito settings are given.
	DevKey            string
	CognitoUserPoolID string
	CognitoClientID   string
	// MaxTokenLifetime bounds a token's exp − iat, in both modes.
	MaxTokenLifetime time.Duration

	// WritesPerMinute and WriteBurst limit each caller's writes (POST,
	// PUT, PATCH, DELETE), keyed by username; 0 writes per minute turns
	// the limit off.
	WritesPerMinute float64
	WriteBurst      int

	// TrustTraceContext makes a request's traceparent the parent of its
	// server span. Off, the server span starts a trace of its own and
	// only links to it: the API is public, and a client must not choose
	// the trace (or force sampling) of the server's work. Turn it on
	// behind a proxy that sets the header itself.
	TrustTraceContext bool

	// VisibilityTimeout is the decline queue's visibility timeout: the
	// in-memory queue is created with it and the poller extends a slow
	// batch's visibility by it (it must match the SQS queue's setting).
	VisibilityTimeout time.Duration
	// SweepEvery is how often the sweeper looks for jobs whose declines
	// have been due for longer than SweepAfter — whose decline message was
	// lost — and declines them itself.
	SweepEvery, SweepAfter time.Duration
	// ShutdownTimeout bounds the graceful stop of the HTTP server.
	ShutdownTimeout time.Duration
	LogLevel        slog.Level
}

// awsMode reports whether the AWS backends were asked for.
func (c config) awsMode() bool { return c.Table != "" || c.QueueURL != "" }

// cognito reports whether tokens are verified against a Cognito user pool.
func (c config) cognito() bool { return c.CognitoUserPoolID != "" }

// cognitoRegion is the user pool's region. A pool ID reads
// "<region>_<id>", so it names its region whatever -region says; -region is
// the fallback for an ID without one.
func (c config) cognitoRegion() string {
	if region, _, ok := strings.Cut(c.CognitoUserPoolID, "_"); ok && region != "" {
		return region
	}
	return c.Region
}

// parseConfig reads the server's flags, falling back to the environment
// (getenv) for every flag not given; a flag wins over its variable. out
// receives usage and flag errors.
func parseConfig(args []string, getenv func(string) string, out io.Writer) (config, error) {
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	var c config
	fs := flag.NewFlagSet("babysitter-http", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprint(out, `Usage:
  go run ./examples/http [flags]                 serve the API
  go run ./examples/http token -user NAME -group GROUP [-ttl 24h]
                                                 print a development token

Without -table and -queue-url the server runs on in-memory backends.

Flags (environment variable in brackets):
`)
		fs.PrintDefaults()
	}
	fs.StringVar(&c.Addr, "addr", env("BABYSITTER_ADDR", "localhost:8080"), "listen `address` [BABYSITTER_ADDR]")
	fs.StringVar(&c.Table, "table", env("BABYSITTER_TABLE", ""), "DynamoDB table `name` [BABYSITTER_TABLE]")
	fs.StringVar(&c.QueueURL, "queue-url", env("BABYSITTER_QUEUE_URL", ""), "SQS decline queue `URL` [BABYSITTER_QUEUE_URL]")
	fs.StringVar(&c.Region, "region", env("AWS_REGION", ""), "AWS `region` [AWS_REGION]")
	createTable, err := strconv.ParseBool(env("BABYSITTER_CREATE_TABLE", "false"))
	if err != nil {
		return config{}, fmt.Errorf("BABYSITTER_CREATE_TABLE: %w", err)
	}
	fs.BoolVar(&c.CreateTable, "create-table", createTable, "create the DynamoDB table if missing; for local development [BABYSITTER_CREATE_TABLE]")
	createQueue, err := strconv.ParseBool(env("BABYSITTER_CREATE_QUEUE", "false"))
	if err != nil {
		return config{}, fmt.Errorf("BABYSITTER_CREATE_QUEUE: %w", err)
	}
	fs.BoolVar(&c.CreateQueue, "create-queue", createQueue,
		"create the SQS queue named by -queue-url's last path element, with a dead-letter queue, if missing; for local development [BABYSITTER_CREATE_QUEUE]")
	fs.StringVar(&c.Bucket, "bucket", env("BABYSITTER_BUCKET", ""),
		"S3 bucket `name` of the identity documents and pictures, with -table (default: in memory) [BABYSITTER_BUCKET]")
	createBucket, err := strconv.ParseBool(env("BABYSITTER_CREATE_BUCKET", "false"))
	if err != nil {
		return config{}, fmt.Errorf("BABYSITTER_CREATE_BUCKET: %w", err)
	}
	fs.BoolVar(&c.CreateBucket, "create-bucket", createBucket, "create the -bucket if missing; for local development [BABYSITTER_CREATE_BUCKET]")
	fs.StringVar(&c.PublicBaseURL, "public-base-url", env("BABYSITTER_PUBLIC_BASE_URL", ""),
		"`URL` the pictures are read at, ending in / (default: the bucket's, or /blobs/ of this server) [BABYSITTER_PUBLIC_BASE_URL]")
	fs.StringVar(&c.TopicARN, "topic-arn", env("BABYSITTER_TOPIC_ARN", ""),
		"SNS topic `ARN` the notifications are published to, with -table (default: the log) [BABYSITTER_TOPIC_ARN]")
	createTopic, err := strconv.ParseBool(env("BABYSITTER_CREATE_TOPIC", "false"))
	if err != nil {
		return config{}, fmt.Errorf("BABYSITTER_CREATE_TOPIC: %w", err)
	}
	fs.BoolVar(&c.CreateTopic, "create-topic", createTopic,
		"create the topic named by -topic-arn's last part if missing; for local development [BABYSITTER_CREATE_TOPIC]")
	fs.StringVar(&c.DevKey, "dev-key", env("BABYSITTER_DEV_KEY", defaultDevKey),
		"HS256 signing `key`, at least 32 bytes; the built-in one only on a loopback -addr with the in-memory backends [BABYSITTER_DEV_KEY]")
	fs.StringVar(&c.CognitoUserPoolID, "cognito-user-pool-id", env("BABYSITTER_COGNITO_USER_POOL_ID", ""),
		"verify RS256 tokens of this Cognito user pool `id` instead of HS256 [BABYSITTER_COGNITO_USER_POOL_ID]")
	fs.StringVar(&c.CognitoClientID, "cognito-client-id", env("BABYSITTER_COGNITO_CLIENT_ID", ""),
		"the Cognito app client `id` tokens must be issued to [BABYSITTER_COGNITO_CLIENT_ID]")
	if c.MaxTokenLifetime, err = durationEnv(getenv, "BABYSITTER_MAX_TOKEN_LIFETIME", jwtauth.DefaultMaxLifetime); err != nil {
		return config{}, err
	}
	fs.DurationVar(&c.MaxTokenLifetime, "max-token-lifetime", c.MaxTokenLifetime,
		"refuse tokens that live longer than this (exp − iat), at most 24h [BABYSITTER_MAX_TOKEN_LIFETIME]")
	writes, err := strconv.ParseFloat(env("BABYSITTER_WRITES_PER_MINUTE", strconv.Itoa(httpapi.DefaultWritesPerMinute)), 64)
	if err != nil {
		return config{}, fmt.Errorf("BABYSITTER_WRITES_PER_MINUTE: %w", err)
	}
	fs.Float64Var(&c.WritesPerMinute, "writes-per-minute", writes,
		"each caller's sustained `rate` of writes (POST, PUT, PATCH, DELETE); 0 turns the limit off [BABYSITTER_WRITES_PER_MINUTE]")
	burst, err := strconv.Atoi(env("BABYSITTER_WRITE_BURST", strconv.Itoa(httpapi.DefaultWriteBurst)))
	if err != nil {
		return config{}, fmt.Errorf("BABYSITTER_WRITE_BURST: %w", err)
	}
	fs.IntVar(&c.WriteBurst, "write-burst", burst, "how many writes a caller may send at once before the rate applies [BABYSITTER_WRITE_BURST]")
	trustTrace, err := strconv.ParseBool(env("BABYSITTER_TRUST_TRACE_CONTEXT", "false"))
	if err != nil {
		return config{}, fmt.Errorf("BABYSITTER_TRUST_TRACE_CONTEXT: %w", err)
	}
	fs.BoolVar(&c.TrustTraceContext, "trust-trace-context", trustTrace,
		"continue the trace a request's traceparent names instead of linking to it; only behind a proxy that sets it [BABYSITTER_TRUST_TRACE_CONTEXT]")
	fs.DurationVar(&c.VisibilityTimeout, "visibility-timeout", 30*time.Second, "the decline queue's visibility `timeout`")
	fs.DurationVar(&c.SweepEvery, "sweep-every", 30*time.Second, "how often the sweeper declines the applications of jobs whose decline message was lost (`interval`)")
	fs.DurationVar(&c.SweepAfter, "sweep-after", time.Minute, "how long a job's declines may stay due before the sweeper takes them (`duration`)")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", 20*time.Second, "how long a graceful stop waits for requests in flight")
	c.LogLevel = slog.LevelInfo
	if v := getenv("BABYSITTER_LOG_LEVEL"); v != "" {
		if err := c.LogLevel.UnmarshalText([]byte(v)); err != nil {
			return config{}, fmt.Errorf("BABYSITTER_LOG_LEVEL: %w", err)
		}
	}
	fs.TextVar(&c.LogLevel, "log-level", c.LogLevel, "log `level`: debug, info, warn, error [BABYSITTER_LOG_LEVEL]")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return config{}, err
		}
		return config{}, usageError{err}
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected argument %q (the only subcommand is token)", fs.Arg(0))
	}
	return c, c.validate()
}

// validate reports every inconsistent setting at once.
func (c *config) validate() error {
	var errs []error
	if (c.Table == "") != (c.QueueURL == "") {
		errs = append(errs, errors.New("-table and -queue-url go together: give both for DynamoDB + SQS, or neither for the in-memory backends"))
	}
	if c.QueueURL != "" {
		errs = append(errs, checkQueueURL(c.QueueURL))
	}
	if c.CreateTable && c.Table == "" {
		errs = append(errs, errors.New("-create-table needs -table"))
	}
	if c.CreateQueue && c.QueueURL == "" {
		errs = append(errs, errors.New("-create-queue needs -queue-url"))
	}
	if (c.Bucket != "" || c.TopicARN != "") && !c.awsMode() {
		errs = append(errs, errors.New("-bucket and -topic-arn are for DynamoDB + SQS (-table and -queue-url); the in-memory backends keep the uploads and notifications in memory"))
	}
	if c.CreateBucket && c.Bucket == "" {
		errs = append(errs, errors.New("-create-bucket needs -bucket"))
	}
	if c.CreateTopic && c.TopicARN == "" {
		errs = append(errs, errors.New("-create-topic needs -topic-arn"))
	}
	if c.TopicARN != "" && !strings.HasPrefix(c.TopicARN, "arn:") {
		errs = append(errs, fmt.Errorf("-topic-arn %q is not an ARN (arn:aws:sns:<region>:<account>:<name>)", c.TopicARN))
	}
	if c.PublicBaseURL != "" {
		if u, err := url.Parse(c.PublicBaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || !strings.HasSuffix(u.Path, "/") || u.RawQuery != "" {
			errs = append(errs, fmt.Errorf("-public-base-url %q must be an http(s) URL whose path ends in /", c.PublicBaseURL))
		}
	}
	if (c.CognitoUserPoolID == "") != (c.CognitoClientID == "") {
		errs = append(errs, errors.New("-cognito-user-pool-id and -cognito-client-id go together"))
	}
	if c.cognito() && c.cognitoRegion() == "" {
		errs = append(errs, errors.New("-region is needed to find the Cognito user pool"))
	}
	if !c.cognito() {
		errs = append(errs, c.checkDevKey())
	}
	if c.MaxTokenLifetime <= 0 || c.MaxTokenLifetime > jwtauth.MaxLifetimeLimit {
		errs = append(errs, fmt.Errorf("-max-token-lifetime must be positive and at most %v", jwtauth.MaxLifetimeLimit))
	}
	if c.WritesPerMinute < 0 || math.IsNaN(c.WritesPerMinute) || math.IsInf(c.WritesPerMinute, 0) {
		errs = append(errs, errors.New("-writes-per-minute must be 0 (no limit) or positive"))
	}
	if c.WritesPerMinute > 0 && c.WriteBurst < 1 {
		errs = append(errs, errors.New("-write-burst must be at least 1"))
	}
	if c.VisibilityTimeout <= 0 {
		errs = append(errs, errors.New("-visibility-timeout must be positive"))
	}
	if c.SweepEvery <= 0 || c.SweepAfter <= 0 {
		errs = append(errs, errors.New("-sweep-every and -sweep-after must be positive"))
	}
	if c.ShutdownTimeout <= 0 {
		errs = append(errs, errors.New("-shutdown-timeout must be positive"))
	}
	return errors.Join(errs...)
}

// checkDevKey refuses an HS256 setup anyone could mint tokens for: the
// built-in key (printed in the source and the README) anywhere but on a
// loopback address with the in-memory backends, and any key too short to
// be secret.
func (c *config) checkDevKey() error {
	if c.DevKey != defaultDevKey {
		return devKeyError(c.DevKey)
	}
	var where []string
	if !loopbackAddr(c.Addr) {
		where = append(where, fmt.Sprintf("on -addr %q, which is not a loopback address", c.Addr))
	}
	if c.awsMode() {
		where = append(where, "with -table/-queue-url (DynamoDB + SQS)")
	}
	if len(where) == 0 {
		return nil
	}
	return fmt.Errorf("refusing the built-in development key %s: it is public, so anyone could mint an admin token. "+
		"Verify Cognito tokens with -cognito-user-pool-id and -cognito-client-id (production), "+
		"or give your own key of at least %d bytes: BABYSITTER_DEV_KEY=$(openssl rand -hex 32)",
		strings.Join(where, " and "), jwtauth.MinKeyBytes)
}

// devKeyError refuses an HS256 key too short to be secret, naming the
// flag and variable that set it.
func devKeyError(key string) error {
	if err := jwtauth.CheckKey(key); err != nil {
		return fmt.Errorf("-dev-key (BABYSITTER_DEV_KEY): %w", err)
	}
	return nil
}

// loopbackAddr reports whether a listen address names only a loopback
// interface: "localhost" or a loopback IP. An empty host (":8080") is every
// interface; other host names are not resolved, so not trusted.
func loopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// checkQueueURL refuses what is not an SQS queue URL — a queue name, an
// ARN, the endpoint alone — with the form it wants.
func checkQueueURL(raw string) error {
	u, err := url.Parse(raw)
	ok := err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" && u.RawQuery == ""
	if ok {
		account, name, found := strings.Cut(strings.Trim(u.Path, "/"), "/")
		ok = found && account != "" && name != "" && !strings.Contains(name, "/")
	}
	if !ok {
		return fmt.Errorf("-queue-url %q is not a queue URL: want https://sqs.<region>.amazonaws.com/<account>/<name>, "+
			"or $AWS_ENDPOINT_URL_SQS/000000000000/<name> on fauxqs", raw)
	}
	return nil
}

// durationEnv reads a duration variable, def when unset.
func durationEnv(getenv func(string) string, name string, def time.Duration) (time.Duration, error) {
	v := getenv(name)
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", name, err)
	}
	return d, nil
}
