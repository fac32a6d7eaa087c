package storetest

import (
	"testing"

	"github.com/babysitter-go/babysitter"
)

var guardCases = []testCase{
	{"deactivated actor cannot write", testGuardDeactivatedWrites},
	{"deactivated actor cannot read", testGuardDeactivatedReads},
	{"unverified nanny cannot apply when verified is required", testGuardUnverified},
	{"missing account", testGuardMissingAccount},
	{"zero guard checks nothing", testGuardZero},
	{"guard is on the actor, not the target", testGuardActor},
}

// deactivate sets username's status to DEACTIVATED.
func (f *fixture) deactivate(username string) {
	f.t.Helper()
	f.setStatus(username, babysitter.StatusDeactivated)
}

func (f *fixture) setStatus(username string, st babysitter.AccountStatus) {
	f.t.Helper()
	if _, err := f.s.SetUserStatus(f.ctx, username, st, now()); err != nil {
		f.t.Fatalf("SetUserStatus %s %s: %v", username, st, err)
	}
}

func testGuardDeactivatedWrites(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	p, n, d := f.parent(), f.nanny(), f.parent()
	j := f.job(p.Username)
	j2 := f.job(p.Username)
	a := f.apply(j.ID, n.Username)
	for _, u := range []string{p.Username, n.Username, d.Username} {
		f.deactivate(u)
	}
	pu, nu, du := f.getUser(p.Username), f.getUser(n.Username), f.getUser(d.Username)
	gp, gn, gd := guard(p.Username), guard(n.Username), guard(d.Username)

	newJ := newJob(p.Username)
	newA := newApplication(j2.ID, n.Username)
	editJ := j
	editJ.Description = "edited"
	editJ.Version++
	editP := pu
	editP.FirstName = "edited"
	editP.Version++

	for _, tc := range []struct {
		name string
		call func() error
	}{
		{"CreateJob", func() error { return s.CreateJob(f.ctx, gp, newJ) }},
		{"UpdateJob", func() error { return s.UpdateJob(f.ctx, gp, p.Username, editJ) }},
		{"TransitionJob", func() error {
			_, err := s.TransitionJob(f.ctx, gp, j.ID, p.Username, babysitter.JobOpen, babysitter.JobCancelled, now())
			return err
		}},
		{"BookNanny", func() error {
			_, _, err := s.BookNanny(f.ctx, gp, j.ID, a.ID, p.Username, now())
			return err
		}},
		{"ApplyToJob", func() error { return s.ApplyToJob(f.ctx, gn, newA) }},
		{"WithdrawApplication", func() error {
			_, err := s.WithdrawApplication(f.ctx, gn, j.ID, a.ID, n.Username, now())
			return err
		}},
		{"UpdateUser", func() error { return s.UpdateUser(f.ctx, gp, pu.Email, editP) }},
		{"DeleteUser", func() error { return s.DeleteUser(f.ctx, gd, d.Username) }},
	} {
		wantErr(t, tc.name+" by a deactivated actor", tc.call(), babysitter.ErrForbidden)
	}

	// Nothing was written.
	f.wantNoJob(newJ.ID)
	check(t, "job after refused writes", j, f.getJob(j.ID))
	check(t, "parent after refused writes", pu, f.getUser(p.Username))
	check(t, "nanny after refused writes", nu, f.getUser(n.Username))
	check(t, "deactivated user after a refused delete", du, f.getUser(d.Username))
	f.wantApps(j.ID, a)
	f.wantApps(j2.ID)
}

func testGuardDeactivatedReads(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	p, n, d := f.parent(), f.nanny(), f.nanny()
	j := f.job(p.Username)
	f.apply(j.ID, n.Username)
	f.deactivate(d.Username)
	gd := guard(d.Username)
	pr := babysitter.PageRequest{Limit: 10}
	for _, tc := range []struct {
		name string
		call func() error
	}{
		{"GetJob", func() error { _, err := s.GetJob(f.ctx, gd, j.ID); return err }},
		{"ListJobsByStatus", func() error { _, err := s.ListJobsByStatus(f.ctx, gd, babysitter.JobOpen, pr); return err }},
		{"ListJobsByParent", func() error { _, _, err := s.ListJobsByParent(f.ctx, gd, p.Username, pr); return err }},
		{"ListApplicationsForJob", func() error { _, _, err := s.ListApplicationsForJob(f.ctx, gd, j.ID, pr); return err }},
		{"ListJobsAppliedTo", func() error { _, _, err := s.ListJobsAppliedTo(f.ctx, gd, n.Username, pr); return err }},
		{"ListJobsAppliedTo (own)", func() error { _, _, err := s.ListJobsAppliedTo(f.ctx, gd, d.Username, pr); return err }},
		{"ListUsers", func() error { _, err := s.ListUsers(f.ctx, gd, babysitter.UserNanny, pr); return err }},
	} {
		wantErr(t, tc.name+" by a deactivated actor", tc.call(), babysitter.ErrForbidden)
	}

	// Reactivated, the same reads pass.
	f.setStatus(d.Username, babysitter.StatusVerified)
	if _, err := s.GetJob(f.ctx, gd, j.ID); err != nil {
		t.Fatalf("GetJob by a reactivated actor: %v", err)
	}
	if _, _, err := s.ListApplicationsForJob(f.ctx, gd, j.ID, pr); err != nil {
		t.Fatalf("ListApplicationsForJob by a reactivated actor: %v", err)
	}
}

func testGuardUnverified(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	p, n := f.parent(), f.nanny() // both UNVERIFIED
	j := f.job(p.Username)
	a := newApplication(j.ID, n.Username)
	g := babysitter.Guard{Username: n.Username, Allow: verified}
	wantErr(t, "ApplyToJob by an UNVERIFIED nanny", s.ApplyToJob(f.ctx, g, a), babysitter.ErrForbidden)
	f.wantApps(j.ID)

	f.setStatus(n.Username, babysitter.StatusVerified)
	if err := s.ApplyToJob(f.ctx, g, a); err != nil {
		t.Fatalf("ApplyToJob by the VERIFIED nanny: %v", err)
	}
	f.wantApps(j.ID, a)

	// The same for a parent booking.
	gp := babysitter.Guard{Username: p.Username, Allow: verified}
	_, _, err := s.BookNanny(f.ctx, gp, j.ID, a.ID, p.Username, now())
	wantErr(t, "BookNanny by an UNVERIFIED parent", err, babysitter.ErrForbidden)
	check(t, "job after the refused booking", j, f.getJob(j.ID))
	f.setStatus(p.Username, babysitter.StatusVerified)
	if _, _, err := s.BookNanny(f.ctx, gp, j.ID, a.ID, p.Username, now()); err != nil {
		t.Fatalf("BookNanny by the VERIFIED parent: %v", err)
	}
}

func testGuardMissingAccount(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	p, n := f.parent(), f.nanny()
	j := f.job(p.Username)
	ghost := guard(uniqueName())
	newJ := newJob(p.Username)
	a := newApplication(j.ID, n.Username)
	wantErr(t, "CreateJob by a missing account", s.CreateJob(f.ctx, ghost, newJ), babysitter.ErrForbidden)
	wantErr(t, "ApplyToJob by a missing account", s.ApplyToJob(f.ctx, ghost, a), babysitter.ErrForbidden)
	_, err := s.GetJob(f.ctx, ghost, j.ID)
	wantErr(t, "GetJob by a missing account", err, babysitter.ErrForbidden)
	_, err = s.ListJobsByStatus(f.ctx, ghost, babysitter.JobOpen, babysitter.PageRequest{Limit: 1})
	wantErr(t, "ListJobsByStatus by a missing account", err, babysitter.ErrForbidden)
	f.wantNoJob(newJ.ID)
	f.wantApps(j.ID)
}

func testGuardZero(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	p, n := f.parent(), f.nanny()
	f.deactivate(p.Username)
	f.deactivate(n.Username)
	var zero babysitter.Guard

	j := newJob(p.Username)
	if err := s.CreateJob(f.ctx, zero, j); err != nil {
		t.Fatalf("CreateJob with the zero guard: %v", err)
	}
	if _, err := s.GetJob(f.ctx, zero, j.ID); err != nil {
		t.Fatalf("GetJob with the zero guard: %v", err)
	}
	a := newApplication(j.ID, n.Username)
	if err := s.ApplyToJob(f.ctx, zero, a); err != nil {
		t.Fatalf("ApplyToJob with the zero guard: %v", err)
	}
	if _, _, err := s.ListJobsByParent(f.ctx, zero, p.Username, babysitter.PageRequest{Limit: 5}); err != nil {
		t.Fatalf("ListJobsByParent with the zero guard: %v", err)
	}
	if _, _, err := s.BookNanny(f.ctx, zero, j.ID, a.ID, p.Username, now()); err != nil {
		t.Fatalf("BookNanny with the zero guard: %v", err)
	}
}

func testGuardActor(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	admin := f.user(babysitter.UserAdmin)
	f.setStatus(admin.Username, babysitter.StatusVerified)
	u := f.parent()
	f.deactivate(u.Username) // the target's status does not matter

	next := f.getUser(u.Username)
	next.FirstName = "By admin"
	next.Version++
	if err := s.UpdateUser(f.ctx, guard(admin.Username), next.Email, next); err != nil {
		t.Fatalf("UpdateUser by an active admin: %v", err)
	}
	check(t, "user after the admin's update", next, f.getUser(u.Username))

	f.deactivate(admin.Username)
	again := next
	again.FirstName = "Again"
	again.Version++
	wantErr(t, "UpdateUser by a deactivated admin", s.UpdateUser(f.ctx, guard(admin.Username), next.Email, again), babysitter.ErrForbidden)
	check(t, "user after the refused update", next, f.getUser(u.Username))
}
