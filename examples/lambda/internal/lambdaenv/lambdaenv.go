// Package lambdaenv is the configuration the Lambda functions share: the
// JSON logger, the AWS SDK configuration, the object storage, the
// notifier and OpenTelemetry, read from the function's environment.
package lambdaenv

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"go.opentelemetry.io/otel/trace"

	"github.com/babysitter-go/babysitter"
	s3blobs "github.com/babysitter-go/babysitter/blob/s3"
	snsnotify "github.com/babysitter-go/babysitter/notify/sns"
	"github.com/babysitter-go/babysitter/telemetry/awsotel"
	"github.com/babysitter-go/babysitter/telemetry/lambdaotel"
	"github.com/babysitter-go/babysitter/telemetry/otelenv"
)

// MaxReceiveCount is the maxReceiveCount of the decline queue's redrive
// policy in template.yaml (a test ties the two): the consumer's
// DeclinerOptions.MaxReceiveCount, so it knows a message's last delivery
// before the dead-letter queue.
const MaxReceiveCount = 5

// Telemetry configures OpenTelemetry from the function's OTEL_* variables
// (telemetry/otelenv: OTLP/HTTP to OTEL_EXPORTER_OTLP_ENDPOINT — the
// ADOT collector layer's localhost:4318, say —, nothing without one),
// the resource describing the function (lambdaotel.ResourceAttributes)
// and named service unless OTEL_SERVICE_NAME says otherwise. It does no
// I/O.
func Telemetry(ctx context.Context, service string) (*otelenv.Telemetry, error) {
	tel, err := otelenv.New(ctx, otelenv.Options{ServiceName: service, Attributes: lambdaotel.ResourceAttributes()})
	if err != nil {
		return nil, fmt.Errorf("OpenTelemetry: %w", err)
	}
	return tel, nil
}

// Traced wraps a function's handler with lambdaotel: a span per
// invocation (faas.trigger trigger; a consumer span for an SQS batch),
// the AWS request ID as babysitter's request ID, the cold start logged,
// and tel flushed before each invocation returns.
func Traced(h lambda.Handler, tel *otelenv.Telemetry, log *slog.Logger, trigger string) lambda.Handler {
	kind := trace.SpanKindServer
	if trigger == lambdaotel.TriggerPubSub {
		kind = trace.SpanKindConsumer
	}
	return lambdaotel.Wrap(h, lambdaotel.Options{
		TracerProvider: tel.TracerProvider,
		Propagator:     tel.Propagator,
		Flush:          tel.ForceFlush,
		Trigger:        trigger,
		Kind:           kind,
		Logger:         log,
	})
}

// Logger returns a JSON logger on stdout (CloudWatch Logs keeps one record
// per line) at LOG_LEVEL (debug, info, warn, error; default info).
func Logger() *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(strings.TrimSpace(os.Getenv("LOG_LEVEL")))); err != nil {
		level = slog.LevelInfo
	}
	return slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: level}))
}

// Require returns the value of an environment variable that must be set.
func Require(name string) (string, error) {
	v := strings.TrimSpace(os.Getenv(name))
	if v == "" {
		return "", fmt.Errorf("environment variable %s is not set", name)
	}
	return v, nil
}

// AWSConfig loads the SDK configuration from the Lambda environment
// (AWS_REGION and the execution role's credentials). It reads environment
// variables only; credentials are fetched on the first request.
func AWSConfig(ctx context.Context) (aws.Config, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS config: %w", err)
	}
	if cfg.Region == "" {
		return aws.Config{}, fmt.Errorf("no AWS region: set AWS_REGION")
	}
	return cfg, nil
}

// Blobs returns the bucket of identity documents and profile pictures,
// BUCKET (blob/s3, presigned by the SDK's presigner with the function's
// role), and PUBLIC_BASE_URL, where its public/pictures/ objects are read
// without a signature ("https://<bucket>.s3.<region>.amazonaws.com/", or
// a CDN). S3_USE_PATH_STYLE=true addresses the bucket in the path, for a
// local S3 (AWS_ENDPOINT_URL_S3) without per-bucket host names.
func Blobs(cfg aws.Config, tp trace.TracerProvider) (babysitter.Blobs, string, error) {
	bucket, err := Require("BUCKET")
	if err != nil {
		return nil, "", err
	}
	base, err := Require("PUBLIC_BASE_URL")
	if err != nil {
		return nil, "", err
	}
	if u, err := url.Parse(base); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || !strings.HasSuffix(base, "/") {
		return nil, "", fmt.Errorf("PUBLIC_BASE_URL=%q: want an http(s) URL ending in /", base)
	}
	pathStyle := strings.EqualFold(os.Getenv("S3_USE_PATH_STYLE"), "true")
	client := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = pathStyle }, awsotel.S3(tp))
	return s3blobs.New(client, s3.NewPresignClient(client, awsotel.PresignUntraced), bucket), base, nil
}

// Notifier returns the topic the notifications are published to,
// TOPIC_ARN (notify/sns): email, SMS or push are its subscriptions.
func Notifier(cfg aws.Config, tp trace.TracerProvider) (babysitter.Notifier, error) {
	topic, err := Require("TOPIC_ARN")
	if err != nil {
		return nil, err
	}
	return snsnotify.New(sns.NewFromConfig(cfg, awsotel.SNS(tp)), topic, snsnotify.Options{}), nil
}
