package babysitter

import (
	"cmp"
	"slices"
)

// The rules of the marketplace that depend on stored state, as pure
// functions of what a Store read. Every Store calls them: store/memory
// under its lock, store/dynamodb on the items it read before a conditional
// write (whose conditions say the same thing) and on the item a failed
// condition returns. So a rule and its error are written once, here.
//
// Each Check function takes the stored values as pointers, nil when the
// item does not exist, and returns nil when the operation may go ahead or
// the domain error that says why not.

// Guard is the acting user as a Store checks them, in the same request as
// the operation: inside the atomic write for writes, alongside the read
// for reads. That is how deactivation, the VERIFIED requirement and the
// binding of a role to an account type take effect without a separate,
// racy read.
//
// An admin (Actor.Role RoleAdmin) is provisioned in the identity provider,
// may have no account and manages every job: the Guard passes. Anyone else
// acts only through their own account, which must exist, be bound to
// their identity (the account's Subject, if any, is the actor's), be of
// the type their role acts through (AccountType) and be in one of the
// Allow statuses. A Guard whose actor has any other role fails.
type Guard struct {
	Actor Actor
	// Allow lists the account statuses that pass.
	Allow []AccountStatus
}

// Admin reports whether the Guard's actor is an admin, who has no account
// to check.
func (g Guard) Admin() bool { return g.Actor.Role == RoleAdmin }

// AccountType is the type of account the actor's role acts through:
// PARENT for a parent, NANNY for a nanny, "" for an admin or an unknown
// role.
func (g Guard) AccountType() UserType { return roleAccount(g.Actor.Role) }

func roleAccount(r Role) UserType {
	switch r {
	case RoleParent:
		return UserParent
	case RoleNanny:
		return UserNanny
	}
	return ""
}

// Check applies the Guard to the actor's account as a Store read it;
// account is nil when it does not exist (and is ignored for an admin).
func (g Guard) Check(account *User) error {
	if g.Admin() {
		return nil
	}
	want := g.AccountType()
	switch {
	case want == "" || g.Actor.Username == "":
		return Errorf(ErrForbidden, "actor %q has no role that acts through an account", g.Actor.Username)
	case account == nil:
		return Errorf(ErrForbidden, "account %q does not exist", g.Actor.Username)
	case !account.boundTo(g.Actor):
		return Errorf(ErrForbidden, "account %q belongs to another identity of that username", g.Actor.Username)
	case account.Type != want:
		return Errorf(ErrForbidden, "account %q is a %s account; a %s acts only through a %s account", g.Actor.Username, account.Type, g.Actor.Role, want)
	case account.Status == StatusDeactivated:
		return Errorf(ErrForbidden, "account %q is deactivated", g.Actor.Username)
	case !slices.Contains(g.Allow, account.Status):
		return Errorf(ErrForbidden, "account %q is %s; this needs %v", g.Actor.Username, account.Status, g.Allow)
	}
	return nil
}

// CheckJobManager allows the job's parent and admins: who may edit,
// cancel, book, complete a job and read its applications.
func CheckJobManager(g Guard, j Job) error {
	if !g.Admin() && j.ParentUsername != g.Actor.Username {
		return Errorf(ErrForbidden, "job %q is not %q's", j.ID, g.Actor.Username)
	}
	return nil
}

// CheckUserUpdate decides an UpdateUser of cur into next: cur must exist,
// be at next's previous version and still hold prevEmail.
func CheckUserUpdate(cur *User, prevEmail string, next User) error {
	switch {
	case cur == nil:
		return UserNotFound(next.Username)
	case cur.Version != next.Version-1:
		return Errorf(ErrConflict, "user %q changed concurrently (version %d, update expects %d)", cur.Username, cur.Version, next.Version-1)
	case cur.Email != prevEmail:
		return Errorf(ErrConflict, "user %q: email changed concurrently", cur.Username)
	}
	return nil
}

// CheckUserDelete decides a DeleteUser of u, who owns openJobs OPEN jobs:
// refused while there are any. A nanny's PENDING applications do not stop
// it: they are never bookable once the account is gone (CheckBooking
// looks at the applicant's account) and are declined when their jobs close.
func CheckUserDelete(username string, u *User, openJobs int64) error {
	switch {
	case u == nil:
		return UserNotFound(username)
	case openJobs > 0:
		return Errorf(ErrConflict, "user %q has OPEN jobs; cancel them first", username)
	}
	return nil
}

// CheckJobUpdate decides an UpdateJob of cur into next: the actor manages
// the job, it is OPEN and at next's previous version.
func CheckJobUpdate(g Guard, cur *Job, next Job) error {
	if cur == nil {
		return JobNotFound(next.ID)
	}
	if err := CheckJobManager(g, *cur); err != nil {
		return err
	}
	if cur.Status != JobOpen {
		return jobNotIn(cur, JobOpen)
	}
	if cur.Version != next.Version-1 {
		return Errorf(ErrConflict, "job %q changed concurrently (version %d, update expects %d)", cur.ID, cur.Version, next.Version-1)
	}
	return nil
}

// jobTransitions lists the status changes TransitionJob makes: a booking
// (OPEN → CLOSED) is BookNanny's alone.
var jobTransitions = map[[2]JobStatus]bool{
	{JobOpen, JobCancelled}:   true,
	{JobClosed, JobCompleted}: true,
}

// CheckTransition reports whether a job may move from one status to
// another through TransitionJob; it needs no stored state.
func CheckTransition(from, to JobStatus) error {
	if !jobTransitions[[2]JobStatus{from, to}] {
		return invalid("status", "a job does not move from %s to %s here", from, to)
	}
	return nil
}

// CheckJobTransition decides a TransitionJob of cur: the transition is
// one TransitionJob makes (CheckTransition), the actor manages the job and
// it is in t.From.
func CheckJobTransition(g Guard, cur *Job, t JobTransition) error {
	if err := CheckTransition(t.From, t.To); err != nil {
		return err
	}
	if cur == nil {
		return JobNotFound(t.JobID)
	}
	if err := CheckJobManager(g, *cur); err != nil {
		return err
	}
	if cur.Status != t.From {
		return jobNotIn(cur, t.From)
	}
	return nil
}

// CheckApply decides an ApplyToJob of a to job j: the job exists, is not
// the applicant's own and is OPEN. Uniqueness per nanny and job is the
// Store's (ApplicationTaken).
func CheckApply(j *Job, a Application) error {
	switch {
	case j == nil:
		return JobNotFound(a.JobID)
	case j.ParentUsername == a.NannyUsername:
		return Errorf(ErrForbidden, "%q may not apply to their own job %q", a.NannyUsername, j.ID)
	case j.Status != JobOpen:
		return jobNotIn(j, JobOpen)
	}
	return nil
}

// CheckWithdraw decides a WithdrawApplication of a (as stored, nil when
// missing) named by ref: it is the actor's own and PENDING.
func CheckWithdraw(g Guard, ref ApplicationRef, a *Application) error {
	switch {
	case a == nil || a.JobID != ref.JobID:
		return ApplicationNotFound(ref)
	case a.NannyUsername != g.Actor.Username:
		return Errorf(ErrForbidden, "application %q is not %q's", a.ID, g.Actor.Username)
	case a.Status != ApplicationPending:
		return appNotPending(a)
	}
	return nil
}

// CheckBooking decides a BookNanny of the application a of job j, whose
// applicant's account is nanny (each nil when missing). done is true when
// this very booking was already made — j CLOSED with a accepted — and a
// retry must succeed without writing anything. Otherwise the actor manages
// the job, the job is OPEN, the application PENDING, and the applicant's
// account exists, is a NANNY account (no parent books themselves) and is
// in one of r.Applicant's statuses.
func CheckBooking(r BookRequest, j *Job, a *Application, nanny *User) (done bool, err error) {
	switch {
	case j == nil:
		return false, JobNotFound(r.JobID)
	case a == nil || a.JobID != j.ID:
		return false, ApplicationNotFound(r.ApplicationRef)
	}
	if err := CheckJobManager(r.Guard, *j); err != nil {
		return false, err
	}
	switch {
	case j.Status == JobClosed && j.AcceptedApplicationID == a.ID && a.Status == ApplicationAccepted:
		return true, nil
	case j.Status != JobOpen:
		return false, jobNotIn(j, JobOpen)
	case a.Status != ApplicationPending:
		return false, appNotPending(a)
	}
	return false, CheckApplicant(r.Applicant, a, nanny)
}

// CheckApplicant decides whether the applicant of a, whose account is
// nanny (nil when missing), may be booked: the account exists, is a NANNY
// account other than the job's parent, and is in one of the allowed
// statuses; a DEACTIVATED account never passes, whatever allow lists (as
// for a Guard). An application whose nanny is gone, deactivated or
// unverified is inert: it stays PENDING until its job closes.
func CheckApplicant(allow []AccountStatus, a *Application, nanny *User) error {
	switch {
	case nanny == nil:
		return Errorf(ErrConflict, "the applicant %q of application %q has no account any more", a.NannyUsername, a.ID)
	case nanny.Type != UserNanny:
		return Errorf(ErrConflict, "the applicant %q of application %q has a %s account, not a NANNY one", a.NannyUsername, a.ID, nanny.Type)
	case nanny.Status == StatusDeactivated:
		return Errorf(ErrConflict, "the applicant %q of application %q is deactivated", a.NannyUsername, a.ID)
	case !slices.Contains(allow, nanny.Status):
		return Errorf(ErrConflict, "the applicant %q of application %q is %s; only %v nannies can be booked", a.NannyUsername, a.ID, nanny.Status, allow)
	}
	return nil
}

// CheckDecline decides whether the applications of job j may be declined:
// it exists and is no longer OPEN — it can take no nanny, and no
// application can be added to it.
func CheckDecline(jobID string, j *Job) error {
	switch {
	case j == nil:
		return JobNotFound(jobID)
	case j.Status == JobOpen:
		return Errorf(ErrConflict, "job %q is OPEN; its applications cannot be declined", jobID)
	}
	return nil
}

// Declinable reports whether a decline of application a (nil when
// missing) of job jobID changes it: it exists, belongs to the job and is
// PENDING. A decline never touches an ACCEPTED, WITHDRAWN or DECLINED one.
func Declinable(jobID string, a *Application) bool {
	return a != nil && a.JobID == jobID && a.Status == ApplicationPending
}

// CheckReview decides a CreateReview of r on job j: the job exists, r's
// reviewer and reviewee are its two parties in r's direction (the parent
// and the booked nanny; no one reviews themselves), and it is COMPLETED.
// Uniqueness per job and direction is the Store's (ReviewTaken).
func CheckReview(j *Job, r Review) error {
	if j == nil {
		return JobNotFound(r.JobID)
	}
	if err := r.Direction.Check(); err != nil {
		return err
	}
	party := j.ParentUsername == r.Reviewer
	if r.Direction == ReviewOfParent {
		party = j.AcceptedNanny != "" && j.AcceptedNanny == r.Reviewer
	}
	switch {
	case r.Reviewer == r.Reviewee:
		return Errorf(ErrForbidden, "%q may not review themselves", r.Reviewer)
	case !party:
		return Errorf(ErrForbidden, "only the parent and the booked nanny of job %q review each other", j.ID)
	case j.Status != JobCompleted:
		return Errorf(ErrConflict, "job %q is %s; reviews open when it is COMPLETED", j.ID, j.Status)
	case r.Reviewee != Counterpart(*j, r.Direction):
		return Errorf(ErrForbidden, "%q is not the other party of job %q", r.Reviewee, j.ID)
	}
	return nil
}

// Counterpart is who the reviewer of a job reviews in direction d: the
// booked nanny for ReviewOfNanny, the parent for ReviewOfParent.
func Counterpart(j Job, d ReviewDirection) string {
	if d == ReviewOfParent {
		return j.ParentUsername
	}
	return j.AcceptedNanny
}

// The errors every Store returns for missing items and taken values, so
// that no backend words its own.

// UserNotFound is the ErrNotFound of a missing account.
func UserNotFound(username string) error {
	return Errorf(ErrNotFound, "user %q", username)
}

// JobNotFound is the ErrNotFound of a missing job.
func JobNotFound(id string) error {
	return Errorf(ErrNotFound, "job %q", id)
}

// ApplicationNotFound is the ErrNotFound of a missing application (or one
// of another job).
func ApplicationNotFound(ref ApplicationRef) error {
	return Errorf(ErrNotFound, "application %q of job %q", ref.ApplicationID, ref.JobID)
}

// UsernameTaken is the *AlreadyExistsError of a username held by an
// account or by the tombstone of a deleted one.
func UsernameTaken(username string) error {
	return &AlreadyExistsError{Field: FieldUsername, Value: username}
}

// EmailTaken is the *AlreadyExistsError of a reserved email.
func EmailTaken(email string) error {
	return &AlreadyExistsError{Field: FieldEmail, Value: email}
}

// ApplicationTaken is the *AlreadyExistsError of a second application of
// one nanny to one job.
func ApplicationTaken(a Application) error {
	return &AlreadyExistsError{Field: FieldApplication, Value: a.NannyUsername}
}

// ReviewTaken is the *AlreadyExistsError of a second review of a job in
// one direction.
func ReviewTaken(r Review) error {
	return &AlreadyExistsError{Field: FieldReview, Value: r.JobID + "/" + string(r.Direction)}
}

// DuplicateID is the ErrConflict of an insert whose new ID is already
// used (IDs are random: this means a retry of an insert by another path).
func DuplicateID(entity, id string) error {
	return Errorf(ErrConflict, "%s %q already exists", entity, id)
}

func jobNotIn(j *Job, want JobStatus) error {
	return Errorf(ErrConflict, "job %q is %s, not %s", j.ID, j.Status, want)
}

func appNotPending(a *Application) error {
	return Errorf(ErrConflict, "application %q is %s, not PENDING", a.ID, a.Status)
}

// ---- uploads and verification ----

// CheckStatusUpdate decides a SetUserStatus of u (nil when missing): the
// account exists, and a VERIFIED decision on a document names one of its
// Documents — a confirmed identity document of this user, not a picture,
// not an upload still only requested, not anyone else's.
func CheckStatusUpdate(u *User, s StatusUpdate) error {
	if u == nil {
		return UserNotFound(s.Username)
	}
	if v := s.Verification; v != nil && v.UploadID != "" {
		if _, err := CheckDocument(u, v.UploadID); err != nil {
			return err
		}
	}
	return nil
}

// CheckDocument returns the identity document id of u (nil when missing):
// one of its Documents. An upload only requested is ErrConflict; anything
// else — a picture, another user's document, an unknown ID — is
// ErrNotFound, so nobody learns of objects that are not this user's
// documents.
func CheckDocument(u *User, id string) (Upload, error) {
	if u == nil {
		return Upload{}, Errorf(ErrNotFound, "document %q: no such user", id)
	}
	if i := slices.IndexFunc(u.Documents, func(d Upload) bool { return d.ID == id }); i >= 0 {
		return u.Documents[i], nil
	}
	if slices.ContainsFunc(u.Uploads.Requested, func(r Upload) bool { return r.ID == id && r.Kind == UploadDocument }) {
		return Upload{}, Errorf(ErrConflict, "document %q of user %q is not uploaded yet: ConfirmUpload records it", id, u.Username)
	}
	return Upload{}, Errorf(ErrNotFound, "document %q of user %q", id, u.Username)
}

// CheckRequested returns the upload id of u as it is: requested (done
// false), or already recorded by ConfirmUpload — one of its Documents or
// its picture — (done true: confirming it again changes nothing). Any
// other ID is ErrNotFound.
func CheckRequested(u *User, id string) (up Upload, done bool, err error) {
	if u == nil {
		return Upload{}, false, Errorf(ErrNotFound, "upload %q: no such user", id)
	}
	if i := slices.IndexFunc(u.Uploads.Requested, func(r Upload) bool { return r.ID == id }); i >= 0 {
		return u.Uploads.Requested[i], false, nil
	}
	if i := slices.IndexFunc(u.Documents, func(d Upload) bool { return d.ID == id }); i >= 0 {
		return u.Documents[i], true, nil
	}
	if p := u.Uploads.Picture; p != nil && p.ID == id {
		return *p, true, nil
	}
	return Upload{}, false, Errorf(ErrNotFound, "upload %q of user %q", id, u.Username)
}

// ApplyUploadChange returns the account u (nil when missing) after the
// change c, and whether c changes anything; every Store applies it to the
// account as it read it, and writes the result in one conditional write
// (on Uploads.Version). The rules:
//
//   - Request: the requests whose URL has expired (Upload.Final) are
//     discarded first, since they can no longer be confirmed; then at most
//     MaxRequestedUploads may be pending, at most MaxDocuments documents
//     held and requested, and at most MaxDiscarded objects await deletion
//     (ErrConflict beyond).
//   - Confirm: a requested upload is recorded — a document among the
//     Documents, a picture as the profile picture (c.PictureURL), the
//     previous picture discarded. An upload recorded already changes
//     nothing; one never requested is ErrNotFound.
//   - Forget: discarded objects whose deletion is done leave the account.
//
// UpdatedOn moves when what the API shows changes (a document, the
// picture).
func ApplyUploadChange(u *User, c UploadChange) (next User, changed bool, err error) {
	if u == nil {
		return User{}, false, UserNotFound(c.Username)
	}
	next = *u
	up := &next.Uploads
	up.Requested = slices.Clone(up.Requested)
	up.Discarded = slices.Clone(up.Discarded)
	next.Documents = slices.Clone(next.Documents)

	if r := c.Request; r != nil && !slices.ContainsFunc(u.all(), func(x Upload) bool { return x.ID == r.ID }) {
		// (A request recorded already — a write retried after it
		// committed — changes nothing.)
		keep := up.Requested[:0]
		for _, x := range up.Requested {
			if x.Final().Before(c.At) {
				up.Discarded = append(up.Discarded, x)
			} else {
				keep = append(keep, x)
			}
		}
		up.Requested = keep
		docs := len(next.Documents)
		for _, x := range up.Requested {
			if x.Kind == UploadDocument {
				docs++
			}
		}
		switch {
		case len(up.Requested) >= MaxRequestedUploads:
			return User{}, false, Errorf(ErrConflict, "user %q has %d uploads requested and not confirmed; confirm them, or wait until their URLs expire", c.Username, len(up.Requested))
		case r.Kind == UploadDocument && docs >= MaxDocuments:
			return User{}, false, Errorf(ErrConflict, "user %q holds %d identity documents, the most an account keeps", c.Username, docs)
		case len(up.Discarded) > MaxDiscarded:
			return User{}, false, Errorf(ErrConflict, "user %q has %d objects awaiting deletion; try again later", c.Username, len(up.Discarded))
		}
		up.Requested = append(up.Requested, *r)
		changed = true
	}

	if x := c.Confirm; x != nil {
		i := slices.IndexFunc(up.Requested, func(r Upload) bool { return r.ID == x.ID && r.Kind == x.Kind })
		if i < 0 {
			_, done, err := CheckRequested(u, x.ID)
			if err == nil && !done { // requested, as another kind
				err = Errorf(ErrNotFound, "%s upload %q of user %q", x.Kind, x.ID, c.Username)
			}
			if err != nil {
				return User{}, false, err
			}
			// Recorded already: nothing to change.
		} else {
			up.Requested = slices.Delete(up.Requested, i, i+1)
			switch x.Kind {
			case UploadDocument:
				if len(next.Documents) >= MaxDocuments {
					return User{}, false, Errorf(ErrConflict, "user %q holds %d identity documents, the most an account keeps", c.Username, len(next.Documents))
				}
				next.Documents = append(next.Documents, *x)
			case UploadPicture:
				if up.Picture != nil {
					up.Discarded = append(up.Discarded, *up.Picture)
				}
				p := *x
				up.Picture = &p
				next.ProfilePicURL = c.PictureURL
			}
			next.UpdatedOn = c.At
			changed = true
		}
	}

	if len(c.Forget) > 0 {
		n := len(up.Discarded)
		up.Discarded = slices.DeleteFunc(up.Discarded, func(d Upload) bool { return slices.Contains(c.Forget, d.ID) })
		changed = changed || len(up.Discarded) != n
	}

	if !changed {
		return *u, false, nil
	}
	SortUploads(&next)
	up.Version++
	return next, true, nil
}

// sortUploads puts uploads in the order every Store returns them: by
// RequestedOn (by UploadedOn when uploaded), then ID.
func sortUploads(us []Upload, uploaded bool) {
	slices.SortFunc(us, func(a, b Upload) int {
		ta, tb := a.RequestedOn, b.RequestedOn
		if uploaded {
			ta, tb = a.UploadedOn, b.UploadedOn
		}
		return cmp.Or(ta.Compare(tb), cmp.Compare(a.ID, b.ID))
	})
}

// SortUploads puts a user's uploads in the order ApplyUploadChange leaves
// them: a Store that reads them back unordered (from a map) calls it.
func SortUploads(u *User) {
	sortUploads(u.Uploads.Requested, false)
	sortUploads(u.Uploads.Discarded, false)
	sortUploads(u.Documents, true)
}
