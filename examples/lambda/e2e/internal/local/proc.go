package local

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

// process is a child this package started: its own process group (so
// Stop reaches what it spawned: the RIE's bootstrap, node's children) and,
// on Linux, SIGKILL when the starting thread dies, so a crashed or killed
// test binary leaves nothing running.
type process struct {
	name   string
	cmd    *exec.Cmd
	out    *lineBuffer
	stdin  io.WriteCloser
	exited chan struct{}
}

// startProcess starts argv in dir with exactly env (nothing inherited).
// Every line the child writes goes to out (kept for Output) and, if set,
// to onLine.
func startProcess(name, dir string, env []string, onLine func(string), argv ...string) (*process, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = env
	out := &lineBuffer{onLine: onLine, max: 400}
	cmd.Stdout = out
	cmd.Stderr = out
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	cmd.SysProcAttr = sysProcAttr()
	cmd.WaitDelay = time.Second
	p := &process{name: name, cmd: cmd, out: out, stdin: stdin, exited: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		// The parent-death signal fires when the *thread* that forked the
		// child exits; this goroutine keeps its thread, blocked in Wait,
		// for as long as the child lives.
		runtime.LockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		_ = cmd.Wait()
		close(p.exited)
	}()
	if err := <-started; err != nil {
		_ = stdin.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	return p, nil
}

// alive reports whether the child is still running.
func (p *process) alive() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// stop terminates the child's process group (SIGTERM, then SIGKILL after
// a grace period) and waits for it.
func (p *process) stop() {
	if !p.alive() {
		return
	}
	_ = p.stdin.Close()
	terminate(p.cmd.Process)
	select {
	case <-p.exited:
	case <-time.After(5 * time.Second):
		kill(p.cmd.Process)
		<-p.exited
	}
}

// pid is the child's process id.
func (p *process) pid() int { return p.cmd.Process.Pid }

// output is the child's recent output.
func (p *process) output() string { return p.out.String() }

// lineBuffer keeps the last max lines written to it.
type lineBuffer struct {
	mu      sync.Mutex
	partial []byte
	lines   []string
	max     int
	onLine  func(string)
}

func (b *lineBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.partial = append(b.partial, p...)
	for {
		i := bytes.IndexByte(b.partial, '\n')
		if i < 0 {
			break
		}
		line := string(b.partial[:i])
		b.partial = b.partial[i+1:]
		b.lines = append(b.lines, line)
		if len(b.lines) > b.max {
			b.lines = b.lines[len(b.lines)-b.max:]
		}
		if b.onLine != nil {
			b.onLine(line)
		}
	}
	return len(p), nil
}

func (b *lineBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := strings.Join(b.lines, "\n")
	if len(b.partial) > 0 {
		s += "\n" + string(b.partial)
	}
	return s
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitListening polls until something accepts TCP connections on addr,
// the process exits, or the timeout passes.
func waitListening(p *process, addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			_ = c.Close()
			return nil
		}
		if !p.alive() {
			return fmt.Errorf("%s exited before it listened on %s; output:\n%s", p.name, addr, p.output())
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not listen on %s within %v; output:\n%s", p.name, addr, timeout, p.output())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func loopback(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }

var errNotRunning = errors.New("not running")
