package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/babysitter-go/babysitter/internal/testenv"
)

// awsEnv points the SDK's default configuration — what the server loads —
// at the local servers with dummy credentials, and away from anything on
// the machine: no ~/.aws files, no instance metadata.
func awsEnv(t *testing.T) {
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", testenv.DynamoDBEndpoint(t))
	t.Setenv("AWS_ENDPOINT_URL_SQS", testenv.SQSEndpoint(t))
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

	// Created as asked, the same command starts and serves.
	cfg, err := parseConfig([]string{"-addr", "127.0.0.1:0", "-table", table, "-queue-url", queueURL, "-create-queue"}, env(key), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
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
	cancel()
	if err := <-done; err != nil {
		t.Errorf("serve returned %v", err)
	}
}
