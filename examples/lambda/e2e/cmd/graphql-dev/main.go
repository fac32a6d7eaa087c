// Command graphql-dev serves the Lambda example's GraphQL API locally, as
// deployed but on this machine, for clicking through it: the AppSync
// simulator with schema.graphql → the resolver bootstrap under the Lambda
// Runtime Interface Emulator → DynamoDB and SQS at AWS_ENDPOINT_URL_DYNAMODB
// and AWS_ENDPOINT_URL_SQS (DynamoDB Local and fauxqs, whose S3 holds the
// uploads and whose SNS topic gets the notifications), plus a decline pump
// that plays the SQS event source mapping: it moves the queue's messages
// into the declines bootstrap under its own emulator.
//
// `make graphql` (scripts/graphql.sh) installs the tools, starts the two
// servers and runs this; it stops everything on Ctrl-C.
//
//	graphql-dev [-port 8900] [-api-key KEY] [-table NAME] [-queue NAME] [-quiet]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awsdynamodb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	s3blobs "github.com/babysitter-go/babysitter/blob/s3"
	"github.com/babysitter-go/babysitter/examples/lambda/e2e/internal/local"
	"github.com/babysitter-go/babysitter/queue/sqs"
	"github.com/babysitter-go/babysitter/store/dynamodb"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("graphql-dev: ")
	port := flag.Int("port", 8900, "the simulator's port on 127.0.0.1 (0: any free port)")
	apiKey := flag.String("api-key", local.DefaultAPIKey, "the API key")
	table := flag.String("table", "babysitter-local", "the DynamoDB table (created if missing)")
	queue := flag.String("queue", "babysitter-local-declines", "the decline queue (created if missing, with a -dlq); also the name of the bucket and the notification topic")
	quiet := flag.Bool("quiet", false, "do not print the functions' and the simulator's logs")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *port, *apiKey, *table, *queue, *quiet); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, port int, apiKey, table, queueName string, quiet bool) error {
	ddbEndpoint, sqsEndpoint := os.Getenv("AWS_ENDPOINT_URL_DYNAMODB"), os.Getenv("AWS_ENDPOINT_URL_SQS")
	if ddbEndpoint == "" || sqsEndpoint == "" {
		return errors.New("set AWS_ENDPOINT_URL_DYNAMODB and AWS_ENDPOINT_URL_SQS to local servers (`make graphql` starts DynamoDB Local and fauxqs and sets them)")
	}
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	tools, err := local.FindTools(root)
	if err != nil {
		return err
	}

	cfg := aws.Config{Region: local.Region, Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")}
	ddb := awsdynamodb.NewFromConfig(cfg, func(o *awsdynamodb.Options) { o.BaseEndpoint = aws.String(ddbEndpoint) })
	sqsClient := awssqs.NewFromConfig(cfg, func(o *awssqs.Options) { o.BaseEndpoint = aws.String(sqsEndpoint) })
	if err := dynamodb.CreateTable(ctx, ddb, table); err != nil {
		return err
	}
	queueURL, _, err := sqs.CreateQueue(ctx, sqsClient, queueName, 30*time.Second, 5)
	if err != nil {
		return err
	}
	queueARN, err := local.QueueARN(ctx, sqsClient, queueURL)
	if err != nil {
		return err
	}
	// fauxqs serves S3 and SNS on its SQS port.
	s3Client := awss3.NewFromConfig(cfg, func(o *awss3.Options) { o.BaseEndpoint, o.UsePathStyle = aws.String(sqsEndpoint), true })
	if err := s3blobs.CreateBucket(ctx, s3Client, queueName); err != nil {
		return err
	}
	topic, err := awssns.NewFromConfig(cfg, func(o *awssns.Options) { o.BaseEndpoint = aws.String(sqsEndpoint) }).
		CreateTopic(ctx, &awssns.CreateTopicInput{Name: aws.String(queueName + "-notifications")})
	if err != nil {
		return err
	}

	dir, err := os.MkdirTemp("", "babysitter-graphql-dev-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	log.Printf("building the bootstraps")
	bins, err := tools.Build(ctx, dir, "./examples/lambda/resolver", "./examples/lambda/declines")
	if err != nil {
		return err
	}

	printer := func(name string) func(string) {
		if quiet {
			return nil
		}
		return func(line string) {
			// The emulator's START/END/REPORT lines are noise here.
			if strings.HasPrefix(line, "START RequestId") || strings.HasPrefix(line, "END RequestId") || strings.HasPrefix(line, "REPORT RequestId") {
				return
			}
			fmt.Fprintf(os.Stderr, "[%s] %s\n", name, line)
		}
	}
	env := map[string]string{
		"AWS_ENDPOINT_URL_DYNAMODB": ddbEndpoint,
		"AWS_ENDPOINT_URL_SQS":      sqsEndpoint,
		"AWS_ENDPOINT_URL_S3":       sqsEndpoint,
		"AWS_ENDPOINT_URL_SNS":      sqsEndpoint,
		"TABLE_NAME":                table,
		"LOG_LEVEL":                 "info",
	}
	resolverEnv := map[string]string{
		"QUEUE_URL": queueURL, "BUCKET": queueName, "PUBLIC_BASE_URL": sqsEndpoint + "/" + queueName + "/", "S3_USE_PATH_STYLE": "true",
	}
	declinesEnv := map[string]string{"TOPIC_ARN": aws.ToString(topic.TopicArn)}
	for k, v := range env {
		resolverEnv[k] = v
		declinesEnv[k] = v
	}
	resolver, err := local.StartFunction(ctx, tools.RIE, local.FunctionConfig{
		Name: "resolver", Bootstrap: bins["resolver"], Env: resolverEnv, Timeout: 10 * time.Second, OnLine: printer("resolver"),
	})
	if err != nil {
		return err
	}
	defer resolver.Stop()
	declines, err := local.StartFunction(ctx, tools.RIE, local.FunctionConfig{
		Name: "declines", Bootstrap: bins["declines"], Env: declinesEnv, Timeout: 30 * time.Second, OnLine: printer("declines"),
	})
	if err != nil {
		return err
	}
	defer declines.Stop()
	gateway, err := resolver.Gateway()
	if err != nil {
		return err
	}
	sim, err := tools.StartSimulator(ctx, local.SimulatorConfig{
		Schema: filepath.Join(root, local.Schema), LambdaURL: gateway, APIKey: apiKey, Port: port, OnLine: printer("simulator"),
	})
	if err != nil {
		return err
	}
	defer sim.Stop()

	fmt.Print(banner(sim.URL, sim.APIKey))
	log.Printf("running (resolver RIE pid %d, declines RIE pid %d, simulator pid %d); Ctrl-C stops", resolver.PID(), declines.PID(), sim.PID())

	// The decline pump: Lambda's SQS event source mapping, played by hand.
	for ctx.Err() == nil {
		d, err := local.DeliverOnce(ctx, sqsClient, queueURL, queueARN, declines, 1)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			log.Printf("decline pump: %v", err)
			time.Sleep(time.Second)
			continue
		}
		if n := len(d.Event.Records); n > 0 {
			log.Printf("decline pump: delivered %d message(s) to the declines function; %d failed (left on the queue), %d deleted",
				n, len(d.Response.BatchItemFailures), len(d.Deleted))
		}
	}
	log.Printf("stopping")
	return nil
}

func banner(url, key string) string {
	return fmt.Sprintf(`
The babysitter GraphQL API is up (AppSync simulator → resolver under the Lambda RIE → DynamoDB Local).

  export URL=%s KEY=%s
  # Dev tokens: unsigned Cognito-shaped ID tokens (the simulator checks no signature).
  tok() { go run ./examples/lambda/e2e/cmd/devtoken "$@"; }
  ALICE=$(tok alice parent); NINA=$(tok nina nanny); ROOT=$(tok root admin)
  gql() { # token-or-empty, JSON body
    if [ -n "$1" ]; then auth="Authorization: $1"; else auth="x-api-key: $KEY"; fi
    curl -s "$URL" -H "$auth" -H 'Content-Type: application/json' -d "$2"; echo
  }
  gql "$ALICE" '{"query":"mutation { createUser(user: {email: \"alice@example.com\", firstName: \"Alice\", lastName: \"Smith\", dateOfBirth: \"1990-04-01\"}) { username type status } }"}'
  gql "" '{"query":"{ getUser(username: \"alice\") { username firstName email } }"}'

`, url, key)
}

// moduleRoot walks up from the working directory to go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run graphql-dev inside the module (no go.mod here or above)")
		}
		dir = parent
	}
}
