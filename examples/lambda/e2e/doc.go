// Package e2e runs the Lambda example end to end as it is deployed: the
// built bootstrap binaries under Amazon's Lambda Runtime Interface
// Emulator (RIE), and the resolver driven through real GraphQL requests
// against schema.graphql on the Amplify AppSync simulator, on DynamoDB
// Local and fauxqs (found or started by internal/testenv).
//
//	GraphQL over HTTP → simulator (auth directives, mapping templates)
//	  → Lambda data source → resolver bootstrap under its RIE → DynamoDB Local, fauxqs
//	fauxqs queue → real-shaped SQS event → declines bootstrap under its RIE → DynamoDB Local
//
// The tests are in package e2e_test:
//
//   - TestStory: the tutorial's story as GraphQL operations; the declines
//     from the messages on the queue; the final state read from DynamoDB.
//   - TestAuthorizationMatrix: every operation × {API key, admin, parent,
//     nanny} gets the same answer from the schema's directives and from
//     the library (a call the simulator refuses is also sent to the
//     resolver directly, which refuses it too).
//   - TestLibraryOnlyDecisions: ownership and account status, which the
//     schema cannot see, refused by the library with errorType Forbidden.
//   - TestErrorsAsGraphQLErrors: the library's error kinds as errorTypes.
//   - TestFunctionFailures: a panic, an exit and a timeout (testdata/crasher)
//     are failures, directly and through the simulator, never data; and the
//     event the mapping templates send is AppSync's direct-resolver event.
//   - TestTelemetry: with OTEL_EXPORTER_OTLP_ENDPOINT pointing at an
//     internal/otlptest receiver (every function of the stack exports to
//     it), a booking is the resolver's trace (invocation span, field span,
//     BookNanny, its DynamoDB and SQS calls) and its decline the declines
//     function's (invocation span, DeclineJob linked to BookNanny, its
//     DynamoDB calls); the metrics arrive and the log lines carry the
//     traces' IDs. The emulator sends no X-Amzn-Trace-Id unless its caller
//     does, so the invocation spans are roots.
//
// internal/local starts the pieces and is shared with `make graphql`
// (cmd/graphql-dev), which starts the same stack for clicking through the
// API; cmd/devtoken mints the dev tokens.
//
// The tools: the RIE (a Go program, pinned by pseudo-version and go.sum
// hash in scripts/install-rie.sh, installed into .tools/bin by `make
// test`) and the simulator (the npm package
// @aws-amplify/amplify-appsync-simulator with graphql 15.11.0 at the top
// level, pinned in package.json, installed by `npm ci`). Without them the
// suite skips locally and fails when CI=true.
//
// Quirks met, and what the suite does about them:
//
//   - RIE: both addresses are set (the invoke address defaults to
//     0.0.0.0:8080, the runtime API to 127.0.0.1:9001, which two emulators
//     would share). One invocation at a time: an overlapping one crashes it
//     (nil pointer dereference in rapidcore), so every invocation, the
//     tests' own and the simulator's, goes through the Function's lock
//     (the simulator reaches the resolver through Function.Gateway, which
//     also counts invocations exactly). A handler error is HTTP 200 with
//     {errorType, errorMessage} and no X-Amz-Function-Error header, a panic
//     or os.Exit is 502 (aws-lambda-go's panic report, errorType "string";
//     Runtime.ExitError), a timeout is HTTP 200 with the plain text "Task
//     timed out after N.00 seconds" (AWS_LAMBDA_FUNCTION_TIMEOUT, whole
//     seconds); all three are failures, never data, and the next
//     invocation starts a fresh bootstrap. The bootstrap starts on the
//     first invocation, not with the emulator. The emulator passes its
//     whole environment to the bootstrap (so it gets an explicit, minimal
//     one: no developer AWS settings) and reads LOG_LEVEL itself, the
//     functions' variable, so its own level is set with --log-level. It
//     has no --help (the flag is ignored and it starts serving).
//   - Simulator: no direct Lambda resolvers, so simulator.cjs gives every
//     Query and Mutation field mapping templates that send the whole
//     direct-resolver event and raise the function's error with its
//     errorType ($ctx.error reaches the response template only with
//     version 2018-05-29). It listens on all interfaces with no option
//     (scripts/loopback.cjs pins it to 127.0.0.1) on a port from 8900-9999
//     (we pass a free one). It checks no token signature or expiry, only
//     that iss starts with https://cognito-idp., and reads cognito:groups
//     for the group directives. Its identity has no groups (the resolver
//     reads the cognito:groups claim) and sourceIp as a string (AppSync: a
//     list; the data source wraps it). Its request headers have no
//     x-amzn-requestid, so the resolver logs the Lambda request id as the
//     request id. Its AWSDate rejects a zone suffix ("1995-06-30Z"), which
//     AppSync accepts. An error on a non-null field comes with graphql-js's
//     "Cannot return null for non-nullable field" error before it (AppSync
//     sends only the resolver's). A request without valid credentials gets
//     HTTP 401 with errorType UnauthorizedException; a field the
//     directives refuse, errorType Unauthorized. It needs graphql 15 as its
//     only copy, and its dependency on @aws-amplify/amplify-cli-core brings
//     about 340 npm packages (aws-cdk-lib among them, ~330 MB).
//   - fauxqs: ReceiveMessage with MessageSystemAttributeNames All returns
//     ApproximateReceiveCount, ApproximateFirstReceiveTimestamp, SenderId
//     and SentTimestamp, all a Lambda SQS event carries for a standard
//     queue; GetQueueAttributes gives the QueueArn for eventSourceARN.
//   - DynamoDB Local: the SDK logs "failed to close HTTP response body …
//     did not match expected checksum" for some error responses; harmless.
package e2e
