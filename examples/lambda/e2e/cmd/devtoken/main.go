// Command devtoken prints a dev token for the local GraphQL API of
// `make graphql`: an unsigned, Cognito-shaped ID token (cognito:username,
// cognito:groups, iss, exp in 12 hours) for the AppSync simulator, which
// decodes tokens without checking a signature. A real AppSync API rejects
// it.
//
//	go run ./examples/lambda/e2e/cmd/devtoken USERNAME [GROUP...]
//	ALICE=$(go run ./examples/lambda/e2e/cmd/devtoken alice parent)
//	ROOT=$(go run ./examples/lambda/e2e/cmd/devtoken root admin)
//
// Groups are admin, parent and nanny; none makes a signed-in user with no
// group (a new Cognito user), who may only call getUser.
package main

import (
	"fmt"
	"os"

	"github.com/babysitter-go/babysitter"
	"github.com/babysitter-go/babysitter/examples/lambda/e2e/internal/local"
)

func main() {
	if len(os.Args) < 2 || os.Args[1] == "-h" || os.Args[1] == "--help" {
		fmt.Fprintln(os.Stderr, "usage: devtoken USERNAME [GROUP...]   (groups: admin, parent, nanny)")
		os.Exit(2)
	}
	username := os.Args[1]
	if !babysitter.ValidUsername(username) {
		fmt.Fprintf(os.Stderr, "devtoken: %q is not a valid username (3-32 characters of a-z 0-9 _ . -)\n", username)
		os.Exit(2)
	}
	fmt.Println(local.Token(username, os.Args[2:]...))
}
