package s3_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/go-cmp/cmp"

	"github.com/babysitter-go/babysitter"
	"github.com/babysitter-go/babysitter/blob/blobtest"
	s3blobs "github.com/babysitter-go/babysitter/blob/s3"
	"github.com/babysitter-go/babysitter/internal/testenv"
)

// newBucket creates a fresh bucket, emptied and deleted when the test
// ends, and returns the store on it.
func newBucket(t *testing.T, client *s3.Client, api s3blobs.API) *s3blobs.Blobs {
	t.Helper()
	name := testenv.Bucket(t, client, "blobs")
	if api == nil {
		api = client
	}
	return s3blobs.New(api, s3.NewPresignClient(client), name)
}

// TestConformance runs the shared suite on fauxqs's S3: directly, where
// only what fauxqs checks is checked, and behind sigV4Verifier, where the
// tampered and expired requests must be refused as S3 refuses them.
func TestConformance(t *testing.T) {
	t.Run("fauxqs", func(t *testing.T) {
		client := testenv.S3Client(t)
		blobtest.Run(t, blobtest.Harness{
			New: func(t *testing.T) babysitter.Blobs { return newBucket(t, client, nil) },
		})
	})
	t.Run("fauxqs behind a SigV4 verifier", func(t *testing.T) {
		client := verifiedClient(t)
		blobtest.Run(t, blobtest.Harness{
			New:              func(t *testing.T) babysitter.Blobs { return newBucket(t, client, nil) },
			ChecksSignatures: true,
		})
	})
}

// verifiedClient returns an S3 client whose requests, and whose presigned
// URLs, go through a sigV4Verifier in front of fauxqs.
func verifiedClient(t *testing.T) *s3.Client {
	t.Helper()
	cfg := testenv.AWSConfig()
	creds, err := cfg.Credentials.Retrieve(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	verifier := newSigV4Verifier(t, creds, cfg.Region, testenv.S3Endpoint(t))
	srv := httptest.NewServer(verifier)
	t.Cleanup(srv.Close)
	return testenv.S3Client(t, func(o *s3.Options) { o.BaseEndpoint = aws.String(srv.URL) })
}

// TestVerifierRefusesForgery is the verifier's own negative control: the
// SDK's signed calls pass, an unsigned request and a call signed with
// another secret are refused — so a pass in the suite means something.
func TestVerifierRefusesForgery(t *testing.T) {
	client := verifiedClient(t)
	b := newBucket(t, client, nil)
	if _, err := b.Stat(t.Context(), "private/documents/none"); !errors.Is(err, babysitter.ErrNotFound) {
		t.Fatalf("Stat through the verifier: %v; want ErrNotFound (signed calls pass)", err)
	}
	cfg := testenv.AWSConfig()
	cfg.Credentials = aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: "testenv", SecretAccessKey: "not-the-secret"}, nil
	})
	forger := s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.BaseEndpoint, o.UsePathStyle = client.Options().BaseEndpoint, true
	})
	_, err := forger.HeadBucket(t.Context(), &s3.HeadBucketInput{Bucket: aws.String(b.Bucket())})
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusForbidden {
		t.Errorf("a call signed with the wrong secret: %v; want 403 from the verifier", err)
	}
	resp, err := http.Get(aws.ToString(client.Options().BaseEndpoint) + "/" + b.Bucket())
	if err == nil {
		resp.Body.Close()
	}
	if err != nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("unsigned GET through the verifier: %v, %v; want 403", resp, err)
	}
}

// TestFauxqsChecksNoSignature records why the verifier exists: fauxqs
// stores a PUT whose signature is forged and whose body is larger than
// signed. Should fauxqs start checking, this fails and the verifier can go.
func TestFauxqsChecksNoSignature(t *testing.T) {
	client := testenv.S3Client(t)
	b := newBucket(t, client, nil)
	put, _ := babysitter.NewUpload(babysitter.UploadDocument, "image/png", 10)
	pr, err := b.PresignPut(t.Context(), put)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(pr.URL)
	q := u.Query()
	q.Set("X-Amz-Signature", strings.Repeat("0", 64))
	u.RawQuery = q.Encode()
	pr.URL = u.String()
	resp, err := blobtest.Do(t.Context(), http.DefaultClient, pr, make([]byte, 20))
	if err != nil {
		t.Fatal(err)
	}
	info, statErr := b.Stat(t.Context(), put.Key)
	if resp.Status != http.StatusOK || statErr != nil || info.Size != 20 {
		t.Errorf("forged, oversized PUT straight to fauxqs: %d, Stat %+v %v — fauxqs now checks signatures; drop sigV4Verifier's reason in the docs", resp.Status, info, statErr)
	}
}

// TestPresignedPutSignature checks the URL itself, as S3 would: it signs
// host, Content-Length and Content-Type and nothing the client cannot
// send, expires after UploadExpiry, and its signature is the SigV4
// signature of exactly that request under the client's credentials —
// recomputed here with the SDK's signer — so a request with another length
// or type has another signature and S3 refuses it.
func TestPresignedPutSignature(t *testing.T) {
	client := testenv.S3Client(t)
	b := s3blobs.New(client, s3.NewPresignClient(client), "bucket-not-needed")
	put, err := babysitter.NewUpload(babysitter.UploadDocument, "image/jpeg", 123456)
	if err != nil {
		t.Fatal(err)
	}
	pr, err := b.PresignPut(t.Context(), put)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(pr.URL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	for k, want := range map[string]string{
		"X-Amz-Algorithm":     "AWS4-HMAC-SHA256",
		"X-Amz-SignedHeaders": "content-length;content-type;host",
		"X-Amz-Expires":       "300",
	} {
		if got := q.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if d := cmp.Diff(map[string]string{"Content-Type": "image/jpeg", "Content-Length": "123456"}, pr.Headers); d != "" {
		t.Errorf("headers to send (-want +got):\n%s", d)
	}
	signedAt, err := time.Parse("20060102T150405Z", q.Get("X-Amz-Date"))
	if err != nil {
		t.Fatal(err)
	}
	if !pr.Expires.Equal(signedAt.Add(babysitter.UploadExpiry)) {
		t.Errorf("Expires %v, want X-Amz-Date + 5m = %v", pr.Expires, signedAt.Add(babysitter.UploadExpiry))
	}
	if !strings.HasSuffix(u.Path, "/bucket-not-needed/"+put.Key) || strings.Contains(pr.URL, "Signature=&") {
		t.Errorf("URL %s", pr.URL)
	}

	cfg := testenv.AWSConfig()
	creds, err := cfg.Credentials.Retrieve(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	resign := func(contentType string, length int64) string {
		unsigned := *u
		uq := unsigned.Query()
		uq.Del("X-Amz-Signature")
		unsigned.RawQuery = uq.Encode()
		req := &http.Request{Method: http.MethodPut, URL: &unsigned, Host: u.Host, Header: http.Header{"Content-Type": {contentType}}, ContentLength: length}
		uri, _, err := v4.NewSigner().PresignHTTP(t.Context(), creds, req, "UNSIGNED-PAYLOAD", "s3", cfg.Region, signedAt,
			func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
		if err != nil {
			t.Fatal(err)
		}
		got, _ := url.Parse(uri)
		return got.Query().Get("X-Amz-Signature")
	}
	sig := q.Get("X-Amz-Signature")
	if got := resign("image/jpeg", 123456); got != sig {
		t.Errorf("recomputed signature %s, URL has %s", got, sig)
	}
	for _, tc := range []struct {
		name        string
		contentType string
		length      int64
	}{
		{"one byte more", "image/jpeg", 123457},
		{"the document limit", "image/jpeg", babysitter.MaxDocumentSize},
		{"five gigabytes", "image/jpeg", babysitter.MaxBlobSize},
		{"another type", "text/html", 123456},
	} {
		if got := resign(tc.contentType, tc.length); got == sig {
			t.Errorf("%s: a request with Content-Type %s and Content-Length %d has the URL's signature", tc.name, tc.contentType, tc.length)
		}
	}
}

// stripSigned wraps the real presigner and drops content-length from the
// signed headers of what it returns, as a presigner that did not sign it
// would: PresignPut must refuse to hand out such a URL.
type stripSigned struct{ s3blobs.Presigner }

func (s stripSigned) PresignPutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.PresignOptions)) (*v4.PresignedHTTPRequest, error) {
	in.ContentLength = nil
	return s.Presigner.PresignPutObject(ctx, in, optFns...)
}

func TestPresignPutFailsClosed(t *testing.T) {
	client := testenv.S3Client(t)
	b := s3blobs.New(client, stripSigned{s3.NewPresignClient(client)}, "bucket-not-needed")
	put, _ := babysitter.NewUpload(babysitter.UploadPicture, "image/png", 1000)
	pr, err := b.PresignPut(t.Context(), put)
	if err == nil || !strings.Contains(err.Error(), "did not sign Content-Length") {
		t.Errorf("PresignPut with Content-Length unsigned = %+v, %v; want an error", pr, err)
	}
}

// countingAPI counts DeleteObjects calls and their sizes.
type countingAPI struct {
	s3blobs.API
	mu      sync.Mutex
	deletes []int
}

func (c *countingAPI) DeleteObjects(ctx context.Context, in *s3.DeleteObjectsInput, optFns ...func(*s3.Options)) (*s3.DeleteObjectsOutput, error) {
	c.mu.Lock()
	c.deletes = append(c.deletes, len(in.Delete.Objects))
	c.mu.Unlock()
	return c.API.DeleteObjects(ctx, in, optFns...)
}

// TestDeleteBatches: N keys take ⌈N/1000⌉ DeleteObjects calls; repeated
// keys are sent once; no keys, no call.
func TestDeleteBatches(t *testing.T) {
	client := testenv.S3Client(t)
	api := &countingAPI{API: client}
	b := newBucket(t, client, api)
	keys := make([]string, 0, 2502)
	for i := range 2501 {
		keys = append(keys, fmt.Sprintf("public/pictures/k%05d", i))
	}
	keys = append(keys, keys[0])
	if err := b.Delete(t.Context(), keys); err != nil {
		t.Fatal(err)
	}
	if err := b.Delete(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]int{1000, 1000, 501}, api.deletes); d != "" {
		t.Errorf("DeleteObjects sizes (-want +got):\n%s", d)
	}
}

// TestErrors: the SDK's errors map to the domain's and this package's.
func TestErrors(t *testing.T) {
	client := testenv.S3Client(t)
	missing := s3blobs.New(client, s3.NewPresignClient(client), testenv.BucketName(t, "missing"))
	err := missing.Delete(t.Context(), []string{"private/documents/x"})
	if !errors.Is(err, s3blobs.ErrBucketNotFound) {
		t.Errorf("Delete in a missing bucket: %v; want ErrBucketNotFound", err)
	}
	b := newBucket(t, client, nil)
	_, err = b.Stat(t.Context(), "private/documents/none")
	var be *babysitter.Error
	if !errors.Is(err, babysitter.ErrNotFound) || !errors.As(err, &be) || be.Err == nil {
		t.Errorf("Stat of a missing object: %v; want ErrNotFound with the SDK's cause", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := b.Stat(ctx, "private/documents/none"); !errors.Is(err, context.Canceled) || errors.Is(err, babysitter.ErrNotFound) {
		t.Errorf("Stat with a cancelled context: %v; want context.Canceled only", err)
	}
	if err := s3blobs.CreateBucket(t.Context(), client, b.Bucket()); err != nil {
		t.Errorf("CreateBucket of an existing bucket: %v; want nil (idempotent)", err)
	}
}
