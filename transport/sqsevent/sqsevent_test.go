package sqsevent

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/google/go-cmp/cmp"

	"github.com/babysitter-go/babysitter"
)

// record is an SQS record as Lambda delivers it, JSON included.
const recordsJSON = `{"Records":[
 {"messageId":"m1","receiptHandle":"h1","body":"{\"jobId\":\"j1\"}",
  "attributes":{"ApproximateReceiveCount":"1","SentTimestamp":"1761800200000"},
  "messageAttributes":{"type":{"stringValue":"babysitter.DeclineJob","stringListValues":[],"binaryListValues":[],"dataType":"String"},
                       "version":{"stringValue":"2","stringListValues":[],"binaryListValues":[],"dataType":"String"},
                       "blob":{"binaryValue":"AAE=","stringListValues":[],"binaryListValues":[],"dataType":"Binary"},
                       "traceparent":{"stringValue":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01","stringListValues":[],"binaryListValues":[],"dataType":"String"}},
  "eventSource":"aws:sqs","eventSourceARN":"arn:aws:sqs:eu-central-1:123456789012:q","awsRegion":"eu-central-1"},
 {"messageId":"m2","receiptHandle":"h2","body":"{\"jobId\":\"j2\"}",
  "attributes":{"ApproximateReceiveCount":"3"},"messageAttributes":{},
  "eventSource":"aws:sqs","eventSourceARN":"arn:aws:sqs:eu-central-1:123456789012:q","awsRegion":"eu-central-1"},
 {"messageId":"m3","receiptHandle":"h3","body":"{\"jobId\":\"j3\"}",
  "attributes":{"ApproximateReceiveCount":"x","SentTimestamp":"yesterday"},"messageAttributes":{},
  "eventSource":"aws:sqs","eventSourceARN":"arn:aws:sqs:eu-central-1:123456789012:q","awsRegion":"eu-central-1"}]}`

func decodeEvent(t *testing.T) events.SQSEvent {
	t.Helper()
	var ev events.SQSEvent
	if err := json.Unmarshal([]byte(recordsJSON), &ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

func TestMessages(t *testing.T) {
	got := Messages(decodeEvent(t))
	want := []babysitter.Message{
		{ID: "m1", Body: []byte(`{"jobId":"j1"}`), ReceiptHandle: "h1", ReceiveCount: 1, SentAt: time.UnixMilli(1761800200000),
			Attributes: map[string]string{"type": "babysitter.DeclineJob", "version": "2", // the binary attribute has no string value
				"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}},
		{ID: "m2", Body: []byte(`{"jobId":"j2"}`), ReceiptHandle: "h2", ReceiveCount: 3}, // no SentTimestamp
		{ID: "m3", Body: []byte(`{"jobId":"j3"}`), ReceiptHandle: "h3"},                  // malformed system attributes
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Messages (-want +got):\n%s", diff)
	}
}

func TestHandler(t *testing.T) {
	tests := []struct {
		name   string
		failed []string
		want   []events.SQSBatchItemFailure
	}{
		{"all succeed", nil, []events.SQSBatchItemFailure{}},
		{"one fails", []string{"m2"}, []events.SQSBatchItemFailure{{ItemIdentifier: "m2"}}},
		{"reported twice, listed once", []string{"m1", "m2", "m1"}, []events.SQSBatchItemFailure{{ItemIdentifier: "m1"}, {ItemIdentifier: "m2"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			var seen []babysitter.Message
			var requestID string
			h := Handler(func(ctx context.Context, msgs []babysitter.Message) []string {
				seen, requestID = msgs, babysitter.RequestID(ctx)
				return tt.failed
			}, slog.New(slog.NewJSONHandler(&logs, nil)))
			ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "req-7"})
			resp, err := h(ctx, decodeEvent(t))
			if err != nil {
				t.Fatal(err)
			}
			if len(seen) != 3 || seen[0].ID != "m1" || seen[1].ReceiveCount != 3 || requestID != "req-7" {
				t.Errorf("the handler got %+v, request ID %q", seen, requestID)
			}
			if diff := cmp.Diff(tt.want, resp.BatchItemFailures); diff != "" {
				t.Errorf("batchItemFailures (-want +got):\n%s", diff)
			}
			// Lambda reads the response as JSON: the list is there even when empty.
			b, _ := json.Marshal(resp)
			if !strings.Contains(string(b), `"batchItemFailures":[`) {
				t.Errorf("response JSON %s", b)
			}
			if want := len(tt.want); strings.Count(logs.String(), "SQS will redeliver") != want || !strings.Contains(logs.String(), `"awsRequestId":"req-7"`) ||
				strings.Count(logs.String(), `"requestId":"req-7"`) != strings.Count(logs.String(), "\n") {
				t.Errorf("logs (want %d failure records with the request id):\n%s", want, logs.String())
			}
		})
	}
}
