package babysitter_test

import (
	"errors"
	"testing"

	"github.com/babysitter-go/babysitter"
	qmemory "github.com/babysitter-go/babysitter/queue/memory"
	smemory "github.com/babysitter-go/babysitter/store/memory"
)

// The trust scenarios of issue 12, through the Service on the memory
// backends: each was let through before the rules were bound to the
// stored account. storetest runs the same rules on every Store; the HTTP
// example's e2e suite runs them over HTTP.

type trustWorld struct {
	t   *testing.T
	svc *babysitter.Service
}

func newTrustWorld(t *testing.T) *trustWorld {
	// Trust is about the accounts' statuses, not the documents behind
	// them: admins verify without one here (uploads_test.go verifies on
	// documents).
	return &trustWorld{t: t, svc: babysitter.New(smemory.New(), qmemory.New(qmemory.Options{}), babysitter.Options{VerifyWithoutDocument: true})}
}

// account creates and verifies the account of a.
func (w *trustWorld) account(a babysitter.Actor) {
	w.t.Helper()
	if _, err := w.svc.CreateUser(w.t.Context(), a, newUserInput(a)); err != nil {
		w.t.Fatalf("CreateUser(%s): %v", a.Username, err)
	}
	if _, err := w.svc.UpdateUserStatus(w.t.Context(), admin, a.Username, babysitter.StatusChange{Status: babysitter.StatusVerified}); err != nil {
		w.t.Fatalf("verify %s: %v", a.Username, err)
	}
}

func (w *trustWorld) must(what string, err error) {
	w.t.Helper()
	if err != nil {
		w.t.Fatalf("%s: %v", what, err)
	}
}

func (w *trustWorld) refused(what string, err, kind error) {
	w.t.Helper()
	if !errors.Is(err, kind) {
		w.t.Errorf("%s: %v, want %v", what, err, kind)
	}
}

func TestBookingADeactivatedNanny(t *testing.T) {
	w := newTrustWorld(t)
	ctx := t.Context()
	w.account(p1)
	w.account(n1)
	j, err := w.svc.CreateJob(ctx, p1, jobInput())
	w.must("CreateJob", err)
	app, err := w.svc.ApplyToJob(ctx, n1, j.ID, babysitter.NewApplication{})
	w.must("ApplyToJob", err)
	_, err = w.svc.UpdateUserStatus(ctx, admin, n1.Username, babysitter.StatusChange{Status: babysitter.StatusDeactivated})
	w.must("deactivate", err)

	_, err = w.svc.BookNanny(ctx, p1, j.ID, app.ID)
	w.refused("BookNanny of a deactivated nanny", err, babysitter.ErrConflict)
	got, err := w.svc.GetJob(ctx, p1, j.ID)
	w.must("GetJob", err)
	if got.Status != babysitter.JobOpen {
		t.Errorf("job is %s after the refused booking, want OPEN", got.Status)
	}
}

func TestRoleBoundToAccountType(t *testing.T) {
	w := newTrustWorld(t)
	ctx := t.Context()
	alice := babysitter.Actor{Username: "alice", Role: babysitter.RoleParent}
	aliceAsNanny := babysitter.Actor{Username: "alice", Role: babysitter.RoleNanny}
	w.account(alice)
	w.account(n1)
	bobAsParent := babysitter.Actor{Username: n1.Username, Role: babysitter.RoleParent}

	j, err := w.svc.CreateJob(ctx, alice, jobInput())
	w.must("CreateJob", err)
	_, err = w.svc.ApplyToJob(ctx, aliceAsNanny, j.ID, babysitter.NewApplication{})
	w.refused("a PARENT account applying with a nanny token", err, babysitter.ErrForbidden)
	_, err = w.svc.CreateJob(ctx, bobAsParent, jobInput())
	w.refused("a NANNY account creating a job with a parent token", err, babysitter.ErrForbidden)
	_, err = w.svc.ListJobsAppliedTo(ctx, aliceAsNanny, "alice", babysitter.PageRequest{})
	w.refused("a PARENT account listing applications as a nanny", err, babysitter.ErrForbidden)

	// The booked story runs, then alice tries to review herself both ways.
	app, err := w.svc.ApplyToJob(ctx, n1, j.ID, babysitter.NewApplication{})
	w.must("ApplyToJob", err)
	_, err = w.svc.BookNanny(ctx, alice, j.ID, app.ID)
	w.must("BookNanny", err)
	_, err = w.svc.CompleteJob(ctx, alice, j.ID)
	w.must("CompleteJob", err)
	answers := func(d babysitter.ReviewDirection) map[string]bool {
		m := map[string]bool{}
		for _, q := range babysitter.Questions(d) {
			m[q] = true
		}
		return m
	}
	_, err = w.svc.LeaveReview(ctx, alice, j.ID, babysitter.NewReview{Rating: 5, Answers: answers(babysitter.ReviewOfNanny)})
	w.must("the parent's review", err)
	_, err = w.svc.LeaveReview(ctx, aliceAsNanny, j.ID, babysitter.NewReview{Rating: 5, Answers: answers(babysitter.ReviewOfParent)})
	w.refused("alice reviewing herself as the nanny", err, babysitter.ErrForbidden)
	u, err := w.svc.GetUser(ctx, alice, "alice")
	w.must("GetUser", err)
	if u.Rating.Count != 0 {
		t.Errorf("alice's rating count is %d, want 0", u.Rating.Count)
	}
}

func TestDeletedUsernameIsNeverReused(t *testing.T) {
	w := newTrustWorld(t)
	ctx := t.Context()
	w.account(p1)
	w.account(n1)
	j, err := w.svc.CreateJob(ctx, p1, jobInput())
	w.must("CreateJob", err)
	app, err := w.svc.ApplyToJob(ctx, n1, j.ID, babysitter.NewApplication{})
	w.must("ApplyToJob", err)
	_, err = w.svc.BookNanny(ctx, p1, j.ID, app.ID)
	w.must("BookNanny", err)
	w.must("DeleteUser", w.svc.DeleteUser(ctx, p1, p1.Username))

	in := newUserInput(p1)
	in.Email = "someone.else@example.com"
	_, err = w.svc.CreateUser(ctx, p1, in)
	var exists *babysitter.AlreadyExistsError
	if !errors.As(err, &exists) || exists.Field != babysitter.FieldUsername {
		t.Fatalf("CreateUser of a deleted username: %v, want already exists on username", err)
	}
	// Without an account, the old token reaches nothing the account owned.
	_, err = w.svc.ListApplicationsForJob(ctx, p1, j.ID, babysitter.PageRequest{})
	w.refused("reading the old job's applicants", err, babysitter.ErrForbidden)
	_, err = w.svc.CompleteJob(ctx, p1, j.ID)
	w.refused("completing the old job", err, babysitter.ErrForbidden)
}

func TestDeletedNannysApplicationIsInert(t *testing.T) {
	w := newTrustWorld(t)
	ctx := t.Context()
	w.account(p1)
	w.account(n1)
	w.account(n2)
	j, err := w.svc.CreateJob(ctx, p1, jobInput())
	w.must("CreateJob", err)
	gone, err := w.svc.ApplyToJob(ctx, n1, j.ID, babysitter.NewApplication{})
	w.must("ApplyToJob", err)
	other, err := w.svc.ApplyToJob(ctx, n2, j.ID, babysitter.NewApplication{})
	w.must("ApplyToJob", err)
	// A nanny with a PENDING application may delete her account.
	w.must("DeleteUser of a nanny with a PENDING application", w.svc.DeleteUser(ctx, n1, n1.Username))
	_, err = w.svc.BookNanny(ctx, p1, j.ID, gone.ID)
	w.refused("booking a deleted nanny", err, babysitter.ErrConflict)
	_, err = w.svc.BookNanny(ctx, p1, j.ID, other.ID)
	w.must("booking another nanny", err)
}

// TestAccountBoundToSubject: an identity provider may give a username to a
// new identity once its user is deleted there (Cognito does). The account
// stays bound to the identity that created it (Actor.Subject): another
// subject with the same username, in the same group, acts through nothing
// the account owns and sees only its public profile; an admin and the
// original identity are unaffected.
func TestAccountBoundToSubject(t *testing.T) {
	w := newTrustWorld(t)
	ctx := t.Context()
	alice := babysitter.Actor{Username: "alice", Role: babysitter.RoleParent, Subject: "sub-original"}
	stranger := alice
	stranger.Subject = "sub-newcomer"
	noSubject := alice
	noSubject.Subject = ""
	w.account(alice)
	j, err := w.svc.CreateJob(ctx, alice, jobInput())
	w.must("CreateJob by alice", err)

	for _, a := range []babysitter.Actor{stranger, noSubject} {
		u, err := w.svc.GetUser(ctx, a, "alice")
		w.must("GetUser", err)
		if u.Email != "" || u.Address != "" {
			t.Errorf("subject %q reads alice's private profile: email %q, address %q", a.Subject, u.Email, u.Address)
		}
		_, err = w.svc.UpdateUser(ctx, a, "alice", babysitter.UserPatch{About: new("taken over")})
		w.refused("UpdateUser by subject "+a.Subject, err, babysitter.ErrForbidden)
		_, err = w.svc.CreateJob(ctx, a, jobInput())
		w.refused("CreateJob by subject "+a.Subject, err, babysitter.ErrForbidden)
		_, err = w.svc.GetJob(ctx, a, j.ID)
		w.refused("GetJob by subject "+a.Subject, err, babysitter.ErrForbidden)
		_, err = w.svc.CancelJob(ctx, a, j.ID)
		w.refused("CancelJob by subject "+a.Subject, err, babysitter.ErrForbidden)
		w.refused("DeleteUser by subject "+a.Subject, w.svc.DeleteUser(ctx, a, "alice"), babysitter.ErrForbidden)
	}
	u, err := w.svc.GetUser(ctx, alice, "alice")
	w.must("GetUser by alice", err)
	if u.Email == "" || u.About == "taken over" {
		t.Errorf("alice's own view: email %q, about %q", u.Email, u.About)
	}
	if got, err := w.svc.GetJob(ctx, alice, j.ID); err != nil || got.Status != babysitter.JobOpen {
		t.Errorf("alice's job after the attempts: %+v, %v; want OPEN", got, err)
	}
	_, err = w.svc.UpdateUser(ctx, alice, "alice", babysitter.UserPatch{About: new("mine")})
	w.must("UpdateUser by alice", err)
}
