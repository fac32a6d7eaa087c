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
	{"creates racing the delete of the username", testRaceCreateVersusDelete},
	{"booking racing the applicant's deactivation", testRaceBookVersusDeactivate},
	{"concurrent updates from one version", testRaceUpdateUser},
	{"concurrent email changes to one address", testRaceEmailChange},
	{"cancel racing a booking", testRaceCancelVersusBook},
	{"withdraw racing a booking", testRaceWithdrawVersusBook},
	{"declines racing withdrawals", testRaceDeclineVersusWithdraw},
	{"concurrent declines of one job", testRaceDeclines},
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
		results[i].job, results[i].app, err = s.BookNanny(f.ctx, booking(j, as[i].ID))
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
	losers := sortedIDs(slices.Delete(slices.Clone(as), w, w+1))
	check(t, "PENDING after the race", losers, f.pendingIDs(j.ID))
	check(t, "declined", losers, sorted(f.declinePending(j.ID, now()).Declined...))
	check(t, "PENDING after declining", []string{}, f.pendingIDs(j.ID))
}

func testRaceApplySameNanny(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	p, n := f.parent(), f.nanny()
	j := f.job(p.Username)
	as := make([]babysitter.Application, scale(50, 10))
	for i := range as {
		as[i] = newApplication(j.ID, n.Username)
	}
	errs := race(len(as), func(i int) error { return s.ApplyToJob(f.ctx, asNanny(n.Username), as[i]) })
	won := winners(t, "ApplyToJob", errs, exists(babysitter.FieldApplication))
	if len(won) != 1 {
		t.Fatalf("%d applications succeeded, want exactly 1", len(won))
	}
	f.wantApps(j.ID, as[won[0]])
	check(t, "PENDING", []string{as[won[0]].ID}, f.pendingIDs(j.ID))
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
// nannies apply, and declines the job's PENDING applications right after
// the booking. An application either gets in before the booking — then
// DeclinePending's read finds it and declines it — or is refused with a
// conflict: none lands after that read, and nothing is left PENDING.
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
			res      babysitter.DeclineResult // right after the booking
			at       = now()
		)
		errs := race(len(as)+1, func(i int) error {
			if i == len(as) {
				var err error
				if _, accepted, err = s.BookNanny(f.ctx, booking(j, a0.ID)); err != nil {
					return err
				}
				res, err = s.DeclinePending(f.ctx, j.ID, at)
				return err
			}
			return s.ApplyToJob(f.ctx, asNanny(ns[i+1].Username), as[i])
		})
		if err := errs[len(as)]; err != nil {
			t.Fatalf("trial %d: BookNanny and DeclinePending: %v", trial, err)
		}
		var in []babysitter.Application
		for _, i := range winners(t, fmt.Sprintf("trial %d: ApplyToJob", trial), errs[:len(as)], is(babysitter.ErrConflict)) {
			in = append(in, as[i])
		}
		check(t, fmt.Sprintf("trial %d: declined right after the booking", trial), sortedIDs(in), sorted(res.Declined...))
		check(t, fmt.Sprintf("trial %d: skipped", trial), []string{}, res.Skipped)
		check(t, fmt.Sprintf("trial %d: the result's applications", trial), byID(append(declined(in, at), accepted)), byID(res.Applications))
		check(t, fmt.Sprintf("trial %d: PENDING after the race", trial), []string{}, f.pendingIDs(j.ID))
		f.wantApps(j.ID, append(declined(in, at), accepted)...)
	}
}

func testRaceDeleteVersusCreateJob(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	for trial := range scale(20, 5) {
		p := f.parent()
		j := newJob(p.Username)
		g := asParent(p.Username)
		if trial%2 == 1 {
			g = asAdmin // an admin's call: the parent's existence alone must hold
		}
		errs := race(2, func(i int) error {
			if i == 0 {
				return noErasure(s.DeleteUser(f.ctx, asParent(p.Username), p.Username, now()))
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

// testRaceDeleteVersusApply deletes nannies while they apply to a job. A
// nanny's PENDING applications do not stop her delete; an application
// either got in first — then it stays PENDING and inert: it can never be
// booked — or is refused, her account being gone. When the job closes,
// every one of them is declined.
func testRaceDeleteVersusApply(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	p := f.parent()
	j := f.job(p.Username)
	var in []babysitter.Application
	for trial := range scale(20, 5) {
		n := f.nanny()
		a := newApplication(j.ID, n.Username)
		errs := race(2, func(i int) error {
			if i == 0 {
				return noErasure(s.DeleteUser(f.ctx, asNanny(n.Username), n.Username, now()))
			}
			return s.ApplyToJob(f.ctx, asNanny(n.Username), a)
		})
		del, apply := errs[0], errs[1]
		if del != nil {
			t.Fatalf("trial %d: DeleteUser racing an application: %v", trial, del)
		}
		f.wantNoUser(n.Username)
		switch {
		case apply == nil:
			in = append(in, a)
			_, _, err := s.BookNanny(f.ctx, booking(j, a.ID))
			wantErr(t, fmt.Sprintf("trial %d: BookNanny of the deleted nanny's application", trial), err, babysitter.ErrConflict)
		case !errors.Is(apply, babysitter.ErrForbidden) && !errors.Is(apply, babysitter.ErrNotFound):
			t.Errorf("trial %d: ApplyToJob by a deleted nanny: got %v, want forbidden or not found", trial, apply)
		}
		check(t, fmt.Sprintf("trial %d: PENDING", trial), sortedIDs(in), f.pendingIDs(j.ID))
	}
	check(t, "job after the race", j, f.getJob(j.ID))
	f.cancel(j)
	check(t, "declined", sortedIDs(in), sorted(f.declinePending(j.ID, now()).Declined...))
	check(t, "PENDING after declining", []string{}, f.pendingIDs(j.ID))
}

// testRaceCreateVersusDelete: CreateUsers of a username race its
// DeleteUser. Whichever commits first, every create fails on the username —
// held by the account, then by its tombstone — and reserves no email;
// once the delete has returned, the username has no account and a create
// of it still fails.
func testRaceCreateVersusDelete(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	for trial := range scale(10, 3) {
		typ := []babysitter.UserType{babysitter.UserParent, babysitter.UserNanny}[trial%2]
		u := f.user(typ)
		us := make([]babysitter.User, scale(8, 3))
		for i := range us {
			us[i] = newUser([]babysitter.UserType{babysitter.UserParent, babysitter.UserNanny}[i%2])
			us[i].Username = u.Username
		}
		errs := race(len(us)+1, func(i int) error {
			if i == len(us) {
				return noErasure(s.DeleteUser(f.ctx, as(role(typ), u.Username), u.Username, now()))
			}
			return s.CreateUser(f.ctx, us[i])
		})
		if err := errs[len(us)]; err != nil {
			t.Fatalf("trial %d: DeleteUser: %v", trial, err)
		}
		for i, err := range errs[:len(us)] {
			if !isExists(err, babysitter.FieldUsername) {
				t.Errorf("trial %d: CreateUser %d racing the delete: got %v, want *AlreadyExistsError on username", trial, i, err)
			}
		}
		f.wantNoUser(u.Username)
		late := newUser(typ)
		late.Username = u.Username
		wantExists(t, fmt.Sprintf("trial %d: CreateUser after the delete", trial), s.CreateUser(f.ctx, late), babysitter.FieldUsername)
		f.wantNoUser(u.Username)
		for _, v := range append(us, late) {
			x := newUser(babysitter.UserNanny)
			x.Email = v.Email
			if err := s.CreateUser(f.ctx, x); err != nil {
				t.Errorf("trial %d: CreateUser with a refused create's email: %v", trial, err)
			}
		}
	}
}

// testRaceBookVersusDeactivate books an application of a VERIFIED nanny
// while an admin deactivates her. Either the booking commits first — the
// job CLOSED, the application ACCEPTED — or it fails with ErrConflict and
// changes nothing. The deactivation reads the job right after it
// committed: a job still OPEN then that ends up booked was booked after
// the deactivation, with a DEACTIVATED applicant.
func testRaceBookVersusDeactivate(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	p := f.parent()
	for trial := range scale(20, 5) {
		n := f.nanny()
		f.setStatus(n.Username, babysitter.StatusVerified)
		j := f.job(p.Username)
		a := f.apply(j.ID, n.Username)
		var (
			accepted   babysitter.Application
			afterwards babysitter.Job // read right after the deactivation
		)
		errs := race(2, func(i int) error {
			var err error
			if i == 0 {
				r := booking(j, a.ID)
				r.Applicant = verified
				_, accepted, err = s.BookNanny(f.ctx, r)
				return err
			}
			if _, err = s.SetUserStatus(f.ctx, babysitter.StatusUpdate{Username: n.Username, Status: babysitter.StatusDeactivated, At: now()}); err != nil {
				return err
			}
			afterwards, err = s.GetJob(f.ctx, asAdmin, j.ID)
			return err
		})
		if err := errs[1]; err != nil {
			t.Fatalf("trial %d: SetUserStatus and GetJob: %v", trial, err)
		}
		got := f.getJob(j.ID)
		switch book := errs[0]; {
		case book == nil:
			if afterwards.Status == babysitter.JobOpen {
				t.Errorf("trial %d: the job was OPEN after the deactivation committed, and then booked with the DEACTIVATED nanny", trial)
			}
			if got.Status != babysitter.JobClosed || got.AcceptedApplicationID != a.ID || accepted.Status != babysitter.ApplicationAccepted {
				t.Errorf("trial %d: booked job is %s accepting %q, application %s", trial, got.Status, got.AcceptedApplicationID, accepted.Status)
			}
			f.wantApps(j.ID, accepted)
		case errors.Is(book, babysitter.ErrConflict):
			check(t, fmt.Sprintf("trial %d: job after the refused booking", trial), j, got)
			f.wantApps(j.ID, a)
			f.cancel(j)
		default:
			t.Errorf("trial %d: BookNanny racing the deactivation: got %v, want nil or conflict", trial, book)
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
	errs := race(len(nexts), func(i int) error { return s.UpdateUser(f.ctx, asNanny(u.Username), u.Email, nexts[i]) })
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
	errs := race(len(us), func(i int) error { return s.UpdateUser(f.ctx, asParent(us[i].Username), us[i].Email, nexts[i]) })
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
				_, err = s.TransitionJob(f.ctx, asParent(p.Username), cancelling(j.ID))
			} else {
				_, _, err = s.BookNanny(f.ctx, booking(j, a.ID))
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
				results[i], err = s.WithdrawApplication(f.ctx, asNanny(n.Username), ref(j.ID, a.ID), now())
			} else {
				_, results[i], err = s.BookNanny(f.ctx, booking(j, a.ID))
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

// testRaceDeclineVersusWithdraw declines a CLOSED job's PENDING
// applications while every one of their nannies withdraws. Each
// application ends either WITHDRAWN (the withdrawal succeeded) or
// DECLINED (DeclinePending says so, and the withdrawal was refused with a
// conflict), never both; DeclinePending skips only applications that were
// withdrawn, and nothing is left PENDING.
func testRaceDeclineVersusWithdraw(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	j, as := f.jobWithApplications(scale(40, 10) + 1)
	f.book(j, as[0])
	rest := as[1:]

	var res babysitter.DeclineResult
	errs := race(len(rest)+1, func(i int) error {
		if i == len(rest) {
			var err error
			res, err = s.DeclinePending(f.ctx, j.ID, now())
			return err
		}
		_, err := s.WithdrawApplication(f.ctx, asNanny(rest[i].NannyUsername), ref(j.ID, rest[i].ID), now())
		return err
	})
	if err := errs[len(rest)]; err != nil {
		t.Fatalf("DeclinePending racing withdrawals: %v", err)
	}
	var withdrawn []string
	for _, i := range winners(t, "WithdrawApplication", errs[:len(rest)], is(babysitter.ErrConflict)) {
		withdrawn = append(withdrawn, rest[i].ID)
	}
	// Declined and withdrawn together are every application, each once.
	check(t, "declined and withdrawn", sortedIDs(rest), sorted(append(slices.Clone(res.Declined), withdrawn...)...))
	for _, id := range res.Skipped {
		if !slices.Contains(withdrawn, id) {
			t.Errorf("DeclinePending skipped %s, which was not withdrawn", id)
		}
	}
	got, err := f.applications(j.ID)
	if err != nil {
		t.Fatalf("applications: %v", err)
	}
	// The result lists every application as it is after the declines,
	// the withdrawn ones as withdrawn, skipped or not.
	listed := resultStatuses(t, "DeclinePending's result", j.ID, res)
	for _, a := range as {
		want := babysitter.ApplicationDeclined
		switch {
		case a.ID == as[0].ID:
			want = babysitter.ApplicationAccepted
		case slices.Contains(withdrawn, a.ID):
			want = babysitter.ApplicationWithdrawn
		}
		if got[a.ID].Status != want {
			t.Errorf("application %s is %s, want %s", a.ID, got[a.ID].Status, want)
		}
		if listed[a.ID] != want {
			t.Errorf("DeclinePending's result lists application %s as %q, want %s (skipped: %t)", a.ID, listed[a.ID], want, slices.Contains(res.Skipped, a.ID))
		}
	}
	t.Logf("%d declined (%d skipped), %d withdrawn", len(res.Declined), len(res.Skipped), len(withdrawn))
}

// testRaceDeclines runs several DeclinePending of one job at once, as
// concurrent consumers of redelivered messages do: every PENDING
// application is declined by exactly one of them, and what one skipped
// another declined.
func testRaceDeclines(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	j, as := f.jobWithApplications(scale(60, 15) + 1)
	f.book(j, as[0])

	results := make([]babysitter.DeclineResult, 4)
	errs := race(len(results), func(i int) error {
		var err error
		results[i], err = s.DeclinePending(f.ctx, j.ID, now())
		return err
	})
	var all []string
	for i, err := range errs {
		if err != nil {
			t.Fatalf("DeclinePending %d: %v", i, err)
		}
		all = append(all, results[i].Declined...)
	}
	check(t, "declined by all together", sortedIDs(as[1:]), sorted(all...))
	for i, r := range results {
		for _, id := range r.Skipped {
			if slices.Contains(r.Declined, id) || !slices.Contains(all, id) {
				t.Errorf("DeclinePending %d skipped %s: declined by itself or by no one", i, id)
			}
		}
		// Each lists every application as it is after the declines —
		// its own and the others' — none PENDING.
		listed := resultStatuses(t, fmt.Sprintf("DeclinePending %d's result", i), j.ID, r)
		if len(listed) != len(as) {
			t.Errorf("DeclinePending %d lists %d applications, want %d", i, len(listed), len(as))
		}
		for id, st := range listed {
			if st == babysitter.ApplicationPending {
				t.Errorf("DeclinePending %d lists application %s as PENDING (skipped: %t)", i, id, slices.Contains(r.Skipped, id))
			}
		}
	}
	check(t, "PENDING after the race", []string{}, f.pendingIDs(j.ID))
}
