package ratelimit

import (
	"testing"
	"time"
)

func TestWrites(t *testing.T) {
	if New(0, 10) != nil {
		t.Fatal("0 writes a minute should mean no limiter")
	}
	now := time.Unix(1_800_000_000, 0)
	l := New(6, 2) // one every 10 s
	l.now = func() time.Time { return now }
	for i := range 2 {
		if _, ok := l.Allow("bob"); !ok {
			t.Fatalf("write %d of the burst refused", i+1)
		}
	}
	wait, ok := l.Allow("bob")
	if ok || wait != 10*time.Second {
		t.Fatalf("third write: ok %v, wait %v; want refused for 10s", ok, wait)
	}
	if _, ok := l.Allow("carol"); !ok {
		t.Fatal("carol refused for bob's writes")
	}
	now = now.Add(wait)
	if _, ok := l.Allow("bob"); !ok {
		t.Fatal("refused after the Retry-After")
	}
	if _, ok := l.Allow("bob"); ok {
		t.Fatal("a refused write must not have been counted as allowance")
	}
	// Idle callers are forgotten once their bucket is full again.
	now = now.Add(l.refill() + time.Second)
	l.Allow("dave")
	if len(l.buckets) != 1 {
		t.Errorf("%d buckets after everyone else went idle, want 1", len(l.buckets))
	}
}

func TestNilAllowsEverything(t *testing.T) {
	var l *Writes
	if _, ok := l.Allow("bob"); !ok {
		t.Fatal("a nil limiter refused a write")
	}
}
