package testenv

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/babysitter-go/babysitter"
	s3blobs "github.com/babysitter-go/babysitter/blob/s3"
	snsnotify "github.com/babysitter-go/babysitter/notify/sns"
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

// Bucket creates a fresh bucket (BucketName) with client, emptied and
// deleted when the test ends, and returns its name.
func Bucket(t testing.TB, client *s3.Client, prefix string) string {
	t.Helper()
	name := BucketName(t, prefix)
	if err := s3blobs.CreateBucket(t.Context(), client, name); err != nil {
		t.Fatalf("CreateBucket: %v", err)
	}
	t.Cleanup(func() { deleteBucket(t, client, name) })
	return name
}

// BucketKeys lists the keys of every object in a bucket, sorted: what a
// test checks was written or deleted.
func BucketKeys(t testing.TB, client *s3.Client, bucket string) []string {
	t.Helper()
	var keys []string
	p := s3.NewListObjectsV2Paginator(client, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	for p.HasMorePages() {
		out, err := p.NextPage(t.Context())
		if err != nil {
			t.Fatalf("ListObjectsV2 %s: %v", bucket, err)
		}
		for _, o := range out.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	slices.Sort(keys)
	return keys
}

// deleteBucket empties and deletes a test bucket.
func deleteBucket(t testing.TB, client *s3.Client, name string) {
	ctx := context.Background()
	out, err := client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(name)})
	if err != nil {
		t.Logf("cleanup: list %s: %v", name, err)
		return
	}
	var ids []s3types.ObjectIdentifier
	for _, o := range out.Contents {
		ids = append(ids, s3types.ObjectIdentifier{Key: o.Key})
	}
	if len(ids) > 0 {
		if _, err := client.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(name), Delete: &s3types.Delete{Objects: ids}}); err != nil {
			t.Logf("cleanup: empty %s: %v", name, err)
		}
	}
	if _, err := client.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Logf("cleanup: delete %s: %v", name, err)
	}
}

// Topic creates a fresh standard SNS topic, deleted when the test ends,
// and returns its ARN.
func Topic(t testing.TB, client *sns.Client) string {
	t.Helper()
	out, err := client.CreateTopic(t.Context(), &sns.CreateTopicInput{Name: aws.String(UniqueName(t, "topic"))})
	if err != nil {
		t.Fatalf("CreateTopic: %v", err)
	}
	t.Cleanup(func() {
		_, _ = client.DeleteTopic(context.Background(), &sns.DeleteTopicInput{TopicArn: out.TopicArn})
	})
	return aws.ToString(out.TopicArn)
}

// Subscription is an SQS queue subscribed to an SNS topic: what a
// subscriber of the notifications (an email sender, say) reads. It is a
// notifytest.Observer.
type Subscription struct {
	client *sqs.Client
	url    string
	raw    bool
}

// Subscribe creates a queue and subscribes it to the topic, with
// RawMessageDelivery when raw and filterPolicy unless it is empty. (On AWS
// the queue would also need a policy letting the topic send to it; fauxqs
// checks no permissions.)
func Subscribe(t testing.TB, snsClient *sns.Client, sqsClient *sqs.Client, topicARN string, raw bool, filterPolicy string) *Subscription {
	t.Helper()
	ctx := t.Context()
	q, err := sqsClient.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(UniqueName(t, "sub"))})
	if err != nil {
		t.Fatalf("CreateQueue: %v", err)
	}
	url := aws.ToString(q.QueueUrl)
	t.Cleanup(func() {
		_, _ = sqsClient.DeleteQueue(context.Background(), &sqs.DeleteQueueInput{QueueUrl: aws.String(url)})
	})
	attrs, err := sqsClient.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(url), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	})
	if err != nil {
		t.Fatal(err)
	}
	subAttrs := map[string]string{}
	if raw {
		subAttrs["RawMessageDelivery"] = "true"
	}
	if filterPolicy != "" {
		subAttrs["FilterPolicy"] = filterPolicy
	}
	if _, err := snsClient.Subscribe(ctx, &sns.SubscribeInput{
		TopicArn:   aws.String(topicARN),
		Protocol:   aws.String("sqs"),
		Endpoint:   aws.String(attrs.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]),
		Attributes: subAttrs,
	}); err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	return &Subscription{client: sqsClient, url: url, raw: raw}
}

// Delivery is one message a subscription received: the published body
// and message attributes (out of the SNS envelope without
// RawMessageDelivery).
type Delivery struct {
	Body       []byte
	Attributes map[string]string
}

// envelope is the SNS JSON envelope of a message delivered without
// RawMessageDelivery.
type envelope struct {
	Type              string
	Message           string
	MessageAttributes map[string]struct{ Type, Value string }
}

// Receive receives (one long poll of a second) and deletes what is there.
func (s *Subscription) Receive(t testing.TB) []Delivery {
	t.Helper()
	out, err := s.client.ReceiveMessage(t.Context(), &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(s.url), MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
		MessageAttributeNames: []string{"All"},
	})
	if err != nil {
		t.Fatalf("ReceiveMessage: %v", err)
	}
	var ds []Delivery
	var del []sqstypes.DeleteMessageBatchRequestEntry
	for i, m := range out.Messages {
		d := Delivery{Body: []byte(aws.ToString(m.Body)), Attributes: map[string]string{}}
		if s.raw {
			for k, v := range m.MessageAttributes {
				d.Attributes[k] = aws.ToString(v.StringValue)
			}
		} else {
			var env envelope
			if err := json.Unmarshal(d.Body, &env); err != nil || env.Type != "Notification" {
				t.Fatalf("not an SNS envelope (%v): %s", err, d.Body)
			}
			d.Body = []byte(env.Message)
			for k, v := range env.MessageAttributes {
				if v.Type != "String" {
					t.Errorf("attribute %s has type %s, want String", k, v.Type)
				}
				d.Attributes[k] = v.Value
			}
		}
		ds = append(ds, d)
		del = append(del, sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle})
	}
	if len(del) > 0 {
		if _, err := s.client.DeleteMessageBatch(t.Context(), &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(s.url), Entries: del}); err != nil {
			t.Fatalf("DeleteMessageBatch: %v", err)
		}
	}
	return ds
}

// Notification decodes a delivery as the notification it carries (no
// unknown field), and checks that its message attributes agree with it.
func Notification(t testing.TB, d Delivery) babysitter.Notification {
	t.Helper()
	var n babysitter.Notification
	dec := json.NewDecoder(bytes.NewReader(d.Body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&n); err != nil {
		t.Fatalf("body %s: %v", d.Body, err)
	}
	want := map[string]string{snsnotify.AttrType: string(n.Type), snsnotify.AttrEventID: n.ID, snsnotify.AttrVersion: babysitter.NotificationVersion}
	if !maps.Equal(want, d.Attributes) {
		t.Errorf("message attributes of %s: %v, want %v", n.ID, d.Attributes, want)
	}
	return n
}

// Published implements notifytest.Observer: it receives (and deletes)
// until n distinct notifications arrived, then receives once more so that
// an extra delivery shows.
func (s *Subscription) Published(t *testing.T, n int) []babysitter.Notification {
	t.Helper()
	var got []babysitter.Notification
	ids := map[string]bool{}
	receive := func() int {
		ds := s.Receive(t)
		for _, d := range ds {
			x := Notification(t, d)
			got = append(got, x)
			ids[x.ID] = true
		}
		return len(ds)
	}
	deadline := time.Now().Add(30 * time.Second)
	for len(ids) < n {
		if time.Now().After(deadline) {
			t.Fatalf("received %d of %d notifications in 30s", len(ids), n)
		}
		receive()
	}
	for receive() > 0 {
	}
	return got
}
