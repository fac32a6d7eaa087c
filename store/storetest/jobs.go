package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/babysitter-go/babysitter"
)

var jobCases = []testCase{
	{"create and get round trip", testJobRoundTrip},
	{"create for a missing parent", testJobCreateMissingParent},
	{"update", testJobUpdate},
	{"update refused", testJobUpdateRefused},
	{"transition", testJobTransition},
	{"list by status", testJobListByStatus},
	{"list by parent", testJobListByParent},
}

func testJobRoundTrip(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	p := f.parent()
	j := newJob(p.Username)
	j.JobType = babysitter.JobRunningErrands
	j.NumberOfKids = 0
	j.StartTime, j.EndTime = 0, 23*60+59
	j.Latitude, j.Longitude = -89.999999, 179.123456
	j.Cost = babysitter.Money{Amount: 123456789, Currency: "JPY"}
	j.CreatedOn = time.Date(2030, 1, 2, 3, 4, 5, 6, time.UTC)
	j.UpdatedOn = j.CreatedOn
	j.Version = 3
	if err := s.CreateJob(f.ctx, asParent(p.Username), j); err != nil {
		t.Fatalf("CreateJob: %v", err)
	}
	check(t, "GetJob after CreateJob", j, f.getJob(j.ID))
	check(t, "GetJob with the parent's guard", j, func() babysitter.Job {
		got, err := s.GetJob(f.ctx, asParent(p.Username), j.ID)
		if err != nil {
			t.Fatalf("GetJob: %v", err)
		}
		return got
	}())
	f.wantNoJob(newID())
}

func testJobCreateMissingParent(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	j := newJob(uniqueName())
	wantErr(t, "CreateJob by an admin for a missing parent", s.CreateJob(f.ctx, asAdmin, j), babysitter.ErrNotFound)
	f.wantNoJob(j.ID)
}

func testJobUpdate(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	p := f.parent()
	j := f.job(p.Username)
	next := j
	next.JobDetails = babysitter.JobDetails{
		JobType:      babysitter.JobCleaning,
		Description:  "Just the kitchen.",
		NumberOfKids: 0,
		StartDate:    babysitter.Date{Year: 2031, Month: time.March, Day: 3},
		EndDate:      babysitter.Date{Year: 2031, Month: time.March, Day: 3},
		StartTime:    9 * 60,
		EndTime:      12 * 60,
		Address:      "3 Side Street",
		City:         "Hamburg",
		Latitude:     53.55,
		Longitude:    9.99,
		Cost:         babysitter.Money{Amount: 6000, Currency: "EUR"},
	}
	next.UpdatedOn = j.UpdatedOn.Add(time.Minute)
	next.Version = j.Version + 1
	// Only JobDetails, UpdatedOn and Version are written.
	sneaky := next
	sneaky.Status = babysitter.JobCancelled
	sneaky.AcceptedApplicationID = newID()
	sneaky.CreatedOn = time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := s.UpdateJob(f.ctx, asParent(p.Username), sneaky); err != nil {
		t.Fatalf("UpdateJob: %v", err)
	}
	check(t, "GetJob after UpdateJob", next, f.getJob(j.ID))

	// An admin manages every job.
	next2 := next
	next2.Description = "By an admin."
	next2.Version++
	if err := s.UpdateJob(f.ctx, asAdmin, next2); err != nil {
		t.Fatalf("UpdateJob by an admin: %v", err)
	}
	check(t, "GetJob after the second UpdateJob", next2, f.getJob(j.ID))
}

func testJobUpdateRefused(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	p, q := f.parent(), f.parent()
	j := f.job(p.Username)
	cancelled := f.cancel(f.job(p.Username))
	edit := func(base babysitter.Job, version int64) babysitter.Job {
		base.Description = "refused edit"
		base.Cost.Amount++
		base.Version = version
		return base
	}
	for _, tc := range []struct {
		name string
		by   string
		next babysitter.Job
		want error
	}{
		{"same version", p.Username, edit(j, j.Version), babysitter.ErrConflict},
		{"skipped version", p.Username, edit(j, j.Version+2), babysitter.ErrConflict},
		{"another parent", q.Username, edit(j, j.Version+1), babysitter.ErrForbidden},
		{"a CANCELLED job", p.Username, edit(cancelled, cancelled.Version+1), babysitter.ErrConflict},
		{"a missing job", p.Username, edit(newJob(p.Username), 2), babysitter.ErrNotFound},
	} {
		err := s.UpdateJob(f.ctx, asParent(tc.by), tc.next)
		wantErr(t, "UpdateJob of "+tc.name, err, tc.want)
	}
	check(t, "job after refused updates", j, f.getJob(j.ID))
	check(t, "cancelled job after a refused update", cancelled, f.getJob(cancelled.ID))
}

func testJobTransition(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	p, q, n := f.parent(), f.parent(), f.nanny()
	j := f.job(p.Username)

	at := now().Add(time.Minute)
	cancel := cancelling(j.ID)
	cancel.At = at
	_, err := s.TransitionJob(f.ctx, asParent(q.Username), cancel)
	wantErr(t, "TransitionJob by another parent", err, babysitter.ErrForbidden)
	_, err = s.TransitionJob(f.ctx, asParent(p.Username), completing(j.ID))
	wantErr(t, "TransitionJob CLOSED→COMPLETED of an OPEN job", err, babysitter.ErrConflict)
	// A booking is BookNanny's alone, and nothing goes back.
	for _, tr := range [][2]babysitter.JobStatus{
		{babysitter.JobOpen, babysitter.JobClosed},
		{babysitter.JobOpen, babysitter.JobCompleted},
		{babysitter.JobCancelled, babysitter.JobOpen},
	} {
		_, err = s.TransitionJob(f.ctx, asParent(p.Username), babysitter.JobTransition{JobID: j.ID, From: tr[0], To: tr[1], At: at})
		wantErr(t, fmt.Sprintf("TransitionJob %s→%s", tr[0], tr[1]), err, babysitter.ErrInvalidInput)
	}
	check(t, "job after the refused transitions", j, f.getJob(j.ID))

	got, err := s.TransitionJob(f.ctx, asParent(p.Username), cancel)
	if err != nil {
		t.Fatalf("TransitionJob OPEN→CANCELLED: %v", err)
	}
	want := j
	want.Status = babysitter.JobCancelled
	want.UpdatedOn = at
	check(t, "TransitionJob result", want, got, ignoreVersion)
	check(t, "GetJob after TransitionJob", got, f.getJob(j.ID))

	_, err = s.TransitionJob(f.ctx, asParent(p.Username), cancelling(j.ID))
	wantErr(t, "TransitionJob OPEN→CANCELLED again", err, babysitter.ErrConflict)
	_, err = s.TransitionJob(f.ctx, asAdmin, cancelling(newID()))
	wantErr(t, "TransitionJob of a missing job", err, babysitter.ErrNotFound)
	check(t, "job after refused transitions", got, f.getJob(j.ID))

	// CLOSED → COMPLETED, by an admin.
	k := f.job(p.Username)
	k, _ = f.book(k, f.apply(k.ID, n.Username))
	complete := completing(k.ID)
	complete.At = at
	done, err := s.TransitionJob(f.ctx, asAdmin, complete)
	if err != nil {
		t.Fatalf("TransitionJob CLOSED→COMPLETED: %v", err)
	}
	want = k
	want.Status = babysitter.JobCompleted
	want.UpdatedOn = at
	check(t, "completed job", want, done, ignoreVersion)
	check(t, "GetJob after completing", done, f.getJob(k.ID))
}

// listJobs walks the jobs of one status, newest first, until it passes
// the oldest ID of interest (min), and returns their IDs and page sizes.
func listJobs(f *fixture, status babysitter.JobStatus, limit int, min string) ([]string, []int, error) {
	pages, err := walk(limit, func(p babysitter.PageRequest) (babysitter.Page[babysitter.Job], error) {
		return f.s.ListJobsByStatus(f.ctx, asAdmin, status, p)
	}, func(items []babysitter.Job) bool { return len(items) > 0 && items[len(items)-1].ID < min })
	if err != nil {
		return nil, nil, err
	}
	all := slices.Concat(pages...)
	for _, j := range all {
		if j.Status != status {
			return nil, nil, fmt.Errorf("ListJobsByStatus %s lists job %s in status %s", status, j.ID, j.Status)
		}
	}
	ids := jobIDs(all)
	return ids, sizes(pages), strictlyOrdered(ids, true)
}

func testJobListByStatus(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	p := f.parent()
	var ours []string // oldest first
	for range 5 {
		ours = append(ours, f.job(p.Username).ID)
	}
	oldest := ours[0]
	eventually(t, func() error {
		ids, pages, err := listJobs(f, babysitter.JobOpen, 2, oldest)
		if err != nil {
			return err
		}
		if err := subsequence(reversed(ours), ids); err != nil {
			return err
		}
		if len(ids) == len(ours) { // alone in the store
			return same("page sizes", []int{2, 2, 1}, pages)
		}
		return nil
	})

	// Cancelled, a job moves from the OPEN list to the CANCELLED one.
	gone := ours[2]
	f.cancel(babysitter.Job{ID: gone})
	rest := slices.Delete(slices.Clone(ours), 2, 3)
	eventually(t, func() error {
		ids, _, err := listJobs(f, babysitter.JobOpen, 2, oldest)
		if err != nil {
			return err
		}
		if slices.Contains(ids, gone) {
			return fmt.Errorf("cancelled job %s still listed as OPEN", gone)
		}
		if err := subsequence(reversed(rest), ids); err != nil {
			return err
		}
		ids, _, err = listJobs(f, babysitter.JobCancelled, 3, gone)
		if err != nil {
			return err
		}
		if !slices.Contains(ids, gone) {
			return fmt.Errorf("cancelled job %s not listed as CANCELLED", gone)
		}
		return nil
	})
}

func testJobListByParent(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	p, q, empty := f.parent(), f.parent(), f.parent()
	f.job(q.Username)
	var jobs []babysitter.Job // newest first
	for range 4 {
		jobs = slices.Insert(jobs, 0, f.job(p.Username))
	}
	jobs[1] = f.cancel(jobs[1])
	pu := f.getUser(p.Username)

	for _, tc := range []struct {
		limit int
		sizes []int
	}{
		{2, []int{2, 2}}, // no cursor after the last item
		{3, []int{3, 1}},
		{1, []int{1, 1, 1, 1}},
		{100, []int{4}},
	} {
		eventually(t, func() error {
			var users []babysitter.User
			pages, err := walk(tc.limit, func(pr babysitter.PageRequest) (babysitter.Page[babysitter.Job], error) {
				u, page, err := s.ListJobsByParent(f.ctx, asParent(p.Username), p.Username, pr)
				users = append(users, u)
				return page, err
			}, nil)
			if err != nil {
				return err
			}
			for _, u := range users {
				if err := same("ListJobsByParent user", pu, u); err != nil {
					return err
				}
			}
			if err := same(fmt.Sprintf("page sizes with limit %d", tc.limit), tc.sizes, sizes(pages)); err != nil {
				return err
			}
			return same("ListJobsByParent jobs", jobs, slices.Concat(pages...))
		})
	}

	u, page, err := s.ListJobsByParent(f.ctx, asAdmin, empty.Username, babysitter.PageRequest{Limit: 10})
	if err != nil {
		t.Fatalf("ListJobsByParent of a parent without jobs: %v", err)
	}
	check(t, "parent without jobs", empty, u)
	check(t, "page of a parent without jobs", babysitter.Page[babysitter.Job]{}, page)

	_, _, err = s.ListJobsByParent(f.ctx, asAdmin, uniqueName(), babysitter.PageRequest{Limit: 10})
	wantErr(t, "ListJobsByParent of a missing parent", err, babysitter.ErrNotFound)
}
