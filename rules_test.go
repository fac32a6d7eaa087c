package babysitter

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

// The rules are pure functions: every Store calls them, so their tables
// here pin each decision and its error kind once for all backends.

var (
	allowActive   = []AccountStatus{StatusUnverified, StatusVerified}
	allowVerified = []AccountStatus{StatusVerified}
)

func account(name string, t UserType, st AccountStatus) *User {
	return &User{Username: name, Type: t, Status: st}
}

func wantKind(t *testing.T, what string, err, kind error) {
	t.Helper()
	switch {
	case kind == nil && err != nil:
		t.Errorf("%s: %v, want nil", what, err)
	case kind != nil && !errors.Is(err, kind):
		t.Errorf("%s: %v, want %v", what, err, kind)
	}
}

func TestGuardCheck(t *testing.T) {
	parent := Actor{Username: "alice", Role: RoleParent}
	nanny := Actor{Username: "alice", Role: RoleNanny}
	for _, tc := range []struct {
		name    string
		g       Guard
		account *User
		want    error
	}{
		{"parent through a PARENT account", Guard{parent, allowActive}, account("alice", UserParent, StatusVerified), nil},
		{"nanny through a NANNY account", Guard{nanny, allowActive}, account("alice", UserNanny, StatusUnverified), nil},
		{"nanny role on a PARENT account", Guard{nanny, allowActive}, account("alice", UserParent, StatusVerified), ErrForbidden},
		{"parent role on a NANNY account", Guard{parent, allowActive}, account("alice", UserNanny, StatusVerified), ErrForbidden},
		{"parent role on an ADMIN account", Guard{parent, allowActive}, account("alice", UserAdmin, StatusVerified), ErrForbidden},
		{"no account", Guard{parent, allowActive}, nil, ErrForbidden},
		{"deactivated", Guard{parent, allowActive}, account("alice", UserParent, StatusDeactivated), ErrForbidden},
		{"unverified where verified is needed", Guard{parent, allowVerified}, account("alice", UserParent, StatusUnverified), ErrForbidden},
		{"admin without an account", Guard{Actor{Username: "root", Role: RoleAdmin}, nil}, nil, nil},
		{"zero guard", Guard{}, account("", UserParent, StatusVerified), ErrForbidden},
		{"unknown role", Guard{Actor{Username: "alice", Role: "owner"}, allowActive}, account("alice", UserParent, StatusVerified), ErrForbidden},
		{"role without a username", Guard{Actor{Role: RoleParent}, allowActive}, account("", UserParent, StatusVerified), ErrForbidden},
		{"the identity the account is bound to", Guard{withSub(parent, "s1"), allowActive}, bound(account("alice", UserParent, StatusVerified), "s1"), nil},
		{"another identity of the username", Guard{withSub(parent, "s2"), allowActive}, bound(account("alice", UserParent, StatusVerified), "s1"), ErrForbidden},
		{"an identity without a subject on a bound account", Guard{parent, allowActive}, bound(account("alice", UserParent, StatusVerified), "s1"), ErrForbidden},
		{"any identity of the username on an unbound account", Guard{withSub(parent, "s2"), allowActive}, account("alice", UserParent, StatusVerified), nil},
		{"admin on a bound account", Guard{Actor{Username: "alice", Role: RoleAdmin}, nil}, bound(account("alice", UserParent, StatusVerified), "s1"), nil},
	} {
		wantKind(t, tc.name, tc.g.Check(tc.account), tc.want)
	}
}

// withSub returns a with subject sub.
func withSub(a Actor, sub string) Actor { a.Subject = sub; return a }

// bound returns u bound to subject sub.
func bound(u *User, sub string) *User { u.Subject = sub; return u }

func TestCheckBooking(t *testing.T) {
	now := time.Now()
	parent := Guard{Actor{Username: "p", Role: RoleParent}, allowVerified}
	r := BookRequest{Guard: parent, ApplicationRef: ApplicationRef{JobID: "j", ApplicationID: "a"}, Applicant: allowVerified, At: now}
	open := Job{ID: "j", ParentUsername: "p", Status: JobOpen}
	pending := Application{ID: "a", JobID: "j", NannyUsername: "n", Status: ApplicationPending}
	verified := account("n", UserNanny, StatusVerified)
	booked := open
	booked.Status, booked.AcceptedApplicationID, booked.AcceptedNanny = JobClosed, "a", "n"
	accepted := pending
	accepted.Status = ApplicationAccepted
	with := func(f func(*Job, *Application, *User)) (*Job, *Application, *User) {
		j, a, u := open, pending, *verified
		f(&j, &a, &u)
		return &j, &a, &u
	}
	for _, tc := range []struct {
		name     string
		r        BookRequest
		j        *Job
		a        *Application
		nanny    *User
		wantDone bool
		want     error
	}{
		{"books", r, &open, &pending, verified, false, nil},
		{"retry of a booking made", r, &booked, &accepted, verified, true, nil},
		{"retry after the nanny was deactivated", r, &booked, &accepted, account("n", UserNanny, StatusDeactivated), true, nil},
		{"no job", r, nil, &pending, verified, false, ErrNotFound},
		{"no application", r, &open, nil, verified, false, ErrNotFound},
		{"application of another job", r, &open, func() *Application { a := pending; a.JobID = "k"; return &a }(), verified, false, ErrNotFound},
		{"another parent", BookRequest{Guard: Guard{Actor{Username: "q", Role: RoleParent}, allowVerified}, ApplicationRef: r.ApplicationRef, Applicant: allowVerified}, &open, &pending, verified, false, ErrForbidden},
		{"job closed by another booking", r, func() *Job { j := booked; j.AcceptedApplicationID = "b"; return &j }(), &pending, verified, false, ErrConflict},
		{"application withdrawn", r, &open, func() *Application { a := pending; a.Status = ApplicationWithdrawn; return &a }(), verified, false, ErrConflict},
		{"applicant deactivated", r, &open, &pending, account("n", UserNanny, StatusDeactivated), false, ErrConflict},
		{"applicant unverified", r, &open, &pending, account("n", UserNanny, StatusUnverified), false, ErrConflict},
		{"applicant unverified, allowed", BookRequest{Guard: parent, ApplicationRef: r.ApplicationRef, Applicant: allowActive}, &open, &pending, account("n", UserNanny, StatusUnverified), false, nil},
		{"applicant deleted", r, &open, &pending, nil, false, ErrConflict},
	} {
		done, err := CheckBooking(tc.r, tc.j, tc.a, tc.nanny)
		wantKind(t, tc.name, err, tc.want)
		if done != tc.wantDone {
			t.Errorf("%s: done %v, want %v", tc.name, done, tc.wantDone)
		}
	}
	// Booking oneself: the applicant's account is the parent's own PARENT account.
	j, a, _ := with(func(j *Job, a *Application, _ *User) { a.NannyUsername = j.ParentUsername })
	_, err := CheckBooking(r, j, a, account("p", UserParent, StatusVerified))
	wantKind(t, "a parent booking their own application", err, ErrConflict)
}

func TestCheckApply(t *testing.T) {
	open := Job{ID: "j", ParentUsername: "p", Status: JobOpen}
	closed := open
	closed.Status = JobClosed
	app := Application{ID: "a", JobID: "j", NannyUsername: "n"}
	own := app
	own.NannyUsername = "p"
	for _, tc := range []struct {
		name string
		j    *Job
		a    Application
		want error
	}{
		{"applies", &open, app, nil},
		{"no job", nil, app, ErrNotFound},
		{"own job", &open, own, ErrForbidden},
		{"own closed job", &closed, own, ErrForbidden},
		{"closed job", &closed, app, ErrConflict},
	} {
		wantKind(t, tc.name, CheckApply(tc.j, tc.a), tc.want)
	}
}

func TestCheckReview(t *testing.T) {
	done := Job{ID: "j", ParentUsername: "p", AcceptedNanny: "n", Status: JobCompleted}
	closed := done
	closed.Status = JobClosed
	self := done
	self.AcceptedNanny = "p"
	ofNanny := Review{JobID: "j", Direction: ReviewOfNanny, Reviewer: "p", Reviewee: "n"}
	ofParent := Review{JobID: "j", Direction: ReviewOfParent, Reviewer: "n", Reviewee: "p"}
	for _, tc := range []struct {
		name string
		j    *Job
		r    Review
		want error
	}{
		{"parent reviews the nanny", &done, ofNanny, nil},
		{"nanny reviews the parent", &done, ofParent, nil},
		{"no job", nil, ofNanny, ErrNotFound},
		{"not completed", &closed, ofNanny, ErrConflict},
		{"a stranger", &done, Review{JobID: "j", Direction: ReviewOfNanny, Reviewer: "x", Reviewee: "n"}, ErrForbidden},
		{"the wrong reviewee", &done, Review{JobID: "j", Direction: ReviewOfNanny, Reviewer: "p", Reviewee: "x"}, ErrForbidden},
		{"the nanny in the parent's direction", &done, Review{JobID: "j", Direction: ReviewOfNanny, Reviewer: "n", Reviewee: "p"}, ErrForbidden},
		{"self review, parent's direction", &self, Review{JobID: "j", Direction: ReviewOfNanny, Reviewer: "p", Reviewee: "p"}, ErrForbidden},
		{"self review, nanny's direction", &self, Review{JobID: "j", Direction: ReviewOfParent, Reviewer: "p", Reviewee: "p"}, ErrForbidden},
		{"bad direction", &done, Review{JobID: "j", Direction: "SIDEWAYS", Reviewer: "p", Reviewee: "n"}, ErrInvalidInput},
	} {
		wantKind(t, tc.name, CheckReview(tc.j, tc.r), tc.want)
	}
}

func TestCheckJobRules(t *testing.T) {
	owner := Guard{Actor{Username: "p", Role: RoleParent}, allowActive}
	other := Guard{Actor{Username: "q", Role: RoleParent}, allowActive}
	admin := Guard{Actor: Actor{Username: "root", Role: RoleAdmin}}
	open := Job{ID: "j", ParentUsername: "p", Status: JobOpen, Version: 3}
	next := open
	next.Version = 4
	closed := open
	closed.Status = JobClosed
	cancel := JobTransition{JobID: "j", From: JobOpen, To: JobCancelled}
	complete := JobTransition{JobID: "j", From: JobClosed, To: JobCompleted}
	for _, tc := range []struct {
		name string
		err  error
		want error
	}{
		{"owner updates", CheckJobUpdate(owner, &open, next), nil},
		{"admin updates", CheckJobUpdate(admin, &open, next), nil},
		{"another parent updates", CheckJobUpdate(other, &open, next), ErrForbidden},
		{"update of a missing job", CheckJobUpdate(owner, nil, next), ErrNotFound},
		{"update of a closed job", CheckJobUpdate(owner, &closed, next), ErrConflict},
		{"stale update", CheckJobUpdate(owner, &open, open), ErrConflict},
		{"owner cancels", CheckJobTransition(owner, &open, cancel), nil},
		{"another parent cancels", CheckJobTransition(other, &open, cancel), ErrForbidden},
		{"cancel a closed job", CheckJobTransition(owner, &closed, cancel), ErrConflict},
		{"owner completes", CheckJobTransition(owner, &closed, complete), nil},
		{"complete an open job", CheckJobTransition(owner, &open, complete), ErrConflict},
		{"reopen", CheckJobTransition(admin, &closed, JobTransition{JobID: "j", From: JobClosed, To: JobOpen}), ErrInvalidInput},
		{"book through a transition", CheckJobTransition(admin, &open, JobTransition{JobID: "j", From: JobOpen, To: JobClosed}), ErrInvalidInput},
		{"decline on an open job", CheckDecline("j", &open), ErrConflict},
		{"decline on a closed job", CheckDecline("j", &closed), nil},
		{"decline on a missing job", CheckDecline("j", nil), ErrNotFound},
		{"delete a parent with open jobs", CheckUserDelete("p", account("p", UserParent, StatusVerified), 1), ErrConflict},
		{"delete a parent without", CheckUserDelete("p", account("p", UserParent, StatusVerified), 0), nil},
		{"delete a missing user", CheckUserDelete("p", nil, 0), ErrNotFound},
	} {
		wantKind(t, tc.name, tc.err, tc.want)
	}
}

func TestCheckWithdrawAndDeclinable(t *testing.T) {
	n := Guard{Actor{Username: "n", Role: RoleNanny}, allowActive}
	ref := ApplicationRef{JobID: "j", ApplicationID: "a"}
	pending := Application{ID: "a", JobID: "j", NannyUsername: "n", Status: ApplicationPending}
	for _, st := range []ApplicationStatus{ApplicationAccepted, ApplicationDeclined, ApplicationWithdrawn} {
		a := pending
		a.Status = st
		wantKind(t, "withdraw "+string(st), CheckWithdraw(n, ref, &a), ErrConflict)
		if Declinable("j", &a) {
			t.Errorf("a %s application is declinable", st)
		}
	}
	wantKind(t, "withdraw", CheckWithdraw(n, ref, &pending), nil)
	wantKind(t, "withdraw another nanny's", CheckWithdraw(Guard{Actor{Username: "m", Role: RoleNanny}, allowActive}, ref, &pending), ErrForbidden)
	wantKind(t, "withdraw a missing one", CheckWithdraw(n, ref, nil), ErrNotFound)
	wantKind(t, "withdraw through another job", CheckWithdraw(n, ApplicationRef{JobID: "k", ApplicationID: "a"}, &pending), ErrNotFound)
	if !Declinable("j", &pending) || Declinable("k", &pending) || Declinable("j", nil) {
		t.Error("Declinable: want true for a PENDING application of the job only")
	}
}

// testUpload is an upload with a fixed ID of kind, requested at at.
func testUpload(id byte, kind UploadKind, at time.Time) Upload {
	return Upload{ID: fmt.Sprintf("%032x", 0xabc0+int(id)), Kind: kind, ContentType: "image/png", Size: 10, RequestedOn: at}
}

func TestApplyUploadChange(t *testing.T) {
	at := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	doc, pic, old := testUpload(0, UploadDocument, at), testUpload(1, UploadPicture, at), testUpload(2, UploadPicture, at.Add(-time.Hour))
	expired := at.Add(UploadExpiry + UploadGrace + time.Second)
	confirm := func(u Upload) *Upload { u.UploadedOn = at; return &u }
	base := User{Username: "ada", Uploads: UserUploads{Requested: []Upload{doc, pic}, Picture: confirm(old), Version: 4}}
	for _, tc := range []struct {
		name    string
		u       *User
		c       UploadChange
		changed bool
		kind    error
		check   func(t *testing.T, next User)
	}{
		{"missing user", nil, UploadChange{Username: "ada", Forget: []string{doc.ID}}, false, ErrNotFound, nil},
		{"request", &base, UploadChange{Request: &Upload{ID: "f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0", Kind: UploadDocument, RequestedOn: at}, At: at}, true, nil,
			func(t *testing.T, next User) {
				if len(next.Uploads.Requested) != 3 || next.Uploads.Version != 5 {
					t.Errorf("requested %d, version %d", len(next.Uploads.Requested), next.Uploads.Version)
				}
			}},
		{"request after the others expired", &base, UploadChange{Request: &Upload{ID: "f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0", Kind: UploadDocument, RequestedOn: expired}, At: expired}, true, nil,
			func(t *testing.T, next User) {
				if len(next.Uploads.Requested) != 1 || len(next.Uploads.Discarded) != 2 {
					t.Errorf("requested %d, discarded %d; want the expired two discarded", len(next.Uploads.Requested), len(next.Uploads.Discarded))
				}
			}},
		{"confirm a document", &base, UploadChange{Confirm: confirm(doc), At: at}, true, nil,
			func(t *testing.T, next User) {
				if len(next.Documents) != 1 || len(next.Uploads.Requested) != 1 || !next.UpdatedOn.Equal(at) {
					t.Errorf("documents %d, requested %d, updatedOn %v", len(next.Documents), len(next.Uploads.Requested), next.UpdatedOn)
				}
			}},
		{"confirm a picture", &base, UploadChange{Confirm: confirm(pic), PictureURL: "https://p/x", At: at}, true, nil,
			func(t *testing.T, next User) {
				if next.Uploads.Picture.ID != pic.ID || next.ProfilePicURL != "https://p/x" || len(next.Uploads.Discarded) != 1 || next.Uploads.Discarded[0].ID != old.ID {
					t.Errorf("picture %+v, url %q, discarded %+v", next.Uploads.Picture, next.ProfilePicURL, next.Uploads.Discarded)
				}
			}},
		{"confirm the current picture again", &base, UploadChange{Confirm: confirm(old), At: at}, false, nil, nil},
		{"confirm as another kind", &base, UploadChange{Confirm: &Upload{ID: doc.ID, Kind: UploadPicture}, At: at}, false, ErrNotFound, nil},
		{"confirm an unknown upload", &base, UploadChange{Confirm: confirm(testUpload(3, UploadDocument, at)), At: at}, false, ErrNotFound, nil},
		{"forget nothing known", &base, UploadChange{Forget: []string{doc.ID}}, false, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			next, changed, err := ApplyUploadChange(tc.u, tc.c)
			wantKind(t, tc.name, err, tc.kind)
			if changed != tc.changed {
				t.Errorf("changed = %v, want %v", changed, tc.changed)
			}
			if tc.u != nil && !changed && err == nil && next.Uploads.Version != tc.u.Uploads.Version {
				t.Errorf("an unchanged account's version moved: %d", next.Uploads.Version)
			}
			if tc.check != nil {
				tc.check(t, next)
			}
		})
	}
	// The input is never modified.
	if len(base.Uploads.Requested) != 2 || base.Uploads.Picture.ID != old.ID || base.Documents != nil || base.Uploads.Version != 4 {
		t.Errorf("ApplyUploadChange modified its input: %+v", base)
	}
}

func TestApplyUploadChangeLimits(t *testing.T) {
	at := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	u := &User{Username: "ada"}
	for i := range MaxDocuments {
		up := Upload{ID: fmt.Sprintf("%032x", i), Kind: UploadDocument, RequestedOn: at, UploadedOn: at}
		u.Documents = append(u.Documents, up)
	}
	_, _, err := ApplyUploadChange(u, UploadChange{Request: &Upload{ID: fmt.Sprintf("%032x", 99), Kind: UploadDocument, RequestedOn: at}, At: at})
	wantKind(t, "a document beyond MaxDocuments", err, ErrConflict)
	_, changed, err := ApplyUploadChange(u, UploadChange{Request: &Upload{ID: fmt.Sprintf("%032x", 99), Kind: UploadPicture, RequestedOn: at}, At: at})
	wantKind(t, "a picture with MaxDocuments documents", err, nil)
	if !changed {
		t.Error("the picture request changed nothing")
	}
	u = &User{Username: "ada"}
	for i := range MaxDiscarded + 1 {
		u.Uploads.Discarded = append(u.Uploads.Discarded, Upload{ID: fmt.Sprintf("%032x", i), Kind: UploadPicture, RequestedOn: at})
	}
	_, _, err = ApplyUploadChange(u, UploadChange{Request: &Upload{ID: fmt.Sprintf("%032x", 999), Kind: UploadPicture, RequestedOn: at}, At: at})
	wantKind(t, "beyond MaxDiscarded", err, ErrConflict)
}

func TestCheckStatusUpdateAndDocument(t *testing.T) {
	at := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	doc, req, pic := testUpload(0, UploadDocument, at), testUpload(1, UploadDocument, at), testUpload(2, UploadPicture, at)
	doc.UploadedOn, pic.UploadedOn = at, at
	u := &User{Username: "ada", Documents: []Upload{doc}, Uploads: UserUploads{Requested: []Upload{req}, Picture: &pic}}
	verify := func(id string) StatusUpdate {
		return StatusUpdate{Username: "ada", Status: StatusVerified, Verification: &Verification{By: "root", At: at, UploadID: id}}
	}
	for _, tc := range []struct {
		name string
		u    *User
		s    StatusUpdate
		want error
	}{
		{"on a document", u, verify(doc.ID), nil},
		{"without a document", u, verify(""), nil},
		{"deactivate", u, StatusUpdate{Username: "ada", Status: StatusDeactivated}, nil},
		{"on a requested upload", u, verify(req.ID), ErrConflict},
		{"on the picture", u, verify(pic.ID), ErrNotFound},
		{"on an unknown upload", u, verify(testUpload(3, UploadDocument, at).ID), ErrNotFound},
		{"a missing user", nil, verify(doc.ID), ErrNotFound},
	} {
		wantKind(t, tc.name, CheckStatusUpdate(tc.u, tc.s), tc.want)
	}
	if got, err := CheckDocument(u, doc.ID); err != nil || got != doc {
		t.Errorf("CheckDocument: %+v, %v", got, err)
	}
	for id, want := range map[string]bool{doc.ID: true, pic.ID: true, req.ID: false} {
		if _, done, err := CheckRequested(u, id); err != nil || done != want {
			t.Errorf("CheckRequested(%s) = done %v, %v; want %v", id, done, err, want)
		}
	}
	_, _, err := CheckRequested(u, testUpload(3, UploadDocument, at).ID)
	wantKind(t, "CheckRequested of an unknown ID", err, ErrNotFound)
}

func TestErasureOf(t *testing.T) {
	at := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	old, recent := testUpload(0, UploadDocument, at.Add(-time.Hour)), testUpload(1, UploadPicture, at.Add(-time.Minute))
	old.UploadedOn = at.Add(-time.Hour)
	u := User{Username: "ada", Documents: []Upload{old}, Uploads: UserUploads{Discarded: []Upload{recent}}}
	e := ErasureOf(u, at)
	if len(e.Keys) != 2 || !e.Due.Equal(recent.Final()) || e.Username != "ada" {
		t.Errorf("ErasureOf = %+v; want both keys, due when the recent upload's URL is closed (%v)", e, recent.Final())
	}
	if e := ErasureOf(User{Username: "ada"}, at); len(e.Keys) != 0 || !e.Due.Equal(at) {
		t.Errorf("ErasureOf an account without objects = %+v", e)
	}
}
