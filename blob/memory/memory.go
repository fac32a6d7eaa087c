// Package memory is the in-memory babysitter.Blobs, the embedded default:
// objects live in a map, and its presigned URLs point at an HTTP handler
// it provides (Handler), so a client uploads and downloads through them end
// to end, exactly as it would with S3.
//
// The handler checks a presigned request the way S3 does — the method, the
// key, the expiry, and for a PUT the Content-Type and Content-Length are
// covered by an HMAC-SHA256 signature with a key made per store — and
// answers like S3: 403 for a signature that does not match or an expired
// URL, 411 for a PUT without a length, 404 for a missing object, with an
// S3-style XML error body. Keys under Options.PublicPrefixes are readable
// with a plain GET, as the deployed bucket's policy makes the pictures.
//
// It passes blob/blobtest, signature cases included.
package memory

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/babysitter-go/babysitter"
)

// Query parameters of a presigned URL.
const (
	paramExpires   = "X-Expires"
	paramSignature = "X-Signature"
)

// Options configure a store.
type Options struct {
	// BaseURL is where Handler is served, as clients reach it, for
	// example "http://127.0.0.1:8080/blobs/"; an object's URL is BaseURL
	// followed by its key. Required: http or https, no query.
	BaseURL string
	// PublicPrefixes are the key prefixes anyone may GET without a
	// signature — babysitter.PublicKeyPrefix to serve profile pictures
	// like the deployed bucket. Default none: every read is presigned.
	PublicPrefixes []string
	// Now returns the current time; default time.Now. Tests move it to
	// expire URLs.
	Now func() time.Time
}

// Blobs is an in-memory babysitter.Blobs. It is safe for concurrent use.
type Blobs struct {
	base   *url.URL
	public []string
	now    func() time.Time
	secret []byte

	mu      sync.Mutex
	objects map[string]object
}

// object is one stored object.
type object struct {
	data         []byte
	contentType  string
	lastModified time.Time
	etag         string
}

var _ babysitter.Blobs = (*Blobs)(nil)

// New returns an empty store whose presigned URLs start with
// opts.BaseURL.
func New(opts Options) (*Blobs, error) {
	base, err := url.Parse(opts.BaseURL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" || base.RawQuery != "" || base.Fragment != "" {
		return nil, fmt.Errorf("blob/memory: BaseURL %q must be an absolute http(s) URL without query", opts.BaseURL)
	}
	if !strings.HasSuffix(base.Path, "/") {
		base.Path += "/"
	}
	base.RawPath = ""
	b := &Blobs{
		base:    base,
		public:  slices.Clone(opts.PublicPrefixes),
		now:     opts.Now,
		secret:  make([]byte, 32),
		objects: map[string]object{},
	}
	if b.now == nil {
		b.now = time.Now
	}
	_, _ = rand.Read(b.secret) // crypto/rand.Read never returns an error
	return b, nil
}

// PresignPut implements babysitter.Blobs.
func (b *Blobs) PresignPut(ctx context.Context, put babysitter.BlobPut) (babysitter.PresignedRequest, error) {
	if err := ctx.Err(); err != nil {
		return babysitter.PresignedRequest{}, err
	}
	if err := babysitter.CheckBlobPut(put); err != nil {
		return babysitter.PresignedRequest{}, fmt.Errorf("blob/memory: presign PUT: %w", err)
	}
	pr := b.presign(http.MethodPut, put.Key, put.ContentType, put.ContentLength, put.Expires)
	pr.Headers = map[string]string{
		"Content-Type":   put.ContentType,
		"Content-Length": strconv.FormatInt(put.ContentLength, 10),
	}
	return pr, nil
}

// PresignGet implements babysitter.Blobs.
func (b *Blobs) PresignGet(ctx context.Context, key string, expires time.Duration) (babysitter.PresignedRequest, error) {
	if err := ctx.Err(); err != nil {
		return babysitter.PresignedRequest{}, err
	}
	if err := babysitter.CheckPresignGet(key, expires); err != nil {
		return babysitter.PresignedRequest{}, fmt.Errorf("blob/memory: presign GET: %w", err)
	}
	return b.presign(http.MethodGet, key, "", 0, expires), nil
}

// presign makes the URL of a signed request.
func (b *Blobs) presign(method, key, contentType string, length int64, valid time.Duration) babysitter.PresignedRequest {
	expires := b.now().Add(valid).Unix()
	u := *b.base
	u.Path += key
	q := url.Values{}
	q.Set(paramExpires, strconv.FormatInt(expires, 10))
	q.Set(paramSignature, b.sign(stringToSign(method, key, expires, contentType, length)))
	u.RawQuery = q.Encode()
	return babysitter.PresignedRequest{Method: method, URL: u.String(), Expires: time.Unix(expires, 0).UTC()}
}

// stringToSign is what a signature covers: everything a client could
// change about a presigned request.
func stringToSign(method, key string, expires int64, contentType string, length int64) string {
	return strings.Join([]string{method, key, strconv.FormatInt(expires, 10), contentType, strconv.FormatInt(length, 10)}, "\n")
}

func (b *Blobs) sign(s string) string {
	mac := hmac.New(sha256.New, b.secret)
	mac.Write([]byte(s))
	return hex.EncodeToString(mac.Sum(nil))
}

// Stat implements babysitter.Blobs.
func (b *Blobs) Stat(ctx context.Context, key string) (babysitter.BlobInfo, error) {
	if err := ctx.Err(); err != nil {
		return babysitter.BlobInfo{}, err
	}
	if err := babysitter.CheckBlobKey(key); err != nil {
		return babysitter.BlobInfo{}, fmt.Errorf("blob/memory: stat: %w", err)
	}
	b.mu.Lock()
	o, ok := b.objects[key]
	b.mu.Unlock()
	if !ok {
		return babysitter.BlobInfo{}, babysitter.Errorf(babysitter.ErrNotFound, "blob/memory: no object %q", key)
	}
	return babysitter.BlobInfo{Key: key, Size: int64(len(o.data)), ContentType: o.contentType, LastModified: o.lastModified}, nil
}

// Delete implements babysitter.Blobs.
func (b *Blobs) Delete(ctx context.Context, keys []string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := babysitter.CheckBlobKeys(keys); err != nil {
		return fmt.Errorf("blob/memory: delete: %w", err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, k := range keys {
		delete(b.objects, k)
	}
	return nil
}

// Keys returns the keys of every stored object, sorted. Tests use it to
// see that refused requests stored nothing.
func (b *Blobs) Keys() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Sorted(maps.Keys(b.objects))
}

// Client returns an HTTP client that sends every request to Handler in
// process, whatever its host: a program or a test without a server sends
// the presigned requests through it as a browser would through the
// network.
func (b *Blobs) Client() *http.Client {
	return &http.Client{Transport: handlerTransport{b.Handler()}}
}

// handlerTransport serves a request with a handler, in process.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	w := &responseBuffer{header: http.Header{}}
	t.h.ServeHTTP(w, r)
	if r.Body != nil {
		_ = r.Body.Close() // a RoundTripper closes the body
	}
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return &http.Response{
		Status:        fmt.Sprintf("%d %s", w.status, http.StatusText(w.status)),
		StatusCode:    w.status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        w.header,
		Body:          io.NopCloser(bytes.NewReader(w.body.Bytes())),
		ContentLength: int64(w.body.Len()),
		Request:       r,
	}, nil
}

// responseBuffer is the http.ResponseWriter of handlerTransport.
type responseBuffer struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *responseBuffer) Header() http.Header { return w.header }

func (w *responseBuffer) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *responseBuffer) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.body.Write(p)
}

// ---- the HTTP side ----

// Handler serves the presigned URLs: PUT and GET of the objects under
// BaseURL's path. Mount it where BaseURL points, for example
// mux.Handle("/blobs/", b.Handler()) for BaseURL ".../blobs/".
func (b *Blobs) Handler() http.Handler {
	return http.HandlerFunc(b.serveHTTP)
}

func (b *Blobs) serveHTTP(w http.ResponseWriter, r *http.Request) {
	key, ok := strings.CutPrefix(r.URL.Path, b.base.Path)
	if !ok || babysitter.CheckBlobKey(key) != nil {
		writeError(w, http.StatusBadRequest, "InvalidURI", "not an object URL of this store")
		return
	}
	q := r.URL.Query()
	if r.Method == http.MethodGet && !q.Has(paramSignature) && b.isPublic(key) {
		b.serveObject(w, key)
		return
	}
	if r.Method == http.MethodPut && r.ContentLength < 0 {
		writeError(w, http.StatusLengthRequired, "MissingContentLength", "a PUT must declare its Content-Length")
		return
	}
	if code, msg := b.verify(r, key, q); code != "" {
		writeError(w, http.StatusForbidden, code, msg)
		return
	}
	switch r.Method {
	case http.MethodGet:
		b.serveObject(w, key)
	case http.MethodPut:
		b.storeObject(w, r, key)
	default: // a signature only ever covers GET or PUT; verify refused the rest
		writeError(w, http.StatusMethodNotAllowed, "MethodNotAllowed", r.Method+" is not allowed")
	}
}

// verify checks a presigned request's signature and expiry, and returns
// an S3 error code and message when it must be refused.
func (b *Blobs) verify(r *http.Request, key string, q url.Values) (code, msg string) {
	sig, exp := q.Get(paramSignature), q.Get(paramExpires)
	if sig == "" || exp == "" {
		return "AccessDenied", "no presigned signature"
	}
	expires, err := strconv.ParseInt(exp, 10, 64)
	if err != nil {
		return "AccessDenied", "malformed expiry"
	}
	length := r.ContentLength
	if r.Method != http.MethodPut {
		length = 0
	}
	want := stringToSign(r.Method, key, expires, r.Header.Get("Content-Type"), length)
	if !hmac.Equal([]byte(sig), []byte(b.sign(want))) {
		return "SignatureDoesNotMatch", fmt.Sprintf("the request does not match its signature; the server signed %q", want)
	}
	if b.now().Unix() > expires {
		return "AccessDenied", "Request has expired"
	}
	return "", ""
}

func (b *Blobs) isPublic(key string) bool {
	return slices.ContainsFunc(b.public, func(p string) bool { return strings.HasPrefix(key, p) })
}

func (b *Blobs) serveObject(w http.ResponseWriter, key string) {
	b.mu.Lock()
	o, ok := b.objects[key]
	b.mu.Unlock()
	if !ok {
		writeError(w, http.StatusNotFound, "NoSuchKey", "The specified key does not exist.")
		return
	}
	h := w.Header()
	h.Set("Content-Type", o.contentType)
	h.Set("Content-Length", strconv.Itoa(len(o.data)))
	h.Set("ETag", o.etag)
	h.Set("Last-Modified", o.lastModified.UTC().Format(http.TimeFormat))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(o.data)
}

func (b *Blobs) storeObject(w http.ResponseWriter, r *http.Request, key string) {
	data, err := io.ReadAll(io.LimitReader(r.Body, r.ContentLength+1))
	if err != nil || int64(len(data)) != r.ContentLength {
		writeError(w, http.StatusBadRequest, "IncompleteBody", "the body is not the declared Content-Length")
		return
	}
	sum := md5.Sum(data)
	o := object{
		data:         data,
		contentType:  r.Header.Get("Content-Type"),
		lastModified: b.now().UTC().Truncate(time.Second),
		etag:         `"` + hex.EncodeToString(sum[:]) + `"`,
	}
	b.mu.Lock()
	b.objects[key] = o
	b.mu.Unlock()
	w.Header().Set("ETag", o.etag)
	w.WriteHeader(http.StatusOK)
}

// s3Error is S3's XML error body.
type s3Error struct {
	XMLName xml.Name `xml:"Error"`
	Code    string   `xml:"Code"`
	Message string   `xml:"Message"`
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	body, _ := xml.Marshal(s3Error{Code: code, Message: msg}) // two strings always marshal
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	_, _ = w.Write(append([]byte(xml.Header), body...))
}
