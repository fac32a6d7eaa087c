package awsotel_test

import (
	"context"
	"net/http"
	"path"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/go-cmp/cmp"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/babysitter-go/babysitter"
	"github.com/babysitter-go/babysitter/blob/blobtest"
	s3blobs "github.com/babysitter-go/babysitter/blob/s3"
	"github.com/babysitter-go/babysitter/internal/testenv"
	snsnotify "github.com/babysitter-go/babysitter/notify/sns"
	sqsqueue "github.com/babysitter-go/babysitter/queue/sqs"
	"github.com/babysitter-go/babysitter/store/dynamodb"
	"github.com/babysitter-go/babysitter/telemetry/awsotel"
)

// spanOf is what the test compares of a span: its name, kind, parent and
// the attributes this package and the SDK set.
type spanOf struct {
	Name   string
	Kind   trace.SpanKind
	Parent string
	Attrs  map[string]string
}

func summarize(spans tracetest.SpanStubs, keys ...string) []spanOf {
	var out []spanOf
	for _, s := range spans {
		got := spanOf{Name: s.Name, Kind: s.SpanKind, Parent: s.Parent.SpanID().String(), Attrs: map[string]string{}}
		for _, kv := range s.Attributes {
			if slices.Contains(keys, string(kv.Key)) {
				got.Attrs[string(kv.Key)] = kv.Value.String()
			}
		}
		out = append(out, got)
	}
	return out
}

// On DynamoDB Local and fauxqs: one client span per call, the child of
// the caller's span, with the table (and index) or the queue; none of the
// SDK's internal spans.
func TestSpansOnRealServers(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	ctx := t.Context()

	ddb := testenv.DynamoDBClient(t, awsotel.DynamoDB(tp))
	table := testenv.UniqueName(t, "awsotel")
	if err := dynamodb.CreateTable(ctx, testenv.DynamoDBClient(t), table); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = testenv.DynamoDBClient(t).DeleteTable(context.Background(), &awsddb.DeleteTableInput{TableName: aws.String(table)})
	})
	sqsClient := testenv.SQSClient(t, awsotel.SQS(tp))
	queueURL, _, err := sqsqueue.CreateQueue(ctx, testenv.SQSClient(t), testenv.UniqueName(t, "awsotel"), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = testenv.SQSClient(t).DeleteQueue(context.Background(), &sqs.DeleteQueueInput{QueueUrl: aws.String(queueURL)})
	})

	ctx, parent := tp.Tracer("test").Start(ctx, "caller")
	key := map[string]ddbtypes.AttributeValue{"PK": &ddbtypes.AttributeValueMemberS{Value: "k"}, "SK": &ddbtypes.AttributeValueMemberS{Value: "k"}}
	if _, err := ddb.TransactWriteItems(ctx, &awsddb.TransactWriteItemsInput{TransactItems: []ddbtypes.TransactWriteItem{
		{Put: &ddbtypes.Put{TableName: aws.String(table), Item: key}},
	}}); err != nil {
		t.Fatal(err)
	}
	if _, err := ddb.GetItem(ctx, &awsddb.GetItemInput{TableName: aws.String(table), Key: key}); err != nil {
		t.Fatal(err)
	}
	if _, err := ddb.Query(ctx, &awsddb.QueryInput{
		TableName: aws.String(table), IndexName: aws.String(dynamodb.IndexByStatus),
		KeyConditionExpression:    aws.String("GSI2PK = :p"),
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":p": &ddbtypes.AttributeValueMemberS{Value: "x"}},
	}); err != nil {
		t.Fatal(err)
	}
	// A refused call is traced too, with its error.
	if _, err := ddb.GetItem(ctx, &awsddb.GetItemInput{TableName: aws.String(table + "-missing"), Key: key}); err == nil {
		t.Fatal("GetItem on a missing table succeeded")
	}
	if _, err := sqsClient.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(queueURL), Entries: []sqstypes.SendMessageBatchRequestEntry{
		{Id: aws.String("1"), MessageBody: aws.String("{}")},
	}}); err != nil {
		t.Fatal(err)
	}
	parent.End()

	p := parent.SpanContext().SpanID().String()
	name := path.Base(queueURL)
	want := []spanOf{
		{"DynamoDB.TransactWriteItems", trace.SpanKindClient, p, map[string]string{"aws.dynamodb.table_names": `["` + table + `"]`, "rpc.method": "TransactWriteItems"}},
		{"DynamoDB.GetItem", trace.SpanKindClient, p, map[string]string{"aws.dynamodb.table_names": `["` + table + `"]`, "rpc.method": "GetItem"}},
		{"DynamoDB.Query", trace.SpanKindClient, p, map[string]string{"aws.dynamodb.table_names": `["` + table + `"]`, "aws.dynamodb.index_name": dynamodb.IndexByStatus, "rpc.method": "Query"}},
		{"DynamoDB.GetItem", trace.SpanKindClient, p, map[string]string{"aws.dynamodb.table_names": `["` + table + `-missing"]`, "rpc.method": "GetItem", "api.error_code": "ResourceNotFoundException"}},
		{"SQS.SendMessageBatch", trace.SpanKindClient, p, map[string]string{"aws.sqs.queue.url": queueURL, "messaging.destination.name": name, "messaging.system": "aws_sqs", "rpc.method": "SendMessageBatch"}},
		{"caller", trace.SpanKindInternal, "0000000000000000", map[string]string{}},
	}
	got := summarize(exp.GetSpans(), "aws.dynamodb.table_names", "aws.dynamodb.index_name", "aws.sqs.queue.url",
		"messaging.destination.name", "messaging.system", "rpc.method", "api.error_code")
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("spans (-want +got):\n%s", diff)
	}
}

// Off, the options leave the client as it was: no tracer provider, no
// middleware.
func TestOff(t *testing.T) {
	for name, tp := range map[string]trace.TracerProvider{"nil": nil, "noop": tracenoop.NewTracerProvider()} {
		t.Run(name, func(t *testing.T) {
			var d awsddb.Options
			awsotel.DynamoDB(tp)(&d)
			var q sqs.Options
			awsotel.SQS(tp)(&q)
			var b s3.Options
			awsotel.S3(tp)(&b)
			var n sns.Options
			awsotel.SNS(tp)(&n)
			if d.TracerProvider != nil || q.TracerProvider != nil || len(d.APIOptions) != 0 || len(q.APIOptions) != 0 {
				t.Errorf("options changed: %+v %+v", d, q)
			}
			if b.TracerProvider != nil || n.TracerProvider != nil || len(b.APIOptions) != 0 || len(n.APIOptions) != 0 {
				t.Errorf("options changed: %+v %+v", b, n)
			}
		})
	}
}

// The attribute middleware sets nothing on a span that is not the SDK's:
// with the SDK's tracing off, the caller's span keeps its attributes.
func TestCallerSpanUntouched(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	ctx, parent := tp.Tracer("test").Start(t.Context(), "caller")
	// Only the middleware: a client whose tracer provider is the SDK's
	// default (no-op).
	var opts awsddb.Options
	awsotel.DynamoDB(tp)(&opts)
	ddb := testenv.DynamoDBClient(t, func(o *awsddb.Options) { o.APIOptions = append(o.APIOptions, opts.APIOptions...) })
	_, _ = ddb.GetItem(ctx, &awsddb.GetItemInput{TableName: aws.String("x"), Key: map[string]ddbtypes.AttributeValue{"PK": &ddbtypes.AttributeValueMemberS{Value: "k"}}})
	parent.End()
	spans := exp.GetSpans()
	if len(spans) != 1 || slices.ContainsFunc(spans[0].Attributes, func(kv attribute.KeyValue) bool { return kv.Key == "aws.dynamodb.table_names" }) {
		t.Errorf("spans %+v", spans)
	}
}

// On fauxqs's S3 and SNS, through blob/s3 and notify/sns: the bucket and
// the key of each object call, the topic of each publish; presigning
// sends nothing and, with PresignUntraced, makes no span.
func TestS3AndSNSSpansOnRealServers(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	ctx := t.Context()
	bucket := testenv.Bucket(t, testenv.S3Client(t), "awsotel")
	topic := testenv.Topic(t, testenv.SNSClient(t))
	s3Client := testenv.S3Client(t, awsotel.S3(tp))
	blobs := s3blobs.New(s3Client, s3.NewPresignClient(s3Client, awsotel.PresignUntraced), bucket)
	notifier := snsnotify.New(testenv.SNSClient(t, awsotel.SNS(tp)), topic, snsnotify.Options{})

	ctx, parent := tp.Tracer("test").Start(ctx, "caller")
	put, err := babysitter.NewUpload(babysitter.UploadDocument, "application/pdf", 3)
	if err != nil {
		t.Fatal(err)
	}
	pr, err := blobs.PresignPut(ctx, put)
	if err != nil {
		t.Fatal(err)
	}
	if resp, err := blobtest.Do(ctx, http.DefaultClient, pr, []byte("pdf")); err != nil || resp.Status != http.StatusOK {
		t.Fatalf("the presigned PUT: %+v, %v", resp, err)
	}
	if _, err := blobs.Stat(ctx, put.Key); err != nil {
		t.Fatal(err)
	}
	if err := blobs.Delete(ctx, []string{put.Key}); err != nil {
		t.Fatal(err)
	}
	n := babysitter.NewNotification(babysitter.NotifyBooked, babysitter.ApplicationRef{JobID: "j", ApplicationID: "a"}, "nina", time.Now())
	if err := notifier.Notify(ctx, []babysitter.Notification{n}); err != nil {
		t.Fatal(err)
	}
	parent.End()

	p := parent.SpanContext().SpanID().String()
	want := []spanOf{
		{"S3.HeadObject", trace.SpanKindClient, p, map[string]string{"aws.s3.bucket": bucket, "aws.s3.key": put.Key, "rpc.method": "HeadObject"}},
		{"S3.DeleteObjects", trace.SpanKindClient, p, map[string]string{"aws.s3.bucket": bucket, "rpc.method": "DeleteObjects"}},
		{"SNS.PublishBatch", trace.SpanKindClient, p, map[string]string{"messaging.destination.name": topic[strings.LastIndexByte(topic, ':')+1:], "messaging.system": "aws_sns", "rpc.method": "PublishBatch"}},
		{"caller", trace.SpanKindInternal, "0000000000000000", map[string]string{}},
	}
	got := summarize(exp.GetSpans(), "aws.s3.bucket", "aws.s3.key", "messaging.destination.name", "messaging.system", "rpc.method")
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("spans (-want +got):\n%s", diff)
	}
}
