// Command http serves the whole babysitter Service over HTTP.
//
// WALKTHROUGH_PLACEHOLDER
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
	"syscall"
	"time"

	"github.com/babysitter-go/babysitter"
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
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	if err := serve(ctx, cfg, log, nil); err != nil {
		log.Error("server stopped", "err", err)
		return 1
	}
	return 0
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
	ttl := fs.Duration("ttl", 24*time.Hour, "how long the token is valid")
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
		fs.Usage()
		return usageError{errors.New("token needs -user and -group, and no arguments")}
	}
	token, err := mintDevToken(devKey, *user, strings.Split(*groups, ","), *ttl, time.Now())
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, token)
	return err
}

// Server timeouts. ReadHeaderTimeout stops slow-header (Slowloris)
// clients, ReadTimeout slow bodies, WriteTimeout bounds a whole response
// (above requestTimeout so a slow backend still yields a problem response),
// IdleTimeout frees keep-alive connections nobody uses.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 15 * time.Second
	writeTimeout      = requestTimeout + 10*time.Second
	idleTimeout       = 2 * time.Minute
)

// serve runs the server until ctx is cancelled, then stops gracefully: it
// reports not-ready, finishes the requests in flight, and stops the decline
// poller — after the last request, which may have queued declines — and
// waits for it to finish its batches. listening, if not nil, is told the
// address once the server accepts connections.
func serve(ctx context.Context, cfg config, log *slog.Logger, listening func(addr string)) error {
	store, queue, source, err := newBackends(ctx, cfg)
	if err != nil {
		return err
	}
	svc := babysitter.New(store, queue, babysitter.Options{Logger: log})
	s := &server{svc: svc, auth: newAuthenticator(cfg, log), log: log}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           s.routes(),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}

	// The poller's context is not ctx: it must outlive the HTTP server's
	// shutdown so that declines queued by the last requests are consumed.
	pollCtx, stopPolling := context.WithCancel(context.WithoutCancel(ctx))
	defer stopPolling()
	poller := &babysitter.Poller{
		Source:            source,
		Handler:           svc.HandleDeclines,
		VisibilityTimeout: cfg.VisibilityTimeout,
		Logger:            log,
	}
	pollDone := make(chan error, 1)
	go func() { pollDone <- poller.Run(pollCtx) }()
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
	s.draining.Store(true)
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
	log.Info("stopped")
	return runErr
}

// newAuthenticator picks the token verification: Cognito when configured,
// else HS256 with the development key — loudly, since anyone holding that
// key can be anyone.
func newAuthenticator(cfg config, log *slog.Logger) authenticator {
	if cfg.cognito() {
		log.Info("verifying Cognito tokens", "userPool", cfg.CognitoUserPoolID, "region", cfg.cognitoRegion(), "clientId", cfg.CognitoClientID)
		return newCognitoAuth(cfg.cognitoRegion(), cfg.CognitoUserPoolID, cfg.CognitoClientID, &http.Client{Timeout: 10 * time.Second})
	}
	msg := "verifying HS256 tokens with a development key: anyone with the key can mint tokens; " +
		"for development only (production: -cognito-user-pool-id and -cognito-client-id)"
	log.Warn(msg, "defaultKey", cfg.DevKey == defaultDevKey)
	return newHS256Auth(cfg.DevKey)
}
