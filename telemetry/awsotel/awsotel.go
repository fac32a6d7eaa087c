// Package awsotel traces the AWS SDK's calls with OpenTelemetry: one
// client span per operation, named as the SDK names it
// ("DynamoDB.TransactWriteItems", "SQS.SendMessageBatch"), a child of the
// span in the call's context (a Service operation's), with the table or
// the queue it acts on:
//
//	ddb := dynamodb.NewFromConfig(cfg, awsotel.DynamoDB(tp))
//	q := sqs.NewFromConfig(cfg, awsotel.SQS(tp))
//	b := s3.NewFromConfig(cfg, awsotel.S3(tp))
//	signer := s3.NewPresignClient(b, awsotel.PresignUntraced)
//	n := sns.NewFromConfig(cfg, awsotel.SNS(tp))
//
// The spans are the SDK's own (aws-sdk-go-v2 traces every operation
// through smithy-go's tracing API, which AWS's smithyoteltracing adapts
// to OpenTelemetry): rpc.system "aws-api", rpc.service, rpc.method, and
// on failure the error code and status. This package keeps the operation
// spans and leaves out the SDK's internal ones (serialization, signing,
// endpoint resolution, each retry attempt: about ten per call), and adds
// what identifies the resource:
//
//	DynamoDB  aws.dynamodb.table_names (every table of a batch or a
//	          transaction), aws.dynamodb.index_name (a Query's index)
//	SQS       messaging.system "aws_sqs", aws.sqs.queue.url,
//	          messaging.destination.name (the queue's name)
//	S3        aws.s3.bucket, aws.s3.key (an object's; keys the Service
//	          chooses are random and name no one)
//	SNS       messaging.system "aws_sns", messaging.destination.name
//	          (the topic's name)
//
// It is not OpenTelemetry's contrib otelaws, which its maintainers
// deprecated for want of an owner; the SDK's own tracing is what AWS
// maintains.
package awsotel

import (
	"context"
	"maps"
	"path"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go/middleware"
	"github.com/aws/smithy-go/tracing"
	"github.com/aws/smithy-go/tracing/smithyoteltracing"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

// Attribute keys, from OpenTelemetry's semantic conventions.
const (
	attrTableNames      = "aws.dynamodb.table_names"
	attrIndexName       = "aws.dynamodb.index_name"
	attrMessagingSystem = "messaging.system"
	attrQueueURL        = "aws.sqs.queue.url"
	attrDestination     = "messaging.destination.name"
	attrBucket          = "aws.s3.bucket"
	attrKey             = "aws.s3.key"
)

// DynamoDB returns the option of a DynamoDB client that traces its
// operations on tp. With a nil or no-op tp it changes nothing.
func DynamoDB(tp trace.TracerProvider) func(*dynamodb.Options) {
	return func(o *dynamodb.Options) {
		if off(tp) {
			return
		}
		o.TracerProvider = TracerProvider(tp)
		o.APIOptions = append(o.APIOptions, addAttributes(dynamoDBAttributes))
	}
}

// SQS returns the option of an SQS client that traces its operations on
// tp. With a nil or no-op tp it changes nothing.
func SQS(tp trace.TracerProvider) func(*sqs.Options) {
	return func(o *sqs.Options) {
		if off(tp) {
			return
		}
		o.TracerProvider = TracerProvider(tp)
		o.APIOptions = append(o.APIOptions, addAttributes(sqsAttributes))
	}
}

// S3 returns the option of an S3 client that traces its operations on
// tp. With a nil or no-op tp it changes nothing. A presign client made
// from the client would trace each presigning as the operation it signs
// ("S3.PutObject", though nothing is sent): give it PresignUntraced.
func S3(tp trace.TracerProvider) func(*s3.Options) {
	return func(o *s3.Options) {
		if off(tp) {
			return
		}
		o.TracerProvider = TracerProvider(tp)
		o.APIOptions = append(o.APIOptions, addAttributes(s3Attributes))
	}
}

// PresignUntraced is the option of an S3 presign client
// (s3.NewPresignClient) that makes no span: presigning sends nothing, so
// a span named after the operation would misreport a request.
func PresignUntraced(po *s3.PresignOptions) {
	po.ClientOptions = append(po.ClientOptions, func(o *s3.Options) { o.TracerProvider = tracing.NopTracerProvider{} })
}

// SNS returns the option of an SNS client that traces its operations on
// tp. With a nil or no-op tp it changes nothing.
func SNS(tp trace.TracerProvider) func(*sns.Options) {
	return func(o *sns.Options) {
		if off(tp) {
			return
		}
		o.TracerProvider = TracerProvider(tp)
		o.APIOptions = append(o.APIOptions, addAttributes(snsAttributes))
	}
}

// off reports whether tp traces nothing.
func off(tp trace.TracerProvider) bool {
	switch tp.(type) {
	case nil, tracenoop.TracerProvider:
		return true
	}
	return false
}

// TracerProvider adapts tp for an SDK client's Options.TracerProvider
// (of any service): the SDK's operation spans only.
func TracerProvider(tp trace.TracerProvider) tracing.TracerProvider {
	return operationsOnly{smithyoteltracing.Adapt(tp)}
}

// operationsOnly keeps the SDK's operation spans, the only ones of kind
// client, and drops its internal ones.
type operationsOnly struct{ tracing.TracerProvider }

func (p operationsOnly) Tracer(scope string, opts ...tracing.TracerOption) tracing.Tracer {
	return operationTracer{p.TracerProvider.Tracer(scope, opts...)}
}

type operationTracer struct{ tracing.Tracer }

func (t operationTracer) StartSpan(ctx context.Context, name string, opts ...tracing.SpanOption) (context.Context, tracing.Span) {
	var o tracing.SpanOptions
	for _, opt := range opts {
		opt(&o)
	}
	if o.Kind != tracing.SpanKindClient {
		// The context keeps the operation's span, so anything started
		// below still has it as its parent.
		_, nop := tracing.NopTracerProvider{}.Tracer("").StartSpan(ctx, name)
		return ctx, nop
	}
	return t.Tracer.StartSpan(ctx, name, opts...)
}

// addAttributes returns the middleware that sets the resource attributes
// of an operation on its span: the input's, by attrs.
func addAttributes(attrs func(input any, set func(k, v any))) func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("babysitterOTelAttributes",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				// The operation span is the innermost span here: the
				// SDK starts it before the stack runs.
				if span, ok := tracing.GetSpan(ctx); ok {
					attrs(in.Parameters, span.SetProperty)
				}
				return next.HandleInitialize(ctx, in)
			}), middleware.After)
	}
}

// dynamoDBAttributes sets the tables (and the index) an operation reads
// or writes.
func dynamoDBAttributes(input any, set func(k, v any)) {
	var tables []string
	add := func(t *string) {
		if t != nil && !slices.Contains(tables, *t) {
			tables = append(tables, *t)
		}
	}
	switch in := input.(type) {
	case *dynamodb.GetItemInput:
		add(in.TableName)
	case *dynamodb.PutItemInput:
		add(in.TableName)
	case *dynamodb.UpdateItemInput:
		add(in.TableName)
	case *dynamodb.DeleteItemInput:
		add(in.TableName)
	case *dynamodb.QueryInput:
		add(in.TableName)
		if in.IndexName != nil {
			set(attrIndexName, *in.IndexName)
		}
	case *dynamodb.ScanInput:
		add(in.TableName)
	case *dynamodb.BatchGetItemInput:
		for _, t := range slices.Sorted(maps.Keys(in.RequestItems)) {
			add(&t)
		}
	case *dynamodb.BatchWriteItemInput:
		for _, t := range slices.Sorted(maps.Keys(in.RequestItems)) {
			add(&t)
		}
	case *dynamodb.TransactWriteItemsInput:
		for _, it := range in.TransactItems {
			switch {
			case it.Put != nil:
				add(it.Put.TableName)
			case it.Update != nil:
				add(it.Update.TableName)
			case it.Delete != nil:
				add(it.Delete.TableName)
			case it.ConditionCheck != nil:
				add(it.ConditionCheck.TableName)
			}
		}
	case *dynamodb.TransactGetItemsInput:
		for _, it := range in.TransactItems {
			if it.Get != nil {
				add(it.Get.TableName)
			}
		}
	case *dynamodb.DescribeTableInput:
		add(in.TableName)
	case *dynamodb.CreateTableInput:
		add(in.TableName)
	case *dynamodb.DeleteTableInput:
		add(in.TableName)
	}
	if len(tables) > 0 {
		set(attrTableNames, tables)
	}
}

// sqsAttributes sets the queue an operation acts on.
func sqsAttributes(input any, set func(k, v any)) {
	set(attrMessagingSystem, "aws_sqs")
	var url *string
	switch in := input.(type) {
	case *sqs.SendMessageInput:
		url = in.QueueUrl
	case *sqs.SendMessageBatchInput:
		url = in.QueueUrl
	case *sqs.ReceiveMessageInput:
		url = in.QueueUrl
	case *sqs.DeleteMessageInput:
		url = in.QueueUrl
	case *sqs.DeleteMessageBatchInput:
		url = in.QueueUrl
	case *sqs.ChangeMessageVisibilityInput:
		url = in.QueueUrl
	case *sqs.ChangeMessageVisibilityBatchInput:
		url = in.QueueUrl
	case *sqs.GetQueueAttributesInput:
		url = in.QueueUrl
	case *sqs.SetQueueAttributesInput:
		url = in.QueueUrl
	case *sqs.PurgeQueueInput:
		url = in.QueueUrl
	case *sqs.DeleteQueueInput:
		url = in.QueueUrl
	case *sqs.CreateQueueInput:
		if in.QueueName != nil {
			set(attrDestination, *in.QueueName)
		}
	}
	if url != nil && *url != "" {
		set(attrQueueURL, *url)
		set(attrDestination, path.Base(*url))
	}
}

// s3Attributes sets the bucket, and the object's key, of the operations
// blob/s3 and the examples make.
func s3Attributes(input any, set func(k, v any)) {
	var bucket, key *string
	switch in := input.(type) {
	case *s3.PutObjectInput:
		bucket, key = in.Bucket, in.Key
	case *s3.GetObjectInput:
		bucket, key = in.Bucket, in.Key
	case *s3.HeadObjectInput:
		bucket, key = in.Bucket, in.Key
	case *s3.DeleteObjectInput:
		bucket, key = in.Bucket, in.Key
	case *s3.DeleteObjectsInput:
		bucket = in.Bucket
	case *s3.ListObjectsV2Input:
		bucket = in.Bucket
	case *s3.HeadBucketInput:
		bucket = in.Bucket
	case *s3.CreateBucketInput:
		bucket = in.Bucket
	}
	if bucket != nil {
		set(attrBucket, *bucket)
	}
	if key != nil {
		set(attrKey, *key)
	}
}

// snsAttributes sets the topic an operation publishes to.
func snsAttributes(input any, set func(k, v any)) {
	set(attrMessagingSystem, "aws_sns")
	var arn *string
	switch in := input.(type) {
	case *sns.PublishInput:
		arn = in.TopicArn
	case *sns.PublishBatchInput:
		arn = in.TopicArn
	case *sns.GetTopicAttributesInput:
		arn = in.TopicArn
	case *sns.SubscribeInput:
		arn = in.TopicArn
	case *sns.CreateTopicInput:
		if in.Name != nil {
			set(attrDestination, *in.Name)
		}
	}
	if arn != nil && *arn != "" {
		// arn:aws:sns:region:account:name
		set(attrDestination, (*arn)[strings.LastIndexByte(*arn, ':')+1:])
	}
}
