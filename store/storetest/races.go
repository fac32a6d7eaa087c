package storetest

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/babysitter-go/babysitter"
)

var raceCases = []testCase{
	{"concurrent bookings of one job", testRaceBookings},
	{"concurrent applications by one nanny", testRaceApplySameNanny},
	{"concurrent creates with one email", testRaceCreateSameEmail},
	{"concurrent creates with one username", testRaceCreateSameUsername},
	{"applications racing a booking", testRaceApplyVersusBook},
	{"delete racing create job", testRaceDeleteVersusCreateJob},
	{"delete racing apply", testRaceDeleteVersusApply},
	{"concurrent updates from one version", testRaceUpdateUser},
	{"concurrent email changes to one address", testRaceEmailChange},
	{"cancel racing a booking", testRaceCancelVersusBook},
	{"withdraw racing a booking", testRaceWithdrawVersusBook},
}

// winners returns the indexes of the nil errors, and fails the test for
// any error other than the expected losers' (ok reports those).
func winners(t *testing.T, what string, errs []error, ok func(error) bool) []int {
	t.Helper()
	var won []int
	for i, err := range errs {
		switch {
		case err == nil:
			won = append(won, i)
		case !ok(err):
			t.Errorf("%s %d: unexpected error %v", what, i, err)
		}
	}
	return won
}

func is(kinds ...error) func(error) bool {
	return func(err error) bool {
		for _, k := range kinds {
			if errors.Is(err, k) {
				return true
			}
		}
		return false
	}
}

func exists(field babysitter.Field) func(error) bool {
	return func(err error) bool { return isExists(err, field) }
}

func testRaceBookings(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	p := f.parent()
	j := f.job(p.Username)
	as := f.applyAll(j.ID, f.nannies(scale(100, 20)))

	type booked struct {
		job babysitter.Job
		app babysitter.Application
	}
	results := make([]booked, len(as))
	errs := race(len(as), func(i int) error {
		var err error
		results[i].job, results[i].app, err = s.BookNanny(f.ctx, guard(p.Username), j.ID, as[i].ID, p.Username, now())
		return err
	})
	won := winners(t, "BookNanny", errs, is(babysitter.ErrConflict))
	if len(won) != 1 {
		t.Fatalf("%d bookings succeeded, want exactly 1", len(won))
	}
	w := won[0]
	got := f.getJob(j.ID)
	check(t, "job after the race", results[w].job, got)
	if got.Status != babysitter.JobClosed || got.AcceptedApplicationID != as[w].ID {
		t.Errorf("job is %s accepting %q, want CLOSED accepting the winner %s", got.Status, got.AcceptedApplicationID, as[w].ID)
	}
	want := make([]babysitter.Application, len(as))
	copy(want, as)
	want[w] = results[w].app
	if want[w].Status != babysitter.ApplicationAccepted {
		t.Errorf("winner's application is %s, want ACCEPTED", want[w].Status)
	}
	f.wantApps(j.ID, want...)
	check(t, "PendingApplications after the race", sortedIDs(slices.Delete(slices.Clone(as), w, w+1)), f.pendingIDs(j.ID))
}

func testRaceApplySameNanny(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	p, n := f.parent(), f.nanny()
	j := f.job(p.Username)
	as := make([]babysitter.Application, scale(50, 10))
	for i := range as {
		as[i] = newApplication(j.ID, n.Username)
	}
	errs := race(len(as), func(i int) error { return s.ApplyToJob(f.ctx, guard(n.Username), as[i]) })
	won := winners(t, "ApplyToJob", errs, exists(babysitter.FieldApplication))
	if len(won) != 1 {
		t.Fatalf("%d applications succeeded, want exactly 1", len(won))
	}
	f.wantApps(j.ID, as[won[0]])
	check(t, "PendingApplications", []string{as[won[0]].ID}, f.pendingIDs(j.ID))
}

func testRaceCreateSameEmail(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	us := make([]babysitter.User, scale(20, 5))
	email := uniqueName() + "@example.com"
	for i := range us {
		us[i] = newUser(babysitter.UserNanny)
		us[i].Email = email
	}
	errs := race(len(us), func(i int) error { return s.CreateUser(f.ctx, us[i]) })
	won := winners(t, "CreateUser", errs, exists(babysitter.FieldEmail))
	if len(won) != 1 {
		t.Fatalf("%d creates succeeded, want exactly 1", len(won))
	}
	for i, u := range us {
		if i == won[0] {
			check(t, "the winner", u, f.getUser(u.Username))
		} else {
			f.wantNoUser(u.Username)
		}
	}
}

func testRaceCreateSameUsername(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	us := make([]babysitter.User, scale(20, 5))
	name := uniqueName()
	for i := range us {
		us[i] = newUser(babysitter.UserParent)
		us[i].Username = name
	}
	errs := race(len(us), func(i int) error { return s.CreateUser(f.ctx, us[i]) })
	won := winners(t, "CreateUser", errs, exists(babysitter.FieldUsername))
	if len(won) != 1 {
		t.Fatalf("%d creates succeeded, want exactly 1", len(won))
	}
	check(t, "the winner", us[won[0]], f.getUser(name))
	// The losers' emails were not reserved.
	for i, u := range us {
		if i == won[0] {
			continue
		}
		v := newUser(babysitter.UserParent)
		v.Email = u.Email
		if err := s.CreateUser(f.ctx, v); err != nil {
			t.Errorf("CreateUser with a loser's email: %v", err)
		}
	}
}

// testRaceApplyVersusBook books a job's only application while other
// nannies apply: an application either gets in before the booking — then
// it is PENDING and PendingApplications, read right after BookNanny,
// lists it (so the Service can decline it) — or is refused with a
// conflict. None lands after that read.
func testRaceApplyVersusBook(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	p := f.parent()
	ns := f.nannies(11)
	for trial := range scale(20, 5) {
		j := f.job(p.Username)
		a0 := f.apply(j.ID, ns[0].Username)
		as := make([]babysitter.Application, len(ns)-1)
		for i := range as {
			as[i] = newApplication(j.ID, ns[i+1].Username)
		}
		var (
			accepted babysitter.Application
			snapshot []babysitter.Application // read right after the booking
		)
		errs := race(len(as)+1, func(i int) error {
			if i == len(as) {
				var err error
				_, accepted, err = s.BookNanny(f.ctx, guard(p.Username), j.ID, a0.ID, p.Username, now())
				if err != nil {
					return err
				}
				snapshot, err = s.PendingApplications(f.ctx, j.ID)
				return err
			}
			return s.ApplyToJob(f.ctx, guard(ns[i+1].Username), as[i])
		})
		if err := errs[len(as)]; err != nil {
			t.Fatalf("trial %d: BookNanny and PendingApplications: %v", trial, err)
		}
		var in []babysitter.Application
		for _, i := range winners(t, fmt.Sprintf("trial %d: ApplyToJob", trial), errs[:len(as)], is(babysitter.ErrConflict)) {
			in = append(in, as[i])
		}
		// An application that succeeded got in before the booking: the
		// read right after BookNanny saw it, so the Service declines it.
		check(t, fmt.Sprintf("trial %d: PendingApplications right after the booking", trial), sortedIDs(in), sortedIDs(snapshot))
		check(t, fmt.Sprintf("trial %d: PendingApplications after the race", trial), sortedIDs(in), f.pendingIDs(j.ID))
		f.wantApps(j.ID, append(in, accepted)...)

		// Declining them leaves nothing PENDING.
		res, err := s.DeclineApplications(f.ctx, j.ID, appIDs(in), now())
		if err != nil {
			t.Fatalf("trial %d: DeclineApplications: %v", trial, err)
		}
		check(t, fmt.Sprintf("trial %d: declined", trial), sortedIDs(in), sorted(res.Declined...))
		check(t, fmt.Sprintf("trial %d: PendingApplications after declining", trial), []string{}, f.pendingIDs(j.ID))
	}
}

func testRaceDeleteVersusCreateJob(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	for trial := range scale(20, 5) {
		p := f.parent()
		j := newJob(p.Username)
		g := guard(p.Username)
		if trial%2 == 1 {
			g = babysitter.Guard{} // an admin's call: existence alone must hold
		}
		errs := race(2, func(i int) error {
			if i == 0 {
				return s.DeleteUser(f.ctx, babysitter.Guard{}, p.Username)
			}
			return s.CreateJob(f.ctx, g, j)
		})
		del, create := errs[0], errs[1]
		switch {
		case del == nil && create == nil:
			t.Fatalf("trial %d: both DeleteUser and CreateJob succeeded: job %s is an orphan", trial, j.ID)
		case del == nil:
			if !errors.Is(create, babysitter.ErrNotFound) && !errors.Is(create, babysitter.ErrForbidden) {
				t.Errorf("trial %d: CreateJob for a deleted parent: got %v, want not found or forbidden", trial, create)
			}
			f.wantNoUser(p.Username)
			f.wantNoJob(j.ID)
		case create == nil:
			wantErr(t, fmt.Sprintf("trial %d: DeleteUser with a new OPEN job", trial), del, babysitter.ErrConflict)
			f.getUser(p.Username)
			f.getJob(j.ID)
		default:
			t.Fatalf("trial %d: both failed: DeleteUser: %v; CreateJob: %v", trial, del, create)
		}
	}
}

func testRaceDeleteVersusApply(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	p := f.parent()
	j := f.job(p.Username)
	for trial := range scale(20, 5) {
		n := f.nanny()
		a := newApplication(j.ID, n.Username)
		g := guard(n.Username)
		if trial%2 == 1 {
			g = babysitter.Guard{}
		}
		errs := race(2, func(i int) error {
			if i == 0 {
				return s.DeleteUser(f.ctx, babysitter.Guard{}, n.Username)
			}
			return s.ApplyToJob(f.ctx, g, a)
		})
		del, apply := errs[0], errs[1]
		switch {
		case del == nil && apply == nil:
			t.Fatalf("trial %d: both DeleteUser and ApplyToJob succeeded: application %s is an orphan", trial, a.ID)
		case del == nil:
			if !errors.Is(apply, babysitter.ErrNotFound) && !errors.Is(apply, babysitter.ErrForbidden) {
				t.Errorf("trial %d: ApplyToJob by a deleted nanny: got %v, want not found or forbidden", trial, apply)
			}
			f.wantNoUser(n.Username)
			if slices.Contains(f.pendingIDs(j.ID), a.ID) {
				t.Errorf("trial %d: the deleted nanny's application %s exists", trial, a.ID)
			}
		case apply == nil:
			wantErr(t, fmt.Sprintf("trial %d: DeleteUser with a new PENDING application", trial), del, babysitter.ErrConflict)
			f.getUser(n.Username)
			if !slices.Contains(f.pendingIDs(j.ID), a.ID) {
				t.Errorf("trial %d: application %s missing", trial, a.ID)
			}
		default:
			t.Fatalf("trial %d: both failed: DeleteUser: %v; ApplyToJob: %v", trial, del, apply)
		}
	}
}

func testRaceUpdateUser(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	u := f.user(babysitter.UserNanny)
	nexts := make([]babysitter.User, scale(20, 5))
	for i := range nexts {
		nexts[i] = u
		nexts[i].Profile = fullProfile()
		nexts[i].FirstName = fmt.Sprintf("Writer%d", i)
		nexts[i].Version = u.Version + 1
	}
	errs := race(len(nexts), func(i int) error { return s.UpdateUser(f.ctx, guard(u.Username), u.Email, nexts[i]) })
	won := winners(t, "UpdateUser", errs, is(babysitter.ErrConflict))
	if len(won) != 1 {
		t.Fatalf("%d updates succeeded, want exactly 1", len(won))
	}
	check(t, "user after the race", nexts[won[0]], f.getUser(u.Username))
}

func testRaceEmailChange(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	us := make([]babysitter.User, scale(10, 4))
	for i := range us {
		us[i] = f.user(babysitter.UserParent)
	}
	email := uniqueName() + "@example.com"
	nexts := make([]babysitter.User, len(us))
	for i, u := range us {
		nexts[i] = u
		nexts[i].Email = email
		nexts[i].Version++
	}
	errs := race(len(us), func(i int) error { return s.UpdateUser(f.ctx, guard(us[i].Username), us[i].Email, nexts[i]) })
	won := winners(t, "UpdateUser", errs, exists(babysitter.FieldEmail))
	if len(won) != 1 {
		t.Fatalf("%d email changes succeeded, want exactly 1", len(won))
	}
	for i, u := range us {
		if i == won[0] {
			check(t, "the winner", nexts[i], f.getUser(u.Username))
			// Its old email is free.
			v := newUser(babysitter.UserNanny)
			v.Email = u.Email
			if err := s.CreateUser(f.ctx, v); err != nil {
				t.Errorf("CreateUser with the winner's old email: %v", err)
			}
			continue
		}
		check(t, "a loser", u, f.getUser(u.Username))
		v := newUser(babysitter.UserNanny)
		v.Email = u.Email
		wantExists(t, "CreateUser with a loser's email", s.CreateUser(f.ctx, v), babysitter.FieldEmail)
	}
}

func testRaceCancelVersusBook(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	p, n := f.parent(), f.nanny()
	for trial := range scale(20, 5) {
		j := f.job(p.Username)
		a := f.apply(j.ID, n.Username)
		errs := race(2, func(i int) error {
			var err error
			if i == 0 {
				_, err = s.TransitionJob(f.ctx, guard(p.Username), j.ID, p.Username, babysitter.JobOpen, babysitter.JobCancelled, now())
			} else {
				_, _, err = s.BookNanny(f.ctx, guard(p.Username), j.ID, a.ID, p.Username, now())
			}
			return err
		})
		won := winners(t, fmt.Sprintf("trial %d: cancel or book", trial), errs, is(babysitter.ErrConflict))
		if len(won) != 1 {
			t.Fatalf("trial %d: %d of cancel and book succeeded, want exactly 1 (%v)", trial, len(won), errs)
		}
		got := f.getJob(j.ID)
		if won[0] == 0 {
			if got.Status != babysitter.JobCancelled || got.AcceptedApplicationID != "" {
				t.Errorf("trial %d: cancelled job is %s accepting %q", trial, got.Status, got.AcceptedApplicationID)
			}
			check(t, fmt.Sprintf("trial %d: pending after cancel", trial), []string{a.ID}, f.pendingIDs(j.ID))
		} else {
			if got.Status != babysitter.JobClosed || got.AcceptedApplicationID != a.ID {
				t.Errorf("trial %d: booked job is %s accepting %q", trial, got.Status, got.AcceptedApplicationID)
			}
			check(t, fmt.Sprintf("trial %d: pending after booking", trial), []string{}, f.pendingIDs(j.ID))
		}
	}
}

func testRaceWithdrawVersusBook(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	p, n := f.parent(), f.nanny()
	for trial := range scale(20, 5) {
		j := f.job(p.Username)
		a := f.apply(j.ID, n.Username)
		var results [2]babysitter.Application
		errs := race(2, func(i int) error {
			var err error
			if i == 0 {
				results[i], err = s.WithdrawApplication(f.ctx, guard(n.Username), j.ID, a.ID, n.Username, now())
			} else {
				_, results[i], err = s.BookNanny(f.ctx, guard(p.Username), j.ID, a.ID, p.Username, now())
			}
			return err
		})
		won := winners(t, fmt.Sprintf("trial %d: withdraw or book", trial), errs, is(babysitter.ErrConflict))
		if len(won) != 1 {
			t.Fatalf("trial %d: %d of withdraw and book succeeded, want exactly 1 (%v)", trial, len(won), errs)
		}
		after := results[won[0]]
		got := f.getJob(j.ID)
		if won[0] == 0 {
			if got.Status != babysitter.JobOpen {
				t.Errorf("trial %d: job is %s after the withdrawal won, want OPEN", trial, got.Status)
			}
			if after.Status != babysitter.ApplicationWithdrawn {
				t.Errorf("trial %d: withdrawn application is %s", trial, after.Status)
			}
		} else {
			if got.Status != babysitter.JobClosed || got.AcceptedApplicationID != a.ID {
				t.Errorf("trial %d: booked job is %s accepting %q", trial, got.Status, got.AcceptedApplicationID)
			}
			if after.Status != babysitter.ApplicationAccepted {
				t.Errorf("trial %d: booked application is %s", trial, after.Status)
			}
		}
		f.wantApps(j.ID, after)
		f.cancelIfOpen(got)
	}
}

// cancelIfOpen cancels j when it is OPEN, so the parent's open jobs do not
// pile up.
func (f *fixture) cancelIfOpen(j babysitter.Job) {
	f.t.Helper()
	if j.Status == babysitter.JobOpen {
		f.cancel(j)
	}
}
