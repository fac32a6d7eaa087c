// Package ratelimit is the per-caller write limit the transports share:
// a token bucket per username, so one account can neither flood the
// service nor probe it (an email already taken answers differently) and
// no caller uses up another's allowance.
package ratelimit

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Default limits of the transports: a burst for a burst of clicks, then
// one write every two seconds — far below what a script probing for taken
// email addresses would need.
const (
	DefaultPerMinute = 30
	DefaultBurst     = 20
)

// Writes limits each caller's writes with a token bucket per username. A
// nil *Writes allows everything. It is safe for concurrent use.
type Writes struct {
	limit rate.Limit
	burst int
	now   func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
	swept   time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

// New allows perMinute writes a minute per caller, burst at once; nil
// (no limit) when perMinute is 0 or less. burst below 1 is 1.
func New(perMinute float64, burst int) *Writes {
	if perMinute <= 0 {
		return nil
	}
	return &Writes{limit: rate.Limit(perMinute / 60), burst: max(burst, 1), now: time.Now, buckets: map[string]*bucket{}}
}

// Allow takes one write from username's bucket. When it is empty it takes
// nothing and says how long until a write is allowed again.
func (l *Writes) Allow(username string) (retryAfter time.Duration, ok bool) {
	if l == nil {
		return 0, true
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	b := l.buckets[username]
	if b == nil {
		b = &bucket{lim: rate.NewLimiter(l.limit, l.burst)}
		l.buckets[username] = b
	}
	b.seen = now
	r := b.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return d, false
	}
	return 0, true
}

// refill is how long an idle bucket takes to fill up again.
func (l *Writes) refill() time.Duration {
	return time.Duration(float64(l.burst) / float64(l.limit) * float64(time.Second))
}

// sweep drops the buckets idle for longer than a refill, at most once per
// refill period. A full bucket is the same as a new one, so dropping it
// changes no answer, and the map holds only the recently active callers.
func (l *Writes) sweep(now time.Time) {
	refill := l.refill()
	if now.Sub(l.swept) < refill {
		return
	}
	l.swept = now
	for name, b := range l.buckets {
		if now.Sub(b.seen) > refill {
			delete(l.buckets, name)
		}
	}
}
