// Command http serves the whole babysitter Service over HTTP with the
// handler of transport/httpapi (its routes, bodies and errors are
// transport/httpapi/openapi.yaml, which the server also serves at
// GET /openapi.yaml): this command is the wiring — flags, backends,
// token verification, the decline consumer, the server's lifecycle.
//
// By default it runs on the in-memory store and queue, with the consumer
// that declines the other applicants of a booked job running in process.
// With -table and -queue-url (or BABYSITTER_TABLE and BABYSITTER_QUEUE_URL;
// the queue's URL, https://sqs.<region>.amazonaws.com/<account>/<name>) it
// runs on DynamoDB and SQS instead; the AWS SDK's default configuration
// supplies the region (-region, AWS_REGION) and credentials, and
// AWS_ENDPOINT_URL_DYNAMODB / AWS_ENDPOINT_URL_SQS point it at local
// servers; -create-table and -create-queue create what is missing, for
// local development. Identity documents and profile pictures go to
// blob/memory, served under /blobs/ of the server, and notifications to
// its log (notify/memory), unless -bucket (an S3 bucket, with
// -public-base-url where its pictures are read) and -topic-arn (an SNS
// topic) say otherwise, with -create-bucket and -create-topic for local
// development. Before it listens it checks the credentials, the table
// (with its indexes), the queue, the bucket and the topic, and refuses to
// start with a message naming the fix. `make servers` prints the local
// recipe.
//
// Tokens are HS256 JWTs signed with a development key by default (-dev-key,
// BABYSITTER_DEV_KEY): claims "cognito:username" (or "sub") and
// "cognito:groups" with admin, parent or nanny. The token subcommand mints
// them. The built-in key is public, so the server refuses to start with it
// on a non-loopback -addr or with the AWS backends; a key of one's own
// must be at least 32 bytes. In production, -cognito-user-pool-id and
// -cognito-client-id verify RS256 ID and access tokens of a Cognito user
// pool against its published keys (transport/httpapi/jwtauth) instead.
// In both modes a token needs iat and exp as numbers, iat not in the
// future, and may live at most -max-token-lifetime (24h). Only
// GET /v1/users/{username} and GET /v1/users/{username}/reviews work
// without a token.
//
// Each caller's writes are limited (-writes-per-minute, -write-burst):
// beyond it a write is 429 with Retry-After.
//
// Telemetry follows the OpenTelemetry OTEL_* variables (telemetry/otelenv):
// with OTEL_EXPORTER_OTLP_ENDPOINT (http://localhost:4318 for a local
// collector or Jaeger) the server exports over OTLP/HTTP a trace per
// request — the HTTP server span, the Service's operation, the DynamoDB
// and SQS calls, the declines linked to the booking — and the metrics;
// without it, nothing. Every log line of a request carries its requestId
// and, when traced, its traceId and spanId. The README's "See traces
// locally" has the recipe.
//
// # Walkthrough
//
// The tutorial's story with curl and jq, from the module root. Start the
// server in another terminal (Ctrl-C stops it gracefully), or in the
// background as below and stop it with fg and Ctrl-C (killing the go run
// process alone would leave the server running):
//
//	go run ./examples/http &
//	API=http://localhost:8080
//	until curl -sf $API/readyz >/dev/null; do sleep 0.2; done
//
// Mint development tokens for a parent, two nannies and an admin:
//
//	ALICE=$(go run ./examples/http token -user alice -group parent)
//	BOB=$(go run ./examples/http token -user bob -group nanny)
//	CAROL=$(go run ./examples/http token -user carol -group nanny)
//	ADMIN=$(go run ./examples/http token -user admin -group admin)
//
// Each user creates their own account; it starts UNVERIFIED:
//
//	curl -s -X POST $API/v1/users -H "Authorization: Bearer $ALICE" -H 'Content-Type: application/json' \
//	  -d '{"username":"alice","email":"alice@example.com","type":"PARENT","firstName":"Alice","lastName":"Smith","dateOfBirth":"1988-04-12"}'
//	curl -s -X POST $API/v1/users -H "Authorization: Bearer $BOB" -H 'Content-Type: application/json' \
//	  -d '{"username":"bob","email":"bob@example.com","type":"NANNY","firstName":"Bob","lastName":"Jones","dateOfBirth":"1995-09-30"}'
//	curl -s -X POST $API/v1/users -H "Authorization: Bearer $CAROL" -H 'Content-Type: application/json' \
//	  -d '{"username":"carol","email":"carol@example.com","type":"NANNY","firstName":"Carol","lastName":"Brown","dateOfBirth":"1992-01-15"}'
//
// Each uploads an identity document — the API hands out a presigned PUT,
// the file goes straight to the object storage (here /blobs/ of the
// server; S3 with -bucket), and the upload is confirmed — and the admin
// reads it through a presigned GET and verifies the account on it (a
// nanny must be VERIFIED to apply, a parent to book):
//
//	for who in "alice $ALICE" "bob $BOB" "carol $CAROL"; do set -- $who
//	  printf '%%PDF-1.7 identity card of %s' $1 > /tmp/$1-id.pdf
//	  T=$(curl -s -X POST $API/v1/users/$1/uploads -H "Authorization: Bearer $2" -H 'Content-Type: application/json' \
//	    -d "{\"kind\":\"document\",\"contentType\":\"application/pdf\",\"contentLength\":$(wc -c < /tmp/$1-id.pdf)}")
//	  curl -s -X PUT "$(jq -r .request.url <<<"$T")" -H 'Content-Type: application/pdf' --data-binary @/tmp/$1-id.pdf
//	  ID=$(jq -r .upload.uploadId <<<"$T")
//	  curl -s -X POST $API/v1/users/$1/uploads/$ID/confirm -H "Authorization: Bearer $2" | jq -c '{username, documents}'
//	  curl -s "$(curl -s $API/v1/users/$1/documents/$ID -H "Authorization: Bearer $ADMIN" | jq -r .url)"; echo
//	  curl -s -X PUT $API/v1/users/$1/status -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json' \
//	    -d "{\"status\":\"VERIFIED\",\"uploadId\":\"$ID\"}" | jq -c '{username, status, verification}'
//	done
//
// Alice posts a job (cost in minor units: 6000 is 60.00 EUR); the nannies
// find it among the open jobs:
//
//	JOB=$(curl -s -X POST $API/v1/jobs -H "Authorization: Bearer $ALICE" -H 'Content-Type: application/json' \
//	  -d '{"jobType":"BABYSITTING","description":"Two kids, one evening","numberOfKids":2,
//	       "startDate":"2030-06-01","endDate":"2030-06-01","startTime":"18:00","endTime":"23:00",
//	       "address":"1 Main Street","city":"Berlin","latitude":52.52,"longitude":13.405,
//	       "cost":{"amount":6000,"currency":"EUR"}}' | jq -r .id)
//	curl -s "$API/v1/jobs?jobStatus=OPEN" -H "Authorization: Bearer $BOB" | jq -c '.items[] | {id, city, cost}'
//
// or among the OPEN jobs near a point, nearest first, with their distance
// (radiusKm at most 50):
//
//	curl -s "$API/v1/jobs?latitude=52.5&longitude=13.4&radiusKm=10" -H "Authorization: Bearer $CAROL" \
//	  | jq -c '.items[] | {id: .job.id, city: .job.city, distanceKm}'
//
// Bob and carol apply (the body is optional):
//
//	BOB_APP=$(curl -s -X POST $API/v1/jobs/$JOB/applications -H "Authorization: Bearer $BOB" \
//	  -H 'Content-Type: application/json' -d '{"message":"I love kids"}' | jq -r .id)
//	curl -s -X POST $API/v1/jobs/$JOB/applications -H "Authorization: Bearer $CAROL" | jq -c '{username, jobApplicationStatus}'
//
// Alice books bob: the job closes and carol's decline is queued:
//
//	curl -s -X POST $API/v1/jobs/$JOB/booking -H "Authorization: Bearer $ALICE" \
//	  -H 'Content-Type: application/json' -d "{\"applicationId\":\"$BOB_APP\"}" \
//	  | jq -c '{jobStatus: .job.jobStatus, accepted: .application.username, declinesQueued}'
//	# {"jobStatus":"CLOSED","accepted":"bob","declinesQueued":1}
//
// A moment later the in-process consumer has declined carol:
//
//	sleep 1
//	curl -s $API/v1/jobs/$JOB/applications -H "Authorization: Bearer $ALICE" \
//	  | jq -c '.applications.items[] | {username, jobApplicationStatus}'
//	# {"username":"carol","jobApplicationStatus":"DECLINED"}
//	# {"username":"bob","jobApplicationStatus":"ACCEPTED"}
//
// and the server's log shows who is told what (notify/memory; with
// -topic-arn they are published to SNS): bob is booked, alice's booking
// confirmed, carol declined, each with the event ID subscribers dedupe on:
//
//	{"level":"INFO","msg":"notification","id":"booked:<job>:<bob's application>","type":"booked","recipient":"bob",…}
//	{"level":"INFO","msg":"notification","id":"bookingConfirmed:<job>:<bob's application>","type":"bookingConfirmed","recipient":"alice",…}
//	{"level":"INFO","msg":"notification","id":"declined:<job>:<carol's application>","type":"declined","recipient":"carol",…}
//
// Once the evening is over alice completes the job, and she and bob review
// each other; the answers are the fixed questions of each direction
// (babysitter.Questions). Bob's rating is public:
//
//	curl -s -X POST $API/v1/jobs/$JOB/complete -H "Authorization: Bearer $ALICE" | jq -r .jobStatus
//	# COMPLETED
//	curl -s -X POST $API/v1/jobs/$JOB/reviews -H "Authorization: Bearer $ALICE" -H 'Content-Type: application/json' \
//	  -d '{"rating":5,"text":"Wonderful evening","answers":{"punctual":true,"wouldBookAgain":true,"followedInstructions":true}}' | jq -c '{reviewee, rating}'
//	curl -s -X POST $API/v1/jobs/$JOB/reviews -H "Authorization: Bearer $BOB" -H 'Content-Type: application/json' \
//	  -d '{"rating":4,"answers":{"clearInstructions":true,"paidAsAgreed":true,"wouldWorkAgain":true}}' | jq -c '{reviewee, rating}'
//	curl -s $API/v1/users/bob | jq -c .rating
//	# {"count":1,"sum":5,"average":5}
//	curl -s $API/v1/users/bob/reviews | jq -c '.items[] | {reviewer, rating, text}'
//
// Errors are problem details with a stable code; a nanny may not post a job:
//
//	curl -s -X POST $API/v1/jobs -H "Authorization: Bearer $BOB" -H 'Content-Type: application/json' -d '{}'
//	# {"type":"https://pkg.go.dev/github.com/babysitter-go/babysitter#ErrForbidden","title":"Forbidden",
//	#  "status":403,"detail":"forbidden: role \"nanny\" may not do this","code":"forbidden","requestId":"…"}
//
// A committed booking or cancellation is always answered as such: if
// its decline message cannot be sent ("declinesQueued": 0), the
// in-process sweeper declines the other applications within -sweep-after.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/babysitter-go/babysitter"
	nmemory "github.com/babysitter-go/babysitter/notify/memory"
	"github.com/babysitter-go/babysitter/transport/httpapi"
	"github.com/babysitter-go/babysitter/transport/httpapi/jwtauth"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// After the first signal starts the graceful stop, restore the
		// default handling so that a second one kills at once.
		<-ctx.Done()
		stop()
	}()
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is main without the process: it returns the exit code.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "token" {
		return exitCode(runToken(args[1:], getenv, stdout, stderr), stderr)
	}
	cfg, err := parseConfig(args, getenv, stderr)
	if err != nil {
		return exitCode(err, stderr)
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: cfg.LogLevel, ReplaceAttr: readableDurations}))
	if err := serve(ctx, cfg, log, nil); err != nil {
		log.Error("server failed", "err", err)
		return 1
	}
	return 0
}

// readableDurations writes a time.Duration as "1.5s" rather than the JSON
// handler's integer nanoseconds (the poller's retryIn, for one).
func readableDurations(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindDuration {
		return slog.String(a.Key, a.Value.Duration().String())
	}
	return a
}

// exitCode reports err and picks the exit code: 0 for success and -h, 2
// for a usage error the flag package already explained, 1 otherwise.
func exitCode(err error, stderr io.Writer) int {
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, new(usageError)):
		return 2
	default:
		fmt.Fprintln(stderr, "error:", err)
		return 1
	}
}

// usageError is a flag error the FlagSet has already printed with the usage.
type usageError struct{ error }

// runToken is the token subcommand: it prints a development token.
func runToken(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	user := fs.String("user", "", "the token's `username` (required)")
	groups := fs.String("group", "", "the user's `groups`, comma-separated: admin, parent, nanny (required)")
	maxTTL, err := durationEnv(getenv, "BABYSITTER_MAX_TOKEN_LIFETIME", jwtauth.DefaultMaxLifetime)
	if err != nil {
		return err
	}
	ttl := fs.Duration("ttl", maxTTL, "how long the token is valid; at most the server's -max-token-lifetime [BABYSITTER_MAX_TOKEN_LIFETIME]")
	devKey := defaultDevKey
	if v := getenv("BABYSITTER_DEV_KEY"); v != "" {
		devKey = v
	}
	fs.StringVar(&devKey, "dev-key", devKey, "HS256 signing `key`; the server's -dev-key [BABYSITTER_DEV_KEY]")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: go run ./examples/http token -user NAME -group GROUP[,GROUP] [-ttl 24h]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	if *user == "" || *groups == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "token needs -user and -group, and no arguments")
		fs.Usage()
		return usageError{errors.New("token needs -user and -group, and no arguments")}
	}
	if *ttl > maxTTL {
		return fmt.Errorf("-ttl %v is longer than the %v a server accepts (BABYSITTER_MAX_TOKEN_LIFETIME)", *ttl, maxTTL)
	}
	if devKey != defaultDevKey {
		if err := devKeyError(devKey); err != nil {
			return err
		}
	}
	token, err := jwtauth.MintDevToken(devKey, *user, strings.Split(*groups, ","), *ttl, time.Now())
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, token)
	return err
}

// Server timeouts. ReadHeaderTimeout stops slow-header (Slowloris)
// clients, ReadTimeout slow bodies, WriteTimeout bounds a whole response
// (above the handler's request timeout so a slow backend still yields a
// problem response), IdleTimeout frees keep-alive connections nobody uses.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 15 * time.Second
	writeTimeout      = httpapi.DefaultRequestTimeout + 10*time.Second
	idleTimeout       = 2 * time.Minute
)

// serve runs the server until ctx is cancelled, then stops gracefully: it
// reports not-ready, finishes the requests in flight, and stops the decline
// poller — after the last request, which may have queued declines — and
// waits for it to finish its batches. listening, if not nil, is told the
// address once the server accepts connections.
//
// With OTEL_EXPORTER_OTLP_ENDPOINT set (see newTelemetry) it traces each
// request (otelhttp), the Service's operations, the declines and the AWS
// SDK's calls, and exports the metrics; the spans and metrics still
// buffered are exported once everything has stopped.
func serve(ctx context.Context, cfg config, log *slog.Logger, listening func(addr string)) error {
	tel, err := newTelemetry(ctx, log)
	if err != nil {
		return err
	}
	// Deferred first, so it runs last: after the poller and the sweeper.
	defer shutdownTelemetry(ctx, tel, cfg.ShutdownTimeout, log)
	b, err := newBackends(ctx, cfg, log, tel.TracerProvider)
	if err != nil {
		return err
	}
	auth, err := newAuthenticator(ctx, cfg, log)
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	if _, public := auth.(*jwtauth.HS256); public && cfg.DevKey == defaultDevKey && !loopbackListener(ln) {
		// -addr said loopback, but the name resolved elsewhere.
		ln.Close()
		return fmt.Errorf("refusing the built-in development key: %s listens on %s, not a loopback address", cfg.Addr, ln.Addr())
	}
	mux := http.NewServeMux()
	if b.blobs == nil {
		// In memory, the uploads go to this server: presigned URLs under
		// /blobs/, checked like S3's.
		mem, base, path, err := memoryBlobs(cfg, ln.Addr())
		if err != nil {
			ln.Close()
			return err
		}
		b.blobs, b.publicBase = mem, base
		mux.Handle(path, mem.Handler())
	}
	if b.notifier == nil {
		b.notifier = nmemory.New(nmemory.Options{Logger: log}) // one log line per notification
	}
	svc := babysitter.New(b.store, b.queue, babysitter.Options{
		Logger: log, Blobs: b.blobs, PublicBaseURL: b.publicBase,
		TracerProvider: tel.TracerProvider, MeterProvider: tel.MeterProvider, Propagator: tel.Propagator,
	})
	api := httpapi.New(svc, auth, httpapi.Options{Logger: log, WritesPerMinute: cfg.WritesPerMinute, WriteBurst: cfg.WriteBurst})
	mux.Handle("/", api)
	srv := &http.Server{
		Handler:           instrument(mux, tel, cfg.TrustTraceContext),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}

	// The poller's context is not ctx: it must outlive the HTTP server's
	// shutdown so that declines queued by the last requests are consumed.
	// The sweepers share it: one declines the jobs whose message was lost
	// (a failed send, a process that died right after a booking), the
	// other deletes what deleted accounts left in object storage.
	pollCtx, stopPolling := context.WithCancel(context.WithoutCancel(ctx))
	defer stopPolling()
	decliner := babysitter.NewDecliner(b.store, babysitter.DeclinerOptions{
		Logger: log, SweepAfter: cfg.SweepAfter, Notifier: b.notifier, MaxReceiveCount: maxReceiveCount,
		TracerProvider: tel.TracerProvider, MeterProvider: tel.MeterProvider, Propagator: tel.Propagator,
	})
	eraser := babysitter.NewEraser(b.store, b.blobs, babysitter.EraserOptions{
		Logger: log, SweepAfter: cfg.SweepAfter, TracerProvider: tel.TracerProvider, MeterProvider: tel.MeterProvider,
	})
	poller := &babysitter.Poller{
		Source:            b.source,
		Handler:           decliner.HandleBatch,
		VisibilityTimeout: cfg.VisibilityTimeout,
		Logger:            log,
	}
	pollDone := make(chan error, 1)
	go func() { pollDone <- poller.Run(pollCtx) }()
	sweepDone := make(chan struct{})
	go func() {
		defer close(sweepDone)
		var wg sync.WaitGroup
		wg.Go(func() { _ = decliner.RunSweeper(pollCtx, cfg.SweepEvery) }) // return pollCtx's error when stopped
		wg.Go(func() { _ = eraser.RunSweeper(pollCtx, cfg.SweepEvery) })
		wg.Wait()
	}()
	serveDone := make(chan error, 1)
	go func() { serveDone <- srv.Serve(ln) }()

	mode := "memory"
	if cfg.awsMode() {
		mode = "dynamodb+sqs"
	}
	log.Info("listening", "addr", ln.Addr().String(), "backends", mode)
	if listening != nil {
		listening(ln.Addr().String())
	}

	var runErr error
	pollerDone := false
	select {
	case <-ctx.Done():
		log.Info("shutting down", "cause", context.Cause(ctx))
	case err := <-serveDone:
		runErr = err // Serve only returns early on a listener failure
	case err := <-pollDone:
		pollerDone = true
		runErr = fmt.Errorf("decline poller: %w", err)
	}
	api.Drain()
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		runErr = errors.Join(runErr, fmt.Errorf("http shutdown: %w", err))
	}
	stopPolling()
	if !pollerDone {
		if err := <-pollDone; err != nil {
			runErr = errors.Join(runErr, fmt.Errorf("decline poller: %w", err))
		}
	}
	<-sweepDone
	log.Info("stopped")
	return runErr
}

// newAuthenticator picks the token verification: Cognito when configured,
// else HS256 with the development key — with a warning, since anyone
// holding that key can be anyone (config.validate has refused the public
// built-in key wherever others could reach the server).
func newAuthenticator(ctx context.Context, cfg config, log *slog.Logger) (httpapi.Authenticator, error) {
	if cfg.cognito() {
		log.Info("verifying Cognito tokens", "userPool", cfg.CognitoUserPoolID, "region", cfg.cognitoRegion(), "clientId", cfg.CognitoClientID,
			"maxTokenLifetime", cfg.MaxTokenLifetime)
		issuer, jwksURL := jwtauth.CognitoURLs(cfg.cognitoRegion(), cfg.CognitoUserPoolID)
		return jwtauth.NewCognito(ctx, jwtauth.CognitoConfig{
			Issuer: issuer, JWKSURL: jwksURL, ClientID: cfg.CognitoClientID, MaxLifetime: cfg.MaxTokenLifetime, Logger: log,
		})
	}
	msg := "verifying HS256 tokens with a development key: anyone with the key can mint tokens; " +
		"for development only (production: -cognito-user-pool-id and -cognito-client-id)"
	log.Warn(msg, "defaultKey", cfg.DevKey == defaultDevKey, "maxTokenLifetime", cfg.MaxTokenLifetime)
	return jwtauth.NewHS256(cfg.DevKey, cfg.MaxTokenLifetime), nil
}

// loopbackListener reports whether ln accepts connections on a loopback
// address only.
func loopbackListener(ln net.Listener) bool {
	tcp, ok := ln.Addr().(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}
