package testenv

import (
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
)

// More endpoint variables of the SDKs. fauxqs serves S3 and SNS on its SQS
// port, so without them the S3 and SNS clients go to SQSEndpoint.
const (
	EnvS3Endpoint  = "AWS_ENDPOINT_URL_S3"
	EnvSNSEndpoint = "AWS_ENDPOINT_URL_SNS"
)

// S3Endpoint returns AWS_ENDPOINT_URL_S3 if set, else SQSEndpoint(t): the
// fauxqs that serves SQS serves S3 too.
func S3Endpoint(t testing.TB) string {
	t.Helper()
	if e := os.Getenv(EnvS3Endpoint); e != "" {
		return e
	}
	return SQSEndpoint(t)
}

// SNSEndpoint is S3Endpoint for SNS.
func SNSEndpoint(t testing.TB) string {
	t.Helper()
	if e := os.Getenv(EnvSNSEndpoint); e != "" {
		return e
	}
	return SQSEndpoint(t)
}

// S3Client returns an S3 client for S3Endpoint(t) with path-style
// addressing (http://127.0.0.1:PORT/bucket/key: a local server has no
// per-bucket host names), AWSConfig's region and credentials. optFns are
// applied after.
func S3Client(t testing.TB, optFns ...func(*s3.Options)) *s3.Client {
	t.Helper()
	endpoint := S3Endpoint(t)
	local := func(o *s3.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		o.UsePathStyle = true
	}
	return s3.NewFromConfig(AWSConfig(), append([]func(*s3.Options){local}, optFns...)...)
}

// SNSClient returns an SNS client for SNSEndpoint(t), with AWSConfig's
// region and credentials. optFns are applied after the endpoint is set.
func SNSClient(t testing.TB, optFns ...func(*sns.Options)) *sns.Client {
	t.Helper()
	endpoint := SNSEndpoint(t)
	setEndpoint := func(o *sns.Options) { o.BaseEndpoint = aws.String(endpoint) }
	return sns.NewFromConfig(AWSConfig(), append([]func(*sns.Options){setEndpoint}, optFns...)...)
}

// BucketName is UniqueName made a valid S3 bucket name: lowercase letters,
// digits and '-', at most 63 characters, starting and ending with a letter
// or digit.
func BucketName(t testing.TB, prefix string) string {
	t.Helper()
	name := strings.ToLower(strings.ReplaceAll(UniqueName(t, prefix), "_", "-"))
	if len(name) > 63 {
		// Keep the unique tail (random digits and counter).
		name = name[len(name)-63:]
	}
	return strings.Trim(name, "-")
}
