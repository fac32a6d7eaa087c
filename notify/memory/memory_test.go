package memory_test

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/babysitter-go/babysitter"
	"github.com/babysitter-go/babysitter/notify/memory"
	"github.com/babysitter-go/babysitter/notify/notifytest"
)

// observer reads what a memory Notifier recorded: it publishes
// synchronously, so there is nothing to wait for.
type observer struct{ n *memory.Notifier }

func (o observer) Published(t *testing.T, want int) []babysitter.Notification {
	t.Helper()
	got := o.n.Published()
	ids := map[string]bool{}
	for _, x := range got {
		ids[x.ID] = true
	}
	if len(ids) < want {
		t.Fatalf("published %d distinct notifications, want at least %d", len(ids), want)
	}
	return got
}

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

func TestConformance(t *testing.T) {
	notifytest.Run(t, notifytest.Harness{
		New: func(t *testing.T) (babysitter.Notifier, notifytest.Observer) {
			n := memory.New(memory.Options{Logger: quiet()})
			return n, observer{n}
		},
	})
}

// TestLogs: each notification is one log line naming its event and
// recipient, so the HTTP example's log shows them.
func TestLogs(t *testing.T) {
	var buf bytes.Buffer
	n := memory.New(memory.Options{Logger: slog.New(slog.NewTextHandler(&buf, nil))})
	ns := notifytest.Booking("j1", 1)
	if err := n.Notify(t.Context(), ns); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != len(ns) {
		t.Fatalf("%d log lines for %d notifications:\n%s", len(lines), len(ns), buf.String())
	}
	for i, x := range ns {
		for _, want := range []string{"msg=notification", "id=" + x.ID, "type=" + string(x.Type), "recipient=" + x.Recipient} {
			if !strings.Contains(lines[i], want) {
				t.Errorf("line %d %q lacks %q", i, lines[i], want)
			}
		}
	}
}

// TestFailNext: injected failures publish nothing, then publishing resumes.
func TestFailNext(t *testing.T) {
	n := memory.New(memory.Options{Logger: quiet()})
	ns := notifytest.Booking("j1", 2)
	n.FailNext(2)
	if err := n.Notify(t.Context(), nil); err != nil {
		t.Errorf("Notify(nil) consumed a failure: %v", err)
	}
	for i := range 2 {
		if err := n.Notify(t.Context(), ns); !errors.Is(err, memory.ErrInjected) {
			t.Errorf("call %d: %v, want ErrInjected", i+1, err)
		}
	}
	if got := n.Published(); len(got) != 0 {
		t.Errorf("failed calls published %d", len(got))
	}
	if err := n.Notify(t.Context(), ns); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(ns, n.Published()); d != "" {
		t.Errorf("published (-want +got):\n%s", d)
	}
}
