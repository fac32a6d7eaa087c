// Package lambdaenv is the configuration the Lambda functions share: the
// JSON logger, the AWS SDK configuration and OpenTelemetry, read from the
// function's environment.
package lambdaenv

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"go.opentelemetry.io/otel/trace"

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
