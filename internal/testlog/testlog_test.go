package testlog

import (
	"log/slog"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestBuffer: concurrent loggers' records all arrive whole and decode;
// a line that is not JSON is an error.
func TestBuffer(t *testing.T) {
	var b Buffer
	log := slog.New(slog.NewJSONHandler(&b, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() { log.Info("hello", "n", 1) })
	}
	wg.Wait()
	recs, err := b.Records()
	if err != nil {
		t.Fatal(err)
	}
	want := make([]map[string]any, 50)
	for i := range want {
		want[i] = map[string]any{"level": "INFO", "msg": "hello", "n": 1.0}
	}
	if diff := cmp.Diff(want, recs); diff != "" {
		t.Errorf("records (-want +got):\n%s", diff)
	}
	if _, err := b.Write([]byte("not json\n")); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Records(); err == nil {
		t.Error("a line that is not JSON decoded")
	}
}
