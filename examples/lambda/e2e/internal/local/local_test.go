package local

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// What the emulator answers, and how Invoke reports it.
func TestClassify(t *testing.T) {
	cases := []struct {
		name     string
		status   int
		body     string
		wantKind error  // for an *InvokeFailure
		wantType string // for a *FunctionError
	}{
		{"data", 200, `{"username":"alice"}`, nil, ""},
		{"null data", 200, `null`, nil, ""},
		{"data that has an errorType field too", 200, `{"errorType":"x","errorMessage":"y","id":"1"}`, nil, ""},
		{"handled error", 200, `{"errorMessage":"not found: job","errorType":"NotFound"}`, nil, "NotFound"},
		{"handled error with a stack", 200, `{"errorMessage":"m","errorType":"T","stackTrace":[]}`, nil, "T"},
		{"panic", 502, `{"errorMessage":"boom","errorType":"string","stackTrace":[]}`, ErrCrashed, ""},
		{"exit", 502, `{"errorType":"Runtime.ExitError","errorMessage":"RequestId: 1 Error: Runtime exited with error: exit status 3"}`, ErrCrashed, ""},
		{"timeout", 200, `Task timed out after 1.00 seconds`, ErrTimedOut, ""},
		{"not JSON", 200, `hello`, ErrEmulator, ""},
		{"reserved", 400, ``, ErrEmulator, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := classify(c.status, []byte(c.body))
			var fe *FunctionError
			var f *InvokeFailure
			switch {
			case c.wantKind != nil:
				if !errors.Is(err, c.wantKind) || !errors.As(err, &f) || f.Status != c.status || res != nil {
					t.Fatalf("want %v, got %s, %v", c.wantKind, res, err)
				}
			case c.wantType != "":
				if !errors.As(err, &fe) || fe.Type != c.wantType || res != nil {
					t.Fatalf("want a function error %s, got %s, %v", c.wantType, res, err)
				}
			default:
				if err != nil || string(res) != c.body {
					t.Fatalf("want data %s, got %s, %v", c.body, res, err)
				}
			}
		})
	}
}

func TestToken(t *testing.T) {
	tok := Token("alice", "parent", "admin")
	parts := strings.Split(tok, ".")
	if len(parts) != 3 || parts[2] != "" {
		t.Fatalf("not an unsigned JWT: %s", tok)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(raw, &claims); err != nil {
		t.Fatal(err)
	}
	groups, _ := claims["cognito:groups"].([]any)
	if claims["cognito:username"] != "alice" || len(groups) != 2 || groups[0] != "parent" ||
		!strings.HasPrefix(claims["iss"].(string), "https://cognito-idp.") || claims["exp"].(float64) <= claims["iat"].(float64) {
		t.Fatalf("claims: %v", claims)
	}
	// No group: no cognito:groups claim (a new Cognito user).
	raw, _ = base64.RawURLEncoding.DecodeString(strings.Split(Token("bob"), ".")[1])
	if strings.Contains(string(raw), "cognito:groups") {
		t.Fatalf("a token without groups has %s", raw)
	}
}

func TestSQSEvent(t *testing.T) {
	ev := SQSEvent([]sqstypes.Message{{
		MessageId: aws.String("m1"), ReceiptHandle: aws.String("r1"), Body: aws.String(`{"a":1}`),
		MD5OfBody:  aws.String("md5"),
		Attributes: map[string]string{"ApproximateReceiveCount": "2", "SentTimestamp": "1"},
		MessageAttributes: map[string]sqstypes.MessageAttributeValue{
			"type": {DataType: aws.String("String"), StringValue: aws.String("babysitter.DeclineApplication")},
		},
	}}, "arn:aws:sqs:us-east-1:000000000000:q")
	raw, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`"messageId":"m1"`, `"receiptHandle":"r1"`, `"body":"{\"a\":1}"`, `"ApproximateReceiveCount":"2"`,
		`"eventSource":"aws:sqs"`, `"eventSourceARN":"arn:aws:sqs:us-east-1:000000000000:q"`, `"awsRegion":"us-east-1"`,
		`"type":{"stringValue":"babysitter.DeclineApplication","stringListValues":[],"binaryListValues":[],"dataType":"String"}`,
	} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("event lacks %s: %s", want, raw)
		}
	}
}
