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
	ErasureStore
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
	// SetUserStatus sets the account status and its Verification record
	// (s.Verification; nil removes it) and UpdatedOn, in one write, as
	// CheckStatusUpdate allows — a VERIFIED decision's document is checked
	// in that write — and returns the updated user. ErrNotFound.
	SetUserStatus(ctx context.Context, s StatusUpdate) (User, error)
	// DeleteUser removes the user and its email reservation and leaves a
	// tombstone of the username (made at now), in one atomic write, as CheckUserDelete
	// allows (refused while a parent has OPEN jobs — decided in the same
	// write, so a concurrent CreateJob either completes first and the
	// delete is refused, or fails). The user's jobs, applications and
	// reviews are kept. When the account has objects (User.Keys), the same
	// write records their Erasure (ErasureOf the user as deleted), which it
	// returns; it has no Keys otherwise and nothing is recorded.
	DeleteUser(ctx context.Context, g Guard, username string, now time.Time) (Erasure, error)
	// UpdateUploads applies c to the account's uploads as
	// ApplyUploadChange decides on the account as it is, in one write
	// conditional on what it decided on (Uploads.Version), and returns the
	// user as written (as it was, when c changes nothing). It writes
	// Documents, Uploads, and ProfilePicURL and UpdatedOn when they
	// change — nothing else of the user. The Guard is on the account's
	// owner. ErrNotFound.
	UpdateUploads(ctx context.Context, g Guard, c UploadChange) (User, error)
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
	// allows and returns the updated job. A job leaving OPEN (CANCELLED)
	// has its declines recorded as due in the same write (DeclineStore).
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
	// is checked in that same write — and records the job's declines as
	// due (see DueDeclines). When CheckBooking reports the booking already
	// made, it returns the job and the application as stored and a nil
	// error, changing nothing.
	BookNanny(ctx context.Context, r BookRequest) (Job, Application, error)
	DeclineStore
}

// DeclineStore is what the decline consumer needs: the declines of a job
// that has left OPEN, and the jobs whose declines are due.
//
// The write that moves a job out of OPEN with PENDING applications left
// (BookNanny; TransitionJob to CANCELLED) also records that its declines
// are due — an outbox entry in the same atomic write — and the consumer
// clears it (ClearDeclines) once no application of the job is PENDING and
// the job's notifications are published. So the declines
// follow from the committed write itself: a lost message, a crashed
// process or a client that gives up leaves an entry that DueDeclines
// finds.
type DeclineStore interface {
	// DeclinePending moves every PENDING application of the job to
	// DECLINED, each conditionally and independently (Declinable): one
	// that changed since it was read is skipped and does not block the
	// others. It reads them with a strongly consistent read of the job's
	// applications (all of them, returned in the result with their status
	// after the declines) — none can be added once the job is not OPEN — after
	// CheckDecline allows declines on the job. It leaves the job's outbox
	// entry (ClearDeclines). Running it again declines nothing more.
	DeclinePending(ctx context.Context, jobID string, now time.Time) (DeclineResult, error)
	// DueDeclines returns up to limit IDs of jobs whose declines have been
	// due since before the given time (outbox entries not yet cleared),
	// oldest first where the store can tell.
	DueDeclines(ctx context.Context, before time.Time, limit int) ([]string, error)
	// ClearDeclines removes the job's outbox entry: the decline consumer
	// calls it once the job's declines are done and their notifications
	// published, so that a failure before it leaves the job due. Clearing
	// an entry that is not there is not an error.
	ClearDeclines(ctx context.Context, jobID string) error
}

// ErasureStore keeps the Erasures of deleted accounts until their objects
// are deleted: DeleteUser records one in its write; an Eraser clears it.
type ErasureStore interface {
	// DueErasures returns up to limit Erasures due since before the given
	// time (Erasure.Due), oldest first where the store can tell.
	DueErasures(ctx context.Context, before time.Time, limit int) ([]Erasure, error)
	// ClearErasure removes the Erasure of a deleted account. Clearing one
	// that is not there is not an error.
	ClearErasure(ctx context.Context, username string) error
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

// DeclineResult says what DeclinePending did.
type DeclineResult struct {
	// Job is the job as read.
	Job Job
	// Applications are the job's applications as they are after the
	// declines (read in the same pass, so it costs no extra read): what a
	// consumer needs to tell each applicant what happened to them.
	Applications []Application
	// Declined are the IDs of the applications it moved PENDING → DECLINED.
	Declined []string
	// Skipped are the IDs of applications it read PENDING that had changed
	// (withdrawn, declined by a concurrent consumer) by the time of their
	// write; nothing was changed.
	Skipped []string
}

// StatusUpdate is a change of an account's status by an admin
// (SetUserStatus).
type StatusUpdate struct {
	Username string
	Status   AccountStatus
	// Verification is the record of a VERIFIED decision (Status VERIFIED);
	// nil for any other status, which removes the record.
	Verification *Verification
	At           time.Time
}

// UploadChange is one change of an account's uploads (UpdateUploads), as
// ApplyUploadChange applies it; set one of Request, Confirm, Forget.
type UploadChange struct {
	Username string
	// Request is an upload about to be requested (its presigned PUT issued
	// once the change is written).
	Request *Upload
	// Confirm records a requested upload (same ID and Kind) as uploaded:
	// ContentType and Size as stored, UploadedOn set.
	Confirm *Upload
	// PictureURL is the new User.ProfilePicURL, with a Confirm of a
	// picture.
	PictureURL string
	// Forget are the IDs of discarded uploads whose objects are deleted.
	Forget []string
	At     time.Time
}
