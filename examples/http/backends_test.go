package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/babysitter-go/babysitter"
	"github.com/babysitter-go/babysitter/blob/blobtest"
	"github.com/babysitter-go/babysitter/internal/testenv"
	"github.com/babysitter-go/babysitter/transport/httpapi/jwtauth"
)

// awsEnv points the SDK's default configuration — what the server loads —
// at the local servers with dummy credentials, and away from anything on
// the machine: no ~/.aws files, no instance metadata.
func awsEnv(t *testing.T) {
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", testenv.DynamoDBEndpoint(t))
	t.Setenv("AWS_ENDPOINT_URL_SQS", testenv.SQSEndpoint(t))
	t.Setenv("AWS_ENDPOINT_URL_S3", testenv.S3Endpoint(t))
	t.Setenv("AWS_ENDPOINT_URL_SNS", testenv.SNSEndpoint(t))
	t.Setenv("AWS_REGION", testenv.Region)
	t.Setenv("AWS_ACCESS_KEY_ID", "testenv")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testenv")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	for _, v := range []string{"AWS_PROFILE", "AWS_DEFAULT_REGION", "AWS_SESSION_TOKEN", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_WEB_IDENTITY_TOKEN_FILE"} {
		t.Setenv(v, "")
		os.Unsetenv(v)
	}
}

// TestAWSModeStartupChecks: in DynamoDB + SQS mode the server checks the
// credentials, the table and its indexes, and the queue before it
// listens, and refuses to start with a message that names the fix (issue
// 15: it used to log "listening", then answer 500 or loop on receive
// errors). With -create-table and -create-queue it starts.
func TestAWSModeStartupChecks(t *testing.T) {
	awsEnv(t)
	ctx := t.Context()
	table, queue := testenv.UniqueName(t, "start"), testenv.UniqueName(t, "start")
	queueURL := os.Getenv("AWS_ENDPOINT_URL_SQS") + "/000000000000/" + queue
	bare := testenv.UniqueName(t, "bare") // a table without the indexes
	ddb := testenv.DynamoDBClient(t)
	if _, err := ddb.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(bare),
		BillingMode:          ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("PK"), AttributeType: ddbtypes.ScalarAttributeTypeS}, {AttributeName: aws.String("SK"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("PK"), KeyType: ddbtypes.KeyTypeHash}, {AttributeName: aws.String("SK"), KeyType: ddbtypes.KeyTypeRange}},
	}); err != nil {
		t.Fatal(err)
	}
	key := map[string]string{"BABYSITTER_DEV_KEY": testKey}
	start := func(args ...string) string {
		t.Helper()
		var stderr bytes.Buffer
		if code := run(ctx, append([]string{"-addr", "127.0.0.1:0"}, args...), env(key), io.Discard, &stderr); code != 1 {
			t.Fatalf("%q: exit %d, want 1; log:\n%s", args, code, stderr.String())
		}
		if strings.Contains(stderr.String(), `"listening"`) {
			t.Errorf("%q: listened before failing:\n%s", args, stderr.String())
		}
		return stderr.String()
	}
	has := func(name, log string, want ...string) {
		t.Helper()
		for _, w := range want {
			if !strings.Contains(log, w) {
				t.Errorf("%s: log lacks %q:\n%s", name, w, log)
			}
		}
	}
	has("no table", start("-table", table, "-queue-url", queueURL), "does not exist", "-create-table")
	has("bare table", start("-table", bare, "-queue-url", queueURL), "lacks the indexes byUser, byStatus, byCell")
	has("no queue", start("-table", table, "-create-table", "-queue-url", queueURL), "does not exist", "-create-queue")
	has("not a queue URL", start("-table", table, "-queue-url", queue), "is not a queue URL", "/000000000000/<name>")

	t.Setenv("AWS_REGION", "")
	has("no region", start("-table", table, "-queue-url", queueURL), "no AWS region", "AWS_REGION")
	t.Setenv("AWS_REGION", testenv.Region)
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	has("no credentials", start("-table", table, "-queue-url", queueURL), "no AWS credentials", "AWS_ACCESS_KEY_ID")
	t.Setenv("AWS_ACCESS_KEY_ID", "testenv")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testenv")

	// The bucket and the topic are checked too.
	bucket := testenv.BucketName(t, "start")
	topicARN := "arn:aws:sns:" + testenv.Region + ":000000000000:" + testenv.UniqueName(t, "start")
	aws := []string{"-table", table, "-queue-url", queueURL, "-create-queue"}
	has("no bucket", start(append(aws, "-bucket", bucket)...), bucket, "-create-bucket")
	has("no topic", start(append(aws, "-bucket", bucket, "-create-bucket", "-topic-arn", topicARN)...), topicARN, "-create-topic")

	// Created as asked, the same command starts and serves: an identity
	// document goes to the bucket through a presigned PUT.
	cfg, err := parseConfig(append(aws, "-addr", "127.0.0.1:0", "-bucket", bucket, "-topic-arn", topicARN, "-create-topic"), env(key), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emptyBucket(t, bucket) })
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	base, done := startServe(t, cctx, cfg, slog.New(slog.DiscardHandler))
	resp, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("readyz %d", resp.StatusCode)
	}
	uploadToBucket(t, base, bucket)
	cancel()
	if err := <-done; err != nil {
		t.Errorf("serve returned %v", err)
	}
}

// uploadToBucket creates an account on the server at api and uploads an
// identity document through its presigned PUT, and checks that the object
// landed in the bucket.
func uploadToBucket(t *testing.T, api, bucket string) {
	t.Helper()
	tok, err := jwtauth.MintDevToken(testKey, "sam", []string{"nanny"}, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	call := func(method, path string, body any, out any) {
		t.Helper()
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest(method, api+path, bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		if resp.StatusCode/100 != 2 {
			t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, raw)
		}
		if out != nil {
			if err := json.Unmarshal(raw, out); err != nil {
				t.Fatal(err)
			}
		}
	}
	call("POST", "/v1/users", map[string]any{"username": "sam", "email": "sam@example.com", "type": "NANNY", "firstName": "Sam", "lastName": "S", "dateOfBirth": "1990-01-01"}, nil)
	doc := []byte("%PDF-1.7 sam")
	var ticket babysitter.UploadTicket
	call("POST", "/v1/users/sam/uploads", map[string]any{"kind": "document", "contentType": "application/pdf", "contentLength": len(doc)}, &ticket)
	if resp, err := blobtest.Do(t.Context(), http.DefaultClient, ticket.Request, doc); err != nil || resp.Status != http.StatusOK {
		t.Fatalf("PUT: %+v, %v", resp, err)
	}
	var u babysitter.User
	call("POST", "/v1/users/sam/uploads/"+ticket.Upload.ID+"/confirm", nil, &u)
	if keys := testenv.BucketKeys(t, testenv.S3Client(t), bucket); len(u.Documents) != 1 || !slices.Contains(keys, ticket.Upload.Key()) {
		t.Errorf("after the upload: documents %+v, bucket %v", u.Documents, keys)
	}
}

// emptyBucket deletes what the test left in a bucket the server created.
func emptyBucket(t *testing.T, bucket string) {
	ctx, client := context.Background(), testenv.S3Client(t)
	if out, err := client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)}); err == nil {
		for _, o := range out.Contents {
			_, _ = client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: o.Key})
		}
	}
	_, _ = client.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(bucket)})
}
