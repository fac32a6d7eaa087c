package main

import (
	"bufio"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// CPU accounting of the processes a run involves: this one and, when they
// listen on this machine, the DynamoDB and SQS servers. On a 2-core box the
// servers' CPU, not the client's, is what bounds the throughput scenarios;
// these figures say so. Linux only (/proc); elsewhere they are unknown.

// cpuMeter reads the CPU time (user + system) of a set of processes.
type cpuMeter struct {
	pids  []int    // 0: this process
	names []string // for the report
}

// cpuSample is the CPU time of each process of a meter; ok false when it
// could not be read.
type cpuSample struct {
	t  []time.Duration
	ok bool
}

func (m *cpuMeter) sample() cpuSample {
	s := cpuSample{t: make([]time.Duration, len(m.pids)), ok: true}
	for i, pid := range m.pids {
		d, err := processCPU(pid)
		if err != nil {
			s.ok = false
		}
		s.t[i] = d
	}
	return s
}

// since returns the CPU each process used since prev.
func (s cpuSample) since(prev cpuSample) cpuSample {
	d := cpuSample{t: make([]time.Duration, len(s.t)), ok: s.ok && prev.ok}
	for i := range s.t {
		d.t[i] = s.t[i] - prev.t[i]
	}
	return d
}

func (s cpuSample) add(o cpuSample) cpuSample {
	if s.t == nil {
		return o
	}
	d := cpuSample{t: make([]time.Duration, len(s.t)), ok: s.ok && o.ok}
	for i := range s.t {
		d.t[i] = s.t[i] + o.t[i]
	}
	return d
}

// newCPUMeter finds the processes listening on the endpoints' ports (when
// the endpoints are loopback addresses) and returns a meter of them and of
// this process.
func newCPUMeter(ddbEndpoint, sqsEndpoint string) *cpuMeter {
	m := &cpuMeter{pids: []int{0}, names: []string{"client (Go)"}}
	for _, s := range []struct{ name, endpoint string }{{"DynamoDB", ddbEndpoint}, {"SQS", sqsEndpoint}} {
		if pid, ok := listenerPID(s.endpoint); ok {
			m.pids = append(m.pids, pid)
			m.names = append(m.names, s.name)
		}
	}
	return m
}

// userHZ is the unit of /proc/<pid>/stat's times (USER_HZ, 100 on every
// mainstream Linux).
const userHZ = 100

// processCPU returns the user + system CPU time of pid (0: this process).
func processCPU(pid int) (time.Duration, error) {
	name := "self"
	if pid != 0 {
		name = strconv.Itoa(pid)
	}
	b, err := os.ReadFile(filepath.Join("/proc", name, "stat"))
	if err != nil {
		return 0, err
	}
	// The command (field 2) is in parentheses and may hold spaces: the
	// fields after the last ')' start at field 3.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%s/stat: no command", name)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%s/stat: %d fields", name, len(f))
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64) // field 14
	stime, err2 := strconv.ParseInt(f[12], 10, 64) // field 15
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%s/stat: bad times", name)
	}
	return time.Duration(utime+stime) * time.Second / userHZ, nil
}

// listenerPID finds the process with a listening TCP socket on the
// endpoint's port, when the endpoint is on this machine.
func listenerPID(endpoint string) (int, bool) {
	u, err := url.Parse(endpoint)
	if err != nil {
		return 0, false
	}
	switch u.Hostname() {
	case "127.0.0.1", "localhost", "::1":
	default:
		return 0, false
	}
	port, err := strconv.Atoi(u.Port())
	if err != nil {
		return 0, false
	}
	inodes := map[string]bool{}
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		f, err := os.Open(table)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			// sl local_address rem_address st ... inode (field 10)
			fs := strings.Fields(sc.Text())
			if len(fs) < 10 || fs[3] != "0A" { // LISTEN
				continue
			}
			_, hexPort, ok := strings.Cut(fs[1], ":")
			if p, err := strconv.ParseInt(hexPort, 16, 32); ok && err == nil && int(p) == port {
				inodes["socket:["+fs[9]+"]"] = true
			}
		}
		f.Close()
	}
	if len(inodes) == 0 {
		return 0, false
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/fd/*")
	for _, fd := range procs {
		if link, err := os.Readlink(fd); err == nil && inodes[link] {
			pid, err := strconv.Atoi(strings.Split(fd, "/")[2])
			return pid, err == nil
		}
	}
	return 0, false
}

// index is the position of the named process in the meter's samples, -1
// when it is not measured.
func (m *cpuMeter) index(name string) int { return slices.Index(m.names, name) }

// cpuCells formats a CPU sample divided by n (per run, per message) for
// each process, e.g. "Go 3.1 ms, DynamoDB 40 ms, SQS 9 ms".
func (m *cpuMeter) format(s cpuSample, n int) string {
	if !s.ok || n == 0 || len(s.t) == 0 {
		return "–"
	}
	parts := make([]string, len(s.t))
	for i, d := range s.t {
		parts[i] = m.names[i] + " " + dur(d/time.Duration(n))
	}
	return strings.Join(parts, ", ")
}
