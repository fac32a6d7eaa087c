package dynamodb_test

import (
	"errors"
	"testing"

	"github.com/babysitter-go/babysitter"
)

// Attacks on the DynamoDB store, from the security review (branch
// review-attack), against DynamoDB Local. All are regression tests:
// the attacks were refused when written.

// TestAttack_ForgedCursorsStayInTheirPartition (regression): cursors are
// opaque but not signed (base64 JSON), so a client can forge one for the
// right scope whose key names another partition — another user's reviews,
// another job's applications, another nanny's applications — hoping the
// Query's ExclusiveStartKey moves the read there. Each must be invalid
// input, refused before any request: the store checks the key's partition,
// prefix and range against the list's own.
func TestAttack_ForgedCursorsStayInTheirPartition(t *testing.T) {
	t.Parallel()
	s, calls, _, _ := countingStore(t)
	ctx := t.Context()
	victim, attacker := newUser(babysitter.UserNanny), newUser(babysitter.UserNanny)
	parent := newUser(babysitter.UserParent)
	for _, u := range []babysitter.User{victim, attacker, parent} {
		must(t, "CreateUser", s.CreateUser(ctx, u))
	}
	mine, theirs := newJob(parent.Username), newJob(parent.Username)
	must(t, "CreateJob", s.CreateJob(ctx, active(parent), mine))
	must(t, "CreateJob", s.CreateJob(ctx, active(parent), theirs))
	app := newApplication(theirs.ID, victim.Username)
	must(t, "ApplyToJob", s.ApplyToJob(ctx, verified(victim), app))

	cases := []struct {
		name string
		run  func() error
	}{
		{"ListReviews of the attacker with the victim's partition", func() error {
			c := babysitter.EncodeCursor("reviews:"+attacker.Username, map[string]string{"PK": "USER#" + victim.Username, "SK": "REVIEW#0"})
			_, err := s.ListReviews(ctx, attacker.Username, babysitter.PageRequest{Cursor: c})
			return err
		}},
		{"ListApplicationsForJob of one job with another job's partition", func() error {
			c := babysitter.EncodeCursor("job-apps:"+mine.ID, map[string]string{"PK": "JOB#" + theirs.ID, "SK": "APPLICATION#" + app.ID})
			_, _, err := s.ListApplicationsForJob(ctx, active(parent), mine.ID, babysitter.PageRequest{Cursor: c})
			return err
		}},
		{"ListJobsAppliedTo of the attacker with the victim's index partition", func() error {
			c := babysitter.EncodeCursor("nanny-apps:"+attacker.Username, map[string]string{
				"PK": "JOB#" + theirs.ID, "SK": "APPLICATION#" + app.ID, "GSI1PK": "USER#" + victim.Username, "GSI1SK": "APPLICATION#" + app.ID,
			})
			_, _, err := s.ListJobsAppliedTo(ctx, active(attacker), attacker.Username, babysitter.PageRequest{Cursor: c})
			return err
		}},
		{"ListJobsByStatus OPEN with a CLOSED partition", func() error {
			c := babysitter.EncodeCursor("jobs:OPEN", map[string]string{
				"PK": "JOB#" + mine.ID, "SK": "JOB#" + mine.ID, "GSI2PK": "JOBSTATUS#CLOSED", "GSI2SK": "JOB#" + mine.ID,
			})
			_, err := s.ListJobsByStatus(ctx, active(attacker), babysitter.JobOpen, babysitter.PageRequest{Cursor: c})
			return err
		}},
		{"ListUsers NANNY starting inside the email reservations", func() error {
			c := babysitter.EncodeCursor("users:NANNY", map[string]string{
				"PK": "USEREMAIL#a", "SK": "USEREMAIL#a", "GSI2PK": "USERTYPE#NANNY", "GSI2SK": "USEREMAIL#a",
			})
			_, err := s.ListUsers(ctx, admin, babysitter.UserNanny, babysitter.PageRequest{Cursor: c})
			return err
		}},
	}
	for _, c := range cases {
		calls.Reset()
		if err := c.run(); !errors.Is(err, babysitter.ErrInvalidInput) || calls.Total() != 0 {
			t.Errorf("%s: %v after calls %s, want ErrInvalidInput before any request", c.name, err, calls)
		}
	}
}

// TestAttack_BookThroughAnotherJob (regression): a parent books, through
// her own OPEN job, the ID of an application to another parent's job —
// hoping the booking's update of "the application" reaches an item of
// the other job's partition, or writes a stray one. The application key
// is built under the booked job's partition, so it is not found and
// nothing is written: both jobs stay OPEN, the application PENDING.
func TestAttack_BookThroughAnotherJob(t *testing.T) {
	t.Parallel()
	s, _, _, _ := countingStore(t)
	ctx := t.Context()
	mallory, victim := newUser(babysitter.UserParent), newUser(babysitter.UserParent)
	nanny := newUser(babysitter.UserNanny)
	for _, u := range []babysitter.User{mallory, victim, nanny} {
		must(t, "CreateUser", s.CreateUser(ctx, u))
	}
	mine, theirs := newJob(mallory.Username), newJob(victim.Username)
	must(t, "CreateJob", s.CreateJob(ctx, active(mallory), mine))
	must(t, "CreateJob", s.CreateJob(ctx, active(victim), theirs))
	app := newApplication(theirs.ID, nanny.Username)
	must(t, "ApplyToJob", s.ApplyToJob(ctx, verified(nanny), app))

	if _, _, err := s.BookNanny(ctx, book(mallory, mine.ID, app.ID, mine.CreatedOn)); !errors.Is(err, babysitter.ErrNotFound) {
		t.Errorf("booking another job's application through one's own job: %v, want ErrNotFound", err)
	}
	if _, _, err := s.BookNanny(ctx, book(mallory, theirs.ID, app.ID, mine.CreatedOn)); !errors.Is(err, babysitter.ErrForbidden) {
		t.Errorf("booking another parent's job: %v, want ErrForbidden", err)
	}
	for _, id := range []string{mine.ID, theirs.ID} {
		j, err := s.GetJob(ctx, admin, id)
		must(t, "GetJob", err)
		if j.Status != babysitter.JobOpen {
			t.Errorf("job %s is %s, want OPEN", id, j.Status)
		}
	}
	_, apps, err := s.ListApplicationsForJob(ctx, admin, theirs.ID, babysitter.PageRequest{})
	must(t, "ListApplicationsForJob", err)
	if len(apps.Items) != 1 || apps.Items[0].Status != babysitter.ApplicationPending {
		t.Errorf("the victim's job's applications: %+v, want one PENDING", apps.Items)
	}
	_, mineApps, err := s.ListApplicationsForJob(ctx, admin, mine.ID, babysitter.PageRequest{})
	must(t, "ListApplicationsForJob", err)
	if len(mineApps.Items) != 0 {
		t.Errorf("mallory's job has %d application item(s) after the attempt, want none (no stray item)", len(mineApps.Items))
	}
}

// TestAttack_DeclinesOfAnOpenJob (regression): a forged decline message
// (or a stray outbox entry) names a job that is still OPEN, hoping the
// consumer declines its PENDING applications — the nannies a parent is
// about to choose from. DeclinePending reads the job in the same
// consistent Query as its applications and refuses (ErrConflict) without
// a single write; a job that does not exist is ErrNotFound, also without
// writes.
func TestAttack_DeclinesOfAnOpenJob(t *testing.T) {
	t.Parallel()
	s, calls, _, _ := countingStore(t)
	ctx := t.Context()
	parent, nanny := newUser(babysitter.UserParent), newUser(babysitter.UserNanny)
	must(t, "CreateUser", s.CreateUser(ctx, parent))
	must(t, "CreateUser", s.CreateUser(ctx, nanny))
	j := newJob(parent.Username)
	must(t, "CreateJob", s.CreateJob(ctx, active(parent), j))
	app := newApplication(j.ID, nanny.Username)
	must(t, "ApplyToJob", s.ApplyToJob(ctx, verified(nanny), app))

	for id, kind := range map[string]error{j.ID: babysitter.ErrConflict, newJob(parent.Username).ID: babysitter.ErrNotFound} {
		calls.Reset()
		if _, err := s.DeclinePending(ctx, id, j.CreatedOn); !errors.Is(err, kind) {
			t.Errorf("DeclinePending(%s): %v, want %v", id, err, kind)
		}
		if c := calls.Calls(); c["TransactWriteItems"]+c["UpdateItem"]+c["DeleteItem"] != 0 {
			t.Errorf("DeclinePending(%s) wrote: %s", id, calls)
		}
	}
	_, apps, err := s.ListApplicationsForJob(ctx, admin, j.ID, babysitter.PageRequest{})
	must(t, "ListApplicationsForJob", err)
	if len(apps.Items) != 1 || apps.Items[0].Status != babysitter.ApplicationPending {
		t.Errorf("the OPEN job's applications: %+v, want one PENDING", apps.Items)
	}
}
