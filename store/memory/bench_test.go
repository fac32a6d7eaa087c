package memory_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/babysitter-go/babysitter"
	"github.com/babysitter-go/babysitter/store/memory"
)

// The fixtures are made outside the timed region in chunks of batch, so
// the figures are the store's own cost (no ID generation, no setup).
const batch = 4096

var benchGuard = []babysitter.AccountStatus{babysitter.StatusUnverified, babysitter.StatusVerified}

// admin is the Guard of the fixtures' own writes: an admin passes without an
// account.
var admin = babysitter.Guard{Actor: babysitter.Actor{Username: "bench-admin", Role: babysitter.RoleAdmin}}

func benchUser(b *testing.B, s *memory.Store, name string, typ babysitter.UserType) {
	b.Helper()
	now := time.Now()
	u := babysitter.User{
		ID: uuid.NewString(), Username: name, Email: name + "@example.com", Type: typ,
		Status: babysitter.StatusVerified, CreatedOn: now, UpdatedOn: now, Version: 1,
		Profile: babysitter.Profile{
			FirstName: "Bench", LastName: "Mark", SpokenLanguages: []string{"en", "de"},
			Activities: []string{"chess"}, HourlyRate: &babysitter.Money{Amount: 1500, Currency: "EUR"},
		},
	}
	if err := s.CreateUser(b.Context(), u); err != nil {
		b.Fatal(err)
	}
}

func benchJob(parent string) babysitter.Job {
	now := time.Now()
	return babysitter.Job{
		ID: uuid.Must(uuid.NewV7()).String(), ParentUsername: parent, Status: babysitter.JobOpen,
		JobDetails: babysitter.JobDetails{
			JobType: babysitter.JobBabysitting, NumberOfKids: 1, Address: "a", City: "c",
			Cost: babysitter.Money{Amount: 1000, Currency: "EUR"},
		},
		CreatedOn: now, UpdatedOn: now, Version: 1,
	}
}

func benchApplication(jobID, nanny string) babysitter.Application {
	now := time.Now()
	return babysitter.Application{
		ID: uuid.Must(uuid.NewV7()).String(), JobID: jobID, NannyUsername: nanny,
		Status: babysitter.ApplicationPending, CreatedOn: now, UpdatedOn: now,
	}
}

func BenchmarkGetUser(b *testing.B) {
	s := memory.New()
	names := make([]string, 1000)
	for i := range names {
		names[i] = fmt.Sprintf("user%04d", i)
		benchUser(b, s, names[i], babysitter.UserNanny)
	}
	ctx := b.Context()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := s.GetUser(ctx, names[i%len(names)]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGetUserParallel(b *testing.B) {
	s := memory.New()
	names := make([]string, 1000)
	for i := range names {
		names[i] = fmt.Sprintf("user%04d", i)
		benchUser(b, s, names[i], babysitter.UserNanny)
	}
	ctx := b.Context()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for i := 0; pb.Next(); i++ {
			if _, err := s.GetUser(ctx, names[i%len(names)]); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkCreateJob(b *testing.B) {
	s := memory.New()
	benchUser(b, s, "parent", babysitter.UserParent)
	ctx := b.Context()
	g := babysitter.Guard{Actor: babysitter.Actor{Username: "parent", Role: babysitter.RoleParent}, Allow: benchGuard}
	var jobs []babysitter.Job
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if i%batch == 0 {
			b.StopTimer()
			jobs = jobs[:0]
			for range batch {
				jobs = append(jobs, benchJob("parent"))
			}
			b.StartTimer()
		}
		if err := s.CreateJob(ctx, g, jobs[i%batch]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkApplyToJob(b *testing.B) {
	s := memory.New()
	benchUser(b, s, "parent", babysitter.UserParent)
	benchUser(b, s, "nanny", babysitter.UserNanny)
	ctx := b.Context()
	g := babysitter.Guard{Actor: babysitter.Actor{Username: "nanny", Role: babysitter.RoleNanny}, Allow: benchGuard}
	var apps []babysitter.Application
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if i%batch == 0 {
			b.StopTimer()
			apps = apps[:0]
			for range batch {
				j := benchJob("parent")
				if err := s.CreateJob(ctx, admin, j); err != nil {
					b.Fatal(err)
				}
				apps = append(apps, benchApplication(j.ID, "nanny"))
			}
			b.StartTimer()
		}
		if err := s.ApplyToJob(ctx, g, apps[i%batch]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkListJobsByStatusFirstPage(b *testing.B) {
	s := memory.New()
	benchUser(b, s, "parent", babysitter.UserParent)
	ctx := b.Context()
	for range 10_000 {
		if err := s.CreateJob(ctx, admin, benchJob("parent")); err != nil {
			b.Fatal(err)
		}
	}
	p := babysitter.PageRequest{Limit: babysitter.DefaultLimit}
	b.ReportAllocs()
	for b.Loop() {
		page, err := s.ListJobsByStatus(ctx, admin, babysitter.JobOpen, p)
		if err != nil || len(page.Items) != p.Limit || page.NextCursor == "" {
			b.Fatal(len(page.Items), err)
		}
	}
}

func BenchmarkBookNanny(b *testing.B) {
	s := memory.New()
	benchUser(b, s, "parent", babysitter.UserParent)
	benchUser(b, s, "nanny", babysitter.UserNanny)
	ctx := b.Context()
	g := babysitter.Guard{Actor: babysitter.Actor{Username: "parent", Role: babysitter.RoleParent}, Allow: benchGuard}
	var apps []babysitter.Application
	now := time.Now()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if i%batch == 0 {
			b.StopTimer()
			apps = apps[:0]
			for range batch {
				j := benchJob("parent")
				a := benchApplication(j.ID, "nanny")
				if err := s.CreateJob(ctx, admin, j); err != nil {
					b.Fatal(err)
				}
				if err := s.ApplyToJob(ctx, admin, a); err != nil {
					b.Fatal(err)
				}
				apps = append(apps, a)
			}
			b.StartTimer()
		}
		a := apps[i%batch]
		r := babysitter.BookRequest{Guard: g, ApplicationRef: babysitter.ApplicationRef{JobID: a.JobID, ApplicationID: a.ID}, Applicant: benchGuard, At: now}
		if _, _, err := s.BookNanny(ctx, r); err != nil {
			b.Fatal(err)
		}
	}
}
