package babysitter_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/babysitter-go/babysitter"
)

// TestAttack2_ConfirmUploadBypassesSubjectBinding (regression; a finding
// of the second review, fixed: ConfirmUpload applies the Guard to the
// account it read before anything else). Before the fix ConfirmUpload checked
// only that the caller's username is the account's (authorizeOwnAccount)
// before it reads the account; for an upload already recorded it returns
// the account as stored without the Guard ever running (the store is only
// asked to write when something changes). A profile picture's upload ID is
// public — it is the last segment of ProfilePicURL, which the public
// profile shows — so another identity given the same username (another
// Cognito sub, the case the binding exists for), or the owner's username
// under the other role, reads the whole private account: email, birth
// date, identity documents and the verification record.
func TestAttack2_ConfirmUploadBypassesSubjectBinding(t *testing.T) {
	w := newEvidenceWorld(t)
	alice := babysitter.Actor{Username: "alice", Role: babysitter.RoleParent, Subject: "sub-original"}
	_, err := w.svc.CreateUser(w.ctx, alice, newUserInput(alice))
	w.must("CreateUser", err)
	_, err = verifyOnDocument(w.ctx, w.svc, w.blobs, alice)
	w.must("verify alice on a document", err)
	pic, err := upload(w.ctx, w.svc, w.blobs, alice, babysitter.UploadPicture, "image/jpeg", []byte("jpeg"))
	w.must("upload a picture", err)
	_, err = w.svc.ConfirmUpload(w.ctx, alice, babysitter.UploadRef{Username: "alice", UploadID: pic.ID})
	w.must("ConfirmUpload of the picture", err)

	newcomer := alice
	newcomer.Subject = "sub-newcomer"
	otherRole := alice
	otherRole.Role = babysitter.RoleNanny
	for _, a := range []babysitter.Actor{newcomer, otherRole} {
		// Everything the attacker needs is in the public profile.
		pub, err := w.svc.GetUser(w.ctx, a, "alice")
		w.must("GetUser", err)
		if pub.Email != "" {
			t.Fatalf("precondition: %+v already sees the private profile", a)
		}
		picID := pub.ProfilePicURL[strings.LastIndexByte(pub.ProfilePicURL, '/')+1:]

		u, err := w.svc.ConfirmUpload(w.ctx, a, babysitter.UploadRef{Username: "alice", UploadID: picID})
		if !errors.Is(err, babysitter.ErrForbidden) {
			t.Errorf("ConfirmUpload by %s (sub %q): err %v, want ErrForbidden; got email %q, birth date %v, %d documents, verification %+v",
				a.Role, a.Subject, err, u.Email, u.DateOfBirth, len(u.Documents), u.Verification)
		}
	}
}

// TestAttack2_SubjectBindingHoldsOnGuardedPaths: what holds — another
// subject with the owner's username and role is refused wherever the
// operation reaches the Guard: starting an upload, confirming one still
// pending (even knowing its ID: the store's write runs the Guard, and
// nothing is recorded), listing one's jobs or applications, listing users.
func TestAttack2_SubjectBindingHoldsOnGuardedPaths(t *testing.T) {
	w := newEvidenceWorld(t)
	alice := babysitter.Actor{Username: "alice", Role: babysitter.RoleParent, Subject: "sub-a"}
	nina := babysitter.Actor{Username: "nina", Role: babysitter.RoleNanny, Subject: "sub-n"}
	for _, a := range []babysitter.Actor{alice, nina} {
		_, err := w.svc.CreateUser(w.ctx, a, newUserInput(a))
		w.must("CreateUser", err)
	}
	pending, err := upload(w.ctx, w.svc, w.blobs, alice, babysitter.UploadDocument, "application/pdf", pdf)
	w.must("upload", err)
	aliceNew, ninaNew := alice, nina
	aliceNew.Subject, ninaNew.Subject = "sub-other", "sub-other"

	_, err = w.svc.RequestUpload(w.ctx, aliceNew, "alice", babysitter.UploadRequest{Kind: babysitter.UploadDocument, ContentType: "application/pdf", ContentLength: 10})
	w.refusedForbidden(t, "RequestUpload", err)
	_, err = w.svc.ConfirmUpload(w.ctx, aliceNew, babysitter.UploadRef{Username: "alice", UploadID: pending.ID})
	w.refusedForbidden(t, "ConfirmUpload of a pending upload", err)
	if u := w.user(alice); len(u.Documents) != 0 {
		t.Errorf("a refused ConfirmUpload recorded %+v", u.Documents)
	}
	_, err = w.svc.ListJobsByParent(w.ctx, aliceNew, "alice", babysitter.PageRequest{})
	w.refusedForbidden(t, "ListJobsByParent", err)
	_, err = w.svc.ListUsers(w.ctx, aliceNew, babysitter.UserNanny, babysitter.PageRequest{})
	w.refusedForbidden(t, "ListUsers", err)
	_, err = w.svc.ListJobsAppliedTo(w.ctx, ninaNew, "nina", babysitter.PageRequest{})
	w.refusedForbidden(t, "ListJobsAppliedTo", err)
}

func (w *evidenceWorld) refusedForbidden(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, babysitter.ErrForbidden) {
		t.Errorf("%s by another subject: %v, want ErrForbidden", what, err)
	}
}
