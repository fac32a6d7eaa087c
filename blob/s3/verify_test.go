package s3_test

import (
	"crypto/hmac"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// fauxqs stores whatever reaches it: it checks no signature, no expiry,
// and so neither the signed Content-Type nor the signed Content-Length.
// sigV4Verifier puts S3's check in front of it, so the suite's tamper
// cases run against the S3 backend too. It recomputes each request's
// signature with the SDK's own SigV4 signer from the request as received
// (method, path, query, the headers the signature names, the body's
// length) and the credentials the clients use, the way S3 does, and
// refuses with 403 a request that does not match, an expired one, and an
// unsigned one (the bucket is private). What passes is forwarded as is.
type sigV4Verifier struct {
	creds  aws.Credentials
	region string
	now    func() time.Time
	next   http.Handler
}

// newSigV4Verifier verifies requests for target (fauxqs's endpoint).
func newSigV4Verifier(t *testing.T, creds aws.Credentials, region, target string) *sigV4Verifier {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	return &sigV4Verifier{creds: creds, region: region, now: time.Now, next: httputil.NewSingleHostReverseProxy(u)}
}

func (v *sigV4Verifier) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var err error
	switch {
	case r.URL.Query().Has("X-Amz-Signature"):
		err = v.verifyPresigned(r)
	case r.Header.Get("Authorization") != "":
		err = v.verifyHeader(r)
	default:
		err = &verifyError{"AccessDenied", "Access Denied (no signature; the bucket is private)"}
	}
	if err != nil {
		ve, ok := err.(*verifyError)
		if !ok {
			ve = &verifyError{"AccessDenied", err.Error()}
		}
		body, _ := xml.Marshal(struct {
			XMLName xml.Name `xml:"Error"`
			Code    string
			Message string
		}{Code: ve.code, Message: ve.msg})
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write(body)
		return
	}
	v.next.ServeHTTP(w, r)
}

type verifyError struct{ code, msg string }

func (e *verifyError) Error() string { return e.code + ": " + e.msg }

// scope is a parsed credential scope: AKID/yyyymmdd/region/service/aws4_request.
func (v *sigV4Verifier) checkScope(credential string, signedAt time.Time) error {
	parts := strings.Split(credential, "/")
	if len(parts) != 5 || parts[4] != "aws4_request" {
		return &verifyError{"AuthorizationQueryParametersError", "malformed credential " + credential}
	}
	switch {
	case parts[0] != v.creds.AccessKeyID:
		return &verifyError{"InvalidAccessKeyId", "unknown access key " + parts[0]}
	case parts[1] != signedAt.Format("20060102"):
		return &verifyError{"SignatureDoesNotMatch", "credential date differs from X-Amz-Date"}
	case parts[2] != v.region || parts[3] != "s3":
		return &verifyError{"SignatureDoesNotMatch", "credential scope is not " + v.region + "/s3"}
	}
	return nil
}

// unsignedCopy is the request as the client built it before signing: the
// same method and URL (less what removeQuery names), the headers the
// signature names (Host and Content-Length are the request's own), and
// the body's length if it is signed.
func unsignedCopy(r *http.Request, signed []string, removeQuery ...string) *http.Request {
	u := *r.URL
	u.Scheme, u.Host = "http", r.Host
	q := u.Query()
	for _, k := range removeQuery {
		q.Del(k)
	}
	u.RawQuery = q.Encode()
	c := &http.Request{Method: r.Method, URL: &u, Host: r.Host, Header: http.Header{}}
	for _, h := range signed {
		switch h {
		case "host":
		case "content-length":
			c.ContentLength = r.ContentLength
		default:
			if vs, ok := r.Header[http.CanonicalHeaderKey(h)]; ok {
				c.Header[http.CanonicalHeaderKey(h)] = vs
			}
		}
	}
	return c
}

// verifyPresigned checks a query-signed (presigned) request.
func (v *sigV4Verifier) verifyPresigned(r *http.Request) error {
	q := r.URL.Query()
	if q.Get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256" {
		return &verifyError{"AuthorizationQueryParametersError", "unsupported algorithm"}
	}
	signedAt, err := time.Parse("20060102T150405Z", q.Get("X-Amz-Date"))
	if err != nil {
		return &verifyError{"AuthorizationQueryParametersError", "malformed X-Amz-Date"}
	}
	expires, err := strconv.Atoi(q.Get("X-Amz-Expires"))
	if err != nil || expires < 1 || expires > 604800 {
		return &verifyError{"AuthorizationQueryParametersError", "X-Amz-Expires must be 1 to 604800"}
	}
	if err := v.checkScope(q.Get("X-Amz-Credential"), signedAt); err != nil {
		return err
	}
	signed := strings.Split(q.Get("X-Amz-SignedHeaders"), ";")
	c := unsignedCopy(r, signed, "X-Amz-Signature")
	uri, _, err := v4.NewSigner().PresignHTTP(r.Context(), v.creds, c, "UNSIGNED-PAYLOAD", "s3", v.region, signedAt,
		func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	if err != nil {
		return err
	}
	got, err := url.Parse(uri)
	if err != nil {
		return err
	}
	if got.Query().Get("X-Amz-SignedHeaders") != q.Get("X-Amz-SignedHeaders") {
		return &verifyError{"SignatureDoesNotMatch", fmt.Sprintf("the request lacks signed headers: has %s, signed %s", got.Query().Get("X-Amz-SignedHeaders"), q.Get("X-Amz-SignedHeaders"))}
	}
	if !hmac.Equal([]byte(got.Query().Get("X-Amz-Signature")), []byte(q.Get("X-Amz-Signature"))) {
		return &verifyError{"SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided."}
	}
	if v.now().After(signedAt.Add(time.Duration(expires) * time.Second)) {
		return &verifyError{"AccessDenied", "Request has expired"}
	}
	return nil
}

// verifyHeader checks a request signed in its Authorization header (the
// SDK's own calls).
func (v *sigV4Verifier) verifyHeader(r *http.Request) error {
	auth, ok := strings.CutPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ")
	if !ok {
		return &verifyError{"AccessDenied", "unsupported authorization"}
	}
	fields := map[string]string{}
	for f := range strings.SplitSeq(auth, ",") {
		k, val, _ := strings.Cut(strings.TrimSpace(f), "=")
		fields[k] = val
	}
	signedAt, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil {
		return &verifyError{"AccessDenied", "malformed X-Amz-Date"}
	}
	if err := v.checkScope(fields["Credential"], signedAt); err != nil {
		return err
	}
	signed := strings.Split(fields["SignedHeaders"], ";")
	if !slices.Contains(signed, "x-amz-content-sha256") {
		return &verifyError{"AccessDenied", "x-amz-content-sha256 is not signed"}
	}
	c := unsignedCopy(r, signed)
	if err := v4.NewSigner().SignHTTP(r.Context(), v.creds, c, r.Header.Get("X-Amz-Content-Sha256"), "s3", v.region, signedAt,
		func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true }); err != nil {
		return err
	}
	_, want, _ := strings.Cut(c.Header.Get("Authorization"), "Signature=")
	if !hmac.Equal([]byte(want), []byte(fields["Signature"])) {
		return &verifyError{"SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided."}
	}
	if d := v.now().Sub(signedAt); d > 15*time.Minute || d < -15*time.Minute {
		return &verifyError{"RequestTimeTooSkewed", "request time too skewed"}
	}
	return nil
}
