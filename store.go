package babysitter

import (
	"context"
	"slices"
	"time"
)

// Guard is a precondition on the acting user's account that a Store checks
// in the same request as the operation: inside the atomic write for writes,
// alongside the read for reads. That is how deactivation and the VERIFIED
// requirement take effect without a separate, racy read.
//
// The zero Guard checks nothing (admins, anonymous callers, and CreateUser,
// whose actor has no account yet).
type Guard struct {
	// Username is the acting user whose account is checked.
	Username string
	// Allow lists the account statuses that pass.
	Allow []AccountStatus
}

// Check applies the guard to the actor's account as a store read it; u is
// nil when the account does not exist. Backends that hold the account in
// memory call it; others translate the guard into a condition expression and
// use GuardError for the failure.
func (g Guard) Check(u *User) error {
	if g.Username == "" {
		return nil
	}
	if u == nil {
		return GuardError(g, "")
	}
	if !slices.Contains(g.Allow, u.Status) {
		return GuardError(g, u.Status)
	}
	return nil
}

// GuardError is the ErrForbidden a failed guard returns; status is "" when
// the account does not exist (or a backend cannot tell which status failed).
func GuardError(g Guard, status AccountStatus) error {
	switch status {
	case "":
		return Errorf(ErrForbidden, "account %q does not exist or is not %v", g.Username, g.Allow)
	case StatusDeactivated:
		return Errorf(ErrForbidden, "account %q is deactivated", g.Username)
	default:
		return Errorf(ErrForbidden, "account %q is %s; this needs %v", g.Username, status, g.Allow)
	}
}

// Store is the persistence a Service runs on. Every method is one atomic
// unit: its conditions are checked in the same write that applies it, so
// concurrent callers cannot interleave between a check and a change. The
// Service validates and authorizes by role before calling; a Store enforces
// the state conditions (existence, status, ownership, uniqueness, versions)
// and the Guard.
//
// Errors use the domain kinds (ErrNotFound, ErrConflict, ErrForbidden,
// *AlreadyExistsError, ErrInvalidInput for a bad cursor); a Store maps its
// SDK's errors to them in one place and keeps the cause reachable.
//
// Lists take a normalized PageRequest (1 ≤ Limit ≤ MaxLimit) and return
// cursors made with EncodeCursor from the last item returned.
//
// store/storetest is the conformance suite every implementation passes.
type Store interface {
	// CreateUser inserts u and reserves u.Email (already normalized) in one
	// atomic write. A taken username or email is an *AlreadyExistsError
	// naming the field; nothing is written then.
	CreateUser(ctx context.Context, u User) error
	// GetUser returns the user, strongly consistent. ErrNotFound.
	GetUser(ctx context.Context, username string) (User, error)
	// UpdateUser writes next's Email, Profile, UpdatedOn and Version — and
	// nothing else, so it never undoes a concurrent status or rating change —
	// when the stored Version is next.Version-1 (ErrConflict otherwise). When
	// next.Email differs from prevEmail the reservation moves in the same
	// write (*AlreadyExistsError on email if taken). ErrNotFound.
	UpdateUser(ctx context.Context, g Guard, prevEmail string, next User) error
	// SetUserStatus sets the account status in one write and returns the
	// updated user. ErrNotFound.
	SetUserStatus(ctx context.Context, username string, status AccountStatus, now time.Time) (User, error)
	// DeleteUser removes the user and its email reservation atomically.
	// ErrConflict while the user has OPEN jobs or PENDING applications —
	// decided in the same write, so a concurrent CreateJob or ApplyToJob
	// either completes first (and the delete is refused) or fails. ErrNotFound.
	DeleteUser(ctx context.Context, g Guard, username string) error
	// ListUsers lists users of one type ordered by username.
	ListUsers(ctx context.Context, g Guard, t UserType, p PageRequest) (Page[User], error)

	// CreateJob inserts j (status OPEN) for j.ParentUsername; the Guard is
	// on the parent, whose account must exist.
	CreateJob(ctx context.Context, g Guard, j Job) error
	// GetJob returns the job, strongly consistent. ErrNotFound.
	GetJob(ctx context.Context, g Guard, id string) (Job, error)
	// UpdateJob writes next's JobDetails, UpdatedOn and Version when the
	// stored job is OPEN (ErrConflict), its Version is next.Version-1
	// (ErrConflict) and, when owner is not empty, its parent is owner
	// (ErrForbidden). ErrNotFound.
	UpdateJob(ctx context.Context, g Guard, owner string, next Job) error
	// TransitionJob moves the job from status from to status to (CANCELLED
	// or COMPLETED) when, if owner is not empty, its parent is owner
	// (ErrForbidden). ErrConflict when the job is not in status from;
	// ErrNotFound. Returns the updated job.
	TransitionJob(ctx context.Context, g Guard, id, owner string, from, to JobStatus, now time.Time) (Job, error)
	// ListJobsByStatus lists jobs in one status, newest first.
	ListJobsByStatus(ctx context.Context, g Guard, status JobStatus, p PageRequest) (Page[Job], error)
	// ListJobsByParent returns the parent and their jobs, newest first.
	// ErrNotFound when the parent does not exist.
	ListJobsByParent(ctx context.Context, g Guard, parent string, p PageRequest) (User, Page[Job], error)

	// ApplyToJob inserts a (status PENDING) when the job exists (ErrNotFound),
	// is OPEN (ErrConflict) and has no application from a.NannyUsername
	// (*AlreadyExistsError on application). The Guard is on the nanny.
	ApplyToJob(ctx context.Context, g Guard, a Application) error
	// WithdrawApplication moves the application PENDING → WITHDRAWN when it
	// belongs to nanny (ErrForbidden) and is PENDING (ErrConflict).
	// ErrNotFound. Returns the updated application.
	WithdrawApplication(ctx context.Context, g Guard, jobID, applicationID, nanny string, now time.Time) (Application, error)
	// ListApplicationsForJob returns the job and its applications, newest
	// first. ErrNotFound when the job does not exist.
	ListApplicationsForJob(ctx context.Context, g Guard, jobID string, p PageRequest) (Job, Page[Application], error)
	// ListJobsAppliedTo returns the nanny and their applications, newest
	// first. ErrNotFound when the nanny does not exist.
	ListJobsAppliedTo(ctx context.Context, g Guard, nanny string, p PageRequest) (User, Page[Application], error)

	// BookNanny, in one atomic write, moves the job OPEN → CLOSED with
	// AcceptedApplicationID = applicationID and AcceptedNanny = the
	// application's nanny, and the application PENDING →
	// ACCEPTED, when the job's parent is owner (ErrForbidden) and the Guard
	// passes. ErrConflict when the job is not OPEN or the application not
	// PENDING; ErrNotFound when either does not exist (or the application
	// is of another job). Idempotent: when the job is already CLOSED with
	// this application accepted it returns both and a nil error, changing
	// nothing.
	BookNanny(ctx context.Context, g Guard, jobID, applicationID, owner string, now time.Time) (Job, Application, error)
	// PendingApplications returns every PENDING application of the job,
	// strongly consistent: once the job is not OPEN no application can be
	// added, so a read after BookNanny sees every one left to decline.
	PendingApplications(ctx context.Context, jobID string) ([]Application, error)
	// DeclineApplications moves each listed application of the job PENDING →
	// DECLINED, each conditionally and independently: one that is not
	// PENDING (accepted, withdrawn, already declined) or does not exist is
	// skipped and does not block the others. ErrNotFound when the job does
	// not exist; ErrConflict when it is OPEN (declines are only for jobs
	// that can no longer take a nanny).
	DeclineApplications(ctx context.Context, jobID string, applicationIDs []string, now time.Time) (DeclineResult, error)

	// CreateReview inserts r and adds r.Rating to the reviewee's Rating
	// (Count+1, Sum+Rating) in one atomic write, when the job exists
	// (ErrNotFound), is COMPLETED (ErrConflict), r.Reviewer and r.Reviewee
	// are its parent and AcceptedNanny in r.Direction (ErrForbidden), and
	// the job has no review in that direction yet (*AlreadyExistsError on
	// review). The Guard is on the reviewer.
	CreateReview(ctx context.Context, g Guard, r Review) error
	// ListReviews lists the reviews of a user (as reviewee), newest first.
	ListReviews(ctx context.Context, username string, p PageRequest) (Page[Review], error)
	// ListOpenJobsInRanges returns the OPEN jobs whose location lies in any
	// of the geohash ranges: cell Geohash(lat, lon, GeoCellPrecision) ==
	// r.Cell and key Geohash(lat, lon, GeoKeyPrecision) within [r.From,
	// r.To]. It reads an index of OPEN jobs by cell, never every job; a job
	// leaves the index when it leaves OPEN. Order is unspecified.
	ListOpenJobsInRanges(ctx context.Context, g Guard, ranges []GeoRange) ([]Job, error)
}

// DeclineResult says what DeclineApplications did with each application.
type DeclineResult struct {
	// Declined were PENDING and are now DECLINED.
	Declined []string
	// Skipped were not PENDING or do not exist; nothing was changed.
	Skipped []string
}
