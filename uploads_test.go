package babysitter_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/babysitter-go/babysitter"
	"github.com/babysitter-go/babysitter/blob/blobtest"
	bmemory "github.com/babysitter-go/babysitter/blob/memory"
	qmemory "github.com/babysitter-go/babysitter/queue/memory"
	smemory "github.com/babysitter-go/babysitter/store/memory"
)

// blobBase is where the tests' in-memory Blobs are served (in process,
// through Blobs.Client: no server listens there).
const blobBase = "http://blobs.test/"

// newBlobs returns an in-memory Blobs whose clock is now, serving the
// picture prefix publicly like the deployed bucket.
func newBlobs(t testing.TB, now func() time.Time) *bmemory.Blobs {
	t.Helper()
	b, err := bmemory.New(bmemory.Options{BaseURL: blobBase, PublicPrefixes: []string{babysitter.PublicKeyPrefix}, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// evidenceOptions are Options with blobs and their public URL.
func evidenceOptions(b *bmemory.Blobs) babysitter.Options {
	return babysitter.Options{Blobs: b, PublicBaseURL: blobBase}
}

// pdf is a small "identity document".
var pdf = []byte("%PDF-1.7 identity document")

// upload has a request an upload of kind for a's own account, sends its
// presigned PUT with body as contentType through blobs' in-process client,
// and returns the upload. It confirms nothing.
func upload(ctx context.Context, svc *babysitter.Service, blobs *bmemory.Blobs, a babysitter.Actor, kind babysitter.UploadKind, contentType string, body []byte) (babysitter.Upload, error) {
	ticket, err := svc.RequestUpload(ctx, a, a.Username, babysitter.UploadRequest{Kind: kind, ContentType: contentType, ContentLength: int64(len(body))})
	if err != nil {
		return babysitter.Upload{}, err
	}
	resp, err := blobtest.Do(ctx, blobs.Client(), ticket.Request, body)
	if err != nil {
		return babysitter.Upload{}, err
	}
	if resp.Status != http.StatusOK {
		return babysitter.Upload{}, fmt.Errorf("PUT through the presigned URL: %d %s", resp.Status, resp.Body)
	}
	return ticket.Upload, nil
}

// uploadDocument uploads and confirms an identity document of a's, and
// returns its upload ID.
func uploadDocument(ctx context.Context, svc *babysitter.Service, blobs *bmemory.Blobs, a babysitter.Actor) (string, error) {
	up, err := upload(ctx, svc, blobs, a, babysitter.UploadDocument, "application/pdf", pdf)
	if err != nil {
		return "", err
	}
	if _, err := svc.ConfirmUpload(ctx, a, babysitter.UploadRef{Username: a.Username, UploadID: up.ID}); err != nil {
		return "", err
	}
	return up.ID, nil
}

// verifyOnDocument has a upload an identity document and an admin verify
// the account on it, and returns the document's upload ID.
func verifyOnDocument(ctx context.Context, svc *babysitter.Service, blobs *bmemory.Blobs, a babysitter.Actor) (string, error) {
	id, err := uploadDocument(ctx, svc, blobs, a)
	if err != nil {
		return "", err
	}
	_, err = svc.UpdateUserStatus(ctx, admin, a.Username, babysitter.StatusChange{Status: babysitter.StatusVerified, UploadID: id})
	return id, err
}

// evidenceWorld is a Service on memory backends with in-memory Blobs and a
// clock the test moves.
type evidenceWorld struct {
	t     *testing.T
	ctx   context.Context
	svc   *babysitter.Service
	store *smemory.Store
	blobs *bmemory.Blobs
	now   time.Time
}

func newEvidenceWorld(t *testing.T) *evidenceWorld {
	w := &evidenceWorld{t: t, ctx: t.Context(), store: smemory.New(), now: time.Date(2030, time.May, 20, 12, 0, 0, 0, time.UTC)}
	clock := func() time.Time { return w.now }
	w.blobs = newBlobs(t, clock)
	opts := evidenceOptions(w.blobs)
	opts.Now = clock
	w.svc = babysitter.New(w.store, qmemory.New(qmemory.Options{}), opts)
	for _, a := range []babysitter.Actor{p1, n1, n2} {
		if _, err := w.svc.CreateUser(w.ctx, a, newUserInput(a)); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

func (w *evidenceWorld) must(what string, err error) {
	w.t.Helper()
	if err != nil {
		w.t.Fatalf("%s: %v", what, err)
	}
}

// user is GetUser as the user themselves (every private field).
func (w *evidenceWorld) user(a babysitter.Actor) babysitter.User {
	w.t.Helper()
	u, err := w.store.GetUser(w.ctx, a.Username)
	w.must("GetUser", err)
	return u
}

// wantFields fails unless err is ErrInvalidInput naming exactly fields.
func wantFields(t *testing.T, what string, err error, fields ...string) {
	t.Helper()
	var ie *babysitter.InvalidInputError
	if !errors.As(err, &ie) {
		t.Fatalf("%s: %v, want invalid input on %v", what, err, fields)
	}
	var got []string
	for _, f := range ie.Fields {
		got = append(got, f.Field)
	}
	if d := cmp.Diff(fields, got); d != "" {
		t.Errorf("%s: fields (-want +got):\n%s\n%v", what, d, err)
	}
}

// TestVerificationOnADocument is the evidence story on the Service: a
// nanny uploads her identity document (presigned PUT, then ConfirmUpload),
// an admin reads it through a presigned GET and verifies her on it; the
// decision — who, when, which document — is hers and the admins' to see,
// nobody else's.
func TestVerificationOnADocument(t *testing.T) {
	w := newEvidenceWorld(t)
	ticket, err := w.svc.RequestUpload(w.ctx, n1, n1.Username, babysitter.UploadRequest{Kind: babysitter.UploadDocument, ContentType: "application/pdf", ContentLength: int64(len(pdf))})
	w.must("RequestUpload", err)
	up := ticket.Upload
	if !babysitter.ValidUploadID(up.ID) || strings.Contains(ticket.Request.URL, n1.Username) || !strings.Contains(ticket.Request.URL, babysitter.DocumentKeyPrefix+up.ID) {
		t.Errorf("ticket %+v: want a fresh upload ID under the private prefix, no username in the URL", ticket)
	}
	if ticket.Request.Method != http.MethodPut || ticket.Request.Headers["Content-Type"] != "application/pdf" ||
		ticket.Request.Headers["Content-Length"] != fmt.Sprint(len(pdf)) || !ticket.Request.Expires.Equal(w.now.Add(babysitter.UploadExpiry)) {
		t.Errorf("presigned request %+v: want a PUT of exactly the declared type and size, valid %v", ticket.Request, babysitter.UploadExpiry)
	}
	// Requested, not a document yet: nobody can verify on it.
	_, err = w.svc.UpdateUserStatus(w.ctx, admin, n1.Username, babysitter.StatusChange{Status: babysitter.StatusVerified, UploadID: up.ID})
	if !errors.Is(err, babysitter.ErrConflict) {
		t.Errorf("verifying on a requested upload: %v, want ErrConflict", err)
	}
	_, err = w.svc.ConfirmUpload(w.ctx, n1, babysitter.UploadRef{Username: n1.Username, UploadID: up.ID})
	if !errors.Is(err, babysitter.ErrConflict) {
		t.Errorf("ConfirmUpload before the PUT: %v, want ErrConflict", err)
	}

	resp, err := blobtest.Do(w.ctx, w.blobs.Client(), ticket.Request, pdf)
	if err != nil || resp.Status != http.StatusOK {
		t.Fatalf("PUT: %+v, %v", resp, err)
	}
	w.now = w.now.Add(time.Minute)
	u, err := w.svc.ConfirmUpload(w.ctx, n1, babysitter.UploadRef{Username: n1.Username, UploadID: up.ID})
	w.must("ConfirmUpload", err)
	want := up
	want.UploadedOn = w.now
	if d := cmp.Diff([]babysitter.Upload{want}, u.Documents); d != "" {
		t.Errorf("documents after ConfirmUpload (-want +got):\n%s", d)
	}
	again, err := w.svc.ConfirmUpload(w.ctx, n1, babysitter.UploadRef{Username: n1.Username, UploadID: up.ID})
	w.must("ConfirmUpload again", err)
	if d := cmp.Diff(u, again); d != "" {
		t.Errorf("ConfirmUpload again changed the account (-first +again):\n%s", d)
	}

	// The admin reads it, then decides.
	pr, err := w.svc.GetDocument(w.ctx, admin, babysitter.UploadRef{Username: n1.Username, UploadID: up.ID})
	w.must("GetDocument", err)
	got, err := blobtest.Do(w.ctx, w.blobs.Client(), pr, nil)
	if err != nil || got.Status != http.StatusOK || !bytes.Equal(got.Body, pdf) || got.ContentType != "application/pdf" {
		t.Errorf("GET of the document: %d %q %s, %v", got.Status, got.ContentType, got.Body, err)
	}
	if !pr.Expires.Equal(w.now.Add(babysitter.DocumentViewExpiry)) {
		t.Errorf("document URL expires %v, want %v after now", pr.Expires, babysitter.DocumentViewExpiry)
	}
	w.now = w.now.Add(time.Minute)
	v, err := w.svc.UpdateUserStatus(w.ctx, admin, n1.Username, babysitter.StatusChange{Status: babysitter.StatusVerified, UploadID: up.ID})
	w.must("UpdateUserStatus", err)
	wantV := &babysitter.Verification{By: admin.Username, At: w.now, UploadID: up.ID}
	if d := cmp.Diff(wantV, v.Verification); d != "" || v.Status != babysitter.StatusVerified {
		t.Errorf("verification (-want +got):\n%s (status %s)", d, v.Status)
	}

	// Visible to her and to admins, never publicly.
	for _, c := range []struct {
		who     babysitter.Actor
		private bool
	}{{n1, true}, {admin, true}, {anon, false}, {p1, false}, {n2, false}} {
		u, err := w.svc.GetUser(w.ctx, c.who, n1.Username)
		w.must("GetUser", err)
		if seen := u.Verification != nil && len(u.Documents) == 1; seen != c.private {
			t.Errorf("GetUser as %q: verification %+v, documents %+v; want them shown: %v", c.who.Username, u.Verification, u.Documents, c.private)
		}
		if u.Uploads.Version != 0 && !c.private {
			t.Errorf("GetUser as %q shows the uploads' bookkeeping: %+v", c.who.Username, u.Uploads)
		}
	}
	page, err := w.svc.ListUsers(w.ctx, p1, babysitter.UserNanny, babysitter.PageRequest{})
	w.must("ListUsers", err)
	for _, u := range page.Items {
		if u.Verification != nil || u.Documents != nil {
			t.Errorf("ListUsers as a parent shows %s's evidence", u.Username)
		}
	}

	// Any other status clears the record.
	u, err = w.svc.UpdateUserStatus(w.ctx, admin, n1.Username, babysitter.StatusChange{Status: babysitter.StatusDeactivated})
	w.must("deactivate", err)
	if u.Verification != nil {
		t.Errorf("a DEACTIVATED account keeps the verification %+v", u.Verification)
	}
}

// TestVerifyNeedsADocument: VERIFIED names one of the user's own
// documents, by default; Options.VerifyWithoutDocument relaxes it.
func TestVerifyNeedsADocument(t *testing.T) {
	w := newEvidenceWorld(t)
	doc, err := uploadDocument(w.ctx, w.svc, w.blobs, n1)
	w.must("upload n1's document", err)
	pic, err := upload(w.ctx, w.svc, w.blobs, n2, babysitter.UploadPicture, "image/png", []byte("png"))
	w.must("upload n2's picture", err)
	_, err = w.svc.ConfirmUpload(w.ctx, n2, babysitter.UploadRef{Username: n2.Username, UploadID: pic.ID})
	w.must("confirm n2's picture", err)

	verify := func(c babysitter.StatusChange) error {
		_, err := w.svc.UpdateUserStatus(w.ctx, admin, n2.Username, c)
		return err
	}
	wantFields(t, "VERIFIED without a document", verify(babysitter.StatusChange{Status: babysitter.StatusVerified}), "uploadId")
	wantFields(t, "a document with DEACTIVATED", verify(babysitter.StatusChange{Status: babysitter.StatusDeactivated, UploadID: doc}), "uploadId")
	wantFields(t, "a malformed upload ID", verify(babysitter.StatusChange{Status: babysitter.StatusVerified, UploadID: "../x"}), "uploadId")
	for what, id := range map[string]string{"someone else's document": doc, "a picture": pic.ID, "an unknown ID": strings.Repeat("ab", 16)} {
		if err := verify(babysitter.StatusChange{Status: babysitter.StatusVerified, UploadID: id}); !errors.Is(err, babysitter.ErrNotFound) {
			t.Errorf("verifying n2 on %s: %v, want ErrNotFound", what, err)
		}
	}
	if u := w.user(n2); u.Status != babysitter.StatusUnverified || u.Verification != nil {
		t.Errorf("after the refusals n2 is %s with %+v", u.Status, u.Verification)
	}

	relaxed := babysitter.New(w.store, qmemory.New(qmemory.Options{}), babysitter.Options{VerifyWithoutDocument: true, Now: func() time.Time { return w.now }})
	u, err := relaxed.UpdateUserStatus(w.ctx, admin, n2.Username, babysitter.StatusChange{Status: babysitter.StatusVerified})
	w.must("VerifyWithoutDocument", err)
	if d := cmp.Diff(&babysitter.Verification{By: admin.Username, At: w.now}, u.Verification); d != "" {
		t.Errorf("verification without a document (-want +got):\n%s", d)
	}
}

// TestUploadBadInput: a wrong kind, content type or size is refused
// naming the field, and nothing is recorded or signed; an object that
// does not match its request is deleted at ConfirmUpload, the account
// unchanged; an upload of someone else's is not found, and uploads belong
// to the account's owner alone.
func TestUploadBadInput(t *testing.T) {
	w := newEvidenceWorld(t)
	before := w.user(n1)
	request := func(a babysitter.Actor, username string, in babysitter.UploadRequest) error {
		_, err := w.svc.RequestUpload(w.ctx, a, username, in)
		return err
	}
	wantFields(t, "a GIF document", request(n1, n1.Username, babysitter.UploadRequest{Kind: babysitter.UploadDocument, ContentType: "image/gif", ContentLength: 10}), "contentType")
	wantFields(t, "a PDF picture", request(n1, n1.Username, babysitter.UploadRequest{Kind: babysitter.UploadPicture, ContentType: "application/pdf", ContentLength: 10}), "contentType")
	wantFields(t, "an oversize document", request(n1, n1.Username, babysitter.UploadRequest{Kind: babysitter.UploadDocument, ContentType: "image/png", ContentLength: babysitter.MaxDocumentSize + 1}), "contentLength")
	wantFields(t, "an unknown kind", request(n1, n1.Username, babysitter.UploadRequest{Kind: "video", ContentType: "video/mp4", ContentLength: 10}), "kind")
	for _, c := range []struct {
		who  babysitter.Actor
		kind error
	}{{anon, babysitter.ErrUnauthenticated}, {n2, babysitter.ErrForbidden}, {admin, babysitter.ErrForbidden}} {
		if err := request(c.who, n1.Username, babysitter.UploadRequest{Kind: babysitter.UploadDocument, ContentType: "image/png", ContentLength: 10}); !errors.Is(err, c.kind) {
			t.Errorf("RequestUpload for n1 as %q: %v, want %v", c.who.Username, err, c.kind)
		}
	}
	if d := cmp.Diff(before, w.user(n1)); d != "" || len(w.blobs.Keys()) != 0 {
		t.Errorf("refused requests changed n1 (-before +after):\n%s\nobjects: %v", d, w.blobs.Keys())
	}

	// The object stored is not what was requested (a server that checks no
	// signature, like fauxqs, stores it): ConfirmUpload deletes it and
	// records nothing.
	ticket, err := w.svc.RequestUpload(w.ctx, n1, n1.Username, babysitter.UploadRequest{Kind: babysitter.UploadDocument, ContentType: "image/png", ContentLength: 10})
	w.must("RequestUpload", err)
	requested := w.user(n1)
	smuggle := func(contentType string, body []byte) {
		t.Helper()
		// Re-signed for the wrong content: what an unchecking server lets through.
		pr, err := w.blobs.PresignPut(w.ctx, babysitter.BlobPut{Key: babysitter.DocumentKeyPrefix + ticket.Upload.ID, ContentType: contentType, ContentLength: int64(len(body)), Expires: time.Minute})
		w.must("PresignPut", err)
		if resp, err := blobtest.Do(w.ctx, w.blobs.Client(), pr, body); err != nil || resp.Status != http.StatusOK {
			t.Fatalf("PUT: %+v %v", resp, err)
		}
	}
	for _, c := range []struct {
		what, contentType string
		body              []byte
		field             string
	}{
		{"an HTML page", "text/html", []byte("<script>1;"), "contentType"},
		{"a JPEG instead of the PNG", "image/jpeg", make([]byte, 10), "contentType"},
		{"more bytes than declared", "image/png", make([]byte, 11), "contentLength"},
	} {
		smuggle(c.contentType, c.body)
		_, err := w.svc.ConfirmUpload(w.ctx, n1, babysitter.UploadRef{Username: n1.Username, UploadID: ticket.Upload.ID})
		wantFields(t, "ConfirmUpload of "+c.what, err, c.field)
		if keys := w.blobs.Keys(); len(keys) != 0 {
			t.Errorf("%s: the refused object is still stored: %v", c.what, keys)
		}
		if d := cmp.Diff(requested, w.user(n1)); d != "" {
			t.Errorf("%s: ConfirmUpload changed n1 (-before +after):\n%s", c.what, d)
		}
	}

	// Someone else's upload: not found, whoever asks; and never another's
	// account.
	_, err = w.svc.ConfirmUpload(w.ctx, n2, babysitter.UploadRef{Username: n2.Username, UploadID: ticket.Upload.ID})
	if !errors.Is(err, babysitter.ErrNotFound) {
		t.Errorf("n2 confirming n1's upload as hers: %v, want ErrNotFound", err)
	}
	_, err = w.svc.ConfirmUpload(w.ctx, n2, babysitter.UploadRef{Username: n1.Username, UploadID: ticket.Upload.ID})
	if !errors.Is(err, babysitter.ErrForbidden) {
		t.Errorf("n2 confirming n1's upload: %v, want ErrForbidden", err)
	}
	doc, err := uploadDocument(w.ctx, w.svc, w.blobs, n1)
	w.must("n1's document", err)
	for _, c := range []struct {
		who  babysitter.Actor
		ref  babysitter.UploadRef
		kind error
	}{
		{admin, babysitter.UploadRef{Username: n2.Username, UploadID: doc}, babysitter.ErrNotFound}, // n1's document asked of n2
		{admin, babysitter.UploadRef{Username: n1.Username, UploadID: ticket.Upload.ID}, babysitter.ErrConflict},
		{n1, babysitter.UploadRef{Username: n1.Username, UploadID: doc}, babysitter.ErrForbidden}, // admins only
		{anon, babysitter.UploadRef{Username: n1.Username, UploadID: doc}, babysitter.ErrUnauthenticated},
	} {
		if _, err := w.svc.GetDocument(w.ctx, c.who, c.ref); !errors.Is(err, c.kind) {
			t.Errorf("GetDocument %+v as %q: %v, want %v", c.ref, c.who.Username, err, c.kind)
		}
	}
	_, err = w.svc.GetDocument(w.ctx, admin, babysitter.UploadRef{Username: "No", UploadID: "x"})
	wantFields(t, "GetDocument of a bad reference", err, "username", "uploadId")
}

// TestProfilePicture: the picture's URL is the public base URL and its
// key, readable without a signature; a new picture replaces it, and the
// old one is deleted once its upload URL has expired.
func TestProfilePicture(t *testing.T) {
	w := newEvidenceWorld(t)
	first, err := upload(w.ctx, w.svc, w.blobs, p1, babysitter.UploadPicture, "image/jpeg", []byte("jpeg one"))
	w.must("upload", err)
	u, err := w.svc.ConfirmUpload(w.ctx, p1, babysitter.UploadRef{Username: p1.Username, UploadID: first.ID})
	w.must("ConfirmUpload", err)
	if want := blobBase + babysitter.PictureKeyPrefix + first.ID; u.ProfilePicURL != want {
		t.Fatalf("profilePicUrl %q, want %q", u.ProfilePicURL, want)
	}
	resp, err := blobtest.Do(w.ctx, w.blobs.Client(), babysitter.PresignedRequest{Method: http.MethodGet, URL: u.ProfilePicURL}, nil)
	if err != nil || resp.Status != http.StatusOK || string(resp.Body) != "jpeg one" {
		t.Errorf("anonymous GET of the picture: %+v, %v", resp, err)
	}
	if pub, _ := w.svc.GetUser(w.ctx, anon, p1.Username); pub.ProfilePicURL != u.ProfilePicURL {
		t.Errorf("the public profile's picture is %q", pub.ProfilePicURL)
	}

	second, err := upload(w.ctx, w.svc, w.blobs, p1, babysitter.UploadPicture, "image/png", []byte("png two"))
	w.must("upload", err)
	u, err = w.svc.ConfirmUpload(w.ctx, p1, babysitter.UploadRef{Username: p1.Username, UploadID: second.ID})
	w.must("ConfirmUpload", err)
	if !strings.HasSuffix(u.ProfilePicURL, second.ID) {
		t.Errorf("profilePicUrl %q after the second picture", u.ProfilePicURL)
	}
	// The first picture's URL may still be used within its expiry: it is
	// discarded, not deleted yet.
	if got := w.blobs.Keys(); !slices.Contains(got, first.Key()) || len(u.Uploads.Discarded) != 1 {
		t.Errorf("right after the replacement: objects %v, discarded %+v; want the first kept until its URL expires", got, u.Uploads.Discarded)
	}
	w.now = w.now.Add(babysitter.UploadExpiry + babysitter.UploadGrace + time.Second)
	_, err = uploadDocument(w.ctx, w.svc, w.blobs, p1) // any later upload deletes what is final
	w.must("a later upload", err)
	if got := w.blobs.Keys(); slices.Contains(got, first.Key()) || !slices.Contains(got, second.Key()) {
		t.Errorf("objects %v: want the first picture deleted, the second kept", got)
	}
	if d := w.user(p1).Uploads.Discarded; len(d) != 0 {
		t.Errorf("discarded after the deletion: %+v", d)
	}
}

// TestRequestedUploadsAreCapped: at most MaxRequestedUploads wait for
// ConfirmUpload; once their URLs have expired they are discarded — their
// objects deleted — and make room.
func TestRequestedUploadsAreCapped(t *testing.T) {
	w := newEvidenceWorld(t)
	var first babysitter.Upload
	for i := range babysitter.MaxRequestedUploads {
		up, err := upload(w.ctx, w.svc, w.blobs, n1, babysitter.UploadDocument, "image/png", []byte("never confirmed"))
		w.must("upload", err)
		if i == 0 {
			first = up
		}
	}
	before := w.user(n1)
	_, err := w.svc.RequestUpload(w.ctx, n1, n1.Username, babysitter.UploadRequest{Kind: babysitter.UploadPicture, ContentType: "image/png", ContentLength: 3})
	if !errors.Is(err, babysitter.ErrConflict) {
		t.Fatalf("request %d: %v, want ErrConflict", babysitter.MaxRequestedUploads+1, err)
	}
	if d := cmp.Diff(before, w.user(n1)); d != "" {
		t.Errorf("the refused request changed n1 (-before +after):\n%s", d)
	}
	w.now = w.now.Add(babysitter.UploadExpiry + babysitter.UploadGrace + time.Second)
	if _, err := w.svc.RequestUpload(w.ctx, n1, n1.Username, babysitter.UploadRequest{Kind: babysitter.UploadPicture, ContentType: "image/png", ContentLength: 3}); err != nil {
		t.Fatalf("a request once the others expired: %v", err)
	}
	u := w.user(n1)
	if len(u.Uploads.Requested) != 1 || len(u.Uploads.Discarded) != 0 || slices.Contains(w.blobs.Keys(), first.Key()) || len(w.blobs.Keys()) != 0 {
		t.Errorf("after expiry: requested %d, discarded %d, objects %v; want the expired ones deleted", len(u.Uploads.Requested), len(u.Uploads.Discarded), w.blobs.Keys())
	}
}

// TestDeleteUserErasesObjects: DeleteUser deletes every object of the
// account — documents, picture, uploads requested — and clears its
// Erasure once no upload URL of the account is valid; until then the
// Erasure stays, and an Eraser's Sweep deletes again (an object PUT
// through a URL still valid after the deletion goes too).
func TestDeleteUserErasesObjects(t *testing.T) {
	w := newEvidenceWorld(t)
	_, err := verifyOnDocument(w.ctx, w.svc, w.blobs, n1)
	w.must("verify", err)
	pic, err := upload(w.ctx, w.svc, w.blobs, n1, babysitter.UploadPicture, "image/png", []byte("png"))
	w.must("picture", err)
	_, err = w.svc.ConfirmUpload(w.ctx, n1, babysitter.UploadRef{Username: n1.Username, UploadID: pic.ID})
	w.must("confirm", err)
	late, err := w.svc.RequestUpload(w.ctx, n1, n1.Username, babysitter.UploadRequest{Kind: babysitter.UploadDocument, ContentType: "application/pdf", ContentLength: int64(len(pdf))})
	w.must("a request left open", err)
	other, err := uploadDocument(w.ctx, w.svc, w.blobs, n2)
	w.must("n2's document", err)
	if n := len(w.blobs.Keys()); n != 3 {
		t.Fatalf("%d objects before the deletion, want 3", n)
	}

	w.must("DeleteUser", w.svc.DeleteUser(w.ctx, n1, n1.Username))
	if got, want := w.blobs.Keys(), []string{babysitter.DocumentKeyPrefix + other}; !slices.Equal(got, want) {
		t.Errorf("objects after DeleteUser: %v, want only n2's %v", got, want)
	}
	// The request left open is valid a few minutes more: the Erasure stays.
	due, err := w.store.DueErasures(w.ctx, w.now.Add(time.Hour), 10)
	w.must("DueErasures", err)
	if len(due) != 1 || due[0].Username != n1.Username || len(due[0].Keys) != 3 {
		t.Fatalf("erasures after DeleteUser: %+v, want n1's with its 3 keys", due)
	}
	// n1 still holds the URL and uses it.
	if resp, err := blobtest.Do(w.ctx, w.blobs.Client(), late.Request, pdf); err != nil || resp.Status != http.StatusOK {
		t.Fatalf("PUT after the deletion: %+v, %v", resp, err)
	}
	// The sweeper traced, its log lines carrying the sweep's trace.
	spans := tracetest.NewInMemoryExporter()
	var logs logLines
	eraser := babysitter.NewEraser(w.store, w.blobs, babysitter.EraserOptions{
		Now: func() time.Time { return w.now }, Logger: jsonLogger(&logs),
		TracerProvider: sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans)),
	})
	n, err := eraser.Sweep(w.ctx)
	if err != nil || n != 0 {
		t.Errorf("a sweep before the erasure is due: %d, %v; want nothing", n, err)
	}
	w.now = due[0].Due.Add(2 * time.Minute)
	n, err = eraser.Sweep(w.ctx)
	if err != nil || n != 1 {
		t.Errorf("sweep once due: %d, %v; want 1", n, err)
	}
	if got, want := w.blobs.Keys(), []string{babysitter.DocumentKeyPrefix + other}; !slices.Equal(got, want) {
		t.Errorf("objects after the sweep: %v, want only n2's %v", got, want)
	}
	if due, _ := w.store.DueErasures(w.ctx, w.now.Add(time.Hour), 10); len(due) != 0 {
		t.Errorf("erasures after the sweep: %+v", due)
	}
	var names []string
	for _, s := range spans.GetSpans() {
		names = append(names, s.Name)
	}
	if want := []string{"SweepErasures", "SweepErasures"}; !slices.Equal(names, want) {
		t.Fatalf("spans %v, want %v", names, want)
	}
	swept := spans.GetSpans()[1].SpanContext
	var line map[string]any
	for _, r := range logs.records(t) {
		if r[slog.MessageKey] == "swept the objects of deleted accounts" {
			line = r
		}
	}
	if line == nil || line[babysitter.LogKeyTraceID] != swept.TraceID().String() || line[babysitter.LogKeySpanID] != swept.SpanID().String() {
		t.Errorf("the sweep's log line %v; want trace %s, span %s", line, swept.TraceID(), swept.SpanID())
	}
}
