package babysitter_test

import (
	"context"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/babysitter-go/babysitter"
	smemory "github.com/babysitter-go/babysitter/store/memory"
)

// BenchmarkService times whole Service calls on the memory store with the
// default Options: what a caller pays for validation, authorization, the
// store's work and whatever the Service adds around them. Its numbers are
// the baseline the instrumented variants (BenchmarkServiceTelemetry) are
// compared with; run it at two commits side by side to see what a change
// costs:
//
//	go test -run '^$' -bench 'Service' -benchmem -count 10 . | benchstat -
func BenchmarkService(b *testing.B) {
	benchServiceOps(b, babysitter.Options{})
}

// benchServiceOps runs the Service benchmarks on a Service made with opts
// (its Now, NewID and Logger are set here):
//
//   - GetJob: the cheapest call that reaches the store, so the one whose
//     time is most sensitive to a fixed cost per call;
//   - CreateJob: a write with full input validation;
//   - Booking: a job's life up to its booking, three calls (CreateJob,
//     ApplyToJob, BookNanny) and one decline message, sent to a queue that
//     drops it.
func benchServiceOps(b *testing.B, opts babysitter.Options) {
	ctx := context.Background()
	now := time.Date(2030, time.May, 20, 12, 0, 0, 0, time.UTC)
	var seq int
	opts.Now = func() time.Time { return now }
	opts.NewID = func() string { seq++; return "id-" + strconv.Itoa(seq) }
	opts.Logger = slog.New(slog.DiscardHandler)
	opts.VerifyWithoutDocument = true
	svc := babysitter.New(smemory.New(), dropQueue{}, opts)

	admin := babysitter.Actor{Username: "root", Role: babysitter.RoleAdmin}
	alice := babysitter.Actor{Username: "alice", Role: babysitter.RoleParent}
	bob := babysitter.Actor{Username: "bob", Role: babysitter.RoleNanny}
	for _, a := range []babysitter.Actor{alice, bob} {
		kind := babysitter.UserNanny
		if a.Role == babysitter.RoleParent {
			kind = babysitter.UserParent
		}
		if _, err := svc.CreateUser(ctx, a, babysitter.NewUser{Username: a.Username, Email: a.Username + "@example.com", Type: kind,
			Profile: babysitter.Profile{FirstName: a.Username, LastName: "Smith",
				DateOfBirth: babysitter.Date{Year: 1990, Month: time.April, Day: 1}}}); err != nil {
			b.Fatal(err)
		}
		if _, err := svc.UpdateUserStatus(ctx, admin, a.Username, babysitter.StatusChange{Status: babysitter.StatusVerified}); err != nil {
			b.Fatal(err)
		}
	}
	details := babysitter.JobDetails{
		JobType: babysitter.JobBabysitting, Description: "Two kids, one evening", NumberOfKids: 2,
		StartDate: babysitter.Date{Year: 2030, Month: time.June, Day: 1}, StartTime: 18 * 60,
		EndDate: babysitter.Date{Year: 2030, Month: time.June, Day: 1}, EndTime: 23 * 60,
		Address: "1 Main Street", City: "Berlin", Latitude: 52.52, Longitude: 13.405,
		Cost: babysitter.Money{Amount: 6000, Currency: "EUR"},
	}
	job, err := svc.CreateJob(ctx, alice, details)
	if err != nil {
		b.Fatal(err)
	}

	b.Run("GetJob", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := svc.GetJob(ctx, bob, job.ID); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("CreateJob", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := svc.CreateJob(ctx, alice, details); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Booking", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			j, err := svc.CreateJob(ctx, alice, details)
			if err != nil {
				b.Fatal(err)
			}
			app, err := svc.ApplyToJob(ctx, bob, j.ID, babysitter.NewApplication{})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := svc.BookNanny(ctx, alice, j.ID, app.ID); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// dropQueue accepts every message and keeps none, so a benchmark's
// bookings do not pile up in a queue.
type dropQueue struct{}

func (dropQueue) Send(context.Context, []babysitter.Message) error { return nil }
