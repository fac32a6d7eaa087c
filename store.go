package babysitter

import (
	"context"
	"time"
)

// Store is the persistence a Service runs on, read by entity. Every method
// is one atomic unit: its conditions are checked in the same write that
// applies it, so concurrent callers cannot interleave between a check and
// a change.
//
// The Service validates input and checks what needs no stored state (see
// the package documentation); a Store decides everything that depends on
// stored state — the acting account (Guard), ownership, the state of jobs
// and applications, uniqueness, versions — by calling this package's
// Check functions on what it read (rules.go), so every backend applies the
// same rules with the same errors. A backend that cannot hold its data
// still while it decides (DynamoDB) turns the same conditions into
// condition expressions and, when one fails, calls the Check function on
// the item as it is now to say why.
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
	UserStore
	JobStore
	ApplicationStore
	BookingStore
	ReviewStore
}

// UserStore holds the accounts, their email reservations and the
// tombstones of deleted usernames.
type UserStore interface {
	// CreateUser inserts u and reserves u.Email (already normalized) in one
	// atomic write. A taken username — held by an account or by the
	// tombstone of a deleted one — or a taken email is an
	// *AlreadyExistsError naming the field; nothing is written then.
	CreateUser(ctx context.Context, u User) error
	// GetUser returns the user, strongly consistent. ErrNotFound.
	GetUser(ctx context.Context, username string) (User, error)
	// UpdateUser writes next's Email, Profile, UpdatedOn and Version — and
	// nothing else, so it never undoes a concurrent status or rating change
	// — as CheckUserUpdate allows. When next.Email differs from prevEmail
	// the reservation moves in the same write (*AlreadyExistsError on email
	// if taken).
	UpdateUser(ctx context.Context, g Guard, prevEmail string, next User) error
	// SetUserStatus sets the account status in one write and returns the
	// updated user. ErrNotFound.
	SetUserStatus(ctx context.Context, username string, status AccountStatus, now time.Time) (User, error)
	// DeleteUser removes the user and its email reservation and leaves a
	// tombstone of the username (made at now), in one atomic write, as CheckUserDelete
	// allows (refused while a parent has OPEN jobs — decided in the same
	// write, so a concurrent CreateJob either completes first and the
	// delete is refused, or fails). The user's jobs, applications and
	// reviews are kept.
	DeleteUser(ctx context.Context, g Guard, username string, now time.Time) error
	// ListUsers lists users of one type ordered by username.
	ListUsers(ctx context.Context, g Guard, t UserType, p PageRequest) (Page[User], error)
}

// JobStore holds the jobs.
type JobStore interface {
	// CreateJob inserts j (status OPEN) for j.ParentUsername, whose account
	// must exist; the Guard is on the actor.
	CreateJob(ctx context.Context, g Guard, j Job) error
	// GetJob returns the job, strongly consistent. ErrNotFound.
	GetJob(ctx context.Context, g Guard, id string) (Job, error)
	// UpdateJob writes next's JobDetails, UpdatedOn and Version as
	// CheckJobUpdate allows.
	UpdateJob(ctx context.Context, g Guard, next Job) error
	// TransitionJob moves a job between statuses as CheckJobTransition
	// allows and returns the updated job.
	TransitionJob(ctx context.Context, g Guard, t JobTransition) (Job, error)
	// ListJobsByStatus lists jobs in one status, newest first.
	ListJobsByStatus(ctx context.Context, g Guard, status JobStatus, p PageRequest) (Page[Job], error)
	// ListJobsByParent returns the parent and their jobs, newest first.
	// ErrNotFound when the parent does not exist.
	ListJobsByParent(ctx context.Context, g Guard, parent string, p PageRequest) (User, Page[Job], error)
	// ListOpenJobsInRanges returns the OPEN jobs whose location lies in any
	// of the geohash ranges: partition GeoCell(lat, lon) == r.Cell and key
	// Geohash(lat, lon, GeoKeyPrecision) within [r.From, r.To]. It reads an
	// index of OPEN jobs by partition, never every job; a job leaves the
	// index when it leaves OPEN. Order is unspecified.
	ListOpenJobsInRanges(ctx context.Context, g Guard, ranges []GeoRange) ([]Job, error)
}

// ApplicationStore holds the applications.
type ApplicationStore interface {
	// ApplyToJob inserts a (status PENDING) as CheckApply allows, once per
	// nanny and job (*AlreadyExistsError on application). The Guard is on
	// the nanny.
	ApplyToJob(ctx context.Context, g Guard, a Application) error
	// WithdrawApplication moves the application PENDING → WITHDRAWN as
	// CheckWithdraw allows and returns the updated application.
	WithdrawApplication(ctx context.Context, g Guard, ref ApplicationRef, now time.Time) (Application, error)
	// ListApplicationsForJob returns the job and its applications, newest
	// first, as CheckJobManager allows the actor. ErrNotFound when the job
	// does not exist.
	ListApplicationsForJob(ctx context.Context, g Guard, jobID string, p PageRequest) (Job, Page[Application], error)
	// ListJobsAppliedTo returns the nanny and their applications, newest
	// first. ErrNotFound when the nanny does not exist.
	ListJobsAppliedTo(ctx context.Context, g Guard, nanny string, p PageRequest) (User, Page[Application], error)
}

// BookingStore books a nanny and declines the other applications.
type BookingStore interface {
	// BookNanny, in one atomic write, moves the job OPEN → CLOSED with
	// AcceptedApplicationID and AcceptedNanny set and the application
	// PENDING → ACCEPTED, as CheckBooking allows — the applicant's account
	// is checked in that same write. When CheckBooking reports the booking
	// already made, it returns the job and the application as stored and
	// a nil error, changing nothing.
	BookNanny(ctx context.Context, r BookRequest) (Job, Application, error)
	DeclineStore
}

// DeclineStore is what the decline consumer needs: the PENDING
// applications of a job that has left OPEN, and their decline.
type DeclineStore interface {
	// PendingApplications returns every PENDING application of the job,
	// strongly consistent: once the job is not OPEN no application can be
	// added, so a read after BookNanny sees every one left to decline.
	PendingApplications(ctx context.Context, jobID string) ([]Application, error)
	// DeclineApplications moves each listed application of the job PENDING →
	// DECLINED, each conditionally and independently (Declinable): one that
	// is not PENDING (accepted, withdrawn, already declined) or does not
	// exist is skipped and does not block the others. The job must allow
	// declines (CheckDecline).
	DeclineApplications(ctx context.Context, jobID string, applicationIDs []string, now time.Time) (DeclineResult, error)
}

// ReviewStore holds the reviews and the rating aggregates.
type ReviewStore interface {
	// CreateReview inserts r and adds r.Rating to the reviewee's Rating
	// (Count+1, Sum+Rating) in one atomic write, as CheckReview allows, once
	// per job and direction (*AlreadyExistsError on review); the reviewee's
	// account must exist (ErrNotFound). The Guard is on the reviewer.
	CreateReview(ctx context.Context, g Guard, r Review) error
	// ListReviews lists the reviews of a user (as reviewee), newest first.
	ListReviews(ctx context.Context, username string, p PageRequest) (Page[Review], error)
}

// ApplicationRef names one application of one job.
type ApplicationRef struct {
	JobID         string
	ApplicationID string
}

// JobTransition is a change of a job's status (OPEN → CANCELLED, CLOSED →
// COMPLETED) at a time.
type JobTransition struct {
	JobID    string
	From, To JobStatus
	At       time.Time
}

// BookRequest is a BookNanny for a Store.
type BookRequest struct {
	// Guard is on the booking parent.
	Guard Guard
	ApplicationRef
	// Applicant lists the account statuses the applicant's NANNY account
	// may be in for the booking to go ahead (VERIFIED by default).
	Applicant []AccountStatus
	At        time.Time
}

// DeclineResult says what DeclineApplications did with each application.
type DeclineResult struct {
	// Declined were PENDING and are now DECLINED.
	Declined []string
	// Skipped were not PENDING or do not exist; nothing was changed.
	Skipped []string
}
