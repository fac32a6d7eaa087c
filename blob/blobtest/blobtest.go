// Package blobtest is the conformance suite every babysitter.Blobs backend
// passes: blob/memory always, blob/s3 against fauxqs's S3. It pins down
// what the Service relies on: a presigned PUT sent by a plain HTTP client
// stores the object, Stat sees its size and type, a presigned GET reads it
// back, Delete removes it and is idempotent, presigning writes nothing, and
// bad arguments are refused with ErrInvalidInput before anything happens.
//
// What the server behind a presigned URL refuses — another method, another
// Content-Type, another size, a forged signature, an expired URL — is
// checked only when Harness.ChecksSignatures says the server verifies
// signatures (blob/memory's handler does; fauxqs does not, so blob/s3 runs
// those cases through a SigV4-verifying proxy in front of it).
package blobtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/babysitter-go/babysitter"
)

// Harness makes fresh stores for the suite's tests.
type Harness struct {
	// New returns a fresh, empty Blobs (a new bucket, say). It is called
	// from parallel tests and should register cleanup with t.Cleanup.
	New func(t *testing.T) babysitter.Blobs
	// Client sends the presigned requests, as a browser or an app would:
	// a plain net/http client with no AWS code. Default
	// http.DefaultClient.
	Client *http.Client
	// ChecksSignatures says the server behind the presigned URLs refuses,
	// like S3, a request that differs from what was signed (method,
	// Content-Type, Content-Length, path, signature) or that comes after
	// the expiry, with 403 Forbidden.
	ChecksSignatures bool
}

// Run runs the suite: every case is a parallel subtest on a fresh store.
func Run(t *testing.T, h Harness) {
	t.Helper()
	if h.Client == nil {
		h.Client = http.DefaultClient
	}
	cases := []testCase{
		{"PutStatGetDelete", testPutStatGetDelete},
		{"PresignWritesNothing", testPresignWritesNothing},
		{"StatMissing", testStatMissing},
		{"DeleteIdempotent", testDeleteIdempotent},
		{"DeleteSome", testDeleteSome},
		{"DeleteManyKeys", testDeleteManyKeys},
		{"BadInputRefused", testBadInput},
		{"ConcurrentUploads", testConcurrentUploads},
	}
	if h.ChecksSignatures {
		cases = append(cases,
			testCase{"TamperedPutRefused", testTamperedPut},
			testCase{"TamperedGetRefused", testTamperedGet},
			testCase{"ExpiredRefused", testExpired},
		)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.fn(t, h)
		})
	}
}

// testCase is one named case of the suite.
type testCase struct {
	name string
	fn   func(*testing.T, Harness)
}

// Response is what a presigned request got back.
type Response struct {
	Status      int
	Body        []byte
	ContentType string
}

// Do sends a presigned request with client as a plain HTTP client would:
// its method and URL, every header it lists, and body (nil for a GET). The
// request's Content-Length is the body's length, whatever the presigned
// headers say — a client cannot send a body of one size and claim another.
func Do(ctx context.Context, client *http.Client, pr babysitter.PresignedRequest, body []byte) (Response, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, pr.Method, pr.URL, rd)
	if err != nil {
		return Response{}, err
	}
	for k, v := range pr.Headers {
		if http.CanonicalHeaderKey(k) == "Content-Length" {
			continue // net/http sends the body's length
		}
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		return Response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return Response{}, err
	}
	return Response{Status: resp.StatusCode, Body: b, ContentType: resp.Header.Get("Content-Type")}, nil
}

// content returns n bytes that differ per seed.
func content(seed string, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed[i%len(seed)] + byte(i/len(seed))
	}
	return b
}

// upload presigns and sends a PUT of body as contentType under a fresh
// document key, and fails t unless the storage accepted it.
func upload(t *testing.T, h Harness, b babysitter.Blobs, contentType string, body []byte) babysitter.BlobPut {
	t.Helper()
	put, err := babysitter.NewUpload(babysitter.UploadDocument, contentType, int64(len(body)))
	if err != nil {
		t.Fatalf("NewUpload: %v", err)
	}
	pr, err := b.PresignPut(t.Context(), put)
	if err != nil {
		t.Fatalf("PresignPut: %v", err)
	}
	resp, err := Do(t.Context(), h.Client, pr, body)
	if err != nil {
		t.Fatalf("PUT through the presigned URL: %v", err)
	}
	if resp.Status/100 != 2 {
		t.Fatalf("PUT through the presigned URL: %d %s", resp.Status, resp.Body)
	}
	return put
}

// wantMissing fails t unless Stat says the key has no object.
func wantMissing(t *testing.T, b babysitter.Blobs, key, why string) {
	t.Helper()
	info, err := b.Stat(t.Context(), key)
	if !errors.Is(err, babysitter.ErrNotFound) {
		t.Errorf("%s: Stat(%q) = %+v, %v; want ErrNotFound", why, key, info, err)
	}
}

// testPutStatGetDelete is the whole life of an object.
func testPutStatGetDelete(t *testing.T, h Harness) {
	b := h.New(t)
	ctx := t.Context()
	body := content("passport", 3000)
	put, err := babysitter.NewUpload(babysitter.UploadDocument, "application/pdf", int64(len(body)))
	if err != nil {
		t.Fatal(err)
	}
	before := time.Now()
	pr, err := b.PresignPut(ctx, put)
	if err != nil {
		t.Fatalf("PresignPut: %v", err)
	}
	if pr.Method != http.MethodPut {
		t.Errorf("presigned method %q, want PUT", pr.Method)
	}
	wantHeaders := map[string]string{"Content-Type": "application/pdf", "Content-Length": strconv.Itoa(len(body))}
	if d := cmp.Diff(wantHeaders, pr.Headers); d != "" {
		t.Errorf("presigned headers (-want +got):\n%s", d)
	}
	checkExpires(t, pr, before, put.Expires)
	if u, err := url.Parse(pr.URL); err != nil || !strings.HasSuffix(u.Path, "/"+put.Key) {
		t.Errorf("presigned URL %q does not end in the key %q (%v)", pr.URL, put.Key, err)
	}

	resp, err := Do(ctx, h.Client, pr, body)
	if err != nil || resp.Status/100 != 2 {
		t.Fatalf("PUT: %+v, %v", resp.Status, err)
	}
	info, err := b.Stat(ctx, put.Key)
	if err != nil {
		t.Fatalf("Stat after upload: %v", err)
	}
	if info.LastModified.IsZero() {
		t.Errorf("Stat: LastModified is zero")
	}
	info.LastModified = time.Time{}
	if d := cmp.Diff(babysitter.BlobInfo{Key: put.Key, Size: int64(len(body)), ContentType: "application/pdf"}, info); d != "" {
		t.Errorf("Stat (-want +got):\n%s", d)
	}

	before = time.Now()
	get, err := b.PresignGet(ctx, put.Key, babysitter.DocumentViewExpiry)
	if err != nil {
		t.Fatalf("PresignGet: %v", err)
	}
	if get.Method != http.MethodGet {
		t.Errorf("presigned GET method %q", get.Method)
	}
	checkExpires(t, get, before, babysitter.DocumentViewExpiry)
	resp, err = Do(ctx, h.Client, get, nil)
	if err != nil || resp.Status != http.StatusOK {
		t.Fatalf("GET: %d %s, %v", resp.Status, resp.Body, err)
	}
	if !bytes.Equal(resp.Body, body) {
		t.Errorf("GET returned %d bytes, not the %d uploaded", len(resp.Body), len(body))
	}
	if resp.ContentType != "application/pdf" {
		t.Errorf("GET Content-Type %q, want application/pdf", resp.ContentType)
	}

	if err := b.Delete(ctx, []string{put.Key}); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	wantMissing(t, b, put.Key, "after Delete")
	resp, err = Do(ctx, h.Client, get, nil)
	if err != nil || resp.Status != http.StatusNotFound {
		t.Errorf("GET after Delete: %d, %v; want 404", resp.Status, err)
	}
}

// checkExpires: the presigned request expires after its validity, give or
// take the second SigV4 rounds to and the time the call took.
func checkExpires(t *testing.T, pr babysitter.PresignedRequest, before time.Time, valid time.Duration) {
	t.Helper()
	lo, hi := before.Add(valid).Add(-time.Second), time.Now().Add(valid).Add(time.Second)
	if pr.Expires.Before(lo) || pr.Expires.After(hi) {
		t.Errorf("Expires %v, want between %v and %v", pr.Expires, lo, hi)
	}
}

// testPresignWritesNothing: no object exists until the client uploads.
func testPresignWritesNothing(t *testing.T, h Harness) {
	b := h.New(t)
	put, _ := babysitter.NewUpload(babysitter.UploadPicture, "image/png", 10)
	if _, err := b.PresignPut(t.Context(), put); err != nil {
		t.Fatalf("PresignPut: %v", err)
	}
	if _, err := b.PresignGet(t.Context(), put.Key, time.Minute); err != nil {
		t.Fatalf("PresignGet of a missing object: %v; want a URL (that 404s)", err)
	}
	wantMissing(t, b, put.Key, "after presigning")
}

// testStatMissing: a missing object is ErrNotFound, nothing else.
func testStatMissing(t *testing.T, h Harness) {
	b := h.New(t)
	wantMissing(t, b, "private/documents/never-uploaded", "never uploaded")
}

// testDeleteIdempotent: deleting nothing, a missing key, or the same key
// twice is not an error.
func testDeleteIdempotent(t *testing.T, h Harness) {
	b := h.New(t)
	ctx := t.Context()
	if err := b.Delete(ctx, nil); err != nil {
		t.Errorf("Delete(nil) = %v", err)
	}
	if err := b.Delete(ctx, []string{"private/documents/missing"}); err != nil {
		t.Errorf("Delete(missing) = %v", err)
	}
	put := upload(t, h, b, "image/png", content("png", 100))
	for i := range 2 {
		if err := b.Delete(ctx, []string{put.Key, put.Key}); err != nil {
			t.Errorf("Delete #%d of a key listed twice = %v", i+1, err)
		}
	}
	wantMissing(t, b, put.Key, "after Delete")
}

// testDeleteSome: Delete removes exactly the keys it is given.
func testDeleteSome(t *testing.T, h Harness) {
	b := h.New(t)
	keep := upload(t, h, b, "image/jpeg", content("keep", 50))
	gone1 := upload(t, h, b, "image/jpeg", content("gone1", 60))
	gone2 := upload(t, h, b, "application/pdf", content("gone2", 70))
	if err := b.Delete(t.Context(), []string{gone1.Key, "private/documents/missing", gone2.Key}); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	wantMissing(t, b, gone1.Key, "deleted")
	wantMissing(t, b, gone2.Key, "deleted")
	if info, err := b.Stat(t.Context(), keep.Key); err != nil || info.Size != 50 {
		t.Errorf("Stat of the key not deleted: %+v, %v", info, err)
	}
}

// testDeleteManyKeys: more keys than one S3 request takes (1000), the
// last of them real.
func testDeleteManyKeys(t *testing.T, h Harness) {
	b := h.New(t)
	last := upload(t, h, b, "image/png", content("last", 10))
	keys := make([]string, 0, 1001)
	for i := range 1000 {
		keys = append(keys, fmt.Sprintf("private/documents/missing-%04d", i))
	}
	keys = append(keys, last.Key)
	if err := b.Delete(t.Context(), keys); err != nil {
		t.Fatalf("Delete(1001 keys): %v", err)
	}
	wantMissing(t, b, last.Key, "the 1001st key")
}

// testBadInput: every method refuses bad arguments with ErrInvalidInput
// naming the field, and does nothing.
func testBadInput(t *testing.T, h Harness) {
	b := h.New(t)
	ctx := t.Context()
	kept := upload(t, h, b, "image/png", content("kept", 20))
	good := babysitter.BlobPut{Key: "private/documents/x", ContentType: "image/png", ContentLength: 5, Expires: time.Minute}
	field := func(err error) string {
		var ie *babysitter.InvalidInputError
		if !errors.As(err, &ie) || len(ie.Fields) == 0 {
			return fmt.Sprintf("not an *InvalidInputError: %v", err)
		}
		return ie.Fields[0].Field
	}
	for _, tc := range []struct {
		name  string
		call  func() error
		field string
	}{
		{"PresignPut bad key", func() error { p := good; p.Key = "../x"; _, err := b.PresignPut(ctx, p); return err }, "key"},
		{"PresignPut no type", func() error { p := good; p.ContentType = ""; _, err := b.PresignPut(ctx, p); return err }, "contentType"},
		{"PresignPut no length", func() error { p := good; p.ContentLength = 0; _, err := b.PresignPut(ctx, p); return err }, "contentLength"},
		{"PresignPut too large", func() error {
			p := good
			p.ContentLength = babysitter.MaxBlobSize + 1
			_, err := b.PresignPut(ctx, p)
			return err
		}, "contentLength"},
		{"PresignPut no expiry", func() error { p := good; p.Expires = 0; _, err := b.PresignPut(ctx, p); return err }, "expires"},
		{"PresignGet bad key", func() error { _, err := b.PresignGet(ctx, "/abs", time.Minute); return err }, "key"},
		{"PresignGet long expiry", func() error { _, err := b.PresignGet(ctx, kept.Key, 8*24*time.Hour); return err }, "expires"},
		{"Stat bad key", func() error { _, err := b.Stat(ctx, "a//b"); return err }, "key"},
		{"Delete with one bad key", func() error { return b.Delete(ctx, []string{kept.Key, "bad key"}) }, "keys[1]"},
	} {
		err := tc.call()
		if !errors.Is(err, babysitter.ErrInvalidInput) {
			t.Errorf("%s: %v, want ErrInvalidInput", tc.name, err)
			continue
		}
		if got := field(err); got != tc.field {
			t.Errorf("%s: field %q, want %q (%v)", tc.name, got, tc.field, err)
		}
	}
	if _, err := b.Stat(ctx, kept.Key); err != nil {
		t.Errorf("a refused Delete removed %q: %v", kept.Key, err)
	}
	wantMissing(t, b, good.Key, "refused PresignPut")
}

// testConcurrentUploads: parallel uploads to one store all land.
func testConcurrentUploads(t *testing.T, h Harness) {
	b := h.New(t)
	const n = 8
	keys := make([]string, n)
	sizes := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			sizes[i] = 100 + i
			put, err := babysitter.NewUpload(babysitter.UploadPicture, "image/jpeg", int64(sizes[i]))
			if err != nil {
				t.Error(err)
				return
			}
			pr, err := b.PresignPut(t.Context(), put)
			if err != nil {
				t.Errorf("PresignPut: %v", err)
				return
			}
			if resp, err := Do(t.Context(), h.Client, pr, content(put.Key, sizes[i])); err != nil || resp.Status/100 != 2 {
				t.Errorf("PUT %d: %d %s, %v", i, resp.Status, resp.Body, err)
				return
			}
			keys[i] = put.Key
		})
	}
	wg.Wait()
	for i, k := range keys {
		if k == "" {
			continue
		}
		if info, err := b.Stat(t.Context(), k); err != nil || info.Size != int64(sizes[i]) {
			t.Errorf("upload %d: Stat = %+v, %v; want %d bytes", i, info, err, sizes[i])
		}
	}
}

// testTamperedPut: a presigned PUT sent other than as signed is refused
// with 403 and stores nothing.
func testTamperedPut(t *testing.T, h Harness) {
	b := h.New(t)
	ctx := t.Context()
	body := content("id-card", 1000)
	for _, tc := range []struct {
		name   string
		tamper func(pr *babysitter.PresignedRequest, body *[]byte)
	}{
		{"another content type", func(pr *babysitter.PresignedRequest, _ *[]byte) {
			pr.Headers = map[string]string{"Content-Type": "text/html", "Content-Length": pr.Headers["Content-Length"]}
		}},
		{"no content type", func(pr *babysitter.PresignedRequest, _ *[]byte) {
			pr.Headers = map[string]string{"Content-Length": pr.Headers["Content-Length"]}
		}},
		{"more bytes than signed", func(_ *babysitter.PresignedRequest, body *[]byte) { *body = append(*body, 'x') }},
		{"fewer bytes than signed", func(_ *babysitter.PresignedRequest, body *[]byte) { *body = (*body)[:len(*body)-1] }},
		{"twice the bytes signed", func(_ *babysitter.PresignedRequest, body *[]byte) { *body = append(*body, *body...) }},
		{"POST instead of PUT", func(pr *babysitter.PresignedRequest, _ *[]byte) { pr.Method = http.MethodPost }},
		{"forged signature", func(pr *babysitter.PresignedRequest, _ *[]byte) { pr.URL = forgeSignature(t, pr.URL) }},
		{"another key", func(pr *babysitter.PresignedRequest, _ *[]byte) {
			pr.URL = strings.Replace(pr.URL, "/private/documents/", "/private/documents/0", 1)
		}},
	} {
		put, _ := babysitter.NewUpload(babysitter.UploadDocument, "application/pdf", int64(len(body)))
		pr, err := b.PresignPut(ctx, put)
		if err != nil {
			t.Fatalf("PresignPut: %v", err)
		}
		sent := bytes.Clone(body)
		tc.tamper(&pr, &sent)
		resp, err := Do(ctx, h.Client, pr, sent)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if resp.Status != http.StatusForbidden {
			t.Errorf("%s: status %d %s, want 403", tc.name, resp.Status, resp.Body)
		}
		wantMissing(t, b, put.Key, tc.name)
		wantMissing(t, b, "private/documents/0"+strings.TrimPrefix(put.Key, babysitter.DocumentKeyPrefix), tc.name+" (other key)")
	}
}

// testTamperedGet: a document cannot be read without its presigned GET:
// not with no signature, not with a forged one, not with the PUT's.
func testTamperedGet(t *testing.T, h Harness) {
	b := h.New(t)
	ctx := t.Context()
	body := content("licence", 500)
	put, _ := babysitter.NewUpload(babysitter.UploadDocument, "image/png", int64(len(body)))
	putReq, err := b.PresignPut(ctx, put)
	if err != nil {
		t.Fatal(err)
	}
	if resp, err := Do(ctx, h.Client, putReq, body); err != nil || resp.Status/100 != 2 {
		t.Fatalf("PUT: %d, %v", resp.Status, err)
	}
	get, err := b.PresignGet(ctx, put.Key, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	unsigned := get
	unsigned.URL, _, _ = strings.Cut(get.URL, "?")
	forged := get
	forged.URL = forgeSignature(t, get.URL)
	putAsGet := putReq
	putAsGet.Method, putAsGet.Headers = http.MethodGet, nil
	getAsDelete := get
	getAsDelete.Method = http.MethodDelete
	for _, tc := range []struct {
		name string
		req  babysitter.PresignedRequest
	}{
		{"no signature", unsigned},
		{"forged signature", forged},
		{"the PUT's URL", putAsGet},
		{"DELETE with the GET's URL", getAsDelete},
	} {
		resp, err := Do(ctx, h.Client, tc.req, nil)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if resp.Status != http.StatusForbidden || bytes.Contains(resp.Body, body) {
			t.Errorf("%s: status %d (%d bytes), want 403 without the document", tc.name, resp.Status, len(resp.Body))
		}
	}
	if _, err := b.Stat(ctx, put.Key); err != nil {
		t.Errorf("the document is gone after refused requests: %v", err)
	}
}

// testExpired: an expired presigned request is refused. It waits out a
// 1-second validity; a slow machine only makes the URL older.
func testExpired(t *testing.T, h Harness) {
	b := h.New(t)
	ctx := t.Context()
	body := content("old", 10)
	put, _ := babysitter.NewUpload(babysitter.UploadDocument, "image/png", int64(len(body)))
	put.Expires = time.Second
	pr, err := b.PresignPut(ctx, put)
	if err != nil {
		t.Fatal(err)
	}
	get, err := b.PresignGet(ctx, put.Key, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Until(pr.Expires.Add(1100 * time.Millisecond)))
	resp, err := Do(ctx, h.Client, pr, body)
	if err != nil || resp.Status != http.StatusForbidden {
		t.Errorf("expired PUT: %d %s, %v; want 403", resp.Status, resp.Body, err)
	}
	wantMissing(t, b, put.Key, "expired PUT")
	resp, err = Do(ctx, h.Client, get, nil)
	if err != nil || resp.Status != http.StatusForbidden {
		t.Errorf("expired GET: %d %s, %v; want 403", resp.Status, resp.Body, err)
	}
}

// forgeSignature changes one hex digit of the URL's signature (whatever
// its query parameter is called: the last parameter whose value is 64 hex
// digits).
func forgeSignature(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	for k, vs := range q {
		if len(vs) == 1 && len(vs[0]) == 64 && strings.Trim(vs[0], "0123456789abcdef") == "" {
			flip := byte('0')
			if vs[0][0] == '0' {
				flip = '1'
			}
			q.Set(k, string(flip)+vs[0][1:])
			u.RawQuery = q.Encode()
			return u.String()
		}
	}
	t.Fatalf("no signature in %s", raw)
	return ""
}
