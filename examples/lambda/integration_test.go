package lambda_test

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	awsdynamodb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go/middleware"

	"github.com/babysitter-go/babysitter"
	s3blobs "github.com/babysitter-go/babysitter/blob/s3"
	"github.com/babysitter-go/babysitter/internal/testenv"
	snsnotify "github.com/babysitter-go/babysitter/notify/sns"
	"github.com/babysitter-go/babysitter/queue/sqs"
	"github.com/babysitter-go/babysitter/store/dynamodb"
	"github.com/babysitter-go/babysitter/transport/sqsevent"
)

// The story again, on the production backends: DynamoDB Local and fauxqs
// (SQS, S3 and SNS), found or started by internal/testenv. Locally it
// skips without servers; with CI=true it fails instead.
//
// Each function gets its own SDK clients with a middleware that records
// the IAM actions of every request sent, so the run cross-checks the
// template's grants (and iam_test.go's derivation) with what the code
// really calls.
func TestStoryDynamoDBAndSQS(t *testing.T) {
	ctx := context.Background()
	var resolverCalls, declinesCalls iamRecorder

	resolverDDB := testenv.DynamoDBClient(t, func(o *awsdynamodb.Options) {
		o.APIOptions = append(o.APIOptions, resolverCalls.register)
	})
	declinesDDB := testenv.DynamoDBClient(t, func(o *awsdynamodb.Options) {
		o.APIOptions = append(o.APIOptions, declinesCalls.register)
	})
	resolverSQS := testenv.SQSClient(t, func(o *awssqs.Options) {
		o.APIOptions = append(o.APIOptions, resolverCalls.register)
	})
	resolverS3 := testenv.S3Client(t, func(o *awss3.Options) {
		o.APIOptions = append(o.APIOptions, resolverCalls.register)
	})
	declinesSNS := testenv.SNSClient(t, func(o *awssns.Options) {
		o.APIOptions = append(o.APIOptions, declinesCalls.register)
	})
	pollerSQS := testenv.SQSClient(t) // plays Lambda's event source mapping
	bucket := testenv.Bucket(t, testenv.S3Client(t), "lambda")
	topic := testenv.Topic(t, testenv.SNSClient(t))
	subscriber := testenv.Subscribe(t, testenv.SNSClient(t), pollerSQS, topic, true, `{"type": ["booked", "bookingConfirmed", "declined", "jobCancelled"]}`)

	table := testenv.UniqueName(t, "lambda")
	if err := dynamodb.CreateTable(ctx, resolverDDB, table); err != nil {
		t.Fatal(err)
	}
	queueURL, dlqURL, err := sqs.CreateQueue(ctx, pollerSQS, testenv.UniqueName(t, "declines"), 30*time.Second, 5)
	if err != nil {
		t.Fatal(err)
	}
	if dlqURL == "" {
		t.Fatal("no dead-letter queue")
	}
	resolverCalls.reset()

	source := sqs.New(pollerSQS, queueURL, sqs.Options{WaitTime: time.Second})
	notifier := snsnotify.New(declinesSNS, topic, snsnotify.Options{})
	h := newHarness(t,
		dynamodb.New(resolverDDB, table),
		sqs.New(resolverSQS, queueURL, sqs.Options{}),
		source,
		evidence{
			blobs:      s3blobs.New(resolverS3, awss3.NewPresignClient(resolverS3), bucket),
			publicBase: testenv.S3Endpoint(t) + "/" + bucket + "/",
			client:     http.DefaultClient,
			notifier:   notifier,
			published:  subscriber.Published,
		})
	// The consumer is its own function with its own clients.
	consumer := babysitter.NewDecliner(dynamodb.New(declinesDDB, table),
		babysitter.DeclinerOptions{Logger: slog.New(slog.NewJSONHandler(h.logs, nil)), Now: func() time.Time { return h.now }, Notifier: notifier})
	h.decline = sqsevent.Handler(consumer.HandleBatch, slog.New(slog.NewJSONHandler(h.logs, nil)))

	runStory(t, h)

	// What the functions called is within what the template grants.
	tpl := loadTemplate(t)
	for _, c := range []struct {
		role  string
		calls *iamRecorder
	}{{"ResolverRole", &resolverCalls}, {"DeclinesRole", &declinesCalls}} {
		g := roleGrants(t, tpl, c.role)
		granted := slices.Concat(g.actions["dynamodb"], g.actions["sqs"], g.actions["s3"], g.actions["sns"])
		called := c.calls.list()
		t.Logf("%s: called %v", c.role, called)
		if len(called) == 0 {
			t.Errorf("%s: no calls recorded", c.role)
		}
		for _, a := range called {
			if !slices.Contains(granted, a) {
				t.Errorf("%s: the code called %s, which the template does not grant", c.role, a)
			}
		}
	}
	if calls := declinesCalls.list(); slices.ContainsFunc(calls, func(a string) bool { return a == "sqs:SendMessage" }) {
		t.Errorf("the consumer sent messages: %v", calls)
	}
	// The resolver presigned (s3:PutObject, s3:GetObject) and checked
	// (HeadObject) objects; the consumer published.
	for role, want := range map[*iamRecorder][]string{&resolverCalls: {"s3:GetObject", "s3:PutObject"}, &declinesCalls: {"sns:Publish"}} {
		for _, a := range want {
			if !slices.Contains(role.list(), a) {
				t.Errorf("no %s recorded: %v", a, role.list())
			}
		}
	}
}

// iamRecorder is SDK middleware that records the IAM action of every
// request (each action of a transaction for TransactWriteItems).
type iamRecorder struct {
	mu      sync.Mutex
	actions map[string]bool
}

func (r *iamRecorder) register(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("lambda_test.RecordIAM",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			op := awsmiddleware.GetOperationName(ctx)
			switch awsmiddleware.GetServiceID(ctx) {
			case "DynamoDB":
				if tx, ok := in.Parameters.(*awsdynamodb.TransactWriteItemsInput); ok {
					for _, it := range tx.TransactItems {
						switch {
						case it.Put != nil:
							r.add(txActions["Put"])
						case it.Update != nil:
							r.add(txActions["Update"])
						case it.Delete != nil:
							r.add(txActions["Delete"])
						case it.ConditionCheck != nil:
							r.add(txActions["ConditionCheck"])
						}
					}
				} else {
					r.add("dynamodb:" + op)
				}
			case "SQS":
				if a, ok := sqsActions[op]; ok {
					r.add(a)
				} else {
					r.add("sqs:" + op)
				}
			case "S3": // presigning runs this stack too, with PutObject or GetObject
				acts, ok := s3Actions[op]
				if !ok {
					acts = []string{"s3:" + op}
				}
				for _, a := range acts {
					r.add(a)
				}
			case "SNS":
				if a, ok := snsActions[op]; ok {
					r.add(a)
				} else {
					r.add("sns:" + op)
				}
			default:
				r.add(awsmiddleware.GetServiceID(ctx) + ":" + op)
			}
			return next.HandleInitialize(ctx, in)
		}), middleware.Before)
}

func (r *iamRecorder) add(a string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.actions == nil {
		r.actions = map[string]bool{}
	}
	r.actions[a] = true
}

func (r *iamRecorder) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.actions = nil
}

func (r *iamRecorder) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, 0, len(r.actions))
	for a := range r.actions {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}
