package testenv

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/go-cmp/cmp"
)

// TestDynamoDBRoundTrip checks the server end to end with the real SDK: a
// table goes ACTIVE and an item written is read back unchanged.
func TestDynamoDBRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	client := DynamoDBClient(t)
	table := UniqueName(t, "tbl")

	_, err := client.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(table),
		BillingMode:          ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}},
	})
	if err != nil {
		t.Fatalf("CreateTable: %v", err)
	}
	t.Cleanup(func() {
		if _, err := client.DeleteTable(context.WithoutCancel(ctx), &dynamodb.DeleteTableInput{TableName: aws.String(table)}); err != nil {
			t.Errorf("DeleteTable: %v", err)
		}
	})
	if err := dynamodb.NewTableExistsWaiter(client).Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)}, 30*time.Second); err != nil {
		t.Fatalf("table never became ACTIVE: %v", err)
	}
	desc, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatalf("DescribeTable: %v", err)
	}
	if got := desc.Table.TableStatus; got != ddbtypes.TableStatusActive {
		t.Fatalf("TableStatus = %q, want ACTIVE", got)
	}

	item := map[string]ddbtypes.AttributeValue{
		"pk":    &ddbtypes.AttributeValueMemberS{Value: "job#1"},
		"state": &ddbtypes.AttributeValueMemberS{Value: "running"},
		"tries": &ddbtypes.AttributeValueMemberN{Value: "3"},
		"tags":  &ddbtypes.AttributeValueMemberSS{Value: []string{"a", "b"}},
	}
	if _, err := client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}); err != nil {
		t.Fatalf("PutItem: %v", err)
	}
	got, err := client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(table),
		Key:            map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: "job#1"}},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatalf("GetItem: %v", err)
	}
	if diff := cmp.Diff(plainItem(item), plainItem(got.Item)); diff != "" {
		t.Errorf("GetItem returned a different item (-put +got):\n%s", diff)
	}

	// A conditional write that must fail proves we are talking to a real
	// DynamoDB engine, not something that accepts anything.
	_, err = client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:           aws.String(table),
		Item:                item,
		ConditionExpression: aws.String("attribute_not_exists(pk)"),
	})
	var ccf *ddbtypes.ConditionalCheckFailedException
	if !errors.As(err, &ccf) {
		t.Errorf("conditional PutItem on an existing item: err = %v, want ConditionalCheckFailedException", err)
	}
}

// TestSQSRoundTripAndRedrive sends a batch, receives and deletes it, and
// checks that a message received more than maxReceiveCount times lands in the
// dead-letter queue.
func TestSQSRoundTripAndRedrive(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	client := SQSClient(t)

	dlqURL := createQueue(t, client, UniqueName(t, "dlq"), nil)
	attrs, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(dlqURL),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	})
	if err != nil {
		t.Fatalf("GetQueueAttributes(DLQ): %v", err)
	}
	dlqARN := attrs.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]
	if !strings.HasPrefix(dlqARN, "arn:aws:sqs:") {
		t.Fatalf("DLQ ARN = %q", dlqARN)
	}
	redrive, err := json.Marshal(map[string]any{"deadLetterTargetArn": dlqARN, "maxReceiveCount": 1})
	if err != nil {
		t.Fatal(err)
	}
	queueURL := createQueue(t, client, UniqueName(t, "q"), map[string]string{
		string(sqstypes.QueueAttributeNameRedrivePolicy):     string(redrive),
		string(sqstypes.QueueAttributeNameVisibilityTimeout): "30",
	})
	got, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(queueURL),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameRedrivePolicy},
	})
	if err != nil {
		t.Fatalf("GetQueueAttributes: %v", err)
	}
	var policy struct {
		DeadLetterTargetArn string
		MaxReceiveCount     json.Number
	}
	if err := json.Unmarshal([]byte(got.Attributes["RedrivePolicy"]), &policy); err != nil {
		t.Fatalf("RedrivePolicy %q: %v", got.Attributes["RedrivePolicy"], err)
	}
	if policy.DeadLetterTargetArn != dlqARN || policy.MaxReceiveCount.String() != "1" {
		t.Fatalf("RedrivePolicy = %+v, want DLQ %s with maxReceiveCount 1", policy, dlqARN)
	}

	// Send a batch of three.
	bodies := []string{"one", "two", "three"}
	var entries []sqstypes.SendMessageBatchRequestEntry
	for i, b := range bodies {
		entries = append(entries, sqstypes.SendMessageBatchRequestEntry{
			Id:          aws.String("m" + strconv.Itoa(i)),
			MessageBody: aws.String(b),
			MessageAttributes: map[string]sqstypes.MessageAttributeValue{
				"kind": {DataType: aws.String("String"), StringValue: aws.String("smoke")},
			},
		})
	}
	sent, err := client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(queueURL), Entries: entries})
	if err != nil {
		t.Fatalf("SendMessageBatch: %v", err)
	}
	if len(sent.Failed) != 0 || len(sent.Successful) != len(bodies) {
		t.Fatalf("SendMessageBatch: %d successful, failed %+v", len(sent.Successful), sent.Failed)
	}

	// Receive all three.
	msgs := receiveAll(t, client, queueURL, len(bodies))
	var gotBodies []string
	for _, m := range msgs {
		gotBodies = append(gotBodies, aws.ToString(m.Body))
		if kind := m.MessageAttributes["kind"]; aws.ToString(kind.StringValue) != "smoke" {
			t.Errorf("message %q: attribute kind = %+v, want smoke", aws.ToString(m.Body), kind)
		}
	}
	slices.Sort(gotBodies)
	if diff := cmp.Diff([]string{"one", "three", "two"}, gotBodies); diff != "" {
		t.Fatalf("received bodies (-want +got):\n%s", diff)
	}

	// Delete "one" and "two" in a batch; make "three" visible again at once.
	var del []sqstypes.DeleteMessageBatchRequestEntry
	var three sqstypes.Message
	for i, m := range msgs {
		if aws.ToString(m.Body) == "three" {
			three = m
			continue
		}
		del = append(del, sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String("d" + strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle})
	}
	deleted, err := client.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(queueURL), Entries: del})
	if err != nil {
		t.Fatalf("DeleteMessageBatch: %v", err)
	}
	if len(deleted.Failed) != 0 || len(deleted.Successful) != 2 {
		t.Fatalf("DeleteMessageBatch: %d successful, failed %+v", len(deleted.Successful), deleted.Failed)
	}
	if _, err := client.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
		QueueUrl: aws.String(queueURL), ReceiptHandle: three.ReceiptHandle, VisibilityTimeout: 0,
	}); err != nil {
		t.Fatalf("ChangeMessageVisibility: %v", err)
	}

	// "three" has been received once = maxReceiveCount, so the next receive
	// moves it to the DLQ instead of returning it.
	again, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(queueURL), MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
	})
	if err != nil {
		t.Fatalf("ReceiveMessage: %v", err)
	}
	if len(again.Messages) != 0 {
		t.Fatalf("main queue still returned %d messages, first %q; want none", len(again.Messages), aws.ToString(again.Messages[0].Body))
	}
	dead := receiveAll(t, client, dlqURL, 1)
	if got := aws.ToString(dead[0].Body); got != "three" {
		t.Errorf("DLQ message body = %q, want three", got)
	}
	if got := aws.ToString(dead[0].MessageId); got != aws.ToString(three.MessageId) {
		t.Errorf("DLQ message id = %q, want the original %q", got, aws.ToString(three.MessageId))
	}
}

// createQueue creates a queue and deletes it when the test ends.
func createQueue(t *testing.T, client *sqs.Client, name string, attrs map[string]string) string {
	t.Helper()
	out, err := client.CreateQueue(t.Context(), &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	if err != nil {
		t.Fatalf("CreateQueue(%s): %v", name, err)
	}
	url := aws.ToString(out.QueueUrl)
	if !strings.HasSuffix(url, "/"+name) {
		t.Fatalf("CreateQueue(%s) returned URL %q", name, url)
	}
	t.Cleanup(func() {
		if _, err := client.DeleteQueue(context.WithoutCancel(t.Context()), &sqs.DeleteQueueInput{QueueUrl: aws.String(url)}); err != nil {
			t.Errorf("DeleteQueue(%s): %v", name, err)
		}
	})
	return url
}

// receiveAll long-polls until it has n messages, failing after 10 s.
func receiveAll(t *testing.T, client *sqs.Client, queueURL string, n int) []sqstypes.Message {
	t.Helper()
	var msgs []sqstypes.Message
	deadline := time.Now().Add(10 * time.Second)
	for len(msgs) < n && time.Now().Before(deadline) {
		out, err := client.ReceiveMessage(t.Context(), &sqs.ReceiveMessageInput{
			QueueUrl:              aws.String(queueURL),
			MaxNumberOfMessages:   10,
			WaitTimeSeconds:       1,
			MessageAttributeNames: []string{"All"},
		})
		if err != nil {
			t.Fatalf("ReceiveMessage: %v", err)
		}
		msgs = append(msgs, out.Messages...)
	}
	if len(msgs) != n {
		t.Fatalf("received %d messages from %s, want %d", len(msgs), queueURL, n)
	}
	return msgs
}

// plainItem turns an item into plain Go values that cmp can compare.
func plainItem(item map[string]ddbtypes.AttributeValue) map[string]any {
	out := make(map[string]any, len(item))
	for k, v := range item {
		switch v := v.(type) {
		case *ddbtypes.AttributeValueMemberS:
			out[k] = "S:" + v.Value
		case *ddbtypes.AttributeValueMemberN:
			out[k] = "N:" + v.Value
		case *ddbtypes.AttributeValueMemberSS:
			ss := slices.Clone(v.Value)
			slices.Sort(ss)
			out[k] = ss
		default:
			out[k] = fmt.Sprintf("%T", v)
		}
	}
	return out
}

var validName = regexp.MustCompile(`^[A-Za-z0-9_-]{3,75}$`)

func TestUniqueName(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 200)
	seen := sync.Map{}
	var wg sync.WaitGroup
	for _, prefix := range []string{"jobs", "", "with space/and.dots", long, "ünïcode"} {
		for range 50 {
			wg.Go(func() {
				name := UniqueName(t, prefix)
				if !validName.MatchString(name) {
					t.Errorf("UniqueName(%q) = %q: not a valid table and queue name", prefix, name)
				}
				if _, dup := seen.LoadOrStore(name, true); dup {
					t.Errorf("UniqueName(%q) returned %q twice", prefix, name)
				}
			})
		}
	}
	wg.Wait()
	if name := UniqueName(t, "jobs"); !strings.HasPrefix(name, "jobs-TestUniqueName-") {
		t.Errorf("UniqueName(jobs) = %q, want it to start with the prefix and test name", name)
	}
}

func TestModuleRoot(t *testing.T) {
	t.Parallel()
	root, err := ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	// go test runs this in internal/testenv, two levels below the root.
	want, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if root != want {
		t.Errorf("ModuleRoot() = %q, want %q", root, want)
	}
}

// fakeTB records how a test would have ended, without ending this one.
type fakeTB struct {
	testing.TB
	mu      sync.Mutex
	skipped string
	failed  string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Skip(args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.skipped = fmt.Sprint(args...)
}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failed = fmt.Sprintf(format, args...)
}

// TestUnavailableFailsInCI: without a server, a test skips on a laptop but
// fails in CI, so CI can never pass by skipping every integration test.
func TestUnavailableFailsInCI(t *testing.T) {
	for _, tc := range []struct {
		ci       string
		wantFail bool
	}{{"true", true}, {"1", true}, {"", false}, {"false", false}} {
		t.Setenv("CI", tc.ci)
		f := &fakeTB{TB: t}
		unavailable(f, "no server")
		if gotFail := f.failed != ""; gotFail != tc.wantFail || (f.skipped == "") != tc.wantFail {
			t.Errorf("CI=%q: failed=%q skipped=%q, want fail=%v", tc.ci, f.failed, f.skipped, tc.wantFail)
		}
	}
}

// TestConfiguredEndpointMustAnswer: an endpoint variable pointing at a
// closed port fails the test whatever CI says, rather than skipping or
// letting every test time out.
func TestConfiguredEndpointMustAnswer(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	l.Close()

	t.Setenv("CI", "")
	t.Setenv(EnvDynamoDBEndpoint, closed)
	t.Setenv(EnvSQSEndpoint, closed)
	for name, get := range map[string]func(testing.TB) string{"DynamoDBEndpoint": DynamoDBEndpoint, "SQSEndpoint": SQSEndpoint} {
		f := &fakeTB{TB: t}
		get(f)
		if f.failed == "" || f.skipped != "" {
			t.Errorf("%s with %s closed: failed=%q skipped=%q, want a failure", name, closed, f.failed, f.skipped)
		}
	}
}

// TestStartStop starts and stops private servers through the low-level API
// and checks that stop really ends them. It needs `npm ci` and Java; without
// them it skips, or fails in CI.
func TestStartStop(t *testing.T) {
	t.Parallel()
	root, err := ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []*server{dynamoDBServer, sqsServer} {
		t.Run(s.service, func(t *testing.T) {
			t.Parallel()
			if err := s.localMissing(root); err != nil {
				unavailable(t, fmt.Sprintf("cannot start %s locally: %v. %s", s.service, err, s.howTo))
			}
			start := time.Now()
			endpoint, stop, err := s.startLocal(t.Context(), root)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s answered at %s after %v", s.service, endpoint, time.Since(start).Round(time.Millisecond))
			if err := stop(); err != nil {
				t.Fatalf("stop: %v", err)
			}
			if err := stop(); err != nil {
				t.Fatalf("second stop: %v", err)
			}
			ctx, cancel := context.WithTimeout(t.Context(), time.Second)
			defer cancel()
			if err := reachable(ctx, endpoint); err == nil {
				t.Errorf("%s still accepts connections at %s after stop", s.service, endpoint)
			}
		})
	}
}
