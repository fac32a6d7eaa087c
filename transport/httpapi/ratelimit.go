package httpapi

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// writeLimiter limits each caller's writes with a token bucket per
// username. It is safe for concurrent use.
type writeLimiter struct {
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

// newWriteLimiter allows perMinute writes a minute per caller, burst at
// once; nil (no limit) when perMinute is 0.
func newWriteLimiter(perMinute float64, burst int) *writeLimiter {
	if perMinute <= 0 {
		return nil
	}
	return &writeLimiter{limit: rate.Limit(perMinute / 60), burst: burst, now: time.Now, buckets: map[string]*bucket{}}
}

// allow takes one write from username's bucket. When it is empty it takes
// nothing and says how long until a write is allowed again.
func (l *writeLimiter) allow(username string) (retryAfter time.Duration, ok bool) {
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
func (l *writeLimiter) refill() time.Duration {
	return time.Duration(float64(l.burst) / float64(l.limit) * float64(time.Second))
}

// sweep drops the buckets idle for longer than a refill, at most once per
// refill period. A full bucket is the same as a new one, so dropping it
// changes no answer, and the map holds only the recently active callers.
func (l *writeLimiter) sweep(now time.Time) {
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
