package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/babysitter-go/babysitter"
	"github.com/babysitter-go/babysitter/transport/httpapi"
	"github.com/babysitter-go/babysitter/transport/httpapi/jwtauth"
)

// testKey signs the tests' HS256 tokens.
const testKey = "test-signing-key-0123456789abcdef"

// env is a getenv over a map.
func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestParseConfig(t *testing.T) {
	c, err := parseConfig(nil, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "localhost:8080" || c.DevKey != defaultDevKey || c.awsMode() || c.cognito() || c.VisibilityTimeout != 30*time.Second || c.LogLevel != slog.LevelInfo ||
		c.MaxTokenLifetime != 24*time.Hour || c.WritesPerMinute != httpapi.DefaultWritesPerMinute || c.WriteBurst != httpapi.DefaultWriteBurst {
		t.Errorf("defaults: %+v", c)
	}

	// Variables fill in; flags win over them.
	c, err = parseConfig([]string{"-addr", ":9000", "-create-table", "-log-level", "debug"}, env(map[string]string{
		"BABYSITTER_ADDR": ":1", "BABYSITTER_TABLE": "t", "BABYSITTER_QUEUE_URL": "http://localhost:3000/000000000000/q",
		"AWS_REGION": "eu-central-1", "BABYSITTER_DEV_KEY": testKey, "BABYSITTER_LOG_LEVEL": "warn",
		"BABYSITTER_MAX_TOKEN_LIFETIME": "1h", "BABYSITTER_WRITES_PER_MINUTE": "0",
	}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != ":9000" || c.Table != "t" || !c.awsMode() || c.Region != "eu-central-1" || !c.CreateTable || c.DevKey != testKey || c.LogLevel != slog.LevelDebug ||
		c.MaxTokenLifetime != time.Hour || c.WritesPerMinute != 0 {
		t.Errorf("from env and flags: %+v", c)
	}

	// Cognito: the region comes from the pool ID.
	c, err = parseConfig([]string{"-cognito-user-pool-id", "eu-west-1_abc", "-cognito-client-id", "client"}, env(nil), io.Discard)
	if err != nil || !c.cognito() || c.cognitoRegion() != "eu-west-1" {
		t.Errorf("cognito: %+v, %v", c, err)
	}

	for name, args := range map[string][]string{
		"table without queue":      {"-table", "t"},
		"queue without table":      {"-queue-url", "http://q"},
		"create-table alone":       {"-create-table"},
		"create-queue alone":       {"-create-queue"},
		"pool without client":      {"-cognito-user-pool-id", "eu-west-1_abc"},
		"pool without region":      {"-cognito-user-pool-id", "abc", "-cognito-client-id", "c"},
		"empty dev key":            {"-dev-key", ""},
		"one-byte dev key":         {"-dev-key", "x"},
		"31-byte dev key":          {"-dev-key", testKey[:31]},
		"lifetime zero":            {"-max-token-lifetime", "0s", "-dev-key", testKey},
		"lifetime over a day":      {"-max-token-lifetime", "25h", "-dev-key", testKey},
		"negative write rate":      {"-writes-per-minute", "-1"},
		"no write burst":           {"-write-burst", "0"},
		"zero visibility":          {"-visibility-timeout", "0s"},
		"unknown flag":             {"-nope"},
		"stray argument":           {"serve"},
		"bad log level":            {"-log-level", "loud"},
		"negative shutdown period": {"-shutdown-timeout", "-1s"},
		"bucket in memory":         {"-bucket", "b"},
		"topic in memory":          {"-topic-arn", "arn:aws:sns:us-east-1:000000000000:t"},
		"create-bucket alone":      {"-create-bucket"},
		"create-topic alone":       {"-create-topic"},
		"topic not an ARN":         {"-table", "t", "-queue-url", "http://localhost:3000/000000000000/q", "-dev-key", testKey, "-topic-arn", "t"},
		"public URL without slash": {"-public-base-url", "http://localhost:8080/blobs"},
		"public URL not http":      {"-public-base-url", "ftp://x/"},
	} {
		if _, err := parseConfig(args, env(nil), io.Discard); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := parseConfig([]string{"-h"}, env(nil), io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: %v", err)
	}
}

// TestDevKeyRefused: the built-in development key is public, so the server
// refuses to start with it wherever others could reach it — on any address
// but loopback, or on the AWS backends — and refuses HS256 keys too short
// to be secret; each message names the fix. The README's command (no
// flags: loopback, in memory) still starts, as does any address with a
// key of one's own.
func TestDevKeyRefused(t *testing.T) {
	for name, c := range map[string]struct {
		args []string
		env  map[string]string
		want []string
	}{
		"AWS backends":        {args: []string{"-table", "t", "-queue-url", "http://localhost:9324/000000000000/q"}, want: []string{"-table/-queue-url", "-cognito-user-pool-id", "openssl rand"}},
		"all interfaces":      {args: []string{"-addr", ":8080"}, want: []string{`":8080"`, "not a loopback", "BABYSITTER_DEV_KEY"}},
		"0.0.0.0":             {args: []string{"-addr", "0.0.0.0:8080"}, want: []string{"not a loopback"}},
		"a LAN address":       {args: []string{"-addr", "192.168.1.5:8080"}, want: []string{"not a loopback"}},
		"a host name":         {args: []string{"-addr", "api.example.com:8080"}, want: []string{"not a loopback"}},
		"the key given again": {args: []string{"-addr", ":8080", "-dev-key", defaultDevKey}, want: []string{"built-in development key"}},
		"the key from env":    {args: []string{"-addr", ":8080"}, env: map[string]string{"BABYSITTER_DEV_KEY": defaultDevKey}, want: []string{"built-in"}},
		"a 1-byte key":        {args: []string{"-dev-key", "x"}, want: []string{"1 bytes", "at least 32"}},
		"a short key on AWS":  {args: []string{"-table", "t", "-queue-url", "http://q/0/q"}, env: map[string]string{"BABYSITTER_DEV_KEY": "secret"}, want: []string{"6 bytes"}},
	} {
		var stderr bytes.Buffer
		if code := run(context.Background(), c.args, env(c.env), io.Discard, &stderr); code != 1 {
			t.Errorf("%s: exit %d, want 1 (stderr %q)", name, code, stderr.String())
		}
		for _, w := range c.want {
			if !strings.Contains(stderr.String(), w) {
				t.Errorf("%s: stderr %q lacks %q", name, stderr.String(), w)
			}
		}
	}
	for name, args := range map[string][]string{
		"README command":         nil,
		"127.0.0.1":              {"-addr", "127.0.0.1:8080"},
		"::1":                    {"-addr", "[::1]:8080"},
		"own key, anywhere":      {"-addr", ":8080", "-dev-key", testKey},
		"own key, AWS":           {"-table", "t", "-queue-url", "http://q/0/q", "-dev-key", testKey},
		"Cognito, anywhere, AWS": {"-addr", ":8080", "-table", "t", "-queue-url", "http://q/0/q", "-cognito-user-pool-id", "eu-west-1_abc", "-cognito-client-id", "c"},
	} {
		if _, err := parseConfig(args, env(nil), io.Discard); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestTokenCommand mints a token with the subcommand and checks the server
// accepts it for the right actor.
func TestTokenCommand(t *testing.T) {
	var out, errOut bytes.Buffer
	getenv := env(map[string]string{"BABYSITTER_DEV_KEY": testKey})
	if code := run(context.Background(), []string{"token", "-user", "alice", "-group", "nanny,admin", "-ttl", "1h"}, getenv, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	a, err := jwtauth.NewHS256(testKey, 0).Authenticate(context.Background(), strings.TrimSpace(out.String()))
	if err != nil || a != (babysitter.Actor{Username: "alice", Role: babysitter.RoleAdmin, Subject: "alice"}) {
		t.Errorf("minted token: %+v, %v", a, err)
	}
	for _, args := range [][]string{{"token"}, {"token", "-user", "alice"}, {"token", "-user", "alice", "-group", "root"}, {"token", "-bogus"},
		{"token", "-user", "alice", "-group", "admin", "-ttl", "25h"}, {"token", "-user", "alice", "-group", "admin", "-dev-key", "x"}} {
		out.Reset()
		if code := run(context.Background(), args, getenv, &out, io.Discard); code == 0 || out.Len() > 0 {
			t.Errorf("%q: exit %d, output %q", args, code, out.String())
		}
	}
}

// TestServeAndShutdown runs the real serve on a free port: it answers,
// and cancelling its context stops it gracefully — the HTTP server and the
// poller — with a nil error.
func TestServeAndShutdown(t *testing.T) {
	// The built-in key, as `go run ./examples/http` uses it: on loopback.
	cfg, err := parseConfig([]string{"-addr", "localhost:0"}, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	// slog's handler serializes its writes; the test reads the buffer
	// only once serve has returned.
	logs := &bytes.Buffer{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	base, done := startServe(t, ctx, cfg, slog.New(slog.NewJSONHandler(logs, nil)))

	resp, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("readyz %d", resp.StatusCode)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop")
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Error("the server still answers after stopping")
	}
	var msgs []string
	for l := range strings.Lines(logs.String()) {
		var m struct{ Msg, Level string }
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, m.Level+" "+m.Msg)
	}
	got := strings.Join(msgs, "\n")
	for _, w := range []string{"WARN verifying HS256 tokens with a development key", "INFO listening", "INFO shutting down", "INFO stopped"} {
		if !strings.Contains(got, w) {
			t.Errorf("log lacks %q:\n%s", w, got)
		}
	}
}

// startServe runs serve in the background until ctx is cancelled, and
// returns its base URL once it listens and the channel its error comes
// on.
func startServe(t *testing.T, ctx context.Context, cfg config, log *slog.Logger) (base string, done <-chan error) {
	t.Helper()
	addr, errc := make(chan string, 1), make(chan error, 1)
	go func() { errc <- serve(ctx, cfg, log, func(a string) { addr <- a }) }()
	select {
	case a := <-addr:
		return "http://" + a, errc
	case err := <-errc:
		t.Fatalf("serve: %v", err)
	}
	return "", nil
}

// TestServeFailsFast: an address serve cannot listen on is an error, not
// a hang.
func TestServeFailsFast(t *testing.T) {
	cfg, err := parseConfig([]string{"-addr", "127.0.0.1:-1"}, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if err := serve(context.Background(), cfg, slog.New(slog.DiscardHandler), nil); err == nil {
		t.Error("serve on a bad address: no error")
	}
}

// TestLogDurationsReadable: the server's log writes durations as "1.5s",
// not as the JSON handler's integer nanoseconds.
func TestLogDurationsReadable(t *testing.T) {
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{ReplaceAttr: readableDurations})).Info("m", "retryIn", 1500*time.Millisecond, "n", 3)
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatal(err)
	}
	if line["retryIn"] != "1.5s" || line["n"] != 3.0 {
		t.Errorf("logged %s", buf.Bytes())
	}
}
