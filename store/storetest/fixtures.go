package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/google/uuid"

	"github.com/babysitter-go/babysitter"
)

// runID makes names unique across test processes sharing one store.
var runID = func() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}()

var seq atomic.Int64

// uniqueName returns a fresh valid username ("u<n>-<run>", at most 32 chars).
func uniqueName() string { return fmt.Sprintf("u%d-%s", seq.Add(1), runID) }

// newID returns a fresh UUIDv7 (time-ordered within the process).
func newID() string { return uuid.Must(uuid.NewV7()).String() }

// now returns the current time in UTC without its monotonic reading.
func now() time.Time { return time.Now().UTC().Round(0) }

// active is the guard's status set of most operations; verified the one of
// apply and book.
var (
	active   = []babysitter.AccountStatus{babysitter.StatusUnverified, babysitter.StatusVerified}
	verified = []babysitter.AccountStatus{babysitter.StatusVerified}
)

// asParent and asNanny return the usual Guards of a parent and of a nanny
// acting through their own account (any status but DEACTIVATED); as
// returns one for any role, for the cases where the role and the account
// do not match.
func asParent(username string) babysitter.Guard { return as(babysitter.RoleParent, username) }
func asNanny(username string) babysitter.Guard  { return as(babysitter.RoleNanny, username) }

func as(role babysitter.Role, username string) babysitter.Guard {
	return babysitter.Guard{Actor: babysitter.Actor{Username: username, Role: role, Subject: subjectOf(username)}, Allow: active}
}

// subjectOf is the identity provider's subject of the suite's identity of
// username, which the suite's accounts are bound to (newUser): the Guards
// of as pass the binding, so only what a case changes can fail.
func subjectOf(username string) string { return "sub-" + username }

// asAdmin is the Guard of an admin, who has no account (none of the
// suite's usernames look like this one) and manages every job.
var asAdmin = babysitter.Guard{Actor: babysitter.Actor{Username: "storetest-admin", Role: babysitter.RoleAdmin}}

// ref names application appID of job jobID.
func ref(jobID, appID string) babysitter.ApplicationRef {
	return babysitter.ApplicationRef{JobID: jobID, ApplicationID: appID}
}

// booking is the usual BookRequest of application appID of job j: by j's
// parent, the applicant in any status but DEACTIVATED.
func booking(j babysitter.Job, appID string) babysitter.BookRequest {
	return babysitter.BookRequest{Guard: asParent(j.ParentUsername), ApplicationRef: ref(j.ID, appID), Applicant: active, At: now()}
}

// cancelling and completing are the TransitionJobs of job id out of OPEN
// and out of CLOSED.
func cancelling(id string) babysitter.JobTransition {
	return babysitter.JobTransition{JobID: id, From: babysitter.JobOpen, To: babysitter.JobCancelled, At: now()}
}

func completing(id string) babysitter.JobTransition {
	return babysitter.JobTransition{JobID: id, From: babysitter.JobClosed, To: babysitter.JobCompleted, At: now()}
}

func ptr[T any](v T) *T { return &v }

// cmpOpts compares timestamps with time.Time.Equal and treats nil and empty
// slices alike.
var cmpOpts = cmp.Options{
	cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) }),
	cmpopts.EquateEmpty(),
}

// ignoreVersion leaves Version out of a comparison, where whether a status
// change bumps it is the backend's choice.
var ignoreVersion = cmp.Options{
	cmpopts.IgnoreFields(babysitter.User{}, "Version"),
	cmpopts.IgnoreFields(babysitter.Job{}, "Version"),
}

// diff is "" when want and got are equal under cmpOpts.
func diff(want, got any, opts ...cmp.Option) string {
	return cmp.Diff(want, got, append(cmp.Options{cmpOpts}, opts...)...)
}

// check reports a difference between want and got as a test error.
func check(t *testing.T, what string, want, got any, opts ...cmp.Option) {
	t.Helper()
	if d := diff(want, got, opts...); d != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", what, d)
	}
}

// same returns an error describing the difference between want and got.
func same(what string, want, got any, opts ...cmp.Option) error {
	if d := diff(want, got, opts...); d != "" {
		return fmt.Errorf("%s mismatch (-want +got):\n%s", what, d)
	}
	return nil
}

// wantErr fails the test unless errors.Is(err, kind).
func wantErr(t *testing.T, what string, err, kind error) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("%s: got error %v, want %v", what, err, kind)
	}
}

// wantExists fails the test unless err is an *AlreadyExistsError on field.
func wantExists(t *testing.T, what string, err error, field babysitter.Field) {
	t.Helper()
	var ae *babysitter.AlreadyExistsError
	if !errors.As(err, &ae) || !errors.Is(err, babysitter.ErrAlreadyExists) {
		t.Fatalf("%s: got error %v, want *AlreadyExistsError on %s", what, err, field)
	}
	if ae.Field != field {
		t.Fatalf("%s: AlreadyExistsError on field %q, want %q (%v)", what, ae.Field, field, err)
	}
}

// isExists reports whether err is an *AlreadyExistsError on field.
func isExists(err error, field babysitter.Field) bool {
	var ae *babysitter.AlreadyExistsError
	return errors.As(err, &ae) && ae.Field == field && errors.Is(err, babysitter.ErrAlreadyExists)
}

// eventually retries fn for up to two seconds, for reads of lists a backend
// may serve from an eventually consistent index, and fails the test with
// fn's last error.
func eventually(t *testing.T, fn func() error) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		err := fn()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not true after 2s: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// race runs fn(0..n-1) in n goroutines released together and returns their
// errors.
func race(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// scale returns n, or short under -short.
func scale(n, short int) int {
	if testing.Short() {
		return short
	}
	return n
}

// ---- builders (nothing written) ----

// fullProfile returns a profile with every field set; each call allocates
// its own slices and pointers.
func fullProfile() babysitter.Profile {
	return babysitter.Profile{
		FirstName:       "Ada",
		LastName:        "Lovelace",
		DateOfBirth:     babysitter.Date{Year: 1990, Month: time.December, Day: 10},
		Gender:          "female",
		Address:         "1 Analytical Way",
		About:           "Loves kids and engines.",
		Latitude:        ptr(52.520008),
		Longitude:       ptr(-13.404954),
		PhoneNumber:     "+4915112345678",
		SpokenLanguages: []string{"en", "de", "fr"},
		Nationality:     "British",
		RegionOfOrigin:  "London",
		HourlyRate:      &babysitter.Money{Amount: 1850, Currency: "EUR"},
		EducationLevel:  "MSc",
		Smokes:          ptr(false),
		Drinks:          ptr(true),
		Disabilities:    "none",
		Activities:      []string{"chess", "swimming"},
	}
}

// newUser returns a valid user of type typ with a unique username and email
// and every profile field set.
func newUser(typ babysitter.UserType) babysitter.User {
	name := uniqueName()
	t := now()
	return babysitter.User{
		ID:       newID(),
		Username: name,
		Email:    name + "@example.com",
		Type:     typ,
		Status:   babysitter.StatusUnverified,
		Profile:  fullProfile(),
		// Set by ConfirmUpload in the Service; a Store stores it as given.
		ProfilePicURL: "https://img.example.com/ada.png",
		CreatedOn:     t,
		UpdatedOn:     t,
		Version:       1,
		Subject:       subjectOf(name),
	}
}

// noErasure is the error of a DeleteUser whose Erasure does not matter
// (an account with no objects has none).
func noErasure(_ babysitter.Erasure, err error) error { return err }

// newJob returns a valid OPEN job of parent with every detail set.
func newJob(parent string) babysitter.Job {
	t := now()
	return babysitter.Job{
		ID:             newID(),
		ParentUsername: parent,
		JobDetails: babysitter.JobDetails{
			JobType:      babysitter.JobBabysitting,
			Description:  "Two kids, one cat.",
			NumberOfKids: 2,
			StartDate:    babysitter.Date{Year: 2030, Month: time.May, Day: 1},
			EndDate:      babysitter.Date{Year: 2030, Month: time.May, Day: 2},
			StartTime:    18*60 + 30,
			EndTime:      1*60 + 15,
			Address:      "2 Main Street",
			City:         "Berlin",
			Latitude:     52.5,
			Longitude:    13.4,
			Cost:         babysitter.Money{Amount: 4500, Currency: "EUR"},
		},
		Status:    babysitter.JobOpen,
		CreatedOn: t,
		UpdatedOn: t,
		Version:   1,
	}
}

// newApplication returns a PENDING application of nanny to job.
func newApplication(jobID, nanny string) babysitter.Application {
	t := now()
	return babysitter.Application{
		ID:            newID(),
		JobID:         jobID,
		NannyUsername: nanny,
		Message:       "Happy to help, " + nanny + ".",
		Status:        babysitter.ApplicationPending,
		CreatedOn:     t,
		UpdatedOn:     t,
	}
}

// ---- fixture (writes, failing the test on error) ----

type fixture struct {
	t   *testing.T
	s   babysitter.Store
	ctx context.Context
}

func setup(t *testing.T, s babysitter.Store) *fixture {
	return &fixture{t: t, s: s, ctx: t.Context()}
}

// user creates a user of type typ, after applying the options to it.
func (f *fixture) user(typ babysitter.UserType, opts ...func(*babysitter.User)) babysitter.User {
	f.t.Helper()
	u := newUser(typ)
	for _, o := range opts {
		o(&u)
	}
	if err := f.s.CreateUser(f.ctx, u); err != nil {
		f.t.Fatalf("CreateUser %s: %v", u.Username, err)
	}
	return u
}

func (f *fixture) parent() babysitter.User { f.t.Helper(); return f.user(babysitter.UserParent) }
func (f *fixture) nanny() babysitter.User  { f.t.Helper(); return f.user(babysitter.UserNanny) }

// nannies creates n nannies, concurrently.
func (f *fixture) nannies(n int) []babysitter.User {
	f.t.Helper()
	us := make([]babysitter.User, n)
	for i := range us {
		us[i] = newUser(babysitter.UserNanny)
	}
	for i, err := range race(n, func(i int) error { return f.s.CreateUser(f.ctx, us[i]) }) {
		if err != nil {
			f.t.Fatalf("CreateUser %s: %v", us[i].Username, err)
		}
	}
	return us
}

// job creates an OPEN job of parent.
func (f *fixture) job(parent string) babysitter.Job {
	f.t.Helper()
	j := newJob(parent)
	if err := f.s.CreateJob(f.ctx, asParent(parent), j); err != nil {
		f.t.Fatalf("CreateJob for %s: %v", parent, err)
	}
	return j
}

// apply creates nanny's PENDING application to job.
func (f *fixture) apply(jobID, nanny string) babysitter.Application {
	f.t.Helper()
	a := newApplication(jobID, nanny)
	if err := f.s.ApplyToJob(f.ctx, asNanny(nanny), a); err != nil {
		f.t.Fatalf("ApplyToJob %s by %s: %v", jobID, nanny, err)
	}
	return a
}

// applyAll has each nanny apply to job, concurrently.
func (f *fixture) applyAll(jobID string, nannies []babysitter.User) []babysitter.Application {
	f.t.Helper()
	as := make([]babysitter.Application, len(nannies))
	for i, n := range nannies {
		as[i] = newApplication(jobID, n.Username)
	}
	for i, err := range race(len(as), func(i int) error { return f.s.ApplyToJob(f.ctx, asNanny(as[i].NannyUsername), as[i]) }) {
		if err != nil {
			f.t.Fatalf("ApplyToJob %s by %s: %v", jobID, as[i].NannyUsername, err)
		}
	}
	return as
}

// book books application a of job for its parent.
func (f *fixture) book(j babysitter.Job, a babysitter.Application) (babysitter.Job, babysitter.Application) {
	f.t.Helper()
	gj, ga, err := f.s.BookNanny(f.ctx, booking(j, a.ID))
	if err != nil {
		f.t.Fatalf("BookNanny %s/%s: %v", j.ID, a.ID, err)
	}
	return gj, ga
}

// cancel moves job OPEN → CANCELLED, as an admin.
func (f *fixture) cancel(j babysitter.Job) babysitter.Job {
	f.t.Helper()
	got, err := f.s.TransitionJob(f.ctx, asAdmin, cancelling(j.ID))
	if err != nil {
		f.t.Fatalf("TransitionJob %s to CANCELLED: %v", j.ID, err)
	}
	return got
}

// completed returns a new job of parent booked with nanny and COMPLETED,
// and nanny's accepted application.
func (f *fixture) completed(parent, nanny string) (babysitter.Job, babysitter.Application) {
	f.t.Helper()
	j := f.job(parent)
	_, a := f.book(j, f.apply(j.ID, nanny))
	got, err := f.s.TransitionJob(f.ctx, asParent(parent), completing(j.ID))
	if err != nil {
		f.t.Fatalf("TransitionJob %s to COMPLETED: %v", j.ID, err)
	}
	return got, a
}

// complete moves job id CLOSED → COMPLETED, as an admin.
func (f *fixture) complete(id string) babysitter.Job {
	f.t.Helper()
	j, err := f.s.TransitionJob(f.ctx, asAdmin, completing(id))
	if err != nil {
		f.t.Fatalf("TransitionJob %s to COMPLETED: %v", id, err)
	}
	return j
}

// review returns reviewer's review of reviewee on job in direction d,
// with the direction's questions answered.
func review(job string, d babysitter.ReviewDirection, reviewer, reviewee string, rating int) babysitter.Review {
	answers := map[string]bool{}
	for _, q := range babysitter.Questions(d) {
		answers[q] = true
	}
	return babysitter.Review{
		ID: newID(), JobID: job, Direction: d, Reviewer: reviewer, Reviewee: reviewee,
		Rating: rating, Text: "Fine.", Answers: answers, CreatedOn: now(),
	}
}

func (f *fixture) getUser(username string) babysitter.User {
	f.t.Helper()
	u, err := f.s.GetUser(f.ctx, username)
	if err != nil {
		f.t.Fatalf("GetUser %s: %v", username, err)
	}
	return u
}

func (f *fixture) getJob(id string) babysitter.Job {
	f.t.Helper()
	j, err := f.s.GetJob(f.ctx, asAdmin, id)
	if err != nil {
		f.t.Fatalf("GetJob %s: %v", id, err)
	}
	return j
}

// wantNoUser fails unless username does not exist.
func (f *fixture) wantNoUser(username string) {
	f.t.Helper()
	_, err := f.s.GetUser(f.ctx, username)
	wantErr(f.t, "GetUser "+username, err, babysitter.ErrNotFound)
}

// wantNoJob fails unless job id does not exist.
func (f *fixture) wantNoJob(id string) {
	f.t.Helper()
	_, err := f.s.GetJob(f.ctx, asAdmin, id)
	wantErr(f.t, "GetJob "+id, err, babysitter.ErrNotFound)
}

// applications returns every application of job by ID.
func (f *fixture) applications(jobID string) (map[string]babysitter.Application, error) {
	out := map[string]babysitter.Application{}
	pages, err := walk(babysitter.MaxLimit, func(p babysitter.PageRequest) (babysitter.Page[babysitter.Application], error) {
		_, page, err := f.s.ListApplicationsForJob(f.ctx, asAdmin, jobID, p)
		return page, err
	}, nil)
	if err != nil {
		return nil, err
	}
	for _, a := range slices.Concat(pages...) {
		if _, dup := out[a.ID]; dup {
			return nil, fmt.Errorf("application %s listed twice", a.ID)
		}
		out[a.ID] = a
	}
	return out, nil
}

// wantApps waits until the applications of job are exactly want (by ID).
func (f *fixture) wantApps(jobID string, want ...babysitter.Application) {
	f.t.Helper()
	m := map[string]babysitter.Application{}
	for _, a := range want {
		m[a.ID] = a
	}
	eventually(f.t, func() error {
		got, err := f.applications(jobID)
		if err != nil {
			return err
		}
		return same("applications of job "+jobID, m, got)
	})
}

// withStatus returns a with status s and, when at is not zero, UpdatedOn at.
func withStatus(a babysitter.Application, s babysitter.ApplicationStatus, at time.Time) babysitter.Application {
	a.Status = s
	if !at.IsZero() {
		a.UpdatedOn = at
	}
	return a
}

// pendingIDs returns the sorted IDs of the job's PENDING applications,
// read with ListApplicationsForJob (strongly consistent, as the Store
// documents it).
func (f *fixture) pendingIDs(jobID string) []string {
	f.t.Helper()
	as, err := f.applications(jobID)
	if err != nil {
		f.t.Fatalf("applications of job %s: %v", jobID, err)
	}
	ids := []string{}
	for id, a := range as {
		if a.Status == babysitter.ApplicationPending {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// clearDeclines runs ClearDeclines on the job, failing the test on an
// error.
func (f *fixture) clearDeclines(jobID string) {
	f.t.Helper()
	if err := f.s.ClearDeclines(f.ctx, jobID); err != nil {
		f.t.Fatalf("ClearDeclines %s: %v", jobID, err)
	}
}

// declinePending runs DeclinePending on the job at at, failing the test on
// an error.
func (f *fixture) declinePending(jobID string, at time.Time) babysitter.DeclineResult {
	f.t.Helper()
	res, err := f.s.DeclinePending(f.ctx, jobID, at)
	if err != nil {
		f.t.Fatalf("DeclinePending %s: %v", jobID, err)
	}
	return res
}

func sortedIDs(as []babysitter.Application) []string {
	ids := make([]string, 0, len(as))
	for _, a := range as {
		if a.Status != babysitter.ApplicationPending {
			ids = append(ids, "!"+string(a.Status)+":"+a.ID) // makes a wrong status visible in a diff
			continue
		}
		ids = append(ids, a.ID)
	}
	slices.Sort(ids)
	return ids
}

func sorted(ids ...string) []string {
	ids = slices.Clone(ids)
	slices.Sort(ids)
	return ids
}

// ---- pagination ----

// walk reads a list page by page from the start until NextCursor is empty or
// stop (when not nil) returns true for a page, checking each page's size and
// that cursors do not repeat.
func walk[T any](limit int, list func(babysitter.PageRequest) (babysitter.Page[T], error), stop func([]T) bool) ([][]T, error) {
	var pages [][]T
	cursor := ""
	seen := map[string]bool{}
	for {
		page, err := list(babysitter.PageRequest{Limit: limit, Cursor: cursor})
		if err != nil {
			return pages, fmt.Errorf("page %d: %w", len(pages)+1, err)
		}
		if len(page.Items) > limit {
			return pages, fmt.Errorf("page %d has %d items, limit %d", len(pages)+1, len(page.Items), limit)
		}
		pages = append(pages, page.Items)
		if page.NextCursor == "" || (stop != nil && stop(page.Items)) {
			return pages, nil
		}
		if seen[page.NextCursor] {
			return pages, fmt.Errorf("page %d repeats a cursor", len(pages))
		}
		seen[page.NextCursor] = true
		cursor = page.NextCursor
	}
}

// sizes returns the length of each page.
func sizes[T any](pages [][]T) []int {
	n := make([]int, len(pages))
	for i, p := range pages {
		n[i] = len(p)
	}
	return n
}

// jobIDs projects a list of jobs on their IDs.
func jobIDs(js []babysitter.Job) []string {
	ids := make([]string, len(js))
	for i, j := range js {
		ids[i] = j.ID
	}
	return ids
}

// reversed returns a reversed copy of xs.
func reversed[T any](xs []T) []T {
	out := slices.Clone(xs)
	slices.Reverse(out)
	return out
}

// strictlyOrdered reports the first place keys are not strictly ascending
// (desc false) or descending (desc true).
func strictlyOrdered(keys []string, desc bool) error {
	for i := 1; i < len(keys); i++ {
		a, b := keys[i-1], keys[i]
		if desc {
			a, b = b, a
		}
		if a >= b {
			return fmt.Errorf("items %d and %d out of order (or repeated): %q, %q", i-1, i, keys[i-1], keys[i])
		}
	}
	return nil
}

// subsequence reports whether want appears in got in the same order
// (other items may come between).
func subsequence(want, got []string) error {
	i := 0
	for _, g := range got {
		if i < len(want) && g == want[i] {
			i++
		}
	}
	if i < len(want) {
		return fmt.Errorf("item %q (number %d of %v) missing or out of order in %d listed items", want[i], i, want, len(got))
	}
	return nil
}
