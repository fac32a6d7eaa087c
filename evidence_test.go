package babysitter

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestCheckBlobKey(t *testing.T) {
	for _, tc := range []struct {
		key string
		ok  bool
	}{
		{"private/documents/0123abcd", true},
		{"public/pictures/x.y_z-1", true},
		{"a", true},
		{strings.Repeat("a", MaxBlobKeyLen), true},
		{"", false},
		{strings.Repeat("a", MaxBlobKeyLen+1), false},
		{"/leading", false},
		{"trailing/", false},
		{"double//slash", false},
		{"dot/./segment", false},
		{"up/../segment", false},
		{"..", false},
		{"space here", false},
		{"query?x=1", false},
		{"percent%2F", false},
		{"ünicode", false},
		{"back\\slash", false},
	} {
		err := CheckBlobKey(tc.key)
		if (err == nil) != tc.ok {
			t.Errorf("CheckBlobKey(%q) = %v, want ok=%v", tc.key, err, tc.ok)
		}
		if err != nil && !cmp.Equal(fields(t, err), []string{"key"}) {
			t.Errorf("CheckBlobKey(%q) fields %v, want [key]", tc.key, fields(t, err))
		}
	}
}

func TestCheckBlobPut(t *testing.T) {
	good := BlobPut{Key: "private/documents/k", ContentType: "application/pdf", ContentLength: 10, Expires: time.Minute}
	for _, tc := range []struct {
		name string
		edit func(*BlobPut)
		want []string
	}{
		{"good", func(*BlobPut) {}, nil},
		{"largest object, longest expiry", func(p *BlobPut) { p.ContentLength, p.Expires = MaxBlobSize, MaxPresignExpiry }, nil},
		{"vendor type", func(p *BlobPut) { p.ContentType = "application/vnd.ms-excel+xml" }, nil},
		{"everything wrong", func(p *BlobPut) {
			*p = BlobPut{Key: "/x", ContentType: "image/jpeg; q=1", ContentLength: 0, Expires: 0}
		},
			[]string{"key", "contentType", "contentLength", "expires"}},
		{"no content type", func(p *BlobPut) { p.ContentType = "" }, []string{"contentType"}},
		{"upper-case type", func(p *BlobPut) { p.ContentType = "Image/JPEG" }, []string{"contentType"}},
		{"no subtype", func(p *BlobPut) { p.ContentType = "image/" }, []string{"contentType"}},
		{"two slashes", func(p *BlobPut) { p.ContentType = "image/jpeg/x" }, []string{"contentType"}},
		{"header folding", func(p *BlobPut) { p.ContentType = "image/jpeg\r\nX-Evil: 1" }, []string{"contentType"}},
		{"negative length", func(p *BlobPut) { p.ContentLength = -1 }, []string{"contentLength"}},
		{"too large", func(p *BlobPut) { p.ContentLength = MaxBlobSize + 1 }, []string{"contentLength"}},
		{"expiry too long", func(p *BlobPut) { p.Expires = MaxPresignExpiry + time.Second }, []string{"expires"}},
		{"sub-second expiry", func(p *BlobPut) { p.Expires = 1500 * time.Millisecond }, []string{"expires"}},
	} {
		p := good
		tc.edit(&p)
		if d := cmp.Diff(tc.want, fields(t, CheckBlobPut(p))); d != "" {
			t.Errorf("%s: fields (-want +got):\n%s", tc.name, d)
		}
	}
}

func TestNewUpload(t *testing.T) {
	for _, tc := range []struct {
		name        string
		kind        UploadKind
		contentType string
		size        int64
		want        []string
	}{
		{"PDF document", UploadDocument, "application/pdf", 1, nil},
		{"largest JPEG document", UploadDocument, "image/jpeg", MaxDocumentSize, nil},
		{"PNG picture", UploadPicture, "image/png", MaxPictureSize, nil},
		{"PDF picture", UploadPicture, "application/pdf", 100, []string{"contentType"}},
		{"GIF document", UploadDocument, "image/gif", 100, []string{"contentType"}},
		{"oversize document", UploadDocument, "image/png", MaxDocumentSize + 1, []string{"contentLength"}},
		{"oversize picture", UploadPicture, "image/png", MaxPictureSize + 1, []string{"contentLength"}},
		{"empty", UploadPicture, "image/png", 0, []string{"contentLength"}},
		{"both wrong", UploadPicture, "text/html", -5, []string{"contentType", "contentLength"}},
		{"unknown kind", "video", "video/mp4", 1, []string{"kind"}},
	} {
		put, err := NewUpload(tc.kind, tc.contentType, tc.size)
		if d := cmp.Diff(tc.want, fields(t, err)); d != "" {
			t.Errorf("%s: fields (-want +got):\n%s", tc.name, d)
		}
		if err != nil {
			if put != (BlobPut{}) {
				t.Errorf("%s: refused upload returned %+v", tc.name, put)
			}
			continue
		}
		if err := CheckBlobPut(put); err != nil {
			t.Errorf("%s: NewUpload made a put CheckBlobPut refuses: %v", tc.name, err)
		}
		if !tc.kind.Owns(put.Key) || !strings.HasPrefix(put.Key, tc.kind.Prefix()) {
			t.Errorf("%s: key %q is not a %s key", tc.name, put.Key, tc.kind)
		}
		if put.ContentType != tc.contentType || put.ContentLength != tc.size || put.Expires != UploadExpiry {
			t.Errorf("%s: put %+v does not carry the request", tc.name, put)
		}
	}
}

// TestNewUploadKeys: keys are fresh, unguessable and free of anything the
// caller said — two uploads of the same request never share a key.
func TestNewUploadKeys(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		put, err := NewUpload(UploadDocument, "image/png", 42)
		if err != nil {
			t.Fatal(err)
		}
		if seen[put.Key] {
			t.Fatalf("key %q made twice", put.Key)
		}
		seen[put.Key] = true
	}
}

func TestUploadKindOwns(t *testing.T) {
	doc, _ := NewUpload(UploadDocument, "image/png", 1)
	pic, _ := NewUpload(UploadPicture, "image/png", 1)
	rnd := strings.TrimPrefix(doc.Key, DocumentKeyPrefix)
	for _, tc := range []struct {
		kind UploadKind
		key  string
		want bool
	}{
		{UploadDocument, doc.Key, true},
		{UploadPicture, pic.Key, true},
		{UploadPicture, doc.Key, false},
		{UploadDocument, pic.Key, false},
		{UploadDocument, DocumentKeyPrefix + strings.ToUpper(rnd), false},
		{UploadDocument, DocumentKeyPrefix + rnd[1:], false},
		{UploadDocument, DocumentKeyPrefix + rnd + "0", false},
		{UploadDocument, DocumentKeyPrefix + "zz" + rnd[2:], false},
		{UploadDocument, "private/documents/../" + rnd, false},
		{UploadPicture, PictureKeyPrefix + rnd, true},
	} {
		if got := tc.kind.Owns(tc.key); got != tc.want {
			t.Errorf("%s.Owns(%q) = %v, want %v", tc.kind, tc.key, got, tc.want)
		}
	}
}

func TestCheckUploaded(t *testing.T) {
	doc, _ := NewUpload(UploadDocument, "application/pdf", 1)
	for _, tc := range []struct {
		name string
		kind UploadKind
		info BlobInfo
		want []string
	}{
		{"good document", UploadDocument, BlobInfo{Key: doc.Key, Size: 10, ContentType: "application/pdf"}, nil},
		{"document key as a picture", UploadPicture, BlobInfo{Key: doc.Key, Size: 10, ContentType: "image/png"}, []string{"key"}},
		{"stored as HTML", UploadDocument, BlobInfo{Key: doc.Key, Size: 10, ContentType: "text/html"}, []string{"contentType"}},
		{"stored too large", UploadDocument, BlobInfo{Key: doc.Key, Size: MaxDocumentSize + 1, ContentType: "image/png"}, []string{"contentLength"}},
		{"stored empty", UploadDocument, BlobInfo{Key: doc.Key, ContentType: "image/png"}, []string{"contentLength"}},
	} {
		if d := cmp.Diff(tc.want, fields(t, CheckUploaded(tc.kind, tc.info))); d != "" {
			t.Errorf("%s: fields (-want +got):\n%s", tc.name, d)
		}
	}
}

func TestCheckBlobKeys(t *testing.T) {
	for _, tc := range []struct {
		keys []string
		want []string
	}{
		{nil, nil},
		{[]string{"a", "b/c"}, nil},
		{[]string{"a", "b//c", "/d"}, []string{"keys[1]"}},
	} {
		if d := cmp.Diff(tc.want, fields(t, CheckBlobKeys(tc.keys))); d != "" {
			t.Errorf("CheckBlobKeys(%q) fields (-want +got):\n%s", tc.keys, d)
		}
	}
}

// FuzzCheckBlobKey: whatever CheckBlobKey accepts is a key every backend
// reads the same way — no escaping needed, no leading '/', no dot segment.
func FuzzCheckBlobKey(f *testing.F) {
	for _, s := range []string{"private/documents/abc", "a/../b", "/x", "a//b", "ä", "a b", "."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, key string) {
		if CheckBlobKey(key) != nil {
			return
		}
		if key == "" || len(key) > MaxBlobKeyLen || strings.HasPrefix(key, "/") || strings.HasSuffix(key, "/") ||
			strings.Contains(key, "//") || strings.Contains("/"+key+"/", "/./") || strings.Contains("/"+key+"/", "/../") {
			t.Errorf("CheckBlobKey accepted %q", key)
		}
		if u := (&url.URL{Path: "/" + key}).EscapedPath(); u != "/"+key {
			t.Errorf("key %q needs escaping in a URL: %q", key, u)
		}
	})
}
