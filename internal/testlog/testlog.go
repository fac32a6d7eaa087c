// Package testlog is a log destination for tests: a buffer that a server's
// or a poller's goroutines write to while the test reads it, and the
// records of log/slog's JSON handler decoded from it.
package testlog

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
)

// Buffer is a bytes.Buffer safe for concurrent writes and reads. The zero
// value is ready to use.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write implements io.Writer.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns what has been written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Records decodes the lines written so far, one JSON object each (a
// slog.JSONHandler's records); a line that is not one is an error.
func (b *Buffer) Records() ([]map[string]any, error) {
	var out []map[string]any
	for line := range strings.Lines(b.String()) {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			return nil, fmt.Errorf("log line %q: %w", strings.TrimSpace(line), err)
		}
		out = append(out, m)
	}
	return out, nil
}
