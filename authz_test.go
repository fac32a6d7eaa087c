package babysitter_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/babysitter-go/babysitter"
	bmemory "github.com/babysitter-go/babysitter/blob/memory"
	qmemory "github.com/babysitter-go/babysitter/queue/memory"
	smemory "github.com/babysitter-go/babysitter/store/memory"
)

// world is the fixture every authorization cell starts from: two parents
// (p1 owns the OPEN jobs j1 and j2) and two nannies (n1 has applied to j1
// with application a1), each verified on an identity document of theirs
// (docs), and an admin without an account.
type world struct {
	svc    *babysitter.Service
	blobs  *bmemory.Blobs
	j1, j2 string
	a1     string
	docs   map[string]string // username → upload ID
	// upload is set by a setup that leaves an upload of p1's to confirm.
	upload string
}

var (
	anon   = babysitter.Actor{}
	p1     = babysitter.Actor{Username: "parent.one", Role: babysitter.RoleParent}
	p2     = babysitter.Actor{Username: "parent.two", Role: babysitter.RoleParent}
	n1     = babysitter.Actor{Username: "nanny.one", Role: babysitter.RoleNanny}
	n2     = babysitter.Actor{Username: "nanny.two", Role: babysitter.RoleNanny}
	admin  = babysitter.Actor{Username: "root", Role: babysitter.RoleAdmin}
	newbie = babysitter.Actor{Username: "newbie", Role: babysitter.RoleParent}
)

func newWorld(t *testing.T) *world {
	t.Helper()
	ctx := t.Context()
	blobs := newBlobs(t, nil)
	svc := babysitter.New(smemory.New(), qmemory.New(qmemory.Options{}), evidenceOptions(blobs))
	w := &world{svc: svc, blobs: blobs, docs: map[string]string{}}
	for _, a := range []babysitter.Actor{p1, p2, n1, n2} {
		if err := w.join(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []*string{&w.j1, &w.j2} {
		j, err := svc.CreateJob(ctx, p1, jobInput())
		if err != nil {
			t.Fatalf("CreateJob: %v", err)
		}
		*id = j.ID
	}
	app, err := svc.ApplyToJob(ctx, n1, w.j1, babysitter.NewApplication{Message: "hello"})
	if err != nil {
		t.Fatalf("ApplyToJob: %v", err)
	}
	w.a1 = app.ID
	return w
}

// join creates a's account and has an admin verify it on an identity
// document a uploads.
func (w *world) join(ctx context.Context, a babysitter.Actor) error {
	if _, err := w.svc.CreateUser(ctx, a, newUserInput(a)); err != nil {
		return fmt.Errorf("CreateUser(%s): %w", a.Username, err)
	}
	id, err := verifyOnDocument(ctx, w.svc, w.blobs, a)
	if err != nil {
		return fmt.Errorf("verify %s: %w", a.Username, err)
	}
	w.docs[a.Username] = id
	return nil
}

func newUserInput(a babysitter.Actor) babysitter.NewUser {
	typ := babysitter.UserParent
	if a.Role == babysitter.RoleNanny {
		typ = babysitter.UserNanny
	}
	return babysitter.NewUser{
		Username: a.Username,
		Email:    a.Username + "@example.com",
		Type:     typ,
		Profile: babysitter.Profile{
			FirstName:   "First",
			LastName:    "Last",
			DateOfBirth: babysitter.Date{Year: 1990, Month: time.April, Day: 1},
		},
	}
}

func jobInput() babysitter.JobDetails {
	return babysitter.JobDetails{
		JobType:      babysitter.JobBabysitting,
		Description:  "Two kids after school",
		NumberOfKids: 2,
		StartDate:    babysitter.Date{Year: 2030, Month: time.May, Day: 1},
		EndDate:      babysitter.Date{Year: 2030, Month: time.May, Day: 1},
		StartTime:    8 * 60,
		EndTime:      18 * 60,
		Address:      "1 Main St",
		City:         "Berlin",
		Latitude:     52.52,
		Longitude:    13.405,
		Cost:         babysitter.Money{Amount: 5000, Currency: "EUR"},
	}
}

type outcome int

const (
	ok outcome = iota
	forbidden
	unauth
)

func (o outcome) String() string { return [...]string{"ok", "forbidden", "unauthenticated"}[o] }

func outcomeOf(err error) (outcome, bool) {
	switch {
	case err == nil:
		return ok, true
	case errors.Is(err, babysitter.ErrForbidden):
		return forbidden, true
	case errors.Is(err, babysitter.ErrUnauthenticated):
		return unauth, true
	}
	return 0, false
}

// TestAuthorizationMatrix runs every operation as every kind of caller,
// each cell on a fresh world, and checks allow/deny. The columns are:
// anonymous; the owner (p1, owner of the jobs and the user being read or
// changed, or n1 — the applicant — where a nanny owns the target); another
// parent; a nanny (n1, or n2 where n1 is the owner); another nanny; an
// admin; and the owner again after an admin DEACTIVATED their account.
func TestAuthorizationMatrix(t *testing.T) {
	t.Parallel()
	type cell struct {
		anon, owner, otherParent, nanny, otherNanny, admin, deactivated outcome
	}
	tests := []struct {
		op string
		// owner is who the "owner" and "deactivated" columns act as.
		owner babysitter.Actor
		setup func(ctx context.Context, w *world) error
		call  func(ctx context.Context, w *world, a babysitter.Actor) error
		want  cell
	}{
		{
			op: "CreateUser", owner: newbie,
			call: func(ctx context.Context, w *world, a babysitter.Actor) error {
				_, err := w.svc.CreateUser(ctx, a, newUserInput(newbie))
				return err
			},
			// The deactivated column: newbie cannot be deactivated before it
			// exists; a deactivated p1 creating newbie is forbidden anyway.
			want: cell{unauth, ok, forbidden, forbidden, forbidden, forbidden, forbidden},
		},
		{
			op: "GetUser", owner: p1,
			call: func(ctx context.Context, w *world, a babysitter.Actor) error {
				_, err := w.svc.GetUser(ctx, a, p1.Username)
				return err
			},
			want: cell{ok, ok, ok, ok, ok, ok, ok},
		},
		{
			op: "UpdateUser", owner: p1,
			call: func(ctx context.Context, w *world, a babysitter.Actor) error {
				about := "updated"
				_, err := w.svc.UpdateUser(ctx, a, p1.Username, babysitter.UserPatch{About: &about})
				return err
			},
			want: cell{unauth, ok, forbidden, forbidden, forbidden, ok, forbidden},
		},
		{
			op: "UpdateUserStatus", owner: p1,
			call: func(ctx context.Context, w *world, a babysitter.Actor) error {
				_, err := w.svc.UpdateUserStatus(ctx, a, n2.Username, babysitter.StatusChange{Status: babysitter.StatusVerified, UploadID: w.docs[n2.Username]})
				return err
			},
			want: cell{unauth, forbidden, forbidden, forbidden, forbidden, ok, forbidden},
		},
		{
			op: "RequestUpload", owner: p1,
			call: func(ctx context.Context, w *world, a babysitter.Actor) error {
				_, err := w.svc.RequestUpload(ctx, a, p1.Username, babysitter.UploadRequest{Kind: babysitter.UploadPicture, ContentType: "image/png", ContentLength: 3})
				return err
			},
			// Uploads go to one's own account; admins have none.
			want: cell{unauth, ok, forbidden, forbidden, forbidden, forbidden, forbidden},
		},
		{
			op: "ConfirmUpload", owner: p1,
			setup: func(ctx context.Context, w *world) error {
				up, err := upload(ctx, w.svc, w.blobs, p1, babysitter.UploadPicture, "image/png", []byte("png"))
				w.upload = up.ID
				return err
			},
			call: func(ctx context.Context, w *world, a babysitter.Actor) error {
				_, err := w.svc.ConfirmUpload(ctx, a, babysitter.UploadRef{Username: p1.Username, UploadID: w.upload})
				return err
			},
			want: cell{unauth, ok, forbidden, forbidden, forbidden, forbidden, forbidden},
		},
		{
			op: "GetDocument", owner: p1,
			call: func(ctx context.Context, w *world, a babysitter.Actor) error {
				_, err := w.svc.GetDocument(ctx, a, babysitter.UploadRef{Username: p1.Username, UploadID: w.docs[p1.Username]})
				return err
			},
			// Admins only: not even the document's owner.
			want: cell{unauth, forbidden, forbidden, forbidden, forbidden, ok, forbidden},
		},
		{
			op: "DeleteUser", owner: p1,
			setup: func(ctx context.Context, w *world) error {
				for _, j := range []string{w.j1, w.j2} {
					if _, err := w.svc.CancelJob(ctx, admin, j); err != nil {
						return err
					}
				}
				return nil
			},
			call: func(ctx context.Context, w *world, a babysitter.Actor) error {
				return w.svc.DeleteUser(ctx, a, p1.Username)
			},
			want: cell{unauth, ok, forbidden, forbidden, forbidden, ok, forbidden},
		},
		{
			op: "ListUsers", owner: p1,
			call: func(ctx context.Context, w *world, a babysitter.Actor) error {
				_, err := w.svc.ListUsers(ctx, a, babysitter.UserNanny, babysitter.PageRequest{})
				return err
			},
			want: cell{unauth, ok, ok, forbidden, forbidden, ok, forbidden},
		},
		{
			op: "CreateJob", owner: p1,
			call: func(ctx context.Context, w *world, a babysitter.Actor) error {
				_, err := w.svc.CreateJob(ctx, a, jobInput())
				return err
			},
			want: cell{unauth, ok, ok, forbidden, forbidden, forbidden, forbidden},
		},
		{
			op: "GetJob", owner: p1,
			call: func(ctx context.Context, w *world, a babysitter.Actor) error {
				_, err := w.svc.GetJob(ctx, a, w.j1)
				return err
			},
			want: cell{unauth, ok, ok, ok, ok, ok, forbidden},
		},
		{
			op: "UpdateJob", owner: p1,
			call: func(ctx context.Context, w *world, a babysitter.Actor) error {
				kids := 3
				_, err := w.svc.UpdateJob(ctx, a, w.j1, babysitter.JobPatch{NumberOfKids: &kids})
				return err
			},
			want: cell{unauth, ok, forbidden, forbidden, forbidden, ok, forbidden},
		},
		{
			op: "CancelJob", owner: p1,
			call: func(ctx context.Context, w *world, a babysitter.Actor) error {
				_, err := w.svc.CancelJob(ctx, a, w.j1)
				return err
			},
			want: cell{unauth, ok, forbidden, forbidden, forbidden, ok, forbidden},
		},
		{
			op: "ListJobsByStatus", owner: n1,
			call: func(ctx context.Context, w *world, a babysitter.Actor) error {
				_, err := w.svc.ListJobsByStatus(ctx, a, babysitter.JobOpen, babysitter.PageRequest{})
				return err
			},
			want: cell{unauth, ok, forbidden, ok, ok, ok, forbidden},
		},
		{
			op: "ListJobsByParent", owner: p1,
			call: func(ctx context.Context, w *world, a babysitter.Actor) error {
				_, err := w.svc.ListJobsByParent(ctx, a, p1.Username, babysitter.PageRequest{})
				return err
			},
			want: cell{unauth, ok, forbidden, forbidden, forbidden, ok, forbidden},
		},
		{
			op: "ApplyToJob", owner: n1,
			call: func(ctx context.Context, w *world, a babysitter.Actor) error {
				_, err := w.svc.ApplyToJob(ctx, a, w.j2, babysitter.NewApplication{})
				return err
			},
			want: cell{unauth, ok, forbidden, ok, ok, forbidden, forbidden},
		},
		{
			op: "WithdrawApplication", owner: n1,
			call: func(ctx context.Context, w *world, a babysitter.Actor) error {
				_, err := w.svc.WithdrawApplication(ctx, a, w.j1, w.a1)
				return err
			},
			want: cell{unauth, ok, forbidden, forbidden, forbidden, forbidden, forbidden},
		},
		{
			op: "ListApplicationsForJob", owner: p1,
			call: func(ctx context.Context, w *world, a babysitter.Actor) error {
				_, err := w.svc.ListApplicationsForJob(ctx, a, w.j1, babysitter.PageRequest{})
				return err
			},
			want: cell{unauth, ok, forbidden, forbidden, forbidden, ok, forbidden},
		},
		{
			op: "ListJobsAppliedTo", owner: n1,
			call: func(ctx context.Context, w *world, a babysitter.Actor) error {
				_, err := w.svc.ListJobsAppliedTo(ctx, a, n1.Username, babysitter.PageRequest{})
				return err
			},
			want: cell{unauth, ok, forbidden, forbidden, forbidden, ok, forbidden},
		},
		{
			op: "BookNanny", owner: p1,
			call: func(ctx context.Context, w *world, a babysitter.Actor) error {
				_, err := w.svc.BookNanny(ctx, a, w.j1, w.a1)
				return err
			},
			want: cell{unauth, ok, forbidden, forbidden, forbidden, forbidden, forbidden},
		},
		{
			op: "ReconcileJob", owner: p1,
			setup: func(ctx context.Context, w *world) error {
				_, err := w.svc.CancelJob(ctx, p1, w.j1)
				return err
			},
			call: func(ctx context.Context, w *world, a babysitter.Actor) error {
				_, err := w.svc.ReconcileJob(ctx, a, w.j1)
				return err
			},
			want: cell{unauth, ok, forbidden, forbidden, forbidden, ok, forbidden},
		},
		{
			op: "CompleteJob", owner: p1,
			setup: func(ctx context.Context, w *world) error {
				_, err := w.svc.BookNanny(ctx, p1, w.j1, w.a1)
				return err
			},
			call: func(ctx context.Context, w *world, a babysitter.Actor) error {
				_, err := w.svc.CompleteJob(ctx, a, w.j1)
				return err
			},
			want: cell{unauth, ok, forbidden, forbidden, forbidden, forbidden, forbidden},
		},
		{
			op: "LeaveReview", owner: p1,
			setup: func(ctx context.Context, w *world) error {
				if _, err := w.svc.BookNanny(ctx, p1, w.j1, w.a1); err != nil {
					return err
				}
				_, err := w.svc.CompleteJob(ctx, p1, w.j1)
				return err
			},
			call: func(ctx context.Context, w *world, a babysitter.Actor) error {
				in := babysitter.NewReview{Rating: 5, Answers: map[string]bool{"punctual": true, "wouldBookAgain": true, "followedInstructions": true}}
				if a.Role == babysitter.RoleNanny {
					in.Answers = map[string]bool{"clearInstructions": true, "paidAsAgreed": true, "wouldWorkAgain": true}
				}
				_, err := w.svc.LeaveReview(ctx, a, w.j1, in)
				return err
			},
			// the booked nanny (n1) reviews the parent; n2 was not booked.
			want: cell{unauth, ok, forbidden, ok, forbidden, forbidden, forbidden},
		},
		{
			op: "ListReviews", owner: p1,
			call: func(ctx context.Context, w *world, a babysitter.Actor) error {
				_, err := w.svc.ListReviews(ctx, a, n1.Username, babysitter.PageRequest{})
				return err
			},
			want: cell{ok, ok, ok, ok, ok, ok, ok},
		},
		{
			op: "ListJobsNear", owner: n1,
			call: func(ctx context.Context, w *world, a babysitter.Actor) error {
				_, err := w.svc.ListJobsNear(ctx, a, 52.52, 13.405, 5, babysitter.PageRequest{})
				return err
			},
			want: cell{unauth, ok, forbidden, ok, ok, ok, forbidden},
		},
	}
	for _, tt := range tests {
		columns := []struct {
			name  string
			actor babysitter.Actor
			want  outcome
		}{
			{"anonymous", anon, tt.want.anon},
			{"owner", tt.owner, tt.want.owner},
			{"another parent", p2, tt.want.otherParent},
			{"a nanny", n1, tt.want.nanny},
			{"another nanny", n2, tt.want.otherNanny},
			{"admin", admin, tt.want.admin},
			{"deactivated", tt.owner, tt.want.deactivated},
		}
		if tt.owner == n1 {
			columns[3].actor = n2 // "a nanny" other than the owner
			columns[4].actor = babysitter.Actor{Username: "nanny.three", Role: babysitter.RoleNanny}
		}
		for _, c := range columns {
			t.Run(tt.op+"/"+c.name, func(t *testing.T) {
				t.Parallel()
				ctx := t.Context()
				w := newWorld(t)
				if c.actor.Username == "nanny.three" {
					if err := w.join(ctx, c.actor); err != nil {
						t.Fatal(err)
					}
				}
				if tt.setup != nil {
					if err := tt.setup(ctx, w); err != nil {
						t.Fatalf("setup: %v", err)
					}
				}
				actor := c.actor
				if c.name == "deactivated" {
					if actor == newbie {
						actor = p1
					}
					if _, err := w.svc.UpdateUserStatus(ctx, admin, actor.Username, babysitter.StatusChange{Status: babysitter.StatusDeactivated}); err != nil {
						t.Fatalf("deactivate: %v", err)
					}
				}
				err := tt.call(ctx, w, actor)
				got, known := outcomeOf(err)
				if !known {
					t.Fatalf("%s as %s: unexpected error %v (want %v)", tt.op, c.name, err, c.want)
				}
				if got != c.want {
					t.Errorf("%s as %s (%+v): got %v (err %v), want %v", tt.op, c.name, actor, got, err, c.want)
				}
			})
		}
	}
}

// TestActorWithoutRole: an authenticated identity without a known role (a
// Cognito user in no group) reads public data and is refused everything
// else, even on its own account.
func TestActorWithoutRole(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	w := newWorld(t)
	for _, role := range []babysitter.Role{"", "superuser"} {
		a := babysitter.Actor{Username: p1.Username, Role: role}
		if _, err := w.svc.GetUser(ctx, a, p1.Username); err != nil {
			t.Errorf("role %q: GetUser: %v", role, err)
		}
		about := "x"
		for op, err := range map[string]error{
			"UpdateUser": func() error {
				_, err := w.svc.UpdateUser(ctx, a, p1.Username, babysitter.UserPatch{About: &about})
				return err
			}(),
			"DeleteUser": w.svc.DeleteUser(ctx, a, p1.Username),
			"GetJob":     func() error { _, err := w.svc.GetJob(ctx, a, w.j1); return err }(),
			"CreateUser": func() error { _, err := w.svc.CreateUser(ctx, a, newUserInput(p1)); return err }(),
		} {
			if !errors.Is(err, babysitter.ErrForbidden) {
				t.Errorf("role %q: %s = %v, want ErrForbidden", role, op, err)
			}
		}
	}
}
