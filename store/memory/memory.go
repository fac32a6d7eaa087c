// Package memory is the embedded, in-memory babysitter.Store: the default
// backend of the examples and the reference implementation of the Store
// contract.
//
// One mutex makes every method atomic: each checks all of its conditions
// under the lock before it changes anything, so a failing call writes
// nothing. Values go in and out as copies; a caller can never reach the
// stored data through a returned slice or pointer.
//
// Nothing is persisted: the data lives as long as the Store.
package memory

import (
	"context"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/babysitter-go/babysitter"
)

// Store is an in-memory babysitter.Store. The zero value is not usable; call
// New. It is safe for concurrent use.
type Store struct {
	mu sync.RWMutex

	// users by username; emails maps a reserved (normalized) email to its
	// username; usersByType holds the usernames of each type, sorted.
	users       map[string]*babysitter.User
	emails      map[string]string
	usersByType map[babysitter.UserType][]string

	// jobs by ID; jobsByStatus and jobsByParent hold job IDs sorted
	// ascending (UUIDv7, so oldest first; lists walk them backwards).
	jobs         map[string]*babysitter.Job
	jobsByStatus map[babysitter.JobStatus][]string
	jobsByParent map[string][]string

	// apps by ID; appsByJob and appsByNanny hold application IDs sorted
	// ascending; applicant maps (job, nanny) to the nanny's application.
	apps        map[string]*babysitter.Application
	appsByJob   map[string][]string
	appsByNanny map[string][]string
	applicant   map[applicantKey]string

	// reviews by ID; reviewsOf holds each reviewee's review IDs sorted
	// ascending; reviewed marks (job, direction) pairs already reviewed.
	reviews   map[string]*babysitter.Review
	reviewsOf map[string][]string
	reviewed  map[reviewKey]bool

	// near indexes the OPEN jobs by geohash cell, as the DynamoDB store's
	// sparse index does.
	near map[string]map[string]bool
}

type reviewKey struct {
	job string
	dir babysitter.ReviewDirection
}

type applicantKey struct{ job, nanny string }

var _ babysitter.Store = (*Store)(nil)

// New returns an empty Store.
func New() *Store {
	return &Store{
		users:        map[string]*babysitter.User{},
		emails:       map[string]string{},
		usersByType:  map[babysitter.UserType][]string{},
		jobs:         map[string]*babysitter.Job{},
		jobsByStatus: map[babysitter.JobStatus][]string{},
		jobsByParent: map[string][]string{},
		apps:         map[string]*babysitter.Application{},
		appsByJob:    map[string][]string{},
		appsByNanny:  map[string][]string{},
		applicant:    map[applicantKey]string{},
		reviews:      map[string]*babysitter.Review{},
		reviewsOf:    map[string][]string{},
		reviewed:     map[reviewKey]bool{},
		near:         map[string]map[string]bool{},
	}
}

// Cursor scopes: a cursor names the list it belongs to, so one list's
// cursor is rejected by another.
const (
	scopeUsersByType   = "users-by-type:"
	scopeJobsByStatus  = "jobs-by-status:"
	scopeJobsByParent  = "jobs-by-parent:"
	scopeAppsForJob    = "applications-for-job:"
	scopeAppsByNanny   = "applications-by-nanny:"
	scopeReviewsOf     = "reviews-of:"
	keyUsername, keyID = "username", "id"
)

// ---- users ----

// CreateUser inserts u and reserves u.Email. A taken username or email is an
// *babysitter.AlreadyExistsError naming the field; nothing is written then.
func (s *Store) CreateUser(ctx context.Context, u babysitter.User) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.users[u.Username]; ok {
		return &babysitter.AlreadyExistsError{Field: babysitter.FieldUsername, Value: u.Username}
	}
	if _, ok := s.emails[u.Email]; ok {
		return &babysitter.AlreadyExistsError{Field: babysitter.FieldEmail, Value: u.Email}
	}
	c := cloneUser(u)
	s.users[u.Username] = &c
	s.emails[u.Email] = u.Username
	s.usersByType[u.Type] = insertSorted(s.usersByType[u.Type], u.Username)
	return nil
}

// GetUser returns the user. ErrNotFound.
func (s *Store) GetUser(ctx context.Context, username string) (babysitter.User, error) {
	if err := ctx.Err(); err != nil {
		return babysitter.User{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	u, ok := s.users[username]
	if !ok {
		return babysitter.User{}, userNotFound(username)
	}
	return cloneUser(*u), nil
}

// UpdateUser writes next's Email, Profile, UpdatedOn and Version when the
// stored Version is next.Version-1 (ErrConflict otherwise), moving the email
// reservation when the email changes (*babysitter.AlreadyExistsError on
// email when the new one is taken). ErrNotFound; ErrForbidden when g fails.
//
// The reservation released is the one the stored user holds, which is
// prevEmail whenever the caller read the version it updates.
func (s *Store) UpdateUser(ctx context.Context, g babysitter.Guard, prevEmail string, next babysitter.User) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.guard(g); err != nil {
		return err
	}
	u, ok := s.users[next.Username]
	if !ok {
		return userNotFound(next.Username)
	}
	if u.Version != next.Version-1 {
		return babysitter.Errorf(babysitter.ErrConflict, "user %q changed concurrently (version %d, update expects %d)", u.Username, u.Version, next.Version-1)
	}
	if next.Email != u.Email {
		if _, taken := s.emails[next.Email]; taken {
			return &babysitter.AlreadyExistsError{Field: babysitter.FieldEmail, Value: next.Email}
		}
		delete(s.emails, u.Email)
		s.emails[next.Email] = u.Username
	}
	u.Email = next.Email
	u.Profile = cloneProfile(next.Profile)
	u.UpdatedOn = next.UpdatedOn
	u.Version = next.Version
	return nil
}

// SetUserStatus sets the account status and UpdatedOn and returns the
// updated user. Version is unchanged: a status change is not a profile edit
// and must not fail a concurrent UpdateUser. ErrNotFound.
func (s *Store) SetUserStatus(ctx context.Context, username string, status babysitter.AccountStatus, now time.Time) (babysitter.User, error) {
	if err := ctx.Err(); err != nil {
		return babysitter.User{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[username]
	if !ok {
		return babysitter.User{}, userNotFound(username)
	}
	u.Status = status
	u.UpdatedOn = now
	return cloneUser(*u), nil
}

// DeleteUser removes the user and its email reservation. ErrConflict while
// the user has OPEN jobs or PENDING applications; ErrNotFound; ErrForbidden
// when g fails. The user's other jobs and applications are kept.
func (s *Store) DeleteUser(ctx context.Context, g babysitter.Guard, username string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.guard(g); err != nil {
		return err
	}
	u, ok := s.users[username]
	if !ok {
		return userNotFound(username)
	}
	for _, id := range s.jobsByParent[username] {
		if s.jobs[id].Status == babysitter.JobOpen {
			return babysitter.Errorf(babysitter.ErrConflict, "user %q has OPEN jobs", username)
		}
	}
	for _, id := range s.appsByNanny[username] {
		if s.apps[id].Status == babysitter.ApplicationPending {
			return babysitter.Errorf(babysitter.ErrConflict, "user %q has PENDING applications", username)
		}
	}
	delete(s.users, username)
	delete(s.emails, u.Email)
	s.usersByType[u.Type] = removeSorted(s.usersByType[u.Type], username)
	return nil
}

// ListUsers lists the users of type t ordered by username. ErrForbidden when
// g fails; ErrInvalidInput for a cursor of another list.
func (s *Store) ListUsers(ctx context.Context, g babysitter.Guard, t babysitter.UserType, p babysitter.PageRequest) (babysitter.Page[babysitter.User], error) {
	if err := ctx.Err(); err != nil {
		return babysitter.Page[babysitter.User]{}, err
	}
	scope := scopeUsersByType + string(t)
	after, err := decode(scope, keyUsername, p.Cursor)
	if err != nil {
		return babysitter.Page[babysitter.User]{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.guard(g); err != nil {
		return babysitter.Page[babysitter.User]{}, err
	}
	names, more := pageAsc(s.usersByType[t], after, limit(p))
	page := babysitter.Page[babysitter.User]{Items: make([]babysitter.User, len(names))}
	for i, n := range names {
		page.Items[i] = cloneUser(*s.users[n])
	}
	if more {
		page.NextCursor = babysitter.EncodeCursor(scope, map[string]string{keyUsername: names[len(names)-1]})
	}
	return page, nil
}

// ---- jobs ----

// CreateJob inserts j with status OPEN. The parent must exist (ErrNotFound)
// and pass g (ErrForbidden); a job with the same ID is an ErrConflict.
func (s *Store) CreateJob(ctx context.Context, g babysitter.Guard, j babysitter.Job) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.guard(g); err != nil {
		return err
	}
	if _, ok := s.users[j.ParentUsername]; !ok {
		return userNotFound(j.ParentUsername)
	}
	if _, ok := s.jobs[j.ID]; ok {
		return babysitter.Errorf(babysitter.ErrConflict, "job %q already exists", j.ID)
	}
	j.Status = babysitter.JobOpen
	s.jobs[j.ID] = &j
	s.jobsByStatus[j.Status] = insertSorted(s.jobsByStatus[j.Status], j.ID)
	s.jobsByParent[j.ParentUsername] = insertSorted(s.jobsByParent[j.ParentUsername], j.ID)
	s.index(&j, true)
	return nil
}

// GetJob returns the job. ErrNotFound; ErrForbidden when g fails.
func (s *Store) GetJob(ctx context.Context, g babysitter.Guard, id string) (babysitter.Job, error) {
	if err := ctx.Err(); err != nil {
		return babysitter.Job{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.guard(g); err != nil {
		return babysitter.Job{}, err
	}
	j, ok := s.jobs[id]
	if !ok {
		return babysitter.Job{}, jobNotFound(id)
	}
	return *j, nil
}

// UpdateJob writes next's JobDetails, UpdatedOn and Version when the stored
// job belongs to owner (unless owner is empty; ErrForbidden), is OPEN and
// has Version next.Version-1 (ErrConflict). ErrNotFound; ErrForbidden when
// g fails.
func (s *Store) UpdateJob(ctx context.Context, g babysitter.Guard, owner string, next babysitter.Job) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.guard(g); err != nil {
		return err
	}
	j, ok := s.jobs[next.ID]
	if !ok {
		return jobNotFound(next.ID)
	}
	if owner != "" && j.ParentUsername != owner {
		return notOwner(owner, j.ID)
	}
	if j.Status != babysitter.JobOpen {
		return babysitter.Errorf(babysitter.ErrConflict, "job %q is %s, not OPEN", j.ID, j.Status)
	}
	if j.Version != next.Version-1 {
		return babysitter.Errorf(babysitter.ErrConflict, "job %q changed concurrently (version %d, update expects %d)", j.ID, j.Version, next.Version-1)
	}
	s.index(j, false)
	j.JobDetails = next.JobDetails
	s.index(j, true)
	j.UpdatedOn = next.UpdatedOn
	j.Version = next.Version
	return nil
}

// TransitionJob moves the job from status from to status to and sets
// UpdatedOn, when it belongs to owner (unless owner is empty; ErrForbidden).
// ErrConflict when the job is not in status from; ErrNotFound; ErrForbidden
// when g fails. Version is unchanged. Returns the updated job.
func (s *Store) TransitionJob(ctx context.Context, g babysitter.Guard, id, owner string, from, to babysitter.JobStatus, now time.Time) (babysitter.Job, error) {
	if err := ctx.Err(); err != nil {
		return babysitter.Job{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.guard(g); err != nil {
		return babysitter.Job{}, err
	}
	j, ok := s.jobs[id]
	if !ok {
		return babysitter.Job{}, jobNotFound(id)
	}
	if owner != "" && j.ParentUsername != owner {
		return babysitter.Job{}, notOwner(owner, id)
	}
	if j.Status != from {
		return babysitter.Job{}, babysitter.Errorf(babysitter.ErrConflict, "job %q is %s, not %s", id, j.Status, from)
	}
	s.setJobStatus(j, to, now)
	return *j, nil
}

// ListJobsByStatus lists the jobs in one status, newest first. ErrForbidden
// when g fails; ErrInvalidInput for a cursor of another list.
func (s *Store) ListJobsByStatus(ctx context.Context, g babysitter.Guard, status babysitter.JobStatus, p babysitter.PageRequest) (babysitter.Page[babysitter.Job], error) {
	if err := ctx.Err(); err != nil {
		return babysitter.Page[babysitter.Job]{}, err
	}
	scope := scopeJobsByStatus + string(status)
	before, err := decode(scope, keyID, p.Cursor)
	if err != nil {
		return babysitter.Page[babysitter.Job]{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.guard(g); err != nil {
		return babysitter.Page[babysitter.Job]{}, err
	}
	return s.jobPage(scope, s.jobsByStatus[status], before, limit(p)), nil
}

// ListJobsByParent returns the parent and their jobs, newest first.
// ErrNotFound when the parent does not exist; ErrForbidden when g fails;
// ErrInvalidInput for a cursor of another list.
func (s *Store) ListJobsByParent(ctx context.Context, g babysitter.Guard, parent string, p babysitter.PageRequest) (babysitter.User, babysitter.Page[babysitter.Job], error) {
	return userHeaded(ctx, s, g, scopeJobsByParent, parent, s.jobsByParent, s.jobPage, p)
}

// ---- applications ----

// ApplyToJob inserts a with status PENDING when the job exists (ErrNotFound),
// is OPEN (ErrConflict) and has no application from a.NannyUsername
// (*babysitter.AlreadyExistsError on application, whatever the status of
// the earlier one). The nanny must exist (ErrNotFound) and pass g
// (ErrForbidden); an application with the same ID is an ErrConflict.
func (s *Store) ApplyToJob(ctx context.Context, g babysitter.Guard, a babysitter.Application) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.guard(g); err != nil {
		return err
	}
	if _, ok := s.users[a.NannyUsername]; !ok {
		return userNotFound(a.NannyUsername)
	}
	j, ok := s.jobs[a.JobID]
	if !ok {
		return jobNotFound(a.JobID)
	}
	if j.Status != babysitter.JobOpen {
		return babysitter.Errorf(babysitter.ErrConflict, "job %q is %s, not OPEN", j.ID, j.Status)
	}
	key := applicantKey{a.JobID, a.NannyUsername}
	if _, ok := s.applicant[key]; ok {
		return &babysitter.AlreadyExistsError{Field: babysitter.FieldApplication, Value: a.NannyUsername}
	}
	if _, ok := s.apps[a.ID]; ok {
		return babysitter.Errorf(babysitter.ErrConflict, "application %q already exists", a.ID)
	}
	a.Status = babysitter.ApplicationPending
	s.apps[a.ID] = &a
	s.applicant[key] = a.ID
	s.appsByJob[a.JobID] = insertSorted(s.appsByJob[a.JobID], a.ID)
	s.appsByNanny[a.NannyUsername] = insertSorted(s.appsByNanny[a.NannyUsername], a.ID)
	return nil
}

// WithdrawApplication moves the application PENDING → WITHDRAWN when it
// belongs to nanny (ErrForbidden) and is PENDING (ErrConflict). ErrNotFound
// when it does not exist or is of another job; ErrForbidden when g fails.
// Returns the updated application.
func (s *Store) WithdrawApplication(ctx context.Context, g babysitter.Guard, jobID, applicationID, nanny string, now time.Time) (babysitter.Application, error) {
	if err := ctx.Err(); err != nil {
		return babysitter.Application{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.guard(g); err != nil {
		return babysitter.Application{}, err
	}
	a, ok := s.apps[applicationID]
	if !ok || a.JobID != jobID {
		return babysitter.Application{}, appNotFound(jobID, applicationID)
	}
	if a.NannyUsername != nanny {
		return babysitter.Application{}, babysitter.Errorf(babysitter.ErrForbidden, "application %q is not %q's", applicationID, nanny)
	}
	if a.Status != babysitter.ApplicationPending {
		return babysitter.Application{}, babysitter.Errorf(babysitter.ErrConflict, "application %q is %s, not PENDING", applicationID, a.Status)
	}
	a.Status = babysitter.ApplicationWithdrawn
	a.UpdatedOn = now
	return *a, nil
}

// ListApplicationsForJob returns the job and its applications, newest
// first. ErrNotFound when the job does not exist; ErrForbidden when g fails;
// ErrInvalidInput for a cursor of another list.
func (s *Store) ListApplicationsForJob(ctx context.Context, g babysitter.Guard, jobID string, p babysitter.PageRequest) (babysitter.Job, babysitter.Page[babysitter.Application], error) {
	if err := ctx.Err(); err != nil {
		return babysitter.Job{}, babysitter.Page[babysitter.Application]{}, err
	}
	scope := scopeAppsForJob + jobID
	before, err := decode(scope, keyID, p.Cursor)
	if err != nil {
		return babysitter.Job{}, babysitter.Page[babysitter.Application]{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.guard(g); err != nil {
		return babysitter.Job{}, babysitter.Page[babysitter.Application]{}, err
	}
	j, ok := s.jobs[jobID]
	if !ok {
		return babysitter.Job{}, babysitter.Page[babysitter.Application]{}, jobNotFound(jobID)
	}
	return *j, s.appPage(scope, s.appsByJob[jobID], before, limit(p)), nil
}

// ListJobsAppliedTo returns the nanny and their applications, newest first.
// ErrNotFound when the nanny does not exist; ErrForbidden when g fails;
// ErrInvalidInput for a cursor of another list.
func (s *Store) ListJobsAppliedTo(ctx context.Context, g babysitter.Guard, nanny string, p babysitter.PageRequest) (babysitter.User, babysitter.Page[babysitter.Application], error) {
	return userHeaded(ctx, s, g, scopeAppsByNanny, nanny, s.appsByNanny, s.appPage, p)
}

// userHeaded returns a user and one page of their items (ids[username],
// sorted ascending, listed newest first by page), under the read lock.
func userHeaded[T any](ctx context.Context, s *Store, g babysitter.Guard, scopePrefix, username string, ids map[string][]string,
	page func(scope string, ids []string, before string, n int) babysitter.Page[T], p babysitter.PageRequest) (babysitter.User, babysitter.Page[T], error) {
	if err := ctx.Err(); err != nil {
		return babysitter.User{}, babysitter.Page[T]{}, err
	}
	scope := scopePrefix + username
	before, err := decode(scope, keyID, p.Cursor)
	if err != nil {
		return babysitter.User{}, babysitter.Page[T]{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.guard(g); err != nil {
		return babysitter.User{}, babysitter.Page[T]{}, err
	}
	u, ok := s.users[username]
	if !ok {
		return babysitter.User{}, babysitter.Page[T]{}, userNotFound(username)
	}
	return cloneUser(*u), page(scope, ids[username], before, limit(p)), nil
}

// ---- booking ----

// BookNanny moves the job OPEN → CLOSED with AcceptedApplicationID =
// applicationID and the application PENDING → ACCEPTED, when the job
// belongs to owner (ErrForbidden) and g passes (ErrForbidden). ErrNotFound
// when the job or the application does not exist (or the application is of
// another job); ErrConflict when the job is not OPEN or the application not
// PENDING. When the job is already CLOSED with this application accepted it
// returns both and a nil error, changing nothing.
func (s *Store) BookNanny(ctx context.Context, g babysitter.Guard, jobID, applicationID, owner string, now time.Time) (babysitter.Job, babysitter.Application, error) {
	if err := ctx.Err(); err != nil {
		return babysitter.Job{}, babysitter.Application{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.guard(g); err != nil {
		return babysitter.Job{}, babysitter.Application{}, err
	}
	j, ok := s.jobs[jobID]
	if !ok {
		return babysitter.Job{}, babysitter.Application{}, jobNotFound(jobID)
	}
	a, ok := s.apps[applicationID]
	if !ok || a.JobID != jobID {
		return babysitter.Job{}, babysitter.Application{}, appNotFound(jobID, applicationID)
	}
	if j.ParentUsername != owner {
		return babysitter.Job{}, babysitter.Application{}, notOwner(owner, jobID)
	}
	if j.Status == babysitter.JobClosed && j.AcceptedApplicationID == applicationID && a.Status == babysitter.ApplicationAccepted {
		return *j, *a, nil // a retry of a booking that succeeded
	}
	if j.Status != babysitter.JobOpen {
		return babysitter.Job{}, babysitter.Application{}, babysitter.Errorf(babysitter.ErrConflict, "job %q is %s, not OPEN", jobID, j.Status)
	}
	if a.Status != babysitter.ApplicationPending {
		return babysitter.Job{}, babysitter.Application{}, babysitter.Errorf(babysitter.ErrConflict, "application %q is %s, not PENDING", applicationID, a.Status)
	}
	s.setJobStatus(j, babysitter.JobClosed, now)
	j.AcceptedApplicationID = applicationID
	j.AcceptedNanny = a.NannyUsername
	a.Status = babysitter.ApplicationAccepted
	a.UpdatedOn = now
	return *j, *a, nil
}

// PendingApplications returns every PENDING application of the job, newest
// first; none (and no error) when the job does not exist.
func (s *Store) PendingApplications(ctx context.Context, jobID string) ([]babysitter.Application, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []babysitter.Application
	ids := s.appsByJob[jobID]
	for i := len(ids) - 1; i >= 0; i-- {
		if a := s.apps[ids[i]]; a.Status == babysitter.ApplicationPending {
			out = append(out, *a)
		}
	}
	return out, nil
}

// DeclineApplications moves each listed application of the job PENDING →
// DECLINED; one that is not PENDING, does not exist or is of another job is
// skipped, untouched. ErrNotFound when the job does not exist; ErrConflict
// when it is OPEN. Declined and Skipped keep the order of applicationIDs.
func (s *Store) DeclineApplications(ctx context.Context, jobID string, applicationIDs []string, now time.Time) (babysitter.DeclineResult, error) {
	if err := ctx.Err(); err != nil {
		return babysitter.DeclineResult{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	j, ok := s.jobs[jobID]
	if !ok {
		return babysitter.DeclineResult{}, jobNotFound(jobID)
	}
	if j.Status == babysitter.JobOpen {
		return babysitter.DeclineResult{}, babysitter.Errorf(babysitter.ErrConflict, "job %q is OPEN; its applications cannot be declined", jobID)
	}
	var res babysitter.DeclineResult
	for _, id := range applicationIDs {
		a, ok := s.apps[id]
		if !ok || a.JobID != jobID || a.Status != babysitter.ApplicationPending {
			res.Skipped = append(res.Skipped, id)
			continue
		}
		a.Status = babysitter.ApplicationDeclined
		a.UpdatedOn = now
		res.Declined = append(res.Declined, id)
	}
	return res, nil
}

// ---- helpers (all called with s.mu held) ----

// guard checks g against the actor's stored account.
func (s *Store) guard(g babysitter.Guard) error {
	if g.Username == "" {
		return nil
	}
	return g.Check(s.users[g.Username]) // Check only reads; nil when missing
}

// setJobStatus changes the job's status and moves it between status indexes.
func (s *Store) setJobStatus(j *babysitter.Job, to babysitter.JobStatus, now time.Time) {
	if to != babysitter.JobOpen {
		s.index(j, false)
	}
	s.jobsByStatus[j.Status] = removeSorted(s.jobsByStatus[j.Status], j.ID)
	s.jobsByStatus[to] = insertSorted(s.jobsByStatus[to], j.ID)
	j.Status = to
	j.UpdatedOn = now
}

// jobPage returns the page of jobs before the cursor, newest first.
func (s *Store) jobPage(scope string, ids []string, before string, n int) babysitter.Page[babysitter.Job] {
	sel, more := pageDesc(ids, before, n)
	page := babysitter.Page[babysitter.Job]{Items: make([]babysitter.Job, len(sel))}
	for i, id := range sel {
		page.Items[i] = *s.jobs[id]
	}
	if more {
		page.NextCursor = babysitter.EncodeCursor(scope, map[string]string{keyID: sel[len(sel)-1]})
	}
	return page
}

// appPage returns the page of applications before the cursor, newest first.
func (s *Store) appPage(scope string, ids []string, before string, n int) babysitter.Page[babysitter.Application] {
	sel, more := pageDesc(ids, before, n)
	page := babysitter.Page[babysitter.Application]{Items: make([]babysitter.Application, len(sel))}
	for i, id := range sel {
		page.Items[i] = *s.apps[id]
	}
	if more {
		page.NextCursor = babysitter.EncodeCursor(scope, map[string]string{keyID: sel[len(sel)-1]})
	}
	return page
}

// decode returns the key field of a cursor of the given scope, or "" for
// the first page.
func decode(scope, field, cursor string) (string, error) {
	if cursor == "" {
		return "", nil
	}
	key, err := babysitter.DecodeCursor(scope, cursor)
	if err != nil {
		return "", err
	}
	v, ok := key[field]
	if !ok || len(key) != 1 {
		return "", &babysitter.InvalidInputError{Fields: []babysitter.FieldError{{Field: "cursor", Message: "is not a cursor of this list"}}}
	}
	return v, nil
}

// limit is the page size; the Service normalizes it, this only guards
// against a direct caller's zero or oversized value.
func limit(p babysitter.PageRequest) int {
	switch {
	case p.Limit <= 0:
		return babysitter.DefaultLimit
	case p.Limit > babysitter.MaxLimit:
		return babysitter.MaxLimit
	}
	return p.Limit
}

// pageAsc returns up to n keys of sorted after the key after ("" for the
// start), and whether more follow.
func pageAsc(sorted []string, after string, n int) ([]string, bool) {
	i := 0
	if after != "" {
		j, found := slices.BinarySearch(sorted, after)
		if found {
			j++
		}
		i = j
	}
	end := min(i+n, len(sorted))
	return slices.Clone(sorted[i:end]), end < len(sorted)
}

// pageDesc returns up to n keys of sorted, walking backwards from just
// before the key before ("" for the end), and whether more follow.
func pageDesc(sorted []string, before string, n int) ([]string, bool) {
	i := len(sorted) // exclusive upper bound
	if before != "" {
		i, _ = slices.BinarySearch(sorted, before)
	}
	out := make([]string, 0, min(n, i))
	for i > 0 && len(out) < n {
		i--
		out = append(out, sorted[i])
	}
	return out, i > 0
}

func insertSorted(sorted []string, k string) []string {
	i, found := slices.BinarySearch(sorted, k)
	if found {
		return sorted
	}
	return slices.Insert(sorted, i, k)
}

func removeSorted(sorted []string, k string) []string {
	i, found := slices.BinarySearch(sorted, k)
	if !found {
		return sorted
	}
	return slices.Delete(sorted, i, i+1)
}

func cloneUser(u babysitter.User) babysitter.User {
	u.Profile = cloneProfile(u.Profile)
	return u
}

// cloneProfile deep-copies the profile's slices and pointers.
func cloneProfile(p babysitter.Profile) babysitter.Profile {
	p.Latitude = clonePtr(p.Latitude)
	p.Longitude = clonePtr(p.Longitude)
	p.HourlyRate = clonePtr(p.HourlyRate)
	p.Smokes = clonePtr(p.Smokes)
	p.Drinks = clonePtr(p.Drinks)
	p.SpokenLanguages = slices.Clone(p.SpokenLanguages)
	p.Activities = slices.Clone(p.Activities)
	return p
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

func userNotFound(username string) error {
	return babysitter.Errorf(babysitter.ErrNotFound, "user %q", username)
}

func jobNotFound(id string) error {
	return babysitter.Errorf(babysitter.ErrNotFound, "job %q", id)
}

func appNotFound(jobID, id string) error {
	return babysitter.Errorf(babysitter.ErrNotFound, "application %q of job %q", id, jobID)
}

func notOwner(owner, jobID string) error {
	return babysitter.Errorf(babysitter.ErrForbidden, "job %q is not %q's", jobID, owner)
}

// index adds an OPEN job to the geohash index, or removes it.
func (s *Store) index(j *babysitter.Job, add bool) {
	cell := babysitter.Geohash(j.Latitude, j.Longitude, babysitter.GeoCellPrecision)
	if !add {
		delete(s.near[cell], j.ID)
		return
	}
	if s.near[cell] == nil {
		s.near[cell] = map[string]bool{}
	}
	s.near[cell][j.ID] = true
}

// ---- reviews ----

// CreateReview inserts r and adds its rating to the reviewee's aggregate,
// when the job is COMPLETED and r's reviewer and reviewee are its parties in
// r's direction, once per job and direction.
func (s *Store) CreateReview(ctx context.Context, g babysitter.Guard, r babysitter.Review) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.guard(g); err != nil {
		return err
	}
	j, ok := s.jobs[r.JobID]
	if !ok {
		return jobNotFound(r.JobID)
	}
	parent, nanny := r.Reviewer, r.Reviewee
	if r.Direction == babysitter.ReviewOfParent {
		parent, nanny = r.Reviewee, r.Reviewer
	}
	if j.ParentUsername != parent || j.AcceptedNanny != nanny || j.AcceptedNanny == "" {
		return babysitter.Errorf(babysitter.ErrForbidden, "%q and %q are not the parties of job %q", r.Reviewer, r.Reviewee, r.JobID)
	}
	if j.Status != babysitter.JobCompleted {
		return babysitter.Errorf(babysitter.ErrConflict, "job %q is %s, not COMPLETED", r.JobID, j.Status)
	}
	key := reviewKey{r.JobID, r.Direction}
	if s.reviewed[key] {
		return &babysitter.AlreadyExistsError{Field: babysitter.FieldReview, Value: r.JobID + "/" + string(r.Direction)}
	}
	reviewee, ok := s.users[r.Reviewee]
	if !ok {
		return userNotFound(r.Reviewee)
	}
	c := r
	c.Answers = maps.Clone(r.Answers)
	s.reviews[r.ID] = &c
	s.reviewsOf[r.Reviewee] = insertSorted(s.reviewsOf[r.Reviewee], r.ID)
	s.reviewed[key] = true
	reviewee.Rating.Count++
	reviewee.Rating.Sum += int64(r.Rating)
	return nil
}

// ListReviews lists the reviews of a user, newest first.
func (s *Store) ListReviews(ctx context.Context, username string, p babysitter.PageRequest) (babysitter.Page[babysitter.Review], error) {
	if err := ctx.Err(); err != nil {
		return babysitter.Page[babysitter.Review]{}, err
	}
	scope := scopeReviewsOf + username
	before, err := decode(scope, keyID, p.Cursor)
	if err != nil {
		return babysitter.Page[babysitter.Review]{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	sel, more := pageDesc(s.reviewsOf[username], before, limit(p))
	page := babysitter.Page[babysitter.Review]{Items: make([]babysitter.Review, len(sel))}
	for i, id := range sel {
		page.Items[i] = *s.reviews[id]
		page.Items[i].Answers = maps.Clone(page.Items[i].Answers)
	}
	if more {
		page.NextCursor = babysitter.EncodeCursor(scope, map[string]string{keyID: sel[len(sel)-1]})
	}
	return page, nil
}

// ---- jobs near a point ----

// ListOpenJobsInRanges returns the OPEN jobs in the geohash ranges, reading
// only the index cells the ranges name.
func (s *Store) ListOpenJobsInRanges(ctx context.Context, g babysitter.Guard, ranges []babysitter.GeoRange) ([]babysitter.Job, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.guard(g); err != nil {
		return nil, err
	}
	var out []babysitter.Job
	for _, r := range ranges {
		for id := range s.near[r.Cell] {
			j := s.jobs[id]
			if k := babysitter.Geohash(j.Latitude, j.Longitude, babysitter.GeoKeyPrecision); r.From <= k && k <= r.To {
				out = append(out, *j)
			}
		}
	}
	return out, nil
}
