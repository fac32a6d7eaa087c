package storetest

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/babysitter-go/babysitter"
	"github.com/babysitter-go/babysitter/blob/blobtest"
	bmemory "github.com/babysitter-go/babysitter/blob/memory"
	qmemory "github.com/babysitter-go/babysitter/queue/memory"
)

// The uploads of an account (UpdateUploads, as ApplyUploadChange decides),
// the VERIFIED decision on a document (SetUserStatus, as
// CheckStatusUpdate decides) and the Erasure DeleteUser records
// (DueErasures, ClearErasure).
var uploadCases = []testCase{
	{"request confirm forget", testUploadsLifecycle},
	{"refused changes write nothing", testUploadsRefused},
	{"other writes keep the uploads", testUploadsKept},
	{"verify on a document", testVerifyOnDocument},
	{"delete records the erasure", testDeleteErasure},
	{"concurrent requests", testUploadsConcurrent},
	{"requests racing the deletion", testUploadsRacingDelete},
	{"the evidence story", testEvidenceStory},
}

// uploadID returns a fresh upload ID.
func uploadID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// newUpload is an upload of kind requested at at.
func newUpload(kind babysitter.UploadKind, at time.Time) babysitter.Upload {
	return babysitter.Upload{ID: uploadID(), Kind: kind, ContentType: "image/png", Size: 1234, RequestedOn: at}
}

// confirmed is up as ConfirmUpload records it at at.
func confirmed(up babysitter.Upload, at time.Time) babysitter.Upload {
	up.UploadedOn = at
	return up
}

// updateUploads runs UpdateUploads as the account's owner (any status but
// DEACTIVATED), failing the test on an error.
func (f *fixture) updateUploads(u babysitter.User, c babysitter.UploadChange) babysitter.User {
	f.t.Helper()
	c.Username = u.Username
	if c.At.IsZero() {
		c.At = now()
	}
	got, err := f.s.UpdateUploads(f.ctx, as(role(u.Type), u.Username), c)
	if err != nil {
		f.t.Fatalf("UpdateUploads %+v: %v", c, err)
	}
	check(f.t, "UpdateUploads' result and GetUser", f.getUser(u.Username), got)
	return got
}

// testUploadsLifecycle: requests, a document and a picture confirmed, the
// replaced picture discarded, then forgotten — each written with a new
// Uploads.Version, nothing else of the user changed, and a confirmation
// repeated changes nothing.
func testUploadsLifecycle(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	u := f.nanny()
	at := now()
	doc, pic1, pic2 := newUpload(babysitter.UploadDocument, at), newUpload(babysitter.UploadPicture, at.Add(time.Second)), newUpload(babysitter.UploadPicture, at.Add(2*time.Second))
	for _, up := range []babysitter.Upload{doc, pic1, pic2} {
		f.updateUploads(u, babysitter.UploadChange{Request: &up})
	}
	got := f.getUser(u.Username)
	check(t, "requested", []babysitter.Upload{doc, pic1, pic2}, got.Uploads.Requested)
	if got.Uploads.Version != 3 {
		t.Errorf("Uploads.Version after 3 requests = %d", got.Uploads.Version)
	}

	confirmedAt := at.Add(time.Minute)
	d := confirmed(doc, confirmedAt)
	got = f.updateUploads(u, babysitter.UploadChange{Confirm: &d, At: confirmedAt})
	check(t, "documents", []babysitter.Upload{d}, got.Documents)
	check(t, "requested after the document", []babysitter.Upload{pic1, pic2}, got.Uploads.Requested)
	again := f.updateUploads(u, babysitter.UploadChange{Confirm: &d, At: confirmedAt.Add(time.Hour)})
	check(t, "confirming again changes nothing", got, again)

	p1, p2 := confirmed(pic1, confirmedAt), confirmed(pic2, confirmedAt.Add(time.Second))
	got = f.updateUploads(u, babysitter.UploadChange{Confirm: &p1, PictureURL: "https://pics.example/1", At: confirmedAt})
	if got.ProfilePicURL != "https://pics.example/1" || got.Uploads.Picture == nil || got.Uploads.Picture.ID != pic1.ID {
		t.Errorf("after the first picture: %q, %+v", got.ProfilePicURL, got.Uploads.Picture)
	}
	got = f.updateUploads(u, babysitter.UploadChange{Confirm: &p2, PictureURL: "https://pics.example/2", At: p2.UploadedOn})
	check(t, "picture", &p2, got.Uploads.Picture)
	check(t, "discarded", []babysitter.Upload{p1}, got.Uploads.Discarded)
	check(t, "requested at the end", []babysitter.Upload{}, got.Uploads.Requested)
	if got.ProfilePicURL != "https://pics.example/2" || !got.UpdatedOn.Equal(p2.UploadedOn) {
		t.Errorf("profilePicUrl %q, updatedOn %v", got.ProfilePicURL, got.UpdatedOn)
	}

	got = f.updateUploads(u, babysitter.UploadChange{Forget: []string{p1.ID, uploadID()}})
	check(t, "discarded after Forget", []babysitter.Upload{}, got.Uploads.Discarded)
	if got.Uploads.Version != 7 {
		t.Errorf("Uploads.Version at the end = %d, want 7 (3 requests, 3 confirmations, 1 forget)", got.Uploads.Version)
	}

	// Nothing but the uploads, the picture's URL and updatedOn changed.
	want := u
	want.Documents, want.Uploads, want.ProfilePicURL, want.UpdatedOn = got.Documents, got.Uploads, got.ProfilePicURL, got.UpdatedOn
	check(t, "the user after the uploads", want, got)
}

// testUploadsRefused: a change ApplyUploadChange refuses writes nothing,
// nor does one whose Guard fails or whose user is missing.
func testUploadsRefused(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	u := f.parent()
	at := now()
	for range babysitter.MaxRequestedUploads {
		up := newUpload(babysitter.UploadDocument, at)
		f.updateUploads(u, babysitter.UploadChange{Request: &up, At: at})
	}
	before := f.getUser(u.Username)
	g := asParent(u.Username)
	for _, c := range []struct {
		what string
		g    babysitter.Guard
		c    babysitter.UploadChange
		kind error
	}{
		{"one request too many", g, babysitter.UploadChange{Username: u.Username, Request: ptr(newUpload(babysitter.UploadPicture, at)), At: at}, babysitter.ErrConflict},
		{"a confirmation never requested", g, babysitter.UploadChange{Username: u.Username, Confirm: ptr(confirmed(newUpload(babysitter.UploadDocument, at), at)), At: at}, babysitter.ErrNotFound},
		{"a confirmation of another kind", g, babysitter.UploadChange{Username: u.Username, Confirm: &babysitter.Upload{ID: before.Uploads.Requested[0].ID, Kind: babysitter.UploadPicture, UploadedOn: at}, At: at}, babysitter.ErrNotFound},
		{"a nanny guard on a parent", as(babysitter.RoleNanny, u.Username), babysitter.UploadChange{Username: u.Username, Forget: []string{uploadID()}, At: at}, babysitter.ErrForbidden},
		{"a missing user", asAdmin, babysitter.UploadChange{Username: uniqueName(), Request: ptr(newUpload(babysitter.UploadPicture, at)), At: at}, babysitter.ErrNotFound},
	} {
		_, err := s.UpdateUploads(f.ctx, c.g, c.c)
		wantErr(t, c.what, err, c.kind)
		check(t, "the user after "+c.what, before, f.getUser(u.Username))
	}
	f.deactivate(u.Username)
	_, err := s.UpdateUploads(f.ctx, g, babysitter.UploadChange{Username: u.Username, Forget: []string{uploadID()}, At: at})
	wantErr(t, "UpdateUploads by a deactivated owner", err, babysitter.ErrForbidden)

	// Once the requests' URLs have expired, they are discarded and make
	// room.
	later := at.Add(babysitter.UploadExpiry + babysitter.UploadGrace + time.Second)
	f.setStatus(u.Username, babysitter.StatusUnverified)
	got := f.updateUploads(u, babysitter.UploadChange{Request: ptr(newUpload(babysitter.UploadPicture, later)), At: later})
	if len(got.Uploads.Requested) != 1 || len(got.Uploads.Discarded) != babysitter.MaxRequestedUploads {
		t.Errorf("after the expiry: %d requested, %d discarded; want 1 and %d", len(got.Uploads.Requested), len(got.Uploads.Discarded), babysitter.MaxRequestedUploads)
	}
}

// testUploadsKept: UpdateUser and SetUserStatus leave the uploads and the
// picture's URL as they are, and UpdateUploads the profile.
func testUploadsKept(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	u := f.nanny()
	pic := newUpload(babysitter.UploadPicture, now())
	f.updateUploads(u, babysitter.UploadChange{Request: &pic})
	p := confirmed(pic, now())
	withPic := f.updateUploads(u, babysitter.UploadChange{Confirm: &p, PictureURL: "https://pics.example/p"})

	next := withPic
	next.FirstName, next.Version, next.UpdatedOn = "Renamed", withPic.Version+1, now()
	next.ProfilePicURL = "https://evil.example/x" // a Store writes no picture URL through UpdateUser
	if err := s.UpdateUser(f.ctx, asNanny(u.Username), withPic.Email, next); err != nil {
		t.Fatalf("UpdateUser: %v", err)
	}
	got := f.getUser(u.Username)
	if got.ProfilePicURL != "https://pics.example/p" || got.FirstName != "Renamed" {
		t.Errorf("after UpdateUser: profilePicUrl %q, firstName %q", got.ProfilePicURL, got.FirstName)
	}
	check(t, "uploads after UpdateUser", withPic.Uploads, got.Uploads)
	if _, err := s.SetUserStatus(f.ctx, babysitter.StatusUpdate{Username: u.Username, Status: babysitter.StatusDeactivated, At: now()}); err != nil {
		t.Fatalf("SetUserStatus: %v", err)
	}
	got = f.getUser(u.Username)
	check(t, "uploads after SetUserStatus", withPic.Uploads, got.Uploads)
	if got.FirstName != "Renamed" || got.ProfilePicURL != "https://pics.example/p" {
		t.Errorf("after SetUserStatus: %+v", got)
	}
}

// testVerifyOnDocument: a VERIFIED decision records who, when and which
// document, only on a confirmed document of the user's own (a requested
// upload is ErrConflict, anything else ErrNotFound, and nothing is
// written); any other status removes the record.
func testVerifyOnDocument(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	u, other := f.nanny(), f.nanny()
	doc, req, pic := newUpload(babysitter.UploadDocument, now()), newUpload(babysitter.UploadDocument, now()), newUpload(babysitter.UploadPicture, now())
	theirs := newUpload(babysitter.UploadDocument, now())
	for _, up := range []babysitter.Upload{doc, req, pic} {
		f.updateUploads(u, babysitter.UploadChange{Request: &up})
	}
	f.updateUploads(other, babysitter.UploadChange{Request: &theirs})
	d, p, o := confirmed(doc, now()), confirmed(pic, now()), confirmed(theirs, now())
	f.updateUploads(u, babysitter.UploadChange{Confirm: &d})
	f.updateUploads(u, babysitter.UploadChange{Confirm: &p, PictureURL: "https://pics.example/p"})
	f.updateUploads(other, babysitter.UploadChange{Confirm: &o})
	before := f.getUser(u.Username)

	verify := func(id string) (babysitter.User, error) {
		return s.SetUserStatus(f.ctx, babysitter.StatusUpdate{Username: u.Username, Status: babysitter.StatusVerified,
			Verification: &babysitter.Verification{By: "storetest-admin", At: now(), UploadID: id}, At: now()})
	}
	for _, c := range []struct {
		what, id string
		kind     error
	}{
		{"an upload only requested", req.ID, babysitter.ErrConflict},
		{"a picture", pic.ID, babysitter.ErrNotFound},
		{"another user's document", theirs.ID, babysitter.ErrNotFound},
		{"an unknown upload", uploadID(), babysitter.ErrNotFound},
	} {
		_, err := verify(c.id)
		wantErr(t, "VERIFIED on "+c.what, err, c.kind)
		check(t, "the user after verifying on "+c.what, before, f.getUser(u.Username))
	}
	at := now()
	got, err := s.SetUserStatus(f.ctx, babysitter.StatusUpdate{Username: u.Username, Status: babysitter.StatusVerified,
		Verification: &babysitter.Verification{By: "storetest-admin", At: at, UploadID: doc.ID}, At: at})
	if err != nil {
		t.Fatalf("VERIFIED on the document: %v", err)
	}
	want := before
	want.Status, want.UpdatedOn = babysitter.StatusVerified, at
	want.Verification = &babysitter.Verification{By: "storetest-admin", At: at, UploadID: doc.ID}
	check(t, "verified", want, got, ignoreVersion)
	check(t, "GetUser after verifying", got, f.getUser(u.Username))

	// Without a document (Options.VerifyWithoutDocument), then another
	// status, which removes the record.
	got, err = s.SetUserStatus(f.ctx, babysitter.StatusUpdate{Username: u.Username, Status: babysitter.StatusVerified,
		Verification: &babysitter.Verification{By: "storetest-admin", At: at}, At: at})
	if err != nil || got.Verification == nil || got.Verification.UploadID != "" {
		t.Errorf("VERIFIED without a document: %+v, %v", got.Verification, err)
	}
	got, err = s.SetUserStatus(f.ctx, babysitter.StatusUpdate{Username: u.Username, Status: babysitter.StatusUnverified, At: at})
	if err != nil || got.Verification != nil || f.getUser(u.Username).Verification != nil {
		t.Errorf("UNVERIFIED keeps the record: %+v, %v", got.Verification, err)
	}
}

// testDeleteErasure: deleting an account with objects records an Erasure
// of every key, due when the last of its upload URLs has expired;
// DueErasures lists it from then on and ClearErasure clears it (again: no
// error). An account without objects records none.
func testDeleteErasure(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	at := dueAt(slotErasure)
	u, plain := f.nanny(), f.nanny()
	doc, req := newUpload(babysitter.UploadDocument, at), newUpload(babysitter.UploadPicture, at.Add(time.Minute))
	f.updateUploads(u, babysitter.UploadChange{Request: &doc, At: at})
	f.updateUploads(u, babysitter.UploadChange{Request: &req, At: at})
	d := confirmed(doc, at)
	f.updateUploads(u, babysitter.UploadChange{Confirm: &d, At: at})

	e, err := s.DeleteUser(f.ctx, asNanny(u.Username), u.Username, at)
	if err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	want := babysitter.Erasure{Username: u.Username, Keys: []string{doc.Key(), req.Key()}, Due: req.Final()}
	sortKeys := cmpopts.SortSlices(func(a, b string) bool { return a < b })
	check(t, "the erasure", want, e, sortKeys)
	erasures := func(before time.Time) []babysitter.Erasure {
		got, err := s.DueErasures(f.ctx, before, 100)
		if err != nil {
			t.Fatalf("DueErasures: %v", err)
		}
		var mine []babysitter.Erasure
		for _, e := range got {
			if e.Username == u.Username || e.Username == plain.Username {
				mine = append(mine, e)
			}
		}
		return mine
	}
	check(t, "due before the last URL expires", []babysitter.Erasure{}, erasures(want.Due))
	check(t, "due after", []babysitter.Erasure{want}, erasures(want.Due.Add(time.Second)), sortKeys)

	e, err = s.DeleteUser(f.ctx, asNanny(plain.Username), plain.Username, at)
	if err != nil || len(e.Keys) != 0 {
		t.Errorf("DeleteUser of an account without objects: %+v, %v", e, err)
	}
	check(t, "erasures of the account without objects", []babysitter.Erasure{want}, erasures(at.Add(time.Hour)), sortKeys)

	for range 2 {
		if err := s.ClearErasure(f.ctx, u.Username); err != nil {
			t.Fatalf("ClearErasure: %v", err)
		}
		eventually(t, func() error {
			if got := erasures(at.Add(time.Hour)); len(got) != 0 {
				return fmt.Errorf("after ClearErasure: %+v", got)
			}
			return nil
		})
	}
}

// testUploadsConcurrent: requests made at once are all recorded — none
// overwrites another. (Six: a store that writes optimistically retries a
// request at most once per other request that got in first, well within
// its retries.)
func testUploadsConcurrent(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	u := f.parent()
	n := 6
	ups := make([]babysitter.Upload, n)
	at := now()
	for i := range ups {
		ups[i] = newUpload(babysitter.UploadDocument, at.Add(time.Duration(i)*time.Millisecond))
	}
	for i, err := range race(n, func(i int) error {
		_, err := s.UpdateUploads(f.ctx, asParent(u.Username), babysitter.UploadChange{Username: u.Username, Request: &ups[i], At: at})
		return err
	}) {
		if err != nil {
			t.Errorf("request %d: %v", i, err)
		}
	}
	got := f.getUser(u.Username)
	check(t, "requested", ups, got.Uploads.Requested)
	if got.Uploads.Version != int64(n) {
		t.Errorf("Uploads.Version %d after %d requests", got.Uploads.Version, n)
	}
}

// testUploadsRacingDelete: requests racing the account's deletion either
// fail or end in its Erasure — no key a request recorded outlives the
// account untracked.
func testUploadsRacingDelete(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	u := f.nanny()
	at := now()
	n := 6
	ups := make([]babysitter.Upload, n)
	var erasure babysitter.Erasure
	errs := race(n+1, func(i int) error {
		if i == n {
			var err error
			erasure, err = s.DeleteUser(f.ctx, asNanny(u.Username), u.Username, at)
			return err
		}
		ups[i] = newUpload(babysitter.UploadDocument, at)
		_, err := s.UpdateUploads(f.ctx, asNanny(u.Username), babysitter.UploadChange{Username: u.Username, Request: &ups[i], At: at})
		return err
	})
	if errs[n] != nil {
		t.Fatalf("DeleteUser: %v", errs[n])
	}
	for i, err := range errs[:n] {
		switch {
		case err == nil && !slices.Contains(erasure.Keys, ups[i].Key()):
			t.Errorf("request %d succeeded but its key is not in the erasure %v", i, erasure.Keys)
		case err != nil && !errors.Is(err, babysitter.ErrForbidden) && !errors.Is(err, babysitter.ErrNotFound):
			t.Errorf("request %d: %v, want success, ErrForbidden or ErrNotFound", i, err)
		}
	}
}

// testEvidenceStory is the Service's evidence story on the store, with
// in-memory Blobs: a nanny uploads a document, an admin reads it and
// verifies her on it, she deletes her account, and her objects are gone.
func testEvidenceStory(t *testing.T, s babysitter.Store) {
	ctx := t.Context()
	blobs, err := bmemory.New(bmemory.Options{BaseURL: "http://blobs.storetest/"})
	if err != nil {
		t.Fatal(err)
	}
	svc := babysitter.New(s, qmemory.New(qmemory.Options{}), babysitter.Options{Logger: quietLog, Blobs: blobs, PublicBaseURL: "http://blobs.storetest/"})
	nanny := babysitter.Actor{Username: uniqueName(), Role: babysitter.RoleNanny}
	admin := babysitter.Actor{Username: "storetest-admin", Role: babysitter.RoleAdmin}
	in := babysitter.NewUser{Username: nanny.Username, Email: nanny.Username + "@example.com", Type: babysitter.UserNanny, Profile: fullProfile()}
	if _, err := svc.CreateUser(ctx, nanny, in); err != nil {
		t.Fatal(err)
	}
	body := []byte("%PDF-1.7 id")
	send := func(kind babysitter.UploadKind, contentType string) babysitter.Upload {
		t.Helper()
		ticket, err := svc.RequestUpload(ctx, nanny, nanny.Username, babysitter.UploadRequest{Kind: kind, ContentType: contentType, ContentLength: int64(len(body))})
		if err != nil {
			t.Fatalf("RequestUpload: %v", err)
		}
		if resp, err := blobtest.Do(ctx, blobs.Client(), ticket.Request, body); err != nil || resp.Status != http.StatusOK {
			t.Fatalf("PUT: %+v, %v", resp, err)
		}
		if _, err := svc.ConfirmUpload(ctx, nanny, babysitter.UploadRef{Username: nanny.Username, UploadID: ticket.Upload.ID}); err != nil {
			t.Fatalf("ConfirmUpload: %v", err)
		}
		return ticket.Upload
	}
	doc := send(babysitter.UploadDocument, "application/pdf")
	send(babysitter.UploadPicture, "image/png")
	pr, err := svc.GetDocument(ctx, admin, babysitter.UploadRef{Username: nanny.Username, UploadID: doc.ID})
	if err != nil {
		t.Fatalf("GetDocument: %v", err)
	}
	if resp, err := blobtest.Do(ctx, blobs.Client(), pr, nil); err != nil || string(resp.Body) != string(body) {
		t.Fatalf("GET: %+v, %v", resp, err)
	}
	u, err := svc.UpdateUserStatus(ctx, admin, nanny.Username, babysitter.StatusChange{Status: babysitter.StatusVerified, UploadID: doc.ID})
	if err != nil || u.Verification == nil || u.Verification.UploadID != doc.ID {
		t.Fatalf("UpdateUserStatus: %+v, %v", u.Verification, err)
	}
	if len(blobs.Keys()) != 2 {
		t.Fatalf("objects before the deletion: %v", blobs.Keys())
	}
	if err := svc.DeleteUser(ctx, nanny, nanny.Username); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	if keys := blobs.Keys(); len(keys) != 0 {
		t.Errorf("objects after DeleteUser: %v", keys)
	}
}
