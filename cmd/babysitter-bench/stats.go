package main

import (
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// counts are the requests an operation sent and the items it read. For the
// aws backend, store is DynamoDB API calls and queue SQS API calls (by API
// name, as the SDK's middleware saw them: one per client method call, not
// per retry attempt); for the memory backend they are calls of the Store
// and Queue/Source methods, and items is unknown (-1).
type counts struct {
	store map[string]int
	queue map[string]int
	items int64
}

// sub returns c - prev, API by API.
func (c counts) sub(prev counts) counts {
	d := counts{store: diff(c.store, prev.store), queue: diff(c.queue, prev.queue), items: c.items - prev.items}
	if c.items < 0 {
		d.items = -1
	}
	return d
}

// add returns c + o.
func (c counts) add(o counts) counts {
	s := counts{store: maps.Clone(c.store), queue: maps.Clone(c.queue), items: c.items + o.items}
	if s.store == nil {
		s.store = map[string]int{}
	}
	if s.queue == nil {
		s.queue = map[string]int{}
	}
	for k, v := range o.store {
		s.store[k] += v
	}
	for k, v := range o.queue {
		s.queue[k] += v
	}
	if c.items < 0 || o.items < 0 {
		s.items = -1
	}
	return s
}

func diff(now, prev map[string]int) map[string]int {
	out := map[string]int{}
	for k, v := range now {
		if d := v - prev[k]; d != 0 {
			out[k] = d
		}
	}
	return out
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// format writes counts as "BatchGetItem=1 TransactWriteItems=1", sorted;
// "–" for none.
func format(m map[string]int) string {
	if total(m) == 0 {
		return "–"
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if m[k] != 0 {
			parts = append(parts, k+"="+strconv.Itoa(m[k]))
		}
	}
	return strings.Join(parts, " ")
}

// formatPer is format with every count divided by n.
func formatPer(m map[string]int, n int) string {
	if total(m) == 0 || n == 0 {
		return "–"
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if m[k] != 0 {
			parts = append(parts, k+"="+perOp(int64(m[k]), n))
		}
	}
	return strings.Join(parts, " ")
}

// opStats is one row of the summary: an operation measured count times.
type opStats struct {
	name  string
	count int             // operations (messages for the drain)
	lat   []time.Duration // one per timed unit (an operation, a batch, a run)
	calls counts          // summed over all count operations
	// uncounted: the requests of these operations are not attributed
	// (they overlap other work); the summary shows none.
	uncounted bool
}

// recorder collects the summary rows in the order they were first seen. It
// is safe for concurrent use.
type recorder struct {
	mu   sync.Mutex
	rows []*opStats
	by   map[string]*opStats
}

func (r *recorder) row(name string) *opStats {
	if r.by == nil {
		r.by = map[string]*opStats{}
	}
	s, ok := r.by[name]
	if !ok {
		s = &opStats{name: name, calls: counts{store: map[string]int{}, queue: map[string]int{}}}
		r.by[name] = s
		r.rows = append(r.rows, s)
	}
	return s
}

// add records n operations that took lat (one sample) and sent c.
func (r *recorder) add(name string, n int, lat time.Duration, c counts) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.row(name)
	s.count += n
	s.lat = append(s.lat, lat)
	s.calls = s.calls.add(c)
}

// addUncounted records one operation that took lat, whose requests are
// not attributed to it.
func (r *recorder) addUncounted(name string, lat time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.row(name)
	s.count++
	s.lat = append(s.lat, lat)
	s.uncounted = true
}

func (r *recorder) get(name string) *opStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.by[name]
}

// percentile is the nearest-rank p-quantile (0 < p ≤ 1) of lat; 0 for none.
func percentile(lat []time.Duration, p float64) time.Duration {
	if len(lat) == 0 {
		return 0
	}
	s := slices.Clone(lat)
	slices.Sort(s)
	i := int(math.Ceil(p*float64(len(s)))) - 1
	return s[max(0, min(i, len(s)-1))]
}

func mean(lat []time.Duration) time.Duration {
	if len(lat) == 0 {
		return 0
	}
	var sum time.Duration
	for _, d := range lat {
		sum += d
	}
	return sum / time.Duration(len(lat))
}

// dur formats a duration with three significant digits in µs, ms or s.
func dur(d time.Duration) string {
	switch {
	case d <= 0:
		return "–"
	case d < time.Millisecond:
		return fmt.Sprintf("%.1f µs", float64(d)/float64(time.Microsecond))
	case d < time.Second:
		return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.2f s", d.Seconds())
	}
}

// signedDur is dur for a difference of two moments, which may be negative.
func signedDur(d time.Duration) string {
	if d < 0 {
		return "−" + dur(-d)
	}
	if d == 0 {
		return "0"
	}
	return dur(d)
}

// perOp formats n/ops rounded to two decimals ("1", "2.5", "0.33").
func perOp(n int64, ops int) string {
	if ops == 0 || n < 0 {
		return "–"
	}
	return strconv.FormatFloat(math.Round(float64(n)/float64(ops)*100)/100, 'f', -1, 64)
}

func ratio(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) || x == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f", x)
}

// table is a markdown table, rendered with padded columns so it reads in a
// terminal too.
type table struct {
	head []string
	rows [][]string
}

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

func (t *table) write(w io.Writer) {
	width := make([]int, len(t.head))
	for i, h := range t.head {
		width[i] = utf8.RuneCountInString(h)
	}
	for _, r := range t.rows {
		for i, c := range r {
			if i < len(width) {
				width[i] = max(width[i], utf8.RuneCountInString(c))
			}
		}
	}
	line := func(cells []string) {
		var b strings.Builder
		b.WriteString("|")
		for i := range width {
			c := ""
			if i < len(cells) {
				c = cells[i]
			}
			b.WriteString(" " + c + strings.Repeat(" ", width[i]-utf8.RuneCountInString(c)) + " |")
		}
		fmt.Fprintln(w, b.String())
	}
	line(t.head)
	sep := make([]string, len(width))
	for i := range sep {
		sep[i] = strings.Repeat("-", width[i])
	}
	line(sep)
	for _, r := range t.rows {
		line(r)
	}
}

// progress is the status line on stderr, rewritten in place with '\r' and
// throttled to ten updates a second.
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	start time.Time
	last  time.Time
	width int
	label string
}

func newProgress(w io.Writer) *progress { return &progress{w: w, start: time.Now()} }

// phase sets the line's prefix (the scenario and step) and shows it at once.
func (p *progress) phase(format string, args ...any) {
	p.mu.Lock()
	p.label = fmt.Sprintf(format, args...)
	p.mu.Unlock()
	p.show("", true)
}

// step shows detail after the phase, at most every 100 ms.
func (p *progress) step(format string, args ...any) { p.show(fmt.Sprintf(format, args...), false) }

func (p *progress) show(detail string, force bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if !force && now.Sub(p.last) < 100*time.Millisecond {
		return
	}
	p.last = now
	s := fmt.Sprintf("[%6.1fs] %s", now.Sub(p.start).Seconds(), p.label)
	if detail != "" {
		s += ": " + detail
	}
	n := utf8.RuneCountInString(s)
	pad := max(0, p.width-n)
	p.width = n
	fmt.Fprint(p.w, "\r"+s+strings.Repeat(" ", pad))
}

// done clears the line.
func (p *progress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.width > 0 {
		fmt.Fprint(p.w, "\r"+strings.Repeat(" ", p.width)+"\r")
	}
	p.width = 0
}
