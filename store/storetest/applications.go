package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/babysitter-go/babysitter"
)

var applicationCases = []testCase{
	{"apply", testApply},
	{"apply twice", testApplyTwice},
	{"apply refused", testApplyRefused},
	{"apply to one's own job", testApplyOwnJob},
	{"withdraw", testWithdraw},
	{"list for job", testListApplicationsForJob},
	{"list for job only by its parent or an admin", testListApplicationsForJobManager},
	{"list applied to", testListJobsAppliedTo},
}

func testApply(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	p, n := f.parent(), f.nanny()
	j := f.job(p.Username)
	a := newApplication(j.ID, n.Username)
	a.CreatedOn = time.Date(2030, 6, 7, 8, 9, 10, 11, time.UTC)
	a.UpdatedOn = a.CreatedOn
	if err := s.ApplyToJob(f.ctx, asNanny(n.Username), a); err != nil {
		t.Fatalf("ApplyToJob: %v", err)
	}
	f.wantApps(j.ID, a)
	check(t, "PENDING", []string{a.ID}, f.pendingIDs(j.ID))
	check(t, "job after ApplyToJob", j, f.getJob(j.ID))
}

func testApplyTwice(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	p, n := f.parent(), f.nanny()
	j := f.job(p.Username)
	a := f.apply(j.ID, n.Username)
	wantExists(t, "ApplyToJob again", s.ApplyToJob(f.ctx, asNanny(n.Username), newApplication(j.ID, n.Username)), babysitter.FieldApplication)
	f.wantApps(j.ID, a)

	// One application per nanny per job, whatever became of it.
	w, err := s.WithdrawApplication(f.ctx, asNanny(n.Username), ref(j.ID, a.ID), now())
	if err != nil {
		t.Fatalf("WithdrawApplication: %v", err)
	}
	wantExists(t, "ApplyToJob after withdrawing", s.ApplyToJob(f.ctx, asNanny(n.Username), newApplication(j.ID, n.Username)), babysitter.FieldApplication)
	f.wantApps(j.ID, w)

	// Another job is another matter.
	k := f.job(p.Username)
	f.apply(k.ID, n.Username)
}

func testApplyRefused(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	p, n, m := f.parent(), f.nanny(), f.nanny()
	cancelled := f.cancel(f.job(p.Username))
	closed := f.job(p.Username)
	booked := f.apply(closed.ID, m.Username)
	closed, booked = f.book(closed, booked)
	for _, tc := range []struct {
		name  string
		jobID string
		want  error
	}{
		{"a CANCELLED job", cancelled.ID, babysitter.ErrConflict},
		{"a CLOSED job", closed.ID, babysitter.ErrConflict},
		{"a missing job", newID(), babysitter.ErrNotFound},
	} {
		err := s.ApplyToJob(f.ctx, asNanny(n.Username), newApplication(tc.jobID, n.Username))
		wantErr(t, "ApplyToJob to "+tc.name, err, tc.want)
	}
	f.wantApps(cancelled.ID)
	f.wantApps(closed.ID, booked)
	eventually(t, func() error {
		_, page, err := s.ListJobsAppliedTo(f.ctx, asAdmin, n.Username, babysitter.PageRequest{Limit: 10})
		if err != nil {
			return err
		}
		return same("applications of the refused nanny", []babysitter.Application(nil), page.Items)
	})
}

// testApplyOwnJob: no one applies to their own job, whatever the Guard —
// an admin's, or the job's parent's with a nanny's role.
func testApplyOwnJob(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	p := f.parent()
	j := f.job(p.Username)
	for _, g := range []babysitter.Guard{asAdmin, as(babysitter.RoleNanny, p.Username)} {
		err := s.ApplyToJob(f.ctx, g, newApplication(j.ID, p.Username))
		wantErr(t, "ApplyToJob to one's own job as "+string(g.Actor.Role), err, babysitter.ErrForbidden)
	}
	f.wantApps(j.ID)
	check(t, "job after the refused applications", j, f.getJob(j.ID))
	_, page, err := s.ListJobsAppliedTo(f.ctx, asAdmin, p.Username, babysitter.PageRequest{Limit: 10})
	if err != nil {
		t.Fatalf("ListJobsAppliedTo: %v", err)
	}
	check(t, "applications by the job's parent", []babysitter.Application(nil), page.Items)
}

func testWithdraw(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	p, n, m := f.parent(), f.nanny(), f.nanny()
	j, k := f.job(p.Username), f.job(p.Username)
	a := f.apply(j.ID, n.Username)
	b := f.apply(j.ID, m.Username)

	_, err := s.WithdrawApplication(f.ctx, asNanny(m.Username), ref(j.ID, a.ID), now())
	wantErr(t, "WithdrawApplication of another nanny's application", err, babysitter.ErrForbidden)
	_, err = s.WithdrawApplication(f.ctx, asParent(p.Username), ref(j.ID, a.ID), now())
	wantErr(t, "WithdrawApplication by the job's parent", err, babysitter.ErrForbidden)
	_, err = s.WithdrawApplication(f.ctx, asNanny(n.Username), ref(k.ID, a.ID), now())
	wantErr(t, "WithdrawApplication under another job", err, babysitter.ErrNotFound)
	_, err = s.WithdrawApplication(f.ctx, asNanny(n.Username), ref(j.ID, newID()), now())
	wantErr(t, "WithdrawApplication of a missing application", err, babysitter.ErrNotFound)
	f.wantApps(j.ID, a, b)

	at := now().Add(time.Minute)
	got, err := s.WithdrawApplication(f.ctx, asNanny(n.Username), ref(j.ID, a.ID), at)
	if err != nil {
		t.Fatalf("WithdrawApplication: %v", err)
	}
	want := withStatus(a, babysitter.ApplicationWithdrawn, at)
	check(t, "WithdrawApplication result", want, got)
	f.wantApps(j.ID, want, b)

	_, err = s.WithdrawApplication(f.ctx, asNanny(n.Username), ref(j.ID, a.ID), now())
	wantErr(t, "WithdrawApplication again", err, babysitter.ErrConflict)
	f.wantApps(j.ID, want, b)
	check(t, "PENDING after a withdrawal", []string{b.ID}, f.pendingIDs(j.ID))
	check(t, "job after a withdrawal", j, f.getJob(j.ID))
}

func testListApplicationsForJob(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	p := f.parent()
	j, other, empty := f.job(p.Username), f.job(p.Username), f.job(p.Username)
	var apps []babysitter.Application // newest first
	for _, n := range []babysitter.User{f.nanny(), f.nanny(), f.nanny(), f.nanny(), f.nanny()} {
		apps = slices.Insert(apps, 0, f.apply(j.ID, n.Username))
	}
	f.apply(other.ID, f.nanny().Username)
	jj := f.getJob(j.ID)

	for _, tc := range []struct {
		limit int
		sizes []int
	}{
		{2, []int{2, 2, 1}},
		{5, []int{5}}, // no cursor after the last item
		{4, []int{4, 1}},
	} {
		eventually(t, func() error {
			var jobs []babysitter.Job
			pages, err := walk(tc.limit, func(pr babysitter.PageRequest) (babysitter.Page[babysitter.Application], error) {
				got, page, err := s.ListApplicationsForJob(f.ctx, asParent(p.Username), j.ID, pr)
				jobs = append(jobs, got)
				return page, err
			}, nil)
			if err != nil {
				return err
			}
			for _, got := range jobs {
				if err := same("ListApplicationsForJob job", jj, got); err != nil {
					return err
				}
			}
			if err := same(fmt.Sprintf("page sizes with limit %d", tc.limit), tc.sizes, sizes(pages)); err != nil {
				return err
			}
			return same("ListApplicationsForJob applications", apps, slices.Concat(pages...))
		})
	}

	gotJob, page, err := s.ListApplicationsForJob(f.ctx, asAdmin, empty.ID, babysitter.PageRequest{Limit: 10})
	if err != nil {
		t.Fatalf("ListApplicationsForJob of a job without applications: %v", err)
	}
	check(t, "job without applications", empty, gotJob)
	check(t, "page of a job without applications", babysitter.Page[babysitter.Application]{}, page)

	_, _, err = s.ListApplicationsForJob(f.ctx, asAdmin, newID(), babysitter.PageRequest{Limit: 10})
	wantErr(t, "ListApplicationsForJob of a missing job", err, babysitter.ErrNotFound)
}

// testListApplicationsForJobManager: a job's applications are read by its
// parent and admins, no one else.
func testListApplicationsForJobManager(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	p, q, n := f.parent(), f.parent(), f.nanny()
	j := f.job(p.Username)
	a := f.apply(j.ID, n.Username)
	pr := babysitter.PageRequest{Limit: 10}
	for _, g := range []babysitter.Guard{asParent(q.Username), asNanny(n.Username)} {
		_, _, err := s.ListApplicationsForJob(f.ctx, g, j.ID, pr)
		wantErr(t, "ListApplicationsForJob by "+g.Actor.Username+", not the job's parent", err, babysitter.ErrForbidden)
	}
	for _, g := range []babysitter.Guard{asParent(p.Username), asAdmin} {
		eventually(t, func() error {
			got, page, err := s.ListApplicationsForJob(f.ctx, g, j.ID, pr)
			if err != nil {
				return err
			}
			if err := same("job", j, got); err != nil {
				return err
			}
			return same("applications listed by "+string(g.Actor.Role), []babysitter.Application{a}, page.Items)
		})
	}
}

func testListJobsAppliedTo(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	p, n, m := f.parent(), f.nanny(), f.nanny()
	var apps []babysitter.Application // newest first
	for range 3 {
		j := f.job(p.Username)
		apps = slices.Insert(apps, 0, f.apply(j.ID, n.Username))
		f.apply(j.ID, m.Username)
	}
	w, err := s.WithdrawApplication(f.ctx, asNanny(n.Username), ref(apps[1].JobID, apps[1].ID), now())
	if err != nil {
		t.Fatalf("WithdrawApplication: %v", err)
	}
	apps[1] = w
	nu := f.getUser(n.Username)

	for _, tc := range []struct {
		limit int
		sizes []int
	}{
		{2, []int{2, 1}},
		{3, []int{3}},
		{1, []int{1, 1, 1}},
	} {
		eventually(t, func() error {
			var users []babysitter.User
			pages, err := walk(tc.limit, func(pr babysitter.PageRequest) (babysitter.Page[babysitter.Application], error) {
				u, page, err := s.ListJobsAppliedTo(f.ctx, asNanny(n.Username), n.Username, pr)
				users = append(users, u)
				return page, err
			}, nil)
			if err != nil {
				return err
			}
			for _, u := range users {
				if err := same("ListJobsAppliedTo user", nu, u); err != nil {
					return err
				}
			}
			if err := same(fmt.Sprintf("page sizes with limit %d", tc.limit), tc.sizes, sizes(pages)); err != nil {
				return err
			}
			return same("ListJobsAppliedTo applications", apps, slices.Concat(pages...))
		})
	}

	_, _, err = s.ListJobsAppliedTo(f.ctx, asAdmin, uniqueName(), babysitter.PageRequest{Limit: 10})
	wantErr(t, "ListJobsAppliedTo of a missing nanny", err, babysitter.ErrNotFound)
}
