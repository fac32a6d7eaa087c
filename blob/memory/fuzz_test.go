package memory_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/babysitter-go/babysitter/blob/memory"
)

// FuzzHandler sends the handler arbitrary requests: it never panics, and
// without a signature it made, nothing is ever stored.
func FuzzHandler(f *testing.F) {
	f.Add("PUT", "/blobs/private/documents/a", "X-Expires=9999999999&X-Signature=00", "image/png", []byte("x"))
	f.Add("GET", "/blobs/public/pictures/a", "", "", []byte(nil))
	f.Add("PUT", "/blobs/../etc/passwd", "X-Expires=-1", "text/html", []byte("<script>"))
	f.Add("DELETE", "/blobs/a//b", "X-Signature=&X-Expires=", "", []byte(nil))
	b, err := memory.New(memory.Options{BaseURL: "http://blobs.test/blobs/", PublicPrefixes: []string{"public/"}})
	if err != nil {
		f.Fatal(err)
	}
	h := b.Handler()
	f.Fuzz(func(t *testing.T, method, path, query, contentType string, body []byte) {
		req, err := http.NewRequest(method, "http://blobs.test/", bytes.NewReader(body))
		if err != nil {
			return // not a request net/http would deliver
		}
		req.URL.Path, req.URL.RawQuery = path, query
		if contentType != "" {
			req.Header["Content-Type"] = []string{contentType}
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code/100 == 2 && method != http.MethodGet {
			t.Errorf("%s %s?%s answered %d", method, path, query, rec.Code)
		}
		if keys := b.Keys(); len(keys) != 0 {
			t.Fatalf("%s %s?%s stored %v without a valid signature", method, path, query, keys)
		}
	})
}
