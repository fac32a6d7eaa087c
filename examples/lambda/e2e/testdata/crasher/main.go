// Command crasher is a test-only Lambda function for the e2e suite: it
// stands in for the resolver to show that a function that panics, exits or
// runs past its timeout is reported as a failure — by the RIE harness and,
// through the AppSync simulator, as a GraphQL error — never as data. It
// also echoes the event it received, so the suite can check the shape the
// simulator's mapping templates send.
//
// It reads arguments.username of the AppSync event:
//
//	"echo"  returns a User whose "about" is the raw event JSON
//	"panic" panics in the handler
//	"exit"  exits the process with status 3 mid-invocation
//	"sleep" sleeps 10 s (give the emulator a shorter timeout)
//
// It lives under testdata so that `go build ./...` and the deploy builds
// never see it; the suite builds it by path.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
)

type event struct {
	Arguments struct {
		Username string `json:"username"`
	} `json:"arguments"`
}

func handle(_ context.Context, raw json.RawMessage) (any, error) {
	var ev event
	if err := json.Unmarshal(raw, &ev); err != nil {
		return nil, err
	}
	switch ev.Arguments.Username {
	case "echo":
		return map[string]any{
			"id": "echo", "username": "echo", "type": "PARENT", "status": "VERIFIED",
			"firstName": "Echo", "lastName": "Event", "about": string(raw),
			"rating":    map[string]any{"count": 0, "average": 0},
			"createdOn": "2026-03-01T12:00:00Z", "updatedOn": "2026-03-01T12:00:00Z",
		}, nil
	case "panic":
		panic("crasher: deliberate panic")
	case "exit":
		fmt.Fprintln(os.Stderr, "crasher: deliberate exit")
		os.Exit(3)
	case "sleep":
		// Stuck: ignores the deadline in ctx, as a hung call would.
		time.Sleep(10 * time.Second)
		return nil, fmt.Errorf("crasher: woke up after the deadline")
	}
	return nil, fmt.Errorf("crasher: unknown mode %q", ev.Arguments.Username)
}

func main() {
	lambda.Start(handle)
}
