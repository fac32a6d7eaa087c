package local

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Region is the AWS region the functions are told they run in.
const Region = "us-east-1"

// FunctionConfig describes one function under the emulator.
type FunctionConfig struct {
	// Name is AWS_LAMBDA_FUNCTION_NAME (e.g. "resolver").
	Name string
	// Bootstrap is the function's bootstrap binary.
	Bootstrap string
	// Env is the function's environment (TABLE_NAME, QUEUE_URL,
	// AWS_ENDPOINT_URL_DYNAMODB, ...). The emulator passes its whole
	// environment to the bootstrap, so this is the emulator's environment
	// too, on top of a minimal base: PATH, the region, dummy credentials,
	// and no shared AWS config files (nothing of the developer's AWS setup
	// is read or used).
	Env map[string]string
	// Timeout is the invocation timeout (whole seconds; default 10 s, the
	// resolver's in template.yaml).
	Timeout time.Duration
	// LogLevel is the emulator's own log level (--log-level; default
	// "warn"). The emulator also reads LOG_LEVEL, which is the functions'
	// variable, so it is always set by flag.
	LogLevel string
	// OnLine, if set, sees every line the emulator and the function write.
	OnLine func(string)
}

// Function is one function running under its own emulator.
type Function struct {
	Name string
	// URL is the emulator's invocation endpoint.
	URL  string
	proc *process
	// The emulator handles one invocation at a time: an overlapping one
	// crashes it (nil pointer dereference in rapidcore). mu serializes.
	mu          sync.Mutex
	client      *http.Client
	wait        time.Duration
	invocations atomic.Int64

	gatewayOnce sync.Once
	gatewayURL  string
	gatewayErr  error
	gatewayStop func()
}

// invocationPath is the emulator's (and Lambda's) invocation path.
const invocationPath = "/2015-03-31/functions/function/invocations"

// StartFunction starts the emulator with the bootstrap, both of its
// addresses on 127.0.0.1 (the emulator's default listens on 0.0.0.0:8080
// and its runtime API default is 127.0.0.1:9001, which two emulators
// would share), and waits until it accepts connections. The bootstrap
// itself starts on the first invocation (the emulator's init is lazy).
func StartFunction(ctx context.Context, rie string, cfg FunctionConfig) (*Function, error) {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.LogLevel == "" {
		cfg.LogLevel = "warn"
	}
	env := map[string]string{
		"PATH":                            os.Getenv("PATH"),
		"AWS_REGION":                      Region,
		"AWS_DEFAULT_REGION":              Region,
		"AWS_ACCESS_KEY_ID":               "local",
		"AWS_SECRET_ACCESS_KEY":           "local",
		"AWS_CONFIG_FILE":                 os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE":     os.DevNull,
		"AWS_EC2_METADATA_DISABLED":       "true",
		"AWS_LAMBDA_FUNCTION_NAME":        cfg.Name,
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
		"AWS_LAMBDA_FUNCTION_TIMEOUT":     strconv.Itoa(int((cfg.Timeout + time.Second - 1) / time.Second)),
	}
	for k, v := range cfg.Env {
		env[k] = v
	}
	envList := make([]string, 0, len(env))
	for k, v := range env {
		envList = append(envList, k+"="+v)
	}
	sort.Strings(envList)

	for attempt := 1; ; attempt++ {
		f, err := startFunction(ctx, rie, cfg, envList)
		if err == nil || attempt == 3 || ctx.Err() != nil {
			return f, err
		}
		// A port picked by FreePort may have been taken meanwhile.
	}
}

func startFunction(ctx context.Context, rie string, cfg FunctionConfig, env []string) (*Function, error) {
	invokePort, err := FreePort()
	if err != nil {
		return nil, err
	}
	runtimePort, err := FreePort()
	if err != nil {
		return nil, err
	}
	if runtimePort == invokePort {
		return nil, errors.New("FreePort returned the same port twice")
	}
	bootstrap, err := filepath.Abs(cfg.Bootstrap)
	if err != nil {
		return nil, err
	}
	f := &Function{Name: cfg.Name, client: &http.Client{}, wait: cfg.Timeout + 15*time.Second}
	p, err := startProcess("aws-lambda-rie ("+cfg.Name+")", filepath.Dir(bootstrap), env, cfg.OnLine,
		rie,
		"--log-level", cfg.LogLevel,
		"--runtime-interface-emulator-address", loopback(invokePort),
		"--runtime-api-address", loopback(runtimePort),
		bootstrap)
	if err != nil {
		return nil, err
	}
	wait := 10 * time.Second
	if d, ok := ctx.Deadline(); ok && time.Until(d) < wait {
		wait = time.Until(d)
	}
	if err := waitListening(p, loopback(invokePort), wait); err != nil {
		p.stop()
		return nil, err
	}
	f.URL = "http://" + loopback(invokePort) + invocationPath
	f.proc = p
	return f, nil
}

// Invocations is how many invocations were sent to the emulator, by
// Invoke or through the Gateway.
func (f *Function) Invocations() int64 { return f.invocations.Load() }

// Stop stops the emulator and the function, and the gateway if any.
func (f *Function) Stop() {
	if f.gatewayStop != nil {
		f.gatewayStop()
	}
	f.proc.stop()
}

// Output is what the emulator and the function wrote lately (the
// function's JSON logs, the emulator's START/END/REPORT lines).
func (f *Function) Output() string { return f.proc.output() }

// PID is the emulator's process id.
func (f *Function) PID() int { return f.proc.pid() }

// FunctionError is a function's error result: the handler returned an
// error, and the emulator answered HTTP 200 with {errorType, errorMessage}.
// For the resolver it is how a refused field comes back (errorType is the
// GraphQL errorType); it is still a failed invocation, never data.
type FunctionError struct {
	Type    string `json:"errorType"`
	Message string `json:"errorMessage"`
}

// Error implements the error interface.
func (e *FunctionError) Error() string {
	return "function error " + e.Type + ": " + e.Message
}

// Failures of an invocation that are not the function's own error result.
var (
	// ErrCrashed: the function panicked or exited (the emulator answers
	// 502 Bad Gateway, with aws-lambda-go's panic report or
	// Runtime.ExitError as the body).
	ErrCrashed = errors.New("the function crashed")
	// ErrTimedOut: the function ran past its timeout (the emulator answers
	// 200 with the plain text "Task timed out after N.00 seconds" and kills
	// the function; the next invocation starts a new one).
	ErrTimedOut = errors.New("the function timed out")
	// ErrEmulator: the emulator itself failed (another status, a body that
	// is neither JSON nor a timeout, or no answer).
	ErrEmulator = errors.New("the emulator failed")
)

// InvokeFailure is a crash, timeout or emulator failure with what the
// emulator answered.
type InvokeFailure struct {
	Kind   error // ErrCrashed, ErrTimedOut or ErrEmulator
	Status int
	Body   string
}

// Error implements the error interface.
func (e *InvokeFailure) Error() string {
	body := e.Body
	if len(body) > 500 {
		body = body[:500] + "…"
	}
	return fmt.Sprintf("%v (HTTP %d): %s", e.Kind, e.Status, body)
}

// Unwrap returns the cause, for errors.Is and errors.As.
func (e *InvokeFailure) Unwrap() error { return e.Kind }

// Invoke sends one event to the function, as Lambda's Invoke API does
// (RequestResponse), and waits for the result. Invocations of one Function
// are serialized. It returns the function's JSON result, or an error: a
// *FunctionError for the function's error result, an *InvokeFailure for a
// crash, a timeout, or a failed emulator.
func (f *Function) Invoke(ctx context.Context, event []byte) (json.RawMessage, error) {
	status, body, err := f.post(ctx, event)
	if err != nil {
		return nil, &InvokeFailure{Kind: ErrEmulator, Status: status, Body: err.Error()}
	}
	return classify(status, body)
}

// post sends one invocation to the emulator, holding the lock.
func (f *Function) post(ctx context.Context, event []byte) (int, []byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.proc.alive() {
		return 0, nil, fmt.Errorf("the emulator is %w; output:\n%s", errNotRunning, f.Output())
	}
	f.invocations.Add(1)
	ctx, cancel := context.WithTimeout(ctx, f.wait)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.URL, bytes.NewReader(event))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := f.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, body, err
}

// Gateway starts an HTTP endpoint on 127.0.0.1 that forwards invocations
// to the emulator as they are, through the same lock as Invoke and counted
// by Invocations, and returns its invocation URL: give it to the simulator
// instead of URL, and a test knows exactly whether a GraphQL request
// reached the function, and the test's own direct invocations never
// overlap the simulator's (which the emulator would not survive).
func (f *Function) Gateway() (string, error) {
	f.gatewayOnce.Do(func() {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			f.gatewayErr = err
			return
		}
		srv := &http.Server{Handler: http.HandlerFunc(f.serveGateway), ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = srv.Serve(l) }()
		f.gatewayStop = func() { _ = srv.Close() }
		f.gatewayURL = "http://" + l.Addr().String() + invocationPath
	})
	return f.gatewayURL, f.gatewayErr
}

func (f *Function) serveGateway(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != invocationPath {
		http.NotFound(w, r)
		return
	}
	event, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	status, body, err := f.post(r.Context(), event)
	if err != nil {
		http.Error(w, "gateway: "+err.Error(), http.StatusBadGateway)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// classify turns the emulator's answer into a result or an error.
func classify(status int, body []byte) (json.RawMessage, error) {
	switch {
	case status == http.StatusBadGateway:
		return nil, &InvokeFailure{Kind: ErrCrashed, Status: status, Body: string(body)}
	case status != http.StatusOK:
		return nil, &InvokeFailure{Kind: ErrEmulator, Status: status, Body: string(body)}
	case bytes.HasPrefix(body, []byte("Task timed out")):
		return nil, &InvokeFailure{Kind: ErrTimedOut, Status: status, Body: string(body)}
	case !json.Valid(body):
		return nil, &InvokeFailure{Kind: ErrEmulator, Status: status, Body: string(body)}
	}
	if fe := functionError(body); fe != nil {
		return nil, fe
	}
	return json.RawMessage(body), nil
}

// functionError recognizes the error result of a function: an object of
// errorType and errorMessage (and a stackTrace, for some runtimes) only.
func functionError(body []byte) *FunctionError {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return nil
	}
	if _, ok := m["errorType"]; !ok {
		return nil
	}
	if _, ok := m["errorMessage"]; !ok {
		return nil
	}
	for k := range m {
		if k != "errorType" && k != "errorMessage" && k != "stackTrace" {
			return nil
		}
	}
	var fe FunctionError
	if json.Unmarshal(body, &fe) != nil {
		return nil
	}
	return &fe
}
