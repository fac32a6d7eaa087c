// Package s3 is the Amazon S3 backend of babysitter.Blobs: one bucket,
// uploads and admin reads through SigV4 presigned URLs made by the SDK's
// presigner, Stat as HeadObject, Delete as DeleteObjects.
//
// # Why a presigned PUT
//
// A presigned PUT signs the Content-Type and the Content-Length headers
// (X-Amz-SignedHeaders=content-length;content-type;host): S3 refuses the
// upload unless the client sends exactly the type and the number of bytes
// the Service allowed, so the size limit is enforced by the signature
// itself. The client declares the size up front, which every client that
// uploads a file knows. A presigned POST with a content-length-range policy
// would allow a range instead, but needs a multipart form upload on the
// client and a policy document; one PUT with two headers is simpler to
// use from an app or fetch(), and Stat confirms the stored size anyway.
// PresignPut fails closed: if the signed headers ever lacked either
// header, it returns an error instead of a URL without a limit.
//
// Round trips: PresignPut and PresignGet make no request (signing is
// local); Stat is one HeadObject; Delete of N keys is ⌈N/1000⌉
// DeleteObjects calls. Throttling and 5xx responses are retried by the
// SDK client's retryer.
//
// A presigned URL made with temporary credentials (a Lambda role) stops
// working when those credentials expire, even before its own expiry.
//
// It passes blob/blobtest against fauxqs's S3, once directly and once
// through a proxy that verifies SigV4 presigned signatures as S3 does
// (fauxqs checks none).
package s3

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/babysitter-go/babysitter"
)

// maxDeleteKeys is S3's limit of keys per DeleteObjects request.
const maxDeleteKeys = 1000

// API is the part of the S3 client Blobs calls; *s3.Client implements it,
// and so does a wrapped or instrumented client.
type API interface {
	HeadObject(ctx context.Context, in *s3.HeadObjectInput, optFns ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
	DeleteObjects(ctx context.Context, in *s3.DeleteObjectsInput, optFns ...func(*s3.Options)) (*s3.DeleteObjectsOutput, error)
}

// Presigner is the part of the SDK's presign client Blobs calls;
// *s3.PresignClient (s3.NewPresignClient) implements it.
type Presigner interface {
	PresignPutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.PresignOptions)) (*v4.PresignedHTTPRequest, error)
	PresignGetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.PresignOptions)) (*v4.PresignedHTTPRequest, error)
}

// CreateBucketAPI is what CreateBucket calls: CreateBucket, and Options
// for the client's region. *s3.Client implements it.
type CreateBucketAPI interface {
	CreateBucket(ctx context.Context, in *s3.CreateBucketInput, optFns ...func(*s3.Options)) (*s3.CreateBucketOutput, error)
	Options() s3.Options
}

// The SDK's clients implement the interfaces.
var (
	_ API             = (*s3.Client)(nil)
	_ CreateBucketAPI = (*s3.Client)(nil)
	_ Presigner       = (*s3.PresignClient)(nil)
)

// Blobs is one S3 bucket as a babysitter.Blobs. It is safe for concurrent
// use.
type Blobs struct {
	client    API
	presigner Presigner
	bucket    string
}

var _ babysitter.Blobs = (*Blobs)(nil)

// New returns the bucket named bucket, reached through client and signed
// for by presigner (usually s3.NewPresignClient of the same client). The
// client carries the region, credentials, endpoint, addressing style and
// retry policy; the presigned URLs point where the client would send.
func New(client API, presigner Presigner, bucket string) *Blobs {
	return &Blobs{client: client, presigner: presigner, bucket: bucket}
}

// Bucket returns the bucket's name.
func (b *Blobs) Bucket() string { return b.bucket }

// PresignPut implements babysitter.Blobs: a PUT whose signature covers the
// Content-Type and the exact Content-Length.
func (b *Blobs) PresignPut(ctx context.Context, put babysitter.BlobPut) (babysitter.PresignedRequest, error) {
	if err := babysitter.CheckBlobPut(put); err != nil {
		return babysitter.PresignedRequest{}, fmt.Errorf("s3: presign PUT: %w", err)
	}
	req, err := b.presigner.PresignPutObject(ctx, &s3.PutObjectInput{
		Bucket:        aws.String(b.bucket),
		Key:           aws.String(put.Key),
		ContentType:   aws.String(put.ContentType),
		ContentLength: aws.Int64(put.ContentLength),
	}, s3.WithPresignExpires(put.Expires))
	if err != nil {
		return babysitter.PresignedRequest{}, b.wrap(ctx, "presign PUT "+put.Key, err)
	}
	pr, err := presigned(req, put.Expires)
	if err != nil {
		return babysitter.PresignedRequest{}, fmt.Errorf("s3: presign PUT %s: %w", put.Key, err)
	}
	// Fail closed: without both headers signed, S3 would take any type and
	// any size.
	want := map[string]string{"Content-Type": put.ContentType, "Content-Length": strconv.FormatInt(put.ContentLength, 10)}
	for h, v := range want {
		if pr.Headers[h] != v || !slices.Contains(signedHeaders(pr.URL), strings.ToLower(h)) {
			return babysitter.PresignedRequest{}, fmt.Errorf("s3: presign PUT %s: the presigner did not sign %s: %s (signed: %v)", put.Key, h, v, signedHeaders(pr.URL))
		}
	}
	return pr, nil
}

// PresignGet implements babysitter.Blobs.
func (b *Blobs) PresignGet(ctx context.Context, key string, expires time.Duration) (babysitter.PresignedRequest, error) {
	if err := babysitter.CheckPresignGet(key, expires); err != nil {
		return babysitter.PresignedRequest{}, fmt.Errorf("s3: presign GET: %w", err)
	}
	req, err := b.presigner.PresignGetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String(b.bucket),
		Key:    aws.String(key),
	}, s3.WithPresignExpires(expires))
	if err != nil {
		return babysitter.PresignedRequest{}, b.wrap(ctx, "presign GET "+key, err)
	}
	pr, err := presigned(req, expires)
	if err != nil {
		return babysitter.PresignedRequest{}, fmt.Errorf("s3: presign GET %s: %w", key, err)
	}
	return pr, nil
}

// presigned converts the SDK's presigned request: its signed headers but
// Host (the URL's), and its expiry from X-Amz-Date + X-Amz-Expires.
func presigned(req *v4.PresignedHTTPRequest, valid time.Duration) (babysitter.PresignedRequest, error) {
	u, err := url.Parse(req.URL)
	if err != nil {
		return babysitter.PresignedRequest{}, err
	}
	signedAt, err := time.Parse("20060102T150405Z", u.Query().Get("X-Amz-Date"))
	if err != nil {
		return babysitter.PresignedRequest{}, fmt.Errorf("presigned URL without a valid X-Amz-Date: %w", err)
	}
	pr := babysitter.PresignedRequest{Method: req.Method, URL: req.URL, Expires: signedAt.Add(valid)}
	for k, vs := range req.SignedHeader {
		k = http.CanonicalHeaderKey(k)
		if k == "Host" || len(vs) == 0 {
			continue
		}
		if pr.Headers == nil {
			pr.Headers = map[string]string{}
		}
		pr.Headers[k] = strings.Join(vs, ",")
	}
	return pr, nil
}

// signedHeaders lists a presigned URL's X-Amz-SignedHeaders.
func signedHeaders(rawURL string) []string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil
	}
	return strings.Split(u.Query().Get("X-Amz-SignedHeaders"), ";")
}

// Stat implements babysitter.Blobs with one HeadObject.
func (b *Blobs) Stat(ctx context.Context, key string) (babysitter.BlobInfo, error) {
	if err := babysitter.CheckBlobKey(key); err != nil {
		return babysitter.BlobInfo{}, fmt.Errorf("s3: stat: %w", err)
	}
	out, err := b.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(key)})
	if err != nil {
		return babysitter.BlobInfo{}, b.wrap(ctx, "stat "+key, err)
	}
	return babysitter.BlobInfo{
		Key:          key,
		Size:         aws.ToInt64(out.ContentLength),
		ContentType:  aws.ToString(out.ContentType),
		LastModified: aws.ToTime(out.LastModified).UTC(),
	}, nil
}

// Delete implements babysitter.Blobs with DeleteObjects requests of up to
// 1000 keys (quiet: S3 reports only the keys it failed to delete; a
// missing key is a success). Keys that S3 refuses are named in the error
// after every request was tried; a request that fails as a whole (after
// the client's retries) stops Delete.
func (b *Blobs) Delete(ctx context.Context, keys []string) error {
	if err := babysitter.CheckBlobKeys(keys); err != nil {
		return fmt.Errorf("s3: delete: %w", err)
	}
	keys = slices.Compact(slices.Sorted(slices.Values(keys)))
	var failed []string
	for chunk := range slices.Chunk(keys, maxDeleteKeys) {
		ids := make([]types.ObjectIdentifier, len(chunk))
		for i, k := range chunk {
			ids[i] = types.ObjectIdentifier{Key: aws.String(k)}
		}
		out, err := b.client.DeleteObjects(ctx, &s3.DeleteObjectsInput{
			Bucket: aws.String(b.bucket),
			Delete: &types.Delete{Objects: ids, Quiet: aws.Bool(true)},
		})
		if err != nil {
			return b.wrap(ctx, fmt.Sprintf("delete %d objects", len(chunk)), err)
		}
		for _, e := range out.Errors {
			if aws.ToString(e.Code) == "NoSuchKey" {
				continue
			}
			failed = append(failed, fmt.Sprintf("%s: %s: %s", aws.ToString(e.Key), aws.ToString(e.Code), aws.ToString(e.Message)))
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("s3: delete from %s: %d of %d objects not deleted: %s", b.bucket, len(failed), len(keys), strings.Join(failed, "; "))
	}
	return nil
}

// ---- errors ----

// ErrBucketNotFound matches (errors.Is) the error of a call on a bucket
// that does not exist, where S3 says so (HeadObject cannot: its 404 has no
// body, so it reads as a missing object).
var ErrBucketNotFound = errors.New("s3: bucket does not exist")

// wrap is the one place SDK errors become this package's: a call cut short
// by ctx reports ctx's error; a missing object matches
// babysitter.ErrNotFound; a missing bucket ErrBucketNotFound; the SDK's
// error stays reachable with errors.As (smithy.APIError …).
func (b *Blobs) wrap(ctx context.Context, what string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("s3: %s in %s: %w", what, b.bucket, ctxErr)
	}
	var api smithy.APIError
	var noKey *types.NoSuchKey
	var notFound *types.NotFound
	var noBucket *types.NoSuchBucket
	switch {
	case errors.As(err, &noBucket) || errors.As(err, &api) && api.ErrorCode() == "NoSuchBucket":
		return fmt.Errorf("s3: %s: %w: %w", what, ErrBucketNotFound, err)
	case errors.As(err, &noKey) || errors.As(err, &notFound):
		return &babysitter.Error{Kind: babysitter.ErrNotFound, Msg: fmt.Sprintf("s3: %s in %s", what, b.bucket), Err: err}
	}
	return fmt.Errorf("s3: %s in %s: %w", what, b.bucket, err)
}

// ---- creating buckets ----

// CreateBucket creates the bucket name in the client's region, for tests
// and local development; deployments declare the bucket (private,
// encrypted, public access blocked but for the picture prefix) in their
// template. Like S3's CreateBucket in us-east-1 it is idempotent: a bucket
// the caller already owns is not an error.
func CreateBucket(ctx context.Context, client CreateBucketAPI, name string) error {
	in := &s3.CreateBucketInput{Bucket: aws.String(name)}
	if r := client.Options().Region; r != "" && r != "us-east-1" {
		in.CreateBucketConfiguration = &types.CreateBucketConfiguration{LocationConstraint: types.BucketLocationConstraint(r)}
	}
	_, err := client.CreateBucket(ctx, in)
	var owned *types.BucketAlreadyOwnedByYou
	if err != nil && !errors.As(err, &owned) {
		return fmt.Errorf("s3: create bucket %s: %w", name, err)
	}
	return nil
}
