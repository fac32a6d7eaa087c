package babysitter_test

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/babysitter-go/babysitter"
	"github.com/babysitter-go/babysitter/blob/blobtest"
	nmemory "github.com/babysitter-go/babysitter/notify/memory"
	qmemory "github.com/babysitter-go/babysitter/queue/memory"
	smemory "github.com/babysitter-go/babysitter/store/memory"
)

// TestAttack2_ConfirmUploadBypassesSubjectBinding: ConfirmUpload checks
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

// TestAttack2_NotificationsAddressDeletedAccountsByUsername: a nanny may
// delete her account with a PENDING application (DeleteUser allows it);
// when the job is booked, the Decliner declines that application and
// publishes a "declined" notification to her username. The account is
// gone, and a notification names a username only, never the identity
// (Subject) the account was bound to: a subscriber that resolves the
// recipient through the identity provider — where the username may by
// then belong to someone else, the very case Actor.Subject was added for —
// tells a stranger about a job and an application that are not theirs.
func TestAttack2_NotificationsAddressDeletedAccountsByUsername(t *testing.T) {
	ctx := t.Context()
	store := smemory.New()
	q := qmemory.New(qmemory.Options{})
	svc := babysitter.New(store, q, babysitter.Options{VerifyWithoutDocument: true})
	parent := babysitter.Actor{Username: "pat", Role: babysitter.RoleParent, Subject: "s-pat"}
	gone := babysitter.Actor{Username: "gina", Role: babysitter.RoleNanny, Subject: "s-gina"}
	booked := babysitter.Actor{Username: "bea", Role: babysitter.RoleNanny, Subject: "s-bea"}
	for _, a := range []babysitter.Actor{parent, gone, booked} {
		if _, err := svc.CreateUser(ctx, a, newUserInput(a)); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.UpdateUserStatus(ctx, admin, a.Username, babysitter.StatusChange{Status: babysitter.StatusVerified}); err != nil {
			t.Fatal(err)
		}
	}
	j, err := svc.CreateJob(ctx, parent, jobInput())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.ApplyToJob(ctx, gone, j.ID, babysitter.NewApplication{}); err != nil {
		t.Fatal(err)
	}
	app, err := svc.ApplyToJob(ctx, booked, j.ID, babysitter.NewApplication{})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.DeleteUser(ctx, gone, gone.Username); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.BookNanny(ctx, parent, j.ID, app.ID); err != nil {
		t.Fatal(err)
	}

	notifier := nmemory.New(nmemory.Options{Logger: slog.New(slog.DiscardHandler)})
	d := babysitter.NewDecliner(store, babysitter.DeclinerOptions{Notifier: notifier, Logger: slog.New(slog.DiscardHandler)})
	msgs, err := q.Receive(ctx, 10)
	if err != nil || len(msgs) == 0 {
		t.Fatalf("Receive: %d, %v", len(msgs), err)
	}
	if failed := d.HandleBatch(ctx, msgs); len(failed) > 0 {
		t.Fatalf("HandleBatch failed %v", failed)
	}
	for _, n := range notifier.Published() {
		if n.Recipient == gone.Username {
			t.Errorf("notification %+v is addressed to the username of a deleted account", n)
		}
	}
}

// TestAttack2_EvidenceReplacedAfterVerification: ConfirmUpload records a
// document's type and size but nothing of its content, and the presigned
// PUT stays valid for UploadExpiry after the request — after the
// confirmation, and after an admin's decision made within that window.
// The nanny sends the same PUT again with other bytes of the same type and
// length: the document the Verification names now holds them, and the
// evidence the admin decided on is gone (an audit reads something else).
func TestAttack2_EvidenceReplacedAfterVerification(t *testing.T) {
	w := newEvidenceWorld(t)
	genuine := []byte("%PDF-1.7 the genuine identity card")
	fake := bytes.Repeat([]byte("x"), len(genuine))
	ticket, err := w.svc.RequestUpload(w.ctx, n1, n1.Username, babysitter.UploadRequest{Kind: babysitter.UploadDocument, ContentType: "application/pdf", ContentLength: int64(len(genuine))})
	w.must("RequestUpload", err)
	if resp, err := blobtest.Do(w.ctx, w.blobs.Client(), ticket.Request, genuine); err != nil || resp.Status != http.StatusOK {
		t.Fatalf("PUT: %+v, %v", resp, err)
	}
	ref := babysitter.UploadRef{Username: n1.Username, UploadID: ticket.Upload.ID}
	w.now = w.now.Add(time.Minute)
	_, err = w.svc.ConfirmUpload(w.ctx, n1, ref)
	w.must("ConfirmUpload", err)
	w.now = w.now.Add(time.Minute)
	_, err = w.svc.UpdateUserStatus(w.ctx, admin, n1.Username, babysitter.StatusChange{Status: babysitter.StatusVerified, UploadID: ref.UploadID})
	w.must("verify", err)

	// Still within the URL's validity: the same signed request, new bytes.
	w.now = w.now.Add(time.Minute)
	resp, err := blobtest.Do(w.ctx, w.blobs.Client(), ticket.Request, fake)
	if err != nil {
		t.Fatal(err)
	}
	pr, err := w.svc.GetDocument(w.ctx, admin, ref)
	w.must("GetDocument", err)
	got, err := blobtest.Do(w.ctx, w.blobs.Client(), pr, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Body, genuine) {
		t.Errorf("after the decision, a second PUT (status %d) replaced the verified document: it now reads %q, not the %q the admin decided on", resp.Status, got.Body, genuine)
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
