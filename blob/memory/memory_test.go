package memory_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/babysitter-go/babysitter"
	"github.com/babysitter-go/babysitter/blob/blobtest"
	"github.com/babysitter-go/babysitter/blob/memory"
)

// serve returns a store mounted at /blobs/ of a fresh test server.
func serve(t *testing.T, opts memory.Options) *memory.Blobs {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	opts.BaseURL = srv.URL + "/blobs/"
	b, err := memory.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle("/blobs/", b.Handler())
	return b
}

// presignPut presigns a one-minute PUT of body under key.
func presignPut(t *testing.T, b *memory.Blobs, key, contentType string, body []byte) (babysitter.BlobPut, babysitter.PresignedRequest) {
	t.Helper()
	put := babysitter.BlobPut{Key: key, ContentType: contentType, ContentLength: int64(len(body)), Expires: time.Minute}
	pr, err := b.PresignPut(t.Context(), put)
	if err != nil {
		t.Fatal(err)
	}
	return put, pr
}

func TestConformance(t *testing.T) {
	blobtest.Run(t, blobtest.Harness{
		New:              func(t *testing.T) babysitter.Blobs { return serve(t, memory.Options{}) },
		ChecksSignatures: true,
	})
}

// TestConformanceInProcess runs the suite with the presigned requests
// sent through Client, in process, with no server: what an embedding
// program or a test without a listener does.
func TestConformanceInProcess(t *testing.T) {
	var (
		mu     sync.Mutex
		stores = map[string]*memory.Blobs{}
	)
	// One client for the suite: each store has a host of its own, and the
	// client hands a request to that store's Client.
	client := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		mu.Lock()
		b := stores[r.URL.Host]
		mu.Unlock()
		if b == nil {
			return nil, fmt.Errorf("no store at %s", r.URL.Host)
		}
		return b.Client().Transport.RoundTrip(r)
	})}
	blobtest.Run(t, blobtest.Harness{
		New: func(t *testing.T) babysitter.Blobs {
			mu.Lock()
			defer mu.Unlock()
			host := fmt.Sprintf("store%d.blobs.test", len(stores))
			b, err := memory.New(memory.Options{BaseURL: "http://" + host + "/blobs/"})
			if err != nil {
				t.Fatal(err)
			}
			stores[host] = b
			return b
		},
		Client:           client,
		ChecksSignatures: true,
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// clock is a settable Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

// TestExpiry: a presigned request works up to its expiry second and is
// refused after it, on a clock the test moves.
func TestExpiry(t *testing.T) {
	t0 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	c := &clock{t: t0}
	b := serve(t, memory.Options{Now: c.Now})
	ctx := t.Context()
	body := []byte("%PDF-1.7 tiny")
	put, pr := presignPut(t, b, "private/documents/a", "application/pdf", body)
	if want := t0.Add(time.Minute); !pr.Expires.Equal(want) {
		t.Errorf("Expires %v, want %v", pr.Expires, want)
	}
	c.Set(t0.Add(time.Minute + time.Second))
	if resp, err := blobtest.Do(ctx, http.DefaultClient, pr, body); err != nil || resp.Status != http.StatusForbidden || !bytes.Contains(resp.Body, []byte("expired")) {
		t.Errorf("PUT a second after expiry: %d %s, %v; want 403 expired", resp.Status, resp.Body, err)
	}
	if keys := b.Keys(); len(keys) != 0 {
		t.Errorf("expired PUT stored %v", keys)
	}
	c.Set(t0.Add(time.Minute))
	if resp, err := blobtest.Do(ctx, http.DefaultClient, pr, body); err != nil || resp.Status != http.StatusOK {
		t.Errorf("PUT at the expiry second: %d %s, %v; want 200", resp.Status, resp.Body, err)
	}
	info, err := b.Stat(ctx, put.Key)
	if err != nil || !info.LastModified.Equal(t0.Add(time.Minute)) {
		t.Errorf("Stat = %+v, %v; want LastModified from the clock", info, err)
	}
}

// TestPublicPrefix: keys under a public prefix are readable without a
// signature, like the deployed bucket's pictures; others are not, and
// nothing is writable without one.
func TestPublicPrefix(t *testing.T) {
	b := serve(t, memory.Options{PublicPrefixes: []string{babysitter.PublicKeyPrefix}})
	ctx := t.Context()
	pic := []byte("\x89PNG picture")
	doc := []byte("%PDF document")
	var urls []string
	for _, o := range []struct {
		kind babysitter.UploadKind
		body []byte
		ct   string
	}{{babysitter.UploadPicture, pic, "image/png"}, {babysitter.UploadDocument, doc, "application/pdf"}} {
		put, err := babysitter.NewUpload(o.kind, o.ct, int64(len(o.body)))
		if err != nil {
			t.Fatal(err)
		}
		pr, err := b.PresignPut(ctx, put)
		if err != nil {
			t.Fatal(err)
		}
		if resp, err := blobtest.Do(ctx, http.DefaultClient, pr, o.body); err != nil || resp.Status != http.StatusOK {
			t.Fatalf("PUT %s: %d, %v", o.kind, resp.Status, err)
		}
		plain, _, _ := strings.Cut(pr.URL, "?")
		urls = append(urls, plain)
	}
	get := func(u string) (int, []byte) {
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, body
	}
	if status, body := get(urls[0]); status != http.StatusOK || !bytes.Equal(body, pic) {
		t.Errorf("plain GET of the picture: %d %q; want 200 and the picture", status, body)
	}
	if status, body := get(urls[1]); status != http.StatusForbidden || bytes.Contains(body, doc) {
		t.Errorf("plain GET of the document: %d %q; want 403", status, body)
	}
	// A plain PUT under the public prefix is refused too.
	req, _ := http.NewRequestWithContext(ctx, http.MethodPut, urls[0], strings.NewReader("defaced"))
	req.Header.Set("Content-Type", "image/png")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("plain PUT of a picture: %d, want 403", resp.StatusCode)
	}
	if status, body := get(urls[0]); status != http.StatusOK || !bytes.Equal(body, pic) {
		t.Errorf("the picture changed: %d %q", status, body)
	}
}

// TestHandlerRefusals: what the handler answers to requests S3 would
// refuse before looking at the signature.
func TestHandlerRefusals(t *testing.T) {
	b := serve(t, memory.Options{})
	ctx := t.Context()
	body := []byte("0123456789")
	_, pr := presignPut(t, b, "private/documents/b", "image/jpeg", body)
	base, _, _ := strings.Cut(pr.URL, "/blobs/")
	for _, tc := range []struct {
		name   string
		req    func() *http.Request
		status int
	}{
		{"chunked PUT, no length", func() *http.Request {
			r, _ := http.NewRequestWithContext(ctx, http.MethodPut, pr.URL, io.NopCloser(bytes.NewReader(body)))
			r.ContentLength = -1
			r.Header.Set("Content-Type", "image/jpeg")
			return r
		}, http.StatusLengthRequired},
		{"HEAD with a PUT URL", func() *http.Request {
			r, _ := http.NewRequestWithContext(ctx, http.MethodHead, pr.URL, nil)
			return r
		}, http.StatusForbidden},
		{"a key with '..'", func() *http.Request {
			r, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/blobs/private/%2e%2e/x", nil)
			return r
		}, http.StatusBadRequest},
		{"outside the base path", func() *http.Request {
			r, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/blobsx/a", nil)
			return r
		}, http.StatusNotFound}, // the mux's, not the store's
	} {
		resp, err := http.DefaultClient.Do(tc.req())
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("%s: status %d, want %d", tc.name, resp.StatusCode, tc.status)
		}
	}
	if keys := b.Keys(); len(keys) != 0 {
		t.Errorf("refused requests stored %v", keys)
	}
}

func TestNewBaseURL(t *testing.T) {
	for _, u := range []string{"", "/blobs/", "ftp://host/x", "http://host/x?y=1", "http:///x"} {
		if _, err := memory.New(memory.Options{BaseURL: u}); err == nil {
			t.Errorf("New(BaseURL %q) = nil error", u)
		}
	}
	b, err := memory.New(memory.Options{BaseURL: "https://example.test/files"})
	if err != nil {
		t.Fatal(err)
	}
	pr, err := b.PresignGet(t.Context(), "public/pictures/p", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(pr.URL, "https://example.test/files/public/pictures/p?") {
		t.Errorf("URL %q does not put the key under the base path", pr.URL)
	}
}
