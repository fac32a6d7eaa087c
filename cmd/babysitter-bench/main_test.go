package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/babysitter-go/babysitter/internal/testenv"
)

// TestRunSmall runs the whole program at its CI size on both backends and
// checks the summary: every scenario is there and every operation sends
// exactly its minimum of requests. Timings are never asserted: they
// belong to BENCHMARKS.md, not to a test.
func TestRunSmall(t *testing.T) {
	t.Run("memory", func(t *testing.T) {
		checkSummary(t, backendMemory, runSmall(t, "-backend", "memory"))
	})
	t.Run("aws", func(t *testing.T) {
		// The servers come from the environment, or testenv starts them
		// (skipped without them locally; a failure when CI=true). Setting
		// the variables makes run use exactly these.
		t.Setenv(testenv.EnvDynamoDBEndpoint, testenv.DynamoDBEndpoint(t))
		t.Setenv(testenv.EnvSQSEndpoint, testenv.SQSEndpoint(t))
		checkSummary(t, backendAWS, runSmall(t, "-backend", "aws"))
	})
}

func runSmall(t *testing.T, args ...string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "summary.md")
	var stdout, stderr bytes.Buffer
	if err := run(t.Context(), append([]string{"-size", "small", "-o", out}, args...), &stdout, &stderr); err != nil {
		t.Fatalf("run: %v\nstderr:\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "\r") {
		t.Errorf("no progress line on stderr")
	}
	file, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if string(file) != stdout.String() {
		t.Errorf("-o file differs from stdout")
	}
	return stdout.String()
}

func checkSummary(t *testing.T, backend, summary string) {
	t.Helper()
	for _, want := range []string{
		"# babysitter-bench: backend " + backend + ", size small",
		"## Targets",
		"## 1. Round trips per Service operation",
		"## 2. Library overhead",
		"## 3. BookNanny through every decline, against the tutorial",
		"## 4. Listing: first page of ListJobsByStatus(OPEN)",
		"## 5. Decline drain",
		"## 6. Cost per booking",
		"## All operations",
	} {
		if !strings.Contains(summary, want) {
			t.Errorf("summary lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("summary:\n%s", summary)
		return
	}

	// Every row of the round-trip table is at its minimum.
	rows := tableRows(sectionText(summary, "## 1. "))
	if len(rows) != 24 {
		t.Errorf("round-trip table has %d operations, want 24", len(rows))
	}
	for _, r := range rows {
		// operation | actor | store | queue | minimum | = minimum | …
		if len(r) < 6 || r[5] != "yes" {
			t.Errorf("not at the minimum: %s", strings.Join(r, " | "))
		}
	}
	for _, r := range tableRows(sectionText(summary, "## Targets")) {
		if r[0] == "round trips = minimum, every operation" && r[3] != "yes" {
			t.Errorf("targets: %s", strings.Join(r, " | "))
		}
	}

	// Each scenario's table has its rows: drain and cost have the bare
	// writers and the tutorial on aws only.
	drainRows, costRows := 1, 0
	if backend == backendAWS {
		drainRows, costRows = 5, 4
	}
	for heading, n := range map[string]int{"## 2. ": 2, "## 3. ": 2, "## 4. ": 2, "## 5. ": drainRows, "## 6. ": costRows} {
		if got := len(tableRows(sectionText(summary, heading))); got != n {
			t.Errorf("%s… table has %d rows, want %d", heading, got, n)
		}
	}

	// BookNanny and its floor send the same requests, whatever N: on
	// DynamoDB 1 BatchGetItem + 1 TransactWriteItems and 1 SendMessageBatch;
	// on memory 1 Store call and 1 Queue call.
	for _, op := range []string{"booking: BookNanny, 1 application (pairs)", "booking: BookNanny's floor, its requests bare (pairs)"} {
		r := summaryRow(summary, op)
		if len(r) < 6 || r[4] != "2" && backend == backendAWS || r[4] != "1" && backend == backendMemory || r[5] != "1" {
			t.Errorf("%s: want 2 DynamoDB requests (1 Store call) and 1 SQS request per call, got %q", op, r)
		}
	}
	// The drain: one job of 150 applications is declined with one Query,
	// ⌈150/100⌉ transactions and the outbox delete.
	if backend == backendAWS {
		rows := tableRows(sectionText(summary, "## 5. "))
		if got, want := rows[0][7], "DeleteItem=1 Query=1 TransactWriteItems=2"; got != want {
			t.Errorf("drain: the library sent %q per run, want %q", got, want)
		}
	}

	// The cost scenario counted the requests it priced; each is the design's.
	for _, r := range tableRows(sectionText(summary, "## 6. ")) {
		// N | side | DynamoDB requests | … | SQS requests | $ | as designed
		if len(r) < 10 || r[9] != "yes" {
			t.Errorf("cost: requests not as designed: %s", strings.Join(r, " | "))
			continue
		}
		if r[1] == "library" {
			want := "BatchGetItem=1 DeleteItem=1 Query=1 TransactWriteItems=2"
			if r[2] != want || r[7] != "DeleteMessageBatch=1 ReceiveMessage=1 SendMessageBatch=1" {
				t.Errorf("cost: library, N=%s: DynamoDB %q, SQS %q; want %q and one send, receive and delete", r[0], r[2], r[7], want)
			}
		}
	}
	if t.Failed() {
		t.Logf("summary:\n%s", summary)
	}
}

// summaryRow returns the cells of the "All operations" row of op.
func summaryRow(summary, op string) []string {
	for _, r := range tableRows(sectionText(summary, "## All operations")) {
		if r[0] == op {
			return r
		}
	}
	return nil
}

// sectionText returns the text from the heading to the next "## ".
func sectionText(s, heading string) string {
	i := strings.Index(s, heading)
	if i < 0 {
		return ""
	}
	s = s[i+len(heading):]
	if j := strings.Index(s, "\n## "); j >= 0 {
		s = s[:j]
	}
	return s
}

// tableRows returns the cells of the body rows of the first markdown table
// in s.
func tableRows(s string) [][]string {
	var rows [][]string
	inTable := false
	for line := range strings.Lines(s) {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "|") {
			if inTable {
				break
			}
			continue
		}
		if !inTable { // the header
			inTable = true
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		if strings.HasPrefix(cells[0], "---") {
			continue
		}
		rows = append(rows, cells)
	}
	return rows
}
